"""DORMANT_UNIT: a unit that has offered no position and run no internship for more than a year
(赣人社发〔2023〕9号 二(五), 清退; it also fails exit condition ① of 四(一)2(5), since every unit
commits to take at least one trainee a year). See docs/semantics.md, "Units".

What the mission asks everywhere (RULES.md §8): the rule runs in every province — as law where
the province's notice in force at the end of the audit month sets ``unit.dormancy_months``
(Jiangxi), elsewhere as the audit office's judgement (detection ``judgement.dormancy_months``,
under 人社部发〔2023〕27号 二(五) and the province's own management clause). The finding says
which (evidence ``basis``: 法规 / 审计判断, with the clause or the detection parameter), and so
does its citation."""

from __future__ import annotations

import datetime as dt

import polars as pl

from audit.policy import Policy
from audit.rules import Check, CheckResult, Severity, rule
from audit.tables import Tables
from checks._citations import JUDGEMENT, LAW, MANAGEMENT, cited, judgement
from checks._units import latest_units, not_exited

OPEN_END = dt.date(9999, 12, 31)  # a position never closed
LAW_CLAUSE = "赣人社发〔2023〕9号 二(五) (超过一年未提供见习岗位、未开展见习活动的见习单位及时清退); 四(一)2(5)①"


@rule(
    id="DORMANT_UNIT.no_activity",
    identity=("unit_id", "county_code"),
    facts=("approved_date", "last_position_posted", "last_position_closed", "last_agreement_start", "last_agreement_end", "last_claim_month"),
    title="见习单位超过一年未提供见习岗位、未开展见习活动（应清退）",
    severity=Severity.MEDIUM,
    citations=(LAW_CLAUSE, *(judgement("judgement.dormancy_months", "N") + c for c in MANAGEMENT)),
    params=("unit.dormancy_months",),
    detection_params=("judgement.dormancy_months",),
    needs=("positions",),
    exit_condition=1,
)
def no_activity(t: Tables, policy: Policy) -> CheckResult:
    """A unit approved more than unit.dormancy_months before the end of the audit month and not
    exited, which in the last unit.dormancy_months months up to the end of the audit month had
    no position posted or still open, no agreement running and no claim (by claim month or by
    submission), is dormant and is to be cleared out; it also fails exit condition ① (a unit
    takes at least one trainee a year). The parameter is read for the unit's province at the end
    of the audit month (a unit's standing); where the province's notice does not set it, the
    audit office's judgement.dormancy_months applies and the finding says so. Period: the
    dormancy window. No money is at risk."""
    month_end = t.month_end
    judged_months = int(policy.detect("judgement.dormancy_months"))
    units = policy.attach(
        latest_units(t).filter(not_exited(t)).with_columns(pl.lit(month_end).alias("_as_of")),
        "unit.dormancy_months", on="_as_of", alias="_law_months", with_reference=True,
    ).with_columns(
        pl.coalesce(pl.col("_law_months"), pl.lit(judged_months)).alias("dormancy_months"),
        pl.when(pl.col("_law_months").is_not_null()).then(pl.lit(LAW)).otherwise(pl.lit(JUDGEMENT)).alias("basis"),
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
    judged = units

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
    # a position, agreement or claim row of the unit the loader could not read, dated in the window
    # or undated, may be its activity: not judged (unreadable rows do not accuse)
    lost = _activity_lost(t, found.select("unit_id", "window_start"))
    found = found.join(lost, on="unit_id", how="anti")
    skipped = lost.select("unit_id", pl.lit(ACTIVITY_LOST).alias("reason"), pl.lit(GAP_ACTIVITY_LOST).alias("gap"))
    # a window that begins before an activity extract does: the months before it are not in the
    # export, and the unit's activity in them unknown (an extract of the last year or so)
    found = found.join(_extracts_from(t), how="cross")
    unseen = (pl.max_horizontal("_claims_from", "_agreements_from", "_positions_from") > pl.col("window_start")).fill_null(False)
    skipped = pl.concat([skipped, found.filter(unseen).select(
        "unit_id", pl.format(WINDOW_NOT_EXPORTED, pl.col("window_start").dt.strftime("%Y-%m"),
                             pl.col("_claims_from").dt.strftime("%Y-%m"), pl.col("_agreements_from").dt.strftime("%Y-%m"),
                             pl.col("_positions_from").dt.strftime("%Y-%m")).alias("reason"),
        pl.lit(GAP_WINDOW_NOT_EXPORTED).alias("gap"))])
    found = found.filter(~unseen)
    law = pl.col("basis") == LAW
    findings = found.select(
        "unit_id",
        "county_code",
        pl.col("window_start").alias("period_start"),
        pl.lit(month_end).alias("period_end"),
        pl.lit(0.0).alias("amount_at_risk"),
        "basis",
        pl.col("_law_months_ref"),
        pl.struct(
            "unit_name", "approved_date", "window_start", pl.lit(month_end).alias("window_end"),
            "last_position_posted", "last_position_closed", "last_agreement_start", "last_agreement_end",
            "last_claim_month", "last_claim_submitted",
            "basis",
            pl.struct(
                pl.col("dormancy_months").alias("value"),
                pl.when(law).then(pl.col("_law_months_ref")).alias("reference"),
                pl.when(law).then(pl.lit("unit.dormancy_months")).otherwise(pl.lit("judgement.dormancy_months"))
                .alias("parameter"),
            ).alias("param_unit_dormancy_months"),
            "_file", "_line",
        ).alias("evidence"),
    )
    # the unit's standing is judged at the end of the audit month: the clause in force then
    findings = cited(findings, policy, MANAGEMENT, on=month_end,
                     prefix=judgement("judgement.dormancy_months", judged_months), alias="_judged")
    findings = findings.with_columns(
        pl.when(pl.col("basis") == LAW).then(pl.col("_law_months_ref")).otherwise(pl.col("_judged")).alias("citation")
    ).drop("_judged", "_law_months_ref", "basis")
    return CheckResult(findings, skipped)


#: why a unit that looks dormant is not judged: a row of its activity could not be read
ACTIVITY_LOST = ("该单位有见习岗位、见习协议或申领记录无法读取（已隔离，见 quarantine.csv），可能在期内，未判断是否长期未开展见习 / "
                 "a position, agreement or claim row of the unit could not be read (quarantined): it may fall in the "
                 "window; not judged")
GAP_ACTIVITY_LOST = "单位活动记录无法读取"


#: why a unit that looks dormant is not judged: its window begins before an activity extract does
WINDOW_NOT_EXPORTED = ("期间自 {} 起，而导出的申领记录自 {} 起、见习协议自 {} 起、见习岗位自 {} 起：期初的活动不在导出数据中，"
                       "未判断是否长期未开展见习 / the window begins before the claims, agreements or positions exported "
                       "do: the unit's activity in its first months is not in the export; not judged")
GAP_WINDOW_NOT_EXPORTED = "活动记录导出期间短于判断期间"


def _extracts_from(t: Tables) -> pl.LazyFrame:
    """One row: the first claim month, agreement start and position posting of the exports
    (``_claims_from``, ``_agreements_from``, ``_positions_from``): where each extract begins."""
    assert t.positions is not None
    return (t.claims.select(pl.col("claim_month").min().alias("_claims_from"))
            .join(t.agreements.select(pl.col("start_date").min().alias("_agreements_from")), how="cross")
            .join(t.positions.select(pl.col("posted_date").min().alias("_positions_from")), how="cross"))


def _activity_lost(t: Tables, units: pl.LazyFrame) -> pl.LazyFrame:
    """unit_id of each of ``units`` (unit_id, window_start: the few that look dormant) with a row of
    positions, agreements or claims in the quarantine placed on it, dated from window_start on
    (a posting, a start, a claim month) or undated."""
    if t.quarantine is None:
        return units.select("unit_id").clear()
    lost = t.quarantine.filter(pl.col("table").is_in(["positions", "agreements", "claims"]) & pl.col("unit_id").is_not_null())
    return (
        units.join(lost.select("unit_id", "day"), on="unit_id")
        .filter(pl.col("day").is_null() | (pl.col("day") >= pl.col("window_start")))
        .select("unit_id").unique()
    )


CHECKS: tuple[Check, ...] = (no_activity,)
