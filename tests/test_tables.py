"""Tables.shared: a sub-result several checks read is computed once per run, and anew when what
it was built from changes (a replaced frame, another policy, another audit month)."""

from __future__ import annotations

import dataclasses

import polars as pl

import checks
from audit.app.pipeline import prepare_shared
from tests.helpers import agreement, claim, policy, tables, trainee, unit


def _world():
    return tables(
        units=[unit("U1", county="360102")],
        trainees=[trainee("P1")],
        agreements=[agreement("A1", "P1", "U1", "2023-09-01", "2024-02-29")],
        claims=[claim("C1", "U1", "P1", "2023-09", 1488.0, agreement_id="A1")],
    )


def _counting():
    calls = []

    def build(frame: pl.LazyFrame):
        def inner() -> pl.LazyFrame:
            calls.append(1)
            return frame.select(pl.len().alias("n"))
        return inner
    return calls, build


def test_built_once_per_what_it_depends_on() -> None:
    t = _world()
    calls, build = _counting()
    first = t.shared("n", build(t.claims), t.claims, 3).collect()
    again = t.shared("n", build(t.claims), t.claims, 3).collect()
    assert len(calls) == 1 and first.equals(again)
    t.shared("n", build(t.claims), t.claims, 4)  # another parameter value
    assert len(calls) == 2
    t.claims = pl.concat([t.claims, t.claims])  # a replaced frame is another input
    assert t.shared("n", build(t.claims), t.claims, 3).collect()["n"].item() == 2
    assert len(calls) == 3


def test_replace_starts_with_an_empty_store() -> None:
    t = _world()
    calls, build = _counting()
    t.shared("n", build(t.claims), t.claims)
    copy = dataclasses.replace(t, claims=t.claims)  # same frame object, but a new Tables
    copy.shared("n", build(copy.claims), copy.claims)
    assert len(calls) == 2 and copy.shared_names() == ["n"]


def test_results_are_held_in_memory_as_one_chunk() -> None:
    """Materialised, and rechunked: polars 2.1's streaming engine panicked on a multi-chunk
    in-memory frame under a when/then of string formats (the rate rules' skip reasons)."""
    t = _world()
    many = pl.concat([t.claims] * 3, rechunk=False)
    out = t.shared("many", lambda: many, 1).collect()
    assert out.height == 3 and set(out.n_chunks("all")) == {1}


def test_pipeline_builds_every_registered_sub_result_once() -> None:
    t = _world()
    prepare_shared(t, policy())
    built = t.shared_names()
    assert len(built) >= len(checks.SHARED) and "person_retention" in built and "claim_rate_keys" in built
    before = dict(t._shared)
    prepare_shared(t, policy())
    assert t._shared.keys() == before.keys()
    assert all(t._shared[k][1] is before[k][1] for k in before)
