"""DUPLICATE_TRAINEE — one natural person under several ID numbers, or one person-month paid twice.

docs/semantics.md, "People": a legacy 15-digit ID is the same person as its 18-digit form; an
ID whose check digit fails, or that is one adjacent swap away from a valid ID, is the same person
as that valid ID only with corroboration (same name AND same bank card or phone) —
:mod:`checks._identity`. Namesakes with one birth date, and twins (same surname, birth date and
family phone, two IDs that both validate), are two people and never fire here.

The subsidy is claimed monthly, one row per unit, trainee, month and kind (contract.md); a 月度
and a 剩余期限 claim for the same month exclude each other, a 差额 is a different payment.
"""

from __future__ import annotations

import polars as pl

from audit.policy import Policy
from audit.rules import Check, CheckResult, Severity, rule
from audit.tables import Tables
from checks._citations import DATA_COMPARISON, citing
from checks._expected import CLAIM_PARAMS, month_ceiling, tolerance
from checks._identity import identity_links, raw_id, rows_of_persons, with_person_key
from checks._joins import repeated_rows
from checks._units import unit_counties


@rule(
    id="DUPLICATE_TRAINEE.id_variant",
    facts=("ids.raw_id",),
    title="同一自然人以多个身份证号登记为见习人员",
    severity=Severity.MEDIUM,
    citations=DATA_COMPARISON,
    detection_params=("duplicate.max_transpositions",),
    needs=("trainees",),
)
@citing(DATA_COMPARISON)
def id_variant(t: Tables, policy: Policy) -> pl.LazyFrame:
    """One natural person registered as a trainee under more than one ID number: the 15- and
    18-digit forms of one ID as two trainee rows, or an ID failing its check digit (or one
    adjacent swap away from a valid ID) with the same name and the same bank card or phone as a
    valid ID. One finding per natural person (``person_id`` = the valid ID), over the whole
    history of the trainees register. No money is put at risk here: the double internships and
    double claims this enables are priced by ONE_INTERNSHIP and same_month_claimed_twice."""
    trainees = t.trainees.select(
        "person_id", raw_id(), pl.col("person_id_status").fill_null("ok"), "name", "_file", "_line"
    )
    # 15/18-digit forms: two register rows that normalise to one ID, one of them legacy. Only an
    # ID with a legacy15 row can be one: those few are grouped, not the million register rows.
    legacy_ids = trainees.filter(pl.col("person_id_status") == "legacy15").select("person_id").unique()
    legacy = (
        trainees.join(legacy_ids, on="person_id", how="semi")
        .group_by("person_id")
        .agg(
            pl.col("person_id_raw").n_unique().alias("_forms"),
            (pl.col("person_id_status") == "legacy15").any().alias("_legacy"),
            pl.struct(
                pl.col("person_id_raw").alias("raw_id"),
                pl.col("person_id_status").alias("status"),
                "name", "_file", "_line",
            ).sort_by("_file", "_line").alias("rows"),
        )
        .filter((pl.col("_forms") > 1) & pl.col("_legacy"))
        .explode("rows")
        .unnest("rows")
        .select(
            pl.col("person_id").alias("person_key"),
            "raw_id",
            "status",
            "name",
            pl.when(pl.col("status") == "legacy15").then(pl.lit("legacy15")).otherwise(pl.lit("self")).alias("link"),
            pl.lit(None, pl.String).alias("link_via"),
            "_file",
            "_line",
        )
    )
    # failed check digit / transposition, linked with corroboration
    links = identity_links(t, policy)
    rows_of = trainees.select(
        "person_id", pl.col("person_id_raw").alias("raw_id"), pl.col("person_id_status").alias("status"),
        pl.col("name").alias("_row_name"), "_file", "_line",
    )
    linked = pl.concat(
        [
            links.select("person_key", "person_id", "link", "link_via"),
            # the valid ID the variants are linked to
            links.select("person_key", pl.col("person_key").alias("person_id"),
                         pl.lit("self").alias("link"), pl.lit(None, pl.String).alias("link_via")).unique(),
        ]
    ).join(rows_of, on="person_id").select(
        "person_key", "raw_id", "status", pl.col("_row_name").alias("name"), "link", "link_via", "_file", "_line"
    )
    variants = pl.concat([legacy, linked]).unique()
    return (
        variants.group_by("person_key")
        .agg(
            pl.struct("raw_id", "status", "name", "link", "link_via", "_file", "_line")
            .sort_by("_file", "_line", "raw_id").alias("ids"),
            pl.col("raw_id").n_unique().alias("id_count"),
            pl.col("name").drop_nulls().unique().sort().alias("names"),
            pl.col("link_via").drop_nulls().unique().sort().alias("corroborated_by"),
            pl.col("link").filter(pl.col("link") != "self").unique().sort().alias("links"),
        )
        .filter(pl.col("id_count") > 1)
        .select(
            pl.col("person_key").alias("person_id"),
            pl.struct("ids", "names", "links", "corroborated_by").alias("evidence"),
        )
    )


def _claim_kind() -> pl.Expr:
    # 月度 and 剩余期限 pay the same month's subsidy and exclude each other; 差额 is another payment.
    # A row without a type is read as the ordinary monthly claim.
    return pl.when(pl.col("claim_type") == "差额").then(pl.lit("差额")).otherwise(pl.lit("月度/剩余期限"))


def _claim_struct() -> pl.Expr:
    return pl.struct(
        "claim_id", "unit_id", "person_id", raw_id().alias("raw_id"), "claim_type", "claim_month",
        "amount", "insurance_amount", "submitted_date", "paid_date", "_file", "_line",
    )


def _repeated(t: Tables, identity: pl.LazyFrame, key: list[str]) -> pl.LazyFrame:
    """The (person_key, claim_month, _kind) keys claimed on more than one row."""
    keyed = with_person_key(t.claims.select("person_id", "claim_month", "claim_type"), identity).with_columns(
        _claim_kind().alias("_kind"))
    return repeated_rows(keyed, key).select(key).unique()


def _standing(claims: pl.LazyFrame, key: list[str]) -> pl.LazyFrame:
    """The claims (sorted by submission) that stand: neither a reversal — a row whose amount and
    insurance amount come to less than zero (冲销) — nor a claim of the same key a reversal of its
    amount undoes, the earliest of that amount first (a ledger reverses what it paid before)."""
    total = (pl.col("amount").fill_null(0) + pl.col("insurance_amount").fill_null(0)).round(2)
    same = [*key, "_abs"]
    return (
        claims.with_columns(total.abs().alias("_abs"), (total < 0).alias("_reversal"))
        .with_columns(pl.int_range(pl.len()).over([*same, "_reversal"]).alias("_rank"),
                      pl.col("_reversal").sum().over(same).alias("_reversals"))
        .filter(~pl.col("_reversal") & (pl.col("_rank") >= pl.col("_reversals")))
        .drop("_abs", "_reversal", "_rank", "_reversals")
    )


@rule(
    id="DUPLICATE_TRAINEE.same_month_claimed_twice",
    title="同一人员同一月份重复申领见习补贴",
    severity=Severity.HIGH,
    citations=DATA_COMPARISON,
    params=tuple(name for name, _ in CLAIM_PARAMS if name.startswith("rate.")),
    detection_params=("duplicate.max_transpositions", "money.tolerance_yuan"),
    needs=("trainees", "agreements", "claims", "claims.claim_type"),
)
@citing(DATA_COMPARISON)
def same_month_claimed_twice(t: Tables, policy: Policy) -> CheckResult:
    """The same person-month claimed more than once, by the same or another unit, under the same
    or a linked ID: two 月度 claims, or a 月度 and a 剩余期限 claim for one month (they exclude each
    other); two 差额 claims for one month likewise. A 月度 and a 差额 for the same month are two
    different payments and do not fire. A row of a negative amount (冲销, DATA_QUALITY.negative_amount)
    claims nothing: it reverses the earliest claim of the person-month of the same amount, which
    claims nothing either (a claim reversed and claimed again is claimed once). Of the claims that
    stand, the earliest-submitted one is the month's; each later one is a finding putting its
    whole amount (+ insurance) at risk — except where the month's 月度 claims are one unit's, of
    different amounts, and together come to no more than one month's subsidy could be there and
    then (the raised rate, :func:`month_ceiling`, within money.tolerance_yuan): a month paid in
    parts (a 补发 beside a first payment) is claimed once. Where such a month cannot be priced, parts cannot be
    told from a second claim: its later claims are skipped with the reason. Rows of one amount are
    a month claimed twice wherever they are. Period: the claim month."""
    identity = identity_links(t, policy)
    key = ["person_key", "claim_month", "_kind"]
    # nearly every person-month is claimed once: find the few repeated keys on three narrow
    # columns first, then fetch only those persons' claims (cached: read twice, computed once)
    repeated = _repeated(t, identity, key).cache()
    claims = (
        rows_of_persons(t.claims, repeated, identity)
        .with_columns(_claim_kind().alias("_kind"))
        .join(repeated, on=key, how="semi")
        .sort("claim_id", "_file", "_line")
        .unique("claim_id", keep="first")  # one claim_id twice is a duplicated key (DATA_QUALITY)
        .filter(pl.len().over(key) > 1)
        .sort("submitted_date", "claim_id", nulls_last=True)
        .pipe(_standing, key)
        .filter(pl.len().over(key) > 1)
        .with_columns(pl.int_range(pl.len()).over(key).alias("_order"))
        .join(unit_counties(t), on="unit_id", how="left")
        .pipe(month_ceiling, t, policy)
        .cache()  # the first claims and the later ones: one plan
    )
    # a month paid in parts (a 补发 beside a first payment) is claimed once: 月度 rows of one unit, of
    # different amounts, that together come to no more than one month's most; unpriced, that cannot
    # be told (two units paying one month are never parts)
    monthly = (pl.col("_kind") == "月度/剩余期限") & (pl.col("claim_type") == "月度").all().over(key)
    amounts_differ = (pl.col("amount").n_unique().over(key) > 1) & (pl.col("unit_id").n_unique().over(key) == 1)
    within = pl.col("amount").fill_null(0).sum().over(key) <= pl.col("_ceiling") + tolerance(policy)
    claims = claims.with_columns(
        (monthly & amounts_differ & pl.col("_ceiling").is_not_null() & within).alias("_parts"),
        (monthly & amounts_differ & pl.col("_ceiling").is_null()).alias("_unsure"),
    )
    original = claims.filter(pl.col("_order") == 0).select(*key, _claim_struct().alias("first_claim"))
    findings = (
        claims.filter((pl.col("_order") > 0) & ~pl.col("_parts") & ~pl.col("_unsure"))
        .join(original, on=key)
        .select(
            pl.col("person_key").alias("person_id"),
            "unit_id",
            "claim_id",
            "county_code",
            pl.col("claim_month").alias("period_start"),
            pl.col("claim_month").dt.month_end().alias("period_end"),
            (pl.col("amount").fill_null(0) + pl.col("insurance_amount").fill_null(0)).alias("amount_at_risk"),
            pl.struct(
                pl.col("claim_month"),
                pl.col("_kind").alias("exclusive_kinds"),
                "first_claim",
                _claim_struct().alias("duplicate_claim"),
                # the two claims name different IDs of one natural person (see id_variant)
                (pl.col("person_id") != pl.col("first_claim").struct.field("person_id")).alias("via_id_variant"),
            ).alias("evidence"),
        )
    )
    unsure = claims.filter((pl.col("_order") > 0) & pl.col("_unsure")).select(
        "claim_id", pl.col("person_key").alias("person_id"), "unit_id", pl.lit(PARTS_UNPRICED).alias("reason"))
    return CheckResult(findings, unsure)


#: why a month claimed on rows of different amounts is not judged where its subsidy cannot be priced
PARTS_UNPRICED = ("该人员当月有多笔金额不同的月度申领，而当月补贴标准无法核算（政策参数或最低工资未设定）：无法区分分笔发放（补发）与重复申领，"
                  "未判断 / the month is claimed on several 月度 rows of different amounts and its subsidy cannot be "
                  "priced: a month paid in parts cannot be told from a month claimed twice; not judged")


CHECKS: tuple[Check, ...] = (id_variant, same_month_claimed_twice)
