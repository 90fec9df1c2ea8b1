"""The run's data contracts, checked in a process of their own (:mod:`audit.app.validator`).

What the child writes must be what :func:`audit.validation.validate` gives in one process; a
child that fails must fail the run (exit 3) with its error; a run whose input is refused, or
that fails, must leave no child and no work directory behind.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest

from audit import rundir
from audit.app import validator
from audit.app.pipeline import RunError, run_audit
from audit.app.validator import WORK_DIR, BackgroundValidation, ValidationFailed
from audit.loader import InputError, load_inputs
from audit.validation import validate
from fixtures.generate import Config, generate


@pytest.fixture
def in_a_child(monkeypatch: pytest.MonkeyPatch) -> None:
    """Runs here validate in the child, as a fresh ``audit run`` does (a test session has
    imported great-expectations already, which makes a run validate inline)."""
    start = validator.start
    monkeypatch.setattr(validator, "start", lambda out_dir, process=None, **kw: start(out_dir, process=True, **kw))


@pytest.fixture(scope="module")
def messy(tmp_path_factory) -> Path:
    """A mixed-format world (CSV, XLSX, Parquet) with unreadable rows, duplicates and bad IDs."""
    world = tmp_path_factory.mktemp("messy") / "world"
    generate(world, Config(seed=9, trainees=150, fmt="mixed", mess=True))
    return world


def _contracts(path: Path) -> dict:
    report = json.loads(path.read_text(encoding="utf-8"))
    report.pop("seconds")
    return report


def test_the_child_writes_what_validation_in_one_process_gives(messy: Path, tmp_path: Path) -> None:
    out = tmp_path / "run"
    out.mkdir()
    child = BackgroundValidation(out)
    loaded = load_inputs(messy, out, staged=child.staged)
    loaded.write(out)  # the load moves its files while the child reads its links
    child.done(loaded)
    assert child.wait() > 0
    expected = validate(load_inputs(messy)).to_dict()
    expected.pop("seconds")
    got = _contracts(out / "validation.json")
    assert json.dumps(got, default=str) == json.dumps(expected, default=str)
    assert not got["success"] and got["expectations"]  # the messy world breaks contracts: not vacuous
    assert "validation.html" in {p.name for p in out.iterdir()}
    assert not (out / WORK_DIR).exists()


@pytest.mark.usefixtures("in_a_child")
def test_a_run_writes_the_childs_validation(messy: Path, tmp_path: Path) -> None:
    result = run_audit(messy, "2024-06", tmp_path / "run", render=False)
    got = _contracts(tmp_path / "run" / "validation.json")
    expected = validate(load_inputs(messy)).to_dict()
    expected.pop("seconds")
    assert json.dumps(got, default=str) == json.dumps(expected, default=str)
    assert result.summary["timings_s"]["validation_process"] > 0
    assert "validation.json" in result.summary[rundir.MANIFEST_KEY]  # written before the manifest
    assert not (tmp_path / "run" / WORK_DIR).exists()


@pytest.mark.usefixtures("in_a_child")
def test_a_child_that_fails_fails_the_run_with_its_error(messy: Path, tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(self: BackgroundValidation, loaded: object) -> None:  # a staged file gone before it is read
        self._send({"table": "claims", "path": str(tmp_path / "missing.parquet"), "height": 1})
        self._send({"done": ["claims"]})
        assert self.proc is not None and self.proc.stdin is not None
        self.proc.stdin.close()

    monkeypatch.setattr(BackgroundValidation, "done", broken)
    with pytest.raises(RunError, match="validation process failed"):
        run_audit(messy, "2024-06", tmp_path / "run", render=False)
    assert not (tmp_path / "run" / WORK_DIR).exists()
    assert not (tmp_path / "run" / "run.json").exists()


@pytest.mark.usefixtures("in_a_child")
def test_a_refused_input_stops_the_child_and_leaves_nothing(tmp_path: Path) -> None:
    empty = tmp_path / "in"
    empty.mkdir()
    children: list[BackgroundValidation] = []
    real = BackgroundValidation.__init__

    def remember(self: BackgroundValidation, out_dir: Path, **kw: object) -> None:
        real(self, out_dir, **kw)
        children.append(self)

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(BackgroundValidation, "__init__", remember)
        with pytest.raises(InputError):
            run_audit(empty, "2024-06", tmp_path / "run", render=False)
    assert len(children) == 1 and children[0].proc is None  # waited for: no process left running
    assert not (tmp_path / "run" / WORK_DIR).exists()


def test_the_parent_reports_a_child_that_died(tmp_path: Path) -> None:
    child = BackgroundValidation(tmp_path)
    assert child.proc is not None
    child.proc.kill()
    with pytest.raises(ValidationFailed, match="exit"):
        child.wait()
    assert not (tmp_path / WORK_DIR).exists()




def test_a_run_validates_inline_where_great_expectations_is_loaded(messy: Path, tmp_path: Path) -> None:
    import great_expectations  # noqa: F401 - loaded, as in a test session or a long-lived caller

    assert isinstance(validator.start(tmp_path / "x"), validator.InlineValidation)
    assert isinstance(validator.start(tmp_path / "y", process=True), BackgroundValidation)  # asked for
    result = run_audit(messy, "2024-06", tmp_path / "run", render=False)
    assert "validation_process" not in result.summary["timings_s"]
    expected = validate(load_inputs(messy)).to_dict()
    expected.pop("seconds")
    got = _contracts(tmp_path / "run" / "validation.json")
    assert json.dumps(got, default=str) == json.dumps(expected, default=str)


@pytest.mark.skipif(not hasattr(os, "getpriority"), reason="no process priorities on this system")
def test_the_child_runs_at_the_lowest_priority(tmp_path: Path) -> None:
    child = BackgroundValidation(tmp_path)
    assert child.proc is not None
    try:
        deadline = time.monotonic() + 30
        while os.getpriority(os.PRIO_PROCESS, child.proc.pid) < validator.CHILD_NICE and time.monotonic() < deadline:
            time.sleep(0.05)
        assert os.getpriority(os.PRIO_PROCESS, child.proc.pid) == validator.CHILD_NICE == 19
    finally:
        child.abort()
    assert not (tmp_path / WORK_DIR).exists()


SLEEPER = """
import os, sys, threading, time
os.nice(19)
threading.Thread(target=time.sleep, args=(30,), daemon=True).start()
print("ready", flush=True)
time.sleep(30)
"""


@pytest.mark.skipif(not hasattr(os, "setpriority") or not Path("/proc/self/task").is_dir(),
                    reason="per-thread priorities are Linux's")
def test_the_child_waited_for_gets_the_runs_priority_back() -> None:
    """A child at the lowest priority, its threads too, is raised to the run's own priority once
    the run waits for it (on a busy machine a niced child got next to no CPU); a child that is
    not lower is left as it is."""
    import subprocess
    import sys

    own = os.getpriority(os.PRIO_PROCESS, 0)
    if own >= 19:
        pytest.skip("this process runs at the lowest priority already")
    proc = subprocess.Popen([sys.executable, "-c", SLEEPER], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
        tasks = [int(t.name) for t in Path(f"/proc/{proc.pid}/task").iterdir()]
        assert len(tasks) >= 2 and all(os.getpriority(os.PRIO_PROCESS, t) == 19 for t in tasks)
        try:
            os.setpriority(os.PRIO_PROCESS, tasks[-1], 18)
        except PermissionError:
            pytest.skip("raising a priority is not allowed here (neither root nor RLIMIT_NICE)")
        assert validator.hurry(proc.pid) == len(tasks)
        assert all(os.getpriority(os.PRIO_PROCESS, t) == own for t in tasks)
        assert validator.hurry(proc.pid) == 0  # at the run's priority already: nothing to raise
    finally:
        proc.kill()
        proc.wait()


def test_a_small_input_is_validated_at_the_runs_own_priority(tmp_path: Path) -> None:
    """The lowest priority only where the input is large enough for the overlap to matter: a
    small one's child runs at the run's priority (on a busy machine that may not raise a
    priority, a niced child starves); an input of unknown size keeps the lowest (the child at
    the lowest: test_the_child_runs_at_the_lowest_priority)."""
    import subprocess
    import sys

    assert validator.child_nice(1_200_000) == 0  # the demo
    assert validator.child_nice(validator.NICE_FROM_BYTES - 1) == 0
    assert validator.child_nice(293 * 2**20) == validator.CHILD_NICE  # the 1 M world
    assert validator.child_nice(None) == validator.CHILD_NICE
    # the parent tells the child ...
    background = BackgroundValidation(tmp_path, nice=0)
    try:
        assert background.proc is not None
        environ, deadline = Path(f"/proc/{background.proc.pid}/environ"), time.monotonic() + 30
        if environ.exists():
            while not environ.read_bytes() and time.monotonic() < deadline:  # forked, not yet exec'd
                time.sleep(0.02)
            assert f"{validator.NICE_ENV}=0".encode() in environ.read_bytes().split(b"\0")
    finally:
        background.abort()
    # ... and the child takes the priority it is told
    if os.getpriority(os.PRIO_PROCESS, 0) != 0:
        pytest.skip("this process does not run at the ordinary priority")
    settle = "import os; from audit.app.validator import settle_priority; settle_priority(); print(os.nice(0))"
    for told, taken in (("0", "0"), ("19", "19")):
        out = subprocess.run([sys.executable, "-c", settle], env={**os.environ, validator.NICE_ENV: told},
                             capture_output=True, text=True, check=True).stdout.strip()
        assert out == taken
