"""ONE_INTERNSHIP — 同一见习人员只能参加一次就业见习活动 (赣人社发〔2023〕9号 四(二)).

docs/semantics.md, "Internships": a person's agreements at one unit form ONE internship when each
next one starts on or before the first day of the month after the previous ended and together
they span at most ``one_internship.extension_max_months``; any other agreement of the same
person — at another unit, county or province, or at the same unit after a gap — is a further
internship. The person is the natural person of :mod:`checks._identity` (ID variants linked
with corroboration count as one). The first internship (earliest start) is the legitimate one;
the claims of every later internship are at risk. Two internships whose date ranges overlap are
the aggravated form (one of them is fictitious).

What the mission asks everywhere (RULES.md §8): one internship per person is found in every
province — as law where the notice of the later internship's province in force on its first
day says so (``trainee.max_internships``: 赣人社发〔2023〕9号 四(二)), elsewhere as the audit
office's judgement (detection ``judgement.max_internships``, under 人社部发〔2023〕27号 二(五) and
the province's own management clause). The finding says which (evidence ``basis``) and cites
accordingly. A trainee's earlier internship is a fact the unit could not know: no exit condition.
"""

from __future__ import annotations

import polars as pl

from audit.policy import Policy
from audit.rules import ONGOING, Check, Severity, rule
from audit.schema import province_of
from audit.tables import Tables, shared
from checks._citations import JUDGEMENT, LAW, cited, judgement
from checks._claims import claims_at_risk
from checks._expected import DIFFERENCE, MONTHLY
from checks._identity import identity_links, rows_of_persons, with_person_key
from checks._internships import agreement_end, chain_agreements, claims_end, end_seen_at
from checks._runs import first_in_run, new_run
from checks._units import unit_counties

CITATION = "赣人社发〔2023〕9号 四(二) (同一见习人员只能参加一次就业见习活动)"
# the general duty to manage internships (and, in Yunnan, 严格就业见习对象): the basis of the
# audit office's judgement where the province's notice does not limit internships
JUDGEMENT_CLAUSES = (
    "湘人社规〔2023〕9号 二(五) (强化见习规范管理)",
    "豫人社函〔2023〕138号 二(五) (强化见习规范管理)",
    "云人社发〔2023〕18号 三 (严格就业见习岗位、就业见习对象)",
    "人社部发〔2023〕27号 二(五) (强化见习规范管理)",
    "人社部发〔2022〕11号 四(五) (强化组织实施)",
)
CITATIONS = (CITATION, *(judgement("judgement.max_internships", "N") + c for c in JUDGEMENT_CLAUSES))


@shared(tables=("agreements",), detection=("one_internship.extension_max_months",), context=("audit_month",),
        uses=(identity_links,))
def person_internships(t: Tables, policy: Policy) -> pl.LazyFrame:
    """The internships of every person with more than one agreement (a person with one agreement
    has one internship and is left out): agreements of the natural person at one unit chained
    without a gap and cut at one_internship.extension_max_months
    (:func:`checks._internships.chain_agreements`). Columns: person_key, unit_id, agreement_ids,
    person_ids, start, end, overlap_end (the end as seen at the audit month's end,
    :func:`checks._internships.end_seen_at`), claim_end (the latest of the planned and actual
    ends: remaining-period months lie after an early end), internship_no (1 = the first, by
    start), internships (how many the person has)."""
    cap = int(policy.detect("one_internship.extension_max_months"))
    agreements = (
        with_person_key(t.agreements, identity_links(t, policy))
        .filter(pl.col("start_date").is_not_null())
        .select(
            "agreement_id", "person_id", "person_key", "unit_id", "start_date",
            agreement_end().alias("end"),
            end_seen_at(t.month_end).alias("overlap_end"),
            claims_end().alias("claim_end"),
        )
        .unique()
        .filter(pl.len().over("person_key") > 1)
    )
    # semantics.md leaves "span at most 12 months" open (calendar months touched, or duration?):
    # read as duration (chain_agreements), so a 12-month term starting mid-month and split in two
    # is not a second internship.
    row = pl.int_range(pl.len(), dtype=pl.Int64)
    person_runs = new_run("person_key")
    return (
        chain_agreements(agreements, person="person_key", cap_months=cap)
        .group_by("internship")
        .agg(
            pl.col("person_key").first(),
            pl.col("unit_id").first(),
            pl.col("agreement_id").unique().sort().alias("agreement_ids"),
            pl.col("person_id").unique().sort().alias("person_ids"),
            pl.col("start_date").min().alias("start"),
            pl.col("end").max().alias("end"),
            pl.col("overlap_end").max().alias("overlap_end"),
            pl.col("claim_end").max().alias("claim_end"),
        )
        .drop("internship")
        .sort("person_key", "start", "end", "unit_id", "agreement_ids")
        .with_columns(row.alias("_row"))
        .with_columns(
            (pl.col("_row") - first_in_run(person_runs, pl.col("_row")) + 1).alias("internship_no"),
            pl.len().over("person_key").alias("internships"),
        )
        .drop("_row")
    )


def _claims_of(t: Tables, policy: Policy, later: pl.LazyFrame) -> pl.LazyFrame:
    """The claims belonging to each internship in ``later`` (by agreement id, else by unit and
    month inside the internship), each claim to one internship: person_key, internship_no,
    claim_id, claim_month, amount, insurance_amount."""
    identity = identity_links(t, policy)
    claims = (
        rows_of_persons(t.claims, later, identity)
        .sort("claim_id", "_file", "_line")
        .unique("claim_id", keep="first")  # a duplicated claim key is DATA_QUALITY's; price it once
        .select("claim_id", "person_key", "unit_id", "agreement_id", "claim_month", "claim_type", "amount",
                "insurance_amount")
    )
    month = pl.col("claim_month")
    return (
        claims.join(later.select("person_key", "unit_id", "internship_no", "agreement_ids", "start", "claim_end"),
                    on=["person_key", "unit_id"])
        .with_columns(
            pl.when(pl.col("agreement_ids").list.contains(pl.col("agreement_id"))).then(0)
            .when(month.is_between(pl.col("start").dt.month_start(), pl.col("claim_end").dt.month_start()))
            .then(1).otherwise(None).alias("_match")
        )
        .drop_nulls("_match")
        # the agreement named on the claim decides; otherwise the earliest internship whose
        # months hold it (the benefit of the doubt goes to the legitimate one)
        .sort("claim_id", "_match", "internship_no")
        .unique("claim_id", keep="first")
        .select("person_key", "internship_no", "claim_id", "claim_month", "claim_type", "amount", "insurance_amount")
    )


def _internship_struct(prefix: str = "") -> pl.Expr:
    return pl.struct(
        pl.col(f"{prefix}internship_no").alias("internship_no"),
        pl.col(f"{prefix}unit_id").alias("unit_id"),
        pl.col(f"{prefix}agreement_ids").alias("agreement_ids"),
        pl.col(f"{prefix}person_ids").alias("person_ids"),
        pl.col(f"{prefix}start").alias("start"),
        pl.col(f"{prefix}end").alias("end"),
    )


def _identity_evidence(t: Tables, policy: Policy) -> pl.LazyFrame:
    """person_key → the ID variants linked into it (empty list where none)."""
    return (
        identity_links(t, policy)
        .group_by("person_key")
        .agg(pl.struct("person_id", "link", "link_via").sort_by("person_id").alias("identity_links"))
    )


def _with_context(t: Tables, policy: Policy, rows: pl.LazyFrame, every: pl.LazyFrame) -> pl.LazyFrame:
    history = every.group_by("person_key").agg(_internship_struct().sort_by("internship_no").alias("all_internships"))
    return (
        rows.join(history, on="person_key", how="left")
        .join(_identity_evidence(t, policy), on="person_key", how="left")
        .join(unit_counties(t), on="unit_id", how="left")
    )


def _with_basis(policy: Policy, rows: pl.LazyFrame) -> pl.LazyFrame:
    """Rows of later internships (``start``, ``county_code`` of their unit) with the limit in force:
    ``max_internships`` (the province's law on the internship's first day, else the audit office's
    judgement), ``basis`` (法规 / 审计判断) and ``citation`` (the clause, or the judgement and the
    province's management clause)."""
    judged = int(policy.detect("judgement.max_internships"))
    rows = policy.attach(rows.with_columns(province_of(pl.col("county_code")).alias("_province")),
                         "trainee.max_internships", on="start", province="_province", alias="_law_max",
                         with_reference=True)
    rows = cited(rows, policy, JUDGEMENT_CLAUSES, on="start", prefix=judgement("judgement.max_internships", judged),
                 alias="_judged")
    law = pl.col("_law_max").is_not_null()
    return rows.with_columns(
        pl.coalesce(pl.col("_law_max"), pl.lit(judged)).alias("max_internships"),
        pl.when(law).then(pl.lit(LAW)).otherwise(pl.lit(JUDGEMENT)).alias("basis"),
        pl.when(law).then(pl.col("_law_max_ref")).otherwise(pl.col("_judged")).alias("citation"),
        pl.when(law).then(pl.lit("trainee.max_internships")).otherwise(pl.lit("judgement.max_internships"))
        .alias("basis_parameter"),
    ).drop("_province", "_law_max", "_law_max_ref", "_judged")


def _basis_evidence() -> pl.Expr:
    return pl.struct("basis", "max_internships", pl.col("basis_parameter").alias("parameter"),
                     pl.col("citation").alias("clause")).alias("basis")


@rule(
    id="ONE_INTERNSHIP.second_internship",
    identity=ONGOING,
    facts=("this_internship.agreement_ids", "first_internship.agreement_ids"),
    title="同一人员参加第二次就业见习",
    severity=Severity.MEDIUM,
    citations=CITATIONS,
    params=("trainee.max_internships",),
    detection_params=("one_internship.extension_max_months", "duplicate.max_transpositions", "judgement.max_internships"),
    needs=("trainees", "agreements", "claims"),
)
def second_internship(t: Tables, policy: Policy) -> pl.LazyFrame:
    """A person (one natural person across linked ID variants) may take part in one internship,
    ever: every internship after the first — at another unit, county or province, or at the same
    unit after a gap or beyond the extension cap — is a violation (beyond trainee.max_internships
    of the later internship's province on its first day, else judgement.max_internships). Period:
    the later internship's dates; money at risk: all claims of that later internship (amount +
    insurance)."""
    every = person_internships(t, policy).filter(pl.col("internships") > 1)
    later = every.filter(pl.col("internship_no") > 1)
    first = every.filter(pl.col("internship_no") == 1).select(
        "person_key", _internship_struct().alias("first_internship")
    )
    at_risk = claims_at_risk(_claims_of(t, policy, later), ["person_key", "internship_no"], evidence=False)
    rows = (
        later.join(first, on="person_key")
        .join(at_risk, on=["person_key", "internship_no"], how="left")
        .with_columns(pl.col("amount_at_risk").fill_null(0.0))
    )
    return _with_basis(policy, _with_context(t, policy, rows, every)).filter(
        pl.col("internship_no") > pl.col("max_internships")
    ).select(
        pl.col("person_key").alias("person_id"),
        "unit_id",
        "county_code",
        pl.col("start").alias("period_start"),
        pl.col("end").alias("period_end"),
        "amount_at_risk",
        "claims_at_risk",
        pl.struct(
            pl.col("internship_no"),
            pl.col("internships").alias("internships_total"),
            _internship_struct().alias("this_internship"),
            "first_internship",
            "all_internships",
            "identity_links",
            pl.lit(int(policy.detect("one_internship.extension_max_months"))).alias("extension_max_months"),
            _basis_evidence(),
        ).alias("evidence"),
        "citation",
    )


@rule(
    id="ONE_INTERNSHIP.overlapping",
    identity=ONGOING,
    facts=("later_internship.agreement_ids", "overlapped_internship.agreement_ids"),
    title="同一人员同时参加两段就业见习（时间重叠）",
    severity=Severity.HIGH,
    citations=CITATIONS,
    params=("trainee.max_internships",),
    detection_params=("one_internship.extension_max_months", "duplicate.max_transpositions", "judgement.max_internships"),
    needs=("trainees", "agreements", "claims"),
)
def overlapping(t: Tables, policy: Policy) -> pl.LazyFrame:
    """Two internships of one person whose date ranges overlap (an agreement still running past
    the audit month counts up to the month's end): one of them is fictitious. One finding per
    (later-starting internship, earlier internship it overlaps). Period: the overlap; money at
    risk: the later-starting internship's claims for the overlapping months.

    Where the agreements were exported without 实际结束日期, the earlier internship may have ended
    before its planned end, on any day of its last claimed month (a 差额 aside): the later one
    overlaps it only if it started by that month's first day."""
    every = person_internships(t, policy).filter(pl.col("internships") > 1)
    cols = ["person_key", "internship_no", "unit_id", "agreement_ids", "person_ids", "start", "end", "overlap_end"]
    earlier = every.select(cols).rename({c: f"e_{c}" for c in cols if c != "person_key"})
    if not t.exported("agreements", "actual_end_date"):
        last = (
            _claims_of(t, policy, every).filter(pl.col("claim_type").fill_null(MONTHLY) != DIFFERENCE)
            .group_by("person_key", pl.col("internship_no").alias("e_internship_no"))
            .agg(pl.col("claim_month").max().alias("_last_month"))
        )
        earlier = (earlier.join(last, on=["person_key", "e_internship_no"], how="left")
                   .with_columns(pl.min_horizontal("e_overlap_end", "_last_month").alias("e_overlap_end"))
                   .drop("_last_month"))
    pairs = (
        every.select(cols)
        .join(earlier, on="person_key")
        .filter((pl.col("e_internship_no") < pl.col("internship_no")) & (pl.col("start") <= pl.col("e_overlap_end")))
        .with_columns(
            pl.col("start").alias("overlap_start"),
            pl.min_horizontal("overlap_end", "e_overlap_end").alias("overlap_stop"),
        )
    )
    claims = _claims_of(t, policy, every.filter(pl.col("internship_no") > 1))
    at_risk = claims_at_risk(
        pairs.select("person_key", "internship_no", "e_internship_no", "overlap_start", "overlap_stop")
        .join(claims, on=["person_key", "internship_no"])
        .filter(pl.col("claim_month").is_between(pl.col("overlap_start").dt.month_start(),
                                                 pl.col("overlap_stop").dt.month_start())),
        ["person_key", "internship_no", "e_internship_no"], evidence=False,
    )
    rows = (
        pairs.join(at_risk, on=["person_key", "internship_no", "e_internship_no"], how="left")
        .with_columns(pl.col("amount_at_risk").fill_null(0.0))
    )
    return _with_basis(policy, _with_context(t, policy, rows, every)).select(
        pl.col("person_key").alias("person_id"),
        "unit_id",
        "county_code",
        pl.col("overlap_start").alias("period_start"),
        pl.col("overlap_stop").alias("period_end"),
        "amount_at_risk",
        "claims_at_risk",
        pl.struct(
            _internship_struct().alias("later_internship"),
            _internship_struct("e_").alias("overlapped_internship"),
            pl.col("overlap_start"),
            pl.col("overlap_stop").alias("overlap_end"),
            "all_internships",
            "identity_links",
            _basis_evidence(),
        ).alias("evidence"),
        "citation",
    )


CHECKS: tuple[Check, ...] = (second_internship, overlapping)
