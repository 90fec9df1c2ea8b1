"""evaluate's arithmetic on small hand-made findings and truth."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl

from audit.findings import FINDINGS_SCHEMA, SKIPPED_SCHEMA
from fixtures.evaluate import evaluate

TRUTH = [
    # case_id, family, kind, person, unit, claim, county, month, amount, lookalike, expect_skip
    ("G1", "GHOST_TRAINEE", "insured_elsewhere", "P1", None, None, None, None, 100.0, False, False),
    ("G2", "GHOST_TRAINEE", "deceased", "P2", None, None, None, None, 50.0, False, False),
    ("GL", "GHOST_TRAINEE", "self_paid_during", "P3", None, None, None, None, None, True, False),
    ("D1", "DUPLICATE_TRAINEE", "bad_check_same_card", "P4X", None, None, None, None, None, False, False),
    ("D1", "DUPLICATE_TRAINEE", "bad_check_same_card", "P4", None, None, None, None, None, False, False),
    ("R1", "RATE_MISAPPLIED", "wrong_tier", "P5", None, "C1", None, None, 96.0, False, False),
    ("R2", "RATE_MISAPPLIED", "raised_rate_monthly", "P6", None, "C2", None, None, 40.0, False, False),
    ("R3", "RATE_MISAPPLIED", "wrong_amount_unpriced", "P7", None, "C3", None, None, 10.0, False, True),
    ("O1", "ONE_INTERNSHIP", "sequential_two_units", "P8", None, None, None, None, None, False, False),
    ("S1", "REPORT_INCONSISTENT", "units_lt_new", None, None, None, "360102", "2024-03", None, False, False),
    # expected skips: a county-month with lost rows (skipped by key), a claim under no notice (flagged: wrong)
    ("Q1", "REPORT_INCONSISTENT", "quarantined_claim_rows", None, None, None, "360121", "2024-05", None, False, True),
    ("Q1", "REPORT_INCONSISTENT", "quarantined_claim_rows", None, None, None, "360121", "2024-06", None, False, True),
    ("R4", "RATE_MISAPPLIED", "insurance_after_expiry", "P11", None, "C4", None, None, 25.0, False, True),
]
FINDINGS = [
    # rule_id, family, person, unit, claim, county, period_start, amount
    ("GHOST_TRAINEE.insured_elsewhere", "GHOST_TRAINEE", "P1", "U1", None, None, None, 100.0),
    ("GHOST_TRAINEE.insured_elsewhere", "GHOST_TRAINEE", "P3", "U1", None, None, None, 0.0),  # look-alike flagged
    ("GHOST_TRAINEE.insured_elsewhere", "GHOST_TRAINEE", "P9", "U1", None, None, None, 0.0),  # clean: FP
    ("GHOST_TRAINEE.insured_elsewhere", "GHOST_TRAINEE", "P8", "U2", None, None, None, 0.0),  # other family: ignored
    ("DUPLICATE_TRAINEE.id_variant", "DUPLICATE_TRAINEE", "P4", None, None, None, None, 0.0),
    ("RATE_MISAPPLIED.wrong_amount", "RATE_MISAPPLIED", "P5", "U1", "C1", None, None, 96.0),
    ("RATE_MISAPPLIED.wrong_amount", "RATE_MISAPPLIED", "P6", "U1", "C2", None, None, 39.0),
    ("RATE_MISAPPLIED.wrong_amount", "RATE_MISAPPLIED", "P10", "U1", "C9", None, None, 5.0),  # FP
    ("REPORT_INCONSISTENT.relation", "REPORT_INCONSISTENT", None, None, None, "360102", dt.date(2024, 3, 1), 0.0),
    ("RATE_MISAPPLIED.insurance_inside_subsidy", "RATE_MISAPPLIED", "P11", "U1", "C4", None, None, 25.0),  # should skip
]


def _write(tmp_path: Path) -> tuple[Path, Path]:
    run, truth = tmp_path / "run", tmp_path / "truth"
    run.mkdir()
    truth.mkdir()
    cols = ["case_id", "family", "kind", "person_id", "unit_id", "claim_id", "county_code", "month",
            "amount_wrongly_paid", "lookalike", "expect_skip"]
    pl.DataFrame([dict(zip(cols, r)) for r in TRUTH]).with_columns(pl.lit("").alias("note")).write_csv(truth / "planted.csv")
    rows = [{"finding_id": str(i), "rule_id": r[0], "family": r[1], "severity": "high", "person_id": r[2], "unit_id": r[3],
             "claim_id": r[4], "county_code": r[5], "period_start": r[6], "period_end": None, "amount_at_risk": r[7],
             "evidence": "{}", "citation": ""} for i, r in enumerate(FINDINGS)]
    pl.DataFrame(rows, schema=FINDINGS_SCHEMA).write_parquet(run / "findings.parquet")
    pl.DataFrame([
        {"rule_id": "RATE_MISAPPLIED.wrong_amount", "family": "RATE_MISAPPLIED", "person_id": "P7", "unit_id": None,
         "claim_id": "C3", "reason": "unpriced"},
        {"rule_id": "REPORT_INCONSISTENT.differs_from_micro_data", "family": "REPORT_INCONSISTENT",
         "county_code": "360121", "period_start": dt.date(2024, 6, 1), "reason": "该县区当月有申领记录未能读取（隔离1行），无法精确核对"},
    ], schema=SKIPPED_SCHEMA).write_parquet(run / "skipped.parquet")
    return run, truth


def test_per_family_scores(tmp_path: Path) -> None:
    result = evaluate(*_write(tmp_path))
    ghost = result["families"]["GHOST_TRAINEE"]
    assert (ghost["planted"], ghost["found"], ghost["recall"]) == (2, 1, 0.5)
    assert ghost["false_positives"] == 2  # P9, and the flagged look-alike P3
    assert ghost["lookalikes_flagged"] == 1 and ghost["ignored_other_family"] == 1
    assert ghost["precision"] == round(1 / 3, 4)
    dup = result["families"]["DUPLICATE_TRAINEE"]
    assert (dup["planted"], dup["found"], dup["false_positives"]) == (1, 1, 0)  # found through either identity
    rate = result["families"]["RATE_MISAPPLIED"]
    # expected skips are scored as skips: out of planted and recall; skipped as expected, or flagged (a wrong finding)
    assert (rate["planted"], rate["found"], rate["skipped"], rate["expected_skip"]) == (2, 2, 0, 2)
    assert (rate["skipped_as_expected"], rate["expected_skip_flagged"]) == (1, 1)
    assert rate["recall"] == 1.0 and rate["false_positives"] == 2 and rate["amount_exact"] == 1  # C9, and C4 flagged
    report = result["families"]["REPORT_INCONSISTENT"]
    assert report["found"] == 1 and report["planted"] == 1
    assert (report["expected_skip"], report["skipped_as_expected"], report["expected_skip_flagged"]) == (1, 1, 0)
    assert result["families"]["ONE_INTERNSHIP"]["recall"] == 0.0


def test_per_kind_scores(tmp_path: Path) -> None:
    kinds = evaluate(*_write(tmp_path))["kinds"]
    assert kinds["GHOST_TRAINEE/deceased"]["found"] == 0
    assert kinds["GHOST_TRAINEE/self_paid_during"]["lookalikes_flagged"] == 1
    assert kinds["RATE_MISAPPLIED/wrong_tier"]["amount_exact"] == 1
    assert kinds["RATE_MISAPPLIED/raised_rate_monthly"]["amount_exact"] == 0
