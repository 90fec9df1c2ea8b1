"""exit_list.xlsx and exit_lists/<county>.xlsx: which units, under which condition, with the ban,
reasons, evidence and amount — opened with openpyxl as a county would open them.

The synthetic run (tests/test_reports.py) has: U1 (360102) with its own employee relabelled as a
trainee on claims C1 and C2 (2960 yuan at risk) → ③ with the ban; U2 (360102) with a rule of exit
condition ④ → ④ with the ban; U3 (360121) dormant → ①, no ban; U4 (360121) an investigative
signal and a trainee's second internship (a trainee-level fact) → not listed; U5 (410102, Henan)
dormant by the audit office's judgement → "建议清退（审计判断…）", no condition number, no ban.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import openpyxl
import pytest
from openpyxl.utils import get_column_letter

from reports import render_run
from tests.helpers import uscc
from tests.test_reports import DORMANT, GHOST, OTHER_ILLEGAL, SECOND, synthetic_run

HEADERS = ["县区", "区划代码", "单位名称", "统一社会信用代码", "建议退出情形", "涉及情形", "规定年限内不得再次申请",
           "禁止申请截止日期（暂计）", "当前状态", "问题及依据", "证据摘要", "问题数", "问题编号", "应追回金额（元，已拨付）",
           "应停止拨付金额（元，未拨付）", "审计状态", "县区核实结论", "摘牌日期（县区填写）"]


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = synthetic_run(tmp_path_factory.mktemp("exit") / "2024-06")
    render_run(path, pdf=False)
    return path


def rows(ws) -> dict[str, dict]:
    header = [c.value for c in ws[2]]
    out = {}
    for values in ws.iter_rows(min_row=3, values_only=True):
        record = dict(zip(header, values))
        if record.get("统一社会信用代码"):
            out[record["统一社会信用代码"]] = record
    return out


def test_sheets_summary_then_one_per_county(run_dir: Path) -> None:
    book = openpyxl.load_workbook(run_dir / "exit_list.xlsx")
    assert book.sheetnames == ["汇总", "360102 南昌市东湖区", "360121 南昌市南昌县", "410102 郑州市中原区"]
    for ws in book.worksheets:
        assert ws.freeze_panes == "A3", ws.title
        assert ws.auto_filter.ref and ws.auto_filter.ref.startswith("A2")
        assert "须由所在县区人社部门逐项核实确认" in ws["A1"].value  # a recommendation, not a verdict


def test_county_sheet_headers_and_widths(run_dir: Path) -> None:
    ws = openpyxl.load_workbook(run_dir / "exit_list.xlsx")["360102 南昌市东湖区"]
    assert [c.value for c in ws[2]] == HEADERS
    assert ws.column_dimensions["C"].width >= 16  # unit names fit
    assert ws.column_dimensions["J"].width >= 40


def test_each_county_is_sent_its_own_provinces_basis(run_dir: Path) -> None:
    """A Jiangxi county's sheet names Jiangxi's exit clause; a Henan county's names no Jiangxi clause."""
    book = openpyxl.load_workbook(run_dir / "exit_list.xlsx")
    assert "赣人社发〔2023〕9号 四(一)2(5)" in book["360102 南昌市东湖区"]["A1"].value
    henan = book["410102 郑州市中原区"]
    assert "赣人社发" not in henan["A1"].value and "审计判断" in henan["A1"].value
    record = rows(henan)[uscc("U5")]
    assert "赣人社发" not in record["问题及依据"] and "豫人社函〔2023〕138号 二(五)" in record["问题及依据"]


EXPECTED = [
    # unit, headline condition, ban, in which county sheet
    ("U1", "③有骗取、套取就业见习补贴资金等违纪违法行为", "是（5年）", "360102 南昌市东湖区"),
    ("U2", "④有其他经营违法行为", "是（5年）", "360102 南昌市东湖区"),
    ("U3", "①一年内提供的见习岗位数量和接收的见习人员未达当地最低标准", "否", "360121 南昌市南昌县"),
    ("U5", "建议清退（审计判断，本省通知未规定退出情形）", "否", "410102 郑州市中原区"),
]


@pytest.mark.parametrize("label, condition, ban, sheet", EXPECTED, ids=[e[0] for e in EXPECTED])
def test_units_and_conditions(run_dir: Path, label: str, condition: str, ban: str, sheet: str) -> None:
    record = rows(openpyxl.load_workbook(run_dir / "exit_list.xlsx")[sheet])[uscc(label)]
    assert record["建议退出情形"] == condition
    assert record["规定年限内不得再次申请"] == ban
    if ban.startswith("是"):
        # Jiangxi: 5 years, counted provisionally from the end of the audit month
        assert record["禁止申请截止日期（暂计）"] == dt.datetime(2029, 6, 30)
    else:
        assert record["禁止申请截止日期（暂计）"] is None


def test_known_row_in_full(run_dir: Path) -> None:
    record = rows(openpyxl.load_workbook(run_dir / "exit_list.xlsx")["360102 南昌市东湖区"])[uscc("U1")]
    assert record["单位名称"] == "南昌甲科技有限公司" and record["区划代码"] == "360102" and record["县区"] == "南昌市东湖区"
    assert record["应追回金额（元，已拨付）"] == 2960.0 and record["应停止拨付金额（元，未拨付）"] == 0
    assert GHOST.title in record["问题及依据"] and GHOST.citations[0] in record["问题及依据"]
    assert record["问题数"] == 1 and len(record["问题编号"]) == 16  # the finding behind the proposal, by id
    assert "2024-03" in record["证据摘要"] and "6222" in record["证据摘要"] and "6222020200112341234" not in record["证据摘要"]
    assert record["当前状态"] == "在册"


def test_signal_only_and_trainee_level_units_are_not_listed(run_dir: Path) -> None:
    book = openpyxl.load_workbook(run_dir / "exit_list.xlsx")
    listed = {k for ws in book.worksheets[1:] for k in rows(ws)}
    assert uscc("U4") not in listed  # a signal, and a trainee's earlier internship the unit could not know
    assert listed == {uscc("U1"), uscc("U2"), uscc("U3"), uscc("U5")}
    assert SECOND.exit_condition is None


def test_summary_counts_per_county(run_dir: Path) -> None:
    ws = openpyxl.load_workbook(run_dir / "exit_list.xlsx")["汇总"]
    header = [c.value for c in ws[2]]
    data = {r[1]: dict(zip(header, r)) for r in ws.iter_rows(min_row=3, values_only=True) if r[1]}
    assert data["360102"]["建议退出单位数"] == 2 and data["360102"]["情形③"] == 1 and data["360102"]["情形④"] == 1
    assert data["360121"]["情形①"] == 1 and data["360121"]["不得再次申请单位数"] == 0
    assert data["360102"]["应追回金额（元，已拨付）"] == 2960.0
    assert data["410102"]["审计判断（本省未规定退出情形）"] == 1 and data["410102"]["不得再次申请单位数"] == 0


def test_one_file_per_county_to_send(run_dir: Path) -> None:
    """A county's file is named with its code and name and holds its own rows alone: no summary
    of the other counties, no other county's sheet."""
    files = sorted(p.name for p in (run_dir / "exit_lists").glob("*.xlsx"))
    assert files == ["360102_南昌市东湖区.xlsx", "360121_南昌市南昌县.xlsx", "410102_郑州市中原区.xlsx"]
    book = openpyxl.load_workbook(run_dir / "exit_lists" / "360121_南昌市南昌县.xlsx")
    assert book.sheetnames == ["360121 南昌市南昌县"]
    listed = rows(book["360121 南昌市南昌县"])
    assert set(listed) == {uscc("U3")}
    assert {r["区划代码"] for r in listed.values()} == {"360121"}
    assert DORMANT.title in listed[uscc("U3")]["问题及依据"]
    assert OTHER_ILLEGAL.exit_condition == 4


def test_a_county_file_prints_on_a4_landscape_one_page_wide(run_dir: Path) -> None:
    """Landscape, fit to the page's width, notice and header repeated on every page, the table as
    print area; counts are whole numbers (the total row's too)."""
    for path in sorted((run_dir / "exit_lists").glob("*.xlsx")):
        book = openpyxl.load_workbook(path)
        for ws in book.worksheets:
            assert ws.page_setup.orientation == "landscape", path.name
            assert ws.page_setup.paperSize in (9, "9")
            # fitToWidth left out means 1 (its default in the OOXML schema), and 0 pages high means "as many as needed"
            assert ws.sheet_properties.pageSetUpPr.fitToPage and ws.page_setup.fitToWidth in (None, 1, "1")
            assert ws.page_setup.fitToHeight in (0, "0")
            assert ws.print_title_rows == "$1:$2"
            last = ws.max_row
            assert str(ws.print_area).endswith(f"!$A$1:${get_column_letter(len(HEADERS))}${last}"), ws.print_area
            counts = [ws.cell(r, 12) for r in range(3, last + 1)]
            assert all(isinstance(c.value, int) for c in counts if c.value is not None)
            assert all(c.number_format in ("0", "#,##0") for c in counts if c.value is not None)
