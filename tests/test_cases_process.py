"""A large run draws its cases in a child process (``audit.app.pipeline.render_outputs``,
``python -m audit.app.cases``): what it writes must be what the cases thread writes, and a child
that fails must fail the run with its error output."""

from __future__ import annotations

import filecmp
import shutil
import sys
from pathlib import Path

import polars as pl
import pytest

from audit.app import pipeline
from audit.app.pipeline import RunError, render_outputs, run_audit
from fixtures.generate import Config, generate


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory) -> Path:
    base = tmp_path_factory.mktemp("cases")
    generate(base / "world", Config(seed=5, trainees=300))
    run_audit(base / "world", "2024-06", base / "run", render=False)
    return base / "run"


def _files(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())


def test_the_child_draws_what_the_thread_draws(run_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    thread, process = tmp_path / "thread", tmp_path / "process"
    shutil.copytree(run_dir, thread)
    shutil.copytree(run_dir, process)
    monkeypatch.setattr(pipeline, "CASES_PROCESS_MIN_FINDINGS", 10**12)
    render_outputs(thread)
    drawn = []
    real = pipeline._render_with_cases_process
    monkeypatch.setattr(pipeline, "CASES_PROCESS_MIN_FINDINGS", 0)
    monkeypatch.setattr(pipeline, "_render_with_cases_process", lambda d: (drawn.append(d), real(d)))
    render_outputs(process)
    assert drawn == [process]  # the child path was taken
    assert pl.read_parquet(thread / "cases.parquet").equals(pl.read_parquet(process / "cases.parquet"))
    graphs = [p for p in _files(thread) if p.startswith("graphs/")]
    assert graphs and graphs == [p for p in _files(process) if p.startswith("graphs/")]
    assert all(filecmp.cmp(thread / g, process / g, shallow=False) for g in graphs)
    assert _files(thread) == _files(process)
    report = (process / "report.html").read_text(encoding="utf-8")
    assert all(g in report for g in graphs[:3])  # the report links the graphs the child drew


@pytest.mark.parametrize(("code", "why"), [
    ("import sys; sys.stderr.write('boom'); sys.exit(4)", "ended \\(exit 4\\) without writing cases.parquet"),
    ("import sys; print('[]', flush=True); sys.stderr.write('boom'); sys.exit(5)", "failed \\(exit 5\\)"),
])
def test_a_child_that_fails_fails_the_render(run_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                             code: str, why: str) -> None:
    out = tmp_path / "run"
    shutil.copytree(run_dir, out)
    monkeypatch.setattr(pipeline, "CASES_COMMAND", (sys.executable, "-c", code))
    with pytest.raises(RunError, match=why) as raised:
        pipeline._render_with_cases_process(out)
    assert "boom" in str(raised.value)  # its error output, for the operator
