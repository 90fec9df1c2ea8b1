"""Fuzz: seeded mutations of real-looking exports through the loader.

A small generated world (``fixtures.generate``, 50 trainees) is broken the ways real exports
break (:mod:`tests.hostile`: bytes, lines, encodings, headers, cells, line ends, sheet layouts),
one table at a time. For every case:

- the loader answers with a table or an :class:`~audit.loader.InputError` — nothing else (no
  traceback); a file that must be refused is, and one that must be read is;
- rows read = rows kept + rows quarantined (+ copies collapsed), and rows read = the data records
  the file holds, where the mutation knows how many it wrote: nothing lost without a word;
- no message or note shows a full ID number of the input.

Some of the same mutations go through the CLI: tests/test_fuzz_cli.py.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import polars as pl
import pytest

from audit.loader import InputError, load_table
from fixtures.generate import generate
from fixtures.world import Config
from tests.hostile import input_ids, mutation, read_world, shown_ids

#: in-process loader cases
LOADER_CASES = 320


@pytest.fixture(scope="module")
def world_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("fuzz-world")
    generate(directory, Config(seed=11, trainees=50))
    return directory


@pytest.fixture(scope="module")
def world(world_dir: Path):
    return read_world(world_dir)


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
