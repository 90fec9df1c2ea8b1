"""Loading the registries: read CSV/XLSX/Parquet exports, normalise, quarantine what cannot be read.

INTERFACE STUB — being implemented (issue #2). The pipeline relies on exactly this surface.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

QUARANTINE_SCHEMA = {
    "table": pl.String(), "file": pl.String(), "line": pl.Int64(), "column": pl.String(),
    "value": pl.String(), "reason": pl.String(),
}


class InputError(Exception):
    """An input that cannot be used at all (exit code 2): names the file and the column."""


@dataclass
class LoadResult:
    tables: dict[str, pl.DataFrame]  # normalised tables present in the input, by canonical name
    quarantine: pl.DataFrame  # QUARANTINE_SCHEMA
    counts: pl.DataFrame  # table, file, rows_read, rows_kept, rows_quarantined, duplicates_collapsed
    unknown_columns: dict[str, list[str]] = field(default_factory=dict)
    files: dict[str, list[str]] = field(default_factory=dict)

    def write(self, out_dir: Path) -> None:
        raise NotImplementedError

    def counts_dict(self) -> list[dict]:
        return self.counts.to_dicts()

    def counts_text(self) -> str:
        raise NotImplementedError


def load_inputs(input_dir: Path) -> LoadResult:
    raise NotImplementedError
