"""The claims a finding puts at risk: which claims, and how much of each.

A finding of a trainee or a unit lists its claims at risk in ``claims_at_risk``, a list of
:data:`audit.findings.CLAIM_LINK_DTYPE` (claim_id, amount); :func:`audit.findings.finalise`
turns it into the run's finding–claim links, so that each claim counts once in the totals
(RULES.md §8, "Money at risk"). A claim that should not have been paid puts its whole amount
plus its insurance_amount at risk (:func:`claim_money`).
"""

from __future__ import annotations

import polars as pl

from audit.findings import CLAIM_LINK_DTYPE
from audit.policy import Policy
from audit.tables import Tables
from checks._identity import rows_under_ids


def claim_money() -> pl.Expr:
    """What a claim paid: the subsidy plus any insurance reimbursed with it, in yuan."""
    return (pl.col("amount").fill_null(0.0) + pl.col("insurance_amount").fill_null(0.0)).round(2)


def claim_link(amount: pl.Expr | None = None) -> pl.Expr:
    """One entry of a ``claims_at_risk`` list: the claim and the yuan at risk on it (by default
    all it paid)."""
    return pl.struct("claim_id", (claim_money() if amount is None else amount).alias("amount"))


def claims_at_risk(claims: pl.LazyFrame, keys: list[str], *, evidence: bool = True) -> pl.LazyFrame:
    """Per finding (``keys``), its matched claim rows as ``claims_at_risk`` (by claim id, each
    claim once, all it paid at risk) and ``amount_at_risk`` (their sum); with ``evidence``, also
    ``claims``: the rows themselves (claim_id, claim_month, claim_type, amount, _file, _line), by
    month."""
    lists = [
        claim_link().sort_by("claim_id").alias("claims_at_risk"),
        claim_money().sum().round(2).alias("amount_at_risk"),
    ]
    if evidence:
        lists.append(
            pl.struct("claim_id", "claim_month", "claim_type", "amount", "_file", "_line")
            .sort_by("claim_month", "claim_id")
            .alias("claims")
        )
    return claims.unique([*keys, "claim_id"]).group_by(keys).agg(lists)


def with_claims(found: pl.LazyFrame, matched: pl.LazyFrame, keys: list[str]) -> pl.LazyFrame:
    """Attach to findings the claims at risk among ``matched`` (:func:`claims_at_risk`); a
    finding with none gets an empty list and 0 yuan."""
    return found.join(claims_at_risk(matched, keys), on=keys, how="left").with_columns(
        pl.col("claims_at_risk").fill_null(pl.lit([], CLAIM_LINK_DTYPE)),
        pl.col("amount_at_risk").fill_null(0.0),
    )


def claim_rows(t: Tables, *extra: str) -> pl.LazyFrame:
    """The claim columns a finding's evidence and money read (and the ``extra`` ones a rule needs)."""
    return t.claims.select(
        "claim_id", "unit_id", "person_id", "claim_month", "claim_type", "amount", "insurance_amount", "_file", "_line",
        *extra,
    )


def claims_of_persons(t: Tables, policy: Policy, found: pl.LazyFrame) -> pl.LazyFrame:
    """The claim rows (:func:`claim_rows`) of the persons in ``found``, under any ID of the person
    (:func:`checks._identity.rows_under_ids`): ``person_id`` is the ID ``found`` names them by,
    ``claim_person_id`` the ID on the claim."""
    return rows_under_ids(claim_rows(t), found, t, policy).rename(
        {"person_id": "claim_person_id", "_of": "person_id"})


def claims_of_internship(t: Tables, policy: Policy, found: pl.LazyFrame) -> pl.LazyFrame:
    """All claims of each internship in ``found`` (person_id, unit_id, internship_start,
    claims_end), under any ID of the person: any type, for months from the internship's start
    month to its claims_end."""
    return (
        claims_of_persons(t, policy, found)
        .join(found.select("person_id", "unit_id", "internship_start", "claims_end"), on=["person_id", "unit_id"])
        .filter(
            (pl.col("claim_month") >= pl.col("internship_start").dt.month_start())
            & (pl.col("claim_month") <= pl.col("claims_end"))
        )
    )
