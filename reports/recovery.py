"""recovery.xlsx: per unit and trainee, the claims that should not have been paid.

Each claim appears once, with its money at risk (the largest amount any finding puts on it,
never more than was paid — RULES.md §8), the rules that put it at risk and their citations.
Findings that put money at risk without naming claims are listed with their own amount.

ID numbers are masked here too, although this is an internal working file: subsidies are
recovered from the unit that claimed them, the county identifies every line by its 申领编号 and
协议编号 in its own system (which holds the full 身份证号), and a spreadsheet travels by e-mail and
USB stick far more easily than the system it came from. So no full ID leaves the audit.
"""

from __future__ import annotations

from typing import Any

import polars as pl

from reports.data import RunFiles, claim_money, unlinked_money, with_county
from audit.masking import mask
from reports.xlsx import Column, sheet_name, workbook, write_table

NOTICE = ("追缴清单 — 审计线索与建议，须由县区人社部门核实确认后依规追缴。每笔申领只列一次，金额为各问题中最大者且不超过实际申领额。"
          "身份证号已脱敏：请按申领编号、协议编号在经办系统中查询。")

CLAIM_COLUMNS = [
    Column("county", "县区"), Column("county_code", "区划代码"), Column("unit_name", "单位名称"),
    Column("unit_id", "统一社会信用代码"), Column("name", "见习人员姓名"), Column("person", "身份证号（脱敏）"),
    Column("claim_id", "申领编号"), Column("agreement_id", "协议编号"), Column("claim_month", "补贴所属月份", "date"),
    Column("claim_type", "补贴类型"), Column("paid", "申领金额（元）", "money"), Column("paid_date", "拨付日期", "date"),
    Column("recover", "应追缴金额（元）", "money"), Column("rules", "问题", "wrap", 40),
    Column("citations", "依据", "wrap", 36), Column("finding_ids", "问题编号", "wrap", 20),
]
PERSON_COLUMNS = [
    Column("county", "县区"), Column("county_code", "区划代码"), Column("unit_name", "单位名称"),
    Column("unit_id", "统一社会信用代码"), Column("name", "见习人员姓名"), Column("person", "身份证号（脱敏）"),
    Column("claims", "申领笔数", "int"), Column("first_month", "最早月份", "date"), Column("last_month", "最晚月份", "date"),
    Column("recover", "应追缴金额（元）", "money"), Column("rules", "问题", "wrap", 40),
]


def recovery_rows(rf: RunFiles) -> list[dict[str, Any]]:
    """One row per claim at risk (and per claim-less finding with money), biggest first per unit."""
    rule_of = {f: (r, c) for f, r, c in zip(*(rf.findings[k].to_list() for k in ("finding_id", "rule_id", "citation")))}
    per_claim = claim_money(rf).filter(pl.col("amount_at_risk") > 0)
    rows: list[dict[str, Any]] = []
    names = dict(zip(rf.trainees["person_id"].to_list(), rf.trainees["name"].to_list()))
    unit_names = dict(zip(rf.units["unit_id"].to_list(), rf.units["unit_name"].to_list()))
    for r in per_claim.to_dicts():
        fids = r["finding_ids"] or []
        rules = [rule_of[f] for f in fids if f in rule_of]
        rows.append(_row(rf, r["county_code"], r["unit_id"], r["person_id"], names, unit_names, {
            "claim_id": r["claim_id"], "agreement_id": r["agreement_id"] or "", "claim_month": r["claim_month"],
            "claim_type": r["claim_type"] or "", "paid": _paid(r), "paid_date": r["paid_date"],
            "recover": round(float(r["amount_at_risk"]), 2), "finding_ids": "、".join(fids),
            **_titles(rf, rules),
        }))
    loose = with_county(rf, unlinked_money(rf, rf.findings))
    for r in loose.to_dicts():
        rows.append(_row(rf, r["county_code"], r["unit_id"], r["person_id"], names, unit_names, {
            "claim_id": "（未列明申领）", "agreement_id": "", "claim_month": r["period_start"], "claim_type": "",
            "paid": None, "paid_date": None, "recover": round(float(r["amount_at_risk"]), 2),
            "finding_ids": r["finding_id"], **_titles(rf, [(r["rule_id"], r["citation"])]),
        }))
    return sorted(rows, key=lambda x: (x["county_code"], x["unit_id"], x["person"], str(x["claim_month"] or "")))


def _paid(r: dict[str, Any]) -> float | None:
    if r["amount"] is None:
        return None
    return round(float(r["amount"] or 0) + float(r["insurance_amount"] or 0), 2)


def _row(rf: RunFiles, county: str | None, unit_id: str | None, person_id: str | None, names: dict, unit_names: dict,
         rest: dict[str, Any]) -> dict[str, Any]:
    return {"county": rf.county_name(county), "county_code": county or "", "unit_id": unit_id or "",
            "unit_name": unit_names.get(unit_id) or "", "name": names.get(person_id) or "",
            "person": mask(person_id), **rest}


def _titles(rf: RunFiles, rules: list[tuple[str, str | None]]) -> dict[str, str]:
    """Rule titles and citations of (rule_id, citation) pairs, each once."""
    ids = sorted({rule_id for rule_id, _ in rules})
    return {"rules": "；".join(rf.rule(i).title for i in ids),
            "citations": "；".join(sorted({rf.rule(i).citation or (c or "") for i, c in rules}))}


def person_rows(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out: dict[tuple[str, str], dict[str, Any]] = {}
    for r in rows:
        key = (r["unit_id"], r["person"])
        s = out.setdefault(key, {k: r[k] for k in ("county", "county_code", "unit_name", "unit_id", "name", "person")}
                           | {"claims": 0, "first_month": None, "last_month": None, "recover": 0.0, "_rules": set()})
        s["claims"] += r["claim_id"] != "（未列明申领）"
        month = r["claim_month"]
        if month is not None:
            s["first_month"] = month if s["first_month"] is None else min(s["first_month"], month)
            s["last_month"] = month if s["last_month"] is None else max(s["last_month"], month)
        s["recover"] = round(s["recover"] + r["recover"], 2)
        s["_rules"].update(t for t in r["rules"].split("；") if t)
    result = []
    for s in out.values():
        s["rules"] = "；".join(sorted(s.pop("_rules")))
        result.append(s)
    return sorted(result, key=lambda x: (x["county_code"], -x["recover"], x["unit_id"], x["person"]))


def write_recovery(rf: RunFiles) -> list[dict[str, Any]]:
    rows = recovery_rows(rf)
    book, fmt = workbook(str(rf.run_dir / "recovery.xlsx"))
    used: set[str] = set()
    write_table(book, fmt, sheet_name("按单位和人员", used), f"{rf.month_label} " + NOTICE, PERSON_COLUMNS,
                person_rows(rows), total_of=("claims", "recover"))
    write_table(book, fmt, sheet_name("申领明细", used), f"{rf.month_label} " + NOTICE, CLAIM_COLUMNS, rows,
                total_of=("recover",))
    book.close()
    return rows
