"""The headline figures of a run, defined once: the terminal summary, run.json and the report
all read them from here.

- **涉及金额** (money at risk): per claim the largest amount any finding puts at risk on it,
  never more than was paid, each claim once (RULES.md §8, "Money at risk", :func:`money_at_risk`);
  findings that put money at risk without naming claims add their own amount.
- **应追回** (to recover) and **应停止拨付** (to stop paying): the money at risk on claims that
  were paid (the claim has a 拨付日期) and on claims not yet paid (RULES.md §8, "Unpaid claims").
  Where the claims export has no 拨付日期 column at all, every claim is taken as paid and
  ``paid_date_exported`` is False (the report says so). A claim the claims table does not hold,
  and money a finding puts at risk without naming claims, count as to recover.
- **涉及申领** (claims concerned): the claims with money at risk (more than 0 yuan).
- **涉及人员 / 涉及单位** (persons, units concerned): the persons (units) a finding names, and
  those of the claims with money at risk.
- **问题** (findings) and **高风险问题** (high-severity findings).

Per family (:func:`by_family`) each figure is the same, over that family's findings alone: a
claim touched by two families counts in both, once in the total.
"""

from __future__ import annotations

from typing import Any

import polars as pl

from audit.findings import money_at_risk

#: the columns of the claims table the figures read
CLAIM_COLUMNS: dict[str, pl.DataType] = {
    "claim_id": pl.String(), "unit_id": pl.String(), "person_id": pl.String(), "amount": pl.Float64(),
    "insurance_amount": pl.Float64(), "paid_date": pl.Date(),
}
TOTAL = "TOTAL"  # the family of the total row


def yuan_text(value: float | None) -> str:
    """An amount as every output writes it: ``9,106.00 元`` — yuan with two decimals, never 万元
    (the 汇总表 alone is in 万元, the unit its form prints)."""
    return f"{float(value or 0):,.2f} 元"


def yuan_expr(amount: pl.Expr) -> pl.Expr:
    """:func:`yuan_text` as a polars expression (``9,106.00 元``; null as ``0.00 元``)."""
    cents = (amount.fill_null(0.0).abs() * 100).round(0).cast(pl.Int64)
    whole, part = cents // 100, (cents % 100).cast(pl.String).str.zfill(2)
    pieces = []
    for i in range(5, -1, -1):  # groups of three digits, the most significant first (to 10^18 yuan)
        group = ((whole // 10 ** (3 * i)) % 1000).cast(pl.String)
        leading = whole < 10 ** (3 * i + 3)
        shown = pl.when(leading).then(group).otherwise(group.str.zfill(3))
        if i:
            shown = pl.concat_str([shown, pl.lit(",")])
        pieces.append(pl.when(whole >= 10 ** (3 * i)).then(shown).otherwise(pl.lit("")) if i else
                      pl.when(leading).then(group).otherwise(group.str.zfill(3)))
    sign = pl.when(amount.fill_null(0.0) < 0).then(pl.lit("-")).otherwise(pl.lit(""))
    return pl.concat_str([sign, *pieces, pl.lit("."), part, pl.lit(" 元")])


def claims_for_figures(claims: pl.DataFrame | pl.LazyFrame | None, links: pl.DataFrame) -> pl.DataFrame:
    """The linked claims' :data:`CLAIM_COLUMNS` (one row per claim), from a claims table or scan."""
    if claims is None:
        return pl.DataFrame(schema=CLAIM_COLUMNS)
    frame = claims.lazy()
    have = frame.collect_schema().names()
    return (
        frame.select([pl.col(c).cast(t) if c in have else pl.lit(None, t).alias(c) for c, t in CLAIM_COLUMNS.items()])
        .join(links.lazy().select("claim_id").unique(), on="claim_id", how="semi")
        .unique("claim_id", keep="first")
        .collect()
    )


def claim_money(findings: pl.DataFrame, links: pl.DataFrame, claims: pl.DataFrame,
                paid_date_exported: bool = True) -> pl.DataFrame:
    """Per claim a finding touches: ``claim_id, amount_at_risk, finding_ids, unit_id, person_id,
    paid`` (``paid``: the claim has a 拨付日期, or the export cannot say — see the module docstring)."""
    per_claim = money_at_risk(findings, links, claims if claims.height else None)
    known = claims.select("claim_id", "unit_id", "person_id", "paid_date", pl.lit(True).alias("_known"))
    paid = (pl.col("paid_date").is_not_null() | pl.col("_known").is_null()) if paid_date_exported else pl.lit(True)
    return per_claim.join(known, on="claim_id", how="left").with_columns(paid.alias("paid")).drop("_known", "paid_date")


def _unlinked(findings: pl.DataFrame, links: pl.DataFrame) -> pl.DataFrame:
    """Findings that put money at risk without naming claims."""
    return findings.join(links.select("finding_id").unique(), on="finding_id", how="anti").filter(
        pl.col("amount_at_risk") > 0)


def figures(findings: pl.DataFrame, links: pl.DataFrame, claims: pl.DataFrame,
            paid_date_exported: bool = True, per_claim: pl.DataFrame | None = None) -> dict[str, Any]:
    """The headline figures of ``findings`` (see the module docstring): findings, high, persons,
    units, claims, amount_at_risk, recover, stop_payment."""
    if per_claim is None:
        per_claim = claim_money(findings, links, claims, paid_date_exported)
    at_risk = per_claim.filter(pl.col("amount_at_risk") > 0)
    loose = _unlinked(findings, links)
    recover = float(at_risk.filter(pl.col("paid"))["amount_at_risk"].sum() or 0) + float(loose["amount_at_risk"].sum() or 0)
    stop = float(at_risk.filter(~pl.col("paid"))["amount_at_risk"].sum() or 0)
    persons = pl.concat([findings["person_id"], at_risk["person_id"]]).drop_nulls().n_unique()
    units = pl.concat([findings["unit_id"], at_risk["unit_id"]]).drop_nulls().n_unique()
    return {
        "findings": findings.height,
        "high": findings.filter(pl.col("severity") == "high").height,
        "persons": persons,
        "units": units,
        "claims": at_risk.height,
        "amount_at_risk": round(recover + stop, 2),
        "recover": round(recover, 2),
        "stop_payment": round(stop, 2),
    }


def by_family(findings: pl.DataFrame, links: pl.DataFrame, claims: pl.DataFrame,
              paid_date_exported: bool = True, with_total: bool = True) -> list[dict[str, Any]]:
    """:func:`figures` per family (in the order found), then the total (family ``TOTAL``) unless
    ``with_total`` is false (the report's headline has it already)."""
    rows = []
    for (family,), group in findings.group_by("family", maintain_order=True):
        family_links = links.join(group.select("finding_id"), on="finding_id", how="semi")
        rows.append({"family": family, **figures(group, family_links, claims, paid_date_exported)})
    if with_total:
        rows.append({"family": TOTAL, **figures(findings, links, claims, paid_date_exported)})
    return rows


FIGURES_SCHEMA: dict[str, pl.DataType] = {
    "family": pl.String(), "findings": pl.Int64(), "high": pl.Int64(), "persons": pl.Int64(), "units": pl.Int64(),
    "claims": pl.Int64(), "amount_at_risk": pl.Float64(), "recover": pl.Float64(), "stop_payment": pl.Float64(),
}
