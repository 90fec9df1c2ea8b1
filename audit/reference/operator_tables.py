"""The operator's own reference tables: min_wage and county_tiers (normalised by the loader),
and calendar.csv (read here, every row or none)."""

from __future__ import annotations

from pathlib import Path

import polars as pl

from audit.loader import InputError

OPERATOR = "OPERATOR"


class ReferenceDataError(InputError):
    """Reference data the run cannot do without (e.g. a calendar year), with what to supply."""


_TRUE = ("1", "true", "t", "yes", "y", "是", "工作日", "班")
_FALSE = ("0", "false", "f", "no", "n", "否", "休息日", "休", "节假日")
_DATE_FORMATS = ("%Y-%m-%d", "%Y/%m/%d", "%Y%m%d", "%Y年%m月%d日", "%Y.%m.%d")


def _source_of(frame: pl.DataFrame, fallback: str) -> pl.Expr:
    if "_file" in frame.columns and "_line" in frame.columns:
        return pl.concat_str([pl.col("_file"), pl.lit(":"), pl.col("_line").cast(pl.String)])
    return pl.lit(fallback)


def operator_min_wage(frame: pl.DataFrame) -> pl.DataFrame:
    """The operator's min_wage table (normalised by the loader) in the reference shape."""
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


def read_operator_calendar(path: Path) -> pl.DataFrame:
    """calendar.csv (date, is_workday): every row must read, else an error naming its lines."""
    try:
        raw = pl.read_csv(path, infer_schema=False, encoding="utf8-lossy")
    except Exception as exc:  # noqa: BLE001 — any unreadable file is the same refusal
        raise ReferenceDataError(f"{path}: cannot be read as a CSV table ({exc})") from None
    raw = raw.rename({c: c.strip().lstrip("\ufeff") for c in raw.columns})
    missing = [c for c in ("date", "is_workday") if c not in raw.columns]
    if missing:
        raise ReferenceDataError(f"{path}: missing column(s) {', '.join(missing)}; calendar.csv needs date, is_workday")
    flag = pl.col("is_workday").str.strip_chars().str.to_lowercase()
    parsed = raw.with_row_index("_line", offset=2).select(
        "_line",
        pl.col("date").alias("_date_raw"),
        pl.col("is_workday").alias("_flag_raw"),
        pl.coalesce([pl.col("date").str.strip_chars().str.to_date(f, strict=False) for f in _DATE_FORMATS]).alias("date"),
        pl.when(flag.is_in(_TRUE)).then(True).when(flag.is_in(_FALSE)).then(False).otherwise(None).alias("is_workday"),
    )
    bad = parsed.filter(pl.col("date").is_null() | pl.col("is_workday").is_null())
    if bad.height:
        where = ", ".join(f"line {r['_line']} ({r['_date_raw']!r}, {r['_flag_raw']!r})" for r in bad.head(5).to_dicts())
        raise ReferenceDataError(
            f"{path}: {bad.height} row(s) cannot be read — {where}; write date as YYYY-MM-DD and is_workday as 1/0"
        )
    return parsed.select("date", "is_workday").unique("date", keep="last")
