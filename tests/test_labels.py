"""Every evidence field of every registered rule has a Chinese label (issue #14): a clerk reads
见习协议编号, never ``agreement_id``.

The fields are read from each rule's evidence struct — the schema of its lazy findings, nested
structs and lists of structs included — so a field a rule adds tomorrow fails here until it is
labelled in :mod:`reports.labels`.
"""

from __future__ import annotations

import json

import polars as pl
import pytest

import checks
from audit.schema import SPECS
from reports import evidence
from reports.labels import LABELS, needs_label, value_label
from tests.helpers import policy, tables

OPTIONAL = [name for name, spec in SPECS.items()
            if not spec.required and name not in ("min_wage", "county_tiers", "calendar", "regions")]


def _typed(dtype: pl.DataType | None, out: set[tuple[str, pl.DataType]]) -> set[tuple[str, pl.DataType]]:
    """Every (field, type) of a struct, at any depth (through lists); ``out`` filled and returned."""
    if isinstance(dtype, pl.Struct):
        for f in dtype.fields:
            out.add((f.name, f.dtype))
            _typed(f.dtype, out)
    elif isinstance(dtype, (pl.List, pl.Array)):
        _typed(dtype.inner, out)
    return out


@pytest.fixture(scope="module")
def evidence_types() -> dict[str, pl.DataType | None]:
    """rule id → the type of its evidence struct (from the plan's schema; nothing is collected)."""
    # every optional table present (empty): a rule that needs one is enumerated too
    t = tables(**{name: [] for name in OPTIONAL})
    p = policy()
    checks.build_shared(t, p)
    return {check.rule.id: check(t, p).findings.collect_schema().get("evidence") for check in checks.CHECKS}


@pytest.fixture(scope="module")
def evidence_fields(evidence_types: dict[str, pl.DataType | None]) -> dict[str, set[str]]:
    """rule id → the fields of its evidence struct."""
    return {rule_id: {name for name, _ in _typed(dtype, set())} for rule_id, dtype in evidence_types.items()}


def test_the_rules_record_structured_evidence(evidence_fields: dict[str, set[str]]) -> None:
    """The enumeration sees the rules' fields (it cannot pass by seeing none)."""
    assert sum(len(f) for f in evidence_fields.values()) > 200
    assert {"person_id", "claim_month"} <= set().union(*evidence_fields.values())


def test_a_list_of_months_is_not_labelled_as_a_count(evidence_types: dict[str, pl.DataType | None]) -> None:
    """A field holding months (a list of dates: 此前参保的月份 2023-05、2023-06 …) is labelled by what
    it lists, not as a number of months (此前参保月数 read as a count while it listed months)."""
    typed: set[tuple[str, pl.DataType]] = set()
    for dtype in evidence_types.values():
        _typed(dtype, typed)
    listing = {name for name, dtype in typed if dtype == pl.List(pl.Date)}
    assert {"months_without_payment", "months_insured_before"} <= listing  # the test sees them
    assert sorted(name for name in listing if LABELS.get(name, "").endswith("数")) == []


def test_no_evidence_field_is_unlabelled(evidence_fields: dict[str, set[str]]) -> None:
    missing = sorted({(field, rule) for rule, fields in evidence_fields.items() for field in fields
                      if needs_label(field) and field not in LABELS})
    assert missing == [], "label these fields in reports/labels.py: " + ", ".join(f"{f} ({r})" for f, r in missing)


def test_labels_are_chinese() -> None:
    assert all(any("\u4e00" <= ch <= "\u9fff" for ch in text) for text in LABELS.values())


def test_an_unlabelled_field_would_be_caught() -> None:
    assert needs_label("exit_row") and needs_label("_file") and not needs_label("指标1名称")


def test_coded_values_read_in_chinese() -> None:
    items = {i.label: i.text for i in evidence.items(json.dumps(
        {"year_basis": "calendar_year", "denominator": "completed_or_hired_early", "missing": "agreement_id"}))}
    assert items == {"留用率年度口径": "自然年度", "留用率分母口径": "完成见习或提前留用", "缺少的记录": "协议编号"}
    assert value_label("南昌") == "南昌"


def test_a_field_given_only_where_it_says_something_is_left_out_when_blank() -> None:
    """A death finding's other records (one death date: none) and a report's versions (one row:
    none) are left out of what a reader sees, not shown as "—"; given, they are shown."""
    blank = json.dumps({"death_date": "2023-10-05", "other_death_records": None, "claims": []})
    given = json.dumps({"death_date": "2023-12-20", "other_death_records": [
        {"death_date": "2023-10-05", "_file": "deaths.csv", "_line": 2},
        {"death_date": "2023-12-20", "_file": "deaths.csv", "_line": 3}]})
    assert "死亡登记的全部记录" not in evidence.one_line(blank)
    assert [i.label for i in evidence.items(blank)] == ["死亡日期", LABELS["claims"]]
    assert "死亡登记的全部记录" in evidence.one_line(given)
    assert "死亡登记的全部记录（日期不一致）" in [i.label for i in evidence.items(given)]
    # another field left blank is still shown, as a dash
    assert "—" in evidence.one_line(json.dumps({"death_date": None}))


def test_a_month_reads_as_a_month_and_a_day_as_a_day() -> None:
    """The evidence records a month as its first day: under a month's field it reads 2025-09 (补贴所属
    月份 2025-09, not 2025-09-01), a list of months too; a date stays a date, even the first of a month,
    and a number of months stays a number."""
    record = json.dumps({
        "claims": [{"claim_id": "SL1", "claim_month": "2025-09-01", "amount": 1400.0}],
        "months_without_payment": ["2025-09-01", "2025-10-01"],
        "death_date": "2025-09-01", "months_claimed": 3, "last_claim_month": "2025-10-15",
    })
    shown = {i.label: (i.text, i.rows) for i in evidence.items(record)}
    assert shown[LABELS["claims"]][1] == [["SL1", "2025-09", "1,400.00"]]
    assert shown["未发放生活补助的月份"][0] == "2025-09、2025-10"
    assert shown["死亡日期"][0] == "2025-09-01"
    assert shown[LABELS["months_claimed"]][0] == "3"
    assert shown[LABELS["last_claim_month"]][0] == "2025-10-15"  # not a first day: left as written
    assert "补贴所属月份: 2025-09；" in evidence.one_line(record)
