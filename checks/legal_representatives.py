"""The trainee behind a company: legal representatives in the units table and the market registry
(issue #16, typologies 3 and 7; currency_2026.md §4 cases #17 and #20).

A legal representative's ID is read as the loader normalised it — its spellings (15 or 18 digits,
full-width digits, a lower-case x) already meet as one ID — and never linked through a typo: it
has no name, card or phone to corroborate one (RULES.md §8, "One person across registries"). The
trainee's side is the natural person (:mod:`checks._identity`): a trainee registered under a
corroborated variant of their ID is matched under their canonical ID as well.

- ``GHOST_TRAINEE.trainee_is_legal_rep``: the owner as an "unemployed trainee" of his own
  company. The subsidy pays a unit to host a trainee and pay the trainee's allowance; a unit whose
  trainee is its own legal representative pays itself. A finding: every claim of that
  internship is at risk.
- ``GHOST_TRAINEE.trainee_owns_company``: the trainee is the legal representative of ANOTHER
  company operating at the start. A signal for the county to check that the trainee was really
  unemployed — no notice says self-employment disqualifies, so it puts no money at risk.
"""

from __future__ import annotations

import polars as pl

from audit.policy import Policy
from audit.rules import ONGOING, Check, Severity, rule
from audit.tables import Tables
from checks._citations import DATA_COMPARISON, TARGET_GROUPS, cited
from checks._claims import claims_of_internship, with_claims
from checks._identity import identity_links, names_a_person, with_person_key
from checks._internships import INTERNSHIP_KEYS as KEYS
from checks._internships import unit_internships

SIGNAL = "调查线索：见习人员为其他存续企业的法定代表人，请县区核实其是否处于未就业状态 (investigative signal)"


def legal_reps(t: Tables, policy: Policy) -> pl.LazyFrame:
    """``unit_id, legal_rep_id, rep_key, source``: every legal representative named for a unit — by
    the units table (``source`` 见习单位名录) or the market registry (市场主体登记) — with the
    natural person it is (``rep_key``, :func:`checks._identity.with_person_key`: the ID itself unless
    it is exactly an ID the trainee registry links to another)."""
    parts = [t.units.select("unit_id", "legal_rep_id", pl.lit("见习单位名录").alias("source"))]
    if t.market_registry is not None:
        parts.append(t.market_registry.select("unit_id", "legal_rep_id", pl.lit("市场主体登记").alias("source")))
    reps = pl.concat(parts).drop_nulls(["unit_id", "legal_rep_id"]).filter(names_a_person("legal_rep_id")).unique()
    return with_person_key(reps, identity_links(t, policy), on="legal_rep_id", alias="rep_key")


def _internships_of_people(t: Tables, policy: Policy) -> pl.LazyFrame:
    """The internships (:func:`checks._internships.unit_internships`) with the natural person of
    their trainee (``person_key``)."""
    return with_person_key(unit_internships(t, policy), identity_links(t, policy))


@rule(
    id="GHOST_TRAINEE.trainee_is_legal_rep",
    identity=ONGOING,
    facts=("agreements.agreement_id",),
    title="见习人员为见习单位本单位的法定代表人（本单位负责人申报为见习人员）",
    severity=Severity.HIGH,
    citations=DATA_COMPARISON,
    exit_condition=3,  # the unit claimed for its own legal representative: money it knew was not due
)
def trainee_is_legal_rep(t: Tables, policy: Policy) -> pl.LazyFrame:
    """A trainee who is the legal representative of the unit interning him — in the units table or
    in the market registry, his ID matched as normalised (any spelling) and under every ID of the
    trainee — is the owner claimed as an unemployed trainee of his own company: the unit pays
    the allowance to itself and claims the subsidy for it. Period: the internship. Money at risk:
    every claim of the internship."""
    reps = legal_reps(t, policy).group_by("unit_id", "rep_key").agg(
        pl.col("source").unique().sort().alias("legal_rep_source"))
    found = (
        _internships_of_people(t, policy)
        .join(reps, left_on=["unit_id", "person_key"], right_on=["unit_id", "rep_key"])
        .drop("person_key")
    )
    out = with_claims(found, claims_of_internship(t, policy, found), KEYS)
    return cited(out.select(
        "person_id", "unit_id", "county_code",
        pl.col("internship_start").alias("period_start"),
        pl.col("internship_end").alias("period_end"),
        "amount_at_risk", "claims_at_risk",
        pl.struct("internship_start", "internship_end", "agreements", "legal_rep_source", "claims").alias("evidence"),
    ), policy, DATA_COMPARISON)


@rule(
    id="GHOST_TRAINEE.trainee_owns_company",
    identity=ONGOING,
    facts=("companies.company_id",),
    title="【调查线索】见习人员为其他存续企业的法定代表人（是否未就业待核实）",
    severity=Severity.MEDIUM,
    citations=TARGET_GROUPS,
    detection_params=("owner.active_statuses",),
    needs=("market_registry",),
    signal_only=True,
)
def trainee_owns_company(t: Tables, policy: Policy) -> pl.LazyFrame:
    """An investigative signal, not a finding of a violation: a trainee who is the legal
    representative (market registry, or the units table for a unit the registry lists) of a
    company other than the internship unit, founded before the internship's first day and
    operating on it — its status one of owner.active_statuses, or another status dated after the
    start — was running a business when the internship began. The target groups are the
    unemployed; no notice says self-employment disqualifies, so the county checks. A company with
    no founding date, or closed with no date, cannot be placed at the start and is left alone. A
    registry that lists a company's history (a row per status) is read at the start: the latest
    row dated on or before it (or undated) is the status then; only rows dated after it say the
    company was alive before them. Period: the internship. No money at risk."""
    assert t.market_registry is not None
    active = list(policy.detect("owner.active_statuses"))
    raw = "reg_status_raw" if "reg_status_raw" in t.market_registry.collect_schema() else "reg_status"
    companies = t.market_registry.select(
        pl.col("unit_id").alias("company_id"), "reg_status", pl.col(raw).alias("reg_status_raw"), "status_date",
        "established_date",
    ).drop_nulls("established_date")
    owners = (
        legal_reps(t, policy)
        .select(pl.col("unit_id").alias("company_id"), "rep_key", "source")
        .join(companies, on="company_id")
    )
    # the company's rows dated on or before the start (undated ones too): the last is its status then
    by_then = pl.col("status_date").is_null() | (pl.col("status_date") <= pl.col("internship_start"))
    company = [*KEYS, "company_id", "source"]
    hits = (
        _internships_of_people(t, policy).select(*KEYS, "person_key")
        .join(owners, left_on="person_key", right_on="rep_key")
        .filter((pl.col("company_id") != pl.col("unit_id")) & (pl.col("established_date") < pl.col("internship_start")))
        .sort("status_date", nulls_last=False)
        .with_columns(by_then.any().over(company).alias("_any_by_then"),
                      pl.when(by_then).then(pl.int_range(pl.len())).over(company).alias("_at"))
        .with_columns((pl.col("_at") == pl.col("_at").max().over(company)).fill_null(False).alias("_in_force"))
        # in force at the start and active; or, with no row by then, alive before its later statuses
        .filter((pl.col("_in_force") & pl.col("reg_status").is_in(active))
                | (~pl.col("_any_by_then") & (pl.col("status_date") > pl.col("internship_start")).fill_null(False)))
        .unique(company)
        .group_by(KEYS)
        .agg(pl.struct("company_id", "reg_status", "reg_status_raw", "established_date", "status_date",
                       pl.col("source").alias("legal_rep_source"))
             .sort_by("company_id", "source").alias("companies"))
    )
    found = unit_internships(t, policy).join(hits, on=KEYS)
    return cited(found.select(
        "person_id", "unit_id", "county_code",
        pl.col("internship_start").alias("period_start"),
        pl.col("internship_end").alias("period_end"),
        pl.lit(0.0).alias("amount_at_risk"),
        pl.struct(pl.lit(SIGNAL).alias("label"), "internship_start", "internship_end", "companies",
                  pl.lit(active).alias("owner_active_statuses")).alias("evidence"),
    ), policy, TARGET_GROUPS)


CHECKS: tuple[Check, ...] = (
    trainee_is_legal_rep,
    trainee_owns_company,
)
