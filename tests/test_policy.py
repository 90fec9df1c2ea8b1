"""Policy parameters: the strict loader's refusals, lookups by date, and the shipped files.

The shipped parameter files are law: every value carries a reference to a declared document,
every null says why, and the values RULES.md names are where it says they are.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import polars as pl
import pytest
from click.testing import CliRunner

from audit.app.cli import main
from audit.policy import NATIONAL, Policy, PolicyError

D = dt.date
JX, HN, HEN, YN, GS = "360000", "430000", "410000", "530000", "620000"

CATALOGUE = """\
rate.standard_share:
  description: standard rate
  unit: share
  type: ratio
  scope: provincial
  source: a rate is the province's choice
duration.max_months:
  description: longest internship
  unit: months
  type: months
  scope: national
  source: 国家文件1号 三
"""

NATIONAL_FILE = """\
jurisdiction: 全国
province_code: "000000"
documents:
  国家文件1号:
    title: a national notice
    issued: 2022-01-01
parameters:
  duration.max_months:
    values:
      2022-01-01: {value: 12, reference: 国家文件1号 三}
"""

PROVINCE_FILE = """\
jurisdiction: 某省
province_code: "990000"
documents:
  省文件9号:
    title: a provincial notice
    issued: 2023-08-16
parameters:
  rate.standard_share:
    values:
      2023-08-16: {value: 0.8, reference: 省文件9号 三(一)}
      2024-01-01: {value: null, note: the notice expired}
  duration.max_months:
    values:
      2023-08-16: {value: 6, reference: 省文件9号 三(三)}
"""


def _write(tmp_path: Path, province: str = PROVINCE_FILE, catalogue: str = CATALOGUE,
           national: str = NATIONAL_FILE, detection: str | None = None) -> Path:
    (tmp_path / "catalogue.yaml").write_text(catalogue, encoding="utf-8")
    (tmp_path / "national.yaml").write_text(national, encoding="utf-8")
    (tmp_path / "province.yaml").write_text(province, encoding="utf-8")
    if detection is not None:
        (tmp_path / "detection.yaml").write_text(detection, encoding="utf-8")
    return tmp_path


def _line_of(text: str, needle: str) -> int:
    return next(i for i, line in enumerate(text.splitlines(), 1) if needle in line)


# ------------------------------------------------------------------ refusals, each located ------

REFUSALS = [
    # (what is wrong, the province file, the line's text, words the message must carry)
    (
        "duplicate key",
        PROVINCE_FILE.replace("2024-01-01: {value: null, note: the notice expired}",
                              "2023-08-16: {value: 0.9, reference: 省文件9号 三(一)}"),
        "2023-08-16: {value: 0.9",
        "duplicate key",
    ),
    (
        "unknown key in a value",
        PROVINCE_FILE.replace("{value: 6, reference: 省文件9号 三(三)}",
                              "{value: 6, reference: 省文件9号 三(三), sorce: x}"),
        "{value: 6, reference",
        "unknown key 'sorce'",
    ),
    (
        "unknown key at the top of the file",
        PROVINCE_FILE + "paramters: {}\n",
        "paramters:",
        "unknown key 'paramters'",
    ),
    (
        "unknown key in a document",
        PROVINCE_FILE.replace("    issued: 2023-08-16", "    issued: 2023-08-16\n    isued: 2023-08-16"),
        "isued:",
        "unknown key 'isued'",
    ),
    (
        "a date that does not exist",
        PROVINCE_FILE.replace("2024-01-01: {value: null", "2024-13-01: {value: null"),
        "2024-13-01",
        "not a valid date",
    ),
    (
        "a date in the wrong format",
        PROVINCE_FILE.replace("2024-01-01: {value: null", "2024/01/01: {value: null"),
        "2024/01/01",
        "YYYY-MM-DD",
    ),
    (
        "an undeclared parameter",
        PROVINCE_FILE.replace("  duration.max_months:", "  duration.max_month:"),
        "duration.max_month:",
        "not declared in catalogue.yaml",
    ),
    (
        "a value without a reference",
        PROVINCE_FILE.replace("{value: 6, reference: 省文件9号 三(三)}", "{value: 6}"),
        "{value: 6}",
        "has no 'reference'",
    ),
    (
        "a null without a note",
        PROVINCE_FILE.replace("{value: null, note: the notice expired}", "{value: null}"),
        "{value: null}",
        "without a 'note'",
    ),
    (
        "a reference to an undeclared document",
        PROVINCE_FILE.replace("{value: 6, reference: 省文件9号 三(三)}", "{value: 6, reference: 省文件8号 三(三)}"),
        "省文件8号",
        "declared document",
    ),
    (
        "a value of the wrong type",
        PROVINCE_FILE.replace("{value: 6, reference: 省文件9号 三(三)}", "{value: six, reference: 省文件9号 三(三)}"),
        "{value: six",
        "of type months",
    ),
    (
        "a document date that is not a date",
        PROVINCE_FILE.replace("    issued: 2023-08-16", "    issued: 2023年8月16日"),
        "issued: 2023年8月16日",
        "must be a date",
    ),
]


@pytest.mark.parametrize("what,text,line_text,words", REFUSALS, ids=[r[0] for r in REFUSALS])
def test_loader_refuses_with_file_and_line(tmp_path, what, text, line_text, words):
    directory = _write(tmp_path, province=text)
    with pytest.raises(PolicyError) as err:
        Policy.load(directory)
    message = str(err.value)
    assert words in message
    assert f"province.yaml:{_line_of(text, line_text)}" in message, message


def test_loader_refuses_a_catalogue_entry_without_scope(tmp_path):
    catalogue = CATALOGUE.replace("  scope: provincial\n", "")
    with pytest.raises(PolicyError, match=r"catalogue.yaml:1: rate.standard_share: 'scope' must be national .* or provincial"):
        Policy.load(_write(tmp_path, catalogue=catalogue))


def test_loader_refuses_a_scope_without_its_source(tmp_path):
    catalogue = CATALOGUE.replace("  source: a rate is the province's choice\n", "")
    with pytest.raises(PolicyError, match=r"rate.standard_share: no 'source'"):
        Policy.load(_write(tmp_path, catalogue=catalogue))


def test_loader_refuses_an_informational_parameter_without_a_note(tmp_path):
    catalogue = CATALOGUE.replace("  scope: national\n", "  scope: national\n  informational: true\n")
    with pytest.raises(PolicyError, match=r"duration.max_months is informational without a 'note'"):
        Policy.load(_write(tmp_path, catalogue=catalogue))


def test_loader_refuses_an_unknown_catalogue_key(tmp_path):
    catalogue = CATALOGUE.replace("  type: ratio", "  type: ratio\n  units: share")
    with pytest.raises(PolicyError, match=rf"catalogue.yaml:{_line_of(catalogue, 'units:')}: unknown key 'units'"):
        Policy.load(_write(tmp_path, catalogue=catalogue))


def test_loader_refuses_a_detection_parameter_without_rationale(tmp_path):
    detection = "ghost.min_overlap_months:\n  value: 1\n  unit: months\n  description: overlap\n"
    with pytest.raises(PolicyError, match=r"detection.yaml:1: .*needs 'rationale'"):
        Policy.load(_write(tmp_path, detection=detection))


#: an English sentence (four words or more): what a Chinese reader of the report cannot read
ENGLISH = re.compile(r"[A-Za-z]+(?:[ ,;'-]+[A-Za-z]+){3,}")


def test_the_detection_parameters_read_in_chinese_in_the_report():
    """Each bundled detection parameter gives its unit and its reason in Chinese, and the report
    lists them so (the English is the file's, for the developers); a file without them — an
    office's own — still loads, and the report then shows what it gives."""
    from reports.figures import detection

    policy = Policy.load()
    assert len(policy.detection) >= 30
    missing = [d.name for d in policy.detection.values() if not re.search(r"[\u4e00-\u9fff]", d.rationale_zh)]
    assert missing == []
    shown = detection(policy)
    assert [r["name"] for r in shown if ENGLISH.search(r["rationale"]) or ENGLISH.search(r["description"])] == []
    assert [r["name"] for r in shown if not re.search(r"[\u4e00-\u9fff]", r["unit"]) and r["unit"] != "—"] == []
    assert ENGLISH.search(policy.detection["ghost.min_overlap_months"].rationale)  # the test can fail


def test_a_detection_parameter_without_chinese_is_shown_as_given(tmp_path):
    from reports.figures import detection

    text = "ghost.min_overlap_months:\n  value: 1\n  unit: months\n  description: overlap\n  rationale: one month\n"
    shown = detection(Policy.load(_write(tmp_path, detection=text)))
    assert [(r["unit"], r["rationale"]) for r in shown] == [("months", "one month")]


def test_loader_refuses_a_document_declared_twice(tmp_path):
    province = PROVINCE_FILE.replace("  省文件9号:", "  国家文件1号:\n    title: again\n  省文件9号:")
    with pytest.raises(PolicyError, match=rf"province.yaml:{_line_of(province, '国家文件1号:')}: document 国家文件1号 is declared twice"):
        Policy.load(_write(tmp_path, province=province))


def test_loader_refuses_two_files_for_one_jurisdiction(tmp_path):
    directory = _write(tmp_path)
    (directory / "province2.yaml").write_text(PROVINCE_FILE.replace("省文件9号", "省文件10号"), encoding="utf-8")
    with pytest.raises(PolicyError, match=r"province2.yaml:2: province_code 990000 is also used"):
        Policy.load(directory)


def test_the_minimal_files_load(tmp_path):
    policy = Policy.load(_write(tmp_path))
    assert policy.value("duration.max_months", "990000", D(2023, 9, 1)) == 6


# ------------------------------------------------------------------ lookups by date -------------

@pytest.fixture(scope="module")
def small(tmp_path_factory) -> Policy:
    return Policy.load(_write(tmp_path_factory.mktemp("params")))


LOOKUPS = [
    # (parameter, province, date, expected value, why)
    ("rate.standard_share", "990000", D(2023, 8, 15), None, "the day before the notice: unset"),
    ("rate.standard_share", "990000", D(2023, 8, 16), 0.8, "the notice's first day"),
    ("rate.standard_share", "990000", D(2023, 12, 31), 0.8, "still in force"),
    ("rate.standard_share", "990000", D(2024, 1, 1), None, "a null ends the parameter"),
    ("duration.max_months", "990000", D(2023, 8, 15), 12, "before its own date the province uses the national value"),
    ("duration.max_months", "990000", D(2023, 8, 16), 6, "from its own date the province's value wins"),
    ("rate.standard_share", "880000", D(2023, 8, 16), None, "provincial: a province without a notice has none"),
    ("duration.max_months", "880000", D(2023, 8, 16), 12, "a jurisdiction without a file: national"),
    ("duration.max_months", "990000", D(2021, 12, 31), None, "before any notice: unset"),
]


@pytest.mark.parametrize("name,province,when,expected,why", LOOKUPS, ids=[r[4] for r in LOOKUPS])
def test_value_by_date(small, name, province, when, expected, why):
    assert small.value(name, province, when) == expected


def test_attach_gives_each_row_the_value_in_force(small):
    rows = pl.LazyFrame({
        "province_code": ["990000", "990000", "990000", "990000"],
        "claim_month": [D(2023, 7, 1), D(2023, 9, 1), D(2024, 2, 1), D(2023, 8, 16)],
        "row": [1, 2, 3, 4],
    })
    out = small.attach(rows, "duration.max_months", on="claim_month").collect().sort("row")
    assert out["duration_max_months"].to_list() == [12, 6, 6, 6]
    out = small.attach(rows, "rate.standard_share", on="claim_month", with_reference=True).collect().sort("row")
    assert out["rate_standard_share"].to_list() == [None, 0.8, None, 0.8]
    assert out["rate_standard_share_ref"].to_list()[1] == "省文件9号 三(一)"


def test_unknown_parameter_is_a_key_error(small):
    with pytest.raises(KeyError):
        small.value("rate.standrd_share", "990000", D(2024, 1, 1))


# ------------------------------------------------------------------ the shipped files -----------

@pytest.fixture(scope="module")
def shipped() -> Policy:
    return Policy.load()


def test_every_value_carries_a_reference_to_a_declared_document(shipped):
    for v in shipped.values:
        if v.value is None:
            assert v.note, f"{v.source_file}:{v.line} {v.name} is null without a note"
        else:
            assert v.reference and any(v.reference.startswith(doc) for doc in shipped.documents), (
                f"{v.source_file}:{v.line} {v.name} cites {v.reference!r}"
            )


def test_every_parameter_of_the_catalogue_is_used_somewhere(shipped):
    used = {v.name for v in shipped.values}
    assert set(shipped.catalogue) - used == set()


# Read by the exit lists (reports/exit_list.py), not by a rule: the province's exit conditions.
READ_BY_THE_EXIT_LISTS = ("unit.exit_conditions", "unit.exit_ban_conditions", "unit.exit_ban_years")


def test_every_parameter_is_read_by_a_rule_or_marked_informational(shipped):
    """A declared parameter that is not informational is listed by a rule (or a shared sub-result)
    in its ``params`` and read in checks/ — so a reviewer who edits a province's file sees the
    effect; one that no rule reads says why (``informational: true`` with a note)."""
    import checks

    listed = {n for c in checks.CHECKS for n in c.rule.params} | {n for r in checks.SHARED for n in r.reads()[1]}
    source = "\n".join(p.read_text(encoding="utf-8") for p in Path(checks.__file__).parent.glob("*.py"))
    exit_lists = (Path(__file__).parents[1] / "reports" / "exit_list.py").read_text(encoding="utf-8")
    unread = []
    for name, spec in shipped.catalogue.items():
        if spec.informational:
            assert spec.note, name
            continue
        if name in READ_BY_THE_EXIT_LISTS:
            assert f'"{name}"' in exit_lists, name
            continue
        if name not in listed or f'"{name}"' not in source:
            unread.append(name)
    assert unread == [], f"declared, not informational, read by no rule: {unread}"


SCOPES = [
    # what RULES.md §8 fixes as national, and the provincial choices it names
    ("eligibility.graduate_years_since_leaving", "national"), ("eligibility.youth_max_age", "national"),
    ("duration.max_months", "national"), ("remaining_period.window_end", "national"),
    ("retention.raised_threshold", "national"), ("rate.standard_share", "provincial"),
    ("rate.raised_share", "provincial"), ("insurance.separately_reimbursed", "provincial"),
    ("unit.exit_ban_years", "provincial"), ("unit.exit_conditions", "provincial"),
    ("unit.dormancy_months", "provincial"), ("retention.year_basis", "provincial"),
    ("trainee.max_internships", "provincial"),
]


@pytest.mark.parametrize("name, scope", SCOPES, ids=[s[0] for s in SCOPES])
def test_scope_as_rules_md_reads_it(shipped, name, scope):
    assert shipped.catalogue[name].scope == scope and shipped.catalogue[name].source


LAW_IN_FORCE = [
    # (parameter, province, date, expected, reason the value is unset, or None)
    ("insurance.separately_reimbursed", JX, D(2023, 8, 15), None,
     "江西省通知（赣人社发〔2023〕9号）自2023-08-16起施行，此前政策未知"),
    ("insurance.separately_reimbursed", JX, D(2023, 8, 16), True, None),
    ("insurance.separately_reimbursed", HEN, D(2023, 6, 1), None,
     "河南省通知（豫人社函〔2023〕138号）自2023-06-20起施行，此前政策未知"),
    ("insurance.separately_reimbursed", HN, D(2026, 7, 25), None, "湖南省通知已于2026-07-24到期，此后政策未知"),
    ("rate.raised_share", HN, D(2026, 8, 1), None, "湖南省通知已于2026-07-24到期，此后政策未知"),
    ("unit.dormancy_months", HEN, D(2024, 1, 1), None,
     "河南省通知未规定超过N个月未提供见习岗位、未开展见习活动的见习单位及时清退"),
    # national: the province's own value while its notice gives one, the national value otherwise
    ("eligibility.youth_max_age", HN, D(2026, 8, 1), 24, None),
    ("eligibility.education", HN, D(2026, 8, 1), ["研究生", "本科", "专科"], None),
    ("remaining_period.window_end", JX, D(2023, 3, 1), D(2023, 12, 31), None),
]


@pytest.mark.parametrize("name, province, when, expected, why", LAW_IN_FORCE,
                         ids=[f"{r[0]} {r[1]} {r[2]}" for r in LAW_IN_FORCE])
def test_law_in_force_by_scope(shipped, name, province, when, expected, why):
    assert shipped.value(name, province, when) == expected
    assert shipped.unset_reason(name, province, when) == why


def test_attach_gives_the_reason_a_value_is_unset(shipped):
    rows = pl.LazyFrame({"province_code": [JX, JX, HN], "day": [D(2023, 7, 1), D(2023, 9, 1), D(2026, 8, 1)]})
    out = shipped.attach(rows, "insurance.separately_reimbursed", on="day", with_reason=True).collect().sort("day")
    assert out["insurance_separately_reimbursed"].to_list() == [None, True, None]
    assert out["insurance_separately_reimbursed_why"].to_list() == [
        "江西省通知（赣人社发〔2023〕9号）自2023-08-16起施行，此前政策未知", None, "湖南省通知已于2026-07-24到期，此后政策未知"]


CITES = [
    # province, date, the clause cited
    (JX, D(2023, 9, 1), "赣人社发〔2023〕9号 一"),
    (JX, D(2023, 7, 1), "人社部发〔2023〕27号 一"),  # before Jiangxi's notice: the national clause, never another's
    (HN, D(2023, 9, 1), "湘人社规〔2023〕9号 二(一)"),
    (HN, D(2026, 8, 1), "人社部发〔2023〕27号 一"),  # after Hunan's notice expired
    (GS, D(2022, 9, 1), "人社部发〔2022〕11号 三(一)"),
    ("440000", D(2023, 9, 1), "人社部发〔2023〕27号 一"),  # a province the law base does not know
]


@pytest.mark.parametrize("province, when, clause", CITES, ids=[f"{c[0]} {c[1]}" for c in CITES])
def test_cite_gives_the_clause_in_force_for_the_province(shipped, province, when, clause):
    clauses = ("人社部发〔2022〕11号 三(一)", "人社部发〔2023〕27号 一", "赣人社发〔2023〕9号 一", "湘人社规〔2023〕9号 二(一)")
    out = shipped.cite(pl.LazyFrame({"province_code": [province], "day": [when]}), clauses, on="day").collect()
    assert out["citation"].to_list() == [clause]


SHIPPED = [
    # (parameter, province, date, expected, what RULES.md / the notice says)
    ("rate.standard_share", JX, D(2024, 3, 1), 0.8, "Jiangxi 80 % 赣人社发〔2023〕9号 三(一)"),
    ("rate.raised_share", JX, D(2024, 3, 1), 1.0, "Jiangxi 100 %"),
    ("rate.standard_share", JX, D(2023, 8, 15), None, "before Jiangxi's notice"),
    ("rate.standard_share", HEN, D(2023, 7, 1), 0.7, "Henan 70 %"),
    ("rate.raised_share", HEN, D(2023, 7, 1), 1.1, "Henan 110 %"),
    ("rate.min_wage_of_internship_month", HEN, D(2023, 7, 1), True, "Henan: the internship month's minimum wage"),
    ("rate.standard_share", HN, D(2024, 1, 1), None, "Hunan standard rate: not stated"),
    ("rate.raised_share", HN, D(2023, 7, 24), None, "Hunan before 2023-07-25"),
    ("rate.raised_share", HN, D(2023, 7, 25), 1.2, "Hunan 120 % from 2023-07-25"),
    ("rate.raised_share", HN, D(2026, 7, 24), 1.2, "Hunan: last day of three years"),
    ("rate.raised_share", HN, D(2026, 7, 25), None, "Hunan: expired after three years"),
    ("rate.standard_flat", YN, D(2023, 6, 1), 1500.0, "Yunnan 1500 yuan flat"),
    ("rate.raised_extra_flat", YN, D(2023, 6, 1), 500.0, "Yunnan +500 yuan"),
    ("rate.kind", YN, D(2023, 6, 1), "flat", "Yunnan flat"),
    ("rate.standard_share", GS, D(2022, 6, 1), None, "Gansu: not stated"),
    ("rate.raised_share", GS, D(2022, 6, 1), None, "Gansu: raised 按规定, not stated"),
    ("rate.kind", GS, D(2022, 6, 1), None, "Gansu: the kind of rate is not stated either"),
    ("partial_month.min_working_days", JX, D(2024, 3, 1), 15, "Jiangxi 15 working days"),
    ("partial_month.min_working_days", HEN, D(2024, 3, 1), None, "only Jiangxi has the clause"),
    ("duration.max_months", HEN, D(2023, 7, 1), 12, "3–12 months"),
    ("duration.min_months", GS, D(2022, 6, 1), None, "the 2022 national notice has no duration"),
    ("duration.min_months", GS, D(2023, 6, 1), 3, "the 2023 national notice applies in Gansu"),
    ("eligibility.education", YN, D(2023, 6, 1), ["研究生", "本科", "专科", "中职"], "Yunnan pays for 中职"),
    ("eligibility.education", HN, D(2023, 8, 1), ["研究生", "本科", "专科", "技工院校"], "Hunan 技师学院 classes"),
    ("eligibility.education", HN, D(2023, 7, 1), ["研究生", "本科", "专科"], "Hunan before its notice: national"),
    ("eligibility.education_in_designated_areas", HN, D(2023, 8, 1), ["中职"], "Hunan 中职 in designated counties"),
    ("eligibility.youth_max_age", GS, D(2022, 6, 1), 24, "16–24 (national 2022)"),
    ("eligibility.graduate_years_since_leaving", HEN, D(2023, 7, 1), 2, "within 2 years"),
    ("retention.raised_threshold", HEN, D(2023, 7, 1), 0.5, "50 %"),
    ("retention.year_basis", JX, D(2024, 1, 1), "calendar_year", "Jiangxi 当年"),
    ("retention.benchmark_qualifies", JX, D(2024, 1, 1), True, "Jiangxi 标杆 units get the 差额"),
    ("mode.one_plus_one", YN, D(2023, 6, 1), True, "1+1 nationally from 2023"),
    ("mode.one_plus_one", GS, D(2022, 6, 1), None, "no 1+1 in the 2022 notices"),
    ("mode.difference_timing", JX, D(2024, 1, 1), "early_next_year", "Jiangxi: 次年初"),
    ("remaining_period.window_end", HN, D(2023, 9, 1), D(2023, 12, 31), "Hunan until 2023-12-31"),
    ("remaining_period.min_contract_months", HN, D(2023, 9, 1), 12, "Hunan ≥ 1 year"),
    ("remaining_period.requires_social_insurance", HN, D(2023, 9, 1), True, "Hunan: and social insurance"),
    ("remaining_period.min_internship_months", JX, D(2023, 9, 1), 1, "Jiangxi ≥ 1 month of internship"),
    ("remaining_period.min_contract_months", HEN, D(2023, 9, 1), None, "Henan: any labour contract"),
    ("remaining_period.window_start", YN, D(2023, 6, 1), D(2023, 1, 1), "Yunnan from 2023-01-01"),
    ("remaining_period.window_end", GS, D(2022, 6, 1), D(2022, 12, 31), "Gansu until 2022-12-31"),
    ("remaining_period.window_end", GS, D(2023, 6, 1), D(2023, 12, 31), "national 2023 in Gansu"),
    ("insurance.separately_reimbursed", JX, D(2024, 1, 1), True, "Jiangxi reimburses insurance at cost"),
    ("insurance.separately_reimbursed", HEN, D(2024, 1, 1), False, "inside the subsidy elsewhere"),
    ("insurance.separately_reimbursed", GS, D(2022, 6, 1), False, "Gansu's notice implements 人社部发〔2022〕11号 三(一)"),
    ("unit.dormancy_months", JX, D(2024, 1, 1), 12, "超过一年"),
    ("unit.exit_ban_years", JX, D(2024, 1, 1), 5, "5-year ban"),
    ("unit.exit_ban_conditions", JX, D(2024, 1, 1), ["3", "4"], "conditions 3 and 4"),
    ("unit.benchmark_cap_share", JX, D(2024, 1, 1), 0.1, "标杆 ≤ 10 %"),
    ("review.unit_application_working_days", HN, D(2023, 8, 1), 5, "Hunan 5 working days"),
    ("review.trainee_application_working_days", HN, D(2023, 8, 1), 5, "Hunan 5 working days"),
    ("review.unit_application_working_days", JX, D(2024, 1, 1), 15, "Jiangxi 15 working days"),
    ("review.unit_application_working_days", GS, D(2022, 6, 1), 15, "Gansu 15 working days"),
    ("review.publicity_working_days", JX, D(2024, 1, 1), 5, "Jiangxi publicity 5 working days"),
    ("review.publicity_working_days", HN, D(2024, 1, 1), None, "not in Hunan's notice"),
    ("report.due_working_days", YN, D(2023, 6, 1), 2, "Yunnan 2 working days"),
    ("report.due_working_days", HN, D(2024, 1, 1), 5, "national 5 working days"),
    ("report.due_calendar_days", GS, D(2022, 6, 1), 5, "2022: 下个月的前5日"),
]


@pytest.mark.parametrize("name,province,when,expected,why", SHIPPED, ids=[r[4] for r in SHIPPED])
def test_shipped_values(shipped, name, province, when, expected, why):
    assert shipped.value(name, province, when) == expected


def test_national_is_its_own_jurisdiction(shipped):
    assert NATIONAL in shipped.jurisdictions
    assert shipped.value("retention.raised_threshold", NATIONAL, D(2023, 6, 1)) == 0.5


def test_documents_carry_their_dates(shipped):
    assert shipped.documents["湘人社规〔2023〕9号"]["in_force"] == D(2023, 7, 25)
    assert shipped.documents["湘人社规〔2023〕9号"]["expires"] == D(2026, 7, 24)
    assert shipped.documents["赣人社发〔2023〕9号"]["issued"] == D(2023, 8, 16)
    assert shipped.documents["人社部发〔2023〕27号"]["issued"] == D(2023, 5, 5)
    for undated in ("云人社发〔2023〕18号", "甘人社通〔2022〕134号", "人社部发〔2022〕11号"):
        assert shipped.documents[undated]["issued"] is None
        assert shipped.documents[undated]["note"]


# ------------------------------------------------------------------ the CLI ---------------------

def test_policy_show_prints_values_and_their_sources():
    result = CliRunner().invoke(main, ["policy", "show", "江西", "--date", "2024-03-01"])
    assert result.exit_code == 0, result.output
    out = result.output
    assert re.search(r"rate\.standard_share\s+provincial\s+0\.8\s+赣人社发〔2023〕9号 三\(一\)", out)
    assert "来源文件 / sources:" in out
    sources = out.split("来源文件 / sources:")[1]
    assert "赣人社发〔2023〕9号" in sources and "2023-08-16" in sources
    assert "人社部发〔2023〕27号" in sources
    assert "judgement, not law" in out


def test_policy_show_prints_the_scope():
    result = CliRunner().invoke(main, ["policy", "show", "江西", "--date", "2024-03-01"])
    line = next(x for x in result.output.splitlines() if x.strip().startswith("rate.standard_share"))
    assert "provincial" in line
    line = next(x for x in result.output.splitlines() if x.strip().startswith("eligibility.youth_max_age"))
    assert "national" in line


def test_policy_show_says_why_a_value_is_unset():
    result = CliRunner().invoke(main, ["policy", "show", "430000", "--date", "2024-03-01"])
    assert result.exit_code == 0, result.output
    line = next(x for x in result.output.splitlines() if x.strip().startswith("rate.standard_share"))
    assert "未设定" in line and "未规定标准补贴比例" in line


def test_policy_show_refuses_an_unknown_province():
    result = CliRunner().invoke(main, ["policy", "show", "火星", "--date", "2024-03-01"])
    assert result.exit_code == 2
    assert "unknown province" in result.output


def test_a_broken_parameter_file_is_exit_2_with_its_location(tmp_path):
    directory = _write(tmp_path, province=PROVINCE_FILE.replace("{value: 6, reference: 省文件9号 三(三)}", "{value: 6}"))
    result = CliRunner().invoke(main, ["policy", "show", "990000", "--date", "2024-03-01", "--policy-dir", str(directory)])
    assert result.exit_code == 2
    assert "province.yaml:" in result.output and "has no 'reference'" in result.output


def test_a_policy_read_again_is_read_from_its_files_as_they_are_now(tmp_path: Path) -> None:
    """The same files give the policy read before (a run reads its snapshot more than once);
    an edit is read anew — a broken one refused, not hidden by what was read before."""
    import shutil

    from audit.policy import PARAMS_DIR

    directory = tmp_path / "params"
    shutil.copytree(PARAMS_DIR, directory)
    first = Policy.load(directory)
    assert Policy.load(directory) is first
    catalogue = directory / "catalogue.yaml"
    text = catalogue.read_text(encoding="utf-8")
    catalogue.write_text(text + "\n# a reviewer's note\n", encoding="utf-8")
    again = Policy.load(directory)
    assert again is not first and again.catalogue.keys() == first.catalogue.keys()
    catalogue.write_text(text + "\nnot: [valid\n", encoding="utf-8")
    with pytest.raises(PolicyError):
        Policy.load(directory)
