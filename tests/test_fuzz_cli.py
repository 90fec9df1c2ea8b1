"""Fuzz through the CLI: seeded mutations of real-looking exports (:mod:`tests.hostile`, as
tests/test_fuzz_inputs.py gives them to the loader) through ``audit run``, in-process.

Fewer cases than the loader's, on a smaller whole world (20 trainees; the required tables and the
mutated one): exit code 0, 1 or 2 only, no traceback, nothing written outside ``--out``, the
counts reconcile, and no full ID of the input in the report, the viewers, the exit lists, the
recovery list, the 汇总表 or the terminal output. A file of its own so that the two fuzzers run
on two test workers side by side.
"""

from __future__ import annotations

import os
from collections import Counter
from pathlib import Path

import polars as pl
import pytest
from click.testing import CliRunner

from audit.app.cli import main
from audit.schema import REQUIRED_TABLES
from fixtures.generate import generate
from fixtures.world import Config
from tests.hostile import input_ids, leaks, mutation, read_world, write_world

#: CLI cases (seeds apart from the loader fuzz's)
CLI_CASES = 20
CLI_SEED0 = 10_000


@pytest.fixture(scope="module")
def cli_world_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A smaller world for the runs (each run's fixed cost — great-expectations, the reports —
    is most of it; 20 trainees still give findings, cases, an exit list and a recovery list)."""
    directory = tmp_path_factory.mktemp("fuzz-cli-world")
    generate(directory, Config(seed=11, trainees=20))
    return directory


@pytest.mark.e2e
def test_cli_fuzz(cli_world_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """CLI_CASES mutated worlds through ``audit run``, checked from the outside."""
    world = read_world(cli_world_dir)
    monkeypatch.setenv("AUDIT_CHROMIUM", str(tmp_path / "no-chromium"))  # the PDF is the HTML printed
    runner = CliRunner()
    problems: list[str] = []
    codes: Counter[int] = Counter()
    kinds: Counter[tuple[str, int]] = Counter()
    for seed in range(CLI_SEED0, CLI_SEED0 + CLI_CASES):
        m = mutation(seed, world)
        root = tmp_path / f"case{seed}"
        # the required tables and the mutated one: every stage runs, on fewer tables to validate
        data = write_world(world, root / "in", m, tables=(*REQUIRED_TABLES, m.table))
        out = root / "out"
        before = set(os.listdir(root))
        result = runner.invoke(main, ["run", str(data), "--month", "2024-06", "--out", str(out), "--quiet"])
        codes[result.exit_code] += 1
        kinds[(m.kind, result.exit_code)] += 1
        text = result.output + (result.stderr if result.stderr_bytes is not None else "")
        if result.exit_code not in (0, 1, 2) or "Traceback" in text:
            problems.append(f"{m}: exit {result.exit_code}: {text[-500:]}")
            continue
        if m.refuse and result.exit_code != 2:
            problems.append(f"{m}: must be refused (exit 2), exit {result.exit_code}")
        if set(os.listdir(root)) - before - {"out"}:
            problems.append(f"{m}: wrote outside --out: {set(os.listdir(root)) - before}")
        ids = input_ids(data)
        problems += [f"{m}: a full ID in {where}: {n}" for where, n in leaks(out, ids, text)]
        if result.exit_code == 2:
            continue
        counts = pl.read_csv(out / "load_counts.csv")
        if not counts.select((pl.col("rows_read") == pl.col("rows_kept") + pl.col("rows_quarantined")
                              + pl.col("duplicates_collapsed")).all()).item():
            problems.append(f"{m}: counts do not reconcile")
        read = counts.filter(pl.col("table") == m.table)["rows_read"].sum()
        if m.rows is not None and read != m.rows:
            problems.append(f"{m}: {read} rows of {m.table} read, the file holds {m.rows}")
        if not (out / "report.html").exists():
            problems.append(f"{m}: no report")
    print("\nCLI fuzz:", CLI_CASES, "runs; exit codes", dict(sorted(codes.items())))
    for (kind, code), n in sorted(kinds.items()):
        print(f"  {kind:<16} exit {code}  {n}")
    assert not problems, "\n".join(problems[:30])
