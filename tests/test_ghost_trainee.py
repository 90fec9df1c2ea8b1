"""GHOST_TRAINEE: a trainee who is not really one. One table of cases per rule.

Every case starts from the same small world and changes one thing:

- unit U1 (南昌 东湖区 360102, Jiangxi, approved 2022-01-01);
- trainee P1: 本科, left school 2023-06-30, born 2000-01-01, bank card 6222…2222;
- agreement A1: P1 at U1 from 2023-09-01 to 2024-02-29 (six months);
- six monthly claims of 1480 yuan, ``M2023-09`` … ``M2024-02``; audit month 2024-06.

A case is: a description (the test id), the changes, and the expected findings as
``(unit, amount_at_risk, [claims at risk])`` — an empty list means the rule must NOT fire.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from typing import Any

import polars as pl
import pytest

from audit.loader.normalised import QUARANTINED_ROWS_SCHEMA
from audit.policy import Policy
from checks import ghost_trainee as g
from checks._internships import unit_internships
from tests.helpers import agreement, claim, pid, policy, run, tables, trainee, unit, uscc

MONTHS = ["2023-09", "2023-10", "2023-11", "2023-12", "2024-01", "2024-02"]
CARD = "6222000011112222"


def world(
    *,
    birth: str = "20000101",
    trainee_kw: dict[str, Any] | None = None,
    county: str = "360102",
    agreements: list[tuple[str, str, str]] | None = None,
    claim_months: list[str] = MONTHS,
    social_insurance: list[tuple] = (),  # type: ignore[assignment]
    employment: list[dict] | None = None,
    deaths: list[str] | None = None,
    allowance: list[dict] | None = None,
    audit_month: str = "2024-06",
) -> Any:
    """The base world with the case's changes. Insurance rows: (employer or None, month, type, payer)."""
    p1 = pid("P1", birth)
    kw = {"bank_card": CARD, **(trainee_kw or {})}
    spans = agreements or [("A1", "2023-09-01", "2024-02-29")]
    extra: dict[str, Any] = {}
    if employment is not None:
        extra["employment"] = [{"person_id": p1, **{k: (uscc(v) if k == "employer_id" else v) for k, v in e.items()}}
                               for e in employment]
    if deaths is not None:
        extra["deaths"] = [{"person_id": p1, "death_date": d} for d in deaths]
    if allowance is not None:
        extra["allowance_payments"] = [{"person_id": p1, "unit_id": uscc("U1"), **a} for a in allowance]
    return tables(
        units=[unit("U1", county=county), unit("X"), unit("Y")],
        trainees=[trainee(p1, birth=birth, **kw)],
        agreements=[agreement(aid, p1, "U1", start, end, **({"actual_end_date": rest[0], "end_reason": "提前离岗"} if rest else {}))
                    for aid, start, end, *rest in spans],
        claims=[claim(f"M{m}", "U1", p1, m, 1480.0) for m in claim_months],
        social_insurance=[
            {"person_id": p1, "employer_id": uscc(e) if e else None, "month": m, "insurance_type": kind,
             "payer_type": payer}
            for e, m, kind, payer in social_insurance
        ],
        audit_month=audit_month,
        **extra,
    )


def with_detection(**values: Any) -> Policy:
    """The shipped policy with some detection thresholds changed (for threshold cases)."""
    base = policy()
    detection = dict(base.detection)
    for name, value in values.items():
        detection[name.replace("__", ".")] = dataclasses.replace(base.detection[name.replace("__", ".")], value=value)
    return Policy(base.catalogue, base.values, detection, base.jurisdictions, base.documents)


def findings(check: Any, t: Any, pol: Policy | None = None) -> list[tuple[str, float, list[str]]]:
    found, _ = run(check, t, pol)
    assert found["person_id"].null_count() == 0, "a GHOST_TRAINEE finding always names the trainee"
    label = {uscc(u): u for u in ("U1", "X", "Y")}
    return sorted(
        (label[row["unit_id"]], row["amount_at_risk"], sorted(c["claim_id"] for c in (row["_claims"] or [])))
        for row in found.iter_rows(named=True)
    )


def case(description: str, changes: dict[str, Any], expected: list[tuple], **detection: Any) -> Any:
    return pytest.param(changes, expected, detection, id=description)


def check_cases(check: Any, changes: dict[str, Any], expected: list[tuple], detection: dict[str, Any]) -> None:
    pol = with_detection(**detection) if detection else None
    assert findings(check, world(**changes), pol) == sorted(expected)


# --------------------------------------------------------------------------------------------
# GHOST_TRAINEE.insured_elsewhere — employer-paid insurance from another employer in internship months
INSURED_ELSEWHERE = [
    case("another employer pays 养老 in October: fires, October's claim at risk",
         {"social_insurance": [("X", "2023-10", "养老", "单位")]}, [("U1", 1480.0, ["M2023-10"])]),
    case("several kinds in one month count as one month; two months put two claims at risk",
         {"social_insurance": [("X", "2023-10", "养老", "单位"), ("X", "2023-10", "医疗", "单位"),
                               ("Y", "2023-11", "失业", "单位")]},
         [("U1", 2960.0, ["M2023-10", "M2023-11"])]),
    case("payer_type missing is read as employer-paid (only 灵活就业/城乡居民 are self-paid)",
         {"social_insurance": [("X", "2024-01", "养老", None)]}, [("U1", 1480.0, ["M2024-01"])]),
    case("look-alike: self-paid 灵活就业 contributions are not employment",
         {"social_insurance": [(None, m, "养老", "灵活就业") for m in MONTHS]}, []),
    case("look-alike: resident-scheme 城乡居民 insurance is not employment",
         {"social_insurance": [(None, m, "医疗", "城乡居民") for m in MONTHS]}, []),
    case("look-alike: the unit's own 补充工伤 for its trainee",
         {"social_insurance": [("U1", m, "补充工伤", "单位") for m in MONTHS]}, []),
    case("look-alike: a job that ended before the internship (insured by X until August)",
         {"social_insurance": [("X", m, "养老", "单位") for m in ("2023-06", "2023-07", "2023-08")]}, []),
    case("look-alike: a job that starts after the internship (X from March 2024)",
         {"social_insurance": [("X", m, "养老", "单位") for m in ("2024-03", "2024-04")]}, []),
    case("look-alike: the internship unit's own employer-paid insurance during it is not 'elsewhere'",
         {"social_insurance": [("U1", "2023-10", "养老", "单位")]}, []),
    case("another employer's 补充工伤, where the person has no internship there, counts (semantics: any employer-paid row)",
         {"social_insurance": [("X", "2023-12", "补充工伤", "单位")]}, [("U1", 1480.0, ["M2023-12"])]),
    case("an extension without a gap is one internship: one finding over both agreements",
         {"agreements": [("A1", "2023-09-01", "2023-11-30"), ("A2", "2023-12-01", "2024-02-29")],
          "social_insurance": [("X", "2023-10", "养老", "单位"), ("X", "2024-01", "养老", "单位")]},
         [("U1", 2960.0, ["M2023-10", "M2024-01"])]),
    case("threshold ghost.min_overlap_months = 2: a single month does not fire",
         {"social_insurance": [("X", "2023-10", "养老", "单位")]}, [], ghost__min_overlap_months=2),
    case("threshold ghost.min_overlap_months = 2: two months fire",
         {"social_insurance": [("X", "2023-10", "养老", "单位"), ("X", "2023-11", "养老", "单位")]},
         [("U1", 2960.0, ["M2023-10", "M2023-11"])], ghost__min_overlap_months=2),
    case("a month insured elsewhere with no claim still fires, with nothing at risk",
         {"claim_months": ["2023-09"], "social_insurance": [("X", "2023-12", "养老", "单位")]}, [("U1", 0.0, [])]),
    # RULES.md §8 "Boundary months": left early on 2023-12-10, X insures from December on
    case("look-alike: left early on 2023-12-10, the next job's insurance starts in December",
         {"agreements": [("A1", "2023-09-01", "2024-02-29", "2023-12-10")], "claim_months": MONTHS[:4],
          "social_insurance": [("X", m, "养老", "单位") for m in ("2023-12", "2024-01", "2024-02")]}, []),
    case("left early on 2023-12-10, insured by X in November and December: both months during it",
         {"agreements": [("A1", "2023-09-01", "2024-02-29", "2023-12-10")], "claim_months": MONTHS[:4],
          "social_insurance": [("X", m, "养老", "单位") for m in ("2023-11", "2023-12", "2024-01")]},
         [("U1", 2960.0, ["M2023-11", "M2023-12"])]),
    case("left early on 2023-12-10: X's insurance in November, a month fully inside, still fires",
         {"agreements": [("A1", "2023-09-01", "2024-02-29", "2023-12-10")], "claim_months": MONTHS[:4],
          "social_insurance": [("X", "2023-11", "养老", "单位"), ("Y", "2023-12", "养老", "单位")]},
         [("U1", 1480.0, ["M2023-11"])]),
    case("left early on the month's last day (2023-12-31): December is fully inside, X's row fires",
         {"agreements": [("A1", "2023-09-01", "2024-02-29", "2023-12-31")], "claim_months": MONTHS[:4],
          "social_insurance": [("X", "2023-12", "养老", "单位")]}, [("U1", 1480.0, ["M2023-12"])]),
    case("look-alike: ran to term on 2024-02-29, the next job insured from March",
         {"social_insurance": [("X", m, "养老", "单位") for m in ("2024-03", "2024-04")]}, []),
]


@pytest.mark.parametrize("changes, expected, detection", INSURED_ELSEWHERE)
def test_insured_elsewhere(changes: dict, expected: list, detection: dict) -> None:
    check_cases(g.insured_elsewhere, changes, expected, detection)


# --------------------------------------------------------------------------------------------
# GHOST_TRAINEE.contracted_elsewhere — a labour contract with another employer overlapping the internship
CONTRACTED_ELSEWHERE = [
    case("open-ended contract with X from 2023-11-15: November to February at risk",
         {"employment": [{"employer_id": "X", "contract_start": "2023-11-15"}]},
         [("U1", 4 * 1480.0, ["M2023-11", "M2023-12", "M2024-01", "M2024-02"])]),
    case("a contract running through 2023 covers September to December",
         {"employment": [{"employer_id": "X", "contract_start": "2023-01-01", "contract_end": "2023-12-31"}]},
         [("U1", 4 * 1480.0, ["M2023-09", "M2023-10", "M2023-11", "M2023-12"])]),
    case("terminated on 2023-10-10: September and October overlap",
         {"employment": [{"employer_id": "X", "contract_start": "2023-01-01", "contract_end": "2025-12-31",
                          "terminated_date": "2023-10-10"}]},
         [("U1", 2960.0, ["M2023-09", "M2023-10"])]),
    case("look-alike: a contract that ended before the internship (2023-08-31)",
         {"employment": [{"employer_id": "X", "contract_start": "2022-09-01", "contract_end": "2023-08-31"}]}, []),
    case("look-alike: terminated before the start although the contract ran to 2025",
         {"employment": [{"employer_id": "X", "contract_start": "2022-09-01", "contract_end": "2025-08-31",
                          "terminated_date": "2023-08-15"}]}, []),
    case("look-alike: a contract that starts after the internship ended",
         {"employment": [{"employer_id": "X", "contract_start": "2024-03-01"}]}, []),
    case("look-alike: a labour contract with the internship unit itself (hired at the end)",
         {"employment": [{"employer_id": "U1", "contract_start": "2024-02-01"}]}, []),
    case("look-alike: left early on 2023-12-10, the next job's contract starts 2023-12-11 (same month)",
         {"agreements": [("A1", "2023-09-01", "2024-02-29", "2023-12-10")], "claim_months": MONTHS[:4],
          "employment": [{"employer_id": "X", "contract_start": "2023-12-11"}]}, []),
    case("left early on 2023-12-10, a contract with X from 2023-12-01: the ten days overlap",
         {"agreements": [("A1", "2023-09-01", "2024-02-29", "2023-12-10")], "claim_months": MONTHS[:4],
          "employment": [{"employer_id": "X", "contract_start": "2023-12-01"}]}, [("U1", 1480.0, ["M2023-12"])]),
]


@pytest.mark.parametrize("changes, expected, detection", CONTRACTED_ELSEWHERE)
def test_contracted_elsewhere(changes: dict, expected: list, detection: dict) -> None:
    check_cases(g.contracted_elsewhere, changes, expected, detection)


def test_contracted_elsewhere_needs_employment() -> None:
    assert g.contracted_elsewhere.rule.needs == ("employment",)


def test_without_termination_dates_only_a_contract_signed_during_the_internship_is_evidence() -> None:
    """An employment export without 解除日期: a contract signed before the internship (to run to
    2025) may have been terminated before it began, and nothing says — skipped with the reason,
    never found. A contract signed during the internship still is evidence; with the column
    exported (blank: never terminated), the earlier contract is too."""
    def case(start: str, exported: bool = False) -> Any:
        t = world(employment=[{"employer_id": "X", "contract_start": start, "contract_end": "2025-12-31"}])
        return t if exported else dataclasses.replace(t, absent={"employment": ("terminated_date",)})

    found, skipped = run(g.contracted_elsewhere, case("2022-09-01"))
    assert found.height == 0
    assert skipped["reason"].to_list() == [g.TERMINATION_UNKNOWN]
    found, skipped = run(g.contracted_elsewhere, case("2023-11-15"))
    assert found["amount_at_risk"].to_list() == [4 * 1480.0] and skipped.height == 0
    found, _ = run(g.contracted_elsewhere, case("2022-09-01", exported=True))
    assert found["amount_at_risk"].to_list() == [6 * 1480.0]


def test_without_contract_ends_an_earlier_fixed_term_contract_is_no_evidence() -> None:
    """An employment export without 合同结束日期: a contract with X signed in 2021 (a two-year term,
    over before the internship) reads as open-ended and would overlap it. It is skipped with the
    reason naming the column; a contract signed during the internship is still evidence."""
    def case(start: str) -> Any:
        t = world(employment=[{"employer_id": "X", "contract_start": start, "contract_end": None}])
        return dataclasses.replace(t, absent={"employment": ("contract_end",)})

    found, skipped = run(g.contracted_elsewhere, case("2021-06-01"))
    assert found.height == 0
    assert skipped["reason"].to_list() == [g.termination_unknown(["contract_end"])]
    assert "合同结束日期（contract_end）" in skipped["reason"][0]
    found, skipped = run(g.contracted_elsewhere, case("2023-11-15"))
    assert found["amount_at_risk"].to_list() == [4 * 1480.0] and skipped.height == 0


@pytest.mark.parametrize("row, months", [
    pytest.param({"contract_type": "无固定期限"}, 6, id="an open-ended contract never ends: evidence"),
    pytest.param({"contract_type": "固定期限", "terminated_date": "2023-06-30"}, 0,
                 id="terminated before the internship: no evidence, nothing unknown"),
    pytest.param({"contract_type": "固定期限", "terminated_date": "2023-10-31"}, 2,
                 id="terminated during it: evidence for the months to its 解除日期"),
])
def test_without_contract_ends_what_the_type_and_termination_say_still_counts(row: dict, months: int) -> None:
    """Only 合同结束日期 missing: a contract signed in 2021 whose type is 无固定期限, or whose 解除日期
    is given, has a known end — judged, nothing skipped."""
    t = world(employment=[{"employer_id": "X", "contract_start": "2021-06-01", "contract_end": None, **row}])
    found, skipped = run(g.contracted_elsewhere, dataclasses.replace(t, absent={"employment": ("contract_end",)}))
    assert (found["amount_at_risk"].to_list() if found.height else []) == ([months * 1480.0] if months else [])
    assert skipped.height == 0


def test_own_employee_without_contract_ends() -> None:
    """An employment export without 合同结束日期 or 解除日期: a contract with U1 signed in 2019 may
    have ended years before the internship — skipped with the reason, not found; one signed two
    months before the start was in force within the lookback — found."""
    def case(start: str) -> Any:
        t = world(employment=[{"employer_id": "U1", "contract_start": start, "contract_end": None}])
        return dataclasses.replace(t, absent={"employment": ("contract_end", "terminated_date")})

    found, skipped = run(g.own_employee, case("2019-03-01"))
    assert found.height == 0 and skipped["reason"].to_list() == [
        g.termination_unknown(["terminated_date", "contract_end"])]
    found, skipped = run(g.own_employee, case("2023-07-01"))
    assert found.height == 1 and skipped.height == 0
    # look-alike: only 解除日期 unexported, a 2019 contract whose own end (2020) is before the
    # lookback: over by its end (a termination only ends it sooner) — neither found nor skipped
    t = world(employment=[{"employer_id": "U1", "contract_start": "2019-03-01", "contract_end": "2020-02-29"}])
    found, skipped = run(g.own_employee, dataclasses.replace(t, absent={"employment": ("terminated_date",)}))
    assert found.height == 0 and skipped.height == 0


# --------------------------------------------------------------------------------------------
# GHOST_TRAINEE.own_employee — the unit's own employee before the start, relabelled a trainee
ALL_CLAIMS = [f"M{m}" for m in MONTHS]
OWN_EMPLOYEE = [
    case("U1 paid 养老 for P1 from March to August 2023: every claim of the internship at risk",
         {"social_insurance": [("U1", f"2023-0{m}", "养老", "单位") for m in range(3, 9)]},
         [("U1", 6 * 1480.0, ALL_CLAIMS)]),
    case("a labour contract with U1 that ended the day before the start",
         {"employment": [{"employer_id": "U1", "contract_start": "2022-01-01", "contract_end": "2023-08-31"}]},
         [("U1", 6 * 1480.0, ALL_CLAIMS)]),
    case("a labour contract with U1 still open at the start",
         {"employment": [{"employer_id": "U1", "contract_start": "2023-03-01"}]}, [("U1", 6 * 1480.0, ALL_CLAIMS)]),
    case("look-alike: U1's insurance more than 12 months before the start (2022-08)",
         {"social_insurance": [("U1", "2022-08", "养老", "单位")]}, []),
    case("U1's insurance exactly 12 months before the start month (2022-09) is inside the window",
         {"social_insurance": [("U1", "2022-09", "养老", "单位")]}, [("U1", 6 * 1480.0, ALL_CLAIMS)]),
    case("look-alike: a contract with U1 that ended more than 12 months before the start",
         {"employment": [{"employer_id": "U1", "contract_start": "2021-01-01", "contract_end": "2022-06-30"}]}, []),
    case("look-alike: U1's 补充工伤 taken out the month before the start (trainee cover)",
         {"social_insurance": [("U1", "2023-08", "补充工伤", "单位")]}, []),
    case("look-alike: another employer's insurance before the start (a job that ended)",
         {"social_insurance": [("X", "2023-08", "养老", "单位")]}, []),
    case("look-alike: U1 hires P1 after the internship (retention)",
         {"employment": [{"employer_id": "U1", "contract_start": "2024-03-01"}],
          "social_insurance": [("U1", "2024-03", "养老", "单位")]}, []),
    case("look-alike: self-paid insurance before the start", {"social_insurance": [(None, "2023-08", "养老", "灵活就业")]}, []),
]


@pytest.mark.parametrize("changes, expected, detection", OWN_EMPLOYEE)
def test_own_employee(changes: dict, expected: list, detection: dict) -> None:
    check_cases(g.own_employee, changes, expected, detection)


def test_own_employee_without_employment_table_uses_insurance_alone() -> None:
    t = world(social_insurance=[("U1", "2023-05", "养老", "单位")])
    assert t.employment is None
    assert findings(g.own_employee, t) == [("U1", 6 * 1480.0, ALL_CLAIMS)]


def _lost_agreement_row(person: str, unit_label: str | None, day: str | None) -> dict:
    return {"table": "agreements", "file": "agreements.csv", "line": 2,
            "unit_id": uscc(unit_label) if unit_label else None, "person_id": pid(person),
            "day": dt.date.fromisoformat(day) if day else None, "paid_date": None, "county_code": None,
            "reasons": "planned_end_date: 早于见习开始日期 / before its start_date"}


@pytest.mark.parametrize("lost, judged", [
    (("P1", "U1", None), False),  # the trainee's row at U1 that ends before it starts: at no time
    (("P1", "U1", "2023-02-01"), False),  # the trainee's row at U1 begun before the internship
    (("P1", None, None), False),  # the trainee's row, its unit unreadable
    (("P1", "U1", "2023-12-01"), True),  # look-alike: begun after this internship's start
    (("P1", "X", None), True),  # look-alike: the trainee's lost row at another unit
    (("P9", "U1", None), True),  # look-alike: another person's lost row at U1
], ids=["own-at-no-time", "own-before", "own-unit-unreadable", "own-after-start", "other-unit", "other-person"])
def test_own_employee_beside_an_earlier_agreement_row_that_could_not_be_read(lost: tuple, judged: bool) -> None:
    """U1 paid 养老 for P1 in March–August 2023, before the readable internship — but an agreement
    row of P1 at U1 that the loader could not read (a first internship whose start was keyed a year
    late, say) may be the internship those months lie in: skipped with the reason, not an
    accusation, unless the lost row cannot be earlier (begun after the start) or is not P1's at U1."""
    t = dataclasses.replace(world(social_insurance=[("U1", f"2023-0{m}", "养老", "单位") for m in range(3, 9)]),
                            quarantine=pl.DataFrame([_lost_agreement_row(*lost)], schema=QUARANTINED_ROWS_SCHEMA).lazy())
    found, skipped = run(g.own_employee, t)
    assert found.height == (1 if judged else 0)
    assert (skipped.filter(pl.col("reason") == g.EARLIER_AGREEMENT_LOST).height if skipped.height else 0) == (
        0 if judged else 1)


# --------------------------------------------------------------------------------------------
# GHOST_TRAINEE.ineligible_at_start — neither a recent graduate nor registered-unemployed youth
YUNNAN, HUNAN = "530102", "430102"
INELIGIBLE_AT_START = [
    case("left school 2021-06-30: more than 2 years before the 2023-09-01 start",
         {"trainee_kw": {"graduation_date": "2021-06-30"}}, [("U1", 6 * 1480.0, ALL_CLAIMS)]),
    case("look-alike: left school 2021-09-01, exactly 2 years before the start",
         {"trainee_kw": {"graduation_date": "2021-09-01"}}, []),
    case("left school 2021-09-01, two years and two weeks before a 2023-09-15 start",
         {"trainee_kw": {"graduation_date": "2021-09-01"}, "agreements": [("A1", "2023-09-15", "2024-02-29")]},
         [("U1", 6 * 1480.0, ALL_CLAIMS)]),
    case("look-alike: the register records only the month (2021-09): it may be the 30th, within 2 years",
         {"trainee_kw": {"graduation_date": "2021-09-01", "graduation_date_month_only": True},
          "agreements": [("A1", "2023-09-15", "2024-02-29")]}, []),
    case("recorded only to the month, and the month's last day too is more than 2 years before",
         {"trainee_kw": {"graduation_date": "2021-08-01", "graduation_date_month_only": True},
          "agreements": [("A1", "2023-09-15", "2024-02-29")]}, [("U1", 6 * 1480.0, ALL_CLAIMS)]),
    case("look-alike: the register records only the year (2021届): it may be December, within 2 years",
         {"trainee_kw": {"graduation_date": "2021-01-01", "graduation_date_year_only": True},
          "agreements": [("A1", "2023-09-15", "2024-02-29")]}, []),
    case("recorded only to the year, and the year's last day too is more than 2 years before (2020届)",
         {"trainee_kw": {"graduation_date": "2020-01-01", "graduation_date_year_only": True},
          "agreements": [("A1", "2023-09-15", "2024-02-29")]}, [("U1", 6 * 1480.0, ALL_CLAIMS)]),
    case("中职 graduate in Jiangxi (not a 高校毕业生)", {"trainee_kw": {"education": "中职"}},
         [("U1", 6 * 1480.0, ALL_CLAIMS)]),
    case("look-alike: 中职 graduate in Yunnan (云人社发〔2023〕18号 三 admits 中职)",
         {"trainee_kw": {"education": "中职"}, "county": YUNNAN}, []),
    case("look-alike: 技工院校 graduate in Hunan (湘人社规〔2023〕9号 二(一))",
         {"trainee_kw": {"education": "技工院校"}, "county": HUNAN}, []),
    case("技工院校 graduate in Jiangxi", {"trainee_kw": {"education": "技工院校"}}, [("U1", 6 * 1480.0, ALL_CLAIMS)]),
    case("Hunan 中职 (admitted only in designated areas the notice does not list): skipped, not fired",
         {"trainee_kw": {"education": "中职"}, "county": HUNAN}, []),
    case("look-alike: left school in 2020 but registered unemployed in 2023, aged 23",
         {"trainee_kw": {"graduation_date": "2020-06-30", "unemployment_reg_date": "2023-05-01"}}, []),
    case("registered unemployed but aged 25 at the start, left school in 2019",
         {"birth": "19980101", "trainee_kw": {"graduation_date": "2019-06-30", "unemployment_reg_date": "2023-05-01"}},
         [("U1", 6 * 1480.0, ALL_CLAIMS)]),
    case("look-alike: registered unemployed, aged 24 (the upper bound is inclusive)",
         {"birth": "19990101", "trainee_kw": {"graduation_date": None, "unemployment_reg_date": "2023-05-01"}}, []),
    case("registered unemployed only after the start, no graduation date",
         {"trainee_kw": {"graduation_date": None, "unemployment_reg_date": "2023-10-01"}},
         [("U1", 6 * 1480.0, ALL_CLAIMS)]),
    case("look-alike: no graduation date, registered unemployed, aged 20",
         {"trainee_kw": {"graduation_date": None, "unemployment_reg_date": "2023-01-10"}}, []),
    case("look-alike: graduation after the start is left to still_student",
         {"trainee_kw": {"graduation_date": "2023-12-31"}}, []),
    case("look-alike: education unknown, left school within 2 years", {"trainee_kw": {"education": None}}, []),
    case("an extension: eligibility is judged at the internship's first day, not the extension's",
         {"trainee_kw": {"graduation_date": "2021-10-15"},
          "agreements": [("A1", "2023-09-01", "2023-11-30"), ("A2", "2023-12-01", "2024-02-29")]}, []),
    case("Jiangxi internship before its notice (2023-08-16): the national parameters apply",
         {"trainee_kw": {"graduation_date": "2019-06-30"}, "agreements": [("A1", "2023-07-01", "2023-12-31")],
          "claim_months": ["2023-07"]}, [("U1", 1480.0, ["M2023-07"])]),
    case("Hunan after its notice expired (2026-07-25): the target groups are national (RULES.md §8), so the "
         "national notice judges the internship",
         {"trainee_kw": {"graduation_date": "2019-06-30"}, "county": HUNAN, "audit_month": "2026-12",
          "agreements": [("A1", "2026-08-01", "2026-12-31")], "claim_months": []}, [("U1", 0.0, [])]),
]


def test_ineligible_at_start_cites_the_clause_in_force_for_the_unit() -> None:
    """Jiangxi's trainee cites Jiangxi's notice, Hunan's Hunan's — never the other's."""
    cites = {}
    for county in ("360102", HUNAN):
        found, _ = run(g.ineligible_at_start, world(trainee_kw={"graduation_date": "2019-06-30"}, county=county))
        cites[county] = found["citation"][0]
    assert cites["360102"].startswith("赣人社发〔2023〕9号") and cites[HUNAN].startswith("湘人社规〔2023〕9号")


@pytest.mark.parametrize("changes, expected, detection", INELIGIBLE_AT_START)
def test_ineligible_at_start(changes: dict, expected: list, detection: dict) -> None:
    check_cases(g.ineligible_at_start, changes, expected, detection)


@pytest.mark.parametrize(
    "changes, reason",
    [
        pytest.param({"trainee_kw": {"education": "中职"}, "county": HUNAN}, "指定地区", id="Hunan 中职"),
    ],
)
def test_ineligible_at_start_skips_what_it_cannot_judge(changes: dict, reason: str) -> None:
    found, skipped = run(g.ineligible_at_start, world(**changes))
    assert found.height == 0
    assert skipped.height == 1 and reason in skipped["reason"][0]


def test_ineligible_at_start_does_not_judge_by_a_column_the_register_lacks() -> None:
    """A trainee register exported without 毕业离校日期 shows no one to be a graduate: a person
    the unemployment registration does not show eligible is skipped, not accused (with the
    column exported and blank, the rule fires: nothing shows eligibility)."""
    t = world(trainee_kw={"graduation_date": None})
    found, _ = run(g.ineligible_at_start, t)
    assert found.height == 1
    found, skipped = run(g.ineligible_at_start, dataclasses.replace(t, absent={"trainees": ("graduation_date",)}))
    assert found.height == 0
    assert skipped.height == 1 and "未导出 graduation_date" in skipped["reason"][0]
    # the look-alike: registered-unemployed youth of age is eligible whatever the other column
    ok = world(trainee_kw={"graduation_date": None, "unemployment_reg_date": "2023-08-01"})
    found, skipped = run(g.ineligible_at_start, dataclasses.replace(ok, absent={"trainees": ("graduation_date",)}))
    assert found.height == 0 and skipped.height == 0


@pytest.mark.parametrize("rule", ["insured_elsewhere", "contracted_elsewhere"])
def test_without_actual_end_dates_employment_after_the_last_claimed_month_is_no_evidence(rule: str) -> None:
    """An agreements export without 实际结束日期: the internship (planned to 2024-02) may have
    ended early, and its claims stop after October. A job from December is no evidence of
    employment during it; one in a claimed month still is."""
    check = getattr(g, rule)

    def case(start: str) -> Any:
        if rule == "insured_elsewhere":
            jobs = {"social_insurance": [("X", m, "养老", "单位") for m in ("2023-09", "2023-10", "2023-12", "2024-01",
                                                                         "2024-02") if m >= start]}
        else:
            jobs = {"employment": [{"employer_id": "X", "contract_start": f"{start}-01"}]}
        t = world(claim_months=["2023-09", "2023-10"], **jobs)
        return dataclasses.replace(t, absent={"agreements": ("actual_end_date",)})

    found, _ = run(check, case("2023-12"))
    assert found.height == 0
    found, _ = run(check, case("2023-09"))  # the job began in a claimed month before the last
    assert found.height == 1
    # the last claimed month (October) may be the month the internship ended, on any day: another
    # employer's insurance from October is the next job (boundary months); a contract signed on
    # its first day overlaps it, one signed later may not
    found, _ = run(check, case("2023-10"))
    assert found.height == (1 if rule == "contracted_elsewhere" else 0)
    if rule == "contracted_elsewhere":
        t = world(claim_months=["2023-09", "2023-10"], employment=[{"employer_id": "X", "contract_start": "2023-10-12"}])
        found, _ = run(check, dataclasses.replace(t, absent={"agreements": ("actual_end_date",)}))
        assert found.height == 0
    # with the column exported (and blank: the internship ran to its planned end), December counts
    found, _ = run(check, world(claim_months=["2023-09", "2023-10"], social_insurance=[("X", "2023-12", "养老", "单位")],
                                employment=[{"employer_id": "X", "contract_start": "2023-12-01"}]))
    assert found.height == 1


def test_ineligible_at_start_evidence_names_the_parameters() -> None:
    found, _ = run(g.ineligible_at_start, world(trainee_kw={"graduation_date": "2021-06-30"}))
    evidence = pl.Series([found["evidence"][0]]).str.json_decode()[0]
    assert evidence["graduate_test"] == "离校超过规定年限"
    assert evidence["param_eligibility_graduate_years_since_leaving"]["value"] == 2
    assert "赣人社发〔2023〕9号" in evidence["param_eligibility_graduate_years_since_leaving"]["reference"]


# --------------------------------------------------------------------------------------------
# GHOST_TRAINEE.still_student — graduation date after the start
STILL_STUDENT = [
    case("graduates 2023-12-31: September to December began before graduation",
         {"trainee_kw": {"graduation_date": "2023-12-31"}},
         [("U1", 4 * 1480.0, ["M2023-09", "M2023-10", "M2023-11", "M2023-12"])]),
    case("graduates 2023-11-01: September and October at risk",
         {"trainee_kw": {"graduation_date": "2023-11-01"}}, [("U1", 2960.0, ["M2023-09", "M2023-10"])]),
    case("look-alike: graduated before the start (2023-06-30)", {}, []),
    case("look-alike: graduated on the start date", {"trainee_kw": {"graduation_date": "2023-09-01"}}, []),
    case("look-alike: recorded to the month of the start (2023-09): not after the start, as far as shown",
         {"trainee_kw": {"graduation_date": "2023-09-01", "graduation_date_month_only": True},
          "agreements": [("A1", "2023-09-15", "2024-02-29")]}, []),
    case("recorded to the month after the start (2023-11): September and October at risk",
         {"trainee_kw": {"graduation_date": "2023-11-01", "graduation_date_month_only": True}},
         [("U1", 2960.0, ["M2023-09", "M2023-10"])]),
    case("look-alike: recorded to the year of the start (2023届): not after the start, as far as shown",
         {"trainee_kw": {"graduation_date": "2023-01-01", "graduation_date_year_only": True}}, []),
    case("recorded to the year after the start (2024届): the months of 2023 at risk",
         {"trainee_kw": {"graduation_date": "2024-01-01", "graduation_date_year_only": True}},
         [("U1", 4 * 1480.0, ["M2023-09", "M2023-10", "M2023-11", "M2023-12"])]),
    case("look-alike: no graduation date (registered-unemployed youth)",
         {"trainee_kw": {"graduation_date": None, "unemployment_reg_date": "2023-05-01"}}, []),
]


@pytest.mark.parametrize("changes, expected, detection", STILL_STUDENT)
def test_still_student(changes: dict, expected: list, detection: dict) -> None:
    check_cases(g.still_student, changes, expected, detection)


# --------------------------------------------------------------------------------------------
# GHOST_TRAINEE.claims_after_death — claims for months after the month of death
CLAIMS_AFTER_DEATH = [
    case("died 2023-10-05: November to February paid for nobody",
         {"deaths": ["2023-10-05"]}, [("U1", 4 * 1480.0, ["M2023-11", "M2023-12", "M2024-01", "M2024-02"])]),
    case("look-alike: the month of death itself is not questioned", {"deaths": ["2024-02-10"]}, []),
    case("look-alike: died after the internship's last claimed month", {"deaths": ["2024-03-10"]}, []),
    case("look-alike: no death record", {"deaths": []}, []),
]


@pytest.mark.parametrize("changes, expected, detection", CLAIMS_AFTER_DEATH)
def test_claims_after_death(changes: dict, expected: list, detection: dict) -> None:
    check_cases(g.claims_after_death, changes, expected, detection)


@pytest.mark.parametrize("dates, found_claims, skipped_claims", [
    (["2023-10-05", "2023-12-20"], ["M2024-01", "M2024-02"], ["M2023-11", "M2023-12"]),
    (["2023-12-20", "2023-10-05"], ["M2024-01", "M2024-02"], ["M2023-11", "M2023-12"]),  # the row order decides nothing
    (["2023-10-05", "2024-03-01"], [], ["M2023-11", "M2023-12", "M2024-01", "M2024-02"]),
    (["2023-10-05", "2023-10-05"], ["M2023-11", "M2023-12", "M2024-01", "M2024-02"], []),  # look-alike: one date twice
    (["2023-10-05", "2023-10-28"], ["M2023-11", "M2023-12", "M2024-01", "M2024-02"], []),  # look-alike: one month
], ids=["two-dates", "two-dates-reversed", "latest-after-the-claims", "same-date-twice", "same-month"])
def test_claims_after_death_where_the_registry_gives_two_dates(dates: list, found_claims: list,
                                                               skipped_claims: list) -> None:
    """The death registry records one person's death on two dates: which holds is unknown, so only
    the claims after the latest are found, and those after the earliest but not after the latest
    are skipped with the reason. Two records of one month disagree on no claim."""
    found, skipped = run(g.claims_after_death, world(deaths=dates))
    got = sorted(c["claim_id"] for row in found.iter_rows(named=True) for c in row["_claims"]) if found.height else []
    assert got == found_claims
    assert (sorted(skipped["claim_id"]) if skipped.height else []) == skipped_claims
    if skipped.height:
        assert skipped["reason"][0].startswith("死亡登记中该人员有多个死亡日期（最早 2023-10-05，最晚 ")
    if found.height and len(set(dates)) > 1:
        evidence = json.loads(found["evidence"][0])
        assert evidence["death_date"] == max(dates) and len(evidence["other_death_records"]) == 2


@pytest.mark.parametrize("recorded, found_claims, skipped_claims", [
    ({"death_date": "2023-10-01", "death_date_month_only": True}, ["M2023-11", "M2023-12", "M2024-01", "M2024-02"], []),
    ({"death_date": "2023-01-01", "death_date_year_only": True}, ["M2024-01", "M2024-02"],
     ["M2023-09", "M2023-10", "M2023-11", "M2023-12"]),  # any month of 2023 may be after its January death
    ({"death_date": "2024-01-01", "death_date_year_only": True}, [], ["M2024-02"]),  # look-alike: died in 2024: unknown
], ids=["month", "year", "year-of-the-last-claims"])
def test_claims_after_a_death_recorded_to_the_month_or_the_year(recorded: dict, found_claims: list,
                                                                 skipped_claims: list) -> None:
    """死亡年月 2023-10: the months after October are claims after death, as from a full date. A
    death recorded to the year (2023) may be in December: only 2024's claims are found, those after
    January 2023 within the year are skipped, naming the year; the evidence says what the record
    gives."""
    t = world()
    deaths = tables(deaths=[{"person_id": t.trainees.collect()["person_id"][0], **recorded}]).deaths
    found, skipped = run(g.claims_after_death, dataclasses.replace(t, deaths=deaths))
    got = sorted(c["claim_id"] for row in found.iter_rows(named=True) for c in row["_claims"]) if found.height else []
    assert got == found_claims
    assert (sorted(skipped["claim_id"]) if skipped.height else []) == skipped_claims
    if skipped.height:
        assert skipped["reason"][0].startswith(f"死亡登记仅记至年份（{recorded['death_date'][:4]} 年）")
    if found.height:
        record = json.loads(found["evidence"][0])["death_record"]
        assert record["recorded_to"] == ("年" if "death_date_year_only" in recorded else "月")


# --------------------------------------------------------------------------------------------
# GHOST_TRAINEE.allowance_not_paid — a claimed month with no payment to the trainee's own account
def paid(*skip: str, account: str | None = CARD, **override: dict) -> list[dict]:
    """The unit's ledger: 1500 yuan to the trainee's card every internship month, except ``skip``."""
    rows = [{"month": m, "amount": 1500.0, "account": account} for m in MONTHS if m not in skip]
    return [{**r, **override.get(r["month"].replace("-", "_"), {})} for r in rows]


ALLOWANCE_NOT_PAID = [
    case("look-alike: every claimed month paid to the trainee's card", {"allowance": paid()}, []),
    case("October not paid at all", {"allowance": paid("2023-10")}, [("U1", 1480.0, ["M2023-10"])]),
    case("October paid to someone else's account",
         {"allowance": paid(**{"2023_10": {"account": "6222999988887777"}})}, [("U1", 1480.0, ["M2023-10"])]),
    case("October 'paid' 0 yuan", {"allowance": paid(**{"2023_10": {"amount": 0.0}})}, [("U1", 1480.0, ["M2023-10"])]),
    case("look-alike: payment account not recorded", {"allowance": paid(account=None)}, []),
    case("look-alike: the trainee's card is unknown, so any account is accepted",
         {"allowance": paid(account="6222999988887777"), "trainee_kw": {"bank_card": None}}, []),
    case("look-alike: months beyond the ledger's last month are not judged (ledger to January)",
         {"allowance": paid("2024-02")}, []),
    case("December and January unpaid: two claims at risk",
         {"allowance": paid("2023-12", "2024-01")}, [("U1", 2960.0, ["M2023-12", "M2024-01"])]),
    # a card is compared as its digits: how a ledger writes it is not another card (issue #16)
    case("look-alike: the ledger writes the trainee's own card as '6222 0000 1111 2222'",
         {"allowance": paid(account="6222 0000 1111 2222")}, []),
    case("look-alike: the ledger writes the trainee's own card as '6222-0000-1111-2222'",
         {"allowance": paid(account="6222-0000-1111-2222")}, []),
    case("look-alike: the trainee registered the card with spaces, the ledger without",
         {"allowance": paid(), "trainee_kw": {"bank_card": "6222 0000 1111 2222"}}, []),
    case("October to another card, written with spaces: still another card",
         {"allowance": paid(**{"2023_10": {"account": "6222 9999 8888 7777"}})}, [("U1", 1480.0, ["M2023-10"])]),
]


@pytest.mark.parametrize("changes, expected, detection", ALLOWANCE_NOT_PAID)
def test_allowance_not_paid(changes: dict, expected: list, detection: dict) -> None:
    check_cases(g.allowance_not_paid, changes, expected, detection)


def test_a_unit_the_ledger_holds_no_row_of_is_skipped_not_accused() -> None:
    """The ledger extract holds another unit's payments and none of U1's: it may not cover U1 —
    every claim skipped with the reason. Look-alike of "October not paid at all": there the ledger
    holds U1's other months, and the missing one is evidence."""
    t = world(allowance=paid())
    elsewhere = t.allowance_payments.with_columns(pl.lit(uscc("X")).alias("unit_id"))
    found, skipped = run(g.allowance_not_paid, dataclasses.replace(t, allowance_payments=elsewhere))
    assert found.height == 0
    assert sorted(skipped["claim_id"]) == [f"M{m}" for m in MONTHS]
    assert set(skipped["reason"]) == {g.UNIT_NOT_IN_LEDGER}


def _lost_ledger_row(person: str | None, unit_label: str | None, day: str | None) -> dict:
    return {"table": "allowance_payments", "file": "allowance_payments.csv", "line": 9,
            "unit_id": uscc(unit_label) if unit_label else None, "person_id": person,
            "day": dt.date.fromisoformat(day) if day else None, "paid_date": None, "county_code": None,
            "reasons": "amount: 无法识别的金额 / unreadable amount"}


@pytest.mark.parametrize("lost, judged", [
    ((pid("P1"), "U1", "2023-10-01"), False),  # the trainee's October row at the unit
    ((pid("P1"), None, None), False),  # the trainee's row, unit and month unreadable
    ((None, "U1", "2023-10-01"), False),  # the unit's October row of an unreadable person
    ((pid("P1"), "U1", "2023-11-01"), True),  # look-alike: another month's row
    ((pid("P9"), "U1", "2023-10-01"), True),  # look-alike: another person's row
    ((None, None, "2023-10-01"), True),  # look-alike: a row that names neither person nor unit
], ids=["own-month", "own-undated", "unit-month", "other-month", "other-person", "nobody"])
def test_a_ledger_row_that_could_not_be_read_does_not_accuse(lost: tuple, judged: bool) -> None:
    """October unpaid as far as the ledger reads — but a ledger row the loader could not read
    (the quarantine) may be October's payment: the claim is skipped with the reason, unless the
    lost row cannot be the trainee's October (another month, another person, placed nowhere)."""
    t = dataclasses.replace(world(allowance=paid("2023-10")), quarantine=pl.DataFrame(
        [_lost_ledger_row(*lost)], schema=QUARANTINED_ROWS_SCHEMA).lazy())
    found, skipped = run(g.allowance_not_paid, t)
    assert found.height == (1 if judged else 0)
    assert (skipped.filter(pl.col("reason") == g.LEDGER_ROW_LOST).height if skipped.height else 0) == (0 if judged else 1)


def _bimonthly(allowance_monthly: float | None) -> Any:
    """The ledger pays every other month, two months' allowance at a time (Oct, Dec, Feb: 3000);
    the agreement's 月基本生活费 is ``allowance_monthly`` (None: not recorded)."""
    t = world(allowance=[{"month": m, "amount": 3000.0, "account": CARD} for m in ("2023-10", "2023-12", "2024-02")])
    return dataclasses.replace(t, agreements=t.agreements.with_columns(
        pl.lit(allowance_monthly, pl.Float64).alias("allowance_monthly")))


@pytest.mark.parametrize("ledger, found_claims, skipped_claims", [
    # October's allowance paid with November's (3000 in November): arrears, not a withheld month
    (paid("2023-10", **{"2023_11": {"amount": 3000.0}}), [], ["M2023-10"]),
    # October and November paid with December (three months' worth)
    (paid("2023-10", "2023-11", **{"2023_12": {"amount": 4500.0}}), [], ["M2023-10", "M2023-11"]),
    # look-alike: November's row is one month's pay — October was not paid
    (paid("2023-10"), ["M2023-10"], []),
    # look-alike: December's double row is not enough for the two months before it and its own
    (paid("2023-10", "2023-11", **{"2023_12": {"amount": 3000.0}}), ["M2023-10", "M2023-11"], []),
    # look-alike: the larger row is paid to another account
    (paid("2023-10", **{"2023_11": {"amount": 3000.0, "account": "6222999988887777"}}), ["M2023-10", "M2023-11"], []),
    # look-alike: the larger row came before the unpaid month (an advance is not read)
    (paid("2023-11", **{"2023_10": {"amount": 3000.0}}), ["M2023-11"], []),
], ids=["october-with-november", "two-months-with-december", "ordinary-next-month", "not-enough-for-two",
        "larger-row-to-another-account", "larger-row-before"])
def test_a_month_paid_in_arrears_is_skipped(ledger: list, found_claims: list, skipped_claims: list) -> None:
    """A month with no payment, followed at the unit by a payment to the trainee's card worth that
    month's allowance and the unpaid months' before it (补发), may have been paid then: skipped with
    the later month and amount. One month's pay after an unpaid month is still a month unpaid."""
    found, skipped = run(g.allowance_not_paid, world(allowance=ledger))
    assert _claim_ids(found) == found_claims
    arrears = skipped.filter(pl.col("gap") == g.GAP_PAID_IN_ARREARS) if skipped.height else skipped
    assert (sorted(arrears["claim_id"]) if arrears.height else []) == skipped_claims
    for reason in (arrears["reason"].to_list() if arrears.height else []):
        assert ("2023-11 paid 3000.0 yuan" in reason) or ("2023-12 paid 4500.0 yuan" in reason), reason


@pytest.mark.parametrize("allowance_monthly, found_claims", [
    (1500.0, []),  # two months of the agreed 1500 in each row: November and January paid with the next
    (None, ["M2023-11", "M2024-01"]),  # nothing says a row is two months: the months are unpaid
    (3000.0, ["M2023-11", "M2024-01"]),  # the agreed allowance is 3000: each row is one month
])
def test_a_ledger_paying_every_other_month_reads_the_agreed_allowance(allowance_monthly: float | None,
                                                                      found_claims: list) -> None:
    found, skipped = run(g.allowance_not_paid, _bimonthly(allowance_monthly))
    assert _claim_ids(found) == found_claims
    assert (sorted(skipped["claim_id"]) if skipped.height else []) == (["M2023-11", "M2024-01"] if not found_claims else [])


def _claim_ids(found: pl.DataFrame) -> list[str]:
    return sorted(c["claim_id"] for row in found["_claims"].to_list() for c in (row or [])) if found.height else []


def test_allowance_evidence_masks_the_account() -> None:
    found, _ = run(g.allowance_not_paid, world(allowance=paid(**{"2023_10": {"account": "6222999988887777"}})))
    assert "6222999988887777" not in found["evidence"][0]
    assert "****7777" in found["evidence"][0]


# --------------------------------------------------------------------------------------------
def test_every_ghost_rule_declares_its_optional_tables() -> None:
    needs = {c.rule.id: c.rule.needs for c in g.CHECKS}
    assert needs["GHOST_TRAINEE.claims_after_death"] == ("deaths",)
    assert needs["GHOST_TRAINEE.allowance_not_paid"] == ("allowance_payments", "claims.claim_type")


def test_findings_do_not_depend_on_row_order() -> None:
    """Shuffling input rows changes nothing (one world, every rule)."""
    changes = dict(social_insurance=[("X", "2023-10", "养老", "单位"), ("U1", "2023-05", "养老", "单位")],
                   employment=[{"employer_id": "Y", "contract_start": "2023-12-01"}], deaths=["2024-01-03"],
                   allowance=paid("2023-11"), trainee_kw={"graduation_date": "2023-10-15"})
    t = world(**changes)
    shuffled = dataclasses.replace(
        t, **{name: getattr(t, name).collect().sample(fraction=1.0, shuffle=True, seed=7).lazy()
              for name in ("agreements", "claims", "social_insurance", "employment", "allowance_payments")}
    )
    for check in g.CHECKS:
        a, _ = run(check, t)
        b, _ = run(check, shuffled)
        cols = ["person_id", "unit_id", "period_start", "amount_at_risk", "evidence"]
        assert a.select(cols).sort(cols).equals(b.select(cols).sort(cols)), check.rule.id


def test_an_agreement_that_ends_before_it_starts_is_no_internship() -> None:
    """An agreement that ends before it starts (a year keyed wrong) has no span: it is no second
    internship beside the readable one with the same first day at the same unit, and the rules
    judging every internship find each person once, on the readable agreement (found rows are
    widened by a join on the internship's keys)."""
    t = tables(
        units=[unit("U1")],
        trainees=[trainee("P1", graduation_date="2023-10-15"), trainee("P2", graduation_date="2015-06-30")],
        agreements=[agreement("A1", "P1", "U1", "2023-09-01", "2023-05-31"),
                    agreement("A2", "P1", "U1", "2023-09-01", "2024-02-29"),
                    agreement("B1", "P2", "U1", "2023-09-01", "2023-05-31"),
                    agreement("B2", "P2", "U1", "2023-09-01", "2024-02-29")],
        claims=[claim("C1", "U1", "P1", "2023-09", 1480.0, agreement_id="A2"),
                claim("C2", "U1", "P2", "2023-09", 1480.0, agreement_id="B2")],
    )
    assert unit_internships(t, policy()).collect().height == 2
    for check, person in ((g.still_student, "P1"), (g.ineligible_at_start, "P2")):
        found, _ = run(check, t)
        assert found["person_id"].to_list() == [pid(person)], check.rule.id
        assert found["period_end"].to_list() == [dt.date(2024, 2, 29)]
