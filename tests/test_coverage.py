"""Coverage: how much a run judged (audit.coverage), the policy status per province, and
``audit reference check`` with its workbook.

Cases read as: for this province on this date, the notice is in force or expired and these
parameters are unset for this reason; for this run, so many monthly claims were priced and so
many not, by what was missing.
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
from audit.coverage import MONTHLY_PRICING_RULE, policy_status
from audit.findings import GAP_TIER, gap_unset
from checks import by_id
from checks._expected import claim_context
from tests.helpers import claim, policy, run, tables, trainee, unit

D = dt.date
ALL_PARAMS = tuple(policy().catalogue)


def _status(code: str, when: dt.date) -> dict:
    return policy_status(policy(), [code], when, ALL_PARAMS)[0]


def _unset(code: str, when: dt.date) -> dict[str, str]:
    return {u["param"]: u["kind"] for u in _status(code, when)["unset"]}


def test_hunan_after_its_notice_expired():
    status = _status("430000", D(2026, 11, 30))
    assert [(n["document"], n["state"], n["expires"]) for n in status["notices"]] == [
        ("湘人社规〔2023〕9号", "expired", "2026-07-24")]
    unset = _unset("430000", D(2026, 11, 30))
    assert unset["rate.kind"] == "expired" and unset["rate.raised_share"] == "expired"
    assert unset["insurance.separately_reimbursed"] == "expired"  # a provincial choice, gone with the notice
    assert "eligibility.youth_max_age" not in unset  # national: the target groups stay those of 人社部发〔2023〕27号


def test_hunan_before_it_expired_lacks_only_its_standard_rate():
    assert [n["state"] for n in _status("430000", D(2026, 6, 30))["notices"]] == ["in_force"]
    assert _unset("430000", D(2026, 6, 30)) == {"rate.standard_share": "left_open",
                                                 "remaining_period.window_end": "window_closed"}


@pytest.mark.parametrize("code, param, kind", [
    ("360000", "remaining_period.window_end", "window_closed"),  # 2023-12-31, no later notice
    ("620000", "rate.kind", "left_open"),  # 按规定给予: neither kind nor amount
], ids=["Jiangxi's window closed", "Gansu's rate left open"])
def test_why_a_parameter_is_unset(code, param, kind):
    assert _unset(code, D(2026, 11, 30))[param] == kind


@pytest.mark.parametrize("code, param", [
    ("410000", "partial_month.min_working_days"),  # Henan has no partial-month rule: not a gap
    ("530000", "rate.standard_share"),  # Yunnan's rate is flat: no share to miss
    ("360000", "rate.standard_flat"),  # Jiangxi's rate is a share: no flat amount to miss
], ids=["Henan's partial month", "Yunnan's share", "Jiangxi's flat amount"])
def test_what_a_province_never_needs_is_not_a_gap(code, param):
    assert param not in _unset(code, D(2026, 11, 30))


def test_the_pricing_rule_skips_exactly_the_monthly_claims_it_cannot_price():
    """MONTHLY_PRICING_RULE judges every monthly claim and skips those whose expected amount is
    unknown: its skipped keys are the unpriced ones the coverage counts."""
    units = [unit("UJX", county="360102"), unit("URJ", county="360781"), unit("UHU", county="430102"),
             unit("UYN", county="530102"), unit("UGS", county="620102")]
    claims = [claim("C1", "UJX", "P1", "2023-10", 1480.0), claim("C2", "URJ", "P2", "2023-10", 1480.0),
              claim("C3", "UHU", "P3", "2023-10", 1600.0), claim("C4", "UYN", "P4", "2023-10", 1500.0),
              claim("C5", "UGS", "P5", "2023-10", 1500.0), claim("C6", "UJX", "P1", "2023-11", 2220.0, claim_type="差额")]
    t = tables(units=units, trainees=[trainee(f"P{i}") for i in range(1, 6)], claims=claims)
    _, skipped = run(by_id()[MONTHLY_PRICING_RULE], t)
    ctx = claim_context(t, policy()).filter(pl.col("claim_type") == "月度").collect()
    assert set(skipped["claim_id"]) == set(ctx.filter(pl.col("expected_standard").is_null())["claim_id"]) == {"C2", "C3", "C5"}
    gaps = dict(zip(skipped["claim_id"], skipped["gap"]))
    assert gaps == {"C2": GAP_TIER, "C3": gap_unset("rate.standard_share"), "C5": gap_unset("rate.kind")}


# ---------------------------------------------------------------- a run, and reference check ---

@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("cov") / "world"
    res = CliRunner().invoke(main, ["fixtures", "generate", str(path), "--trainees", "300", "--seed", "4",
                                    "--months", "2025-09..2026-11", "--no-operator-tables"])
    assert res.exit_code == 0, res.output
    return path


def test_a_runs_coverage_adds_up(world: Path, tmp_path: Path) -> None:
    res = CliRunner().invoke(main, ["run", str(world), "--month", "2026-11", "--out", str(tmp_path / "run"),
                                    "--no-render", "--quiet"])
    assert res.exit_code in (0, 1), res.output
    cov = json.loads((tmp_path / "run" / "run.json").read_text(encoding="utf-8"))["coverage"]
    claims = pl.read_parquet(tmp_path / "run" / "normalised" / "claims.parquet")
    monthly = claims.filter((pl.col("claim_type").fill_null("月度") == "月度") & (pl.col("submitted_date") <= D(2026, 11, 30)))
    skipped = pl.read_parquet(tmp_path / "run" / "skipped.parquet").filter(pl.col("rule_id") == MONTHLY_PRICING_RULE)
    m = cov["monthly"]
    assert m["judged"] == monthly.height == sum(p["judged"] for p in cov["provinces"])
    assert m["unpriced"] == skipped.height == sum(g["claims"] for p in cov["provinces"] for g in p["unpriced_by_gap"])
    assert m["priced"] == m["judged"] - m["unpriced"]
    assert sum(r["keys"] for r in cov["skipped"]) == cov["skipped_total"]
    # each unset parameter says how many keys the rules left unjudged for want of it
    gansu = next(p for p in cov["policy"] if p["province_code"] == "620000")
    rate_kind = next(u for u in gansu["unset"] if u["param"] == "rate.kind")
    # the gap names the parameter as a clerk reads it, its own name in brackets for the reviewer
    named = [r for r in cov["skipped"] if r["province_code"] == "620000"
             and r["gap"] == f"{gap_unset('补贴标准的计算方式')}（rate.kind）"]
    assert rate_kind["keys"] == sum(r["keys"] for r in named) > 0
    # the terminal summary reads the same figures
    assert f"判断月度申领 {m['judged']:,} 笔，已核算补贴标准 {m['priced']:,} 笔" in res.output
    assert "所有规则均已运行" not in res.output


def test_without_claim_types_no_monthly_claim_is_priced_and_the_coverage_says_why(world: Path, tmp_path: Path) -> None:
    """A claims export without 补贴类型: the pricing rule does not run (a 差额 cannot be told from
    a monthly claim), so the coverage prices none and names the missing column, rather than
    counting as priced every claim the rule never saw."""
    shutil.copytree(world, tmp_path / "world")
    path = tmp_path / "world" / "claims.csv"
    pl.read_csv(path, infer_schema=False).drop("claim_type").write_csv(path)
    res = CliRunner().invoke(main, ["run", str(tmp_path / "world"), "--month", "2026-11", "--out", str(tmp_path / "run"),
                                    "--no-render", "--quiet"])
    assert res.exit_code in (0, 1), res.output
    cov = json.loads((tmp_path / "run" / "run.json").read_text(encoding="utf-8"))["coverage"]
    m = cov["monthly"]
    assert m["judged"] > 0 and m["priced"] == 0 and m["unpriced"] == m["judged"] and m["priced_on_secondary"] == 0
    gaps = {g["gap"] for p in cov["provinces"] for g in p["unpriced_by_gap"]}
    assert gaps == {"缺少输入列: claims.claim_type（补贴类型）"}


def test_reference_check_lists_gaps_and_quarantines_bad_operator_rows(world: Path, tmp_path: Path) -> None:
    """The operator's tables are validated like any input: a row that cannot be read is named by
    file, line, column and reason, and left out."""
    (world / "county_tiers.csv").write_text(
        "区划代码,档次,执行日期,来源\n410302,1,2025-12-01,测试数据\n410303,,2025-12-01,测试数据\n410304,1,2025-13-01,测试数据\n",
        encoding="utf-8")
    try:
        res = CliRunner().invoke(main, ["reference", "check", str(world), "--month", "2026-11", "--out", str(tmp_path)])
    finally:
        (world / "county_tiers.csv").unlink()
    assert res.exit_code == 1, res.output
    assert "五、操作员参照表中无法使用的行（已隔离，2 行）" in res.output
    assert "county_tiers.csv 第 3 行 tier" in res.output and "county_tiers.csv 第 4 行 effective_from" in res.output
    assert "湘人社规〔2023〕9号 已于 2026-07-24 失效" in res.output
    book = openpyxl.load_workbook(tmp_path / "reference_gaps.xlsx")
    assert book.sheetnames == ["说明", "county_tiers", "min_wage", "calendar"]
    headers = {name: [c.value for c in book[name][2]] for name in ("county_tiers", "min_wage", "calendar")}
    assert headers == {"county_tiers": ["区划代码", "档次", "执行日期", "截止日期", "来源"],
                       "min_wage": ["省份代码", "档次", "执行日期", "月最低工资标准", "来源"],
                       "calendar": ["日期", "是否工作日", "来源"]}
    listed = [r[0].value for r in book["county_tiers"].iter_rows(min_row=3)]
    assert "410302" not in listed  # given by the operator's good row
    assert all(code[:2] in ("41", "43") for code in listed)  # Jiangxi and Yunnan have every tier they need


def test_a_calendar_workbook_is_read_from_its_own_sheet(tmp_path: Path) -> None:
    """A workbook with a sheet per operator table, copied as calendar.xlsx, is read from the
    sheet named calendar only (the county_tiers sheet beside it shares headers like 来源)."""
    from audit.loader import load_inputs

    book = openpyxl.Workbook()
    book.active.title = "说明"
    tiers = book.create_sheet("county_tiers")
    tiers.append(["区划代码", "档次", "执行日期", "截止日期", "来源"])
    tiers.append(["410302", 1, D(2025, 12, 1), None, "测试数据"])
    days = book.create_sheet("calendar")
    days.append(["待补充：测试"])
    days.append(["日期", "是否工作日", "来源"])
    days.append([D(2027, 1, 4), "是", "测试数据"])
    days.append([D(2027, 1, 2), "否", "测试数据"])
    book.save(tmp_path / "calendar.xlsx")
    loaded = load_inputs(tmp_path, only=("calendar",))
    cal = loaded.tables["calendar"]
    assert cal.select("date", "is_workday").rows() == [(D(2027, 1, 4), True), (D(2027, 1, 2), False)]
    assert any("county_tiers" in n and "not read" in n for n in loaded.notes)
