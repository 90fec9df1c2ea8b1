"""The shared sheet writer (reports/xlsx.py): a block of columns written as XML by BulkWorksheet
gives the workbook that xlsxwriter's cell-by-cell writes give — values, number formats, wrapping,
widths, blanks, long texts cut to Excel's limit — in plain Python (small blocks) and in polars
(large ones); a list longer than a worksheet is split over sheets that say so, losing no row."""

from __future__ import annotations

import datetime as dt
import random
from pathlib import Path

import openpyxl
import polars as pl
import pytest

from reports import xlsx
from reports.xlsx import Column, sheet_name, workbook, write_table

COLUMNS = [
    Column("county", "县区"), Column("code", "区划代码"), Column("note", "问题", "wrap", 40),
    Column("month", "补贴所属月份", "date"), Column("paid", "申领金额（元）", "money"), Column("n", "笔数", "int"),
    Column("empty", "县区核实结论"), Column("old", "很早的日期", "date"),
]


def _rows(n: int) -> list[dict]:
    rng = random.Random(5)
    texts = ["南昌市东湖区", "  leading space", "trailing space ", "a & b < c > d", "控制\x01字符", "_x0041_", "—…①×",
             "见习单位超过一年未提供见习岗位（应清退）", "😀 wide", "", None]
    rows = []
    for i in range(n):
        rows.append({
            "county": rng.choice(texts), "code": f"36{i % 97:04d}", "note": rng.choice(texts) if i % 7 else "长" * 40000,
            "month": dt.date(2024, 1 + i % 12, 1) if i % 5 else None,
            "paid": rng.choice([1480.0, 1488.5, 0.0, -20.25, 1234567.89, 0.1 + 0.2, None]),
            "n": rng.choice([0, 1, 12, None]), "empty": None,
            "old": dt.date(1900, 1, 1 + i % 28) if i % 3 == 0 else dt.date(1900, 3, 1),
        })
    return rows


def _frame(rows: list[dict]) -> pl.DataFrame:
    return pl.DataFrame(rows, schema={"county": pl.String, "code": pl.String, "note": pl.String, "month": pl.Date,
                                      "paid": pl.Float64, "n": pl.Int64, "empty": pl.Null, "old": pl.Date})


def _write(path: Path, rows, total_of=("paid", "n")) -> None:
    book, fmt = workbook(str(path))
    write_table(book, fmt, sheet_name("明细", set()), "通知：须核实", COLUMNS, rows, total_of=total_of)
    book.close()


def _read(path: Path) -> dict:
    book = openpyxl.load_workbook(path)
    out = {}
    for ws in book.worksheets:
        cells = [[(c.value, c.number_format, bool(c.alignment.wrap_text), bool(c.font.b)) for c in row]
                 for row in ws.iter_rows()]
        widths = {k: round(v.width, 2) for k, v in ws.column_dimensions.items()}
        out[ws.title] = (cells, widths, ws.freeze_panes, ws.auto_filter.ref, sorted(map(str, ws.merged_cells.ranges)))
    return out


@pytest.mark.parametrize("n, small", [(40, True), (40, False), (300, False)])
def test_block_writes_what_cell_by_cell_writes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, n: int, small: bool) -> None:
    rows = _rows(n)
    with monkeypatch.context() as m:
        m.setattr(xlsx, "_block_column", lambda *a: None)  # every column cell by cell, through xlsxwriter
        _write(tmp_path / "cells.xlsx", rows)
    if not small:
        monkeypatch.setattr(xlsx.BulkWorksheet, "SMALL_ROWS", 0)  # the polars path
        monkeypatch.setattr(xlsx.BulkWorksheet, "CHUNK_ROWS", 64)  # in several chunks
        monkeypatch.setattr(xlsx.BulkSharedStrings, "SMALL", 0)  # the shared strings in polars too
        monkeypatch.setattr(xlsx.BulkSharedStrings, "CHUNK", 5)
    _write(tmp_path / "dicts.xlsx", rows)
    _write(tmp_path / "frame.xlsx", _frame(rows))
    expected = _read(tmp_path / "cells.xlsx")
    assert _read(tmp_path / "dicts.xlsx") == expected
    assert _read(tmp_path / "frame.xlsx") == expected
    cells = expected["明细"][0]
    assert len(cells[2][2][0]) == 32767  # the first row's 40,000-character note, cut as write_string cuts it
    assert any(c[0] is None and c[1] == "General" for c in cells[3])  # blank cells keep their format


def test_column_widths_from_bounds_are_exact(monkeypatch: pytest.MonkeyPatch) -> None:
    rng = random.Random(3)
    alphabet = "abc123 —…①×（）中文见习单位😀é"
    monkeypatch.setattr(xlsx.BulkWorksheet, "SMALL_ROWS", 0)
    for trial in range(200):
        values = ["".join(rng.choice(alphabet) for _ in range(rng.randint(0, 70 if trial % 3 == 0 else 20)))
                  for _ in range(rng.randint(1, 40))] + [None]
        exact = max(xlsx._display_width(xlsx._shown(v)) for v in values)
        assert min(xlsx._shown_width(pl.Series(values, dtype=pl.String)) + 2, 60) == min(exact + 2, 60)
    money = pl.Series([-1234.5, 3.0, 999999.995, None])
    assert xlsx._shown_width(money) == max(xlsx._display_width(xlsx._shown(v)) for v in money.to_list() if v is not None)


def test_a_list_longer_than_a_sheet_is_split_and_says_so(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(xlsx, "XLSX_MAX_ROWS", 10)  # 7 data rows a sheet: notice, header and total take 3
    rows = _rows(25)
    _write(tmp_path / "split.xlsx", _frame(rows))
    book = openpyxl.load_workbook(tmp_path / "split.xlsx")
    assert book.sheetnames == ["明细", "明细（续2）", "明细（续3）", "明细（续4）"]
    data, totals = [], []
    for k, ws in enumerate(book.worksheets, start=1):
        notice = ws["A1"].value
        assert "共 25 行" in notice and f"第 {k}/4 部分" in notice and "通知：须核实" in notice
        assert ws.max_row <= 10 and ws.freeze_panes == "A3"
        body = [r for r in ws.iter_rows(min_row=3, values_only=True)]
        totals += [r for r in body if r[0] == "合计"]
        data += [r for r in body if r[0] != "合计"]
    assert [r[1] for r in data] == [r["code"] for r in rows]  # every row, in order, once
    assert len(totals) == 1 and book.worksheets[-1].cell(book.worksheets[-1].max_row, 1).value == "合计"
    paid = round(sum(r["paid"] or 0 for r in rows), 2)
    assert totals[0][4] == paid
