"""A run's files, read back, and the figures every report is built from.

Everything here works from the run directory alone (``audit report RUN_DIR`` re-renders without
re-running the checks): findings, the finding→claim links, skipped keys, run.json and the
normalised inputs. Money follows RULES.md §8: per claim the largest amount any finding puts at
risk, capped at what was paid (:func:`audit.findings.money_at_risk`), each claim counted once;
findings that put money at risk without naming claims add their own amount.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl

import audit
from audit.findings import CLAIM_LINK_SCHEMA, FINDINGS_SCHEMA, SKIPPED_SCHEMA, money_at_risk
from audit.rules import FAMILY_ZH, Family

REGIONS_CSV = Path(audit.__file__).parent / "reference" / "regions.csv"
FRAUD_FAMILIES = ("GHOST_TRAINEE", "DUPLICATE_TRAINEE", "ONE_INTERNSHIP", "RETENTION_INFLATED")


@dataclass(frozen=True)
class RuleInfo:
    id: str
    title: str
    citation: str
    severity: str
    family: str
    exit_condition: int | None
    signal_only: bool


def rule_info() -> dict[str, RuleInfo]:
    """Rule metadata from the registry (titles, citations, exit conditions)."""
    from checks import CHECKS

    return {
        c.rule.id: RuleInfo(c.rule.id, c.rule.title, c.rule.citation, c.rule.severity.value, c.rule.family.value,
                            c.rule.exit_condition, c.rule.signal_only)
        for c in CHECKS
    }


def family_zh(family: str) -> str:
    try:
        return FAMILY_ZH[Family(family)]
    except ValueError:
        return family


def _read(path: Path, schema: dict[str, pl.DataType]) -> pl.DataFrame:
    if path.exists():
        return pl.read_parquet(path)
    return pl.DataFrame(schema=schema)


def _normalised(run_dir: Path, name: str, keep: pl.Expr | None = None) -> pl.DataFrame | None:
    """A normalised table, only the rows ``keep`` selects (it may name only the table's own columns)."""
    path = run_dir / "normalised" / f"{name}.parquet"
    if not path.exists():
        return None
    if keep is None:
        return pl.read_parquet(path)
    frame = pl.scan_parquet(path)
    if not set(keep.meta.root_names()) <= set(frame.collect_schema().names()):
        return frame.collect()
    return frame.filter(keep).collect()


@dataclass
class RunFiles:
    """What a run left on disk, loaded once."""

    run_dir: Path
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

    @property
    def audit_month(self) -> dt.date:
        text = str(self.run.get("audit_month") or "")
        if len(text) >= 7:
            return dt.date(int(text[:4]), int(text[5:7]), 1)
        return dt.date.today().replace(day=1)  # a run.json without a month: label only

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
        return RuleInfo(rule_id, rule_id, "", "medium", family, None, False)


def load_run(run_dir: Path) -> RunFiles:
    run_dir = Path(run_dir)
    run_json = run_dir / "run.json"
    run = json.loads(run_json.read_text(encoding="utf-8")) if run_json.exists() else {}
    findings = _read(run_dir / "findings.parquet", FINDINGS_SCHEMA)
    links = _read(run_dir / "finding_claims.parquet", CLAIM_LINK_SCHEMA)
    skipped = _read(run_dir / "skipped.parquet", SKIPPED_SCHEMA)
    # the reports read the claims findings put money on and the trainees they name, not the
    # millions of rows around them: restricted while scanning, before anything is held
    claim_cols = {"claim_id": pl.String, "unit_id": pl.String, "person_id": pl.String, "agreement_id": pl.String,
                  "claim_month": pl.Date, "claim_type": pl.String, "amount": pl.Float64,
                  "insurance_amount": pl.Float64, "paid_date": pl.Date}
    linked = links.select(pl.col("claim_id").unique()).to_series().implode()
    claims = _with_columns(_normalised(run_dir, "claims", pl.col("claim_id").is_in(linked)), claim_cols) \
        .unique("claim_id", keep="first", maintain_order=True)
    units = _with_columns(_normalised(run_dir, "units"),
                          {"unit_id": pl.String, "unit_name": pl.String, "county_code": pl.String,
                           "exit_date": pl.Date, "exit_reason": pl.Int64}).unique("unit_id", keep="first")
    named = pl.concat([findings["person_id"], claims["person_id"]]).drop_nulls().unique().implode()
    trainees = _with_columns(_normalised(run_dir, "trainees", pl.col("person_id").is_in(named)),
                             {"person_id": pl.String, "name": pl.String}).unique("person_id", keep="first")
    cases_path = run_dir / "cases.parquet"
    cases = pl.read_parquet(cases_path) if cases_path.exists() else None
    quarantine = run_dir / "quarantine.csv"
    quarantined = 0
    if quarantine.exists():
        quarantined = pl.scan_csv(quarantine, infer_schema=False).select(pl.len()).collect().item()
    return RunFiles(run_dir, run, findings, links, skipped, claims, units, trainees, cases, quarantined,
                    county_names(run_dir), rule_info())


def _with_columns(frame: pl.DataFrame | None, cols: dict[str, type[pl.DataType] | pl.DataType]) -> pl.DataFrame:
    if frame is None:
        return pl.DataFrame(schema=cols)
    return frame.select([pl.col(c).cast(t) if c in frame.columns else pl.lit(None, t).alias(c)
                         for c, t in cols.items()])


def county_names(run_dir: Path) -> dict[str, str]:
    """county_code → 'city county' from the shipped regions table, or the run's own."""
    for path in (run_dir / "normalised" / "regions.parquet", REGIONS_CSV):
        if not path.exists():
            continue
        frame = (pl.read_parquet(path) if path.suffix == ".parquet"
                 else pl.read_csv(path, infer_schema=False))
        if "county_code" in frame.columns and "county_name" in frame.columns:
            city = pl.col("city_name").fill_null("") if "city_name" in frame.columns else pl.lit("")
            frame = frame.select(pl.col("county_code").cast(pl.String),
                                 pl.concat_str([city, pl.col("county_name").cast(pl.String)]).alias("name"))
            return dict(zip(frame["county_code"].to_list(), frame["name"].to_list()))
    return {}


# ---------------------------------------------------------------- money ---------------------


def claim_money(rf: RunFiles, findings: pl.DataFrame | None = None) -> pl.DataFrame:
    """Per claim at risk (from ``findings``, default all): claim_id, amount_at_risk, finding_ids,
    and the claim's unit, person, month, type, paid amount and the unit's county."""
    everything = findings is None or findings is rf.findings
    if everything and "claim_money" in rf.memo:
        return rf.memo["claim_money"]
    findings = rf.findings if findings is None else findings
    links = rf.links.join(findings.select("finding_id"), on="finding_id", how="semi")
    per_claim = money_at_risk(findings, links, rf.claims if rf.claims.height else None)
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
