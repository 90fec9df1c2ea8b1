"""Joins and repeated keys: two large tables on person or unit IDs, the few found rows to the
tables they name, and the rows whose key occurs more than once.

Each helper gives exactly what the plain polars operation gives, only faster where the tables
are large; a hash narrows, the keys themselves decide. ``tests/test_joins.py`` holds each equal
to the plain operation, also under a hash made to collide. The numbers: bench/NOTES.md.
"""

from __future__ import annotations

from collections.abc import Callable

import polars as pl


def hash_key(on: list[str]) -> pl.Expr:
    """One 128-bit integer ``_k`` per key: two independently seeded 64-bit hashes side by side.

    The first hash is reinterpreted as signed so that ``high · 2⁶⁴ + low`` fits an Int128 exactly:
    distinct hash pairs give distinct integers. Equal keys give equal integers; unequal keys may
    (almost never) too, so a join on ``_k`` only narrows: :func:`hjoin` confirms on the keys.
    """
    key = pl.col(on[0]) if len(on) == 1 else pl.struct(on)
    high = key.hash(seed=11).reinterpret(signed=True).cast(pl.Int128)
    return (high * pl.lit(1 << 64, pl.Int128) + key.hash(seed=29).cast(pl.Int128)).alias("_k")


def hashed_join(
    left: pl.LazyFrame, right: pl.LazyFrame, on: str | list[str]
) -> tuple[pl.LazyFrame, Callable[[pl.LazyFrame], pl.LazyFrame]]:
    """``left.join(right, on=on)`` in two steps, for two large sides (millions of rows): the pairs
    whose keys hash alike — a superset of the answer — and ``confirm``, which keeps of any rows
    derived from them (filtered, widened) those whose keys are equal (a null key matches
    nothing). Confirm after the filters that keep the few rows a rule looks at: comparing the
    keys of every pair costs what the hash saved. The key columns come from ``left``; rows
    handed to ``confirm`` must keep them and ``_ri``.

    Speed: bench/NOTES.md, "Hashed joins".
    """
    on = [on] if isinstance(on, str) else list(on)
    # an Int128 join is ~3× faster than one on 18-character IDs
    right = right.with_columns(hash_key(on)).with_row_index("_ri").cache()  # read twice: numbered once
    joined = left.with_columns(hash_key(on)).join(right.drop(on), on="_k").drop("_k")
    keys = right.select("_ri", *[pl.col(c).alias(f"_key_{c}") for c in on])
    same = pl.all_horizontal([(pl.col(c) == pl.col(f"_key_{c}")).fill_null(False) for c in on])

    def confirm(rows: pl.LazyFrame) -> pl.LazyFrame:
        return rows.join(keys, on="_ri").filter(same).drop("_ri", *[f"_key_{c}" for c in on])

    return joined, confirm


def hjoin(
    left: pl.LazyFrame,
    right: pl.LazyFrame,
    on: str | list[str],
    narrow: Callable[[pl.LazyFrame], pl.LazyFrame] | None = None,
) -> pl.LazyFrame:
    """``narrow(left.join(right, on=on))``: the pairs of rows whose ``on`` columns are equal (a
    null key matches nothing), passed through ``narrow`` — the filters that keep the few rows a
    rule looks at — before the keys are compared (:func:`hashed_join`)."""
    joined, confirm = hashed_join(left, right, on)
    return confirm(joined if narrow is None else narrow(joined))


def of_persons(rows: pl.LazyFrame, found: pl.LazyFrame, on: str = "person_id") -> pl.LazyFrame:
    """The rows of ``rows`` (millions: claims, payments, internships) of the persons in ``found``
    (a few thousand): a semi-join on the IDs found, before anything wider is joined."""
    return rows.join(found.select(on).unique(), on=on, how="semi")


def _key_hash(key: list[str]) -> pl.Expr:
    """One 64-bit hash ``_h`` of the key columns: equal keys hash alike."""
    return (pl.col(key[0]) if len(key) == 1 else pl.struct(key)).hash().alias("_h")


def _hashes_twice(hashed: pl.LazyFrame) -> pl.LazyFrame:
    """The values of ``hashed``'s ``_h`` seen on two or more rows (sorted, neighbours compared)."""
    return hashed.select(pl.col("_h").sort()).filter(pl.col("_h") == pl.col("_h").shift()).unique()


def repeated_rows(rows: pl.LazyFrame, key: list[str]) -> pl.LazyFrame:
    """The rows whose ``key`` occurs on two or more rows (a null key is a key): ``rows`` filtered
    on ``pl.len().over(key) > 1``."""
    # nearly every key occurs once: the rows whose key hash repeats are found by sorting integers,
    # and only they are grouped on the key itself (rows sharing a hash by chance drop out there)
    hashed = rows.with_columns(_key_hash(key)).cache()
    candidates = hashed.join(_hashes_twice(hashed), on="_h", how="semi").drop("_h").cache()
    repeated = candidates.group_by(key).len().filter(pl.col("len") > 1).drop("len")
    return candidates.join(repeated, on=key, how="semi", nulls_equal=True)


def first_by_key(rows: pl.LazyFrame, key: str) -> pl.LazyFrame:
    """The first row (by ``_file``, ``_line``) of each ``key``:
    ``rows.sort(key, "_file", "_line").unique(key, keep="first")``, in another row order."""
    # only the rows whose key hash repeats are sorted, not the whole table
    hashed = rows.with_columns(_key_hash([key])).cache()
    twice = _hashes_twice(hashed)
    once = hashed.join(twice, on="_h", how="anti")
    repeated = hashed.join(twice, on="_h", how="semi").sort(key, "_file", "_line").unique(key, keep="first")
    return pl.concat([once, repeated]).drop("_h")


def keys_with_more_rows_than(rows: pl.LazyFrame, key: list[str], limit: pl.Expr) -> pl.LazyFrame:
    """The rows of the keys that have more than ``limit`` rows (``limit``: an expression giving
    one number over ``rows``): ``rows.filter(pl.len().over(key) > limit)``."""
    # rows are counted per 64-bit hash of the key (an integer group-by, not a window per key);
    # only the keys whose hash counts enough are then counted exactly
    hashed = _key_hash(key)
    limit_of = rows.select(limit.alias("_limit"))
    enough = (
        rows.group_by(hashed).agg(pl.len().alias("_n"))
        .join(limit_of, how="cross")
        .filter(pl.col("_n") > pl.col("_limit"))
        .select("_h")
    )
    return (
        rows.with_columns(hashed).join(enough, on="_h", how="semi").drop("_h")
        .join(limit_of, how="cross")
        .filter(pl.len().over(key) > pl.col("_limit"))
        .drop("_limit")
    )
