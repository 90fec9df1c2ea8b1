"""DUPLICATE_TRAINEE — one natural person under several IDs; one person-month claimed twice.

Each case: a description, the rows, the findings expected. Namesakes with the same birth date
and twins (same surname, birth date and family phone, two IDs that both validate) are two
people; a 月度 and a 差额 claim for the same month are different payments.
"""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from checks import duplicate_trainee
from tests.helpers import claim, pid, run, tables, trainee, unit
from tests.test_identity import bad_check_id, legacy_pair, swapped_id, twin_ids, variant_trainee

UNITS = [unit("U1"), unit("U2")]
CARD, PHONE = "6222020000000001", "13800000001"

VARIANTS = [
    pytest.param(
        "the 15- and 18-digit forms of one ID registered as two trainees",
        [trainee(legacy_pair("P1")[0], name="张三"),
         {**trainee(legacy_pair("P1")[0], name="张三"), "person_id_raw": legacy_pair("P1")[1], "person_id_status": "legacy15"}],
        {legacy_pair("P1")[0]: {legacy_pair("P1")[0], legacy_pair("P1")[1]}},
        id="legacy15",
    ),
    pytest.param(
        "a failed check digit with the same name and bank card as a valid ID",
        [trainee("P1", name="张三", bank_card=CARD), variant_trainee(bad_check_id("P1"), "bad_check", "张三", bank_card=CARD)],
        {pid("P1"): {pid("P1"), bad_check_id("P1")}},
        id="bad_check+card",
    ),
    pytest.param(
        "adjacent digits transposed, same name and phone",
        [trainee("P1", name="张三", phone=PHONE), variant_trainee(swapped_id("P1"), "bad_check", "张三", phone=PHONE)],
        {pid("P1"): {pid("P1"), swapped_id("P1")}},
        id="transposition+phone",
    ),
    pytest.param(
        "a failed check digit and the same name only: not enough",
        [trainee("P1", name="张三", bank_card=CARD), variant_trainee(bad_check_id("P1"), "bad_check", "张三")],
        {},
        id="name-only",
    ),
    pytest.param(
        "namesakes with the same birth date, both IDs valid, same phone: two people",
        [trainee("P1", name="王芳", phone=PHONE), trainee("P2", name="王芳", phone=PHONE)],
        {},
        id="namesakes",
    ),
    pytest.param(
        "twins: same surname, birth date and family phone, both IDs valid: two people",
        [trainee(twin_ids()[0], name="刘洋", phone=PHONE), trainee(twin_ids()[1], name="刘涛", phone=PHONE)],
        {},
        id="twins",
    ),
]


@pytest.mark.parametrize(("description", "register", "expected"), VARIANTS)
def test_id_variant(description: str, register: list[dict], expected: dict[str, set[str]]) -> None:
    """DUPLICATE_TRAINEE.id_variant"""
    found, _ = run(duplicate_trainee.id_variant, tables(trainees=register))
    got = {r["person_id"]: {i["raw_id"] for i in json.loads(r["evidence"])["ids"]} for r in found.iter_rows(named=True)}
    assert got == expected, description
    assert (found["amount_at_risk"] == 0).all()


def test_id_variant_evidence_says_which_contact_corroborates() -> None:
    register = [trainee("P1", name="张三", bank_card=CARD, phone=PHONE),
                variant_trainee(bad_check_id("P1"), "bad_check", "张三", phone=PHONE)]
    found, _ = run(duplicate_trainee.id_variant, tables(trainees=register))
    ev = json.loads(found["evidence"][0])
    assert ev["corroborated_by"] == ["phone"] and ev["names"] == ["张三"] and ev["links"] == ["bad_check"]


def _m(cid: str, unit_label: str, person: str, month: str, amount: float = 1480.0, **kw) -> dict:
    return claim(cid, unit_label, person, month, amount, **kw)


TWICE = [
    pytest.param(
        "two monthly claims for one month by two units: the later-submitted one is at risk",
        [trainee("P1")],
        [_m("C1", "U1", "P1", "2023-07", submitted="2023-08-05"), _m("C2", "U2", "P1", "2023-07", submitted="2023-08-20")],
        {("P1", "C2"): 1480.0},
        id="two-units",
    ),
    pytest.param(
        "the same unit claiming one month twice (with insurance on the duplicate)",
        [trainee("P1")],
        [_m("C1", "U1", "P1", "2023-07", submitted="2023-08-05"),
         _m("C2", "U1", "P1", "2023-07", submitted="2023-09-05", insurance_amount=30.0)],
        {("P1", "C2"): 1510.0},
        id="same-unit",
    ),
    pytest.param(
        "a monthly and a remaining-period claim for the same month exclude each other",
        [trainee("P1")],
        [_m("C1", "U1", "P1", "2023-10", submitted="2023-11-05"),
         _m("C2", "U1", "P1", "2023-10", 1200.0, claim_type="剩余期限", submitted="2023-12-01")],
        {("P1", "C2"): 1200.0},
        id="monthly+remaining",
    ),
    pytest.param(
        "a monthly and a difference (差额) claim for the same month are two payments: nothing",
        [trainee("P1")],
        [_m("C1", "U1", "P1", "2023-12"), _m("C2", "U1", "P1", "2023-12", 370.0, claim_type="差额", submitted="2024-02-01")],
        {},
        id="monthly+difference",
    ),
    pytest.param(
        "consecutive months: nothing",
        [trainee("P1")],
        [_m("C1", "U1", "P1", "2023-07"), _m("C2", "U1", "P1", "2023-08")],
        {},
        id="consecutive",
    ),
    pytest.param(
        "one month claimed under a valid ID and a corroborated mis-keyed ID",
        [trainee("P1", name="张三", bank_card=CARD), variant_trainee(bad_check_id("P1"), "bad_check", "张三", bank_card=CARD)],
        [_m("C1", "U1", "P1", "2023-07", submitted="2023-08-05"),
         _m("C2", "U2", bad_check_id("P1"), "2023-07", submitted="2023-08-06")],
        {("P1", "C2"): 1480.0},
        id="via-variant",
    ),
    pytest.param(
        "namesakes with the same birth date, one month each at two units: nothing",
        [trainee("P1", name="王芳", phone=PHONE), trainee("P2", name="王芳", phone=PHONE)],
        [_m("C1", "U1", "P1", "2023-07"), _m("C2", "U2", "P2", "2023-07")],
        {},
        id="namesakes",
    ),
    pytest.param(
        "twins claimed for the same month: nothing",
        [trainee(twin_ids()[0], name="刘洋", phone=PHONE), trainee(twin_ids()[1], name="刘涛", phone=PHONE)],
        [_m("C1", "U1", twin_ids()[0], "2023-07"), _m("C2", "U1", twin_ids()[1], "2023-07")],
        {},
        id="twins",
    ),
    pytest.param(
        "three claims for one month: the two later ones",
        [trainee("P1")],
        [_m("C1", "U1", "P1", "2023-07", submitted="2023-08-05"), _m("C2", "U1", "P1", "2023-07", submitted="2023-08-07"),
         _m("C3", "U2", "P1", "2023-07", 1000.0, submitted="2023-08-06")],
        {("P1", "C2"): 1480.0, ("P1", "C3"): 1000.0},
        id="three",
    ),
    pytest.param(
        "a claim reversed (冲销) and claimed again is claimed once: nothing",
        [trainee("P1")],
        [_m("C1", "U1", "P1", "2023-07", submitted="2023-08-05"), _m("R1", "U1", "P1", "2023-07", -1480.0, submitted="2023-08-20"),
         _m("C2", "U1", "P1", "2023-07", submitted="2023-09-05")],
        {},
        id="reversed-and-claimed-again",
    ),
    pytest.param(
        "a reversal of one of two claims leaves one: nothing",
        [trainee("P1")],
        [_m("C1", "U1", "P1", "2023-07", submitted="2023-08-05"), _m("C2", "U2", "P1", "2023-07", submitted="2023-08-06"),
         _m("R2", "U2", "P1", "2023-07", -1480.0, submitted="2023-09-01")],
        {},
        id="one-of-two-reversed",
    ),
    pytest.param(
        "look-alike: a reversal of another amount undoes neither claim: the later one",
        [trainee("P1")],
        [_m("C1", "U1", "P1", "2023-07", submitted="2023-08-05"), _m("C2", "U2", "P1", "2023-07", submitted="2023-08-06"),
         _m("R2", "U2", "P1", "2023-07", -500.0, submitted="2023-09-01")],
        {("P1", "C2"): 1480.0},
        id="partial-reversal",
    ),
    pytest.param(
        "look-alike: three claims and one reversal: one claim too many",
        [trainee("P1")],
        [_m("C1", "U1", "P1", "2023-07", submitted="2023-08-05"), _m("C2", "U1", "P1", "2023-07", submitted="2023-08-06"),
         _m("C3", "U1", "P1", "2023-07", submitted="2023-08-07"), _m("R", "U1", "P1", "2023-07", -1480.0, submitted="2023-09-01")],
        {("P1", "C3"): 1480.0},
        id="three-one-reversed",
    ),
    pytest.param(
        "one claim id on two rows (a duplicated key, DATA_QUALITY's) is not two claims",
        [trainee("P1")],
        [_m("C1", "U1", "P1", "2023-07"), _m("C1", "U1", "P1", "2023-07", 1400.0)],
        {},
        id="same-claim-id",
    ),
]


@pytest.mark.parametrize(("description", "register", "claims", "expected"), TWICE)
def test_same_month_claimed_twice(description: str, register: list[dict], claims: list[dict],
                                  expected: dict[tuple[str, str], float]) -> None:
    """DUPLICATE_TRAINEE.same_month_claimed_twice"""
    found, _ = run(duplicate_trainee.same_month_claimed_twice, tables(units=UNITS, trainees=register, claims=claims))
    got = {(r["person_id"], r["claim_id"]): r["amount_at_risk"] for r in found.iter_rows(named=True)}
    assert got == {(pid(p), c): a for (p, c), a in expected.items()}, description


@pytest.mark.parametrize("units, amounts, found, skipped", [
    pytest.param(UNITS, [1000.0, 480.0], {}, set(), id="parts at one unit within one month's subsidy: claimed once"),
    pytest.param(UNITS, [1480.0, 1480.0], {"C2": 1480.0}, set(), id="look-alike: one amount twice: found"),
    pytest.param(UNITS, [1480.0, 1000.0], {"C2": 1000.0}, set(), id="look-alike: parts above one month's most: found"),
    pytest.param([unit("U1", county="620102"), unit("U2")], [1000.0, 480.0], {}, {"C2"},
                 id="parts where the month cannot be priced (Gansu: no rate kind): not judged"),
    pytest.param([unit("U1", county="620102"), unit("U2")], [740.0, 740.0], {"C2": 740.0}, set(),
                 id="look-alike: one amount twice where the month cannot be priced: found"),
])
def test_a_month_paid_in_parts_is_claimed_once(units: list, amounts: list, found: dict, skipped: set) -> None:
    """A month paid in parts at one unit (a 补发 beside the first payment) is not a month claimed
    twice where the parts come to no more than one month's subsidy could be (the raised rate of
    the unit's county and month); where the month cannot be priced, parts cannot be told from a
    second claim, and the later one is skipped with the reason. One amount twice is a second claim
    wherever it is."""
    claims = [_m("C1", "U1", "P1", "2024-03", amounts[0], submitted="2024-04-05"),
              _m("C2", "U1", "P1", "2024-03", amounts[1], submitted="2024-04-25")]
    got, skips = run(duplicate_trainee.same_month_claimed_twice, tables(units=units, trainees=[trainee("P1")], claims=claims))
    assert {r["claim_id"]: r["amount_at_risk"] for r in got.iter_rows(named=True)} == found
    assert (set(skips["claim_id"]) if skips.height else set()) == skipped
    if skipped:
        assert skips["reason"][0] == duplicate_trainee.PARTS_UNPRICED


def test_same_month_evidence_names_the_claim_that_stands() -> None:
    claims = [_m("C1", "U1", "P1", "2023-07", submitted="2023-08-05"), _m("C2", "U2", "P1", "2023-07", submitted="2023-08-20")]
    found, _ = run(duplicate_trainee.same_month_claimed_twice, tables(units=UNITS, trainees=[trainee("P1")], claims=claims))
    ev = json.loads(found["evidence"][0])
    assert ev["first_claim"]["claim_id"] == "C1" and ev["duplicate_claim"]["claim_id"] == "C2"
    assert ev["via_id_variant"] is False
    assert found["period_start"][0].isoformat() == "2023-07-01"


# -- property: the order of input rows changes nothing ------------------------------------------

WORLD = dict(
    units=UNITS,
    trainees=[trainee("P1", name="张三", bank_card=CARD), variant_trainee(bad_check_id("P1"), "bad_check", "张三", bank_card=CARD),
              trainee(legacy_pair("P2")[0], name="李四"),
              {**trainee(legacy_pair("P2")[0], name="李四"), "person_id_raw": legacy_pair("P2")[1], "person_id_status": "legacy15"},
              trainee("P3")],
    claims=[_m("C1", "U1", "P1", "2023-07", submitted="2023-08-05"), _m("C2", "U2", bad_check_id("P1"), "2023-07", submitted="2023-08-06"),
            _m("C3", "U1", "P3", "2023-07", submitted="2023-08-06"), _m("C4", "U1", "P3", "2023-07", submitted="2023-08-06"),
            _m("C5", "U1", "P3", "2023-08"), _m("C6", "U1", "P3", "2023-08", 300.0, claim_type="差额")],
)


@settings(max_examples=15, deadline=None)
@given(st.randoms(use_true_random=False))
def test_row_order_changes_nothing(rnd) -> None:
    for check in duplicate_trainee.CHECKS:
        base, _ = run(check, tables(**WORLD))
        t = tables(**WORLD)
        for name in ("trainees", "claims", "units"):
            df = getattr(t, name).collect()
            order = list(range(df.height))
            rnd.shuffle(order)
            setattr(t, name, df[order].lazy())
        moved, _ = run(check, t)
        cols = [c for c in base.columns if c != "_claims"]
        assert base.height > 0
        assert base.sort(cols).select(cols).equals(moved.sort(cols).select(cols))
