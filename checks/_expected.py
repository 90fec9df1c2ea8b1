"""What every claim should have been: the claim in its context, computed once for all rate rules.

:func:`claim_context` joins each claim to its unit (county → province, tier), to the agreement
it pays for, to the minimum wage in force in the claim month (``audit.reference.attach_min_wage``)
and to every policy parameter the rate rules read (dated, per province, on the claim month —
docs/semantics.md "Where a claim belongs"). From those it derives the expected monthly amount
at the standard rate and at the raised rate, and, where either cannot be known (a rate a
province leaves unset, a county without a usable tier), the reason the rate rules must skip.

Parameters and wages are looked up once per distinct (county, month) and joined back to the
claims (:func:`claim_context`).
"""

from __future__ import annotations

import polars as pl

from audit.findings import GAP_TIER, GAP_WAGE, gap_unset
from audit.policy import Policy
from audit.reference import SECONDARY_STATUSES, attach_min_wage
from audit.reference.gaps import place_names
from audit.schema import province_of
from audit.tables import Tables, shared
from checks._identity import person_aliases, with_aliases
from checks._internships import chain_agreements
from checks._units import latest_units

MONTHLY = "月度"
DIFFERENCE = "差额"
REMAINING = "剩余期限"
RAISED = "提高"

# Policy parameters read on the claim month (docs/semantics.md); (name, with its reference).
CLAIM_PARAMS: tuple[tuple[str, bool], ...] = (
    ("rate.kind", True),
    ("rate.standard_share", True),
    ("rate.raised_share", True),
    ("rate.standard_flat", True),
    ("rate.raised_extra_flat", True),
    ("mode.one_plus_one", True),
    ("partial_month.min_working_days", True),
    ("duration.max_months", True),
    ("insurance.separately_reimbursed", True),
    ("allowance.min_wage_floor", True),
    ("remaining_period.window_start", False),
    ("remaining_period.window_end", True),
    ("remaining_period.min_contract_months", False),
    ("remaining_period.requires_social_insurance", False),
    ("remaining_period.min_internship_months", False),
)
# Parameters whose ``<name>_why`` (why unset, naming the province: Policy.unset_reason) the rules
# give as their skip reason.
REASONED: frozenset[str] = frozenset({
    "rate.kind", "rate.standard_share", "rate.raised_share", "rate.standard_flat", "rate.raised_extra_flat",
    "mode.one_plus_one", "duration.max_months", "insurance.separately_reimbursed", "remaining_period.window_end",
})


def col(name: str) -> str:
    """The column a parameter becomes (``rate.kind`` → ``rate_kind``), as ``Policy.attach`` names it."""
    return name.replace(".", "_")


def fen(expr: pl.Expr) -> pl.Expr:
    """Round a positive yuan amount to the fen, half up (docs/semantics.md), immune to 0.1-style float error."""
    return ((expr * 100 + 0.5 + 1e-6).floor() / 100).cast(pl.Float64)


def tolerance(policy: Policy) -> float:
    """Amounts differ when they are more than ``money.tolerance_yuan`` apart (detection parameter)."""
    return float(policy.detect("money.tolerance_yuan")) + 1e-6


def attach_params(lf: pl.LazyFrame, policy: Policy, *, on: str, names: tuple[tuple[str, bool], ...] = CLAIM_PARAMS,
                  province: str = "province_code", reasons: frozenset[str] = REASONED) -> pl.LazyFrame:
    """Add the parameters in force for each row's province on date column ``on`` (with their
    reference where asked, and ``<name>_why``, why unset, for those in ``reasons``).

    The as-of lookups run on the distinct (province, date) keys only and are joined back.
    """
    keys = lf.select(province, on).unique()
    for name, ref in names:
        keys = policy.attach(keys, name, on=on, province=province, with_reference=ref, with_reason=name in reasons)
    return lf.join(keys, on=[province, on], how="left")


def rate_exprs(wage: str = "mw_yuan") -> dict[str, pl.Expr]:
    """Expected monthly standard and raised amounts, the raised−standard difference, and why not.

    ``rate.kind = min_wage_share``: share × minimum wage; ``flat``: the flat yuan. Null where a
    parameter or the wage is unset; :func:`rate_skip_reason` then says which.
    """
    share = pl.col("rate_kind") == "min_wage_share"
    flat = pl.col("rate_kind") == "flat"
    standard = (
        pl.when(share).then(fen(pl.col("rate_standard_share") * pl.col(wage)))
        .when(flat).then(pl.col("rate_standard_flat"))
    )
    raised = (
        pl.when(share).then(fen(pl.col("rate_raised_share") * pl.col(wage)))
        .when(flat).then(pl.col("rate_standard_flat") + pl.col("rate_raised_extra_flat"))
    )
    difference = (
        pl.when(share).then(fen((pl.col("rate_raised_share") - pl.col("rate_standard_share")) * pl.col(wage)))
        .when(flat).then(pl.col("rate_raised_extra_flat"))
    )
    rate_ref = (
        pl.when(share).then(pl.col("rate_standard_share_ref")).when(flat).then(pl.col("rate_standard_flat_ref"))
    )
    return {
        "expected_standard": standard,
        "expected_raised": raised,
        "expected_difference": difference,
        "rate_reference": rate_ref,
    }


def _where_and_when() -> tuple[pl.Expr, pl.Expr, pl.Expr]:
    """(province, county, month) of a claim as a reason names them: 河南省, 洛阳市老城区（410302）, 2026-11."""
    province = pl.coalesce(pl.col("province_name"), pl.col("province_code"))
    county = pl.format("{}（{}）", pl.col("county_label").fill_null(""), pl.col("county_code"))
    return province, county, pl.col("claim_month").dt.strftime("%Y-%m")


def rate_skip_reason(*, raised: bool = False) -> pl.Expr:
    """Why a claim's standard (or, with ``raised``, its raised) rate cannot be priced: an unset
    rate parameter says why in Chinese, naming the province (``<param>_why``: before its notice,
    after it expired, or left open by it); a missing tier or wage says which.

    Evaluate it on the rows being skipped only: formatting a sentence for 8 M rows is not free.
    The reference gaps (no tier, no usable wage) are said in Chinese with the province, the
    county and the month, and what would fill them; :func:`rate_skip_gap` names the gap.
    """
    share = pl.col("rate_kind") == "min_wage_share"
    flat = pl.col("rate_kind") == "flat"
    province, county, month = _where_and_when()
    reason = (
        pl.when(pl.col("rate_kind").is_null())
        .then(pl.col("rate_kind_why"))
        .when(share & pl.col("rate_standard_share").is_null())
        .then(pl.col("rate_standard_share_why"))
        .when(share & pl.col("mw_tier").is_null())
        .then(pl.format("{}{} {} 无最低工资档次：县区档次表未覆盖该县区该月，补贴标准无法核算"
                        "（请在 county_tiers 表中补充，见 audit reference check）", province, county, month))
        .when(share & pl.col("mw_yuan").is_null())
        .then(pl.format("{} {}类地区 {} 无可用最低工资标准（{}），补贴标准无法核算"
                        "（请在 min_wage 表中补充）", province, pl.col("mw_tier"), month,
                        pl.coalesce(pl.col("mw_status"), pl.lit("无标准"))))
        .when(flat & pl.col("rate_standard_flat").is_null())
        .then(pl.col("rate_standard_flat_why"))
    )
    raised_reason = (
        pl.when(share & pl.col("rate_raised_share").is_null())
        .then(pl.col("rate_raised_share_why"))
        .when(flat & pl.col("rate_raised_extra_flat").is_null())
        .then(pl.col("rate_raised_extra_flat_why"))
    )
    return pl.coalesce(reason, raised_reason) if raised else reason


def rate_skip_gap(*, raised: bool = False) -> pl.Expr:
    """What :func:`rate_skip_reason` says is missing, in a few words (``skipped.gap``)."""
    share = pl.col("rate_kind") == "min_wage_share"
    flat = pl.col("rate_kind") == "flat"
    gap = (
        pl.when(pl.col("rate_kind").is_null()).then(pl.lit(gap_unset("rate.kind")))
        .when(share & pl.col("rate_standard_share").is_null()).then(pl.lit(gap_unset("rate.standard_share")))
        .when(share & pl.col("mw_tier").is_null()).then(pl.lit(GAP_TIER))
        .when(share & pl.col("mw_yuan").is_null()).then(pl.lit(GAP_WAGE))
        .when(flat & pl.col("rate_standard_flat").is_null()).then(pl.lit(gap_unset("rate.standard_flat")))
    )
    raised_gap = (
        pl.when(share & pl.col("rate_raised_share").is_null()).then(pl.lit(gap_unset("rate.raised_share")))
        .when(flat & pl.col("rate_raised_extra_flat").is_null()).then(pl.lit(gap_unset("rate.raised_extra_flat")))
    )
    return pl.coalesce(gap, raised_gap) if raised else gap


def wage_skip_reason() -> pl.Expr:
    """Why a rule that needs only the minimum wage (not a rate) cannot judge a claim."""
    province, county, month = _where_and_when()
    return (
        pl.when(pl.col("mw_tier").is_null())
        .then(pl.format("{}{} {} 无最低工资档次：县区档次表未覆盖该县区该月，无法与最低工资比较"
                        "（请在 county_tiers 表中补充，见 audit reference check）", province, county, month))
        .otherwise(pl.format("{} {}类地区 {} 无可用最低工资标准（{}），无法与最低工资比较"
                             "（请在 min_wage 表中补充）", province, pl.col("mw_tier"), month,
                             pl.coalesce(pl.col("mw_status"), pl.lit("无标准"))))
    )


def wage_skip_gap() -> pl.Expr:
    return pl.when(pl.col("mw_tier").is_null()).then(pl.lit(GAP_TIER)).otherwise(pl.lit(GAP_WAGE))


def agreements_frame(t: Tables) -> pl.LazyFrame:
    """Agreements with their effective end (actual, else planned) and first/last internship month."""
    return t.agreements.select(
        pl.col("agreement_id").alias("ag_id"),
        "person_id",
        "unit_id",
        pl.col("start_date").alias("ag_start"),
        pl.col("planned_end_date").alias("ag_planned_end"),
        pl.col("actual_end_date").alias("ag_actual_end"),
        pl.coalesce("actual_end_date", "planned_end_date").alias("ag_end"),
        pl.col("end_reason").alias("ag_end_reason"),
        pl.col("retained").alias("ag_retained"),
        pl.col("allowance_monthly").alias("ag_allowance"),
        pl.col("approved_date").alias("ag_approved"),
    )


def claims_base(t: Tables) -> pl.LazyFrame:
    """Claims with their unit's county, province, approval and benchmark status (type defaults to 月度),
    ``_r``, the claim's row number in the claims table, and ``_county_no``, a number of the county.

    A unit the register lists more than once (re-admitted, or amended: DATA_QUALITY's duplicate
    key) is its latest-approved row, approved from its earliest approval (``unit_approved``:
    :func:`checks._units.latest_units`)."""
    units = latest_units(t).select(
        "unit_id", "county_code",
        pl.col("first_approved").alias("unit_approved"),
        pl.col("is_benchmark").fill_null(False).alias("is_benchmark"),
    )
    counties = units.select("county_code").unique().drop_nulls().with_row_index("_county_no")
    units = units.join(counties, on="county_code", how="left")
    return (
        t.claims.select(
            "claim_id", "unit_id", "person_id",
            pl.col("agreement_id").alias("claim_agreement_id"),
            "claim_month",
            pl.col("claim_type").fill_null(MONTHLY),
            "rate_basis", "working_days",
            pl.col("amount").fill_null(0.0),
            pl.col("insurance_amount").fill_null(0.0),
            "submitted_date", "paid_date",
        )
        .with_row_index("_r")  # on the claims as scanned, before any join: see with_agreement
        .join(units, on="unit_id", how="left")
        .with_columns(province_of(pl.col("county_code")).alias("province_code"))
    )


def with_agreement(claims: pl.LazyFrame, t: Tables, policy: Policy) -> pl.LazyFrame:
    """Resolve the agreement each claim pays for: among the person's agreements at the unit, the
    one named by the claim that covers the claim month, else one covering the month, else the one
    named, else the earliest. ``covered`` says whether any agreement of the person at the unit has
    the claim month among its internship months (a 剩余期限 month counts up to the planned end).
    The person is the natural person (:mod:`checks._identity`): a claim under a corroborated
    variant of the agreement's ID finds that agreement.

    A 差额 is no month of internship: it resolves to the internship it pays for
    (:func:`_difference_internships`), its agreement columns those of the agreement that ends it,
    ``difference_internship_start`` its first day, and ``covered`` whether it started by the claim
    month. ``difference_internship_start`` is null on the other claims.
    """
    # On narrow columns: each claim first gets the row number ``_aid`` of its agreement — by one
    # join on the agreement id where the named agreement covers it (nearly all), by a search
    # among the person's agreements at the unit for the rest — and the agreement's columns are
    # gathered once, by that integer. Claims are told apart by ``_r`` (claims_base), numbered
    # before any join: a subplan used twice may run twice, and a join need not give its rows in
    # the same order both times, so a number taken after a join would not name the same claim.
    numbered = agreements_frame(t).with_row_index("_aid")
    ag_cols = [c for c in numbered.collect_schema().names() if c not in ("person_id", "unit_id", "_aid")]
    last = pl.when(pl.col("claim_type") == REMAINING).then(pl.col("ag_planned_end")).otherwise(pl.col("ag_end"))
    covers = ((pl.col("claim_month") >= pl.col("ag_start").dt.month_start())
              & (pl.col("claim_month") <= last.dt.month_start())).fill_null(False)
    spans = ["ag_start", "ag_end", "ag_planned_end"]
    first_of_id = (  # the first agreement row of each id (a duplicated id is DATA_QUALITY's)
        numbered.group_by("ag_id").agg(pl.all().sort_by("_aid").first())
        .select("ag_id", "_aid", pl.col("person_id").alias("_ag_person"), pl.col("unit_id").alias("_ag_unit"), *spans)
    )
    claim_cols = claims.collect_schema().names()
    named = claims.join(first_of_id, left_on="claim_agreement_id", right_on="ag_id", how="left").with_columns(
        (covers & (pl.col("_ag_person") == pl.col("person_id")) & (pl.col("_ag_unit") == pl.col("unit_id")))
        .fill_null(False).alias("covered")
    )
    is_named = (pl.col("ag_id") == pl.col("claim_agreement_id")).fill_null(False)
    priority = pl.when(is_named & covers).then(0).when(covers).then(1).when(is_named).then(2).otherwise(3)
    is_difference = pl.col("claim_type") == DIFFERENCE
    columns = ["_r", "person_id", "unit_id", "claim_month", "claim_type", "claim_agreement_id"]
    # the few claims their named agreement does not cover are searched for among the agreements
    # at the unit of every ID of the person (a 差额 resolves to the internship it pays for instead)
    searched = (
        with_aliases(named.filter(~pl.col("covered") & ~is_difference).select(columns), t, policy, alias="_pid")
        .join(numbered.select("_aid", "ag_id", pl.col("person_id").alias("_pid"), "unit_id", *spans),
              on=["_pid", "unit_id"])
        .with_columns((priority.cast(pl.Int64) * 1_000_000 + pl.col("ag_start").cast(pl.Int64)).alias("_key"))
        .sort("_r", "_key", "_aid", nulls_last=True)
        .group_by("_r", maintain_order=True)
        .agg(pl.col("_aid").first().alias("_aid_searched"), (pl.col("_key").first() < 2_000_000).alias("_covers"))
    )
    # the searched claims and the 差额 (disjoint sets of claims) joined back in one join
    # (one more pass over the claims picks the 差额: caching a pass shared with the search cost more)
    resolved = pl.concat([searched, _difference_internships(named.filter(is_difference).select(columns), numbered)],
                         how="diagonal")
    difference = pl.col("_aid_difference").is_not_null()
    return (
        named.join(resolved, on="_r", how="left")
        .select(
            *claim_cols,
            pl.when(difference).then(pl.col("_aid_difference"))
            .when(pl.col("covered")).then(pl.col("_aid")).otherwise(pl.col("_aid_searched")).alias("_aid"),
            pl.when(difference).then(pl.col("_started"))
            .otherwise(pl.col("covered") | pl.col("_covers").fill_null(False)).alias("covered"),
            "difference_internship_start",
        )
        .join(numbered.select("_aid", *ag_cols), on="_aid", how="left")
        .drop("_r", "_aid")
    )


def _difference_internships(diffs: pl.LazyFrame, numbered: pl.LazyFrame) -> pl.LazyFrame:
    """The internship each 差额 pays for, whichever month the export dates it in (RULES.md §8,
    "差额 claims": the last internship month, or the month it was claimed or paid — Jiangxi pays
    次年初), among the internships of the person at the unit (agreements chained without a gap,
    :func:`checks._internships.chain_agreements`, no cap — as the retention rules chain them), in
    this order: the one holding the agreement the claim names, if it started by the claim month;
    the latest one ended by the claim month (its last month at the latest); the latest one started
    by then (a 差额 before its end); the named one; the earliest. Per claim row ``_r``:
    ``_aid_difference``, the agreement that ends that internship (so ``ag_end`` is the
    internship's end, whatever agreement the claim names), ``difference_internship_start`` and
    ``_started`` (the internship started by the claim month: the claim pays for an internship
    month or one before it, never for none)."""
    # ``diffs``: the 差额 rows (_r, person_id, unit_id, claim_month, claim_agreement_id), a few
    # thousand of millions of claims: only their persons' agreements are chained
    agreements = numbered.join(diffs.select("person_id", "unit_id").unique(), on=["person_id", "unit_id"], how="semi")
    chained = chain_agreements(agreements.select(
        "_aid", "person_id", "unit_id", pl.col("ag_id").alias("agreement_id"), pl.col("ag_start").alias("start_date"),
        pl.col("ag_end").alias("end")))
    internships = chained.group_by("internship").agg(
        pl.col("person_id").first(), pl.col("unit_id").first(), pl.col("internship_start").first(),
        pl.col("internship_end").first(),
        pl.col("_aid").filter(pl.col("ends_internship")).first().alias("_aid_difference"),
        pl.col("agreement_id").alias("_agreement_ids"),
    )
    started = (pl.col("internship_start").dt.month_start() <= pl.col("claim_month")).fill_null(False)
    ended = (pl.col("internship_end").dt.month_start() <= pl.col("claim_month")).fill_null(False)
    named_in = pl.col("_agreement_ids").list.contains(pl.col("claim_agreement_id")).fill_null(False)
    start, end = pl.col("internship_start").cast(pl.Int64), pl.col("internship_end").cast(pl.Int64)
    # the priority in the tens of millions, a day number below it: the latest end or start
    # first where the order above says latest, the earliest start otherwise
    priority = (pl.when(named_in & started).then(0).when(ended).then(1).when(started).then(2).when(named_in).then(3)
                .otherwise(4))
    within = pl.when(priority == 1).then(5_000_000 - end).when(priority == 2).then(5_000_000 - start).otherwise(start)
    return (
        diffs.join(internships, on=["person_id", "unit_id"])
        .with_columns((priority * 10_000_000 + within.fill_null(0)).alias("_key"), started.alias("_started"))
        .sort("_r", "_key")
        .group_by("_r", maintain_order=True)
        .agg(pl.col("_aid_difference", "_started").first(),
             pl.col("internship_start").first().alias("difference_internship_start"))
    )


def claim_context(t: Tables, policy: Policy, *, only: pl.Expr | None = None) -> pl.LazyFrame:
    """Every claim with unit, agreement, minimum wage, parameters and expected amounts (see module doc).

    The join of two shared results, built once per run: the claims resolved to their agreements
    (:func:`claims_in_agreement`) and, per (county, claim month), the minimum wage, every
    parameter in force and the expected amounts (:func:`claim_rate_keys`), which depend on
    nothing else. Left lazy: a rule that reads two parameters gathers two columns for its
    claims, not forty for all of them. ``only``: a filter on the claims' own columns, applied
    before the join (a rule that wants a few claims does not join them all).
    """
    claims = claims_in_agreement(t, policy)
    if only is not None:
        claims = claims.filter(only)
    return claims.join(claim_rate_keys(t, policy), on="_ck", how="left").drop("_ck")


@shared(tables=("claims", "units", "agreements"), uses=(person_aliases,))
def claims_in_agreement(t: Tables, policy: Policy) -> pl.LazyFrame:
    """The claims resolved to their agreements (:func:`with_agreement`), each with ``_ck``, an
    integer naming its (county, claim month): the key of :func:`claim_rate_keys`."""
    # row by row from the county's number (carried by the join to the units) and the month's day
    # number; numbering the distinct (county, month) pairs instead would take a join of every
    # claim on a string and a date (bench/NOTES.md, "The key of the claims in context")
    day = pl.col("claim_month").cast(pl.Int32).cast(pl.Int64) + 2**31  # a date is an Int32 of days
    key = pl.col("_county_no").cast(pl.Int64) * 2**32 + day
    return with_agreement(claims_base(t), t, policy).with_columns(key.alias("_ck")).drop("_county_no")


def _priced(keys: pl.LazyFrame, t: Tables, policy: Policy) -> pl.LazyFrame:
    """``keys`` (distinct ``county_code``, ``claim_month``, ``province_code``) with the minimum wage
    and the parameters (:data:`CLAIM_PARAMS`) in force there and then."""
    return attach_params(attach_min_wage(keys, t.county_tiers, t.min_wage, county="county_code", on="claim_month"),
                         policy, on="claim_month")


def month_ceiling(lf: pl.LazyFrame, t: Tables, policy: Policy) -> pl.LazyFrame:
    """``lf`` (a few rows with ``county_code`` and ``claim_month``) with ``_ceiling``: the most one
    month's subsidy could be there and then — the raised rate where it is set, else the standard
    (:func:`rate_exprs`) — null where the month cannot be priced (a parameter or the minimum wage
    unset). Looked up on the distinct (county, month) pairs, as :func:`claim_rate_keys` prices them."""
    keys = (lf.select("county_code", "claim_month").unique().drop_nulls()
            .with_columns(province_of(pl.col("county_code")).alias("province_code")))
    ceiling = pl.max_horizontal("expected_standard", "expected_raised").alias("_ceiling")
    priced = _priced(keys, t, policy).with_columns(**rate_exprs()).select("county_code", "claim_month", ceiling)
    return lf.join(priced, on=["county_code", "claim_month"], how="left")


@shared(tables=("county_tiers", "min_wage", "regions"), params=tuple(name for name, _ in CLAIM_PARAMS),
        uses=(claims_in_agreement,))
def claim_rate_keys(t: Tables, policy: Policy) -> pl.LazyFrame:
    """Per (county, claim month) key ``_ck`` of the claims: the minimum wage, the parameters
    (:data:`CLAIM_PARAMS`), the expected amounts (:func:`rate_exprs`), and the names of the
    province and county (``province_name``, ``county_label``) the skip reasons say."""
    keys = (
        claims_in_agreement(t, policy).select("_ck", "county_code", "claim_month").unique("_ck").drop_nulls("_ck")
        .with_columns(province_of(pl.col("county_code")).alias("province_code"))
    )
    looked_up = _priced(keys, t, policy).join(place_names(t.regions), on="county_code", how="left")
    return looked_up.with_columns(**rate_exprs()).drop("county_code", "claim_month", "province_code")


def secondary_note(used: pl.Expr | None = None) -> pl.Expr:
    """Where the minimum wage was ``used`` (default: the rate is a share of it) and its tier row
    or standard has only a secondary source (VERIFIED_SECONDARY, PARTIAL: used because nothing
    better exists), a sentence naming both rows; else null."""
    tier_weak = pl.col("mw_tier_status").is_in(SECONDARY_STATUSES).fill_null(False)
    wage_weak = pl.col("mw_status").is_in(SECONDARY_STATUSES).fill_null(False)
    used = (pl.col("rate_kind") == "min_wage_share").fill_null(False) if used is None else used
    return (
        pl.when(used & pl.col("mw_yuan").is_not_null() & (tier_weak | wage_weak))
        .then(pl.format("所用参照数据仅有二手来源，核实前请对照原文件：县区档次 {} 档（{} 起，{}），"
                        "最低工资标准 {} 元（{} 起，{}）",
                        pl.col("mw_tier"), pl.col("mw_tier_from"), pl.col("mw_tier_status"),
                        pl.col("mw_yuan"), pl.col("mw_effective_from"), pl.col("mw_status")))
    )


def wage_evidence(used: pl.Expr | None = None) -> pl.Expr:
    """The minimum wage used, as evidence: the standard (tier, yuan, effective date, status,
    source), the county's tier row (its date, status, source), and ``secondary_source`` where
    either has only a secondary source (:func:`secondary_note`, with ``used``)."""
    return pl.struct(
        pl.col("mw_tier").alias("tier"),
        pl.col("mw_yuan").alias("monthly_yuan"),
        pl.col("mw_effective_from").alias("effective_from"),
        pl.col("mw_status").alias("status"),
        pl.col("mw_source").alias("source"),
        pl.col("mw_tier_from").alias("tier_effective_from"),
        pl.col("mw_tier_status").alias("tier_status"),
        pl.col("mw_tier_source").alias("tier_source"),
        secondary_note(used).alias("secondary_source"),
    ).alias("minimum_wage")


def rate_evidence() -> pl.Expr:
    """The rate parameters used, with their reference."""
    return pl.struct(
        pl.col("rate_kind").alias("kind"),
        pl.col("rate_standard_share").alias("standard_share"),
        pl.col("rate_raised_share").alias("raised_share"),
        pl.col("rate_standard_flat").alias("standard_flat"),
        pl.col("rate_raised_extra_flat").alias("raised_extra_flat"),
        pl.col("rate_reference").alias("reference"),
    ).alias("rate")


def claim_keys() -> list[pl.Expr]:
    """The finding keys of a claim-level finding: claim, person, unit, county, the claim month."""
    return [
        "claim_id", "person_id", "unit_id", "county_code",  # type: ignore[list-item]
        pl.col("claim_month").alias("period_start"),
        pl.col("claim_month").dt.month_end().alias("period_end"),
    ]


def whole_claim() -> pl.Expr:
    """A claim that should not exist at all puts its amount and its insurance amount at risk."""
    return (pl.col("amount") + pl.col("insurance_amount")).alias("amount_at_risk")


def skipped(lf: pl.LazyFrame, reason: pl.Expr | str, gap: pl.Expr | str | None = None) -> pl.LazyFrame:
    """Rows a rule could not judge, in the skipped schema; ``gap`` names what is missing in a few
    words (``audit.findings.GAP_*``), so the run can count unjudged keys by it."""
    why = pl.lit(reason) if isinstance(reason, str) else reason
    what = pl.lit(gap, pl.String) if gap is None or isinstance(gap, str) else gap
    return lf.select("claim_id", "person_id", "unit_id", why.alias("reason"), what.alias("gap"))
