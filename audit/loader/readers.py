"""Reading one file into raw frames (one per CSV file or XLSX sheet), each row with its ``_line``.

Values are kept as read (text, or the Parquet file's own types); a Parquet file's columns are
read one at a time while the table is normalised.
"""

from __future__ import annotations

import codecs
import csv
import io
from dataclasses import dataclass, field
from pathlib import Path

import fastexcel
import polars as pl

from audit.loader.discovery import InputError
from audit.loader.headers import check_required_columns, header_key, header_lookup, map_headers, strip_unit
from audit.schema import TableSpec

#: how many rows at the top of a sheet may be titles before the header row.
MAX_TITLE_ROWS = 30


@dataclass
class RawSource:
    label: str  # "claims.csv" or "claims.xlsx#Sheet1"
    frame: pl.DataFrame  # canonical or extra column names, plus _line; values as read
    extras: list[str]
    truncated_line: int | None = None  # a last line with fewer fields than the header
    blank_lines: int = 0
    parquet: Path | None = None  # columns read one at a time from here (frame holds _line only)
    names: dict[str, str] = field(default_factory=dict)  # canonical → name in the Parquet file

    def column(self, name: str) -> pl.Series | None:
        """One column by its canonical name, read from the Parquet file when it is not in memory."""
        if name in self.frame.columns:
            return self.frame[name]
        if self.parquet is not None and name in self.names:
            return pl.read_parquet(self.parquet, columns=[self.names[name]]).to_series().alias(name)
        return None


def _decode_csv(path: Path) -> tuple[bytes | Path, str]:
    """The CSV as UTF-8 (the path itself when it already is), and the encoding found."""
    with open(path, "rb") as fh:
        head = fh.read(1 << 16)
    if not head.strip(b" \t\r\n\xef\xbb\xbf"):
        raise InputError(f"{path.name}: the file is empty")
    if b"\x00" in head:
        raise InputError(f"{path.name}: not a text table (binary content); export it as CSV, XLSX or Parquet")
    try:
        codecs.getincrementaldecoder("utf-8")().decode(head, final=False)
        return path, "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        text = path.read_bytes().decode("gb18030")
    except UnicodeDecodeError as exc:
        raise InputError(
            f"{path.name}: cannot decode the file as UTF-8 or GBK/GB18030 (bad byte at offset {exc.start}); "
            "save it as UTF-8"
        ) from None
    return text.encode("utf-8"), "gb18030"


def _last_line_fields(data: bytes) -> int | None:
    """Number of fields on the last non-blank line (None for a file without data lines)."""
    tail = data[-(1 << 16):].decode("utf-8", errors="replace")
    lines = [ln for ln in tail.splitlines() if ln.strip(" \t\r\ufeff,")]
    if len(lines) < 2 and len(tail) == len(data.decode("utf-8", errors="replace")):
        return None
    return len(next(csv.reader([lines[-1]])))


def read_csv(path: Path, spec: TableSpec, notes: list[str], errors: list[str]) -> list[RawSource]:
    source, encoding = _decode_csv(path)
    try:
        frame = pl.read_csv(source, infer_schema=False, truncate_ragged_lines=True, raise_if_empty=False)
    except pl.exceptions.ComputeError as exc:
        if "utf-8" in str(exc) and encoding == "utf-8":  # UTF-8 at the head, something else later
            source, encoding = _decode_csv_fallback(path)
            frame = pl.read_csv(source, infer_schema=False, truncate_ragged_lines=True, raise_if_empty=False)
        else:
            raise InputError(f"{path.name}: not a readable CSV table ({str(exc).splitlines()[0]})") from None
    except (pl.exceptions.PolarsError, OSError) as exc:
        raise InputError(f"{path.name}: not a readable CSV table ({str(exc).splitlines()[0]})") from None
    if encoding != "utf-8":
        notes.append(f"{path.name}: read as {encoding.upper()} (GBK-compatible)")
    data = source if isinstance(source, bytes) else _tail_bytes(path)
    frame = frame.with_row_index("_line", offset=2).with_columns(pl.col("_line").cast(pl.Int64))
    src = _raw_source(frame, spec, path.name, notes, errors)
    if src is None:
        return []
    n_fields = _last_line_fields(data)
    header_width = len([c for c in frame.columns if c != "_line"])
    if n_fields is not None and n_fields < header_width and src.frame.height:
        src.truncated_line = int(src.frame["_line"][-1])
    return [src]


def _decode_csv_fallback(path: Path) -> tuple[bytes, str]:
    try:
        return path.read_bytes().decode("gb18030").encode("utf-8"), "gb18030"
    except UnicodeDecodeError as exc:
        raise InputError(
            f"{path.name}: cannot decode the file as UTF-8 or GBK/GB18030 (bad byte at offset {exc.start}); "
            "save it as UTF-8"
        ) from None


def _tail_bytes(path: Path) -> bytes:
    with open(path, "rb") as fh:
        fh.seek(0, io.SEEK_END)
        size = fh.tell()
        fh.seek(max(0, size - (1 << 16)))
        return fh.read()


def read_parquet(path: Path, spec: TableSpec, notes: list[str], errors: list[str]) -> list[RawSource]:
    """Only the schema and row count now: the columns are read one at a time while normalising."""
    try:
        schema = pl.read_parquet_schema(path)
        height = pl.scan_parquet(path).select(pl.len()).collect().item()
    except (pl.exceptions.PolarsError, OSError) as exc:
        raise InputError(f"{path.name}: not a readable Parquet file ({str(exc).splitlines()[0]})") from None
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
    return [RawSource(path.name, lines, extras, parquet=path, names={v: k for k, v in mapping.items()})]


def read_xlsx(path: Path, spec: TableSpec, notes: list[str], errors: list[str]) -> list[RawSource]:
    """Every sheet with a recognisable header row is part of the table; title rows are skipped.

    A workbook with a sheet named after the table (``county_tiers`` or 县区最低工资档次) is read
    from that sheet only: the workbook ``audit reference check`` writes holds a sheet per table,
    and each may be put in the input directory whole under its table's name.
    """
    try:
        reader = fastexcel.read_excel(str(path))
        own = [n for n in reader.sheet_names if n.strip().lower() in (spec.name, spec.zh)]
        if own:
            notes.extend(f"{path.name}#{n}: not read (the sheet {own[0]!r} is the table {spec.name})"
                         for n in reader.sheet_names if n not in own)
        sheets = [
            (name, reader.load_sheet(name, header_row=None, dtypes="string", skip_rows=0).to_polars())
            for name in (own or reader.sheet_names)
        ]
    except Exception as exc:  # noqa: BLE001 — fastexcel raises its own error family for bad files
        raise InputError(f"{path.name}: not a readable XLSX workbook ({str(exc).splitlines()[0]})") from None
    lookup = header_lookup(spec)
    sources: list[RawSource] = []
    for name, sheet in sheets:
        label = f"{path.name}#{name}"
        if sheet.height == 0:
            continue
        header_idx = _find_header_row(sheet, lookup)
        if header_idx is None:
            notes.append(f"{label}: no header row of {spec.name} found in the first {MAX_TITLE_ROWS} rows; sheet skipped")
            continue
        header = [("" if v is None else str(v)) for v in sheet.row(header_idx)]
        keep = [i for i, h in enumerate(header) if h.strip() or sheet.to_series(i).slice(header_idx + 1).is_not_null().any()]
        body = sheet.slice(header_idx + 1).select([sheet.columns[i] for i in keep])
        names = _unique_headers([header[i].strip() or f"未命名列{i + 1}" for i in keep])
        body = body.rename(dict(zip(body.columns, names)))
        body = body.with_row_index("_line", offset=header_idx + 2).with_columns(pl.col("_line").cast(pl.Int64))
        src = _raw_source(body, spec, label, notes, errors)
        if src is not None:
            sources.append(src)
    if not sources and not errors:
        raise InputError(f"{path.name}: no sheet has a header row of {spec.name} ({spec.zh}); not a table of it")
    return sources


def _find_header_row(sheet: pl.DataFrame, lookup: dict[str, tuple[str, int]]) -> int | None:
    """The first of the top rows with the most cells that are known headers (at least one)."""
    best, best_hits = None, 0
    for idx in range(min(MAX_TITLE_ROWS, sheet.height)):
        cells = [str(v) for v in sheet.row(idx) if v is not None and str(v).strip()]
        hits = len({lookup[k][0] for k in (header_key(c) for c in cells) if k in lookup}
                   | {lookup[k][0] for k in (strip_unit(header_key(c)) for c in cells) if k in lookup})
        if hits > best_hits:
            best, best_hits = idx, hits
    return best


def _unique_headers(names: list[str]) -> list[str]:
    seen: dict[str, int] = {}
    out = []
    for name in names:
        seen[name] = seen.get(name, 0) + 1
        out.append(name if seen[name] == 1 else f"{name}_{seen[name]}")
    return out


def _raw_source(frame: pl.DataFrame, spec: TableSpec, label: str, notes: list[str], errors: list[str]) -> RawSource | None:
    headers = [c for c in frame.columns if c != "_line"]
    mapping = map_headers(spec, headers, label, notes)
    if not any(v in spec.names for v in mapping.values()):
        shown = ", ".join(repr(h) for h in headers[:6])
        errors.append(
            f"{label}: not a table of {spec.name} ({spec.zh}): none of its headers is a column of it (found {shown})"
        )
        return None
    missing = check_required_columns(spec, set(mapping.values()), label)
    if missing:
        errors.extend(missing)
        return None
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
    return RawSource(label, frame, extras, blank_lines=n_blank)


READERS = {".csv": read_csv, ".parquet": read_parquet, ".xlsx": read_xlsx}
