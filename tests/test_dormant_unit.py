"""DORMANT_UNIT.no_activity: a unit with no position and no internship for more than a year.

Audit month 2024-06; in Jiangxi unit.dormancy_months = 12, so the window is 2023-07-01 …
2024-06-30 and a unit must have been approved before 2023-07-01. Each case is one unit U1 (南昌
东湖区, approved 2021-01-01 unless the case says otherwise) with the activity the case lists; the
expected result is whether the rule fires on it.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

import polars as pl
import pytest

from audit.loader.normalised import QUARANTINED_ROWS_SCHEMA
from checks import dormant_unit as d
from tests.helpers import agreement, claim, run, tables, trainee, unit, uscc


def world(*, approved: str = "2021-01-01", county: str = "360102", exit_date: str | None = None,
          positions: list[tuple[str, str | None]] = (),  # type: ignore[assignment]
          agreements: list[tuple[str, str, str | None]] = (),  # type: ignore[assignment]
          claims: list[tuple[str, str]] = ()) -> Any:  # type: ignore[assignment]
    """positions: (posted, closed); agreements: (start, planned_end, actual_end); claims: (month, submitted)."""
    return tables(
        units=[unit("U1", county=county, approved=approved, exit_date=exit_date, exit_reason=1 if exit_date else None)],
        trainees=[trainee("P1")],
        agreements=[agreement(f"A{i}", "P1", "U1", s, e, actual_end_date=a) for i, (s, e, a) in enumerate(agreements)],
        claims=[claim(f"C{i}", "U1", "P1", m, 1480.0, submitted=sub) for i, (m, sub) in enumerate(claims)],
        positions=[{"position_id": f"X{i}", "unit_id": uscc("U1"), "posted_date": p, "closed_date": c, "slots": 1}
                   for i, (p, c) in enumerate(positions)],
        audit_month="2024-06",
    )


OLD_ACTIVITY = dict(
    positions=[("2022-03-01", "2023-03-01")],
    agreements=[("2022-12-01", "2023-05-31", None)],
    claims=[("2023-05", "2023-06-10")],
)

CASES = [
    # description, the unit's history, fires?
    ("active until May 2023, nothing since: dormant", OLD_ACTIVITY, True),
    ("approved 2022, never any position, agreement or claim: dormant", dict(approved="2022-01-01"), True),
    ("look-alike: approved recently (2023-09-01)", dict(approved="2023-09-01"), False),
    ("look-alike: approved 2023-07-01, exactly inside the window", dict(approved="2023-07-01"), False),
    ("look-alike: an internship that ended 10 months ago (2023-08-31)",
     dict(agreements=[("2023-03-01", "2023-08-31", None)]), False),
    ("an agreement planned to 2023-12 that ended early in May 2023 ended then: dormant",
     dict(agreements=[("2023-01-01", "2023-12-31", "2023-05-15")]), True),
    ("look-alike: a position posted in April 2024", dict(OLD_ACTIVITY, positions=[("2024-04-01", None)]), False),
    ("look-alike: a position posted in 2022 and never closed is still open",
     dict(positions=[("2022-03-01", None)]), False),
    ("look-alike: a claim submitted in August 2023 (for June 2023)",
     dict(OLD_ACTIVITY, claims=[("2023-06", "2023-08-10")]), False),
    ("look-alike: already exited (2023-12-31)", dict(exit_date="2023-12-31"), False),
    ("exit recorded after the audit month: still listed at its end, dormant", dict(exit_date="2024-09-30"), True),
    ("a Hunan unit dormant the same way: found everywhere, as the audit office's judgement", dict(county="430102"), True),
    ("look-alike: a Henan unit with a claim submitted in August 2023", dict(OLD_ACTIVITY, county="410102",
                                                                         claims=[("2023-06", "2023-08-10")]), False),
    ("a Yunnan unit never active since 2022: judgement", dict(approved="2022-01-01", county="530102"), True),
]


@pytest.mark.parametrize("history, fires", [pytest.param(h, f, id=desc) for desc, h, f in CASES])
def test_no_activity(history: dict, fires: bool) -> None:
    found, _ = run(d.no_activity, world(**history))
    assert found.height == (1 if fires else 0)
    if fires:
        row = found.row(0, named=True)
        assert row["unit_id"] == uscc("U1")
        assert row["amount_at_risk"] == 0.0
        assert str(row["period_start"]) == "2023-07-01" and str(row["period_end"]) == "2024-06-30"


BASIS = [
    # county, basis, the citation starts with, the detection parameter named (judgement only)
    ("360102", "法规", "赣人社发〔2023〕9号 二(五)", None),
    ("430102", "审计判断", "审计判断（检测参数 judgement.dormancy_months = 12", "湘人社规〔2023〕9号 二(五)"),
    ("410102", "审计判断", "审计判断（检测参数 judgement.dormancy_months = 12", "豫人社函〔2023〕138号 二(五)"),
    ("530102", "审计判断", "审计判断（检测参数 judgement.dormancy_months = 12", "云人社发〔2023〕18号 三"),
    ("620102", "审计判断", "审计判断（检测参数 judgement.dormancy_months = 12", "人社部发〔2023〕27号 二(五)"),
]


@pytest.mark.parametrize("county, basis, starts, clause", BASIS, ids=[b[0] for b in BASIS])
def test_no_activity_says_law_or_judgement_and_cites_the_units_province(county, basis, starts, clause) -> None:
    """As law where the province's notice sets unit.dormancy_months (Jiangxi), elsewhere as the audit
    office's judgement; the citation is the province's own clause (never Jiangxi's outside it)."""
    found, skipped = run(d.no_activity, world(**OLD_ACTIVITY, county=county))
    assert found.height == 1 and skipped.height == 0
    row = found.row(0, named=True)
    assert f'"basis":"{basis}"' in row["evidence"]
    assert row["citation"].startswith(starts)
    if clause:
        assert clause in row["citation"] and "赣人社发" not in row["citation"]


def test_no_activity_rule_metadata() -> None:
    r = d.no_activity.rule
    assert r.exit_condition == 1  # fails 四(一)2(5)①: at least one trainee a year
    assert r.needs == ("positions",)
    assert r.params == ("unit.dormancy_months",)
    assert r.detection_params == ("judgement.dormancy_months",)


def test_no_activity_evidence_shows_the_last_activity() -> None:
    found, _ = run(d.no_activity, world(**OLD_ACTIVITY))
    evidence = found["evidence"][0]
    for fact in ('"last_agreement_end":"2023-05-31"', '"last_position_closed":"2023-03-01"',
                 '"last_claim_month":"2023-05-01"', '"value":12'):
        assert fact in evidence


def test_without_exit_dates_a_unit_with_an_exit_reason_has_exited() -> None:
    """A units export without 退出日期 but with 退出情形: a dormant unit with a reason has exited
    (when is not said) and is not listed as dormant; one without a reason still is."""
    exited = dataclasses.replace(world(exit_date="2023-12-31"), absent={"units": ("exit_date",)})
    assert run(d.no_activity, exited)[0].height == 0
    listed = dataclasses.replace(world(), absent={"units": ("exit_date",)})
    assert run(d.no_activity, listed)[0].height == 1


def _lost(table: str, day: str | None, unit_label: str = "U1") -> dict:
    return {"table": table, "file": f"{table}.csv", "line": 5, "unit_id": uscc(unit_label), "person_id": None,
            "county_code": None, "day": dt.date.fromisoformat(day) if day else None, "paid_date": None,
            "reasons": "posted_date: 无法识别的日期 / unreadable date"}


@pytest.mark.parametrize("lost, judged", [
    (("positions", None), False),  # a posting whose date could not be read: it may be in the window
    (("agreements", "2024-01-01"), False),  # an agreement row dated in the window, unreadable otherwise
    (("claims", "2023-09-01"), False),
    (("positions", "2022-05-01"), True),  # look-alike: a lost posting dated before the window
    (("positions", None, "X"), True),  # look-alike: another unit's lost row
], ids=["posting-undated", "agreement-in-window", "claim-in-window", "posting-before-window", "other-unit"])
def test_a_row_of_activity_that_could_not_be_read_does_not_accuse(lost: tuple, judged: bool) -> None:
    """A unit dormant as far as the readable rows show, beside a row of its activity the loader
    could not read (the quarantine): skipped with the reason, unless the row cannot fall in the
    window (dated before it, or another unit's)."""
    t = dataclasses.replace(world(**OLD_ACTIVITY), quarantine=pl.DataFrame(
        [_lost(*lost)], schema=QUARANTINED_ROWS_SCHEMA).lazy())
    found, skipped = run(d.no_activity, t)
    assert found.height == (1 if judged else 0)
    assert (skipped.height if skipped is not None else 0) == (0 if judged else 1)
    if not judged:
        assert skipped["reason"].to_list() == [d.ACTIVITY_LOST]


@pytest.mark.parametrize("other, judged", [
    pytest.param(dict(claims=[("2023-09", "2023-10-05")]), False, id="claims exported from 2023-09, after the window began"),
    pytest.param(dict(agreements=[("2023-08-01", "2023-08-31", None)]), False,
                 id="agreements exported from 2023-08: the unit's may be older"),
    pytest.param(dict(positions=[("2023-10-01", None)]), False, id="positions exported from 2023-10"),
    pytest.param({}, True, id="look-alike: every extract begins with the window"),
])
def test_a_window_the_exports_do_not_reach_back_to_is_not_judged(other: dict, judged: bool) -> None:
    """A unit with no activity in the exports, whose window (2023-07 … 2024-06) begins before the
    claims, agreements or positions exported do (an export of the last months): its activity in
    the window's first months is not in the data, so it is skipped saying so — judged where every
    extract reaches back to the window's start. The other rows are another unit's."""
    t = world(approved="2022-01-01")
    extra = tables(
        units=[unit("U9", approved="2023-06-01")], trainees=[trainee("P9")],
        agreements=[agreement(f"B{i}", "P9", "U9", s, e, actual_end_date=a) for i, (s, e, a) in
                    enumerate(other.get("agreements", [("2023-07-01", "2023-07-31", None)]))],
        claims=[claim(f"D{i}", "U9", "P9", m, 1480.0, submitted=sub) for i, (m, sub) in
                enumerate(other.get("claims", [("2023-07", "2023-08-05")]))],
        positions=[{"position_id": f"Y{i}", "unit_id": uscc("U9"), "posted_date": p, "closed_date": c, "slots": 1}
                   for i, (p, c) in enumerate(other.get("positions", [("2023-07-01", None)]))],
        audit_month="2024-06")
    both = dataclasses.replace(t, **{name: pl.concat([getattr(t, name), getattr(extra, name)], how="diagonal_relaxed")
                                     for name in ("units", "trainees", "agreements", "claims", "positions")})
    found, skipped = run(d.no_activity, both)
    assert found.filter(pl.col("unit_id") == uscc("U1")).height == (1 if judged else 0)
    if not judged:
        assert skipped.filter(pl.col("unit_id") == uscc("U1"))["reason"].str.starts_with("期间自 2023-07 起").all()
        assert skipped.filter(pl.col("unit_id") == uscc("U1")).height == 1
