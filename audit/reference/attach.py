"""Lookups over the reference tables, as joins: the minimum wage in force, the working days."""

from __future__ import annotations

import polars as pl

from audit.schema import province_of


def attach_min_wage(
    lf: pl.LazyFrame,
    county_tiers: pl.LazyFrame,
    min_wage: pl.LazyFrame,
    *,
    county: str = "county_code",
    on: str = "claim_month",
    prefix: str = "mw_",
) -> pl.LazyFrame:
    """Add the minimum wage in force for each row's county on date column ``on``.

    Adds ``{prefix}tier``, ``{prefix}yuan``, ``{prefix}effective_from``, ``{prefix}status`` and
    ``{prefix}source``. A county with no tier on that date, or a tier with no usable standard,
    gets nulls: the rate rules skip those rows and say so. Vectorised: two as-of joins.
    """
    tiers = (
        county_tiers.select(
            pl.col("county_code").alias(county),
            pl.col("tier").cast(pl.Int64).alias(f"{prefix}tier"),
            pl.col("effective_from").alias("_tier_from"),
            pl.col("effective_to").alias("_tier_to") if "effective_to" in county_tiers.collect_schema() else pl.lit(None, pl.Date).alias("_tier_to"),
        )
        .sort("_tier_from")
    )
    wages = min_wage.select(
        pl.col("province_code").alias("_mw_province"),
        pl.col("tier").cast(pl.Int64).alias(f"{prefix}tier"),
        pl.col("effective_from").alias(f"{prefix}effective_from"),
        pl.col("monthly_yuan").cast(pl.Float64).alias(f"{prefix}yuan"),
        pl.col("status").alias(f"{prefix}status") if "status" in min_wage.collect_schema() else pl.lit(None, pl.String).alias(f"{prefix}status"),
        pl.col("source").alias(f"{prefix}source") if "source" in min_wage.collect_schema() else pl.lit(None, pl.String).alias(f"{prefix}source"),
    ).sort(f"{prefix}effective_from")
    with_tier = (
        lf.sort(on)
        .join_asof(tiers, left_on=on, right_on="_tier_from", by=county, strategy="backward", check_sortedness=False)
        .with_columns(
            pl.when(pl.col("_tier_to").is_null() | (pl.col(on) < pl.col("_tier_to")))
            .then(pl.col(f"{prefix}tier"))
            .otherwise(None)
            .alias(f"{prefix}tier"),
            province_of(pl.col(county)).alias("_mw_province"),
        )
        .drop("_tier_from", "_tier_to")
    )
    return (
        with_tier.sort(on)
        .join_asof(
            wages,
            left_on=on,
            right_on=f"{prefix}effective_from",
            by=["_mw_province", f"{prefix}tier"],
            strategy="backward",
            check_sortedness=False,
        )
        .drop("_mw_province")
    )


def attach_workdays(
    lf: pl.LazyFrame,
    calendar: pl.LazyFrame,
    *,
    start: str,
    end: str,
    alias: str = "workdays",
) -> pl.LazyFrame:
    """Add the number of working days in the closed date range [start, end] of each row.

    Working days follow the statutory calendar: weekends and public holidays off, make-up
    (调休) weekend days on. Computed as the difference of the calendar's running workday count,
    so it is two joins, not a loop. Null where either date is null or outside the calendar.
    """
    seq = calendar.select("date", "workday_seq", "is_workday")
    return (
        lf.join(
            seq.rename({"date": start, "workday_seq": "_seq_s", "is_workday": "_wd_s"}), on=start, how="left"
        )
        .join(seq.rename({"date": end, "workday_seq": "_seq_e", "is_workday": "_wd_e"}).drop("_wd_e"), on=end, how="left")
        .with_columns(
            pl.when(pl.col(end) < pl.col(start))
            .then(0)
            .otherwise(pl.col("_seq_e") - pl.col("_seq_s") + pl.col("_wd_s").cast(pl.Int64))
            .alias(alias)
        )
        .drop("_seq_s", "_seq_e", "_wd_s")
    )
