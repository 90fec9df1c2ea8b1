"""The registries that say a trainee was employed: employer-paid social insurance and labour
contracts (RULES.md §1: a trainee is an unemployed graduate or youth; §8: the insurance and
employment registries are the authority for employment)."""

from __future__ import annotations

import datetime as dt

import polars as pl

from audit.schema import employer_paid
from audit.tables import Tables

TRAINEE_COVER = "补充工伤"  # the insurance a unit buys for its own trainees, not employment
OPEN_END = dt.date(9999, 12, 31)  # an open-ended labour contract's end

__all__ = ["OPEN_END", "TRAINEE_COVER", "employer_insurance", "employer_paid", "labour_contracts", "not_trainee_cover",
           "binds_until", "renewed_contracts"]


def not_trainee_cover() -> pl.Expr:
    """An insurance row other than 补充工伤 trainee cover (an unrecorded type counts as other)."""
    return (pl.col("insurance_type") != TRAINEE_COVER).fill_null(True)


def employer_insurance(insurance: pl.LazyFrame, until: dt.date) -> pl.LazyFrame:
    """person_id, unit_id (the employer), month: each month up to ``until`` in which an employer
    insured the person as its employee — employer-paid (:func:`employer_paid`), not 补充工伤
    trainee cover — once. ``insurance`` is the social_insurance table, or some of its rows."""
    return (
        insurance.filter(employer_paid() & not_trainee_cover() & (pl.col("month") <= pl.lit(until)))
        .select("person_id", pl.col("employer_id").alias("unit_id"), "month")
        .unique()
    )


def labour_contracts(t: Tables) -> pl.LazyFrame:
    """The employment table's labour contracts: person_id, employer_id, contract_start,
    contract_end, terminated_date, contract_type, contract_until (the day it stopped binding:
    terminated, else its end, else open-ended), _file, _line."""
    assert t.employment is not None
    return t.employment.select(
        "person_id",
        "employer_id",
        "contract_start",
        "contract_end",
        "terminated_date",
        "contract_type",
        pl.coalesce("terminated_date", "contract_end", pl.lit(OPEN_END)).alias("contract_until"),
        "_file",
        "_line",
    )


def binds_until(until: dt.date | None) -> pl.Expr:
    """The day a labour contract stops binding: its termination where terminated by ``until``
    (the audit month's end; None: the contract as signed, terminations not read), else its end;
    null: open-ended."""
    if until is None:
        return pl.col("contract_end")
    return pl.coalesce(pl.when(pl.col("terminated_date") <= until).then(pl.col("terminated_date")), "contract_end")


def renewed_contracts(t: Tables, until: dt.date | None, pairs: pl.LazyFrame | None = None) -> pl.LazyFrame:
    """:func:`labour_contracts` with ``hired_until``: the day the hire each contract belongs to
    stopped binding. A contract renewed without a gap (续签: the next contract with the same
    employer starting by the day after this one stops binding) is one hire with its renewals,
    binding until the last of them stops; a contract terminated by ``until`` (the audit month's
    end) binds until its termination (``until`` None: the contracts as signed); null:
    open-ended. A registry writes a renewal as a row of its own — six months and a renewal are no
    six-month hire. ``pairs`` (person_id, employer_id): only their contracts (the chains are
    sorted out on the few a rule asks about, not on every contract of the registry)."""
    binds = binds_until(until).fill_null(OPEN_END)
    group = ["person_id", "employer_id"]
    contracts = labour_contracts(t)
    if pairs is not None:
        contracts = contracts.join(pairs.unique(), on=group, how="semi")
    return (
        contracts.with_columns(binds.alias("_binds"))
        .sort(*group, "contract_start")
        .with_columns(pl.col("_binds").cum_max().shift(1).over(group).alias("_before"))
        .with_columns((pl.col("_before").is_null() | (pl.col("contract_start") > pl.col("_before").dt.offset_by("1d")))
                      .cum_sum().over(group).alias("_hire"))
        .with_columns(pl.col("_binds").max().over([*group, "_hire"]).alias("hired_until"))
        .with_columns(pl.when(pl.col("hired_until") < OPEN_END).then(pl.col("hired_until")).alias("hired_until"))
        .drop("_binds", "_before", "_hire")
    )


def lost_registry_rows(t: Tables, by_id: pl.LazyFrame, key: str, *, insurance: pl.Expr, contract: pl.Expr) -> pl.LazyFrame:
    """Per ``key`` of ``by_id`` (its person under every ID as ``_pid``, its ``unit_id``): whether an
    insurance row (``_lost_insurance``) or a contract row (``_lost_contract``) of that person that
    could decide the question was lost to the quarantine (``Tables.quarantine``) — of the unit, or
    of no readable employer, and dated as ``insurance`` / ``contract`` ask of the quarantined row's
    ``day`` (an undated row counts: it may be of any day). Unreadable rows do not accuse (RULES.md
    §8): a rule reads an absence only where no such row was lost. Few rows: the quarantine is small."""
    empty = pl.LazyFrame(schema={key: by_id.collect_schema()[key], "_lost_insurance": pl.Boolean,
                                 "_lost_contract": pl.Boolean})
    if t.quarantine is None:
        return empty
    lost = t.quarantine.filter(pl.col("table").is_in(["social_insurance", "employment"])).select(
        "table", pl.col("person_id").alias("_pid"), pl.col("unit_id").alias("_lost_unit"), "day")
    of_unit = pl.col("_lost_unit").is_null() | (pl.col("_lost_unit") == pl.col("unit_id"))
    undated = pl.col("day").is_null()
    lost_insurance = (pl.col("table") == "social_insurance") & (undated | insurance)
    lost_contract = (pl.col("table") == "employment") & (undated | contract)
    return (
        by_id.join(lost, on="_pid").filter(of_unit & (lost_insurance | lost_contract))
        .group_by(key).agg(lost_insurance.any().alias("_lost_insurance"), lost_contract.any().alias("_lost_contract"))
    )


def _precision(column: str, names: list[str]) -> dict[str, pl.Expr]:
    """Whether each row's ``column`` was recorded to the month, or to the year (the loader's
    ``<column>_month_only`` / ``_year_only``; false in a frame made before a flag existed)."""
    return {f: (pl.col(f"{column}_{f}").fill_null(False) if f"{column}_{f}" in names else pl.lit(False))
            for f in ("month_only", "year_only")}


def latest_day(column: str, names: list[str]) -> pl.Expr:
    """The last day a date recorded to the month or the year may mean (``column`` holds the first):
    the month's last day, the year's; the date itself where a day was given. ``names``: the
    frame's columns."""
    flag = _precision(column, names)
    return (pl.when(flag["year_only"]).then(pl.date(pl.col(column).dt.year(), 12, 31))
            .when(flag["month_only"]).then(pl.col(column).dt.month_end()).otherwise(pl.col(column)))


def recorded_to(column: str, names: list[str]) -> pl.Expr:
    """年 / 月 where ``column`` was recorded to the year / the month only; null where to the day."""
    flag = _precision(column, names)
    return pl.when(flag["year_only"]).then(pl.lit("年")).when(flag["month_only"]).then(pl.lit("月"))


def graduation_latest(names: list[str]) -> pl.Expr:
    """``graduation_latest`` (:func:`latest_day` of ``graduation_date``): the day a rule reads when
    the accusation would rest on leaving school too early for the years allowed."""
    return latest_day("graduation_date", names).alias("graduation_latest")
