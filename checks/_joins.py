"""Joins: two large tables on person or unit IDs, and the few found rows to the tables they name.

A join gives the rows whose keys are equal; everything here gives exactly that, only faster.
``tests/test_joins.py`` holds each helper equal to the plain polars join.
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
