"""DORMANT_UNIT: a unit that has offered no position and run no internship for more than a year
(赣人社发〔2023〕9号 二(五), 清退; it also fails exit condition ① of 四(一)2(5), since every unit
commits to take at least one trainee a year). See docs/semantics.md, "Units"."""

from __future__ import annotations

import datetime as dt

import polars as pl

from audit.policy import Policy
from audit.rules import Check, CheckResult, Severity, rule
from audit.tables import Tables
from checks._units import latest_units, not_exited

OPEN_END = dt.date(9999, 12, 31)  # a position never closed


@rule(
    id="DORMANT_UNIT.no_activity",
    identity=("unit_id", "county_code"),
    facts=("approved_date", "last_position_posted", "last_position_closed", "last_agreement_start", "last_agreement_end", "last_claim_month"),
    title="见习单位超过一年未提供见习岗位、未开展见习活动（应清退）",
    severity=Severity.MEDIUM,
    citation="赣人社发〔2023〕9号 二(五) (超过一年未提供见习岗位、未开展见习活动的见习单位及时清退); 四(一)2(5)①",
    params=("unit.dormancy_months",),
    needs=("positions",),
    exit_condition=1,
)
def no_activity(t: Tables, policy: Policy) -> CheckResult:
    """A unit approved more than unit.dormancy_months before the end of the audit month and not
    exited, which in the last unit.dormancy_months months up to the end of the audit month had
    no position posted or still open, no agreement running and no claim (by claim month or by
    submission), is dormant and is to be cleared out; it also fails exit condition ① (a unit
    takes at least one trainee a year). The parameter is read for the unit's province at the end
    of the audit month; units of provinces where it is unset are skipped. Period: the dormancy
    window. No money is at risk."""
    month_end = t.month_end
    units = policy.attach(
        latest_units(t).filter(not_exited(t)).with_columns(pl.lit(month_end).alias("_as_of")),
        "unit.dormancy_months", on="_as_of", alias="dormancy_months", with_reference=True,
    )
    units = units.with_columns(
        pl.lit(t.audit_month).dt.offset_by(pl.format("-{}mo", pl.col("dormancy_months") - 1)).alias("window_start")
    )
    positions = (
        t.positions.filter(pl.col("posted_date") <= month_end)  # type: ignore[union-attr]
        .group_by("unit_id")
        .agg(
            pl.col("posted_date").max().alias("last_position_posted"),
            pl.coalesce("closed_date", pl.lit(OPEN_END)).max().alias("_position_open_until"),
            pl.col("closed_date").max().alias("last_position_closed"),
        )
    )
    agreements = (
        t.agreements.filter(pl.col("start_date") <= month_end)
        .group_by("unit_id")
        .agg(
            pl.col("start_date").max().alias("last_agreement_start"),
            pl.coalesce("actual_end_date", "planned_end_date").max().alias("last_agreement_end"),
        )
    )
    judged = units.filter(pl.col("dormancy_months").is_not_null())

    def active(*columns: str) -> pl.Expr:
        return pl.any_horizontal((pl.col(c) >= pl.col("window_start")).fill_null(False) for c in columns)

    # Semantics: "no position posted or open" — a posting never closed counts as open, so a stale
    # posting keeps a unit from being dormant (a stale 实效岗位 is a separate clearing-out case).
    # The claims (millions) are read only for the units that neither positions nor agreements
    # show active: grouping every claim by unit was most of this rule's cost.
    candidates = (
        judged.join(positions, on="unit_id", how="left")
        .join(agreements, on="unit_id", how="left")
        .filter((pl.col("approved_date") < pl.col("window_start"))
                & ~active("_position_open_until", "last_position_posted", "last_agreement_end"))
        .cache()
    )
    claims = t.claims.join(candidates.select("unit_id"), on="unit_id", how="semi").group_by("unit_id").agg(
        pl.col("claim_month").max().alias("last_claim_month"),
        pl.col("submitted_date").max().alias("last_claim_submitted"),
    )
    found = candidates.join(claims, on="unit_id", how="left").filter(~active("last_claim_month", "last_claim_submitted"))
    findings = found.select(
        "unit_id",
        "county_code",
        pl.col("window_start").alias("period_start"),
        pl.lit(month_end).alias("period_end"),
        pl.lit(0.0).alias("amount_at_risk"),
        pl.struct(
            "unit_name", "approved_date", "window_start", pl.lit(month_end).alias("window_end"),
            "last_position_posted", "last_position_closed", "last_agreement_start", "last_agreement_end",
            "last_claim_month", "last_claim_submitted",
            pl.struct(pl.col("dormancy_months").alias("value"), pl.col("dormancy_months_ref").alias("reference"))
            .alias("param_unit_dormancy_months"),
            "_file", "_line",
        ).alias("evidence"),
    )
    skipped = units.filter(pl.col("dormancy_months").is_null()).select(
        "unit_id", pl.lit("unit.dormancy_months 在该省未设定，无法判断是否长期未开展见习").alias("reason")
    )
    return CheckResult(findings, skipped)


CHECKS: tuple[Check, ...] = (no_activity,)
