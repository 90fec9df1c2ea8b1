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
Nothing is written until every table has loaded.
"""

from __future__ import annotations

import codecs
import csv
import io
import logging
from dataclasses import dataclass, field
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


@dataclass
class LoadResult:
    tables: dict[str, pl.DataFrame]  # normalised tables present in the input, by canonical name
    quarantine: pl.DataFrame  # QUARANTINE_SCHEMA
    counts: pl.DataFrame  # table, file, rows_read, rows_kept, rows_quarantined, duplicates_collapsed, blank_lines
    unknown_columns: dict[str, list[str]] = field(default_factory=dict)
    files: dict[str, list[str]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def write(self, out_dir: Path) -> None:
        """normalised/<table>.parquet, quarantine.csv (UTF-8 with BOM, for Excel), load_counts.csv."""
        out_dir = Path(out_dir)
        norm = out_dir / "normalised"
        norm.mkdir(parents=True, exist_ok=True)
        for name, frame in self.tables.items():
            tmp = norm / f".{name}.parquet.tmp"
            frame.write_parquet(tmp, compression="lz4", statistics=False)
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
    reserved = set(spec.names) | {"_file", "_line", "_dup_rows", "birth_date", "sex"}
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
    try:
        frame = pl.read_parquet(path)
    except (pl.exceptions.PolarsError, OSError) as exc:
        raise InputError(f"{path.name}: not a readable Parquet file ({str(exc).splitlines()[0]})") from None
    frame = frame.with_row_index("_line", offset=2).with_columns(pl.col("_line").cast(pl.Int64))
    src = _raw_source(frame, spec, path.name, notes, errors)
    return [src] if src is not None else []


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
        [pl.col(c).is_null() | (pl.col(c).cast(pl.String).str.strip_chars() == "") for c in data_cols]
    )
    n_blank = int(frame.select(blank.sum()).item()) if frame.height else 0
    if n_blank:
        frame = frame.filter(~blank)
    extras = [c for c in data_cols if c not in spec.names]
    return RawSource(label, frame, extras, blank_lines=n_blank)


READERS = {".csv": read_csv, ".parquet": read_parquet, ".xlsx": read_xlsx}


# ---------------------------------------------------------------------------------------------
# normalising one table


def _as_text(col: str) -> pl.Expr:
    return pl.col(col).cast(pl.String)


def parse_column(spec: ColumnSpec, dtype: pl.DataType) -> pl.Expr:
    """The column parsed to its spec dtype; typed Parquet columns take a fast path."""
    col = pl.col(spec.name)
    k = spec.kind
    if k in (Kind.DATE, Kind.MONTH):
        if dtype == pl.Date or isinstance(dtype, pl.Datetime):
            value = col.cast(pl.Date)
            return value.dt.month_start() if k is Kind.MONTH else value
        return nz.parse_month(_as_text(spec.name)) if k is Kind.MONTH else nz.parse_date(_as_text(spec.name))
    if k is Kind.MONEY:
        if dtype.is_numeric():
            return col.cast(pl.Float64).round(2)
        return nz.parse_money(_as_text(spec.name))
    if k is Kind.INT:
        if dtype.is_integer():
            return col.cast(pl.Int64)
        return nz.parse_int(_as_text(spec.name))
    if k is Kind.BOOL:
        if dtype == pl.Boolean:
            return col
        return nz.parse_bool(_as_text(spec.name))
    if k is Kind.COUNTY:
        return nz.clean_code(_as_text(spec.name)).str.replace(r"\.0+$", "")
    return nz.clean_text(_as_text(spec.name))  # STR, ENUM (ID kinds are handled apart)


def _present(spec: ColumnSpec, dtype: pl.DataType) -> pl.Expr:
    """Whether the raw cell holds anything (blank strings count as empty)."""
    if dtype == pl.String:
        return nz.clean_text(pl.col(spec.name)).is_not_null()
    return pl.col(spec.name).is_not_null()


def normalise_table(spec: TableSpec, sources: list[RawSource]) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """(normalised table, its quarantine lines, its counts per file) from the raw sources."""
    extras: list[str] = []
    for src in sources:
        extras += [e for e in src.extras if e not in extras]
    frames = []
    for i, src in enumerate(sources):
        frame = src.frame.with_columns(
            [pl.col(e).cast(pl.String) for e in src.extras],
            _src=pl.lit(i, pl.UInt16),
            _truncated=(pl.col("_line") == src.truncated_line) if src.truncated_line else pl.lit(False),
        )
        frames.append(frame)
    raw = pl.concat(frames, how="diagonal_relaxed") if len(frames) > 1 else frames[0]
    raw = raw.with_columns([pl.lit(None, pl.String).alias(c.name) for c in spec.columns if c.name not in raw.columns])
    dtypes = raw.schema

    id_cols = [c for c in spec.columns if c.kind in (Kind.PERSON_ID, Kind.USCC)]
    value_cols = [c for c in spec.columns if c.kind not in (Kind.PERSON_ID, Kind.USCC)]
    # IDs: normalised over their distinct values (see normalise.map_distinct)
    id_parts = {}
    for c in id_cols:
        table_of = nz.person_id_table if c.kind is Kind.PERSON_ID else nz.uscc_table
        id_parts[c.name] = nz.map_distinct(raw[c.name].cast(pl.String), table_of)

    # reasons a row cannot be read, one column per spec column (null = fine)
    reason_exprs = []
    for c in spec.columns:
        present = _present(c, dtypes[c.name])
        parsed = pl.col(f"__v_{c.name}")
        reason = pl.when(~present).then(pl.lit(MISSING)) if c.not_null else None
        if c.kind in REASONS:
            bad = present & parsed.is_null()
            reason = (reason.when(bad) if reason is not None else pl.when(bad)).then(pl.lit(REASONS[c.kind]))
        if reason is not None:
            reason_exprs.append(reason.otherwise(pl.lit(None, pl.String)).alias(f"__r_{c.name}"))

    lf = raw.lazy().with_columns(
        *[parse_column(c, dtypes[c.name]).alias(f"__v_{c.name}") for c in value_cols],
        *[pl.lit(id_parts[c.name]["id"]).alias(f"__v_{c.name}") for c in id_cols],
        _seq=pl.int_range(pl.len(), dtype=pl.Int64),
    ).with_columns(reason_exprs)
    reason_cols = [e.meta.output_name() for e in reason_exprs]
    bad_row = pl.any_horizontal([pl.col(r).is_not_null() for r in reason_cols] + [pl.col("_truncated")])
    staged = lf.with_columns(_bad=bad_row).collect()

    # the quarantine: one line per failing cell, plus the truncation itself
    bad_rows = staged.filter(pl.col("_bad"))
    q_parts = []
    for c in spec.columns:
        rc = f"__r_{c.name}"
        if rc in staged.columns:
            q_parts.append(
                bad_rows.filter(pl.col(rc).is_not_null()).select(
                    "_seq", "_src", "_line", column=pl.lit(c.name), reason=pl.col(rc),
                    value=pl.when(nz.clean_text(_as_text(c.name)).is_not_null()).then(_as_text(c.name)),
                )
            )
    q_parts.append(bad_rows.filter("_truncated").select(
        "_seq", "_src", "_line", column=pl.lit(""), reason=pl.lit(TRUNCATED), value=pl.lit(None, pl.String)
    ))
    quarantine = pl.concat(q_parts).sort("_seq", maintain_order=True).select(
        table=pl.lit(spec.name), file=_label_of_src(sources), line="_line", column="column", value="value",
        reason="reason",
    )

    # the kept rows, in the spec's shape
    out_cols = []
    for c in spec.columns:
        out_cols.append(pl.col(f"__v_{c.name}").cast(c.dtype).alias(c.name))
    derived = []
    for c in id_cols:
        derived.append(pl.col(c.name).cast(pl.String).alias(f"{c.name}_raw") if c.kind is Kind.PERSON_ID else None)
        derived.append(pl.lit(id_parts[c.name]["status"]).alias(f"{c.name}_status"))
    kept = staged.with_columns(
        [e for e in derived if e is not None]
    ).filter(~pl.col("_bad"))
    derived_names = [n for c in id_cols for n in ((f"{c.name}_raw", f"{c.name}_status") if c.kind is Kind.PERSON_ID else (f"{c.name}_status",))]
    kept = kept.select(*out_cols, "_src", "_line", "_seq", *derived_names, *[pl.col(e) for e in extras])
    kept, dup_removed = collapse_duplicates(kept, [c.name for c in spec.columns] + derived_names + extras)
    if spec.name == "trainees":
        kept = kept.with_columns(
            birth_date=nz.person_birth_date(pl.col("person_id")), sex=nz.person_sex(pl.col("person_id"))
        )
        derived_names += ["birth_date", "sex"]
    final = kept.sort("_seq").select(
        *[c.name for c in spec.columns],
        _label_of_src(sources).alias("_file"),
        "_line",
        "_dup_rows",
        *derived_names,
        *extras,
    )

    counts = _counts(spec, sources, staged, kept, dup_removed)
    return final, quarantine, counts


def _label_of_src(sources: list[RawSource]) -> pl.Expr:
    return pl.col("_src").replace_strict(
        list(range(len(sources))), [s.label for s in sources], return_dtype=pl.String
    )


def collapse_duplicates(kept: pl.DataFrame, data_cols: list[str]) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Exact duplicate rows folded into their first occurrence; the removed copies per source.

    A row hash finds candidate duplicates cheaply; only rows whose hash repeats are compared
    exactly (by grouping on every data column), so a table without duplicates costs one hash.
    """
    hashed = kept.with_columns(_h=pl.struct(data_cols).hash())
    candidate = hashed.select(pl.col("_h").is_duplicated()).to_series()
    if not candidate.any():
        return kept.with_columns(_dup_rows=pl.lit(1, pl.Int64)), pl.DataFrame(schema={"_src": pl.UInt16, "n": pl.UInt32})
    unique_rows = hashed.filter(~candidate).drop("_h").with_columns(_dup_rows=pl.lit(1, pl.Int64))
    repeated = hashed.filter(candidate).drop("_h")
    grouped = (
        repeated.with_columns(
            _first=pl.col("_seq").min().over(data_cols, order_by=None),
            _count=pl.len().over(data_cols).cast(pl.Int64),
        )
    )
    folded = grouped.filter(pl.col("_seq") == pl.col("_first")).with_columns(_dup_rows=pl.col("_count")).drop("_first", "_count")
    removed = grouped.filter(pl.col("_seq") != pl.col("_first")).group_by("_src").agg(n=pl.len())
    return pl.concat([unique_rows, folded], how="vertical_relaxed"), removed


def _counts(spec: TableSpec, sources: list[RawSource], staged: pl.DataFrame, kept: pl.DataFrame,
            dup_removed: pl.DataFrame) -> pl.DataFrame:
    per_src = staged.group_by("_src").agg(rows_read=pl.len(), rows_quarantined=pl.col("_bad").sum())
    kept_src = kept.group_by("_src").agg(rows_kept=pl.len())
    base = pl.DataFrame({"_src": list(range(len(sources))), "file": [s.label for s in sources],
                         "blank_lines": [s.blank_lines for s in sources]}, schema_overrides={"_src": pl.UInt16})
    out = (
        base.join(per_src, on="_src", how="left").join(kept_src, on="_src", how="left")
        .join(dup_removed.rename({"n": "duplicates_collapsed"}), on="_src", how="left")
        .with_columns(table=pl.lit(spec.name))
    )
    return out.select(
        [pl.col(name).fill_null(0).cast(dtype) if dtype == pl.Int64() else pl.col(name) for name, dtype in COUNTS_SCHEMA.items()]
    )


# ---------------------------------------------------------------------------------------------
# the whole input directory


def load_inputs(input_dir: Path) -> LoadResult:
    """Read and normalise every table of the contract found in ``input_dir``.

    Raises :class:`InputError` (one message, all structural problems listed) when the input
    cannot be used. Every table is loaded before anything is returned, so a caller that writes
    only after this call never leaves half-written output.
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

    tables: dict[str, pl.DataFrame] = {}
    quarantines, counts = [], []
    unknown: dict[str, list[str]] = {}
    for table, sources in raw.items():
        spec = SPECS[table]
        frame, quarantine, table_counts = normalise_table(spec, sources)
        tables[table] = frame
        quarantines.append(quarantine)
        counts.append(table_counts)
        extras = [e for s in sources for e in s.extras]
        unknown[table] = list(dict.fromkeys(extras))
        log.debug("loaded %s: %d rows kept", table, frame.height)
    quarantine = pl.concat(quarantines) if quarantines else pl.DataFrame(schema=QUARANTINE_SCHEMA)
    return LoadResult(
        tables=tables,
        quarantine=quarantine.cast(QUARANTINE_SCHEMA),  # type: ignore[arg-type]
        counts=pl.concat(counts) if counts else pl.DataFrame(schema=COUNTS_SCHEMA),
        unknown_columns=unknown,
        files={t: [s.label for s in raw.get(t, [])] for t in paths},
        notes=notes,
    )
