"""End to end, for the months a supervisor runs now (issue #12): a world of 2025-06..2027-02 with
no operator reference table, audited for 2026-11 and for 2027-02 with only what the project ships.

Neither run is refused (exit 0 or 1, never 2), though Henan's county tiers are known for few
counties, Hunan's notice expired on 2026-07-24 and the calendar has no 2027; the report's first
screen says how much was judged; ``audit reference check`` lists the gaps and writes the workbook
of operator tables; the test fills it with TEST VALUES (labelled as such in 来源: not real tiers,
not the State Council's calendar), puts it in the input directory, and the same run then prices
the claims those rows cover.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path

import openpyxl
import polars as pl
import pytest
from click.testing import CliRunner

from audit.app.cli import main
from audit.findings import GAP_CALENDAR, GAP_TIER

TRAINEES = 2000
SEED = 12
TEST_SOURCE = "测试数据（非真实标准，仅供自动测试）"
HENAN = "410000"


def _cli(*args: str) -> tuple[int, str]:
    res = CliRunner().invoke(main, list(args))
    if res.exception and not isinstance(res.exception, SystemExit):
        raise res.exception
    return res.exit_code, res.output


def _run(world: Path, month: str, out: Path) -> dict:
    code, output = _cli("run", str(world), "--month", month, "--out", str(out), "--no-render", "--quiet")
    assert code in (0, 1), output
    assert "审计覆盖 / coverage：判断月度申领" in output  # the terminal summary says how much was judged
    return json.loads((out / "run.json").read_text(encoding="utf-8"))


def _province(coverage: dict, code: str) -> dict:
    return next(p for p in coverage["provinces"] if p["province_code"] == code)


def _unpriced_by(run_dir: Path, gap: str, rule: str = "RATE_MISAPPLIED.wrong_amount") -> set[str]:
    skipped = pl.read_parquet(run_dir / "skipped.parquet")
    return set(skipped.filter((pl.col("rule_id") == rule) & (pl.col("gap") == gap))["claim_id"])


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("current")
    code, output = _cli("fixtures", "generate", str(root / "world"), "--trainees", str(TRAINEES), "--seed", str(SEED),
                        "--months", "2025-06..2027-02", "--no-operator-tables")
    assert code == 0, output
    names = {p.stem for p in (root / "world").iterdir()}
    assert not names & {"county_tiers", "min_wage", "calendar"}  # no operator reference table
    return root / "world"


@pytest.mark.e2e
def test_2026_11_runs_and_its_first_screen_states_the_coverage(world: Path, tmp_path: Path) -> None:
    run = _run(world, "2026-11", tmp_path / "run")
    cov = run["coverage"]
    assert cov["monthly"]["judged"] == cov["monthly"]["priced"] + cov["monthly"]["unpriced"] > 0
    henan = _province(cov, HENAN)
    assert any(g["gap"] == GAP_TIER for g in henan["unpriced_by_gap"])  # Henan's tiers: 郑州 and 漯河 only
    assert _province(cov, "360000")["priced_share"] == 1.0  # Jiangxi: every county has a tier
    hunan = next(p for p in cov["policy"] if p["province_code"] == "430000")
    assert [n["state"] for n in hunan["notices"]] == ["expired"]

    code, output = _cli("report", str(tmp_path / "run"), "--no-pdf")
    assert code == 0, output
    html = (tmp_path / "run" / "report.html").read_text(encoding="utf-8")
    first = html.index('id="h-coverage"')
    assert first < html.index('id="families"')  # on the first screen, under the headline
    assert f"本次判断月度申领 <strong>{cov['monthly']['judged']:,}</strong> 笔" in html
    assert "湘人社规〔2023〕9号（2026-07-24 失效）" in html
    assert "所有规则均已运行" not in html


@pytest.mark.e2e
def test_2027_02_degrades_then_the_filled_workbook_prices_the_claims(world: Path, tmp_path: Path) -> None:
    before = _run(world, "2027-02", tmp_path / "before")["coverage"]
    assert before["reference_gaps"]["calendar_months"] == ["2027-01"]  # no 2027 in the calendar: not refused
    no_tier = _unpriced_by(tmp_path / "before", GAP_TIER)
    no_days = _unpriced_by(tmp_path / "before", GAP_CALENDAR, "RATE_MISAPPLIED.partial_month")
    assert no_tier and no_days  # Henan claims without a tier; Jiangxi early leavers of 2027-01

    code, output = _cli("reference", "check", str(world), "--month", "2027-02", "--out", str(tmp_path / "gaps"))
    assert code == 1, output
    assert "一、县区无最低工资档次" in output and "河南省" in output
    assert "三、法定工作日历缺少 31 天（2027-01）" in output and "2027-01-01 至 2027-01-31" in output
    assert "湘人社规〔2023〕9号 已于 2026-07-24 失效" in output

    # fill the workbook with test values, labelled as test data, and put it in the input directory
    filled = tmp_path / "world"
    shutil.copytree(world, filled)
    book = openpyxl.load_workbook(tmp_path / "gaps" / "reference_gaps.xlsx")
    tiers, calendar = book["county_tiers"], book["calendar"]
    assert [c.value for c in tiers[2]] == ["区划代码", "档次", "执行日期", "截止日期", "来源"]
    assert [c.value for c in calendar[2]] == ["日期", "是否工作日", "来源"]
    for row in tiers.iter_rows(min_row=3):
        row[1].value, row[4].value = 2, TEST_SOURCE
    for row in calendar.iter_rows(min_row=3):
        day = row[0].value.date() if isinstance(row[0].value, dt.datetime) else row[0].value
        row[1].value, row[2].value = ("是" if day.weekday() < 5 else "否"), TEST_SOURCE
    book.save(filled / "county_tiers.xlsx")
    book.save(filled / "calendar.xlsx")

    code, output = _cli("reference", "check", str(filled), "--month", "2027-02", "--out", str(tmp_path / "gaps2"))
    assert "一、县区最低工资档次：无缺口。" in output and "三、法定工作日历：无缺口。" in output, output
    assert "已隔离" not in output  # every filled row read

    after = _run(filled, "2027-02", tmp_path / "after")["coverage"]
    assert after["reference_gaps"]["counties_without_tier"] == 0 and after["reference_gaps"]["calendar_days"] == 0
    assert _province(after, HENAN)["priced"] > _province(before, HENAN)["priced"]
    assert after["monthly"]["priced"] - before["monthly"]["priced"] == len(no_tier)
    assert _unpriced_by(tmp_path / "after", GAP_TIER) == set()  # the same claims, now priced
    assert _unpriced_by(tmp_path / "after", GAP_CALENDAR, "RATE_MISAPPLIED.partial_month") == set()
    used = pl.read_parquet(tmp_path / "after" / "reference" / "county_tiers.parquet").filter(pl.col("status") == "OPERATOR")
    assert used.height and used["source"].str.contains(TEST_SOURCE, literal=True).all()


def test_an_insurance_extract_that_ends_early_is_judged_to_its_end(tmp_path: Path) -> None:
    """The demo audited for 2024-06 with its insurance extract ending in 2024-04 (extracted, or
    posted, before the month ended): judged as complete to 2024-04 — no insurance in May or June
    is no evidence — and said so; an operator's --si-as-of still decides."""
    demo = Path(__file__).resolve().parents[1] / "fixtures" / "demo"
    world = tmp_path / "world"
    shutil.copytree(demo, world)
    si = pl.read_csv(world / "social_insurance.csv", infer_schema=False)
    si.filter(pl.col("month") < "2024-05").write_csv(world / "social_insurance.csv")
    code, _ = _cli("run", str(world), "--month", "2024-06", "--out", str(tmp_path / "r1"), "--no-render", "--quiet")
    assert code in (0, 1)
    run = json.loads((tmp_path / "r1" / "run.json").read_text(encoding="utf-8"))
    assert run["si_as_of"] == "2024-04"
    assert any("社保缴费记录最晚只到 2024-04" in n for n in run["input_notes"])
    code, _ = _cli("run", str(world), "--month", "2024-06", "--si-as-of", "2024-06", "--out", str(tmp_path / "r2"),
                   "--no-render", "--quiet")
    run = json.loads((tmp_path / "r2" / "run.json").read_text(encoding="utf-8"))
    assert run["si_as_of"] == "2024-06" and not any("社保缴费记录最晚" in n for n in run["input_notes"])
