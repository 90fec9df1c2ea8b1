"""Units as the rules read them: the latest approval of each unit, whether it is still in the
programme at the end of the audit month, and its county."""

from __future__ import annotations

import polars as pl

from audit.schema import province_of
from audit.tables import Tables


def latest_units(t: Tables) -> pl.LazyFrame:
    """One row per unit_id: the most recently approved row (a re-admitted or amended unit may
    appear twice; of two approved the same day, the later line), with its province_code and
    ``first_approved``, the earliest approval among its rows (the unit was approved from then)."""
    return (
        t.units.sort("approved_date", "_line")
        .group_by("unit_id")
        .agg(pl.all().last(), pl.col("approved_date").min().alias("first_approved"))
        .with_columns(province_of(pl.col("county_code")).alias("province_code"))
    )


def not_exited(t: Tables) -> pl.Expr:
    """Approved by the end of the audit month and not exited by then. A units export without 退出日期
    (``exit_date``) but with 退出原因 (``exit_reason``) says which units exited, not when: a unit
    with a reason has exited."""
    approved = pl.col("approved_date") <= t.month_end
    if not t.exported("units", "exit_date") and t.exported("units", "exit_reason"):
        return approved & pl.col("exit_reason").is_null()
    return approved & (pl.col("exit_date").is_null() | (pl.col("exit_date") > t.month_end))


def unit_counties(t: Tables) -> pl.LazyFrame:
    """unit_id → county_code, of the unit's latest row as :func:`latest_units` reads it."""
    return t.units.group_by("unit_id").agg(pl.col("county_code").sort_by("approved_date", "_line").last())
