"""Cases (audit/cases.py): one case per connected cluster of flagged entities, ids stable across
reruns, money counted once per claim, hubs and large employers do not merge unrelated cases.

The world below is small and literal. Findings come from the graph rules plus three stand-in
checks defined here (a claim-level rate finding, a trainee-level ghost finding with claims at
risk, a data-quality finding), run through the real pipeline functions and written as a run dir.
"""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest

from audit.app.cases import CASE_SCHEMA, build_cases, write_run_cases
from audit.app.pipeline import run_checks, write_findings
from audit.rules import Severity, rule
from audit.rundir import write_rules
from checks import graph_rules
from tests.helpers import agreement, claim, pid, policy, tables, trainee, unit, uscc

REP = pid("REP", birth="19700101")
SHARED_CARD = "6222000011112222"
HOME_PHONE = "13912345678"


def _place(person: str, unit_label: str) -> tuple[dict, dict]:
    return (agreement(f"AG_{person}_{unit_label}", person, unit_label, "2023-09-01", "2024-02-29"),
            claim(f"CL_{person}_{unit_label}", unit_label, person, "2023-09", 1480.0))


# P2 is placed at U2 and at U3: the shared address links the two only through a shared trainee (issue #16)
PLACEMENTS = [("P1", "U1"), ("P2", "U2"), ("P2", "U3"), ("P3", "U3"), ("P4", "U3"), ("P9", "U9"), ("Q1", "BIG"),
              ("Q2", "BIG"), ("P5", "U5"), ("P6", "U6"), ("Z", "U7")]


def world_tables():
    units = [
        unit("U1", legal_rep_id=REP, legal_rep_name="甲某"), unit("U2", legal_rep_id=REP, address="东湖区八一大道12号"),
        unit("U3", address="东湖区 八一大道１２号"), unit("U9"), unit("BIG", staff_count=3000), unit("U5"), unit("U6"),
        unit("U7"),
    ]
    trainees = [trainee("P1", name="张一", bank_card=SHARED_CARD), trainee("P2", name="李二", bank_card=SHARED_CARD),
                trainee("P3", name="王三"), trainee("P4", name="赵四"), trainee("P9", name="钱九"),
                trainee("Q1", name="孙甲"), trainee("Q2", name="周乙"),
                trainee("P5", name="吴五", phone=HOME_PHONE), trainee("P6", name="郑六", phone=HOME_PHONE),
                trainee("Z", name="冯七")]
    placed = [_place(p, u) for p, u in PLACEMENTS]
    return tables(units=units, trainees=trainees, agreements=[a for a, _ in placed], claims=[c for _, c in placed],
                  social_insurance=[])


@rule(id="RATE_MISAPPLIED.stand_in", title="测试用：标准错用", severity=Severity.HIGH, citation="测试")
def rate_stand_in(t, policy):
    """Stand-in claim-level finding: fixed amounts on two claims."""
    return t.claims.filter(pl.col("claim_id").is_in(["CL_P9_U9", "CL_P1_U1"])).select(
        "claim_id", "unit_id", "person_id",
        pl.when(pl.col("claim_id") == "CL_P9_U9").then(300.0).otherwise(500.0).alias("amount_at_risk"))


@rule(id="GHOST_TRAINEE.stand_in", title="测试用：虚假见习", severity=Severity.HIGH, citation="测试")
def ghost_stand_in(t, policy):
    """Stand-in trainee-level finding (naming no unit) putting the trainee's claims at risk in full."""
    named = [pid(x) for x in ("P1", "Q1", "Q2", "P5", "P6")]
    return t.claims.filter(pl.col("person_id").is_in(named)).group_by("person_id").agg(
        pl.col("amount").sum().alias("amount_at_risk"),
        pl.struct("claim_id", "amount").alias("claims_at_risk"))


@rule(id="DATA_QUALITY.stand_in", title="测试用：数据质量", severity=Severity.LOW, citation="测试")
def dq_stand_in(t, policy):
    """Stand-in data-quality finding on P9 (in a case) and Z (in none)."""
    return t.trainees.filter(pl.col("person_id").is_in([pid("P9"), pid("Z")])).select("person_id")


CHECKS = (*graph_rules.CHECKS, rate_stand_in, ghost_stand_in, dq_stand_in)


def write_world(run_dir: Path) -> Path:
    """A run directory as `audit run` writes it: normalised tables, findings, links, run.json."""
    t = world_tables()
    norm = run_dir / "normalised"
    norm.mkdir(parents=True, exist_ok=True)
    for name in ("units", "trainees", "agreements", "claims", "social_insurance"):
        getattr(t, name).collect().write_parquet(norm / f"{name}.parquet")
    write_findings(run_dir, run_checks(t, policy(), checks=CHECKS))
    write_rules(run_dir, (c.rule.info() for c in CHECKS))
    (run_dir / "run.json").write_text(json.dumps({"audit_month": "2024-06", "si_as_of": "2024-06"}), encoding="utf-8")
    return run_dir


@pytest.fixture()
def run_dir(tmp_path: Path) -> Path:
    return write_world(tmp_path / "run")


def _case_of(cases: pl.DataFrame, person: str | None = None, unit_label: str | None = None) -> dict:
    col, value = ("person_ids", pid(person)) if person else ("unit_ids", uscc(unit_label))
    rows = cases.filter(pl.col(col).list.contains(value))
    assert rows.height == 1, f"{person or unit_label} should be in exactly one case"
    return rows.row(0, named=True)


CONNECTIVITY = [
    # P3 and P4 carry no finding: they are not entities of the case (the viewer shows them around it)
    ("the shell cluster, its card ring and P1's findings are one case", ["P1", "P2"], ["U1", "U2", "U3"]),
    ("a lone rate finding is its own case", ["P9"], ["U9"]),
    ("two relatives sharing a home phone, each flagged, are linked by the phone", ["P5", "P6"], []),
]


@pytest.mark.parametrize("why, persons, units", CONNECTIVITY, ids=[c[0] for c in CONNECTIVITY])
def test_one_case_per_connected_cluster(run_dir, why, persons, units):
    cases = build_cases(run_dir, policy()).cases
    case = _case_of(cases, person=persons[0])
    assert set(case["person_ids"]) == {pid(p) for p in persons}, why
    assert set(case["unit_ids"]) == {uscc(u) for u in units}, why


def test_large_employer_does_not_merge_its_trainees_cases(run_dir):
    """Q1 and Q2 are both flagged and both at BIG (3000 staff), which no finding names."""
    cases = build_cases(run_dir, policy()).cases
    q1, q2 = _case_of(cases, person="Q1"), _case_of(cases, person="Q2")
    assert q1["case_id"] != q2["case_id"]
    assert uscc("BIG") not in q1["unit_ids"]  # BIG carries no finding of its own


def test_a_hub_does_not_join_cases(run_dir, monkeypatch):
    pol = policy()
    real = pol.detect
    monkeypatch.setattr(pol, "detect", lambda name: 1 if name == "graph.case_hub_max_degree" else real(name))
    cases = build_cases(run_dir, pol).cases
    assert _case_of(cases, person="P5")["case_id"] != _case_of(cases, person="P6")["case_id"]


def test_data_quality_alone_opens_no_case(run_dir):
    cases = build_cases(run_dir, policy()).cases
    assert not cases.filter(pl.col("person_ids").list.contains(pid("Z"))).height
    p9 = _case_of(cases, person="P9")
    assert "DATA_QUALITY" in p9["families"]  # attached to the case of the entity it names


def test_money_counted_once_per_claim(run_dir):
    cases = build_cases(run_dir, policy()).cases
    ring = _case_of(cases, person="P1")
    # P1's one claim of 1480: the rate finding puts 500 at risk, the ghost finding 1480 → 1480 once
    assert ring["amount_at_risk"] == pytest.approx(1480.0)
    assert ring["n_claims"] == 1
    assert _case_of(cases, person="P9")["amount_at_risk"] == pytest.approx(300.0)
    # what passed through the ring: five claims of 1480
    assert ring["amount_claimed"] == pytest.approx(5 * 1480.0)


def test_case_ids_stable_across_reruns(tmp_path):
    first = build_cases(write_world(tmp_path / "a"), policy()).cases
    second = build_cases(write_world(tmp_path / "b"), policy()).cases
    assert first["case_id"].to_list() == second["case_id"].to_list()
    assert first["case_id"].n_unique() == first.height
    assert first.drop("graph_file").equals(second.drop("graph_file"))


def test_cases_are_ranked_by_money_with_chinese_summary(run_dir):
    cases = build_cases(run_dir, policy()).cases
    assert cases["rank"].to_list() == list(range(1, cases.height + 1))
    assert cases["amount_at_risk"].to_list() == sorted(cases["amount_at_risk"].to_list(), reverse=True)
    summary = _case_of(cases, person="P1")["summary"]
    assert "见习人员2人" in summary and "见习单位3家" in summary and "虚假见习人员" in summary
    assert pid("P1") not in " ".join(cases["summary"].to_list())  # no raw IDs in summaries


def test_write_run_cases_writes_parquet_and_top_graphs(run_dir):
    cases = write_run_cases(run_dir, policy())
    on_disk = pl.read_parquet(run_dir / "cases.parquet")
    assert on_disk.height == cases.height > 0
    for row in on_disk.iter_rows(named=True):
        assert row["graph_file"] == f"graphs/case_{row['case_id']}.html"
        html = (run_dir / row["graph_file"]).read_text(encoding="utf-8")
        assert "vis-network" in html and "<script src" not in html
        for p in row["person_ids"]:
            assert p not in html  # masked by default


def test_a_run_without_findings_writes_an_empty_case_table(tmp_path):
    run_dir = write_world(tmp_path / "run")
    findings = pl.read_parquet(run_dir / "findings.parquet")
    findings.clear().write_parquet(run_dir / "findings.parquet")
    pl.read_parquet(run_dir / "finding_claims.parquet").clear().write_parquet(run_dir / "finding_claims.parquet")
    cases = write_run_cases(run_dir, policy())
    assert cases.height == 0
    assert pl.read_parquet(run_dir / "cases.parquet").columns == list(CASE_SCHEMA)


def test_a_case_summary_reads_naturally() -> None:
    """Amounts as every output writes them; a count of zero is left out, not written as 0人."""
    from audit.app.cases import _summary

    frame = pl.DataFrame({
        "unit_names": [["甲公司"], []], "n_units": [1, 0], "n_persons": [0, 2], "n_findings": [3, 1],
        "n_signals": [0, 1], "families": [["DORMANT_UNIT"], ["GHOST_TRAINEE"]],
        "amount_at_risk": [47144.0, 0.0], "amount_claimed": [0.0, 9106.0],
    })
    first, second = frame.select(_summary().alias("s"))["s"].to_list()
    assert first == "甲公司：见习单位1家，问题线索3条，涉及长期未开展见习；风险金额 47,144.00 元"
    assert second == "未涉及见习单位：见习人员2人，问题线索1条（其中图谱信号1条），涉及虚假见习人员；风险金额 0.00 元，经手申领 9,106.00 元"
