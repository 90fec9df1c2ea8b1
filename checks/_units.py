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


#: an area whose units an extract wholly lacks is read as outside the extract only from this many
#: units: one unit missing is what a rule looks for (the audit office's reading, docs/readings.md)
AREA_MIN_UNITS = 2


def area_gaps(units: pl.LazyFrame, present: pl.Expr) -> pl.LazyFrame:
    """``units`` (``unit_id``, ``county_code``, …) with ``_gap_area``: the county — else the
    prefecture, written ``XXXX00`` — of :data:`AREA_MIN_UNITS` or more of these units of which
    ``present`` holds for none (an extract assembled from the areas' own registries may lack one),
    where it holds for some unit elsewhere (an extract that holds none of them at all covers no
    area to compare with); null elsewhere."""
    prefecture = pl.col("county_code").str.slice(0, 4)

    def gap(area: pl.Expr) -> pl.Expr:
        return ((pl.len().over(area) >= AREA_MIN_UNITS) & ~pl.col("_present").any().over(area)
                & pl.col("_present").any())
    return units.with_columns(present.fill_null(False).alias("_present")).with_columns(
        pl.when(gap(pl.col("county_code"))).then(pl.col("county_code"))
        .when(gap(prefecture)).then(prefecture + "00").alias("_gap_area")
    ).drop("_present")


def units_unwritten(t: Tables, rows: pl.LazyFrame, column: str) -> pl.LazyFrame:
    """``unit_id, _gap_area`` of the register's units in an area (:func:`area_gaps`) none of whose
    units ``rows`` write in ``column`` (a registry extract's employers): that extract's silence
    about them says nothing."""
    units = latest_units(t).select("unit_id", "county_code")
    written = units.join(rows.select(pl.col(column).alias("unit_id")), on="unit_id", how="semi")
    return (area_gaps(units.join(written.select("unit_id", pl.lit(True).alias("_written")), on="unit_id", how="left"),
                      pl.col("_written"))
            .filter(pl.col("_gap_area").is_not_null()).select("unit_id", "_gap_area"))
