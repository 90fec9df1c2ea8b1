"""Reports from a run directory: the HTML report's figures and wording, masking, the recovery
list, the 汇总表 workbook, and ``audit report RUN_DIR``.

The run directory is synthetic (:func:`synthetic_run`): normalised tables from the literal
builders, findings of real registered rules written through the findings schema, and the
REPORT_INCONSISTENT checks run for real over a county report with a planted violation. Its
known facts: claims C1 and C2 (1480 yuan each) are put at risk by three findings worth
1480 + 1480, 1480 and 2000 — money at risk is 2960, each claim once and capped at what was paid.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Callable
from pathlib import Path

import openpyxl
import polars as pl
import pytest
from click.testing import CliRunner

import checks
import checks.report_inconsistent as ri
from audit.app.pipeline import family_summary, write_json
from audit.findings import assign_ids, finalise, split_claim_links
from audit.masking import mask
from audit.rules import Family, Rule
from audit.rundir import write_indicators, write_rules
from reports import render_run
from tests.helpers import agreement, claim, frame, pid, tables, trainee, unit, uscc

FULL_ID = re.compile(r"\d{17}[\dX]")
CARD = "6222020200112341234"
MONTH = "2024-06"


def pick(test: Callable[[Rule], bool]) -> Rule:
    return next(c.rule for c in checks.CHECKS if test(c.rule))


# a ghost rule whose findings show the unit itself took money it knew was not due (exit ③)
GHOST = pick(lambda r: r.family is Family.GHOST_TRAINEE and not r.signal_only and r.exit_condition == 3)
# a trainee-level fact the unit could not know: never an exit proposal
SECOND = pick(lambda r: r.family is Family.ONE_INTERNSHIP)
DUPLICATE = pick(lambda r: r.family is Family.DUPLICATE_TRAINEE and not r.signal_only)
DORMANT = pick(lambda r: r.exit_condition == 1)
OTHER_ILLEGAL = pick(lambda r: r.exit_condition == 4)
SIGNAL = pick(lambda r: r.signal_only and r.family is Family.GHOST_TRAINEE)

UNITS = [
    unit("U1", county="360102", unit_name="南昌甲科技有限公司", approved="2023-01-01"),
    unit("U2", county="360102", unit_name="南昌乙商贸有限公司", approved="2023-01-01"),
    unit("U3", county="360121", unit_name="南昌县丙农业合作社", approved="2022-01-01"),
    unit("U4", county="360121", unit_name="南昌县丁物流有限公司", approved="2022-01-01"),
    unit("U5", county="410102", unit_name="郑州戊贸易有限公司", approved="2022-01-01"),
]
TRAINEES = [trainee("P1", name="张三", bank_card=CARD, phone="13800138000"), trainee("P2", name="李四"),
            trainee("P3", name="王五")]
AGREEMENTS = [
    agreement("A1", "P1", "U1", "2024-01-01", "2024-12-31"),
    agreement("A2", "P2", "U2", "2024-03-01", "2024-08-31"),
    agreement("A3", "P3", "U4", "2024-02-01", "2024-07-31"),
]
CLAIMS = [
    claim("C1", "U1", "P1", "2024-03", 1480.0, agreement_id="A1", paid_date="2024-04-20"),
    claim("C2", "U1", "P1", "2024-04", 1480.0, agreement_id="A1", paid_date="2024-05-20"),
    claim("C3", "U2", "P2", "2024-04", 1480.0, agreement_id="A2", paid_date="2024-05-20"),
    claim("C4", "U4", "P3", "2024-04", 1480.0, agreement_id="A3", paid_date="2024-05-20"),
]
# county 360102 reports more new units than units (1≥2 broken)
REPORTS = [
    {"county_code": "360102", "month": MONTH, "i1": 1, "i2": 3, "i3": 0, "i4": 0, "i5": 5, "i6": 0, "i7": 0, "i8": 0,
     "i9": 0, "i10": 0, "i11": 0, "i12": 0, "i13": 2, "i14": 0.44},
]


def _raw(rule: Rule, rows: list[dict]) -> pl.DataFrame:
    schema = {"person_id": pl.String, "unit_id": pl.String, "claim_id": pl.String, "county_code": pl.String,
              "period_start": pl.Date, "period_end": pl.Date, "amount_at_risk": pl.Float64, "evidence": pl.String,
              "citation": pl.String,
              "claims_at_risk": pl.List(pl.Struct({"claim_id": pl.String, "amount": pl.Float64}))}
    # a finding cites one clause: the one given, else the rule's first (a Jiangxi clause for most)
    full = [{k: r.get(k) for k in schema} | {"citation": r.get("citation") or rule.citations[0]} for r in rows]
    if not any(r.get("claims_at_risk") for r in rows):
        schema.pop("claims_at_risk")
        full = [{k: v for k, v in r.items() if k != "claims_at_risk"} for r in full]
    return finalise(pl.DataFrame(full, schema=schema).lazy(), rule).collect()


def synthetic_run(run_dir: Path, month: str = MONTH, extra_findings: bool = True) -> Path:
    """Write a run directory as the pipeline would, with known findings."""
    t = tables(units=UNITS, trainees=TRAINEES, agreements=AGREEMENTS, claims=CLAIMS, county_reports=REPORTS,
               positions=[], audit_month=month)
    norm = run_dir / "normalised"
    norm.mkdir(parents=True, exist_ok=True)
    inputs = {"units": UNITS, "trainees": TRAINEES, "agreements": AGREEMENTS, "claims": CLAIMS,
              "social_insurance": [], "county_reports": REPORTS, "positions": []}
    for name, rows in inputs.items():
        frame(name, rows).write_parquet(norm / f"{name}.parquet")
    # what the pipeline records for the stages after it: the rules' metadata and the 汇总表
    write_rules(run_dir, (c.rule.info() for c in checks.CHECKS))
    write_indicators(run_dir, checks.county_indicators(t, _policy()).collect())
    d = dt.date
    parts = []
    if extra_findings:
        parts += [
            _raw(GHOST, [{"person_id": pid("P1"), "unit_id": uscc("U1"), "county_code": "360102",
                          "period_start": d(2024, 3, 1), "period_end": d(2024, 4, 30), "amount_at_risk": 2960.0,
                          "evidence": json.dumps({"person_id": pid("P1"), "employer_id": uscc("X9"),
                                                  "months": ["2024-03", "2024-04"], "bank_card": CARD,
                                                  "insured": [{"month": "2024-03", "employer_id": uscc("X9")},
                                                              {"month": "2024-04", "employer_id": uscc("X9")}]},
                                                 ensure_ascii=False),
                          "claims_at_risk": [{"claim_id": "C1", "amount": 1480.0}, {"claim_id": "C2", "amount": 1480.0}]}]),
            _raw(DUPLICATE, [{"person_id": pid("P1"), "unit_id": uscc("U1"), "claim_id": "C1", "county_code": "360102",
                              "period_start": d(2024, 3, 1), "period_end": d(2024, 3, 31), "amount_at_risk": 1480.0,
                              "evidence": json.dumps({"claim_id": "C1", "person_id": pid("P1")})}]),
            # claims more than C2 paid: capped at 1480
            _raw(DUPLICATE, [{"person_id": pid("P1"), "unit_id": uscc("U1"), "claim_id": "C2", "county_code": "360102",
                              "period_start": d(2024, 4, 1), "period_end": d(2024, 4, 30), "amount_at_risk": 2000.0,
                              "evidence": "{}"}]),
            _raw(DORMANT, [{"unit_id": uscc("U3"), "county_code": "360121", "period_start": d(2023, 6, 1),
                            "period_end": d(2024, 6, 30), "evidence": json.dumps({"months": 13})}]),
            _raw(OTHER_ILLEGAL, [{"unit_id": uscc("U2"), "county_code": "360102", "period_start": d(2024, 5, 1),
                                  "period_end": d(2024, 6, 30), "evidence": json.dumps({"reg_status": "吊销"})}]),
            # a signal only: no exit, no money
            _raw(SIGNAL, [{"person_id": pid("P3"), "unit_id": uscc("U4"), "county_code": "360121",
                           "evidence": json.dumps({"bank_card": CARD})}]),
            # the trainee's earlier internship elsewhere: a trainee-level fact, no exit for U4
            _raw(SECOND, [{"person_id": pid("P3"), "unit_id": uscc("U4"), "county_code": "360121",
                           "period_start": d(2024, 2, 1), "period_end": d(2024, 7, 31),
                           "evidence": json.dumps({"internship_no": 2})}]),
            # a dormant Henan unit: the audit office's judgement, no condition number, no ban
            _raw(DORMANT, [{"unit_id": uscc("U5"), "county_code": "410102", "period_start": d(2023, 7, 1),
                            "period_end": d(2024, 6, 30), "evidence": json.dumps({"basis": "审计判断"}),
                            "citation": "审计判断（检测参数 judgement.dormancy_months = 12，本省通知未规定）；依据 "
                                        "豫人社函〔2023〕138号 二(五) (强化见习规范管理)"}]),
        ]
    for check in ri.CHECKS:
        result = check(t, _policy())
        parts.append(finalise(result.findings, check.rule).collect())
    findings = pl.concat(parts, how="vertical_relaxed")
    findings, links = split_claim_links(assign_ids(findings))
    findings.write_parquet(run_dir / "findings.parquet")
    findings.write_csv(run_dir / "findings.csv")
    links.write_parquet(run_dir / "finding_claims.parquet")
    skipped = pl.DataFrame({"rule_id": [GHOST.id], "family": [GHOST.family.value], "person_id": [pid("P2")],
                            "unit_id": [None], "claim_id": [None],
                            "reason": [f"社保数据未覆盖 {pid('P2')} 的见习月份"]})
    skipped.write_parquet(run_dir / "skipped.parquet")
    (run_dir / "quarantine.csv").write_text("table,file,line,column,value,reason\nclaims,claims.csv,7,amount,abc,金额无法解析\n",
                                            encoding="utf-8")
    claims_df = pl.read_parquet(norm / "claims.parquet")
    by_family = family_summary(findings, links, claims_df)
    write_json(run_dir / "run.json", {
        "audit_month": month, "si_as_of": month, "input_dir": "/data/in", "generated_at": f"{month}-28T10:00:00",
        "inputs": [{"table": n, "file": f"{n}.csv", "rows_read": len(r) + (n == "claims"), "rows_kept": len(r),
                    "rows_quarantined": int(n == "claims"), "duplicates_collapsed": 0} for n, r in inputs.items()],
        "rules_run": [c.rule.id for c in checks.CHECKS][:5],
        "rules_skipped": {"RETENTION_INFLATED.example": "缺少输入表: employment"},
        "by_family": by_family.to_dicts(),
        "reference": {"min_wage": {"status": "VERIFIED", "rows": 12}, "county_tiers": "OPERATOR"},
        "timings_s": {"load": 0.1},
    })
    return run_dir


def _policy():
    from tests.helpers import policy

    return policy()


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = synthetic_run(tmp_path_factory.mktemp("runs") / "2024-06")
    render_run(path, pdf=False)
    return path


# ---------------------------------------------------------------- masking -------------------

MASK_CASES = [
    ("18-digit ID", "430102199001011234", "4301**********1234"),
    ("ID ending in X", "43010219900101123X", "4301**********123X"),
    ("legacy 15-digit ID", "430102900101123", "4301*******1123"),
    ("bank card of 16", "6222021234561234", "6222********1234"),
    ("bank card of 19", CARD, "6222***********1234"),
    ("mobile", "13800138000", "138****8000"),
    ("inside text", "持卡 6222021234561234，身份证 430102199001011234。", "持卡 6222********1234，身份证 4301**********1234。"),
    ("unit code with letters stays", "91360102MA35L7XK1B", "91360102MA35L7XK1B"),
    ("short numbers stay", "申领 C123 金额 1480", "申领 C123 金额 1480"),
    ("None", None, ""),
]


@pytest.mark.parametrize("description, value, expected", MASK_CASES, ids=[c[0] for c in MASK_CASES])
def test_mask(description: str, value: str | None, expected: str) -> None:
    assert mask(value) == expected


def test_no_full_id_or_card_in_any_output(run_dir: Path) -> None:
    html = (run_dir / "report.html").read_text(encoding="utf-8")
    assert not FULL_ID.findall(html)
    assert CARD not in html and "13800138000" not in html
    for book_path in [run_dir / "exit_list.xlsx", run_dir / "recovery.xlsx", *sorted((run_dir / "exit_lists").glob("*.xlsx")),
                      *sorted((run_dir / "recovery_lists").glob("*.xlsx"))]:
        book = openpyxl.load_workbook(book_path)
        for ws in book.worksheets:
            for row in ws.iter_rows(values_only=True):
                for cell in row:
                    if isinstance(cell, str):
                        assert not FULL_ID.search(cell), (book_path.name, ws.title, cell)
    assert mask(pid("P1")) in html  # the masked form is there instead


# ---------------------------------------------------------------- the HTML report -----------


def test_report_headline_counts_each_claim_once(run_dir: Path) -> None:
    html = (run_dir / "report.html").read_text(encoding="utf-8")
    money = re.search(r'id="h-money">([^<]+)<', html).group(1)
    assert money == "2,960.00"  # not 1480+1480+1480+2000
    findings = pl.read_parquet(run_dir / "findings.parquet")
    assert re.search(r'id="h-findings">([^<]+)<', html).group(1) == str(findings.height)


def test_report_is_self_contained_and_chinese(run_dir: Path) -> None:
    html = (run_dir / "report.html").read_text(encoding="utf-8")
    assert "<script" not in html and "http://" not in html.replace('xmlns="http://www.w3.org/2000/svg"', "")
    assert "https://" not in html and "<link" not in html
    assert "<svg" in html and "@media print" in html
    for text in ("就业见习补贴资金审计报告（2024年6月）", "分县区统计", "南昌市东湖区", "重点问题线索",
                 "检测参数（审计机关的判断，非政策规定）", "政策参数", "隔离", "未运行的规则", "缺少输入表: employment",
                 GHOST.title, GHOST.citations[0], "须由所在县区人社部门逐项核实确认", "退出（摘牌）建议",
                 "建议 4 家见习单位退出", "南昌甲科技有限公司", "建议清退（审计判断，本省通知未规定退出情形）"):
        assert text in html, text


def test_report_evidence_is_readable_not_raw_json(run_dir: Path) -> None:
    html = (run_dir / "report.html").read_text(encoding="utf-8")
    assert '<dl class="evidence">' in html
    assert "<dt>缴费/用人单位</dt>" in html or "<dt>月份</dt>" in html
    assert "{&#34;" not in html and '{"' not in html  # no JSON object dumped into the page
    assert uscc("X9") in html  # unit codes stay readable


def test_report_run_facts(run_dir: Path) -> None:
    html = (run_dir / "report.html").read_text(encoding="utf-8")
    assert "VERIFIED" in html and "OPERATOR" in html
    assert "江西" in html and "赣人社发〔2023〕9号" in html  # the province's parameters with their source
    assert "社保数据未覆盖" in html and mask(pid("P2")) in html  # skipped keys, masked


def test_report_shows_trend_when_earlier_runs_exist(tmp_path: Path) -> None:
    earlier = synthetic_run(tmp_path / "2024-05", month="2024-05", extra_findings=False)
    assert earlier.exists()
    now = synthetic_run(tmp_path / "2024-06")
    render_run(now, pdf=False)
    html = (now / "report.html").read_text(encoding="utf-8")
    assert "与以往月份比较" in html and "2024-05" in html and "（本月）" in html
    assert "暂无趋势比较" not in html


def test_report_without_earlier_runs_says_so(run_dir: Path) -> None:
    assert "暂无趋势比较" in (run_dir / "report.html").read_text(encoding="utf-8")


def test_report_links_cases_to_their_graphs(tmp_path: Path) -> None:
    path = synthetic_run(tmp_path / "run")
    pl.DataFrame({"case_id": ["K1"], "amount_at_risk": [2960.0], "summary": [f"张三 {pid('P1')} 共用银行卡"]}).write_parquet(
        path / "cases.parquet")
    (path / "graphs").mkdir()
    (path / "graphs" / "case_K1.html").write_text("<html></html>", encoding="utf-8")
    render_run(path, pdf=False)
    html = (path / "report.html").read_text(encoding="utf-8")
    assert 'href="graphs/case_K1.html"' in html and not FULL_ID.findall(html)


# ---------------------------------------------------------------- recovery and summary -------


def _sheet_rows(ws) -> list[dict]:
    header = [c.value for c in ws[2]]
    return [dict(zip(header, r)) for r in ws.iter_rows(min_row=3, values_only=True) if r[0] != "合计"]


def test_recovery_lists_each_claim_once_with_rules(run_dir: Path) -> None:
    book = openpyxl.load_workbook(run_dir / "recovery_lists" / "360102_南昌市东湖区.xlsx")
    assert book.sheetnames == ["应追回（按单位和人员）", "应追回申领明细", "应停止拨付"]
    ws = book["应追回申领明细"]
    assert ws.freeze_panes == "A3" and ws.auto_filter.ref
    header = [c.value for c in ws[2]]
    assert header[:7] == ["县区", "区划代码", "单位名称", "统一社会信用代码", "见习人员姓名", "身份证号（脱敏）", "申领编号"]
    rows = _sheet_rows(ws)
    claims = sorted(r["申领编号"] for r in rows)
    assert claims == ["C1", "C2"]
    c2 = next(r for r in rows if r["申领编号"] == "C2")
    assert c2["应追回金额（元）"] == 1480.0 and c2["身份证号（脱敏）"] == mask(pid("P1"))
    assert GHOST.title in c2["问题"] and DUPLICATE.title in c2["问题"]
    assert isinstance(c2["补贴所属月份"], dt.datetime) and c2["补贴所属月份"].date() == dt.date(2024, 4, 1)
    person = book["应追回（按单位和人员）"]
    prow = [c.value for c in person[3]]
    assert "张三" in prow and 2960.0 in prow
    assert _sheet_rows(book["应停止拨付"]) == []  # every claim of the run was paid
    for sheet in book.worksheets:  # printable like the exit lists
        assert sheet.page_setup.orientation == "landscape" and sheet.print_title_rows == "$1:$2" and sheet.print_area


def test_recovery_summary_is_per_county(run_dir: Path) -> None:
    """recovery.xlsx is the province's summary, one row per county, naming each county's file."""
    book = openpyxl.load_workbook(run_dir / "recovery.xlsx")
    assert book.sheetnames == ["汇总"]
    data = {r["区划代码"]: r for r in _sheet_rows(book["汇总"])}
    assert data["360102"]["应追回金额（元）"] == 2960.0 and data["360102"]["应追回申领笔数"] == 2
    assert data["360102"]["应停止拨付金额（元）"] == 0 and data["360102"]["本县区明细文件"] == \
        "recovery_lists/360102_南昌市东湖区.xlsx"
    for name in {r["本县区明细文件"] for r in data.values()}:
        assert (run_dir / name).exists(), name


def test_an_unpaid_claim_is_stopped_not_recovered(tmp_path: Path) -> None:
    """RULES.md §8 "Unpaid claims": C2 has no 拨付日期 — its 1,480 yuan are to stop paying, listed
    apart, never on the recovery list; the headline shows both parts."""
    path = synthetic_run(tmp_path / "run")
    claims_path = path / "normalised" / "claims.parquet"
    pl.read_parquet(claims_path).with_columns(
        pl.when(pl.col("claim_id") == "C2").then(None).otherwise(pl.col("paid_date")).alias("paid_date")
    ).write_parquet(claims_path)
    _with_run_json(path, paid_date_exported=True)
    render_run(path, pdf=False)
    html = (path / "report.html").read_text(encoding="utf-8")
    assert re.search(r'id="h-money">([^<]+)<', html).group(1) == "2,960.00"
    assert re.search(r'id="h-recover">([^<]+)<', html).group(1) == "1,480.00"
    assert re.search(r'id="h-stop">([^<]+)<', html).group(1) == "1,480.00"
    for book_path in [path / "recovery.xlsx", *sorted((path / "recovery_lists").glob("*.xlsx"))]:
        book = openpyxl.load_workbook(book_path)
        for ws in book.worksheets:
            if ws.title == "应停止拨付":
                continue
            assert not any("C2" in str(v) for row in ws.iter_rows(values_only=True) for v in row), (book_path, ws.title)
    book = openpyxl.load_workbook(path / "recovery_lists" / "360102_南昌市东湖区.xlsx")
    assert [r["申领编号"] for r in _sheet_rows(book["应追回申领明细"])] == ["C1"]
    stopped = _sheet_rows(book["应停止拨付"])
    assert [(r["申领编号"], r["应停止拨付金额（元）"]) for r in stopped] == [("C2", 1480.0)]
    exits = openpyxl.load_workbook(path / "exit_lists" / "360102_南昌市东湖区.xlsx").worksheets[0]
    u1 = next(r for r in _sheet_rows(exits) if r["统一社会信用代码"] == uscc("U1"))
    assert u1["应追回金额（元，已拨付）"] == 1480.0 and u1["应停止拨付金额（元，未拨付）"] == 1480.0


def test_without_a_paid_date_column_every_claim_counts_as_paid(tmp_path: Path) -> None:
    path = synthetic_run(tmp_path / "run")
    claims_path = path / "normalised" / "claims.parquet"
    pl.read_parquet(claims_path).with_columns(pl.lit(None, pl.Date).alias("paid_date")).write_parquet(claims_path)
    _with_run_json(path, paid_date_exported=False)
    render_run(path, pdf=False)
    html = (path / "report.html").read_text(encoding="utf-8")
    assert re.search(r'id="h-recover">([^<]+)<', html).group(1) == "2,960.00"
    assert re.search(r'id="h-stop">([^<]+)<', html).group(1) == "0.00"
    assert "没有“拨付日期”一列" in html


def test_summary_table_is_laid_out_like_the_form(run_dir: Path) -> None:
    book = openpyxl.load_workbook(run_dir / "summary_table.xlsx")
    assert book.sheetnames[0] == "2024-06" and "核对" in book.sheetnames
    ws = book["2024-06"]
    assert "汇总表" in ws["A1"].value and "2024年6月" in ws["A2"].value and "万元" in ws["A2"].value
    assert ws.freeze_panes == "C5"
    assert ws.cell(3, 3).value == "本期末实有见习单位总数" and ws.cell(3, 16).value.startswith("本年累计")
    assert [ws.cell(4, j).value for j in range(3, 17)] == list(range(1, 15))
    first = {ws.cell(5, 2).value: [ws.cell(5, j).value for j in range(3, 17)]}
    assert "360102" in first
    row = first["360102"]
    assert row[0] == 2 and row[4] == "—" and row[10] == "—"  # i1 = U1, U2; 5 and 11 have no source
    assert row[13] == 0.44  # C1, C2 (U1) and C3 (U2) paid in 2024: 4440 yuan, in 万元 to two decimals
    compare = book["核对"]
    values = [[c for c in r] for r in compare.iter_rows(min_row=3, values_only=True)]
    i2 = next(r for r in values if r[3] == "指标2")
    assert i2[5] == 3 and i2[6] == 0 and i2[8] == "不一致"


def test_report_inconsistent_findings_appear_in_the_report(run_dir: Path) -> None:
    findings = pl.read_parquet(run_dir / "findings.parquet")
    assert "REPORT_INCONSISTENT.new_units_exceed_units" in findings["rule_id"].to_list()
    html = (run_dir / "report.html").read_text(encoding="utf-8")
    assert ri.new_units_exceed_units.rule.title in html


# ---------------------------------------------------------------- the command ----------------


def test_audit_report_rerenders_from_the_run_files(tmp_path: Path) -> None:
    from audit.app.cli import main

    path = synthetic_run(tmp_path / "run")
    result = CliRunner().invoke(main, ["report", str(path), "--no-pdf"])  # the PDF is test_pdf's
    assert result.exit_code == 0, result.output
    for name in ("report.html", "exit_list.xlsx", "recovery.xlsx", "summary_table.xlsx", "render.json"):
        assert (path / name).exists(), name
    status = json.loads((path / "render.json").read_text(encoding="utf-8"))
    assert status["exit_lists"] == ["360102_南昌市东湖区.xlsx", "360121_南昌市南昌县.xlsx", "410102_郑州市中原区.xlsx"]
    assert status["report_pdf"] is False and not (path / "report.pdf").exists()


def test_audit_report_refuses_a_directory_that_is_not_a_run(tmp_path: Path) -> None:
    """Not a run directory is invalid input (exit 2), said plainly — not a crash (3) or findings (1)."""
    from audit.app.cli import main

    result = CliRunner().invoke(main, ["report", str(tmp_path)])
    assert result.exit_code == 2, result.output
    assert "findings.parquet" in result.output and "audit run" in result.output


def test_render_without_chromium_still_succeeds(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AUDIT_CHROMIUM", str(tmp_path / "no-such-browser"))
    path = synthetic_run(tmp_path / "run")
    status = render_run(path)
    assert status["report_pdf"] is False and "Chromium" in status["pdf_note"]
    assert not (path / "report.pdf").exists()
    assert "PDF 版本未生成" in (path / "report.html").read_text(encoding="utf-8")


def test_text_from_the_data_is_escaped(tmp_path: Path) -> None:
    path = synthetic_run(tmp_path / "run")
    units = pl.read_parquet(path / "normalised" / "units.parquet").with_columns(
        pl.when(pl.col("unit_id") == uscc("U4")).then(pl.lit("<script>alert(1)</script>丁公司"))
        .otherwise(pl.col("unit_name")).alias("unit_name"))
    units.write_parquet(path / "normalised" / "units.parquet")
    render_run(path, pdf=False)
    html = (path / "report.html").read_text(encoding="utf-8")
    assert "&lt;script&gt;alert(1)&lt;/script&gt;丁公司" in html and "<script" not in html


# ---------------------------------------------------------------- evidence made readable ------

def test_evidence_items_label_mask_and_tabulate() -> None:
    from reports import evidence

    raw = json.dumps({"person_id": pid("P1"), "employer_id": "913601020000000017", "retained": True,
                      "claims": [{"claim_id": "C1", "amount": 1480.0}, {"claim_id": "C2", "amount": 1480.0}],
                      "definition": {"contract_window_days": 90}})
    items = {i.label: i for i in evidence.items(raw)}
    assert items["身份证号"].text == mask(pid("P1"))
    assert items["缴费/用人单位"].text == "913601020000000017"  # a unit's code is public
    assert items["是否留用"].text == "是"
    assert items["相关申领"].columns == ["申领编号", "金额（元）"] and items["相关申领"].rows[1] == ["C2", "1,480.00"]
    assert items["认定口径"].text == "签订合同的期限（天）: 90"


def test_evidence_one_line_is_short_and_masked() -> None:
    from reports import evidence

    line = evidence.one_line(json.dumps({"bank_card": CARD, "months": [f"2024-{m:02d}" for m in range(1, 13)] * 10}),
                             limit=60)
    assert len(line) == 60 and line.endswith("…") and CARD not in line and "6222" in line
    assert evidence.one_line("not json") == "证据: not json"


# ---------------------------------------------------------------- coverage on the first screen --

COVERAGE = {
    "audit_month": MONTH, "monthly_rule": "RATE_MISAPPLIED.wrong_amount",
    "monthly": {"judged": 100, "priced": 60, "unpriced": 40, "priced_share": 0.6, "priced_on_secondary": 25},
    "provinces": [
        {"province_code": "410000", "province_name": "河南省", "judged": 70, "priced": 30, "unpriced": 40,
         "priced_share": 0.4286, "priced_on_secondary": 25,
         "unpriced_by_gap": [{"gap": "县区无最低工资档次", "claims": 40}]},
        {"province_code": "360000", "province_name": "江西省", "judged": 30, "priced": 30, "unpriced": 0,
         "priced_share": 1.0, "priced_on_secondary": 0, "unpriced_by_gap": []},
    ],
    "skipped_total": 52,
    "skipped": [{"province_code": "410000", "province_name": "河南省", "rule_id": "RATE_MISAPPLIED.wrong_amount",
                 "title": "月度补贴金额与所在地最低工资档次及补贴标准不符", "gap": "县区无最低工资档次", "keys": 40},
                {"province_code": "430000", "province_name": "湖南省", "rule_id": "GHOST_TRAINEE.ineligible_at_start",
                 "title": "见习开始时不属于见习对象", "gap": "见习对象资格参数未设定", "keys": 12}],
    "secondary_findings": {"total": 3, "by_rule": {"RATE_MISAPPLIED.wrong_amount": 3}},
    "policy": [{"province_code": "430000", "province_name": "湖南",
                "notices": [{"document": "湘人社规〔2023〕9号", "title": "…", "in_force": "2023-07-25",
                             "expires": "2026-07-24", "state": "expired", "state_zh": "已失效"}],
                "unset": [{"param": "rate.kind", "description": "补贴标准的计算方式 — kind", "kind": "expired",
                           "kind_zh": "通知已失效", "why": "有效期3年届满", "since": "2026-07-25", "national": False}]}],
    "reference_gaps": {"counties_without_tier": 7, "wage_rows": 0, "calendar_days": 31, "calendar_months": ["2027-01"]},
}


def _with_run_json(path: Path, **changes) -> None:
    run = json.loads((path / "run.json").read_text(encoding="utf-8"))
    write_json(path / "run.json", run | changes)


def test_the_first_screen_says_how_much_was_judged(tmp_path: Path) -> None:
    path = synthetic_run(tmp_path / "run")
    _with_run_json(path, coverage=COVERAGE)
    render_run(path, pdf=False)
    html = (path / "report.html").read_text(encoding="utf-8")
    first = html[html.index('id="headline"'):html.index('id="families"')]
    assert "本次判断月度申领 <strong>100</strong> 笔，已按补贴标准核算 <strong>60</strong> 笔（60.0%）" in first
    assert "<strong>40</strong> 笔因政策参数或参照数据缺失未能核算" in first
    assert "县区无最低工资档次 40 笔" in first and "湘人社规〔2023〕9号（2026-07-24 失效）" in first
    assert "仅有二手来源" in first and "问题 3 条" in first
    assert "7 个县区无最低工资档次" in first and "法定工作日历缺 31 天（2027-01）" in first
    table = html[html.index('<section id="coverage">'):]
    assert "湖南" in table and "rate.kind" in table and "通知已失效（2026-07-25 起）" in table
    assert "见习对象资格参数未设定" in table  # unjudged keys per province, rule and gap


def test_never_every_rule_ran_while_keys_were_skipped(tmp_path: Path) -> None:
    path = synthetic_run(tmp_path / "run")
    _with_run_json(path, rules_skipped={})  # no rule skipped whole, but skipped.parquet has a key
    render_run(path, pdf=False)
    html = (path / "report.html").read_text(encoding="utf-8")
    assert "所有规则均已运行" not in html and "均已" not in html
    assert "有 1 条记录未能判断" in html and "审计结论不完整" in html


def test_findings_about_the_same_money_are_one_entry_of_the_top_list(tmp_path: Path) -> None:
    """A second rule putting money on the same claims C1 and C2 joins the first's entry, saying so;
    the 2,960 yuan appear once in the top list."""
    from reports import figures
    from reports.data import load_run

    path = synthetic_run(tmp_path / "run")
    findings = pl.read_parquet(path / "findings.parquet")
    links = pl.read_parquet(path / "finding_claims.parquet")
    ghost = findings.filter(pl.col("rule_id") == GHOST.id)
    twin = ghost.with_columns(pl.lit(DUPLICATE.id).alias("rule_id"), pl.lit("ffffffffffffffff").alias("finding_id"))
    findings = pl.concat([findings, twin])
    links = pl.concat([links, links.filter(pl.col("finding_id") == ghost["finding_id"][0])
                       .with_columns(pl.lit("ffffffffffffffff").alias("finding_id"))])
    findings.write_parquet(path / "findings.parquet")
    links.write_parquet(path / "finding_claims.parquet")
    top = figures.top_findings(load_run(path), 20)
    entry = next(t for t in top if t["finding_id"] in (ghost["finding_id"][0], "ffffffffffffffff"))
    assert entry["money"] == 2960.0 and [a["finding_id"] for a in entry["also"]] in (
        [["ffffffffffffffff"]][0], [ghost["finding_id"][0]])
    assert sum(t["money"] == 2960.0 for t in top) == 1
    render_run(path, pdf=False)
    html = (path / "report.html").read_text(encoding="utf-8")
    assert "同一笔资金另有 1 条问题指向（金额只计一次）" in html
