"""Fuzz: seeded mutations of real-looking exports through the loader, and some through the CLI.

A small generated world (``fixtures.generate``, 50 trainees) is broken the ways real exports
break (:mod:`tests.hostile`: bytes, lines, encodings, headers, cells, line ends, sheet layouts),
one table at a time. For every case:

- the loader answers with a table or an :class:`~audit.loader.InputError` — nothing else (no
  traceback); a file that must be refused is, and one that must be read is;
- rows read = rows kept + rows quarantined (+ copies collapsed), and rows read = the data records
  the file holds, where the mutation knows how many it wrote: nothing lost without a word;
- no message or note shows a full ID number of the input.

Through the CLI (``audit run``, in-process) a smaller number of cases, on a smaller whole world
(20 trainees; the required tables and the mutated one): exit
code 0, 1 or 2 only, no traceback, nothing written outside ``--out``, the counts reconcile, and
no full ID of the input in the report, the viewers, the exit lists, the recovery list, the 汇总表
or the terminal output.
"""

from __future__ import annotations

import os
from collections import Counter
from pathlib import Path

import polars as pl
import pytest
from click.testing import CliRunner

from audit.app.cli import main
from audit.loader import InputError, load_table
from audit.schema import REQUIRED_TABLES
from fixtures.generate import generate
from fixtures.world import Config
from tests.hostile import input_ids, leaks, mutation, read_world, shown_ids, write_world

#: in-process loader cases, and CLI cases (seeds apart from the loader's)
LOADER_CASES = 320
CLI_CASES = 20
CLI_SEED0 = 10_000


@pytest.fixture(scope="module")
def world_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("fuzz-world")
    generate(directory, Config(seed=11, trainees=50))
    return directory


@pytest.fixture(scope="module")
def world(world_dir: Path):
    return read_world(world_dir)


@pytest.fixture(scope="module")
def cli_world_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A smaller world for the runs (each run's fixed cost — great-expectations, the reports —
    is most of it; 20 trainees still give findings, cases, an exit list and a recovery list)."""
    directory = tmp_path_factory.mktemp("fuzz-cli-world")
    generate(directory, Config(seed=11, trainees=20))
    return directory


def _check_loaded(m, table, notes: list[str], ids: set[str]) -> list[str]:
    problems = []
    counts = table.counts
    read = int(counts["rows_read"].sum())
    parts = counts.select(pl.col("rows_kept") + pl.col("rows_quarantined") + pl.col("duplicates_collapsed")).to_series()
    if not (counts["rows_read"] == parts).all():
        problems.append(f"{m}: rows read ≠ kept + quarantined + collapsed: {counts.rows()}")
    if m.rows is not None and read != m.rows:
        problems.append(f"{m}: {read} rows read, the file holds {m.rows}")
    if table.frame().height != table.height or int(counts["rows_kept"].sum()) != table.height:
        problems.append(f"{m}: the normalised table's rows differ from rows kept")
    problems += [f"{m}: a note shows an ID: {n}" for note in notes for n in shown_ids(note, ids)]
    return problems


def test_loader_fuzz(world, world_dir: Path, tmp_path: Path) -> None:
    """LOADER_CASES seeded mutations through the loader (one table each, as load_inputs reads it)."""
    ids = input_ids(world_dir)
    classes: Counter[tuple[str, str]] = Counter()
    problems: list[str] = []
    for seed in range(LOADER_CASES):
        m = mutation(seed, world)
        path = tmp_path / f"case{seed}" / m.name
        path.parent.mkdir()
        path.write_bytes(m.content)
        ids_here = ids | input_ids(path.parent)
        try:
            table, notes = load_table(path, m.table)
        except InputError as exc:
            outcome = "refused"
            if not (m.refuse or m.may_refuse):
                problems.append(f"{m}: refused, but must be read: {exc}")
            problems += [f"{m}: the refusal shows an ID: {n}" for n in shown_ids(str(exc), ids_here)]
        except Exception as exc:  # noqa: BLE001 — the point of the test: nothing but InputError escapes
            outcome = "crashed"
            problems.append(f"{m}: {type(exc).__name__}: {exc}")
        else:
            outcome = "quarantined" if int(table.counts["rows_quarantined"].sum()) else "read"
            if m.refuse:
                problems.append(f"{m}: read, but must be refused")
            problems += _check_loaded(m, table, notes, ids_here)
        classes[(m.kind, outcome)] += 1
    print("\nloader fuzz:", LOADER_CASES, "cases;", dict(sorted(Counter(o for _, o in classes.elements()).items())))
    for (kind, outcome), n in sorted(classes.items()):
        print(f"  {kind:<16} {outcome:<12} {n}")
    assert not problems, "\n".join(problems[:30])
    outcomes = {o for _, o in classes}
    assert {"read", "quarantined", "refused"} <= outcomes  # the mutations reach every class


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
