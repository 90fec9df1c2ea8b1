"""Three months of the monthly cycle on a generated world, through the command line.

Month 1 (2024-04): the audit runs with a workspace; a county fills in its outcomes form — one
finding is a false alarm (不属实), one confirmed with all its money recovered, one with half, one
still being verified, two sampled claims checked — and sends back its exit list: one unit
confirmed and delisted, one declined. Month 2 (2024-05): statuses follow, false alarms are out of
the counts, lists and exit proposals, persisting findings keep their IDs, hit rates and
recoveries are in the report, a new sample is drawn. Month 3 (2024-06): the false alarm's facts
change (another employer's insurance appears) and it comes back as new with its history; the
month-1 findings nobody answered are overdue; the delisted unit's ban is carried by the workspace.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import openpyxl
import polars as pl
import pytest

from audit.workspace import Workspace
from tests.helpers import uscc

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parent.parent
MONTHS = ("2024-04", "2024-05", "2024-06")
GHOST = "GHOST_TRAINEE.insured_elsewhere"
IDENTITY = ["rule_id", "person_id", "unit_id", "claim_id", "county_code", "period_start"]


def audit(*args: str, ok: tuple[int, ...] = (0, 1)) -> subprocess.CompletedProcess:
    result = subprocess.run([sys.executable, "-m", "audit", *args], capture_output=True, text=True, cwd=ROOT,
                            env={**os.environ, "PYTHONPATH": str(ROOT)}, timeout=900)
    assert result.returncode in ok, f"audit {' '.join(args)} → {result.returncode}\n{result.stdout}\n{result.stderr}"
    return result


def run_month(world: Path, month: str, out: Path, ws: Path) -> Path:
    run_dir = out / month
    audit("run", str(world), "--month", month, "--out", str(run_dir), "--workspace", str(ws), "--no-render", "--quiet")
    audit("report", str(run_dir), "--no-pdf")
    return run_dir


def sheet_rows(path: Path, sheet: str | int) -> tuple[Any, dict[str, int], list[int]]:
    book = openpyxl.load_workbook(path)
    ws = book[sheet] if isinstance(sheet, str) else book.worksheets[sheet]
    headers = {str(c.value): i + 1 for i, c in enumerate(ws[2]) if c.value}
    rows = [r for r in range(3, ws.max_row + 1) if ws.cell(r, 1).value not in (None, "合计")]
    return book, headers, rows


@pytest.fixture(scope="module")
def cycle(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    root = tmp_path_factory.mktemp("cycle")
    world, out, ws = root / "world", root / "out", root / "ws"
    audit("fixtures", "generate", str(world), "--trainees", "500", "--seed", "13")
    facts: dict[str, Any] = {"root": root, "out": out, "ws": ws}

    # ---- month 1
    m1 = run_month(world, MONTHS[0], out, ws)
    f1 = pl.read_parquet(m1 / "findings.parquet")
    ghost = f1.filter(pl.col("rule_id") == GHOST).sort("period_start").row(0, named=True)
    with Workspace.open(ws, create=False, read_only=True) as w:
        proposals = w.table("proposals")
    # the exit list of a county: two units whose proposals do not rest on the false alarm
    free = proposals.filter(~pl.col("finding_ids").list.contains(ghost["finding_id"]))
    exit_county = free.group_by("county_code").len().filter(pl.col("len") >= 2).sort("len", "county_code",
                                                                                    descending=[True, False])["county_code"][0]
    confirm, decline = free.filter(pl.col("county_code") == exit_county).sort("unit_id")["unit_id"].to_list()[:2]
    decided_by_exit = {i: ("属实" if u == confirm else "不属实")
                       for u, ids in proposals.select("unit_id", "finding_ids").iter_rows() if u in (confirm, decline)
                       for i in ids}
    money = pl.read_parquet(m1 / "finding_claims.parquet")
    claims_of = {k: set(v) for k, v in money.group_by("finding_id").agg("claim_id").iter_rows()}
    # the outcomes forms: the false alarm's county marks it 不属实; the counties with the most findings
    # confirm two findings with money on claims of their own (all of it back, half of it) and are
    # still verifying a third; the rest is unanswered
    counties = f1.filter(pl.col("county_code").is_not_null()).group_by("county_code").len().sort(
        "len", "county_code", descending=[True, False])["county_code"].to_list()
    chosen: dict[str, str] = {ghost["finding_id"]: "false"}
    county_of: dict[str, str] = {ghost["finding_id"]: ghost["county_code"]}
    used_claims: set[str] = set(claims_of.get(ghost["finding_id"], set()))
    books = {}
    for code in dict.fromkeys([ghost["county_code"], *counties]):
        if len(chosen) == 4 and code != ghost["county_code"]:
            break
        book, col, rows = sheet_rows(m1 / "outcomes" / f"{code}.xlsx", "核查结果")
        sheet = book["核查结果"]
        for r in rows:
            fid, at_risk = sheet.cell(r, col["问题编号"]).value, float(sheet.cell(r, col["涉及金额（元）"]).value or 0)
            if fid in chosen or fid in decided_by_exit or claims_of.get(fid, set()) & used_claims:
                continue
            what = next((w for w in ("full", "half", "verify") if w not in chosen.values()), None)
            if what is None or (what != "verify" and at_risk <= 0):
                continue
            chosen[fid], county_of[fid] = what, code
            used_claims |= claims_of.get(fid, set())
            facts.setdefault("money", {})[fid] = at_risk
        books[code] = (book, col, rows)
    assert set(chosen.values()) == {"false", "full", "half", "verify"}, chosen
    replies = []
    sampled: list[str] = []
    for code, (book, col, rows) in books.items():
        sheet = book["核查结果"]
        for r in rows:
            fid = sheet.cell(r, col["问题编号"]).value
            what = chosen.get(fid)
            if what is None:
                continue
            sheet.cell(r, col["核实结论"]).value = {"false": "不属实", "full": "属实", "half": "部分属实", "verify": "待核实"}[what]
            if what in ("full", "half"):
                sheet.cell(r, col["追回金额"]).value = facts["money"][fid] / (1 if what == "full" else 2)
            sheet.cell(r, col["核实日期"]).value = "2024-05-12"
            sheet.cell(r, col["核实单位"]).value = "县人社局"
        if not sampled:  # the first form's sample: one fraud found, one claim in order
            sample_sheet = book["随机抽查"]
            scol = {str(c.value): i + 1 for i, c in enumerate(sample_sheet[2]) if c.value}
            sampled = [sample_sheet.cell(r, 1).value for r in range(3, sample_sheet.max_row + 1)
                       if sample_sheet.cell(r, 1).value]
            assert len(sampled) >= 2
            sample_sheet.cell(3, scol["核实结论"]).value = "属实"
            sample_sheet.cell(4, scol["核实结论"]).value = "不属实"
        replies.append(root / f"reply_{code}.xlsx")
        book.save(replies[-1])
    audit("outcomes", "import", *map(str, replies), "--workspace", str(ws), ok=(0,))

    # the county's own file (issue #14: <code>_<name>.xlsx, its own sheet alone)
    path = next((m1 / "exit_lists").glob(f"{exit_county}_*.xlsx"))
    book, col, rows = sheet_rows(path, 0)
    sheet = book.worksheets[0]
    for r in rows:
        unit = sheet.cell(r, col["统一社会信用代码"]).value
        if unit == confirm:
            sheet.cell(r, col["县区核实结论"]).value = "属实"
            sheet.cell(r, col["摘牌日期（县区填写）"]).value = "2024-05-20"
        elif unit == decline:
            sheet.cell(r, col["县区核实结论"]).value = "不予退出"
    exit_reply = root / "reply_exit.xlsx"
    book.save(exit_reply)
    audit("outcomes", "import", str(exit_reply), "--workspace", str(ws), ok=(0,))

    # ---- month 2
    m2 = run_month(world, MONTHS[1], out, ws)

    # ---- month 3: another employer insures the false alarm's trainee during the internship
    world3 = root / "world3"
    shutil.copytree(world, world3)
    with open(world3 / "social_insurance.csv", "a", encoding="utf-8") as fh:
        month = (ghost["period_start"] + dt.timedelta(days=40)).replace(day=1)
        fh.write(f"{ghost['person_id']},{uscc('ANOTHER')},{month:%Y-%m},养老,单位\n")
    m3 = run_month(world3, MONTHS[2], out, ws)
    facts.update({"m1": m1, "m2": m2, "m3": m3, "ghost": ghost, "county_of": county_of, "chosen": chosen,
                  "confirm": confirm, "decline": decline, "exit_county": exit_county, "sampled": sampled[:2],
                  "decided_by_exit": decided_by_exit})
    return facts


def findings(run_dir: Path) -> pl.DataFrame:
    return pl.read_parquet(run_dir / "findings.parquet")


def by_choice(cycle: dict[str, Any], what: str) -> str:
    return next(f for f, w in cycle["chosen"].items() if w == what)


def test_persisting_findings_keep_their_ids(cycle: dict[str, Any]) -> None:
    f1, f2 = findings(cycle["m1"]), findings(cycle["m2"])
    same = f1.join(f2, on=IDENTITY, nulls_equal=True, suffix="_2")
    assert same.height > 0.8 * f1.height
    assert (same["finding_id"] == same["finding_id_2"]).all()
    # month 2 runs on month 1's export: every fact of month 1 is still there, so is every id (the
    # false alarm too, kept in the findings file with its status) — a dormant unit's included,
    # though its twelve-month window moved on with the audit month
    lost = f1.filter(~pl.col("finding_id").is_in(f2["finding_id"].implode()))
    assert lost.height == 0, ("ids that moved with the audit month — declare the rule's identity (audit/rules.py, "
                              f"ONGOING): {sorted(set(lost['rule_id']))}")
    dormant = f1.filter(pl.col("rule_id") == "DORMANT_UNIT.no_activity").join(f2, on="finding_id", suffix="_2")
    assert dormant.height > 0 and (dormant["period_end"] < dormant["period_end_2"]).all()


def test_month_two_statuses(cycle: dict[str, Any]) -> None:
    f1, f2 = findings(cycle["m1"]), findings(cycle["m2"])
    status = dict(zip(f2["finding_id"], f2["status"]))
    assert status[by_choice(cycle, "false")] == "不属实"
    assert status[by_choice(cycle, "full")] == "已追回"
    assert status[by_choice(cycle, "half")] == "已追回"  # 部分属实: the county recovered its part
    assert status[by_choice(cycle, "verify")] == "持续"
    for fid, outcome in cycle["decided_by_exit"].items():
        if fid in status:
            assert status[fid] == ("不属实" if outcome == "不属实" else "已追回" if f2.filter(
                pl.col("finding_id") == fid)["amount_at_risk"][0] == 0 else "属实待追回"), fid
    earlier = set(f1["finding_id"])
    undecided = f2.filter(~pl.col("finding_id").is_in(list(cycle["chosen"]) + list(cycle["decided_by_exit"])))
    assert set(undecided.filter(pl.col("finding_id").is_in(list(earlier)))["status"]) == {"持续"}
    assert set(undecided.filter(~pl.col("finding_id").is_in(list(earlier)))["status"]) <= {"新发现"}


def test_false_alarms_are_out_of_counts_lists_and_exit_proposals(cycle: dict[str, Any]) -> None:
    m2 = cycle["m2"]
    f2 = findings(m2)
    dismissed = f2.filter(pl.col("status") == "不属实")
    counted = f2.height - dismissed.height
    assert dismissed.height >= 1
    run = json.loads((m2 / "run.json").read_text(encoding="utf-8"))
    assert next(r for r in run["by_family"] if r["family"] == "TOTAL")["findings"] == counted
    report = (m2 / "report.html").read_text(encoding="utf-8")
    assert re.search(r'id="h-findings">' + f"{counted:,}" + "<", report)
    # the recovery lines: each county's file (issue #14), every sheet (paid and not yet paid)
    listed = " ".join(str(c.value) for p in (m2 / "recovery_lists").glob("*.xlsx")
                      for ws in openpyxl.load_workbook(p).worksheets for row in ws.iter_rows() for c in row if c.value)
    for fid in dismissed["finding_id"]:
        assert fid not in listed and fid not in report
    exits = openpyxl.load_workbook(m2 / "exit_list.xlsx")
    units = {str(c.value) for ws in exits.worksheets for row in ws.iter_rows() for c in row if c.value}
    if f2.filter((pl.col("unit_id") == cycle["decline"]) & (pl.col("status") != "不属实")).height == 0:
        assert cycle["decline"] not in units
    forms = " ".join(str(c.value) for p in (m2 / "outcomes").glob("*.xlsx")
                     for ws in openpyxl.load_workbook(p).worksheets for row in ws.iter_rows() for c in row if c.value)
    assert by_choice(cycle, "false") not in forms and by_choice(cycle, "verify") in forms


def test_hit_rates_and_recoveries_in_the_report(cycle: dict[str, Any]) -> None:
    m2 = cycle["m2"]
    rules = {r["rule_id"]: r for r in pl.read_parquet(m2 / "history" / "rules.parquet").to_dicts()}
    f1 = findings(cycle["m1"])
    rule_of = dict(zip(f1["finding_id"], f1["rule_id"]))
    decided = {**{f: {"false": "不属实", "full": "属实", "half": "部分属实"}.get(w) for f, w in cycle["chosen"].items()},
               **cycle["decided_by_exit"]}
    expected: dict[str, list[int]] = {}
    for fid, outcome in decided.items():
        if outcome is None:
            continue
        row = expected.setdefault(rule_of[fid], [0, 0, 0])
        row[0] += 1
        row[1] += outcome != "不属实"
        row[2] += outcome == "不属实"
    for rule_id, (n, confirmed, false) in expected.items():
        got = rules[rule_id]
        assert (got["decided"], got["confirmed"], got["false_alarms"]) == (n, confirmed, false), rule_id
        assert got["mostly_false"] == (false > n / 2)
    assert rules[GHOST]["mostly_false"]
    money, county_of = cycle["money"], cycle["county_of"]
    expected_back: dict[str, float] = {}
    for what, share in (("full", 1.0), ("half", 0.5)):
        fid = by_choice(cycle, what)
        expected_back[county_of[fid]] = expected_back.get(county_of[fid], 0.0) + money[fid] * share
    counties = {r["county_code"]: r for r in pl.read_parquet(m2 / "history" / "counties.parquet").to_dicts()}
    report = (m2 / "report.html").read_text(encoding="utf-8")
    section = report[report.index('id="cycle-counties"'):]
    section = section[:section.index("</table>")]
    for code, recovered in expected_back.items():
        assert counties[code]["recovered"] == pytest.approx(recovered)
        assert f"{recovered:,.2f}" in section
    rules_table = report[report.index('id="cycle-rules"'):]
    ghost_row = rules_table[rules_table.index(GHOST) - 300:rules_table.index(GHOST)]
    assert "误报为主" in ghost_row


def test_a_sample_is_drawn_and_its_checks_count(cycle: dict[str, Any]) -> None:
    m2 = cycle["m2"]
    sample = pl.read_parquet(m2 / "history" / "sample.parquet")
    assert sample.height > 0 and not set(sample["claim_id"]) & set(cycle["sampled"])
    flagged = set(pl.read_parquet(m2 / "finding_claims.parquet")["claim_id"])
    assert not set(sample["claim_id"]) & flagged
    total = pl.read_parquet(m2 / "history" / "sample_results.parquet").filter(pl.col("county_code") == "合计").row(0, named=True)
    assert (total["checked"], total["frauds"], total["miss_share"]) == (2, 1, 0.5)
    book = openpyxl.load_workbook(next((m2 / "outcomes").glob("*.xlsx")))
    assert book.sheetnames == ["核查结果", "随机抽查"]


def test_month_three_the_false_alarm_returns_with_its_history(cycle: dict[str, Any]) -> None:
    m3 = cycle["m3"]
    fid = cycle["ghost"]["finding_id"]
    f3 = findings(m3)
    assert dict(zip(f3["finding_id"], f3["status"]))[fid] == "新发现"
    history = pl.read_parquet(m3 / "history" / "findings.parquet").filter(pl.col("finding_id") == fid).row(0, named=True)
    assert history["facts_changed"] and history["outcome"] == "不属实" and history["first_seen"] == dt.date(2024, 4, 1)
    report = (m3 / "report.html").read_text(encoding="utf-8")
    returned = report[report.index('id="cycle-returned"'):]
    returned = returned[:returned.index("</table>")]
    assert fid in returned and "不属实（2024-05-12 县人社局）" in returned
    form = openpyxl.load_workbook(m3 / "outcomes" / f"{cycle['ghost']['county_code']}.xlsx")["核查结果"]
    row = next(r for r in form.iter_rows(values_only=True) if r and r[0] == fid)
    assert any("事实已变化" in str(v) for v in row if v)


def test_month_three_overdue_replies_and_the_ban(cycle: dict[str, Any]) -> None:
    m3 = cycle["m3"]
    late = pl.read_parquet(m3 / "history" / "overdue.parquet")
    f1 = findings(cycle["m1"])
    unanswered = f1.filter((pl.col("county_code") == cycle["county_of"][by_choice(cycle, "verify")])
                           & ~pl.col("finding_id").is_in(list(cycle["chosen"]) + list(cycle["decided_by_exit"])))
    overdue_ids = set(late["finding_id"])
    assert set(unanswered["finding_id"]) & set(findings(m3)["finding_id"]) <= overdue_ids
    assert by_choice(cycle, "verify") in overdue_ids  # 待核实 is not an answer
    assert late.filter(pl.col("finding_id").is_in(list(overdue_ids)))["reply_due"].max() == dt.date(2024, 5, 30)
    units = pl.read_parquet(m3 / "history" / "units.parquet")
    delisted = units.filter(pl.col("unit_id") == cycle["confirm"]).row(0, named=True)
    assert (delisted["state"], delisted["exit_date"]) == ("已摘牌", dt.date(2024, 5, 20))
    assert units.filter(pl.col("unit_id") == cycle["decline"])["state"].to_list() == ["不予退出"]
    facts = json.loads((m3 / "history" / "history.json").read_text(encoding="utf-8"))
    assert facts["months"] == list(MONTHS) and facts["bans_given"] >= 1
    if delisted["banned"]:
        assert delisted["ban_until"] == dt.date(2024 + delisted["ban_years"], 5, 20)
        bans = pl.read_parquet(m3 / "normalised" / "bans.parquet")
        assert cycle["confirm"] in set(bans["unit_id"])


def test_diff_history_and_rerunning_a_month(cycle: dict[str, Any]) -> None:
    out = cycle["root"] / "diff.csv"
    result = audit("diff", str(cycle["m2"]), str(cycle["m3"]), "--out", str(out), ok=(0,))
    counts = pl.read_csv(out)
    total = counts.filter(pl.col("family") == "TOTAL").row(0, named=True)
    f2, f3 = findings(cycle["m2"]), findings(cycle["m3"])
    kept2 = set(f2.filter(pl.col("status") != "不属实")["finding_id"])
    kept3 = set(f3.filter(pl.col("status") != "不属实")["finding_id"])
    assert (total["new"], total["persisting"], total["resolved"]) == (len(kept3 - kept2), len(kept3 & kept2), len(kept2 - kept3))
    assert total["new"] >= 1 and "新发现" not in result.stderr
    history = audit("history", "--workspace", str(cycle["ws"]), "--out", str(cycle["root"] / "history.xlsx"), ok=(0,))
    assert all(m in history.stdout for m in MONTHS) and "mostly_false" in history.stdout
    assert openpyxl.load_workbook(cycle["root"] / "history.xlsx").sheetnames[:2] == ["months", "rules"]
    with Workspace.open(cycle["ws"], create=False, read_only=True) as ws:
        before = ws.scalar("SELECT count(*) FROM findings WHERE month = DATE '2024-06-01'")
    run_dir = cycle["out"] / "again"
    audit("run", str(cycle["root"] / "world3"), "--month", MONTHS[2], "--out", str(run_dir), "--workspace",
          str(cycle["ws"]), "--no-render", "--quiet")
    with Workspace.open(cycle["ws"], create=False, read_only=True) as ws:
        assert [m.strftime("%Y-%m") for m in ws.months()] == list(MONTHS)
        assert ws.scalar("SELECT count(*) FROM findings WHERE month = DATE '2024-06-01'") == before
    assert findings(run_dir).sort("finding_id").equals(findings(cycle["m3"]).sort("finding_id"))
