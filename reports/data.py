"""A run's files, read back, and the figures every report is built from.

Everything here works from the run directory alone, read through :class:`audit.rundir.RunDir`
(``audit report RUN_DIR`` re-renders without re-running the checks): findings, the finding→claim
links, skipped keys, run.json, the normalised inputs, and the rules and parameters the run
recorded — never the live rule registry, so an old run renders as it was. Money follows RULES.md
§8: per claim the largest amount any finding puts at risk, capped at what was paid
(:func:`audit.findings.money_at_risk`), each claim counted once; findings that put money at risk
without naming claims add their own amount.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl

from audit import totals
from audit.policy import Policy
from audit.rules import FAMILY_ZH, Family, RuleInfo
from audit.rundir import RunDir

FRAUD_FAMILIES = ("GHOST_TRAINEE", "DUPLICATE_TRAINEE", "ONE_INTERNSHIP", "RETENTION_INFLATED")


def family_zh(family: str) -> str:
    try:
        return FAMILY_ZH[Family(family)]
    except ValueError:
        return family


def _normalised(run: RunDir, name: str, keep: pl.Expr | None = None) -> pl.DataFrame | None:
    """A normalised table, only the rows ``keep`` selects (it may name only the table's own columns)."""
    frame = run.scan(name)
    if frame is None:
        return None
    if keep is None:
        return frame.collect()
    if not set(keep.meta.root_names()) <= set(frame.collect_schema().names()):
        return frame.collect()
    return frame.filter(keep).collect()


@dataclass
class RunFiles:
    """What a run left on disk, loaded once."""

    rundir: RunDir
    run: dict[str, Any]
    findings: pl.DataFrame
    links: pl.DataFrame
    skipped: pl.DataFrame
    claims: pl.DataFrame  # claim_id, unit_id, person_id, claim_month, claim_type, amount, insurance_amount, paid_date
    units: pl.DataFrame  # unit_id, unit_name, county_code, exit_date, exit_reason
    trainees: pl.DataFrame  # person_id, name
    cases: pl.DataFrame | None
    quarantined: int
    county_names: dict[str, str] = field(default_factory=dict)
    rules: dict[str, RuleInfo] = field(default_factory=dict)
    # figures several outputs read (the money per claim of all findings), computed once
    memo: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)
    # graph files the run is drawing while the report is made (audit.app.pipeline.render_outputs):
    # the report links them as the files they are about to be
    graphs_drawing: frozenset[str] = frozenset()

    @property
    def run_dir(self) -> Path:
        return self.rundir.path

    @property
    def audit_month(self) -> dt.date:
        return self.rundir.audit_month

    @property
    def month_end(self) -> dt.date:
        return self.rundir.month_end

    @property
    def policy(self) -> Policy:
        """The parameters in force for the run (its snapshot; :attr:`RunDir.policy`)."""
        return self.rundir.policy

    @property
    def paid_date_exported(self) -> bool:
        """Whether the claims export had a 拨付日期 column (:attr:`RunDir.paid_date_exported`)."""
        return self.rundir.paid_date_exported

    @property
    def month_label(self) -> str:
        m = self.audit_month
        return f"{m.year}年{m.month}月"

    def county_name(self, code: str | None) -> str:
        if not code:
            return "（未归属县区）"
        return self.county_names.get(code, code)

    def rule(self, rule_id: str) -> RuleInfo:
        if rule_id in self.rules:
            return self.rules[rule_id]
        family = rule_id.split(".", 1)[0]
        return RuleInfo(rule_id, rule_id, "medium", "", family)


def load_run(run_dir: Path, cases: bool = True) -> RunFiles:
    """Open a run directory (:class:`audit.rundir.NotARunError` if it is not one) and read what
    the reports need (``cases.parquet`` only with ``cases``: a caller that has it written
    meanwhile reads it later)."""
    run = RunDir.open(run_dir)
    findings = run.findings()
    links = run.claim_links()
    skipped = run.skipped()
    # the reports read the claims findings put money on and the trainees they name, not the
    # millions of rows around them: restricted while scanning, before anything is held
    claim_cols = {"claim_id": pl.String, "unit_id": pl.String, "person_id": pl.String, "agreement_id": pl.String,
                  "claim_month": pl.Date, "claim_type": pl.String, "amount": pl.Float64,
                  "insurance_amount": pl.Float64, "paid_date": pl.Date}
    linked = links.select(pl.col("claim_id").unique()).to_series().implode()
    claims = _with_columns(_normalised(run, "claims", pl.col("claim_id").is_in(linked)), claim_cols) \
        .unique("claim_id", keep="first", maintain_order=True)
    units = _with_columns(_normalised(run, "units"),
                          {"unit_id": pl.String, "unit_name": pl.String, "county_code": pl.String,
                           "exit_date": pl.Date, "exit_reason": pl.Int64}).unique("unit_id", keep="first")
    named = pl.concat([findings["person_id"], claims["person_id"]]).drop_nulls().unique().implode()
    trainees = _with_columns(_normalised(run, "trainees", pl.col("person_id").is_in(named)),
                             {"person_id": pl.String, "name": pl.String}).unique("person_id", keep="first")
    return RunFiles(run, run.run, findings, links, skipped, claims, units, trainees, run.cases() if cases else None,
                    run.quarantined(),
                    run.county_names(), run.rules)


def _with_columns(frame: pl.DataFrame | None, cols: dict[str, type[pl.DataType] | pl.DataType]) -> pl.DataFrame:
    if frame is None:
        return pl.DataFrame(schema=cols)
    return frame.select([pl.col(c).cast(t) if c in frame.columns else pl.lit(None, t).alias(c)
                         for c, t in cols.items()])


# ---------------------------------------------------------------- money ---------------------


def claim_money(rf: RunFiles, findings: pl.DataFrame | None = None) -> pl.DataFrame:
    """Per claim at risk (from ``findings``, default all): claim_id, amount_at_risk, finding_ids,
    ``paid`` (:func:`audit.totals.claim_money`: 应追回 when true, 应停止拨付 when not), and the
    claim's unit, person, month, type, paid amount, 拨付日期 and the unit's county."""
    everything = findings is None or findings is rf.findings
    if everything and "claim_money" in rf.memo:
        return rf.memo["claim_money"]
    findings = rf.findings if findings is None else findings
    links = rf.links.join(findings.select("finding_id"), on="finding_id", how="semi")
    per_claim = totals.claim_money(findings, links, rf.claims, rf.paid_date_exported).drop("unit_id", "person_id")
    out = (
        per_claim.join(rf.claims, on="claim_id", how="left", maintain_order="left")
        .join(rf.units.select("unit_id", "county_code"), on="unit_id", how="left", maintain_order="left")
    )
    if everything:
        rf.memo["claim_money"] = out
    return out


def unlinked_money(rf: RunFiles, findings: pl.DataFrame) -> pl.DataFrame:
    """Findings that put money at risk without naming claims (their own amount counts)."""
    return findings.join(rf.links.select("finding_id").unique(), on="finding_id", how="anti").filter(
        pl.col("amount_at_risk") > 0)


def total_money(rf: RunFiles, findings: pl.DataFrame) -> float:
    per_claim = claim_money(rf, findings)["amount_at_risk"].sum()
    extra = unlinked_money(rf, findings)["amount_at_risk"].sum()
    return round(float(per_claim or 0) + float(extra or 0), 2)


def money_by(rf: RunFiles, key: str) -> dict[Any, float]:
    """:func:`total_money` of each group of findings by ``key`` (family, rule_id…), all groups at once:
    per group, each claim once at the largest amount the group's findings put on it, capped at what
    was paid, plus the group's findings that name no claim."""
    keys = rf.findings.select("finding_id", key)
    per = rf.links.join(keys, on="finding_id").group_by(key, "claim_id").agg(pl.col("amount").max())
    if rf.claims.height:
        paid = rf.claims.group_by("claim_id").agg(
            (pl.col("amount").fill_null(0) + pl.col("insurance_amount").fill_null(0)).max().alias("_paid"))
        per = per.join(paid, on="claim_id", how="left").with_columns(
            pl.min_horizontal("amount", pl.col("_paid").fill_null(float("inf"))).round(2).alias("amount"))
    linked = per.group_by(key).agg(pl.col("amount").sum())
    extra = unlinked_money(rf, rf.findings).group_by(key).agg(pl.col("amount_at_risk").sum())
    sums = keys.select(key).unique().join(linked, on=key, how="left").join(extra, on=key, how="left")
    return {k: round(float(a or 0) + float(b or 0), 2)
            for k, a, b in zip(sums[key].to_list(), sums["amount"].to_list(), sums["amount_at_risk"].to_list())}


def finding_money(rf: RunFiles) -> pl.DataFrame:
    """finding_id → yuan it puts at risk on its own (its claims' link amounts capped per claim,
    or its amount when it names no claim): for ranking cases, not for totals."""
    linked = (
        rf.links.join(claim_money(rf).select("claim_id", pl.col("amount_at_risk").alias("_cap")), on="claim_id")
        .group_by("finding_id").agg(pl.min_horizontal("amount", "_cap").sum().alias("money"))
    )
    return rf.findings.select("finding_id", "amount_at_risk").join(linked, on="finding_id", how="left").select(
        "finding_id", pl.coalesce("money", "amount_at_risk").round(2).alias("money"))


def with_county(rf: RunFiles, findings: pl.DataFrame) -> pl.DataFrame:
    """Findings with a county: their own, else their unit's."""
    return findings.join(rf.units.select("unit_id", pl.col("county_code").alias("_unit_county")),
                         on="unit_id", how="left").with_columns(
        pl.coalesce("county_code", "_unit_county").alias("county_code")).drop("_unit_county")
