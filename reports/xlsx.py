"""Shared spreadsheet layout (xlsxwriter): a notice row, a frozen header row with filters, widths
that fit Chinese text, real dates and money formats. Every list the reports write uses it."""

from __future__ import annotations

import datetime as dt
import io
import re
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import polars as pl
from xlsxwriter.packager import Packager
from xlsxwriter.sharedstrings import SharedStrings
from xlsxwriter.utility import _utf16_len, _utf16_truncate, xl_col_to_name
from xlsxwriter.workbook import Workbook
from xlsxwriter.worksheet import Worksheet

from audit.masking import mask, mask_code, mask_unit
from audit.outpaths import UNKNOWN_STEM, county_file_stem, safe_stem

HEADER_ROW = 1  # row 0 carries the sheet's notice; data start below the header
#: columns whose values are codes a county looks up as they are: a claim, agreement or finding
#: number is masked only where shaped like a person ID (:func:`audit.masking.mask_code`: a
#: mislabelled column), a unit's code where it is not shaped like one
#: (:func:`audit.masking.mask_unit`); every other text column — county codes too, which are six
#: digits — passes the masking net (:func:`audit.masking.mask`)
CODE_KEYS: dict[str, Callable[[Any], str]] = {
    "claim_id": mask_code, "agreement_id": mask_code, "finding_id": mask_code, "finding_ids": mask_code,
    "case_id": mask_code, "unit_id": mask_unit,
}
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
        self.total_int = book.add_format({"bold": True, "num_format": "#,##0", "top": 1})
        self.total_label = book.add_format({"bold": True, "top": 1})


class BulkWorksheet(Worksheet):
    """A worksheet whose data rows — one block of whole columns — become sheet XML in polars.

    xlsxwriter stores every cell as a Python object and writes it back out one call at a time
    (some 4 µs a cell: most of a minute for a national recovery list). Here each column of the
    block is given at once (:meth:`write_block`): its strings enter the workbook's shared-string
    table once per distinct value, numbers and dates are formatted once per distinct value exactly
    as ``write_number``/``write_datetime`` would, and at close the rows' XML is assembled by polars
    in chunks. The cells are the ones :func:`_write` would make — same values, styles, shared
    strings, row spans — and the rows above and below the block (notice, header, total) are
    ordinary xlsxwriter cells.
    """

    CHUNK_ROWS = 50_000
    SMALL_ROWS = 5_000

    def __init__(self) -> None:
        super().__init__()
        self._block: tuple[int, int, list[tuple[str, pl.Series, Any, Any]]] | None = None

    def write_block(self, first_row: int, columns: list[tuple[str, Any, Any, pl.Series]]) -> None:
        """Rows ``first_row``… of columns 0…: ``(kind, cell format, blank format, values)`` each.

        ``kind``: ``string`` (String values; null or "" is a blank cell), ``number`` (numeric
        values as ``write_number`` takes them), ``date`` (Date values, written as Excel dates) or
        ``blank``. Values must be finite (``write_number`` refuses NaN and infinity too). A block
        of up to ``SMALL_ROWS`` rows is prepared in plain Python (a polars call per column costs
        more than its cells)."""
        height = columns[0][3].len() if columns else 0
        if height == 0:
            return
        small = height <= self.SMALL_ROWS
        prepare = self._prepare_small if small else self._prepare_large
        prepared = [(kind, prepare(kind, values), style, blank) for kind, style, blank, values in columns]
        last_row = first_row + height - 1
        self._check_dimensions(first_row, 0)
        self._check_dimensions(last_row, len(columns) - 1)
        self._block = (first_row, last_row, prepared)

    def _number_text(self, kind: str, value: Any) -> str:
        """A number or date as write_number / write_datetime put it in the sheet."""
        if kind == "date":
            value = self._convert_date_time(dt.datetime(value.year, value.month, value.day))
        return f"{value:.16G}"

    def _text(self, value: str) -> str:
        """A string as write_string keeps it: cut to Excel's limit of UTF-16 units."""
        if len(value) > self.xls_strmax // 2:
            if _utf16_len(value) > self.xls_strmax:
                return _utf16_truncate(value, self.xls_strmax)
        return value

    def _prepare_small(self, kind: str, values: pl.Series) -> list[str | None]:
        """Per cell: the shared-string index or the number's text, None for a blank cell."""
        if kind == "string":
            sst = self.str_table
            return [None if v is None or v == "" else str(sst._get_shared_string_index(self._text(v)))
                    for v in values.to_list()]
        if kind in ("number", "date"):
            shown: dict[Any, str] = {}
            out: list[str | None] = []
            for v in values.to_list():
                if v is None:
                    out.append(None)
                else:
                    if v not in shown:
                        shown[v] = self._number_text(kind, v)
                    out.append(shown[v])
            return out
        return [None] * values.len()

    def _prepare_large(self, kind: str, values: pl.Series) -> pl.Series:
        """:meth:`_prepare_small` in polars: Python only once per distinct value."""
        if kind == "string":
            text = values.fill_null("")
            if (text.str.len_bytes() > self.xls_strmax).any():
                text = pl.Series(values.name, [self._text(v) for v in text.to_list()], dtype=pl.String)
            present = text.filter(text != "")
            sst = self.str_table
            distinct = present.unique(maintain_order=True).to_list()
            index = [sst._get_shared_string_index(v) for v in distinct]
            sst.count += present.len() - len(distinct)  # the other cells referring to them
            lookup = pl.DataFrame({"v": distinct, "i": [str(i) for i in index]}, schema={"v": pl.String, "i": pl.String})
            return text.to_frame("v").join(lookup, on="v", how="left", maintain_order="left")["i"]
        if kind in ("number", "date"):
            distinct = values.drop_nulls().unique().to_list()
            if distinct:
                return values.replace_strict(distinct, [self._number_text(kind, v) for v in distinct], default=None,
                                             return_dtype=pl.String)
        return pl.Series(values.name, [None] * values.len(), dtype=pl.String)

    def _calculate_spans(self) -> None:
        if self._block is None:
            return super()._calculate_spans()
        # the block's rows hold a cell in every column; the rest as xlsxwriter counts them
        first, last, columns = self._block
        spans: dict[int, tuple[int, int]] = {}
        for row_num in [r for r in range(self.dim_rowmin, self.dim_rowmax + 1) if r < first or r > last]:
            cols = [c for c in self.table.get(row_num, {})] + [c for c in self.comments.get(row_num, {})]
            if cols:
                lo, hi = spans.get(row_num // 16, (min(cols), max(cols)))
                spans[row_num // 16] = (min(lo, *cols), max(hi, *cols))
        for index in range(first // 16, last // 16 + 1):
            lo, hi = spans.get(index, (0, len(columns) - 1))
            spans[index] = (min(lo, 0), max(hi, len(columns) - 1))
        self.row_spans = {k: f"{lo + 1}:{hi + 1}" for k, (lo, hi) in spans.items()}

    def _write_rows(self) -> None:
        if self._block is None:
            return super()._write_rows()
        first, last, _ = self._block
        outer_min, outer_max = self.dim_rowmin, self.dim_rowmax
        self._calculate_spans()
        spans = self.row_spans
        calculate, self._calculate_spans = self._calculate_spans, lambda: None  # type: ignore[method-assign]
        try:
            if outer_min < first:  # the rows above the block (notice, header)
                self.dim_rowmax = first - 1
                super()._write_rows()
            self._write_block_rows(spans)
            if last < outer_max:  # the rows below it (the total)
                self.dim_rowmin, self.dim_rowmax = last + 1, outer_max
                super()._write_rows()
        finally:
            self.dim_rowmin, self.dim_rowmax = outer_min, outer_max
            self._calculate_spans = calculate  # type: ignore[method-assign]

    def _write_block_rows(self, spans: dict[int, str]) -> None:
        first, last, columns = self._block  # type: ignore[misc]
        assert self.excel_version != 2010 and self.default_row_height == self.original_row_height
        assert not any(first <= r <= last for r in self.row_info), "rows of a block take no row formats"
        if isinstance(columns[0][1], list):
            return self._write_small_rows(spans)
        for lo in range(first, last + 1, self.CHUNK_ROWS):
            hi = min(lo + self.CHUNK_ROWS, last + 1)
            r = pl.int_range(lo + 1, hi + 1, eager=True).cast(pl.String)
            parts: list[pl.Expr | pl.Series] = [
                pl.lit('<row r="'), pl.col("r"), pl.lit('" spans="'),
                pl.col("r").cast(pl.Int64).sub(1).floordiv(16).replace_strict(
                    {k: v for k, v in spans.items()}, default="", return_dtype=pl.String), pl.lit('">')]
            frame = {"r": r}
            for j, (kind, cell, style, blank) in enumerate(columns):
                name = f"c{j}"
                frame[name] = cell.slice(lo - first, hi - lo)
                ref = pl.concat_str([pl.lit(f'<c r="{xl_col_to_name(j)}'), pl.col("r")])
                empty = pl.lit(f'" s="{blank._get_xf_index()}"/>')
                if kind == "string":
                    full = pl.concat_str([pl.lit(f'" s="{style._get_xf_index()}" t="s"><v>'), pl.col(name), pl.lit("</v></c>")])
                elif kind in ("number", "date"):
                    full = pl.concat_str([pl.lit(f'" s="{style._get_xf_index()}"><v>'), pl.col(name), pl.lit("</v></c>")])
                else:
                    full = empty
                parts += [ref, pl.when(pl.col(name).is_null()).then(empty).otherwise(full)]
            parts.append(pl.lit("</row>"))
            xml = pl.DataFrame(frame).select(pl.concat_str(parts).str.join("")).item()
            self.fh.write(xml)

    def _write_small_rows(self, spans: dict[int, str]) -> None:
        first, last, columns = self._block  # type: ignore[misc]
        shapes = []
        for j, (kind, cells, style, blank) in enumerate(columns):
            empty = f'" s="{blank._get_xf_index()}"/>'
            if kind == "string":
                head, tail = f'" s="{style._get_xf_index()}" t="s"><v>', "</v></c>"
            else:
                head, tail = f'" s="{style._get_xf_index()}"><v>', "</v></c>"
            shapes.append((f'<c r="{xl_col_to_name(j)}', cells, empty, head, tail))
        out = []
        for i, row in enumerate(range(first, last + 1)):
            r = str(row + 1)
            out.append(f'<row r="{r}" spans="{spans.get(row // 16, "")}">')
            for ref, cells, empty, head, tail in shapes:
                v = cells[i]
                out.append(ref + r + empty if v is None else ref + r + head + v + tail)
            out.append("</row>")
        self.fh.write("".join(out))


def print_setup(ws: Worksheet, last_row: int, n_columns: int) -> None:
    """A county prints the list: A4 landscape, every column on the page's width (as many pages
    down as it takes), the notice and header rows repeated on every page, the table as print area."""
    ws.set_paper(9)  # A4
    ws.set_landscape()
    ws.fit_to_pages(1, 0)
    ws.repeat_rows(0, HEADER_ROW)
    ws.print_area(0, 0, max(last_row, HEADER_ROW), max(n_columns - 1, 0))
    ws.set_margins(left=0.4, right=0.4, top=0.5, bottom=0.5)
    ws.set_footer("&C第 &P 页，共 &N 页")


def county_file_name(code: str | None, name: str | None) -> str:
    """``<code>_<name>.xlsx`` for a county's own file (e.g. ``360102_南昌市东湖区.xlsx``): the code
    only when it is six digits (:func:`audit.outpaths.county_file_stem`; any other code's rows
    share ``unknown.xlsx``), the name sanitised (:func:`audit.outpaths.safe_stem`): no separator,
    no ``..``, nothing hidden. The writer still asks :func:`audit.outpaths.inside` for the path."""
    stem = county_file_stem(code)
    if stem == UNKNOWN_STEM:
        return f"{UNKNOWN_STEM}.xlsx"
    named = safe_stem(name, fallback="")
    return f"{stem}_{named}.xlsx" if named and named != stem else f"{stem}.xlsx"


class BulkSharedStrings(SharedStrings):
    """The shared-string table (``xl/sharedStrings.xml``) with its plain strings written by polars.

    xlsxwriter writes each string through three regular expressions and an f-string (some 5 µs a
    string: seconds for the county lists' 800,000 distinct texts). A string that none of them
    would change — no ``&<>"``, no control character, no ``_xHHHH_``, no U+FFFE/FFFF, no space at
    either end — is written ``<si><t>…</t></si>`` in polars; every other one, in order, by
    xlsxwriter's own :meth:`_write_si` (bench/NOTES.md, "Rendering")."""

    SMALL = 2_000  # below this many strings, xlsxwriter's loop as it is
    CHUNK = 100_000
    # what makes xlsxwriter escape or mark a string (a few more than it needs: those go its way)
    SPECIAL = r'[&<>"\x00-\x1f\x7f\x{85}\x{a0}\x{180e}\x{200b}\x{feff}\x{fffe}\x{ffff}]|_x|^\s|\s$'

    def _write_sst_strings(self) -> None:
        strings = self.string_table.string_array
        if len(strings) < self.SMALL:
            return super()._write_sst_strings()
        fh = self.fh
        for lo in range(0, len(strings), self.CHUNK):
            part = strings[lo:lo + self.CHUNK]
            values = pl.Series("s", part, dtype=pl.String)
            xml = pl.select(pl.concat_str([pl.lit("<si><t>"), pl.lit(values), pl.lit("</t></si>")])).to_series()
            special = values.str.contains(self.SPECIAL).arg_true().to_list()
            if special:
                texts = []
                self.fh = io.StringIO()
                try:
                    for i in special:
                        self.fh.seek(0)
                        self.fh.truncate()
                        self._write_si(part[i])
                        texts.append(self.fh.getvalue())
                finally:
                    self.fh = fh
                xml = xml.scatter(special, pl.Series(texts, dtype=pl.String))
            fh.write(xml.str.join("").item())


class BulkPackager(Packager):
    """xlsxwriter's packager, with :class:`BulkSharedStrings` for the shared strings."""

    def _write_shared_strings_file(self) -> None:
        if not self.workbook.str_table.count:
            return
        sst = BulkSharedStrings()
        sst.string_table = self.workbook.str_table
        sst._set_xml_writer(self._filename("xl/sharedStrings.xml"))
        sst._assemble_xml_file()


class BulkWorkbook(Workbook):
    """A workbook held in memory, packaged with :class:`BulkPackager` and deflated at level 1.

    xlsxwriter deflates at zlib's default level 6, a third of the time of writing a county's list;
    level 1 takes a quarter of that for files some 20 % larger (bench/NOTES.md, "Rendering")."""

    COMPRESS_LEVEL = 1

    def _get_packager(self) -> Packager:
        return BulkPackager()

    def _store_workbook(self) -> None:
        # xlsxwriter 3's Workbook._store_workbook for an in-memory workbook, with COMPRESS_LEVEL
        assert self.in_memory, "a bulk workbook is written in memory"
        with zipfile.ZipFile(self.filename, "w", compression=zipfile.ZIP_DEFLATED, allowZip64=self.allow_zip64,
                             compresslevel=self.COMPRESS_LEVEL) as xlsx_file:
            packager = self._get_packager()
            if not self.worksheets():
                self.add_worksheet()
            if self.worksheet_meta.activesheet == 0:
                self.worksheets_objs[0].selected = 1
                self.worksheets_objs[0].hidden = 0
            for sheet in self.worksheets():
                if sheet.index == self.worksheet_meta.activesheet:
                    sheet.active = 1
            if self.vba_project:
                for sheet in self.worksheets():
                    if sheet.vba_codename is None:
                        sheet.set_vba_name()
            self._prepare_sst_string_data()
            self._prepare_vml()
            self._prepare_defined_names()
            self._prepare_drawings()
            self._add_chart_data()
            self._prepare_tables()
            self._prepare_metadata()
            packager._add_workbook(self)
            packager._set_tmpdir(self.tmpdir)
            packager._set_in_memory(self.in_memory)
            for part, name, is_binary in packager._create_package():
                info = zipfile.ZipInfo(name, (1980, 1, 1, 0, 0, 0))  # Excel's own timestamp, as xlsxwriter
                info.compress_type = zipfile.ZIP_DEFLATED
                data = part.getvalue()
                xlsx_file.writestr(info, data if is_binary else data.encode("utf-8"), compresslevel=self.COMPRESS_LEVEL)


def workbook(path: str) -> tuple[Workbook, Formats]:
    # in memory: xlsxwriter otherwise writes and removes a temporary file per part (a county's
    # exit list is a dozen parts, and there is a file per county)
    book = BulkWorkbook(path, {"remove_timezone": True, "in_memory": True})
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
_ENOUGH = 58  # a text this wide fills a column to the 60 it is capped at (2 of margin)


def _display_width(text: str) -> float:
    return sum(2.0 if ord(ch) > 0x2E80 else 1.0 for ch in text)


def _shown(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:,.2f}"
    return str(value)


def _width_bound(text: str) -> int:
    """No text shows wider than its characters plus one per pair of UTF-8 bytes beyond one a
    character: every character counted double (above U+2E80) takes three or four bytes."""
    return len(text) + (len(text.encode("utf-8")) - len(text)) // 2


def _widest(texts: set[str]) -> float:
    """``max(_display_width(t))`` — exact up to ``_ENOUGH``, else at least that — measuring only
    the texts whose bound could still beat the widest found."""
    best = 0.0
    for text in sorted(texts, key=_width_bound, reverse=True):
        if _width_bound(text) <= best or best >= _ENOUGH:
            break
        best = max(best, _display_width(text))
    return best


def _shown_width(values: pl.Series) -> float:
    """The widest ``_display_width(_shown(v))`` of a column — exact up to 58, else some width of
    at least 58 (columns are capped at 60) — without measuring every cell in Python: texts from
    bounds computed in polars, numbers and dates from their smallest and largest value (their
    text grows with their size)."""
    if values.dtype == pl.Object or values.len() <= BulkWorksheet.SMALL_ROWS:
        return _widest({_shown(v) for v in values.to_list() if v is not None})
    values = values.drop_nulls()
    if values.len() == 0:
        return 0.0
    dtype = values.dtype
    if dtype == pl.String:
        # _widest, with the bounds of the distinct texts computed in polars
        bounds = values.unique().to_frame("v").with_columns(
            (pl.col("v").str.len_chars() + (pl.col("v").str.len_bytes() - pl.col("v").str.len_chars()) // 2).alias("u")
        ).sort("u", descending=True)
        best = 0.0
        for text, bound in bounds.iter_rows():
            if bound <= best or best >= _ENOUGH:
                break
            best = max(best, _display_width(text))
        return best
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
    series = [_masked_text(s, CODE_KEYS.get(c.key, mask)) for c, s in zip(columns, series)]
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
        ws = book.add_worksheet(title, worksheet_class=BulkWorksheet)
        used.add(title.lower())
        ws.merge_range(0, 0, 0, max(len(columns) - 1, 0), text, fmt.notice)
        ws.set_row(0, 36)
        ws.set_row(HEADER_ROW, 30)
        for j, col in enumerate(columns):
            ws.write_string(HEADER_ROW, j, col.header, fmt.header)
        block = [_block_column(fmt, col.kind, values.slice(lo, hi - lo)) for col, values in zip(columns, series)]
        if all(b is not None for b in block):
            ws.write_block(HEADER_ROW + 1, block)  # type: ignore[arg-type]
        else:  # a column of mixed or unusual values: cell by cell
            for j, col in enumerate(columns):
                _write_column(ws, fmt, j, col.kind, series[j].slice(lo, hi - lo))
        last = HEADER_ROW + (hi - lo)
        if total_of and n and part == parts - 1:
            last += 1
            ws.write_string(last, 0, "合计", fmt.total_label)
            for j, col in enumerate(columns):
                if col.key in total_of:
                    total = round(float(series[j].cast(pl.Float64, strict=False).fill_null(0).sum()), 2)
                    # counts add up to whole numbers and show as such, money with its two decimals
                    ws.write_number(last, j, int(total) if col.kind == "int" else total,
                                    fmt.total_int if col.kind == "int" else fmt.total)
        for j, col in enumerate(columns):
            ws.set_column(j, j, col.width or max(8.0, min(widths[j], 60.0)),
                          fmt.wrap if col.kind == "wrap" else None)
        ws.freeze_panes(HEADER_ROW + 1, 0)
        ws.autofilter(HEADER_ROW, 0, max(HEADER_ROW + (hi - lo), HEADER_ROW), max(len(columns) - 1, 0))
        print_setup(ws, last, len(columns))
        sheets.append(ws)
    return sheets


def _masked_text(values: pl.Series, masked: Callable[[Any], str]) -> pl.Series:
    """A text column through a mask (:func:`audit.masking.mask`, or ``mask_code`` for a code
    column): an ID or card number that reached a name, an address or a note is masked. Only the
    cells with a long run of digits are looked at in Python."""
    if values.dtype == pl.Object:
        return pl.Series(values.name, [masked(v) if isinstance(v, str) else v for v in values.to_list()], dtype=pl.Object)
    if values.dtype != pl.String:
        return values
    hits = values.str.contains(r"\d(?:[ \-]?\d){10,}").fill_null(False)
    if not hits.any():
        return values
    rows = hits.arg_true()
    return values.scatter(rows, pl.Series([masked(v) for v in values.gather(rows).to_list()], dtype=pl.String))


def _block_column(fmt: Formats, kind: str, values: pl.Series) -> tuple[str, Any, Any, pl.Series] | None:
    """How :func:`_write` writes a column's cells, for :meth:`BulkWorksheet.write_block` (None:
    not a column of one plain type; it is written cell by cell)."""
    text_style = fmt.wrap if kind == "wrap" else fmt.text
    dtype = values.dtype
    if dtype == pl.Null:
        return ("blank", fmt.text, fmt.text, values)
    if dtype == pl.String:
        return ("string", text_style, fmt.text, values)
    if dtype in (pl.Date, pl.Datetime) and kind == "date":
        return ("date", fmt.date, fmt.text, values)
    if dtype.is_numeric() and kind in ("money", "int"):
        if dtype.is_float() and not values.drop_nulls().is_finite().all():
            return None  # write_number refuses NaN and infinity: let it say so
        if kind == "money":
            return ("number", fmt.money, fmt.text, values.cast(pl.Float64))
        return ("number", fmt.int, fmt.text, values)
    if dtype.is_numeric() or dtype in (pl.Date, pl.Datetime):  # shown as text, as str() writes it
        distinct = values.drop_nulls().unique().to_list()
        shown = values.replace_strict(distinct, [str(v) for v in distinct], default=None, return_dtype=pl.String) \
            if distinct else pl.Series(values.name, [None] * values.len(), dtype=pl.String)
        return ("string", text_style, fmt.text, shown)
    return None


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
