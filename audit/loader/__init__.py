"""Loading the registries: read CSV/XLSX/Parquet exports, normalise, quarantine what cannot be read.

An input directory holds one file per table, named after the table (``claims.csv``,
``claims.xlsx`` or ``claims.parquet``; the specs are in :mod:`audit.schema`). Every input row
ends in exactly one place (``shared/contract.md``, "Bad input"): the normalised table, or the
quarantine with its file, line, column, value and reason. A row goes to the quarantine only when
it cannot be read — a required value missing, a date, month, amount, number or yes/no that does
not parse (an amount whose separators are ambiguous included), a value outside its column's range
(:attr:`audit.schema.ColumnSpec.value_range`), a CSV row with more or fewer fields than the
header or a truncated last line, a line whose bytes are not in the file's encoding
(:mod:`audit.loader.csvtext`) — and every failing cell of it is reported, not just the first. A row that reads but looks wrong (an ID whose check digit fails, a legacy 15-digit ID, a
duplicated key, a broken reference) is kept: money was paid against it, and the checks flag it.
Exact duplicate rows are collapsed into one with ``_dup_rows`` = how many there were. Every
input file read is recorded with its size and SHA-256 (``LoadResult.input_files``).

Counts reconcile per table and file: ``rows_read = rows_kept + rows_quarantined +
duplicates_collapsed`` where rows_read counts data rows (blank lines, title rows and the header
are not rows; blank lines are counted apart in ``blank_lines``), rows_kept counts the rows of the
normalised table and duplicates_collapsed the extra copies folded into a kept row.

Only an input that cannot be used at all raises :class:`InputError` (exit code 2): a required
table or column missing, two files for one table, an empty file, a required table with no rows,
a binary file or one that is not a table (a file without a header line), a header line that is
neither UTF-8 nor GBK/GB18030, a file of more than 1,000 columns or a sheet whose used range is
too large to read safely, a file that cannot be read (permissions, an I/O error, a directory
named like a table). Its message names the file and the column, never a row's contents. An
input column named like one the loader or a later stage uses (``_line``, ``person_id_raw``…) is
kept as an extra column with ``_extra`` appended; the rules never see extra columns.
Nothing is written until every table has loaded: a run's load (``load_inputs(input_dir,
out_dir)``) writes each table to Parquet as soon as it is normalised, so that only one table is
in memory at a time, but into a hidden stage (``out_dir/.normalised.partial/``) that
:meth:`LoadResult.write` moves into ``normalised/`` and a failed load removes.
"""

from __future__ import annotations

from audit.loader.columns import COMPACT_MAX, MISSING, PARSERS, REASONS, STATUS, TRUNCATED, parse_series
from audit.loader.discovery import SUFFIXES, InputError, digest_files, discover, sha256_file
from audit.loader.duplicates import find_duplicates
from audit.loader.headers import check_required_columns, header_key, header_lookup, map_headers
from audit.loader.load import (
    PARQUET_OPTIONS,
    STAGE_DIR,
    LoadResult,
    StagedTables,
    load_inputs,
    load_table,
    note_zh,
)
from audit.loader.normalised import (
    COUNTS_SCHEMA,
    QUARANTINE_SCHEMA,
    QUARANTINED_ROWS_SCHEMA,
    NormalisedTable,
    normalise,
    normalise_table,
)
from audit.loader.readers import MAX_TITLE_ROWS, READERS, RawSource, read_csv, read_parquet, read_xlsx

__all__ = [
    "COMPACT_MAX", "COUNTS_SCHEMA", "MAX_TITLE_ROWS", "MISSING", "PARQUET_OPTIONS", "note_zh", "PARSERS", "QUARANTINE_SCHEMA",
    "QUARANTINED_ROWS_SCHEMA",
    "READERS", "REASONS", "STAGE_DIR", "STATUS", "SUFFIXES", "TRUNCATED", "InputError", "LoadResult",
    "NormalisedTable", "RawSource", "StagedTables", "check_required_columns", "digest_files", "discover", "sha256_file", "find_duplicates",
    "header_key", "header_lookup", "load_inputs", "load_table", "map_headers", "normalise", "normalise_table", "parse_series",
    "read_csv", "read_parquet", "read_xlsx",
]
