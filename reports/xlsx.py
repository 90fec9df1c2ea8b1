"""Shared spreadsheet layout (xlsxwriter): a notice row, a frozen header row with filters, widths
that fit Chinese text, real dates and money formats. Every list the reports write uses it."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any

import polars as pl
import xlsxwriter
from xlsxwriter.workbook import Workbook
from xlsxwriter.worksheet import Worksheet

HEADER_ROW = 1  # row 0 carries the sheet's notice; data start below the header
_BAD_SHEET_CHARS = re.compile(r"[\[\]:*?/\\]")


@dataclass(frozen=True)
class Column:
    key: str
    header: str
    kind: str = "text"  # text | date | money | int | wrap
    width: float | None = None


class Formats:
    def __init__(self, book: Workbook):
        self.header = book.add_format({"bold": True, "bg_color": "#E8ECF0", "border": 1, "text_wrap": True,
                                       "valign": "vcenter"})
        self.notice = book.add_format({"bold": True, "font_color": "#B4232A", "text_wrap": True, "valign": "top"})
        self.title = book.add_format({"bold": True, "font_size": 14, "align": "center", "valign": "vcenter"})
        self.date = book.add_format({"num_format": "yyyy-mm-dd", "valign": "top"})
        self.money = book.add_format({"num_format": "#,##0.00", "valign": "top"})
        self.int = book.add_format({"num_format": "0", "valign": "top"})
        self.text = book.add_format({"valign": "top"})
        self.wrap = book.add_format({"text_wrap": True, "valign": "top"})
        self.total = book.add_format({"bold": True, "num_format": "#,##0.00", "top": 1})
        self.total_label = book.add_format({"bold": True, "top": 1})


def workbook(path: str) -> tuple[Workbook, Formats]:
    book = xlsxwriter.Workbook(path, {"remove_timezone": True})
    return book, Formats(book)


def sheet_name(text: str, used: set[str]) -> str:
    """A valid, unique Excel sheet name (≤ 31 characters, no []:*?/\\)."""
    base = _BAD_SHEET_CHARS.sub("_", text)[:31] or "Sheet"
    name, n = base, 2
    while name.lower() in used:
        suffix = f"~{n}"
        name, n = base[: 31 - len(suffix)] + suffix, n + 1
    used.add(name.lower())
    return name


XLSX_MAX_ROWS = 1_048_576  # rows of one Excel worksheet
_WIDE = r"[\x{2E81}-\x{10FFFF}]"  # characters a sheet shows two columns wide (CJK and beyond)


def _display_width(text: str) -> float:
    return sum(2.0 if ord(ch) > 0x2E80 else 1.0 for ch in text)


def _shown(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:,.2f}"
    return str(value)


def _shown_width(values: pl.Series) -> float:
    """The widest ``_display_width(_shown(v))`` of a column: string lengths in polars, and for
    numbers and dates the widest of the smallest and the largest value (their text grows with
    their size), so no cell is measured in Python."""
    if values.dtype == pl.Object:
        return max((_display_width(_shown(v)) for v in values.to_list() if v is not None), default=0.0)
    values = values.drop_nulls()
    if values.len() == 0:
        return 0.0
    dtype = values.dtype
    if dtype == pl.String:
        return float((values.str.len_chars() + values.str.count_matches(_WIDE)).max())  # type: ignore[arg-type]
    if dtype.is_numeric() or dtype in (pl.Date, pl.Datetime):
        ends = [values.min(), values.max()]
        if dtype.is_float():
            ends = [float(v) for v in ends]  # type: ignore[arg-type]
        return max(_display_width(_shown(v)) for v in ends)
    return max(_display_width(_shown(v)) for v in values.unique().to_list())


def _column(rows: list[dict[str, Any]], key: str) -> pl.Series:
    """One column of row dicts as a Series — typed only when its values are of one kind (text,
    whole numbers, floats, dates), else as Python objects (measured one by one, as shown)."""
    values = [r.get(key) for r in rows]
    kinds = {type(v) for v in values if v is not None}
    dtype = {frozenset({str}): pl.String, frozenset({int}): pl.Int64, frozenset({float}): pl.Float64,
             frozenset({dt.date}): pl.Date}.get(frozenset(kinds))
    if not kinds:
        return pl.Series(key, values, dtype=pl.Null)
    if dtype is None:
        return pl.Series(key, values, dtype=pl.Object)
    return pl.Series(key, values, dtype=dtype)


def write_table(book: Workbook, fmt: Formats, name: str, notice: str, columns: list[Column],
                rows: list[dict[str, Any]] | pl.DataFrame, total_of: tuple[str, ...] = ()) -> list[Worksheet]:
    """A sheet: notice in row 1, header in row 2 (frozen, filtered), one row per record.

    ``rows``: dicts, or a DataFrame with a column per ``Column.key``. A list longer than one
    worksheet holds is split over continuation sheets (``name（续2）``…), each saying which part
    and which rows it carries; the total row under the last part adds up every part.
    """
    frame = rows if isinstance(rows, pl.DataFrame) else None
    n = len(rows)
    series = [frame[c.key] if frame is not None else _column(rows, c.key) for c in columns]  # type: ignore[arg-type]
    widths = [_display_width(c.header) + 2 for c in columns]
    for j, values in enumerate(series):
        widths[j] = max(widths[j], min(_shown_width(values) + 2, 60))
    per_sheet = XLSX_MAX_ROWS - (HEADER_ROW + 1) - 1  # the notice, the header, and room for the total
    parts = max(1, -(-n // per_sheet))
    used = {s.lower() for s in book.sheetnames}
    sheets = []
    for part in range(parts):
        lo, hi = part * per_sheet, min(n, (part + 1) * per_sheet)
        title, text = name, notice
        if parts > 1:
            title = name if part == 0 else sheet_name(f"{name}（续{part + 1}）", used)
            text = (f"{notice}（本清单共 {n:,} 行，超出单个工作表的行数上限，分 {parts} 个工作表：本表为第 {part + 1}/{parts} 部分，"
                    f"第 {lo + 1:,}–{hi:,} 行{'；合计见最后一部分' if part < parts - 1 else ''}）")
        ws = book.add_worksheet(title)
        used.add(title.lower())
        ws.merge_range(0, 0, 0, max(len(columns) - 1, 0), text, fmt.notice)
        ws.set_row(0, 36)
        ws.set_row(HEADER_ROW, 30)
        for j, col in enumerate(columns):
            ws.write_string(HEADER_ROW, j, col.header, fmt.header)
        for j, col in enumerate(columns):
            _write_column(ws, fmt, j, col.kind, series[j].slice(lo, hi - lo))
        last = HEADER_ROW + (hi - lo)
        if total_of and n and part == parts - 1:
            ws.write_string(last + 1, 0, "合计", fmt.total_label)
            for j, col in enumerate(columns):
                if col.key in total_of:
                    ws.write_number(last + 1, j, round(sum(float(v or 0) for v in series[j].to_list()), 2), fmt.total)
        for j, col in enumerate(columns):
            ws.set_column(j, j, col.width or max(8.0, min(widths[j], 60.0)),
                          fmt.wrap if col.kind == "wrap" else None)
        ws.freeze_panes(HEADER_ROW + 1, 0)
        ws.autofilter(HEADER_ROW, 0, max(last, HEADER_ROW), max(len(columns) - 1, 0))
        sheets.append(ws)
    return sheets


def _write_column(ws: Worksheet, fmt: Formats, j: int, kind: str, values: pl.Series) -> None:
    """Cells of column ``j`` from the first data row down, as :func:`_write` writes each."""
    first = HEADER_ROW + 1
    blank, text = ws.write_blank, ws.write_string
    if values.dtype == pl.String:
        style = fmt.wrap if kind == "wrap" else fmt.text
        for i, v in enumerate(values.to_list(), start=first):
            if v is None or v == "":
                blank(i, j, None, fmt.text)
            else:
                text(i, j, v, style)
        return
    if values.dtype == pl.Null:
        for i in range(first, first + values.len()):
            blank(i, j, None, fmt.text)
        return
    for i, v in enumerate(values.to_list(), start=first):
        _write(ws, fmt, i, j, kind, v)


def _write(ws: Worksheet, fmt: Formats, i: int, j: int, kind: str, value: Any) -> None:
    if value is None or value == "":
        ws.write_blank(i, j, None, fmt.text)
    elif kind == "date" and isinstance(value, (dt.date, dt.datetime)):
        ws.write_datetime(i, j, dt.datetime(value.year, value.month, value.day), fmt.date)
    elif kind == "money" and isinstance(value, (int, float)):
        ws.write_number(i, j, float(value), fmt.money)
    elif kind == "int" and isinstance(value, (int, float)):
        ws.write_number(i, j, value, fmt.int)
    else:
        ws.write_string(i, j, str(value), fmt.wrap if kind == "wrap" else fmt.text)
