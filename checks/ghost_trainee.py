"""GHOST_TRAINEE: a trainee who is not really one (RULES.md §1 and §9; docs/semantics.md).

The target groups are graduates within N years of leaving school who are NOT employed and
registered-unemployed youth. The rules below cross the internship system with the registries
that say otherwise: social insurance paid by an employer, labour contracts, the unit's own
payroll before the start, the trainee's own record (education, graduation, unemployment
registration, age), deaths and the unit's allowance ledger.

Every finding is about one internship: one person at one unit, agreements chained without a
gap (docs/semantics.md, "Internships"); its keys are person_id, unit_id and the internship's
first day (period_start). Money at risk is listed per claim in ``claims_at_risk``; a claim that
should not have been paid puts its whole amount plus its insurance_amount at risk.
"""

from __future__ import annotations

import datetime as dt

import polars as pl

from audit.policy import Policy
from audit.rules import Check, CheckResult, Severity, rule
from audit.tables import Tables
from checks._runs import new_run

OPEN_END = dt.date(9999, 12, 31)  # an open-ended labour contract
TRAINEE_COVER = "补充工伤"  # the insurance a unit buys for its own trainees, not employment
KEYS = ["person_id", "unit_id", "internship_start"]
_GROUP_STRIDE = 10_000_000  # > any date as days since 1970 plus the offset below
_DAY_OFFSET = 1_000_000  # keeps dates before 1970 positive
_CLAIM_LINK = pl.List(pl.Struct({"claim_id": pl.String(), "amount": pl.Float64()}))


# ------------------------------------------------------------------ shared building blocks --


def province_of(county: str = "county_code") -> pl.Expr:
    """The province code (XX0000) of a six-digit county code."""
    return pl.concat_str([pl.col(county).str.slice(0, 2), pl.lit("0000")])


def employer_paid() -> pl.Expr:
    """Rows paid by an employer; 灵活就业 and 城乡居民 are self-paid and show no employment."""
    return (pl.col("payer_type").is_null() | (pl.col("payer_type") == "单位")) & pl.col("employer_id").is_not_null()


def hash_key(on: list[str]) -> pl.Expr:
    """One 128-bit integer per key: two independently seeded 64-bit hashes side by side.

    The first hash is reinterpreted as signed so that ``high · 2⁶⁴ + low`` fits an Int128 exactly:
    distinct hash pairs give distinct keys.
    """
    key = pl.col(on[0]) if len(on) == 1 else pl.struct(on)
    high = key.hash(seed=11).reinterpret(signed=True).cast(pl.Int128)
    return (high * pl.lit(1 << 64, pl.Int128) + key.hash(seed=29).cast(pl.Int128)).alias("_k")


def hjoin(left: pl.LazyFrame, right: pl.LazyFrame, on: str | list[str], how: str = "inner") -> pl.LazyFrame:
    """``left.join(right, on=on, how=how)`` through a 128-bit hash of the key columns.

    For two LARGE sides. Polars 2.1 joins 18-character IDs slowly: 5.6 M claims to a million
    agreements on person_id take 1.4 CPU-s on the strings, 0.84 s on two 64-bit hash columns and
    0.57 s on one Int128 column holding both hashes; 5.6 M claims anti-joined to 5.5 M payments on
    (person, unit, month) take 2.6 s, 1.7 s and 1.3 s. Two independent 64-bit hashes (128 bits)
    make a false match practically impossible. Where one side is a few thousand found rows a plain
    join is cheaper still, since hashing the big side costs more than it saves (:func:`_small_join`).
    The key columns come from ``left``; keys must not be null (nulls would match).
    """
    on = [on] if isinstance(on, str) else list(on)
    right = right.with_columns(hash_key(on)).drop(on)
    return left.with_columns(hash_key(on)).join(right, on="_k", how=how).drop("_k", strict=False)


def _small_join(left: pl.LazyFrame, right: pl.LazyFrame, on: str | list[str], how: str = "inner") -> pl.LazyFrame:
    """A plain join on the key columns, for a side of a few thousand rows (findings, their claims).

    Null keys match, as they do through :func:`hjoin`'s hashes, so that both give the same rows.
    """
    return left.join(right, on=on, how=how, nulls_equal=True)


def unit_counties(t: Tables) -> pl.LazyFrame:
    """unit_id → county_code (the latest approved row where a unit_id was exported twice; of two
    approved the same day, the later line, as :func:`checks.dormant_unit.latest_units` reads it)."""
    return t.units.group_by("unit_id").agg(pl.col("county_code").sort_by("approved_date", "_line").last())


def internships(t: Tables) -> pl.LazyFrame:
    """The internships the ghost rules judge, computed once per run (see :func:`_internships`)."""
    return t.shared("ghost_internships", lambda: _internships(t), t.agreements, t.units, t.audit_month)


def _internships(t: Tables) -> pl.LazyFrame:
    """One row per internship: a person's agreements at one unit chained without a gap.

    An agreement ends at ``actual_end_date``, else ``planned_end_date``; one still running past
    the audit month ends at the month end. The next agreement continues the internship when it
    starts on or before the first day of the month after the previous one ended. Columns:
    person_id, unit_id, internship_start, internship_end, claims_end (the last day any claim of
    the internship may pay for: the latest planned or actual end, so remaining-period months
    belong to it), agreements (list of the agreement rows), county_code, province_code.

    The 12-month cap on an extension (one_internship.extension_max_months) is ONE_INTERNSHIP's
    concern; here a gapless chain is one internship whatever its length.

    Nearly every person has one agreement at a unit, and that agreement is the internship: only
    the pairs with several agreements (about 2 k of a million at 1 M trainees) are sorted and
    chained. Sorting a million agreements on the IDs and grouping them into a million groups
    was most of this result's cost (1.9 CPU-s).
    """
    agreements = (
        t.agreements.filter(pl.col("start_date") <= t.month_end)
        .select(
            "person_id",
            "unit_id",
            "agreement_id",
            "start_date",
            pl.min_horizontal(pl.coalesce("actual_end_date", "planned_end_date"), pl.lit(t.month_end)).alias("end_date"),
            pl.max_horizontal("planned_end_date", "actual_end_date").alias("_claims_end"),
            "_file",
            "_line",
        )
        .with_columns(pl.struct("person_id", "unit_id").is_duplicated().alias("_several"))
        .cache()
    )
    agreement_row = pl.struct("agreement_id", "start_date", "end_date", "_file", "_line")
    alone = agreements.filter(~pl.col("_several")).select(
        "person_id",
        "unit_id",
        pl.col("start_date").alias("internship_start"),
        pl.col("end_date").alias("internship_end"),
        pl.col("_claims_end").alias("claims_end"),
        pl.concat_list(agreement_row).alias("agreements"),
    )
    agreements = agreements.filter(pl.col("_several")).drop("_several").sort(
        "person_id", "unit_id", "start_date", "agreement_id")
    # Window functions over a million small (person, unit) groups are slow; on rows sorted by
    # group, running values are computed globally instead: a group number in the high digits keeps
    # a running maximum from crossing into the next group.
    group_no = new_run("person_id", "unit_id").cast(pl.Int64).cum_sum()
    end_days = pl.col("end_date").cast(pl.Int64) + _DAY_OFFSET
    running_end = (pl.col("_g") * _GROUP_STRIDE + end_days).cum_max() - pl.col("_g") * _GROUP_STRIDE - _DAY_OFFSET
    chained = (
        agreements.with_columns(group_no.alias("_g"))
        .with_columns(running_end.cast(pl.Int32).cast(pl.Date).shift(1).alias("_prev_end"))
        .with_columns(
            (
                new_run("_g")
                | (pl.col("start_date") > pl.col("_prev_end").dt.month_start().dt.offset_by("1mo"))
            ).cast(pl.Int64).cum_sum().alias("_n")
        )
    )
    several = (
        chained.group_by("_n")
        .agg(
            pl.col("person_id").first(),
            pl.col("unit_id").first(),
            pl.col("start_date").min().alias("internship_start"),
            pl.col("end_date").max().alias("internship_end"),
            pl.col("_claims_end").max().alias("claims_end"),
            agreement_row.sort_by("start_date", "agreement_id").alias("agreements"),
        )
        .drop("_n")
    )
    return (
        pl.concat([alone, several])
        .pipe(hjoin, unit_counties(t), "unit_id", how="left")
        .with_columns(province_of().alias("province_code"))
    )


def claim_money() -> pl.Expr:
    """What a claim paid: the subsidy plus any insurance reimbursed with it."""
    return (pl.col("amount").fill_null(0.0) + pl.col("insurance_amount").fill_null(0.0)).round(2)


def claims_at_risk(claims: pl.LazyFrame, keys: list[str]) -> pl.LazyFrame:
    """Group matched claim rows (keys + claim columns) into one list per finding, each claim once."""
    return (
        claims.unique([*keys, "claim_id"])
        .group_by(keys)
        .agg(
            pl.struct("claim_id", claim_money().alias("amount")).sort_by("claim_id").alias("claims_at_risk"),
            claim_money().sum().round(2).alias("amount_at_risk"),
            pl.struct("claim_id", "claim_month", "claim_type", "amount", "_file", "_line")
            .sort_by("claim_month", "claim_id")
            .alias("claims"),
        )
    )


def with_claims(found: pl.LazyFrame, matched: pl.LazyFrame, keys: list[str]) -> pl.LazyFrame:
    """Attach the claims at risk to findings (none: an empty list and 0 yuan)."""
    return _small_join(found, claims_at_risk(matched, keys), keys, how="left").with_columns(
        pl.col("claims_at_risk").fill_null(pl.lit([], _CLAIM_LINK)),
        pl.col("amount_at_risk").fill_null(0.0),
    )


def _claim_rows(t: Tables) -> pl.LazyFrame:
    return t.claims.select(
        "claim_id", "unit_id", "person_id", "claim_month", "claim_type", "amount", "insurance_amount", "_file", "_line"
    )


def _claims_of_persons(t: Tables, found: pl.LazyFrame) -> pl.LazyFrame:
    """The claim rows of the persons in ``found``, restricted by a semi-join on person_id first.

    A rule finds a few thousand people among millions of claims: probing the 5.6 M claims' IDs
    against that small set once (0.15 s at 1 M trainees) is far cheaper than hashing every claim
    on (person, unit) to join them (0.4 s + the scan), and the claims are only widened after.
    """
    return _claim_rows(t).join(found.select("person_id").unique(), on="person_id", how="semi", nulls_equal=True)


def claims_of_internship(t: Tables, found: pl.LazyFrame) -> pl.LazyFrame:
    """All claims of each found internship (any type, months from its start to claims_end)."""
    return (
        _small_join(_claims_of_persons(t, found), found.select(*KEYS, "claims_end"), ["person_id", "unit_id"])
        .filter(
            (pl.col("claim_month") >= pl.col("internship_start").dt.month_start())
            & (pl.col("claim_month") <= pl.col("claims_end"))
        )
    )


def _spans_of(spans: pl.LazyFrame, found: pl.LazyFrame) -> pl.LazyFrame:
    """``hjoin(spans, found, KEYS)`` for a few thousand found internships: the million internships
    are first restricted by a semi-join on person_id (one probe each, no hashing of three keys),
    then joined to the found rows.

    Both ``found`` and the result are read more than once (the persons, the claims, the
    findings), each time with other columns: projection pushdown then makes the uses differ and
    the optimiser's common-subplan elimination no longer merges them, so the plan that found
    them would run once per use. ``cache()`` computes each once.

    Found rows judged on an internship's narrow columns are the same row twice where two
    internships share their keys (possible only with an agreement that ends before it starts):
    they are made unique, so that each internship is found once, as a join of the internships
    themselves to their trainee rows finds it.
    """
    found = found.unique().cache()
    persons = found.select("person_id").unique()
    return _small_join(spans.join(persons, on="person_id", how="semi", nulls_equal=True), found, KEYS).cache()


def _finding(found: pl.LazyFrame, evidence: list[pl.Expr | str]) -> pl.LazyFrame:
    """The raw findings frame of a ghost rule (keys, period, money, evidence)."""
    return found.select(
        "person_id",
        "unit_id",
        "county_code",
        pl.col("internship_start").alias("period_start"),
        pl.col("internship_end").alias("period_end"),
        "amount_at_risk",
        "claims_at_risk",
        pl.struct(
            "internship_start", "internship_end", "agreements", *evidence, "claims"
        ).alias("evidence"),
    )


def _insurance_near(t: Tables, policy: Policy) -> pl.LazyFrame:
    """The employer-paid insurance rows the two insurance rules read, with the internship's keys
    and end: rows of another employer in the internship's months (insured_elsewhere), and rows
    of the internship unit itself other than 补充工伤 trainee cover from
    ghost.own_employee_lookback_months before the start month up to it (own_employee).

    At national scale (30 M rows) the cheap filters run first (employer-paid, not after the audit
    month), then one hashed join on person_id restricts the rows to people with internships.
    Of what that join keeps, three rows in four are the unit's own 补充工伤 cover of its trainee
    in the internship's months, which neither rule reads: keeping only the rows the rules read
    (about 26 k of 3.8 M at 1 M trainees) makes the held result and both rules cheap.
    insured_elsewhere and own_employee both start from this one result, computed once per run
    (:meth:`Tables.shared`); each applies its own filter again, so insured_elsewhere's result
    does not depend on the lookback.
    """
    months_before = int(policy.detect("ghost.own_employee_lookback_months"))
    return t.shared("insurance_near_internships", lambda: _insurance_near_plan(t, months_before),
                    t.social_insurance, t.agreements, t.units, t.audit_month, months_before)


def _insurance_near_plan(t: Tables, months_before: int) -> pl.LazyFrame:
    spans = internships(t)
    insurance = t.social_insurance.filter(employer_paid() & (pl.col("month") <= t.month_end)).select(
        "person_id", "employer_id", "month", "insurance_type", "payer_type", "_file", "_line"
    )
    # the internship's first month and the lookback's, computed on the million internships, not
    # on the 8.5 M insurance rows the join pairs them with (a month offset per row is not free)
    spans = spans.select(
        *KEYS, "internship_end", pl.col("internship_start").dt.month_start().alias("_start_month")
    ).with_columns(pl.col("_start_month").dt.offset_by(f"-{months_before}mo").alias("_window_from"))
    other_in_months = (pl.col("month") >= pl.col("_start_month")) & (pl.col("employer_id") != pl.col("unit_id"))
    own_before = (
        (pl.col("employer_id") == pl.col("unit_id"))
        & (pl.col("insurance_type") != TRAINEE_COVER).fill_null(True)
        & (pl.col("month") < pl.col("_start_month"))
    )
    return (
        hjoin(insurance, spans, "person_id")
        .filter(pl.col("month").is_between(pl.col("_window_from"), pl.col("internship_end")) & (other_in_months | own_before))
        .drop("_start_month", "_window_from")
    )


def _contracts(t: Tables) -> pl.LazyFrame:
    assert t.employment is not None
    return (
        t.employment.select(
            "person_id",
            "employer_id",
            "contract_start",
            "contract_end",
            "terminated_date",
            pl.coalesce("terminated_date", "contract_end", pl.lit(OPEN_END)).alias("contract_until"),
            "_file",
            "_line",
        )
    )


# ------------------------------------------------------------------------------ the rules --


@rule(
    id="GHOST_TRAINEE.insured_elsewhere",
    title="见习期间由其他单位缴纳社会保险（已就业）",
    severity=Severity.HIGH,
    citation="人社部发〔2023〕27号 一 (离校两年内未就业高校毕业生); 赣人社发〔2023〕9号 五(三) (部门间信息比对)",
    detection_params=("ghost.min_overlap_months",),
)
def insured_elsewhere(t: Tables, policy: Policy) -> pl.LazyFrame:
    """A trainee for whom an employer other than the internship unit paid social insurance in at
    least ghost.min_overlap_months of the internship's months was employed, not an unemployed
    trainee. Only employer-paid rows count (灵活就业 and 城乡居民 are self-paid); a 补充工伤 row
    paid by a unit the person is interning at in that month is trainee cover, not employment.
    Period: the internship's months (start month to end, capped at the audit month). Money at
    risk: the claims of the person at the unit for the months insured elsewhere."""
    min_months = int(policy.detect("ghost.min_overlap_months"))
    spans = internships(t)
    in_months = pl.col("month").is_between(pl.col("internship_start").dt.month_start(), pl.col("internship_end"))
    hits = _insurance_near(t, policy).filter(in_months & (pl.col("employer_id") != pl.col("unit_id")))
    # A 补充工伤 row is a unit's cover for its own trainee when the person interns there that month.
    # Semantics, read literally: another employer's 补充工伤 (no internship there) still counts, and
    # so does the old employer's row for the month a job ended and the internship began — with
    # ghost.min_overlap_months = 1 that month alone fires (raise the threshold to spare it).
    cover = (
        hits.filter(pl.col("insurance_type") == TRAINEE_COVER)
        .select("person_id", "employer_id", "month")
        .join(spans.join(hits.select("person_id").unique(), on="person_id", how="semi")
              .select("person_id", pl.col("unit_id").alias("employer_id"), "internship_start", "internship_end"),
              on=["person_id", "employer_id"])
        .filter(in_months)
        .select("person_id", "employer_id", "month", pl.lit(TRAINEE_COVER).alias("insurance_type"))
        .unique()
    )
    hits = hits.join(cover, on=["person_id", "employer_id", "month", "insurance_type"], how="anti")
    per_internship = (
        hits.group_by(KEYS)
        .agg(
            pl.col("month").unique().sort().alias("months_insured_elsewhere"),
            pl.col("employer_id").unique().sort().alias("other_employers"),
            pl.struct("employer_id", "month", "insurance_type", "payer_type", "_file", "_line")
            .sort_by("month", "employer_id", "insurance_type", "_line")
            .alias("insurance_rows"),
        )
        .with_columns(pl.col("months_insured_elsewhere").list.len().alias("overlap_months"))
        .filter(pl.col("overlap_months") >= min_months)
    )
    found = _spans_of(spans, per_internship)
    months = found.select(*KEYS, pl.col("months_insured_elsewhere").alias("claim_month")).explode("claim_month")
    matched = _small_join(_claims_of_persons(t, months), months, ["person_id", "unit_id", "claim_month"])
    return _finding(
        with_claims(found, matched, KEYS),
        ["other_employers", "months_insured_elsewhere", "overlap_months", "insurance_rows",
         pl.lit(min_months).alias("param_ghost_min_overlap_months")],
    )


@rule(
    id="GHOST_TRAINEE.contracted_elsewhere",
    title="见习期间与其他单位存在劳动合同（已就业）",
    severity=Severity.HIGH,
    citation="人社部发〔2023〕27号 一 (离校两年内未就业高校毕业生); 赣人社发〔2023〕9号 五(三) (部门间信息比对)",
    needs=("employment",),
)
def contracted_elsewhere(t: Tables, policy: Policy) -> pl.LazyFrame:
    """A trainee with a labour contract with another employer in force during the internship
    (contract_start ≤ internship end and terminated_date, else contract_end, else open-ended ≥
    internship start) was employed, not an unemployed trainee. A job that ended before the
    internship began, or one that starts after it ended, is not evidence. Period: the
    internship. Money at risk: the person's claims at the unit for the months the contract
    overlaps."""
    spans = internships(t)
    hits = (
        hjoin(_contracts(t), spans.select(*KEYS, "internship_end"), "person_id")
        .filter(
            (pl.col("employer_id") != pl.col("unit_id"))
            & (pl.col("contract_start") <= pl.col("internship_end"))
            & (pl.col("contract_until") >= pl.col("internship_start"))
        )
        .with_columns(
            pl.max_horizontal("contract_start", "internship_start").alias("overlap_from"),
            pl.min_horizontal("contract_until", "internship_end").alias("overlap_to"),
        )
    )
    per_internship = hits.group_by(KEYS).agg(
        pl.col("employer_id").unique().sort().alias("other_employers"),
        pl.struct("employer_id", "contract_start", "contract_end", "terminated_date", "overlap_from", "overlap_to",
                  "_file", "_line").sort_by("contract_start", "_line").alias("contracts"),
    )
    found = _spans_of(spans, per_internship)
    matched = (
        _small_join(_claims_of_persons(t, found), hits.select(*KEYS, "overlap_from", "overlap_to"),
                    ["person_id", "unit_id"])
        .filter(pl.col("claim_month").is_between(pl.col("overlap_from").dt.month_start(), pl.col("overlap_to")))
    )
    return _finding(with_claims(found, matched, KEYS), ["other_employers", "contracts"])


@rule(
    id="GHOST_TRAINEE.own_employee",
    title="见习单位将本单位在职职工申报为见习人员",
    severity=Severity.HIGH,
    citation="人社部发〔2023〕27号 一 (离校两年内未就业高校毕业生); 赣人社发〔2023〕9号 五(三) (防止虚报、冒领)",
    detection_params=("ghost.own_employee_lookback_months",),
)
def own_employee(t: Tables, policy: Policy) -> CheckResult | pl.LazyFrame:
    """A trainee whom the internship unit itself employed before the internship — its
    employer-paid insurance (other than 补充工伤 trainee cover) in a month before the start
    month, or a labour contract with it that began before the start and was in force at some
    time — within ghost.own_employee_lookback_months before the start, is the unit's own
    employee relabelled as a trainee. Period: the internship. Money at risk: every claim of
    that internship. The employment table is used where given; without it the insurance alone
    decides."""
    lookback = int(policy.detect("ghost.own_employee_lookback_months"))
    spans = internships(t)
    insured = (
        _insurance_near(t, policy)
        .filter(
            (pl.col("employer_id") == pl.col("unit_id"))
            & (pl.col("insurance_type") != TRAINEE_COVER).fill_null(True)
            & (pl.col("month") < pl.col("internship_start").dt.month_start())
        )
        .group_by(KEYS)
        .agg(
            pl.col("month").unique().sort().alias("months_insured_before"),
            pl.struct("month", "insurance_type", "payer_type", "_file", "_line")
            .sort_by("month", "insurance_type", "_line").alias("insurance_rows"),
        )
    )
    parts = [insured.select(KEYS)]
    if t.employment is not None:
        contracted = (
            hjoin(_contracts(t).rename({"employer_id": "unit_id"}), spans.select(*KEYS), ["person_id", "unit_id"])
            .filter(
                (pl.col("contract_start") < pl.col("internship_start"))
                & (pl.col("contract_until") >= pl.col("internship_start").dt.offset_by(f"-{lookback}mo"))
            )
            .group_by(KEYS)
            .agg(pl.struct("contract_start", "contract_end", "terminated_date", "_file", "_line")
                 .sort_by("contract_start", "_line").alias("contracts"))
        )
        parts.append(contracted.select(KEYS))
    else:
        contracted = spans.select(*KEYS).head(0).with_columns(
            pl.lit(None, pl.List(pl.Struct({"contract_start": pl.Date(), "contract_end": pl.Date(),
                                            "terminated_date": pl.Date(), "_file": pl.String(), "_line": pl.Int64()})))
            .alias("contracts"))
    found = (
        _spans_of(spans, pl.concat(parts).unique())
        .pipe(_small_join, insured, KEYS, how="left")
        .pipe(_small_join, contracted, KEYS, how="left")
    )
    return _finding(
        with_claims(found, claims_of_internship(t, found), KEYS),
        ["months_insured_before", "insurance_rows", "contracts",
         pl.lit(lookback).alias("param_ghost_own_employee_lookback_months")],
    )


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
    """The first row of each person in the trainee registry (as ``unique(keep="first")`` keeps it,
    at a third of its cost over a million trainees: one hashing pass, no regrouping)."""
    return t.trainees.filter(pl.col("person_id").is_first_distinct())


def _trainee_rows(t: Tables) -> pl.LazyFrame:
    return _first_trainee_rows(t).select(
        "person_id", "education", "graduation_date", "unemployment_reg_date", "birth_date",
        pl.col("_file").alias("trainee_file"), pl.col("_line").alias("trainee_line"),
    )


@rule(
    id="GHOST_TRAINEE.ineligible_at_start",
    title="见习开始时不属于见习对象（离校年限、学历或失业青年年龄不符）",
    severity=Severity.HIGH,
    citation="人社部发〔2023〕27号 一; 湘人社规〔2023〕9号 二(一); 云人社发〔2023〕18号 三",
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
    since no notice lists those areas."""
    spans = internships(t)
    # A million internships are judged on the few columns the test reads; the wide ones (the
    # agreement rows, the county, the claims' end) are joined to the few found ones only.
    frame = hjoin(spans.select(*KEYS, "province_code"), _trainee_rows(t), "person_id")
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
    # Findings and skipped rows both come from this frame; cached, the million-row join runs once
    # for both (their different columns would otherwise keep the optimiser from merging them).
    frame = (
        frame.join(in_force, on=["province_code", "internship_start"], how="left")
        .with_columns(_age_at("birth_date", "internship_start").alias("age_at_start"))
        .cache()
    )
    unset = pl.any_horizontal(pl.col(c).is_null() for c in (years, edu, lo, hi))
    recent_graduate = pl.col("graduation_date") >= pl.col("_left_school_from")
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
    undecidable = unset | area_only | no_age
    judged = frame.filter(~undecidable)
    # Semantics leaves open a trainee with neither a graduation date nor an unemployment
    # registration: nothing shows eligibility, so the rule fires (graduate_test says why).
    found = judged.filter(~graduate & ~youth).drop("province_code").with_columns(
        pl.col("graduation_date").dt.offset_by(pl.format("{}y", pl.col(years))).alias("graduate_eligible_until"),
        pl.when(pl.col("graduation_date").is_null()).then(pl.lit("无毕业离校日期"))
        .when(~education_ok).then(pl.lit("学历不在见习对象范围内"))
        .otherwise(pl.lit("离校超过规定年限")).alias("graduate_test"),
        pl.when(pl.col("unemployment_reg_date").is_null()).then(pl.lit("无失业登记"))
        .when(pl.col("unemployment_reg_date") > pl.col("internship_start")).then(pl.lit("失业登记晚于见习开始"))
        .otherwise(pl.lit("年龄不在失业青年范围内")).alias("youth_test"),
    ).pipe(lambda few: _spans_of(spans, few))
    skipped = frame.filter(undecidable).select(
        "person_id", "unit_id",
        pl.when(unset).then(pl.lit("见习对象资格参数在该省该日期未设定（eligibility.*）"))
        .when(area_only).then(pl.lit("该学历仅在指定地区（艰苦边远地区、老工业基地、脱贫县）可参加见习，通知未列明地区，无法判断"))
        .otherwise(pl.lit("身份证号无法推出出生日期，无法判断失业青年年龄")).alias("reason"),
    )
    findings = _finding(
        with_claims(found, claims_of_internship(t, found), KEYS),
        ["province_code", "education", "graduation_date", "unemployment_reg_date", "birth_date", "age_at_start",
         "graduate_eligible_until", "graduate_test", "youth_test", "trainee_file", "trainee_line",
         *[pl.struct(pl.col(c).alias("value"), pl.col(f"{c}_ref").alias("reference")).alias(f"param_{c}")
           for c in (years, edu, lo, hi)]],
    )
    return CheckResult(findings, skipped)


@rule(
    id="GHOST_TRAINEE.still_student",
    title="见习开始时尚未毕业离校（在校学生）",
    severity=Severity.HIGH,
    citation="人社部发〔2023〕27号 一、二(一) (离校未就业毕业生)",
)
def still_student(t: Tables, policy: Policy) -> pl.LazyFrame:
    """A trainee whose graduation (leaving school) date is after the internship's first day was a
    student, not a graduate who had left school, when the internship began. Period: the
    internship. Money at risk: the internship's claims for months that began before the
    graduation date."""
    spans = internships(t)
    found = _spans_of(spans, (
        hjoin(spans.select(*KEYS), _trainee_rows(t), "person_id")
        .filter(pl.col("graduation_date") > pl.col("internship_start"))
    ))
    matched = claims_of_internship(t, found.with_columns(
        pl.min_horizontal("claims_end", pl.col("graduation_date") - pl.duration(days=1)).alias("claims_end")))
    return _finding(
        with_claims(found, matched, KEYS),
        ["education", "graduation_date", "trainee_file", "trainee_line"],
    )


@rule(
    id="GHOST_TRAINEE.claims_after_death",
    title="见习人员死亡后仍申领见习补贴",
    severity=Severity.HIGH,
    citation="赣人社发〔2023〕9号 五(三) (防止补贴资金骗取、冒领); 人社部发〔2023〕27号 四(二)",
    needs=("deaths",),
)
def claims_after_death(t: Tables, policy: Policy) -> pl.LazyFrame:
    """Claims for a trainee for months after the month of death (death registry) pay for an
    internship nobody could do. The month of death itself is not questioned. Period: from the
    death date to the last such claim month. Money at risk: those claims. One finding per
    person and unit."""
    assert t.deaths is not None
    deaths = t.deaths.group_by("person_id").agg(
        pl.col("death_date").min(),
        pl.struct("death_date", "_file", "_line").sort_by("death_date", "_line").first().alias("death_record"),
    )
    keys = ["person_id", "unit_id"]
    matched = (
        _small_join(_claims_of_persons(t, deaths), deaths, "person_id")
        .filter(pl.col("claim_month") > pl.col("death_date").dt.month_start())
    )
    found = (
        matched.group_by(keys)
        .agg(pl.col("death_date").first(), pl.col("death_record").first(), pl.col("claim_month").max().alias("_last"))
        .pipe(_small_join, unit_counties(t), "unit_id", how="left")
    )
    out = with_claims(found, matched.drop("death_date", "death_record"), keys)
    return out.select(
        *keys,
        "county_code",
        pl.col("death_date").alias("period_start"),
        pl.col("_last").dt.month_end().alias("period_end"),
        "amount_at_risk",
        "claims_at_risk",
        pl.struct("death_date", "death_record", "claims").alias("evidence"),
    )


def _masked(account: str) -> pl.Expr:
    """An account number reduced to its last four digits (reports never show the full number)."""
    return pl.when(pl.col(account).is_null()).then(None).otherwise(
        pl.concat_str([pl.lit("****"), pl.col(account).str.slice(-4)])
    )


@rule(
    id="GHOST_TRAINEE.allowance_not_paid",
    title="申领月份未向见习人员本人账户发放基本生活费",
    severity=Severity.HIGH,
    citation="赣人社发〔2023〕9号 四(二) (先垫后补，按月足额发放后申领); 湘人社规〔2023〕9号 三(一) (通过银行卡或者社保卡)",
    needs=("allowance_payments",),
)
def allowance_not_paid(t: Tables, policy: Policy) -> pl.LazyFrame:
    """A unit claims a month's subsidy only after paying the trainee's allowance for that month
    (先垫后补). A monthly (月度) claim with no positive payment from the unit to the trainee for
    the claimed month — or only payments to an account that is not the trainee's own
    bank_card, where both are known — was not paid to the trainee. Only months within the span
    the payment ledger covers (its first to its last month) are judged. Period: the claimed
    months. Money at risk: those claims. One finding per person and unit."""
    assert t.allowance_payments is not None
    keys = ["person_id", "unit_id"]
    ledger = t.allowance_payments.select("person_id", "unit_id", pl.col("month").alias("claim_month"), "amount",
                                         "paid_date", "account", "_file", "_line")
    cards = _first_trainee_rows(t).select("person_id", "bank_card").cache()  # read twice
    # docs/semantics.md does not define this rule; a ledger extract may cover only some months,
    # so only claim months within its first..last month are judged.
    covered = ledger.select(pl.col("claim_month").min().alias("_from"), pl.col("claim_month").max().alias("_to"))
    # Two joins of millions of rows are unavoidable (every payment to its trainee's card, every
    # monthly claim to its payments): both go through hjoin's one 128-bit key. Only the few
    # unpaid claims' payments are then looked at again, restricted by person first.
    paid = (
        hjoin(ledger.filter(pl.col("amount") > 0).select(*keys, "claim_month", "account"), cards, "person_id",
              how="left")
        .filter(pl.col("account").is_null() | pl.col("bank_card").is_null() | (pl.col("account") == pl.col("bank_card")))
        .select(*keys, "claim_month")
    )
    monthly = _claim_rows(t).filter(pl.col("claim_type").fill_null("月度") == "月度")
    matched = (
        monthly.join(covered, how="cross")
        .filter(pl.col("claim_month").is_between(pl.col("_from"), pl.col("_to")))
        .drop("_from", "_to")
        .pipe(hjoin, paid, [*keys, "claim_month"], how="anti")
        .cache()  # read three times (payments seen, findings, claims at risk); computed once
    )
    unpaid = matched.select(*keys, "claim_month").unique()
    persons = unpaid.select("person_id").unique()
    of_persons = {"on": "person_id", "how": "semi", "nulls_equal": True}
    seen = (
        _small_join(ledger.join(persons, **of_persons), cards.join(persons, **of_persons), "person_id", how="left")
        .pipe(_small_join, unpaid, [*keys, "claim_month"])
        .group_by(keys)
        .agg(pl.struct("claim_month", "amount", "paid_date", _masked("account").alias("account_masked"),
                       (pl.col("account") == pl.col("bank_card")).alias("account_is_trainee_card"), "_file", "_line")
             # by month, then ledger line: two payments of one month came in no fixed order
             .sort_by("claim_month", "_line").alias("payments_not_to_trainee"))
    )
    found = (
        matched.group_by(keys)
        .agg(pl.col("claim_month").min().alias("_first"), pl.col("claim_month").max().alias("_last"),
             pl.col("claim_month").unique().sort().alias("months_without_payment"))
        .pipe(_small_join, unit_counties(t), "unit_id", how="left")
        .pipe(_small_join, seen, keys, how="left")
    )
    out = with_claims(found, matched, keys)
    return out.select(
        *keys,
        "county_code",
        pl.col("_first").alias("period_start"),
        pl.col("_last").dt.month_end().alias("period_end"),
        "amount_at_risk",
        "claims_at_risk",
        pl.struct("months_without_payment", "payments_not_to_trainee", "claims").alias("evidence"),
    )


CHECKS: tuple[Check, ...] = (
    insured_elsewhere,
    contracted_elsewhere,
    own_employee,
    ineligible_at_start,
    still_student,
    claims_after_death,
    allowance_not_paid,
)
