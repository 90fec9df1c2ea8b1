"""Lookups over the reference tables, as joins: the minimum wage in force, the working days."""

from __future__ import annotations

import polars as pl

from audit.reference.operator_tables import OPERATOR
from audit.schema import province_of


def _opt(frame: pl.LazyFrame, name: str, dtype: pl.DataType) -> pl.Expr:
    return pl.col(name) if name in frame.collect_schema().names() else pl.lit(None, dtype).alias(name)


def _tier_in_force(lf: pl.LazyFrame, tiers: pl.LazyFrame, *, county: str, on: str, tag: str) -> pl.LazyFrame:
    """The tier row in force on ``on`` among ``tiers``: the latest that started by then, if not ended."""
    right = tiers.select(
        pl.col("county_code").alias(county),
        pl.col("tier").cast(pl.Int64).alias(f"_tier{tag}"),
        pl.col("effective_from").alias(f"_from{tag}"),
        pl.col("effective_to").alias("_to"),
        pl.col("status").alias(f"_status{tag}"),
        pl.col("source").alias(f"_source{tag}"),
    ).sort(f"_from{tag}")
    ended = pl.col("_to").is_not_null() & (pl.col(on) >= pl.col("_to"))
    return (
        lf.sort(on)
        .join_asof(right, left_on=on, right_on=f"_from{tag}", by=county, strategy="backward", check_sortedness=False)
        .with_columns(pl.when(ended).then(None).otherwise(pl.col(c)).alias(c)
                      for c in (f"_tier{tag}", f"_from{tag}", f"_status{tag}", f"_source{tag}"))
        .drop("_to")
    )


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
    ``{prefix}source`` (the standard's row), and ``{prefix}tier_from``, ``{prefix}tier_status``,
    ``{prefix}tier_source`` (the county's tier row). An operator's tier row (status OPERATOR)
    in force on the date wins over the shipped maps. A county with no tier on that date, or a
    tier with no usable standard, gets nulls: the rate rules skip those rows and say so.
    Vectorised: as-of joins.
    """
    schema = county_tiers.collect_schema().names()
    tiers = county_tiers.select(
        "county_code", "tier", "effective_from", _opt(county_tiers, "effective_to", pl.Date()),
        _opt(county_tiers, "status", pl.String()), _opt(county_tiers, "source", pl.String()),
    )
    operator = (pl.col("status") == OPERATOR).fill_null(False) if "status" in schema else pl.lit(False)
    with_tier = _tier_in_force(
        _tier_in_force(lf, tiers.filter(operator), county=county, on=on, tag="_op"),
        tiers.filter(~operator), county=county, on=on, tag="_sh",
    )
    use_op = pl.col("_tier_op").is_not_null()
    pick = {name: pl.when(use_op).then(pl.col(f"_{name}_op")).otherwise(pl.col(f"_{name}_sh"))
            for name in ("tier", "from", "status", "source")}
    with_tier = with_tier.with_columns(
        pick["tier"].alias(f"{prefix}tier"), pick["from"].alias(f"{prefix}tier_from"),
        pick["status"].alias(f"{prefix}tier_status"), pick["source"].alias(f"{prefix}tier_source"),
        province_of(pl.col(county)).alias("_mw_province"),
    ).drop([f"_{n}_{t}" for n in ("tier", "from", "status", "source") for t in ("op", "sh")])
    wages = min_wage.select(
        pl.col("province_code").alias("_mw_province"),
        pl.col("tier").cast(pl.Int64).alias(f"{prefix}tier"),
        pl.col("effective_from").alias(f"{prefix}effective_from"),
        pl.col("monthly_yuan").cast(pl.Float64).alias(f"{prefix}yuan"),
        _opt(min_wage, "status", pl.String()).alias(f"{prefix}status"),
        _opt(min_wage, "source", pl.String()).alias(f"{prefix}source"),
    ).sort(f"{prefix}effective_from")
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
    so it is two joins, not a loop. Null where either date is null, or where any day of the
    range is missing from the calendar (an unknown day is not a holiday: the count is unknown).
    """
    seq = (
        calendar.select("date", "workday_seq", "is_workday").sort("date")
        .with_row_index("_day")  # the days the calendar holds, numbered: a gap shows in the numbers
    )
    days = (pl.col(end) - pl.col(start)).dt.total_days()
    return (
        lf.join(
            seq.rename({"date": start, "workday_seq": "_seq_s", "is_workday": "_wd_s", "_day": "_day_s"}),
            on=start, how="left",
        )
        .join(seq.rename({"date": end, "workday_seq": "_seq_e", "_day": "_day_e"}).drop("is_workday"), on=end, how="left")
        .with_columns(
            pl.when(pl.col(end) < pl.col(start))
            .then(0)
            .when((pl.col("_day_e").cast(pl.Int64) - pl.col("_day_s").cast(pl.Int64)) == days)
            .then(pl.col("_seq_e") - pl.col("_seq_s") + pl.col("_wd_s").cast(pl.Int64))
            .alias(alias)
        )
        .drop("_seq_s", "_seq_e", "_wd_s", "_day_s", "_day_e")
    )
