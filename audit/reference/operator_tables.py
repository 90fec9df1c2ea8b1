"""The operator's own reference tables — min_wage, county_tiers, calendar — as the loader read them
(normalised, every row located; unreadable rows are in the quarantine like any input's), in the
shapes of the shipped tables. Each row keeps where it came from: the operator's ``source`` (来源)
where given, and the file and line."""

from __future__ import annotations

import polars as pl

from audit.loader import InputError

OPERATOR = "OPERATOR"


class ReferenceDataError(InputError):
    """Reference data that cannot be used at all, with what to supply instead."""


def _source_of(frame: pl.DataFrame, fallback: str) -> pl.Expr:
    where = (pl.concat_str([pl.col("_file"), pl.lit(":"), pl.col("_line").cast(pl.String)])
             if "_file" in frame.columns and "_line" in frame.columns else pl.lit(fallback))
    if "source" not in frame.columns:
        return where
    given = pl.col("source").cast(pl.String).str.strip_chars()
    return pl.when(given.is_null() | (given == "")).then(where).otherwise(pl.concat_str([where, pl.lit(" "), given]))


def operator_min_wage(frame: pl.DataFrame) -> pl.DataFrame:
    """The operator's min_wage table in the reference shape (status OPERATOR)."""
    return frame.select(
        pl.col("province_code").cast(pl.String),
        pl.col("tier").cast(pl.Int64),
        pl.col("effective_from").cast(pl.Date),
        pl.col("monthly_yuan").cast(pl.Float64),
        pl.lit(OPERATOR).alias("status"),
        _source_of(frame, "min_wage (operator)").alias("source"),
    ).filter(pl.col("province_code").is_not_null() & pl.col("tier").is_not_null() & pl.col("effective_from").is_not_null())


def operator_county_tiers(frame: pl.DataFrame) -> pl.DataFrame:
    """The operator's county_tiers table in the reference shape (effective_to only if given)."""
    to = pl.col("effective_to").cast(pl.Date) if "effective_to" in frame.columns else pl.lit(None, pl.Date)
    return frame.select(
        pl.col("county_code").cast(pl.String),
        pl.col("tier").cast(pl.Int64),
        pl.col("effective_from").cast(pl.Date),
        to.alias("effective_to"),
        pl.lit(OPERATOR).alias("status"),
        _source_of(frame, "county_tiers (operator)").alias("source"),
    ).filter(pl.col("county_code").is_not_null() & pl.col("tier").is_not_null() & pl.col("effective_from").is_not_null())


def operator_calendar(frame: pl.DataFrame) -> pl.DataFrame:
    """The operator's calendar table: date, is_workday (a date given twice: its last row)."""
    return (
        frame.select(pl.col("date").cast(pl.Date), pl.col("is_workday").cast(pl.Boolean))
        .filter(pl.col("date").is_not_null() & pl.col("is_workday").is_not_null())
        .unique("date", keep="last", maintain_order=True)
    )
