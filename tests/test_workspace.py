"""The workspace file: a real DuckDB file, one writer at a time, nothing half-written.

Real processes: one holds the workspace while another tries to write it (it is told the
workspace is busy, exit code 4, and writes nothing); one is killed in the middle of writing a
run (the workspace is as it was before, and the next run goes through — no stale lock).
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import polars as pl
import pytest

from audit.workspace import WORKSPACE_FILE, Workspace, WorkspaceBusy, WorkspaceError

ROOT = Path(__file__).resolve().parent.parent
DEMO = ROOT / "fixtures" / "demo"


def _env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(ROOT)}


def _snapshot(directory: Path) -> dict[str, list[tuple]]:
    """Every row of every table, sorted (what "as it was" means)."""
    with Workspace.open(directory, create=False, read_only=True) as ws:
        names = [r[0] for r in ws.con.execute("SELECT table_name FROM information_schema.tables").fetchall()]
        return {n: sorted(map(str, ws.con.execute(f"SELECT * FROM {n}").fetchall())) for n in sorted(names)}


def test_duckdb_is_behind_one_door() -> None:
    """Only the workspace's store imports duckdb (STYLE.md, "Each engine behind one door")."""
    import ast

    importers = []
    for package in ("audit", "checks", "reports", "fixtures"):
        for path in sorted((ROOT / package).rglob("*.py")):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                names = [a.name for a in node.names] if isinstance(node, ast.Import) else \
                    [node.module or ""] if isinstance(node, ast.ImportFrom) else []
                if any(n == "duckdb" or n.startswith("duckdb.") for n in names):
                    importers.append(path.relative_to(ROOT).as_posix())
    assert importers == ["audit/workspace/store.py"]


def test_a_workspace_is_a_duckdb_file(tmp_path: Path) -> None:
    with Workspace.open(tmp_path / "ws") as ws:
        assert ws.path == tmp_path / "ws" / WORKSPACE_FILE and ws.path.exists()
        assert ws.months() == []
    assert (tmp_path / "ws" / WORKSPACE_FILE).read_bytes()[8:12] == b"DUCK"
    with pytest.raises(WorkspaceError, match="no workspace here"):
        Workspace.open(tmp_path / "elsewhere", create=False)


def test_a_transaction_that_fails_writes_nothing(tmp_path: Path) -> None:
    with Workspace.open(tmp_path) as ws:
        with ws.transaction():
            ws.insert("runs", pl.DataFrame({"month": [dt.date(2024, 5, 1)], "findings": [3]}))
        with pytest.raises(RuntimeError), ws.transaction():
            ws.insert("runs", pl.DataFrame({"month": [dt.date(2024, 6, 1)], "findings": [4]}))
            raise RuntimeError("the run broke")
        assert ws.months() == [dt.date(2024, 5, 1)]


HOLD = textwrap.dedent("""
    import sys, time
    from audit.workspace import Workspace
    ws = Workspace.open(sys.argv[1])
    print("holding", flush=True)
    time.sleep(60)
""")


def test_a_second_process_is_told_the_workspace_is_busy(tmp_path: Path) -> None:
    ws_dir = tmp_path / "ws"
    holder = subprocess.Popen([sys.executable, "-c", HOLD, str(ws_dir)], stdout=subprocess.PIPE, text=True,
                              env=_env(), cwd=ROOT)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "holding"
        run = subprocess.run([sys.executable, "-m", "audit", "run", str(DEMO), "--month", "2024-06", "--out",
                              str(tmp_path / "out"), "--workspace", str(ws_dir), "--no-render", "--quiet"],
                             capture_output=True, text=True, env=_env(), cwd=ROOT, timeout=120)
        assert run.returncode == 4, run.stderr
        assert "工作区正被另一进程使用 / workspace busy" in run.stderr
        assert not (tmp_path / "out" / "findings.parquet").exists()  # refused before any work
        history = subprocess.run([sys.executable, "-m", "audit", "history", "--workspace", str(ws_dir)],
                                 capture_output=True, text=True, env=_env(), cwd=ROOT, timeout=60)
        assert history.returncode == 4 and "workspace busy" in history.stderr
        with pytest.raises(WorkspaceBusy):
            Workspace.open(ws_dir)
    finally:
        holder.kill()
        holder.wait()
    with Workspace.open(ws_dir) as ws:  # the holder gone, its lock went with it
        assert ws.months() == []


KILLED_MID_COMMIT = textwrap.dedent("""
    import os, signal, sys
    from pathlib import Path
    from audit.app import pipeline
    from audit.workspace.store import Workspace
    calls = []
    real = Workspace.insert
    def insert(self, table, rows, **kw):
        real(self, table, rows, **kw)
        calls.append(table)
        if table == "finding_claims":  # the run's findings written, the rest not yet: killed
            os.kill(os.getpid(), signal.SIGKILL)
    Workspace.insert = insert
    pipeline.run_audit(Path(sys.argv[1]), sys.argv[2], Path(sys.argv[3]), render=False, workspace=Path(sys.argv[4]))
""")


@pytest.mark.e2e
def test_a_run_killed_while_writing_leaves_the_workspace_as_it_was(tmp_path: Path) -> None:
    ws_dir = tmp_path / "ws"
    first = subprocess.run([sys.executable, "-m", "audit", "run", str(DEMO), "--month", "2024-05", "--out",
                            str(tmp_path / "2024-05"), "--workspace", str(ws_dir), "--no-render", "--quiet"],
                           capture_output=True, text=True, env=_env(), cwd=ROOT, timeout=600)
    assert first.returncode == 1, first.stderr
    before = _snapshot(ws_dir)
    assert before["runs"] and before["findings"]
    killed = subprocess.run([sys.executable, "-c", KILLED_MID_COMMIT, str(DEMO), "2024-06", str(tmp_path / "2024-06"),
                             str(ws_dir)], capture_output=True, text=True, env=_env(), cwd=ROOT, timeout=600)
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    assert _snapshot(ws_dir) == before
    shutil.rmtree(tmp_path / "2024-06")
    again = subprocess.run([sys.executable, "-m", "audit", "run", str(DEMO), "--month", "2024-06", "--out",
                            str(tmp_path / "2024-06"), "--workspace", str(ws_dir), "--no-render", "--quiet"],
                           capture_output=True, text=True, env=_env(), cwd=ROOT, timeout=600)
    assert again.returncode == 1, again.stderr
    with Workspace.open(ws_dir, create=False, read_only=True) as ws:
        assert ws.months() == [dt.date(2024, 5, 1), dt.date(2024, 6, 1)]
        assert ws.scalar("SELECT count(*) FROM findings WHERE month = DATE '2024-06-01'") > 0
