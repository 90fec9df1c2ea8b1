"""ONE_INTERNSHIP — 同一见习人员只能参加一次就业见习活动 (赣人社发〔2023〕9号 四(二)).

Each case: a description, the agreements and claims, and the findings expected — the person,
the unit of the later internship, the claims put at risk and the yuan. The first internship is
the legitimate one; an extension at the same unit without a gap (≤ 12 months in all) is one
internship; namesakes and twins are other people.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from checks import one_internship
from tests.helpers import agreement, claim, pid, run, tables, trainee, unit, uscc
from tests.test_identity import bad_check_id, legacy_pair, twin_ids, variant_trainee

UNITS = [unit("U1"), unit("U2"), unit("U3", county="360722"), unit("H1", county="410102")]
CARD = "6222020000000001"


@dataclass
class Expect:
    person: str
    unit: str
    claims: dict[str, float] = field(default_factory=dict)  # claim id -> yuan at risk

    def key(self) -> tuple:
        return (pid(self.person), uscc(self.unit), round(sum(self.claims.values()), 2), tuple(sorted(self.claims)))


def _found(found: pl.DataFrame) -> set[tuple]:
    out = set()
    for r in found.iter_rows(named=True):
        ids = tuple(sorted(c["claim_id"] for c in (r["_claims"] or [])))
        out.add((r["person_id"], r["unit_id"], r["amount_at_risk"], ids))
    return out


def _monthly(cid: str, unit_label: str, person: str, month: str, **kw) -> dict:
    return claim(cid, unit_label, person, month, 1480.0, **kw)


SECOND = [
    pytest.param(
        "a second internship at another unit after the first ended: its claims are at risk",
        [trainee("P1")],
        [agreement("A1", "P1", "U1", "2023-01-01", "2023-06-30"), agreement("A2", "P1", "U2", "2023-09-01", "2024-02-29")],
        [_monthly("C1", "U1", "P1", "2023-01", agreement_id="A1"), _monthly("C2", "U2", "P1", "2023-09", agreement_id="A2"),
         _monthly("C3", "U2", "P1", "2023-10", agreement_id="A2", insurance_amount=20.0)],
        [Expect("P1", "U2", {"C2": 1480.0, "C3": 1500.0})],
        id="another-unit",
    ),
    pytest.param(
        "a second internship in another province (Henan), claims without agreement ids matched by month",
        [trainee("P1")],
        [agreement("A1", "P1", "U1", "2023-01-01", "2023-06-30"), agreement("A2", "P1", "H1", "2023-08-01", "2023-10-31")],
        [_monthly("C2", "H1", "P1", "2023-08"), _monthly("C3", "H1", "P1", "2023-09")],
        [Expect("P1", "H1", {"C2": 1480.0, "C3": 1480.0})],
        id="another-province",
    ),
    pytest.param(
        "the same unit again after a gap of two months is a second internship",
        [trainee("P1")],
        [agreement("A1", "P1", "U1", "2023-01-01", "2023-04-30"), agreement("A2", "P1", "U1", "2023-07-01", "2023-09-30")],
        [_monthly("C1", "U1", "P1", "2023-01", agreement_id="A1"), _monthly("C2", "U1", "P1", "2023-07", agreement_id="A2")],
        [Expect("P1", "U1", {"C2": 1480.0})],
        id="same-unit-after-gap",
    ),
    pytest.param(
        "an extension at the same unit, starting the day after, 12 months in all: one internship",
        [trainee("P1")],
        [agreement("A1", "P1", "U1", "2023-01-01", "2023-06-30"), agreement("A2", "P1", "U1", "2023-07-01", "2023-12-31")],
        [_monthly("C1", "U1", "P1", "2023-01", agreement_id="A1"), _monthly("C2", "U1", "P1", "2023-07", agreement_id="A2")],
        [],
        id="extension-no-gap",
    ),
    pytest.param(
        "an extension starting on the 1st of the month after an early end: still no gap",
        [trainee("P1")],
        [agreement("A1", "P1", "U1", "2023-01-10", "2023-06-30", actual_end_date="2023-05-15"),
         agreement("A2", "P1", "U1", "2023-06-01", "2023-11-30")],
        [_monthly("C2", "U1", "P1", "2023-06", agreement_id="A2")],
        [],
        id="extension-first-of-next-month",
    ),
    pytest.param(
        "an extension at the same unit taking the total past 12 months is a second internship",
        [trainee("P1")],
        [agreement("A1", "P1", "U1", "2023-01-01", "2023-12-31"), agreement("A2", "P1", "U1", "2024-01-01", "2024-03-31")],
        [_monthly("C1", "U1", "P1", "2023-12", agreement_id="A1"), _monthly("C2", "U1", "P1", "2024-01", agreement_id="A2")],
        [Expect("P1", "U1", {"C2": 1480.0})],
        id="extension-beyond-cap",
    ),
    pytest.param(
        "namesakes with the same birth date (two valid IDs) each in one internship: nothing",
        [trainee("P1", name="王芳", phone="13800000001"), trainee("P2", name="王芳", phone="13800000001")],
        [agreement("A1", "P1", "U1", "2023-01-01", "2023-06-30"), agreement("A2", "P2", "U2", "2023-03-01", "2023-08-31")],
        [_monthly("C1", "U1", "P1", "2023-03"), _monthly("C2", "U2", "P2", "2023-03")],
        [],
        id="namesakes",
    ),
    pytest.param(
        "twins (same surname, birth date, family phone; two valid IDs) at two units: nothing",
        [trainee(twin_ids()[0], name="刘洋", phone="13800000001"), trainee(twin_ids()[1], name="刘涛", phone="13800000001")],
        [agreement("A1", twin_ids()[0], "U1", "2023-01-01", "2023-06-30"),
         agreement("A2", twin_ids()[1], "U2", "2023-01-01", "2023-06-30")],
        [_monthly("C1", "U1", twin_ids()[0], "2023-01"), _monthly("C2", "U2", twin_ids()[1], "2023-01")],
        [],
        id="twins",
    ),
    pytest.param(
        "the second internship under a mis-keyed ID with the same name and bank card: one person",
        [trainee("P1", name="张三", bank_card=CARD), variant_trainee(bad_check_id("P1"), "bad_check", "张三", bank_card=CARD)],
        [agreement("A1", "P1", "U1", "2023-01-01", "2023-06-30"),
         agreement("A2", bad_check_id("P1"), "U3", "2023-08-01", "2023-12-31")],
        [_monthly("C2", "U3", bad_check_id("P1"), "2023-08", agreement_id="A2")],
        [Expect("P1", "U3", {"C2": 1480.0})],
        id="variant-corroborated",
    ),
    pytest.param(
        "a mis-keyed ID with the same name but nothing else shared is not linked: nothing",
        [trainee("P1", name="张三", bank_card=CARD), variant_trainee(bad_check_id("P1"), "bad_check", "张三")],
        [agreement("A1", "P1", "U1", "2023-01-01", "2023-06-30"),
         agreement("A2", bad_check_id("P1"), "U3", "2023-08-01", "2023-12-31")],
        [],
        [],
        id="variant-uncorroborated",
    ),
    pytest.param(
        "the 15-digit form on the second agreement is the same person",
        [{**trainee(legacy_pair("P1")[0]), "person_id_raw": legacy_pair("P1")[1], "person_id_status": "legacy15"}],
        [agreement("A1", legacy_pair("P1")[0], "U1", "2023-01-01", "2023-06-30"),
         {**agreement("A2", legacy_pair("P1")[0], "U2", "2023-09-01", "2023-12-31"),
          "person_id_raw": legacy_pair("P1")[1], "person_id_status": "legacy15"}],
        [],
        [Expect(legacy_pair("P1")[0], "U2")],
        id="legacy-form",
    ),
    pytest.param(
        "three internships: the second and the third are findings",
        [trainee("P1")],
        [agreement("A1", "P1", "U1", "2022-01-01", "2022-06-30"), agreement("A2", "P1", "U2", "2022-09-01", "2022-12-31"),
         agreement("A3", "P1", "U3", "2023-03-01", "2023-08-31")],
        [_monthly("C3", "U3", "P1", "2023-03", agreement_id="A3")],
        [Expect("P1", "U2"), Expect("P1", "U3", {"C3": 1480.0})],
        id="three",
    ),
]


@pytest.mark.parametrize(("description", "register", "agreements", "claims", "expected"), SECOND)
def test_second_internship(description, register, agreements, claims, expected) -> None:
    """ONE_INTERNSHIP.second_internship"""
    t = tables(units=UNITS, trainees=register, agreements=agreements, claims=claims)
    found, _ = run(one_internship.second_internship, t)
    assert _found(found) == {e.key() for e in expected}, description


OVERLAP = [
    pytest.param(
        "two internships overlapping two months: the later one's claims for those months are at risk",
        [agreement("A1", "P1", "U1", "2023-07-01", "2023-12-31"), agreement("A2", "P1", "U2", "2023-11-01", "2024-04-30")],
        [_monthly("C1", "U1", "P1", "2023-11", agreement_id="A1"), _monthly("C2", "U2", "P1", "2023-11", agreement_id="A2"),
         _monthly("C3", "U2", "P1", "2023-12", agreement_id="A2"), _monthly("C4", "U2", "P1", "2024-01", agreement_id="A2")],
        [Expect("P1", "U2", {"C2": 1480.0, "C3": 1480.0})],
        id="overlap",
    ),
    pytest.param(
        "one after the other (a second internship, not an overlap)",
        [agreement("A1", "P1", "U1", "2023-01-01", "2023-06-30"), agreement("A2", "P1", "U2", "2023-07-01", "2023-12-31")],
        [_monthly("C2", "U2", "P1", "2023-07", agreement_id="A2")],
        [],
        id="sequential",
    ),
    pytest.param(
        "an agreement still running past the audit month overlaps up to the month's end only",
        [agreement("A1", "P1", "U1", "2024-01-01", "2024-12-31"), agreement("A2", "P1", "U2", "2024-05-01", "2024-10-31")],
        [_monthly("C2", "U2", "P1", "2024-05", agreement_id="A2"), _monthly("C3", "U2", "P1", "2024-06", agreement_id="A2")],
        [Expect("P1", "U2", {"C2": 1480.0, "C3": 1480.0})],
        id="running-past-audit-month",
    ),
    pytest.param(
        "an early end removes the overlap: the first ended before the second began",
        [agreement("A1", "P1", "U1", "2023-01-01", "2023-12-31", actual_end_date="2023-04-30"),
         agreement("A2", "P1", "U2", "2023-06-01", "2023-11-30")],
        [],
        [],
        id="ended-early",
    ),
    pytest.param(
        "overlapping agreements at the same unit (a renewal entered early) are one internship",
        [agreement("A1", "P1", "U1", "2023-01-01", "2023-06-30"), agreement("A2", "P1", "U1", "2023-06-15", "2023-10-31")],
        [],
        [],
        id="same-unit-renewal",
    ),
]


@pytest.mark.parametrize(("description", "agreements", "claims", "expected"), OVERLAP)
def test_overlapping(description, agreements, claims, expected) -> None:
    """ONE_INTERNSHIP.overlapping"""
    t = tables(units=UNITS, trainees=[trainee("P1")], agreements=agreements, claims=claims)
    found, _ = run(one_internship.overlapping, t)
    assert _found(found) == {e.key() for e in expected}, description


def test_without_actual_end_dates_the_first_internship_overlaps_only_by_its_last_claimed_month() -> None:
    """Agreements exported without 实际结束日期: the first internship (planned to 2024-02) was last
    claimed for October and may have ended on any day of it. A second starting on 8 November does
    not overlap it; one starting on 1 October does (the first was still claimed for October)."""
    def case(start: str) -> object:
        t = tables(units=UNITS, trainees=[trainee("P1")],
                   agreements=[agreement("A1", "P1", "U1", "2023-09-01", "2024-02-29"),
                               agreement("A2", "P1", "U2", start, "2024-06-30")],
                   claims=[_monthly("C1", "U1", "P1", "2023-09", agreement_id="A1"),
                           _monthly("C2", "U1", "P1", "2023-10", agreement_id="A1"),
                           _monthly("C3", "U2", "P1", "2023-11", agreement_id="A2")])
        return dataclasses.replace(t, absent={"agreements": ("actual_end_date",)})

    assert run(one_internship.overlapping, case("2023-11-08"))[0].height == 0
    found, _ = run(one_internship.overlapping, case("2023-10-01"))  # October: nothing of U2's claimed then
    assert _found(found) == {Expect("P1", "U2").key()}
    # look-alike: with the column exported (blank: the first ran to term), November overlaps
    t = case("2023-11-08")
    assert run(one_internship.overlapping, dataclasses.replace(t, absent={}))[0].height == 1


def test_overlapping_twins_do_not_fire() -> None:
    a, b = twin_ids()
    t = tables(
        units=UNITS,
        trainees=[trainee(a, name="刘洋", phone="13800000001"), trainee(b, name="刘涛", phone="13800000001")],
        agreements=[agreement("A1", a, "U1", "2023-01-01", "2023-06-30"), agreement("A2", b, "U2", "2023-03-01", "2023-08-31")],
    )
    assert run(one_internship.overlapping, t)[0].height == 0


def test_second_internship_evidence_names_both_internships_and_the_link() -> None:
    t = tables(
        units=UNITS,
        trainees=[trainee("P1", name="张三", bank_card=CARD),
                  variant_trainee(bad_check_id("P1"), "bad_check", "张三", bank_card=CARD)],
        agreements=[agreement("A1", "P1", "U1", "2023-01-01", "2023-06-30"),
                    agreement("A2", bad_check_id("P1"), "U3", "2023-08-01", "2023-12-31")],
    )
    found, _ = run(one_internship.second_internship, t)
    import json

    ev = json.loads(found["evidence"][0])
    assert ev["first_internship"]["agreement_ids"] == ["A1"]
    assert ev["this_internship"]["agreement_ids"] == ["A2"]
    assert ev["identity_links"] == [{"person_id": bad_check_id("P1"), "link": "bad_check", "link_via": "bank_card"}]
    assert found["county_code"][0] == "360722"


# -- property: the order of input rows changes nothing ------------------------------------------

WORLD = dict(
    units=UNITS,
    trainees=[trainee("P1"), trainee("P2", name="张三", bank_card=CARD),
              variant_trainee(bad_check_id("P2"), "bad_check", "张三", bank_card=CARD), trainee("P3")],
    agreements=[
        agreement("A1", "P1", "U1", "2023-07-01", "2023-12-31"), agreement("A2", "P1", "U2", "2023-11-01", "2024-04-30"),
        agreement("A3", "P2", "U1", "2023-01-01", "2023-06-30"), agreement("A4", bad_check_id("P2"), "U3", "2023-08-01", "2023-12-31"),
        agreement("A5", "P3", "U1", "2023-01-01", "2023-06-30"), agreement("A6", "P3", "U1", "2023-07-01", "2023-12-31"),
        agreement("A7", "P3", "U1", "2024-01-01", "2024-02-29"),
    ],
    claims=[_monthly(f"C{i}", u, p, m) for i, (u, p, m) in enumerate(
        [("U1", "P1", "2023-11"), ("U2", "P1", "2023-11"), ("U2", "P1", "2024-01"), ("U3", bad_check_id("P2"), "2023-09"),
         ("U1", "P3", "2024-01"), ("U1", "P3", "2023-07")])],
)


def _shuffled(t, order: list[int]):
    for name in ("trainees", "agreements", "claims", "units"):
        df = getattr(t, name).collect()
        idx = [i % df.height for i in order if i < df.height] if df.height else []
        seen = list(dict.fromkeys(idx)) + [i for i in range(df.height) if i not in idx]
        setattr(t, name, df[seen].lazy())
    return t


@settings(max_examples=15, deadline=None)
@given(st.permutations(list(range(8))))
def test_row_order_changes_nothing(order: list[int]) -> None:
    for check in one_internship.CHECKS:
        base, _ = run(check, tables(**WORLD))
        moved, _ = run(check, _shuffled(tables(**WORLD), order))
        cols = [c for c in base.columns if c != "_claims"]
        assert base.sort(cols).select(cols).equals(moved.sort(cols).select(cols))
        assert base.height > 0


# ------------------------------------------------------------------ law or judgement ------------
BASIS = [
    # the later internship's unit and start, basis, the citation starts with, contains
    ("Jiangxi after its notice: law", "360102", "2023-09-01", "法规", "赣人社发〔2023〕9号 四(二)", None),
    ("Jiangxi before its notice (2023-08-16): judgement under the national clause", "360102", "2023-07-01",
     "审计判断", "审计判断（检测参数 judgement.max_internships = 1", "人社部发〔2023〕27号 二(五)"),
    ("Hunan: judgement, Hunan's own clause — never Jiangxi's", "430102", "2023-09-01",
     "审计判断", "审计判断", "湘人社规〔2023〕9号 二(五)"),
    ("Henan: judgement", "410102", "2023-09-01", "审计判断", "审计判断", "豫人社函〔2023〕138号 二(五)"),
    ("Yunnan: judgement", "530102", "2023-09-01", "审计判断", "审计判断", "云人社发〔2023〕18号 三"),
    ("Gansu: judgement under the national clause", "620102", "2023-09-01", "审计判断", "审计判断",
     "人社部发〔2023〕27号 二(五)"),
]


@pytest.mark.parametrize("county, start, basis, starts, contains", [b[1:] for b in BASIS], ids=[b[0] for b in BASIS])
def test_second_internship_is_found_everywhere_as_law_or_judgement(county, start, basis, starts, contains) -> None:
    t = tables(
        units=[unit("U1"), unit("X1", county=county)],
        trainees=[trainee("P1")],
        agreements=[agreement("A1", "P1", "U1", "2023-01-01", "2023-03-31"),
                    agreement("A2", "P1", "X1", start, "2023-12-31")],
        claims=[_monthly("C1", "X1", "P1", start[:7], agreement_id="A2")],
    )
    found, _ = run(one_internship.second_internship, t)
    assert found.height == 1
    row = found.row(0, named=True)
    assert f'"basis":"{basis}"' in row["evidence"]
    assert row["citation"].startswith(starts)
    if contains:
        assert contains in row["citation"] and "赣人社发" not in row["citation"]


def test_a_province_allowing_two_internships_by_law_is_obeyed() -> None:
    """A reviewer who edits a province's trainee.max_internships sees the effect: with 2 allowed in
    Jiangxi, a second internship there is no finding (a third still is)."""
    import dataclasses

    from audit.policy import Policy

    base = Policy.load()
    values = [dataclasses.replace(v, value=2) if v.name == "trainee.max_internships" else v for v in base.values]
    two = Policy(base.catalogue, values, base.detection, base.jurisdictions, base.documents)
    t = tables(
        units=UNITS, trainees=[trainee("P1")],
        agreements=[agreement("A1", "P1", "U1", "2023-09-01", "2023-10-31"),
                    agreement("A2", "P1", "U2", "2023-12-01", "2024-01-31"),
                    agreement("A3", "P1", "U3", "2024-03-01", "2024-04-30")],
        claims=[],
    )
    found, _ = run(one_internship.second_internship, t, two)
    assert found["unit_id"].to_list() == [uscc("U3")]
