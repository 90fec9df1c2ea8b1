"""Loading the registries: read CSV/XLSX/Parquet exports, normalise, quarantine what cannot be read.

An input directory holds one file per table, named after the table (``claims.csv``,
``claims.xlsx`` or ``claims.parquet``; the specs are in :mod:`audit.schema`). Every input row
ends in exactly one place (``shared/contract.md``, "Bad input"): the normalised table, or the
quarantine with its file, line, column, value and reason. A row goes to the quarantine only when
it cannot be read — a required value missing, a date, month, amount, number or yes/no that does
not parse, a truncated last line — and every failing cell of it is reported, not just the
first. A row that reads but looks wrong (an ID whose check digit fails, a legacy 15-digit ID, a
duplicated key, a broken reference) is kept: money was paid against it, and the checks flag it.
Exact duplicate rows are collapsed into one with ``_dup_rows`` = how many there were.

Counts reconcile per table and file: ``rows_read = rows_kept + rows_quarantined +
duplicates_collapsed`` where rows_read counts data rows (blank lines, title rows and the header
are not rows; blank lines are counted apart in ``blank_lines``), rows_kept counts the rows of the
normalised table and duplicates_collapsed the extra copies folded into a kept row.

Only an input that cannot be used at all raises :class:`InputError` (exit code 2): a required
table or column missing, two files for one table, an empty file, a required table with no rows,
a binary file or one that is not a table, an encoding that is neither UTF-8 nor GBK/GB18030.
Nothing is written until every table has loaded: a run's load (``load_inputs(input_dir,
out_dir)``) writes each table to Parquet as soon as it is normalised, so that only one table is
in memory at a time, but into a hidden stage (``out_dir/.normalised.partial/``) that
:meth:`LoadResult.write` moves into ``normalised/`` and a failed load removes.
"""

from __future__ import annotations

import codecs
import csv
import io
import logging
import shutil
import time
from collections.abc import Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path

import polars as pl

from audit import normalise as nz
from audit.schema import REQUIRED_TABLES, SPECS, ColumnSpec, Kind, TableSpec

log = logging.getLogger("audit.loader")

QUARANTINE_SCHEMA = {
    "table": pl.String(), "file": pl.String(), "line": pl.Int64(), "column": pl.String(),
    "value": pl.String(), "reason": pl.String(),
}
COUNTS_SCHEMA = {
    "table": pl.String(), "file": pl.String(), "rows_read": pl.Int64(), "rows_kept": pl.Int64(),
    "rows_quarantined": pl.Int64(), "duplicates_collapsed": pl.Int64(), "blank_lines": pl.Int64(),
}
SUFFIXES = (".csv", ".xlsx", ".parquet")
#: how many rows at the top of a sheet may be titles before the header row.
MAX_TITLE_ROWS = 30

REASONS: dict[Kind, str] = {
    Kind.DATE: "无法识别的日期 / unreadable date",
    Kind.MONTH: "无法识别的月份 / unreadable month",
    Kind.MONEY: "无法识别的金额 / unreadable amount",
    Kind.INT: "无法识别的整数 / unreadable whole number",
    Kind.BOOL: "无法识别的是/否 / unreadable yes-no",
}
MISSING = "必填值缺失 / required value missing"
TRUNCATED = "行不完整（文件截断）/ truncated line"


class InputError(Exception):
    """An input that cannot be used at all (exit code 2): names the file and the column."""


#: where a staged load writes its tables until :meth:`LoadResult.write` (inside the output dir).
STAGE_DIR = ".normalised.partial"
#: how normalised tables are written (lz4: fast to write and to scan).
PARQUET_OPTIONS = {"compression": "lz4", "statistics": False}


class StagedTables(Mapping[str, pl.DataFrame]):
    """The normalised tables of a staged load: each read from its Parquet file when asked for.

    ``directory`` is where the files are now: the stage until :meth:`LoadResult.write`, then
    ``normalised/``. Reading a table reads all of it; :meth:`LoadResult.scan` reads lazily.
    """

    def __init__(self, directory: Path, names: list[str]) -> None:
        self.directory = Path(directory)
        self._names = list(names)

    def path(self, name: str) -> Path:
        if name not in self._names:
            raise KeyError(name)
        return self.directory / f"{name}.parquet"

    def __getitem__(self, name: str) -> pl.DataFrame:
        return pl.read_parquet(self.path(name))

    def __iter__(self) -> Iterator[str]:
        return iter(self._names)

    def __len__(self) -> int:
        return len(self._names)


@dataclass
class LoadResult:
    #: normalised tables present in the input, by canonical name: in memory (a dict), or, for a
    #: staged load, :class:`StagedTables` read from Parquet on access
    tables: Mapping[str, pl.DataFrame]
    quarantine: pl.DataFrame  # QUARANTINE_SCHEMA
    counts: pl.DataFrame  # table, file, rows_read, rows_kept, rows_quarantined, duplicates_collapsed, blank_lines
    unknown_columns: dict[str, list[str]] = field(default_factory=dict)
    files: dict[str, list[str]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    heights: dict[str, int] = field(default_factory=dict)  # rows kept per table

    def __post_init__(self) -> None:
        if not self.heights and isinstance(self.tables, dict):
            self.heights = {name: frame.height for name, frame in self.tables.items()}

    @property
    def staged(self) -> bool:
        return isinstance(self.tables, StagedTables)

    def scan(self, name: str) -> pl.LazyFrame:
        """One normalised table, lazily: a scan of its Parquet file, or of the frame in memory."""
        if isinstance(self.tables, StagedTables):
            return pl.scan_parquet(self.tables.path(name))
        return self.tables[name].lazy()

    def write(self, out_dir: Path) -> None:
        """normalised/<table>.parquet, quarantine.csv (UTF-8 with BOM, for Excel), load_counts.csv.

        A staged load's files are moved from the stage into ``normalised/`` (a rename each), and
        the stage removed.
        """
        out_dir = Path(out_dir)
        norm = out_dir / "normalised"
        norm.mkdir(parents=True, exist_ok=True)
        if isinstance(self.tables, StagedTables):
            stage = self.tables.directory
            if stage.resolve() != norm.resolve():
                for name in self.tables:
                    shutil.move(stage / f"{name}.parquet", norm / f"{name}.parquet")
                self.tables.directory = norm
                if stage.name == STAGE_DIR:
                    shutil.rmtree(stage, ignore_errors=True)
        else:
            for name, frame in self.tables.items():
                tmp = norm / f".{name}.parquet.tmp"
                frame.write_parquet(tmp, **PARQUET_OPTIONS)
                tmp.replace(norm / f"{name}.parquet")
        with open(out_dir / "quarantine.csv", "wb") as fh:
            fh.write(codecs.BOM_UTF8)
            self.quarantine.write_csv(fh)
        self.counts.write_csv(out_dir / "load_counts.csv")

    def counts_dict(self) -> list[dict]:
        return self.counts.to_dicts()

    def counts_text(self) -> str:
        """The reconciliation per table and file, printed by ``audit validate`` and ``audit run``."""
        head = f"{'table':<24}{'file':<34}{'read':>10}{'kept':>10}{'quarantined':>12}{'dup-collapsed':>14}"
        lines = ["读取核对 / rows read = kept + quarantined + duplicates collapsed", head]
        for row in self.counts.iter_rows(named=True):  # one row per input file: a few dozen at most
            ok = row["rows_read"] == row["rows_kept"] + row["rows_quarantined"] + row["duplicates_collapsed"]
            lines.append(
                f"{row['table']:<24}{row['file']:<34}{row['rows_read']:>10,}{row['rows_kept']:>10,}"
                f"{row['rows_quarantined']:>12,}{row['duplicates_collapsed']:>14,}{'' if ok else '  ≠ !'}"
            )
        for table, cols in self.unknown_columns.items():
            if cols:
                lines.append(f"未知列（保留为文本）/ unknown columns kept as text: {table}: {', '.join(cols)}")
        lines.extend(self.notes)
        return "\n".join(lines)


# ---------------------------------------------------------------------------------------------
# finding the files


def discover(input_dir: Path) -> tuple[dict[str, Path], list[str]]:
    """table name → its file; notes about files that were ignored. Two files for a table is an error."""
    found: dict[str, list[Path]] = {}
    notes: list[str] = []
    for path in sorted(Path(input_dir).iterdir()):
        if path.name.startswith((".", "~$")) or not path.is_file():
            continue
        table = path.stem.strip().lower()
        if path.suffix.lower() in SUFFIXES and table in SPECS:
            found.setdefault(table, []).append(path)
        else:
            notes.append(f"忽略未知文件 / ignored file not in the contract: {path.name}")
    for table, paths in found.items():
        if len(paths) > 1:
            names = " and ".join(p.name for p in paths)
            raise InputError(f"{names}: two files for table {table} ({SPECS[table].zh}); keep one")
    missing = [t for t in REQUIRED_TABLES if t not in found]
    if missing:
        listed = "; ".join(f"{t} ({SPECS[t].zh}): expected {t}.csv, {t}.xlsx or {t}.parquet" for t in missing)
        raise InputError(f"{input_dir}: required table missing — {listed}")
    return {t: paths[0] for t, paths in found.items()}, notes


# ---------------------------------------------------------------------------------------------
# headers


def header_key(text: str) -> str:
    """A header as compared: ASCII forms, no spaces, no required-marker ``*``, lower case."""
    key = nz.to_ascii_str(str(text)).replace("\ufeff", "")
    key = "".join(key.split()).strip("*").lower()
    return key.replace("【", "[").replace("】", "]").replace("、", "/").replace("\\", "/")


def _strip_unit(key: str) -> str:
    """``申领金额(元)`` → ``申领金额``: a trailing bracketed unit does not change the column."""
    for opener, closer in (("(", ")"), ("[", "]")):
        if key.endswith(closer) and opener in key:
            return key[: key.rindex(opener)]
    return key


def header_lookup(spec: TableSpec) -> dict[str, tuple[str, int]]:
    """Comparable header → (canonical column, priority): names and Chinese first, aliases after."""
    lookup: dict[str, tuple[str, int]] = {}
    for col in spec.columns:
        for priority, spellings in ((0, (col.name, col.zh)), (1, col.aliases)):
            for spelling in spellings:
                lookup.setdefault(header_key(spelling), (col.name, priority))
    return lookup


def map_headers(spec: TableSpec, headers: list[str], label: str, notes: list[str]) -> dict[str, str]:
    """Header as found → canonical name, or the cleaned header for an unknown extra column."""
    lookup = header_lookup(spec)
    claims: dict[str, tuple[int, str]] = {}
    for header in headers:
        key = header_key(header)
        hit = lookup.get(key) or lookup.get(_strip_unit(key))
        if hit and (hit[0] not in claims or hit[1] < claims[hit[0]][0]):
            claims[hit[0]] = (hit[1], header)
    mapping: dict[str, str] = {header: canonical for canonical, (_, header) in claims.items()}
    # the loader's and the validation's own columns too (_src, _keep while loading; _row)
    reserved = set(spec.names) | {"_file", "_line", "_dup_rows", "birth_date", "sex", "_src", "_keep", "_row"}
    for header in headers:
        if header in mapping:
            continue
        name = " ".join(str(header).split()) or "unnamed"
        while name in reserved or name in mapping.values():
            name += "_extra"
        mapping[header] = name
        if header_key(header) in lookup:
            notes.append(f"{label}: column {header!r} repeats {lookup[header_key(header)][0]}; kept as extra column {name!r}")
    return mapping


def check_required_columns(spec: TableSpec, present: set[str], label: str) -> list[str]:
    return [
        f"{label}: required column {c.name} ({c.zh}) is missing"
        for c in spec.columns if c.required and c.name not in present
    ]


# ---------------------------------------------------------------------------------------------
# reading one file into raw frames (one per CSV file / sheet), with _file and _line


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
    """Every sheet with a recognisable header row is part of the table; title rows are skipped."""
    import fastexcel

    try:
        reader = fastexcel.read_excel(str(path))
        sheets = [
            (name, reader.load_sheet(name, header_row=None, dtypes="string", skip_rows=0).to_polars())
            for name in reader.sheet_names
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
                   | {lookup[k][0] for k in (_strip_unit(header_key(c)) for c in cells) if k in lookup})
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


# ---------------------------------------------------------------------------------------------
# normalising one table


PARSERS = {
    Kind.DATE: nz.parse_date, Kind.MONTH: nz.parse_month, Kind.MONEY: nz.parse_money,
    Kind.INT: nz.parse_int, Kind.BOOL: nz.parse_bool,
    Kind.STR: nz.clean_text, Kind.ENUM: nz.clean_text, Kind.COUNTY: nz.clean_county,
}
#: the values of an ID column's ``<col>_status`` (see audit/schema.py), held as this Enum while
#: a table loads (one byte a row); the normalised table holds them as text.
STATUS = pl.Enum(["ok", "legacy15", "bad_check", "malformed"])


def parse_series(spec: ColumnSpec, raw: pl.Series) -> pl.Series:
    """A column parsed to its spec dtype; typed Parquet columns take a fast path."""
    return _as_text(_parse_column(spec, raw, _RowHash()))


def _parse_column(spec: ColumnSpec, raw: pl.Series, row_hash: _RowHash) -> pl.Series:
    """A column parsed to its spec dtype, text kept compact (``pl.Enum``) where it repeats.

    ``row_hash`` is fed what identifies the raw value, for duplicate detection: the codes of a
    dictionary-encoded text column, or the value itself.
    """
    value = _typed_fast_path(spec, raw)
    if value is not None:
        row_hash.add(value)
        return value
    text = raw.cast(pl.String)
    if spec.kind is Kind.STR:
        # free text and serial numbers are mostly distinct: trimming every row is cheaper
        row_hash.add(text)
        return nz.clean_text_series(text)
    codes, distinct = nz.encode(text)  # parse each distinct value once
    row_hash.add(codes)
    parsed = pl.DataFrame({"v": distinct}).select(v=PARSERS[spec.kind](pl.col("v"))).to_series().cast(spec.dtype)
    if spec.dtype == pl.String:
        return _spread_text(parsed, codes, distinct, text).alias(raw.name)
    return parsed.gather(codes).alias(raw.name)


def _id_column(c: ColumnSpec, raw: pl.Series, row_hash: _RowHash) -> tuple[pl.Series, dict[str, pl.Series]]:
    """A person-ID or credit-code column normalised, with its derived columns (``_raw``, ``_status``).

    The ID maths runs once per distinct value; the status comes back as :data:`STATUS`, the IDs
    (and raw values) as :func:`_spread_text` gives them.
    """
    table_of = nz.person_id_table if c.kind is Kind.PERSON_ID else nz.uscc_table
    text = raw.cast(pl.String)
    codes, distinct = nz.encode(text)
    row_hash.add(codes)
    ids = table_of(distinct)
    derived = {}
    if c.kind is Kind.PERSON_ID:
        derived[f"{c.name}_raw"] = _spread_text(distinct, codes, distinct, text)
    derived[f"{c.name}_status"] = ids["status"].cast(STATUS).gather(codes)
    return _spread_text(ids["id"], codes, distinct, text).alias(c.name), derived


#: a text column with at most this many distinct values is held as a ``pl.Enum`` while loading.
COMPACT_MAX = 1 << 16


def _spread_text(results: pl.Series, codes: pl.Series, distinct: pl.Series, raw: pl.Series) -> pl.Series:
    """Text results per distinct value (``results[code]`` for the raw value ``distinct[code]``)
    spread back over the rows.

    A column of few distinct values comes back as a ``pl.Enum`` (one or two bytes a row). One of
    many (person IDs) stays text: a ``pl.Enum`` of a million categories is slow to turn back
    into text (every row a random read) when the table is written. Its rows are the raw column
    itself where the result equals the raw value — most rows: exported IDs are mostly clean —
    and the result only where it differs, so they share the raw column's memory.
    """
    if distinct.len() <= COMPACT_MAX:
        return nz.spread(results, codes, compact=True)
    changed = ~results.eq_missing(distinct)
    if not changed.any():
        return raw.alias(results.name)
    rows = changed.gather(codes).fill_null(False).arg_true()  # a copy of the raw column, patched
    return raw.clone().scatter(rows, results.gather(codes.gather(rows))).alias(results.name)


def _typed_fast_path(spec: ColumnSpec, raw: pl.Series) -> pl.Series | None:
    k, dtype = spec.kind, raw.dtype
    if k in (Kind.DATE, Kind.MONTH) and (dtype == pl.Date or isinstance(dtype, pl.Datetime)):
        value = raw.cast(pl.Date)
        return value.dt.month_start() if k is Kind.MONTH else value
    if k is Kind.MONEY and dtype.is_numeric():
        return raw.cast(pl.Float64).round(2)
    if k is Kind.INT and dtype.is_integer():
        return raw.cast(pl.Int64)
    if k is Kind.BOOL and dtype == pl.Boolean:
        return raw
    return None


def _blank(raw: pl.Series) -> pl.Series:
    if raw.dtype == pl.String:
        return nz.clean_text_series(raw).is_null()
    return raw.is_null()


def _as_text(series: pl.Series) -> pl.Series:
    return series.cast(pl.String) if isinstance(series.dtype, (pl.Enum, pl.Categorical)) else series


@dataclass
class NormalisedTable:
    """One table normalised: every row read, which of them are kept, and how to finalise them.

    ``columns`` holds every row read (quarantined rows and collapsed copies included) in compact
    dtypes — repeated text as ``pl.Enum``, the source as ``_src`` — with ``_keep`` marking the
    rows the table keeps (absent when it keeps them all). :meth:`plan` is the normalised table
    itself, lazily: the kept rows, text as text, ``_file`` named, in the spec's column order.
    Collecting it gives the in-memory table; sinking it to Parquet streams it out without a
    second copy of the columns in memory.
    """

    spec: TableSpec
    columns: pl.DataFrame
    labels: list[str]  # file label per _src
    order: list[str]  # the normalised table's columns
    quarantine: pl.DataFrame
    counts: pl.DataFrame
    height: int  # rows kept

    def plan(self) -> pl.LazyFrame:
        schema = self.columns.schema
        text = {name: pl.col(name).cast(pl.String) if isinstance(dtype, (pl.Enum, pl.Categorical)) else pl.col(name)
                for name, dtype in schema.items()}
        exprs = []
        for name in self.order:
            if name == "_file":
                exprs.append(_label_of_src(self.labels).alias("_file"))
            elif self.spec.name == "trainees" and name == "birth_date":
                exprs.append(nz.person_birth_date(text["person_id"]).alias(name))
            elif self.spec.name == "trainees" and name == "sex":
                exprs.append(nz.person_sex(text["person_id"]).alias(name))
            else:
                exprs.append(text[name].alias(name))
        lf = self.columns.lazy()
        if "_keep" in schema:
            lf = lf.filter(pl.col("_keep"))
        return lf.select(exprs)

    def frame(self) -> pl.DataFrame:
        return self.plan().collect()


def normalise_table(spec: TableSpec, sources: list[RawSource]) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """(normalised table, its quarantine lines, its counts per file) from the raw sources."""
    table = normalise(spec, sources)
    return table.frame(), table.quarantine, table.counts


def normalise(spec: TableSpec, sources: list[RawSource]) -> NormalisedTable:
    """The table normalised from its raw sources (see :class:`NormalisedTable`); the sources'
    frames are consumed.

    Column by column, so a 30 M-row table holds at most one raw column beside the normalised
    ones: a raw column is dropped once parsed (person IDs excepted: they keep it as
    ``<col>_raw``); text that repeats is dictionary-encoded (:func:`audit.normalise.encode`),
    parsed once per distinct value and kept compact (:func:`_spread_text`); a row is first
    flagged by cheap null tests, and only the flagged cells are examined for their reasons. Rows are not
    filtered here: quarantined rows and collapsed copies are only marked (``_keep``), and
    dropped as the table is finalised (:meth:`NormalisedTable.plan`).
    """
    t0, c0 = time.perf_counter(), time.process_time()
    extras: list[str] = []
    for src in sources:
        extras += [e for e in src.extras if e not in extras]
    columns = _Columns(sources)
    n = columns.height
    truncated = pl.repeat(False, n, eager=True)
    for i, src in enumerate(sources):
        if src.truncated_line is not None:
            truncated = truncated | ((columns["_src"] == i) & (columns["_line"] == src.truncated_line))

    values: dict[str, pl.Series] = {}
    derived: dict[str, pl.Series] = {}
    reasons: list[pl.DataFrame] = []
    row_hash = _RowHash()
    for c in spec.columns:
        col = columns.pop(c.name)
        if col is None:
            col = pl.repeat(None, n, dtype=pl.String, eager=True).alias(c.name)
        if c.kind in (Kind.PERSON_ID, Kind.USCC):
            value, more = _id_column(c, col, row_hash)
            derived.update(more)
            del more
        else:
            value = _parse_column(c, col, row_hash)
        values[c.name] = value.alias(c.name)
        reasons += _cell_reasons(c, col, value)
        del col, value
        log.debug("%s.%s: %.1f s, cpu %.1f s, rss %.2f GB", spec.name, c.name, time.perf_counter() - t0,
                  time.process_time() - c0, _rss_gb())
    reasons.append(pl.DataFrame({"_pos": truncated.arg_true()}).with_columns(
        column=pl.lit(""), value=pl.lit(None, pl.String), reason=pl.lit(TRUNCATED)))
    del truncated
    qlines = pl.concat(reasons).sort("_pos", maintain_order=True)
    qlines = qlines.with_columns(_src=columns["_src"].gather(qlines["_pos"]), _line=columns["_line"].gather(qlines["_pos"]))
    labels = [s.label for s in sources]
    quarantine = qlines.select(
        table=pl.lit(spec.name), file=_label_of_src(labels), line="_line", column="column", value="value", reason="reason",
    )
    log.debug("%s: parsed %d rows in %.1f s", spec.name, n, time.perf_counter() - t0)

    # every row in the spec's shape: spec columns, _src/_line, derived, extras; then _dup_rows, _keep
    read_per_src = columns["_src"].value_counts(name="rows_read")
    extra_cols = [columns.pop(e) for e in extras]
    for col in extra_cols:
        row_hash.add(col)
    table = pl.DataFrame([*values.values(), columns.pop("_src"), columns.pop("_line"),
                          *[s.alias(k) for k, s in derived.items()], *extra_cols])
    derived_names = list(derived)
    del values, derived, columns, extra_cols
    bad_pos = qlines["_pos"].unique()
    good = pl.repeat(True, n, eager=True).scatter(bad_pos, False) if bad_pos.len() else None
    data_cols = [c for c in table.columns if c not in ("_src", "_line")]
    dup_rows, not_copy, removed = find_duplicates(table, data_cols, row_hash.value, good)
    del row_hash
    keep = good if not_copy is None else not_copy if good is None else good & not_copy
    table = table.with_columns(dup_rows.alias("_dup_rows"))
    if keep is not None:
        table = table.with_columns(keep.alias("_keep"))
    log.debug("%s: duplicates, %.1f s, cpu %.1f s, rss %.2f GB", spec.name, time.perf_counter() - t0,
              time.process_time() - c0, _rss_gb())
    if spec.name == "trainees":
        derived_names += ["birth_date", "sex"]
    kept_src = table["_src"] if keep is None else table["_src"].filter(keep)
    counts = _counts(spec, sources, read_per_src, qlines, kept_src.value_counts(name="rows_kept"), removed)
    order = [*spec.names, "_file", "_line", "_dup_rows", *derived_names, *extras]
    return NormalisedTable(spec, table, labels, order, quarantine, counts, kept_src.len())


def _rss_gb() -> float:
    """Current resident memory (for the debug log only)."""
    try:
        with open("/proc/self/statm") as fh:
            return int(fh.read().split()[1]) * 4096 / 1e9
    except OSError:
        return 0.0


def _cell_reasons(c: ColumnSpec, raw: pl.Series, value: pl.Series) -> list[pl.DataFrame]:
    """Quarantine lines (``_pos``, column, value, reason) for one column's unreadable cells.

    Cheap null tests pick the candidate rows; only those are checked for blankness, so a
    whitespace-only optional cell is not mistaken for an unreadable one.
    """
    if c.not_null:
        suspect = value.is_null()
    elif c.kind in REASONS and raw.dtype == pl.String:
        suspect = value.is_null() & raw.is_not_null()
    else:
        return []
    pos = suspect.arg_true()
    if not pos.len():
        return []
    sub_raw, sub_value = raw.gather(pos), value.gather(pos)
    blank = _blank(sub_raw)
    out = []
    if c.not_null:
        out.append(pl.DataFrame({"_pos": pos.filter(blank)}).with_columns(
            column=pl.lit(c.name), value=pl.lit(None, pl.String), reason=pl.lit(MISSING)))
    if c.kind in REASONS:
        bad = ~blank & sub_value.is_null()
        out.append(pl.DataFrame({"_pos": pos.filter(bad), "value": sub_raw.filter(bad).cast(pl.String)}).with_columns(
            column=pl.lit(c.name), reason=pl.lit(REASONS[c.kind])).select("_pos", "column", "value", "reason"))
    return out


def _label_of_src(labels: list[str]) -> pl.Expr:
    if len(labels) == 1:
        return pl.lit(labels[0], pl.String)
    return pl.col("_src").replace_strict(list(range(len(labels))), labels, return_dtype=pl.String)


class _RowHash:
    """A hash per row over the columns added, folded one column at a time (one u64 a row).

    Only a filter for candidate duplicates, which are then compared exactly: equal rows must
    hash equal, and unequal ones rarely do. Each column's own hash is folded in by a wrapping
    multiply-add, so only one 64-bit column is ever held.
    """

    _MIX = pl.Series([0x9E3779B97F4A7C15], dtype=pl.UInt64)
    _NULL_CODE = pl.Series([1 << 32], dtype=pl.UInt64)  # no code is this large

    def __init__(self) -> None:
        self.value: pl.Series | None = None

    def add(self, part: pl.Series) -> None:
        """Fold in a column: dictionary codes (UInt32) as they are, any other column's hash."""
        h = part.cast(pl.UInt64).fill_null(self._NULL_CODE) if part.dtype == pl.UInt32 else part.hash()
        self.value = h if self.value is None else self.value * self._MIX + h


class _Columns:
    """The raw columns of a table's sources, concatenated, handed out one at a time."""

    def __init__(self, sources: list[RawSource]) -> None:
        self.sources = sources
        self.heights = [s.frame.height for s in sources]
        self.height = sum(self.heights)
        self._extra = {
            "_src": pl.concat([pl.repeat(i, h, dtype=pl.UInt16, eager=True) for i, h in enumerate(self.heights)]).alias("_src"),
            "_line": pl.concat([s.frame["_line"] for s in sources]).alias("_line"),
        }
        self._taken: set[str] = set()

    def __getitem__(self, name: str) -> pl.Series:
        return self._extra[name]

    def pop(self, name: str) -> pl.Series | None:
        """The column (null where a source lacks it), or None when no source has it."""
        if name in self._extra:
            return self._extra.pop(name)
        parts = [s.column(name) for s in self.sources]
        if all(p is None for p in parts):
            return None
        dtype = next(p.dtype for p in parts if p is not None)
        if len(parts) > 1 and any(p is None or p.dtype != dtype for p in parts):
            parts = [pl.repeat(None, h, dtype=pl.String, eager=True) if p is None else p.cast(pl.String)
                     for p, h in zip(parts, self.heights)]
        for s in self.sources:  # free the raw column as soon as it is handed out
            if name in s.frame.columns:
                s.frame = s.frame.drop(name)
        return (pl.concat(parts) if len(parts) > 1 else parts[0]).alias(name)


def find_duplicates(table: pl.DataFrame, data_cols: list[str], row_hash: pl.Series | None = None,
                    good: pl.Series | None = None) -> tuple[pl.Series, pl.Series | None, pl.DataFrame]:
    """Exact duplicate rows: (``_dup_rows`` per row, rows that are not a removed copy or None,
    removed copies per source).

    A duplicate is folded into its first occurrence, which stays where it was and carries the
    count. A row hash finds candidate duplicates cheaply; only rows whose hash repeats are
    compared exactly (grouped on every data column), so a table without duplicates costs one
    hash pass. Rows outside ``good`` (quarantined ones) are neither folded nor folded into.
    """
    ones = pl.repeat(1, table.height, dtype=pl.Int64, eager=True).alias("_dup_rows")
    no_removed = pl.DataFrame(schema={"_src": pl.UInt16, "n": pl.UInt32})
    if table.height < 2:
        return ones, None, no_removed
    if row_hash is None or row_hash.len() != table.height:
        row_hash = table.select(pl.struct(data_cols).hash()).to_series()
    ordered = row_hash.sort()  # repeated hashes by sorting: several times quicker than is_duplicated
    repeated = ordered.filter(ordered == ordered.shift(1)).unique()
    del ordered
    if not repeated.len():
        return ones, None, no_removed
    candidate = row_hash.is_in(repeated.implode())
    if good is not None:
        candidate = candidate & good
    if not candidate.any():
        return ones, None, no_removed
    pos = candidate.arg_true()
    groups = (
        table.select(data_cols).gather(pos)
        .with_columns(_pos=pos)
        .with_columns(_first=pl.col("_pos").min().over(data_cols), _count=pl.len().over(data_cols).cast(pl.Int64))
    )
    firsts = groups.filter(pl.col("_pos") == pl.col("_first"))
    dropped = groups.filter(pl.col("_pos") != pl.col("_first"))["_pos"]
    if not dropped.len():
        return ones, None, no_removed
    dup_rows = ones.scatter(firsts["_pos"], firsts["_count"])
    removed = table["_src"].gather(dropped).value_counts(name="n").cast({"n": pl.UInt32})
    keep = pl.repeat(True, table.height, eager=True).scatter(dropped, False)
    return dup_rows, keep, removed


def _counts(spec: TableSpec, sources: list[RawSource], read_per_src: pl.DataFrame, qlines: pl.DataFrame,
            kept_per_src: pl.DataFrame, removed: pl.DataFrame) -> pl.DataFrame:
    read_per_src = read_per_src.cast({"_src": pl.UInt16})
    quarantined = qlines.unique("_pos").group_by("_src").agg(rows_quarantined=pl.len())
    base = pl.DataFrame({"_src": list(range(len(sources))), "file": [s.label for s in sources],
                         "blank_lines": [s.blank_lines for s in sources]}, schema_overrides={"_src": pl.UInt16})
    out = (
        base.join(read_per_src, on="_src", how="left").join(quarantined, on="_src", how="left")
        .join(kept_per_src.cast({"_src": pl.UInt16}), on="_src", how="left")
        .join(removed.rename({"n": "duplicates_collapsed"}), on="_src", how="left")
        .with_columns(table=pl.lit(spec.name))
    )
    return out.select(
        [pl.col(name).fill_null(0).cast(dtype) if dtype == pl.Int64() else pl.col(name)
         for name, dtype in COUNTS_SCHEMA.items()]
    )


# ---------------------------------------------------------------------------------------------
# the whole input directory


def load_inputs(input_dir: Path, out_dir: Path | None = None) -> LoadResult:
    """Read and normalise every table of the contract found in ``input_dir``.

    Raises :class:`InputError` (one message, all structural problems listed) when the input
    cannot be used. Every table is loaded before anything is returned, so a caller that writes
    only after this call never leaves half-written output.

    Without ``out_dir`` the normalised tables are held in memory (``LoadResult.tables``). With
    it — the run's output directory — each table is written to Parquet as soon as it is
    normalised, into the hidden ``out_dir/.normalised.partial/``, and dropped from memory; only
    :meth:`LoadResult.write` moves the files into ``out_dir/normalised/``. If loading fails, the
    stage is removed again: nothing of the load is left in ``out_dir``.
    """
    input_dir = Path(input_dir)
    if not input_dir.is_dir():
        raise InputError(f"{input_dir}: not a directory")
    paths, notes = discover(input_dir)
    errors: list[str] = []
    raw: dict[str, list[RawSource]] = {}
    for table, path in paths.items():
        spec = SPECS[table]
        reader = READERS[path.suffix.lower()]
        sources = reader(path, spec, notes, errors)
        if sources:
            raw[table] = sources
    for table, sources in raw.items():
        if SPECS[table].required and sum(s.frame.height for s in sources) == 0:
            errors.append(f"{paths[table].name}: required table {table} ({SPECS[table].zh}) has no rows")
    if errors:
        raise InputError("\n".join(errors) if len(errors) > 1 else errors[0])

    stage = _Stage(Path(out_dir)) if out_dir is not None else None
    order = list(raw)  # the tables in the order found: the order of the counts and the quarantine
    loaded: dict[str, NormalisedTable] = {}
    tables: dict[str, pl.DataFrame] = {}
    files = {t: [s.label for s in raw.get(t, [])] for t in paths}
    unknown = {t: list(dict.fromkeys(e for s in sources for e in s.extras)) for t, sources in raw.items()}
    try:
        # staged, the largest table first, and each written by a worker thread while the next
        # (smaller) one is normalised: at most one table written and one normalised at a time
        work = sorted(order, key=lambda t: -sum(s.frame.height for s in raw[t])) if stage else order
        with ThreadPoolExecutor(max_workers=1) as writer:
            writing = None
            for table in work:
                normalised = normalise(SPECS[table], raw.pop(table))  # the raw frames go with it
                if stage is None:
                    tables[table] = normalised.frame()
                else:
                    if writing is not None:
                        writing.result()
                    writing = writer.submit(_stage_table, normalised, stage.path / f"{table}.parquet")
                loaded[table] = replace(normalised, columns=pl.DataFrame())  # the counts, not the rows
                log.debug("loaded %s: %d rows kept", table, normalised.height)
                del normalised
            if writing is not None:
                writing.result()
    except BaseException:
        if stage is not None:
            stage.remove()
        raise
    quarantines = [loaded[t].quarantine for t in order]
    counts = [loaded[t].counts for t in order]
    quarantine = pl.concat(quarantines) if quarantines else pl.DataFrame(schema=QUARANTINE_SCHEMA)
    heights = {t: loaded[t].height for t in order}
    return LoadResult(
        tables={t: tables[t] for t in order} if stage is None else StagedTables(stage.path, order),
        quarantine=quarantine.cast(QUARANTINE_SCHEMA),  # type: ignore[arg-type]
        counts=pl.concat(counts) if counts else pl.DataFrame(schema=COUNTS_SCHEMA),
        unknown_columns=unknown,
        files=files,
        notes=notes,
        heights=heights,
    )


def _stage_table(table: NormalisedTable, path: Path) -> None:
    t0, c0 = time.perf_counter(), time.process_time()
    table.plan().sink_parquet(path, **PARQUET_OPTIONS)
    log.debug("%s: staged in %.1f s, cpu %.1f s (all threads), rss %.2f GB", table.spec.name,
              time.perf_counter() - t0, time.process_time() - c0, _rss_gb())


class _Stage:
    """The hidden directory a staged load writes its tables into (``out_dir/.normalised.partial``).

    A stage left by a load that was killed is cleared first. :meth:`remove` takes the stage
    away again, and the output directory too when the load created it and it is empty.
    """

    def __init__(self, out_dir: Path) -> None:
        self.path = out_dir / STAGE_DIR
        self.created = [p for p in (out_dir, *out_dir.parents) if not p.exists()]
        if self.path.exists():
            shutil.rmtree(self.path)
        self.path.mkdir(parents=True)

    def remove(self) -> None:
        shutil.rmtree(self.path, ignore_errors=True)
        for directory in self.created:  # innermost first
            try:
                directory.rmdir()
            except OSError:
                break
