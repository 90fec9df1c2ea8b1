"""RATE_MISAPPLIED: the amount claimed is not what the rules give (RULES.md §3–§4, §9).

Every rule here is per claim (``claim_id`` always set, period = the claim month) and prices its
own overpayment: claimed − expected for a wrong amount, the whole claim (amount + insurance
amount) for a claim that should not exist at all (docs/semantics.md, "Money at risk"). The
pipeline caps a claim's money at risk at the largest of its findings, so each rule states its
own overpayment honestly. Expected amounts come from :func:`checks._expected.claim_context`;
a claim whose rate or wage is unset is returned as skipped, never guessed.
"""

from __future__ import annotations

import polars as pl

from audit.findings import GAP_CALENDAR, gap_unset
from audit.policy import Policy
from audit.reference import attach_workdays
from audit.rules import Check, CheckResult, Severity, rule
from audit.tables import Tables
from checks._citations import SUBSIDY, cited
from checks._expected import (
    DIFFERENCE,
    MONTHLY,
    RAISED,
    REMAINING,
    agreements_frame,
    attach_params,
    claim_context,
    claim_keys,
    fen,
    rate_evidence,
    rate_skip_gap,
    rate_skip_reason,
    secondary_note,
    skipped,
    tolerance,
    wage_evidence,
    wage_skip_gap,
    wage_skip_reason,
    whole_claim,
)
from checks._identity import (
    identity_evidence,
    is_linked,
    person_aliases,
    rows_under_ids,
    under_every_id,
    with_aliases,
)
from checks._internships import agreement_rows_lost, chain_agreements
from checks._joins import hash_key, keys_with_more_rows_than, repeated_rows
from checks._registries import employer_insurance, lost_registry_rows, renewed_contracts
from checks._retention import (
    DEFINITION_PARAMS,
    GAP_OTHER_DEFINITION,
    UNSUPPORTED_DEFINITION,
    definition,
    difference_claims,
    unit_years,
)

RATE_PARAMS = ("rate.kind", "rate.standard_share", "rate.raised_share", "rate.standard_flat", "rate.raised_extra_flat")
# Each finding cites the reference of the parameter it rests on, as in force for the unit's
# province in the claim month (RULES.md §8); these are the clauses the shipped files give.
RATE_CITATIONS = ("赣人社发〔2023〕9号 三(一)", "豫人社函〔2023〕138号 三(一)", "湘人社规〔2023〕9号 三(一)", "云人社发〔2023〕18号 三")
ONE_PLUS_ONE = ("人社部发〔2023〕27号 四(二)", "赣人社发〔2023〕9号 五(三)", "湘人社规〔2023〕9号 四(二)", "豫人社函〔2023〕138号 三(四)")
RETENTION_THRESHOLD = ("人社部发〔2022〕11号 三(一)", "人社部发〔2023〕27号 三(一)", "赣人社发〔2023〕9号 三(一)",
                       "湘人社规〔2023〕9号 三(一)", "豫人社函〔2023〕138号 三(一)", "云人社发〔2023〕18号 三",
                       "甘人社通〔2022〕134号 二")
REMAINING_WINDOW = ("人社部发〔2022〕11号 三(一)", "人社部发〔2023〕27号 三(一)", "赣人社发〔2023〕9号 三(一)",
                    "湘人社规〔2023〕9号 三(一)", "豫人社函〔2023〕138号 三(一)", "云人社发〔2023〕18号 三",
                    "甘人社通〔2022〕134号 二")
INSURANCE = ("赣人社发〔2023〕9号 三(一)", "湘人社规〔2023〕9号 三(一)", "豫人社函〔2023〕138号 三(一)", "云人社发〔2023〕18号 三",
             "甘人社通〔2022〕134号 二")
DURATION = ("人社部发〔2023〕27号 三(三)", "赣人社发〔2023〕9号 三(三)", "湘人社规〔2023〕9号 三(三)", "豫人社函〔2023〕138号 三(三)")
APPROVAL_JX = "赣人社发〔2023〕9号 四(一)1、四(二) (开展见习活动前申请成为见习单位；见习协议经人社部门审核后生效)"
WINDOW_CLOSED = "窗口期后政策未知"
RETENTION_PARAMS = ("retention.raised_threshold", "retention.benchmark_qualifies", *DEFINITION_PARAMS)
RETENTION_DETECTION = ("retention.contract_window_days", "retention.min_contract_months",
                       "retention.min_insured_months_after", "retention.default_year_basis")


def _monthly(ctx: pl.LazyFrame) -> pl.LazyFrame:
    return ctx.filter(pl.col("claim_type") == MONTHLY)


def _months_worth(tol: float) -> pl.Expr:
    """The months a monthly claim row is worth: one, or its amount in whole months of the
    month's standard where that is priced (a row of three months paid at once is worth three)."""
    return pl.when(pl.col("expected_standard") > 0).then(
        ((pl.col("amount") + tol) / pl.col("expected_standard")).floor().clip(lower_bound=1)).otherwise(1)


def _is_raised(tol: float) -> pl.Expr:
    """A monthly claim at the raised rate: labelled 提高, or the amount of the raised rate (1+1 mode only)."""
    at_raised = ((pl.col("amount") - pl.col("expected_raised")).abs() <= tol) & (
        (pl.col("expected_raised") - pl.col("expected_standard")).abs() > tol
    )
    return (pl.col("mode_one_plus_one").fill_null(False) & ((pl.col("rate_basis") == RAISED) | at_raised.fill_null(False)))


def _claim_evidence(*extra: pl.Expr) -> pl.Expr:
    return pl.struct(
        pl.col("claim_type"), pl.col("claim_month"), pl.col("amount").alias("claimed"),
        pl.col("insurance_amount"), pl.col("rate_basis"), pl.col("submitted_date"), pl.col("paid_date"),
        pl.col("ag_id").alias("agreement_id"), *extra,
    ).alias("evidence")


def _matches(found: pl.LazyFrame, t: Tables, tol: float) -> pl.LazyFrame:
    """Which other tier or standard the claimed amount matches ("matches tier 1", "matches the
    standard effective 2024-03-01"), for the evidence of a wrong amount."""
    wages = t.min_wage.select(
        "province_code", pl.col("tier").cast(pl.Int64).alias("_tier"), pl.col("effective_from").alias("_from"),
        pl.col("monthly_yuan").cast(pl.Float64).alias("_yuan"),
    )
    label = (
        pl.when((pl.col("_tier") != pl.col("mw_tier")) & (pl.col("_from") != pl.col("mw_effective_from")))
        .then(pl.format("matches tier {} (standard effective {})", pl.col("_tier"), pl.col("_from")))
        .when(pl.col("_tier") != pl.col("mw_tier"))
        .then(pl.format("matches tier {}", pl.col("_tier")))
        .otherwise(pl.format("matches the standard effective {}", pl.col("_from")))
    )
    return (
        found.select("claim_id", "province_code", "amount", "mw_tier", "mw_effective_from", "rate_kind", "rate_standard_share")
        .filter(pl.col("rate_kind") == "min_wage_share")
        .join(wages, on="province_code")
        .filter(
            ((fen(pl.col("rate_standard_share") * pl.col("_yuan")) - pl.col("amount")).abs() <= tol)
            & ((pl.col("_tier") != pl.col("mw_tier")) | (pl.col("_from") != pl.col("mw_effective_from")))
        )
        .sort("_tier", "_from")
        .group_by("claim_id")
        .agg(label.alias("matches"))
    )


@rule(
    id="RATE_MISAPPLIED.wrong_amount",
    title="月度补贴金额与所在地最低工资档次及补贴标准不符",
    severity=Severity.MEDIUM,
    citations=RATE_CITATIONS,
    params=RATE_PARAMS,
    detection_params=("money.tolerance_yuan",),
    needs=("claims.claim_type",),
)
def wrong_amount(t: Tables, policy: Policy) -> CheckResult:
    """A monthly claim is paid at the standard rate of the claim month: the province's share of the
    minimum wage of the unit's county tier in force that month (or the flat rate). A claim above
    it — a wrong tier, a wage standard used before its effective date — is overpaid by the
    difference; the evidence says which other tier or standard the amount matches. Monthly claims
    at the raised rate are left to ``raised_rate_monthly``. Period: the claim month."""
    tol = tolerance(policy)
    monthly = _monthly(claim_context(t, policy))
    # semantics.md says "differs"; an amount BELOW the standard overpays nothing, so only claims
    # above it are findings (an under-claim is not an overpayment and not fraud).
    found = monthly.filter(
        pl.col("expected_standard").is_not_null()
        & ~_is_raised(tol)
        & ((pl.col("amount") - pl.col("expected_standard")) > tol)
    )
    findings = found.join(_matches(found, t, tol), on="claim_id", how="left").select(
        *claim_keys(),
        (pl.col("amount") - pl.col("expected_standard")).alias("amount_at_risk"),
        _claim_evidence(
            pl.col("expected_standard").alias("expected"), wage_evidence(), rate_evidence(),
            pl.col("matches").fill_null([]), pl.col("working_days").alias("declared_working_days"),
        ),
        pl.col("rate_reference").alias("citation"),
    )
    skip = skipped(monthly.filter(pl.col("expected_standard").is_null()), rate_skip_reason(), rate_skip_gap())
    return CheckResult(findings, skip)


@rule(
    id="RATE_MISAPPLIED.raised_rate_monthly",
    title="“1+1”模式下按提高标准按月申领",
    severity=Severity.HIGH,
    citations=ONE_PLUS_ONE,
    params=(*RATE_PARAMS, "mode.one_plus_one"),
    detection_params=("money.tolerance_yuan",),
    needs=("claims.claim_type",),
)
def raised_rate_monthly(t: Tables, policy: Policy) -> CheckResult:
    """Under the 1+1 mode monthly claims are paid at the standard rate only; the raise for high
    retention comes once, as the 差额, after the internship. A monthly claim labelled 提高 or at the
    raised amount is overpaid by claimed − standard. Period: the claim month."""
    tol = tolerance(policy)
    # (a few claims of millions, read by the findings and the skipped rows: cached, filtered once)
    monthly = _monthly(claim_context(t, policy)).filter(_is_raised(tol) | (pl.col("rate_basis") == RAISED)).cache()
    judged = monthly.filter(pl.col("expected_standard").is_not_null() & _is_raised(tol))
    findings = judged.filter((pl.col("amount") - pl.col("expected_standard")) > tol).select(
        *claim_keys(),
        (pl.col("amount") - pl.col("expected_standard")).alias("amount_at_risk"),
        _claim_evidence(
            pl.col("expected_standard").alias("expected"), pl.col("expected_raised").alias("raised_rate_amount"),
            pl.col("mode_one_plus_one").alias("one_plus_one"), pl.col("mode_one_plus_one_ref").alias("mode_reference"),
            wage_evidence(), rate_evidence(),
        ),
        pl.col("mode_one_plus_one_ref").alias("citation"),
    )
    skip = skipped(
        monthly.filter(pl.col("expected_standard").is_null() & pl.col("mode_one_plus_one").fill_null(False)),
        rate_skip_reason(), rate_skip_gap(),
    )
    return CheckResult(findings, skip)


@rule(
    id="RATE_MISAPPLIED.partial_month",
    title="提前离岗当月见习不足规定工作日仍申领补贴",
    severity=Severity.MEDIUM,
    citation="赣人社发〔2023〕9号 四(二)",
    params=("partial_month.min_working_days",),
    needs=("claims.claim_type",),
)
def partial_month(t: Tables, policy: Policy) -> CheckResult:
    """Where a province sets partial_month.min_working_days (Jiangxi: 15), the month in which an
    agreement ends early is paid only if the working days interned that month — from the later of
    the 1st and the start to the actual end, on the statutory calendar with make-up workdays,
    never the declared working_days — reach the minimum; otherwise the whole claim is at risk.
    Period: the month of leaving."""
    monthly = _monthly(claim_context(t, policy)).filter(
        pl.col("partial_month_min_working_days").is_not_null()
        & (pl.col("ag_actual_end") < pl.col("ag_planned_end"))
        & (pl.col("claim_month") == pl.col("ag_actual_end").dt.month_start())
    )
    counted = attach_workdays(
        monthly.with_columns(pl.max_horizontal("claim_month", "ag_start").alias("_from")), t.calendar,
        start="_from", end="ag_actual_end", alias="workdays",
    )
    findings = counted.filter(pl.col("workdays") < pl.col("partial_month_min_working_days")).select(
        *claim_keys(),
        whole_claim(),
        _claim_evidence(
            pl.col("workdays").alias("working_days_computed"), pl.col("working_days").alias("declared_working_days"),
            pl.col("_from").alias("counted_from"), pl.col("ag_actual_end").alias("counted_to"),
            pl.col("ag_start").alias("agreement_start"), pl.col("ag_planned_end").alias("planned_end"),
            pl.col("partial_month_min_working_days").alias("min_working_days"),
            pl.col("partial_month_min_working_days_ref").alias("reference"),
            pl.lit("statutory calendar, make-up workdays included").alias("calendar"),
        ),
    )
    province = pl.coalesce(pl.col("province_name"), pl.col("province_code"))
    why = pl.format("{}{}（{}）{}：法定工作日历缺少 {} 至 {} 之间的日期，无法计算提前离岗当月的工作日"
                    "（请在 calendar 表中补充该月每一天，见 audit reference check）",
                    province, pl.col("county_label").fill_null(""), pl.col("county_code"),
                    pl.col("claim_month").dt.strftime("%Y-%m"), pl.col("_from"), pl.col("ag_actual_end"))
    skip = skipped(counted.filter(pl.col("workdays").is_null()), why, GAP_CALENDAR)
    return CheckResult(findings, skip)


@rule(
    id="RATE_MISAPPLIED.outside_agreement",
    title="申领月份不在见习协议期限内",
    severity=Severity.HIGH,
    citations=SUBSIDY,
    exit_condition=3,  # claims for months after the trainee left (RULES.md §8, "Exit conditions")
    needs=("claims.claim_type",),
)
def outside_agreement(t: Tables, policy: Policy) -> CheckResult:
    """A claim month before the start or after the end (actual, else planned; the planned end for a
    剩余期限 month) of every agreement of the person at that unit pays for no internship month:
    the whole claim is at risk. The person's agreements under any of their IDs count
    (:mod:`checks._identity`). Claims with no agreement at all are DATA_QUALITY's orphans. A 差额
    is no month of internship: its claim_month may be the last internship month or the month it
    was claimed or paid (RULES.md §8), and its timing is judged by the 差额 rules
    (lump_sum_after_end, difference_amount, difference_without_retention). Period: the claim
    month. Where an agreement of the person at the unit ends before it starts (a year keyed
    wrong), no span can be read: the claim is skipped, saying so; so it is where an agreement row
    of the person at the unit could not be read (the loader quarantines one that ends before it
    starts), which may be the agreement the month lies within."""
    ctx = claim_context(t, policy).filter(
        pl.col("ag_id").is_not_null() & ~pl.col("covered") & (pl.col("claim_type") != DIFFERENCE))
    # the agreements of the few persons found only, not a list per (person, unit) of the million
    persons = ctx.select("person_id").unique()
    spans = (
        rows_under_ids(agreements_frame(t), persons, t, policy).drop("person_id").rename({"_of": "person_id"})
        .group_by("person_id", "unit_id").agg(
            pl.struct(pl.col("ag_id").alias("agreement_id"), pl.col("ag_start").alias("start"),
                      pl.col("ag_end").alias("end"), pl.col("ag_planned_end").alias("planned_end"))
            .sort_by("ag_start", "ag_id").alias("agreements"),
            # an agreement that ends before it starts (a year keyed wrong): its span cannot be read
            ((pl.col("ag_end") < pl.col("ag_start")) | (pl.col("ag_planned_end") < pl.col("ag_start"))).any()
            .alias("_span_unreadable"),
        )
    )
    judged = ctx.join(spans, on=["person_id", "unit_id"], how="left").with_columns(
        pl.col("_span_unreadable").fill_null(False))
    # an agreement row of the person at the unit that the loader could not read — the loader
    # quarantines one that ends before it starts — may be the agreement the month lies within
    judged = judged.join(agreement_rows_lost(judged, ["claim_id"], t, policy), on="claim_id", how="left").with_columns(
        pl.col("_agreement_lost").fill_null(False)).cache()  # findings and skips
    # a claim naming an agreement the export does not hold is not judged by the person's others
    judged = names_unexported_agreement(judged, t, few=True).cache()
    unjudged = pl.col("_span_unreadable") | pl.col("_agreement_lost") | pl.col("_names_unexported")
    found = judged.filter(~unjudged).select(
        *claim_keys(), whole_claim(), _claim_evidence(pl.col("agreements")),
    )
    return CheckResult(cited(found, policy, SUBSIDY), skipped(
        judged.filter(unjudged),
        pl.when(pl.col("_names_unexported")).then(pl.format(NAMES_UNEXPORTED, "claim_agreement_id", "claim_agreement_id"))
        .when(pl.col("_span_unreadable")).then(pl.lit(SPAN_UNREADABLE)).otherwise(pl.lit(AGREEMENT_ROW_LOST)),
        pl.when(pl.col("_names_unexported")).then(pl.lit(GAP_NAMES_UNEXPORTED))
        .when(pl.col("_span_unreadable")).then(pl.lit(GAP_SPAN_UNREADABLE)).otherwise(pl.lit(GAP_AGREEMENT_ROW_LOST))))


#: why a claim is not judged against the person's other agreements: it names one the export lacks
NAMES_UNEXPORTED = ("申领所称见习协议 {} 不在见习协议导出中（导出可能只含某日之后的协议），未以该人员的其他协议判断 / the claim names "
                    "agreement {}, which the agreements export does not hold (an export of later agreements): not "
                    "judged by the person's other agreements")
GAP_NAMES_UNEXPORTED = "申领所称协议未导出"


#: why a claim is not judged outside its agreements: one of them ends before it starts
SPAN_UNREADABLE = ("该人员在该单位的见习协议中有结束日期早于开始日期者（如年份录错），协议期限无法判断，未判断申领月份是否在协议期内 / "
                   "an agreement of the person at the unit ends before it starts (a year keyed wrong): its span "
                   "cannot be read, so whether the month lies within an agreement is not judged")
GAP_SPAN_UNREADABLE = "协议结束日期早于开始日期"
#: why a claim is not judged outside its agreements: an agreement row of the person at the unit is lost
AGREEMENT_ROW_LOST = ("该人员在该单位有见习协议行无法读取（已隔离，见 quarantine.csv；如结束日期早于开始日期），可能即为该月所属协议，"
                      "未判断申领月份是否在协议期内 / an agreement row of the person at the unit could not be read "
                      "(quarantined; e.g. it ends before it starts): it may be the agreement this month lies within: not judged")
GAP_AGREEMENT_ROW_LOST = "见习协议行无法读取"


@rule(
    id="RATE_MISAPPLIED.beyond_max_months",
    title="补贴月数超过最长期限",
    severity=Severity.HIGH,
    citations=DURATION,
    params=("duration.max_months",),
    needs=("claims.claim_type",),
)
def beyond_max_months(t: Tables, policy: Policy) -> CheckResult:
    """No subsidy beyond duration.max_months (12) per trainee: counting the distinct months of the
    person's monthly claims across all units and all of the person's IDs (:mod:`checks._identity`)
    in month order, the claims of the 13th and later months are not payable (whole claim at
    risk). Period: the claim month."""
    # Only 月度 months count: a 差额's month is already one of them, and a 剩余期限 month is not
    # interned (semantics.md says "claimed internship months" without naming the types).
    monthly = _monthly(claim_context(t, policy))
    # A month numbered above the maximum needs more monthly claims than the smallest maximum in
    # force: only the persons with that many are ranked (bench/NOTES.md, "Repeated keys"); a
    # person known under several IDs (a few) is counted over all of them, whatever their number
    keys = person_aliases(t, policy).select("person_id", "person_key").unique()
    enough = keys_with_more_rows_than(monthly, ["person_id"], pl.col("duration_max_months").min()).join(
        keys, on="person_id", how="anti").with_columns(pl.col("person_id").alias("person_key"))
    of_linked = is_linked(t, policy)
    several = _monthly(claim_context(t, policy, only=of_linked)).join(keys, on="person_id")
    ranked = pl.concat([enough, several]).with_columns(
        pl.col("claim_month").rank("dense").over("person_key").cast(pl.Int64).alias("month_number"),
        pl.col("claim_month").n_unique().over("person_key").alias("months_claimed"),
    )
    over = ranked.filter(pl.col("month_number") > pl.col("duration_max_months"))
    findings = over.join(identity_evidence(t, policy), on="person_id", how="left").select(
        *claim_keys(), whole_claim(),
        _claim_evidence(
            pl.col("month_number"), pl.col("months_claimed"), pl.col("duration_max_months").alias("max_months"),
            pl.col("duration_max_months_ref").alias("reference"), pl.col("identity_links"),
        ),
        pl.col("duration_max_months_ref").alias("citation"),
    )
    skip = skipped(monthly.filter(pl.col("duration_max_months").is_null()), pl.col("duration_max_months_why"),
                   gap_unset("duration.max_months"))
    return CheckResult(findings, skip)


def _ended_before_submission(late: pl.LazyFrame, t: Tables) -> pl.LazyFrame:
    """The rows of ``late`` (monthly claims submitted after their agreement's end) submitted after
    the whole internship ended: an agreement followed by an extension without a gap
    (:func:`checks._internships.chain_agreements`, no cap) has not ended the internship. Adds
    ``internship_end``."""
    # the agreements of the few persons whose submissions look lumped only
    agreements = agreements_frame(t).join(late.select("person_id", "unit_id").unique(), on=["person_id", "unit_id"],
                                          how="semi")
    ends = chain_agreements(agreements.select(
        "person_id", "unit_id", pl.col("ag_id").alias("agreement_id"), pl.col("ag_start").alias("start_date"),
        pl.col("ag_end").alias("end"))).select(pl.col("agreement_id").alias("ag_id"), "internship_end").unique("ag_id")
    return late.join(ends, on="ag_id", how="left").filter(
        pl.col("submitted_date") > pl.coalesce("internship_end", "ag_end"))


@rule(
    id="RATE_MISAPPLIED.lump_sum_after_end",
    title="见习结束后集中申领或提前申领差额补贴",
    severity=Severity.MEDIUM,
    citations=ONE_PLUS_ONE,
    params=(*RATE_PARAMS, "mode.one_plus_one"),
    detection_params=("money.tolerance_yuan", "lump_sum.min_months"),
    needs=("claims.claim_type",),
)
def lump_sum_after_end(t: Tables, policy: Policy) -> CheckResult:
    """不得见习结束后集中发放: the monthly claims of an internship first submitted on one day after
    it ended (the internship's last day, extensions included) that hold lump_sum.min_months (2)
    months or more are a lump sum — however the export writes them: several rows (distinct claim
    months), or one row worth several months (its amount over the month's standard, rounded
    down). Every claim of the submission is at risk in full (the notice forbids paying them so).
    A last month claimed in the month after the end, or any single late month, is the ordinary
    lag of monthly claims. A 差额, paid once after the internship, submitted on or before the
    internship's end is one before its time: the whole claim is at risk. A single row whose
    month's standard is unset cannot be counted in months and is skipped. Period: the claim
    month."""
    tol = tolerance(policy)
    min_months = int(policy.detect("lump_sum.min_months"))
    ctx = claim_context(t, policy).filter(pl.col("ag_id").is_not_null())
    submission = ["person_id", "unit_id", "submitted_date"]
    worth = _months_worth(tol)
    months = pl.col("claim_month").n_unique() + (pl.col("_worth") - 1).sum()
    # monthly claims submitted after their agreement's end: mostly each internship's last month
    late = _monthly(ctx).filter(pl.col("submitted_date") > pl.col("ag_end")).with_columns(
        worth.cast(pl.Int64).alias("_worth")).with_row_index("_l").cache()
    # a submission of enough months has a row worth them all or several rows: only those (a few of
    # the last months of every internship) are grouped (bench/NOTES.md, "Repeated keys")
    maybe = pl.concat([late.filter(pl.col("_worth") >= min_months), repeated_rows(late, submission)]).unique("_l")
    confirmed = _ended_before_submission(maybe, t).cache()  # counted on the rows confirmed
    per_submission = confirmed.group_by(submission).agg(
        months.alias("months_in_submission"),
        pl.col("claim_id").sort().alias("claims_in_submission"),
    ).filter(pl.col("months_in_submission") >= min_months)
    lump = confirmed.join(per_submission, on=submission).with_columns(
        pl.lit("lump sum after the end").alias("_kind"))
    early = ctx.filter((pl.col("claim_type") == DIFFERENCE) & (pl.col("submitted_date") <= pl.col("ag_end"))).with_columns(
        pl.lit("差额 before the end").alias("_kind"), pl.col("ag_end").alias("internship_end"),
        pl.lit(None, pl.Int64).alias("months_in_submission"), pl.lit(None, pl.List(pl.String)).alias("claims_in_submission"),
    )
    unpriced = late.filter(pl.col("expected_standard").is_null()).join(lump.select("claim_id"), on="claim_id", how="anti")
    unjudged = [skipped(unpriced, rate_skip_reason(), rate_skip_gap())]
    if not t.exported("agreements", "actual_end_date"):
        # the internship may have ended before its planned end (提前留用): a 差额 before that is not early
        unjudged.append(skipped(early, END_UNKNOWN))
        early = early.clear()
    findings = pl.concat([lump, early], how="diagonal_relaxed").select(
        *claim_keys(), whole_claim(),
        _claim_evidence(
            pl.col("_kind").alias("finding"), pl.col("internship_end"),
            pl.col("expected_standard").alias("monthly_standard"),
            (pl.col("amount") / pl.col("expected_standard")).round(2).alias("months_equivalent"),
            pl.col("months_in_submission"), pl.col("claims_in_submission"),
            pl.lit(min_months).alias("param_lump_sum_min_months"),
            wage_evidence(),
        ),
        pl.col("mode_one_plus_one_ref").alias("citation"),
    )
    return CheckResult(findings, pl.concat(unjudged))


#: why a 差额 submitted before its agreement's planned end is not judged without 实际结束日期
END_UNKNOWN = "见习协议未导出实际结束日期（actual_end_date）：见习可能已提前结束（如提前留用），差额是否早于见习结束申领无法判断"


@rule(
    id="RATE_MISAPPLIED.difference_without_retention",
    title="留用率未达标仍申领差额补贴",
    severity=Severity.HIGH,
    citations=RETENTION_THRESHOLD,
    params=RETENTION_PARAMS,
    detection_params=RETENTION_DETECTION,
    needs=("employment", "claims.claim_type", "agreements.actual_end_date"),
)
def difference_without_retention(t: Tables, policy: Policy) -> CheckResult:
    """A 差额 is payable only when the unit's real retention rate (recomputed from contracts and
    insurance, checks/_retention.py) for the year the internship ended reaches
    retention.raised_threshold — or, where retention.benchmark_qualifies (Jiangxi), the unit is a
    标杆 unit. Otherwise the whole 差额 is at risk. The year is that of the internship the 差额
    pays for, whichever month the export dates the 差额 in. A unit-year below the threshold only
    while people under IDs nothing resolves count as not retained is skipped
    (:data:`checks._retention.UNVERIFIABLE`), and so is one that may be an exempt 标杆 unit
    (:data:`checks._retention.BENCHMARK_UNKNOWN`). Period: the claim month."""
    years = unit_years(t, policy).select(
        "unit_id", "year", "completed", "really_retained", "declared_retained", "real_rate", "declared_rate",
        "retention_raised_threshold", "retention_raised_threshold_ref", "is_benchmark", "retention_benchmark_qualifies",
        "qualifies", "undecided", "undecided_reason", "undecided_gap", "unverifiable", "real_rate_at_most",
        "year_basis", "year_basis_source", "denominator", "definition_supported",
    )
    claims = _internship_lost(difference_claims(t, policy).join(years, on=["unit_id", "year"], how="left"), t, policy)
    supported = pl.col("definition_supported").fill_null(True)
    # a 差额 that found no internship, of a person with an agreement row at the unit the loader could
    # not read: that row may be its internship, and the year it ended (the retention year) unknown
    undecided = pl.col("undecided").fill_null(False) | pl.col("_internship_lost")
    findings = claims.filter(pl.col("qualifies").not_() & pl.col("retention_raised_threshold").is_not_null()
                             & supported & ~undecided).select(
        *claim_keys(), whole_claim(),
        _claim_evidence(
            pl.col("year").alias("retention_year"), pl.col("completed").fill_null(0).alias("completed"),
            pl.col("really_retained").fill_null(0).alias("really_retained"), pl.col("real_rate"),
            pl.col("unverifiable").fill_null(0).alias("unverifiable"), pl.col("real_rate_at_most"),
            pl.col("declared_retained"), pl.col("declared_rate"),
            pl.col("retention_raised_threshold").alias("threshold"), pl.col("retention_raised_threshold_ref").alias("reference"),
            pl.col("is_benchmark"), pl.col("retention_benchmark_qualifies").alias("benchmark_qualifies"),
            definition(t, policy),
        ),
        pl.col("retention_raised_threshold_ref").alias("citation"),
    )
    # one pass over the claims for the three reasons (a branch each would read them three times)
    unset = pl.col("retention_raised_threshold").is_null()
    reason = (pl.when(pl.col("_internship_lost")).then(pl.lit(INTERNSHIP_LOST))
              .when(unset).then(pl.lit("留用率达标线（retention.raised_threshold）在该省该年未设定"))
              .when(~supported).then(pl.lit(UNSUPPORTED_DEFINITION)).otherwise(pl.col("undecided_reason")))
    gap = (pl.when(pl.col("_internship_lost")).then(pl.lit(GAP_INTERNSHIP_UNKNOWN))
           .when(unset).then(pl.lit(gap_unset("retention.raised_threshold")))
           .when(~supported).then(pl.lit(GAP_OTHER_DEFINITION)).otherwise(pl.col("undecided_gap")))
    return CheckResult(findings, skipped(claims.filter(unset | ~supported | undecided), reason, gap))


INTERNSHIP_LOST = ("差额未对应到见习协议，而该人员在该单位有见习协议行无法读取（已隔离，见 quarantine.csv），或差额所称协议不在"
                   "见习协议数据中：其见习结束年度（留用率年度）未知，未判断 / the 差额 found no internship, and an agreement "
                   "row of the person at the unit could not be read, or the agreement it names is not in the agreements "
                   "export: the year it ended is unknown")
GAP_INTERNSHIP_UNKNOWN = "差额所补见习无法确定"


def names_unexported_agreement(claims: pl.LazyFrame, t: Tables, *, few: bool = False) -> pl.LazyFrame:
    """``claims`` (差额 claims; any claims where ``few``) with ``_names_unexported``: the claim names
    an agreement (``claim_agreement_id``) the agreements export does not hold — an export of
    agreements from a date on leaves out the older internships its claims still name."""
    # the agreements probed for the few ids the claims name (a hash of those, not of a million
    # agreements), read from the claims table for the 差额 (the plan of ``claims`` is not run
    # twice), from ``claims`` itself where they are a few rows already held (``few``: cached)
    named = (claims if few else t.claims.filter(pl.col("claim_type") == DIFFERENCE).rename(
        {"agreement_id": "claim_agreement_id"})).select("claim_agreement_id").drop_nulls().unique()
    exported = (t.agreements.select(pl.col("agreement_id").alias("claim_agreement_id")).join(named, on="claim_agreement_id",
                                                                                              how="semi")
                .unique().with_columns(pl.lit(True).alias("_exported")))
    return claims.join(exported, on="claim_agreement_id", how="left").with_columns(
        (pl.col("claim_agreement_id").is_not_null() & pl.col("_exported").is_null()).alias("_names_unexported")
    ).drop("_exported")


def _internship_lost(claims: pl.LazyFrame, t: Tables, policy: Policy) -> pl.LazyFrame:
    """``claims`` with ``_internship_lost``: the claim found no agreement (``ag_end`` null) and its
    person has an agreement row at the unit, or of no readable unit, that the loader could not
    read (:func:`checks._internships.agreement_rows_lost`) — or the claim names an agreement the agreements export does not
    hold (:func:`names_unexported_agreement`): its internship is outside the export."""
    claims = names_unexported_agreement(claims, t).with_columns(
        (pl.col("ag_end").is_null() & pl.col("_names_unexported")).alias("_before_agreements")).drop("_names_unexported")
    flagged = agreement_rows_lost(claims.filter(pl.col("ag_end").is_null()), ["claim_id"], t, policy)
    return (claims.join(flagged, on="claim_id", how="left")
            .with_columns((pl.col("_agreement_lost").fill_null(False) | pl.col("_before_agreements")).alias("_internship_lost"))
            .drop("_before_agreements", "_agreement_lost"))


@rule(
    id="RATE_MISAPPLIED.difference_amount",
    title="差额补贴金额超过按月差额之和",
    severity=Severity.MEDIUM,
    citations=RATE_CITATIONS,
    params=RATE_PARAMS,
    detection_params=("money.tolerance_yuan",),
    needs=("claims.claim_type",),
)
def difference_amount(t: Tables, policy: Policy) -> CheckResult:
    """A 差额 pays, once per internship, for each distinct month of the trainee's monthly claims at
    the unit within the internship it pays for (its first to its last month, extensions included;
    checks/_expected.py resolves the internship whichever month the export dates the 差额 in), the
    raised rate minus the standard rate of that month ((raised_share − standard_share) × that
    month's minimum wage, or the flat addition). A 差额 above that sum is overpaid by the excess;
    a second 差额 of the same internship pays for no month (the first, by claim month, submission
    and id, pays for all). A 差额 with no agreement of the person at the unit pays for the months
    up to its own. Where one monthly row of the internship is worth several months (a lump sum,
    :func:`lump_sum_after_end` judges it), which months it paid for is not written: the 差额 is
    skipped, not judged on the months the rows name; so it is where a claim row of the person at
    the unit in those months (or undated) could not be read (the quarantine): a month may be
    lost; and so it is where the internship began before the first month of the claims extract
    (an export of claims from a month on holds none of its first months). Period: the claim month."""
    tol = tolerance(policy)
    ctx = claim_context(t, policy)
    internship = ["person_id", "unit_id", "_from"]
    diffs = (
        ctx.filter(pl.col("claim_type") == DIFFERENCE)
        .with_columns(
            pl.col("difference_internship_start").dt.month_start().alias("_from"),
            pl.when(pl.col("difference_internship_start").is_not_null()).then(pl.col("ag_end").dt.month_start())
            .otherwise(pl.col("claim_month")).alias("_to"),
        )
        .sort(*internship, "claim_month", "submitted_date", "claim_id", nulls_last=True)
        .with_row_index("_d")
        .with_columns(pl.col("claim_id").first().over(internship).alias("_first_difference"),
                      (pl.int_range(pl.len()).over(internship) == 0).alias("_pays"))
        .cache()  # a few thousand 差额 read three times
    )
    # the monthly claims of the persons with a 差额 only (a few thousand of a million)
    months = _monthly(ctx).join(diffs.select("person_id").unique(), on="person_id", how="semi").select(
        "person_id", "unit_id", pl.col("claim_month").alias("_month"), "expected_difference", "province_code",
        secondary_note().alias("_secondary"), _months_worth(tol).alias("_worth"),
    )
    summed = (
        diffs.filter(pl.col("_pays")).select("_d", "person_id", "unit_id", "_from", "_to")
        .join(months, on=["person_id", "unit_id"])
        .filter((pl.col("_month") <= pl.col("_to")) & (pl.col("_from").is_null() | (pl.col("_month") >= pl.col("_from"))))
        .unique(["_d", "_month"], keep="first")
        .group_by("_d")
        .agg(
            pl.col("expected_difference").sum().alias("expected"),
            pl.len().alias("months_paid"),
            # the earliest unpriced month (first() named whichever came first from the join)
            pl.col("_month").filter(pl.col("expected_difference").is_null()).min().alias("_unpriced"),
            pl.col("province_code").first().alias("_province"),
            pl.struct(pl.col("_month").alias("month"), pl.col("expected_difference").alias("difference"),
                      pl.col("_secondary").alias("secondary_source"))
            .sort_by("_month").alias("per_month"),
            pl.col("_secondary").drop_nulls().first().alias("_secondary"),
            pl.col("_worth").max().alias("_lump"),
        )
    )
    judged = diffs.join(summed, on="_d", how="left").with_columns(
        pl.col("expected").fill_null(0.0), pl.col("months_paid").fill_null(0), pl.col("per_month").fill_null([]),
        pl.col("_lump").fill_null(1),
    ).join(_unreadable_claims(t, diffs, internship), on="_d", how="left").with_columns(
        pl.col("_unreadable").fill_null(0)
    ).pipe(names_unexported_agreement, t).join(
        t.claims.select(pl.col("claim_month").min().alias("_claims_from")), how="cross"
    ).with_columns(
        # an internship begun before the claims extract's first month: its first monthly claims
        # are not in the extract (an export of claims from a month on), so its months cannot be counted;
        # nor those of a 差额 that found no internship while it names an agreement the agreements
        # export does not hold (an export of agreements from a date on: its internship is older)
        ((pl.col("_from") < pl.col("_claims_from")).fill_null(False)
         | (pl.col("_from").is_null() & pl.col("_names_unexported"))).alias("_before_extract"))
    countable = (pl.col("_unpriced").is_null() & (pl.col("_lump") <= 1) & (pl.col("_unreadable") == 0)
                 & ~pl.col("_before_extract"))
    findings = judged.filter(countable & ((pl.col("amount") - pl.col("expected")) > tol)).select(
        *claim_keys(), (pl.col("amount") - pl.col("expected")).alias("amount_at_risk"),
        _claim_evidence(
            pl.col("expected"), pl.col("months_paid"), pl.col("per_month"),
            pl.struct(pl.col("difference_internship_start").alias("start"), pl.col("ag_end").alias("end"))
            .alias("internship_paid_for"),
            pl.when(~pl.col("_pays")).then(pl.col("_first_difference")).alias("earlier_difference_of_internship"),
            rate_evidence(), pl.col("_secondary").alias("secondary_source"),
        ),
        pl.col("rate_reference").alias("citation"),
    )
    why = pl.format("the raised or standard rate of {} is unset for province {} (a month the 差额 pays for)",
                    pl.col("_unpriced").dt.strftime("%Y-%m"), pl.col("_province"))
    lump = pl.format("一笔月度申领相当于 {} 个月的补贴（集中发放，见 RATE_MISAPPLIED.lump_sum_after_end），差额所补月份无法计数 / "
                     "a monthly claim of the internship is worth {} months (a lump sum): the months this 差额 pays "
                     "for cannot be counted", pl.col("_lump"), pl.col("_lump"))
    unreadable = pl.format("该见习有 {} 笔申领无法读取（已隔离，见 quarantine.csv），差额所补月份无法计数 / {} claim rows of "
                           "the internship could not be read (quarantined): the months this 差额 pays for cannot be "
                           "counted", pl.col("_unreadable"), pl.col("_unreadable"))
    before = pl.format("申领数据最早为 {}，该见习始于 {}，此前的月度申领不在数据中，差额所补月份无法计数 / the claims "
                       "extract begins in {}, after the internship began ({}): the months this 差额 pays for cannot be "
                       "counted", *[pl.col(c).dt.strftime("%Y-%m") for c in ("_claims_from", "_from")] * 2)
    before_unknown = pl.format("差额所称见习协议 {} 不在见习协议数据中，其见习起止不明，差额所补月份无法计数 / the 差额 names "
                               "agreement {}, which the agreements export does not hold: the months it pays for cannot "
                               "be counted", *[pl.col("claim_agreement_id")] * 2)
    before = pl.when(pl.col("_from").is_null()).then(before_unknown).otherwise(before)
    unpriced = pl.col("_unpriced").is_not_null()
    reason = (pl.when(unpriced).then(why).when(pl.col("_lump") > 1).then(lump)
              .when(pl.col("_unreadable") > 0).then(unreadable).otherwise(before))
    gap = pl.when(unpriced).then(pl.lit("差额所含月份的补贴标准无法核算")).otherwise(pl.lit("差额所含月份无法计数"))
    return CheckResult(findings, skipped(judged.filter(~countable), reason, gap))


def _unreadable_claims(t: Tables, diffs: pl.LazyFrame, internship: list[str]) -> pl.LazyFrame:
    """Per paying 差额 ``_d``, how many claim rows of its person at its unit the loader could not
    read (``Tables.quarantine``) dated in the months it pays for, or undated: a monthly claim lost
    to the quarantine would make the 差额 look larger than its months (unreadable rows do not
    accuse)."""
    if t.quarantine is None:
        return pl.LazyFrame(schema={"_d": pl.UInt32, "_unreadable": pl.UInt32})
    lost = t.quarantine.filter(pl.col("table") == "claims").select(
        "person_id", "unit_id", pl.col("day").dt.truncate("1mo").alias("_lost_month"))
    inside = (pl.col("_lost_month").is_null()
              | ((pl.col("_lost_month") <= pl.col("_to"))
                 & (pl.col("_from").is_null() | (pl.col("_lost_month") >= pl.col("_from")))))
    return (
        diffs.filter(pl.col("_pays")).select("_d", *internship, "_to")
        .join(lost, on=["person_id", "unit_id"])
        .filter(inside)
        .group_by("_d").agg(pl.len().cast(pl.UInt32).alias("_unreadable"))
    )


def _hire(ctx: pl.LazyFrame, t: Tables, policy: Policy) -> pl.LazyFrame:
    """The hiring contract of each 剩余期限 claim: the first contract with the unit starting between the
    internship start and the planned end; and whether the unit insured the person from the hire on.
    Contracts and insurance count under any ID of the person (:mod:`checks._identity`)."""
    claims = with_aliases(ctx.select("claim_id", "person_id", "unit_id", "ag_start", "ag_planned_end"), t, policy,
                          alias="_pid")
    # the contracts as signed, with their renewals, of the persons and units of these claims only
    pairs = claims.select(pl.col("_pid").alias("person_id"), pl.col("unit_id").alias("employer_id"))
    contracts = (
        claims.join(renewed_contracts(t, None, pairs).select(
            pl.col("person_id").alias("_pid"), pl.col("employer_id").alias("unit_id"), "contract_start",
            "contract_end", "hired_until"),
              on=["_pid", "unit_id"])
        .filter((pl.col("contract_start") >= pl.col("ag_start")) & (pl.col("contract_start") < pl.col("ag_planned_end")))
        .sort("contract_start", "contract_end", nulls_last=True)
        .group_by("claim_id")
        .agg(pl.col("contract_start").first(), pl.col("contract_end").first(), pl.col("hired_until").first())
        .cache()
    )
    hired = contracts.join(ctx.select("claim_id", "person_id", "unit_id"), on="claim_id").cache()
    # the insurance of the hired persons only, before it is de-duplicated (bench/NOTES.md)
    insured = (
        hired
        .join(employer_insurance(rows_under_ids(t.social_insurance, hired, t, policy).drop("person_id")
                                 .rename({"_of": "person_id"}), t.si_as_of), on=["person_id", "unit_id"])
        .filter(pl.col("month") >= pl.col("contract_start").dt.month_start())
        .group_by("claim_id")
        .agg(pl.col("month").min().alias("insured_from"))
    )
    return ctx.join(contracts, on="claim_id", how="left").join(insured, on="claim_id", how="left")


NO_INSURANCE_AFTER_HIRE = "no social insurance by the unit after the hire"
#: the conditions of a 剩余期限 month that rest on the hiring contract (its day, window, length)
ON_THE_CONTRACT = frozenset({
    "no labour contract with the unit before the planned end", "contract signed outside the policy window",
    "contract shorter than the minimum", NO_INSURANCE_AFTER_HIRE, "hired before the minimum months of internship",
})
HIRE_ROWS_LOST = ("该见习人员的劳动合同或参保记录有无法读取的行（已隔离，见 quarantine.csv），可能即为留用的合同或参保，"
                  "未判断剩余期限补贴条件 / a contract or insurance row of the person could not be read: it may be the "
                  "hire, or the insurance after it; the 剩余期限 conditions that rest on it are not judged")
GAP_HIRE_ROWS_LOST = "劳动合同或参保记录无法读取"


@rule(
    id="RATE_MISAPPLIED.remaining_period_ineligible",
    title="剩余期限见习补贴不符合所在省份条件",
    severity=Severity.HIGH,
    citations=REMAINING_WINDOW,
    params=("remaining_period.window_start", "remaining_period.window_end", "remaining_period.min_contract_months",
            "remaining_period.requires_social_insurance", "remaining_period.min_internship_months"),
    needs=("employment", "claims.claim_type"),
)
def remaining_period_ineligible(t: Tables, policy: Policy) -> CheckResult:
    """A 剩余期限 month is payable only if the agreement ended early with end_reason 提前留用, the
    unit hired the trainee (a labour contract with the unit) before the planned end, the contract
    starts within the window in force for the province on the day it was signed, is long enough
    where a minimum is set (open-ended counts), the unit insures the person from the hire where
    required (months after si_as_of not judged), the trainee interned the minimum months before
    the hire where set, and the month lies between the leaving and the planned end. The amount has
    no formula: a failing row puts its whole amount at risk. Period: the claim month.

    A window that closed (延续至2023年底) with no later notice in the law base: a hire signed
    after it is under a policy the law base does not know (RULES.md §8, "A window that closed"),
    so its claims are skipped ("窗口期后政策未知"), not failed."""
    ctx = claim_context(t, policy).filter((pl.col("claim_type") == REMAINING) & pl.col("ag_id").is_not_null())
    judged = ctx.filter(pl.col("remaining_period_window_end").is_not_null())
    hired = _hire(judged, t, policy)
    # the window in force on the day the contract was signed (per province), not in the claim month
    window = ("remaining_period_window_start", "remaining_period_window_end", "remaining_period_window_end_ref")
    hired = attach_params(
        hired.rename({c: f"{c}_claim" for c in window})
        .with_columns(pl.coalesce("contract_start", "claim_month").alias("_hire_day")), policy,
        on="_hire_day", names=(("remaining_period.window_start", False), ("remaining_period.window_end", True)),
        reasons=frozenset(),
    ).cache()  # the lost rows of its persons are looked up from it
    window_closed = pl.col("contract_start").is_not_null() & (
        pl.col("remaining_period_window_end").is_null() | (pl.col("contract_start") > pl.col("remaining_period_window_end"))
    )
    min_contract = pl.col("remaining_period_min_contract_months")
    min_months = pl.col("remaining_period_min_internship_months")
    hire_month = pl.col("contract_start").dt.month_start()
    failures = {
        "agreement did not end early as 提前留用": (pl.col("ag_actual_end") < pl.col("ag_planned_end"))
        & (pl.col("ag_end_reason") == "提前留用"),
        "no labour contract with the unit before the planned end": pl.col("contract_start").is_not_null(),
        "contract signed outside the policy window": (
            pl.col("remaining_period_window_start").is_null() | (pl.col("contract_start") >= pl.col("remaining_period_window_start"))
        ) & (pl.col("contract_start") <= pl.col("remaining_period_window_end")),
        # renewed without a gap, the hire lasts as long as its renewals (checks._registries.renewed_contracts)
        "contract shorter than the minimum": min_contract.is_null() | pl.col("hired_until").is_null()
        | (pl.col("hired_until").dt.offset_by("1d") >= pl.col("contract_start").dt.offset_by(pl.format("{}mo", min_contract))),
        NO_INSURANCE_AFTER_HIRE: ~pl.col("remaining_period_requires_social_insurance").fill_null(False)
        | (hire_month > pl.lit(t.si_as_of)) | pl.col("insured_from").is_not_null(),
        "hired before the minimum months of internship": min_months.is_null()
        | (pl.col("contract_start") >= pl.col("ag_start").dt.offset_by(pl.format("{}mo", min_months))),
        "month outside the remaining period": (pl.col("claim_month") >= pl.col("ag_actual_end").dt.month_start())
        & (pl.col("claim_month") <= pl.col("ag_planned_end").dt.month_start()),
    }
    # a contract or insurance row of the person the loader could not read may be the hire, or the
    # unit's insurance after it: what rests on it is not failed (unreadable rows do not accuse)
    lost = pl.col("_lost_contract").fill_null(False), pl.col("_lost_insurance").fill_null(False)
    unknowable = {why: (lost[0] & (why in ON_THE_CONTRACT)) | (lost[1] & (why == NO_INSURANCE_AFTER_HIRE))
                  for why in failures}
    reasons = pl.concat_list(
        [pl.when(ok.fill_null(False).not_() & ~unknowable[why]).then(pl.lit(why)) for why, ok in failures.items()]
    ).list.drop_nulls()
    unjudged = pl.any_horizontal([ok.fill_null(False).not_() & unknowable[why] for why, ok in failures.items()])
    by_claim = with_aliases(hired.select("claim_id", "person_id", "unit_id", "ag_start", "ag_planned_end"), t, policy,
                            alias="_pid")
    hired = hired.join(lost_registry_rows(
        t, by_claim, "claim_id", insurance=pl.col("day") >= pl.col("ag_start").dt.month_start(),
        contract=pl.col("day").is_between(pl.col("ag_start"), pl.col("ag_planned_end"))), on="claim_id", how="left")
    hired = hired.with_columns(reasons.alias("failed"), unjudged.alias("_unjudged")).cache()  # findings and skips
    findings = hired.filter(~window_closed).filter(pl.col("failed").list.len() > 0).select(
        *claim_keys(), whole_claim(),
        _claim_evidence(
            pl.col("failed"), pl.col("ag_start").alias("agreement_start"), pl.col("ag_planned_end").alias("planned_end"),
            pl.col("ag_actual_end").alias("actual_end"), pl.col("ag_end_reason").alias("end_reason"),
            pl.col("contract_start"), pl.col("contract_end"), pl.col("insured_from"),
            pl.struct(
                pl.col("remaining_period_window_start").alias("window_start"),
                pl.col("remaining_period_window_end").alias("window_end"),
                pl.col("remaining_period_window_end_ref").alias("reference"),
                pl.col("remaining_period_min_contract_months").alias("min_contract_months"),
                pl.col("remaining_period_requires_social_insurance").alias("requires_social_insurance"),
                pl.col("remaining_period_min_internship_months").alias("min_internship_months"),
            ).alias("conditions"),
        ),
        pl.coalesce("remaining_period_window_end_ref", "remaining_period_window_end_ref_claim").alias("citation"),
    )
    skip = pl.concat([
        skipped(ctx.filter(pl.col("remaining_period_window_end").is_null()), pl.col("remaining_period_window_end_why"),
                gap_unset("remaining_period.window_end")),
        skipped(hired.filter(window_closed), pl.lit(WINDOW_CLOSED), WINDOW_CLOSED),
        skipped(hired.filter(~window_closed & (pl.col("failed").list.len() == 0) & pl.col("_unjudged")),
                pl.lit(HIRE_ROWS_LOST), GAP_HIRE_ROWS_LOST),
    ])
    return CheckResult(findings, skip)


@rule(
    id="RATE_MISAPPLIED.insurance_inside_subsidy",
    title="意外伤害保险已含在见习补贴内仍另行申领保险补贴",
    severity=Severity.MEDIUM,
    citations=INSURANCE,
    params=("insurance.separately_reimbursed",),
    detection_params=("money.tolerance_yuan",),
)
def insurance_inside_subsidy(t: Tables, policy: Policy) -> CheckResult:
    """The subsidy already pays the trainee's accident insurance everywhere but Jiangxi (which
    reimburses 见习综合保险 at cost): an insurance_amount claimed where the province's own notice
    in force in the claim month says the subsidy covers it (insurance.separately_reimbursed
    false) is paid twice and is at risk. Whether insurance is paid on top is a province's choice
    (RULES.md §8): before its notice, after it expired, or where it is silent, nothing is known
    and the claim is skipped with the reason — never judged by the national notice (Jiangxi's
    claims before 2023-08-16). Period: the claim month."""
    ctx = claim_context(t, policy).filter(pl.col("insurance_amount") > tolerance(policy))
    findings = ctx.filter(pl.col("insurance_separately_reimbursed").not_()).select(
        *claim_keys(), pl.col("insurance_amount").alias("amount_at_risk"),
        _claim_evidence(pl.col("insurance_separately_reimbursed").alias("separately_reimbursed"),
                        pl.col("insurance_separately_reimbursed_ref").alias("reference")),
        pl.col("insurance_separately_reimbursed_ref").alias("citation"),
    )
    skip = skipped(ctx.filter(pl.col("insurance_separately_reimbursed").is_null()),
                   pl.col("insurance_separately_reimbursed_why"), gap_unset("insurance.separately_reimbursed"))
    return CheckResult(findings, skip)


@rule(
    id="RATE_MISAPPLIED.before_approval",
    title="见习单位或见习协议审核通过前的月份申领补贴",
    severity=Severity.HIGH,
    citations=(APPROVAL_JX, *SUBSIDY[1:]),
)
def before_approval(t: Tables, policy: Policy) -> CheckResult:
    """A unit may claim only for months from the month its admission (units.approved_date) was
    approved, and for a trainee only from the month the agreement was approved
    (agreements.approved_date, where recorded). A claim for an earlier month is wholly at risk.
    Judged in every province on the approvals the office itself recorded (RULES.md §9): the
    subsidy is for 见习单位 and their agreed internships; Jiangxi's notice states the approvals
    (四(一)1、四(二)) and is cited there while in force, elsewhere the province's subsidy clause.
    A unit or an agreement listed more than once (re-admitted, amended) was approved from its
    earliest approval. A claim naming an agreement the export does not hold is not judged by
    another agreement's approval (skipped, saying so). Period: the claim month."""
    ctx = claim_context(t, policy)
    before_unit = (pl.col("claim_month") < pl.col("unit_approved").dt.month_start()).fill_null(False)
    before_agreement = (pl.col("claim_month") < pl.col("ag_approved").dt.month_start()).fill_null(False)
    # a claim naming an agreement the export does not hold has no approval of its own agreement to
    # go by: the person's other agreement's is not its (the unit's approval still is)
    candidates = names_unexported_agreement(ctx.filter(before_unit | before_agreement), t, few=True).cache()
    unknown = pl.col("_names_unexported") & ~before_unit
    before_agreement = before_agreement & ~pl.col("_names_unexported")
    # the earliest approval of each candidate's agreement among its rows (a few of a million)
    first_approved = (
        t.agreements.join(candidates.select(pl.col("ag_id").alias("agreement_id")).unique(), on="agreement_id",
                          how="semi")
        .group_by("agreement_id").agg(pl.col("approved_date").min().alias("_first_approved"))
    )
    found = candidates.join(first_approved, left_on="ag_id", right_on="agreement_id", how="left").with_columns(
        pl.min_horizontal("ag_approved", "_first_approved").alias("ag_approved")
    ).filter(before_unit | before_agreement).select(
        *claim_keys(), whole_claim(),
        _claim_evidence(pl.col("unit_approved").alias("unit_approved_date"),
                        pl.col("ag_approved").alias("agreement_approved_date"),
                        before_unit.alias("before_unit_approval"), before_agreement.alias("before_agreement_approval")),
    )
    return CheckResult(cited(found, policy, (APPROVAL_JX, *SUBSIDY[1:])), skipped(
        candidates.filter(unknown), pl.format(NAMES_UNEXPORTED, "claim_agreement_id", "claim_agreement_id"),
        GAP_NAMES_UNEXPORTED))


def _with_allowance(claims: pl.LazyFrame) -> pl.LazyFrame:
    """The allowance each claim's month was paid: the payments of the month (``allowance_paid``),
    else the agreement's allowance_monthly; the claims with neither are left out."""
    return claims.with_columns(
        pl.coalesce("allowance_paid", "ag_allowance").alias("allowance"),
        pl.when(pl.col("allowance_paid").is_not_null()).then(pl.lit("allowance_payments"))
        .otherwise(pl.lit("agreements.allowance_monthly")).alias("allowance_source"),
    ).filter(pl.col("allowance").is_not_null())


@rule(
    id="RATE_MISAPPLIED.allowance_below_min_wage",
    title="见习人员基本生活费低于当地最低工资标准仍申领补贴",
    severity=Severity.MEDIUM,
    citation="赣人社发〔2023〕9号 四(一)1(5)、四(二)1",
    params=("allowance.min_wage_floor",),
    detection_params=("money.tolerance_yuan",),
    needs=("claims.claim_type",),
)
def allowance_below_min_wage(t: Tables, policy: Policy) -> CheckResult:
    """Where allowance.min_wage_floor is set (Jiangxi), the unit must pay the trainee a monthly
    基本生活费 of at least the local minimum wage, and claims only after paying it in full (先垫后补).
    A claimed month whose allowance paid (allowance_payments for the month, else the agreement's
    allowance_monthly) is below the minimum wage of the unit's tier that month makes the claim
    unpayable: the whole claim is at risk (our choice — the subsidy is conditional on the full
    allowance). Months interned only in part (a start after the 1st, an end before the month end)
    are not judged: a pro-rated allowance is legitimate there. Period: the claim month."""
    tol = tolerance(policy)
    # a start after the 1st of the claim month, or an end before its last day (the day after the
    # end still in the claim month): two month_start per claim instead of four calendar operations
    partial = ((pl.col("ag_start").dt.month_start() == pl.col("claim_month")) & (pl.col("ag_start") != pl.col("claim_month"))) | (
        ((pl.col("ag_end") + pl.duration(days=1)).dt.month_start() == pl.col("claim_month"))
        & (pl.col("ag_end") >= pl.col("claim_month"))
    )
    monthly = _monthly(claim_context(t, policy)).filter(
        pl.col("allowance_min_wage_floor").fill_null(False) & ~partial.fill_null(False))
    below = pl.col("mw_yuan").is_not_null() & (pl.col("allowance") < pl.col("mw_yuan") - tol)
    if t.allowance_payments is None:
        judged = _with_allowance(monthly.with_columns(pl.lit(None, pl.Float64).alias("allowance_paid"))).cache()
        found = judged.filter(below)
    else:
        # The payments of the claims judged (those of provinces with a floor) summed per claim,
        # per 128-bit hash of (person, unit, month) (bench/NOTES.md, "Hashed joins"); the few
        # claims found are then judged again on their payments summed on the keys themselves.
        keys = ["person_id", "unit_id", "claim_month"]
        monthly = monthly.with_columns(hash_key(keys)).cache()  # read twice: which payments, and their sums
        # (a payment under another ID of the trainee counts: the few rows of linked IDs are copied
        # under each ID of the person, :func:`checks._identity.under_every_id`)
        payments = (
            under_every_id(t.allowance_payments.select("person_id", "unit_id", pl.col("month").alias("claim_month"),
                                                       "amount"), t, policy).drop("row_person_id")
            .drop_nulls(keys)  # a null key matches no claim
            .with_columns(hash_key(keys))
            .join(monthly.select("_k"), on="_k", how="semi")
            .cache()  # read twice: summed per hash, and again for the claims found
        )
        paid = payments.group_by("_k").agg(pl.col("amount").sum().alias("allowance_paid"))
        judged = _with_allowance(monthly.join(paid, on="_k", how="left")).cache()  # findings and skipped rows
        maybe = judged.filter(below).drop("allowance_paid", "allowance", "allowance_source")
        paid = payments.join(maybe.select("_k"), on="_k", how="semi").group_by(keys).agg(
            pl.col("amount").sum().alias("allowance_paid"))
        found = _with_allowance(maybe.join(paid, on=keys, how="left")).filter(below)
    findings = found.select(
        *claim_keys(), whole_claim(),
        _claim_evidence(pl.col("allowance"), pl.col("allowance_source"), wage_evidence(used=pl.lit(True)),
                        pl.col("allowance_min_wage_floor_ref").alias("reference")),
    )
    return CheckResult(findings, skipped(judged.filter(pl.col("mw_yuan").is_null()), wage_skip_reason(), wage_skip_gap()))


CHECKS: tuple[Check, ...] = (
    wrong_amount,
    raised_rate_monthly,
    partial_month,
    outside_agreement,
    beyond_max_months,
    lump_sum_after_end,
    difference_without_retention,
    difference_amount,
    remaining_period_ineligible,
    insurance_inside_subsidy,
    before_approval,
    allowance_below_min_wage,
)
