"""Tables of cases for RETENTION_INFLATED: per unit and year, the findings each rule must produce
(unit, year, money at risk) — and the look-alikes it must leave alone.

Every case is one unit whose trainees interned 2023-09-01 → 2024-02-29 (Jiangxi tier 1, so a 差额
of 6 × 370 = 2220 each); a trainee is described by a small dict: ``retained`` (the agreement's
flag), ``contract`` (labour contract with the unit: start, end), ``insured`` (months of the unit's
insurance), ``end_reason`` and ``actual_end``. The retention year is 2024; the threshold is 50 %.
"""

from __future__ import annotations

import dataclasses
import json

import polars as pl
import pytest

from audit.policy import Policy
from checks import retention_inflated as ri
from checks._retention import BENCHMARK_UNKNOWN, ended_internships, person_retention, unit_years
from tests.helpers import agreement, claim, insured, pid, policy, run, tables, trainee, unit, uscc

AFTER = ("2024-03", "2024-04", "2024-05")  # three months of the unit's insurance after the end
REAL = {"retained": True, "contract": ("2024-03-01", None), "insured": AFTER}
NOT_RETAINED = {"retained": False}
FLAG_ONLY = {"retained": True}  # declared retained, no contract, no insurance


def world(people: list[dict], *, unit_label: str = "U1", county: str = "360102", benchmark: bool = False,
          claims_difference: bool = True, si_as_of: str | None = None, declarations: list[dict] | None = None,
          paid_date: str | None = "2024-04-02", difference_month: str = "2024-02", audit_month: str = "2024-12",
          quarantine: list[dict] | None = None) -> object:
    units = [unit(unit_label, county=county, is_benchmark=benchmark)]
    agreements, claims, employment, insurance = [], [], [], []
    for i, spec in enumerate(people):
        person = f"P{i}"
        kw = {"end_reason": spec.get("end_reason", "期满"), "retained": spec.get("retained", False)}
        if "actual_end" in spec:
            kw["actual_end_date"] = spec["actual_end"]
        agreements.append(agreement(f"A{i}", person, unit_label, "2023-09-01", "2024-02-29", **kw))
        # "contract": (start, end) or (start, end, terminated); "contracts": several, a row each
        for start, end, *terminated in ([spec["contract"]] if "contract" in spec else spec.get("contracts", [])):
            employment.append({"person_id": pid(person), "employer_id": uscc(unit_label), "contract_start": start,
                               "contract_end": end, "terminated_date": terminated[0] if terminated else None})
        payer = spec.get("payer", "单位")
        kind = spec.get("kind", "养老")
        insurance += [insured(person, unit_label, m, payer=payer, kind=kind) for m in spec.get("insured", ())]
        if claims_difference and kw["end_reason"] != "提前离岗":
            claims.append(claim(f"D{i}", unit_label, person, difference_month, 2220.0, claim_type="差额",
                                submitted="2024-03-20", paid_date=paid_date))
    return tables(units=units, trainees=[trainee(f"P{i}") for i in range(len(people))], agreements=agreements,
                  claims=claims, employment=employment, social_insurance=insurance, si_as_of=si_as_of,
                  audit_month=audit_month, retention_declarations=declarations, quarantine=quarantine)


def lost(table: str, day: str | None, unit_label: str | None = "U1", person: str = "P0") -> dict:
    """A row of ``table`` the loader could not read, placed by its readable cells."""
    return {"table": table, "file": f"{table}.csv", "line": 7, "unit_id": uscc(unit_label) if unit_label else None,
            "person_id": pid(person), "day": day, "reasons": "insurance_type: 无法识别的取值 / value not among the spellings"}


def flagged(check, t) -> dict[tuple[str, int], float]:
    found, _ = run(check, t)
    assert found["unit_id"].null_count() == 0, "unit-level family: unit_id always set"
    return {(u, s.year): a for u, s, a in zip(found["unit_id"], found["period_start"], found["amount_at_risk"])}


U1 = uscc("U1")


# ------------------------------------------------------------------ declared_above_real --------
DECLARED = [
    ("half really retained: declared 100%, real 50% — the threshold is still reached",
     [REAL, FLAG_ONLY], {}, {}),
    ("declared 100%, real 0%: both 差额 at risk", [FLAG_ONLY, FLAG_ONLY], {}, {(U1, 2024): 4440.0}),
    ("declared 2 of 3 (67%), real 1 of 3 (33%)", [REAL, FLAG_ONLY, NOT_RETAINED], {},
     {(U1, 2024): 6660.0}),
    ("the declaration table claims 2 of 2 though no flag is set, none real",
     [NOT_RETAINED, NOT_RETAINED], {"declarations": [{"unit_id": U1, "year": 2024, "completed_count": 2,
                                                      "retained_count": 2}]}, {(U1, 2024): 4440.0}),
    ("honest: real contracts and insurance for every one declared", [REAL, REAL], {}, {}),
    ("a unit below the threshold that claims no 差额", [FLAG_ONLY, NOT_RETAINED], {"claims_difference": False}, {}),
    ("a Jiangxi 标杆 unit gets the 差额 whatever its retention", [FLAG_ONLY, FLAG_ONLY], {"benchmark": True}, {}),
    ("insurance months after si_as_of are not yet visible: the contract alone counts",
     [{"retained": True, "contract": ("2024-03-01", None)}, FLAG_ONLY], {"si_as_of": "2024-02"}, {}),
    # RULES.md §8: a 差额 dated in the month it was claimed or paid belongs to the year its internship ended
    ("差额 dated in the month claimed (2024-03): declared 100%, real 0% — the same 2024 finding",
     [FLAG_ONLY, FLAG_ONLY], {"difference_month": "2024-03"}, {(U1, 2024): 4440.0}),
    ("差额 dated in the month claimed (2024-03), really retained: nothing",
     [REAL, REAL], {"difference_month": "2024-03"}, {}),
]


@pytest.mark.parametrize("desc, people, kw, expected", DECLARED, ids=[c[0] for c in DECLARED])
def test_declared_above_real(desc, people, kw, expected):
    """RETENTION_INFLATED.declared_above_real"""
    assert flagged(ri.declared_above_real, world(people, **kw)) == expected


# ------------------------------------------------------------------ retained_without_contract --
CONTRACT = [
    ("flagged retained with no contract; the real rate falls to 0", [FLAG_ONLY], {}, {(U1, 2024): 2220.0}),
    ("flagged retained with no contract, but the real rate still reaches 50%: no money at risk",
     [REAL, {"retained": True, "insured": AFTER}], {}, {(U1, 2024): 0.0}),
    ("a 6-month contract is not a hire", [{"retained": True, "contract": ("2024-03-01", "2024-08-31"), "insured": AFTER}],
     {}, {(U1, 2024): 2220.0}),
    ("a contract starting 4 months after the end is a new hire, not retention",
     [{"retained": True, "contract": ("2024-07-01", None), "insured": AFTER}], {}, {(U1, 2024): 2220.0}),
    ("a 12-month contract is enough", [{"retained": True, "contract": ("2024-03-01", "2025-02-28"), "insured": AFTER}],
     {}, {}),
    ("a contract signed 60 days after the end is within the window",
     [{"retained": True, "contract": ("2024-04-29", None), "insured": AFTER}], {}, {}),
    ("not flagged retained: nothing declared, nothing inflated", [NOT_RETAINED, REAL], {}, {}),
    ("a unit that claims no 差额", [FLAG_ONLY], {"claims_difference": False}, {}),
    # a contract binds until it is terminated (employment.terminated_date), whatever it was signed for
    ("an open-ended contract terminated 2024-05-10, weeks after the 差额 (the export has no 拨付日期)",
     [{"retained": True, "contract": ("2024-03-01", None, "2024-05-10"), "insured": AFTER}], {"paid_date": None},
     {(U1, 2024): 2220.0}),
    ("a three-year contract terminated after eleven months (2025-01-31)",
     [{"retained": True, "contract": ("2024-03-01", "2027-02-28", "2025-01-31"), "insured": AFTER}],
     {"audit_month": "2025-06"}, {(U1, 2024): 2220.0}),
    ("look-alike: terminated after a year and more (2025-03-15): the hire was real",
     [{"retained": True, "contract": ("2024-03-01", None, "2025-03-15"), "insured": AFTER}],
     {"audit_month": "2025-06"}, {}),
    ("look-alike: a termination dated after the audit month is not yet a fact",
     [{"retained": True, "contract": ("2024-03-01", None, "2025-01-15"), "insured": AFTER}], {}, {}),
    ("a contract row of the unit starting in the window could not be read: not judged",
     [FLAG_ONLY | {"insured": AFTER}], {"quarantine": [lost("employment", "2024-03-01")]}, {}),
    ("look-alike: the lost contract row starts long after the window: judged",
     [FLAG_ONLY | {"insured": AFTER}], {"quarantine": [lost("employment", "2025-03-01")]}, {(U1, 2024): 2220.0}),
    # a registry writes each term of a renewed contract (续签) as a row of its own
    ("look-alike: six months renewed from the next day for a year: one hire of eighteen months",
     [{"retained": True, "contracts": [("2024-03-01", "2024-08-31"), ("2024-09-01", "2025-08-31")], "insured": AFTER}],
     {}, {}),
    ("six months and another contract two months after it: no renewal, no year-long hire",
     [{"retained": True, "contracts": [("2024-03-01", "2024-08-31"), ("2024-11-01", "2025-10-31")], "insured": AFTER}],
     {}, {(U1, 2024): 2220.0}),
    ("six months renewed, the renewal terminated after two months: eight months",
     [{"retained": True, "contracts": [("2024-03-01", "2024-08-31"), ("2024-09-01", "2025-08-31", "2024-10-31")],
       "insured": AFTER}], {}, {(U1, 2024): 2220.0}),
]


@pytest.mark.parametrize("desc, people, kw, expected", CONTRACT, ids=[c[0] for c in CONTRACT])
def test_retained_without_contract(desc, people, kw, expected):
    """RETENTION_INFLATED.retained_without_contract"""
    assert flagged(ri.retained_without_contract, world(people, **kw)) == expected


# ------------------------------------------------------------------ retained_without_insurance -
INSURANCE = [
    ("a contract but no insurance from the unit", [{"retained": True, "contract": ("2024-03-01", None)}], {},
     {(U1, 2024): 2220.0}),
    ("self-paid (灵活就业) insurance is not the unit's",
     [{"retained": True, "contract": ("2024-03-01", None), "insured": AFTER, "payer": "灵活就业"}], {},
     {(U1, 2024): 2220.0}),
    ("the unit's 补充工伤 trainee cover is not employment insurance",
     [{"retained": True, "contract": ("2024-03-01", None), "insured": AFTER, "kind": "补充工伤"}], {},
     {(U1, 2024): 2220.0}),
    ("only 2 months before a gap", [{"retained": True, "contract": ("2024-03-01", None),
                                     "insured": ("2024-03", "2024-04", "2024-07")}], {}, {(U1, 2024): 2220.0}),
    ("three months of the unit's insurance right after the end", [REAL], {}, {}),
    ("insured from the end month itself (an early hire) counts", [{**REAL, "insured": ("2024-02", "2024-03", "2024-04")}],
     {}, {}),
    ("two months visible and the run reaches si_as_of: not judged beyond it",
     [{**REAL, "insured": ("2024-03", "2024-04")}], {"si_as_of": "2024-04"}, {}),
    ("nothing visible after the end (si_as_of = the end month)", [{"retained": True, "contract": ("2024-03-01", None)}],
     {"si_as_of": "2024-02"}, {}),
    # unreadable rows do not accuse: an insurance row of the person lost to the quarantine
    ("an insurance row of the unit after the end could not be read: not judged",
     [{"retained": True, "contract": ("2024-03-01", None)}], {"quarantine": [lost("social_insurance", "2024-04-01")]}, {}),
    ("an insurance row of no readable employer and no readable month: not judged",
     [{"retained": True, "contract": ("2024-03-01", None)}],
     {"quarantine": [lost("social_insurance", None, unit_label=None)]}, {}),
    ("look-alike: the lost row is of another employer, or from before the end: judged",
     [{"retained": True, "contract": ("2024-03-01", None)}],
     {"quarantine": [lost("social_insurance", "2024-04-01", unit_label="X9"), lost("social_insurance", "2023-10-01")]},
     {(U1, 2024): 2220.0}),
]


@pytest.mark.parametrize("desc, people, kw, expected", INSURANCE, ids=[c[0] for c in INSURANCE])
def test_retained_without_insurance(desc, people, kw, expected):
    """RETENTION_INFLATED.retained_without_insurance"""
    assert flagged(ri.retained_without_insurance, world(people, **kw)) == expected


@pytest.mark.parametrize("rule, other_rows, fires", [
    ("insurance", [], False),  # no row of U1 nor of U2, the county's other unit: the area may be outside the extract
    ("insurance", [insured("P9", "U2", "2024-03")], True),  # look-alike: the extract writes U2: U1's silence counts
    ("contract", [], False),
    ("contract", [{"person_id": pid("P9"), "employer_id": uscc("U2"), "contract_start": "2023-01-01",
                   "contract_end": None, "terminated_date": None}], True),
], ids=["insurance-area-unwritten", "insurance-area-written", "contract-area-unwritten", "contract-area-written"])
def test_an_area_the_registry_extract_writes_nothing_of_is_not_judged(rule: str, other_rows: list, fires: bool) -> None:
    """U1 declared P0 retained; the registry (insurance, or contracts) holds no row of U1 — nor of U2,
    the other unit of its county: an extract assembled from the areas' own may lack the county, and
    its silence is no evidence. Once it writes U2, it covers the county, and U1's silence counts."""
    retained = {"retained": True, "contract": ("2024-03-01", None)} if rule == "insurance" else {"retained": True, "insured": AFTER}
    t = world([retained])
    table = "social_insurance" if rule == "insurance" else "employment"
    # U3, in Henan, is in both extracts: they cover some area
    elsewhere = [insured("P8", "U3", "2024-03")] if rule == "insurance" else [
        {"person_id": pid("P8"), "employer_id": uscc("U3"), "contract_start": "2023-01-01", "contract_end": None,
         "terminated_date": None}]
    more = tables(units=[unit("U2")], **{table: [*other_rows, *elsewhere]})
    t = dataclasses.replace(
        t, units=pl.concat([t.units, tables(units=[unit("U2"), unit("U3", county="410102")]).units], how="diagonal_relaxed"),
        **{table: pl.concat([getattr(t, table), getattr(more, table)], how="diagonal_relaxed")})
    check = ri.retained_without_insurance if rule == "insurance" else ri.retained_without_contract
    assert flagged(check, t) == ({(U1, 2024): 2220.0} if fires else {})


# ------------------------------------------------------------------ insurance_stopped_after_difference
def months_from(start: str, n: int) -> tuple[str, ...]:
    y, m = int(start[:4]), int(start[5:])
    return tuple(f"{y + (m - 1 + k) // 12}-{(m - 1 + k) % 12 + 1:02d}" for k in range(n))


STOPPED = [
    ("insured Mar–Jun, 差额 paid in April, stopped in July (si_as_of Dec): real rate without him is 0",
     [{**REAL, "insured": months_from("2024-03", 4)}], {}, {(U1, 2024): 2220.0}),
    ("one of two stops, the other stays: without him 1 of 2 = 50% still qualifies, no money",
     [{**REAL, "insured": months_from("2024-03", 4)}, REAL | {"insured": months_from("2024-03", 10)}], {},
     {(U1, 2024): 0.0}),
    ("insurance runs on to si_as_of", [{**REAL, "insured": months_from("2024-03", 10)}], {}, {}),
    ("the stop would be after si_as_of: not visible yet", [{**REAL, "insured": months_from("2024-03", 4)}],
     {"si_as_of": "2024-06"}, {}),
    ("stopped 8 months after the payment: outside the 6-month window", [{**REAL, "insured": months_from("2024-03", 13)}],
     {"si_as_of": "2025-06", "paid_date": "2024-04-02"}, {}),
    ("the 差额 not paid yet: nothing to stop after", [{**REAL, "insured": months_from("2024-03", 4)}],
     {"paid_date": None}, {}),
    ("a Jiangxi 标杆 unit", [{**REAL, "insured": months_from("2024-03", 4)}], {"benchmark": True}, {}),
]


@pytest.mark.parametrize("desc, people, kw, expected", STOPPED, ids=[c[0] for c in STOPPED])
def test_insurance_stopped_after_difference(desc, people, kw, expected):
    """RETENTION_INFLATED.insurance_stopped_after_difference"""
    assert flagged(ri.insurance_stopped_after_difference, world(people, **kw)) == expected


# ------------------------------------------------------------------ early_leave_relabelled -----
RELABEL_LATE = {"end_reason": "提前离岗", "actual_end": "2024-02-20"}  # within the last month of the term
GENUINE_LEAVER = {"end_reason": "提前离岗", "actual_end": "2023-11-10"}
RELABELLED = [
    ("two completers relabelled 提前离岗 in the last month: 1 of 1 becomes 1 of 3",
     [REAL, RELABEL_LATE, RELABEL_LATE], {}, {(U1, 2024): 2220.0}),
    ("relabelled, but really hired (contract and insurance): counted back he adds to both, 2 of 3",
     [REAL, NOT_RETAINED, {"end_reason": "提前离岗", "actual_end": "2024-01-15", "contract": ("2024-01-16", None),
                           "insured": ("2024-01", "2024-02", "2024-03")}], {}, {}),
    ("relabelled mid-term but insured by the unit right after, not retained: 1 of 2 becomes 1 of 3",
     [REAL, NOT_RETAINED, {"end_reason": "提前离岗", "actual_end": "2024-01-15", "insured": ("2024-02",)}], {},
     {(U1, 2024): 4440.0}),
    ("one relabelled: 1 of 2 still reaches 50%", [REAL, RELABEL_LATE], {}, {}),
    ("genuine early leavers mid-term are outside the denominator", [REAL, GENUINE_LEAVER, GENUINE_LEAVER], {}, {}),
    ("relabelled but the unit claims no 差额", [REAL, RELABEL_LATE, RELABEL_LATE], {"claims_difference": False}, {}),
    ("a Jiangxi 标杆 unit", [REAL, RELABEL_LATE, RELABEL_LATE], {"benchmark": True}, {}),
]


@pytest.mark.parametrize("desc, people, kw, expected", RELABELLED, ids=[c[0] for c in RELABELLED])
def test_early_leave_relabelled(desc, people, kw, expected):
    """RETENTION_INFLATED.early_leave_relabelled"""
    assert flagged(ri.early_leave_relabelled, world(people, **kw)) == expected


# ------------------------------------------------------------------ the recomputation itself ---
def test_evidence_records_the_definition_used():
    found, _ = run(ri.declared_above_real, world([FLAG_ONLY, FLAG_ONLY]))
    evidence = json.loads(found["evidence"][0])
    assert evidence["definition"] == {
        "year_basis": "calendar_year", "year_basis_source": "法规", "denominator": "completed_or_hired_early",
        "completed_end_reasons": ["期满", "提前留用"], "contract_window_days": 90,
        "min_contract_months": 12, "min_insured_months_after": 3, "si_as_of": "2024-12-01",
    }
    assert evidence["completed"] == 2 and evidence["really_retained"] == 0 and evidence["declared_rate_flags"] == 1.0
    assert [p["person_id"] for p in evidence["declared_not_real"]] == sorted([pid("P0"), pid("P1")])


def test_an_extension_is_one_internship_not_a_completion():
    """Agreements back to back at one unit: only the last one ends the internship."""
    t = tables(
        units=[unit("U1")], trainees=[trainee("P0")],
        agreements=[agreement("A0", "P0", "U1", "2023-09-01", "2023-11-30", end_reason="期满"),
                    agreement("A1", "P0", "U1", "2023-12-01", "2024-02-29", end_reason="期满", retained=True)],
        employment=[], audit_month="2024-12",
    )
    people = person_retention(t, policy()).collect()
    assert people["ag_id"].to_list() == ["A1"]
    years = unit_years(t, policy()).collect()
    assert years.select("year", "completed").rows() == [(2024, 1)]


# ------------------------------------------------------------------ the definition's law ------
def _edited(name: str, value: object) -> Policy:
    """The shipped policy with every value of ``name`` replaced: a reviewer editing the files."""
    base = policy()
    values = [dataclasses.replace(v, value=value) if v.name == name and v.value is not None else v for v in base.values]
    return Policy(base.catalogue, values, base.detection, base.jurisdictions, base.documents)


def test_a_province_that_does_not_require_insurance_is_obeyed():
    """retention.requires_social_insurance false: a hire with a contract and no insurance is retained."""
    people = [{"retained": True, "contract": ("2024-03-01", None)}]
    assert flagged(ri.retained_without_insurance, world(people)) == {(U1, 2024): 2220.0}
    found, _ = run(ri.retained_without_insurance, world(people), _edited("retention.requires_social_insurance", False))
    assert found.height == 0


def test_a_province_counting_retention_otherwise_is_skipped_not_judged():
    """retention.year_basis other than calendar_year: the recomputation does not apply; skipped with why."""
    found, skipped = run(ri.declared_above_real, world([FLAG_ONLY, FLAG_ONLY]), _edited("retention.year_basis", "internship"))
    assert found.height == 0
    assert skipped["unit_id"].to_list() == [U1] and "留用率定义" in skipped["reason"][0]


@pytest.mark.parametrize("county, judged", [
    pytest.param("360102", False, id="Jiangxi, whose 标杆 units are exempt: not judged, saying why"),
    pytest.param("410102", True, id="look-alike: Henan, where no unit is exempt: judged as before"),
])
def test_a_register_without_the_benchmark_column(county: str, judged: bool) -> None:
    """The unit register exported without 是否就业见习标杆单位: a unit that claimed 差额 on invented
    retention may be a 标杆 unit, for which the 差额 was due anyway. The rules resting on the rate
    skip it where the province exempts 标杆 units; the per-person facts stay, with no money."""
    t = dataclasses.replace(world([FLAG_ONLY, FLAG_ONLY], county=county), absent={"units": ("is_benchmark",)})
    found, skipped = run(ri.declared_above_real, t)
    if judged:
        assert found.height == 1 and skipped.height == 0
    else:
        assert found.height == 0 and skipped.select("unit_id", "reason").rows() == [(U1, BENCHMARK_UNKNOWN)]
        assert flagged(ri.retained_without_contract, t) == {(U1, 2024): 0.0}


def test_a_blank_end_reason_completes_an_internship_that_reached_its_planned_end() -> None:
    """An export without 结束原因 (or a value not among its spellings, read as blank): the
    汇总表's reading — completed where the internship did not end before its planned end; one that
    ended early is not counted completed (early leave and early hire cannot be told apart)."""
    t = tables(
        units=[unit("U1")], trainees=[trainee(p) for p in ("P1", "P2", "P3", "P4")],
        agreements=[
            agreement("A1", "P1", "U1", "2023-01-01", "2023-06-30"),
            agreement("A2", "P2", "U1", "2023-01-01", "2023-06-30", actual_end_date="2023-06-30"),
            agreement("A3", "P3", "U1", "2023-01-01", "2023-06-30", actual_end_date="2023-03-31"),
            agreement("A4", "P4", "U1", "2023-01-01", "2023-06-30", actual_end_date="2023-03-31", end_reason="提前留用"),
        ],
        audit_month="2024-06",
    )
    done = ended_internships(t).select("ag_id", "completed").collect().sort("ag_id")
    assert done.rows() == [("A1", True), ("A2", True), ("A3", False), ("A4", True)]


def test_an_early_end_with_no_reason_is_an_early_hire_only_where_the_unit_kept_the_trainee() -> None:
    """结束原因 blank and the internship ended before its planned end: 提前留用 (completed) where the
    unit retained the trainee — flagged retained (P1), or really retained: a contract and the
    unit's insurance from the end (P2); otherwise (P3, a look-alike of an early leave) not
    completed, as 提前离岗 is not."""
    early = {"end_reason": None, "actual_end": "2023-12-31"}
    t = world([{**early, "retained": True},
               {**early, "contract": ("2024-01-01", None), "insured": months_from("2023-12", 6)},
               early], audit_month="2024-12", si_as_of="2024-11")
    done = person_retention(t, policy()).select("ag_id", "completed").collect().sort("ag_id")
    assert done.rows() == [("A0", True), ("A1", True), ("A2", False)]


def test_a_unit_listed_twice_is_judged_by_its_latest_row() -> None:
    """A unit the register lists twice (re-admitted after moving from 郑州 to 南昌): its unit-years
    are judged in the province of its latest-approved row, whichever row the export writes first
    — as the claims read it (checks._units.latest_units)."""
    t = world([{"retained": True}])
    moved = [unit("U1", county="410102", approved="2020-01-01"), unit("U1", county="360102", approved="2023-01-01")]
    t = dataclasses.replace(t, units=tables(units=moved, trainees=[trainee("P0")]).units)
    years = unit_years(t, policy()).collect()
    assert years.select("province_code").unique().to_series().to_list() == ["360000"]
    people = person_retention(t, policy()).collect()
    assert people.height == 1
