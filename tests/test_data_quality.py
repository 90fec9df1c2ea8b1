"""DATA_QUALITY — what the loader kept but flagged, and disagreements with the authoritative registry.

Each case: a description, the rows (with the flags the loader sets), the findings expected as
(person, unit, claim) keys. Clean look-alikes — a valid ID, a claim whose agreement exists, two
different claims for one person — must not fire.
"""

from __future__ import annotations

import json

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from audit.loader.normalised import VERSIONS_DISAGREE
from checks import data_quality
from tests.helpers import agreement, claim, pid, run, tables, trainee, unit, uscc
from tests.test_identity import bad_check_id, legacy_pair, variant_trainee

CARD = "6222020000000001"
FULL, SHORT = legacy_pair("P9")


def bad_uscc(label: str) -> str:
    code = uscc(label)
    return code[:17] + ("0" if code[17] != "0" else "1")


BASE = dict(
    units=[unit("U1")],
    trainees=[trainee("P1")],
    agreements=[agreement("A1", "P1", "U1", "2023-07-01", "2023-12-31")],
    claims=[claim("C1", "U1", "P1", "2023-07", 1480.0, agreement_id="A1")],
)


def world(**changes: list[dict]) -> dict:
    return {**BASE, **changes}


def P(label: str) -> tuple:  # noqa: N802 — a person-keyed finding
    return (pid(label), None, None)


def U(label: str) -> tuple:  # noqa: N802 — a unit-keyed finding
    return (None, uscc(label) if len(label) < 18 else label, None)


def C(person: str, unit_label: str, claim_id: str) -> tuple:  # noqa: N802 — a claim-keyed finding
    return (pid(person), uscc(unit_label), claim_id)


CASES = [
    # -- legacy IDs
    pytest.param("DATA_QUALITY.legacy_id", "a trainee registered under a 15-digit ID",
                 world(trainees=[trainee("P1"), {**trainee(FULL), "person_id_raw": SHORT, "person_id_status": "legacy15"}]),
                 {P(FULL)}, id="legacy-trainee"),
    pytest.param("DATA_QUALITY.legacy_id", "claims under the 15-digit form: one finding for the person",
                 world(claims=[{**claim(f"C{i}", "U1", FULL, f"2023-0{i}", 1480.0), "person_id_raw": SHORT,
                                "person_id_status": "legacy15"} for i in (7, 8)]),
                 {P(FULL)}, id="legacy-claims"),
    pytest.param("DATA_QUALITY.legacy_id", "every ID in its 18-digit form: nothing", world(), set(), id="legacy-none"),
    # -- failed check digits
    pytest.param("DATA_QUALITY.id_check_failed", "a claim under an ID whose check digit fails",
                 world(claims=[{**claim("C2", "U1", bad_check_id("P1"), "2023-08", 1480.0), "person_id_status": "bad_check"}]),
                 {(bad_check_id("P1"), None, None)}, id="bad-check-claim"),
    pytest.param("DATA_QUALITY.id_check_failed", "a malformed ID in the trainees",
                 world(trainees=[trainee("P1"), {**trainee("PX"), "person_id": "36010220000101108", "person_id_status": "malformed"}]),
                 {("36010220000101108", None, None)}, id="malformed"),
    pytest.param("DATA_QUALITY.id_check_failed", "valid IDs only: nothing", world(), set(), id="bad-check-none"),
    # -- USCC check characters
    pytest.param("DATA_QUALITY.uscc_check_failed", "a unit whose credit code fails its check character",
                 world(units=[unit("U1"), {**unit("U2"), "unit_id": bad_uscc("U2"), "unit_id_status": "bad_check"}]),
                 {U(bad_uscc("U2"))}, id="uscc-bad"),
    pytest.param("DATA_QUALITY.uscc_check_failed", "valid codes: nothing", world(), set(), id="uscc-none"),
    # -- orphans
    pytest.param("DATA_QUALITY.orphan_claim", "a claim naming an agreement that does not exist",
                 world(claims=[claim("C1", "U1", "P1", "2023-07", 1480.0, agreement_id="A404")]),
                 {C("P1", "U1", "C1")}, id="orphan-agreement-id"),
    pytest.param("DATA_QUALITY.orphan_claim", "a claim for a person not in the trainees register",
                 world(claims=[claim("C1", "U1", "P1", "2023-07", 1480.0, agreement_id="A1"),
                               claim("C2", "U1", "P404", "2023-07", 1480.0)]),
                 {C("P404", "U1", "C2")}, id="orphan-person"),
    pytest.param("DATA_QUALITY.orphan_claim", "a claim by a unit not in the units register",
                 world(claims=[claim("C3", "U404", "P1", "2023-07", 1480.0)]),
                 {C("P1", "U404", "C3")}, id="orphan-unit"),
    pytest.param("DATA_QUALITY.orphan_claim", "a claim under its own agreement, for a person not in the trainees register",
                 world(agreements=[agreement("A1", "P1", "U1", "2023-07-01", "2023-12-31"),
                                   agreement("A2", "P404", "U1", "2023-07-01", "2023-12-31")],
                       claims=[claim("C1", "U1", "P1", "2023-07", 1480.0, agreement_id="A1"),
                               claim("C2", "U1", "P404", "2023-07", 1480.0, agreement_id="A2")]),
                 {C("P404", "U1", "C2")}, id="orphan-person-of-agreement"),
    pytest.param("DATA_QUALITY.orphan_claim", "a claim under its own agreement, by a unit not in the units register",
                 world(agreements=[agreement("A1", "P1", "U1", "2023-07-01", "2023-12-31"),
                                   agreement("A3", "P1", "U404", "2024-01-01", "2024-03-31")],
                       claims=[claim("C1", "U1", "P1", "2023-07", 1480.0, agreement_id="A1"),
                               claim("C3", "U404", "P1", "2024-01", 1480.0, agreement_id="A3")]),
                 {C("P1", "U404", "C3")}, id="orphan-unit-of-agreement"),
    pytest.param("DATA_QUALITY.orphan_claim", "a claim without an agreement id, person and unit known: nothing",
                 world(claims=[claim("C1", "U1", "P1", "2023-07", 1480.0)]), set(), id="orphan-none"),
    pytest.param("DATA_QUALITY.orphan_agreement", "an agreement for a unit not in the units register",
                 world(agreements=[agreement("A1", "P1", "U404", "2023-07-01", "2023-12-31")]),
                 {(pid("P1"), uscc("U404"), None)}, id="orphan-agreement"),
    pytest.param("DATA_QUALITY.orphan_agreement", "agreement for a registered person and unit: nothing",
                 world(), set(), id="orphan-agreement-none"),
    # -- duplicated keys
    pytest.param("DATA_QUALITY.duplicate_key", "one claim id on two rows with different amounts",
                 world(claims=[claim("C1", "U1", "P1", "2023-07", 1480.0, agreement_id="A1"),
                               claim("C1", "U1", "P1", "2023-07", 1850.0, agreement_id="A1")]),
                 {C("P1", "U1", "C1")}, id="dup-claim"),
    pytest.param("DATA_QUALITY.duplicate_key", "one unit code on two rows with different names",
                 world(units=[unit("U1"), unit("U1", unit_name="另一个名称")]), {U("U1")}, id="dup-unit"),
    pytest.param("DATA_QUALITY.duplicate_key", "one agreement id on two rows with different dates",
                 world(agreements=[agreement("A1", "P1", "U1", "2023-07-01", "2023-12-31"),
                                   agreement("A1", "P1", "U1", "2023-07-01", "2024-06-30")]),
                 {(pid("P1"), uscc("U1"), None)}, id="dup-agreement"),
    pytest.param("DATA_QUALITY.duplicate_key", "the 15- and 18-digit forms on two trainee rows are id_variant's: nothing",
                 world(trainees=[trainee(FULL), {**trainee(FULL), "person_id_raw": SHORT, "person_id_status": "legacy15"}]),
                 set(), id="dup-legacy-pair"),
    pytest.param("DATA_QUALITY.duplicate_key", "two claims for one person-month under two ids: not a key duplicate",
                 world(claims=[claim("C1", "U1", "P1", "2023-07", 1480.0), claim("C2", "U1", "P1", "2023-07", 1480.0)]),
                 set(), id="dup-none"),
    # -- claim vs agreement
    pytest.param("DATA_QUALITY.claim_agreement_mismatch", "a claim citing another person's agreement",
                 world(trainees=[trainee("P1"), trainee("P2")],
                       claims=[claim("C2", "U1", "P2", "2023-07", 1480.0, agreement_id="A1")]),
                 {C("P2", "U1", "C2")}, id="mismatch-person"),
    pytest.param("DATA_QUALITY.claim_agreement_mismatch", "a claim by another unit citing the agreement",
                 world(units=[unit("U1"), unit("U2")], claims=[claim("C2", "U2", "P1", "2023-07", 1480.0, agreement_id="A1")]),
                 {C("P1", "U2", "C2")}, id="mismatch-unit"),
    pytest.param("DATA_QUALITY.claim_agreement_mismatch",
                 "a claim under a corroborated variant of the agreement's ID is the same person: nothing",
                 world(trainees=[trainee("P1", name="张三", bank_card=CARD),
                                 variant_trainee(bad_check_id("P1"), "bad_check", "张三", bank_card=CARD)],
                       claims=[claim("C2", "U1", bad_check_id("P1"), "2023-07", 1480.0, agreement_id="A1")]),
                 set(), id="mismatch-variant"),
    pytest.param("DATA_QUALITY.claim_agreement_mismatch", "a claim matching its agreement: nothing", world(), set(),
                 id="mismatch-none"),
    # -- the market registry is the authority on a unit's legal representative
    pytest.param("DATA_QUALITY.registry_disagreement", "legal representative differs from the market registry",
                 world(units=[unit("U1", legal_rep_id=pid("R1"))],
                       market_registry=[{"unit_id": uscc("U1"), "reg_status": "存续", "legal_rep_id": pid("R2")}]),
                 {U("U1")}, id="rep-differs"),
    pytest.param("DATA_QUALITY.registry_disagreement", "the same legal representative: nothing",
                 world(units=[unit("U1", legal_rep_id=pid("R1"))],
                       market_registry=[{"unit_id": uscc("U1"), "reg_status": "存续", "legal_rep_id": pid("R1")}]),
                 set(), id="rep-same"),
    pytest.param("DATA_QUALITY.registry_disagreement", "no legal representative recorded in the internship system: nothing",
                 world(market_registry=[{"unit_id": uscc("U1"), "reg_status": "存续", "legal_rep_id": pid("R2")}]),
                 set(), id="rep-missing"),
    # -- county codes are six digits (GB/T 2260); anything else is a fact about its row
    pytest.param("DATA_QUALITY.county_code_invalid", "a unit whose county code climbs out of a directory",
                 world(units=[unit("U1", county="../../x")]), {U("U1")}, id="county-path"),
    pytest.param("DATA_QUALITY.county_code_invalid", "a unit whose county code is an absolute path",
                 world(units=[unit("U1", county="/tmp/x")]), {U("U1")}, id="county-absolute"),
    pytest.param("DATA_QUALITY.county_code_invalid", "a unit whose county code is markup",
                 world(units=[unit("U1", county="<script>alert(1)</script>")]), {U("U1")}, id="county-markup"),
    pytest.param("DATA_QUALITY.county_code_invalid", "a county code of 300 digits",
                 world(units=[unit("U1", county="9" * 300)]), {U("U1")}, id="county-long"),
    pytest.param("DATA_QUALITY.county_code_invalid", "five digits: one short",
                 world(units=[unit("U1", county="36010")]), {U("U1")}, id="county-short"),
    pytest.param("DATA_QUALITY.county_code_invalid", "a paying office's code that is not six digits",
                 world(claims=[claim("C1", "U1", "P1", "2023-07", 1480.0, agreement_id="A1",
                                     handling_county_code="3601O2")]),
                 {C("P1", "U1", "C1")}, id="county-handling"),
    pytest.param("DATA_QUALITY.county_code_invalid", "six digits, even one not in GB/T 2260's list: nothing here",
                 world(units=[unit("U1", county="999999")]), set(), id="county-six-digits"),
    pytest.param("DATA_QUALITY.county_code_invalid", "no paying office recorded: nothing",
                 world(), set(), id="county-none"),
    # -- a negative claim amount is a reversal: kept, shown
    pytest.param("DATA_QUALITY.negative_amount", "a claim of −1,480 yuan (a reversal)",
                 world(claims=[claim("C1", "U1", "P1", "2023-07", 1480.0, agreement_id="A1"),
                               claim("C2", "U1", "P1", "2023-07", -1480.0, agreement_id="A1")]),
                 {C("P1", "U1", "C2")}, id="negative-amount"),
    pytest.param("DATA_QUALITY.negative_amount", "a negative insurance amount",
                 world(claims=[claim("C1", "U1", "P1", "2023-07", 1480.0, agreement_id="A1", insurance_amount=-35.0)]),
                 {C("P1", "U1", "C1")}, id="negative-insurance"),
    pytest.param("DATA_QUALITY.negative_amount", "a claim of 0 yuan: nothing",
                 world(claims=[claim("C1", "U1", "P1", "2023-07", 0.0, agreement_id="A1")]), set(), id="negative-zero"),
]


@pytest.mark.parametrize(("rule_id", "description", "rows", "expected"), CASES)
def test_data_quality(rule_id: str, description: str, rows: dict, expected: set[tuple]) -> None:
    check = next(c for c in data_quality.CHECKS if c.rule.id == rule_id)
    found, _ = run(check, tables(**rows))
    got = {(r["person_id"], r["unit_id"], r["claim_id"]) for r in found.iter_rows(named=True)}
    assert got == expected, description
    assert (found["amount_at_risk"] == 0).all()
    for ev in found["evidence"]:  # every finding points at input rows
        assert "_line" in ev or '"_line"' in ev, ev


def lost_row(table: str, **placed: str) -> dict:
    """A row of ``table`` the loader could not read, placed by its readable cells."""
    return {"table": table, "file": f"{table}.csv", "line": 7, "reasons": "start_date: 无法识别的日期 / unreadable date",
            **placed}


LOST_REFERENCES = [
    ("the claim's agreement is an unreadable row of the agreements", "DATA_QUALITY.orphan_claim",
     dict(claims=[claim("C1", "U1", "P1", "2023-07", 1480.0, agreement_id="A9")]),
     [lost_row("agreements", agreement_id="A9", person_id=pid("P1"))], set(), {"C1"}),
    ("the claim's person is an unreadable row of the trainees", "DATA_QUALITY.orphan_claim",
     dict(claims=[claim("C2", "U1", "P4", "2023-07", 1480.0)]), [lost_row("trainees", person_id=pid("P4"))], set(), {"C2"}),
    ("the claim's unit is an unreadable row of the units", "DATA_QUALITY.orphan_claim",
     dict(claims=[claim("C3", "U4", "P1", "2023-07", 1480.0)]), [lost_row("units", unit_id=uscc("U4"))], set(), {"C3"}),
    ("look-alike: the unreadable row is another agreement, or a claim naming the agreement: found",
     "DATA_QUALITY.orphan_claim", dict(claims=[claim("C1", "U1", "P1", "2023-07", 1480.0, agreement_id="A9")]),
     [lost_row("agreements", agreement_id="A8"), lost_row("claims", agreement_id="A9")], {C("P1", "U1", "C1")}, set()),
    ("look-alike: the agreement lost, but the unit missing outright: found for the unit", "DATA_QUALITY.orphan_claim",
     dict(claims=[claim("C1", "U404", "P1", "2023-07", 1480.0, agreement_id="A9")]),
     [lost_row("agreements", agreement_id="A9")], {C("P1", "U404", "C1")}, set()),
    ("the agreement's unit is an unreadable row of the units", "DATA_QUALITY.orphan_agreement",
     dict(agreements=[agreement("A1", "P1", "U4", "2023-07-01", "2023-12-31")], claims=[]),
     [lost_row("units", unit_id=uscc("U4"))], set(), {None}),
    ("look-alike: another unit's row lost: the agreement's unit is missing", "DATA_QUALITY.orphan_agreement",
     dict(agreements=[agreement("A1", "P1", "U4", "2023-07-01", "2023-12-31")], claims=[]),
     [lost_row("units", unit_id=uscc("U5"))], {(pid("P1"), uscc("U4"), None)}, set()),
    ("a claim under another ID than its agreement's, that ID's registration unreadable",
     "DATA_QUALITY.claim_agreement_mismatch",
     dict(claims=[claim("C2", "U1", bad_check_id("P1"), "2023-07", 1480.0, agreement_id="A1")]),
     [lost_row("trainees", person_id=bad_check_id("P1"))], set(), {"C2"}),
    ("look-alike: another person's registration lost: another person's agreement, found",
     "DATA_QUALITY.claim_agreement_mismatch",
     dict(trainees=[trainee("P1"), trainee("P2")], claims=[claim("C2", "U1", "P2", "2023-07", 1480.0, agreement_id="A1")]),
     [lost_row("trainees", person_id=pid("P3"))], {C("P2", "U1", "C2")}, set()),
]


@pytest.mark.parametrize(("description", "rule_id", "rows", "lost", "expected", "skipped"), LOST_REFERENCES,
                         ids=[c[0] for c in LOST_REFERENCES])
def test_a_reference_to_an_unreadable_row_is_not_missing(description, rule_id, rows, lost, expected, skipped) -> None:
    """Unreadable rows do not accuse: a claim or agreement naming a row its register holds but the
    loader could not read (the quarantine, placed by that row's readable cells) is skipped with
    the reason, not reported as naming nothing."""
    check = next(c for c in data_quality.CHECKS if c.rule.id == rule_id)
    found, skips = run(check, tables(**world(**rows), quarantine=lost))
    assert {(r["person_id"], r["unit_id"], r["claim_id"]) for r in found.iter_rows(named=True)} == expected
    assert (set(skips["claim_id"]) if skips.height else set()) == skipped
    if skips.height:
        assert skips["reason"].str.contains("无法读取").all()


def _version(line: int, end: str, **placed: str) -> dict:
    """An agreement row the loader quarantined as one of two versions that disagree."""
    return lost_row("agreements", agreement_id="A9", person_id=pid("P1"), unit_id=uscc("U1"),
                    **{"line": line, "reasons": f"agreement_id: {VERSIONS_DISAGREE}（同一人员、单位，共 2 种；本行…：2023-07-01／{end}／空）…",
                       **placed})


@pytest.mark.parametrize("lost, agreements, expected", [
    pytest.param([_version(3, "2023-12-31"), _version(4, "2024-02-29")], [], 1,
                 id="two versions quarantined by the loader: one finding for the number"),
    pytest.param([lost_row("agreements", agreement_id="A9", person_id=pid("P1"))], [], 0,
                 id="look-alike: an agreement row lost for an unreadable date: no duplicate key"),
    pytest.param([_version(3, "2023-12-31"), _version(4, "2024-02-29")],
                 [agreement("A9", "P2", "U1", "2023-07-01", "2023-12-31"), agreement("A9", "P3", "U1", "2023-08-01", "2023-12-31")],
                 1, id="the number repeated in the readable table too: reported there, once"),
])
def test_duplicate_key_reports_the_versions_the_loader_quarantined(lost: list, agreements: list, expected: int) -> None:
    """The loader quarantines every row of an agreement number whose rows for one person and unit
    give different dates (which holds is unknown): the rules read none of them, and the number is
    still reported as a key repeated with different content, its rows and their dates listed."""
    check = next(c for c in data_quality.CHECKS if c.rule.id == "DATA_QUALITY.duplicate_key")
    found, _ = run(check, tables(**world(agreements=agreements or [agreement("A1", "P1", "U1", "2023-07-01", "2023-12-31")]),
                                 quarantine=lost))
    assert found.height == expected
    if expected and not agreements:
        assert (found["person_id"][0], found["unit_id"][0]) == (pid("P1"), uscc("U1"))
        ev = json.loads(found["evidence"][0])
        assert ev["row_count"] == 2 and [r["_line"] for r in ev["rows"]] == [3, 4]
        assert "2024-02-29" in ev["rows"][1]["reason"]


def test_export_duplicate_rows_counted_once() -> None:
    """DATA_QUALITY.export_duplicate_rows: one informational finding with the count per table."""
    t = tables(**BASE)
    t.claims = t.claims.with_columns(pl.lit(3, pl.Int64).alias("_dup_rows"))
    found, _ = run(data_quality.export_duplicate_rows, t)
    assert found.height == 1 and found["severity"][0] == "low"
    assert json.loads(found["evidence"][0])["tables"] == [{"table": "claims", "rows_repeated": 1, "extra_rows_collapsed": 2}]
    clean, _ = run(data_quality.export_duplicate_rows, tables(**BASE))
    assert clean.height == 0


def test_id_check_failed_names_the_linked_valid_id() -> None:
    rows = world(trainees=[trainee("P1", name="张三", bank_card=CARD),
                           variant_trainee(bad_check_id("P1"), "bad_check", "张三", bank_card=CARD)])
    found, _ = run(data_quality.id_check_failed, tables(**rows))
    ev = json.loads(found["evidence"][0])
    assert ev["linked_to"] == {"person_key": pid("P1"), "link": "bad_check", "link_via": "bank_card"}
    assert ev["rows"] == [{"table": "trainees", "_file": "trainees.csv", "_line": 3, "raw_id": bad_check_id("P1")}]


def test_registry_disagreement_gives_both_values() -> None:
    rows = world(units=[unit("U1", legal_rep_id=pid("R1"))],
                 market_registry=[{"unit_id": uscc("U1"), "reg_status": "存续", "legal_rep_id": pid("R2")}])
    found, _ = run(data_quality.registry_disagreement, tables(**rows))
    ev = json.loads(found["evidence"][0])
    assert (ev["internship_system_value"], ev["market_registry_value"]) == (pid("R1"), pid("R2"))


# -- property: the order of input rows changes nothing ------------------------------------------

WORLD = world(
    units=[unit("U1", legal_rep_id=pid("R1")), unit("U1", unit_name="X", legal_rep_id=pid("R3")), {**unit("U2"), "unit_id": bad_uscc("U2"), "unit_id_status": "bad_check"}],
    trainees=[trainee("P1"), {**trainee(FULL), "person_id_raw": SHORT, "person_id_status": "legacy15"}, trainee("P2")],
    agreements=[agreement("A1", "P1", "U1", "2023-07-01", "2023-12-31"), agreement("A2", "P2", "U404", "2023-07-01", "2023-12-31")],
    claims=[claim("C1", "U1", "P1", "2023-07", 1480.0, agreement_id="A1"), claim("C1", "U1", "P1", "2023-07", 1.0),
            claim("C2", "U1", "P2", "2023-07", 1480.0, agreement_id="A1"), claim("C3", "U9", "P404", "2023-07", 9.0)],
    market_registry=[{"unit_id": uscc("U1"), "reg_status": "存续", "legal_rep_id": pid("R2")}],
)


@settings(max_examples=10, deadline=None)
@given(st.randoms(use_true_random=False))
def test_row_order_changes_nothing(rnd) -> None:
    for check in data_quality.CHECKS:
        base, _ = run(check, tables(**WORLD))
        t = tables(**WORLD)
        for name in ("trainees", "agreements", "claims", "units", "market_registry"):
            df = getattr(t, name).collect()
            order = list(range(df.height))
            rnd.shuffle(order)
            setattr(t, name, df[order].lazy())  # each row keeps its _file/_line
        moved, _ = run(check, t)
        cols = [c for c in base.columns if c != "_claims"]
        assert base.sort(cols).select(cols).equals(moved.sort(cols).select(cols)), check.rule.id


# --------------------------------------------------------------------------------------------
# DATA_QUALITY.uscc_structure — GB 32100-2015 beyond the check character (table 1, the division code)
def code(first17: str) -> str:
    """A 统一社会信用代码 with this body and its right check character."""
    from tests.helpers import uscc_check

    return first17 + uscc_check(first17)


STRUCTURE = [
    # faults: the check character holds, the structure does not
    ("authority code 0 is not in table 1", code("01360102MA35R0001"), ["第1位登记管理部门代码 0"]),
    ("authority code B is in the alphabet but not in table 1", code("B1360102MA35R0002"), ["第1位登记管理部门代码 B"]),
    ("工商 (9) assigns types 1/2/3 only: 95", code("95360102MA35R0003"), ["第2位机构类别代码 5 不属于登记管理部门 9"]),
    ("机构编制 (1) assigns 1/2/3/9: 14", code("14360102MB1234567"), ["第2位机构类别代码 4 不属于登记管理部门 1"]),
    ("民政 (5) assigns 1/2/3/9: 58", code("58360100MJ1234567"), ["第2位机构类别代码 8 不属于登记管理部门 5"]),
    ("其他 (Y) assigns 1 only: Y9", code("Y9360102MA35R0004"), ["第2位机构类别代码 9 不属于登记管理部门 Y"]),
    ("division code with a letter (3601B2)", code("913601B2MA35R0005"), ["第3–8位登记管理机关行政区划码 3601B2"]),
    ("two faults at once: authority W, division 36A10X", code("W136A10XMA35R0006"),
     ["第1位登记管理部门代码 W", "第3–8位登记管理机关行政区划码 36A10X"]),
    # look-alikes: valid structures of other kinds of unit
    ("a company (91)", code("91360102MA35R0007"), []),
    ("a 事业单位 code starting with 12", code("12360000MB1234567"), []),
    ("a 机关 code starting with 11", code("11360100MB0123456"), []),
    ("a 社会团体 code starting with 51", code("51360100MJ1234567"), []),
    ("a 民办非企业单位 (社会服务机构) code starting with 52", code("52360102MJ1234567"), []),
    ("a 基金会 code starting with 53", code("53360000MJ1234567"), []),
    ("a 个体工商户 code starting with 92", code("92360102MA35R0008"), []),
    ("a 农民专业合作社 code starting with 93", code("93360121MA35R0009"), []),
    ("a 村级集体经济组织 code starting with N2", code("N2360121MF1234567"), []),
    ("a centrally registered company (division 100000)", code("91100000MA00R0001"), []),
]


@pytest.mark.parametrize("desc, unit_id, faults", STRUCTURE, ids=[c[0] for c in STRUCTURE])
def test_uscc_structure(desc: str, unit_id: str, faults: list[str]) -> None:
    """DATA_QUALITY.uscc_structure: a LOW fact per code, with the faults named."""
    rows = world(units=[unit("U1"), {**unit("U2"), "unit_id": unit_id}],
                 claims=[claim("C1", "U1", "P1", "2023-07", 1480.0, agreement_id="A1"),
                         {**claim("C2", "U1", "P1", "2023-08", 1480.0), "unit_id": unit_id}])
    found, _ = run(data_quality.uscc_structure, tables(**rows))
    if not faults:
        assert found.height == 0
        return
    assert found["unit_id"].to_list() == [unit_id] and found["severity"].to_list() == ["low"]
    ev = json.loads(found["evidence"][0])
    assert len(ev["faults"]) == len(faults)
    assert all(f.startswith(prefix) for f, prefix in zip(ev["faults"], faults))
    assert ev["row_count"] == 2 and {r["table"] for r in ev["rows"]} == {"units", "claims"}
    assert (found["amount_at_risk"] == 0).all()


def test_uscc_structure_leaves_a_failed_check_character_to_uscc_check_failed() -> None:
    bad = code("95360102MA35R0003")[:17] + "0"
    if bad == code("95360102MA35R0003"):
        bad = bad[:17] + "1"
    rows = world(units=[unit("U1"), {**unit("U2"), "unit_id": bad, "unit_id_status": "bad_check"}])
    found, _ = run(data_quality.uscc_structure, tables(**rows))
    assert found.height == 0
