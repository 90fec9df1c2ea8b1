"""GHOST_TRAINEE: a trainee who is not really one (RULES.md §1 and §9; docs/semantics.md).

The target groups are graduates within N years of leaving school who are NOT employed and
registered-unemployed youth. The rules below cross the internship system with the registries
that say otherwise: social insurance paid by an employer, labour contracts, the unit's own
payroll before the start, the trainee's own record (education, graduation, unemployment
registration, age), deaths and the unit's allowance ledger.

Every finding is about one internship: one person at one unit, agreements chained without a
gap (:mod:`checks._internships`); its keys are person_id (the ID the agreements name the trainee
by), unit_id and the internship's first day (period_start). The registries are read for the
natural person (:mod:`checks._identity`): their rows under any ID of the person count, each
listed with the ID it carries, and ``identity_links`` in the evidence names the person's other
IDs. Money at risk is listed per claim in ``claims_at_risk`` (:mod:`checks._claims`);
a claim that should not have been paid puts its whole amount plus its insurance_amount at risk.
"""

from __future__ import annotations

import polars as pl

from audit.graph import card_digits
from audit.policy import Policy
from audit.rules import ONGOING, Check, CheckResult, Severity, rule
from audit.schema import SPECS
from audit.tables import Tables, shared
from checks._citations import ALLOWANCE, DATA_COMPARISON, TARGET_GROUPS, cited
from checks._claims import claim_rows, claims_of_internship, claims_of_persons, with_claims
from checks._expected import tolerance
from checks._identity import (
    GAP_UNRESOLVED_ID,
    UNRESOLVED_ID,
    flag_ids,
    identity_evidence,
    person_aliases,
    rows_under_ids,
    unknown_to,
    unresolved_ids,
    with_aliases,
)
from checks._internships import INTERNSHIP_KEYS as KEYS
from checks._internships import agreement_rows_lost, unit_internships
from checks._joins import hash_key, hashed_join, hjoin, of_persons
from checks._registries import (
    TRAINEE_COVER,
    employer_paid,
    graduation_latest,
    labour_contracts,
    latest_day,
    not_trainee_cover,
    recorded_to,
)
from checks._units import unit_counties

# ------------------------------------------------------------------ this family's building blocks --


def _spans_of(spans: pl.LazyFrame, found: pl.LazyFrame) -> pl.LazyFrame:
    """The internships (``spans``, :func:`checks._internships.unit_internships`) of the few
    ``found`` rows, joined to them on the internship's keys.

    Found rows judged on an internship's narrow columns are the same row twice where two
    internships share their keys (possible only with an agreement that ends before it starts):
    they are made unique, so that each internship is found once, as a join of the internships
    themselves to their trainee rows finds it.
    """
    # cache(): both are read several times with different columns, which keeps the optimiser
    # from merging the reads: the plan that found them would otherwise run once per read
    found = found.unique().cache()
    return of_persons(spans, found).join(found, on=KEYS).cache()


def _finding(t: Tables, policy: Policy, found: pl.LazyFrame, evidence: list[pl.Expr | str],
             *extra: pl.Expr) -> pl.LazyFrame:
    """The raw findings frame of a ghost rule (keys, period, money, evidence, and ``extra``): the
    evidence ends with ``identity_links``, the trainee's other IDs (null for a trainee known under
    one)."""
    return found.join(identity_evidence(t, policy), on="person_id", how="left").select(
        "person_id",
        "unit_id",
        "county_code",
        pl.col("internship_start").alias("period_start"),
        pl.col("internship_end").alias("period_end"),
        "amount_at_risk",
        "claims_at_risk",
        pl.struct(
            "internship_start", "internship_end", "agreements", *evidence, "claims", "identity_links"
        ).alias("evidence"),
        *extra,
    )


@shared(tables=("social_insurance",), detection=("ghost.own_employee_lookback_months",), context=("audit_month",),
        uses=(unit_internships, person_aliases))
def insurance_near_internships(t: Tables, policy: Policy) -> pl.LazyFrame:
    """The employer-paid insurance rows the two insurance rules read, with the internship's keys
    and end: rows of another employer in the internship's months (insured_elsewhere), and rows
    of the internship unit itself other than 补充工伤 trainee cover from
    ghost.own_employee_lookback_months before the start month up to it (own_employee). Each
    rule applies its own filter again, so insured_elsewhere's result does not depend on the
    lookback. A row counts under any ID of the person (:func:`checks._identity.with_aliases`):
    ``person_id`` is the internship's, ``row_person_id`` the row's own."""
    months_before = int(policy.detect("ghost.own_employee_lookback_months"))
    insurance = t.social_insurance.filter(employer_paid() & (pl.col("month") <= t.month_end)).select(
        pl.col("person_id").alias("_pid"), "employer_id", "month", "insurance_type", "payer_type", "_file", "_line",
    )
    # the start month and the lookback's, on the internships, not on the insurance rows they pair
    # with; each internship once per ID of its person (the insurance registry is left as it is)
    spans = with_aliases(unit_internships(t, policy).select(
        *KEYS, "internship_end", pl.col("internship_start").dt.month_start().alias("_start_month")
    ), t, policy, alias="_pid").with_columns(pl.col("_start_month").dt.offset_by(f"-{months_before}mo").alias("_window_from"))
    other_in_months = (pl.col("month") >= pl.col("_start_month")) & (pl.col("employer_id") != pl.col("unit_id"))
    own_before = (
        (pl.col("employer_id") == pl.col("unit_id")) & not_trainee_cover() & (pl.col("month") < pl.col("_start_month"))
    )
    near = pl.col("month").is_between(pl.col("_window_from"), pl.col("internship_end")) & (other_in_months | own_before)
    # the key columns of an hjoin are the left side's: _pid is the insurance row's own ID
    return hjoin(insurance, spans, "_pid", narrow=lambda rows: rows.filter(near)).drop(
        "_start_month", "_window_from").rename({"_pid": "row_person_id"})


def _contracts_by_id(t: Tables) -> pl.LazyFrame:
    """The labour contracts (:func:`checks._registries.labour_contracts`) keyed on ``_pid``, for a
    join to internships taken once per ID of their person (:func:`checks._identity.with_aliases`);
    ``row_person_id`` keeps the ID the contract carries."""
    return labour_contracts(t).with_columns(pl.col("person_id").alias("_pid")).rename({"person_id": "row_person_id"})


def _next_job(hits: pl.LazyFrame, end_day_known: bool = True) -> pl.LazyFrame:
    """The rows of another employer (``hits``: insurance rows in the internship's months) that are
    the next job, not employment during the internship (RULES.md §8, "Boundary months"): in the
    month the internship ended, when it ended before that month's last day, from an employer that
    did not insure the person the month before — insurance is monthly, so a job starting after
    the last day looks the same as one during it, and the month is the next job's. An employer
    already paying the month before was paying during the internship: its row still counts.
    Without ``end_day_known`` (agreements exported without 实际结束日期: the internship's end is
    the end of its last claimed month, :func:`_claimed_spans`) it may have ended on any day of
    that month. Keys: the internship's, employer_id and month."""
    end_month = pl.col("internship_end").dt.month_start()
    ended_mid_month = (pl.col("internship_end") < pl.col("internship_end").dt.month_end()) | (not end_day_known)
    month_before = hits.select(*KEYS, "employer_id", pl.col("month").dt.offset_by("1mo")).unique()
    return (
        hits.filter((pl.col("month") == end_month) & ended_mid_month)
        .select(*KEYS, "employer_id", "month").unique()
        .join(month_before, on=[*KEYS, "employer_id", "month"], how="anti")
    )


# ------------------------------------------------------------------------------ the rules --


def _claimed_spans(t: Tables, policy: Policy) -> pl.LazyFrame:
    """The internships (:func:`checks._internships.unit_internships`) as the rules of employment
    during them judge them. Where the agreements were exported without 实际结束日期
    (``actual_end_date``), an internship may have ended before its planned end and nothing says
    when: it is judged up to the end of its last claimed month (a job after it is no evidence
    and puts nothing at risk), up to its planned end where nothing was claimed."""
    spans = unit_internships(t, policy)
    if t.exported("agreements", "actual_end_date"):
        return spans
    last = (
        spans.select(*KEYS, "internship_end")
        .join(claim_rows(t).select("person_id", "unit_id", "claim_month"), on=["person_id", "unit_id"])
        .filter(pl.col("claim_month").is_between(pl.col("internship_start").dt.month_start(), pl.col("internship_end")))
        .group_by(KEYS).agg(pl.col("claim_month").max().dt.month_end().alias("_last_claimed"))
    )
    return (spans.join(last, on=KEYS, how="left")
            .with_columns(pl.min_horizontal("internship_end", "_last_claimed").alias("internship_end"))
            .drop("_last_claimed"))


@rule(
    id="GHOST_TRAINEE.insured_elsewhere",
    identity=ONGOING,
    facts=("other_employers",),
    title="见习期间由其他单位缴纳社会保险（已就业）",
    severity=Severity.HIGH,
    citations=TARGET_GROUPS,
    detection_params=("ghost.min_overlap_months",),
)
def insured_elsewhere(t: Tables, policy: Policy) -> pl.LazyFrame:
    """A trainee for whom an employer other than the internship unit paid social insurance in at
    least ghost.min_overlap_months of the internship's months was employed, not an unemployed
    trainee. Only employer-paid rows count (灵活就业 and 城乡居民 are self-paid); a 补充工伤 row
    paid by a unit the person is interning at in that month is trainee cover, not employment.
    An employer that starts paying in the month the internship ended, when it ended before that
    month's last day (typically an early leave), is the next job (:func:`_next_job`).
    Period: the internship's months (start month to end, capped at the audit month). Money at
    risk: the claims of the person at the unit for the months insured elsewhere."""
    min_months = int(policy.detect("ghost.min_overlap_months"))
    spans = _claimed_spans(t, policy)
    in_months = pl.col("month").is_between(pl.col("internship_start").dt.month_start(), pl.col("internship_end"))
    near = insurance_near_internships(t, policy)
    if not t.exported("agreements", "actual_end_date"):  # the internships' ends as _claimed_spans takes them
        near = near.drop("internship_end").join(spans.select(*KEYS, "internship_end"), on=KEYS)
    hits = near.filter(in_months & (pl.col("employer_id") != pl.col("unit_id")))
    # A 补充工伤 row is a unit's cover for its own trainee when the person interns there that month.
    # Semantics, read literally: another employer's 补充工伤 (no internship there) still counts, and
    # so does the old employer's row for the month a job ended and the internship began — with
    # ghost.min_overlap_months = 1 that month alone fires (raise the threshold to spare it).
    # (an internship under another ID of the person is the person's too)
    interning = rows_under_ids(spans.select("person_id", "unit_id", "internship_start", "internship_end"),
                               hits.select("person_id").unique(), t, policy)
    cover = (
        hits.filter(pl.col("insurance_type") == TRAINEE_COVER)
        .select("person_id", "employer_id", "month")
        .join(interning.select(pl.col("_of").alias("person_id"), pl.col("unit_id").alias("employer_id"),
                               "internship_start", "internship_end"),
              on=["person_id", "employer_id"])
        .filter(in_months)
        .select("person_id", "employer_id", "month", pl.lit(TRAINEE_COVER).alias("insurance_type"))
        .unique()
    )
    hits = hits.join(cover, on=["person_id", "employer_id", "month", "insurance_type"], how="anti")
    hits = hits.join(_next_job(hits, t.exported("agreements", "actual_end_date")), on=[*KEYS, "employer_id", "month"],
                     how="anti")
    per_internship = (
        hits.group_by(KEYS)
        .agg(
            pl.col("month").unique().sort().alias("months_insured_elsewhere"),
            pl.col("employer_id").unique().sort().alias("other_employers"),
            pl.struct("employer_id", "month", "insurance_type", "payer_type",
                      pl.col("row_person_id").alias("person_id"), "_file", "_line")
            .sort_by("month", "employer_id", "insurance_type", "_file", "_line")
            .alias("insurance_rows"),
        )
        .with_columns(pl.col("months_insured_elsewhere").list.len().alias("overlap_months"))
        .filter(pl.col("overlap_months") >= min_months)
    )
    found = _spans_of(spans, per_internship)
    months = found.select(*KEYS, pl.col("months_insured_elsewhere").alias("claim_month")).explode("claim_month")
    matched = claims_of_persons(t, policy, months).join(months, on=["person_id", "unit_id", "claim_month"])
    return cited(_finding(
        t, policy, with_claims(found, matched, KEYS),
        ["other_employers", "months_insured_elsewhere", "overlap_months", "insurance_rows",
         pl.lit(min_months).alias("param_ghost_min_overlap_months")],
    ), policy, TARGET_GROUPS)


@rule(
    id="GHOST_TRAINEE.contracted_elsewhere",
    identity=ONGOING,
    facts=("other_employers", "contracts.employer_id", "contracts.contract_start"),
    title="见习期间与其他单位存在劳动合同（已就业）",
    severity=Severity.HIGH,
    citations=TARGET_GROUPS,
    needs=("employment",),
)
def contracted_elsewhere(t: Tables, policy: Policy) -> CheckResult | pl.LazyFrame:
    """A trainee with a labour contract with another employer in force during the internship
    (contract_start ≤ internship end and terminated_date, else contract_end, else open-ended ≥
    internship start) was employed, not an unemployed trainee. A job that ended before the
    internship began, or one that starts after it ended, is not evidence. Where the employment
    table was exported without 解除日期 (``terminated_date``) or 合同结束日期 (``contract_end``), a
    contract signed before the internship may have stopped before it began, and nothing says:
    only a contract signed during the internship is evidence, and an internship overlapped only
    by earlier contracts is skipped with the reason. Period: the internship. Money at risk: the person's
    claims at the unit for the months the contract overlaps."""
    spans = _claimed_spans(t, policy)
    # without 实际结束日期 the internship may have ended on any day of its last claimed month: a
    # contract signed after that month's first day may be the next job (:func:`_next_job`)
    end = pl.col("internship_end")
    signed_by = end if t.exported("agreements", "actual_end_date") else end.dt.month_start()
    overlaps = (
        (pl.col("employer_id") != pl.col("unit_id"))
        & (pl.col("contract_start") <= signed_by)
        & (pl.col("contract_until") >= pl.col("internship_start"))
    )
    hits = (
        hjoin(_contracts_by_id(t), with_aliases(spans.select(*KEYS, "internship_end"), t, policy, alias="_pid"), "_pid",
              narrow=lambda rows: rows.filter(overlaps))
        .with_columns(
            pl.max_horizontal("contract_start", "internship_start").alias("overlap_from"),
            pl.min_horizontal("contract_until", "internship_end").alias("overlap_to"),
        )
    )
    skipped = None
    end_unknown = _end_unknown(t)
    if end_unknown is not None:
        unknown_end, reason = end_unknown
        hits = hits.cache()
        signed_before = (pl.col("contract_start") < pl.col("internship_start")) & unknown_end
        unknown = hits.filter(signed_before).select(KEYS).unique()
        hits = hits.filter(~signed_before)
        skipped = unknown.join(hits.select(KEYS).unique(), on=KEYS, how="anti").select(
            "person_id", "unit_id", pl.lit(reason).alias("reason"))
    per_internship = hits.group_by(KEYS).agg(
        pl.col("employer_id").unique().sort().alias("other_employers"),
        pl.struct("employer_id", "contract_start", "contract_end", "terminated_date", "overlap_from", "overlap_to",
                  pl.col("row_person_id").alias("person_id"), "_file", "_line")
        .sort_by("contract_start", "_file", "_line").alias("contracts"),
    )
    found = _spans_of(spans, per_internship)
    matched = (
        claims_of_persons(t, policy, found)
        .join(hits.select(*KEYS, "overlap_from", "overlap_to"), on=["person_id", "unit_id"])
        .filter(pl.col("claim_month").is_between(pl.col("overlap_from").dt.month_start(), pl.col("overlap_to")))
    )
    findings = cited(_finding(t, policy, with_claims(found, matched, KEYS), ["other_employers", "contracts"]), policy,
                     TARGET_GROUPS)
    return findings if skipped is None else CheckResult(findings, skipped)


#: why an internship overlapped only by contracts signed before it is not judged without 解除日期
TERMINATION_UNKNOWN = "劳动合同表未导出解除日期（terminated_date）：见习开始前签订的合同在见习期间是否仍有效无法确认"


#: the contract type that has no end date (劳动合同法 第十四条, 无固定期限劳动合同)
OPEN_ENDED = "无固定期限"


def _end_unknown(t: Tables) -> tuple[pl.Expr, str] | None:
    """Where the employment export lacks a column that says when a contract stopped binding:
    an expression true for a contract whose end is unknown, and the reason to give; None where
    both 解除日期 and 合同结束日期 were exported. Without 解除日期 any contract may have been
    terminated; without 合同结束日期 alone, a terminated contract ended on its 解除日期 and an
    open-ended one (:data:`OPEN_ENDED`) never ends: the others' ends are unknown."""
    unexported = [c for c in ("terminated_date", "contract_end") if not t.exported("employment", c)]
    if not unexported:
        return None
    if "terminated_date" in unexported:
        return pl.lit(True), termination_unknown(unexported)
    open_ended = pl.col("contract_type").str.contains(OPEN_ENDED, literal=True).fill_null(False)
    return pl.col("terminated_date").is_null() & ~open_ended, termination_unknown(unexported)


def termination_unknown(unexported: list[str]) -> str:
    """Why an internship overlapped only by contracts signed before it is not judged: the columns
    that would say when they stopped binding were not exported (:data:`TERMINATION_UNKNOWN` for
    解除日期 alone)."""
    if unexported == ["terminated_date"]:
        return TERMINATION_UNKNOWN
    names = "、".join(f"{SPECS['employment'].column(c).zh}（{c}）" for c in unexported)
    return f"劳动合同表未导出{names}：见习开始前签订的合同在见习期间是否仍有效无法确认"


@rule(
    id="GHOST_TRAINEE.own_employee",
    identity=ONGOING,
    facts=("months_insured_before", "contracts.contract_start"),
    title="见习单位将本单位在职职工申报为见习人员",
    severity=Severity.HIGH,
    citations=DATA_COMPARISON,
    exit_condition=3,  # its own employees relabelled: money the unit knew was not due (RULES.md §8)
    detection_params=("ghost.own_employee_lookback_months",),
)
def own_employee(t: Tables, policy: Policy) -> CheckResult | pl.LazyFrame:
    """A trainee whom the internship unit itself employed before the internship — its
    employer-paid insurance (other than 补充工伤 trainee cover) in a month before the start
    month, or a labour contract with it that began before the start and was in force at some
    time — within ghost.own_employee_lookback_months before the start, is the unit's own
    employee relabelled as a trainee. Period: the internship. Money at risk: every claim of
    that internship. The employment table is used where given; without it the insurance alone
    decides. Where it was exported without 解除日期 or 合同结束日期, only a contract signed within
    the lookback is evidence (one signed before may have ended long before it), and an
    internship with nothing else against it is skipped with the reason. So is one whose person has
    an agreement row at the unit that could not be read, dated before the start or at no time
    (:func:`checks._internships.agreement_rows_lost`): it may be an earlier internship there."""
    lookback = int(policy.detect("ghost.own_employee_lookback_months"))
    spans = unit_internships(t, policy)
    insured = (
        insurance_near_internships(t, policy)
        .filter(
            (pl.col("employer_id") == pl.col("unit_id"))
            & not_trainee_cover()
            & (pl.col("month") < pl.col("internship_start").dt.month_start())
        )
        .group_by(KEYS)
        .agg(
            pl.col("month").unique().sort().alias("months_insured_before"),
            pl.struct("month", "insurance_type", "payer_type", pl.col("row_person_id").alias("person_id"),
                      "_file", "_line")
            .sort_by("month", "insurance_type", "_file", "_line").alias("insurance_rows"),
        )
    )
    parts = [insured.select(KEYS)]
    earlier = None
    if t.employment is not None:
        window_start = pl.col("internship_start").dt.offset_by(f"-{lookback}mo")
        before_start = (pl.col("contract_start") < pl.col("internship_start")) & (pl.col("contract_until") >= window_start)
        in_force = hjoin(_contracts_by_id(t).rename({"employer_id": "unit_id"}),
                         with_aliases(spans.select(*KEYS), t, policy, alias="_pid"), ["_pid", "unit_id"],
                         narrow=lambda rows: rows.filter(before_start))
        end_unknown = _end_unknown(t)
        if end_unknown is not None:
            # when a contract stopped binding is not exported: one signed within the window was in
            # force in it; one signed before may have ended long ago, and nothing says
            unknown_end, reason = end_unknown
            signed_before_window = (pl.col("contract_start") < window_start) & unknown_end
            in_force = in_force.cache()  # the evidence and the unknown: one join
            earlier = in_force.filter(signed_before_window).select(KEYS).unique().with_columns(
                pl.lit(reason).alias("reason"))
            in_force = in_force.filter(~signed_before_window)
        contracted = (
            in_force
            .group_by(KEYS)
            .agg(pl.struct("contract_start", "contract_end", "terminated_date",
                           pl.col("row_person_id").alias("person_id"), "_file", "_line")
                 .sort_by("contract_start", "_file", "_line").alias("contracts"))
        )
        parts.append(contracted.select(KEYS))
    else:
        contracted = spans.select(*KEYS).head(0).with_columns(
            pl.lit(None, pl.List(pl.Struct({"contract_start": pl.Date(), "contract_end": pl.Date(),
                                            "terminated_date": pl.Date(), "person_id": pl.String(),
                                            "_file": pl.String(), "_line": pl.Int64()})))
            .alias("contracts"))
    found = (
        _spans_of(spans, pl.concat(parts).unique())
        .join(insured, on=KEYS, how="left")
        .join(contracted, on=KEYS, how="left")
    )
    # an agreement row of the person at the unit the loader could not read, begun before the start
    # or placed at no time, may be an earlier internship there, in which the months before lie
    lost = agreement_rows_lost(found, KEYS, t, policy, before="internship_start").drop("_agreement_lost").cache()
    found = found.join(lost, on=KEYS, how="anti")
    findings = cited(_finding(
        t, policy, with_claims(found, claims_of_internship(t, policy, found), KEYS),
        ["months_insured_before", "insurance_rows", "contracts",
         pl.lit(lookback).alias("param_ghost_own_employee_lookback_months")],
    ), policy, DATA_COMPARISON)
    skipped = [lost.select("person_id", "unit_id", pl.lit(EARLIER_AGREEMENT_LOST).alias("reason"))]
    if earlier is not None:
        skipped.append(earlier.join(found.select(KEYS), on=KEYS, how="anti")
                       .join(lost, on=KEYS, how="anti").select("person_id", "unit_id", "reason"))
    return CheckResult(findings, pl.concat(skipped))


EARLIER_AGREEMENT_LOST = ("该人员在该单位有见习协议行无法读取（已隔离，见 quarantine.csv；如结束日期早于开始日期），可能为此前在该单位的见习，"
                          "见习开始前在该单位的参保或劳动合同可能即在其中，未判断是否本单位职工 / an agreement row of the person at "
                          "the unit could not be read (quarantined; e.g. it ends before it starts): it may be an earlier "
                          "internship there, in which the insurance or contract before this one's start lies: not judged")


_ELIGIBILITY = (
    "eligibility.graduate_years_since_leaving",
    "eligibility.education",
    "eligibility.youth_min_age",
    "eligibility.youth_max_age",
)


def _age_at(birth: str, when: str) -> pl.Expr:
    """Whole years from ``birth`` to ``when``."""
    def month_day(col: str) -> pl.Expr:  # dt.month() is Int8: widen before multiplying
        return pl.col(col).dt.month().cast(pl.Int32) * 100 + pl.col(col).dt.day().cast(pl.Int32)

    before_birthday = month_day(when) < month_day(birth)
    return pl.col(when).dt.year() - pl.col(birth).dt.year() - before_birthday.cast(pl.Int32)


def _first_trainee_rows(t: Tables) -> pl.LazyFrame:
    """The first row of each person in the trainee registry."""
    # as unique("person_id", keep="first", maintain_order=True) keeps it, in one hashing pass
    return t.trainees.filter(pl.col("person_id").is_first_distinct())


def _trainee_rows(t: Tables) -> pl.LazyFrame:
    """The register's row of each person, with :func:`graduation_latest`."""
    rows = _first_trainee_rows(t)
    return rows.select(
        "person_id", "education", "graduation_date", "unemployment_reg_date", "birth_date",
        pl.col("_file").alias("trainee_file"), pl.col("_line").alias("trainee_line"),
        graduation_latest(rows.collect_schema().names()),
    )


@rule(
    id="GHOST_TRAINEE.ineligible_at_start",
    identity=ONGOING,
    facts=("education", "graduation_date", "unemployment_reg_date", "birth_date", "graduate_test", "youth_test"),
    title="见习开始时不属于见习对象（离校年限、学历或失业青年年龄不符）",
    severity=Severity.HIGH,
    citations=TARGET_GROUPS,
    params=(*_ELIGIBILITY, "eligibility.education_in_designated_areas"),
)
def ineligible_at_start(t: Tables, policy: Policy) -> CheckResult:
    """On the internship's first day the person must be either a graduate whose graduation
    (leaving school) was at most eligibility.graduate_years_since_leaving years before, with an
    education in eligibility.education, or a registered-unemployed person (registered on or
    before that day) aged eligibility.youth_min_age to eligibility.youth_max_age — parameters of
    the unit's province in force on that day (Hunan adds 技工院校, Yunnan 中职). Someone who is
    neither was never a trainee: every claim of the internship is at risk. A graduation date
    after the start is left to GHOST_TRAINEE.still_student; an unknown education does not by
    itself make a graduate ineligible. Internships whose province has no parameter in force are
    skipped, and so are graduates whose education is admitted only in designated areas
    (eligibility.education_in_designated_areas: Hunan's 中职 in 艰苦边远地区、老工业基地、脱贫县),
    since no notice lists those areas, and — where the trainee register was exported without its
    graduation-date or unemployment-registration column — anyone the other column does not show
    eligible."""
    spans = unit_internships(t, policy)
    # Parameters are looked up once per (province, start date), not once per internship.
    in_force = spans.select("province_code", "internship_start").unique()
    for name in _ELIGIBILITY:
        in_force = policy.attach(in_force, name, on="internship_start", with_reference=True)
    in_force = policy.attach(in_force, "eligibility.education_in_designated_areas", on="internship_start",
                             alias="_edu_area")
    years, edu, lo, hi = (n.replace(".", "_") for n in _ELIGIBILITY)
    # Left school on or after this day = within the years (offset once per pair, not per person).
    in_force = in_force.with_columns(
        pl.col("internship_start").dt.offset_by(pl.format("-{}y", pl.col(years))).alias("_left_school_from")
    )
    unset = pl.any_horizontal(pl.col(c).is_null() for c in (years, edu, lo, hi))
    # a graduation recorded to the month may be its last day: no one left school too early by a day
    recent_graduate = pl.col("graduation_latest") >= pl.col("_left_school_from")
    education_ok = pl.col("education").is_null() | pl.col(edu).list.contains(pl.col("education"))
    graduate = (
        pl.col("graduation_date").is_not_null() & recent_graduate & education_ok
    ).fill_null(False)
    youth = (
        pl.col("unemployment_reg_date").is_not_null()
        & (pl.col("unemployment_reg_date") <= pl.col("internship_start"))
        & pl.col("age_at_start").is_between(pl.col(lo), pl.col(hi))
    ).fill_null(False)
    # Admitted only in designated areas the notice does not list: neither confirmed nor refused.
    area_only = (
        ~graduate & ~youth & pl.col("graduation_date").is_not_null() & recent_graduate
        & pl.col("_edu_area").list.contains(pl.col("education"))
    ).fill_null(False)
    # A registered-unemployed person whose ID gives no birth date cannot be judged on age.
    no_age = ~graduate & pl.col("unemployment_reg_date").is_not_null() & pl.col("birth_date").is_null()
    # a register exported without a column of the test shows no one eligible by it: a person the
    # other column does not show eligible is not judged (blank everywhere says nothing)
    unexported = [c for c in ("graduation_date", "unemployment_reg_date") if not t.exported("trainees", c)]
    not_shown = pl.lit(bool(unexported)) & ~graduate & ~youth
    undecidable = unset | area_only | no_age | not_shown

    # A million internships are judged on the few columns the test reads; the wide ones (the
    # agreement rows, the county, the claims' end) are joined to the few found ones only.
    frame, confirm = hashed_join(spans.select(*KEYS, "province_code"), _trainee_rows(t), "person_id")
    # Findings and skipped rows both come from this frame; cached, the million-row join runs once
    # for both (their different columns would otherwise keep the optimiser from merging them).
    frame = (
        frame.join(in_force, on=["province_code", "internship_start"], how="left")
        .with_columns(_age_at("birth_date", "internship_start").alias("age_at_start"))
        .cache()
    )
    # Semantics leaves open a trainee with neither a graduation date nor an unemployment
    # registration: nothing shows eligibility, so the rule fires (graduate_test says why).
    found = frame.filter(~undecidable & ~graduate & ~youth).pipe(confirm).drop("province_code").with_columns(
        pl.col("graduation_latest").dt.offset_by(pl.format("{}y", pl.col(years))).alias("graduate_eligible_until"),
        pl.when(pl.col("graduation_date").is_null()).then(pl.lit("无毕业离校日期"))
        .when(~education_ok).then(pl.lit("学历不在见习对象范围内"))
        .otherwise(pl.lit("离校超过规定年限")).alias("graduate_test"),
        pl.when(pl.col("unemployment_reg_date").is_null()).then(pl.lit("无失业登记"))
        .when(pl.col("unemployment_reg_date") > pl.col("internship_start")).then(pl.lit("失业登记晚于见习开始"))
        .otherwise(pl.lit("年龄不在失业青年范围内")).alias("youth_test"),
    ).pipe(lambda few: _spans_of(spans, few))
    skipped = frame.filter(undecidable).pipe(confirm).select(
        "person_id", "unit_id",
        pl.when(unset).then(pl.lit("见习对象资格参数在该省该日期未设定（eligibility.*）"))
        .when(area_only).then(pl.lit("该学历仅在指定地区（艰苦边远地区、老工业基地、脱贫县）可参加见习，通知未列明地区，无法判断"))
        .when(not_shown & ~no_age).then(pl.lit(f"见习人员名册未导出 {'、'.join(unexported) or '-'} 列，无法判断见习对象资格"))
        .otherwise(pl.lit("身份证号无法推出出生日期，无法判断失业青年年龄")).alias("reason"),
    )
    findings = _finding(
        t, policy, with_claims(found, claims_of_internship(t, policy, found), KEYS),
        ["province_code", "education", "graduation_date", "unemployment_reg_date", "birth_date", "age_at_start",
         "graduate_eligible_until", "graduate_test", "youth_test", "trainee_file", "trainee_line",
         *[pl.struct(pl.col(c).alias("value"), pl.col(f"{c}_ref").alias("reference")).alias(f"param_{c}")
           for c in (years, edu, lo, hi)]],
        # the clause in force for the unit's province on the internship's first day: the
        # reference of the target-group parameter the finding rests on
        pl.col(f"{years}_ref").alias("citation"),
    )
    return CheckResult(findings, skipped)


@rule(
    id="GHOST_TRAINEE.still_student",
    identity=ONGOING,
    facts=("education", "graduation_date"),
    title="见习开始时尚未毕业离校（在校学生）",
    severity=Severity.HIGH,
    citations=TARGET_GROUPS,
)
def still_student(t: Tables, policy: Policy) -> pl.LazyFrame:
    """A trainee whose graduation (leaving school) date is after the internship's first day was a
    student, not a graduate who had left school, when the internship began. Period: the
    internship. Money at risk: the internship's claims for months that began before the
    graduation date."""
    spans = unit_internships(t, policy)
    still_at_school = pl.col("graduation_date") > pl.col("internship_start")
    found = _spans_of(spans, hjoin(spans.select(*KEYS), _trainee_rows(t), "person_id",
                                   narrow=lambda rows: rows.filter(still_at_school)))
    matched = claims_of_internship(t, policy, found.with_columns(
        pl.min_horizontal("claims_end", pl.col("graduation_date") - pl.duration(days=1)).alias("claims_end")))
    return cited(_finding(
        t, policy, with_claims(found, matched, KEYS),
        ["education", "graduation_date", "trainee_file", "trainee_line"],
    ), policy, TARGET_GROUPS)


@rule(
    id="GHOST_TRAINEE.claims_after_death",
    identity=ONGOING,
    facts=("death_date",),
    title="见习人员死亡后仍申领见习补贴",
    severity=Severity.HIGH,
    citations=DATA_COMPARISON,
    needs=("deaths",),
    exit_condition=3,  # claims for a trainee it could not have had: money it knew was not due
)
def claims_after_death(t: Tables, policy: Policy) -> CheckResult:
    """Claims for a trainee for months after the month of death (death registry) pay for an
    internship nobody could do. The month of death itself is not questioned. The death counts
    under any ID of the person (the claims may name the trainee by a corroborated variant of the
    ID the death registry holds); the finding names the trainee by the claims' ID. Where the
    registry records the person's death on different dates (under one ID or several), which holds
    is unknown: a claim is found only after the latest, and one after the earliest but not after
    the latest is skipped with the reason (:data:`DEATH_DATES_DISAGREE`). A death recorded to the
    month (死亡年月) is its month; one recorded to the year may be its December: a claim within
    that year is skipped (:data:`DEATH_YEAR_ONLY`). Period: from the death
    date to the last such claim month. Money at risk: those claims. One finding per person (as
    the claims name them) and unit."""
    assert t.deaths is not None
    names = t.deaths.collect_schema().names()
    # a death recorded to the month (死亡年月) is as good as a day for a rule of months; one recorded
    # to the year may be any month of it: the latest month it may mean decides (its December)
    record = pl.struct("death_date", recorded_to("death_date", names).alias("recorded_to"), "person_id", "_file", "_line")
    latest_month = latest_day("death_date", names).dt.month_start()
    deaths = t.deaths.group_by("person_id").agg(
        pl.col("death_date").min().alias("_earliest"),
        latest_month.max().alias("_latest"),
        pl.col("death_date").max(),
        (recorded_to("death_date", names) == "年").any().alias("_year_only"),
        record.sort_by("death_date", "_file", "_line").alias("death_records"),
    )
    keys = ["person_id", "unit_id"]
    dated = ["person_id", "_earliest", "_latest", "death_date", "_year_only", "death_records"]
    # a claim row once per death record's ID of its person: its death dates over all of them
    judged = (
        claims_of_persons(t, policy, deaths).join(deaths, on="person_id")
        .group_by("claim_id")
        .agg(pl.exclude(dated).first(), pl.col("_earliest").min(), pl.col("_latest").max(), pl.col("death_date").max(),
             pl.col("_year_only").any(),
             # by date, then ID, file and line: a struct sorts by its fields in order
             pl.col("death_records").list.explode(keep_nulls=False, empty_as_null=False).unique().sort())
        .rename({"claim_person_id": "person_id"})
        .cache()  # the found and the skipped: one join
    )
    month = pl.col("claim_month")
    matched = judged.filter(month > pl.col("_latest"))
    found = (
        matched.group_by(keys)
        .agg(pl.col("death_date").max(), pl.col("death_records").first(), month.max().alias("_last"))
        .join(unit_counties(t), on="unit_id", how="left")
        .join(identity_evidence(t, policy), on="person_id", how="left")
        .with_columns(pl.col("death_records").list.last().alias("death_record"),
                      pl.when(pl.col("death_records").list.len() > 1).then(pl.col("death_records"))
                      .alias("other_death_records"))
    )
    out = with_claims(found, matched.drop("death_date", "death_records", "_earliest", "_latest", "_year_only"), keys)
    findings = out.select(
        *keys,
        "county_code",
        pl.col("death_date").alias("period_start"),
        pl.col("_last").dt.month_end().alias("period_end"),
        "amount_at_risk",
        "claims_at_risk",
        pl.struct("death_date", "death_record", "other_death_records", "claims", "identity_links").alias("evidence"),
    ).pipe(cited, policy, DATA_COMPARISON)
    earliest, latest = pl.col("_earliest"), pl.col("death_date")
    year = pl.col("death_date").dt.year()
    unsure = judged.filter((month > earliest.dt.month_start()) & (month <= pl.col("_latest"))).select(
        "claim_id", "person_id", "unit_id",
        pl.when(pl.col("_year_only")).then(pl.format(DEATH_YEAR_ONLY, year, year))
        .otherwise(pl.format(DEATH_DATES_DISAGREE, earliest, latest, earliest, latest)).alias("reason"))
    return CheckResult(findings, unsure)


#: why a claim in the year a death is recorded to (the year alone) is not judged
DEATH_YEAR_ONLY = ("死亡登记仅记至年份（{} 年），死亡月份无法确定：本月在该年之内，未判断 / the death registry records the death "
                   "to the year only ({}): the month is unknown, and this month lies within that year: not judged")


#: why a claim between two death dates the registry records for one person is not judged
DEATH_DATES_DISAGREE = ("死亡登记中该人员有多个死亡日期（最早 {}，最晚 {}），无法确定哪一个为准：本月在最早日期之后、最晚日期当月或之前，"
                        "未判断 / the death registry records this person's death on several dates (earliest {}, latest "
                        "{}): which holds is unknown; this month is after the earliest but not after the latest: not judged")


#: why the claims of a unit the allowance ledger holds no row of are not judged
UNIT_NOT_IN_LEDGER = ("基本生活费发放明细中无该单位的任何记录：明细可能未涵盖该单位，未据“查无发放记录”判断，请核实该单位的发放凭证 / "
                      "the allowance ledger holds no row of this unit: the extract may not cover it; not judged")
GAP_NOT_IN_LEDGER = "发放明细未涵盖该单位"
#: why a claim is not judged where a ledger row that may be its payment could not be read
LEDGER_ROW_LOST = ("基本生活费发放明细中有该见习人员（或该单位）当月的记录无法读取（已隔离，见 quarantine.csv），"
                   "可能即为当月发放，未判断 / a ledger row of the trainee (or the unit) for the month could not be "
                   "read (quarantined): it may be the month's payment; not judged")
GAP_LEDGER_ROW_LOST = "发放明细有记录无法读取"


#: why a month without a payment is not judged where a later payment may have paid it in arrears
PAID_IN_ARREARS = ("当月无发放记录，但其后 {} 向见习人员本人账户发放 {} 元，足以覆盖此前未发放的 {} 个月及当月（补发），可能包含本月，"
                   "未判断 / no payment for this month, but {} paid {} yuan to the trainee's own account, enough for "
                   "the {} unpaid months before it and its own (arrears): it may include this month; not judged")
GAP_PAID_IN_ARREARS = "其后发放可能为补发"


def _paid_in_arrears(t: Tables, policy: Policy, claims: pl.LazyFrame, paid: pl.LazyFrame,
                     keys: list[str]) -> pl.LazyFrame:
    """The claims (of the few left unpaid) that the trainee's next paid month at the unit may have
    paid in arrears: that month's payments to the trainee's card come to at least one month's
    allowance for it and for each unpaid claimed month since the month paid before (one, two …
    months and its own). One month's allowance is read as the least of the median month the
    ledger pays the trainee at the unit and the agreements' 月基本生活费 (where exported): a month
    paid twice over is two months, a month's ordinary pay after an unpaid one is not (within
    money.tolerance_yuan)."""
    months = paid.group_by(*keys, "claim_month").agg(pl.col("amount").sum().alias("_next_amount"))
    monthly = months.group_by(keys).agg(pl.col("_next_amount").median().alias("_month_pay"))
    if t.exported("agreements", "allowance_monthly"):
        agreed = t.agreements.join(claims.select(keys).unique(), on=keys, how="semi").filter(
            pl.col("allowance_monthly") > 0).group_by(keys).agg(pl.col("allowance_monthly").min().alias("_agreed"))
        monthly = monthly.join(agreed, on=keys, how="left").with_columns(
            pl.min_horizontal("_month_pay", "_agreed").alias("_month_pay")).drop("_agreed")
    later = months.rename({"claim_month": "_next"}).sort("_next")
    behind = (
        # both sides sorted by month overall, so within each (person, unit)
        claims.select("claim_id", *keys, "claim_month").sort("claim_month")
        .join_asof(later.with_columns(pl.col("_next").alias("_at")), left_on="claim_month", right_on="_at",
                   by=keys, strategy="forward", allow_exact_matches=False, check_sortedness=False)
        .drop_nulls("_next")
    )
    return (
        behind.with_columns(pl.col("claim_month").n_unique().over(*keys, "_next").alias("_months"))
        .join(monthly, on=keys)
        .filter(pl.col("_next_amount") >= (pl.col("_months") + 1) * pl.col("_month_pay") - tolerance(policy))
        .with_columns(pl.col("_next").dt.strftime("%Y-%m"), pl.col("_next_amount").round(2))
    )


def _ledger_rows_lost(t: Tables, policy: Policy, claims: pl.LazyFrame) -> pl.LazyFrame | None:
    """The claim_id of each claim (of the few left unpaid) that a ledger row the loader could not
    read (``Tables.quarantine``) may have paid: a row of the claim's person under any of its IDs
    (its unit and month unreadable or the claim's), or of no readable person but of the claim's
    unit (its month unreadable or the claim's). A row that names neither is placed nowhere."""
    if t.quarantine is None:
        return None
    lost = t.quarantine.filter(pl.col("table") == "allowance_payments").select(
        pl.col("person_id").alias("_lp"), pl.col("unit_id").alias("_lu"), pl.col("day").dt.month_start().alias("_lm"))
    month = pl.col("_lm").is_null() | (pl.col("_lm") == pl.col("claim_month"))
    claims = claims.select("claim_id", "person_id", "unit_id", "claim_month")
    return pl.concat([
        with_aliases(claims, t, policy, alias="_pid").join(lost.filter(pl.col("_lp").is_not_null()), left_on="_pid",
                                                           right_on="_lp")
        .filter((pl.col("_lu").is_null() | (pl.col("_lu") == pl.col("unit_id"))) & month).select("claim_id"),
        claims.join(lost.filter(pl.col("_lp").is_null() & pl.col("_lu").is_not_null()), left_on="unit_id", right_on="_lu")
        .filter(month).select("claim_id"),
    ]).unique()


def _namesake_cards(t: Tables, policy: Policy, claims: pl.LazyFrame) -> list[pl.LazyFrame]:
    """For the persons of ``claims`` known only under an ID that fails its check
    (:func:`checks._identity.unresolved_ids`): the cards of every registration of the same name
    (``_of``, ``bank_card``) — none, and nothing read, where there is no such ID."""
    ids = unresolved_ids(t, policy).collect().to_series()
    if ids.is_empty():
        return []
    # names compared without spaces (ASCII or ideographic); the few candidates then folded (NFKC)
    spaced = pl.col("name").str.replace_all(" ", "", literal=True).str.replace_all("\u3000", "", literal=True)
    register = _first_trainee_rows(t).select("person_id", spaced.alias("_spaced"), "bank_card").cache()
    whose = register.filter(pl.col("person_id").is_in(ids.implode())).join(
        claims.select("person_id").unique(), on="person_id", how="semi")
    folded = pl.col("_spaced").str.normalize("NFKC").alias("_name")
    return [
        whose.select("person_id", folded)
        .join(register.join(whose.select("_spaced").unique(), on="_spaced", how="semi").select(folded, "bank_card"),
              on="_name")
        .select(pl.col("person_id").alias("_of"), "bank_card")
    ]


def _masked(account: str) -> pl.Expr:
    """An account number reduced to its last four digits (reports never show the full number)."""
    return pl.when(pl.col(account).is_null()).then(None).otherwise(
        pl.concat_str([pl.lit("****"), pl.col(account).str.slice(-4)])
    )


@rule(
    id="GHOST_TRAINEE.allowance_not_paid",
    identity=("person_id", "unit_id", "county_code"),
    facts=("payments_not_to_trainee.account_masked",),
    title="申领月份未向见习人员本人账户发放基本生活费",
    severity=Severity.HIGH,
    citations=ALLOWANCE,
    needs=("allowance_payments", "claims.claim_type"),
    exit_condition=3,  # its own ledger shows no allowance paid for the months it claimed
    detection_params=("money.tolerance_yuan",),
)
def allowance_not_paid(t: Tables, policy: Policy) -> CheckResult:
    """A unit claims a month's subsidy only after paying the trainee's allowance for that month
    (先垫后补). A monthly (月度) claim with no positive payment from the unit to the trainee for
    the claimed month — or only payments to an account that is not the trainee's own
    bank_card, where both are known (compared as digits: spaces and dashes are how a ledger writes
    a card, not another card) — was not paid to the trainee. A payment counts under any ID of the
    trainee, and to the card of any of the trainee's registrations (:mod:`checks._identity`).
    Only months within the span the payment ledger covers (its first to its last month) are
    judged, and only units the ledger holds rows of: a unit it holds none of may be outside the
    extract, and its claims are skipped with the reason. A claim under an ID that fails its check,
    that no registration ties to a valid one and that the ledger never writes is skipped
    (:data:`checks._identity.UNRESOLVED_ID`): the ledger may pay the person under the valid ID;
    where the ledger writes it, a payment to the card of a registration of the same name is to
    the trainee (the register lacked only the corroboration the ledger gives). A claim a ledger
    row the loader could not read may have paid is skipped (:data:`LEDGER_ROW_LOST`), and so is
    one that the trainee's next paid month at the unit may have paid in arrears (补发: at least a
    month's allowance for it and for each unpaid month before it, :func:`_paid_in_arrears`).
    Period: the claimed months. Money at risk: those claims. One finding per person and unit."""
    assert t.allowance_payments is not None
    keys = ["person_id", "unit_id"]
    month_keys = [*keys, "claim_month"]
    ledger = t.allowance_payments.select(*keys, pl.col("month").alias("claim_month"), "amount", "paid_date", "account",
                                         "_file", "_line")
    cards = _first_trainee_rows(t).select("person_id", "bank_card").cache()  # read twice
    # cards compared as digits: a ledger writing the trainee's own card "6217 3257 …" or
    # "6217-3257-…" paid the trainee (issue #16); only rows whose text differs need normalising
    as_written = pl.col("account").is_null() | pl.col("bank_card").is_null() | (pl.col("account") == pl.col("bank_card"))
    same_card = (card_digits(pl.col("account")) == card_digits(pl.col("bank_card"))).fill_null(False)
    # docs/semantics.md does not define this rule; a ledger extract may cover only some months,
    # so only claim months within its first..last month are judged.
    covered = ledger.select(pl.col("claim_month").min().alias("_from"), pl.col("claim_month").max().alias("_to"))
    monthly = (
        claim_rows(t).filter(pl.col("claim_type").fill_null("月度") == "月度")
        .join(covered, how="cross")
        .filter(pl.col("claim_month").is_between(pl.col("_from"), pl.col("_to")))
        .drop("_from", "_to")
    )
    # Every payment to its trainee's card, every monthly claim to its payments: two joins of
    # millions of rows, narrowed on 128-bit hashes of the keys (bench/NOTES.md, "Hashed joins")
    # to the claims that may be unpaid; those few are then judged on the keys themselves.
    paid_hashed = (
        ledger.filter(pl.col("amount") > 0).select(*keys, "claim_month", "account").with_columns(hash_key(["person_id"]))
        .join(cards.with_columns(hash_key(["person_id"])).drop("person_id"), on="_k", how="left")
        .cache()
    )
    # the digits of the few rows whose text differs only (filtered first, then compared)
    differs = paid_hashed.filter(~as_written).with_columns(same_card.alias("_same")).filter(pl.col("_same")).drop("_same")
    paid_hashed = pl.concat([paid_hashed.filter(as_written), differs]).select(hash_key(month_keys))
    maybe_unpaid = monthly.with_columns(hash_key(month_keys)).join(paid_hashed, on="_k", how="anti").drop("_k").cache()
    # A payment under the claim's own ID to that ID's card is a payment under any ID of the person
    # to one of its cards: the few claims left are judged with every ID and card of the person.
    # a claim under an ID that fails its check and that nothing ties to a valid one: a payment to the
    # card of a registration of the same name may be the trainee's own (the link lacked only the
    # register's corroboration, which the ledger gives) — not evidence of an allowance withheld
    trainee_cards = pl.concat([rows_under_ids(cards, maybe_unpaid, t, policy).select("_of", "bank_card"),
                               *_namesake_cards(t, policy, maybe_unpaid)]).group_by("_of").agg(
        card_digits(pl.col("bank_card")).drop_nulls().unique().sort().alias("cards")).rename({"_of": "person_id"})
    payments = (
        rows_under_ids(ledger, maybe_unpaid, t, policy).drop("person_id").rename({"_of": "person_id"})
        .join(trainee_cards, on="person_id", how="left")
    )
    payments = payments.cache()  # read twice: the payments that count, and those seen
    no_card = pl.col("cards").list.len().fill_null(0) == 0
    to_card = pl.col("account").is_null() | no_card | pl.col("cards").list.contains(card_digits(pl.col("account")))
    paid = payments.filter((pl.col("amount") > 0) & to_card).select(month_keys).unique()
    unpaid_claims = maybe_unpaid.join(paid, on=month_keys, how="anti")
    # a unit of which the ledger holds no row at all: the extract may not cover it (a unit that
    # paid some trainees and not others is judged); nothing in the ledger under an ID that fails
    # its check, that nothing ties to a valid one and that the ledger never writes, proves nothing
    # ... and a ledger row the loader could not read may be the month's payment (unreadable rows do
    # not accuse)
    unpaid_claims = (
        unpaid_claims.pipe(flag_ids, t.allowance_payments.select("unit_id").unique(), "_in_ledger", on="unit_id")
        .pipe(flag_ids, unknown_to(t, policy, t.allowance_payments), "_unresolved")
        .cache()  # read for the skipped and the judged
    )
    unpaid_claims = unpaid_claims.pipe(flag_ids, _ledger_rows_lost(t, policy, unpaid_claims), "_lost", on="claim_id").cache()
    in_ledger, unresolved, lost = pl.col("_in_ledger"), pl.col("_unresolved"), pl.col("_lost")
    unjudged = unpaid_claims.filter(~in_ledger | unresolved | lost).select(
        "claim_id", "person_id", "unit_id",
        pl.when(~in_ledger).then(pl.lit(UNIT_NOT_IN_LEDGER)).when(unresolved).then(pl.lit(UNRESOLVED_ID))
        .otherwise(pl.lit(LEDGER_ROW_LOST)).alias("reason"),
        pl.when(~in_ledger).then(pl.lit(GAP_NOT_IN_LEDGER)).when(unresolved).then(pl.lit(GAP_UNRESOLVED_ID))
        .otherwise(pl.lit(GAP_LEDGER_ROW_LOST)).alias("gap"),
    )
    matched = unpaid_claims.filter(in_ledger & ~unresolved & ~lost).drop("_in_ledger", "_unresolved", "_lost")
    # a later payment to the trainee's card large enough for the months before it that it follows
    # unpaid may be those months paid in arrears (补发) with its own: not judged
    arrears = _paid_in_arrears(t, policy, matched, payments.filter((pl.col("amount") > 0) & to_card), keys).cache()
    unjudged = pl.concat([unjudged, arrears.select(
        "claim_id", "person_id", "unit_id",
        pl.format(PAID_IN_ARREARS, *(["_next", "_next_amount", "_months"] * 2)).alias("reason"),
        pl.lit(GAP_PAID_IN_ARREARS).alias("gap"))])
    matched = matched.join(arrears.select("claim_id"), on="claim_id", how="anti")
    unpaid = matched.select(month_keys).unique()
    seen = (
        payments.join(unpaid, on=month_keys)
        .group_by(keys)
        .agg(pl.struct("claim_month", "amount", "paid_date", _masked("account").alias("account_masked"),
                       pl.when(pl.col("account").is_not_null() & ~no_card)
                       .then(pl.col("cards").list.contains(card_digits(pl.col("account"))).fill_null(False))
                       .alias("account_is_trainee_card"),
                       "_file", "_line")
             # by month, then ledger line: two payments of one month came in no fixed order
             .sort_by("claim_month", "_line").alias("payments_not_to_trainee"))
    )
    found = (
        matched.group_by(keys)
        .agg(pl.col("claim_month").min().alias("_first"), pl.col("claim_month").max().alias("_last"),
             pl.col("claim_month").unique().sort().alias("months_without_payment"))
        .join(unit_counties(t), on="unit_id", how="left")
        .join(seen, on=keys, how="left")
    )
    out = with_claims(found, matched, keys)
    return CheckResult(out.select(
        *keys,
        "county_code",
        pl.col("_first").alias("period_start"),
        pl.col("_last").dt.month_end().alias("period_end"),
        "amount_at_risk",
        "claims_at_risk",
        pl.struct("months_without_payment", "payments_not_to_trainee", "claims").alias("evidence"),
    ).pipe(cited, policy, ALLOWANCE), unjudged)


CHECKS: tuple[Check, ...] = (
    insured_elsewhere,
    contracted_elsewhere,
    own_employee,
    ineligible_at_start,
    still_student,
    claims_after_death,
    allowance_not_paid,
)
