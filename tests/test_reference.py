"""Reference data: minimum wage by county and month, the working-day calendar, region names.

Cases read as: for this county (or date range), in this month, the audit finds this minimum
wage (or working-day count) — or none, and the rate rules skip the month.
"""

from __future__ import annotations

import datetime as dt
import fnmatch
import json
import tomllib
from importlib import resources
from pathlib import Path
from types import SimpleNamespace

import chinese_calendar
import polars as pl
import pytest

from audit.reference import (
    OPERATOR,
    REFERENCE_DIR,
    ReferenceDataError,
    attach_min_wage,
    attach_workdays,
    load_reference,
    shipped_calendar,
)

D = dt.date


@pytest.fixture(scope="module")
def shipped():
    return load_reference(Path("/nonexistent"), None)


def _loaded(**tables: list[dict]) -> SimpleNamespace:
    """A stand-in for the loader's result: normalised tables as DataFrames."""
    frames = {}
    for name, rows in tables.items():
        frame = pl.DataFrame(rows)
        for col in ("effective_from", "effective_to", "claim_month", "date"):
            if col in frame.columns and frame[col].dtype == pl.String:
                frame = frame.with_columns(pl.col(col).str.to_date())
        frames[name] = frame
    return SimpleNamespace(tables=frames)


def _wage(ref, county: str, month: dt.date) -> tuple[int | None, float | None, str | None]:
    out = attach_min_wage(
        pl.LazyFrame({"county_code": [county], "claim_month": [month]}),
        ref.frames()["county_tiers"], ref.frames()["min_wage"],
    ).collect()
    return out["mw_tier"][0], out["mw_yuan"][0], out["mw_status"][0]


# ------------------------------------------------------------------ minimum wage by county ------

MIN_WAGE_CASES = [
    # (what, county, month, tier, yuan)
    ("Jiangxi tier 1: 南昌 东湖区 under the 2021 standard", "360102", D(2023, 6, 1), 1, 1850.0),
    ("Jiangxi tier 2: 南昌县", "360121", D(2023, 6, 1), 2, 1730.0),
    ("Jiangxi tier 3 by 'all other' expansion: 赣州 信丰县", "360722", D(2023, 6, 1), 3, 1610.0),
    ("Jiangxi: the tier map's effective_to ends it (the 2024 list was not seen)", "360102", D(2024, 4, 1), None, None),
    ("Jiangxi: last month of the 2021 map", "360102", D(2024, 3, 1), 1, 1850.0),
    ("Gansu: first month of the 2023 standard and map, 兰州 城关区", "620102", D(2023, 11, 1), 1, 2020.0),
    ("Gansu: the month before, no verified map", "620102", D(2023, 10, 1), None, None),
    ("Gansu tier 4: an inferred 临夏州 county (PARTIAL) is used", "622927", D(2024, 6, 1), 4, 1850.0),
    ("Gansu 嘉峪关市, a city without counties", "620200", D(2024, 6, 1), 1, 2020.0),
    ("Gansu: the 4-tier map ends on 2025-12-01 (3-tier list unverified)", "620102", D(2025, 12, 1), None, None),
    ("Gansu: last month of the 4-tier map", "620102", D(2025, 11, 1), 1, 2020.0),
    ("Hunan: 长沙 芙蓉区 tier 1, 2022 standard", "430102", D(2023, 8, 1), 1, 1930.0),
    ("Hunan: first month of the 2024-09 standard (PARTIAL)", "430102", D(2024, 9, 1), 1, 2100.0),
    ("Hunan: 浏阳市 tier 2", "430181", D(2024, 8, 1), 2, 1740.0),
    ("Hunan: a county with no known tier (株洲 荷塘区)", "430202", D(2023, 8, 1), None, None),
    ("Henan: no shipped map at all", "410102", D(2023, 8, 1), None, None),
    ("Yunnan: 永仁县 tier 3 (PARTIAL), 2022 standard", "532327", D(2023, 8, 1), 3, 1690.0),
    ("Yunnan: 永仁县, first month of the 2024-10 standard", "532327", D(2024, 10, 1), 3, 1770.0),
    ("a county code outside the five provinces", "110101", D(2023, 8, 1), None, None),
]


@pytest.mark.parametrize("what,county,month,tier,yuan", MIN_WAGE_CASES, ids=[c[0] for c in MIN_WAGE_CASES])
def test_min_wage_for_county_and_month(shipped, what, county, month, tier, yuan):
    got_tier, got_yuan, _ = _wage(shipped, county, month)
    assert (got_tier, got_yuan) == (tier, yuan)


def test_an_unverified_standard_ends_the_one_before_it():
    """A later UNVERIFIED standard must not let an older one run on: the months get no amount."""
    tiers = pl.LazyFrame({"county_code": ["990101"], "tier": [1], "effective_from": [D(2018, 1, 1)],
                          "effective_to": [None], "status": ["VERIFIED"], "source": ["t"]},
                         schema_overrides={"effective_to": pl.Date})
    wages = pl.LazyFrame({
        "province_code": ["990000"] * 3, "tier": [1] * 3,
        "effective_from": [D(2018, 1, 1), D(2021, 9, 1), D(2023, 11, 1)],
        "monthly_yuan": [1620.0, None, 2020.0], "status": ["VERIFIED", "UNVERIFIED", "VERIFIED"],
        "source": ["a", "not used (UNVERIFIED)", "b"],
    })
    rows = pl.LazyFrame({"county_code": ["990101"] * 3, "claim_month": [D(2021, 8, 1), D(2022, 6, 1), D(2023, 11, 1)]})
    out = attach_min_wage(rows, tiers, wages).collect().sort("claim_month")
    assert out["mw_yuan"].to_list() == [1620.0, None, 2020.0]
    assert out["mw_status"].to_list() == ["VERIFIED", "UNVERIFIED", "VERIFIED"]


def test_rows_keep_their_own_columns_and_null_months(shipped):
    rows = pl.LazyFrame({"claim_id": ["a", "b"], "county_code": ["360102", "360102"],
                         "claim_month": [D(2023, 6, 1), None]})
    out = attach_min_wage(rows, shipped.frames()["county_tiers"], shipped.frames()["min_wage"]).collect().sort("claim_id")
    assert out["claim_id"].to_list() == ["a", "b"]
    assert out["mw_yuan"].to_list() == [1850.0, None]
    assert {"mw_tier", "mw_effective_from", "mw_status", "mw_source"} <= set(out.columns)


# ------------------------------------------------------------------ what is used and why --------

def test_unverified_and_undated_rows_are_not_used(shipped):
    mw = shipped.min_wage
    gansu_2021 = mw.filter((pl.col("province_code") == "620000") & (pl.col("effective_from") == D(2021, 9, 1)))
    assert gansu_2021.height == 4 and gansu_2021["monthly_yuan"].null_count() == 4
    assert set(gansu_2021["status"]) == {"UNVERIFIED"}
    assert mw.filter(pl.col("effective_from").is_null()).height == 0  # Yunnan 2025: undated
    usable = mw.filter(pl.col("monthly_yuan").is_not_null())
    assert set(usable["status"]) <= {"VERIFIED", "VERIFIED_SECONDARY", "PARTIAL"}
    assert set(shipped.county_tiers["status"]) <= {"VERIFIED", "VERIFIED_SECONDARY", "PARTIAL"}

    status = shipped.status()
    excluded = status["min_wage"]["excluded"]
    assert sum(r["province_code"] == "620000" and r["effective_from"] == "2021-09-01" for r in excluded) == 4
    assert any(r["province_code"] == "530000" and r["effective_from"] is None for r in excluded)
    assert any(m["province_code"] == "360000" and m["effective_from"] == "2024-04-01"
               for m in status["county_tiers"]["excluded_maps"])
    assert any("no effective date" in w for w in status["warnings"])
    json.dumps(status, ensure_ascii=False)  # the report writes it as JSON


def test_all_other_counties_of_jiangxi_are_tier_3(shipped):
    jx = shipped.county_tiers.filter(pl.col("county_code").str.starts_with("36") & (pl.col("effective_from") == D(2021, 4, 1)))
    assert jx.height == 100
    assert jx.group_by("tier").len().sort("tier")["len"].to_list() == [5, 16, 79]


def test_operator_tables_replace_the_shipped_ones_for_their_provinces():
    loaded = _loaded(
        min_wage=[
            {"province_code": "410000", "tier": 1, "effective_from": "2024-01-01", "monthly_yuan": 2100.0,
             "_file": "min_wage.csv", "_line": 2},
        ],
        county_tiers=[
            {"county_code": "410102", "tier": 1, "effective_from": "2020-01-01", "_file": "county_tiers.csv", "_line": 2},
            # confirming Jiangxi's 2021 map for the 2024 standard, for one county
            {"county_code": "360102", "tier": 1, "effective_from": "2021-04-01", "_file": "county_tiers.csv", "_line": 3},
        ],
    )
    ref = load_reference(Path("/nonexistent"), loaded)
    assert _wage(ref, "410102", D(2024, 3, 1)) == (1, 2100.0, OPERATOR)
    assert _wage(ref, "410102", D(2023, 12, 1))[1] is None  # the operator's table starts in 2024
    assert ref.min_wage.filter(pl.col("province_code") == "410000")["status"].unique().to_list() == [OPERATOR]
    assert _wage(ref, "360102", D(2024, 4, 1)) == (1, 2000.0, "PARTIAL")  # shipped 2024 standard, operator's tier
    assert _wage(ref, "360121", D(2023, 6, 1))[1] is None  # Jiangxi's shipped map is replaced as a whole
    assert _wage(ref, "620102", D(2024, 6, 1))[1] == 2020.0  # other provinces keep the shipped rows
    source = ref.county_tiers.filter(pl.col("county_code") == "410102")["source"][0]
    assert source == "county_tiers.csv:2"
    status = ref.status()
    assert status["min_wage"]["operator_provinces"] == ["410000"]
    assert status["county_tiers"]["operator_provinces"] == ["360000", "410000"]


def test_without_loaded_nothing_is_read_from_the_input(tmp_path):
    (tmp_path / "calendar.csv").write_text("date,is_workday\n2023-10-01,1\n", encoding="utf-8")
    ref = load_reference(tmp_path, None)
    day = ref.calendar.filter(pl.col("date") == D(2023, 10, 1))
    assert day["is_workday"].to_list() == [False]
    assert ref.status()["calendar"]["operator_file"] is False


def test_priceable_counties(shipped):
    table = shipped.priceable(D(2023, 6, 1), D(2023, 6, 1))
    got = {r["province_code"]: r["priceable"] for r in table.to_dicts()}
    assert got == {"360000": 100, "410000": 0, "430000": 9, "530000": 1, "620000": 0}


# ------------------------------------------------------------------ the working-day calendar ----

def test_calendar_is_the_package_calendar(shipped):
    cal = shipped.calendar.filter(pl.col("date").dt.year().is_in([2023, 2024]))
    expected = [chinese_calendar.is_workday(d) for d in cal["date"].to_list()]
    assert cal["is_workday"].to_list() == expected
    assert cal.height == 366 + 365


def test_workday_seq_is_the_running_count(shipped):
    cal = shipped.calendar
    assert cal["date"].is_sorted() and cal["date"].diff().drop_nulls().dt.total_days().max() == 1
    assert cal["workday_seq"].to_list() == cal["is_workday"].cast(pl.Int64).cum_sum().to_list()


WORKDAY_CASES = [
    # (what, start, end, working days)
    ("national-day week: 10-01..10-06 off, make-up Saturday 10-07 and Sunday 10-08 on", D(2023, 10, 1), D(2023, 10, 8), 2),
    ("make-up Saturday alone", D(2023, 10, 7), D(2023, 10, 7), 1),
    ("a holiday alone", D(2023, 10, 2), D(2023, 10, 2), 0),
    ("leaving on 10-25: exactly 15 working days — paid as a whole month", D(2023, 10, 1), D(2023, 10, 25), 15),
    ("leaving on 10-24: 14 working days — not paid", D(2023, 10, 1), D(2023, 10, 24), 14),
    ("a whole ordinary month (November 2023)", D(2023, 11, 1), D(2023, 11, 30), 22),
    ("Spring Festival 2024 with make-up Sundays 02-04 and 02-18", D(2024, 2, 1), D(2024, 2, 29), 18),
    ("end before start", D(2023, 11, 30), D(2023, 11, 1), 0),
]


@pytest.mark.parametrize("what,start,end,days", WORKDAY_CASES, ids=[c[0] for c in WORKDAY_CASES])
def test_attach_workdays(shipped, what, start, end, days):
    rows = pl.LazyFrame({"start": [start], "end": [end]})
    out = attach_workdays(rows, shipped.frames()["calendar"], start="start", end="end").collect()
    assert out["workdays"].to_list() == [days]


def test_a_year_the_calendar_does_not_cover_is_an_error_naming_it():
    loaded = _loaded(claims=[{"claim_month": "2026-12-01"}, {"claim_month": "2027-01-01"}])
    with pytest.raises(ReferenceDataError, match=r"2027.*calendar\.csv"):
        load_reference(Path("/nonexistent"), loaded)


def _year_rows(year: int) -> str:
    days = pl.date_range(D(year, 1, 1), D(year, 12, 31), "1d", eager=True).to_list()
    return "".join(f"{d.isoformat()},{0 if d.weekday() >= 5 else 1}\n" for d in days)


def test_operator_calendar_covers_a_missing_year(tmp_path):
    (tmp_path / "calendar.csv").write_text("date,is_workday\n" + _year_rows(2027), encoding="utf-8")
    loaded = _loaded(claims=[{"claim_month": "2026-12-01"}, {"claim_month": "2027-01-01"}])
    ref = load_reference(tmp_path, loaded)
    assert 2027 in ref.status()["calendar"]["years_covered"]
    rows = pl.LazyFrame({"start": [D(2026, 12, 28)], "end": [D(2027, 1, 8)]})
    out = attach_workdays(rows, ref.frames()["calendar"], start="start", end="end").collect()
    # 2026-12-28..31 are four workdays (per the package), 2027-01-01..08 six weekdays (per the file)
    assert out["workdays"].to_list() == [4 + 6]


def test_operator_calendar_that_leaves_days_out_is_refused(tmp_path):
    rows = _year_rows(2027).splitlines(keepends=True)[:-10]
    (tmp_path / "calendar.csv").write_text("date,is_workday\n" + "".join(rows), encoding="utf-8")
    loaded = _loaded(claims=[{"claim_month": "2027-01-01"}])
    with pytest.raises(ReferenceDataError, match="2027"):
        load_reference(tmp_path, loaded)


def test_operator_calendar_rows_that_cannot_be_read_are_named(tmp_path):
    (tmp_path / "calendar.csv").write_text("date,is_workday\n2027-01-01,0\n2027-02-30,1\n2027-01-03,maybe\n",
                                           encoding="utf-8")
    with pytest.raises(ReferenceDataError, match=r"2 row\(s\).*line 3.*line 4"):
        load_reference(tmp_path, _loaded(claims=[{"claim_month": "2027-01-01"}]))


def test_operator_calendar_corrects_a_day(tmp_path):
    (tmp_path / "calendar.csv").write_text("date,is_workday\n2023年10月2日,是\n", encoding="utf-8")
    ref = load_reference(tmp_path, _loaded(claims=[{"claim_month": "2023-10-01"}]))
    assert ref.calendar.filter(pl.col("date") == D(2023, 10, 2))["is_workday"].to_list() == [True]
    assert ref.calendar.height == shipped_calendar().height


# ------------------------------------------------------------------ regions ---------------------

def test_regions_are_the_five_provinces(shipped):
    regions = shipped.regions
    counts = dict(regions.group_by("province_code").len().iter_rows())
    assert counts == {"360000": 100, "410000": 157, "430000": 122, "530000": 129, "620000": 87}
    assert regions["county_code"].is_unique().all()
    assert regions["county_code"].str.len_chars().unique().to_list() == [6]
    assert (regions["county_code"].str.slice(0, 2) == regions["province_code"].str.slice(0, 2)).all()
    named = dict(zip(regions["county_code"], regions["county_name"]))
    assert named["419001"] == "济源市" and named["620200"] == "嘉峪关市" and named["360102"] == "东湖区"


def test_frames_have_the_documented_shapes(shipped):
    schemas = {name: frame.collect_schema() for name, frame in shipped.frames().items()}
    assert list(schemas["min_wage"]) == ["province_code", "tier", "effective_from", "monthly_yuan", "status", "source"]
    assert list(schemas["county_tiers"]) == ["county_code", "tier", "effective_from", "effective_to", "status", "source"]
    assert list(schemas["calendar"]) == ["date", "is_workday", "workday_seq"]
    assert list(schemas["regions"]) == ["county_code", "county_name", "city_name", "province_code", "province_name"]
    assert schemas["calendar"]["date"] == pl.Date and schemas["min_wage"]["tier"] == pl.Int64


def test_the_shipped_files_travel_with_the_package() -> None:
    """An install from a clean clone ships every data file of audit/reference/: each matches the
    package data pyproject.toml declares for audit.reference, and the package finds them through
    importlib.resources (where it reads them), not through a path into the checkout."""
    declared = tomllib.loads((Path(__file__).parents[1] / "pyproject.toml").read_text(encoding="utf-8"))
    patterns = declared["tool"]["setuptools"]["package-data"]["audit.reference"]
    folder = resources.files("audit.reference")
    data = sorted(p.name for p in folder.iterdir() if p.is_file() and not p.name.endswith((".py", ".pyc")))
    assert {"min_wage.yaml", "county_tiers.yaml", "regions.csv", "sources.yaml"} <= set(data)
    assert [name for name in data if not any(fnmatch.fnmatch(name, g) for g in patterns)] == []
    assert Path(str(folder)) == REFERENCE_DIR
