"""Tables of cases for RATE_MISAPPLIED: each case is a description, the rows, and the claims the rule
must flag with the exact yuan at risk — look-alikes that must not fire included.

The reference world (tests/helpers.py): Jiangxi tier 1 wage 1850 (2000 from 2024-03-01), tier 2
1730 (1870), tier 3 1610 (1740); Henan tier 1 2000; Hunan, Yunnan, Gansu tier 1. Jiangxi pays 80 %
(tier 1: 1480, from 2024-03: 1600; tier 2: 1384), Henan 70 % (1400), Yunnan a flat 1500 (+500
raised); Hunan's and Gansu's standard rates are unset (skipped, never guessed).
"""

from __future__ import annotations

import dataclasses
import datetime as dt

import polars as pl
import pytest

from checks import rate_misapplied as rm
from checks._retention import BENCHMARK_UNKNOWN
from tests.helpers import agreement, claim, insured, pid, run, tables, trainee, unit, uscc

JX, JX2, HN, HU, YN, GS = "UJX", "UJX2", "UHN", "UHU", "UYN", "UGS"
UNITS = [
    unit(JX, county="360102"),  # Jiangxi tier 1
    unit(JX2, county="360121"),  # Jiangxi tier 2
    unit(HN, county="410102"),  # Henan tier 1
    unit(HU, county="430102"),  # Hunan: standard rate unset
    unit(YN, county="530102"),  # Yunnan: flat rate
    unit(GS, county="620102"),  # Gansu: rate unset
    unit("UNOTIER", county="360999"),  # a Jiangxi county with no tier
    unit("URJ", county="360781"),  # 赣州 瑞金市: a real county, with no tier in the test world
    unit("ULATE", county="360102", approved="2023-10-15"),
    unit("UBENCH", county="360102", is_benchmark=True),
    unit("UHNBENCH", county="410102", is_benchmark=True),
]


def world(*, agreements=(), claims=(), **rest):
    people = {r["person_id"] for r in [*agreements, *claims]}
    return tables(units=UNITS, trainees=[trainee(p) for p in people], agreements=list(agreements),
                  claims=list(claims), **rest)


def flagged(check, t):
    found, skipped = run(check, t)
    amounts = dict(zip(found["claim_id"].to_list(), found["amount_at_risk"].to_list()))
    return amounts, set(skipped["claim_id"].to_list()) if skipped.height else set(), found


def term(aid="A1", person="P1", unit_label=JX, start="2023-09-01", end="2024-02-29", **kw):
    return agreement(aid, person, unit_label, start, end, **kw)


# ------------------------------------------------------------------ wrong_amount ----------------
WRONG_AMOUNT = [
    ("right tier, right standard (Jiangxi tier 1: 80% of 1850)",
     [claim("C1", JX, "P1", "2023-10", 1480.0)], {}, set()),
    ("wrong tier: a tier-2 county paid the tier-1 amount",
     [claim("C1", JX2, "P1", "2023-10", 1480.0)], {"C1": 96.0}, set()),
    ("the right tier (tier 2: 1384) is fine",
     [claim("C1", JX2, "P1", "2023-10", 1384.0)], {}, set()),
    ("new minimum wage used before its effective date (2024-02 paid at 2000's 80%)",
     [claim("C1", JX, "P1", "2024-02", 1600.0)], {"C1": 120.0}, set()),
    ("the first month of the new minimum wage (2024-03) at the new amount is fine",
     [claim("C1", JX, "P1", "2024-03", 1600.0)], {}, set()),
    ("Henan 70% of tier 1 (1400) is fine", [claim("C1", HN, "P1", "2023-10", 1400.0)], {}, set()),
    ("Henan paid above 70%", [claim("C1", HN, "P1", "2023-10", 1500.0)], {"C1": 100.0}, set()),
    ("Yunnan flat 1500 is fine", [claim("C1", YN, "P1", "2023-10", 1500.0)], {}, set()),
    ("Yunnan above the flat rate", [claim("C1", YN, "P1", "2023-10", 1550.5)], {"C1": 50.5}, set()),
    ("Hunan: standard rate unset, skipped not flagged", [claim("C1", HU, "P1", "2023-10", 1600.0)], {}, {"C1"}),
    ("Gansu: rate unset, skipped", [claim("C1", GS, "P1", "2022-10", 1600.0)], {}, {"C1"}),
    ("a county with no tier is skipped", [claim("C1", "UNOTIER", "P1", "2023-10", 1480.0)], {}, {"C1"}),
    ("an under-claim is not an overpayment", [claim("C1", JX, "P1", "2023-10", 1400.0)], {}, set()),
    ("one fen off is within the tolerance", [claim("C1", JX, "P1", "2023-10", 1480.01)], {}, set()),
    ("a monthly claim at the raised rate is raised_rate_monthly's, not this rule's",
     [claim("C1", JX, "P1", "2023-10", 1850.0, rate_basis="提高")], {}, set()),
    ("a 差额 is not a monthly claim", [claim("C1", JX, "P1", "2023-10", 2220.0, claim_type="差额")], {}, set()),
]


@pytest.mark.parametrize("desc, claims, expected, skipped", WRONG_AMOUNT, ids=[c[0] for c in WRONG_AMOUNT])
def test_wrong_amount(desc, claims, expected, skipped):
    """RATE_MISAPPLIED.wrong_amount"""
    amounts, skips, _ = flagged(rm.wrong_amount, world(claims=claims))
    assert amounts == expected
    assert skips == skipped


@pytest.mark.parametrize("claims, match", [
    ([claim("C1", JX2, "P1", "2023-10", 1480.0)], ["matches tier 1"]),
    ([claim("C1", JX, "P1", "2024-02", 1600.0)], ["matches the standard effective 2024-03-01"]),
    ([claim("C1", JX, "P1", "2023-10", 1500.0)], []),
], ids=["wrong tier", "wage before its date", "matches nothing"])
def test_wrong_amount_evidence_says_what_the_amount_matches(claims, match):
    import json

    _, _, found = flagged(rm.wrong_amount, world(claims=claims))
    evidence = json.loads(found["evidence"][0])
    assert evidence["matches"] == match
    assert evidence["minimum_wage"]["tier"] in (1, 2) and evidence["minimum_wage"]["effective_from"]


# ------------------------------------------------------------------ raised_rate_monthly --------
RAISED = [
    ("Jiangxi monthly claim labelled 提高 at 100%", [claim("C1", JX, "P1", "2023-10", 1850.0, rate_basis="提高")],
     {"C1": 370.0}, set()),
    ("Jiangxi monthly claim at the raised amount though labelled 标准", [claim("C1", JX, "P1", "2023-10", 1850.0)],
     {"C1": 370.0}, set()),
    ("Henan monthly claim at 110%", [claim("C1", HN, "P1", "2023-10", 2200.0, rate_basis="提高")], {"C1": 800.0}, set()),
    ("Yunnan monthly claim at 1500 + 500", [claim("C1", YN, "P1", "2023-10", 2000.0)], {"C1": 500.0}, set()),
    ("a standard monthly claim is fine", [claim("C1", JX, "P1", "2023-10", 1480.0)], {}, set()),
    ("Yunnan flat standard is fine", [claim("C1", YN, "P1", "2023-10", 1500.0)], {}, set()),
    ("the raise paid as a 差额 is the 1+1 mode working", [claim("C1", JX, "P1", "2023-10", 370.0, claim_type="差额",
                                                          rate_basis="提高")], {}, set()),
    ("Hunan at 120% with the standard unset: skipped, not priced",
     [claim("C1", HU, "P1", "2023-10", 2316.0, rate_basis="提高")], {}, {"C1"}),
]


@pytest.mark.parametrize("desc, claims, expected, skipped", RAISED, ids=[c[0] for c in RAISED])
def test_raised_rate_monthly(desc, claims, expected, skipped):
    """RATE_MISAPPLIED.raised_rate_monthly"""
    amounts, skips, _ = flagged(rm.raised_rate_monthly, world(claims=claims))
    assert amounts == expected
    assert skips == skipped


# ------------------------------------------------------------------ partial_month --------------
PARTIAL = [
    ("left 2023-10-20: 12 working days (National Day week off, 7-8 Oct made up) — not payable",
     term(actual_end_date="2023-10-20", end_reason="提前离岗"), claim("C1", JX, "P1", "2023-10", 1480.0, working_days=15),
     {"C1": 1480.0}),
    ("left 2023-12-21: exactly 15 working days — paid in full",
     term(actual_end_date="2023-12-21", end_reason="提前离岗"), claim("C1", JX, "P1", "2023-12", 1480.0), {}),
    ("left 2023-12-20: 14 working days, insurance claimed too — both at risk",
     term(actual_end_date="2023-12-20", end_reason="提前离岗"),
     claim("C1", JX, "P1", "2023-12", 1480.0, insurance_amount=20.0), {"C1": 1500.0}),
    ("left 2024-02-26: 15 working days only thanks to the make-up Sundays 4 and 18 Feb",
     term(actual_end_date="2024-02-26", end_reason="提前离岗"), claim("C1", JX, "P1", "2024-02", 1480.0), {}),
    ("left 2024-02-23: 14 working days (Spring Festival)",
     term(actual_end_date="2024-02-23", end_reason="提前离岗"), claim("C1", JX, "P1", "2024-02", 1480.0), {"C1": 1480.0}),
    ("a month before the month of leaving is a whole month",
     term(actual_end_date="2023-12-05", end_reason="提前离岗"), claim("C1", JX, "P1", "2023-11", 1480.0), {}),
    ("the last month of a completed term is a whole month",
     term(start="2023-09-15", end="2024-03-14"), claim("C1", JX, "P1", "2024-03", 1600.0), {}),
    ("the first month, started mid-month, is a whole month",
     term(start="2023-09-25", end="2024-03-24"), claim("C1", JX, "P1", "2023-09", 1480.0), {}),
    ("Henan sets no partial-month rule", term(unit_label=HN, actual_end_date="2023-10-10", end_reason="提前离岗"),
     claim("C1", HN, "P1", "2023-10", 1400.0), {}),
]


@pytest.mark.parametrize("desc, agreement_row, claim_row, expected", PARTIAL, ids=[c[0] for c in PARTIAL])
def test_partial_month(desc, agreement_row, claim_row, expected):
    """RATE_MISAPPLIED.partial_month"""
    amounts, _, _ = flagged(rm.partial_month, world(agreements=[agreement_row], claims=[claim_row]))
    assert amounts == expected


# ------------------------------------------------------------------ outside_agreement ----------
OUTSIDE = [
    ("a month after the actual end", [term(actual_end_date="2023-12-10", end_reason="提前离岗")],
     [claim("C1", JX, "P1", "2024-01", 1480.0, insurance_amount=15.0)], {"C1": 1495.0}),
    ("a month before the start", [term()], [claim("C1", JX, "P1", "2023-08", 1480.0)], {"C1": 1480.0}),
    ("the end month itself is an internship month", [term(actual_end_date="2023-12-10", end_reason="提前离岗")],
     [claim("C1", JX, "P1", "2023-12", 1480.0)], {}),
    ("a month inside the second agreement of an extension",
     [term(end="2023-11-30"), term("A2", start="2023-12-01", end="2024-05-31")],
     [claim("C1", JX, "P1", "2024-04", 1600.0, agreement_id="A1")], {}),
    ("a month in the gap between two agreements at the unit",
     [term(end="2023-10-31"), term("A2", start="2024-01-01", end="2024-05-31")],
     [claim("C1", JX, "P1", "2023-12", 1480.0)], {"C1": 1480.0}),
    ("an agreement at another unit does not cover the claim", [term(unit_label=JX2)],
     [claim("C1", JX, "P1", "2023-10", 1480.0), claim("C2", JX2, "P1", "2023-10", 1384.0)], {}),
    ("a 剩余期限 month after the early hire, before the planned end",
     [term(actual_end_date="2023-11-30", end_reason="提前留用")],
     [claim("C1", JX, "P1", "2024-01", 1480.0, claim_type="剩余期限")], {}),
    ("a 剩余期限 month after the planned end", [term(actual_end_date="2023-11-30", end_reason="提前留用")],
     [claim("C1", JX, "P1", "2024-03", 1600.0, claim_type="剩余期限")], {"C1": 1600.0}),
    # RULES.md §8 "差额 claims": claim_month is the last internship month or the month claimed or paid
    ("a 差额 dated in the month it was claimed (2024-03), after the internship",
     [term()], [claim("D1", JX, "P1", "2024-03", 2220.0, claim_type="差额", submitted="2024-03-20")], {}),
    ("a 差额 dated in the month Jiangxi pays it, early the next year (次年初)",
     [term(start="2023-05-01", end="2023-10-31")],
     [claim("D1", JX, "P1", "2024-02", 2220.0, claim_type="差额", submitted="2024-02-05", agreement_id="A1")], {}),
    ("the fraud beside it: a monthly claim dated after the internship still pays for no month",
     [term()], [claim("C1", JX, "P1", "2024-03", 1600.0, submitted="2024-03-20")], {"C1": 1600.0}),
]


@pytest.mark.parametrize("desc, agreements, claims, expected", OUTSIDE, ids=[c[0] for c in OUTSIDE])
def test_outside_agreement(desc, agreements, claims, expected):
    """RATE_MISAPPLIED.outside_agreement"""
    amounts, _, _ = flagged(rm.outside_agreement, world(agreements=agreements, claims=claims))
    assert amounts == expected


@pytest.mark.parametrize("agreements, expected, skipped", [
    pytest.param([term(end="2023-02-28")], {}, {"C1"},
                 id="the agreement ends 2023-02-28, before its 2023-09-01 start (2024 keyed 2023): not judged"),
    pytest.param([term(end="2024-02-29", actual_end_date="2023-01-10", end_reason="提前离岗")], {}, {"C1"},
                 id="an actual end before the start: not judged"),
    pytest.param([term()], {"C1": 1480.0}, set(), id="look-alike: a readable span, the month outside it: found"),
])
def test_outside_an_agreement_that_ends_before_it_starts(agreements, expected, skipped):
    """An agreement whose end precedes its start (a year keyed wrong) has no span to lie outside:
    a claim month the agreements of the person at the unit do not cover is skipped, saying so."""
    amounts, skips, _ = flagged(rm.outside_agreement, world(agreements=agreements,
                                                              claims=[claim("C1", JX, "P1", "2024-05", 1480.0)]))
    assert amounts == expected and skips == skipped


@pytest.mark.parametrize("named, expected, skipped", [
    pytest.param("A0", {}, {"C1"}, id="names A0, an earlier agreement the export does not hold: not judged by A1"),
    pytest.param("A1", {"C1": 1480.0}, set(), id="look-alike: names A1, which does not cover May 2023: found"),
    pytest.param(None, {"C1": 1480.0}, set(), id="look-alike: names no agreement: found by the person's"),
])
def test_outside_agreement_of_a_claim_naming_an_agreement_not_exported(named, expected, skipped):
    """An agreements export of later agreements (A1, from 2023-09) while the claims export still
    names the older ones: a May 2023 claim naming A0 is not judged against A1, the person's other
    agreement — its own is not in the export (skipped, naming it)."""
    t = world(agreements=[term()], claims=[claim("C1", JX, "P1", "2023-05", 1480.0, agreement_id=named)])
    amounts, skips, _ = flagged(rm.outside_agreement, t)
    assert amounts == expected and skips == skipped
    if skipped:
        _, out = run(rm.outside_agreement, t)
        assert "A0" in out["reason"][0] and out["gap"][0] == rm.GAP_NAMES_UNEXPORTED


# ------------------------------------------------------------------ beyond_max_months ----------
def months(start_year: int, start_month: int, n: int) -> list[str]:
    out = []
    for k in range(n):
        y, m = divmod(start_month - 1 + k, 12)
        out.append(f"{start_year + y}-{m + 1:02d}")
    return out


THIRTEEN = months(2023, 9, 13)  # 2023-09 … 2024-09
BEYOND = [
    ("13 months at one unit: the 13th is not payable",
     [claim(f"C{i}", YN, "P1", m, 1500.0) for i, m in enumerate(THIRTEEN)], {"C12": 1500.0}, set()),
    ("12 months is the cap, not beyond it",
     [claim(f"C{i}", YN, "P1", m, 1500.0) for i, m in enumerate(THIRTEEN[:12])], {}, set()),
    ("across two units the months add up (8 + 6: the 13th and 14th)",
     [claim(f"A{i}", YN, "P1", m, 1500.0) for i, m in enumerate(THIRTEEN[:8])]
     + [claim(f"B{i}", HN, "P1", m, 1400.0) for i, m in enumerate(months(2024, 5, 6))],
     {"B4": 1400.0, "B5": 1400.0}, set()),
    ("a month claimed twice counts once (12 distinct months)",
     [claim(f"C{i}", YN, "P1", m, 1500.0) for i, m in enumerate(THIRTEEN[:12])]
     + [claim("DUP", YN, "P1", THIRTEEN[3], 1500.0)], {}, set()),
    ("two people's months are not added together",
     [claim(f"C{i}", YN, "P1", m, 1500.0) for i, m in enumerate(THIRTEEN[:7])]
     + [claim(f"D{i}", YN, "P2", m, 1500.0) for i, m in enumerate(THIRTEEN[:7])], {}, set()),
    ("months before the cap was set (Gansu 2022) are skipped",
     [claim("C1", GS, "P1", "2022-10", 1500.0)], {}, {"C1"}),
]


@pytest.mark.parametrize("desc, claims, expected, skipped", BEYOND, ids=[c[0] for c in BEYOND])
def test_beyond_max_months(desc, claims, expected, skipped):
    """RATE_MISAPPLIED.beyond_max_months"""
    amounts, skips, _ = flagged(rm.beyond_max_months, world(claims=claims))
    assert amounts == expected
    assert skips == skipped


# ------------------------------------------------------------------ lump_sum_after_end ---------
LUMP = [
    ("three months in one row after the end",
     [claim("C1", JX, "P1", "2024-02", 4440.0, submitted="2024-04-15")], {"C1": 4440.0}, set()),
    ("one month claimed late, after the end, is fine (monthly claims lag)",
     [claim("C1", JX, "P1", "2024-02", 1480.0, submitted="2024-04-15")], {}, set()),
    ("a double amount submitted during the internship is not a lump sum after the end",
     [claim("C1", JX, "P1", "2023-11", 2960.0, submitted="2023-12-05")], {}, set()),
    ("a 差额 submitted before the internship ended",
     [claim("C1", JX, "P1", "2024-02", 2220.0, claim_type="差额", submitted="2024-02-10")], {"C1": 2220.0}, set()),
    ("a 差额 submitted after the end is the 1+1 mode",
     [claim("C1", JX, "P1", "2024-02", 2220.0, claim_type="差额", submitted="2024-03-10")], {}, set()),
    ("a 差额 dated in the month it was claimed, after the end, is the 1+1 mode too",
     [claim("C1", JX, "P1", "2024-03", 2220.0, claim_type="差额", submitted="2024-03-10")], {}, set()),
    ("Hunan lump sum in one row: the monthly rate is unset, its months cannot be counted: skipped",
     [claim("C1", HU, "P1", "2024-02", 5000.0, submitted="2024-04-15")], {}, {"C1"}),
    # RULES.md §8 "Lump sums under 1+1": several rows submitted together after the end
    ("the last three months as three rows, all submitted on 2024-04-15 after the end",
     [claim(f"C{m}", JX, "P1", m, 1480.0 if m < "2024-03" else 1600.0, submitted="2024-04-15")
      for m in ("2023-12", "2024-01", "2024-02")], {"C2023-12": 1480.0, "C2024-01": 1480.0, "C2024-02": 1480.0}, set()),
    ("two months submitted together after the end reach lump_sum.min_months (2)",
     [claim("C1", JX, "P1", "2024-01", 1480.0, submitted="2024-03-05"),
      claim("C2", JX, "P1", "2024-02", 1480.0, submitted="2024-03-05", insurance_amount=20.0)],
     {"C1": 1480.0, "C2": 1500.0}, set()),
    ("look-alike: each month submitted in the month after it, the last one after the end",
     [claim("C1", JX, "P1", "2024-01", 1480.0, submitted="2024-02-05"),
      claim("C2", JX, "P1", "2024-02", 1480.0, submitted="2024-03-05")], {}, set()),
    ("look-alike: two months submitted together during the internship",
     [claim("C1", JX, "P1", "2023-10", 1480.0, submitted="2023-12-05"),
      claim("C2", JX, "P1", "2023-11", 1480.0, submitted="2023-12-05")], {}, set()),
    ("look-alike: one month submitted months after the end, alone",
     [claim("C1", JX, "P1", "2024-01", 1480.0, submitted="2024-02-05"),
      claim("C2", JX, "P1", "2024-02", 1480.0, submitted="2024-05-20")], {}, set()),
    ("look-alike: one month claimed twice on one day is one month (a duplicate, not a lump)",
     [claim("C1", JX, "P1", "2024-02", 1480.0, submitted="2024-03-05"),
      claim("C2", JX, "P1", "2024-02", 1480.0, submitted="2024-03-05")], {}, set()),
    ("Hunan: three rows after the end are three months, priced or not",
     [claim(f"C{m}", HU, "P1", m, 1600.0, submitted="2024-04-15") for m in ("2023-12", "2024-01", "2024-02")],
     {"C2023-12": 1600.0, "C2024-01": 1600.0, "C2024-02": 1600.0}, set()),
]


@pytest.mark.parametrize("desc, claims, expected, skipped", LUMP, ids=[c[0] for c in LUMP])
def test_lump_sum_after_end(desc, claims, expected, skipped):
    """RATE_MISAPPLIED.lump_sum_after_end"""
    unit_label = claims[0]["unit_id"]
    label = {uscc(u): u for u in (JX, HU)}[unit_label]
    amounts, skips, _ = flagged(rm.lump_sum_after_end, world(agreements=[term(unit_label=label)], claims=claims))
    assert amounts == expected
    assert skips == skipped


EXTENSION = [term(end="2023-11-30"), term("A2", start="2023-12-01", end="2024-02-29")]
LUMP_EXTENDED = [
    ("look-alike: A1's last two months submitted together after A1 ended, during its extension A2",
     [claim("C1", JX, "P1", "2023-10", 1480.0, submitted="2023-12-10", agreement_id="A1"),
      claim("C2", JX, "P1", "2023-11", 1480.0, submitted="2023-12-10", agreement_id="A1")], {}),
    ("the same two months submitted after the extension ended are a lump sum",
     [claim("C1", JX, "P1", "2023-10", 1480.0, submitted="2024-03-10", agreement_id="A1"),
      claim("C2", JX, "P1", "2023-11", 1480.0, submitted="2024-03-10", agreement_id="A1")],
     {"C1": 1480.0, "C2": 1480.0}),
    ("a 差额 naming A1, submitted after A1 ended but before the extension ended, is before its time",
     [claim("D1", JX, "P1", "2023-11", 2220.0, claim_type="差额", submitted="2023-12-20", agreement_id="A1")],
     {"D1": 2220.0}),
    ("a 差额 naming A1, dated and submitted after the extension ended, is the 1+1 mode",
     [claim("D1", JX, "P1", "2024-03", 2220.0, claim_type="差额", submitted="2024-03-20", agreement_id="A1")], {}),
]


def test_a_difference_paid_during_a_later_internship_pays_for_the_one_that_ended():
    """P1 interned at JX in 2023 and again from 2024-03 (after a gap); a 差额 dated and submitted
    2024-04, naming no agreement, pays for the internship that ended, not the one running."""
    agreements = [term(start="2023-05-01", end="2023-12-31"), term("A2", start="2024-03-01", end="2024-08-31")]
    claims = [claim("D1", JX, "P1", "2024-04", 2220.0, claim_type="差额", submitted="2024-04-10")]
    amounts, _, _ = flagged(rm.lump_sum_after_end, world(agreements=agreements, claims=claims))
    assert amounts == {}
    amounts, _, _ = flagged(rm.outside_agreement, world(agreements=agreements, claims=claims))
    assert amounts == {}


def test_without_actual_end_dates_a_difference_before_the_planned_end_is_skipped():
    """Agreements exported without 实际结束日期: the internship (planned to 2024-02-29) may have
    ended early (提前留用), so a 差额 submitted in February is not called early — skipped with the
    reason. Look-alike: with the column exported (blank: ran to term), it is found."""
    claims = [claim("C1", JX, "P1", "2024-02", 2220.0, claim_type="差额", submitted="2024-02-10")]
    t = world(agreements=[term()], claims=claims)
    amounts, skips, _ = flagged(rm.lump_sum_after_end, dataclasses.replace(t, absent={"agreements": ("actual_end_date",)}))
    assert amounts == {} and skips == {"C1"}
    _, skipped = run(rm.lump_sum_after_end, dataclasses.replace(t, absent={"agreements": ("actual_end_date",)}))
    assert skipped["reason"].to_list() == [rm.END_UNKNOWN]
    amounts, skips, _ = flagged(rm.lump_sum_after_end, t)
    assert amounts == {"C1": 2220.0} and skips == set()


@pytest.mark.parametrize("desc, claims, expected", LUMP_EXTENDED, ids=[c[0] for c in LUMP_EXTENDED])
def test_lump_sum_after_end_of_an_extended_internship(desc, claims, expected):
    """The end is the internship's: an agreement followed by an extension without a gap has not ended it."""
    amounts, _, _ = flagged(rm.lump_sum_after_end, world(agreements=EXTENSION, claims=claims))
    assert amounts == expected


def test_lump_sum_min_months_is_a_detection_parameter():
    """lump_sum.min_months = 3: two months submitted together after the end are no lump sum, three are."""
    import dataclasses

    from audit.policy import Policy
    from tests.helpers import policy

    base = policy()
    detection = {**base.detection, "lump_sum.min_months": dataclasses.replace(base.detection["lump_sum.min_months"], value=3)}
    pol = Policy(base.catalogue, base.values, detection, base.jurisdictions, base.documents)
    two = [claim(f"C{m}", JX, "P1", m, 1480.0, submitted="2024-03-05") for m in ("2024-01", "2024-02")]
    three = [claim("C2023-12", JX, "P1", "2023-12", 1480.0, submitted="2024-03-05"), *two]
    for claims, expected in ((two, set()), (three, {"C2023-12", "C2024-01", "C2024-02"})):
        found, _ = run(rm.lump_sum_after_end, world(agreements=[term()], claims=claims), pol)
        assert set(found["claim_id"].to_list()) == expected


# ------------------------------------------------------------------ difference_without_retention
def contract(person: str, unit_label: str, start: str, end: str | None = None) -> dict:
    return {"person_id": pid(person), "employer_id": uscc(unit_label), "contract_start": start, "contract_end": end}


def retained_world(unit_label: str, retained: list[bool], *, si_months=("2024-03", "2024-04", "2024-05"),
                   si_as_of: str | None = None, diff_amount: float = 2220.0, diff_month: str = "2024-02",
                   start: str = "2023-09-01", end: str = "2024-02-29", submitted: str = "2024-03-20") -> dict:
    """Trainees P0…Pn at one unit, 2023-09-01 → 2024-02-29 completed; those marked True are really
    retained (open-ended contract the day after the end and the unit's insurance in ``si_months``);
    every one is flagged retained and the unit claims a 差额 for each (dated ``diff_month``: the last
    internship month, or the month it was claimed or paid), submitted after the end."""
    people = [f"P{i}" for i in range(len(retained))]
    hired = (dt.date.fromisoformat(end) + dt.timedelta(days=1)).isoformat()
    return dict(
        agreements=[term(f"A{i}", p, unit_label, start=start, end=end, end_reason="期满", retained=True)
                    for i, p in enumerate(people)],
        claims=[claim(f"D{i}", unit_label, p, diff_month, diff_amount, claim_type="差额", submitted=submitted,
                      paid_date=submitted) for i, p in enumerate(people)],
        employment=[contract(p, unit_label, hired) for p, r in zip(people, retained) if r],
        social_insurance=[insured(p, unit_label, m) for p, r in zip(people, retained) if r for m in si_months],
        si_as_of=si_as_of,
    )


DIFFERENCE = [
    ("half really retained reaches the 50% threshold", retained_world(JX, [True, False]), {}),
    ("none really retained: every 差额 is at risk", retained_world(JX, [False, False]),
     {"D0": 2220.0, "D1": 2220.0}),
    ("one of three (33%) is below the threshold", retained_world(JX, [True, False, False]),
     {"D0": 2220.0, "D1": 2220.0, "D2": 2220.0}),
    ("a Jiangxi 标杆 unit qualifies whatever its retention", retained_world("UBENCH", [False, False]), {}),
    ("a Henan benchmark unit does not (only Jiangxi's notice says so)",
     retained_world("UHNBENCH", [False], diff_amount=800.0), {"D0": 800.0}),
    ("insurance months after si_as_of cannot be judged: the contract alone counts",
     retained_world(JX, [True, False], si_months=(), si_as_of="2024-02"), {}),
    # RULES.md §8 "差额 claims": the retention year is the internship's, whichever month dates the 差额
    ("dated in the month claimed (2024-03): half retained in 2024 still qualifies",
     retained_world(JX, [True, False], diff_month="2024-03"), {}),
    ("dated in the month claimed (2024-03): none retained is still at risk",
     retained_world(JX, [False, False], diff_month="2024-03"), {"D0": 2220.0, "D1": 2220.0}),
    ("ended 2023-12-31, paid 次年初 and dated 2024-02: judged on 2023, when half were retained",
     retained_world(JX, [True, False], start="2023-07-01", end="2023-12-31", diff_month="2024-02",
                    submitted="2024-02-05", si_months=("2024-01", "2024-02", "2024-03")), {}),
    ("ended 2023-12-31, dated 2023-12 (the last month): the same 2023 judgement",
     retained_world(JX, [True, False], start="2023-07-01", end="2023-12-31", diff_month="2023-12",
                    submitted="2024-02-05", si_months=("2024-01", "2024-02", "2024-03")), {}),
    ("ended 2023-12-31, paid 次年初: none retained in 2023 is at risk",
     retained_world(JX, [False, False], start="2023-07-01", end="2023-12-31", diff_month="2024-02",
                    submitted="2024-02-05"), {"D0": 2220.0, "D1": 2220.0}),
]


@pytest.mark.parametrize("desc, rows, expected", DIFFERENCE, ids=[c[0] for c in DIFFERENCE])
def test_difference_without_retention(desc, rows, expected):
    """RATE_MISAPPLIED.difference_without_retention"""
    amounts, _, _ = flagged(rm.difference_without_retention, world(**rows))
    assert amounts == expected


NO_BENCHMARK_COLUMN = {"units": ("is_benchmark",)}


@pytest.mark.parametrize("unit_label, expected, skipped", [
    pytest.param(JX, {}, {"D0", "D1"}, id="Jiangxi exempts 标杆 units: whether this one is is unknown, skipped"),
    pytest.param("UHNBENCH", {"D0": 800.0}, set(), id="Henan exempts none: judged as before"),
])
def test_difference_without_retention_when_the_register_has_no_benchmark_column(unit_label, expected, skipped):
    """The unit register exported without 是否就业见习标杆单位: in a province whose 标杆 units may
    claim the 差额 whatever their retention, a unit-year below the threshold is not judged (it may
    be exempt), saying why; where no unit is exempt the column does not matter."""
    rows = retained_world(unit_label, [False, False] if unit_label == JX else [False],
                          diff_amount=2220.0 if unit_label == JX else 800.0)
    t = dataclasses.replace(world(**rows), absent=NO_BENCHMARK_COLUMN)
    amounts, skips, _ = flagged(rm.difference_without_retention, t)
    assert amounts == expected and skips == skipped
    if skipped:
        _, out = run(rm.difference_without_retention, t)
        assert set(out["reason"]) == {BENCHMARK_UNKNOWN}


def lost_agreement(person="P9", unit_label=JX, day="2023-09-01"):
    """An agreement row the loader could not read, placed by its readable cells (Tables.quarantine)."""
    return {"table": "agreements", "file": "agreements.csv", "line": 9, "unit_id": uscc(unit_label),
            "person_id": pid(person), "day": day, "reasons": "start_date: 无法识别的日期 / unreadable date"}


LOST_AGREEMENTS = [
    # two completions at JX in 2024, none retained: at risk — unless an unreadable agreement row of
    # the unit could be a third, retained completion (1 of 3 is still below half: judged)
    ("nothing lost: none of two retained, at risk", [], {"D0": 2220.0, "D1": 2220.0}, set()),
    ("two agreement rows of the unit unreadable, begun 2023 (could end 2024): 2 of 4 would reach half",
     [lost_agreement("P8"), lost_agreement("P9", day=None)], {}, {"D0", "D1"}),
    ("look-alike: one lost row: 1 of 3 is still below half, at risk",
     [lost_agreement("P9")], {"D0": 2220.0, "D1": 2220.0}, set()),
    ("look-alike: the lost rows of another unit, or begun 2021 (ended before 2024): at risk",
     [lost_agreement("P8", unit_label=JX2), lost_agreement("P9", day="2021-03-01")], {"D0": 2220.0, "D1": 2220.0}, set()),
]


@pytest.mark.parametrize("desc, quarantine, expected, skipped", LOST_AGREEMENTS, ids=[c[0] for c in LOST_AGREEMENTS])
def test_difference_without_retention_beside_unreadable_agreements(desc, quarantine, expected, skipped):
    """Unreadable rows do not accuse: a unit-year below the threshold only while its agreement
    rows the loader could not read count as no retained completion is not judged."""
    t = world(**retained_world(JX, [False, False]), quarantine=quarantine)
    amounts, skips, _ = flagged(rm.difference_without_retention, t)
    assert amounts == expected and skips == skipped
    if skipped:
        _, out = run(rm.difference_without_retention, t)
        assert out["reason"].str.starts_with("该单位有见习协议行无法读取").all()


def test_a_difference_whose_agreement_is_unreadable_is_not_placed_in_a_year():
    """A 差额 that finds no agreement of its person at the unit is placed in its claim month's year;
    where that person's agreement row at the unit could not be read, that row may be its internship
    (ended another year): skipped. Another person's lost row does not place it."""
    rows = retained_world(JX, [False, False, False], diff_month="2024-03")
    rows["agreements"] = rows["agreements"][:2]  # P2's agreement is the unreadable row
    amounts, skips, _ = flagged(rm.difference_without_retention, world(**rows, quarantine=[lost_agreement("P2")]))
    assert "D2" in skips and "D2" not in amounts
    _, out = run(rm.difference_without_retention, world(**rows, quarantine=[lost_agreement("P2")]))
    assert out.filter(pl.col("claim_id") == "D2")["reason"].str.starts_with("差额未对应到见习协议").all()
    amounts, skips, _ = flagged(rm.difference_without_retention, world(**rows, quarantine=[lost_agreement("P7")]))
    assert "D2" in amounts and "D2" not in skips


# ------------------------------------------------------------------ difference_amount ----------
def monthly_run(unit_label: str, person: str, ms: list[str], amount: float) -> list[dict]:
    return [claim(f"M{person}{m}", unit_label, person, m, amount) for m in ms]


SIX = months(2023, 9, 6)
DIFF_AMOUNT = [
    ("six months at Jiangxi tier 1: 6 × (100% − 80%) × 1850 = 2220",
     monthly_run(JX, "P1", SIX, 1480.0) + [claim("D", JX, "P1", "2024-02", 2220.0, claim_type="差额")], {}, set()),
    ("a seventh month's difference added", monthly_run(JX, "P1", SIX, 1480.0)
     + [claim("D", JX, "P1", "2024-02", 2590.0, claim_type="差额")], {"D": 370.0}, set()),
    ("months across the new wage: 2 × 370 + 2 × 400 = 1540",
     monthly_run(JX, "P1", months(2024, 1, 4), 1480.0) + [claim("D", JX, "P1", "2024-04", 1540.0, claim_type="差额")],
     {}, set()),
    ("the same at the old wage for every month is under, not over",
     monthly_run(JX, "P1", months(2024, 1, 4), 1480.0) + [claim("D", JX, "P1", "2024-04", 1480.0, claim_type="差额")],
     {}, set()),
    ("Yunnan: 500 a month for six months", monthly_run(YN, "P1", SIX, 1500.0)
     + [claim("D", YN, "P1", "2024-02", 3500.0, claim_type="差额")], {"D": 500.0}, set()),
    ("Hunan: the standard is unset, the difference cannot be priced", monthly_run(HU, "P1", SIX, 1600.0)
     + [claim("D", HU, "P1", "2024-02", 3000.0, claim_type="差额")], {}, {"D"}),
    ("three months paid in one row (a lump sum): the months the 差额 pays for are not written, skipped",
     monthly_run(JX, "P1", SIX[:3], 1480.0) + [claim("M3", JX, "P1", SIX[3], 3 * 1480.0)]
     + [claim("D", JX, "P1", "2024-02", 2220.0, claim_type="差额")], {}, {"D"}),
    ("a row above the standard but under two months (the raised rate) is one month: judged",
     monthly_run(JX, "P1", SIX[:5], 1480.0) + [claim("M5", JX, "P1", SIX[5], 1850.0)]
     + [claim("D", JX, "P1", "2024-02", 2590.0, claim_type="差额")], {"D": 370.0}, set()),
]


@pytest.mark.parametrize("desc, claims, expected, skipped", DIFF_AMOUNT, ids=[c[0] for c in DIFF_AMOUNT])
def test_difference_amount(desc, claims, expected, skipped):
    """RATE_MISAPPLIED.difference_amount"""
    amounts, skips, _ = flagged(rm.difference_amount, world(claims=claims))
    assert amounts == expected
    assert skips == skipped


def fillers(first: int, later: int) -> list[dict]:
    """Other people's insurance at another unit of the county, 2024-06 … 2024-12: ``first`` rows in
    June, ``later`` in each month after — an extract cut in June begins at full strength, a whole
    one thinly (the county's units are in the extract: checks._units.units_unwritten)."""
    return [insured(f"Q{i}", "ULATE", f"2024-{m:02d}") for m in range(6, 13) for i in range(first if m == 6 else later)]


@pytest.mark.parametrize("first, later, expected", [
    pytest.param(30, 30, {}, id="an extract cut in 2024-06: the retained pair's insurance before it is unknown, not missing"),
    pytest.param(2, 30, {"D0": 2220.0, "D1": 2220.0}, id="look-alike: a thin first month is a whole history: judged"),
])
def test_retention_before_an_insurance_extract_begins_is_not_judged(first, later, expected):
    """Two trainees really retained (a contract the day after the end, the unit's insurance from
    March 2024) in an insurance extract that begins in June: their insurance after the end is not
    in it. Where the extract was cut in June (its first month at full strength,
    extract.cut_first_month_share of the median and extract.cut_min_rows), what came before is
    unknown and the 差额 is not put at risk; where it begins thinly, it is the whole history."""
    rows = retained_world(JX, [True, True], si_months=())
    rows["social_insurance"] = fillers(first, later)
    amounts, _, _ = flagged(rm.difference_without_retention, world(**rows))
    assert amounts == expected


@pytest.mark.parametrize("earlier, expected", [
    pytest.param([], {}, id="insured from the extract's first month, two after the end: not judged late"),
    pytest.param([insured("Q1", JX2, "2024-01")], {"D0": 2220.0, "D1": 2220.0},
                 id="look-alike: the extract begins in January: the run visibly began late"),
])
def test_an_insurance_run_cut_by_the_extract_is_not_judged_late(earlier, expected):
    """The internships ended 2024-02; the unit insures its two trainees from 2024-05. Where May is
    the extract's very first month, whether the run began in time (by March) is not in the
    extract: not judged late. Where the extract begins earlier, the late start is seen."""
    rows = retained_world(JX, [True, True], si_months=("2024-05", "2024-06", "2024-07"))
    rows["social_insurance"] += earlier
    amounts, _, _ = flagged(rm.difference_without_retention, world(**rows))
    assert amounts == expected


def test_a_difference_naming_an_agreement_outside_the_export_is_not_counted():
    """An agreements export of the last months leaves out the older internships its claims still
    name: a 差额 that finds no internship while it names an agreement the export does not hold pays
    for months the data cannot show — skipped, not judged to pay for none. Naming no agreement,
    it pays for the months up to its own (none here): the whole of it is at risk."""
    named = world(claims=[claim("D", JX, "P1", "2024-02", 2220.0, claim_type="差额", agreement_id="A404")])
    amounts, skips, _ = flagged(rm.difference_amount, named)
    assert amounts == {} and skips == {"D"}
    _, out = run(rm.difference_amount, named)
    assert out["reason"][0].startswith("差额所称见习协议 A404 不在见习协议数据中")
    amounts, skips, _ = flagged(rm.difference_amount, world(claims=[claim("D", JX, "P1", "2024-02", 2220.0,
                                                                          claim_type="差额")]))
    assert amounts == {"D": 2220.0} and skips == set()
    # its retention year is unknown too: difference_without_retention does not place it in 2024
    rows = retained_world(JX, [False, False], diff_month="2024-03")
    rows["agreements"] = rows["agreements"][:1]
    rows["claims"] = [c if c["claim_id"] != "D1" else {**c, "agreement_id": "A404"} for c in rows["claims"]]
    amounts, skips, _ = flagged(rm.difference_without_retention, world(**rows))
    assert "D1" in skips and "D1" not in amounts


def lost(person="P1", unit_label=JX, day="2023-11-01", table="claims"):
    """A row the loader could not read, placed by its readable cells (Tables.quarantine)."""
    return {"table": table, "file": f"{table}.csv", "line": 9, "unit_id": uscc(unit_label) if unit_label else None,
            "person_id": pid(person),
            "day": day, "reasons": "amount: 无法识别的金额 / unreadable amount"}


# six monthly claims at Jiangxi tier 1 and a 差额 worth seven months (370 too many), beside rows
# the loader could not read: a lost monthly claim of the internship could be the seventh month
DIFF_LOST = [
    ("nothing lost: one month too many", [], {"D": 370.0}, set()),
    ("a monthly claim of the internship lost to the quarantine: its months cannot be counted", [lost()], {}, {"D"}),
    ("a lost claim row with no readable month: the same", [lost(day=None)], {}, {"D"}),
    ("a lost row of another unit, of another person, or of the agreements: judged",
     [lost(unit_label=JX2), lost(person="P2"), lost(table="agreements")], {"D": 370.0}, set()),
    ("a lost claim after the months the 差额 pays for: judged", [lost(day="2024-05-01")], {"D": 370.0}, set()),
]


@pytest.mark.parametrize("desc, quarantine, expected, skipped", DIFF_LOST, ids=[c[0] for c in DIFF_LOST])
def test_difference_amount_beside_unreadable_claims(desc, quarantine, expected, skipped):
    """RATE_MISAPPLIED.difference_amount: unreadable rows do not accuse."""
    claims = monthly_run(JX, "P1", SIX, 1480.0) + [claim("D", JX, "P1", "2024-02", 2590.0, claim_type="差额")]
    amounts, skips, _ = flagged(rm.difference_amount, world(claims=claims, quarantine=quarantine))
    assert amounts == expected
    assert skips == skipped


# the internship the 差额 pays for: P1 at JX 2023-09-01 → 2024-02-29, monthly claims for its six months
DIFF_IN_INTERNSHIP = [
    ("dated in the last internship month (2024-02): six months, 2220", [term()],
     [claim("D", JX, "P1", "2024-02", 2220.0, claim_type="差额", submitted="2024-03-20")], {}),
    ("dated in the month claimed (2024-04): the same six months, 2220", [term()],
     [claim("D", JX, "P1", "2024-04", 2220.0, claim_type="差额", submitted="2024-04-20")], {}),
    ("dated 2024-04 but worth seven months: one month too many", [term()],
     [claim("D", JX, "P1", "2024-04", 2590.0, claim_type="差额", submitted="2024-04-20")], {"D": 370.0}),
    ("a monthly claim after the end is no internship month the 差额 pays for", [term()],
     [claim("M2024-03", JX, "P1", "2024-03", 1600.0),
      claim("D", JX, "P1", "2024-04", 2620.0, claim_type="差额", submitted="2024-04-20")], {"D": 400.0}),
    ("a second 差额 of the same internship pays for no month (the first, by month, pays for all)", [term()],
     [claim("D1", JX, "P1", "2024-02", 2220.0, claim_type="差额", submitted="2024-03-20"),
      claim("D2", JX, "P1", "2024-04", 2220.0, claim_type="差额", submitted="2024-04-20")], {"D2": 2220.0}),
    ("an extension is one internship: its 差额 pays for both agreements' months",
     [term(end="2023-11-30"), term("A2", start="2023-12-01", end="2024-02-29")],
     [claim("D", JX, "P1", "2024-04", 2220.0, claim_type="差额", submitted="2024-04-20", agreement_id="A1")], {}),
]


@pytest.mark.parametrize("desc, agreements, diffs, expected", DIFF_IN_INTERNSHIP, ids=[c[0] for c in DIFF_IN_INTERNSHIP])
def test_difference_amount_pays_for_its_internship(desc, agreements, diffs, expected):
    """RATE_MISAPPLIED.difference_amount: the months of the internship the 差额 pays for, once."""
    claims = monthly_run(JX, "P1", SIX, 1480.0) + diffs
    amounts, _, _ = flagged(rm.difference_amount, world(agreements=agreements, claims=claims))
    assert amounts == expected


# the internship began 2023-09; the claims extract holds its months from 2023-12 on only
DIFF_EXTRACT = [
    ("claims exported from 2023-12 on: the internship's first months are not in the extract, skipped",
     [], {}, {"D"}),
    ("look-alike: the extract reaches back (another trainee's claim of 2023-08): three months, 1110 too much",
     [claim("X", JX, "P2", "2023-08", 1480.0)], {"D": 1110.0}, set()),
]


@pytest.mark.parametrize("desc, others, expected, skipped", DIFF_EXTRACT, ids=[c[0] for c in DIFF_EXTRACT])
def test_difference_amount_of_an_internship_begun_before_the_claims_extract(desc, others, expected, skipped):
    """RATE_MISAPPLIED.difference_amount: an export of the claims from a month on holds none of
    the months before it; a 差额 of an internship begun earlier cannot be counted against it."""
    claims = monthly_run(JX, "P1", SIX[3:], 1480.0) + [
        claim("D", JX, "P1", "2024-02", 2220.0, claim_type="差额", submitted="2024-03-20")] + others
    amounts, skips, found = flagged(rm.difference_amount, world(agreements=[term()], claims=claims))
    assert (amounts, skips) == (expected, skipped)


# ------------------------------------------------------------------ remaining_period_ineligible
def hire_case(unit_label=JX, *, end_reason="提前留用", actual_end="2023-11-30", start="2023-09-01",
              contract_start="2023-12-01", contract_end="2024-11-30", si=("2023-12",), claim_month="2024-01",
              si_as_of=None):
    return dict(
        agreements=[term(unit_label=unit_label, start=start, actual_end_date=actual_end, end_reason=end_reason)],
        claims=[claim("R1", unit_label, "P1", claim_month, 1480.0, claim_type="剩余期限")],
        employment=[contract("P1", unit_label, contract_start, contract_end)] if contract_start else [],
        social_insurance=[insured("P1", unit_label, m) for m in si],
        si_as_of=si_as_of,
    )


REMAINING = [
    # description, rows, flagged {claim: amount}, skipped {claim: reason starts with}
    ("Jiangxi: hired with a 12-month contract in 2023 after 3 months of internship", hire_case(), {}, {}),
    ("Jiangxi: an open-ended contract is long enough", hire_case(contract_end=None), {}, {}),
    ("Jiangxi: a 6-month contract is too short", hire_case(contract_end="2024-05-31"), {"R1": 1480.0}, {}),
    ("look-alike: Jiangxi, six months renewed (续签) from the next day for a year: one hire, long enough",
     {**hire_case(contract_end="2024-05-31"),
      "employment": [contract("P1", JX, "2023-12-01", "2024-05-31"), contract("P1", JX, "2024-06-01", "2025-05-31")]},
     {}, {}),
    ("look-alike: Jiangxi, the contract signed after the 2023-12-31 window: what applies after it is unknown, "
     "skipped, not failed",
     hire_case(actual_end="2024-01-01", contract_start="2024-01-02", contract_end="2025-01-01", claim_month="2024-02"),
     {}, {"R1": "窗口期后政策未知"}),
    ("Henan: a contract signed in 2024, after the national window closed: skipped",
     hire_case(HN, actual_end="2024-01-10", contract_start="2024-01-11", contract_end="2024-03-31", si=(),
               claim_month="2024-02"),
     {}, {"R1": "窗口期后政策未知"}),
    ("Henan: hired in December 2023, a remaining month claimed in 2024 is inside the window",
     hire_case(HN, actual_end="2023-12-10", contract_start="2023-12-11", contract_end="2024-03-31", si=(),
               claim_month="2024-01"),
     {}, {}),
    ("Jiangxi: hired before a full month of internship",
     hire_case(start="2023-09-10", actual_end="2023-09-30", contract_start="2023-10-01", contract_end="2024-09-30"),
     {"R1": 1480.0}, {}),
    ("the agreement ended 提前离岗, not a hire", hire_case(end_reason="提前离岗"), {"R1": 1480.0}, {}),
    ("no labour contract with the unit at all", hire_case(contract_start=None), {"R1": 1480.0}, {}),
    ("Hunan: hired without the unit's social insurance", hire_case(HU, si=()), {"R1": 1480.0}, {}),
    ("Hunan: hired and insured", hire_case(HU), {}, {}),
    ("Hunan: the insurance month is after si_as_of, not judged", hire_case(HU, si=(), si_as_of="2023-11"), {}, {}),
    ("Henan: any contract before the planned end will do", hire_case(HN, contract_end="2024-03-31", si=()), {}, {}),
    # unreadable rows do not accuse: a contract row of the person lost to the quarantine may be the hire
    ("look-alike: no contract read, one of the person's contract rows at the unit unreadable (合同终止日期 长期)",
     {**hire_case(contract_start=None), "quarantine": [lost(table="employment", day="2023-12-01")]},
     {}, {"R1": "该见习人员的劳动合同或参保记录有无法读取的行"}),
    ("look-alike: the same row lost without a readable employer or date",
     {**hire_case(contract_start=None), "quarantine": [lost(table="employment", unit_label=None, day=None)]},
     {}, {"R1": "该见习人员的劳动合同或参保记录有无法读取的行"}),
    ("look-alike: Hunan, no insurance read, an insurance row of the person unreadable",
     {**hire_case(HU, si=()), "quarantine": [lost(unit_label=HU, table="social_insurance", day="2023-12-01")]},
     {}, {"R1": "该见习人员的劳动合同或参保记录有无法读取的行"}),
    ("no contract; the lost contract row is of another employer, or before the internship: found",
     {**hire_case(contract_start=None), "quarantine": [lost(table="employment", unit_label=JX2, day="2023-12-01"),
                                                       lost(table="employment", day="2023-01-01")]},
     {"R1": 1480.0}, {}),
    ("提前离岗 with a contract row lost: the agreement's end alone fails it, found",
     {**hire_case(end_reason="提前离岗", contract_start=None), "quarantine": [lost(table="employment", day="2023-12-01")]},
     {"R1": 1480.0}, {}),
]


@pytest.mark.parametrize("desc, rows, expected, skipped", REMAINING, ids=[c[0] for c in REMAINING])
def test_remaining_period_ineligible(desc, rows, expected, skipped):
    """RATE_MISAPPLIED.remaining_period_ineligible"""
    found, skips = run(rm.remaining_period_ineligible, world(**rows))
    assert dict(zip(found["claim_id"].to_list(), found["amount_at_risk"].to_list())) == expected
    reasons = dict(zip(skips["claim_id"].to_list(), skips["reason"].to_list())) if skips.height else {}
    assert set(reasons) == set(skipped)
    for claim_id, start in skipped.items():
        assert reasons[claim_id].startswith(start)


# ------------------------------------------------------------------ insurance_inside_subsidy ---
INSURANCE = [
    ("Henan: insurance is inside the subsidy, claimed on top",
     [claim("C1", HN, "P1", "2023-10", 1400.0, insurance_amount=35.5)], {"C1": 35.5}, set()),
    ("Yunnan: the same", [claim("C1", YN, "P1", "2023-10", 1500.0, insurance_amount=20.0)], {"C1": 20.0}, set()),
    ("Jiangxi reimburses 见习综合保险 at cost", [claim("C1", JX, "P1", "2023-10", 1480.0, insurance_amount=35.5)], {}, set()),
    ("no insurance claimed", [claim("C1", HN, "P1", "2023-10", 1400.0, insurance_amount=0.0)], {}, set()),
    ("look-alike: Jiangxi before its own notice (2023-08-16): insurance on top is Jiangxi's choice, unknown "
     "before it — skipped, never judged by the national notice",
     [claim("C1", JX, "P1", "2023-07", 1480.0, insurance_amount=35.5)], {}, {"C1"}),
    ("Henan before its notice (2023-06-20): skipped the same way",
     [claim("C1", HN, "P1", "2023-05", 1400.0, insurance_amount=35.5)], {}, {"C1"}),
    ("Hunan after its notice expired (2026-07-24): skipped",
     [claim("C1", HU, "P1", "2026-08", 1400.0, insurance_amount=35.5)], {}, {"C1"}),
]


def test_insurance_skip_reasons_name_the_province():
    """The skipped claims say why, in Chinese, naming the province and the notice's date."""
    t = world(claims=[claim("C1", JX, "P1", "2023-07", 1480.0, insurance_amount=35.5),
                      claim("C2", HU, "P1", "2026-08", 1400.0, insurance_amount=35.5)])
    _, skips = run(rm.insurance_inside_subsidy, t)
    reasons = dict(zip(skips["claim_id"].to_list(), skips["reason"].to_list()))
    assert reasons["C1"] == "江西省通知（赣人社发〔2023〕9号）自2023-08-16起施行，此前政策未知"
    assert reasons["C2"] == "湖南省通知已于2026-07-24到期，此后政策未知"


def test_insurance_finding_cites_its_own_province():
    found, _ = run(rm.insurance_inside_subsidy, world(claims=[
        claim("C1", HN, "P1", "2023-10", 1400.0, insurance_amount=35.5),
        claim("C2", YN, "P1", "2023-10", 1500.0, insurance_amount=20.0)]))
    cites = dict(zip(found["claim_id"].to_list(), found["citation"].to_list()))
    assert cites["C1"].startswith("豫人社函〔2023〕138号") and cites["C2"].startswith("云人社发〔2023〕18号")


@pytest.mark.parametrize("desc, claims, expected, skipped", INSURANCE, ids=[c[0] for c in INSURANCE])
def test_insurance_inside_subsidy(desc, claims, expected, skipped):
    """RATE_MISAPPLIED.insurance_inside_subsidy"""
    amounts, skips, _ = flagged(rm.insurance_inside_subsidy, world(claims=claims))
    assert amounts == expected
    assert skips == skipped


# ------------------------------------------------------------------ before_approval ------------
APPROVAL = [
    ("a month before the unit was approved (2023-10-15)", [term(unit_label="ULATE")],
     [claim("C1", "ULATE", "P1", "2023-09", 1480.0)], {"C1": 1480.0}),
    ("the month of the unit's approval is payable", [term(unit_label="ULATE")],
     [claim("C1", "ULATE", "P1", "2023-10", 1480.0)], {}),
    ("a month before the agreement was approved", [term(approved_date="2023-11-05")],
     [claim("C1", JX, "P1", "2023-10", 1480.0), claim("C2", JX, "P1", "2023-11", 1480.0)], {"C1": 1480.0}),
    ("no agreement approval date recorded: nothing to compare", [term()],
     [claim("C1", JX, "P1", "2023-09", 1480.0)], {}),
    ("an agreement listed twice, its amendment (approved 2023-12-01) above the first approval: payable",
     [term(approved_date="2023-12-01"), term(approved_date="2023-08-25")],
     [claim("C1", JX, "P1", "2023-10", 1480.0)], {}),
    ("look-alike: listed once, approved 2023-12-01: October came before",
     [term(approved_date="2023-12-01")], [claim("C1", JX, "P1", "2023-10", 1480.0)], {"C1": 1480.0}),
]


@pytest.mark.parametrize("desc, agreements, claims, expected", APPROVAL, ids=[c[0] for c in APPROVAL])
def test_before_approval(desc, agreements, claims, expected):
    """RATE_MISAPPLIED.before_approval"""
    amounts, _, _ = flagged(rm.before_approval, world(agreements=agreements, claims=claims))
    assert amounts == expected


@pytest.mark.parametrize("named, unit_label, expected, skipped", [
    pytest.param("A0", JX, {}, {"C1"}, id="names A0, not exported: A1's approval (2023-11-05) is not its own"),
    pytest.param("A1", JX, {"C1": 1480.0}, set(), id="look-alike: names A1 itself, approved after October"),
    pytest.param("A0", "ULATE", {"C1": 1480.0}, set(), id="names A0, but the unit was approved after September"),
])
def test_before_approval_of_a_claim_naming_an_agreement_not_exported(named, unit_label, expected, skipped):
    t = world(agreements=[term(unit_label=unit_label, approved_date="2023-11-05")],
              claims=[claim("C1", unit_label, "P1", "2023-09" if unit_label == "ULATE" else "2023-10", 1480.0,
                            agreement_id=named)])
    amounts, skips, _ = flagged(rm.before_approval, t)
    assert amounts == expected and skips == skipped


@pytest.mark.parametrize("rows, expected", [
    # the register lists the unit's re-admission (2025) above its first admission (2022)
    ([unit("UTWICE", approved="2025-03-01"), unit("UTWICE", approved="2022-01-01")], {}),
    # look-alike: listed once, admitted in 2025 only: a 2023 month came before any approval
    ([unit("UTWICE", approved="2025-03-01")], {"C1": 1480.0}),
], ids=["listed twice, the earlier admission second", "listed once, admitted later"])
def test_before_approval_reads_a_unit_listed_twice_from_its_first_admission(rows, expected):
    t = world(agreements=[term(unit_label="UTWICE")], claims=[claim("C1", "UTWICE", "P1", "2023-10", 1480.0)])
    t = dataclasses.replace(t, units=pl.concat([t.units, tables(units=rows).units], how="diagonal_relaxed"))
    amounts, _, _ = flagged(rm.before_approval, t)
    assert amounts == expected


# ------------------------------------------------------------------ allowance_below_min_wage ---
def paid(person, unit_label, month, amount):
    return {"person_id": pid(person), "unit_id": uscc(unit_label), "month": month, "amount": amount}


ALLOWANCE = [
    ("Jiangxi: 1500 paid against a 1850 minimum wage", [term()], [paid("P1", JX, "2023-10", 1500.0)],
     [claim("C1", JX, "P1", "2023-10", 1480.0, insurance_amount=10.0)], {"C1": 1490.0}),
    ("exactly the minimum wage is enough", [term()], [paid("P1", JX, "2023-10", 1850.0)],
     [claim("C1", JX, "P1", "2023-10", 1480.0)], {}),
    ("paid in two instalments adding up to the minimum", [term()],
     [paid("P1", JX, "2023-10", 1000.0), paid("P1", JX, "2023-10", 850.0)], [claim("C1", JX, "P1", "2023-10", 1480.0)], {}),
    ("the first month of the new wage: 1900 is below 2000", [term(end="2024-08-31")], [paid("P1", JX, "2024-03", 1900.0)],
     [claim("C1", JX, "P1", "2024-03", 1600.0)], {"C1": 1600.0}),
    ("no payment rows: the agreement's monthly allowance is below", [term(allowance_monthly=1700.0)], None,
     [claim("C1", JX, "P1", "2023-10", 1480.0)], {"C1": 1480.0}),
    ("a first month started mid-month may be pro-rated", [term(start="2023-09-18")], [paid("P1", JX, "2023-09", 800.0)],
     [claim("C1", JX, "P1", "2023-09", 1480.0)], {}),
    ("Henan sets no allowance floor", [term(unit_label=HN)], [paid("P1", HN, "2023-10", 1000.0)],
     [claim("C1", HN, "P1", "2023-10", 1400.0)], {}),
]


@pytest.mark.parametrize("desc, agreements, payments, claims, expected", ALLOWANCE, ids=[c[0] for c in ALLOWANCE])
def test_allowance_below_min_wage(desc, agreements, payments, claims, expected):
    """RATE_MISAPPLIED.allowance_below_min_wage"""
    amounts, _, _ = flagged(rm.allowance_below_min_wage,
                            world(agreements=agreements, claims=claims, allowance_payments=payments))
    assert amounts == expected


def test_every_finding_carries_its_claim_and_period():
    """Claim-level family: claim_id, unit and the claim month are always set."""
    t = world(agreements=[term(actual_end_date="2023-10-20", end_reason="提前离岗")],
              claims=[claim("C1", JX, "P1", "2023-10", 1480.0), claim("C2", JX2, "P1", "2023-10", 1480.0)])
    for check in (rm.partial_month, rm.wrong_amount):
        _, _, found = flagged(check, t)
        assert found.height == 1
        row = found.row(0, named=True)
        assert row["claim_id"] and row["unit_id"] and row["county_code"]
        assert str(row["period_start"]) == "2023-10-01" and str(row["period_end"]) == "2023-10-31"


# ------------------------------------------------------------------ reference gaps: skip, say where ---
def test_a_county_without_a_tier_is_skipped_naming_province_county_and_month():
    """A reference gap is said in Chinese with the place and month, and what would fill it."""
    from audit.findings import GAP_TIER

    _, skipped = run(rm.wrong_amount, world(claims=[claim("C1", "URJ", "P1", "2023-10", 1480.0)]))
    row = skipped.row(0, named=True)
    assert row["gap"] == GAP_TIER
    assert row["reason"].startswith("江西省赣州市瑞金市（360781） 2023-10 无最低工资档次")
    assert "county_tiers" in row["reason"]


def test_a_tier_without_a_usable_standard_is_skipped_naming_the_tier():
    from audit.findings import GAP_WAGE

    wages = [{"province_code": "360000", "tier": 1, "effective_from": "2018-01-01", "monthly_yuan": 1850.0},
             {"province_code": "360000", "tier": 1, "effective_from": "2023-06-01", "monthly_yuan": None,
              "status": "UNVERIFIED"}]
    _, skipped = run(rm.wrong_amount, world(claims=[claim("C1", JX, "P1", "2023-10", 1480.0)], min_wage=wages))
    row = skipped.row(0, named=True)
    assert row["gap"] == GAP_WAGE
    assert row["reason"].startswith("江西省 1类地区 2023-10 无可用最低工资标准（UNVERIFIED）")


def test_a_month_the_calendar_lacks_is_skipped_not_judged():
    """The 15-working-day rule needs every day of the month of leaving; a month the calendar does
    not hold (here 2026-03: the test calendar ends in 2025) is skipped, saying so."""
    from audit.findings import GAP_CALENDAR

    t = world(agreements=[term(start="2025-10-01", end="2026-06-30", actual_end_date="2026-03-06", end_reason="提前离岗")],
              claims=[claim("C1", JX, "P1", "2026-03", 1480.0)], audit_month="2026-03")
    found, skipped = run(rm.partial_month, t)
    assert found.height == 0
    row = skipped.row(0, named=True)
    assert row["claim_id"] == "C1" and row["gap"] == GAP_CALENDAR
    assert row["reason"].startswith("江西省南昌市东湖区（360102）2026-03：法定工作日历缺少 2026-03-01 至 2026-03-06")


@pytest.mark.parametrize("status, secondary", [("VERIFIED", False), ("VERIFIED_SECONDARY", True), ("PARTIAL", True)])
def test_a_finding_priced_on_a_secondary_source_says_so(status, secondary):
    """Rows with only a secondary source are used when nothing better exists, and every finding
    priced on one says which row, which status and which source."""
    import json

    tiers = [{"county_code": "360121", "tier": 2, "effective_from": "2018-01-01", "status": status}]
    _, _, found = flagged(rm.wrong_amount, world(claims=[claim("C1", JX2, "P1", "2023-10", 1480.0)], county_tiers=tiers))
    wage = json.loads(found["evidence"][0])["minimum_wage"]
    assert wage["tier_status"] == status and wage["tier_source"] == "test" and wage["status"] == "VERIFIED"
    assert (wage["secondary_source"] is not None) == secondary
    if secondary:
        assert f"县区档次 2 档（2018-01-01 起，{status}）" in wage["secondary_source"]


def test_a_flat_rate_never_says_its_wage_is_secondary():
    """Yunnan's flat rate does not use the minimum wage: no caveat on it."""
    import json

    tiers = [{"county_code": "530102", "tier": 1, "effective_from": "2018-01-01", "status": "PARTIAL"}]
    _, _, found = flagged(rm.wrong_amount, world(claims=[claim("C1", YN, "P1", "2023-10", 1550.5)], county_tiers=tiers))
    assert json.loads(found["evidence"][0])["minimum_wage"]["secondary_source"] is None


@pytest.mark.parametrize("quarantine, expected, skipped", [
    pytest.param([lost_agreement("P1", day=None)], {}, {"C1"},
                 id="an agreement row of the person at the unit quarantined (it ended before it started): not judged"),
    pytest.param([lost_agreement("P1", unit_label=JX2, day=None)], {"C1": 1480.0}, set(),
                 id="look-alike: the person's lost row is at another unit: found"),
    pytest.param([lost_agreement("P8", day=None)], {"C1": 1480.0}, set(),
                 id="look-alike: another person's lost row at the unit: found"),
])
def test_outside_agreement_beside_an_agreement_row_the_loader_quarantined(quarantine, expected, skipped):
    """The loader quarantines an agreement that ends before it starts: the person's readable
    agreement at the unit does not cover the month, but the lost row may (unreadable rows do not
    accuse), so the claim is skipped, saying so. (The claim names no agreement: one naming an
    agreement the export lacks is skipped whatever the quarantine holds.)"""
    t = world(agreements=[term()], claims=[claim("C1", JX, "P1", "2024-05", 1480.0, agreement_id=None)],
              quarantine=quarantine)
    amounts, skips, _ = flagged(rm.outside_agreement, t)
    assert amounts == expected and skips == skipped
    if skipped:
        _, out = run(rm.outside_agreement, t)
        assert set(out["reason"]) == {rm.AGREEMENT_ROW_LOST}
