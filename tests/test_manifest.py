"""A rerun into the same directory removes what the previous run (or render) wrote, by its
manifest, and nothing else (issue #14, point 6): a county no longer listed leaves no file, a
case no longer drawn leaves no graph, and a workspace or an operator's files beside them stay."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

from audit import rundir
from reports import render_run
from tests.test_reports import synthetic_run


def _touch(path: Path, text: str = "x", age_s: float = 0.0) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    if age_s:
        past = time.time() - age_s
        os.utime(path, (past, past))
    return path


def test_a_rerender_removes_what_the_last_render_wrote_and_nothing_else(tmp_path: Path) -> None:
    path = synthetic_run(tmp_path / "run")
    render_run(path, pdf=False)
    status = json.loads((path / "render.json").read_text(encoding="utf-8"))
    assert "exit_lists/360121_南昌市南昌县.xlsx" in status["written"] and "report.html" in status["written"]
    # as if the last render had listed a county this one no longer does
    stale = _touch(path / "exit_lists" / "999999_旧县.xlsx", age_s=5)
    status["written"].append("exit_lists/999999_旧县.xlsx")
    (path / "render.json").write_text(json.dumps(status, ensure_ascii=False), encoding="utf-8")
    operator = _touch(path / "exit_lists" / "县区回复_360121.xlsx", age_s=5)  # an operator's file, named like ours
    workspace = _touch(path / "workspace" / "status.json", "{}", age_s=5)
    notes = _touch(path / "notes.txt", age_s=5)
    render_run(path, pdf=False)
    assert not stale.exists()
    assert operator.exists() and workspace.exists() and notes.exists()
    again = json.loads((path / "render.json").read_text(encoding="utf-8"))
    assert "exit_lists/县区回复_360121.xlsx" not in again["written"] and again["exit_lists"] == status["exit_lists"]


def test_the_previous_runs_graphs_go_before_a_rerun(tmp_path: Path) -> None:
    run = tmp_path / "run"
    old_graph = _touch(run / "graphs" / "case_Cold.html", age_s=60)
    kept_graph = _touch(run / "graphs" / "my_annotated_case.html", age_s=60)
    _touch(run / "run.json", json.dumps({"written": ["graphs/case_Cold.html", "run.json", "../outside.txt",
                                                     "/etc/passwd", "workspace/status.json"]}), age_s=60)
    outside = _touch(tmp_path / "outside.txt", age_s=60)
    workspace = _touch(run / "workspace" / "status.json", age_s=60)
    started = time.time()
    fresh = _touch(run / "graphs" / "case_Cnew.html")  # written by this run: kept even if listed
    removed = rundir.remove_outputs(run, [*rundir.previous_outputs(run, "run.json"), "graphs/case_Cnew.html"],
                                    keep_since=started)
    assert sorted(removed) == ["graphs/case_Cold.html", "run.json"]
    assert not old_graph.exists() and kept_graph.exists() and fresh.exists()
    assert outside.exists() and workspace.exists()  # outside the run, or not an output by name: never


def test_a_run_before_manifests_names_its_graphs_in_cases(tmp_path: Path) -> None:
    import polars as pl

    run = tmp_path / "run"
    _touch(run / "run.json", json.dumps({"audit_month": "2024-06"}))
    pl.DataFrame({"case_id": ["C1", "C2"], "graph_file": ["graphs/case_C1.html", None]}).write_parquet(run / "cases.parquet")
    assert rundir.previous_outputs(run, "run.json") == ["graphs/case_C1.html"]


def test_the_manifest_lists_only_outputs_written_since(tmp_path: Path) -> None:
    run = tmp_path / "run"
    _touch(run / "findings.parquet", age_s=60)
    started = time.time()
    _touch(run / "report.html")
    _touch(run / "graphs" / "case_C1.html")
    _touch(run / "mine.xlsx")
    assert rundir.written_since(run, started) == ["graphs/case_C1.html", "report.html"]
