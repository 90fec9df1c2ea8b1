"""Benchmark: graph rules, cases and case graphs on a national-scale synthetic run directory.

Generates (numpy + polars, seeded) a normalised run directory of ``--trainees`` trainees (default
1,000,000), about one unit per ten trainees, one agreement each (5 % a second one), six monthly
claims each, six months of employer insurance each, planted rings (shared cards and phones
across units), shell clusters (units sharing a legal representative / phone / address), large
employers sharing a switchboard, family members sharing a phone, one unit with a trainee in
every 225 (4,444 at 1 M) each of whom has a flagged claim — the shape of a unit-wide rate error,
one case with more entities than a case graph's node cap, which national runs have — and ~20,000
synthetic findings of other families. Then times, with peak memory:

1. the five graph rules (checks/graph_rules.py) collected together, as the pipeline does;
2. ``write_run_graphs``: edges, cases.parquet and the top cases' HTML graphs.

    python bench/bench_graph.py                 # 1 M trainees
    python bench/bench_graph.py --trainees 100000 --keep /tmp/bench_run
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import tempfile
import time
from datetime import date
from pathlib import Path

import numpy as np
import polars as pl


def _ids(prefix: str, n: int, width: int) -> pl.Series:
    """``prefix`` + zero-padded 0..n-1: distinct identifiers of a fixed length."""
    return pl.select(pl.concat_str([pl.lit(prefix), pl.int_range(n, eager=True).cast(pl.String).str.zfill(width)])).to_series()


def generate(run_dir: Path, n_trainees: int, seed: int = 7) -> dict[str, int]:
    """Write normalised/*.parquet, findings.parquet, finding_claims.parquet and run.json."""
    rng = np.random.default_rng(seed)
    norm = run_dir / "normalised"
    norm.mkdir(parents=True, exist_ok=True)
    n_units = max(n_trainees // 10, 50)
    unit_ids = _ids("91360102MA", n_units, 8)
    person_ids = _ids("360102199", n_trainees, 9)

    # units: unique identifiers, then planted sharing
    phone = _ids("0791", n_units, 8).to_numpy().astype(object)
    rep = _ids("360102197", n_units, 9).to_numpy().astype(object)
    address = pl.select(pl.format("南昌市东湖区第{}路{}号", pl.int_range(n_units, eager=True) // 100,
                                  pl.int_range(n_units, eager=True) % 100)).to_series().to_numpy().astype(object)
    account = _ids("6217", n_units, 14).to_numpy().astype(object)
    staff = rng.integers(5, 200, n_units)
    n_shell = n_units // 200  # shell clusters of 3–4 units (≈ 2 % of units)
    for c in range(n_shell):
        base = 4 * c
        members = list(range(base, base + 3 + (c % 2)))
        for m in members:
            rep[m] = rep[base] if c % 3 != 2 else rep[m]
            phone[m] = phone[base] if c % 3 == 1 else phone[m]
            address[m] = address[base] if c % 3 == 2 else address[m]
    large_start = 4 * n_shell + 10
    for g in range(n_units // 1000):  # groups of 5 large employers sharing a switchboard
        for m in range(large_start + 5 * g, large_start + 5 * g + 5):
            staff[m] = 5000
            phone[m] = phone[large_start + 5 * g]
    units = pl.DataFrame({
        "unit_id": unit_ids, "unit_name": pl.select(pl.format("单位{}", pl.int_range(n_units, eager=True))).to_series(),
        "county_code": "360102", "legal_rep_id": rep.tolist(), "legal_rep_name": "法人", "phone": phone.tolist(),
        "bank_account": account.tolist(), "address": address.tolist(), "staff_count": staff,
        "approved_date": date(2022, 1, 1),
    })

    # trainees: unique phone and card, then rings and families
    t_phone = _ids("13", n_trainees, 9).to_numpy().astype(object)
    t_card = _ids("6222", n_trainees, 12).to_numpy().astype(object)
    ring_people = rng.choice(n_trainees, size=(max(n_trainees // 1000, 4), 3), replace=False)
    for i, trio in enumerate(ring_people):
        if i % 2:
            t_phone[trio] = t_phone[trio[0]]
        else:
            t_card[trio[:2]] = t_card[trio[0]]
    families = rng.choice(n_trainees, size=(n_trainees // 200, 2), replace=False)
    t_phone[families[:, 1]] = t_phone[families[:, 0]]
    trainees = pl.DataFrame({
        "person_id": person_ids, "name": pl.select(pl.format("见习{}", pl.int_range(n_trainees, eager=True))).to_series(),
        "education": "本科", "graduation_date": date(2023, 6, 30), "phone": t_phone.tolist(), "bank_card": t_card.tolist(),
    })

    # agreements: one each at a random unit; 5 % a second, at a neighbouring (maybe linked) unit
    home = rng.integers(0, n_units, n_trainees)
    home[: big_unit_trainees(n_trainees)] = n_units - 1  # the big unit: last, outside the planted clusters
    second = rng.random(n_trainees) < 0.05
    idx2 = np.nonzero(second)[0]
    agreements = pl.concat([
        pl.DataFrame({"person_id": person_ids, "unit_id": unit_ids.gather(home), "start_date": date(2023, 7, 1),
                      "planned_end_date": date(2023, 12, 31)}),
        pl.DataFrame({"person_id": person_ids.gather(idx2), "unit_id": unit_ids.gather((home[idx2] + 1) % n_units),
                      "start_date": date(2024, 1, 1), "planned_end_date": date(2024, 6, 30)}),
    ]).with_columns(pl.format("AG{}", pl.int_range(pl.len())).alias("agreement_id"),
                    pl.lit(None, pl.Date).alias("actual_end_date"))
    months = pl.DataFrame({"claim_month": pl.date_range(date(2023, 7, 1), date(2023, 12, 1), "1mo", eager=True)})
    first = agreements.head(n_trainees).select("person_id", "unit_id", "agreement_id")
    claims = first.join(months, how="cross").with_columns(
        pl.format("CL{}", pl.int_range(pl.len())).alias("claim_id"), pl.lit(1488.0).alias("amount"),
        pl.lit(None, pl.Float64).alias("insurance_amount"), pl.lit(date(2024, 1, 10)).alias("submitted_date"),
        pl.lit("月度").alias("claim_type"))
    si = first.select("person_id", pl.col("unit_id").alias("employer_id")).join(
        months.rename({"claim_month": "month"}), how="cross").with_columns(
        pl.lit("养老").alias("insurance_type"), pl.lit("单位").alias("payer_type"))

    from audit.schema import SPECS

    for name, df in (("units", units), ("trainees", trainees), ("agreements", agreements), ("claims", claims),
                     ("social_insurance", si)):
        # every column of the table's spec, as the loader writes them (absent ones null)
        spec = SPECS[name]
        df = df.with_columns([pl.lit(None, c.dtype).alias(c.name) for c in spec.columns if c.name not in df.columns])
        df.select([pl.col(c.name).cast(c.dtype) for c in spec.columns]).write_parquet(norm / f"{name}.parquet")
    (run_dir / "run.json").write_text(json.dumps({"audit_month": "2024-06", "si_as_of": "2024-06"}), encoding="utf-8")
    return {"units": n_units, "trainees": n_trainees, "agreements": agreements.height, "claims": claims.height,
            "social_insurance": si.height}


def big_unit_trainees(n_trainees: int) -> int:
    return max(n_trainees // 225, 10)


def synthetic_findings(run_dir: Path, n: int, seed: int = 11) -> tuple[pl.DataFrame, pl.DataFrame]:
    """~n findings of other families (claim-, trainee- and unit-level) with their claim links."""
    from audit.findings import FINDINGS_SCHEMA

    rng = np.random.default_rng(seed)
    claims = pl.read_parquet(run_dir / "normalised" / "claims.parquet", columns=["claim_id", "person_id", "unit_id", "amount"])
    pick = claims.gather(rng.choice(claims.height, n, replace=False)).with_row_index("i")
    fam = pick.with_columns(
        pl.when(pl.col("i") % 3 == 0).then(pl.lit("RATE_MISAPPLIED")).when(pl.col("i") % 3 == 1)
        .then(pl.lit("GHOST_TRAINEE")).otherwise(pl.lit("DORMANT_UNIT")).alias("family"),
        pl.format("F{}", pl.col("i")).alias("finding_id"))
    # the big unit (the one with the most claims): a claim-level finding on one claim of each trainee
    big = claims.group_by("unit_id").len().sort("len", "unit_id").tail(1)["unit_id"]
    unit_wide = claims.filter(pl.col("unit_id").is_in(big.implode())).unique("person_id", keep="first", maintain_order=True) \
        .with_row_index("i").with_columns(pl.lit("RATE_MISAPPLIED").alias("family"), pl.format("B{}", pl.col("i")).alias("finding_id"))
    fam = pl.concat([fam, unit_wide])
    findings = fam.select(
        "finding_id", pl.format("{}.bench", pl.col("family")).alias("rule_id"),
        "family", pl.lit("high").alias("severity"),
        pl.when(pl.col("family") == "GHOST_TRAINEE").then(pl.col("person_id")).alias("person_id"),
        pl.when(pl.col("family") != "RATE_MISAPPLIED").then(pl.col("unit_id")).alias("unit_id"),
        pl.when(pl.col("family") == "RATE_MISAPPLIED").then(pl.col("claim_id")).alias("claim_id"),
        pl.lit("360102").alias("county_code"), pl.lit(None, pl.Date).alias("period_start"),
        pl.lit(None, pl.Date).alias("period_end"), pl.col("amount").alias("amount_at_risk"),
        pl.lit("{}").alias("evidence"), pl.lit("bench").alias("citation"),
    ).select([pl.col(k).cast(v) for k, v in FINDINGS_SCHEMA.items()])
    links = fam.select("finding_id", "claim_id", "amount")
    return findings, links


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trainees", type=int, default=1_000_000)
    parser.add_argument("--findings", type=int, default=20_000)
    parser.add_argument("--keep", type=Path, default=None, help="write the run dir here and keep it")
    args = parser.parse_args()

    from audit.app.cases import write_run_cases
    from audit.app.pipeline import run_checks
    from audit.findings import FINDINGS_SCHEMA
    from audit.policy import Policy
    from audit.rundir import parse_month, scan_tables, write_rules
    from checks import CHECKS, graph_rules

    run_dir = args.keep or Path(tempfile.mkdtemp(prefix="bench_graph_"))
    t0 = time.perf_counter()
    counts = generate(run_dir, args.trainees)
    print(f"generated {counts} in {time.perf_counter() - t0:.1f}s  (peak RSS {peak_mb():,.0f} MB)")

    policy = Policy.load()
    write_rules(run_dir, (c.rule.info() for c in CHECKS))  # as a run records them: the signals
    month = parse_month("2024-06")
    tables = scan_tables(run_dir, month, month)
    t1 = time.perf_counter()
    outcome = run_checks(tables, policy, checks=graph_rules.CHECKS)
    rules_s = time.perf_counter() - t1
    by_rule = outcome.findings.group_by("rule_id").len().sort("rule_id").to_dicts()
    print(f"graph rules: {outcome.findings.height} signals in {rules_s:.1f}s  {by_rule}  (peak RSS {peak_mb():,.0f} MB)")

    other, other_links = synthetic_findings(run_dir, args.findings)
    findings = pl.concat([outcome.findings.select(list(FINDINGS_SCHEMA)), other])
    pl.concat([outcome.claim_links, other_links]).write_parquet(run_dir / "finding_claims.parquet")
    findings.write_parquet(run_dir / "findings.parquet")

    t2 = time.perf_counter()
    write_run_cases(run_dir)
    cases_s = time.perf_counter() - t2
    cases = pl.read_parquet(run_dir / "cases.parquet")
    graphs = sorted((run_dir / "graphs").glob("case_*.html"))
    sizes = [p.stat().st_size for p in graphs]
    print(f"cases + graphs: {cases.height} cases, {len(graphs)} HTML graphs "
          f"(max {max(sizes, default=0) / 1e6:.1f} MB) in {cases_s:.1f}s  (peak RSS {peak_mb():,.0f} MB)")
    print(f"largest case: {cases['n_persons'].max()} trainees, {cases['n_units'].max()} units; "
          f"top: {cases['summary'][0] if cases.height else '-'}")
    print(f"TOTAL graph rules + cases + graphs: {rules_s + cases_s:.1f}s for {args.trainees:,} trainees")
    if args.keep is None:
        shutil.rmtree(run_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
