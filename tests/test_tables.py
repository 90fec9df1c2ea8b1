"""Shared sub-results: declared with what they read, keyed by that declaration, built once.

A shared result (:func:`audit.tables.shared`) is computed once per run and served from memory
while what it declares is unchanged: the declared frames (by identity), the policy where policy
parameters are declared, the values of declared detection parameters, the audit month or
si_as_of where declared, and the results it uses. Every registered builder must read nothing
else — otherwise a stale result would be served silently — which the last tests check by
building each one on tables whose undeclared frames raise when touched.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

import polars as pl
import pytest

import checks
from audit.policy import Policy
from audit.tables import Shared, Tables, shared
from tests.helpers import agreement, claim, insured, pid, policy, tables, trainee, unit, uscc
from tests.test_identity import bad_check_id, variant_trainee

CALLS: list[str] = []


@shared(tables=("claims",), detection=("money.tolerance_yuan",))
def claims_counted(t: Tables, policy: Policy) -> pl.LazyFrame:
    """How many claims there are (a stand-in result that counts its builds)."""
    CALLS.append("claims_counted")
    return t.claims.select(pl.len().alias("n"))


@shared(tables=("units",), params=("rate.kind",), context=("audit_month",), uses=(claims_counted,))
def units_and_claims(t: Tables, policy: Policy) -> pl.LazyFrame:
    """A stand-in result built on another one."""
    CALLS.append("units_and_claims")
    return t.units.select(pl.len().alias("units")).join(claims_counted(t, policy), how="cross")


def _world() -> Tables:
    return tables(
        units=[unit("U1", county="360102")],
        trainees=[trainee("P1")],
        agreements=[agreement("A1", "P1", "U1", "2023-09-01", "2024-02-29")],
        claims=[claim("C1", "U1", "P1", "2023-09", 1488.0, agreement_id="A1")],
    )


def _with_detection(base: Policy, **values: Any) -> Policy:
    """A copy of ``base`` with some detection values changed (``money__tolerance_yuan=…``)."""
    detection = dict(base.detection)
    for key, value in values.items():
        name = key.replace("__", ".")
        detection[name] = dataclasses.replace(base.detection[name], value=value)
    copy = Policy(base.catalogue, base.values, detection, base.jurisdictions, base.documents)
    return copy


@pytest.fixture(autouse=True)
def _clear_calls() -> None:
    CALLS.clear()


def test_the_name_is_the_builders() -> None:
    assert isinstance(claims_counted, Shared) and claims_counted.name == "claims_counted"
    assert "stand-in result that counts" in claims_counted.doc


def test_the_same_declaration_twice_is_served_from_the_cache() -> None:
    t, pol = _world(), policy()
    first = claims_counted(t, pol).collect()
    again = claims_counted(t, pol).collect()
    assert CALLS == ["claims_counted"] and first.equals(again)
    # another policy object with the same detection value: the result reads nothing else of it
    claims_counted(t, _with_detection(pol))
    assert CALLS == ["claims_counted"]


def test_a_replaced_declared_frame_rebuilds() -> None:
    t, pol = _world(), policy()
    claims_counted(t, pol)
    t.claims = pl.concat([t.claims, t.claims])
    assert claims_counted(t, pol).collect()["n"].item() == 2
    assert CALLS == ["claims_counted"] * 2


def test_an_undeclared_frame_does_not_rebuild() -> None:
    t, pol = _world(), policy()
    claims_counted(t, pol)
    t.units = pl.concat([t.units, t.units])
    claims_counted(t, pol)
    assert CALLS == ["claims_counted"]


def test_another_detection_value_rebuilds() -> None:
    t, pol = _world(), policy()
    claims_counted(t, pol)
    claims_counted(t, _with_detection(pol, money__tolerance_yuan=5.0))
    assert CALLS == ["claims_counted"] * 2


def test_declared_policy_parameters_key_on_the_policy_object() -> None:
    t, pol = _world(), policy()
    units_and_claims(t, pol)
    units_and_claims(t, pol)
    assert CALLS == ["units_and_claims", "claims_counted"]
    units_and_claims(t, _with_detection(pol))  # its parameters may differ: built anew
    assert CALLS == ["units_and_claims", "claims_counted", "units_and_claims"]


def test_a_declared_audit_month_and_a_used_result_are_part_of_the_key() -> None:
    t, pol = _world(), policy()
    units_and_claims(t, pol)
    t.audit_month = dt.date(2024, 7, 1)
    units_and_claims(t, pol)
    assert CALLS == ["units_and_claims", "claims_counted", "units_and_claims"]
    t.claims = pl.concat([t.claims, t.claims])  # read by the result it uses
    assert units_and_claims(t, pol).collect()["n"].item() == 2
    assert CALLS[-2:] == ["units_and_claims", "claims_counted"]


def test_replace_starts_with_an_empty_store() -> None:
    t, pol = _world(), policy()
    claims_counted(t, pol)
    copy = dataclasses.replace(t, claims=t.claims)  # same frame object, but a new Tables
    claims_counted(copy, pol)
    assert CALLS == ["claims_counted"] * 2 and copy.shared_names() == ["claims_counted"]


def test_an_unknown_table_in_a_declaration_is_refused() -> None:
    with pytest.raises(ValueError, match="claim"):
        shared(tables=("claim",))(lambda t, p: t.claims)


def test_results_are_held_in_memory_as_one_chunk() -> None:
    """Materialised, and rechunked: polars 2.1's streaming engine panicked on a multi-chunk
    in-memory frame under a when/then of string formats (the rate rules' skip reasons)."""
    t = _world()

    @shared(tables=("claims",))
    def many(t: Tables, policy: Policy) -> pl.LazyFrame:
        return pl.concat([t.claims] * 3, rechunk=False)

    out = many(t, policy()).collect()
    assert out.height == 3 and set(out.n_chunks("all")) == {1}


def test_build_shared_builds_every_registered_result_once() -> None:
    t, pol = _world(), policy()
    checks.build_shared(t, pol)
    names = [result.name for result in checks.SHARED]
    assert len(set(names)) == len(names) and t.shared_names() == sorted(names)
    before = dict(t._shared)
    checks.build_shared(t, pol)
    assert t._shared.keys() == before.keys()
    assert all(t._shared[k][1] is before[k][1] for k in before)


def test_released_results_are_built_anew() -> None:
    t, pol = _world(), policy()
    first = units_and_claims(t, pol)
    t.release_shared()
    assert t.shared_names() == []
    again = units_and_claims(t, pol)
    assert again is not first and CALLS == ["units_and_claims", "claims_counted"] * 2
    assert again.collect().equals(first.collect())


# ------------------------------------------------------------------ each builder reads what it declares


class _Undeclared(pl.LazyFrame):
    """Stands for a table or date a shared result did not declare: touching it fails (a frame,
    so that handing it to a join gets as far as reading it)."""

    def __init__(self, result: str, what: str) -> None:  # no LazyFrame inside: any use raises
        object.__setattr__(self, "_message", f"shared result {result} reads {what}, which it does not declare")

    def __getattr__(self, name: str) -> Any:
        raise AssertionError(object.__getattribute__(self, "_message"))


class _DeclaredPolicy:
    """The policy as a shared result may read it: only the parameters it declares."""

    def __init__(self, base: Policy, result: str, params: set[str], detection: set[str]) -> None:
        self._base, self._result, self._params, self._detection = base, result, params, detection

    def detect(self, name: str) -> Any:
        assert name in self._detection, f"shared result {self._result} reads detection {name}, undeclared"
        return self._base.detect(name)

    def attach(self, lf: pl.LazyFrame, name: str, **kw: Any) -> pl.LazyFrame:
        assert name in self._params, f"shared result {self._result} looks up {name}, undeclared"
        return self._base.attach(lf, name, **kw)

    def __getattr__(self, name: str) -> Any:
        raise AssertionError(f"shared result {self._result} reads policy.{name}: declare what it looks up")


def _full_world() -> Tables:
    """Every input table present, with rows that reach each builder's joins."""
    p, u = pid("P1"), uscc("U1")
    return tables(
        units=[unit("U1", legal_rep_id=pid("R1")), unit("U2", legal_rep_id=pid("R1"))],
        trainees=[trainee("P1", name="张一", bank_card="6222000011112222"), trainee("P2", bank_card="6222000011112222"),
                  # P1's ID keyed with a wrong check digit, corroborated by name and card: one person
                  variant_trainee(bad_check_id("P1"), "bad_check", "张一", bank_card="6222000011112222"),
                  # P3's ID keyed with a wrong check digit and nothing to corroborate it: unresolved
                  variant_trainee(bad_check_id("P3"), "bad_check", "李三")],
        agreements=[agreement("A1", "P1", "U1", "2023-03-01", "2023-08-31", actual_end_date="2023-08-31",
                              end_reason="期满", retained=True),
                    agreement("A2", "P1", "U1", "2023-09-01", "2024-02-29"),
                    agreement("A3", "P2", "U2", "2023-09-01", "2024-02-29")],
        claims=[claim("C1", "U1", "P1", "2023-09", 1488.0, agreement_id="A2"),
                claim("C2", "U1", "P1", "2023-10", 300.0, agreement_id="A1", claim_type="差额"),
                claim("C3", "U2", "P2", "2023-09", 1488.0, agreement_id="A3"),
                claim("C4", "U2", "P2", "2023-10", 1488.0, agreement_id="A9")],  # no such agreement
        social_insurance=[insured("P1", "U1", "2023-10"), insured("P1", "X", "2023-11")],
        employment=[{"person_id": p, "employer_id": u, "contract_start": "2023-09-01"}],
        market_registry=[{"unit_id": u, "reg_status": "存续", "legal_rep_id": pid("R1")}],
        retention_declarations=[{"unit_id": u, "year": 2023, "completed_count": 1, "retained_count": 1}],
        positions=[], deaths=[], allowance_payments=[], county_reports=[], bans=[], quarantine=[],
    )


def _build_on_declared(result: Shared, world: Tables, base: Policy) -> pl.DataFrame:
    tables_read, params, detection, context = result.reads()
    undeclared = {name: _Undeclared(result.name, f"table {name}")
                  for name in Tables.table_names() if name not in tables_read}
    undeclared |= {name: _Undeclared(result.name, name) for name in ("audit_month", "si_as_of") if name not in context}
    only_declared = dataclasses.replace(world, **undeclared)
    return result(only_declared, _DeclaredPolicy(base, result.name, params, detection)).collect()  # type: ignore[arg-type]


@pytest.mark.parametrize("result", checks.SHARED, ids=lambda r: r.name)
def test_each_shared_result_reads_only_what_it_declares(result: Shared) -> None:
    world = _full_world()
    assert all(world.has(name) for name in Tables.table_names()), "the test world must hold every table"
    built = _build_on_declared(result, world, policy())
    plain = result(_full_world(), policy()).collect()
    assert built.schema == plain.schema and built.height == plain.height > 0


def test_the_check_catches_an_undeclared_read() -> None:
    """The test above can fail: a result reading a table or a parameter it does not declare."""

    @shared(tables=("units",))
    def units_then_claims(t: Tables, policy: Policy) -> pl.LazyFrame:
        return t.units.join(t.claims, on="unit_id")

    @shared(tables=("claims",))
    def reads_a_threshold(t: Tables, policy: Policy) -> pl.LazyFrame:
        return t.claims.filter(pl.col("amount") > policy.detect("money.tolerance_yuan"))

    @shared(tables=("claims",))
    def reads_the_month(t: Tables, policy: Policy) -> pl.LazyFrame:
        return t.claims.filter(pl.col("claim_month") <= t.month_end)

    for wrong in (units_then_claims, reads_a_threshold, reads_the_month):
        with pytest.raises(AssertionError, match=f"shared result {wrong.name} reads"):
            _build_on_declared(wrong, _full_world(), policy())


def test_reading_tables_records_the_frames_a_plan_scans_not_those_behind_a_shared_result() -> None:
    t, pol = _world(), policy()
    claims_counted(t, pol)  # built before: what its key names is not scanned by the plan below
    with t.reading_tables() as scanned:
        t.units.join(claims_counted(t, pol), how="cross")
    assert scanned == {"units"}
    with t.reading_tables() as scanned:
        claims_counted(t, _with_detection(pol, money__tolerance_yuan=2.0))  # built here: its own read of the claims is its build's
    assert scanned == set()
    t.trainees  # noqa: B018 - nothing records outside the block
    assert scanned == set()
