"""Hostile and broken input (issue #15): a table of literal inputs and what the audit makes of
each — read right, quarantined with a reason, or refused with a one-line message that names the
file and never a row's contents — then one hostile world through ``audit run``, checked from
the outside: nothing written outside the run, no exit 3, no full ID shown, formulas defused.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import re
import sys
from collections.abc import Callable
from pathlib import Path

import polars as pl
import pytest
from click.testing import CliRunner

from audit.app.cli import main
from audit.loader import InputError, load_inputs
from fixtures.generate import generate
from fixtures.world import Config
from tests.hostile import input_ids, leaks
from tests.test_loader import MINIMAL, P1, P2, P3, U1, U2, write_inputs

CLAIMS_HEAD = "claim_id,unit_id,person_id,agreement_id,claim_month,claim_type,amount,submitted_date"


def claims(*rows: str) -> str:
    return CLAIMS_HEAD + "\n" + "".join(row + "\n" for row in rows)


C1 = f"C1,{U1},{P1},A1,2023-07,月度,1500,2023-08-05"
C2 = f"C2,{U1},{P1},A1,2023-08,月度,1500,2023-09-05"
C3 = f"C3,{U2},{P2},A2,2023-07,月度,1800,2023-08-06"


def _xlsx_far_cell(directory: Path) -> bytes:
    import openpyxl  # only for the workbook cases

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["person_id", "death_date"])
    ws.append([P1, "2024-01-01"])
    ws["XFD1048576"] = "x"
    path = directory / "far.xlsx"
    wb.save(path)
    return path.read_bytes()


def _parquet(frame: pl.DataFrame, directory: Path) -> bytes:
    path = directory / "t.parquet"
    frame.write_parquet(path)
    return path.read_bytes()


# -- read right: every row, every value -------------------------------------------------------

def claims_ids(loaded) -> list[str]:
    return loaded.tables["claims"]["claim_id"].to_list()


# GBK text that happens to be valid UTF-8: 元 is D4 AA in GBK, the UTF-8 of the Cyrillic Ԫ
_AGREEMENTS_YUAN = ("agreement_id,person_id,unit_id,start_date,planned_end_date,retained,allowance_monthly\n"
                    f"A1,{P1},{U1},2023-07-01,2023-12-31,{{retained}},2500元\nA2,{P2},{U2},2023-07-01,2024-06-30,,2400元\n")

READ = [
    ("a GBK line whose only Chinese is 路 (C2 B7, the UTF-8 of ·) in a GBK file",
     lambda d: {"units": (f"unit_id,unit_name,county_code,approved_date,address\n{U1},甲公司,430102,2023-01-05,人民路1号\n"
                          f"{U2},ABC Ltd,430102,2023-02-01,88路\n").encode("gbk")},
     lambda lo: lo.quarantine.filter(pl.col("table") == "units").height == 0
     and lo.tables["units"]["address"].to_list() == ["人民路1号", "88路"]),
    ("a GBK line whose only Chinese is 元, valid UTF-8 by chance, in a GBK file",
     lambda d: {"agreements": _AGREEMENTS_YUAN.format(retained="是").encode("gbk")},
     lambda lo: lo.quarantine.filter(pl.col("table") == "agreements").height == 0
     and lo.tables["agreements"]["allowance_monthly"].to_list() == [2500.0, 2400.0]),
    ("a GBK file whose only Chinese is 元: valid UTF-8 throughout, read as GBK",
     lambda d: {"agreements": _AGREEMENTS_YUAN.format(retained="").encode("gbk")},
     lambda lo: lo.quarantine.filter(pl.col("table") == "agreements").height == 0
     and lo.tables["agreements"]["allowance_monthly"].to_list() == [2500.0, 2400.0]),

    ("CR-only line ends (an old Mac export)", lambda d: {"claims": claims(C1, C2, C3).replace("\n", "\r")},
     lambda lo: claims_ids(lo) == ["C1", "C2", "C3"]),
    ("CR, LF and CRLF mixed (exports concatenated)",
     lambda d: {"claims": f"{CLAIMS_HEAD}\r\n{C1}\r{C2}\n{C3}\r\n"},
     lambda lo: claims_ids(lo) == ["C1", "C2", "C3"] and lo.tables["claims"]["_line"].to_list() == [2, 3, 4]),
    ("a CR-only required table", lambda d: {"trainees": MINIMAL["trainees"].replace("\n", "\r")},
     lambda lo: lo.tables["trainees"]["name"].to_list() == ["张三", "李四", "王五"]),
    ("a real GBK file", lambda d: {"trainees": MINIMAL["trainees"].encode("gbk")},
     lambda lo: lo.tables["trainees"]["name"].to_list() == ["张三", "李四", "王五"]),
    ("amounts with thousands separators, and without", lambda d: {"claims": claims(
        C1.replace(",1500,", ',"1,288.00",'), C2.replace(",1500,", ",1288,"))},
     lambda lo: lo.tables["claims"]["amount"].to_list() == [1288.0, 1288.0]),
    ("a negative amount (a reversal) is kept", lambda d: {"claims": claims(C1, C2.replace(",1500,", ",-1500,"))},
     lambda lo: lo.tables["claims"]["amount"].to_list() == [1500.0, -1500.0] and lo.quarantine.height == 0),
    ("a quoted comma in a text cell", lambda d: {"units": MINIMAL["units"].replace("甲公司", '"甲,公司"')},
     lambda lo: lo.tables["units"]["unit_name"].to_list() == ["甲,公司", "乙公司"]),
    ("a line break inside a quoted cell: one record, lines counted right",
     lambda d: {"units": MINIMAL["units"].replace("甲公司", '"甲\n公司"')},
     lambda lo: lo.tables["units"]["unit_name"].to_list() == ["甲\n公司", "乙公司"]
     and lo.tables["units"]["_line"].to_list() == [2, 4]),
    ("a quote inside an unquoted cell", lambda d: {"units": MINIMAL["units"].replace("甲公司", '甲"公司')},
     lambda lo: lo.tables["units"]["unit_name"].to_list() == ['甲"公司', "乙公司"]),
    ("a quote opened and never closed: the lines after it are still read",
     lambda d: {"claims": claims(C1.replace("月度", '"月度'), C2, C3)},
     lambda lo: claims_ids(lo) == ["C1", "C2", "C3"]),
    ("input columns named like the loader's own", lambda d: {"claims": claims(C1, C2).replace(
        CLAIMS_HEAD, CLAIMS_HEAD + ",_line,person_id_raw,person_id_status,_src,birth_date,unit_name").replace(
        ",2023-08-05\n", ",2023-08-05,a,b,c,d,e,f\n").replace(",2023-09-05\n", ",2023-09-05,a,b,c,d,e,f\n")},
     lambda lo: claims_ids(lo) == ["C1", "C2"] and lo.tables["claims"]["_line"].to_list() == [2, 3]
     and lo.tables["claims"]["person_id_status"].to_list() == ["ok", "ok"]
     and lo.unknown_columns["claims"] == ["_line_extra", "person_id_raw_extra", "person_id_status_extra",
                                         "_src_extra", "birth_date_extra", "unit_name_extra"]
     and lo.tables["claims"]["_line_extra"].to_list() == ["a", "a"]),
    ("a Parquet datetime with a time zone keeps its local date", lambda d: {"deaths.parquet": _parquet(
        pl.DataFrame({"person_id": [P1], "death_date": [dt.datetime(2024, 1, 1, 0, 30)]}).with_columns(
            pl.col("death_date").dt.replace_time_zone("Asia/Shanghai")), d)},
     lambda lo: lo.tables["deaths"]["death_date"].to_list() == [dt.date(2024, 1, 1)]),
]


@pytest.mark.parametrize("description,inputs,check", READ, ids=[c[0] for c in READ])
def test_read_right(tmp_path: Path, description: str, inputs: Callable, check: Callable) -> None:
    loaded = load_inputs(write_inputs(tmp_path / "in", **inputs(tmp_path)))
    assert check(loaded), description
    assert loaded.counts.select((pl.col("rows_read") == pl.col("rows_kept") + pl.col("rows_quarantined")
                                 + pl.col("duplicates_collapsed")).all()).item()


# -- quarantined with a reason: the row named by its line, the rest read --------------------

QUARANTINED = [
    ("an unquoted comma in a text cell shifts the fields",
     {"units": MINIMAL["units"].replace("甲公司", "甲,公司")}, "units", 2, "more fields than the header"),
    ("a row with fewer fields than the header", {"claims": claims(C1, "C2,x,y", C3)}, "claims", 3,
     "fewer fields than the header"),
    ("a last line cut short", {"claims": claims(C1, C2, C3)[:-20]}, "claims", 4, "truncated line"),
    ("one byte that is not UTF-8 in a UTF-8 file", {"claims": claims(C1, C2, C3).encode().replace(
        "月度".encode(), b"\xff", 1)}, "claims", 2, "not valid UTF-8"),
    ("a UTF-8 line in a GBK file", {"trainees": MINIMAL["trainees"].split("\n", 2)[0].encode("gbk") + b"\n"
                                    + MINIMAL["trainees"].split("\n")[1].encode("utf-8") + b"\n"
                                    + "\n".join(MINIMAL["trainees"].split("\n")[2:]).encode("gbk")},
     "trainees", 2, "a UTF-8 line in a GB18030 file"),
    ("an amount in European notation (1.288,00)", {"claims": claims(C1.replace(",1500,", ',"1.288,00",'), C2)},
     "claims", 2, "unreadable amount"),
    ("an amount with a decimal comma (12,88)", {"claims": claims(C1, C2.replace(",1500,", ',"12,88",'))},
     "claims", 3, "unreadable amount"),
    ("an amount beyond 100 million yuan", {"claims": claims(C1.replace(",1500,", ",150000000,"), C2)},
     "claims", 2, "outside the range"),
    ("a negative amount beyond 100 million yuan", {"claims": claims(C1, C2.replace(",1500,", ",-150000000,"))},
     "claims", 3, "outside the range"),
    ("an amount of 17 digits (once kept as −84 trillion)",
     {"claims": claims(C1.replace(",1500,", ",99999999999999999,"), C2)}, "claims", 2, "unreadable amount"),
    ("a year of 18 digits", {"retention_declarations": f"unit_id,year,completed_count,retained_count\n"
                                                       f"{U1},999999999999999999,2,1\n{U1},2023,2,1\n"},
     "retention_declarations", 2, "outside the range"),
    ("a year before 1990", {"retention_declarations": f"unit_id,year,completed_count,retained_count\n"
                                                      f"{U1},2023,2,1\n{U1},1989,2,1\n"},
     "retention_declarations", 3, "outside the range"),
    ("a date before 1950", {"claims": claims(C1.replace("2023-08-05", "1949-12-31"), C2)}, "claims", 2,
     "outside the range"),
    ("a date after 2100", {"claims": claims(C1, C2.replace("2023-09-05", "2101-01-01"))}, "claims", 3,
     "outside the range"),
]


@pytest.mark.parametrize("description,inputs,table,line,reason", QUARANTINED, ids=[c[0] for c in QUARANTINED])
def test_quarantined_with_reason(tmp_path: Path, description: str, inputs: dict, table: str, line: int,
                                 reason: str) -> None:
    loaded = load_inputs(write_inputs(tmp_path / "in", **inputs))
    q = loaded.quarantine.filter(pl.col("table") == table)
    assert (line, True) in [(r["line"], reason in r["reason"]) for r in q.iter_rows(named=True)], (description, q.rows())
    counts = loaded.counts.filter(pl.col("table") == table).row(0, named=True)
    assert counts["rows_read"] == counts["rows_kept"] + counts["rows_quarantined"] + counts["duplicates_collapsed"]
    assert counts["rows_quarantined"] == q["line"].n_unique() == 1, description  # the other rows are read
    kept = loaded.tables[table]
    assert line not in kept["_line"].to_list()
    if table == "claims" and "UTF-8" in reason:
        assert kept["claim_type"].to_list() == ["月度", "月度"]  # the rest read as UTF-8: no mojibake


# -- refused with a one-line message that names the file, never a row's contents --------------

def _dir_named_like_a_table(d: Path) -> dict:
    (d / "in").mkdir(parents=True, exist_ok=True)
    (d / "in" / "deaths.csv").mkdir()
    return {}


def _fifo_named_like_a_table(d: Path) -> dict:
    (d / "in").mkdir(parents=True, exist_ok=True)
    os.mkfifo(d / "in" / "deaths.csv")
    return {}


REFUSED = [
    ("a file without a header line", lambda d: {"trainees": MINIMAL["trainees"].split("\n", 1)[1]},
     r"trainees\.csv: not a table of trainees"),
    ("a directory named like a table", _dir_named_like_a_table, r"deaths\.csv: not a file"),
    ("a named pipe named like a table", _fifo_named_like_a_table, r"deaths\.csv: not a file"),
    ("a 5 KB workbook with one cell at XFD1048576", lambda d: {"deaths.xlsx": _xlsx_far_cell(d)},
     r"deaths\.xlsx: a sheet .* spans 1,048,576 rows × 16,384 columns"),
    ("a header of 100,000 columns", lambda d: {"deaths": "person_id,death_date," + ",".join(
        f"c{i}" for i in range(100_000)) + f"\n{P1},2024-01-01\n"}, r"deaths\.csv: the header has more than 1,000 columns"),
    ("a Parquet file of 2,000 columns", lambda d: {"deaths.parquet": _parquet(
        pl.DataFrame({"person_id": [P1], "death_date": ["2024-01-01"], **{f"c{i}": [1] for i in range(2_000)}}), d)},
     r"deaths\.parquet: 2,002 columns, more than 1,000"),
    ("a header line that is not text in any encoding", lambda d: {"claims": b"\xff\xfe\x80\x80,x\n1,2\n"},
     r"claims\.csv: cannot decode line 1 \(the header\)"),
]


@pytest.mark.parametrize("description,inputs,message", REFUSED, ids=[c[0] for c in REFUSED])
def test_refused_with_one_line(tmp_path: Path, description: str, inputs: Callable, message: str) -> None:
    changes = inputs(tmp_path)
    with pytest.raises(InputError) as caught:
        load_inputs(write_inputs(tmp_path / "in", **changes))
    text = str(caught.value)
    assert re.search(message, text), text
    assert "\n" not in text, "one line"
    for content in (P1, P2, P3, "张三", "李四", "本科"):  # no row's contents
        assert content not in text


@pytest.mark.parametrize("where", ["audit.loader.discovery.sha256_file", "audit.loader.readers.read_csv_text"])
@pytest.mark.parametrize("error", [PermissionError(13, "Permission denied"), OSError(5, "Input/output error")])
def test_an_unreadable_file_is_invalid_input(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, where: str,
                                             error: OSError) -> None:
    """A file the system will not read (permissions — which root never meets, so the read is
    made to fail here — or an I/O error), whether it fails as it is digested or as it is read:
    exit 2 and the file named, not exit 3."""
    data = write_inputs(tmp_path / "in", claims=claims(C1, C2))
    module, name = where.rsplit(".", 1)
    real = getattr(__import__(module, fromlist=[name]), name)

    def failing(path, *args, **kwargs):
        if Path(path).name == "claims.csv":
            error.filename = str(path)
            raise error
        return real(path, *args, **kwargs)

    monkeypatch.setattr(where, failing)
    result = CliRunner().invoke(main, ["run", str(data), "--month", "2024-06", "--out", str(tmp_path / "out")])
    assert result.exit_code == 2, result.output
    assert f"claims.csv: the file cannot be read ({error.strerror})" in result.output
    assert "Traceback" not in result.output


def test_refusing_a_stray_cell_allocates_nothing(tmp_path: Path) -> None:
    """The far cell is found in the sheet's XML before the reader sees it (the reader would ask
    for 17 billion cells): the check reads a 5 KB file, so this returns at once."""
    from audit.loader.readers import check_xlsx_extent

    path = tmp_path / "deaths.xlsx"
    path.write_bytes(_xlsx_far_cell(tmp_path))
    assert path.stat().st_size < 10_000
    with pytest.raises(InputError, match="XFD|16,384 columns"):
        check_xlsx_extent(path)


def test_a_long_narrow_sheet_is_read_not_refused(tmp_path: Path) -> None:
    """A sheet's cells are counted by its last row and its last column as its cells name them:
    6 columns of 100,000 rows are 600,000 cells, within the bound — not 100,000 rows × 702
    columns (ZZ, once assumed of every sheet) = 70 million, beyond it."""
    import zipfile

    from audit.loader.readers import MAX_SHEET_CELLS, check_xlsx_extent

    def sheet(last_row: int, last_column: str) -> Path:
        rows = "".join(f'<row r="{r}"><c r="A{r}" t="inlineStr"><is><t>x</t></is></c>'
                       f'<c r="{last_column}{r}"><v>1</v></c></row>' for r in (1, 2, last_row))
        path = tmp_path / f"{last_column}{last_row}.xlsx"
        with zipfile.ZipFile(path, "w") as book:
            book.writestr("xl/worksheets/sheet1.xml", '<worksheet xmlns="http://schemas.openxmlformats.org/'
                          f'spreadsheetml/2006/main"><sheetData>{rows}</sheetData></worksheet>')
        return path

    assert 100_000 * 702 > MAX_SHEET_CELLS
    check_xlsx_extent(sheet(100_000, "F"))  # 600,000 cells: read
    with pytest.raises(InputError, match="100,000 rows × 702 columns"):
        check_xlsx_extent(sheet(100_000, "ZZ"))  # 70 million: refused


def test_header_mapping_is_linear(tmp_path: Path) -> None:
    """20,000 unknown columns (below the bound) are mapped one lookup each: 400 million
    comparisons if it were quadratic; it returns with every name kept."""
    from audit.loader.headers import map_headers
    from audit.schema import SPECS

    headers = ["person_id", "death_date", *(f"c{i}" for i in range(20_000)), *(["c7"] * 3)]
    mapping = map_headers(SPECS["deaths"], headers, "deaths.csv", [])
    assert len(set(mapping.values())) == len(set(headers))


def test_validate_exits_1_and_lists_a_failed_contract(tmp_path: Path) -> None:
    data = write_inputs(tmp_path / "in", claims=claims(C1, C1.replace("2023-07", "2023-09"), C3))  # C1 twice
    result = CliRunner().invoke(main, ["validate", str(data), "--out", str(tmp_path / "out")])
    assert result.exit_code == 1, result.output
    assert "✗ claims: 主键唯一：申领编号不重复 / 主键唯一 key (claim_id) is unique — 2 of 3 rows" in result.output


def test_notes_never_print_data(tmp_path: Path) -> None:
    """An unknown column named like a data value (a row pasted above the header) is named masked
    and cut short in the reconciliation the terminal shows."""
    header = f"person_id,name,{P3},{'备注' * 40}"
    loaded = load_inputs(write_inputs(tmp_path / "in", trainees=f"{header}\n{P1},张三,x,y\n"))
    text = loaded.counts_text()
    assert P3 not in text and P3[:4] + "*" in text
    assert "备注" * 40 not in text and "…" in text


@pytest.mark.parametrize("key,value,shown", [
    ("card", "6222021234567890123", "6222***********0123"),
    ("bank_card_v", "6222 0212 3456 7890 123", "6222" + "*" * 15 + " 123"),
    ("phone", "13800138000", "138****8000"),
    ("person_id", "ID" + P1, "ID" + P1[:2] + "*" * 12 + P1[-4:]),
    # keys that mention a card or phone but hold no number: as they are
    ("months_paid_to_card", "2023-07", "2023-07"),
    ("graph_shared_phone_min_trainees", "3", "3"),
    ("account_of_units", U1, U1),
])
def test_evidence_is_masked_by_the_key_that_names_the_number(key: str, value: str, shown: str) -> None:
    from audit.masking import key_role, mask_as

    assert mask_as(key_role(key), value) == shown


def test_a_log_line_never_shows_a_full_id() -> None:
    """The CLI's log handler masks the whole line, a traceback's message included."""
    from audit.masking import MaskedFormatter

    try:
        raise ValueError(f"could not parse {P2}")
    except ValueError:
        record = logging.LogRecord("audit", logging.WARNING, __file__, 1, "row of %s", (P1,), sys.exc_info())
    text = MaskedFormatter("%(levelname)s %(message)s").format(record)
    assert "row of" in text and "could not parse" in text
    assert P1 not in text and P2 not in text


# -- one hostile world through `audit run` ------------------------------------------------------

HOSTILE_COUNTIES = ["../../x", "/tmp/audit-escape", "/", "9" * 300, "<script>alert(1)</script>", "a\"b'c"]
HOSTILE_NAMES = ["<!--<script>", "</script><script>alert(1)</script>", "__DATA__ __TITLE__ /*__VIS_JS__*/"]


@pytest.fixture(scope="module")
def hostile_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, object]:
    """A generated world made hostile: county codes that are paths and markup, names that are
    markup and the viewer's placeholders, IDs spelled with a prefix, hyphens and two digits too
    many, a formula for a name, negative amounts, extra columns named like the loader's and the
    rules' own; run with `audit run`."""
    root = tmp_path_factory.mktemp("hostile")
    data = root / "in"
    generate(data, Config(seed=5, trainees=50))
    units = pl.read_csv(data / "units.csv", infer_schema=False)
    n = len(HOSTILE_COUNTIES)
    units = units.with_columns(
        pl.when(pl.int_range(pl.len()) < n).then(pl.Series(HOSTILE_COUNTIES + [None] * (units.height - n)))
        .otherwise(pl.col("county_code")).alias("county_code"),
        pl.when(pl.int_range(pl.len()) < len(HOSTILE_NAMES)).then(
            pl.Series(HOSTILE_NAMES + [None] * (units.height - len(HOSTILE_NAMES)))).otherwise(pl.col("unit_name"))
        .alias("unit_name"),
    )
    # extra columns named like columns the rules make (a join would meet them) or the loader uses
    units = units.with_columns(pl.lit("x").alias("dormancy_months"), pl.lit("y").alias("_line"))
    units.write_csv(data / "units.csv")
    spellings = [lambda v: "ID" + v, lambda v: f"{v[:6]}-{v[6:14]}-{v[14:]}", lambda v: v + "12"]
    for table in ("trainees", "agreements", "claims"):
        frame = pl.read_csv(data / f"{table}.csv", infer_schema=False)
        people = frame["person_id"].to_list()
        frame = frame.with_columns(pl.Series("person_id", [spellings[hash(p) % 3](p) if p and i % 2 else p
                                                           for i, p in enumerate(people)]))
        if table == "trainees":
            frame = frame.with_columns(pl.when(pl.int_range(pl.len()) < 3).then(pl.lit("=cmd|' /C calc'!A0"))
                                       .when(pl.int_range(pl.len()) < 6).then(pl.lit("<!--<script>"))
                                       .otherwise(pl.col("name")).alias("name"))
        if table == "claims":
            frame = frame.with_columns(pl.lit("z").alias("first_claim"), pl.lit("w").alias("person_id_status"))
            frame = frame.with_columns(pl.when(pl.int_range(pl.len()) < 4).then(pl.lit("-1288.00"))
                                       .otherwise(pl.col("amount")).alias("amount"),
                                       pl.when(pl.int_range(pl.len()) == 5).then(pl.lit("=1+1"))
                                       .otherwise(pl.col("claim_month")).alias("claim_month"))
        frame.write_csv(data / f"{table}.csv")
    out = root / "out" / "run"
    os.environ["AUDIT_CHROMIUM"] = str(root / "no-chromium")
    try:
        result = CliRunner().invoke(main, ["run", str(data), "--month", "2024-06", "--out", str(out), "--quiet"])
    finally:
        del os.environ["AUDIT_CHROMIUM"]
    return data, out, result


def test_hostile_run_ends_with_findings_not_a_crash(hostile_run) -> None:
    _, out, result = hostile_run
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    assert (out / "report.html").exists() and (out / "recovery.xlsx").exists()


def test_nothing_is_written_outside_the_run(hostile_run) -> None:
    data, out, _ = hostile_run
    assert sorted(p.name for p in out.parent.iterdir()) == ["run"]
    assert not Path("/tmp/audit-escape.xlsx").exists()
    # a county's file: its six-digit code and its name from the regions table, sanitised (issue #14)
    for folder in ("exit_lists", "recovery_lists"):
        lists = sorted(p.name for p in (out / folder).iterdir())
        assert all(re.fullmatch(r"\d{6}(?:_[0-9A-Za-z_\-\u4e00-\u9fff]+)?\.xlsx|unknown\.xlsx", name) for name in lists), lists
    findings = pl.read_parquet(out / "findings.parquet")
    flagged = findings.filter(pl.col("rule_id") == "DATA_QUALITY.county_code_invalid")
    assert flagged.height >= len(HOSTILE_COUNTIES)


def test_no_full_id_in_what_a_person_reads(hostile_run) -> None:
    data, out, result = hostile_run
    assert leaks(out, input_ids(data), result.output) == []


def test_negative_amounts_are_flagged_and_break_nothing(hostile_run) -> None:
    _, out, _ = hostile_run
    findings = pl.read_parquet(out / "findings.parquet")
    assert findings.filter(pl.col("rule_id") == "DATA_QUALITY.negative_amount").height == 4
    assert list((out / "graphs").glob("case_*.html"))  # the viewer's node sizes take no log of a negative


def test_viewer_data_cannot_close_its_script(hostile_run) -> None:
    _, out, _ = hostile_run
    for page in (out / "graphs").glob("case_*.html"):
        text = page.read_text(encoding="utf-8")
        data = text.split('<script id="graph-data" type="application/json">', 1)[1].split("</script>", 1)[0]
        assert "<" not in data  # every < of the data is \u003c: no </script>, no <!--
        payload = json.loads(data)
        assert len(payload["title"]) < 500
        assert text.count("__DATA__") <= 1 and len(re.search(r"<title>(.*?)</title>", text, re.S).group(1)) < 500


def test_csv_outputs_defuse_formulas_and_keep_numbers(hostile_run) -> None:
    _, out, _ = hostile_run
    for name in ("findings.csv", "quarantine.csv"):
        frame = pl.read_csv(out / name, infer_schema=False)
        for column in frame.columns:
            values = frame[column].drop_nulls()
            bad = values.filter(values.str.contains(r"^[=+@\t\r]") | (values.str.contains(r"^-")
                                                                      & ~values.str.contains(r"^-[\d.,]+$")))
            assert bad.len() == 0, (name, column, bad.head(3).to_list())
    quarantine = pl.read_csv(out / "quarantine.csv", infer_schema=False)
    assert "'=1+1" in quarantine["value"].to_list()  # the formula, defused; its row quarantined
    findings = pl.read_csv(out / "findings.csv")
    assert findings.schema["amount_at_risk"] == pl.Float64  # a number column stays numbers


def test_unmasked_viewer_is_on_record(hostile_run, tmp_path: Path) -> None:
    _, out, _ = hostile_run
    case = pl.read_parquet(out / "cases.parquet")["case_id"][0]
    page = tmp_path / "case.html"
    result = CliRunner().invoke(main, ["graph", str(out), "--case", case, "--out", str(page), "--unmasked"])
    assert result.exit_code == 0, result.output
    record = json.loads((tmp_path / "case.html.access.json").read_text(encoding="utf-8"))
    assert record["unmasked"] is True and record["user"] and record["at"] and "--unmasked" in record["command"]
    masked = tmp_path / "masked.html"
    CliRunner().invoke(main, ["graph", str(out), "--case", case, "--out", str(masked)])
    assert not (tmp_path / "masked.html.access.json").exists()
