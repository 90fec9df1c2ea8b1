"""exit_list.xlsx and exit_lists/<county_code>.xlsx: the units recommended for exit (退出) and
delisting (摘牌) under 赣人社发〔2023〕9号 四(一)2(5).

Which units, and under which condition (the mapping):

- a finding of a rule whose ``Rule.exit_condition`` is set (1–4) supports that condition for the
  finding's unit — e.g. DORMANT_UNIT (①: no positions and no trainees for over a year), a serious
  violation (②), a banned unit back in the programme (③), deregistered/revoked (④); the rule's
  author decides the number, this module only reads it;
- subsidy fraud is condition ③ (有骗取、套取就业见习补贴资金等违纪违法行为): a finding of a fraud family —
  GHOST_TRAINEE, DUPLICATE_TRAINEE, ONE_INTERNSHIP, RETENTION_INFLATED — that puts money at risk,
  tied to a unit by the finding's ``unit_id`` or by the unit of a claim it puts at risk;
- findings of signal-only rules (investigative signals) never make a unit exit;
- a unit with several conditions is listed once: the headline condition is ③, else ④, else ②,
  else ① (the ones carrying the ban first), and all its conditions are shown.

Conditions ③ and ④ bar a new application for ``unit.exit_ban_years`` (the province's parameter;
5 years in Jiangxi). The ban runs from the exit the county confirms; the sheet gives a provisional
end date counted from the unit's recorded exit date, or else from the end of the audit month.
The amount to recover is the money at risk on all the unit's claims (each claim once, RULES.md §8),
whatever the finding. These are recommendations: every sheet says a county must confirm them, in
its 县区核实结论 column (and the 摘牌 date once done); ``audit outcomes import`` reads the list back.
审计状态 gives the statuses of the unit's findings in the monthly cycle (新发现, 持续 …); findings a
county rejected (不属实) are not read (:meth:`audit.rundir.RunDir.findings`), so they propose nothing.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import polars as pl

from audit.findings import STATUSES
from audit.policy import Policy
from reports import evidence
from reports.data import FRAUD_FAMILIES, RunFiles, claim_money, finding_money, unlinked_money
from reports.xlsx import Column, sheet_name, workbook, write_table

CONDITIONS: dict[int, str] = {
    1: "①一年内提供的见习岗位数量和接收的见习人员未达当地最低标准",
    2: "②有严重违反就业见习相关管理规定的行为",
    3: "③有骗取、套取就业见习补贴资金等违纪违法行为",
    4: "④有其他经营违法行为",
}
BAN_CONDITIONS = (3, 4)
PRIORITY = (3, 4, 2, 1)
CITATION = "赣人社发〔2023〕9号 四(一)2(5)"
NOTICE = ("退出（摘牌）建议名单 — 审计线索与建议，不是处理决定：须由所在县区人社部门逐项核实确认后，"
          f"依{CITATION}办理退出、摘牌；③④情形退出后规定年限内不得再次申请。身份证号已脱敏。")

COLUMNS = [
    Column("county", "县区"), Column("county_code", "区划代码"), Column("unit_name", "单位名称"),
    Column("unit_id", "统一社会信用代码"), Column("condition", "建议退出情形", "wrap", 30),
    Column("all_conditions", "涉及情形"), Column("ban", "规定年限内不得再次申请"),
    Column("ban_until", "禁止申请截止日期（暂计）", "date"), Column("status", "当前状态"),
    Column("reasons", "问题及依据", "wrap", 50), Column("evidence", "证据摘要", "wrap", 60),
    Column("findings", "问题数", "int"), Column("recover", "应追缴金额（元）", "money"),
    Column("audit_status", "审计状态"), Column("confirm", "县区核实结论"), Column("exit_done", "摘牌日期（县区填写）", "date"),
]


def exit_units(rf: RunFiles, policy: Policy, with_evidence: bool = True) -> list[dict[str, Any]]:
    """One row per unit recommended for exit (see the module docstring for the mapping); without
    ``with_evidence`` the evidence summaries (the costly part) are left empty."""
    f = rf.findings.filter(~pl.col("rule_id").is_in([r for r, i in rf.rules.items() if i.signal_only]))
    cond_of = {r: i.exit_condition for r, i in rf.rules.items() if i.exit_condition}
    # polars 2.1 types replace_strict over an empty mapping as the strings it replaces (a run that
    # recorded no rule with an exit condition), whatever return_dtype says
    condition = pl.col("rule_id").replace_strict(cond_of, return_dtype=pl.Int64) if cond_of else pl.lit(None, pl.Int64)
    by_rule = f.filter(pl.col("rule_id").is_in(list(cond_of)) & pl.col("unit_id").is_not_null()).with_columns(
        condition.alias("condition"))
    money = finding_money(rf)
    fraud = f.filter(pl.col("family").is_in(FRAUD_FAMILIES)).join(money, on="finding_id").filter(pl.col("money") > 0)
    claim_units = rf.links.join(rf.claims.select("claim_id", pl.col("unit_id").alias("_claim_unit")), on="claim_id")
    fraud_units = pl.concat([
        fraud.filter(pl.col("unit_id").is_not_null()).select("finding_id", "unit_id"),
        fraud.select("finding_id").join(claim_units, on="finding_id").select(
            "finding_id", pl.col("_claim_unit").alias("unit_id")).drop_nulls(),
    ]).unique()
    fraud_rows = fraud.drop("unit_id", "money").join(fraud_units, on="finding_id").with_columns(
        pl.lit(3, pl.Int64).alias("condition"))
    cols = [*rf.findings.columns, "condition"]
    reasons = pl.concat([by_rule.select(cols), fraud_rows.select(cols)], how="vertical_relaxed")
    if not reasons.height:
        return []

    recover = _recover_by_unit(rf)
    # one row per unit, in the order of its findings' ids (what the reasons and evidence list first)
    reasons = reasons.sort("finding_id", maintain_order=True)
    per_unit = reasons.group_by("unit_id", maintain_order=True).agg(
        pl.col("county_code").drop_nulls().first().alias("_finding_county"),
        pl.col("condition").unique().sort().alias("conditions"),
        pl.col("finding_id").n_unique().alias("findings"),
        pl.col("finding_id").unique().sort().alias("_finding_ids"),
        pl.col("status").drop_nulls().unique().alias("_statuses"),
        pl.col("evidence").head(_EVIDENCE_LIMIT if with_evidence else 0).alias("_evidence"),
        pl.len().alias("_rows"),
    ).join(rf.units.select("unit_id", "unit_name", "county_code", "exit_date"), on="unit_id", how="left",
           maintain_order="left")
    per_rule = reasons.group_by("unit_id", "rule_id", maintain_order=True).agg(pl.col("finding_id").n_unique().alias("n"))
    why: dict[str, list[str]] = {}
    for unit_id, rule_id, n in per_rule.iter_rows():
        info = rf.rule(rule_id)
        why.setdefault(unit_id, []).append(f"{info.title}（{info.citation}）×{n}")
    end = rf.month_end
    years_of: dict[str, Any] = {}
    one_line: dict[str | None, str] = {}
    rows = []
    for r in per_unit.to_dicts():
        unit_id = r["unit_id"]
        county = r["county_code"] or r["_finding_county"]
        conditions = r["conditions"]
        headline = next(c for c in PRIORITY if c in conditions)
        banned = any(c in BAN_CONDITIONS for c in conditions)
        province = f"{(county or '00')[:2]}0000"
        if banned and province not in years_of:
            years_of[province] = policy.value("unit.exit_ban_years", province, end)
        years = years_of[province] if banned else None
        start = r["exit_date"] or end
        rows.append({
            "county": rf.county_name(county), "county_code": county or "", "unit_name": r["unit_name"] or "",
            "unit_id": unit_id, "condition": CONDITIONS[headline],
            "all_conditions": "".join(CONDITIONS[c][0] for c in conditions),
            "ban": (f"是（{years}年）" if years else "是（年限参数未设定）") if banned else "否",
            "ban_until": _add_years(start, int(years)) if banned and years else None,
            "status": f"已于{r['exit_date']}退出" if r["exit_date"] else "在册",
            "reasons": "；".join(why[unit_id]),
            "evidence": _evidence(r["_evidence"], r["_rows"], one_line) if with_evidence else "",
            "findings": r["findings"], "recover": recover.get(unit_id, 0.0), "confirm": "", "exit_done": None,
            "audit_status": "、".join(x for x in STATUSES if x in r["_statuses"]),
            "_headline": headline, "_finding_ids": r["_finding_ids"], "_ban_years": int(years) if years else None,
        })
    return sorted(rows, key=lambda r: (r["county_code"], PRIORITY.index(r["_headline"]), -r["recover"], r["unit_id"]))


def _recover_by_unit(rf: RunFiles) -> dict[str, float]:
    per_claim = claim_money(rf).group_by("unit_id").agg(pl.col("amount_at_risk").sum())
    extra = unlinked_money(rf, rf.findings).group_by("unit_id").agg(pl.col("amount_at_risk").sum())
    both = pl.concat([per_claim, extra]).drop_nulls("unit_id").group_by("unit_id").agg(pl.col("amount_at_risk").sum())
    return {r["unit_id"]: round(float(r["amount_at_risk"]), 2) for r in both.to_dicts()}


_EVIDENCE_LIMIT = 3  # findings' evidence quoted per unit; the rest are counted


def _evidence(first: list[str | None], rows: int, seen: dict[str | None, str]) -> str:
    """The first findings' evidence on one line each (``seen`` remembers texts already made readable)."""
    lines = []
    for e in first:
        if e not in seen:
            seen[e] = evidence.one_line(e, 160)
        lines.append(seen[e])
    more = rows - _EVIDENCE_LIMIT
    return " | ".join(lines) + (f" | 另有{more}条" if more > 0 else "")


def _add_years(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


def _summary_rows(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for r in rows:
        s = out.setdefault(r["county_code"], {"county": r["county"], "county_code": r["county_code"], "units": 0,
                                              **{f"c{c}": 0 for c in CONDITIONS}, "banned": 0, "recover": 0.0})
        s["units"] += 1
        s[f"c{r['_headline']}"] += 1
        s["banned"] += r["ban"].startswith("是")
        s["recover"] = round(s["recover"] + r["recover"], 2)
    return [out[k] for k in sorted(out)]


SUMMARY_COLUMNS = [
    Column("county", "县区"), Column("county_code", "区划代码"), Column("units", "建议退出单位数", "int"),
    Column("c1", "情形①", "int"), Column("c2", "情形②", "int"), Column("c3", "情形③", "int"),
    Column("c4", "情形④", "int"), Column("banned", "不得再次申请单位数", "int"),
    Column("recover", "应追缴金额（元）", "money"),
]


def _write_book(path: Path, rf: RunFiles, by_county: dict[str, list[dict[str, Any]]], summary: list[dict[str, Any]],
                counties: list[str]) -> None:
    book, fmt = workbook(str(path))
    used: set[str] = set()
    write_table(book, fmt, sheet_name("汇总", used), f"{rf.month_label} " + NOTICE, SUMMARY_COLUMNS,
                summary, total_of=("units", "c1", "c2", "c3", "c4", "banned", "recover"))
    for code in counties:
        name = f"{code} {rf.county_name(code)}" if rf.county_name(code) != code else code or "未知县区"
        write_table(book, fmt, sheet_name(name, used), f"{rf.month_label} {rf.county_name(code)} " + NOTICE,
                    COLUMNS, by_county[code], total_of=("recover",))
    book.close()


def write_exit_lists(rf: RunFiles, policy: Policy, rows: list[dict[str, Any]] | None = None) -> list[dict[str, Any]]:
    """exit_list.xlsx (summary + one sheet per county) and exit_lists/<county_code>.xlsx.

    Every county's file carries the province's summary sheet (all counties), then its own sheet."""
    rows = exit_units(rf, policy) if rows is None else rows
    by_county: dict[str, list[dict[str, Any]]] = {}
    for r in rows:
        by_county.setdefault(r["county_code"], []).append(r)
    counties = sorted(by_county)
    summary = _summary_rows(rows)
    _write_book(rf.run_dir / "exit_list.xlsx", rf, by_county, summary, counties)
    folder = rf.run_dir / "exit_lists"
    folder.mkdir(exist_ok=True)
    for old in folder.glob("*.xlsx"):
        old.unlink()
    for code in counties:
        _write_book(folder / f"{code or 'unknown'}.xlsx", rf, by_county, summary, [code])
    return rows
