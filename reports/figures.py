"""The figures of the monthly report, as plain Python values (no HTML here).

Headline, per family, per rule, per county, the top findings with their evidence, the cases,
the trend against earlier runs in the same output root, and the run's facts (inputs, quarantine,
parameters and reference tables in force, rules and keys skipped).
"""

from __future__ import annotations

import re
from typing import Any

import polars as pl

from audit import totals
from audit.coverage import run_coverage
from audit.loader import note_zh
from audit.masking import mask, mask_id
from audit.policy import Policy
from audit.rundir import sibling_runs
from audit.schema import SPECS
from reports import evidence
from reports.data import (
    RunFiles,
    claim_money,
    family_zh,
    finding_money,
    money_by,
    unlinked_money,
    with_county,
)
from reports.labels import value_label

SEVERITY_ZH = {"high": "高", "medium": "中", "low": "低"}


def headline(rf: RunFiles) -> dict[str, Any]:
    """The headline figures (:func:`audit.totals.figures`, the one definition the terminal reads too)."""
    f = rf.findings
    out = totals.figures(f, rf.links, rf.claims, rf.paid_date_exported, per_claim=claim_money(rf))
    return out | {"trainees": out["persons"], "money": out["amount_at_risk"],
                  "paid_date_exported": rf.paid_date_exported}


def by_family(rf: RunFiles) -> list[dict[str, Any]]:
    """:func:`audit.totals.by_family` (the total row apart), biggest money first."""
    rows = [r | {"family_zh": family_zh(str(r["family"])), "money": r["amount_at_risk"]}
            for r in totals.by_family(rf.findings, rf.links, rf.claims, rf.paid_date_exported, with_total=False)]
    return sorted(rows, key=lambda r: (-r["money"], -r["findings"]))


def by_rule(rf: RunFiles) -> list[dict[str, Any]]:
    money = money_by(rf, "rule_id")
    groups = rf.findings.group_by("rule_id", maintain_order=True).agg(
        pl.len().alias("findings"), pl.col("citation").drop_nulls().unique().sort().str.join("；").alias("citation"),
        pl.col("severity").first())
    rows = []
    for r in groups.to_dicts():
        rule_id = str(r["rule_id"])
        info = rf.rule(rule_id)
        rows.append({
            # the clauses its findings cite (each the one in force for its province and date)
            "rule_id": rule_id, "title": info.title, "citation": r["citation"] or info.citation,
            "family_zh": family_zh(info.family), "severity": SEVERITY_ZH.get(r["severity"], r["severity"]),
            "signal_only": info.signal_only, "findings": r["findings"], "money": money[r["rule_id"]],
        })
    return sorted(rows, key=lambda r: (-r["money"], -r["findings"], r["rule_id"]))


def by_county(rf: RunFiles) -> list[dict[str, Any]]:
    """Per county: findings (their county, else their unit's) and money (the claim's unit county)."""
    f = with_county(rf, rf.findings)
    counts = f.group_by("county_code").agg(
        pl.len().alias("findings"), pl.col("unit_id").drop_nulls().n_unique().alias("units"),
        pl.col("person_id").drop_nulls().n_unique().alias("persons"))
    money = claim_money(rf).group_by("county_code").agg(
        pl.col("amount_at_risk").sum().alias("money"),
        pl.col("amount_at_risk").filter(~pl.col("paid")).sum().alias("stop_payment"))
    extra = with_county(rf, unlinked_money(rf, rf.findings)).group_by("county_code").agg(
        pl.col("amount_at_risk").sum().alias("extra"))
    table = (counts.join(money, on="county_code", how="full", coalesce=True)
             .join(extra, on="county_code", how="full", coalesce=True)
             .with_columns(pl.col("findings", "units", "persons").fill_null(0),
                           (pl.col("money").fill_null(0) + pl.col("extra").fill_null(0)).round(2).alias("money"),
                           pl.col("stop_payment").fill_null(0).round(2))
             .sort(["money", "findings", "county_code"], descending=[True, True, False], nulls_last=True))
    return [
        {"county_code": r["county_code"] or "", "county": rf.county_name(r["county_code"]), "findings": r["findings"],
         "units": r["units"], "persons": r["persons"], "money": r["money"], "stop_payment": r["stop_payment"],
         "recover": round(r["money"] - r["stop_payment"], 2)}
        for r in table.to_dicts()
    ]


def top_findings(rf: RunFiles, n: int) -> list[dict[str, Any]]:
    """The ``n`` entries with the most money at risk (then high severity), evidence readable.

    Findings about the same money make one entry: those that put money on exactly the same
    claims, or — naming no claim — the same unit, person, year and amount (two rules seeing one
    10,800 yuan). The entry leads with the finding ranked first and names the others' rules
    (``also``), so a reader never counts the same money twice."""
    if not rf.findings.height:
        return []
    claim_sets = rf.links.group_by("finding_id").agg(pl.col("claim_id").unique().sort().str.join(",").alias("_claims"))
    ranked = (
        with_county(rf, rf.findings).join(finding_money(rf), on="finding_id", how="left")
        .join(claim_sets, on="finding_id", how="left")
        .with_columns(pl.col("severity").replace({"high": 0, "medium": 1, "low": 2}).cast(pl.Int64).alias("_sev"),
                      pl.when(pl.col("_claims").is_not_null()).then(pl.concat_str([pl.lit("c:"), pl.col("_claims")]))
                      .otherwise(pl.concat_str([pl.lit("u:"), pl.col("unit_id").fill_null(""), pl.lit("|"),
                                                pl.col("person_id").fill_null(""), pl.lit("|"),
                                                pl.col("period_start").dt.year().cast(pl.String).fill_null(""),
                                                pl.lit("|"), pl.col("money").round(2).cast(pl.String)]))
                      .alias("_money_key"))
        .sort(["money", "_sev", "finding_id"], descending=[True, False, False])
    )
    # a finding with no money is about no money: it groups with nothing
    ranked = ranked.with_columns(pl.when(pl.col("money") > 0).then(pl.col("_money_key"))
                                 .otherwise(pl.col("finding_id")).alias("_money_key"))
    groups = ranked.group_by("_money_key", maintain_order=True).agg(
        pl.col("finding_id").first().alias("_lead"), pl.col("rule_id").slice(1).alias("_also_rules"),
        pl.col("finding_id").slice(1).alias("_also_ids")).head(n)
    lead = (
        groups.join(ranked.drop("_money_key"), left_on="_lead", right_on="finding_id", how="left", maintain_order="left")
        .rename({"_lead": "finding_id"})
        .join(rf.units.select("unit_id", "unit_name"), on="unit_id", how="left", maintain_order="left")
        .join(rf.trainees.select("person_id", "name"), on="person_id", how="left", maintain_order="left")
    )
    rows = []
    for r in lead.to_dicts():
        info = rf.rule(r["rule_id"])
        also = [{"title": rf.rule(rule).title, "rule_id": rule, "finding_id": fid}
                for rule, fid in zip(r["_also_rules"], r["_also_ids"])]
        rows.append({
            "finding_id": r["finding_id"], "rule_id": r["rule_id"], "title": info.title,
            "citation": r["citation"] or info.citation, "severity": SEVERITY_ZH.get(r["severity"], r["severity"]),
            "signal_only": info.signal_only, "money": r["money"] or 0.0,
            "county": rf.county_name(r["county_code"]), "unit": r["unit_name"] or r["unit_id"] or "",
            "unit_id": r["unit_id"] or "", "person": _person(r["name"], r["person_id"]),
            "claim_id": r["claim_id"] or "", "period": _period(r["period_start"], r["period_end"]),
            "status": r.get("status") or "",
            "evidence": evidence.items(r["evidence"]), "also": also,
        })
    return rows


def _person(name: str | None, person_id: str | None) -> str:
    if not person_id:
        return ""
    return f"{name or ''} {mask_id(person_id)}".strip()


def _period(start: Any, end: Any) -> str:
    if start is None and end is None:
        return ""
    if start == end or end is None:
        return str(start)
    return f"{start or ''} 至 {end}"


def cases(rf: RunFiles, n: int) -> list[dict[str, Any]]:
    """The relationship-graph cases, biggest money first, each linking to its graph page."""
    if rf.cases is None or not rf.cases.height or "case_id" not in rf.cases.columns:
        return []
    frame = rf.cases
    if "amount_at_risk" in frame.columns:
        frame = frame.sort("amount_at_risk", descending=True, nulls_last=True, maintain_order=True)
    rows = []
    for r in frame.head(n).to_dicts():
        graph = str(r.get("graph_file") or f"graphs/case_{r['case_id']}.html")
        rows.append({
            "case_id": str(r["case_id"]), "money": float(r.get("amount_at_risk") or 0.0),
            "summary": mask(r.get("summary") or ""),
            "graph": graph if rf.rundir.has(graph) or graph in rf.graphs_drawing else "",
        })
    return rows


def trend(rf: RunFiles) -> list[dict[str, Any]]:
    """This run and the earlier months' runs beside it in the output root (one per month: the
    newest by generated_at), from their run.json totals."""
    here = rf.run.get("audit_month")
    by_month: dict[str, dict[str, Any]] = {}
    for path, run in sibling_runs(rf.run_dir):
        month = run.get("audit_month")
        if not month or (here and month > here):
            continue
        if path.resolve() == rf.run_dir.resolve():
            run = rf.run
        total = next((r for r in run.get("by_family", []) if r.get("family") == "TOTAL"), None)
        if total is None:
            continue
        row = {"month": month, "findings": int(total.get("findings", 0)),
               "money": float(total.get("amount_at_risk", 0.0)), "here": path.resolve() == rf.run_dir.resolve(),
               "generated_at": str(run.get("generated_at", ""))}
        old = by_month.get(month)
        if old is None or row["here"] or (not old["here"] and row["generated_at"] > old["generated_at"]):
            by_month[month] = row
    return [by_month[m] for m in sorted(by_month)]


# ---------------------------------------------------------------- run facts -----------------


def inputs(rf: RunFiles) -> list[dict[str, Any]]:
    rows = rf.run.get("inputs") or []
    if isinstance(rows, dict):
        rows = [{"table": k, **(v if isinstance(v, dict) else {"rows_kept": v})} for k, v in rows.items()]
    out = []
    for r in rows:
        table = str(r.get("table", ""))
        spec = SPECS.get(table)
        out.append({
            "table": table, "table_zh": spec.zh if spec else table, "file": str(r.get("file", "")),
            "read": r.get("rows_read", ""), "kept": r.get("rows_kept", ""),
            "quarantined": r.get("rows_quarantined", ""), "collapsed": r.get("duplicates_collapsed", ""),
        })
    return out


def input_notes(rf: RunFiles) -> dict[str, Any]:
    """What the reading of the inputs said (run.json's ``input_notes``), in Chinese: files not
    read, columns outside the contract, values read as blank, units converted, sheets skipped.
    ``unread``: whether a file or a sheet was passed over (the report says so as a notice)."""
    lines = [note_zh(str(n)) for n in rf.run.get("input_notes") or []]
    return {"lines": lines, "unread": any("未读取" in line for line in lines)}


def provinces(rf: RunFiles) -> list[str]:
    codes = rf.units["county_code"].drop_nulls().str.slice(0, 2).unique().sort().to_list()
    return [f"{c}0000" for c in codes]


def parameters(rf: RunFiles, policy: Policy) -> list[dict[str, Any]]:
    """Per province present in the run: the policy parameters in force at the month's end."""
    when = rf.month_end
    out = []
    for code in provinces(rf):
        rows = []
        for p in policy.describe(code, when):
            value = p["value"]
            rows.append({
                # the catalogue's description is "中文 — English": a clerk reads the Chinese
                "name": p["name"], "description": zh_part(p["description"]), "unit": p["unit"],
                "value": "未设定（相关规则跳过）" if value is None else _param_value(value),
                "reference": p["reference"] or "", "since": str(p["effective_from"] or ""),
                "from": "全国" if p["from"] == "national" else ("本省" if p["from"] else ""),
            })
        out.append({"code": code, "name": policy.jurisdictions.get(code, code), "rows": rows})
    return out


def _param_value(value: Any) -> str:
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, list):
        return "、".join(value_label(str(v)) for v in value)
    return value_label(str(value))


#: where a description written 中文 — English turns to English (a dash, then a Latin letter)
_ENGLISH_AFTER = re.compile(r"\s*—\s*(?=[A-Za-z])")


def zh_part(description: Any) -> str:
    """A description's Chinese part: ``中文 — English`` gives ``中文``, whether or not a space stands
    before the dash (``…（通知未规定时）— the period …``); a dash inside the Chinese stays."""
    return _ENGLISH_AFTER.split(str(description or ""), maxsplit=1)[0]


def detection(policy: Policy) -> list[dict[str, Any]]:
    """The detection parameters as the report lists them: in Chinese where the file gives the
    unit and the reason in Chinese (``unit_zh``, ``rationale_zh``: every bundled one does), else
    as the file writes them (an office's own file may not)."""
    return [{"name": d.name, "value": _param_value(d.value), "unit": d.shown_unit,
             "description": zh_part(d.description),
             # the project's own copy of the readings, which a clone of the project carries
             "rationale": d.shown_rationale.replace("RULES.md §8", "docs/readings.md"),
             } for d in policy.detection.values()]


REFERENCE_ZH = {
    "min_wage": "最低工资标准", "county_tiers": "县区最低工资档次", "calendar": "法定工作日历", "regions": "行政区划",
    "warnings": "提示", "priceable": "可计算补贴标准的县区（审计月）",
}
REFERENCE_LABELS = {
    "source": "来源", "rows_used": "使用行数", "by_status": "按核实状态", "excluded": "未使用的行（未核实）",
    "operator_file": "使用操作员提供的文件", "operator_provinces": "操作员覆盖的省份", "counties_by_province": "各省县区数",
    "excluded_maps": "未使用的档次划分（未核实）", "package_years": "内置年份", "operator_days": "操作员提供的日期数",
    "years_covered": "覆盖年份", "years_needed": "需要的年份", "province_code": "省份代码", "tier": "档次",
    "operator_rows": "操作员提供的行数", "covered": "覆盖的日期", "reason": "原因", "monthly_yuan": "月最低工资标准",
    "effective_from": "执行日期", "effective_to": "截止日期", "status": "状态", "month": "月份", "counties": "县区数",
    "priceable": "可定价县区数", "warnings": "提示",
}
_CODE = re.compile(r"(?<![\w.])[a-z][a-z0-9]*(?:_[a-z0-9]+)+(?![\w./])")
_LONG_TEXT = 120
_MAX_ROWS = 30


def reference_status(rf: RunFiles) -> list[dict[str, Any]]:
    """run.json's reference-table status as labelled items, whatever its exact shape: long lists
    are cut to the audit month (where they are by month) or to their first rows."""
    ref = rf.run.get("reference")
    if not isinstance(ref, dict):
        return [{"name": "参照表", "items": [evidence.EvidenceItem("状态", text=_text(ref))]}] if ref else []
    month = rf.audit_month.isoformat()
    out = []
    for name, value in ref.items():
        if isinstance(value, dict):
            items = [_ref_item(k, v, month) for k, v in value.items()]
        else:
            items = [_ref_item(name, value, month)]
        out.append({"name": REFERENCE_ZH.get(name, name), "items": items})
    return out


def _ref_item(key: str, value: Any, month: str) -> evidence.EvidenceItem:
    label = REFERENCE_LABELS.get(key, key)
    if key == "warnings" and isinstance(value, list):  # each written 中文 / English: the Chinese
        value = [note_zh(v) if isinstance(v, str) else v for v in value]
    if isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
        rows = value
        if all("month" in r for r in rows):
            rows = [r for r in rows if str(r["month"])[:7] == month[:7]] or rows[-_MAX_ROWS:]
        cut = len(rows) - _MAX_ROWS
        columns = list(dict.fromkeys(k for r in rows for k in r))
        table = [[_text(r.get(c)) for c in columns] for r in rows[:_MAX_ROWS]]
        if cut > 0:
            table.append([f"…另有 {cut} 行"] + [""] * (len(columns) - 1))
        return evidence.EvidenceItem(label, columns=[REFERENCE_LABELS.get(c, c) for c in columns], rows=table)
    if isinstance(value, list) and value and all(isinstance(v, int) and not isinstance(v, bool) for v in value):
        ordered = sorted(value)
        if ordered == list(range(ordered[0], ordered[-1] + 1)) and len(ordered) > 2:
            return evidence.EvidenceItem(label, text=f"{ordered[0]}–{ordered[-1]}")
    return evidence.EvidenceItem(label, text=_text(value))


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, dict):
        return "；".join(f"{REFERENCE_LABELS.get(k, k)}: {_text(v)}" for k, v in value.items())
    if isinstance(value, list):
        return "、".join(_text(v) for v in value) if value else "无"
    # a table's or field's name inside a message (min_wage 620000 tier 1 …) in Chinese
    text = _CODE.sub(lambda m: REFERENCE_ZH.get(m.group(0)) or value_label(m.group(0)), mask(value))
    return text if len(text) <= _LONG_TEXT else text[: _LONG_TEXT - 1] + "…"


def rules_skipped(rf: RunFiles) -> list[dict[str, str]]:
    skipped = rf.run.get("rules_skipped") or {}
    return [{"rule_id": rid, "title": rf.rule(rid).title, "reason": mask(why)} for rid, why in sorted(skipped.items())]


def skipped_keys(rf: RunFiles) -> list[dict[str, Any]]:
    """Keys a rule left unjudged, counted per rule and reason (from skipped.parquet)."""
    if not rf.skipped.height:
        return []
    table = rf.skipped.group_by("rule_id", "reason").len().sort(["rule_id", "len", "reason"], descending=[False, True, False],
                                                                 nulls_last=True)
    return [{"rule_id": r["rule_id"], "title": rf.rule(r["rule_id"]).title, "reason": mask(r["reason"]),
             "count": r["len"]} for r in table.to_dicts()]



def _pct(part: int, whole: int) -> str:
    return f"{part / whole:.1%}" if whole else "—"


def coverage(rf: RunFiles) -> dict[str, Any] | None:
    """How much the run judged, from run.json's ``coverage`` (computed once by the pipeline,
    :mod:`audit.coverage`); a run made before it was recorded gets it computed from its files."""
    cov = rf.run.get("coverage")
    if not isinstance(cov, dict):
        try:
            cov = run_coverage(rf.rundir)
        except Exception:  # noqa: BLE001 — an old run renders without it, saying so
            return None
    m = cov["monthly"]
    provinces = []
    for p in cov["provinces"]:
        provinces.append(p | {
            "share": _pct(p["priced"], p["judged"]),
            "gaps": "；".join(f"{g['gap']} {g['claims']:,} 笔" for g in p["unpriced_by_gap"]) or "—",
        })
    skipped = {}
    for row in cov.get("skipped", []):
        skipped.setdefault(row["province_code"], []).append(row)
    policy = []
    known = {p["province_code"] for p in cov.get("policy", [])}
    for prov in cov.get("policy", []):
        policy.append(prov | {
            "notices_text": "；".join(f"{n['document']}（{n['state_zh']}{'，' + str(n['expires']) + ' 到期' if n['expires'] else ''}）"
                                     for n in prov["notices"]) or "法规库中无本省文件",
            "unset": [u | {"description": zh_part(u["description"])} for u in prov["unset"]],
            "skipped": skipped.get(prov["province_code"], []),
        })
    for code, rows in skipped.items():  # keys of a province the policy table does not list (unknown county)
        if code not in known:
            policy.append({"province_code": code, "province_name": rows[0]["province_name"], "notices_text": "—",
                           "unset": [], "skipped": rows})
    gaps = cov.get("reference_gaps") or {}
    return {
        "judged": m["judged"], "priced": m["priced"], "unpriced": m["unpriced"], "share": _pct(m["priced"], m["judged"]),
        "secondary": m.get("priced_on_secondary", 0),
        "complete": m["unpriced"] == 0 and not cov.get("skipped_total"),
        "provinces": provinces,
        "skipped_total": cov.get("skipped_total", 0),
        "secondary_findings": (cov.get("secondary_findings") or {}).get("total", 0),
        "policy": policy,
        "gaps": gaps,
        "expired": [f"{prov['province_name']} {n['document']}（{n['expires']} 失效）"
                    for prov in cov.get("policy", []) for n in prov["notices"] if n["state"] == "expired"],
    }


_CONTRACTS_SHOWN = 20  # failed expectations listed on the first screen; the rest are counted


def contracts(rf: RunFiles) -> dict[str, Any] | None:
    """The data contracts the inputs failed (great-expectations, ``validation.json``), for the
    report's first screen: how many expectations ran, and each failed one with its table, what
    it expects and how many rows fail it, most rows first. None for a run without the file."""
    data = rf.rundir.validation()
    if data is None:
        return None
    expectations = [e for e in data.get("expectations") or [] if isinstance(e, dict)]
    failed = sorted((e for e in expectations if not e.get("success")),
                    key=lambda e: (-int(e.get("unexpected_rows") or 0), str(e.get("table")), str(e.get("description"))))
    rows = []
    for e in failed[:_CONTRACTS_SHOWN]:
        table = str(e.get("table", ""))
        spec = SPECS.get(table)
        columns_zh = {c.name: c.zh for c in spec.columns} if spec else {}
        rows.append({
            # its Chinese sentence (each is written 中文 / English); in a run made before they were, a
            # column named in the expectation reads as its Chinese header (person_id → 身份证号)
            "table": table, "table_zh": spec.zh if spec else table,
            "description": _CODE.sub(lambda m, zh=columns_zh: zh.get(m.group(0)) or value_label(m.group(0)),
                                     note_zh(str(e.get("description", "")))),
            "rows": int(e.get("unexpected_rows") or 0), "checked": int(e.get("rows_checked") or 0),
            "error": str(e.get("error") or ""),
        })
    return {"total": len(expectations), "failed": len(failed), "rows": rows, "more": max(len(failed) - _CONTRACTS_SHOWN, 0)}
