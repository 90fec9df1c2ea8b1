"""What the audit is worth and what it misses: hit rates, money recovered, and the random sample.

Per rule and per county (:func:`performance`):

- ``findings`` and ``money_at_risk``: the findings of the latest run that count (not 不属实), the
  money each claim once at the largest amount any of the group's findings puts on it, capped at
  what was paid (RULES.md §8), plus the findings that put money at risk without naming claims;
- ``decided``: findings ever found whose latest reply is a decision (属实, 部分属实 or 不属实);
  ``confirmed`` (属实 or 部分属实), ``false_alarms`` (不属实), ``hit_rate`` = confirmed / decided;
  ``mostly_false`` when false alarms are more than ``office.false_alarm_share`` of the decided;
- ``recovered``: the yuan recovered, each recovery counted once (:func:`recovered_once`).

The sample (:func:`draw_sample`): each month, per county, ``office.sample_per_county`` claims
submitted in the audit month that no rule put at risk, drawn with a seed
(``office.sample_seed`` and the month), for on-site checking; the replies on them
(:func:`sample_results`) give the share of the claims no rule flagged that were fraud — the
measure of what the audit misses.
"""

from __future__ import annotations

import datetime as dt

import polars as pl

from audit.tables import month_end
from audit.workspace.status import CONFIRMING, DECIDING

NO_COUNTY = ""  # findings without a county (an identity across counties) are grouped here

PERFORMANCE_SCHEMA: dict[str, pl.DataType] = {
    "findings": pl.Int64(), "money_at_risk": pl.Float64(), "decided": pl.Int64(), "confirmed": pl.Int64(),
    "false_alarms": pl.Int64(), "hit_rate": pl.Float64(), "recovered": pl.Float64(), "mostly_false": pl.Boolean(),
}


def money_once(findings: pl.DataFrame, links: pl.DataFrame, key: str) -> pl.DataFrame:
    """``key, money_at_risk``: per group, each claim once at its largest amount (``links`` are
    capped at what was paid), plus the findings that name no claim."""
    keyed = findings.select("finding_id", key)
    linked = (links.join(keyed, on="finding_id").group_by(key, "claim_id").agg(pl.col("amount").max())
              .group_by(key).agg(pl.col("amount").sum().alias("_linked")))
    loose = (findings.join(links.select("finding_id").unique(), on="finding_id", how="anti")
             .group_by(key).agg(pl.col("amount_at_risk").fill_null(0.0).sum().alias("_loose")))
    return (keyed.select(key).unique().join(linked, on=key, how="left").join(loose, on=key, how="left")
            .select(key, (pl.col("_linked").fill_null(0.0) + pl.col("_loose").fill_null(0.0)).round(2).alias("money_at_risk")))


def recovered_once(recovered: pl.DataFrame, links: pl.DataFrame, key: str) -> pl.DataFrame:
    """``key, recovered``: the yuan recovered per group, each recovery counted once.

    ``recovered``: finding_id, ``key``, recovered (its replies' amounts); ``links``: each
    finding's claims and the yuan at risk on each. Findings that share a claim report the same
    money: a finding's recovery is spread over its claims in proportion to what is at risk on
    each, and per claim the largest share counts; a finding without claims counts its own."""
    rec = recovered.filter(pl.col("recovered") > 0)
    on_claims = rec.join(links, on="finding_id")
    share = pl.when(pl.col("amount").sum().over("finding_id") > 0).then(
        pl.col("amount") / pl.col("amount").sum().over("finding_id")).otherwise(1.0 / pl.len().over("finding_id"))
    linked = (on_claims.with_columns((pl.col("recovered") * share).alias("_part"))
              .group_by(key, "claim_id").agg(pl.col("_part").max())
              .group_by(key).agg(pl.col("_part").sum().alias("_linked")))
    loose = rec.join(links.select("finding_id").unique(), on="finding_id", how="anti").group_by(key).agg(
        pl.col("recovered").sum().alias("_loose"))
    return (rec.select(key).unique().join(linked, on=key, how="left").join(loose, on=key, how="left")
            .select(key, (pl.col("_linked").fill_null(0.0) + pl.col("_loose").fill_null(0.0)).round(2).alias("recovered")))


def performance(current: pl.DataFrame, current_links: pl.DataFrame, seen: pl.DataFrame, seen_links: pl.DataFrame,
                decisions: pl.DataFrame, key: str, false_share: float) -> pl.DataFrame:
    """Per ``key`` (rule_id or county_code) the columns of :data:`PERFORMANCE_SCHEMA`.

    ``current``: the latest run's counted findings (finding_id, rule_id, county_code,
    amount_at_risk) and ``current_links`` their claims; ``seen``: every finding the workspace
    holds, at its latest run (finding_id, rule_id, county_code), ``seen_links`` its claims there;
    ``decisions``: the latest reply per finding (:func:`audit.workspace.status.latest_decisions`).
    """
    current = current.with_columns(pl.col("county_code").fill_null(NO_COUNTY))
    seen = seen.with_columns(pl.col("county_code").fill_null(NO_COUNTY))
    now = current.group_by(key).agg(pl.len().cast(pl.Int64).alias("findings")).join(
        money_once(current, current_links, key), on=key, how="left")
    decided = seen.join(decisions, on="finding_id").filter(pl.col("outcome").is_in(DECIDING))
    tally = decided.group_by(key).agg(
        pl.len().cast(pl.Int64).alias("decided"),
        pl.col("outcome").is_in(CONFIRMING).sum().cast(pl.Int64).alias("confirmed"),
        (pl.col("outcome") == "不属实").sum().cast(pl.Int64).alias("false_alarms"),
    )
    money_back = recovered_once(seen.join(decisions.select("finding_id", "recovered"), on="finding_id"), seen_links, key)
    keys = pl.concat([now.select(key), tally.select(key), money_back.select(key)]).unique()
    out = keys.join(now, on=key, how="left").join(tally, on=key, how="left").join(money_back, on=key, how="left")
    out = out.with_columns(
        pl.col("findings", "decided", "confirmed", "false_alarms").fill_null(0),
        pl.col("money_at_risk", "recovered").fill_null(0.0),
    ).with_columns(
        pl.when(pl.col("decided") > 0).then((pl.col("confirmed") / pl.col("decided")).round(3)).alias("hit_rate"),
        ((pl.col("decided") > 0) & (pl.col("false_alarms") > pl.col("decided") * false_share)).alias("mostly_false"),
    )
    return out.select(key, *[pl.col(c).cast(t) for c, t in PERFORMANCE_SCHEMA.items()]).sort(key)


SAMPLE_SCHEMA: dict[str, pl.DataType] = {
    "county_code": pl.String(), "claim_id": pl.String(), "unit_id": pl.String(), "person_id": pl.String(),
    "claim_month": pl.Date(), "claim_type": pl.String(), "amount": pl.Float64(), "submitted_date": pl.Date(),
}


def draw_sample(claims: pl.LazyFrame, units: pl.LazyFrame, flagged: pl.DataFrame, month: dt.date,
                per_county: int, seed: int) -> pl.DataFrame:
    """Per county (the unit's, RULES.md §8), up to ``per_county`` claims submitted in ``month``
    that no finding puts money at risk on (``flagged``: claim_id), drawn by a seeded hash of the
    claim id — the same month and seed draw the same claims. Columns: :data:`SAMPLE_SCHEMA`."""
    start, end = month, month_end(month)
    county = units.group_by("unit_id").agg(pl.col("county_code").sort_by("approved_date").last())
    month_seed = int(seed) * 1000 + month.year * 12 + month.month
    drawn = (
        claims.filter(pl.col("submitted_date").is_between(start, end))
        .select("claim_id", "unit_id", "person_id", "claim_month", "claim_type", "amount", "submitted_date")
        .unique("claim_id", keep="first")
        .join(flagged.lazy().select("claim_id"), on="claim_id", how="anti")
        .join(county, on="unit_id", how="left")
        .with_columns(pl.col("claim_id").hash(seed=month_seed).alias("_draw"))
        .filter(pl.col("_draw").rank("ordinal").over("county_code") <= per_county)
        .sort("county_code", "_draw")
        .collect()
    )
    return drawn.select([pl.col(c).cast(t) for c, t in SAMPLE_SCHEMA.items()])


def sample_results(sample: pl.DataFrame, decisions: pl.DataFrame) -> pl.DataFrame:
    """Per county and in total: claims sampled (every month), checked (a decision recorded),
    frauds found (属实 or 部分属实) and their share of the checked — what the rules missed."""
    rows = sample.join(decisions.select("claim_id", "outcome", "recovered"), on="claim_id", how="left")
    per = rows.group_by("county_code").agg(
        pl.len().cast(pl.Int64).alias("sampled"),
        pl.col("outcome").is_in(DECIDING).sum().cast(pl.Int64).alias("checked"),
        pl.col("outcome").is_in(CONFIRMING).sum().cast(pl.Int64).alias("frauds"),
        pl.col("recovered").fill_null(0.0).sum().round(2).alias("recovered"),
    )
    total = per.select(pl.lit("合计").alias("county_code"), pl.col("sampled", "checked", "frauds", "recovered").sum())
    both = pl.concat([per.sort("county_code"), total]) if per.height else per
    return both.with_columns(
        pl.when(pl.col("checked") > 0).then((pl.col("frauds") / pl.col("checked")).round(3)).alias("miss_share"))
