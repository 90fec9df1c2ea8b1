"""Exact duplicate rows: found by a row hash, confirmed on the values, folded into the first."""

from __future__ import annotations

import polars as pl




class RowHash:
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
