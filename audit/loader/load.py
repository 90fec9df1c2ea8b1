"""The whole input directory: every table read and normalised, staged to Parquet as it goes."""

from __future__ import annotations

import contextlib
import logging
import shutil
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import polars as pl

from audit import normalise as nz
from audit.loader import references
from audit.loader.discovery import InputError, digest_files, discover, table_named
from audit.loader.headers import shown_name
from audit.loader.normalised import (
    COUNTS_SCHEMA,
    QUARANTINE_SCHEMA,
    QUARANTINED_ROWS_SCHEMA,
    NormalisedTable,
    normalise,
    rss_gb,
)
from audit.loader.readers import READERS, RawSource
from audit.masking import mask
from audit.outpaths import inside, write_csv
from audit.schema import SPECS

log = logging.getLogger("audit.loader")

#: how many unknown columns of a table the reconciliation names (the rest are counted).
_NOTE_COLUMNS = 20
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
    files: dict[str, list[str]] = field(default_factory=dict)  # table → its sources (file, or file#sheet)
    #: the audit trail: every input file read, as :func:`digest_files` gives it (path, bytes, sha256)
    input_files: list[dict[str, Any]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    heights: dict[str, int] = field(default_factory=dict)  # rows kept per table
    #: one row per quarantined row, placed by its readable cells (QUARANTINED_ROWS_SCHEMA): written
    #: as quarantine.parquet beside quarantine.csv, the rules' ``Tables.quarantine``
    quarantined_rows: pl.DataFrame = field(default_factory=lambda: pl.DataFrame(schema=QUARANTINED_ROWS_SCHEMA))
    #: table → the contract's columns none of its files had (filled with nulls), and those read as
    #: not exported because every cell was blank (``ColumnSpec.blank_is_unexported``: 补贴类型)
    absent_columns: dict[str, list[str]] = field(default_factory=dict)
    #: optional tables read as not exported because no row of theirs could be read
    #: (:attr:`audit.schema.TableSpec.empty_is_unexported`): staged, but given to no rule
    empty_tables: list[str] = field(default_factory=list)

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
        """normalised/<table>.parquet, quarantine.csv (UTF-8 with BOM, for Excel; formula-safe:
        :func:`audit.outpaths.write_csv`), load_counts.csv.

        A staged load's files are moved from the stage into ``normalised/`` (a rename each), and
        the stage removed.
        """
        out_dir = Path(out_dir)
        norm = inside(out_dir, "normalised")
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
                tmp = inside(norm, f".{name}.parquet.tmp")
                frame.write_parquet(tmp, **PARQUET_OPTIONS)
                tmp.replace(inside(norm, f"{name}.parquet"))
        self.quarantined_rows.write_parquet(inside(out_dir, "quarantine.parquet"))
        # formula-safe: a clerk opens the quarantine in Excel (a value may begin with =)
        write_csv(self.quarantine, inside(out_dir, "quarantine.csv"), bom=True)
        write_csv(self.counts, inside(out_dir, "load_counts.csv"))

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
        lines.extend(self.reading_notes())
        return "\n".join(lines)

    def reading_notes(self) -> list[str]:
        """What the reading of the inputs should tell its reader, one line each: columns not in
        the contract (kept as text), files not read, spellings read as blank, units converted,
        sheets skipped. ``audit run`` records them in run.json (``input_notes``), prints them and
        shows them in the report. A note names files, columns and closed-vocabulary values, never
        personal data: masked anyway."""
        lines = []
        for table, cols in self.unknown_columns.items():
            if cols:
                shown = ", ".join(shown_name(c) for c in cols[:_NOTE_COLUMNS])
                more = f" … (+{len(cols) - _NOTE_COLUMNS})" if len(cols) > _NOTE_COLUMNS else ""
                lines.append(f"{SPECS[table].zh}：合同外的列，保留为文本：{shown}{more} / unknown columns kept as text: "
                             f"{table}: {shown}{more}")
        return lines + [mask(note) for note in self.notes]


def note_zh(note: str) -> str:
    """A reading note's Chinese part: what comes before its `` / `` (every note is written
    ``中文 / English``), for the terminal and the report."""
    return note.split(" / ", 1)[0]


def load_inputs(input_dir: Path, out_dir: Path | None = None, only: Iterable[str] | None = None,
                staged: Callable[[str, Path, int], None] | None = None) -> LoadResult:
    """Read and normalise every table of the contract found in ``input_dir``.

    Raises :class:`InputError` (one message, all structural problems listed) when the input
    cannot be used. Every file read is recorded in ``LoadResult.input_files`` with its size and
    SHA-256, so a run can say which data it audited. Every table is loaded before anything is returned, so a caller that writes
    only after this call never leaves half-written output.

    Without ``out_dir`` the normalised tables are held in memory (``LoadResult.tables``). With
    it — the run's output directory — each table is written to Parquet as soon as it is
    normalised, into the hidden ``out_dir/.normalised.partial/``, and dropped from memory; only
    :meth:`LoadResult.write` moves the files into ``out_dir/normalised/``. If loading fails, the
    stage is removed again: nothing of the load is left in ``out_dir``. With ``only``, just those
    tables are read (``audit reference check`` reads the claims, units and reference tables).
    A staged load calls ``staged(table, path, rows)`` as each table's file is complete (from the
    writer thread, one table after another): the run validates it meanwhile.
    """
    input_dir = Path(input_dir)
    if not input_dir.is_dir():
        raise InputError(f"{input_dir}: not a directory")
    paths, notes = discover(input_dir, only)
    with _unreadable_is_input_error():
        input_files = digest_files(input_dir, paths.values())  # 0.2 s for 250 MB (bench/NOTES.md)
    errors: list[str] = []
    raw: dict[str, list[RawSource]] = {}
    for table, path in paths.items():
        spec = SPECS[table]
        reader = READERS[path.suffix.lower()]
        with _unreadable_is_input_error(path):
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
    # the unit register's 组织机构代码: a registry that writes a unit by its old code is read by them
    org_codes = _org_codes(raw.get("units"))
    # a number one table gives another by (a claim's agreement), read as the register writes it
    numbers = references.registers(raw)
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
                # the raw frames go with it; the register's own codes are read as written
                normalised = normalise(SPECS[table], raw.pop(table), org_codes=None if table == "units" else org_codes,
                                       registers=numbers.get(table))
                if stage is None:
                    tables[table] = normalised.frame()
                else:
                    if writing is not None:
                        writing.result()
                    writing = writer.submit(_stage_table, normalised, stage.path / f"{table}.parquet", staged)
                notes.extend(normalised.notes)
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
    placed = [loaded[t].quarantined_rows for t in order if loaded[t].quarantined_rows is not None]
    quarantined_rows = pl.concat(placed) if placed else pl.DataFrame(schema=QUARANTINED_ROWS_SCHEMA)
    heights = {t: loaded[t].height for t in order}
    empty = [t for t in order if SPECS[t].empty_is_unexported and heights[t] == 0]
    for t in empty:
        read = sum(int(n) for n in loaded[t].counts["rows_read"])
        notes.append(f"{SPECS[t].zh}：{'没有数据行' if not read else f'{read:,} 行全部无法读取'}，按未导出处理，"
                     f"依赖它的规则不运行 / {t}: no row {'exported' if not read else 'could be read'}: read as not "
                     "exported; the rules that need it do not run")
    return LoadResult(
        tables={t: tables[t] for t in order} if stage is None else StagedTables(stage.path, order),
        quarantine=quarantine.cast(QUARANTINE_SCHEMA),  # type: ignore[arg-type]
        counts=pl.concat(counts) if counts else pl.DataFrame(schema=COUNTS_SCHEMA),
        unknown_columns=unknown,
        files=files,
        input_files=input_files,
        notes=notes,
        heights=heights,
        quarantined_rows=quarantined_rows,
        absent_columns={t: list(loaded[t].absent) for t in order},
        empty_tables=empty,
    )


def _org_codes(units: list[RawSource] | None) -> pl.DataFrame | None:
    """The 组织机构代码 of the unit register's credit codes (:func:`audit.normalise.org_code_map`),
    from its raw unit_id column, or None without a register."""
    columns = [col.cast(pl.String) for s in units or [] if (col := s.column("unit_id")) is not None]
    return nz.org_code_map(nz.unwrap_excel_text_series(pl.concat(columns))) if columns else None


@contextlib.contextmanager
def _unreadable_is_input_error(path: Path | None = None) -> Iterator[None]:
    """A file that cannot be read (permissions, an I/O error) is the input's fault: exit code 2,
    the file named."""
    try:
        yield
    except OSError as exc:
        name = path.name if path is not None else Path(exc.filename or "?").name
        raise InputError(f"{name}: the file cannot be read ({exc.strerror or type(exc).__name__})") from None


def load_table(path: Path, table: str | None = None) -> tuple[NormalisedTable, list[str]]:
    """One input file read and normalised exactly as :func:`load_inputs` reads each table (the
    table named by the file unless given), with the notes about it; :class:`InputError` when
    the file cannot be used. For tools and tests that look at one file without a whole input
    directory around it."""
    path = Path(path)
    named = table or table_named(path.stem)
    if named is None:
        raise InputError(f"{path.name}: not named after a table of the contract")
    spec = SPECS[named]
    notes: list[str] = []
    errors: list[str] = []
    with _unreadable_is_input_error(path):
        sources = READERS[path.suffix.lower()](path, spec, notes, errors)
    if errors or not sources:
        raise InputError("\n".join(errors) or f"{path.name}: no table of {spec.name} in it")
    table = normalise(spec, sources)
    return table, notes + list(table.notes)


def _stage_table(table: NormalisedTable, path: Path,
                 staged: Callable[[str, Path, int], None] | None = None) -> None:
    t0, c0 = time.perf_counter(), time.process_time()
    table.plan().sink_parquet(path, **PARQUET_OPTIONS)
    log.debug("%s: staged in %.1f s, cpu %.1f s (all threads), rss %.2f GB", table.spec.name,
              time.perf_counter() - t0, time.process_time() - c0, rss_gb())
    if staged is not None:
        staged(table.spec.name, path, table.height)


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
