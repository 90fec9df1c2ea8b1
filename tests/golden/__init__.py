"""Digests of the demo run's outputs, compared by ``tests/test_golden.py`` with ``tests/golden/demo.json``.

The demo (``fixtures/demo``, month 2024-06) is run with the reports rendered (the PDF apart), and
what an auditor receives is reduced to digests that do not depend on how a file was written:

- ``findings``: the SHA-256 of findings.parquet's rows as CSV text, sorted on every column, and
  the number of rows;
- ``finding_claims`` and ``skipped`` likewise;
- each workbook (``exit_list.xlsx``, ``exit_lists/<county>.xlsx``, ``recovery.xlsx``,
  ``recovery_lists/<county>.xlsx``, ``summary_table.xlsx``): the SHA-256 of every cell's value, sheet by sheet, as openpyxl reads it.

A change that alters the outputs on purpose (a rule fixed, a column added) regenerates them, and
the commit says why::

    python -m tests.golden --update        # rewrite tests/golden/demo.json from the current code
    python -m tests.golden                 # print what differs from the committed digests
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

import openpyxl
import polars as pl
from click.testing import CliRunner

from audit.app.cli import main

ROOT = Path(__file__).resolve().parent.parent.parent
DEMO = ROOT / "fixtures" / "demo"
MONTH = "2024-06"
GOLDEN = Path(__file__).resolve().parent / "demo.json"


def run_demo(out_dir: Path) -> Path:
    """``audit run fixtures/demo --month 2024-06`` into ``out_dir``, reports rendered without the PDF."""
    previous = os.environ.get("AUDIT_CHROMIUM")
    os.environ["AUDIT_CHROMIUM"] = str(out_dir.parent / "no-chromium")  # the PDF is test_pdf's
    try:
        result = CliRunner().invoke(main, ["run", str(DEMO), "--month", MONTH, "--out", str(out_dir), "--quiet"])
    finally:
        if previous is None:
            os.environ.pop("AUDIT_CHROMIUM", None)
        else:
            os.environ["AUDIT_CHROMIUM"] = previous
    if result.exit_code != 1:  # the demo has planted fraud: findings, exit code 1
        raise RuntimeError(f"audit run on the demo exited {result.exit_code}:\n{result.output}")
    return out_dir


def rows_digest(path: Path) -> dict[str, Any]:
    frame = pl.read_parquet(path)
    text = frame.sort(frame.columns, nulls_last=True).write_csv()
    return {"rows": frame.height, "sha256": hashlib.sha256(text.encode("utf-8")).hexdigest()}


def cells_digest(path: Path) -> dict[str, str]:
    book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    out = {}
    for sheet in book.worksheets:
        cells = [[None if v is None else str(v) for v in row] for row in sheet.iter_rows(values_only=True)]
        out[sheet.title] = hashlib.sha256(json.dumps(cells, ensure_ascii=False).encode("utf-8")).hexdigest()
    book.close()
    return out


def digests(run_dir: Path) -> dict[str, Any]:
    books = ["exit_list.xlsx", *sorted(f"exit_lists/{p.name}" for p in (run_dir / "exit_lists").glob("*.xlsx")),
             "recovery.xlsx", *sorted(f"recovery_lists/{p.name}" for p in (run_dir / "recovery_lists").glob("*.xlsx")),
             "summary_table.xlsx"]
    return {
        "findings": rows_digest(run_dir / "findings.parquet"),
        "finding_claims": rows_digest(run_dir / "finding_claims.parquet"),
        "skipped": rows_digest(run_dir / "skipped.parquet"),
        "workbooks": {name: cells_digest(run_dir / name) for name in books},
    }


def differences(expected: dict[str, Any], actual: dict[str, Any]) -> list[str]:
    out = []
    for key in ("findings", "finding_claims", "skipped"):
        if expected.get(key) != actual.get(key):
            out.append(f"{key}: {expected.get(key)} → {actual.get(key)}")
    books_e, books_a = expected.get("workbooks", {}), actual.get("workbooks", {})
    for name in sorted(set(books_e) | set(books_a)):
        if books_e.get(name) != books_a.get(name):
            sheets = sorted(s for s in set(books_e.get(name) or {}) | set(books_a.get(name) or {})
                            if (books_e.get(name) or {}).get(s) != (books_a.get(name) or {}).get(s))
            out.append(f"{name}: sheets differ: {', '.join(sheets)}")
    return out
