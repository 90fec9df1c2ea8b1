"""run_checks (audit/app/pipeline.py) as the run calls it: the skipped rows held compactly and
written as text, a row listed twice listed once, and the shared results released at the end."""

from __future__ import annotations

import dataclasses
import threading
import time
from pathlib import Path

import polars as pl

from audit.app.pipeline import (
    CONCURRENT_CHECKS,
    SKIPPED_REPEATING,
    _collect_side_by_side,
    _heavy,
    missing_inputs,
    run_checks,
    write_findings,
)
from audit.findings import SKIPPED_SCHEMA
from audit.rules import CheckResult, Severity, rule
from checks import CHECKS, SHARED, _expected, _units
from tests.helpers import agreement, claim, policy, tables, trainee, unit


@rule(id="RATE_MISAPPLIED.skip_stand_in", title="测试用：未能判断", severity=Severity.LOW, citation="测试")
def skip_stand_in(t, policy):
    """Stand-in rule that judges nothing and lists every claim as skipped, C1 twice, with the
    county of its unit."""
    rows = t.claims.select("claim_id", "person_id", "unit_id").join(_units.unit_counties(t), on="unit_id", how="left")
    skipped = pl.concat([rows, rows.filter(pl.col("claim_id") == "C1")]).with_columns(
        pl.lit("政策参数未设定：rate.kind").alias("reason"), pl.lit("参数").alias("gap"))
    return CheckResult(rows.filter(pl.lit(False)).select("claim_id", "unit_id", "person_id"), skipped)


def _world():
    return tables(
        units=[unit("U1", county="360102")],
        trainees=[trainee("P1"), trainee("P2")],
        agreements=[agreement("A1", "P1", "U1", "2023-09-01", "2024-02-29")],
        claims=[claim("C1", "U1", "P1", "2023-09", 1488.0, agreement_id="A1"),
                claim("C2", "U1", "P2", "2023-10", 1488.0, agreement_id="A1")],
    )


def test_skipped_rows_are_held_as_categories_listed_once_and_written_as_text(tmp_path: Path) -> None:
    outcome = run_checks(_world(), policy(), checks=(skip_stand_in,))
    skipped = outcome.skipped
    assert all(skipped.schema[c] == pl.Categorical() for c in SKIPPED_REPEATING)
    assert sorted(skipped["claim_id"].to_list()) == ["C1", "C2"]  # C1, listed twice, once
    write_findings(tmp_path, outcome)
    written = pl.read_parquet(tmp_path / "skipped.parquet")
    assert dict(written.schema) == SKIPPED_SCHEMA
    assert written.sort("claim_id").select("claim_id", "rule_id", "reason", "gap", "county_code").rows() == [
        ("C1", "RATE_MISAPPLIED.skip_stand_in", "政策参数未设定：rate.kind", "参数", "360102"),
        ("C2", "RATE_MISAPPLIED.skip_stand_in", "政策参数未设定：rate.kind", "参数", "360102"),
    ]


def test_no_skipped_row_writes_the_empty_table_as_text(tmp_path: Path) -> None:
    outcome = run_checks(_world(), policy(), checks=())
    assert outcome.skipped.height == 0
    write_findings(tmp_path, outcome)
    assert dict(pl.read_parquet(tmp_path / "skipped.parquet").schema) == SKIPPED_SCHEMA


def test_the_shared_results_are_released_only_when_asked() -> None:
    kept, released = _world(), _world()
    for t in (kept, released):
        SHARED[0](t, policy())
    run_checks(kept, policy(), checks=(skip_stand_in,))
    run_checks(released, policy(), checks=(skip_stand_in,), release_shared=True)
    assert kept.shared_names() == [SHARED[0].name] and released.shared_names() == []


@rule(id="DATA_QUALITY.plain_stand_in", title="测试用：不读共用结果", severity=Severity.LOW, citation="测试")
def plain_stand_in(t, policy):
    """Stand-in rule reading no shared sub-result: a finding on each trainee."""
    return t.trainees.select("person_id")


@rule(id="RATE_MISAPPLIED.context_stand_in", title="测试用：读申领上下文", severity=Severity.LOW, citation="测试")
def context_stand_in(t, policy):
    """Stand-in rule reading the claims in context (a shared sub-result): a finding on each claim."""
    return _expected.claims_in_agreement(t, policy).select("claim_id", "unit_id", "person_id")


def test_released_checks_run_the_largest_shared_reader_first_and_keep_the_registry_order() -> None:
    registry = (plain_stand_in, context_stand_in, skip_stand_in)
    seen: dict[bool, list[str]] = {False: [], True: []}
    outcomes = {release: run_checks(_world(), policy(), checks=registry, progress=seen[release].append,
                                    release_shared=release) for release in (False, True)}
    assert seen[False] == [c.rule.id for c in registry]
    assert seen[True][0] == context_stand_in.rule.id and sorted(seen[True]) == sorted(seen[False])
    kept, released = outcomes[False], outcomes[True]
    assert released.rules_run == kept.rules_run == [c.rule.id for c in registry]
    assert released.findings.equals(kept.findings) and released.findings["rule_id"].n_unique() == 2
    assert released.claim_links.equals(kept.claim_links)
    assert released.skipped.sort("claim_id").equals(kept.skipped.sort("claim_id"))  # a rule's own order may vary


SEEN_TABLES: list[object] = []


@rule(id="DATA_QUALITY.seeing_stand_in", title="测试用：记录所读的表", severity=Severity.LOW, citation="测试")
def seeing_stand_in(t, policy):
    """Stand-in rule reading a small shared result and the claims: it notes the tables it was given."""
    SEEN_TABLES.append(t)
    return t.claims.select("claim_id", "unit_id", "person_id").join(
        SHARED[0](t, policy).select(pl.lit(1).alias("_one")).head(0), how="cross").drop("_one")


def test_the_claims_are_held_in_memory_for_the_later_checks_only_when_asked() -> None:
    registry = (context_stand_in, seeing_stand_in)
    outcomes = {}
    for hold in (False, True):
        SEEN_TABLES.clear()
        world = _world()
        outcomes[hold] = run_checks(world, policy(), checks=registry, release_shared=True, hold_when=lambda hold=hold: hold)
        # built once on the run's tables to learn what it reads; built again on a copy holding the claims
        assert SEEN_TABLES[0] is world and (len(SEEN_TABLES) == 2) == hold
        if hold:
            held = SEEN_TABLES[1]
            assert held is not world and held.units is world.units and held.claims is not world.claims
            assert held.claims.collect().equals(world.claims.collect())
            assert held.shared_names() == []  # released at the end
    assert outcomes[True].findings.equals(outcomes[False].findings)


def test_holding_a_table_carries_the_shared_results_over_without_building_them_again() -> None:
    t, pol = _world(), policy()
    shared_result = _expected.claims_in_agreement  # declares the claims: its key names them
    first = shared_result(t, pol)
    held = t.holding(pol, claims=t.claims.collect().lazy())
    built = t.shared_names()
    assert shared_result.name in built and held.shared_names() == built
    assert shared_result(held, pol) is first  # re-keyed on the copy, not rebuilt
    t.keep_shared(set())
    assert t.shared_names() == [] and held.shared_names() == built


def test_checks_side_by_side_never_run_two_heavy_ones_at_once() -> None:
    """Each check collected once, at most CONCURRENT_CHECKS at a time, never two heavy ones
    together; a light one starts beside a heavy one ahead of the heavy ones waiting."""
    lock, running, seen, order = threading.Lock(), set(), [], []
    heavy = [True, True, False, True, False, False]
    release = {i: threading.Event() for i in range(len(heavy))}

    def collect(i: int, pair: list) -> None:
        with lock:
            running.add(i)
            order.append(i)
            seen.append(sorted(running))
        release[i].wait(5)
        with lock:
            running.discard(i)

    def releaser() -> None:  # let each check end once another has had the chance to start beside it
        for i in (0, 2, 1, 4, 3, 5):
            deadline = time.monotonic() + 5
            while i not in running and time.monotonic() < deadline:
                time.sleep(0.001)
            time.sleep(0.02)
            release[i].set()

    threading.Thread(target=releaser, daemon=True).start()
    _collect_side_by_side(list(range(len(heavy))), heavy, lambda i: [], collect)
    assert sorted(order) == list(range(len(heavy)))
    assert all(len(now) <= CONCURRENT_CHECKS for now in seen)
    assert all(sum(heavy[i] for i in now) <= 1 for now in seen)
    assert order[:2] == [0, 2]  # check 1 (heavy) waits for check 0; check 2 (light) goes beside it


def test_a_check_is_heavy_by_the_rows_it_scans() -> None:
    rows = {"claims": 6_000_000, "social_insurance": 11_000_000, "units": 100_000, "trainees": 1_000_000}
    assert _heavy({"claims", "social_insurance"}, rows)
    assert not _heavy({"claims", "units", "trainees"}, rows)
    assert not _heavy({"social_insurance"}, {"claims": 0, "social_insurance": 5})
    assert _heavy({"claims"}, None) and not _heavy({"units"}, None)  # rows unknown: by the held claims


def test_a_rule_needing_a_column_the_input_lacks_is_skipped_and_says_which() -> None:
    """A claims export without 补贴类型: a 差额 cannot be told from a monthly claim, so the rules
    that must tell them apart do not run (the report lists them, with the column's Chinese
    header); with the column exported (its cells blank: read as 月度), they run."""
    def by_id(rid: str):
        return next(c for c in CHECKS if c.rule.id == rid)

    world = _world()
    needing = (by_id("RATE_MISAPPLIED.raised_rate_monthly"), by_id("RATE_MISAPPLIED.difference_amount"),
               by_id("DUPLICATE_TRAINEE.same_month_claimed_twice"))
    lacking = dataclasses.replace(world, absent={"claims": ("claim_type",)})
    outcome = run_checks(lacking, policy(), checks=(*needing, by_id("RATE_MISAPPLIED.before_approval")))
    assert outcome.rules_skipped == {c.rule.id: "缺少输入列: claims.claim_type（补贴类型）" for c in needing}
    assert outcome.rules_run == ["RATE_MISAPPLIED.before_approval"]
    outcome = run_checks(world, policy(), checks=needing)
    assert outcome.rules_skipped == {} and len(outcome.rules_run) == 3
    lacking = dataclasses.replace(world, employment=None, absent={"claims": ("claim_type",)})
    assert missing_inputs(["employment", "claims.claim_type"]) == (
        "缺少输入表: employment; 缺少输入列: claims.claim_type（补贴类型）")
    assert missing_inputs(["employment", "positions"], ("positions",)) == (
        "缺少输入表: employment; 输入表没有可读的数据行（按未导出处理）: positions（见习岗位）")
    assert not lacking.has("claims.claim_type") and lacking.has("claims.amount") and not lacking.has("employment")
