"""Shared spreadsheet layout (xlsxwriter): a notice row, a frozen header row with filters, widths
that fit Chinese text, real dates and money formats. Every list the reports write uses it."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any

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


def _display_width(text: str) -> float:
    return sum(2.0 if ord(ch) > 0x2E80 else 1.0 for ch in text)


def write_table(book: Workbook, fmt: Formats, name: str, notice: str, columns: list[Column],
                rows: list[dict[str, Any]], total_of: tuple[str, ...] = ()) -> Worksheet:
    """A sheet: notice in row 1, header in row 2 (frozen, filtered), one row per record."""
    ws = book.add_worksheet(name)
    ws.merge_range(0, 0, 0, max(len(columns) - 1, 0), notice, fmt.notice)
    ws.set_row(0, 36)
    ws.set_row(HEADER_ROW, 30)
    widths = [_display_width(c.header) + 2 for c in columns]
    for j, col in enumerate(columns):
        ws.write_string(HEADER_ROW, j, col.header, fmt.header)
    for i, row in enumerate(rows, start=HEADER_ROW + 1):
        for j, col in enumerate(columns):
            value = row.get(col.key)
            widths[j] = max(widths[j], min(_display_width(_shown(value)) + 2, 60))
            _write(ws, fmt, i, j, col.kind, value)
    last = HEADER_ROW + len(rows)
    if total_of and rows:
        ws.write_string(last + 1, 0, "合计", fmt.total_label)
        for j, col in enumerate(columns):
            if col.key in total_of:
                ws.write_number(last + 1, j, round(sum(float(r.get(col.key) or 0) for r in rows), 2), fmt.total)
    for j, col in enumerate(columns):
        ws.set_column(j, j, col.width or max(8.0, min(widths[j], 60.0)),
                      fmt.wrap if col.kind == "wrap" else None)
    ws.freeze_panes(HEADER_ROW + 1, 0)
    ws.autofilter(HEADER_ROW, 0, max(last, HEADER_ROW), max(len(columns) - 1, 0))
    return ws


def _shown(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:,.2f}"
    return str(value)


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
