"""RETENTION_INFLATED: a unit's claimed retention is not real (RULES.md §5, §9).

Per unit and calendar year of the internship end (``unit_id`` always set; period = the year).
Real retention is recomputed in :mod:`checks._retention`; every finding records the definition
used (contract window, contract months, insured months, the insurance extract's as-of month).

Retention matters only where it pays: a unit-year is examined when the unit claimed a 差额 for
internships that ended that year and is not a benchmark unit in a province where benchmarks
qualify on their own (Jiangxi). A unit below the threshold that claims no 差额, and a Jiangxi
标杆 unit, are left alone. Money at risk: the unit-year's 差额 claims that the recomputed
retention does not support (``claims_at_risk``), 0 where it still does.
"""

from __future__ import annotations

import polars as pl

from audit.policy import Policy
from audit.rules import Check, CheckResult, Severity, rule
from audit.tables import Tables
from checks._citations import RETENTION, citing
from checks._retention import (
    DEFINITION_PARAMS,
    GAP_OTHER_DEFINITION,
    UNSUPPORTED_DEFINITION,
    definition,
    difference_claims,
    person_retention,
    undecided_because,
    unit_years,
)

DETECTION = ("retention.contract_window_days", "retention.min_contract_months", "retention.min_insured_months_after",
             "retention.default_year_basis")
PARAMS = ("retention.raised_threshold", "retention.benchmark_qualifies", *DEFINITION_PARAMS)
CITATION = RETENTION  # the province's retention clause in force at the year's end (period_end)
RELABELLED = tuple(c + "; 汇总表 指标8说明 (个人原因提前结束见习的不算在内)" for c in RETENTION)


def _examined(t: Tables, policy: Policy) -> pl.LazyFrame:
    """Unit-years whose retention pays: a 差额 claimed, not benchmark-exempt, threshold set, and a
    definition the recomputation implements (:data:`checks._retention.UNSUPPORTED_DEFINITION`)."""
    return _paying(t, policy).filter(pl.col("definition_supported"))


def _paying(t: Tables, policy: Policy) -> pl.LazyFrame:
    return unit_years(t, policy).filter(
        (pl.col("difference_count") > 0) & ~pl.col("benchmark_exempt")
        & pl.col("retention_raised_threshold").is_not_null()
    )


def _skipping_other_definitions(fn):  # noqa: ANN001, ANN202 — a decorator of this module's checks
    """The unit-years a rule leaves unjudged because their province defines retention otherwise,
    and those whose rate is ``undecided`` (people under IDs nothing resolves:
    :data:`checks._retention.UNVERIFIABLE`; or perhaps an exempt 标杆 unit) — for a rule that
    rests on the rate, which says so by returning its findings with the unit-years it left for
    that reason (``undecided_reason``)."""

    def check(t: Tables, policy: Policy) -> CheckResult:
        unjudged = _paying(t, policy).filter(~pl.col("definition_supported")).select(
            "unit_id", pl.lit(UNSUPPORTED_DEFINITION).alias("reason"), pl.lit(GAP_OTHER_DEFINITION).alias("gap"))
        out = fn(t, policy)
        if isinstance(out, tuple):
            out, undecided = out
            unjudged = pl.concat([unjudged, undecided.select("unit_id", pl.col("undecided_reason").alias("reason"),
                                                             pl.col("undecided_gap").alias("gap"))])
        return CheckResult(out, unjudged)

    check.__name__, check.__doc__ = fn.__name__, fn.__doc__
    return check


def _person_evidence() -> pl.Expr:
    return pl.struct(
        "person_id", pl.col("ag_id").alias("agreement_id"), pl.col("ag_start").alias("start"),
        pl.col("ag_end").alias("end"), pl.col("ag_end_reason").alias("end_reason"),
        pl.col("declared_retained"), "contract_start", "contract_end", "contract_terminated", "contract_ok", "insured_from",
        "insured_run_months", "insurance_judged", "insurance_ok", "insurance_stop_month",
    )


def _people(t: Tables, policy: Policy, which: pl.Expr, name: str) -> pl.LazyFrame:
    """Per unit-year, the list of people matching ``which``, as evidence."""
    return (
        person_retention(t, policy).filter(which)
        .group_by("unit_id", "year")
        .agg(_person_evidence().sort_by("ag_end", "person_id", "ag_id").alias(name), pl.len().alias(f"{name}_count"))
    )


def _at_risk(claims: str) -> list[pl.Expr]:
    return [
        pl.col(claims).alias("claims_at_risk"),
        pl.col(claims).list.eval(pl.element().struct.field("amount")).list.sum().fill_null(0.0).alias("amount_at_risk"),
    ]


def _unit_finding(t: Tables, policy: Policy, *extra: pl.Expr, claims: str = "unsupported_claims") -> list[pl.Expr]:
    return [
        "unit_id", "county_code",  # type: ignore[list-item]
        pl.date(pl.col("year"), 1, 1).alias("period_start"),
        pl.date(pl.col("year"), 12, 31).alias("period_end"),
        *_at_risk(claims),
        pl.struct(
            pl.col("year"), "completed", "really_retained", "real_rate", "unverifiable", "real_rate_at_most",
            "declared_retained", "declared_rate_flags",
            pl.col("decl_completed").alias("declared_completed_count"), pl.col("decl_retained").alias("declared_retained_count"),
            "declared_rate_declarations", pl.col("retention_raised_threshold").alias("threshold"),
            pl.col("retention_raised_threshold_ref").alias("reference"), "difference_count",
            definition(t, policy), *extra,
        ).alias("evidence"),
    ]


@rule(
    id="RETENTION_INFLATED.declared_above_real",
    facts=("declared_not_real.person_id",),
    title="申报留用率高于核实留用率并据此申领差额补贴",
    severity=Severity.HIGH,
    citations=CITATION,
    params=PARAMS,
    detection_params=DETECTION,
    exit_condition=3,  # retention it invented: money the unit knew was not due (RULES.md §8)
    needs=("employment", "claims.claim_type", "agreements.actual_end_date"),
)
@citing(CITATION, on="period_end")
@_skipping_other_definitions
def declared_above_real(t: Tables, policy: Policy) -> tuple[pl.LazyFrame, pl.LazyFrame]:
    """For a unit and year with 差额 claims, the declared retention (agreements' retained flags over
    the completed internships, or retention_declarations — the larger) reaches
    retention.raised_threshold while the recomputed real rate does not. A declared count above the
    real one that crosses no threshold pays nothing and is left to the per-person rules. Money: the
    unit-year's 差额 claims. Period: the calendar year the internships ended."""
    unreal = _people(t, policy, pl.col("completed") & pl.col("declared_retained") & ~pl.col("really_retained")
                     & ~pl.col("identity_unknown"), "declared_not_real")
    above = _examined(t, policy).filter((pl.col("declared_rate") >= pl.col("retention_raised_threshold"))
                                        & (pl.col("real_rate").fill_null(0.0) < pl.col("retention_raised_threshold")))
    return (
        above.filter(~pl.col("undecided"))
        .join(unreal, on=["unit_id", "year"], how="left")
        .select(_unit_finding(t, policy, pl.col("declared_not_real").fill_null([])))
    ), above.filter(pl.col("undecided"))


@rule(
    id="RETENTION_INFLATED.retained_without_contract",
    facts=("without_contract.person_id",),
    title="申报留用人员无本单位劳动合同",
    severity=Severity.HIGH,
    citations=CITATION,
    params=PARAMS,
    detection_params=DETECTION,
    exit_condition=3,  # retention it invented: money the unit knew was not due (RULES.md §8)
    needs=("employment", "claims.claim_type"),
)
@citing(CITATION, on="period_end")
@_skipping_other_definitions
def retained_without_contract(t: Tables, policy: Policy) -> pl.LazyFrame:
    """A trainee flagged retained after a completed internship has no labour contract with the unit
    starting within the window after the end of at least the minimum length (or open-ended). One
    finding per unit and year with 差额 claims, the people listed. Money: the 差额 claims the real
    rate does not support (0 where it still reaches the threshold). Period: the year the
    internships ended."""
    people = _people(t, policy, pl.col("completed") & pl.col("declared_retained") & ~pl.col("contract_ok")
                     & pl.col("requires_contract") & ~pl.col("identity_unknown"), "without_contract")
    return _examined(t, policy).join(people, on=["unit_id", "year"]).select(
        _unit_finding(t, policy, pl.col("without_contract"))
    )


@rule(
    id="RETENTION_INFLATED.retained_without_insurance",
    facts=("without_insurance.person_id",),
    title="申报留用人员见习结束后无本单位社会保险",
    severity=Severity.HIGH,
    citations=CITATION,
    params=PARAMS,
    detection_params=DETECTION,
    exit_condition=3,  # retention it invented: money the unit knew was not due (RULES.md §8)
    needs=("employment", "claims.claim_type"),
)
@citing(CITATION, on="period_end")
@_skipping_other_definitions
def retained_without_insurance(t: Tables, policy: Policy) -> pl.LazyFrame:
    """A trainee flagged retained after a completed internship is not insured by the unit
    (employer-paid, not 补充工伤) for the minimum run of months starting in the end month or the
    month after; months after si_as_of are not judged (a run reaching si_as_of passes). One
    finding per unit and year with 差额 claims. Money: the 差额 claims the real rate does not
    support. Period: the year the internships ended."""
    people = _people(
        t, policy,
        pl.col("completed") & pl.col("declared_retained") & pl.col("insurance_judged") & ~pl.col("insurance_ok")
        & pl.col("requires_insurance") & ~pl.col("identity_unknown"),
        "without_insurance",
    )
    return _examined(t, policy).join(people, on=["unit_id", "year"]).select(
        _unit_finding(t, policy, pl.col("without_insurance"))
    )


@rule(
    id="RETENTION_INFLATED.insurance_stopped_after_difference",
    facts=("stopped.person_id",),
    title="差额补贴拨付后留用人员短期内停保",
    severity=Severity.MEDIUM,
    citations=CITATION,
    params=PARAMS,
    detection_params=(*DETECTION, "retention.insurance_stop_months_after_difference"),
    needs=("employment", "claims.claim_type", "agreements.actual_end_date"),
)
@citing(CITATION, on="period_end")
@_skipping_other_definitions
def insurance_stopped_after_difference(t: Tables, policy: Policy) -> pl.LazyFrame:
    """A retained trainee (flagged, or really retained) whose unit insurance, running since the
    internship end, stops in the month the 差额 was paid or within
    retention.insurance_stop_months_after_difference months after it — the stop visible within
    si_as_of — suggests retention staged for the 差额. Money: the unit-year's 差额 claims if, without
    those people, the real rate falls below the threshold; 0 otherwise. Period: the year the
    internships ended."""
    months = int(policy.detect("retention.insurance_stop_months_after_difference"))
    paid = difference_claims(t, policy).filter(pl.col("paid_date").is_not_null()).group_by("person_id", "unit_id", "year").agg(
        pl.col("paid_date").min(), pl.col("claim_id").sort_by("paid_date", "claim_id").first().alias("difference_claim_id"))
    paid_month = pl.col("paid_date").dt.month_start()
    stopped = (
        person_retention(t, policy)
        .filter(pl.col("completed") & (pl.col("declared_retained") | pl.col("really_retained")))
        .join(paid, on=["person_id", "unit_id", "year"])
        .filter((pl.col("insurance_stop_month") >= paid_month)
                & (pl.col("insurance_stop_month") <= paid_month.dt.offset_by(f"{months}mo")))
        .group_by("unit_id", "year")
        .agg(
            pl.struct(_person_evidence().struct.unnest(), "paid_date", "difference_claim_id")
            .sort_by("ag_end", "person_id", "ag_id").alias("stopped"),
            pl.col("really_retained").sum().cast(pl.Int64).alias("_stopped_real"),
        )
    )
    without = (pl.col("really_retained") - pl.col("_stopped_real")) / pl.col("completed")
    return (
        _examined(t, policy).join(stopped, on=["unit_id", "year"])
        .with_columns(
            pl.when((without.fill_null(0.0) < pl.col("retention_raised_threshold")) & ~pl.col("benchmark_unknown"))
            .then(pl.col("difference_claims")).alias("_claims")
        )
        .select(_unit_finding(t, policy, pl.col("stopped"), without.alias("real_rate_without_stopped"),
                              pl.lit(months).alias("stop_months_after_difference"), claims="_claims"))
    )


@rule(
    id="RETENTION_INFLATED.early_leave_relabelled",
    facts=("relabelled_people.person_id",),
    title="见习期满人员改报提前离岗以缩小留用率分母",
    severity=Severity.HIGH,
    citations=RELABELLED,
    params=PARAMS,
    detection_params=DETECTION,
    exit_condition=3,  # retention it invented: money the unit knew was not due (RULES.md §8)
    needs=("employment", "claims.claim_type", "agreements.actual_end_date"),
)
@citing(RELABELLED, on="period_end")
@_skipping_other_definitions
def early_leave_relabelled(t: Tables, policy: Policy) -> tuple[pl.LazyFrame, pl.LazyFrame]:
    """Internships ended 提前离岗 that look completed — ended within the last month of the planned
    term, or followed by a contract with the unit or the unit's insurance right after — are outside
    the denominator only if the label is true. Fire when counting them back as completed (and as
    retained where really retained) takes the unit's real rate from at or above the threshold to
    below it: the relabelling is what made the 差额 payable. Money: the unit-year's 差额 claims.
    Period: the year the internships ended. Genuine early leavers (mid-term, no contract or
    insurance after) are not relabelled."""
    people = _people(t, policy, pl.col("relabelled"), "relabelled_people")
    below = _examined(t, policy).filter((pl.col("real_rate").fill_null(0.0) >= pl.col("retention_raised_threshold"))
                                        & (pl.col("corrected_rate").fill_null(0.0) < pl.col("retention_raised_threshold")))
    # below once counted back only while the unverifiable people count as not retained: undecided
    undecided = ((pl.col("corrected_rate_at_most") >= pl.col("retention_raised_threshold")).fill_null(False)
                 | pl.col("benchmark_unknown"))
    return (
        below.filter(~undecided)
        .join(people, on=["unit_id", "year"], how="left")
        .select(_unit_finding(t, policy, pl.col("relabelled_people"), "corrected_completed", "corrected_retained",
                              "corrected_rate", claims="difference_claims"))
    ), below.filter(undecided).with_columns(undecided_because(pl.col("benchmark_unknown"), pl.col("lost_agreements") > 0))


CHECKS: tuple[Check, ...] = (
    declared_above_real,
    retained_without_contract,
    retained_without_insurance,
    insurance_stopped_after_difference,
    early_leave_relabelled,
)
