"""The findings schema (contract.md, "Output of a run"), defined once.

Every check's raw output passes through :func:`finalise`, which adds the rule's metadata, fills
the columns the check did not produce, JSON-encodes the evidence and casts to the schema.
:func:`assign_ids` gives each finding a ``finding_id`` that says what it is about (the rule's
``identity``), so reruns on the same data and the same facts next month keep it.

``status`` says where a finding stands in the monthly cycle (:data:`STATUSES`): a run without a
workspace knows no history, and every finding is 新发现; with one (:mod:`audit.workspace`) it is
read from the earlier runs and the outcomes recorded. A 不属实 finding (a false alarm the county
rejected, on facts that have not changed) stays in the findings file but out of every count,
list and exit proposal.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any

import polars as pl

from audit.rules import CLAIM_FAMILIES, KEY_COLUMNS, PERSON_FAMILIES, UNIT_FAMILIES, Rule

NEW, ONGOING_STATUS, CONFIRMED, RECOVERED, DISMISSED = "新发现", "持续", "属实待追回", "已追回", "不属实"
#: a finding's place in the monthly cycle: new this month; seen before with no decision (or 待核实);
#: confirmed or partly confirmed with money not yet back; recovered; a false alarm (out of the counts)
STATUSES = (NEW, ONGOING_STATUS, CONFIRMED, RECOVERED, DISMISSED)

FINDINGS_SCHEMA: dict[str, pl.DataType] = {
    "finding_id": pl.String(),
    "rule_id": pl.String(),
    "family": pl.String(),
    "severity": pl.String(),
    "person_id": pl.String(),
    "unit_id": pl.String(),
    "claim_id": pl.String(),
    "county_code": pl.String(),
    "period_start": pl.Date(),
    "period_end": pl.Date(),
    "amount_at_risk": pl.Float64(),
    "evidence": pl.String(),
    "citation": pl.String(),
    "status": pl.String(),
}

SKIPPED_SCHEMA: dict[str, pl.DataType] = {
    "rule_id": pl.String(),
    "family": pl.String(),
    "person_id": pl.String(),
    "unit_id": pl.String(),
    "claim_id": pl.String(),
    "reason": pl.String(),
    # a key that is a county-month (a county's report left unreconciled): county and month
    "county_code": pl.String(),
    "period_start": pl.Date(),
    "gap": pl.String(),
}

# What a skipped key lacks, in a few words (``skipped.gap``): the report and the run's coverage
# count unjudged keys by it, per province, where the reason sentence names the county and month.
GAP_TIER = "县区无最低工资档次"
GAP_WAGE = "无可用最低工资标准"
GAP_CALENDAR = "法定工作日历缺少日期"


def gap_unset(param: str) -> str:
    """The gap of a key whose rule needs a policy parameter unset where and when it applies."""
    return f"政策参数未设定：{param}"

# Which claims a finding puts money at risk on: one row per (finding, claim). A claim-level
# finding links its own claim; a trainee- or unit-level finding links the claims it lists in
# its raw ``claims_at_risk`` column (a list of :data:`CLAIM_LINK_DTYPE`). Totals and the recovery
# list are computed from this link table, so each claim counts once (RULES.md §8).
CLAIM_LINK_SCHEMA: dict[str, pl.DataType] = {
    "finding_id": pl.String(),
    "claim_id": pl.String(),
    "amount": pl.Float64(),
}
# A finding's claims at risk, as a check lists them: each claim and the yuan at risk on it.
CLAIM_LINK_DTYPE: pl.DataType = pl.List(pl.Struct({"claim_id": pl.String(), "amount": pl.Float64()}))


def empty_findings() -> pl.DataFrame:
    return pl.DataFrame(schema=FINDINGS_SCHEMA)


def finalise(raw: pl.LazyFrame, rule: Rule) -> pl.LazyFrame:
    """Cast a check's raw findings to the findings schema (without ``finding_id``).

    ``citation``: the raw frame's own column where the check gives one (the clause in force for
    the finding's province and date, RULES.md §8); a rule with several clauses
    (``Rule.citations``) must give it — a finding is never sent another province's notice. Only a
    rule with one clause valid everywhere falls back to its static ``Rule.citation``.
    """
    have = raw.collect_schema()
    if rule.cites_per_finding and "citation" not in have:
        raise ValueError(f"{rule.id} rests on several clauses ({len(rule.citations)}): its check must give each "
                         "finding its citation (Policy.cite)")
    cols: list[pl.Expr] = [
        pl.lit(rule.id).alias("rule_id"),
        pl.lit(rule.family.value).alias("family"),
        pl.lit(rule.severity.value).alias("severity"),
    ]
    for name in KEY_COLUMNS:
        dtype = FINDINGS_SCHEMA[name]
        cols.append(pl.col(name).cast(dtype) if name in have else pl.lit(None, dtype).alias(name))
    if "amount_at_risk" in have:
        cols.append(pl.col("amount_at_risk").cast(pl.Float64).fill_null(0.0).round(2))
    else:
        cols.append(pl.lit(0.0).alias("amount_at_risk"))
    if "evidence" not in have:
        cols.append(pl.lit("{}").alias("evidence"))
    elif isinstance(have["evidence"], pl.Struct):
        cols.append(pl.col("evidence").struct.json_encode())
    else:
        cols.append(pl.col("evidence").cast(pl.String))
    if "citation" in have:
        cited = pl.col("citation").cast(pl.String)
        cols.append((cited if rule.cites_per_finding else cited.fill_null(rule.citation)).alias("citation"))
    else:
        cols.append(pl.lit(rule.citation).alias("citation"))
    if "claims_at_risk" in have:
        cols.append(pl.col("claims_at_risk").cast(CLAIM_LINK_DTYPE).alias("_claims"))
    elif "claim_id" in have:
        cols.append(
            pl.concat_list(
                pl.struct(
                    pl.col("claim_id").cast(pl.String),
                    pl.col("amount_at_risk").cast(pl.Float64).fill_null(0.0).alias("amount")
                    if "amount_at_risk" in have
                    else pl.lit(0.0).alias("amount"),
                )
            )
            .cast(CLAIM_LINK_DTYPE)
            .alias("_claims")
        )
    else:
        cols.append(pl.lit(None, CLAIM_LINK_DTYPE).alias("_claims"))
    out = raw.select(cols)
    fam = rule.family
    need = (
        "person_id" if fam in PERSON_FAMILIES else "unit_id" if fam in UNIT_FAMILIES else "claim_id" if fam in CLAIM_FAMILIES else None
    )
    if need is not None:
        # contract.md: trainee-, unit- and claim-level families always carry their key
        out = out.filter(pl.col(need).is_not_null())
    return out


def finalise_skipped(raw: pl.LazyFrame, rule: Rule) -> pl.LazyFrame:
    have = raw.collect_schema()
    cols = [pl.lit(rule.id).alias("rule_id"), pl.lit(rule.family.value).alias("family")]
    for name in ("person_id", "unit_id", "claim_id", "reason", "county_code", "period_start", "gap"):
        dtype = SKIPPED_SCHEMA[name]
        cols.append(pl.col(name).cast(dtype) if name in have else pl.lit(None, dtype).alias(name))
    return raw.select(cols)


def _digest(text: str) -> str:
    return hashlib.sha1(text.encode("utf-8")).hexdigest()[:16]


def assign_ids(findings: pl.DataFrame, identity: Mapping[str, tuple[str, ...]] | None = None) -> pl.DataFrame:
    """Add ``finding_id`` — a hash of rule_id and the key columns that identify the finding — and
    ``status`` (新发现 until a workspace says otherwise).

    ``identity``: rule id → the key columns its findings are identified by (:attr:`Rule.identity`);
    a rule not named there is identified by all of :data:`KEY_COLUMNS`, as every rule was before
    identities were declared, so its ids are unchanged.

    Findings are few (thousands, not millions), so hashing them in Python after the one collect
    is cheap and gives an id that does not depend on polars' internal hash seed or version.
    """
    identity = {r: cols for r, cols in (identity or {}).items() if tuple(cols) != KEY_COLUMNS}
    key_of = [pl.col(k).cast(pl.String).fill_null("") for k in KEY_COLUMNS]
    text = pl.concat_str([pl.col("rule_id"), *key_of], separator="|")
    for rule_id, cols in identity.items():
        own = pl.concat_str([pl.col("rule_id"), *[pl.col(k).cast(pl.String).fill_null("") for k in cols]], separator="|")
        text = pl.when(pl.col("rule_id") == rule_id).then(own).otherwise(text)
    keys = findings.select(text).to_series()
    ids = pl.Series("finding_id", [_digest(k) for k in keys.to_list()], dtype=pl.String)
    extra = ["_claims"] if "_claims" in findings.columns else []
    out = findings.with_columns(ids, pl.lit(NEW).alias("status")).select([*FINDINGS_SCHEMA, *extra])
    return out.unique("finding_id", keep="first", maintain_order=True).sort(["family", "rule_id", "finding_id"])


# ---------------------------------------------------------------------------------------------
# the facts a decision rests on

_POSITION = ("_file", "_line", "file", "line")


def _strip_positions(value: Any) -> Any:
    """A value without file and line positions (an export's line numbers move; its facts do not)."""
    if isinstance(value, dict):
        return {k: _strip_positions(v) for k, v in value.items()
                if not (k.startswith("_") or k in _POSITION or k.endswith(("_file", "_line")))}
    if isinstance(value, list):
        return [_strip_positions(v) for v in value]
    return value


def _pick(value: Any, path: list[str]) -> Any:
    if not path:
        return _strip_positions(value)
    if isinstance(value, list):
        return [_pick(v, path) for v in value]
    if isinstance(value, dict):
        return _pick(value.get(path[0]), path[1:])
    return None


def _as_set(value: Any) -> Any:
    """Lists as sets (sorted, each element once, nested lists flattened), at every depth."""
    if isinstance(value, dict):
        return {k: _as_set(v) for k, v in value.items()}
    if isinstance(value, list):
        flat: list[Any] = []
        for v in value:
            v = _as_set(v)
            flat.extend(v if isinstance(v, list) else [v])
        return sorted({json.dumps(v, ensure_ascii=False, sort_keys=True) for v in flat if v is not None})
    return value


def facts_key(evidence: str | None, facts: tuple[str, ...]) -> str:
    """The fingerprint of the facts a decision on a finding rests on: the evidence fields named by
    its rule's ``facts`` (:attr:`Rule.facts`), lists read as sets, file and line positions left
    out. Empty ``facts``: the finding's identity is its facts, and the key is constant."""
    if not facts:
        return ""
    try:
        data = json.loads(evidence or "{}")
    except ValueError:
        data = {}
    picked = {path: _as_set(_pick(data, path.split("."))) for path in facts}
    return _digest(json.dumps(picked, ensure_ascii=False, sort_keys=True))


def split_claim_links(findings: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Separate the findings table from its (finding, claim, amount) link table."""
    if "_claims" not in findings.columns:
        return findings, pl.DataFrame(schema=CLAIM_LINK_SCHEMA)
    links = (
        findings.select("finding_id", "_claims")
        .explode("_claims")
        .drop_nulls("_claims")
        .unnest("_claims")
        .drop_nulls("claim_id")
        .with_columns(pl.col("amount").fill_null(0.0).round(2))
        .select(list(CLAIM_LINK_SCHEMA))
    )
    return findings.drop("_claims"), links


def money_at_risk(findings: pl.DataFrame, links: pl.DataFrame, claims: pl.DataFrame | None = None) -> pl.DataFrame:
    """Yuan at risk per claim, each claim counted once (RULES.md §8, "Money at risk").

    Per claim, the largest amount any finding puts at risk on it, never more than was paid
    (``amount`` + ``insurance_amount``) when the claims table is given. Returns
    ``claim_id, amount_at_risk, finding_ids`` (the findings that touch the claim).
    """
    per_claim = links.group_by("claim_id").agg(
        pl.col("amount").max().alias("amount_at_risk"), pl.col("finding_id").unique().sort().alias("finding_ids")
    )
    if claims is not None and claims.height:
        # the claims at risk only: the claims table of a national run holds millions
        paid = claims.join(per_claim.select("claim_id"), on="claim_id", how="semi").group_by("claim_id").agg(
            (pl.col("amount").fill_null(0) + pl.col("insurance_amount").fill_null(0)).max().alias("_paid")
        )
        per_claim = per_claim.join(paid, on="claim_id", how="left").with_columns(
            pl.min_horizontal("amount_at_risk", pl.col("_paid").fill_null(float("inf"))).round(2).alias("amount_at_risk")
        ).drop("_paid")
    return per_claim.sort("claim_id")
