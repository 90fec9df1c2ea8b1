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

from audit.loader import note_zh
from audit.reference import (
    OPERATOR,
    REFERENCE_DIR,
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
        frame = pl.DataFrame(rows, infer_schema_length=None)
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
    ("Jiangxi: the 2024 map (the lists restated in 2024) with the 2024-04 standard", "360102", D(2024, 4, 1), 1, 2000.0),
    ("Jiangxi: the 2025-12 map (PARTIAL) and standard, tier 2", "360121", D(2026, 11, 1), 2, 2090.0),
    ("Jiangxi: tier 3 in 2026-11, 信丰县", "360722", D(2026, 11, 1), 3, 1950.0),
    ("Gansu: first month of the 2023 standard and map, 兰州 城关区", "620102", D(2023, 11, 1), 1, 2020.0),
    ("Gansu: the month before, the 2017 lists (PARTIAL) but an undated standard in between", "620102", D(2023, 10, 1), 1, None),
    ("Gansu: the 2017 standard on its first day", "620102", D(2017, 6, 1), 1, 1620.0),
    ("Gansu tier 4: an inferred 临夏州 county (PARTIAL) is used", "622927", D(2024, 6, 1), 4, 1850.0),
    ("Gansu 嘉峪关市, a city without counties", "620200", D(2024, 6, 1), 1, 2020.0),
    ("Gansu: the 4-tier map ends on 2025-12-01 (3-tier list not found)", "620102", D(2025, 12, 1), None, None),
    ("Gansu: last month of the 4-tier map", "620102", D(2025, 11, 1), 1, 2020.0),
    ("Hunan: 长沙 芙蓉区 tier 1, 2022 standard", "430102", D(2023, 8, 1), 1, 1930.0),
    ("Hunan: first month of the 2024-09 standard (湘人社规〔2024〕11号)", "430102", D(2024, 9, 1), 1, 2100.0),
    ("Hunan: 浏阳市 tier 2", "430181", D(2024, 8, 1), 2, 1740.0),
    ("Hunan: 郴州 北湖区 city-wide tier 3 from 2024-09", "431002", D(2024, 10, 1), 3, 1700.0),
    ("Hunan: 永州 零陵区 tier 3 from 2025-09", "431102", D(2026, 11, 1), 3, 1800.0),
    ("Hunan: 永州 before its 2025 notice: no tier", "431102", D(2025, 8, 1), None, None),
    ("Hunan: a county with no known tier (株洲 荷塘区)", "430202", D(2026, 11, 1), None, None),
    ("Henan: 郑州 中牟县 in the 2022 map", "410122", D(2023, 8, 1), 1, 2000.0),
    ("Henan: 中牟县 in 2024 (the 2024 attachment was not found)", "410122", D(2024, 6, 1), None, None),
    ("Henan: 安阳县 tier 2 in the 2024 map (PARTIAL)", "410522", D(2024, 6, 1), 2, 2000.0),
    ("Henan: 郑州 中原区 in 2026-11 (豫政〔2025〕25号)", "410102", D(2026, 11, 1), 1, 2350.0),
    ("Henan: 洛阳 老城区 in 2026-11 (2025 list not found)", "410302", D(2026, 11, 1), None, None),
    ("Yunnan: 永仁县 tier 3 (PARTIAL), 2022 standard", "532327", D(2023, 8, 1), 3, 1690.0),
    ("Yunnan: 永仁县, first month of the 2024-10 standard", "532327", D(2024, 10, 1), 3, 1770.0),
    ("Yunnan: 永仁县 after 2025-10 (not in the 2025 appendix seen)", "532327", D(2025, 10, 1), None, None),
    ("Yunnan: 昆明 五华区 in the 2025-10 standard", "530102", D(2025, 11, 1), 1, 2170.0),
    ("Yunnan: 昆明 五华区 in the 2026-09 standard", "530102", D(2026, 11, 1), 1, 2270.0),
    ("a county code outside the five provinces", "110101", D(2023, 8, 1), None, None),
]


@pytest.mark.parametrize("what,county,month,tier,yuan", MIN_WAGE_CASES, ids=[c[0] for c in MIN_WAGE_CASES])
def test_min_wage_for_county_and_month(shipped, what, county, month, tier, yuan):
    got_tier, got_yuan, _ = _wage(shipped, county, month)
    assert (got_tier, got_yuan) == (tier, yuan)


def test_each_row_used_says_its_status_and_source(shipped):
    """The tier row and the standard row used are both named, with their status and source."""
    out = attach_min_wage(
        pl.LazyFrame({"county_code": ["410181", "410102"], "claim_month": [D(2026, 11, 1)] * 2}),
        shipped.frames()["county_tiers"], shipped.frames()["min_wage"],
    ).collect().sort("county_code")
    assert out["mw_tier_status"].to_list() == ["VERIFIED", "PARTIAL"]  # 中原区 named; 巩义市 inferred
    assert out["mw_status"].to_list() == ["VERIFIED", "VERIFIED"]
    assert out["mw_tier_from"].to_list() == [D(2025, 12, 1)] * 2
    assert "zzrs.zhengzhou.gov.cn" in out["mw_tier_source"][0] and "巩义" in out["mw_tier_source"][1]
    assert "豫政〔2025〕25号" in out["mw_source"][0]


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
    hunan_2019 = mw.filter((pl.col("province_code") == "430000") & (pl.col("effective_from") == D(2019, 10, 1)))
    assert hunan_2019.height == 4 and hunan_2019["monthly_yuan"].null_count() == 4
    assert set(hunan_2019["status"]) == {"UNVERIFIED"}
    assert mw.filter(pl.col("effective_from").is_null()).height == 0  # Gansu's undated standard
    usable = mw.filter(pl.col("monthly_yuan").is_not_null())
    assert set(usable["status"]) <= {"VERIFIED", "VERIFIED_SECONDARY", "PARTIAL"}
    assert set(shipped.county_tiers["status"]) <= {"VERIFIED", "VERIFIED_SECONDARY", "PARTIAL"}

    status = shipped.status()
    excluded = status["min_wage"]["excluded"]
    assert sum(r["province_code"] == "430000" and r["effective_from"] == "2019-10-01" for r in excluded) == 4
    assert sum(r["province_code"] == "620000" and r["effective_from"] is None for r in excluded) == 4
    assert any("no effective date" in w and note_zh(w).endswith("给出执行日期") for w in status["warnings"])
    json.dumps(status, ensure_ascii=False)  # the report writes it as JSON


def test_an_undated_standard_ends_the_one_before_it_the_day_after(shipped):
    """Gansu's 1820… standard was in force on 2023-10-01 from an unknown date after 2017-06-01: no
    month between is priced at the 2017 amount."""
    gansu = shipped.min_wage.filter((pl.col("province_code") == "620000") & (pl.col("tier") == 1)).sort("effective_from")
    assert gansu.select("effective_from", "monthly_yuan").rows() == [
        (D(2017, 6, 1), 1620.0), (D(2017, 6, 2), None), (D(2023, 11, 1), 2020.0), (D(2025, 12, 1), 2200.0)]


def test_a_new_standard_without_a_tier_ends_that_tier(shipped):
    """Gansu went from four tiers to three on 2025-12-01: tier 4 gets no amount from then on."""
    tier4 = shipped.min_wage.filter((pl.col("province_code") == "620000") & (pl.col("tier") == 4)).sort("effective_from")
    assert tier4.select("effective_from", "monthly_yuan").rows()[-1] == (D(2025, 12, 1), None)


def test_all_other_counties_of_jiangxi_are_tier_3(shipped):
    for start in (D(2021, 4, 1), D(2024, 4, 1), D(2025, 12, 1)):
        jx = shipped.county_tiers.filter(pl.col("county_code").str.starts_with("36") & (pl.col("effective_from") == start))
        assert jx.height == 100
        assert jx.group_by("tier").len().sort("tier")["len"].to_list() == [5, 16, 79]


def test_shipped_tier_maps_name_real_counties_of_their_province(shipped):
    """Every county of every shipped map exists in regions.csv, in the map's province, once per map;
    every partial county is one the map lists; every map says where it comes from."""
    from audit.reference import shipped_tier_maps

    codes = dict(zip(shipped.regions["county_code"], shipped.regions["province_code"]))
    for m in shipped_tier_maps():
        where = f"{m['province_code']}@{m['effective_from']}"
        assert str(m.get("source", "")).strip(), where
        listed = [str(c) for codes_ in (m.get("tiers") or {}).values() for c in codes_]
        assert [c for c in listed if codes.get(c) != m["province_code"]] == [], where
        assert len(listed) == len(set(listed)), where
        assert set(map(str, m.get("partial") or [])) <= set(listed), where
        assert m["status"] in ("VERIFIED", "VERIFIED_SECONDARY", "PARTIAL", "UNVERIFIED"), where


def test_shipped_standards_have_a_status_and_a_source():
    import yaml

    rows = yaml.safe_load((REFERENCE_DIR / "min_wage.yaml").read_text(encoding="utf-8"))["standards"]
    assert rows and all(r["status"] in ("VERIFIED", "VERIFIED_SECONDARY", "PARTIAL", "UNVERIFIED") for r in rows)
    assert all(str(r.get("source") or "").strip() for r in rows)
    # a standard for every province from 2023 on, with its date
    for code in ("360000", "410000", "430000", "530000", "620000"):
        assert any(r["province_code"] == code and r["effective_from"] and r["effective_from"] >= D(2023, 1, 1)
                   for r in rows), code


def test_operator_rows_are_added_and_win_where_they_meet_the_shipped_ones():
    loaded = _loaded(
        min_wage=[
            # a new Henan standard (test data), and a shipped Hunan row confirmed with another amount
            {"province_code": "410000", "tier": 1, "effective_from": "2027-01-01", "monthly_yuan": 2500.0,
             "_file": "min_wage.csv", "_line": 2, "source": "测试数据"},
            {"province_code": "430000", "tier": 1, "effective_from": "2019-10-01", "monthly_yuan": 1700.0,
             "_file": "min_wage.csv", "_line": 3, "source": None},
        ],
        county_tiers=[
            # a county without a tier in 2024, for the 2024 standard only
            {"county_code": "410122", "tier": 1, "effective_from": "2024-01-01", "effective_to": "2025-12-01",
             "_file": "county_tiers.xlsx#county_tiers", "_line": 3, "source": "测试数据"},
            # Jiangxi's 东湖区 made tier 2 from 2026-01-01, open-ended
            {"county_code": "360102", "tier": 2, "effective_from": "2026-01-01", "effective_to": None,
             "_file": "county_tiers.xlsx#county_tiers", "_line": 4, "source": None},
        ],
    )
    ref = load_reference(None, loaded)
    assert _wage(ref, "410122", D(2024, 6, 1)) == (1, 2100.0, "VERIFIED")  # the operator's tier, shipped wage
    assert _wage(ref, "410122", D(2023, 6, 1))[:2] == (1, 2000.0)  # before it: the shipped 2022 map
    assert _wage(ref, "410122", D(2026, 11, 1))[:2] == (1, 2350.0)  # after it: the shipped 2025 map
    assert _wage(ref, "410122", D(2027, 1, 1)) == (1, 2500.0, OPERATOR)  # the operator's standard ends 2350
    assert _wage(ref, "360102", D(2025, 12, 1))[:2] == (1, 2240.0)  # shipped, before the operator's row
    assert _wage(ref, "360102", D(2026, 11, 1))[:2] == (2, 2090.0)  # the operator's row wins from its date
    assert _wage(ref, "430102", D(2020, 1, 1))[0] is None  # no Hunan map before 2022
    hunan = ref.min_wage.filter((pl.col("province_code") == "430000") & (pl.col("effective_from") == D(2019, 10, 1)))
    assert hunan.filter(pl.col("tier") == 1)["monthly_yuan"].to_list() == [1700.0]  # confirmed by the operator
    assert hunan.filter(pl.col("tier") == 2)["monthly_yuan"].to_list() == [None]
    sources = dict(zip(ref.county_tiers.filter(pl.col("status") == OPERATOR)["county_code"],
                       ref.county_tiers.filter(pl.col("status") == OPERATOR)["source"]))
    assert sources == {"410122": "county_tiers.xlsx#county_tiers:3 测试数据", "360102": "county_tiers.xlsx#county_tiers:4"}
    status = ref.status()
    assert status["min_wage"]["operator_rows"] == 2 and status["min_wage"]["operator_provinces"] == ["410000", "430000"]
    assert status["county_tiers"]["operator_rows"] == 2
    assert not any(r["province_code"] == "430000" and r["tier"] == 1 and r["effective_from"] == "2019-10-01"
                   for r in status["min_wage"]["excluded"])  # confirmed rows are no longer excluded


def test_an_operator_tier_row_without_an_end_runs_until_the_operators_next_row():
    loaded = _loaded(county_tiers=[
        {"county_code": "410302", "tier": 2, "effective_from": "2024-01-01", "effective_to": None},
        {"county_code": "410302", "tier": 1, "effective_from": "2025-12-01", "effective_to": None},
    ])
    ref = load_reference(None, loaded)
    assert _wage(ref, "410302", D(2025, 11, 1))[:2] == (2, 2000.0)
    assert _wage(ref, "410302", D(2026, 11, 1))[:2] == (1, 2350.0)


def test_without_loaded_only_the_shipped_tables():
    ref = load_reference(None, None)
    assert ref.status()["calendar"]["operator_days"] == 0
    assert ref.status()["calendar"]["covered"] == [["2004-01-01", "2026-12-31"]]


def test_priceable_counties(shipped):
    got = {r["province_code"]: r["priceable"] for r in shipped.priceable(D(2026, 11, 1), D(2026, 11, 1)).to_dicts()}
    assert got == {"360000": 100, "410000": 15, "430000": 31, "530000": 14, "620000": 0}


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


def _year_days(year: int, months: tuple[int, ...] = tuple(range(1, 13))) -> list[dict]:
    days = pl.date_range(D(year, 1, 1), D(year, 12, 31), "1d", eager=True).to_list()
    return [{"date": d.isoformat(), "is_workday": d.weekday() < 5} for d in days if d.month in months]


def test_the_calendar_needs_no_year_in_full():
    """January 2027 alone: its days count; February, not given, is unknown (null), not a holiday."""
    ref = load_reference(None, _loaded(calendar=_year_days(2027, (1,))))
    assert ref.status()["calendar"]["covered"] == [["2004-01-01", "2027-01-31"]]
    rows = pl.LazyFrame({"i": [1, 2, 3], "start": [D(2026, 12, 28), D(2027, 2, 1), D(2027, 1, 25)],
                         "end": [D(2027, 1, 8), D(2027, 2, 26), D(2027, 2, 3)]})
    out = attach_workdays(rows, ref.frames()["calendar"], start="start", end="end").collect().sort("i")
    # 2026-12-28..31 are four workdays (per the package), 2027-01-01..08 six weekdays (per the table)
    assert out["workdays"].to_list() == [4 + 6, None, None]


def test_a_day_missing_inside_the_range_makes_the_count_unknown():
    days = [d for d in _year_days(2027, (3,)) if d["date"] != "2027-03-10"]
    ref = load_reference(None, _loaded(calendar=days))
    rows = pl.LazyFrame({"i": [1, 2], "start": [D(2027, 3, 1), D(2027, 3, 11)], "end": [D(2027, 3, 31), D(2027, 3, 31)]})
    out = attach_workdays(rows, ref.frames()["calendar"], start="start", end="end").collect().sort("i")
    assert out["workdays"].to_list() == [None, 15]


def test_operator_calendar_corrects_a_day():
    ref = load_reference(None, _loaded(calendar=[{"date": "2023-10-02", "is_workday": True}]))
    assert ref.calendar.filter(pl.col("date") == D(2023, 10, 2))["is_workday"].to_list() == [True]
    assert ref.calendar.height == shipped_calendar().height
    assert ref.status()["calendar"]["operator_days"] == 1


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
