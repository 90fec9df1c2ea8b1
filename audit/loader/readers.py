"""Reading one file into raw frames (one per CSV file or XLSX sheet), each row with its ``_line``.

Values are kept as read (text, or the Parquet file's own types); a Parquet file's columns are
read one at a time while the table is normalised.
"""

from __future__ import annotations

import itertools
import re
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import fastexcel
import polars as pl

from audit.loader.csvtext import MAX_COLUMNS, MAX_TITLE_ROWS, read_csv_text, without_line_column
from audit.loader.discovery import InputError
from audit.loader.headers import (
    check_required_columns,
    header_lookup,
    known_columns,
    map_headers,
    money_scales,
    unique_headers,
)
from audit.masking import mask
from audit.schema import TableSpec

#: the largest used range of a sheet read (rows, columns, cells): the XLSX reader allocates the
#: whole range, so one cell at XFD1048576 would ask for 17 billion cells
MAX_SHEET_ROWS, MAX_SHEET_CELLS = 1_100_000, 40_000_000
#: the most a workbook's parts may unpack to, together (a 1 M-row sheet is some 500 MB)
MAX_XLSX_BYTES = 4 << 30


@dataclass
class RawSource:
    label: str  # "claims.csv" or "claims.xlsx#Sheet1"
    frame: pl.DataFrame  # canonical or extra column names, plus _line; values as read
    extras: list[str]
    #: line → why the row starting on it is quarantined whatever its values (field count, bytes)
    problems: dict[int, str] = field(default_factory=dict)
    blank_lines: int = 0
    parquet: Path | None = None  # columns read one at a time from here (frame holds _line only)
    names: dict[str, str] = field(default_factory=dict)  # canonical → name in the Parquet file
    #: canonical money column → factor to 元, where its header names another unit (万元, 分)
    scales: dict[str, float] = field(default_factory=dict)

    def column(self, name: str) -> pl.Series | None:
        """One column by its canonical name, read from the Parquet file when it is not in memory."""
        if name in self.frame.columns:
            return self.frame[name]
        if self.parquet is not None and name in self.names:
            return pl.read_parquet(self.parquet, columns=[self.names[name]]).to_series().alias(name)
        return None


def read_csv(path: Path, spec: TableSpec, notes: list[str], errors: list[str]) -> list[RawSource]:
    """The file's records (:mod:`audit.loader.csvtext`: encoding, line ends, field counts), each
    record with a problem (more or fewer fields than the header, bytes not in the file's
    encoding) marked for the quarantine."""
    lookup = header_lookup(spec)
    text = read_csv_text(path, header_at=lambda rows: header_row(rows, lookup))
    notes.extend(text.notes)
    src = _raw_source(text.frame, spec, path.name, notes, errors)
    if src is None:
        return []
    src.problems = text.problems
    return [src]


def read_parquet(path: Path, spec: TableSpec, notes: list[str], errors: list[str]) -> list[RawSource]:
    """Only the schema and row count now: the columns are read one at a time while normalising."""
    try:
        schema = pl.read_parquet_schema(path)
        if len(schema) > MAX_COLUMNS:
            raise InputError(f"{path.name}: {len(schema):,} columns, more than {MAX_COLUMNS:,}; not a table of the contract")
        height = pl.scan_parquet(path).select(pl.len()).collect().item()
    except (pl.exceptions.PolarsError, OSError) as exc:
        raise InputError(f"{path.name}: not a readable Parquet file ({_reason(exc)})") from None
    mapping = map_headers(spec, list(schema), path.name, notes)
    if not any(v in spec.names for v in mapping.values()):
        errors.append(f"{path.name}: not a table of {spec.name} ({spec.zh}): none of its columns is a column of it")
        return []
    missing = check_required_columns(spec, set(mapping.values()), path.name)
    if missing:
        errors.extend(missing)
        return []
    lines = pl.DataFrame({"_line": pl.int_range(2, height + 2, dtype=pl.Int64, eager=True)})
    extras = [canonical for canonical in mapping.values() if canonical not in spec.names]
    return [RawSource(path.name, lines, extras, parquet=path, names={v: k for k, v in mapping.items()},
                      scales=money_scales(spec, mapping, path.name, notes))]


def read_xlsx(path: Path, spec: TableSpec, notes: list[str], errors: list[str]) -> list[RawSource]:
    """Every sheet with a recognisable header row is part of the table; title rows are skipped.

    A workbook with a sheet named after the table (``county_tiers`` or 县区最低工资档次) is read
    from that sheet only: the workbook ``audit reference check`` writes holds a sheet per table,
    and each may be put in the input directory whole under its table's name. A workbook whose
    sheets' used range is beyond the bounds (:func:`check_xlsx_extent`) is refused before it is
    read.
    """
    check_xlsx_extent(path)
    try:
        reader = fastexcel.read_excel(str(path))
        own = [n for n in reader.sheet_names if n.strip().lower() in (spec.name, spec.zh)]
        if own:
            notes.extend(f"{path.name}#{n}：未读取此工作表（工作表“{own[0]}”即{spec.zh}） / "
                         f"not read (the sheet {own[0]!r} is the table {spec.name})"
                         for n in reader.sheet_names if n not in own)
        sheets = [
            (name, reader.load_sheet(name, header_row=None, dtypes="string", skip_rows=0).to_polars())
            for name in (own or reader.sheet_names)
        ]
    except Exception as exc:  # noqa: BLE001 — fastexcel raises its own error family for bad files
        raise InputError(f"{path.name}: not a readable XLSX workbook ({_reason(exc)})") from None
    lookup = header_lookup(spec)
    sources: list[RawSource] = []
    for name, sheet in sheets:
        label = f"{path.name}#{name}"
        if sheet.height == 0:
            continue
        header_idx = header_row((_cells(sheet.row(i)) for i in range(min(MAX_TITLE_ROWS, sheet.height))), lookup)
        if header_idx is None:
            notes.append(f"{label}：前 {MAX_TITLE_ROWS} 行中没有{spec.zh}的表头，此工作表未读取 / "
                         f"no header row of {spec.name} found in the first {MAX_TITLE_ROWS} rows; sheet skipped")
            continue
        header = [("" if v is None else str(v)) for v in sheet.row(header_idx)]
        keep = [i for i, h in enumerate(header) if h.strip() or sheet.to_series(i).slice(header_idx + 1).is_not_null().any()]
        body = sheet.slice(header_idx + 1).select([sheet.columns[i] for i in keep])
        names = unique_headers([header[i].strip() or f"未命名列{i + 1}" for i in keep])
        body = body.rename(dict(zip(body.columns, names)))
        body = without_line_column(body).with_row_index("_line", offset=header_idx + 2).with_columns(pl.col("_line").cast(pl.Int64))
        src = _raw_source(body, spec, label, notes, errors)
        if src is not None:
            sources.append(src)
    if not sources and not errors:
        raise InputError(f"{path.name}: no sheet has a header row of {spec.name} ({spec.zh}); not a table of it")
    return sources


_ROW_REF = re.compile(rb"<row\b[^>]*?\sr=\"(\d+)\"")
_ROW_TAG = re.compile(rb"<row[\s>/]")
_CELL_COLUMN = re.compile(rb"<c\b[^>]*?\sr=\"([A-Z]+)\d")  # a referenced cell's column letters
_CELL_TAG = re.compile(rb"<c[\s>/]")
_CELL_REF = re.compile(rb"<c\b[^>]*?\sr=\"")


def check_xlsx_extent(path: Path) -> None:
    """Refuse a workbook a reader would have to allocate too much for: a sheet whose used range
    passes :data:`MAX_SHEET_ROWS` rows, :data:`audit.loader.csvtext.MAX_COLUMNS` columns or
    :data:`MAX_SHEET_CELLS` cells, or parts that unpack to more than :data:`MAX_XLSX_BYTES`.

    The cell references themselves are read (streamed, never the sheet's own ``<dimension>``,
    which may lie), in C-speed scans: the last row, the last column, and the rows and cells
    written without a reference (numbered in order). (Every sheet was once taken to reach column
    ZZ unless a column of three letters was found: a sheet of 6 columns and 60,000 rows counted as
    42 million cells and was refused.)
    """
    try:
        with zipfile.ZipFile(path) as book:
            parts = book.infolist()
            if sum(p.file_size for p in parts) > MAX_XLSX_BYTES:
                raise InputError(f"{path.name}: the workbook unpacks to more than {MAX_XLSX_BYTES >> 30} GB; "
                                 "export the table as CSV or Parquet")
            for part in parts:
                if part.filename.startswith("xl/worksheets/") and part.filename.endswith(".xml"):
                    rows, columns = _sheet_extent(book, part)
                    if rows > MAX_SHEET_ROWS or columns > MAX_COLUMNS or rows * columns > MAX_SHEET_CELLS:
                        raise InputError(
                            f"{path.name}: a sheet ({part.filename.rsplit('/', 1)[-1]}) spans {rows:,} rows × "
                            f"{columns:,} columns, beyond what is read ({MAX_SHEET_ROWS:,} rows, {MAX_COLUMNS:,} "
                            f"columns, {MAX_SHEET_CELLS:,} cells); remove the stray cells or export it as CSV")
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, ValueError) as exc:
        if isinstance(exc, InputError):
            raise
        raise InputError(f"{path.name}: not a readable XLSX workbook ({_reason(exc)})") from None


def _sheet_extent(book: zipfile.ZipFile, part: zipfile.ZipInfo) -> tuple[int, int]:
    """(last row, last column) a sheet's cells reach, from its XML a buffer at a time."""
    last_row = row_tags = last_column = 0
    unreferenced = False
    tail = b""
    with book.open(part) as fh:
        while chunk := fh.read(1 << 22):
            data = tail + chunk
            cut = data.rfind(b"<")  # a tag cut by the buffer's end is read with the next one
            data, tail = (data[:cut], data[cut:]) if cut > 0 else (data, b"")
            refs = _ROW_REF.findall(data)
            if refs:
                last_row = max(last_row, max(int(r) for r in refs))
            row_tags += len(_ROW_TAG.findall(data))
            for letters in set(_CELL_COLUMN.findall(data)):
                last_column = max(last_column, _column_number(letters))
            if len(_CELL_TAG.findall(data)) != len(_CELL_REF.findall(data)):
                unreferenced = True
    if unreferenced:  # cells numbered by their order: the widest row counts them
        last_column = max(last_column, _widest_row(book, part))
    return max(last_row, row_tags), last_column


def _widest_row(book: zipfile.ZipFile, part: zipfile.ZipInfo) -> int:
    widest, cells, tail = 0, 0, b""
    with book.open(part) as fh:
        while chunk := fh.read(1 << 22):
            data = tail + chunk
            cut = data.rfind(b"<")
            data, tail = (data[:cut], data[cut:]) if cut > 0 else (data, b"")
            first, *rows = _ROW_TAG.split(data)
            cells += len(_CELL_TAG.findall(first))  # the row the last buffer ended in
            for piece in rows:
                widest = max(widest, cells)
                cells = len(_CELL_TAG.findall(piece))
    return max(widest, cells)


def _column_number(letters: bytes) -> int:
    number = 0
    for ch in letters:
        number = number * 26 + ch - 64
    return number


def _reason(exc: BaseException) -> str:
    """A library's error, as a message quotes it: first line, masked, short (it may quote data)."""
    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return mask(text)[:160]


def header_row(rows: Iterable[list[str]], lookup: dict[str, tuple[str, int]]) -> int | None:
    """The first of the top :data:`MAX_TITLE_ROWS` rows (cells as text) with the most cells that
    are known headers (at least one): the rows above it are titles (``某市就业见习补贴申领明细表``)."""
    best, best_hits = None, 0
    for idx, cells in enumerate(itertools.islice(rows, MAX_TITLE_ROWS)):
        hits = len(known_columns([c for c in cells if c.strip()], lookup))
        if hits > best_hits:
            best, best_hits = idx, hits
    return best


def _cells(row: tuple) -> list[str]:
    return ["" if v is None else str(v) for v in row]


def _raw_source(frame: pl.DataFrame, spec: TableSpec, label: str, notes: list[str], errors: list[str]) -> RawSource | None:
    headers = [c for c in frame.columns if c != "_line"]
    mapping = map_headers(spec, headers, label, notes)
    if not any(v in spec.names for v in mapping.values()):
        # the cells are not quoted: in a file without a header line they are its first row's data
        errors.append(
            f"{label}: not a table of {spec.name} ({spec.zh}): none of the {len(headers)} cells of its first line is a "
            f"column of it — a file needs a header line naming its columns (e.g. {spec.columns[0].name} or "
            f"{spec.columns[0].zh})"
        )
        return None
    missing = check_required_columns(spec, set(mapping.values()), label)
    if missing:
        errors.extend(missing)
        return None
    scales = money_scales(spec, mapping, label, notes)
    frame = frame.rename(mapping)
    # a blank line reads as a row of nulls: not a row of data
    data_cols = [c for c in frame.columns if c != "_line"]
    blank = pl.all_horizontal(
        [pl.col(c).is_null() | (pl.col(c).str.strip_chars() == "") if frame.schema[c] == pl.String
         else pl.col(c).is_null() for c in data_cols]
    )
    n_blank = int(frame.select(blank.sum()).item()) if frame.height else 0
    if n_blank:
        frame = frame.filter(~blank)
    extras = [c for c in data_cols if c not in spec.names]
    return RawSource(label, frame, extras, blank_lines=n_blank, scales=scales)


READERS = {".csv": read_csv, ".parquet": read_parquet, ".xlsx": read_xlsx}
