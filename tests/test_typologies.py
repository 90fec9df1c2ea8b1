"""Tables of cases for the typologies of real cases (issue #16; currency_2026.md §4): each rule's
cases, with the legal look-alike beside each, that a policy reviewer can read without the Python.

The world: units U1, U2 … in 南昌 东湖区 (Jiangxi); each trainee P… interns 2023-09-01 → 2024-02-29
at the unit named, with six monthly claims of 1480 yuan (``M<person>-<month>``) and, where the
case gives a ledger, the unit's payment of each month to the account named. Audit month 2024-06.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from checks import graph_rules, legal_representatives, own_hire, shell_units
from tests.helpers import agreement, claim, insured, pid, run, tables, trainee, unit, uscc, uscc_check

MONTHS = ("2023-09", "2023-10", "2023-11", "2023-12", "2024-01", "2024-02")
CARD = "6217325700001111222"


def typo_of(label: str) -> str:
    """The ID of ``label`` keyed with a wrong check character (a typo the loader flags bad_check)."""
    valid = pid(label)
    return valid[:17] + ("0" if valid[17] != "0" else "1")


def code(first17: str) -> str:
    return first17 + uscc_check(first17)


PUBLIC = code("12360102MB0001234")  # a public institution (事业单位)
SOCIAL = code("52360102MJ0001234")  # a social organisation (民办非企业单位)
OWN = {f"P{i}": f"62173257000099990{i}" for i in range(1, 10)}  # each trainee's own card


def placed(person: str, unit_label: str, *, start: str = "2023-09-01", end: str = "2024-02-29",
           months: tuple[str, ...] = MONTHS, aid: str | None = None, **kw: Any) -> tuple[dict, list[dict]]:
    """A trainee's agreement at a unit and its monthly claims."""
    ag = agreement(aid or f"A_{person}_{unit_label}", person, unit_label, start, end, **kw)
    return ag, [claim(f"M{person}-{m}", unit_label, person, m, 1480.0) for m in months]


def world(units: list[dict], trainees: list[dict], placements: list[tuple], *, ledger: dict[str, str] | None = None,
          ledger_override: dict[tuple[str, str], str] | None = None, **optional: Any) -> Any:
    """``placements``: (person, unit) or (person, unit, kwargs for :func:`placed`); ``ledger``:
    person → the account the unit paid each claimed month to (no ledger when None), but
    ``ledger_override`` (person, month) → another account."""
    agreements, claims = [], []
    for p in placements:
        ag, cl = placed(p[0], p[1], **(p[2] if len(p) > 2 else {}))
        agreements.append(ag)
        claims += cl
    if ledger is not None:
        override = ledger_override or {}
        optional["allowance_payments"] = [
            {"person_id": c["person_id"], "unit_id": c["unit_id"], "month": c["claim_month"], "amount": 1600.0,
             "account": override.get((label, c["claim_month"]), account)}
            for c in claims for label, account in ledger.items() if c["person_id"] == pid(label)]
    optional.setdefault("social_insurance", [])
    return tables(units=units, trainees=trainees, agreements=agreements, claims=claims, **optional)


def persons(found) -> set[str]:  # noqa: ANN001
    return set(found["person_id"].to_list())


# ============================================================================================
# 1. GHOST_TRAINEE.card_shared_in_unit — one card for several trainees of one unit, or the unit's
#    own account; money: the months the ledger paid there
CARD_CASES = [
    dict(why="three trainees of U1 registered with one card (written three ways); the ledger pays it",
         trainees=[trainee("P1", bank_card=CARD), trainee("P2", bank_card="6217 3257 0000 1111 222"),
                   trainee("P3", bank_card="6217-3257-0000-1111-222"), trainee("P4", bank_card=OWN["P4"])],
         placements=[("P1", "U1"), ("P2", "U1"), ("P3", "U1"), ("P4", "U1")],
         ledger={"P1": CARD, "P2": CARD, "P3": CARD, "P4": OWN["P4"]},
         flagged={"P1": 6 * 1480.0, "P2": 6 * 1480.0, "P3": 6 * 1480.0}),
    dict(why="a trainee registered with U1's own basic account, and paid there",
         units=[unit("U1", bank_account="6228-4800-0000-1234-567")],
         trainees=[trainee("P1", bank_card="6228480000001234567"), trainee("P2", bank_card=OWN["P2"])],
         placements=[("P1", "U1"), ("P2", "U1")],
         ledger={"P1": "6228480000001234567", "P2": OWN["P2"]},
         flagged={"P1": 6 * 1480.0}),
    dict(why="two trainees of U1 share a card; the ledger paid one of them to their own card in October only",
         trainees=[trainee("P1", bank_card=CARD), trainee("P2", bank_card=CARD)],
         placements=[("P1", "U1"), ("P2", "U1")],
         ledger={"P1": CARD, "P2": CARD}, ledger_override={("P2", "2023-10"): OWN["P2"]},
         flagged={"P1": 6 * 1480.0, "P2": 5 * 1480.0}),
    dict(why="two trainees of U1 share a card; no ledger: found, nothing priced",
         trainees=[trainee("P1", bank_card=CARD), trainee("P2", bank_card=CARD)],
         placements=[("P1", "U1"), ("P2", "U1")], ledger=None,
         flagged={"P1": 0.0, "P2": 0.0}),
    dict(why="look-alike: two siblings at U1 share a family phone, each with their own card",
         trainees=[trainee("P1", phone="13800138000", bank_card=OWN["P1"]),
                   trainee("P2", phone="13800138000", bank_card=OWN["P2"])],
         placements=[("P1", "U1"), ("P2", "U1")], ledger={"P1": OWN["P1"], "P2": OWN["P2"]}, flagged={}),
    dict(why="look-alike: relatives sharing one card at two different units (shared_card_ring's signal, not this)",
         units=[unit("U1"), unit("U2")],
         trainees=[trainee("P1", bank_card=CARD), trainee("P2", bank_card=CARD)],
         placements=[("P1", "U1"), ("P2", "U2")], ledger={"P1": CARD, "P2": CARD}, flagged={}),
    dict(why="look-alike: one trainee registered twice (a corroborated check-digit typo, same name and card)",
         trainees=[trainee("P1", name="李四", bank_card=CARD),
                   trainee(typo_of("P1"), name="李四", bank_card=CARD, person_id_status="bad_check")],
         placements=[("P1", "U1"), (typo_of("P1"), "U1", dict(start="2024-03-01", end="2024-05-31",
                                                               months=("2024-03", "2024-04", "2024-05")))],
         ledger={"P1": CARD, typo_of("P1"): CARD}, flagged={}),
    dict(why="look-alike: a trainee's card equals ANOTHER unit's account (shared_card_ring's signal, not this)",
         units=[unit("U1"), unit("U2", bank_account="6228480000001234567")],
         trainees=[trainee("P1", bank_card="6228480000001234567")],
         placements=[("P1", "U1")], ledger={"P1": "6228480000001234567"}, flagged={}),
]


@pytest.mark.parametrize("case", CARD_CASES, ids=[c["why"] for c in CARD_CASES])
def test_card_shared_in_unit(case: dict) -> None:
    t = world(case.get("units", [unit("U1")]), case["trainees"], case["placements"], ledger=case["ledger"],
              ledger_override=case.get("ledger_override"))
    found, _ = run(graph_rules.card_shared_in_unit, t)
    got = {label: a for p, a in zip(found["person_id"], found["amount_at_risk"]) for label in OWN if p == pid(label)}
    assert got == pytest.approx(case["flagged"]), case["why"]
    for ev in found["evidence"].to_list():
        assert CARD not in ev and "6228480000001234567" not in ev  # the card is masked
        assert json.loads(ev)["ledger_given"] == (case["ledger"] is not None)


def test_card_shared_in_unit_is_a_finding_of_the_unit() -> None:
    r = graph_rules.card_shared_in_unit.rule
    assert not r.signal_only and r.exit_condition == 3 and r.family.value == "GHOST_TRAINEE"


# ============================================================================================
# 2. RATE_MISAPPLIED.claimed_after_own_hire — monthly claims for months the unit's own contracted,
#    insured employee worked; the whole claim at risk
def hired(contract: tuple, insured_months: tuple[str, ...], *, kind: str = "养老", employer: str = "U1") -> dict:
    start, end, terminated = (*contract, None)[:3]
    return dict(employment=[{"person_id": pid("P1"), "employer_id": uscc(employer), "contract_start": start,
                             "contract_end": end, "terminated_date": terminated}],
                social_insurance=[insured("P1", employer, m, kind=kind) for m in insured_months])


ALL_AFTER = ("2023-11", "2023-12", "2024-01", "2024-02", "2024-03")
HIRE_CASES = [
    ("an open-ended contract from 2023-11-01 and the unit's 养老 from November: Nov–Feb claims are not internship months",
     hired(("2023-11-01", None), ALL_AFTER), ["2023-11", "2023-12", "2024-01", "2024-02"], True),
    ("signed mid-month (2023-11-15): November stays an internship month",
     hired(("2023-11-15", None), ALL_AFTER), ["2023-12", "2024-01", "2024-02"], True),
    ("a contract terminated 2023-12-31: only November and December",
     hired(("2023-11-01", None, "2023-12-31"), ALL_AFTER), ["2023-11", "2023-12"], True),
    ("insured as staff only from January: the contract alone does not decide a month",
     hired(("2023-11-01", None), ("2024-01", "2024-02")), ["2024-01", "2024-02"], True),
    ("a 2024 hire: the remaining-period window (to 2023-12-31) had closed",
     hired(("2024-01-01", None), ("2024-01", "2024-02")), ["2024-01", "2024-02"], False),
    ("look-alike: hired the day after the internship (2024-03-01) by the unit",
     hired(("2024-03-01", None), ("2024-03", "2024-04")), [], None),
    ("look-alike: a contract with the unit but only 补充工伤 trainee cover, no staff insurance",
     hired(("2023-11-01", None), ALL_AFTER, kind="补充工伤"), [], None),
    ("look-alike: a contract and insurance with ANOTHER employer (GHOST_TRAINEE's, not this)",
     hired(("2023-11-01", None), ALL_AFTER, employer="X"), [], None),
]


@pytest.mark.parametrize("why, extra, months, window_open", HIRE_CASES, ids=[c[0] for c in HIRE_CASES])
def test_claimed_after_own_hire(why: str, extra: dict, months: list[str], window_open: bool | None) -> None:
    t = world([unit("U1"), unit("X")], [trainee("P1")], [("P1", "U1")], **extra)
    found, _ = run(own_hire.claimed_after_own_hire, t)
    assert sorted(found["claim_id"].to_list()) == [f"MP1-{m}" for m in months], why
    assert (found["amount_at_risk"] == 1480.0).all()
    for ev in found["evidence"].to_list():
        assert json.loads(ev)["remaining_period_window_open"] is window_open
    assert all(c.startswith("赣人社发〔2023〕9号") for c in found["citation"].to_list())


# ============================================================================================
# 3. GHOST_TRAINEE.trainee_is_legal_rep — the trainee is his own unit's legal representative
REP_CASES = [
    ("the units table names trainee P1 as U1's legal representative",
     dict(units=[unit("U1", legal_rep_id=pid("P1"))]), {"P1"}),
    ("only the market registry names him", dict(market_registry=[
        {"unit_id": uscc("U1"), "reg_status": "存续", "legal_rep_id": pid("P1"), "established_date": "2020-05-01"}]),
     {"P1"}),
    ("the trainee interns under a corroborated typo of the ID the units table names",
     dict(units=[unit("U1", legal_rep_id=pid("P9"))],
          trainees=[trainee("P9", name="王五", bank_card=CARD),
                    trainee(typo_of("P9"), name="王五", bank_card=CARD, person_id_status="bad_check")],
          placements=[(typo_of("P9"), "U1")]), {typo_of("P9")}),
    ("look-alike: the legal representative's son interns at another unit",
     dict(units=[unit("U1", legal_rep_id=pid("F1", birth="19700101")), unit("U2")],
          placements=[("P1", "U2")]), set()),
    ("look-alike: a legal representative's ID one adjacent swap from the trainee's (no card or phone to corroborate)",
     dict(units=[unit("U1", legal_rep_id=pid("P1")[:14] + pid("P1")[15] + pid("P1")[14] + pid("P1")[16:])]), set()),
    ("look-alike: the legal representative of ANOTHER unit (trainee_owns_company's signal, not this)",
     dict(units=[unit("U1"), unit("U2", legal_rep_id=pid("P1"))]), set()),
]


@pytest.mark.parametrize("why, spec, flagged", REP_CASES, ids=[c[0] for c in REP_CASES])
def test_trainee_is_legal_rep(why: str, spec: dict, flagged: set[str]) -> None:
    trainees = spec.get("trainees", [trainee("P1")])
    placements = spec.get("placements", [("P1", "U1")])
    t = world(spec.get("units", [unit("U1")]), trainees, placements, market_registry=spec.get("market_registry"))
    found, _ = run(legal_representatives.trainee_is_legal_rep, t)
    assert persons(found) == {pid(p) for p in flagged}, why  # under the ID the agreement carries
    assert (found["amount_at_risk"] == 6 * 1480.0).all()


# ============================================================================================
# 7. GHOST_TRAINEE.trainee_owns_company — a signal: the legal representative of another company in
#    business at the start
def company(**kw: Any) -> dict:
    return {"unit_id": uscc("C1"), "reg_status": "存续", "legal_rep_id": pid("P1"), "established_date": "2021-03-01", **kw}


OWNER_CASES = [
    ("the trainee represents company C1 (存续, founded 2021)", [company()], True),
    ("C1 cancelled (注销) after the start: in business at the start", [company(reg_status="注销", status_date="2023-12-01")], True),
    ("look-alike: C1 founded after the start (2023-11-01)", [company(established_date="2023-11-01")], False),
    ("look-alike: C1 cancelled before the start (2023-05-01)", [company(reg_status="注销", status_date="2023-05-01")], False),
    ("look-alike: C1 suspended (停业) with no date: not known to operate", [company(reg_status="停业")], False),
    ("look-alike: C1 with no founding date", [company(established_date=None)], False),
    ("look-alike: the company is the internship unit itself (trainee_is_legal_rep's)",
     [company(unit_id=uscc("U1"))], False),
    ("look-alike: the trainee's father represents C1", [company(legal_rep_id=pid("F1", birth="19700101"))], False),
    # a registry listing the company's history, a row per status (the internship starts 2023-09-01)
    ("look-alike: its history, 存续 since 2021 then 注销 in 2023-05: closed at the start",
     [company(status_date="2021-03-01"), company(reg_status="注销", status_date="2023-05-01")], False),
    ("its history, 存续 since 2021 then 注销 in 2023-12: in business at the start",
     [company(reg_status="注销", status_date="2023-12-01"), company(status_date="2021-03-01")], True),
    ("its history, 停业 in 2022 then 存续 again from 2023-06: in business at the start",
     [company(reg_status="停业", status_date="2022-01-01"), company(status_date="2023-06-01")], True),
]


@pytest.mark.parametrize("why, registry, fires", OWNER_CASES, ids=[c[0] for c in OWNER_CASES])
def test_trainee_owns_company(why: str, registry: list[dict], fires: bool) -> None:
    t = world([unit("U1")], [trainee("P1")], [("P1", "U1")], market_registry=registry)
    found, _ = run(legal_representatives.trainee_owns_company, t)
    assert persons(found) == ({pid("P1")} if fires else set()), why
    assert legal_representatives.trainee_owns_company.rule.signal_only
    assert (found["amount_at_risk"] == 0.0).all()
    if fires:
        ev = json.loads(found["evidence"][0])
        assert ev["companies"][0]["company_id"] == uscc("C1") and "调查线索" in ev["label"]


# ============================================================================================
# 4. UNIT_INELIGIBLE.enterprise_not_registered — an enterprise code missing from a complete extract
OTHERS = [f"E{i}" for i in range(1, 10)]  # nine enterprise units the registry holds
REGISTRY_CASES = [
    # the unit in question (claims six months), the registry's units, flagged, skipped
    ("an enterprise (91…) missing from an extract that holds the other nine (90 %)", "U1", OTHERS, {"U1"}, set()),
    ("look-alike: a public institution (12…) missing from the market registry", PUBLIC, OTHERS, set(), set()),
    ("look-alike: a social organisation (52…) missing from it", SOCIAL, OTHERS, set(), set()),
    ("look-alike: the enterprise is in the extract", "U1", [*OTHERS, "U1"], set(), set()),
    ("an extract holding five of ten enterprise units looks incomplete: skipped, not flagged",
     "U1", OTHERS[:5], set(), {"U1", *OTHERS[5:]}),
]


@pytest.mark.parametrize("why, label, registered, flagged, skipped", REGISTRY_CASES, ids=[c[0] for c in REGISTRY_CASES])
def test_enterprise_not_registered(why: str, label: str, registered: list[str], flagged: set[str],
                                   skipped: set[str]) -> None:
    registry = [{"unit_id": uscc(u), "reg_status": "存续", "established_date": "2020-01-01"} for u in registered]
    t = world([unit(label), *(unit(u) for u in OTHERS)], [trainee("P1")], [("P1", label)], market_registry=registry)
    found, left = run(shell_units.enterprise_not_registered, t)
    assert set(found["unit_id"]) == {uscc(u) for u in flagged}, why
    assert set(left["unit_id"]) == {uscc(u) for u in skipped}, why
    assert (found["amount_at_risk"] == 6 * 1480.0).all()  # every claim of the unit
    if skipped:
        assert "疑似不完整" in left["reason"][0] and "5/10" in left["reason"][0]


MANY = [f"E{i}" for i in range(1, 20)]  # nineteen enterprise units of 360102 the registry holds


@pytest.mark.parametrize("why, counties, registered, flagged, skipped", [
    ("a county of which the extract holds none of its two enterprise units: skipped, not flagged",
     {"U1": "360121", "F1": "360121"}, [], set(), {"U1", "F1"}),
    ("a prefecture (3604) of which it holds none of its two, one in each county: skipped",
     {"U1": "360402", "F1": "360403"}, [], set(), {"U1", "F1"}),
    ("look-alike: the county's other enterprise is in the extract: U1 is missing from a covered county",
     {"U1": "360121", "F1": "360121"}, ["F1"], {"U1"}, set()),
    ("look-alike: U1 the only enterprise of its county and prefecture: one missing unit is what is looked for",
     {"U1": "360402", "F1": "360121"}, ["F1"], {"U1"}, set()),
], ids=["county", "prefecture", "county-covered", "alone"])
def test_an_area_the_registry_extract_lacks_is_not_judged(why: str, counties: dict, registered: list[str],
                                                          flagged: set[str], skipped: set[str]) -> None:
    """The extract holds 19 of 21 enterprise units (over the 90 % coverage), but the two it lacks
    are an area's every enterprise unit: an extract assembled from the areas' registries may lack
    the area, so neither is judged."""
    registry = [{"unit_id": uscc(u), "reg_status": "存续", "established_date": "2020-01-01"} for u in [*MANY, *registered]]
    units = [unit(label, county=county) for label, county in counties.items()] + [unit(u) for u in MANY]
    t = world(units, [trainee("P1")], [("P1", "U1")], market_registry=registry)
    found, left = run(shell_units.enterprise_not_registered, t)
    assert set(found["unit_id"]) == {uscc(u) for u in flagged}, why
    assert (set(left["unit_id"]) if left.height else set()) == {uscc(u) for u in skipped}, why
    for reason in (left["reason"].to_list() if left.height else []):
        assert "未涵盖该地区" in reason and ("360121" in reason or "360400" in reason), reason


# ============================================================================================
# 5. UNIT_INELIGIBLE.trainees_exceed_staff — a signal: a shell by headcount
def cohort(n: int) -> tuple[list[dict], list[tuple]]:
    return [trainee(f"T{i}") for i in range(n)], [(f"T{i}", "U1") for i in range(n)]


STAFF_CASES = [
    ("twelve trainees in 2023 and 2024 at a unit declaring two staff, none insured", 12, dict(staff_count=2), 0, {2023, 2024}),
    ("no staff declared, none insured: skipped, not judged", 12, dict(), 0, set()),
    ("look-alike: a large employer (600 staff) with twelve trainees", 12, dict(staff_count=600), 0, set()),
    ("look-alike: two declared, but the unit insures five staff (12 ≤ 3 × 5)", 12, dict(staff_count=2), 5, set()),
    ("look-alike: nine trainees, below headcount.min_trainees", 9, dict(staff_count=1), 0, set()),
]


@pytest.mark.parametrize("why, n, unit_kw, staff_insured, years", STAFF_CASES, ids=[c[0] for c in STAFF_CASES])
def test_trainees_exceed_staff(why: str, n: int, unit_kw: dict, staff_insured: int, years: set[int]) -> None:
    trainees, placements = cohort(n)
    staff = [insured(f"S{i}", "U1", m) for i in range(staff_insured) for m in ("2023-10", "2024-01")]
    t = world([unit("U1", **unit_kw)], trainees, placements, social_insurance=staff)
    found, left = run(shell_units.trainees_exceed_staff, t)
    assert {d.year for d in found["period_start"]} == years, why
    assert (left.height > 0) == ("staff_count" not in unit_kw), why  # no declared staff: skipped, with the reason
    assert shell_units.trainees_exceed_staff.rule.signal_only and (found["amount_at_risk"] == 0.0).all()
    for ev in found["evidence"].to_list():
        assert json.loads(ev)["trainees"] == n


# ============================================================================================
# 6. GHOST_TRAINEE.batch_paperwork — a signal: the unit's own phone, one approval day, consecutive numbers
def batch(*, phones: list[str], days: list[str], numbers: list[int], unit_phone: str = "0791-86123456",
          units: list[str] | None = None) -> Any:
    units = units or ["U1"] * len(phones)
    trainees = [trainee(f"P{i + 1}", phone=ph) for i, ph in enumerate(phones)]
    placements = [(f"P{i + 1}", u, dict(aid=f"XY{n:09d}", approved_date=d))
                  for i, (u, d, n) in enumerate(zip(units, days, numbers))]
    return world([unit("U1", phone=unit_phone), unit("U2", phone="0791-86999999")], trainees, placements)


SAME_DAY = ["2023-08-25"] * 5
BATCH_CASES = [
    ("three trainees give U1's phone (written two ways), approved the same day, numbers 101–103",
     batch(phones=["0791-86123456", "079186123456", "0791 8612 3456"], days=SAME_DAY[:3], numbers=[101, 102, 103]),
     {"P1", "P2", "P3"}),
    ("four with U1's phone; three of them in one run (101–103), the fourth apart (110)",
     batch(phones=["079186123456"] * 4, days=SAME_DAY[:4], numbers=[101, 102, 103, 110]), {"P1", "P2", "P3"}),
    ("look-alike: U1's phone, consecutive numbers, but approved on three different days",
     batch(phones=["079186123456"] * 3, days=["2023-08-25", "2023-08-26", "2023-08-27"], numbers=[101, 102, 103]), set()),
    ("look-alike: U1's phone, one day, numbers far apart (101, 105, 109)",
     batch(phones=["079186123456"] * 3, days=SAME_DAY[:3], numbers=[101, 105, 109]), set()),
    ("look-alike: a cohort of five approved the same day, numbers 101–105, each with their own phone",
     batch(phones=[f"1380013800{i}" for i in range(5)], days=SAME_DAY, numbers=[101, 102, 103, 104, 105]), set()),
    ("look-alike: two siblings share a mobile at two units",
     batch(phones=["13800138000", "13800138000"], days=SAME_DAY[:2], numbers=[101, 102], units=["U1", "U2"]), set()),
    ("look-alike: only two trainees give U1's phone",
     batch(phones=["079186123456"] * 2, days=SAME_DAY[:2], numbers=[101, 102]), set()),
]


@pytest.mark.parametrize("why, t, flagged", BATCH_CASES, ids=[c[0] for c in BATCH_CASES])
def test_batch_paperwork(why: str, t: Any, flagged: set[str]) -> None:
    found, _ = run(graph_rules.batch_paperwork, t)
    assert persons(found) == {pid(p) for p in flagged}, why
    assert graph_rules.batch_paperwork.rule.signal_only and (found["amount_at_risk"] == 0.0).all()
    for ev in found["evidence"].to_list():
        facts = json.loads(ev)
        assert facts["batch_trainees"] == 3 and "86123456" not in ev  # the unit's phone is masked
