"""The malformed-input corpus through the CLI: exit 2 with one clear message, or a normal run
that reports the problem — never a traceback."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import polars as pl
import pytest
from click.testing import CliRunner

from audit.app.cli import main

CORPUS = Path(__file__).parent / "data" / "malformed"
BASE = CORPUS / "bom"  # a clean input (BOM aside) the generated cases start from


def _copy(case: str, tmp_path: Path) -> Path:
    target = tmp_path / case
    shutil.copytree(CORPUS / case if (CORPUS / case).exists() else BASE, target)
    return target


def _binary_csv(d: Path) -> None:
    (d / "claims.csv").write_bytes(bytes(range(256)) * 40)


def _undecodable(d: Path) -> None:
    (d / "claims.csv").write_bytes((d / "claims.csv").read_bytes().replace(b"1500", b"\xff\xfe\x80\x80"))


def _undecodable_header(d: Path) -> None:
    (d / "claims.csv").write_bytes((d / "claims.csv").read_bytes().replace("申领编号".encode(), b"\xff\xfe\x80\x80", 1))


def _xlsx_title_row(d: Path) -> None:
    import openpyxl

    rows = pl.read_csv(d / "claims.csv", infer_schema=False)
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["补贴申领明细表（2023年7月）"])
    ws.append(rows.columns)
    for row in rows.rows():
        ws.append(list(row))
    (d / "claims.csv").unlink()
    wb.save(d / "claims.xlsx")


GENERATED = {"binary_csv": _binary_csv, "undecodable_encoding": _undecodable, "undecodable_header": _undecodable_header,
             "xlsx_title_row": _xlsx_title_row}

REFUSED = [
    ("empty_file", r"claims\.csv: the file is empty"),
    ("header_only", r"claims\.csv: required table claims \(补贴申领明细\) has no rows"),
    ("missing_required_column", r"claims\.csv: required column claim_month \(补贴所属月份\) is missing"),
    ("binary_csv", r"claims\.csv: not a text table \(binary content\)"),
    ("undecodable_header", r"claims\.csv: cannot decode line 1 \(the header\) as UTF-8"),
]


def _run(case: str, tmp_path: Path):
    data = _copy(case, tmp_path)
    if case in GENERATED:
        GENERATED[case](data)
    out = tmp_path / "out"
    result = CliRunner().invoke(main, ["validate", str(data), "--out", str(out)])
    return result, out


@pytest.mark.parametrize("case,message", REFUSED, ids=[c[0] for c in REFUSED])
def test_unusable_input_exits_2_with_one_clear_message(tmp_path: Path, case: str, message: str) -> None:
    result, out = _run(case, tmp_path)
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    assert pytest.importorskip("re").search(message, result.output), result.output
    assert not (out / "normalised").exists()  # nothing half-written


def _claims(out: Path) -> pl.DataFrame:
    return pl.read_parquet(out / "normalised" / "claims.parquet")


def _quarantine(out: Path) -> pl.DataFrame:
    return pl.read_csv(out / "quarantine.csv", infer_schema=False)


def _expectation(out: Path, words: str) -> dict:
    report = json.loads((out / "validation.json").read_text(encoding="utf-8"))
    return next(e for e in report["expectations"] if e["table"] == "claims" and words in e["description"])


def check_truncated(out: Path) -> None:
    q = _quarantine(out)
    assert q.filter(pl.col("reason").str.contains("truncated"))["line"].to_list() == ["4"]
    assert _claims(out)["claim_id"].to_list() == ["C1", "C2"]


def check_duplicate_keys(out: Path) -> None:
    assert _claims(out)["claim_id"].to_list() == ["C1", "C2", "C1"]
    key = _expectation(out, "主键唯一")
    assert not key["success"] and key["unexpected_rows"] == 2


def check_read_normally(out: Path) -> None:
    assert _claims(out)["claim_id"].to_list() == ["C1", "C2"]
    assert _quarantine(out).height == 0


def check_undecodable_lines(out: Path) -> None:
    """Both data lines carry bytes that are neither UTF-8 nor GB18030 (the header is UTF-8): each
    is quarantined with its line, the file read as UTF-8 — never re-decoded as a whole."""
    q = _quarantine(out).filter(pl.col("reason").str.contains("not valid UTF-8"))
    assert q["line"].to_list() == ["2", "3"]
    assert _claims(out).height == 0


def check_xlsx(out: Path) -> None:
    claims = _claims(out)
    assert claims["claim_id"].to_list() == ["C1", "C2"]
    assert claims["_line"].to_list() == [3, 4]
    assert claims["_file"].to_list() == ["claims.xlsx#Sheet"] * 2


# (case, check, exit code: 1 where a data contract fails — the rows are kept and flagged)
ACCEPTED = [
    ("truncated_last_line", check_truncated, 0),
    ("duplicate_keys", check_duplicate_keys, 1),
    ("bom", check_read_normally, 0),
    ("trailing_blank_lines", check_read_normally, 0),
    ("xlsx_title_row", check_xlsx, 0),
    ("undecodable_encoding", check_undecodable_lines, 0),
]


@pytest.mark.parametrize("case,check,code", ACCEPTED, ids=[c[0] for c in ACCEPTED])
def test_recoverable_problems_run_and_are_reported(tmp_path: Path, case: str, check, code: int) -> None:
    result, out = _run(case, tmp_path)
    assert result.exit_code == code, result.output
    assert "Traceback" not in result.output
    assert "rows read = kept + quarantined + duplicates collapsed" in result.output
    check(out)
