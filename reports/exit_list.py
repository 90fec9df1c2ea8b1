"""exit_list.xlsx and exit_lists/<county_code>.xlsx: the units proposed for exit (退出) and
delisting (摘牌), each by its own province's law (RULES.md §8, "Exits outside Jiangxi" and
"Exit conditions").

Which units, and on what (the mapping):

- a proposal rests on unit-level evidence only: the findings of rules whose
  ``RuleInfo.exit_condition`` is set (1–4) — e.g. DORMANT_UNIT (①), a banned unit back in the
  programme (②), subsidy fraud the unit itself knew of (③: its own employees relabelled, trainees
  it never had, retention it invented, claims after a trainee left), other illegal business (④);
  the rule's author decides, this module only reads it. A trainee-level fact the unit could not
  know (an earlier internship elsewhere, employment elsewhere) never proposes an exit, and
  findings of signal-only rules (investigative signals) never do;
- where the unit's province has exit conditions in force at the end of the audit month
  (``unit.exit_conditions``: Jiangxi, 赣人社发〔2023〕9号 四(一)2(5)) the proposal carries the
  condition numbers; a unit with several is listed once, the headline condition ③, else ④, else
  ②, else ① (the ones carrying the ban first); conditions in ``unit.exit_ban_conditions`` bar a
  new application for ``unit.exit_ban_years`` (5 years in Jiangxi), counted provisionally from
  the unit's recorded exit date or else the end of the audit month;
- elsewhere the proposal carries no condition number and no ban: "建议清退（审计判断，本省通知未规定
  退出情形）", with the findings behind it;
- each proposal lists its findings (ids) and the clauses they cite — each finding's own citation,
  the one in force for the unit's province (a Henan county's sheet never cites Jiangxi's notice).

The money is the money at risk on all the unit's claims (each claim once, RULES.md §8), whatever
the finding, split as RULES.md §8 "Unpaid claims" says: 应追回 on the claims paid (with a 拨付日期),
应停止拨付 on those not yet paid. These are recommendations: every sheet says a county must confirm
them, in its 县区核实结论 column (and the 摘牌 date once done); ``audit outcomes import`` reads the
list back. 审计状态 gives the statuses of the unit's findings in the monthly cycle (新发现, 持续 …);
findings a county rejected (不属实) are not read (:meth:`audit.rundir.RunDir.findings`), so they
propose nothing.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import polars as pl

from audit.findings import STATUSES
from audit.outpaths import inside
from audit.policy import Policy
from audit.schema import province_of
from reports import evidence
from reports.data import RunFiles, claim_money, unlinked_money
from reports.xlsx import Column, county_file_name, sheet_name, workbook, write_table

CONDITIONS: dict[int, str] = {
    1: "①一年内提供的见习岗位数量和接收的见习人员未达当地最低标准",
    2: "②有严重违反就业见习相关管理规定的行为",
    3: "③有骗取、套取就业见习补贴资金等违纪违法行为",
    4: "④有其他经营违法行为",
}
JUDGEMENT = 0  # the headline of a proposal where the province's notice has no exit conditions
JUDGEMENT_TEXT = "建议清退（审计判断，本省通知未规定退出情形）"
PRIORITY = (3, 4, 2, 1)
CITATION = "赣人社发〔2023〕9号 四(一)2(5)"  # Jiangxi's exit clause (its counties' sheets only)
NOTICE = ("退出（摘牌）建议名单 — 审计线索与建议，不是处理决定：须由所在县区人社部门逐项核实确认后，"
          f"依{CITATION}办理退出、摘牌；③④情形退出后规定年限内不得再次申请。身份证号已脱敏。")
NOTICE_JUDGEMENT = ("清退建议名单 — 审计线索与建议，不是处理决定：本省通知未规定见习单位退出情形和禁止再次申请的年限，"
                    "所列建议为审计判断（依据见各条问题的本省条款），须由所在县区人社部门逐项核实确认。身份证号已脱敏。")
NOTICE_SUMMARY = ("退出（摘牌）与清退建议汇总 — 审计线索与建议，不是处理决定：各县区依本省规定办理，须由所在县区人社部门"
                  "逐项核实确认；本省通知规定退出情形的，按其情形编号列示，未规定的为审计判断。身份证号已脱敏。")

COLUMNS = [
    Column("county", "县区"), Column("county_code", "区划代码"), Column("unit_name", "单位名称"),
    Column("unit_id", "统一社会信用代码"), Column("condition", "建议退出情形", "wrap", 30),
    Column("all_conditions", "涉及情形"), Column("ban", "规定年限内不得再次申请"),
    Column("ban_until", "禁止申请截止日期（暂计）", "date"), Column("status", "当前状态"),
    Column("reasons", "问题及依据", "wrap", 50), Column("evidence", "证据摘要", "wrap", 60),
    Column("findings", "问题数", "int"), Column("finding_ids", "问题编号", "wrap", 24),
    Column("recover", "应追回金额（元，已拨付）", "money"), Column("stop_payment", "应停止拨付金额（元，未拨付）", "money"),
    Column("audit_status", "审计状态"), Column("confirm", "县区核实结论"), Column("exit_done", "摘牌日期（县区填写）", "date"),
]


def _province_law(policy: Policy, province: str, day: dt.date) -> tuple[set[int], set[int], Any]:
    """The exit conditions, the conditions carrying the ban, and the ban's years in force for a
    province on a day (empty where its notice has none)."""
    numbers = policy.value("unit.exit_conditions", province, day) or []
    banned = policy.value("unit.exit_ban_conditions", province, day) or []
    return {int(c) for c in numbers}, {int(c) for c in banned}, policy.value("unit.exit_ban_years", province, day)


def exit_units(rf: RunFiles, policy: Policy, with_evidence: bool = True) -> list[dict[str, Any]]:
    """One row per unit proposed for exit (see the module docstring for the mapping); without
    ``with_evidence`` the evidence summaries (the costly part) are left empty."""
    signals = [r for r, i in rf.rules.items() if i.signal_only]
    cond_of = {r: i.exit_condition for r, i in rf.rules.items() if i.exit_condition and not i.signal_only}
    if not cond_of:
        return []
    reasons = (
        rf.findings.filter(pl.col("rule_id").is_in(list(cond_of)) & ~pl.col("rule_id").is_in(signals)
                           & pl.col("unit_id").is_not_null())
        .with_columns(pl.col("rule_id").replace_strict(cond_of, return_dtype=pl.Int64).alias("condition"))
    )
    if not reasons.height:
        return []

    recover = _recover_by_unit(rf)
    # one row per unit, in the order of its findings' ids (what the reasons and evidence list first)
    reasons = reasons.sort("finding_id", maintain_order=True)
    per_unit = reasons.group_by("unit_id", maintain_order=True).agg(
        pl.col("county_code").drop_nulls().first().alias("_finding_county"),
        pl.col("condition").unique().sort().alias("conditions"),
        pl.col("finding_id").n_unique().alias("findings"),
        pl.col("finding_id").unique(maintain_order=True).alias("_ids"),
        pl.col("status").drop_nulls().unique().alias("_statuses"),
        pl.col("evidence").head(_EVIDENCE_LIMIT if with_evidence else 0).alias("_evidence"),
        pl.len().alias("_rows"),
    ).join(rf.units.select("unit_id", "unit_name", "county_code", "exit_date"), on="unit_id", how="left",
           maintain_order="left")
    per_rule = reasons.group_by("unit_id", "rule_id", maintain_order=True).agg(
        pl.col("finding_id").n_unique().alias("n"), pl.col("citation").drop_nulls().unique().sort().alias("cites"))
    why: dict[str, list[str]] = {}
    for unit_id, rule_id, n, cites in per_rule.iter_rows():
        info = rf.rule(rule_id)
        # the findings' own citations: the clauses in force for the unit's province
        why.setdefault(unit_id, []).append(f"{info.title}（{'；'.join(cites) or info.citation}）×{n}")
    end = rf.month_end
    law_of: dict[str, tuple[set[int], set[int], Any]] = {}
    one_line: dict[str | None, str] = {}
    province_of_county: dict[str | None, str] = {}
    rows = []
    for r in per_unit.to_dicts():
        unit_id = r["unit_id"]
        county = r["county_code"] or r["_finding_county"]
        if county not in province_of_county:  # once per county, not per unit (a polars call each)
            province_of_county[county] = pl.select(province_of(pl.lit(county or "", pl.String))).item() or ""
        province = province_of_county[county]
        if province not in law_of:
            law_of[province] = _province_law(policy, province, end)
        numbered, ban_conditions, years = law_of[province]
        conditions = [c for c in r["conditions"] if c in numbered]
        if conditions:
            headline = next(c for c in PRIORITY if c in conditions)
            banned = any(c in ban_conditions for c in conditions)
            condition, all_conditions = CONDITIONS[headline], "".join(CONDITIONS[c][0] for c in conditions)
        else:  # the province's notice has no exit conditions: the audit office's judgement
            headline, banned, condition, all_conditions = JUDGEMENT, False, JUDGEMENT_TEXT, ""
        start = r["exit_date"] or end
        rows.append({
            "county": rf.county_name(county), "county_code": county or "", "unit_name": r["unit_name"] or "",
            "unit_id": unit_id, "condition": condition, "all_conditions": all_conditions,
            "ban": (f"是（{years}年）" if years else "是（年限参数未设定）") if banned else "否",
            "ban_until": _add_years(start, int(years)) if banned and years else None,
            "status": f"已于{r['exit_date']}退出" if r["exit_date"] else "在册",
            "reasons": "；".join(why[unit_id]),
            "evidence": _evidence(r["_evidence"], r["_rows"], one_line) if with_evidence else "",
            "findings": r["findings"], "finding_ids": "、".join(r["_ids"]),
            "recover": recover.get(unit_id, (0.0, 0.0))[0], "stop_payment": recover.get(unit_id, (0.0, 0.0))[1],
            "audit_status": "、".join(x for x in STATUSES if x in r["_statuses"]), "confirm": "", "exit_done": None,
            "_headline": headline, "_numbered": bool(numbered), "_finding_ids": list(r["_ids"]),
            "_ban_years": int(years) if banned and years else None,
        })
    order = (*PRIORITY, JUDGEMENT)
    return sorted(rows, key=lambda r: (r["county_code"], order.index(r["_headline"]), -r["recover"], r["unit_id"]))


def _recover_by_unit(rf: RunFiles) -> dict[str, tuple[float, float]]:
    """unit_id → (应追回, 应停止拨付): the money at risk on its paid and its unpaid claims (each claim
    once); findings that name no claim count as to recover."""
    per_claim = claim_money(rf).group_by("unit_id").agg(
        pl.col("amount_at_risk").filter(pl.col("paid")).sum().alias("recover"),
        pl.col("amount_at_risk").filter(~pl.col("paid")).sum().alias("stop"))
    extra = unlinked_money(rf, rf.findings).group_by("unit_id").agg(
        pl.col("amount_at_risk").sum().alias("recover"), pl.lit(0.0).alias("stop"))
    both = pl.concat([per_claim, extra], how="vertical_relaxed").drop_nulls("unit_id").group_by("unit_id").agg(
        pl.col("recover", "stop").sum())
    return {r["unit_id"]: (round(float(r["recover"]), 2), round(float(r["stop"]), 2)) for r in both.to_dicts()}


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
                                              **{f"c{c}": 0 for c in (*CONDITIONS, JUDGEMENT)}, "banned": 0,
                                              "recover": 0.0, "stop_payment": 0.0})
        s["units"] += 1
        s[f"c{r['_headline']}"] += 1
        s["banned"] += r["ban"].startswith("是")
        s["recover"] = round(s["recover"] + r["recover"], 2)
        s["stop_payment"] = round(s["stop_payment"] + r["stop_payment"], 2)
    return [out[k] for k in sorted(out)]


SUMMARY_COLUMNS = [
    Column("county", "县区"), Column("county_code", "区划代码"), Column("units", "建议退出单位数", "int"),
    Column("c1", "情形①", "int"), Column("c2", "情形②", "int"), Column("c3", "情形③", "int"),
    Column("c4", "情形④", "int"), Column("c0", "审计判断（本省未规定退出情形）", "int"),
    Column("banned", "不得再次申请单位数", "int"),
    Column("recover", "应追回金额（元，已拨付）", "money"), Column("stop_payment", "应停止拨付金额（元，未拨付）", "money"),
]


def _write_book(path: Path, rf: RunFiles, by_county: dict[str, list[dict[str, Any]]], summary: list[dict[str, Any]] | None,
                counties: list[str]) -> None:
    """A workbook: the summary sheet (when ``summary`` is given), then a sheet per county."""
    book, fmt = workbook(str(path))
    used: set[str] = set()
    if summary is not None:
        write_table(book, fmt, sheet_name("汇总", used), f"{rf.month_label} " + NOTICE_SUMMARY, SUMMARY_COLUMNS,
                    summary, total_of=("units", "c1", "c2", "c3", "c4", "c0", "banned", "recover", "stop_payment"))
    for code in counties:
        name = f"{code} {rf.county_name(code)}" if rf.county_name(code) != code else code or "未知县区"
        # each county is sent its own province's basis: Jiangxi's exit clause only where it is in force
        notice = NOTICE if any(r["_numbered"] for r in by_county[code]) else NOTICE_JUDGEMENT
        write_table(book, fmt, sheet_name(name, used), f"{rf.month_label} {rf.county_name(code)} " + notice,
                    COLUMNS, by_county[code], total_of=("findings", "recover", "stop_payment"))
    book.close()


def write_exit_lists(rf: RunFiles, policy: Policy, rows: list[dict[str, Any]] | None = None) -> list[dict[str, Any]]:
    """exit_list.xlsx (the summary of every county, then one sheet per county) and, for each
    county, exit_lists/<code>_<name>.xlsx holding that county's sheet alone (no other county's
    rows, no summary of the others): what the county office receives and prints."""
    rows = exit_units(rf, policy) if rows is None else rows
    by_county: dict[str, list[dict[str, Any]]] = {}
    for r in rows:
        by_county.setdefault(r["county_code"], []).append(r)
    counties = sorted(by_county)
    summary = _summary_rows(rows)
    _write_book(inside(rf.run_dir, "exit_list.xlsx"), rf, by_county, summary, counties)
    folder = inside(rf.run_dir, "exit_lists")
    folder.mkdir(exist_ok=True)
    # a file per six-digit county code, named with its code and name; the rows of every other code
    # (none, or not GB/T 2260: a data-quality finding of its own) share unknown.xlsx, a sheet per code
    files: dict[str, list[str]] = {}
    for code in counties:
        files.setdefault(county_file_name(code, rf.county_names.get(code)), []).append(code)
    for name, codes in files.items():
        _write_book(inside(folder, name), rf, by_county, None, codes)
    return rows
