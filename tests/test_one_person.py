"""One person across registries (RULES.md §8; docs/semantics.md "People"; checks/_identity.py).

Registries spell one person's ID differently. Each table below is a rule that joins people across
tables: the fraud it must find when the other table spells the trainee's ID another way, and the
legal look-alike beside it that must not fire.

The people (all in 南昌 东湖区 360102, Jiangxi):

- ``V``: 张三's valid ID (born 1999, check character X), with bank card ``CARD`` and phone ``PHONE``;
- ``T``: V with a wrong check character — a keying error. Registered as a second trainee row with
  the same name and card, it is a *corroborated* typo: the same person as V. Registered with
  the same name but another card and phone (``T_ALONE``) it is NOT: name alone never links;
- ``W``: V's twin: same birth date and family phone, another name, another valid ID.

How an ID is exported: ``spelled(raw)`` gives the three columns the loader gives a raw ID
(``person_id``, ``person_id_raw``, ``person_id_status``) through the loader's own ID maths, so
a case can write the 15-digit form, full-width digits, spaces or a tab, or a lower-case x.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from audit.loader.normalised import QUARANTINED_ROWS_SCHEMA
from audit.normalise import person_id_table
from checks import data_quality as dq
from checks import duplicate_trainee as dup
from checks import ghost_trainee as g
from checks import graph_rules as gr
from checks import one_internship as oi
from checks import rate_misapplied as rm
from checks import retention_inflated as ri
from checks import unit_ineligible as ui
from checks._identity import UNRESOLVED_ID, person_aliases
from checks._retention import UNVERIFIABLE
from tests.helpers import id_check, policy, run, tables, unit, uscc

# ------------------------------------------------------------------------------ the people --


def _valid_x(prefix: str) -> str:
    """The first valid ID ``prefix`` + a sequence number whose check character is X."""
    for seq in range(1000):
        body = f"{prefix}{seq:03d}"
        if id_check(body) == "X":
            return body + "X"
    raise AssertionError


V = _valid_x("36010219990101")
T = V[:17] + "0"  # V's check character keyed wrong: fails GB 11643
W = next(b + id_check(b) for b in (f"36010219990101{s:03d}" for s in range(1000)) if b + id_check(b) != V)
CARD, PHONE = "6217000011112222", "13800001111"
FULLWIDTH = str.maketrans("0123456789X", "０１２３４５６７８９Ｘ")

SPELLINGS = {
    "the 15-digit legacy form": V[:6] + V[8:17],
    "full-width digits": V.translate(FULLWIDTH),
    "spaces and a tab": f"{V[:6]} {V[6:14]}\t{V[14:]}",
    "an ideographic space in front": "\u3000" + V,
    "a lower-case x": V.lower(),
}
LABEL = {V: "V", T: "T", W: "W"}


def spelled(raw: str) -> dict[str, Any]:
    """The columns the loader gives an ID exported as ``raw`` (audit.normalise.person_id_table)."""
    row = person_id_table(pl.Series([raw])).row(0, named=True)
    return {"person_id": row["id"], "person_id_raw": raw, "person_id_status": row["status"]}


def registered(raw: str, name: str = "张三", card: str | None = CARD, phone: str | None = PHONE) -> dict:
    return {**spelled(raw), "name": name, "education": "本科", "graduation_date": "2023-06-30",
            "bank_card": card, "phone": phone}


REG_V = registered(V)
REG_T = registered(T)  # same name and card as V: corroborated
T_ALONE = registered(T, card="6217000099998888", phone="13999990000")  # same name only
REG_W = registered(W, name="张四", card="6217000033334444")  # the twin: family phone


# -------------------------------------------------------------------- spellings and links --

@pytest.mark.parametrize("how", list(SPELLINGS))
def test_every_spelling_of_an_id_is_read_to_one_id(how: str) -> None:
    """The loader reads each registry's spelling to the one 18-digit ID: those meet already."""
    assert spelled(SPELLINGS[how])["person_id"] == V


def test_a_typo_is_not_a_spelling() -> None:
    """A check-digit typo is another ID (bad_check): it meets the valid one only through a
    corroborated link (checks/_identity.py), never by reading."""
    assert spelled(T) == {"person_id": T, "person_id_raw": T, "person_id_status": "bad_check"}
    assert spelled(T.lower())["person_id"] == T


def test_the_loader_reads_every_person_column_of_every_registry(tmp_path: Path) -> None:
    """Every ID column — trainees, agreements, claims, insurance, contracts, deaths, allowance
    payments, the legal representatives of units and the market registry — written in one
    spelling each, comes out as the one ID."""
    from audit.loader import load_inputs

    s = list(SPELLINGS.values())
    u1 = uscc("U1")
    files = {
        "units": f"unit_id,unit_name,county_code,approved_date,legal_rep_id\n{u1},单位,360102,2022-01-01,{s[0]}\n",
        "trainees": f"person_id,name\n{s[1]},张三\n",
        "agreements": f"agreement_id,person_id,unit_id,start_date,planned_end_date\nA1,{s[2]},{u1},2023-09-01,2024-02-29\n",
        "claims": f"claim_id,unit_id,person_id,claim_month,amount,submitted_date\nC1,{u1},{s[3]},2023-09,1480,2023-10-10\n",
        "social_insurance": f"person_id,employer_id,month,insurance_type\n{s[4]},{u1},2023-09,养老\n",
        "employment": f"person_id,employer_id,contract_start\n{s[0]},{u1},2024-03-01\n",
        "deaths": f"person_id,death_date\n{s[1]},2024-05-01\n",
        "allowance_payments": f"person_id,unit_id,month,amount\n{s[2]},{u1},2023-09,2500\n",
        "market_registry": f"unit_id,reg_status,legal_rep_id\n{u1},存续,{s[3]}\n",
    }
    for name, text in files.items():
        # a tab inside a CSV field: quoted, as an export writes it
        body = "\n".join(",".join(f'"{c}"' if "\t" in c else c for c in line.split(",")) for line in text.splitlines())
        (tmp_path / f"{name}.csv").write_text(body + "\n", encoding="utf-8")
    loaded = load_inputs(tmp_path)
    assert loaded.quarantine.height == 0
    for name, frame in loaded.tables.items():
        for col in ("person_id", "legal_rep_id"):
            if col in frame.columns:
                assert frame[col].to_list() == [V], (name, col)


ALIASES = [
    pytest.param([REG_V, REG_T], {(V, T), (T, V)}, id="corroborated typo: one person under two IDs"),
    pytest.param([REG_V, T_ALONE], set(), id="look-alike: same name, another card and phone: two people"),
    pytest.param([REG_V, REG_W], set(), id="look-alike: twins sharing the family phone: two people"),
    pytest.param([REG_V, {**REG_V, **spelled(SPELLINGS["the 15-digit legacy form"])}], set(),
                 id="a spelling difference alone needs no link: one ID already"),
]


@pytest.mark.parametrize(("register", "pairs"), ALIASES)
def test_person_aliases(register: list[dict], pairs: set) -> None:
    found = person_aliases(tables(trainees=register), policy()).collect()
    assert {(r["person_id"], r["alias"]) for r in found.iter_rows(named=True) if r["person_id"] != r["alias"]} == pairs


# ------------------------------------------------------------------------ the trainee world --

MONTHS = ["2023-09", "2023-10", "2023-11", "2023-12", "2024-01", "2024-02"]


def world(*, register: list[dict] = (REG_V,), by: str = V, claims_by: str | None = None,  # type: ignore[assignment]
          insurance: list[tuple[str, str, str]] = (), contracts: list[tuple[str, str, str, str | None]] | None = None,  # type: ignore[assignment]
          deaths: list[tuple[str, str]] | None = None, allowance: list[tuple[str, str, str | None]] | None = None,
          units: tuple[str, ...] = ("U1", "X"), audit_month: str = "2024-06") -> Any:
    """Agreement A1 of ``by`` at U1, 2023-09-01 → 2024-02-29, six monthly claims of 1480 yuan
    (``M2023-09`` …) under ``claims_by`` (default ``by``). Registry rows name the person as a raw
    spelling: insurance (raw, employer, month), contracts (raw, employer, start, end), deaths
    (raw, date), allowance payments (raw, month, account)."""
    claims_by = claims_by or by
    extra: dict[str, Any] = {}
    if contracts is not None:
        extra["employment"] = [{**spelled(raw), "employer_id": uscc(e), "contract_start": s, "contract_end": end}
                               for raw, e, s, end in contracts]
    if deaths is not None:
        extra["deaths"] = [{**spelled(raw), "death_date": d} for raw, d in deaths]
    if allowance is not None:
        extra["allowance_payments"] = [{**spelled(raw), "unit_id": uscc("U1"), "month": m, "amount": 2500.0,
                                        "account": acct, "paid_date": f"{m}-25"} for raw, m, acct in allowance]
    return tables(
        units=[unit(u) for u in units],
        trainees=list(register),
        agreements=[{"agreement_id": "A1", **spelled(by), "unit_id": uscc("U1"), "start_date": "2023-09-01",
                     "planned_end_date": "2024-02-29", "end_reason": "期满"}],
        claims=[{"claim_id": f"M{m}", "unit_id": uscc("U1"), **spelled(claims_by), "agreement_id": "A1",
                 "claim_month": m, "claim_type": "月度", "rate_basis": "标准", "amount": 1480.0,
                 "submitted_date": f"{m}-28"} for m in MONTHS],
        social_insurance=[{**spelled(raw), "employer_id": uscc(e), "month": m, "insurance_type": "养老",
                           "payer_type": "单位"} for raw, e, m in insurance],
        audit_month=audit_month,
        **extra,
    )


def findings(check: Any, t: Any) -> list[tuple[str, float, list[str]]]:
    """(whom the finding names, money at risk, claims at risk) per finding."""
    found, _ = run(check, t)
    return sorted((LABEL.get(r["person_id"], r["person_id"]), r["amount_at_risk"],
                   sorted(c["claim_id"] for c in (r["_claims"] or []))) for r in found.iter_rows(named=True))


def case(description: str, kw: dict[str, Any], expected: list[tuple]) -> Any:
    return pytest.param(kw, expected, id=description)


def spelling_cases(make: Any, expected: list[tuple]) -> list[Any]:
    """The same fraud with the registry row in each spelling of V."""
    return [case(f"the registry writes {how}", make(raw), expected) for how, raw in SPELLINGS.items()]


# --------------------------------------------------------------------------------------------
# GHOST_TRAINEE.insured_elsewhere — X pays V's 养老 in October
INSURED_ELSEWHERE = [
    *spelling_cases(lambda raw: {"insurance": [(raw, "X", "2023-10")]}, [("V", 1480.0, ["M2023-10"])]),
    case("agreement and claims under the corroborated typo T, insurance under V: found, named T",
         {"register": [REG_V, REG_T], "by": T, "insurance": [(V, "X", "2023-10")]}, [("T", 1480.0, ["M2023-10"])]),
    case("agreement under V, claims under the corroborated typo T: the claim is at risk",
         {"register": [REG_V, REG_T], "claims_by": T, "insurance": [(V, "X", "2023-10")]},
         [("V", 1480.0, ["M2023-10"])]),
    case("look-alike: T has V's name but another card and phone: V is another person",
         {"register": [REG_V, T_ALONE], "by": T, "insurance": [(V, "X", "2023-10")]}, []),
    case("look-alike: the twin W, insured by X, is another person",
         {"register": [REG_V, REG_W], "insurance": [(W, "X", "2023-10")]}, []),
    case("look-alike: a spelling difference alone — X insured the 15-digit form before the internship",
         {"insurance": [(SPELLINGS["the 15-digit legacy form"], "X", "2023-08")]}, []),
    case("look-alike: U1's own 补充工伤 cover needs no spelling to be cover",
         {"insurance": [(SPELLINGS["full-width digits"], "U1", "2023-10")]}, []),
]


@pytest.mark.parametrize(("kw", "expected"), INSURED_ELSEWHERE)
def test_insured_elsewhere(kw: dict, expected: list) -> None:
    assert findings(g.insured_elsewhere, world(**kw)) == sorted(expected)


def test_insured_elsewhere_names_the_row_and_the_other_id() -> None:
    """The evidence lists each insurance row with the ID it carries, and the trainee's other IDs."""
    import json

    found, _ = run(g.insured_elsewhere, world(register=[REG_V, REG_T], by=T, insurance=[(V, "X", "2023-10")]))
    ev = json.loads(found["evidence"][0])
    assert [r["person_id"] for r in ev["insurance_rows"]] == [V]
    assert ev["identity_links"] == [{"person_id": V, "link": "bad_check", "link_via": "bank_card+phone"}]


# --------------------------------------------------------------------------------------------
# GHOST_TRAINEE.contracted_elsewhere — an open-ended contract with X from 2023-06-01
CONTRACTED_ELSEWHERE = [
    *spelling_cases(lambda raw: {"contracts": [(raw, "X", "2023-06-01", None)]},
                    [("V", 8880.0, [f"M{m}" for m in MONTHS])]),
    case("agreement and claims under the corroborated typo T, the contract under V",
         {"register": [REG_V, REG_T], "by": T, "contracts": [(V, "X", "2023-06-01", None)]},
         [("T", 8880.0, [f"M{m}" for m in MONTHS])]),
    case("look-alike: the uncorroborated T's namesake V holds the contract",
         {"register": [REG_V, T_ALONE], "by": T, "contracts": [(V, "X", "2023-06-01", None)]}, []),
    case("look-alike: the twin W holds the contract", {"register": [REG_V, REG_W],
                                                       "contracts": [(W, "X", "2023-06-01", None)]}, []),
    case("look-alike: a spelling difference alone — the legacy form's contract ended before the start",
         {"contracts": [(SPELLINGS["the 15-digit legacy form"], "X", "2022-06-01", "2023-07-31")]}, []),
]


@pytest.mark.parametrize(("kw", "expected"), CONTRACTED_ELSEWHERE)
def test_contracted_elsewhere(kw: dict, expected: list) -> None:
    assert findings(g.contracted_elsewhere, world(**kw)) == sorted(expected)


# --------------------------------------------------------------------------------------------
# GHOST_TRAINEE.own_employee — U1 insured or employed the trainee before the start
OWN_EMPLOYEE = [
    *spelling_cases(lambda raw: {"insurance": [(raw, "U1", "2023-06"), (raw, "U1", "2023-07")]},
                    [("V", 8880.0, [f"M{m}" for m in MONTHS])]),
    case("agreement and claims under the corroborated typo T, U1's contract with V before the start",
         {"register": [REG_V, REG_T], "by": T, "contracts": [(V, "U1", "2023-01-01", None)]},
         [("T", 8880.0, [f"M{m}" for m in MONTHS])]),
    case("look-alike: U1 employed V, the namesake of an uncorroborated T",
         {"register": [REG_V, T_ALONE], "by": T, "contracts": [(V, "U1", "2023-01-01", None)]}, []),
]


@pytest.mark.parametrize(("kw", "expected"), OWN_EMPLOYEE)
def test_own_employee(kw: dict, expected: list) -> None:
    assert findings(g.own_employee, world(**kw)) == sorted(expected)


@pytest.mark.parametrize(("register", "skipped"), [
    pytest.param([REG_V, REG_T], True, id="the lost row under the corroborated typo T: V's, not judged"),
    pytest.param([REG_V, T_ALONE], False, id="look-alike: under an uncorroborated T: another person's, judged"),
])
def test_an_agreement_row_lost_under_another_id_of_the_person(register: list, skipped: bool) -> None:
    """An agreement row of the person at U1 that the loader could not read, recorded under another
    ID of theirs, may be an earlier internship there (GHOST_TRAINEE.own_employee) or the agreement
    a month lies within (RATE_MISAPPLIED.outside_agreement): not judged; under another person's ID
    it changes nothing."""
    lost = {"table": "agreements", "file": "agreements.csv", "line": 3, "unit_id": uscc("U1"), "person_id": T,
            "county_code": None, "day": None, "paid_date": None, "agreement_id": "A0",
            "reasons": "planned_end_date: 早于见习开始日期 / before its start_date"}
    t = world(register=register, insurance=[(V, "U1", "2023-06")])
    t = dataclasses.replace(t, quarantine=pl.DataFrame([lost], schema=QUARANTINED_ROWS_SCHEMA).lazy())
    found, skips = run(g.own_employee, t)
    assert (found.height == 0) == skipped and (skips.height > 0) == skipped
    # a claim for April 2024, after A1 (to February): outside it, unless the lost row may hold it
    late = dataclasses.replace(t, claims=t.claims.filter(pl.col("claim_id") == "M2024-02").with_columns(
        pl.lit(dt.date(2024, 4, 1)).alias("claim_month"), pl.lit(dt.date(2024, 4, 28)).alias("submitted_date")))
    found, skips = run(rm.outside_agreement, late)
    assert (found.height == 0) == skipped and (skips.height > 0) == skipped


# --------------------------------------------------------------------------------------------
# GHOST_TRAINEE.claims_after_death — died 2023-11-15: December to February are after the death
AFTER_DEATH = ["M2023-12", "M2024-01", "M2024-02"]
CLAIMS_AFTER_DEATH = [
    *spelling_cases(lambda raw: {"deaths": [(raw, "2023-11-15")]}, [("V", 4440.0, AFTER_DEATH)]),
    case("death registered under V, claims under the corroborated typo T: found, named T",
         {"register": [REG_V, REG_T], "by": T, "deaths": [(V, "2023-11-15")]}, [("T", 4440.0, AFTER_DEATH)]),
    case("look-alike: V died, the claims are the uncorroborated T's (another person)",
         {"register": [REG_V, T_ALONE], "by": T, "deaths": [(V, "2023-11-15")]}, []),
    case("look-alike: the twin W died", {"register": [REG_V, REG_W], "deaths": [(W, "2023-11-15")]}, []),
]


@pytest.mark.parametrize(("kw", "expected"), CLAIMS_AFTER_DEATH)
def test_claims_after_death(kw: dict, expected: list) -> None:
    assert findings(g.claims_after_death, world(**kw)) == sorted(expected)


# --------------------------------------------------------------------------------------------
# GHOST_TRAINEE.allowance_not_paid — the unit's ledger, September to February
def _paid(raw: str, months: list[str] = MONTHS, account: str | None = CARD) -> list[tuple[str, str, str | None]]:
    return [(raw, m, account) for m in months]


ALLOWANCE_NOT_PAID = [
    case("claims under the corroborated typo T; October's allowance paid under V to nobody's card",
         {"register": [REG_V, REG_T], "by": T,
          "allowance": _paid(V, [m for m in MONTHS if m != "2023-10"]) + [(V, "2023-10", "6217999900000000")]},
         [("T", 1480.0, ["M2023-10"])]),
    case("look-alike: claims under the corroborated typo T, every month paid under V to the card",
         {"register": [REG_V, REG_T], "by": T, "allowance": _paid(V)}, []),
    case("look-alike: every month paid under the 15-digit form",
         {"allowance": _paid(SPELLINGS["the 15-digit legacy form"])}, []),
    case("claims under the uncorroborated T, which the ledger itself writes: October unpaid under T",
         {"register": [REG_V, T_ALONE], "by": T, "allowance": _paid(T, [m for m in MONTHS if m != "2023-10"], "6217000099998888")},
         [("T", 1480.0, ["M2023-10"])]),
    case("look-alike: claims and ledger under the uncorroborated T, paid to the card of V (the same name): "
         "the ledger gives the corroboration the register lacked",
         {"register": [REG_V, T_ALONE], "by": T, "allowance": _paid(T)}, []),
    case("claims and ledger under the uncorroborated T, paid to the card of W (another name): unpaid",
         {"register": [REG_V, T_ALONE, REG_W], "by": T, "allowance": _paid(T, account="6217000033334444")},
         [("T", 8880.0, [f"M{m}" for m in MONTHS])]),
    case("look-alike: claims under the uncorroborated T, which fails its check; the ledger pays only valid "
         "IDs: nothing under T proves nothing (skipped)",
         {"register": [REG_V, T_ALONE], "by": T, "allowance": _paid(V)}, []),
]


@pytest.mark.parametrize(("kw", "expected"), ALLOWANCE_NOT_PAID)
def test_allowance_not_paid(kw: dict, expected: list) -> None:
    assert findings(g.allowance_not_paid, world(**kw)) == sorted(expected)


def test_allowance_under_an_id_nothing_resolves_is_skipped_with_the_reason() -> None:
    """The look-alike above: each of T's claims is skipped, saying why (RULES.md §8)."""
    _, skipped = run(g.allowance_not_paid, world(register=[REG_V, T_ALONE], by=T, allowance=_paid(V)))
    assert sorted(skipped["claim_id"]) == [f"M{m}" for m in MONTHS]
    assert set(skipped["reason"]) == {UNRESOLVED_ID}


# --------------------------------------------------------------------------------------------
# Claims ↔ agreements and the 12-month cap: a 12-month agreement of V at U1, 2023-09 → 2024-08,
# claimed every month under V; then two more months claimed under another ID.
YEAR = [f"2023-{m:02d}" for m in range(9, 13)] + [f"2024-{m:02d}" for m in range(1, 9)]


def capped(register: list[dict], later_by: str, *, agreement_id: str | None = "A1") -> Any:
    claims = [{"claim_id": f"M{m}", "unit_id": uscc("U1"), **spelled(V), "agreement_id": "A1", "claim_month": m,
               "claim_type": "月度", "rate_basis": "标准", "amount": 1480.0, "submitted_date": f"{m}-28"} for m in YEAR]
    claims += [{"claim_id": f"L{m}", "unit_id": uscc("U1"), **spelled(later_by), "agreement_id": agreement_id,
                "claim_month": m, "claim_type": "月度", "rate_basis": "标准", "amount": 1480.0,
                "submitted_date": f"{m}-28"} for m in ("2024-09", "2024-10")]
    return tables(units=[unit("U1")], trainees=register, audit_month="2024-12", claims=claims,
                  agreements=[{"agreement_id": "A1", **spelled(V), "unit_id": uscc("U1"), "start_date": "2023-09-01",
                               "planned_end_date": "2024-08-31", "end_reason": "期满"}])


LATER = ["L2024-09", "L2024-10"]
CLAIMS_AFTER_THE_YEAR = [
    pytest.param(capped([REG_V, REG_T], T), LATER, LATER,
                 id="claims under the corroborated typo T after V's 12-month agreement: both rules"),
    pytest.param(capped([REG_V, REG_T], T, agreement_id=None), LATER, LATER,
                 id="the same claims naming no agreement: T's claims still find V's agreement"),
    pytest.param(capped([REG_V], SPELLINGS["the 15-digit legacy form"]), LATER, LATER,
                 id="the two later months claimed under the 15-digit form"),
    pytest.param(capped([REG_V, T_ALONE], T), [], [],
                 id="look-alike: T is an uncorroborated namesake: another person, another count"),
]


@pytest.mark.parametrize(("t", "beyond", "outside"), CLAIMS_AFTER_THE_YEAR)
def test_claims_after_the_year(t: Any, beyond: list[str], outside: list[str]) -> None:
    """RATE_MISAPPLIED.beyond_max_months counts the person's months under every ID;
    RATE_MISAPPLIED.outside_agreement finds the agreement under any ID of the person."""
    found, _ = run(rm.beyond_max_months, t)
    assert sorted(found["claim_id"]) == beyond
    found, _ = run(rm.outside_agreement, t)
    assert sorted(found["claim_id"]) == outside


def test_months_of_two_ids_in_one_month_count_once() -> None:
    """Twelve months claimed under V and the same twelve under the corroborated T are twelve
    distinct months of one person: nothing beyond the cap (the double claims are
    DUPLICATE_TRAINEE's)."""
    claims = [{"claim_id": f"{who}{m}", "unit_id": uscc("U1"), **spelled(pid_), "claim_month": m, "claim_type": "月度",
               "amount": 1480.0, "submitted_date": f"{m}-28"} for who, pid_ in (("V", V), ("T", T)) for m in YEAR]
    found, _ = run(rm.beyond_max_months, tables(units=[unit("U1")], trainees=[REG_V, REG_T], claims=claims,
                                                audit_month="2024-12"))
    assert found.height == 0


# --------------------------------------------------------------------------------------------
# Retention: one trainee at Jiangxi unit U1, 期满 2024-02-29, flagged retained, 差额 claimed
# 2024-03; a contract with U1 from 2024-03-01 and U1's insurance March–May 2024.
def retention_world(register: list[dict], by: str, contract_by: str, insured_by: str) -> Any:
    return tables(
        units=[unit("U1")], trainees=register, audit_month="2024-12",
        agreements=[{"agreement_id": "A1", **spelled(by), "unit_id": uscc("U1"), "start_date": "2023-09-01",
                     "planned_end_date": "2024-02-29", "end_reason": "期满", "retained": True}],
        claims=[{"claim_id": "D1", "unit_id": uscc("U1"), **spelled(by), "agreement_id": "A1", "claim_month": "2024-02",
                 "claim_type": "差额", "amount": 2220.0, "submitted_date": "2024-03-20", "paid_date": "2024-04-02"}],
        employment=[{**spelled(contract_by), "employer_id": uscc("U1"), "contract_start": "2024-03-01",
                     "contract_end": None}],
        social_insurance=[{**spelled(insured_by), "employer_id": uscc("U1"), "month": m, "insurance_type": "养老",
                           "payer_type": "单位"} for m in ("2024-03", "2024-04", "2024-05")],
    )


RETENTION = [
    pytest.param(retention_world([REG_V, REG_T], T, V, V), [], [],
                 id="look-alike: registered under the corroborated typo T, hired under V: really retained"),
    pytest.param(retention_world([REG_V], V, SPELLINGS["full-width digits"], SPELLINGS["the 15-digit legacy form"]),
                 [], [], id="look-alike: contract in full-width digits, insurance in the 15-digit form"),
    pytest.param(retention_world([REG_V, T_ALONE], T, T, T), [], [],
                 id="look-alike: registered under the uncorroborated T, hired and insured under T: really retained"),
    pytest.param(retention_world([REG_V, T_ALONE], T, V, T), ["D1"], [uscc("U1")],
                 id="registered under the uncorroborated T, which the insurance writes; no contract under T: "
                    "not retained"),
    pytest.param(retention_world([REG_V, T_ALONE], T, V, V), [], [],
                 id="look-alike: registered under the uncorroborated T, which fails its check and which no "
                    "registry writes: retention unknown, not judged"),
]


@pytest.mark.parametrize(("t", "unpayable", "without_contract"), RETENTION)
def test_retention_of_a_trainee_under_a_typo(t: Any, unpayable: list[str], without_contract: list[str]) -> None:
    """RATE_MISAPPLIED.difference_without_retention and RETENTION_INFLATED.retained_without_contract:
    a really retained trainee counts as retained whatever ID the registries use."""
    found, _ = run(rm.difference_without_retention, t)
    assert sorted(found["claim_id"]) == unpayable
    found, _ = run(ri.retained_without_contract, t)
    assert sorted(found["unit_id"]) == without_contract


def test_retention_under_an_id_nothing_resolves_is_skipped_with_the_reason() -> None:
    """The last look-alike above: the 差额 is skipped saying why, and so is the unit-year for
    the rule that compares the declared rate with the real one."""
    t = retention_world([REG_V, T_ALONE], T, V, V)
    _, skipped = run(rm.difference_without_retention, t)
    assert skipped.select("claim_id", "reason").rows() == [("D1", UNVERIFIABLE)]
    found, skipped = run(ri.declared_above_real, t)
    assert found.height == 0 and skipped.select("unit_id", "reason").rows() == [(uscc("U1"), UNVERIFIABLE)]


# --------------------------------------------------------------------------------------------
# ONE_INTERNSHIP and DUPLICATE_TRAINEE: who is one person in the trainee register itself
def two_agreements(register: list[dict], second_by: str) -> Any:
    return tables(
        units=[unit("U1"), unit("U2")], trainees=register, claims=[],
        agreements=[{"agreement_id": "A1", **spelled(V), "unit_id": uscc("U1"), "start_date": "2023-01-01",
                     "planned_end_date": "2023-06-30", "end_reason": "期满"},
                    {"agreement_id": "A2", **spelled(second_by), "unit_id": uscc("U2"), "start_date": "2023-09-01",
                     "planned_end_date": "2024-02-29", "end_reason": "期满"}],
    )


PEOPLE_IN_THE_REGISTER = [
    pytest.param(two_agreements([REG_V], SPELLINGS["the 15-digit legacy form"]), ["V"], [],
                 id="a second internship under the 15-digit form: ONE_INTERNSHIP; one registration, no duplicate"),
    pytest.param(two_agreements([REG_V, REG_T], T), ["V"], ["V"],
                 id="a second internship under the corroborated typo T: both rules (two registrations)"),
    pytest.param(two_agreements([REG_V, T_ALONE], T), [], [],
                 id="look-alike: the uncorroborated namesake T is another person"),
    pytest.param(two_agreements([REG_V, REG_W], W), [], [], id="look-alike: twins"),
]


@pytest.mark.parametrize(("t", "second", "duplicate"), PEOPLE_IN_THE_REGISTER)
def test_one_internship_and_duplicate_registrations(t: Any, second: list[str], duplicate: list[str]) -> None:
    """ONE_INTERNSHIP.second_internship and DUPLICATE_TRAINEE.id_variant: a spelling difference is
    no finding of its own; two registrations of one person in the register stay one."""
    found, _ = run(oi.second_internship, t)
    assert sorted(LABEL[p] for p in found["person_id"]) == second
    found, _ = run(dup.id_variant, t)
    assert sorted(LABEL[p] for p in found["person_id"]) == duplicate


# --------------------------------------------------------------------------------------------
# GHOST_TRAINEE.shared_card_ring: one card given by trainee rows at two units
def card_world(register: list[dict]) -> Any:
    return tables(
        units=[unit("U1"), unit("U2")], trainees=register, claims=[],
        agreements=[{"agreement_id": f"A{i}", **spelled(r["person_id"]), "unit_id": uscc(f"U{i + 1}"),
                     "start_date": "2023-09-01", "planned_end_date": "2024-02-29"} for i, r in enumerate(register)],
    )


SHARED_CARD = [
    pytest.param(card_world([REG_V, registered(W, name="李四")]), ["V", "W"], id="two people, one card, two units: a ring"),
    pytest.param(card_world([REG_V, REG_T]), [],
                 id="look-alike: one person registered under V and the corroborated T: one card of one person"),
]


@pytest.mark.parametrize(("t", "ring"), SHARED_CARD)
def test_shared_card_ring_counts_people(t: Any, ring: list[str]) -> None:
    found, _ = run(gr.shared_card_ring, t)
    assert sorted(LABEL[p] for p in found["person_id"]) == ring


# --------------------------------------------------------------------------------------------
# Legal representatives: resolved through their spellings only (nothing corroborates a typo)
def owners(units_rep: str, registry_rep: str) -> Any:
    """B1 (legal rep V, as the units table writes ``units_rep``) exited under ③ on 2024-01-31;
    N1 approved 2024-06-01, its legal rep as the market registry writes ``registry_rep``."""
    units = [
        {**unit("B1", exit_date="2024-01-31", exit_reason=3), "legal_rep_id": spelled(units_rep)["person_id"],
         "legal_rep_id_raw": units_rep, "legal_rep_id_status": spelled(units_rep)["person_id_status"]},
        unit("N1", approved="2024-06-01"),
    ]
    registry = [{"unit_id": uscc("N1"), "reg_status": "存续", "legal_rep_id": spelled(registry_rep)["person_id"],
                 "legal_rep_id_raw": registry_rep, "legal_rep_id_status": spelled(registry_rep)["person_id_status"]}]
    return tables(units=units, trainees=[REG_V], claims=[], market_registry=registry, audit_month="2026-06")


LEGAL_REPS = [
    pytest.param(owners(SPELLINGS["the 15-digit legacy form"], SPELLINGS["full-width digits"]), [uscc("N1")],
                 id="15-digit form in the units table, full-width in the market registry: one owner"),
    pytest.param(owners(V, SPELLINGS["spaces and a tab"]), [uscc("N1")], id="spaces and a tab in the registry"),
    pytest.param(owners(V, T), [], id="look-alike: a check-digit typo of the owner's ID is not the owner"),
]


@pytest.mark.parametrize(("t", "signals"), LEGAL_REPS)
def test_banned_owner_through_spellings_only(t: Any, signals: list[str]) -> None:
    """UNIT_INELIGIBLE.banned_owner_new_unit."""
    found, _ = run(ui.banned_owner_new_unit, t)
    assert sorted(found["unit_id"]) == signals


def test_a_spelling_difference_is_no_registry_disagreement() -> None:
    """DATA_QUALITY.registry_disagreement compares the read IDs: the legacy form in one system and
    the full-width form in the other agree; a typo does not."""
    legacy, wide = SPELLINGS["the 15-digit legacy form"], SPELLINGS["full-width digits"]

    def pair(units_rep: str, registry_rep: str) -> Any:
        return tables(
            units=[{**unit("U1"), "legal_rep_id": spelled(units_rep)["person_id"], "legal_rep_id_raw": units_rep}],
            trainees=[REG_V], claims=[],
            market_registry=[{"unit_id": uscc("U1"), "reg_status": "存续", "legal_rep_id": spelled(registry_rep)["person_id"],
                              "legal_rep_id_raw": registry_rep}])

    assert run(dq.registry_disagreement, pair(legacy, wide))[0].height == 0
    assert run(dq.registry_disagreement, pair(V, T))[0].height == 1
