"""Running values on sorted rows: what a window over a million tiny groups would give, cheaply.

Rows sorted by a group key form runs of equal keys. ``new_run`` marks each run's first row and
``first_in_run`` spreads a value of that row over its run (a forward fill), so per-group ranks and
firsts cost one pass instead of a window per group (seconds at a million groups).
"""

from __future__ import annotations

import polars as pl


def new_run(*cols: str) -> pl.Expr:
    """True on the first row of each run of equal values of ``cols`` (rows sorted by them)."""
    changed = [pl.col(c) != pl.col(c).shift(1) for c in cols]
    return pl.any_horizontal(changed).fill_null(True)


def first_in_run(starts: pl.Expr, value: pl.Expr) -> pl.Expr:
    """``value`` at the first row of each run (runs start where ``starts`` is true)."""
    return pl.when(starts).then(value).otherwise(None).forward_fill()
