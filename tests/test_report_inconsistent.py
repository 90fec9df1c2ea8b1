"""REPORT_INCONSISTENT: a county's monthly 汇总表 against the form's logical relations and against
the 14 indicators recomputed from the micro data (checks/_summary_table.py).

Each case: a description, the reported indicators of one county-month (on top of a consistent
report), and the rules expected to fire. The micro-data world below gives, for county 360102 in
2024-06: i1=2, i2=1, i3=3, i4=3, i6=1, i7=1, i8=1, i9=1, i10=0, i12=1, i13=1, i14=0.148 (万元).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json

import polars as pl
import pytest

import checks.report_inconsistent as ri
from checks._summary_table import indicators
from tests.helpers import agreement, claim, pid, policy, run, tables, trainee, unit, uscc

ALL_RULES = ri.CHECKS
RELATIONS = [c for c in ri.CHECKS if c is not ri.differs_from_micro_data]

# A report that matches the micro data and keeps every relation (5 and 11 are free: no source).
CONSISTENT = dict(i1=2, i2=1, i3=3, i4=3, i5=2, i6=1, i7=1, i8=1, i9=1, i10=0, i11=0, i12=1, i13=1, i14=0.15)


def world(*more: tuple[str, dict], **reported: float | None) -> object:
    """The micro-data world and its county's report; ``more``: (code, values) rows of 2024-06 besides."""
    row = {"county_code": "360102", "month": "2024-06", **CONSISTENT, **reported}
    rows = [row, *({"county_code": code, "month": "2024-06", **CONSISTENT, **values} for code, values in more)]
    return tables(
        units=[unit("U1", approved="2024-06-03"), unit("U2", approved="2023-01-01"),
               unit("U3", county="360121", approved="2023-01-01", exit_date="2024-05-31")],
        trainees=[trainee("P1"), trainee("P2", graduation_date="2020-06-30"), trainee("P3")],
        agreements=[
            agreement("A1", "P1", "U1", "2024-06-05", "2024-12-04"),
            agreement("A2", "P2", "U2", "2024-01-01", "2024-06-30", end_reason="期满", retained=True),
            agreement("A3", "P3", "U2", "2024-01-01", "2024-12-31", actual_end_date="2024-06-10",
                      end_reason="提前离岗"),
        ],
        claims=[claim("C1", "U2", "P2", "2024-05", 1480.0, paid_date="2024-06-05"),
                claim("C2", "U2", "P2", "2023-12", 1480.0, paid_date="2023-12-20")],
        positions=[{"position_id": "X1", "unit_id": uscc("U1"), "posted_date": "2024-06-01", "slots": 3}],
        county_reports=rows,
        audit_month="2024-06",
    )


def fired(t: object) -> dict[str, list]:
    out = {}
    for check in ALL_RULES:
        found, _ = run(check, t)
        if found.height:
            out[check.rule.id] = found
    return out


CASES = [
    # description, reported values overriding CONSISTENT, rules expected to fire
    ("consistent report: nothing fires", {}, []),
    ("1≥2 broken: more new units than units", {"i1": 0, "i2": 1},
     ["REPORT_INCONSISTENT.new_units_exceed_units", "REPORT_INCONSISTENT.differs_from_micro_data"]),
    ("3≥4 broken: more new positions than positions", {"i3": 2},
     ["REPORT_INCONSISTENT.new_positions_exceed_positions", "REPORT_INCONSISTENT.differs_from_micro_data"]),
    ("5≥6 broken: arrivals above plan (5 has no micro source: the relation alone fires)", {"i5": 0},
     ["REPORT_INCONSISTENT.arrived_exceed_planned"]),
    ("6≥7 broken: more graduates than arrivals", {"i7": 2},
     ["REPORT_INCONSISTENT.graduates_exceed_arrived", "REPORT_INCONSISTENT.differs_from_micro_data"]),
    ("8≥9+11 broken through 11 alone (no micro source for 11)", {"i11": 1},
     ["REPORT_INCONSISTENT.retained_plus_other_exceed_completed"]),
    ("9≥10 broken: more retained graduates than retained", {"i10": 2},
     ["REPORT_INCONSISTENT.retained_graduates_exceed_retained", "REPORT_INCONSISTENT.differs_from_micro_data"]),
    ("relations hold but arrivals over-reported", {"i5": 5, "i6": 3},
     ["REPORT_INCONSISTENT.differs_from_micro_data"]),
    ("equality is allowed: 8 = 9 + 11 exactly", {"i8": 1, "i9": 1, "i11": 0}, []),
    ("万元 rounded to two decimals agrees (0.148 reported as 0.15)", {"i14": 0.15}, []),
    ("万元 differing at two decimals is a difference", {"i14": 0.30},
     ["REPORT_INCONSISTENT.differs_from_micro_data"]),
    ("a blank indicator is not judged (relation skipped, not fired)", {"i5": None, "i11": None}, []),
]


@pytest.mark.parametrize("description, reported, expected", CASES, ids=[c[0] for c in CASES])
def test_report_inconsistent_cases(description: str, reported: dict, expected: list[str]) -> None:
    assert sorted(fired(world(**reported))) == sorted(expected), description


def test_a_citys_subtotal_row_is_no_county_report() -> None:
    """The 汇总表's 小计 under a city's code (南昌市 360100) and its 合计 under the province's (360000),
    equal to the sum of the counties' rows: no county of their own — not compared with micro data
    nor held to the relations (a county's broken relation is not found again in its sums), and
    listed as skipped saying so. A city row that is not such a sum (a 市本级 of its own units) is
    judged like a county's."""
    t = world(("360100", {"i5": 0}), ("360000", {"i5": 0}), i5=0)
    assert sorted(fired(t)) == ["REPORT_INCONSISTENT.arrived_exceed_planned"]
    assert fired(t)["REPORT_INCONSISTENT.arrived_exceed_planned"]["county_code"].to_list() == ["360102"]
    _, skipped = run(ri.differs_from_micro_data, t)
    assert sorted(skipped.filter(pl.col("reason").str.contains("汇总行"))["county_code"].to_list()) == ["360000", "360100"]
    own = world(("360100", {"i1": 0, "i2": 1}))
    assert fired(own)["REPORT_INCONSISTENT.new_units_exceed_units"]["county_code"].to_list() == ["360100"]


def test_relation_evidence_names_the_values_and_period() -> None:
    found, _ = run(ri.new_units_exceed_units, world(i1=0, i2=1))
    row = found.row(0, named=True)
    assert row["county_code"] == "360102"
    assert str(row["period_start"]) == "2024-06-01" and str(row["period_end"]) == "2024-06-30"
    assert '"指标1":0.0' in row["evidence"] and '"指标2":1.0' in row["evidence"]
    # a Jiangxi county is sent Jiangxi's own form (附件3), the one in force in the report's month
    assert row["amount_at_risk"] == 0.0 and row["citation"].startswith("赣人社发〔2023〕9号 附件3")


def test_difference_evidence_lists_reported_beside_recomputed() -> None:
    found, _ = run(ri.differs_from_micro_data, world(i6=3, i13=4))
    evidence = found["evidence"][0]
    assert '"indicator":"指标6"' in evidence and '"reported":3.0' in evidence and '"recomputed":1.0' in evidence
    assert '"indicator":"指标13"' in evidence and '"differing":2' in evidence


@pytest.mark.parametrize("revision, found_indicators, skipped", [
    pytest.param(dict(i6=3), [], True, id="one version agrees with the micro data: not judged, the reason says why"),
    pytest.param(dict(i6=3, i13=4), [], True, id="two indicators, each agreeing in one version: not judged"),
    pytest.param(dict(i2=1), [], False, id="look-alike: an exact second row: nothing, nothing skipped"),
])
def test_a_county_month_reported_twice_differs_only_where_every_version_differs(revision, found_indicators, skipped):
    """The 汇总表 gives one county-month on two rows with different figures (a revision beside the
    first): which holds is unknown, so an indicator differs from the micro data only where every
    version differs; where one version agrees the county-month is skipped with the reason."""
    found, skips = run(ri.differs_from_micro_data, world(("360102", revision)))
    assert found.height == (1 if found_indicators else 0)
    assert (skips.height > 0) == skipped
    if skipped:
        assert skips["reason"][0].startswith("该县区当月的汇总表有 2 行且数字不一致")


def test_a_county_month_whose_every_version_differs_is_found_with_the_versions() -> None:
    found, _ = run(ri.differs_from_micro_data, world(("360102", dict(i6=4)), i6=3))
    evidence = json.loads(found["evidence"][0])
    assert evidence["report_versions"] == 2 and evidence["differing"] == 1
    assert evidence["differences"][0]["reported_versions"] == [3.0, 4.0]
    assert evidence["differences"][0]["recomputed"] == 1.0


def test_blank_indicator_is_reported_as_skipped() -> None:
    found, skipped = run(ri.arrived_exceed_planned, world(i5=None))
    assert found.height == 0
    assert skipped.height == 1 and "360102" in skipped["reason"][0]


def test_reports_after_the_audit_month_are_not_judged() -> None:
    t = world(i1=0, i2=1)
    t.audit_month = __import__("datetime").date(2024, 5, 1)
    found, _ = run(ri.new_units_exceed_units, t)
    assert found.height == 0


def test_without_positions_indicators_3_and_4_are_not_compared() -> None:
    t = world(i3=99, i4=1)
    t.positions = None
    found, _ = run(ri.differs_from_micro_data, t)
    assert found.height == 0


@pytest.mark.parametrize("absent, reported", [
    ({"claims": ("paid_date",)}, {"i14": 9.0}),
    ({"claims": ("insurance_amount",)}, {"i14": 9.0}),
    ({"agreements": ("end_reason",)}, {"i8": 5, "i9": 5, "i10": 5, "i12": 5}),
    ({"agreements": ("retained",)}, {"i9": 5, "i10": 5, "i12": 5}),
    ({"agreements": ("actual_end_date",)}, {"i8": 5, "i9": 5, "i10": 5, "i12": 5, "i13": 5}),
    ({"trainees": ("graduation_date",)}, {"i7": 5, "i10": 5}),
    ({"units": ("exit_date",)}, {"i1": 9}),
])
def test_an_indicator_whose_source_column_was_not_exported_is_not_compared(absent: dict, reported: dict) -> None:
    """A column the input lacks is blank everywhere (the loader fills it), which says nothing:
    the indicators it feeds are not recomputed, so not compared; with it, they are."""
    t = world(**reported)
    found, _ = run(ri.differs_from_micro_data, t)
    assert found.height == 1  # exported: the reported values differ
    t = world(**reported)  # a new one: the first kept its recomputed indicators
    t.absent = absent
    found, _ = run(ri.differs_from_micro_data, t)
    assert found.height == 0


# The recomputation itself, indicator by indicator, for the world above.
EXPECTED_360102 = dict(i1=2, i2=1, i3=3, i4=3, i5=None, i6=1, i7=1, i8=1, i9=1, i10=0, i11=None, i12=1, i13=1)


def test_recomputed_indicators() -> None:
    table = indicators(world(), policy()).collect()
    row = table.filter(table["county_code"] == "360102").row(0, named=True)
    for key, value in EXPECTED_360102.items():
        assert row[key] == value, key
    assert row["i14"] == pytest.approx(0.148)
    other = table.filter(table["county_code"] == "360121").row(0, named=True)
    assert other["i1"] == 0  # U3 exited on 2024-05-31


@pytest.mark.parametrize("graduation, i7", [
    ("2023-01-01", 1),  # 2023届: any day of 2023 is before the start and within two years of it
    ("2024-01-01", None),  # 2024届: before the start (2024-06-05) or after it: the count is unknown
    ("2022-01-01", None),  # 2022届: more than two years before the start, or less
    ("2021-01-01", 0),  # 2021届: more than two years before, whatever the day
])
def test_a_graduation_recorded_to_the_year_counts_where_every_day_of_it_agrees(graduation: str, i7: int | None) -> None:
    """P1 (arrived 2024-06-05) with 毕业时间 recorded to the year: indicator 7 counts the person only
    where the year's first and last day agree; otherwise the county-month's indicator 7 is unknown
    (not compared), never a guess."""
    t = world()
    year_only = t.trainees.with_columns(
        pl.when(pl.col("person_id") == pid("P1")).then(pl.lit(graduation).str.to_date()).otherwise(pl.col("graduation_date"))
        .alias("graduation_date"),
        (pl.col("person_id") == pid("P1")).alias("graduation_date_year_only"))
    table = indicators(dataclasses.replace(t, trainees=year_only), policy()).collect()
    row = table.filter((table["county_code"] == "360102") & (table["month"] == dt.date(2024, 6, 1))).row(0, named=True)
    assert row["i7"] == i7


def test_a_unit_listed_twice_is_one_unit_from_its_first_admission() -> None:
    """The register lists U2 again, re-admitted in 2024-06, above its 2023 row: indicator 1 still
    counts one unit, indicator 2 counts no new unit in 2024-06 for it (only U1's own admission),
    whatever the row order."""
    t = world()
    twice = tables(units=[unit("U2", approved="2024-06-20")]).units
    for units in (pl.concat([twice, t.units], how="diagonal_relaxed"), pl.concat([t.units, twice], how="diagonal_relaxed")):
        table = indicators(dataclasses.replace(t, units=units), policy()).collect()
        row = table.filter(table["county_code"] == "360102").row(0, named=True)
        assert (row["i1"], row["i2"]) == (EXPECTED_360102["i1"], EXPECTED_360102["i2"])


def test_planted_report_violations_of_a_generated_world_are_all_found(tmp_path) -> None:
    """The fixtures generator plants REPORT_INCONSISTENT cases (relations broken, values overstated)
    and look-alikes (relations holding with equality); every other county-month it reports equals
    its own, independent recomputation (fixtures/indicators.py). All planted cases must be found,
    and nothing else: consistent county reports produce no finding."""
    import datetime as dt

    import polars as pl
    from click.testing import CliRunner

    from audit.app.cli import main
    from audit.loader import load_inputs
    from audit.reference import load_reference
    from audit.rundir import REFERENCE_TABLES, scan_tables, write_reference

    world = tmp_path / "world"
    result = CliRunner().invoke(main, ["fixtures", "generate", str(world), "--trainees", "400", "--seed", "5"])
    assert result.exit_code == 0, result.output
    loaded = load_inputs(world)
    loaded.write(tmp_path / "run")
    month = dt.date(2024, 6, 1)
    reference = load_reference(world, loaded)
    write_reference(tmp_path / "run", {name: getattr(reference, name) for name in REFERENCE_TABLES})
    t = scan_tables(tmp_path / "run", month, month, present=loaded.tables)
    found, skipped = set(), set()
    for check in ALL_RULES:
        rows, skips = run(check, t)
        found |= {(c, m.strftime("%Y-%m")) for c, m in zip(rows["county_code"], rows["period_start"])}
        if check is ri.differs_from_micro_data and skips.height:
            skipped |= {(c, m.strftime("%Y-%m")) for c, m in zip(skips["county_code"], skips["period_start"])}
    truth = pl.read_csv(world / "truth" / "planted.csv", infer_schema=False).filter(
        pl.col("family") == "REPORT_INCONSISTENT")
    real = truth.filter((pl.col("lookalike") == "false") & (pl.col("expect_skip") == "false"))
    planted = {(r["county_code"], r["month"]) for r in real.to_dicts()}
    lookalikes = {(r["county_code"], r["month"]) for r in truth.filter(pl.col("lookalike") == "true").to_dicts()}
    # county-months whose claim rows the export spoiled: reconciliation skipped, never a finding
    lost = {(r["county_code"], r["month"]) for r in truth.filter(pl.col("expect_skip") == "true").to_dicts()}
    assert planted and planted <= found
    assert not (found & lookalikes)
    assert lost and lost <= skipped and not (found & lost)
    assert found == planted, f"findings on consistent reports: {sorted(found - planted)}"


def test_a_person_with_two_agreements_is_counted_once() -> None:
    """People are counted once per county and month (distinct person_id), whether they hold one
    agreement or two at once: P1's two internships started in June count one arrival and one
    trainee on post, P2's one agreement another."""
    t = tables(
        units=[unit("U1"), unit("U2")],
        trainees=[trainee("P1"), trainee("P2")],
        agreements=[
            agreement("A1", "P1", "U1", "2024-06-03", "2024-12-02"),
            agreement("A2", "P1", "U2", "2024-06-10", "2024-12-09"),
            agreement("A3", "P2", "U1", "2024-05-01", "2024-10-31"),
        ],
        claims=[claim("C1", "U1", "P1", "2024-06", 1480.0)],
        audit_month="2024-06",
    )
    table = indicators(t, policy()).collect()
    june = table.filter(table["month"].dt.month() == 6).row(0, named=True)
    assert (june["i6"], june["i7"], june["i13"]) == (1, 1, 2)


# ------------------------------------------------------------------ unreadable rows do not accuse
def lost_claim(unit_label: str | None = "U2", month: str | None = "2024-05", paid: str | None = None,
               office: str | None = None) -> dict:
    """A claim row the loader quarantined, placed by the cells it could read."""
    return {"table": "claims", "file": "claims.csv", "line": 9, "unit_id": uscc(unit_label) if unit_label else None,
            "county_code": office, "day": month, "paid_date": paid, "reasons": "amount: 金额无法解析"}


def skipped_of(t: object) -> tuple[int, list[str]]:
    found, skipped = run(ri.differs_from_micro_data, t)
    return found.height, (skipped["reason"].to_list() if skipped.height else [])


QUARANTINE = [
    # description, reported overrides, the quarantined rows, findings, the skip reason (or None)
    ("funds reported above the micro data, a claim row of the county unreadable: skipped, not flagged",
     {"i14": 0.30}, [lost_claim()], 0, "该县区当月有申领记录未能读取（隔离1行），无法精确核对"),
    ("the fraud beside it: the same difference with nothing quarantined is a finding",
     {"i14": 0.30}, [], 1, None),
    ("a lost claim of another county does not excuse this one",
     {"i14": 0.30}, [lost_claim("U3")], 1, None),
    ("a lost claim paid last year does not touch this year's funds",
     {"i14": 0.30}, [lost_claim(month="2023-11", paid="2023-12-20")], 1, None),
    ("a lost claim row with no readable unit or county: every county-month it may touch is skipped",
     {"i14": 0.30}, [lost_claim(None, None)], 0, "该县区当月有申领记录未能读取（隔离1行），无法精确核对"),
    ("a lost claim row placed by its paying office when its unit is unreadable",
     {"i14": 0.30}, [lost_claim(None, office="360102")], 0, "该县区当月有申领记录未能读取（隔离1行），无法精确核对"),
    ("a lost claim excuses only indicator 14: arrivals over-reported are still a finding",
     {"i14": 0.30, "i6": 3, "i5": 5}, [lost_claim()], 1, None),
]


@pytest.mark.parametrize("description, reported, lost, findings, reason", QUARANTINE, ids=[c[0] for c in QUARANTINE])
def test_unreadable_rows_do_not_accuse(description, reported, lost, findings, reason) -> None:
    t = world(**reported)
    t.quarantine = tables(quarantine=lost).quarantine
    found, reasons = skipped_of(t)
    assert found == findings
    assert reasons == ([reason] if reason else [])


def test_the_skipped_county_month_is_keyed() -> None:
    t = world(i14=0.30)
    t.quarantine = tables(quarantine=[lost_claim()]).quarantine
    _, skipped = run(ri.differs_from_micro_data, t)
    row = skipped.row(0, named=True)
    assert row["county_code"] == "360102" and str(row["period_start"]) == "2024-06-01"


def test_a_finding_beside_a_lost_row_says_what_it_could_not_verify() -> None:
    t = world(i14=0.30, i6=3, i5=5)
    t.quarantine = tables(quarantine=[lost_claim()]).quarantine
    found, _ = run(ri.differs_from_micro_data, t)
    evidence = found["evidence"][0]
    assert '"indicator":"指标6"' in evidence
    assert '"not_verifiable_rows_quarantined":[{"indicator":"指标14"' in evidence
