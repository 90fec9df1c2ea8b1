"""``audit outcomes import``: what the counties send back, read by headers, recorded once.

The workspace here is written directly (one run of May 2024: three findings, a sampled claim, a
unit proposed for exit), so each case states its facts; the files are written as counties would
send them — GBK CSV with Chinese headers, canonical headers in another order, an XLSX with a
title row and two sheets, a returned exit list.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest
import xlsxwriter

from audit.app.outcomes import import_file
from audit.findings import facts_key
from audit.workspace import Workspace
from audit.workspace.units import current_states
from tests.helpers import uscc

ROOT = Path(__file__).resolve().parent.parent
MAY = dt.date(2024, 5, 1)
RULE = "GHOST_TRAINEE.insured_elsewhere"
U1, U2 = uscc("U1"), uscc("U2")
EVIDENCE = json.dumps({"other_employers": ["E1"], "claims": [{"claim_id": "C1"}]})
RULES_JSON = json.dumps({"rules": [{"id": RULE, "title": "见习期间由其他单位缴纳社会保险", "severity": "high", "citation": "",
                                    "family": "GHOST_TRAINEE", "facts": ["other_employers"],
                                    "identity": ["person_id", "unit_id", "claim_id", "county_code", "period_start"]}]})


@pytest.fixture()
def workspace(tmp_path: Path) -> Path:
    directory = tmp_path / "ws"
    with Workspace.open(directory) as ws, ws.transaction():
        ws.insert("runs", pl.DataFrame({"month": [MAY], "findings": [3], "rules_json": [RULES_JSON]}))
        ws.insert("findings", pl.DataFrame({
            "month": [MAY] * 3, "finding_id": ["F1", "F2", "F3"], "rule_id": [RULE] * 3, "family": ["GHOST_TRAINEE"] * 3,
            "unit_id": [U1, U1, U1], "county_code": ["360102"] * 3, "amount_at_risk": [1000.0, 2000.0, 500.0],
            "status": ["新发现"] * 3, "sent_month": [MAY] * 3}))
        ws.insert("evidence", pl.DataFrame({"finding_id": ["F1", "F2", "F3"], "month": [MAY] * 3, "rule_id": [RULE] * 3,
                                            "evidence": [EVIDENCE] * 3}))
        ws.insert("sample", pl.DataFrame({"month": [MAY], "county_code": ["360102"], "claim_id": ["S1"], "unit_id": [U1]}))
        ws.insert("proposals", pl.DataFrame({
            "month": [MAY], "unit_id": [U1], "unit_name": ["南昌某公司"], "county_code": ["360102"], "headline": [3],
            "conditions": ["③"], "banned": [True], "ban_years": [5], "finding_ids": [["F1", "F2"]],
            "legal_rep_id": ["360102198001011234"]}))
        ws.insert("unit_events", pl.DataFrame({"seq": [1], "unit_id": [U1], "county_code": ["360102"], "state": ["建议退出"],
                                               "month": [MAY], "event_date": [dt.date(2024, 5, 31)], "source": ["run"]}))
    return directory


def _tables(directory: Path) -> dict[str, list]:
    with Workspace.open(directory, create=False, read_only=True) as ws:
        return {t: sorted(map(str, ws.con.execute(f"SELECT * FROM {t}").fetchall()))
                for t in ("outcomes", "sample_outcomes", "unit_events", "bans")}


def _outcomes(directory: Path) -> pl.DataFrame:
    with Workspace.open(directory, create=False, read_only=True) as ws:
        return ws.table("outcomes").sort("seq")


CHINESE = ("问题编号,核实结论,追回金额,核实日期,核实单位,备注\n"
           "F1,属实,1000元,2024年6月10日,东湖区人社局,已追回\n"
           "F2,不属实,,2024/6/12,东湖区人社局,在职证明有误\n"
           "F3,,,,,\n"                      # not answered yet
           "F9,属实,100,2024-06-10,东湖区人社局,\n"   # no such finding
           "F3,确认,,2024-06-10,东湖区人社局,\n"       # not the vocabulary
           "F3,属实,50,2024-13-40,东湖区人社局,\n"     # a date that is none
           "F3,属实,-20,2024-06-10,东湖区人社局,\n")   # a negative amount


def test_a_gbk_csv_in_the_contracts_format(workspace: Path, tmp_path: Path) -> None:
    path = tmp_path / "outcomes.csv"
    path.write_bytes(CHINESE.encode("gbk"))
    report = import_file(path, workspace)
    assert (report.rows_read, report.recorded, report.unanswered) == (7, 2, 1)
    quarantine = report.quarantine.sort("line")
    assert quarantine.select("file", "line", "column").rows() == [
        ("outcomes.csv", 5, "finding_id"), ("outcomes.csv", 6, "outcome"), ("outcomes.csv", 7, "decided_date"),
        ("outcomes.csv", 8, "amount_recovered")]
    assert all(quarantine["reason"].str.len_chars() > 0)
    assert report.quarantine_file is not None and report.quarantine_file.exists()
    rows = _outcomes(workspace)
    assert rows.select("finding_id", "outcome", "amount_recovered", "decided_date").rows() == [
        ("F1", "属实", 1000.0, dt.date(2024, 6, 10)), ("F2", "不属实", None, dt.date(2024, 6, 12))]
    # the facts the county decided on: the finding's, by its rule's facts at the run
    assert rows["facts_key"].to_list() == [facts_key(EVIDENCE, ("other_employers",))] * 2
    assert rows["source_line"].to_list() == [2, 3]


def test_importing_the_same_file_again_changes_nothing(workspace: Path, tmp_path: Path) -> None:
    path = tmp_path / "outcomes.csv"
    path.write_bytes(CHINESE.encode("gbk"))
    import_file(path, workspace)
    before = _tables(workspace)
    again = import_file(path, workspace)
    assert again.recorded == 0 and again.unchanged == 2
    assert _tables(workspace) == before


def test_canonical_headers_in_another_order_and_nothing_recorded_is_lost(workspace: Path, tmp_path: Path) -> None:
    first = tmp_path / "first.csv"
    first.write_text("问题编号,核实结论,追回金额\nF1,属实,300\n", encoding="utf-8")
    import_file(first, workspace)
    before = _outcomes(workspace)
    later = tmp_path / "later.csv"
    later.write_text("note,extra,decided_by,outcome,finding_id,amount_recovered\n"
                     "second payment,x,人社局,属实,F1,200\n"
                     ",x,人社局,属实,NOPE,1\n", encoding="utf-8")
    report = import_file(later, workspace)
    assert report.recorded == 1 and report.quarantine.height == 1
    after = _outcomes(workspace)
    assert after.head(before.height).drop("imported_at").equals(before.drop("imported_at"))  # kept as it was
    assert after.filter(pl.col("finding_id") == "F1")["amount_recovered"].sum() == 500.0


def _xlsx(path: Path, sheets: list[tuple[str, str | None, list[str], list[list]]]) -> None:
    with xlsxwriter.Workbook(str(path)) as book:
        for name, title, headers, rows in sheets:
            ws = book.add_worksheet(name)
            r = 0
            if title:
                ws.write(0, 0, title)
                r = 1
            ws.write_row(r, 0, headers)
            for i, row in enumerate(rows, start=r + 1):
                ws.write_row(i, 0, row)


def test_an_outcomes_form_with_its_sample_sheet(workspace: Path, tmp_path: Path) -> None:
    """The form's findings sheet and its sample sheet, a title row above each header, columns moved."""
    path = tmp_path / "360102.xlsx"
    _xlsx(path, [
        ("核查结果", "2024年5月 核查结果表", ["问题编号", "审计状态", "涉及金额（元）", "已记录追回（元）", "备注", "核实结论", "追回金额"],
         [["F1", "新发现", 1000, 0, "", "属实", 1000], ["F2", "新发现", 2000, 0, "", "", ""],
          ["F3", "新发现", 500, 0, "核实中", "待核实", ""]]),
        ("随机抽查", "随机抽查", ["申领编号", "单位名称", "核实结论", "核实单位"],
         [["S1", "南昌某公司", "属实", "东湖区人社局"], ["S7", "别的公司", "不属实", ""]]),
    ])
    report = import_file(path, workspace)
    assert report.recorded == 3 and report.unanswered == 1
    assert report.quarantine.select("file", "line", "column").rows() == [("360102.xlsx#随机抽查", 4, "claim_id")]
    with Workspace.open(workspace, create=False, read_only=True) as ws:
        assert ws.table("sample_outcomes").select("claim_id", "outcome").rows() == [("S1", "属实")]
    assert _outcomes(workspace).select("finding_id", "outcome").rows() == [("F1", "属实"), ("F3", "待核实")]


def test_a_returned_exit_list_moves_the_unit_on_and_records_its_findings(workspace: Path, tmp_path: Path) -> None:
    path = tmp_path / "exit_360102.xlsx"
    summary = ("汇总", "退出建议名单", ["县区", "区划代码", "建议退出单位数"], [["东湖区", "360102", 1]])
    county = ("360102 东湖区", "2024年5月 东湖区 退出（摘牌）建议名单",
              ["摘牌日期（县区填写）", "单位名称", "县区核实结论", "统一社会信用代码", "应追缴金额（元）"],
              [["2024-07-20", "南昌某公司", "属实", U1, 3000], ["", "另一家", "不予退出", U2, 0], ["", "合计", "", "", 3000]])
    _xlsx(path, [summary, county])
    report = import_file(path, workspace)
    assert report.quarantine.select("column").to_series().to_list() == ["unit_id"]  # U2 was never proposed
    assert report.unanswered == 1  # the total row
    assert _outcomes(workspace).select("finding_id", "outcome", "source").rows() == [
        ("F1", "属实", "exit_list"), ("F2", "属实", "exit_list")]
    with Workspace.open(workspace, create=False, read_only=True) as ws:
        state = current_states(ws.table("unit_events")).to_dicts()[0]
        assert (state["state"], state["exit_date"]) == ("已摘牌", dt.date(2024, 7, 20))
        assert ws.table("unit_events").sort("seq")["state"].to_list() == ["建议退出", "县区确认", "已摘牌"]
        ban = ws.table("bans").to_dicts()
        assert [(b["unit_id"], b["exit_date"], b["exit_reason"], b["legal_rep_id"]) for b in ban] == [
            (U1, dt.date(2024, 7, 20), 3, "360102198001011234")]
    before = _tables(workspace)
    assert import_file(path, workspace).unit_steps == 0
    assert _tables(workspace) == before


def test_a_declined_exit_marks_the_findings_false_alarms(workspace: Path, tmp_path: Path) -> None:
    path = tmp_path / "exit.csv"
    path.write_text(f"统一社会信用代码,县区核实结论,核实单位\n{U1},不予退出,东湖区人社局\n", encoding="utf-8")
    import_file(path, workspace)
    assert _outcomes(workspace)["outcome"].to_list() == ["不属实", "不属实"]
    with Workspace.open(workspace, create=False, read_only=True) as ws:
        assert current_states(ws.table("unit_events"))["state"].to_list() == ["不予退出"]


def test_a_file_that_holds_no_outcomes_is_refused(workspace: Path, tmp_path: Path) -> None:
    path = tmp_path / "claims.csv"
    path.write_text("申领编号,金额\nC1,100\n", encoding="utf-8")
    result = subprocess.run([sys.executable, "-m", "audit", "outcomes", "import", str(path), "--workspace", str(workspace)],
                            capture_output=True, text=True, cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert result.returncode == 2 and "问题编号" in result.stderr


def test_the_command_exits_1_when_rows_were_quarantined(workspace: Path, tmp_path: Path) -> None:
    path = tmp_path / "outcomes.csv"
    path.write_bytes(CHINESE.encode("gbk"))
    result = subprocess.run([sys.executable, "-m", "audit", "outcomes", "import", str(path), "--workspace", str(workspace)],
                            capture_output=True, text=True, cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert result.returncode == 1, result.stderr
    assert "outcomes.csv 第5行 finding_id" in result.stdout
