"""The report's monthly-cycle section (``_history.html``), from the run's ``history/`` files.

A run made with a workspace (:mod:`audit.app.cycle`) left there where it stands in the cycle:
the findings by status, those resolved since the last run, those back after a 不属实 decision on
changed facts, per rule and county the findings decided, hit rate, money at risk and money
recovered, the replies overdue, the random sample and what its checks found, and the units in
the 摘牌 workflow. A run without a workspace has none of it, and the section says so in a line.
"""

from __future__ import annotations

from typing import Any

import polars as pl

from audit.findings import DISMISSED, NEW, STATUSES
from audit.masking import mask
from reports.data import RunFiles, family_zh

STATUS_NOTE = {
    "新发现": "本月首次发现（或曾判定不属实、事实已变化后重新列出）",
    "持续": "以往月份已发现，尚无核实结论或待核实",
    "属实待追回": "县区核实属实（或部分属实），资金尚未追回",
    "已追回": "核实属实，追回金额已达涉及金额",
    "不属实": "县区核实不属实且事实未变化：不计入本报告的统计、清单和退出建议",
}


def _pct(value: Any) -> str:
    return "—" if value is None else f"{float(value) * 100:.0f}%"


def context(rf: RunFiles, limit: int = 20) -> dict[str, Any] | None:
    """What ``_history.html`` shows (None for a run made without a workspace)."""
    run = rf.rundir
    if not run.has_history:
        return None
    facts = run.history_facts()
    counts = facts.get("statuses") or {}
    history = run.history("findings")
    titles = {r: rf.rule(r).title for r in rf.rules} if rf.rules else {}

    def title(rule_id: str) -> str:
        return titles.get(rule_id) or rf.rule(rule_id).title

    resolved = run.history("resolved")
    resolved_rows: list[dict[str, Any]] = []
    resolved_families: list[dict[str, Any]] = []
    if resolved is not None and resolved.height:
        resolved_families = [{"family": family_zh(f), "findings": n} for f, n in
                             resolved.group_by("family").len().sort("family").iter_rows()]
        for r in resolved.sort("amount_at_risk", descending=True).head(limit).to_dicts():
            resolved_rows.append({"finding_id": r["finding_id"], "title": title(r["rule_id"]),
                                  "county": rf.county_name(r["county_code"]), "unit_id": r["unit_id"] or "",
                                  "person": mask(r["person_id"]) if r["person_id"] else "",
                                  "money": r["amount_at_risk"] or 0.0, "status": r["status"]})
    returned: list[dict[str, Any]] = []
    if history is not None:
        back = history.filter(pl.col("facts_changed") & (pl.col("status") != DISMISSED)).join(
            rf.findings.select("finding_id", "rule_id", "unit_id", "county_code"), on="finding_id")
        for r in back.head(limit).to_dicts():
            returned.append({"finding_id": r["finding_id"], "title": title(r["rule_id"]), "status": r["status"],
                             "county": rf.county_name(r["county_code"]), "unit_id": r["unit_id"] or "",
                             "decided": f"{r['outcome']}（{r['decided_date'] or '日期未填'} {r['decided_by'] or ''}）".strip()})
    rules = run.history("rules")
    # the rules with decisions recorded (the others' findings and money are in the report's rule table)
    rule_rows = [] if rules is None else [
        {**r, "title": title(r["rule_id"]), "hit": _pct(r["hit_rate"])}
        for r in rules.filter(pl.col("decided") > 0).sort(["decided", "rule_id"], descending=[True, False]).to_dicts()]
    undecided_rules = 0 if rules is None else rules.filter((pl.col("decided") == 0) & (pl.col("findings") > 0)).height
    counties = run.history("counties")
    overdue = run.history("overdue")
    late = {} if overdue is None else dict(overdue.group_by("county_code").len().iter_rows())
    county_rows = [] if counties is None else [
        {**r, "county": rf.county_name(r["county_code"]) if r["county_code"] else "（未归属县区）",
         "hit": _pct(r["hit_rate"]), "overdue": late.get(r["county_code"], 0)}
        for r in counties.to_dicts()]
    overdue_rows = [] if overdue is None else [
        {"county": rf.county_name(r["county_code"]) if r["county_code"] else "（未归属县区）", "finding_id": r["finding_id"],
         "title": title(r["rule_id"]), "unit_id": r["unit_id"] or "", "reply_due": r["reply_due"],
         "days": r["days_overdue"]} for r in overdue.head(limit * 5).to_dicts()]
    sample = run.history("sample")
    results = run.history("sample_results")
    units = run.history("units")
    unit_counts = [] if units is None else [
        {"state": s, "units": int((units["state"] == s).sum())} for s in ("建议退出", "县区确认", "不予退出", "已摘牌")]
    unit_rows = [] if units is None else [
        {"county": rf.county_name(r["county_code"]), "unit_name": r["unit_name"] or "", "unit_id": r["unit_id"],
         "state": r["state"], "since": r["since"], "first_proposed": r["first_proposed"], "exit_date": r["exit_date"],
         "ban_until": r["ban_until"]}
        for r in units.filter(pl.col("state") != "建议退出").head(limit * 5).to_dicts()]
    settings = facts.get("settings") or {}
    return {
        "months": facts.get("months") or [], "previous": facts.get("previous_month"),
        "reply_due": facts.get("reply_due"), "settings": settings,
        "statuses": [{"status": s, "findings": int(counts.get(s, 0)), "note": STATUS_NOTE[s]} for s in STATUSES],
        "new": int(counts.get(NEW, 0)), "dismissed": int(counts.get(DISMISSED, 0)),
        "resolved_total": int(facts.get("resolved") or 0), "resolved_families": resolved_families,
        "resolved": resolved_rows, "returned": returned, "rules": rule_rows, "undecided_rules": undecided_rules,
        "counties": county_rows,
        "overdue": overdue_rows, "overdue_total": 0 if overdue is None else overdue.height,
        "sample_drawn": 0 if sample is None else sample.height,
        "sample_results": [] if results is None else results.to_dicts(),
        "unit_counts": unit_counts, "units": unit_rows, "limit": limit,
        "false_share_pct": round(float(settings.get("office.false_alarm_share") or 0) * 100),
    }
