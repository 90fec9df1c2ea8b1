"""Statuses, facts keys, identities and the cycle's measures, as tables of literal cases.

A finding's status (audit/workspace/status.py) comes from the earlier months it was found in and
the latest reply recorded on it; a 不属实 reply stands only while the facts its rule decided on
(the rule's ``facts``) are unchanged. Each case: what the workspace knows, and the status.
"""

from __future__ import annotations

import datetime as dt
import json

import polars as pl
import pytest

from audit.findings import KEY_COLUMNS, assign_ids, facts_key
from audit.rules import ONGOING
from audit.workspace.measures import draw_sample, performance, recovered_once, sample_results
from audit.workspace.status import finding_statuses, latest_decisions, overdue

MAY, JUNE = dt.date(2024, 5, 1), dt.date(2024, 6, 1)
RULE = "GHOST_TRAINEE.insured_elsewhere"
FACTS = {RULE: ("other_employers",)}


def evidence(*employers: str, claims: int = 3) -> str:
    return json.dumps({"other_employers": list(employers), "claims": [{"claim_id": f"C{i}"} for i in range(claims)],
                       "insurance_rows": [{"employer_id": e, "_file": "si.csv", "_line": 10 + i}
                                          for i, e in enumerate(employers)]})


def reply(outcome: str, recovered: float | None = None, facts: str = "", seq: int = 1) -> dict:
    return {"finding_id": "F1", "seq": seq, "outcome": outcome, "amount_recovered": recovered,
            "decided_date": dt.date(2024, 6, 10), "decided_by": "县人社局", "note": None, "facts_key": facts}


DECIDED_ON = facts_key(evidence("E1"), FACTS[RULE])

# (why, earlier months: [(month, status)], replies, evidence now, amount at risk, expected status)
CASES = [
    ("first seen this month", [], [], evidence("E1"), 3000.0, "新发现"),
    ("found last month, no reply", [(MAY, "新发现")], [], evidence("E1"), 3000.0, "持续"),
    ("found last month, the county is still verifying (待核实)", [(MAY, "新发现")], [reply("待核实")], evidence("E1"), 3000.0, "持续"),
    ("confirmed, nothing recovered yet", [(MAY, "新发现")], [reply("属实")], evidence("E1"), 3000.0, "属实待追回"),
    ("confirmed, part recovered", [(MAY, "新发现")], [reply("属实", 1000.0)], evidence("E1"), 3000.0, "属实待追回"),
    ("confirmed, recovered in two replies that add up", [(MAY, "属实待追回")],
     [reply("属实", 1000.0), reply("属实", 2000.0, seq=2)], evidence("E1"), 3000.0, "已追回"),
    ("partly confirmed, the county recovered its part", [(MAY, "新发现")], [reply("部分属实", 500.0)],
     evidence("E1"), 3000.0, "已追回"),
    ("partly confirmed, nothing recovered", [(MAY, "新发现")], [reply("部分属实")], evidence("E1"), 3000.0, "属实待追回"),
    ("a false alarm on the same facts", [(MAY, "新发现")], [reply("不属实", facts=DECIDED_ON)], evidence("E1"), 3000.0, "不属实"),
    ("a false alarm stays one while claims of the same internship accrue", [(MAY, "不属实")],
     [reply("不属实", facts=DECIDED_ON)], evidence("E1", claims=5), 5000.0, "不属实"),
    ("a false alarm whose facts changed (another employer's insurance) comes back as new", [(MAY, "不属实")],
     [reply("不属实", facts=DECIDED_ON)], evidence("E1", "E2"), 3000.0, "新发现"),
    ("…and persists the month after", [(MAY, "新发现")], [reply("不属实", facts=DECIDED_ON)], evidence("E1", "E2"), 3000.0, "持续"),
    ("the latest reply decides: 不属实 after 待核实", [(MAY, "新发现")],
     [reply("待核实"), reply("不属实", facts=DECIDED_ON, seq=2)], evidence("E1"), 3000.0, "不属实"),
]


@pytest.mark.parametrize("earlier, replies, ev, money, expected",
                         [pytest.param(*c[1:], id=c[0]) for c in CASES])
def test_status(earlier: list, replies: list, ev: str, money: float, expected: str) -> None:
    current = pl.DataFrame({"finding_id": ["F1"], "rule_id": [RULE], "evidence": [ev], "amount_at_risk": [money]})
    before = pl.DataFrame([{"month": m, "finding_id": "F1", "status": s, "sent_month": MAY} for m, s in earlier],
                          schema={"month": pl.Date, "finding_id": pl.String, "status": pl.String, "sent_month": pl.Date})
    rows = pl.DataFrame(replies, schema={"finding_id": pl.String, "seq": pl.Int64, "outcome": pl.String,
                                         "amount_recovered": pl.Float64, "decided_date": pl.Date, "decided_by": pl.String,
                                         "note": pl.String, "facts_key": pl.String})
    history = finding_statuses(current, before, latest_decisions(rows), FACTS, JUNE, 30)
    assert history["status"].to_list() == [expected]


def test_reply_due_and_overdue() -> None:
    """A finding that went out in May is due 30 days after May's end; open in July, it is overdue."""
    current = pl.DataFrame({"finding_id": ["F1", "F2"], "rule_id": [RULE, RULE], "evidence": [evidence("E1")] * 2,
                            "amount_at_risk": [1.0, 1.0]})
    before = pl.DataFrame({"month": [MAY], "finding_id": ["F1"], "status": ["新发现"], "sent_month": [MAY]})
    july = dt.date(2024, 7, 1)
    history = finding_statuses(current, before, latest_decisions(pl.DataFrame()), FACTS, july, 30)
    assert dict(zip(history["finding_id"], history["reply_due"])) == {"F1": dt.date(2024, 6, 30), "F2": dt.date(2024, 8, 30)}
    findings = current.with_columns(pl.lit("U1").alias("unit_id"), pl.lit("360102").alias("county_code"))
    late = overdue(history, findings, july)
    assert late["finding_id"].to_list() == ["F1"] and late["days_overdue"].to_list() == [31]
    assert overdue(history, findings, JUNE).height == 0  # in June the May finding is not yet late


# ---------------------------------------------------------------------------------------------
# facts keys and identities


def test_facts_key_reads_lists_as_sets_and_ignores_positions_and_claims() -> None:
    facts = ("other_employers", "insurance_rows.employer_id")
    assert facts_key(evidence("E1", "E2"), facts) == facts_key(evidence("E2", "E1", claims=9), facts)
    assert facts_key(evidence("E1"), facts) != facts_key(evidence("E1", "E2"), facts)
    assert facts_key(evidence("E1"), ()) == ""  # a rule without facts: its identity is its facts


def _findings(**overrides: object) -> pl.DataFrame:
    row = {"rule_id": RULE, "family": "GHOST_TRAINEE", "severity": "high", "person_id": "P1", "unit_id": "U1",
           "claim_id": None, "county_code": "360102", "period_start": dt.date(2024, 1, 1),
           "period_end": dt.date(2024, 5, 31), "amount_at_risk": 1.0, "evidence": "{}", "citation": ""}
    row.update(overrides)
    return pl.DataFrame([row], schema_overrides={"claim_id": pl.String})


def test_an_ongoing_finding_keeps_its_id_as_its_end_moves() -> None:
    ids = {RULE: ONGOING}
    may = assign_ids(_findings(period_end=dt.date(2024, 5, 31)), ids)["finding_id"][0]
    june = assign_ids(_findings(period_end=dt.date(2024, 6, 30)), ids)["finding_id"][0]
    other_internship = assign_ids(_findings(period_start=dt.date(2023, 3, 1)), ids)["finding_id"][0]
    other_unit = assign_ids(_findings(unit_id="U2"), ids)["finding_id"][0]
    assert may == june
    assert len({may, other_internship, other_unit}) == 3


def test_a_rule_without_an_identity_keeps_the_ids_it_had() -> None:
    """The default identity is every key column: the same hash as before identities existed."""
    import hashlib

    found = assign_ids(_findings())
    text = "|".join([RULE, "P1", "U1", "", "360102", "2024-01-01", "2024-05-31"])
    assert found["finding_id"][0] == hashlib.sha1(text.encode()).hexdigest()[:16]
    assert found["status"][0] == "新发现" and len(KEY_COLUMNS) == 6


# ---------------------------------------------------------------------------------------------
# measures


def test_a_recovery_reported_on_two_findings_of_one_claim_counts_once() -> None:
    recovered = pl.DataFrame({"finding_id": ["F1", "F2", "F3"], "county_code": ["360102"] * 3,
                              "recovered": [1000.0, 1000.0, 200.0]})
    links = pl.DataFrame({"finding_id": ["F1", "F2"], "claim_id": ["C1", "C1"], "amount": [1000.0, 1000.0]})
    # F1 and F2 put the same claim at risk; F3 names no claim and counts its own
    assert recovered_once(recovered, links, "county_code")["recovered"].to_list() == [1200.0]


def test_performance_hit_rate_and_mostly_false() -> None:
    seen = pl.DataFrame({"finding_id": ["F1", "F2", "F3", "F4"], "rule_id": ["A", "A", "A", "B"],
                         "county_code": ["1", "1", "2", "2"]})
    decisions = pl.DataFrame({"finding_id": ["F1", "F2", "F3", "F4"], "outcome": ["属实", "不属实", "不属实", "待核实"],
                              "recovered": [300.0, 0.0, 0.0, 0.0]})
    current = seen.with_columns(pl.lit(100.0).alias("amount_at_risk")).filter(pl.col("finding_id") != "F2")
    links = pl.DataFrame(schema={"finding_id": pl.String, "claim_id": pl.String, "amount": pl.Float64})
    by_rule = {r["rule_id"]: r for r in performance(current, links, seen, links, decisions, "rule_id", 0.5).to_dicts()}
    assert (by_rule["A"]["decided"], by_rule["A"]["confirmed"], by_rule["A"]["false_alarms"]) == (3, 1, 2)
    assert by_rule["A"]["hit_rate"] == pytest.approx(0.333) and by_rule["A"]["mostly_false"]
    assert by_rule["A"]["recovered"] == 300.0 and by_rule["A"]["findings"] == 2 and by_rule["A"]["money_at_risk"] == 200.0
    assert by_rule["B"]["decided"] == 0 and by_rule["B"]["hit_rate"] is None and not by_rule["B"]["mostly_false"]


def test_the_sample_is_seeded_per_county_and_leaves_out_flagged_claims() -> None:
    claims = pl.LazyFrame({
        "claim_id": [f"C{i:02d}" for i in range(30)], "unit_id": ["U1"] * 15 + ["U2"] * 15,
        "person_id": ["P"] * 30, "claim_month": [MAY] * 30, "claim_type": ["月度"] * 30, "amount": [1.0] * 30,
        "submitted_date": [dt.date(2024, 6, 5)] * 28 + [dt.date(2024, 5, 5)] * 2})
    units = pl.LazyFrame({"unit_id": ["U1", "U2"], "county_code": ["A", "B"], "approved_date": [MAY, MAY]})
    flagged = pl.DataFrame({"claim_id": ["C00", "C01"]})
    one = draw_sample(claims, units, flagged, JUNE, 4, 7)
    assert one.group_by("county_code").len().sort("county_code")["len"].to_list() == [4, 4]
    assert not set(one["claim_id"]) & {"C00", "C01", "C28", "C29"}  # flagged, or submitted in May
    assert one.equals(draw_sample(claims, units, flagged, JUNE, 4, 7))
    assert not one.equals(draw_sample(claims, units, flagged, JUNE, 4, 8))
    decisions = pl.DataFrame({"claim_id": one["claim_id"][:3], "outcome": ["属实", "不属实", "待核实"],
                              "recovered": [0.0, 0.0, 0.0]})
    total = sample_results(one, decisions).filter(pl.col("county_code") == "合计").to_dicts()[0]
    assert (total["sampled"], total["checked"], total["frauds"], total["miss_share"]) == (8, 2, 1, 0.5)
