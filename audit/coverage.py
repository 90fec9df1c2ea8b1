"""How much a run judged: the coverage figures of a run, computed once.

The pipeline writes :func:`run_coverage` into ``run.json`` (``coverage``); the terminal summary
and the report's first screen read it there — neither recomputes it. It says, for the monthly
claims the run judges (every monthly claim submitted by the end of the audit month):

- per province, how many were priced (their expected amount known) and how many not, by what was
  missing (``skipped.gap``): a county without a minimum-wage tier, a tier without a usable
  standard, a policy parameter unset — counted from the keys the pricing rule
  (:data:`MONTHLY_PRICING_RULE`) left unjudged, in ``skipped.parquet``;
- how many of the priced ones rest on reference rows with only a secondary source, and how many
  findings were priced on such rows (they say so in their evidence);
- per province, every rule's unjudged keys by what was missing;
- per province, the policy in force at the month's end: which notices are in force or expired,
  which parameters the rules read are unset, and why (:func:`policy_status`);
- the reference gaps of the month (:mod:`audit.reference.gaps`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

import polars as pl

from audit.findings import SKIPPED_SCHEMA, gap_unset
from audit.policy import NATIONAL, Policy
from audit.reference.gaps import ReferenceGaps, province_names, reference_gaps
from audit.rundir import RunDir
from audit.schema import PROVINCES, province_of

#: the rule whose unjudged keys are the monthly claims left unpriced: it judges every monthly
#: claim and skips exactly those whose expected amount is unknown (tests/test_coverage.py)
MONTHLY_PRICING_RULE = "RATE_MISAPPLIED.wrong_amount"
UNKNOWN_PROVINCE = "未知省份"

NOTICE_STATES = {"in_force": "有效", "expired": "已失效", "not_yet": "尚未施行", "undated": "未载明施行日期"}
UNSET_KINDS = {
    "expired": "通知已失效",
    "window_closed": "窗口期已结束",
    "left_open": "通知未规定",
    "not_in_any_notice": "无文件规定",
}


def _province(code: str | None, names: dict[str, str]) -> str:
    if not code:
        return UNKNOWN_PROVINCE
    return names.get(code) or PROVINCES.get(code, code)


def policy_status(policy: Policy, provinces: Iterable[str], when: dt.date, params: Iterable[str]) -> list[dict[str, Any]]:
    """Per province, on ``when``: its notices (in force, expired, not yet) and the parameters of
    ``params`` that are unset there then and leave something unjudged (:func:`_matters`), each
    with why — the notice expired, a window closed, the notice leaves it open, or no notice in
    the law base gives it."""
    params = sorted(set(params))
    out = []
    for code in provinces:
        notices = []
        expired_on: list[dt.date] = []
        for doc_no, meta in sorted(policy.documents.items()):
            if meta.get("jurisdiction") != code:
                continue
            start, end = meta.get("in_force") or meta.get("issued"), meta.get("expires")
            state = ("undated" if start is None else "not_yet" if start > when
                     else "expired" if end is not None and end < when else "in_force")
            if state == "expired":
                expired_on.append(end)
            notices.append({"document": doc_no, "title": meta.get("title", ""), "in_force": start, "expires": end,
                            "state": state, "state_zh": NOTICE_STATES[state]})
        unset = []
        month_start = when.replace(day=1)
        rate_kind = policy.value("rate.kind", code, when)
        for name in params:
            entry = policy.entry(name, code, when)
            if entry is None:
                kind, since = "not_in_any_notice", None
                why = policy.unset_reason(name, code, when) or "法规库中没有文件规定该参数"
            elif entry.value is None:
                lapsed = any(entry.effective_from > day for day in expired_on)
                kind = "expired" if lapsed else "left_open"
                why, since = policy.unset_reason(name, code, when) or entry.note or "", entry.effective_from
            elif name.endswith("window_end") and isinstance(entry.value, dt.date) and entry.value < month_start:
                kind, since = "window_closed", entry.value
                why = f"窗口期至 {entry.value.isoformat()}（{entry.reference}）；其后的政策未知"
            else:
                continue
            if not _matters(name, kind, rate_kind):
                continue
            unset.append({"param": name, "description": policy.catalogue[name].description, "kind": kind,
                          "kind_zh": UNSET_KINDS[kind], "why": why,
                          "since": since.isoformat() if isinstance(since, dt.date) else since,
                          "national": entry is not None and entry.jurisdiction == NATIONAL})
        out.append({"province_code": code, "province_name": policy.jurisdictions.get(code, code),
                    "notices": [{k: (v.isoformat() if isinstance(v, dt.date) else v) for k, v in n.items()}
                                for n in notices],
                    "unset": unset})
    return out


def _matters(name: str, kind: str, rate_kind: Any) -> bool:
    """Whether an unset parameter leaves something unjudged: every parameter a lapsed notice or a
    closed window took away; of the others (a notice that leaves a choice open, or none that
    makes it — Henan has no partial-month rule, which is no gap), the subsidy rate: rate.kind,
    and the shares or flat amounts of the kind in force."""
    if kind in ("expired", "window_closed") or name == "rate.kind":
        return True
    if name in ("rate.standard_share", "rate.raised_share"):
        return rate_kind == "min_wage_share"
    if name in ("rate.standard_flat", "rate.raised_extra_flat"):
        return rate_kind == "flat"
    return False


def run_coverage(run: RunDir, gaps: ReferenceGaps | None = None) -> dict[str, Any]:
    """The coverage figures of a run (see the module docstring), from its directory; ``gaps``,
    when the caller has them (the pipeline, from the tables it ran on), saves computing them."""
    tables = run.tables()
    policy = run.policy
    if gaps is None:
        gaps = reference_gaps(tables, policy)
    names = province_names(tables.regions)
    unset = gap_unset("")

    def readable(gap: str | None) -> str:
        """A gap as a clerk reads it: an unset parameter by its Chinese name, its own in brackets."""
        if not gap:
            return "（未说明）"
        name = gap.removeprefix(unset)
        spec = policy.catalogue.get(name) if gap.startswith(unset) else None
        return f"{unset}{spec.zh}（{name}）" if spec is not None and spec.zh else gap
    scanned = run.scan("units")
    if scanned is None:
        scanned = pl.LazyFrame(schema={"unit_id": pl.String, "county_code": pl.String})
    units = scanned.select(
        "unit_id", province_of(pl.col("county_code")).alias("province_code")).unique("unit_id", keep="first")
    # the skipped keys counted where they lie (millions of rows in a national run): never held whole
    # a key's province: its unit's, else its own county's (a county-month key names no unit)
    placed = _scan_skipped(run).join(units, on="unit_id", how="left").with_columns(
        pl.coalesce("province_code", province_of(pl.col("county_code"))).alias("province_code"))
    keys, unpriced = pl.collect_all([
        placed.group_by("province_code", "rule_id", pl.coalesce("gap", "reason").alias("gap")).len(),
        placed.filter(pl.col("rule_id") == MONTHLY_PRICING_RULE)
        .group_by("province_code", pl.coalesce("gap", "reason").alias("gap")).len(),
    ])

    judged = gaps.needs.group_by("province_code").agg(
        pl.col("claims").sum().alias("judged"),
        pl.col("claims").filter(pl.col("secondary")).sum().alias("secondary"),
    )
    not_run = (run.run.get("rules_skipped") or {}).get(MONTHLY_PRICING_RULE)
    if not_run:  # the pricing rule did not run (补贴类型 not exported): no monthly claim was priced
        unpriced = judged.select("province_code", pl.lit(not_run).alias("gap"), pl.col("judged").cast(pl.UInt32).alias("len"))
        judged = judged.with_columns(pl.lit(0).alias("secondary"))
    missing = unpriced.group_by("province_code").agg(pl.col("len").sum().alias("unpriced"))
    by_gap = unpriced.sort(["province_code", "len", "gap"], descending=[False, True, False], nulls_last=True)
    provinces = []
    for row in judged.join(missing, on="province_code", how="full", coalesce=True).sort("province_code", nulls_last=True).to_dicts():
        code = row["province_code"]
        count, left = int(row["judged"] or 0), int(row["unpriced"] or 0)
        gaps_here = by_gap.filter(pl.col("province_code") == code) if code else by_gap.filter(pl.col("province_code").is_null())
        provinces.append({
            "province_code": code, "province_name": _province(code, names),
            "judged": count, "priced": max(count - left, 0), "unpriced": left,
            "priced_share": round((count - left) / count, 4) if count else None,
            "priced_on_secondary": int(row["secondary"] or 0),
            "unpriced_by_gap": [{"gap": readable(g), "claims": n} for g, n in gaps_here.select("gap", "len").rows()],
        })
    total = sum(p["judged"] for p in provinces)
    left = sum(p["unpriced"] for p in provinces)

    keys = keys.sort(["province_code", "rule_id", "len", "gap"], descending=[False, False, True, False], nulls_last=True)
    rules = run.rules
    secondary = _secondary_findings(run)
    present = [p["province_code"] for p in provinces if p["province_code"]]
    params = {name for r in rules.values() for name in r.params}
    status = policy_status(policy, present, run.month_end, params)
    by_param = dict(((p, g), n) for p, g, n in keys.group_by("province_code", "gap").agg(pl.col("len").sum()).rows())
    for prov in status:  # the keys each unset parameter left unjudged, where the rules name it as the gap
        for u in prov["unset"]:
            u["keys"] = by_param.get((prov["province_code"], gap_unset(u["param"])), 0)
    return {
        "audit_month": run.audit_month.strftime("%Y-%m"),
        "monthly_rule": MONTHLY_PRICING_RULE,
        "monthly": {"judged": total, "priced": total - left, "unpriced": left,
                    "priced_share": round((total - left) / total, 4) if total else None,
                    "priced_on_secondary": sum(p["priced_on_secondary"] for p in provinces)},
        "provinces": provinces,
        "skipped_total": int(keys["len"].sum() or 0),
        "skipped": [{"province_code": p, "province_name": _province(p, names), "rule_id": r,
                     "title": rules[r].title if r in rules else r, "gap": readable(g), "keys": n}
                    for p, r, g, n in keys.rows()],
        "secondary_findings": secondary,
        "policy": status,
        "reference_gaps": gaps.summary(),
    }


def _scan_skipped(run: RunDir) -> pl.LazyFrame:
    """skipped.parquet's rule_id, unit_id, county_code, reason and gap, lazily (a column a run made
    before it existed lacks is null)."""
    wanted = ("rule_id", "unit_id", "county_code", "reason", "gap")
    path = run.path / "skipped.parquet"
    if not path.exists():
        return pl.LazyFrame(schema={c: SKIPPED_SCHEMA[c] for c in wanted})
    frame = pl.scan_parquet(path)
    have = frame.collect_schema().names()
    return frame.select(pl.col(c) if c in have else pl.lit(None, SKIPPED_SCHEMA[c]).alias(c) for c in wanted)


def _secondary_findings(run: RunDir) -> dict[str, Any]:
    """Findings priced on reference rows with only a secondary source (their evidence says so)."""
    findings = run.findings().select("rule_id", "evidence")
    flagged = findings.filter(pl.col("evidence").str.contains('"secondary_source":"', literal=True))
    by_rule = flagged.group_by("rule_id").len().sort("rule_id")
    return {"total": flagged.height, "by_rule": dict(by_rule.rows())}
