"""UNIT_INELIGIBLE: units that must exit, or must not have been admitted. One table per rule.

Each case lists the units (label, fields), the market-registry rows and the claims it needs, and
the expected findings as ``(unit, amount_at_risk, [claims at risk])`` — an empty list means the
rule must NOT fire. All units are in 南昌 东湖区 (360102, Jiangxi) unless a case says otherwise.
"""

from __future__ import annotations

from typing import Any

import pytest

from checks import unit_ineligible as u
from tests.helpers import claim, pid, run, tables, trainee, unit, uscc

LABELS = ("U1", "U2", "B1", "N1", "N2")
CLAIM_MONTHS = ["2023-09", "2023-10", "2023-11", "2023-12", "2024-01", "2024-02", "2024-03", "2024-04"]


def world(*, units: list[tuple[str, dict]] = (("U1", {}),),  # type: ignore[assignment]
          registry: list[dict] | None = None, claims: list[tuple[str, str, dict]] | None = None,
          audit_month: str = "2024-06", bans: list[tuple[str, dict]] | None = None) -> Any:
    """units: (label, fields); registry: rows with ``unit`` as a label; claims: (unit, month, fields);
    bans: (label, fields) rows of the bans table (a workspace's or an operator's)."""
    if claims is None:
        claims = [("U1", m, {}) for m in CLAIM_MONTHS]
    extra: dict[str, Any] = {}
    if registry is not None:
        extra["market_registry"] = [{**{k: v for k, v in r.items() if k != "unit"}, "unit_id": uscc(r["unit"])}
                                    for r in registry]
    if bans is not None:
        extra["bans"] = [{"unit_id": uscc(label), "county_code": "360102", **fields} for label, fields in bans]
    return tables(
        units=[unit(label, **fields) for label, fields in units],
        trainees=[trainee("P1")],
        claims=[claim(f"{lab}-{m}", lab, "P1", m, 1480.0, **kw) for lab, m, kw in claims],
        audit_month=audit_month,
        **extra,
    )


def findings(check: Any, t: Any) -> list[tuple[str, float, list[str]]]:
    found, _ = run(check, t)
    assert found["unit_id"].null_count() == 0, "a UNIT_INELIGIBLE finding always names the unit"
    label = {uscc(x): x for x in LABELS}
    return sorted(
        (label[row["unit_id"]], row["amount_at_risk"], sorted(c["claim_id"] for c in (row["_claims"] or [])))
        for row in found.iter_rows(named=True)
    )


def case(description: str, world_kw: dict[str, Any], expected: list[tuple]) -> Any:
    return pytest.param(world_kw, expected, id=description)


def reg(status: str, date: str | None = None, **flags: Any) -> dict:
    return {"unit": "U1", "reg_status": status, "status_date": date, **flags}


# --------------------------------------------------------------------------------------------
# UNIT_INELIGIBLE.deregistered_while_claiming — claims for months from the status date on
DEREGISTERED_WHILE_CLAIMING = [
    case("注销 on 2024-02-10: March and April claimed after it",
         {"registry": [reg("注销", "2024-02-10")]}, [("U1", 2960.0, ["U1-2024-03", "U1-2024-04"])]),
    case("吊销 on 2024-03-01: March (from its first day) and April",
         {"registry": [reg("吊销", "2024-03-01")]}, [("U1", 2960.0, ["U1-2024-03", "U1-2024-04"])]),
    case("撤销 on 2023-12-20: January to April",
         {"registry": [reg("撤销", "2023-12-20")]},
         [("U1", 4 * 1480.0, ["U1-2024-01", "U1-2024-02", "U1-2024-03", "U1-2024-04"])]),
    case("look-alike: moved out (迁出) is not deregistration", {"registry": [reg("迁出", "2024-01-01")]}, []),
    case("look-alike: 存续 (in business)", {"registry": [reg("存续", "2015-01-01")]}, []),
    case("look-alike: deregistered after the last claimed month", {"registry": [reg("注销", "2024-05-01")]}, []),
    case("look-alike: a deregistration without a date cannot be placed in time (left to still_listed)",
         {"registry": [reg("注销")]}, []),
    # a 差额 is judged on the day it was claimed, whichever month dates it (RULES.md §8)
    case("注销 on 2024-03-10: a 差额 dated in the last internship month (2024-02), claimed 2024-03-20",
         {"registry": [reg("注销", "2024-03-10")],
          "claims": [("U1", "2024-02", {"claim_type": "差额", "submitted": "2024-03-20"})]}, [("U1", 1480.0, ["U1-2024-02"])]),
    case("注销 on 2024-03-10: the same 差额 dated in the month claimed (2024-03)",
         {"registry": [reg("注销", "2024-03-10")],
          "claims": [("U1", "2024-03", {"claim_type": "差额", "submitted": "2024-03-20"})]}, [("U1", 1480.0, ["U1-2024-03"])]),
    case("look-alike: a 差额 claimed before the 注销 (2024-03-10) though dated 2024-03 when paid",
         {"registry": [reg("注销", "2024-03-10")],
          "claims": [("U1", "2024-03", {"claim_type": "差额", "submitted": "2024-03-05"})]}, []),
]


@pytest.mark.parametrize("world_kw, expected", DEREGISTERED_WHILE_CLAIMING)
def test_deregistered_while_claiming(world_kw: dict, expected: list) -> None:
    assert findings(u.deregistered_while_claiming, world(**world_kw)) == sorted(expected)


# --------------------------------------------------------------------------------------------
# UNIT_INELIGIBLE.deregistered_still_listed — deregistered but approved and not exited
DEREGISTERED_STILL_LISTED = [
    case("注销 on 2024-02-10 and still listed at the end of June 2024",
         {"registry": [reg("注销", "2024-02-10")]}, [("U1", 0.0, [])]),
    case("吊销 with no date recorded, still listed", {"registry": [reg("吊销")]}, [("U1", 0.0, [])]),
    case("look-alike: deregistered and already exited (2024-03-31)",
         {"units": [("U1", {"exit_date": "2024-03-31", "exit_reason": 1})], "registry": [reg("注销", "2024-02-10")]}, []),
    case("look-alike: deregistration dated after the audit month", {"registry": [reg("注销", "2024-08-01")]}, []),
    case("look-alike: moved out (迁出)", {"registry": [reg("迁出", "2024-01-01")]}, []),
]


@pytest.mark.parametrize("world_kw, expected", DEREGISTERED_STILL_LISTED)
def test_deregistered_still_listed(world_kw: dict, expected: list) -> None:
    assert findings(u.deregistered_still_listed, world(**world_kw)) == sorted(expected)


@pytest.mark.parametrize("rows, judged", [
    pytest.param([reg("注销", "2024-02-10"), reg("存续", "2024-02-10")], False, id="存续 the same day: contradicted"),
    pytest.param([reg("注销", "2024-02-10"), reg("在业", "2024-04-01")], False, id="在业 later: contradicted"),
    pytest.param([reg("注销", "2024-02-10"), reg("存续", "2015-01-01")], True, id="look-alike: 存续 before it (history)"),
    pytest.param([reg("注销", "2024-02-10"), reg("存续")], True, id="look-alike: an undated 存续 places nothing"),
    pytest.param([reg("注销", "2024-02-10"), reg("停业", "2024-04-01")], True, id="look-alike: 停业 later is no contradiction"),
])
def test_a_deregistration_the_registry_contradicts_is_not_judged(rows: list, judged: bool) -> None:
    """The registry gives the unit a deregistration and a row that says it exists (存续/在业)
    dated the same day or later: which holds is unknown, so neither rule accuses; each skips the
    unit with both rows in the reason. A status dated before, or undated, contradicts nothing."""
    for check in (u.deregistered_while_claiming, u.deregistered_still_listed):
        found, skipped = run(check, world(registry=rows))
        assert (found.height > 0) == judged, check.rule.id
        assert (skipped.height > 0) == (not judged), check.rule.id
        if not judged:
            assert skipped["reason"][0].startswith("市场主体登记中该单位注销的记录（2024-02-10 注销）与同日或其后的")


# --------------------------------------------------------------------------------------------
# reg_status as the national enterprise credit system writes it (contract.md), read by the loader
# (audit.normalise.read_vocabulary) into the canonical statuses; status date 2024-02-10
AFTER_FEB = ["U1-2024-03", "U1-2024-04"]
SPELLED_STATUSES = [
    ("吊销，未注销", [("U1", 2960.0, AFTER_FEB)]),
    ("吊销，已注销", [("U1", 2960.0, AFTER_FEB)]),
    ("吊销", [("U1", 2960.0, AFTER_FEB)]),
    ("已注销", [("U1", 2960.0, AFTER_FEB)]),
    ("注销", [("U1", 2960.0, AFTER_FEB)]),
    ("撤销", [("U1", 2960.0, AFTER_FEB)]),
    ("责令关闭", [("U1", 2960.0, AFTER_FEB)]),
    ("存续（在营、开业、在册）", []),
    ("存续(在营、开业、在册)", []),
    ("在业", []),
    ("迁出", []),
    ("停业", []),
    ("歇业", []),
    ("清算", []),
]


def spelled(raw: str) -> dict:
    """A registry row as the loader reads it: the canonical status beside the raw one."""
    import polars as pl

    from audit.normalise import read_vocabulary
    from audit.schema import REG_STATUS_SPELLINGS

    status = pl.select(read_vocabulary(pl.lit(raw), REG_STATUS_SPELLINGS)).item()
    assert status is not None, raw
    return {**reg(status, "2024-02-10"), "reg_status_raw": raw}


@pytest.mark.parametrize("raw, expected", SPELLED_STATUSES, ids=[r for r, _ in SPELLED_STATUSES])
def test_registry_spellings_while_claiming(raw: str, expected: list) -> None:
    """UNIT_INELIGIBLE.deregistered_while_claiming on each spelling; the raw value in the evidence."""
    import json

    t = world(registry=[spelled(raw)])
    assert findings(u.deregistered_while_claiming, t) == expected
    found, _ = run(u.deregistered_while_claiming, t)
    for ev in found["evidence"].to_list():
        assert json.loads(ev)["registry_row"]["reg_status_raw"] == raw


@pytest.mark.parametrize("raw, expected", SPELLED_STATUSES, ids=[r for r, _ in SPELLED_STATUSES])
def test_registry_spellings_still_listed(raw: str, expected: list) -> None:
    """UNIT_INELIGIBLE.deregistered_still_listed on each spelling."""
    assert findings(u.deregistered_still_listed, world(registry=[spelled(raw)])) == [
        ("U1", 0.0, []) for _ in expected[:1]]


# --------------------------------------------------------------------------------------------
# UNIT_INELIGIBLE.serious_violation (exit ④) and UNIT_INELIGIBLE.abnormal_listed (a low signal)
SERIOUS_VIOLATION = [
    case("on the serious-violation list, still listed", {"registry": [reg("存续", serious_violation_listed=True)]},
         [("U1", 0.0, [])]),
    case("look-alike: on the list but already exited",
         {"units": [("U1", {"exit_date": "2024-01-31", "exit_reason": 4})],
          "registry": [reg("存续", serious_violation_listed=True)]}, []),
    case("look-alike: only on the abnormal-operation list",
         {"registry": [reg("存续", abnormal_listed=True, serious_violation_listed=False)]}, []),
    case("look-alike: registry row with no list flags", {"registry": [reg("存续")]}, []),
]


@pytest.mark.parametrize("world_kw, expected", SERIOUS_VIOLATION)
def test_serious_violation(world_kw: dict, expected: list) -> None:
    assert findings(u.serious_violation, world(**world_kw)) == sorted(expected)


ABNORMAL_LISTED = [
    case("on the abnormal-operation list, still listed", {"registry": [reg("存续", abnormal_listed=True)]},
         [("U1", 0.0, [])]),
    case("look-alike: abnormal-listed but already exited",
         {"units": [("U1", {"exit_date": "2024-01-31", "exit_reason": 1})], "registry": [reg("存续", abnormal_listed=True)]},
         []),
    case("look-alike: abnormal flag false", {"registry": [reg("存续", abnormal_listed=False)]}, []),
]


@pytest.mark.parametrize("world_kw, expected", ABNORMAL_LISTED)
def test_abnormal_listed(world_kw: dict, expected: list) -> None:
    assert findings(u.abnormal_listed, world(**world_kw)) == sorted(expected)


# --------------------------------------------------------------------------------------------
# UNIT_INELIGIBLE.banned_reentry — exited under ③/④, admitted again within unit.exit_ban_years
def exited(reason: int, on: str = "2024-01-31", approved: str = "2022-01-01") -> dict:
    return {"approved": approved, "exit_date": on, "exit_reason": reason}


B1_CLAIMS = [("B1", m, {}) for m in ("2023-12", "2025-02", "2025-03", "2025-04")]
BANNED_REENTRY = [
    case("exited under ③ on 2024-01-31, a new approval row on 2025-03-01: claims from March 2025 at risk",
         {"units": [("B1", exited(3)), ("B1", {"approved": "2025-03-01"})], "claims": B1_CLAIMS,
          "audit_month": "2026-06"}, [("B1", 2960.0, ["B1-2025-03", "B1-2025-04"])]),
    case("exited under ④, re-admitted in place (the exit row's approved_date moved after the exit)",
         {"units": [("B1", exited(4, approved="2025-03-01"))], "claims": B1_CLAIMS, "audit_month": "2026-06"},
         [("B1", 2960.0, ["B1-2025-03", "B1-2025-04"])]),
    case("look-alike: exited under ① (no ban) and admitted again",
         {"units": [("B1", exited(1)), ("B1", {"approved": "2025-03-01"})], "claims": B1_CLAIMS,
          "audit_month": "2026-06"}, []),
    case("look-alike: exited under ② (no ban) and admitted again",
         {"units": [("B1", exited(2)), ("B1", {"approved": "2025-03-01"})], "claims": B1_CLAIMS,
          "audit_month": "2026-06"}, []),
    case("look-alike: the ban has run out (5 years after 2024-01-31) before the new approval",
         {"units": [("B1", exited(3)), ("B1", {"approved": "2029-03-01"})], "claims": [], "audit_month": "2029-06"}, []),
    case("look-alike: the new approval lies after the audit month",
         {"units": [("B1", exited(3)), ("B1", {"approved": "2026-09-01"})], "claims": [], "audit_month": "2026-06"}, []),
    case("look-alike: an exit under ③ with no later approval",
         {"units": [("B1", exited(3))], "claims": B1_CLAIMS[:1], "audit_month": "2026-06"}, []),
    case("the exit under ③ is known only from the bans table (an export that no longer carries it)",
         {"units": [("B1", {"approved": "2025-03-01"})], "bans": [("B1", {"exit_date": "2024-01-31", "exit_reason": 3})],
          "claims": B1_CLAIMS, "audit_month": "2026-06"}, [("B1", 2960.0, ["B1-2025-03", "B1-2025-04"])]),
    case("the same exit in the units table and in the bans table is one exit: one finding",
         {"units": [("B1", exited(3)), ("B1", {"approved": "2025-03-01"})],
          "bans": [("B1", {"exit_date": "2024-01-31", "exit_reason": 3})],
          "claims": B1_CLAIMS, "audit_month": "2026-06"}, [("B1", 2960.0, ["B1-2025-03", "B1-2025-04"])]),
    case("look-alike: the bans table's exit under ① carries no ban",
         {"units": [("B1", {"approved": "2025-03-01"})], "bans": [("B1", {"exit_date": "2024-01-31", "exit_reason": 1})],
          "claims": B1_CLAIMS, "audit_month": "2026-06"}, []),
]


@pytest.mark.parametrize("world_kw, expected", BANNED_REENTRY)
def test_banned_reentry(world_kw: dict, expected: list) -> None:
    assert findings(u.banned_reentry, world(**world_kw)) == sorted(expected)


def test_banned_reentry_skips_exits_where_the_ban_is_unset() -> None:
    """A Hunan unit: no ban parameter in its province (the clause is Jiangxi's); reported as skipped."""
    t = world(units=[("B1", {**exited(3), "county": "430102"}), ("B1", {"approved": "2025-03-01", "county": "430102"})],
              claims=[], audit_month="2026-06")
    found, skipped = run(u.banned_reentry, t)
    assert found.height == 0 and skipped["unit_id"].to_list() == [uscc("B1")]


# --------------------------------------------------------------------------------------------
# UNIT_INELIGIBLE.banned_owner_new_unit — a banned unit's legal representative behind a new unit
BOSS, OTHER = pid("BOSS", "19800101"), pid("OTHER", "19810101")
BANNED_OWNER_NEW_UNIT = [
    case("B1 (legal rep BOSS) exited under ③ on 2024-01-31; N1, also BOSS's, approved 2024-06-01",
         {"units": [("B1", {**exited(3), "legal_rep_id": BOSS}), ("N1", {"approved": "2024-06-01", "legal_rep_id": BOSS})],
          "claims": [], "audit_month": "2026-06"}, [("N1", 0.0, [])]),
    case("the owner link comes from the market registry only",
         {"units": [("B1", {**exited(4), "legal_rep_id": BOSS}), ("N1", {"approved": "2024-06-01"})],
          "registry": [{"unit": "N1", "reg_status": "存续", "legal_rep_id": BOSS}],
          "claims": [], "audit_month": "2026-06"}, [("N1", 0.0, [])]),
    case("look-alike: the other unit was approved before the exit",
         {"units": [("B1", {**exited(3), "legal_rep_id": BOSS}), ("N1", {"approved": "2023-01-01", "legal_rep_id": BOSS})],
          "claims": [], "audit_month": "2026-06"}, []),
    case("look-alike: the first unit exited under ① (no ban)",
         {"units": [("B1", {**exited(1), "legal_rep_id": BOSS}), ("N1", {"approved": "2024-06-01", "legal_rep_id": BOSS})],
          "claims": [], "audit_month": "2026-06"}, []),
    case("look-alike: a different legal representative",
         {"units": [("B1", {**exited(3), "legal_rep_id": BOSS}), ("N1", {"approved": "2024-06-01", "legal_rep_id": OTHER})],
          "claims": [], "audit_month": "2026-06"}, []),
    case("look-alike: the new unit approved after the ban ran out",
         {"units": [("B1", {**exited(3), "legal_rep_id": BOSS}), ("N1", {"approved": "2029-03-01", "legal_rep_id": BOSS})],
          "claims": [], "audit_month": "2029-06"}, []),
    case("B1 is gone from the export; the bans table keeps its exit and its legal representative BOSS",
         {"units": [("N1", {"approved": "2024-06-01", "legal_rep_id": BOSS})],
          "bans": [("B1", {"exit_date": "2024-01-31", "exit_reason": 3, "legal_rep_id": BOSS})],
          "claims": [], "audit_month": "2026-06"}, [("N1", 0.0, [])]),
    case("look-alike: the bans table's unit has another legal representative",
         {"units": [("N1", {"approved": "2024-06-01", "legal_rep_id": BOSS})],
          "bans": [("B1", {"exit_date": "2024-01-31", "exit_reason": 3, "legal_rep_id": OTHER})],
          "claims": [], "audit_month": "2026-06"}, []),
    case("look-alike: both units' legal representative written as a placeholder (0, 无): no one, no link",
         {"units": [("B1", {**exited(3), "legal_rep_id": "0"}), ("N1", {"approved": "2024-06-01", "legal_rep_id": "0"}),
                    ("N2", {"approved": "2024-06-01", "legal_rep_id": "无"})],
          "registry": [{"unit": "N2", "reg_status": "存续", "legal_rep_id": "0"}],
          "claims": [], "audit_month": "2026-06"}, []),
    case("look-alike: the banned unit's own re-admission is banned_reentry's, not this signal's",
         {"units": [("B1", {**exited(3), "legal_rep_id": BOSS}), ("B1", {"approved": "2025-03-01", "legal_rep_id": BOSS})],
          "claims": [], "audit_month": "2026-06"}, []),
]


@pytest.mark.parametrize("world_kw, expected", BANNED_OWNER_NEW_UNIT)
def test_banned_owner_new_unit(world_kw: dict, expected: list) -> None:
    assert findings(u.banned_owner_new_unit, world(**world_kw)) == sorted(expected)


def test_banned_owner_is_a_labelled_signal_without_the_full_id() -> None:
    t = world(units=[("B1", {**exited(3), "legal_rep_id": BOSS}), ("N1", {"approved": "2024-06-01", "legal_rep_id": BOSS})],
              claims=[], audit_month="2026-06")
    found, _ = run(u.banned_owner_new_unit, t)
    assert u.banned_owner_new_unit.rule.signal_only and "调查线索" in u.banned_owner_new_unit.rule.title
    assert "调查线索" in found["evidence"][0] and BOSS not in found["evidence"][0]
    assert uscc("B1") in found["evidence"][0]


# --------------------------------------------------------------------------------------------
# UNIT_INELIGIBLE.wrong_paying_office — paid by an office outside the unit's county
WRONG_PAYING_OFFICE = [
    case("U1 (360102) paid by 南昌县 (360121): one finding on the claim, 0 yuan",
         {"claims": [("U1", "2024-01", {"handling_county_code": "360121"}), ("U1", "2024-02", {"handling_county_code": "360102"})]},
         [("U1", 0.0, ["U1-2024-01"])]),
    case("look-alike: paid by the unit's own county office",
         {"claims": [("U1", "2024-01", {"handling_county_code": "360102"})]}, []),
    case("look-alike: paying office not recorded", {"claims": [("U1", "2024-01", {})]}, []),
    case("U1 (360102) paid by the 南昌市 office (360100): a city office is compared, found",
         {"claims": [("U1", "2024-01", {"handling_county_code": "360100"})]}, [("U1", 0.0, ["U1-2024-01"])]),
    case("U1 placed only to 南昌市 (360100), paid by 濂溪区 of 九江 (360402): outside its city, found",
         {"units": [("U1", {"county_code": "360100"})], "claims": [("U1", "2024-01", {"handling_county_code": "360402"})]},
         [("U1", 0.0, ["U1-2024-01"])]),
    case("look-alike: paid by an office under a code the division table lacks (a development zone's 360171)",
         {"claims": [("U1", "2024-01", {"handling_county_code": "360171"})]}, []),
    case("look-alike: U1 under a replaced code (新建县 360122), paid by 新建区 (360112)",
         {"units": [("U1", {"county_code": "360122"})], "claims": [("U1", "2024-01", {"handling_county_code": "360112"})]},
         []),
    case("look-alike: U1 placed only to 南昌市 (360100), paid by 东湖区 within it (360102)",
         {"units": [("U1", {"county_code": "360100"})], "claims": [("U1", "2024-01", {"handling_county_code": "360102"})]},
         []),
]


@pytest.mark.parametrize("world_kw, expected", WRONG_PAYING_OFFICE)
def test_wrong_paying_office(world_kw: dict, expected: list) -> None:
    assert findings(u.wrong_paying_office, world(**world_kw)) == sorted(expected)


@pytest.mark.parametrize("unit_code, office, gap", [
    ("360102", "360171", "区划代码不在区划代码表中"),
    ("360122", "360112", "区划代码不在区划代码表中"),
    ("360100", "360102", "单位区划代码仅到地市一级"),
])
def test_a_paying_office_that_cannot_be_placed_is_skipped_naming_both_codes(unit_code: str, office: str, gap: str) -> None:
    """Where the division table cannot say whether the office was the unit's own, the claim is not
    judged, and the skip says which two codes could not be compared."""
    t = world(units=[("U1", {"county_code": unit_code})], claims=[("U1", "2024-01", {"handling_county_code": office})])
    found, skipped = run(u.wrong_paying_office, t)
    assert found.height == 0
    assert skipped.select("claim_id", "gap").rows() == [("U1-2024-01", gap)]
    assert unit_code in skipped["reason"][0] and office in skipped["reason"][0]


# --------------------------------------------------------------------------------------------
def test_exit_conditions_follow_the_notice() -> None:
    """赣人社发〔2023〕9号 四(一)2(5): which ①–④ each rule supports (None: not an exit ground)."""
    assert {c.rule.id: c.rule.exit_condition for c in u.CHECKS} == {
        "UNIT_INELIGIBLE.deregistered_while_claiming": 3,
        "UNIT_INELIGIBLE.deregistered_still_listed": 1,
        "UNIT_INELIGIBLE.serious_violation": 4,
        "UNIT_INELIGIBLE.abnormal_listed": None,
        "UNIT_INELIGIBLE.banned_reentry": 2,
        "UNIT_INELIGIBLE.banned_owner_new_unit": None,
        "UNIT_INELIGIBLE.wrong_paying_office": None,
    }


def test_registry_rules_need_the_registry() -> None:
    for check in (u.deregistered_while_claiming, u.deregistered_still_listed, u.serious_violation, u.abnormal_listed):
        assert check.rule.needs == ("market_registry",)
