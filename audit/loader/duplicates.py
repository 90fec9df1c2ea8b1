"""Exact duplicate rows: rows equal as read, picked out by a row hash, folded into the first."""

from __future__ import annotations

import polars as pl


class RowHash:
    """A hash per row of its values as read, folded in one column at a time (one u64 a row).

    Equal rows hash equal, and unequal ones rarely do: the hash picks the candidate duplicates,
    and tells apart rows that read the same but were written differently
    (:func:`find_duplicates`). Each column's own hash — or its dictionary code — is folded in
    by a wrapping multiply-add, so only one 64-bit column is ever held.
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

    Rows equal in every column of ``data_cols`` and in ``row_hash`` are one row exported more
    than once: the copies are folded into the first, which stays where it was and carries the
    count. Rows outside ``good`` (quarantined ones) are neither folded nor folded into. The
    loader's ``row_hash`` is of the values as read (:class:`RowHash`), so rows that read the
    same but were written differently (`` 2023-07`` and ``2023-07``) stay apart; without one,
    rows equal in ``data_cols`` are copies.
    """
    ones = pl.repeat(1, table.height, dtype=pl.Int64, eager=True).alias("_dup_rows")
    no_removed = pl.DataFrame(schema={"_src": pl.UInt16, "n": pl.UInt32})
    if table.height < 2:
        return ones, None, no_removed
    if row_hash is None or row_hash.len() != table.height:
        row_hash = table.select(pl.struct(data_cols).hash()).to_series()
    ordered = row_hash.sort()  # repeated hashes by sorting: quicker than is_duplicated (bench/NOTES.md)
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
    # only candidates whose hash repeats are compared: a table without copies costs one hash pass
    same = [*data_cols, "_row_hash"]
    groups = (
        table.select(data_cols).gather(pos)
        .with_columns(_pos=pos, _row_hash=row_hash.gather(pos))
        .with_columns(_first=pl.col("_pos").min().over(same), _count=pl.len().over(same).cast(pl.Int64))
    )
    firsts = groups.filter(pl.col("_pos") == pl.col("_first"))
    dropped = groups.filter(pl.col("_pos") != pl.col("_first"))["_pos"]
    if not dropped.len():
        return ones, None, no_removed
    dup_rows = ones.scatter(firsts["_pos"], firsts["_count"])
    removed = table["_src"].gather(dropped).value_counts(name="n").cast({"n": pl.UInt32})
    keep = pl.repeat(True, table.height, eager=True).scatter(dropped, False)
    return dup_rows, keep, removed
