"""Where each finding of a run stands in the monthly cycle: its ``status`` (audit/findings.py).

For a finding of month M, from the workspace's earlier runs (months before M) and the replies
recorded so far (the latest reply decides; amounts recovered add up over the replies):

- a latest reply 不属实 on the same facts (its rule's facts key, :func:`audit.findings.facts_key`,
  as when decided) → **不属实**: kept out of the counts, lists and exit proposals;
- a latest reply 不属实 on facts that have since changed → the finding returns: **新发现** the
  month it comes back (with the earlier decision shown), **持续** after;
- a latest reply 属实 or 部分属实 → **已追回** once the recoveries recorded reach the money at
  risk (a 部分属实 finding once anything is recovered: the county confirmed and recovered its
  part), else **属实待追回**;
- no reply, or 待核实 → **持续** when an earlier run found it, else **新发现**.

The reply of a finding is due ``office.reply_days`` days after the end of the month it went out
(``sent_month``: the month it was found in its current episode — found again after a 不属实
decision on changed facts, it goes out again).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

import polars as pl

from audit.findings import CONFIRMED, DISMISSED, NEW, ONGOING_STATUS, RECOVERED, facts_key
from audit.tables import month_end

CONFIRMING = ("属实", "部分属实")
DECIDING = (*CONFIRMING, "不属实")  # a decision; 待核实 is none

DECISION_SCHEMA: dict[str, pl.DataType] = {
    "outcome": pl.String(), "decided_date": pl.Date(), "decided_by": pl.String(), "note": pl.String(),
    "facts_key": pl.String(), "recovered": pl.Float64(), "replies": pl.Int64(),
}
#: what :func:`finding_statuses` gives per finding (history/findings.parquet of a run)
HISTORY_SCHEMA: dict[str, pl.DataType] = {
    "finding_id": pl.String(), "status": pl.String(), "previous_status": pl.String(), "first_seen": pl.Date(),
    "sent_month": pl.Date(), "reply_due": pl.Date(), **DECISION_SCHEMA, "facts_changed": pl.Boolean(),
}


def latest_decisions(replies: pl.DataFrame, key: str = "finding_id") -> pl.DataFrame:
    """Per ``key`` (a finding, or a sampled claim): the latest reply (by the order recorded) and
    the yuan recovered over all its replies. ``replies``: the workspace's outcomes rows."""
    if replies.height == 0:
        return pl.DataFrame(schema={key: pl.String(), **DECISION_SCHEMA})
    cols = [c for c in DECISION_SCHEMA if c in replies.columns and c not in ("recovered", "replies")]
    last = replies.sort("seq").group_by(key).agg([pl.col(c).last() for c in cols])
    money = replies.group_by(key).agg(pl.col("amount_recovered").fill_null(0.0).sum().round(2).alias("recovered"),
                                      pl.len().cast(pl.Int64).alias("replies"))
    out = last.join(money, on=key, how="left")
    return out.select(key, *[pl.col(c).cast(t) if c in out.columns else pl.lit(None, t).alias(c)
                             for c, t in DECISION_SCHEMA.items()])


def finding_statuses(current: pl.DataFrame, earlier: pl.DataFrame, decisions: pl.DataFrame,
                     facts: Mapping[str, tuple[str, ...]], month: dt.date, reply_days: int) -> pl.DataFrame:
    """The :data:`HISTORY_SCHEMA` row of every finding of ``current`` (finding_id, rule_id,
    evidence, amount_at_risk), found in ``month``.

    ``earlier``: the workspace's findings of months before ``month`` (month, finding_id, status,
    sent_month); ``decisions``: :func:`latest_decisions`; ``facts``: rule id → its facts paths.
    """
    seen = (
        earlier.sort("month").group_by("finding_id")
        .agg(pl.col("month").min().alias("first_seen"), pl.col("status").last().alias("previous_status"),
             pl.col("sent_month").last().alias("_sent"))
    )
    rows = current.select("finding_id", "rule_id", "evidence", "amount_at_risk").join(
        seen, on="finding_id", how="left").join(decisions, on="finding_id", how="left")
    # the facts now, of the findings a county rejected (few): are they the facts it decided on?
    rejected = rows.filter(pl.col("outcome") == DISMISSED)
    now = [facts_key(e, tuple(facts.get(r, ()))) for r, e in zip(rejected["rule_id"].to_list(), rejected["evidence"].to_list())]
    same = rejected.select("finding_id").with_columns(
        (pl.Series("_now", now, dtype=pl.String) == rejected["facts_key"].fill_null("")).alias("_same"))
    rows = rows.join(same, on="finding_id", how="left").with_columns(pl.col("_same").fill_null(False))
    changed = (pl.col("outcome") == DISMISSED) & ~pl.col("_same")
    status = (
        pl.when((pl.col("outcome") == DISMISSED) & pl.col("_same")).then(pl.lit(DISMISSED))
        .when(changed).then(pl.when(pl.col("previous_status").is_null() | (pl.col("previous_status") == DISMISSED))
                            .then(pl.lit(NEW)).otherwise(pl.lit(ONGOING_STATUS)))
        .when(pl.col("outcome") == "属实").then(
            pl.when(pl.col("recovered").fill_null(0.0) >= pl.col("amount_at_risk").fill_null(0.0) - 0.005)
            .then(pl.lit(RECOVERED)).otherwise(pl.lit(CONFIRMED)))
        .when(pl.col("outcome") == "部分属实").then(
            pl.when((pl.col("recovered").fill_null(0.0) > 0) | (pl.col("amount_at_risk").fill_null(0.0) <= 0.005))
            .then(pl.lit(RECOVERED)).otherwise(pl.lit(CONFIRMED)))
        .when(pl.col("first_seen").is_not_null()).then(pl.lit(ONGOING_STATUS))
        .otherwise(pl.lit(NEW))
    )
    rows = rows.with_columns(status.alias("status"), changed.alias("facts_changed")).with_columns(
        pl.when(pl.col("status") == NEW).then(pl.lit(month))
        .otherwise(pl.coalesce("_sent", "first_seen", pl.lit(month))).alias("sent_month"))
    rows = rows.with_columns(
        (pl.col("sent_month").dt.month_end() + pl.duration(days=reply_days)).alias("reply_due"))
    return rows.select([pl.col(c).cast(t) for c, t in HISTORY_SCHEMA.items()])


def overdue(history: pl.DataFrame, findings: pl.DataFrame, month: dt.date) -> pl.DataFrame:
    """Findings still open (新发现/持续, no decision or 待核实) whose reply was due before the end
    of ``month``: county_code, finding_id, rule_id, unit_id, sent_month, reply_due, days_overdue."""
    end = month_end(month)
    open_ = history.filter(pl.col("status").is_in([NEW, ONGOING_STATUS])
                           & (pl.col("outcome").is_null() | (pl.col("outcome") == "待核实"))
                           & (pl.col("reply_due") < end))
    return (
        open_.join(findings.select("finding_id", "rule_id", "unit_id", "county_code"), on="finding_id")
        .select(pl.col("county_code").fill_null(""), "finding_id", "rule_id", "unit_id", "sent_month", "reply_due",
                (pl.lit(end) - pl.col("reply_due")).dt.total_days().cast(pl.Int64).alias("days_overdue"))
        .sort("county_code", "reply_due", "finding_id")
    )
