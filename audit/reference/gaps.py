"""What the claims a run judges need of the reference tables, and lack: counties without a
minimum-wage tier, tiers without a usable standard, days without the working-day calendar.

A run judges the claims submitted by the end of its month (:func:`audit.rundir.scan_tables`); of
those, the monthly claims of months up to the audit month are what the rate rules price. A month
needs the minimum wage where the province's subsidy is a share of it (``rate.kind =
min_wage_share``) or where the allowance must reach it (``allowance.min_wage_floor``); it needs
every day of its calendar where the province sets the partial-month rule
(``partial_month.min_working_days``). Claims of later months, or submitted later, never make a run
need more (issue #12). :func:`reference_gaps` is what ``audit reference check`` lists and writes
as the workbook of operator tables to fill, and what the report counts.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import polars as pl

from audit.policy import Policy
from audit.reference.attach import attach_min_wage
from audit.reference.shipped import SECONDARY_STATUSES
from audit.schema import province_of
from audit.tables import Tables

MONTHLY = "月度"


def county_label() -> pl.Expr:
    """A county's name as people write it: city and county (济源市, a city without counties, once)."""
    city, county = pl.col("city_name").fill_null(""), pl.col("county_name").fill_null("")
    return pl.when(city == county).then(county).otherwise(pl.concat_str([city, county]))


def place_names(regions: pl.LazyFrame | None) -> pl.LazyFrame:
    """county_code → province_name, county_label (empty when the regions table is absent)."""
    schema = {"county_code": pl.String, "province_name": pl.String, "county_label": pl.String}
    if regions is None:
        return pl.LazyFrame(schema=schema)
    return regions.select("county_code", "province_name", county_label().alias("county_label")).unique("county_code")


def _provinces(regions: pl.LazyFrame | None) -> pl.LazyFrame:
    if regions is None:
        return pl.LazyFrame(schema={"province_code": pl.String, "province_name": pl.String})
    return regions.select("province_code", "province_name").unique("province_code")


def province_names(regions: pl.LazyFrame | None) -> dict[str, str]:
    rows = _provinces(regions).collect()
    return dict(zip(rows["province_code"].to_list(), rows["province_name"].to_list()))


@dataclass
class ReferenceGaps:
    """The gaps of one run's month (each table sorted; empty when nothing is missing)."""

    audit_month: dt.date
    #: county_code, province_code, province_name, county_label, first_needed, last_needed,
    #: effective_to (where a shipped row takes over again), claims
    county_tiers: pl.DataFrame
    #: province_code, province_name, tier, first_needed, last_needed, claims, shipped (the row not used)
    min_wage: pl.DataFrame
    #: date, month, claims (monthly claims of that month where the calendar is needed)
    calendar: pl.DataFrame
    #: county_code, province_code, month, claims, wage_needed, wage_found, secondary, calendar_needed:
    #: per (county, month) of every monthly claim the run judges (of any month), what it needs and finds
    needs: pl.DataFrame

    @property
    def empty(self) -> bool:
        return not (self.county_tiers.height or self.min_wage.height or self.calendar.height)

    def summary(self) -> dict:
        """JSON-able counts for run.json and the report."""
        months = self.needs.filter(pl.col("month") <= self.audit_month)["month"]
        return {
            "audit_month": self.audit_month.strftime("%Y-%m"),
            "months_judged": [months.min().strftime("%Y-%m"), months.max().strftime("%Y-%m")] if months.len() else [],
            "counties_without_tier": self.county_tiers.select("county_code").n_unique(),
            "county_tier_rows": self.county_tiers.height,
            "county_tier_claims": int(self.county_tiers["claims"].sum() or 0),
            "wage_rows": self.min_wage.height,
            "wage_claims": int(self.min_wage["claims"].sum() or 0),
            "calendar_days": self.calendar.height,
            "calendar_months": sorted({d.strftime("%Y-%m") for d in self.calendar["date"].to_list()}),
            "by_province": [
                {"province_code": r["province_code"], "province_name": r["province_name"], "counties": r["counties"],
                 "claims": r["claims"]}
                for r in self.county_tiers.group_by("province_code", "province_name")
                .agg(pl.col("county_code").n_unique().alias("counties"), pl.col("claims").sum())
                .sort("province_code").to_dicts()
            ],
        }


def judged_monthly_claims(t: Tables) -> pl.LazyFrame:
    """The monthly claims the run judges — those submitted by the month end (``t.claims`` already
    is restricted so), the population of the rule that prices them — with their unit's county
    and province."""
    units = t.units.select("unit_id", "county_code").unique("unit_id", keep="first")
    return (
        t.claims.filter(pl.col("claim_type").fill_null(MONTHLY) == MONTHLY)
        .select("claim_id", "unit_id", "claim_month")
        .join(units, on="unit_id", how="left")
        .with_columns(province_of(pl.col("county_code")).alias("province_code"))
    )


def _needs(t: Tables, policy: Policy) -> pl.DataFrame:
    """Per (county, month) of the monthly claims the run judges: their count, whether the month
    needs the minimum wage and the calendar in that province, whether a wage is found for it
    (``wage_found``), and whether the claims are priced on a wage whose tier row or standard has
    only a secondary source (``secondary``)."""
    keys = judged_monthly_claims(t).group_by("county_code", "province_code", "claim_month").agg(pl.len().alias("claims"))
    for name in ("rate.kind", "rate.standard_share", "allowance.min_wage_floor", "partial_month.min_working_days"):
        keys = policy.attach(keys, name, on="claim_month")
    share = (pl.col("rate_kind") == "min_wage_share").fill_null(False)
    keys = keys.with_columns(
        (share | pl.col("allowance_min_wage_floor").fill_null(False)).alias("wage_needed"),
        # the wage prices the claim: the rate is a share of it, and the share is set
        (share & pl.col("rate_standard_share").is_not_null()).alias("_prices"),
        pl.col("partial_month_min_working_days").is_not_null().alias("calendar_needed"),
    ).drop("rate_kind", "rate_standard_share", "allowance_min_wage_floor", "partial_month_min_working_days")
    priced = attach_min_wage(keys, t.county_tiers, t.min_wage, county="county_code", on="claim_month")
    weak = (pl.col("mw_status").is_in(SECONDARY_STATUSES) | pl.col("mw_tier_status").is_in(SECONDARY_STATUSES)).fill_null(False)
    return priced.with_columns(
        pl.col("mw_yuan").is_not_null().alias("wage_found"),
        (pl.col("_prices") & pl.col("mw_yuan").is_not_null() & weak).alias("secondary"),
    ).drop("_prices").collect()


def reference_gaps(t: Tables, policy: Policy) -> ReferenceGaps:
    """The reference data the month's run needs and lacks (see the module docstring)."""
    needs = _needs(t, policy)
    names = place_names(t.regions)
    # the months a run must price: up to the audit month, of a known county, where a wage is needed
    priced = needs.lazy().filter(
        pl.col("wage_needed") & pl.col("county_code").is_not_null() & (pl.col("claim_month") <= t.audit_month))
    # a tier map changes with the province's standards: a gap is cut where a new standard starts
    standards = (
        t.min_wage.select("province_code", pl.col("effective_from").alias("_standard")).unique()
        .sort("_standard")
    )
    next_standard = t.min_wage.select("province_code", pl.col("effective_from").alias("_next")).unique().sort("_next")
    no_tier = (
        priced.filter(pl.col("mw_tier").is_null())
        .sort("claim_month")
        .join_asof(standards, left_on="claim_month", right_on="_standard", by="province_code", strategy="backward",
                   check_sortedness=False)
        .group_by("county_code", "province_code", "_standard")
        .agg(pl.col("claim_month").min().alias("first_needed"), pl.col("claim_month").max().alias("last_needed"),
             pl.col("claims").sum())
    )
    # where a row of the county (shipped or the operator's) takes over again, or the next standard starts
    later_rows = t.county_tiers.select("county_code", pl.col("effective_from").alias("_next")).sort("_next")
    county_tiers = (
        no_tier.sort("last_needed")
        .join_asof(later_rows, left_on="last_needed", right_on="_next", by="county_code", strategy="forward",
                   allow_exact_matches=False, check_sortedness=False)
        .rename({"_next": "_next_row"})
        .sort("last_needed")
        .join_asof(next_standard, left_on="last_needed", right_on="_next", by="province_code", strategy="forward",
                   allow_exact_matches=False, check_sortedness=False)
        .with_columns(pl.min_horizontal("_next_row", "_next").alias("effective_to"))
        .join(names, on="county_code", how="left")
        .select("county_code", "province_code", "province_name", "county_label", "first_needed", "last_needed",
                "effective_to", pl.col("claims").cast(pl.Int64))
        .sort("province_code", "county_code", "first_needed")
        .collect()
    )
    min_wage = (
        priced.filter(pl.col("mw_tier").is_not_null() & pl.col("mw_yuan").is_null())
        .group_by("province_code", "mw_tier", "mw_effective_from", "mw_status")
        .agg(pl.col("claim_month").min().alias("first_needed"), pl.col("claim_month").max().alias("last_needed"),
             pl.col("claims").sum())
        .with_columns(
            pl.when(pl.col("mw_effective_from").is_null()).then(pl.lit("无标准"))
            .otherwise(pl.format("{} {} 起的标准未使用", pl.col("mw_status"), pl.col("mw_effective_from")))
            .alias("shipped"))
        .join(_provinces(t.regions), on="province_code", how="left")
        .select("province_code", "province_name", pl.col("mw_tier").alias("tier"), "first_needed", "last_needed",
                pl.col("claims").cast(pl.Int64), "shipped")
        .sort("province_code", "tier", "first_needed")
        .collect()
    )
    calendar = _calendar_gaps(needs.filter(pl.col("claim_month") <= t.audit_month), t.calendar)
    return ReferenceGaps(t.audit_month, county_tiers, min_wage, calendar,
                         needs.select("county_code", "province_code", pl.col("claim_month").alias("month"), "claims",
                                      "wage_needed", "wage_found", "secondary", "calendar_needed"))


def _calendar_gaps(needs: pl.DataFrame, calendar: pl.LazyFrame | None) -> pl.DataFrame:
    months = needs.filter(pl.col("calendar_needed")).group_by("claim_month").agg(pl.col("claims").sum()).sort("claim_month")
    schema = {"date": pl.Date, "month": pl.Date, "claims": pl.Int64}
    if months.is_empty():
        return pl.DataFrame(schema=schema)
    days = months.with_columns(
        pl.date_ranges(pl.col("claim_month"), pl.col("claim_month").dt.month_end()).alias("date")
    ).explode("date")
    have = calendar.select("date").collect() if calendar is not None else pl.DataFrame(schema={"date": pl.Date})
    return (
        days.join(have, on="date", how="anti")
        .select("date", pl.col("claim_month").alias("month"), pl.col("claims").cast(pl.Int64))
        .sort("date")
        .cast(schema)  # type: ignore[arg-type]
    )
