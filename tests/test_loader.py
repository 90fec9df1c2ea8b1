"""The loader: files, encodings, headers, XLSX sheets, normalised columns, quarantine and counts."""

from __future__ import annotations

import datetime as dt
import hashlib
import random
from pathlib import Path

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from audit.loader import InputError, load_inputs, note_zh
from audit.loader.discovery import table_part_named
from audit.loader.normalised import NOTE_ROW
from audit.normalise import gb11643_check_char, gb32100_check_char
from audit.schema import SPECS


def pid(first17: str) -> str:
    return first17 + gb11643_check_char(first17)


def uscc(first17: str) -> str:
    return first17 + gb32100_check_char(first17)


U1, U2 = uscc("91430102MA4L00001"), uscc("91430102MA4L00002")
P1, P2, P3 = pid("43010219990101001"), pid("43010219980202002"), pid("36010220000303003")
P4, P5 = pid("36010220010404004"), pid("36010220020505005")

MINIMAL: dict[str, str] = {
    "units": f"unit_id,unit_name,county_code,approved_date\n{U1},甲公司,430102,2023-01-05\n{U2},乙公司,430102,2023-02-01\n",
    "trainees": f"person_id,name,education,graduation_date\n{P1},张三,本科,2023-06-30\n{P2},李四,专科,2023-06-30\n{P3},王五,本科,2022-06-30\n",
    "agreements": (
        "agreement_id,person_id,unit_id,start_date,planned_end_date,retained\n"
        f"A1,{P1},{U1},2023-07-01,2023-12-31,是\nA2,{P2},{U2},2023-07-01,2024-06-30,否\n"
    ),
    "claims": (
        "claim_id,unit_id,person_id,agreement_id,claim_month,claim_type,amount,submitted_date\n"
        f"C1,{U1},{P1},A1,2023-07,月度,1500,2023-08-05\nC2,{U1},{P1},A1,2023-08,月度,1500,2023-09-05\n"
        f"C3,{U2},{P2},A2,2023-07,月度,1800,2023-08-06\n"
    ),
    "social_insurance": (
        f"person_id,employer_id,month,insurance_type\n{P1},{U1},2023-07,养老\n{P2},{U2},2023-07,医疗\n{P3},,2023-07,养老\n"
    ),
}


def write_inputs(directory: Path, **tables: str | bytes | None) -> Path:
    """The minimal valid input, with tables replaced (text or bytes) or removed (None) by name.

    A name may carry its suffix (``claims.xlsx``) to write another format; plain names are CSV.
    """
    directory.mkdir(parents=True, exist_ok=True)
    contents: dict[str, str | bytes | None] = {f"{k}.csv": v for k, v in MINIMAL.items()}
    for name, content in tables.items():
        file = name if "." in name else f"{name}.csv"
        contents.pop(f"{Path(file).stem}.csv", None)
        contents[file] = content
    for file, content in contents.items():
        if content is None:
            continue
        path = directory / file
        path.write_bytes(content if isinstance(content, bytes) else content.encode("utf-8"))
    return directory


def reconciles(counts: pl.DataFrame) -> bool:
    return counts.select(
        (pl.col("rows_read") == pl.col("rows_kept") + pl.col("rows_quarantined") + pl.col("duplicates_collapsed")).all()
    ).item()


# ---------------------------------------------------------------------------------------------
# encodings and headers

TRAINEES_ZH = f"身份证号,姓名,学历,毕业离校日期\n{P1},张三,本科,2023年6月30日\n{P2},李四,专科,2023/6/30\n{P3},王五,本科,20220630\n"

ENCODINGS = [
    ("UTF-8", TRAINEES_ZH.encode("utf-8")),
    ("UTF-8 with BOM", b"\xef\xbb\xbf" + TRAINEES_ZH.encode("utf-8")),
    ("GBK", TRAINEES_ZH.encode("gbk")),
    ("GB18030", TRAINEES_ZH.encode("gb18030")),
]


@pytest.mark.parametrize("content", [c[1] for c in ENCODINGS], ids=[c[0] for c in ENCODINGS])
def test_encodings_are_detected(tmp_path: Path, content: bytes) -> None:
    loaded = load_inputs(write_inputs(tmp_path, trainees=content))
    trainees = loaded.tables["trainees"]
    assert trainees["name"].to_list() == ["张三", "李四", "王五"]
    assert trainees["graduation_date"].to_list() == [dt.date(2023, 6, 30), dt.date(2023, 6, 30), dt.date(2022, 6, 30)]


HEADERS = [
    ("canonical", "person_id,name", "person_id"),
    ("Chinese", "身份证号,姓名", "person_id"),
    ("spaces around", " 身份证号 , 姓名 ", "person_id"),
    ("alias", "公民身份号码,姓名", "person_id"),
    ("社会保障号码 is the ID", "社会保障号码,见习人员姓名", "person_id"),
    ("证件号码", "证件号码,人员姓名", "person_id"),
    ("full-width brackets and unit", "身份证号（18位）,姓名", "person_id"),
    ("required marker", "*身份证号,*姓名", "person_id"),
]


@pytest.mark.parametrize("header", [c[1] for c in HEADERS], ids=[c[0] for c in HEADERS])
def test_header_spellings(tmp_path: Path, header: str) -> None:
    content = f"{header}\n{P1},张三\n"
    loaded = load_inputs(write_inputs(tmp_path, trainees=content))
    assert loaded.tables["trainees"]["person_id"].to_list() == [P1]
    assert loaded.unknown_columns["trainees"] == []


def test_claims_under_other_headers_of_their_columns(tmp_path: Path) -> None:
    """A claims export headed with the other names its columns go by (申请编号, 单位社会信用代码,
    证件号码, 协议号, 补贴所属期, 申请金额（元）, 申报日期) reads as the canonical one: no column
    missing, none extra."""
    content = ("申请编号,单位社会信用代码,证件号码,协议号,补贴所属期,补贴类型,申请金额（元）,申报日期\n"
               f"C1,{U1},{P1},A1,2023年7月份,月度,1500,2023 年 8 月 5 日\n")
    loaded = load_inputs(write_inputs(tmp_path, claims=content))
    claims = loaded.tables["claims"]
    assert loaded.unknown_columns["claims"] == []
    assert claims.select("claim_id", "unit_id", "person_id", "agreement_id", "claim_month", "amount",
                         "submitted_date").rows() == [("C1", U1, P1, "A1", dt.date(2023, 7, 1), 1500.0,
                                                       dt.date(2023, 8, 5))]


@pytest.mark.parametrize("unit, cells, amounts", [
    pytest.param("万元", ["0.1488", "0.148", "1,500"], [1488.0, 1480.0, 15_000_000.0], id="万元: times 10,000, to the fen"),
    pytest.param("分", ["148800", "148000", "150050"], [1488.0, 1480.0, 1500.5], id="分: a hundredth"),
    pytest.param("元", ["1488", "1,480.00", "1500.5"], [1488.0, 1480.0, 1500.5], id="look-alike: 元 is read as it is"),
])
def test_an_amount_header_naming_its_unit_is_read_in_it(tmp_path: Path, unit: str, cells: list, amounts: list) -> None:
    """申领金额（万元）: the amounts are read in the unit the header names and converted to 元, with
    a note; reading 0.1488 万元 as 0.15 元 would make every claim look underpaid (or, in 分, a
    hundred times overpaid)."""
    rows = "".join(f"C{i},{U1},{P1},2023-0{i + 7},月度,\"{a}\",2023-10-05\n" for i, a in enumerate(cells))
    content = f"申领编号,统一社会信用代码,身份证号,补贴所属月份,补贴类型,申领金额（{unit}）,申领日期\n" + rows
    loaded = load_inputs(write_inputs(tmp_path, claims=content))
    assert loaded.tables["claims"]["amount"].to_list() == amounts
    assert any(f"按{unit}读取" in n for n in loaded.notes) == (unit != "元")


def test_the_summary_tables_wan_yuan_stays_in_wan_yuan(tmp_path: Path) -> None:
    """Look-alike: indicator 14 of the 汇总表 is in 万元 by the form; headed 指标14（万元） it is read as
    it is, headed 指标14（元） it is converted to 万元 (both to two decimals, as the form is compared)."""
    head = "区划代码,月份," + ",".join(f"指标{n}" for n in range(1, 14))
    row = "430102,2023-07," + ",".join(["1"] * 13)
    for unit, cell, expected in (("万元", "12.3456", 12.35), ("元", "123456", 12.35)):
        content = f"{head},指标14（{unit}）\n{row},{cell}\n"
        loaded = load_inputs(write_inputs(tmp_path / unit, county_reports=content))
        assert loaded.tables["county_reports"]["i14"].to_list() == [pytest.approx(expected)]


def test_a_parquet_amount_in_wan_yuan(tmp_path: Path) -> None:
    """The same for a typed Parquet column headed 申领金额(万元)."""
    data = write_inputs(tmp_path, claims=None)
    pl.DataFrame({"申领编号": ["C1"], "统一社会信用代码": [U1], "身份证号": [P1], "补贴所属月份": ["2023-07"],
                  "补贴类型": ["月度"], "申领金额(万元)": [0.1488], "申领日期": ["2023-08-05"]}
                 ).write_parquet(data / "claims.parquet")
    assert load_inputs(data).tables["claims"]["amount"].to_list() == [1488.0]


def test_a_header_named_twice_keeps_the_contracts_own(tmp_path: Path) -> None:
    """申领金额 and 申请金额 side by side: the contract's own header is the amount, the other an
    extra column kept as it is."""
    content = ("申领编号,统一社会信用代码,身份证号,补贴所属月份,补贴类型,申领金额,申请金额,申领日期\n"
               f"C1,{U1},{P1},2023-07,月度,1500,1800,2023-08-05\n")
    loaded = load_inputs(write_inputs(tmp_path, claims=content))
    assert loaded.tables["claims"]["amount"].to_list() == [1500.0]
    assert loaded.unknown_columns["claims"] == ["申请金额"]


def test_full_width_slash_in_header(tmp_path: Path) -> None:
    content = f"身份证号,姓名,社保卡／银行卡号\n{P1},张三,6222000011112222\n"
    loaded = load_inputs(write_inputs(tmp_path, trainees=content))
    assert loaded.tables["trainees"]["bank_card"].to_list() == ["6222000011112222"]


def test_unknown_columns_are_kept_as_text_and_reported(tmp_path: Path) -> None:
    content = f"身份证号,姓名,备注,籍贯\n{P1},张三,复核,2\n"
    loaded = load_inputs(write_inputs(tmp_path, trainees=content))
    trainees = loaded.tables["trainees"]
    assert loaded.unknown_columns["trainees"] == ["备注", "籍贯"]
    assert trainees.columns[-2:] == ["备注", "籍贯"]
    assert trainees.schema["籍贯"] == pl.String
    assert "备注" in loaded.counts_text()


def test_unknown_files_are_ignored_with_a_note(tmp_path: Path) -> None:
    write_inputs(tmp_path)
    (tmp_path / "readme.txt").write_text("not a table")
    (tmp_path / "budget.csv").write_text("a,b\n1,2\n")
    loaded = load_inputs(tmp_path)
    assert "budget.csv" in loaded.counts_text() and "readme.txt" in loaded.counts_text()
    assert "budget" not in loaded.tables


def test_every_file_read_is_recorded_with_its_size_and_sha256(tmp_path: Path) -> None:
    """The audit trail of a load: each input file read (not the ignored ones), by its path in
    the input directory, with its size and the SHA-256 of its bytes; the staged load the same."""
    data = write_inputs(tmp_path / "in")
    pl.DataFrame({"unit_id": [U1], "reg_status": ["存续"]}).write_parquet(data / "market_registry.parquet")
    (data / "readme.txt").write_text("not a table")
    (data / ".~lock.claims.csv#").write_text("an editor's lock file")
    expected = [
        {"path": p.name, "bytes": p.stat().st_size, "sha256": hashlib.sha256(p.read_bytes()).hexdigest()}
        for p in sorted(data.glob("*.*")) if p.suffix in (".csv", ".parquet") and not p.name.startswith(".")
    ]
    assert [r["path"] for r in expected] == ["agreements.csv", "claims.csv", "market_registry.parquet",
                                             "social_insurance.csv", "trainees.csv", "units.csv"]
    assert load_inputs(data).input_files == expected
    assert load_inputs(data, tmp_path / "out").input_files == expected


def test_a_tab_separated_csv_is_read_line_for_line(tmp_path: Path) -> None:
    """A "CSV" whose fields are separated by tabs (a system's export, a sheet copied out of Excel),
    below a title line: read as such, a cell holding a comma kept whole, every row at its line in
    the file (the unreadable month of line 4 quarantined there)."""
    content = ("补贴申领明细表\n"
               "申领编号\t统一社会信用代码\t身份证号\t补贴所属月份\t补贴类型\t申领金额\t申领日期\n"
               f"C1\t{U1}\t{P1}\t2023-07\t月度\t1,500.00\t2023-08-05\n"
               f"C2\t{U1}\t{P1}\t2023-13\t月度\t1500\t2023-09-05\n")
    loaded = load_inputs(write_inputs(tmp_path, claims=content))
    claims = loaded.tables["claims"]
    assert claims.select("claim_id", "amount", "_line").rows() == [("C1", 1500.0, 3)]
    assert loaded.quarantine.filter(pl.col("table") == "claims").select("line", "column").rows() == [(4, "claim_month")]
    assert any("tabs" in n for n in loaded.notes)


def test_a_comma_csv_with_tabs_in_its_cells_stays_comma_separated(tmp_path: Path) -> None:
    """Look-alike: tabs inside cells (an ID typed with a tab) of a file whose header reads with
    commas: the commas separate, the tab is part of the ID (read away as a spelling)."""
    content = f"身份证号,姓名\n{P1[:6]}\t{P1[6:]},张三\n"
    loaded = load_inputs(write_inputs(tmp_path, trainees=content))
    assert loaded.tables["trainees"]["person_id"].to_list() == [P1]
    assert not any("tabs" in n for n in loaded.notes)


def test_files_named_in_chinese_are_their_tables(tmp_path: Path) -> None:
    """补贴申领明细.csv is the claims, 就业登记／劳动合同.csv (no slash can be in a file name) the
    employment; a file named like neither is still ignored with a note."""
    write_inputs(tmp_path)
    (tmp_path / "claims.csv").rename(tmp_path / "补贴申领明细.csv")
    (tmp_path / "就业登记劳动合同.csv").write_text("身份证号,用人单位统一社会信用代码,合同开始日期\n"
                                            f"{P1},{U2},2023-09-01\n")
    (tmp_path / "补贴申领明细（备份）.csv").write_text("a,b\n1,2\n")
    loaded = load_inputs(tmp_path)
    assert loaded.tables["claims"]["claim_id"].to_list() == ["C1", "C2", "C3"]
    assert loaded.tables["employment"]["employer_id"].to_list() == [U2]
    assert "补贴申领明细（备份）.csv" in loaded.counts_text()


@pytest.mark.parametrize("stem, table", [
    ("claims_2024", "claims"), ("claims - 副本", "claims"), ("claims (2)", "claims"), ("补贴申领明细（南昌）", "claims"),
    ("county_tiers_2025", "county_tiers"), ("social_insurance.old", "social_insurance"), ("见习单位-1", "units"),
    # look-alikes: a table's own name, a longer word, another table whose name holds it
    ("claims", None), ("claimsx", None), ("见习单位岗位", None), ("readme", None), ("county", None),
])
def test_a_file_named_like_a_part_of_a_table(stem: str, table: str | None) -> None:
    assert table_part_named(stem) == table


def test_a_part_of_a_table_is_not_read_and_said_so(tmp_path: Path) -> None:
    """claims_2025.csv beside claims.csv is a part or a copy of the claims' export: one file per
    table is read, so it is not — and the note says which table it looks like and what to do (a
    run prints it and shows it in the report, :func:`audit.loader.LoadResult.reading_notes`)."""
    write_inputs(tmp_path)
    (tmp_path / "claims_2025.csv").write_bytes((tmp_path / "claims.csv").read_bytes())
    loaded = load_inputs(tmp_path)
    assert loaded.tables["claims"].height == 3
    note = next(n for n in loaded.reading_notes() if "claims_2025.csv" in n)
    assert note_zh(note).startswith("未读取 claims_2025.csv") and "补贴申领明细" in note_zh(note) and "合并" in note


def test_a_table_exported_in_parts_only_is_missing_and_the_parts_are_named(tmp_path: Path) -> None:
    write_inputs(tmp_path)
    (tmp_path / "claims.csv").rename(tmp_path / "claims_2024.csv")
    (tmp_path / "补贴申领明细_2025.csv").write_bytes((tmp_path / "claims_2024.csv").read_bytes())
    with pytest.raises(InputError, match=r"claims \(补贴申领明细\).*found claims_2024.csv, 补贴申领明细_2025.csv"):
        load_inputs(tmp_path)


@pytest.mark.parametrize("content, said", [
    ("身份证号,用人单位统一社会信用代码,合同开始日期\n", "没有数据行"),  # the header only
    (f"身份证号,用人单位统一社会信用代码,合同开始日期\n{P1},{U2},2023-13-45\n{P2},{U2},不详\n", "2 行全部无法读取"),
])
def test_an_optional_table_without_a_readable_row_is_read_as_not_exported(tmp_path: Path, content: str,
                                                                          said: str) -> None:
    """就业登记劳动合同 exported with its header only (or with no row that reads) is not a registry in
    which nobody has a contract: the table is read as not exported (``empty_tables``; a run gives
    it to no rule, and the rules that need it say why they did not run), with a note."""
    loaded = load_inputs(write_inputs(tmp_path, employment=content))
    assert loaded.empty_tables == ["employment"]
    assert any(note_zh(n).startswith("就业登记/劳动合同：" + said) for n in loaded.reading_notes())


def test_deaths_with_no_row_are_no_deaths(tmp_path: Path) -> None:
    """Look-alike: an empty 死亡登记 is the normal course (nobody died): it stays a table."""
    loaded = load_inputs(write_inputs(tmp_path, deaths="身份证号,死亡日期\n"))
    assert loaded.empty_tables == [] and loaded.tables["deaths"].height == 0


def test_insurance_written_by_organisation_code_names_the_unit(tmp_path: Path) -> None:
    """A social-insurance export that writes employers by their 组织机构代码 (characters 9–17 of the
    credit code, here with a hyphen): a unit of the register is read under its credit code (the
    trainee's own unit is no other employer), any other employer under its organisation code."""
    other = "MA0GBR9X-Q"
    si = ("身份证号,单位组织机构代码,缴费年月,险种,缴费类型\n"
          f"{P1},{U1[8:16]}-{U1[16]},2023-08,养老,单位\n{P2},{other},2023-08,养老,单位\n")
    loaded = load_inputs(write_inputs(tmp_path, social_insurance=si))
    insurance = loaded.tables["social_insurance"]
    assert insurance.select("employer_id", "employer_id_status").rows() == [(U1, "org_code"), ("MA0GBR9XQ", "org_code")]
    assert loaded.tables["units"]["unit_id_status"].to_list() == ["ok"] * loaded.tables["units"].height


def test_dates_a_register_records_to_the_month(tmp_path: Path) -> None:
    """毕业时间 2023-06, 2023年6月, 失业登记 2023.08: registers record them to the month. Read as the
    month's first day, ``_month_only`` saying so (a rule reads the last day where the day would
    accuse); a full date stays itself; a year alone (2023届, 2023年, 2023: a graduating class) reads
    as the year's first day, ``_year_only`` saying so; four digits that are no year stay unreadable."""
    tr = (f"身份证号,姓名,学历,毕业离校日期,失业登记日期\n{P1},张三,本科,2023-06,2023.08\n"
          f"{P2},李四,专科,2023年6月,2023-09-05\n{P3},王五,本科,2023届,\n{P4},赵六,本科,２０２２年,2024\n"
          f"{P5},钱七,本科,1234,\n")
    loaded = load_inputs(write_inputs(tmp_path, trainees=tr))
    rows = loaded.tables["trainees"].sort("person_id").select(
        "person_id", "graduation_date", "graduation_date_month_only", "graduation_date_year_only",
        "unemployment_reg_date", "unemployment_reg_date_month_only", "unemployment_reg_date_year_only").rows()
    assert sorted(rows) == sorted([(P1, dt.date(2023, 6, 1), True, False, dt.date(2023, 8, 1), True, False),
                                   (P2, dt.date(2023, 6, 1), True, False, dt.date(2023, 9, 5), False, False),
                                   (P3, dt.date(2023, 1, 1), False, True, None, False, False),
                                   (P4, dt.date(2022, 1, 1), False, True, dt.date(2024, 1, 1), False, True)])
    assert loaded.quarantine.select("line", "column", "value").rows() == [(6, "graduation_date", "1234")]


def test_a_payer_written_otherwise_is_no_employer(tmp_path: Path) -> None:
    """缴费类型 blank is read as the employer's (the rules count it as employment); a word the
    spellings do not list (个人缴费: the person pays) is not blank: it reads as 其他 — no employer
    paid, as far as known — with a note naming it. Listed spellings read as before."""
    si = ("身份证号,单位统一社会信用代码,缴费年月,险种,缴费类型\n"
          f"{P1},{U1},2023-08,养老,个人缴费\n{P2},{U1},2023-08,养老,单位缴费\n{P3},{U1},2023-08,养老,\n")
    loaded = load_inputs(write_inputs(tmp_path, social_insurance=si))
    rows = loaded.tables["social_insurance"].sort("person_id").select("person_id", "payer_type").rows()
    assert sorted(rows) == sorted([(P1, "其他"), (P2, "单位"), (P3, None)])
    assert any("个人缴费（1 行）" in n and "read as 其他" in n for n in loaded.notes)
    assert loaded.quarantine.height == 0


def test_a_death_recorded_to_the_month_or_the_year(tmp_path: Path) -> None:
    """死亡年月 2023-10 (a registry's header and precision), 2024年 (the year alone): read as their
    first day, ``_month_only`` / ``_year_only`` saying so (claims_after_death reads the latest
    month each may mean), not quarantined."""
    loaded = load_inputs(write_inputs(tmp_path, deaths=f"身份证号,死亡年月\n{P1},2023-10\n{P2},2024年\n{P3},2023-10-05\n"))
    rows = loaded.tables["deaths"].sort("person_id").select(
        "person_id", "death_date", "death_date_month_only", "death_date_year_only").rows()
    assert sorted(rows) == sorted([(P1, dt.date(2023, 10, 1), True, False), (P2, dt.date(2024, 1, 1), False, True),
                                   (P3, dt.date(2023, 10, 5), False, False)])
    assert loaded.quarantine.height == 0


def test_an_agreement_number_is_one_code_however_a_registry_spells_it(tmp_path: Path) -> None:
    """协议编号 written a1, Ａ１ or ' A1' in the claims is the agreements' A1 (a code: full-width as
    ASCII, no spaces, upper case); a claims export that spells every code as the agreements do is
    only trimmed, as before."""
    claims = ("claim_id,unit_id,person_id,agreement_id,claim_month,claim_type,amount,submitted_date\n"
              f"c1,{U1},{P1},a1,2023-07,月度,1500,2023-08-05\nC2,{U1},{P1},Ａ１,2023-08,月度,1500,2023-09-05\n"
              f"C3,{U2},{P2}, A2 ,2023-07,月度,1800,2023-08-06\n")
    loaded = load_inputs(write_inputs(tmp_path, claims=claims))
    assert loaded.tables["claims"].select("claim_id", "agreement_id").rows() == [("c1", "A1"), ("C2", "A1"), ("C3", "A2")]


def test_counts_written_with_their_unit_are_read(tmp_path: Path) -> None:
    """当月见习工作日数 22天 and 在职职工人数 70人 are the numbers; 3个月 of working days is no count
    of days: that claim row is quarantined, not read as 3."""
    claims = ("claim_id,unit_id,person_id,agreement_id,claim_month,claim_type,working_days,amount,submitted_date\n"
              f"C1,{U1},{P1},A1,2023-07,月度,22天,1500,2023-08-05\nC2,{U1},{P1},A1,2023-08,月度,21个工作日,1500,2023-09-05\n"
              f"C3,{U2},{P2},A2,2023-07,月度,3个月,1800,2023-08-06\n")
    units = f"unit_id,unit_name,county_code,approved_date,staff_count\n{U1},甲公司,430102,2023-01-05,70人\n{U2},乙公司,430102,2023-02-01,12\n"
    loaded = load_inputs(write_inputs(tmp_path, claims=claims, units=units))
    assert loaded.tables["claims"].select("claim_id", "working_days").rows() == [("C1", 22), ("C2", 21)]
    assert dict(loaded.tables["units"].select("unit_id", "staff_count").rows()) == {U1: 70, U2: 12}
    assert loaded.quarantine.select("table", "column", "reason").rows() == [
        ("claims", "working_days", "无法识别的整数 / unreadable whole number")]


def test_a_contract_end_that_says_there_is_none_is_blank(tmp_path: Path) -> None:
    """合同终止日期 of an open-ended contract written 长期, 无固定期限 or 9999-12-31 is a blank end
    (what the rules read a blank end as), not an unreadable row; a start date so written, or an
    end that is no date, is still unreadable."""
    emp = ("person_id,employer_id,contract_start,contract_end,contract_type\n"
           f"{P1},{U1},2024-01-01,长期,无固定期限\n{P2},{U1},2024-02-01,9999-12-31,无固定期限\n"
           f"{P3},{U2},2024-03-01,无固定期限,无固定期限\n{P1},{U2},长期,2025-01-01,固定期限\n"
           f"{P2},{U2},2024-04-01,2023-13-40,固定期限\n")
    loaded = load_inputs(write_inputs(tmp_path, employment=emp))
    assert loaded.tables["employment"].select("contract_start", "contract_end").rows() == [
        (dt.date(2024, 1, 1), None), (dt.date(2024, 2, 1), None), (dt.date(2024, 3, 1), None)]
    assert sorted(loaded.quarantine.select("column", "value").rows()) == [
        ("contract_end", "2023-13-40"), ("contract_start", "长期")]


def test_a_date_a_system_writes_for_none_is_blank(tmp_path: Path) -> None:
    """1900-01-01 (a database's default), Excel's 1899-12-30 and, in an end that may be none,
    9999-12-31 are how systems write no date: blank in an optional date (退出日期: not exited;
    实际结束日期; 失业登记日期, a date the register may record to the month), a required value missing in
    a required one (见习开始日期) — not an unreadable row, and never a date of 1900."""
    units = ("unit_id,unit_name,county_code,approved_date,exit_date\n"
             f"{U1},甲公司,430102,2023-01-05,1900-01-01\n{U2},乙公司,430102,2023-02-01,9999-12-31\n")
    tr = f"person_id,name,education,unemployment_reg_date\n{P1},张三,本科,1900/1/1\n{P2},李四,专科,1899-12-30\n"
    ag = ("agreement_id,person_id,unit_id,start_date,planned_end_date,actual_end_date\n"
          f"A1,{P1},{U1},1900-01-01,2023-12-31,\nA2,{P2},{U2},2023-07-01,2024-06-30,9999-12-31\n")
    loaded = load_inputs(write_inputs(tmp_path, units=units, trainees=tr, agreements=ag))
    assert loaded.tables["units"].get_column("exit_date").to_list() == [None, None]
    assert loaded.tables["trainees"].get_column("unemployment_reg_date").to_list() == [None, None]
    assert loaded.tables["agreements"].select("agreement_id", "actual_end_date").rows() == [("A2", None)]
    assert loaded.quarantine.select("table", "column", "reason").rows() == [
        ("agreements", "start_date", "必填值缺失 / required value missing")]


@pytest.mark.parametrize("token", ["无", "不详", "-", "/", "NULL", "N/A", "#N/A", "——", "0000-00-00"])
def test_a_cell_that_says_nothing_is_blank_not_unreadable(tmp_path: Path, token: str) -> None:
    """Exports write 无, 不详, -, NULL … in a cell that holds nothing. In an optional date (毕业离校日期)
    it is blank — the trainee is kept, not quarantined; in a required one (协议开始日期) it is a
    required value missing; in a name it is kept as written; a value that is no date at all is
    still unreadable."""
    tr = f"身份证号,姓名,学历,毕业离校日期\n{P1},{token},本科,{token}\n{P2},李四,专科,2023-13-40\n{P3},王五,本科,2022-06-30\n"
    ag = ("agreement_id,person_id,unit_id,start_date,planned_end_date\n"
          f"A1,{P1},{U1},{token},2023-12-31\nA2,{P2},{U2},2023-07-01,2024-06-30\n")
    loaded = load_inputs(write_inputs(tmp_path, trainees=tr, agreements=ag))
    trainees = loaded.tables["trainees"]
    assert trainees.filter(pl.col("person_id") == P1).select("name", "graduation_date").rows() == [(token, None)]
    reasons = loaded.quarantine.select("table", "column", "reason").rows()
    assert ("trainees", "graduation_date", "无法识别的日期 / unreadable date") in reasons  # 2023-13-40
    assert ("agreements", "start_date", "必填值缺失 / required value missing") in reasons
    assert len(reasons) == 2


def test_a_column_of_placeholders_is_read_as_not_exported(tmp_path: Path) -> None:
    """解除日期 exported as 无 in every row says nothing of when any contract was terminated: read as
    not exported (the rules that need it say so), as a column of blank cells is."""
    emp = f"身份证号,用人单位统一社会信用代码,合同开始日期,解除日期\n{P1},{U2},2023-09-01,无\n{P2},{U2},2023-09-01,-\n"
    loaded = load_inputs(write_inputs(tmp_path, employment=emp))
    assert "terminated_date" in loaded.absent_columns["employment"]


def test_a_table_and_its_chinese_twin_is_an_input_error(tmp_path: Path) -> None:
    write_inputs(tmp_path)
    (tmp_path / "见习单位.csv").write_bytes((tmp_path / "units.csv").read_bytes())
    with pytest.raises(InputError, match=r"two files for table units"):
        load_inputs(tmp_path)


@pytest.mark.parametrize("name", ["claims.xls", "补贴申领明细.xls", "employment.et", "deaths.tsv"])
def test_a_table_in_a_format_not_read_is_named_with_what_to_do(tmp_path: Path, name: str) -> None:
    """An old .xls, a WPS sheet or tab-separated text named like a table is not passed over as an
    unknown file (the run would go on without the table): it is refused, saying how to save it."""
    write_inputs(tmp_path)
    (tmp_path / name).write_bytes(b"\xd0\xcf\x11\xe0 not read")
    with pytest.raises(InputError, match=rf"{name}: .*save it as"):
        load_inputs(tmp_path)


def test_two_files_for_one_table_is_an_input_error(tmp_path: Path) -> None:
    write_inputs(tmp_path)
    pl.DataFrame({"claim_id": ["C9"]}).write_parquet(tmp_path / "claims.parquet")
    with pytest.raises(InputError, match=r"claims\.csv and claims\.parquet"):
        load_inputs(tmp_path)


MISSING = [
    ("required column", {"claims": "claim_id,unit_id,person_id,amount,submitted_date\nC1,x,y,1,2023-01-01\n"},
     r"claims\.csv: required column claim_month \(补贴所属月份\) is missing"),
    ("required table", {"units": None}, r"required table missing — units \(见习单位\)"),
    ("header only", {"claims": "claim_id,unit_id,person_id,claim_month,amount,submitted_date\n"},
     r"claims\.csv: required table claims \(补贴申领明细\) has no rows"),
    ("not a table", {"deaths": "hello there\nthis is prose\n"}, r"deaths\.csv: not a table of deaths"),
]


@pytest.mark.parametrize("tables,message", [c[1:] for c in MISSING], ids=[c[0] for c in MISSING])
def test_unusable_inputs_name_file_and_column(tmp_path: Path, tables: dict, message: str) -> None:
    with pytest.raises(InputError, match=message):
        load_inputs(write_inputs(tmp_path, **tables))


def test_an_optional_table_may_be_empty(tmp_path: Path) -> None:
    loaded = load_inputs(write_inputs(tmp_path, deaths="person_id,death_date\n"))
    assert loaded.tables["deaths"].height == 0
    assert loaded.tables["deaths"].schema["death_date"] == pl.Date


def test_operator_reference_tables_are_loaded(tmp_path: Path) -> None:
    loaded = load_inputs(write_inputs(
        tmp_path,
        min_wage="省份代码,档次,执行日期,月最低工资标准\n430000,1,2025-04-01,\"2,100\"\n",
        county_tiers="区划代码,档次,执行日期\n430102,1,2025-04-01\n",
    ))
    assert loaded.tables["min_wage"].row(0)[:4] == ("430000", 1, dt.date(2025, 4, 1), 2100.0)
    assert loaded.tables["county_tiers"]["tier"].to_list() == [1]


# ---------------------------------------------------------------------------------------------
# XLSX


def _workbook(path: Path, sheets: dict[str, list[list]]) -> bytes:
    import openpyxl

    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    for name, rows in sheets.items():
        ws = wb.create_sheet(name)
        for row in rows:
            ws.append(row)
    wb.save(path)
    return path.read_bytes()


def test_xlsx_title_rows_sheets_and_excel_dates(tmp_path: Path) -> None:
    header = ["身份证号", "姓名", "学历", "毕业离校日期"]
    book = _workbook(tmp_path / "book.xlsx", {
        "Sheet1": [["2023年见习人员花名册"], [], header, [P1, "张三", "本科", dt.datetime(2023, 6, 30)],
                   [P2, "李四", "专科", 45107]],
        "Sheet2": [header, [P3, "王五", "本科", "2022-06-30"]],
        "说明": [["本表由系统导出"]],
    })
    data = tmp_path / "in"
    loaded = load_inputs(write_inputs(data, **{"trainees": None, "trainees.xlsx": book}))
    trainees = loaded.tables["trainees"]
    assert trainees["graduation_date"].to_list() == [dt.date(2023, 6, 30), dt.date(2023, 6, 30), dt.date(2022, 6, 30)]
    assert trainees["_file"].to_list() == ["trainees.xlsx#Sheet1"] * 2 + ["trainees.xlsx#Sheet2"]
    assert trainees["_line"].to_list() == [4, 5, 2]  # the sheet row numbers
    assert loaded.files["trainees"] == ["trainees.xlsx#Sheet1", "trainees.xlsx#Sheet2"]
    assert "说明" in loaded.counts_text()  # the notes sheet was skipped, and said so


# twelve trainees' IDs, as an 18-digit ID survives a number cell: the nearest binary number
_REGISTER = [p for p in (pid(f"36010219990101{k:03d}") for k in range(40)) if not p.endswith("X")][:12]


def test_an_id_column_saved_as_numbers_is_refused_saying_why(tmp_path: Path) -> None:
    """A register whose 身份证号 cells are numbers: each ID's last digits are gone (a number cell
    keeps 15 significant digits), so every join on them would be wrong. The file is refused,
    naming the column and what to do."""
    book = _workbook(tmp_path / "book.xlsx", {"Sheet1": [["身份证号", "姓名"]] + [[int(p), f"人{k}"]
                                                                              for k, p in enumerate(_REGISTER)]})
    with pytest.raises(InputError, match=r"trainees\.xlsx#Sheet1: person_id（身份证号）：身份证号列以数字格式保存.*as text"):
        load_inputs(write_inputs(tmp_path / "in", **{"trainees": None, "trainees.xlsx": book}))


def test_ids_in_scientific_notation_are_refused(tmp_path: Path) -> None:
    """The same register saved by Excel as CSV: ``3.60102E+17``."""
    rows = "".join(f"{float(p):.5E}".replace("E+", "E+") + f",人{k}\n" for k, p in enumerate(_REGISTER))
    with pytest.raises(InputError, match="身份证号列以数字格式保存"):
        load_inputs(write_inputs(tmp_path, trainees="身份证号,姓名\n" + rows))


def test_ids_as_text_and_legacy_numbers_are_read(tmp_path: Path) -> None:
    """Look-alikes: the same IDs as text cells (one in 64 of them is, by chance, exactly a binary
    number: a column of text is never taken for numbers), and 15-digit IDs in number cells, which
    a number keeps whole."""
    text = [[p, f"人{k}"] for k, p in enumerate(_REGISTER)]
    legacy = [[int(f"360102990101{k:03d}"), f"老{k}"] for k in range(12)]
    book = _workbook(tmp_path / "book.xlsx", {"Sheet1": [["身份证号", "姓名"]] + text + legacy})
    trainees = load_inputs(write_inputs(tmp_path / "in", **{"trainees": None, "trainees.xlsx": book})).tables["trainees"]
    assert trainees["person_id"].to_list()[:12] == _REGISTER
    assert set(trainees["person_id_status"].to_list()[12:]) == {"legacy15"}


def test_xlsx_quarantine_points_at_the_sheet_row(tmp_path: Path) -> None:
    book = _workbook(tmp_path / "book.xlsx", {"明细": [
        ["补贴申领明细"],
        ["申领编号", "统一社会信用代码", "身份证号", "补贴所属月份", "申领金额", "申领日期"],
        ["C1", U1, P1, "2023-07", 1500, dt.date(2023, 8, 5)],
        ["C2", U1, P1, "2023-13", 1500, dt.date(2023, 9, 5)],
    ]})
    loaded = load_inputs(write_inputs(tmp_path / "in", **{"claims": None, "claims.xlsx": book}))
    q = loaded.quarantine
    assert q.select("file", "line", "column", "value").rows() == [("claims.xlsx#明细", 4, "claim_month", "2023-13")]


# ---------------------------------------------------------------------------------------------
# normalised columns


def test_ids_are_normalised_with_raw_and_status(tmp_path: Path) -> None:
    legacy = P1[:6] + P1[8:17]  # the 15-digit form of P1
    bad = P2[:17] + ("0" if P2[17] != "0" else "1")
    content = (
        "身份证号,姓名\n"
        f"{P1.lower()} ,小写\n{legacy},旧号\n{bad},错号\n１２３,乱码\n"
    )
    loaded = load_inputs(write_inputs(tmp_path, trainees=content))
    t = loaded.tables["trainees"]
    assert t["person_id"].to_list() == [P1, P1, bad, "123"]
    assert t["person_id_status"].to_list() == ["ok", "legacy15", "bad_check", "malformed"]
    assert t["person_id_raw"].to_list() == [P1.lower() + " ", legacy, bad, "１２３"]
    assert t["birth_date"].to_list()[:2] == [dt.date(1999, 1, 1)] * 2
    assert t["sex"].to_list()[:2] == ["M", "M"]
    assert loaded.quarantine.height == 0  # rows that read but look wrong are kept


def test_uscc_status_is_kept_not_quarantined(tmp_path: Path) -> None:
    bad = U1[:17] + ("0" if U1[17] != "0" else "1")
    content = f"unit_id,unit_name,county_code,approved_date\n{U1.lower()},甲,430102,2023-01-05\n{bad},乙,430102,2023-01-05\n"
    loaded = load_inputs(write_inputs(tmp_path, units=content))
    assert loaded.tables["units"]["unit_id_status"].to_list() == ["ok", "bad_check"]
    assert loaded.tables["units"]["unit_id"].to_list()[0] == U1


# market_registry.reg_status as registries export it (contract.md): read to the canonical status
REG_STATUS_SPELLINGS = [
    ("存续", "存续"), ("在业", "在业"), ("存续（在营、开业、在册）", "存续"), ("存续(在营、开业、在册)", "存续"),
    ("在营", "存续"), ("开业", "存续"), ("在册", "存续"), ("吊销，未注销", "吊销"), ("吊销,未注销", "吊销"),
    ("吊销", "吊销"), ("吊销，已注销", "注销"), ("注销", "注销"), ("已注销", "注销"), ("撤销", "撤销"),
    ("迁出", "迁出"), ("停业", "停业"), ("歇业", "歇业"), ("清算", "清算"), ("责令关闭", "责令关闭"),
    (" 吊销 ，未注销 ", "吊销"),
]


@pytest.mark.parametrize("raw, status", REG_STATUS_SPELLINGS, ids=[r for r, _ in REG_STATUS_SPELLINGS])
def test_registry_status_spellings_are_read_to_canonical_statuses(tmp_path: Path, raw: str, status: str) -> None:
    content = f'统一社会信用代码,登记状态,状态日期\n{U1},"{raw}",2023-10-15\n'
    loaded = load_inputs(write_inputs(tmp_path, market_registry=content))
    m = loaded.tables["market_registry"]
    assert m["reg_status"].to_list() == [status]
    assert m["reg_status_raw"].to_list() == [raw.strip()]  # the value as exported stays visible
    assert loaded.quarantine.height == 0


def test_an_unknown_registry_status_is_quarantined_not_guessed(tmp_path: Path) -> None:
    content = f"统一社会信用代码,登记状态\n{U1},迁入\n{U2},存续（在营、开业、在册）\n"
    loaded = load_inputs(write_inputs(tmp_path, market_registry=content))
    assert loaded.tables["market_registry"]["unit_id"].to_list() == [U2]
    q = loaded.quarantine.row(0, named=True)
    assert (q["table"], q["line"], q["column"], q["value"]) == ("market_registry", 2, "reg_status", "迁入")
    assert "取值" in q["reason"] and loaded.quarantine.height == 1
    assert reconciles(loaded.counts)


def test_a_payment_type_that_names_no_payer_is_no_payer_recorded(tmp_path: Path) -> None:
    """缴费类型 written as 社保 systems write whether a month was paid in time (正常应缴, 补缴) names
    no payer: the row is kept with no payer type (the employer's, where an employer paid), the
    values named in a note; a payer written so (灵活就业人员) is read."""
    si = ("身份证号,缴费单位统一社会信用代码,缴费所属月份,险种,缴费类型\n"
          f"{P1},{U1},2024-01,养老,正常应缴\n{P1},{U1},2024-02,养老,补缴\n{P2},,2024-01,养老,灵活就业人员\n")
    loaded = load_inputs(write_inputs(tmp_path, social_insurance=si))
    assert loaded.tables["social_insurance"].get_column("payer_type").to_list() == [None, None, "灵活就业"]
    assert loaded.quarantine.height == 0
    assert any("正常应缴" in n and "补缴" in n for n in loaded.reading_notes())


def test_a_credit_code_breaking_gb32100_structure_is_kept(tmp_path: Path) -> None:
    """A code whose check character holds but whose authority/type/division does not is read as
    it is (DATA_QUALITY.uscc_structure reports it): never quarantined, never a reason to stop."""
    odd = uscc("95360102MA35R0003")  # 工商 assigns no type 5
    content = f"unit_id,unit_name,county_code,approved_date\n{odd},甲,360102,2023-01-05\n"
    loaded = load_inputs(write_inputs(tmp_path, units=content))
    assert loaded.tables["units"]["unit_id"].to_list() == [odd]
    assert loaded.tables["units"]["unit_id_status"].to_list() == ["ok"]
    assert loaded.quarantine.height == 0


def test_values_are_parsed_to_spec_types(tmp_path: Path) -> None:
    content = (
        "申领编号,统一社会信用代码,身份证号,补贴所属月份,当月见习工作日数,申领金额（元）,综合保险补贴,申领日期\n"
        f"C1,{U1},{P1},2023年7月,２２,\"1,500.00\",¥35,2023年8月5日\n"
        f"C2,{U1},{P1},202308,21.0,1500元,￥35.5,45174\n"
    )
    loaded = load_inputs(write_inputs(tmp_path, claims=content))
    c = loaded.tables["claims"]
    assert c["claim_month"].to_list() == [dt.date(2023, 7, 1), dt.date(2023, 8, 1)]
    assert c["working_days"].to_list() == [22, 21]
    assert c["amount"].to_list() == [1500.0, 1500.0]
    assert c["insurance_amount"].to_list() == [35.0, 35.5]
    assert c["submitted_date"].to_list() == [dt.date(2023, 8, 5), dt.date(2023, 9, 5)]


def test_parquet_typed_and_text_columns(tmp_path: Path) -> None:
    data = write_inputs(tmp_path / "in", claims=None)
    pl.DataFrame({
        "claim_id": ["C1", "C2"], "unit_id": [U1, U1], "person_id": [P1, P1],
        "claim_month": [dt.date(2023, 7, 15), dt.date(2023, 8, 1)], "amount": [1500, 1500],
        "submitted_date": ["2023-08-05", "2023年9月5日"], "working_days": [22.0, 21.0],
    }).write_parquet(data / "claims.parquet")
    c = load_inputs(data).tables["claims"]
    assert c["claim_month"].to_list() == [dt.date(2023, 7, 1), dt.date(2023, 8, 1)]
    assert c["amount"].dtype == pl.Float64 and c["working_days"].to_list() == [22, 21]
    assert c["submitted_date"].to_list() == [dt.date(2023, 8, 5), dt.date(2023, 9, 5)]
    assert c["_line"].to_list() == [2, 3]


def test_normalised_tables_have_the_spec_shape(tmp_path: Path) -> None:
    loaded = load_inputs(write_inputs(tmp_path))
    for name, frame in loaded.tables.items():
        spec = SPECS[name]
        assert frame.columns[: len(spec.columns)] == list(spec.names)
        for col in spec.columns:
            assert frame.schema[col.name] == col.dtype, (name, col.name)
        assert frame.columns[len(spec.columns): len(spec.columns) + 3] == ["_file", "_line", "_dup_rows"]
    assert {"birth_date", "sex", "person_id_raw", "person_id_status"} <= set(loaded.tables["trainees"].columns)
    assert {"unit_id_status", "person_id_status", "person_id_raw"} <= set(loaded.tables["claims"].columns)


# ---------------------------------------------------------------------------------------------
# quarantine, duplicates and counts


def test_every_failing_cell_is_reported_and_the_row_counted_once(tmp_path: Path) -> None:
    content = (
        "claim_id,unit_id,person_id,claim_month,amount,submitted_date,paid_date\n"
        f"C1,{U1},{P1},2023-07,1500,2023-08-05,\n"
        f"C2,{U1},{P1},2023-13,abc,,someday\n"  # four failures on one row
        f",{U1},{P1},2023-08,1500,2023-09-05,\n"  # missing key
    )
    loaded = load_inputs(write_inputs(tmp_path, claims=content))
    q = loaded.quarantine.filter(pl.col("table") == "claims")
    assert q.select("line", "column").rows() == [
        (3, "claim_month"), (3, "amount"), (3, "submitted_date"), (3, "paid_date"), (4, "claim_id"),
    ]
    assert q.filter(pl.col("column") == "submitted_date")["reason"].item().startswith("必填值缺失")
    counts = loaded.counts.filter(pl.col("table") == "claims").row(0, named=True)
    assert (counts["rows_read"], counts["rows_kept"], counts["rows_quarantined"]) == (3, 1, 2)
    assert reconciles(loaded.counts)


def test_quarantined_rows_are_placed_by_the_cells_that_could_be_read(tmp_path: Path) -> None:
    """One row per quarantined row (not per cell), with the unit, person, county, own date and
    payment date its readable cells give: what a rule needs to know which county-month lost micro
    data (RULES.md §8, "Unreadable rows do not accuse"); written beside quarantine.csv."""
    content = (
        "claim_id,unit_id,person_id,claim_month,amount,submitted_date,paid_date,handling_county_code\n"
        f"C1,{U1},{P1},2023-07,1500,2023-08-05,2023-08-20,430102\n"
        f"C2,{U1},{P1},2023-08,壹仟元,2023-09-05,2023-09-20,430102\n"  # the amount alone is unreadable
        f"C3,{U2},{P2},2023-13,abc,,someday,\n"  # month, amount and dates unreadable
    )
    loaded = load_inputs(write_inputs(tmp_path / "in", claims=content))
    placed = loaded.quarantined_rows.filter(pl.col("table") == "claims").sort("line")
    assert placed.select("line", "unit_id", "person_id", "county_code", "day", "paid_date").rows() == [
        (3, U1, P1, "430102", dt.date(2023, 8, 1), dt.date(2023, 9, 20)),
        (4, U2, P2, None, None, None),
    ]
    assert "amount" in placed["reasons"][0] and "claim_month" in placed["reasons"][1]
    loaded.write(tmp_path / "out")
    assert pl.read_parquet(tmp_path / "out" / "quarantine.parquet").height == 2


def test_an_exports_total_line_is_quarantined_as_one_and_placed_nowhere(tmp_path: Path) -> None:
    """合计 / 小计 lines at the foot of an export: quarantined with what they are (every row ends
    somewhere, the counts reconcile), but placed nowhere — a total line with no county and no month
    is no claim lost to every county (RULES.md §8, "Unreadable rows do not accuse"). A readable
    record is never one, whatever a cell says; an unreadable one that says nothing of a total is
    still placed."""
    content = (
        "claim_id,unit_id,person_id,claim_month,amount,submitted_date,handling_county_code\n"
        f"C1,{U1},{P1},2023-07,1500,2023-08-05,430102\n"
        f"合计,{U1},{P1},2023-08,1500,2023-09-05,430102\n"  # a readable row: a record, whatever its id says
        f"C3,{U2},{P2},2023-13,abc,,\n"  # unreadable: placed
        ",,,,4500,,\n"
        "合 计：,,,,4500,,\n"
        "小计,,,,3000,,\n"
        ",,,,合计,,\n"  # in a column of amounts: read as written
        "合计：4500,,,,,,\n"  # the sum written into the word's own cell
        "共计 3 笔,,,,4500元,,\n"
        "合计：见附表,,,,,,\n"  # no sum, no count: no total line, placed
    )
    loaded = load_inputs(write_inputs(tmp_path / "in", claims=content))
    assert loaded.tables["claims"]["claim_id"].to_list() == ["C1", "合计"]
    q = loaded.quarantine.filter(pl.col("table") == "claims")
    assert sorted(q.filter(pl.col("reason").str.contains("合计行"))["line"].to_list()) == [6, 7, 8, 9, 10]
    assert reconciles(loaded.counts)
    placed = loaded.quarantined_rows.filter(pl.col("table") == "claims")
    assert sorted(placed["line"].to_list()) == [4, 5, 11]  # the blank-id line says no total: placed, unknown


def test_an_exports_note_lines_are_quarantined_as_such_and_placed_nowhere(tmp_path: Path) -> None:
    """Lines signing or annotating an export (制表人：…, 审核人, 注：本表…) below its rows: no
    record and no claim lost, so quarantined as what they are and placed nowhere. A look-alike
    that is a record (a claim whose unit is named 审核… beside other cells), or an unreadable row
    with a cell that is no note, is placed as before."""
    content = (
        "claim_id,unit_id,person_id,claim_month,amount,submitted_date,handling_county_code\n"
        f"C1,{U1},{P1},2023-07,1500,2023-08-05,430102\n"
        f"C2,{U2},{P2},2023-13,1500,2023-09-05,430102\n"  # unreadable month: placed
        "注：C3,,,,1500,,\n"  # a note beside an amount: not only a note, placed
        "制表人：张三,审核人：李四,,,,,\n"
        "注：本表数据截至2023年9月30日\n"
        "说明 1. 金额单位为元\n"
        ",,,,制表日期：2023年10月8日,,\n"  # in a column of amounts: read as written
        ",,,审核人：李四,,2023-10-08,\n"  # beside a date: not only a note, placed
        "单位（盖章）：,,,,,,\n"
    )
    loaded = load_inputs(write_inputs(tmp_path / "in", claims=content))
    assert loaded.tables["claims"]["claim_id"].to_list() == ["C1"]
    q = loaded.quarantine.filter(pl.col("table") == "claims")
    assert sorted(q.filter(pl.col("reason").str.contains("表尾说明行"))["line"].to_list()) == [5, 6, 7, 8, 10]
    assert reconciles(loaded.counts)
    placed = loaded.quarantined_rows.filter(pl.col("table") == "claims")
    assert sorted(placed["line"].to_list()) == [3, 4, 9]


def test_a_signature_line_that_reads_as_a_trainee_is_quarantined_as_such(tmp_path: Path) -> None:
    """In a register whose required cells are an ID and a name, 制表人：张三,审核人：李四 reads: an
    ID that is no ID (kept, as a malformed ID is) and a name. It is no trainee: quarantined as a
    note line. A trainee whose ID is malformed, or whose name is 审核, stays a trainee."""
    content = (
        "身份证号,姓名,学历\n"
        f"{P1},张三,本科\n"
        "12345,李四,本科\n"  # a malformed ID: kept and flagged
        f"{P2},审核,专科\n"
        "制表人：张三,审核人：李四,\n"
    )
    loaded = load_inputs(write_inputs(tmp_path / "in", trainees=content))
    assert loaded.tables["trainees"]["name"].to_list() == ["张三", "李四", "审核"]
    q = loaded.quarantine.filter(pl.col("table") == "trainees")
    assert q.select("line", "reason").rows() == [(5, NOTE_ROW)]
    assert reconciles(loaded.counts)


def test_csv_title_lines_above_the_header_are_skipped(tmp_path: Path) -> None:
    """A sheet saved as CSV keeps its title lines (and a blank one) above the header: they are
    skipped with a note, as in a workbook, and every row keeps its line in the file. A file whose
    top lines name no column of the table is still refused, naming what it lacks."""
    content = (
        "某市2023年就业见习补贴申领明细表,,,,,\n"
        ",,,,,\n"
        "claim_id,unit_id,person_id,claim_month,amount,submitted_date\n"
        f"C1,{U1},{P1},2023-07,1500,2023-08-05\n"
        f"C2,{U1},{P1},2023-13,1500,2023-09-05\n"
        f"C3,{U1},{P1},2023-09,1500\n"
    )
    loaded = load_inputs(write_inputs(tmp_path / "in", claims=content))
    claims = loaded.tables["claims"]
    assert claims.select("claim_id", "_line").rows() == [("C1", 4)]
    q = loaded.quarantine.filter(pl.col("table") == "claims")
    assert sorted(set(q["line"].to_list())) == [5, 6]
    assert "title line" in loaded.counts_text()
    assert reconciles(loaded.counts)
    titled = "某市2023年就业见习补贴申领明细表\n" + f"C1,{U1},{P1},2023-07,1500,2023-08-05\n"
    with pytest.raises(InputError, match="header line"):
        load_inputs(write_inputs(tmp_path / "bad", claims=titled))
    # a note spanning lines (Python's csv module reads the file), in GBK: the same lines
    spanning = content.replace("submitted_date\n", "submitted_date,备注\n").replace(
        "2023-08-05\n", '2023-08-05,"第一行\n第二行"\n')
    data = write_inputs(tmp_path / "spanning", claims=None)
    (data / "claims.csv").write_bytes(spanning.encode("gbk"))
    loaded = load_inputs(data)
    assert loaded.tables["claims"].select("claim_id", "_line").rows() == [("C1", 4)]
    q = loaded.quarantine.filter(pl.col("table") == "claims")
    assert sorted(set(q["line"].to_list())) == [6, 7]


def test_exact_duplicates_collapse_and_duplicate_keys_are_kept(tmp_path: Path) -> None:
    row = f"C1,{U1},{P1},2023-07,1500,2023-08-05"
    content = "claim_id,unit_id,person_id,claim_month,amount,submitted_date\n" + "\n".join(
        [row, row, row, f"C1,{U1},{P1},2023-08,1500,2023-09-05", f"C2,{U1},{P1},2023-09,1500,2023-10-05"]
    ) + "\n"
    loaded = load_inputs(write_inputs(tmp_path, claims=content))
    c = loaded.tables["claims"]
    assert c.select("claim_id", "_line", "_dup_rows").rows() == [("C1", 2, 3), ("C1", 5, 1), ("C2", 6, 1)]
    counts = loaded.counts.filter(pl.col("table") == "claims").row(0, named=True)
    assert (counts["rows_read"], counts["rows_kept"], counts["duplicates_collapsed"]) == (5, 3, 2)
    assert reconciles(loaded.counts)


def test_blank_lines_are_not_rows(tmp_path: Path) -> None:
    content = MINIMAL["units"].replace("\n", "\n\n", 1) + "\n\n,,,\n"
    loaded = load_inputs(write_inputs(tmp_path, units=content))
    assert loaded.tables["units"]["_line"].to_list() == [3, 4]  # the blank line 2 still counts as a line
    row = loaded.counts.filter(pl.col("table") == "units").row(0, named=True)
    assert (row["rows_read"], row["blank_lines"]) == (2, 4)


def test_write_outputs(tmp_path: Path) -> None:
    content = MINIMAL["claims"] + f"C9,{U1},{P1},2023-13,1500,2023-08-05\n"
    loaded = load_inputs(write_inputs(tmp_path / "in", claims=content))
    out = tmp_path / "out"
    loaded.write(out)
    for name in loaded.tables:
        back = pl.read_parquet(out / "normalised" / f"{name}.parquet")
        assert back.equals(loaded.tables[name])
    raw = (out / "quarantine.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    assert pl.read_csv(out / "quarantine.csv").columns == ["table", "file", "line", "column", "value", "reason"]
    counts = pl.read_csv(out / "load_counts.csv")
    assert reconciles(counts)
    assert "rows read = kept + quarantined + duplicates collapsed" in loaded.counts_text()


# ---------------------------------------------------------------------------------------------
# properties

CLAIM_ROWS = st.lists(
    st.tuples(
        st.sampled_from(["C1", "C2", "C3", ""]),
        st.sampled_from(["2023-07", "2023年8月", "202309", "2023-13", "", "bad"]),
        st.sampled_from(["1500", "1,500.00", "¥1800", "abc", ""]),
    ),
    min_size=1, max_size=25,
)


def _claims_csv(rows: list[tuple[str, str, str]]) -> str:
    body = "".join(f"{cid},{U1},{P1},{month},\"{amount}\",2023-08-05\n" for cid, month, amount in rows)
    return "claim_id,unit_id,person_id,claim_month,amount,submitted_date\n" + body


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=CLAIM_ROWS, seed=st.integers(0, 1000))
def test_shuffling_rows_changes_nothing_but_order(tmp_path_factory, rows, seed) -> None:
    shuffled = rows[:]
    random.Random(seed).shuffle(shuffled)
    a = load_inputs(write_inputs(tmp_path_factory.mktemp("a"), claims=_claims_csv(rows)))
    b = load_inputs(write_inputs(tmp_path_factory.mktemp("b"), claims=_claims_csv(shuffled)))
    content = [c for c in a.tables["claims"].columns if c not in ("_line",)]
    # the same rows, in any order: sorted on every column (rows that read alike but were
    # exported differently, 1500 and 1,500.00, stay apart, each with its own _dup_rows)
    assert a.tables["claims"].select(content).sort(content, nulls_last=True).equals(
        b.tables["claims"].select(content).sort(content, nulls_last=True)
    )
    assert sorted(a.quarantine.select("column", "value", "reason").rows(), key=str) == sorted(
        b.quarantine.select("column", "value", "reason").rows(), key=str
    )
    assert a.counts.drop("file").equals(b.counts.drop("file"))


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=CLAIM_ROWS)
def test_every_quarantined_line_points_at_its_input_line(tmp_path_factory, rows) -> None:
    data = write_inputs(tmp_path_factory.mktemp("q"), claims=_claims_csv(rows))
    loaded = load_inputs(data)
    lines = (data / "claims.csv").read_text(encoding="utf-8").splitlines()
    header = lines[0].split(",")
    for row in loaded.quarantine.filter(pl.col("table") == "claims").iter_rows(named=True):
        source = lines[row["line"] - 1]  # line numbers are 1-based, the header is line 1
        cells = next(iter(__import__("csv").reader([source])))
        assert (cells[header.index(row["column"])] or None) == row["value"]
    assert reconciles(loaded.counts)
    kept = loaded.tables["claims"]
    assert kept["_line"].is_in(list(range(2, len(lines) + 1))).all()


def test_columns_not_exported_are_listed_and_a_blank_claim_type_column_is_one(tmp_path: Path) -> None:
    """A column the file lacks is listed as not exported (the rules that need it skip). So is a
    补贴类型 column whose every cell is blank: a blank cell reads as 月度, which an export that never
    filled the column does not say. One filled cell makes it a column of the export."""
    header = "claim_id,unit_id,person_id,claim_month,amount,submitted_date,claim_type\n"
    rows = [f"C1,{U1},{P1},2023-07,1500,2023-08-05,", f"C2,{U1},{P1},2023-08,1500,2023-09-05, "]
    loaded = load_inputs(write_inputs(tmp_path / "blank", claims=header + "\n".join(rows) + "\n"))
    assert {"claim_type", "paid_date", "insurance_amount"} <= set(loaded.absent_columns["claims"])
    assert "整列为空" in loaded.counts_text()
    rows[1] = f"C2,{U1},{P1},2023-08,1500,2023-09-05,月度补贴"
    loaded = load_inputs(write_inputs(tmp_path / "filled", claims=header + "\n".join(rows) + "\n"))
    assert "claim_type" not in loaded.absent_columns["claims"] and "paid_date" in loaded.absent_columns["claims"]
    assert loaded.tables["claims"]["claim_type"].to_list() == [None, "月度"]


def test_a_row_that_ends_before_it_starts_is_quarantined_and_placed_at_no_time(tmp_path: Path) -> None:
    """An agreement whose planned or actual end precedes its start, a labour contract whose end
    or termination precedes its start, or a position taken down before it was posted, holds no
    span a rule can read: which date was keyed wrong
    is unknown (RULES.md §8, "Unreadable rows do not accuse"). It is quarantined, naming the end
    column and the start, and placed by its agreement and person but at no time (``day`` null: it
    may belong to any month). Look-alikes kept: an agreement ending the day it starts, one with no
    actual end, a contract with no end (open-ended)."""
    agreements = (
        "agreement_id,person_id,unit_id,start_date,planned_end_date,actual_end_date\n"
        f"A1,{P1},{U1},2024-07-01,2023-12-31,\n"  # the start's year keyed a year late
        f"A2,{P2},{U2},2023-07-01,2024-06-30,2023-06-30\n"  # the actual end before the start
        f"A3,{P3},{U1},2023-07-01,2023-07-01,\n"  # a one-day agreement: kept
        f"A4,{P3},{U2},2023-08-01,2024-01-31,\n"  # no actual end: kept
    )
    employment = (
        "person_id,employer_id,contract_start,contract_end,terminated_date\n"
        f"{P1},{U1},2029-01-01,2026-12-31,\n"  # ends before it starts
        f"{P2},{U2},2024-07-01,,2024-06-30\n"  # terminated before it starts
        f"{P3},{U1},2024-07-01,,\n"  # open-ended: kept
    )
    positions = (
        "position_id,unit_id,posted_date,closed_date\n"
        f"G1,{U1},2023-06-01,2022-06-01\n"  # taken down before it was posted
        f"G2,{U2},2023-06-01,\n"  # still open: kept
    )
    loaded = load_inputs(write_inputs(tmp_path / "in", agreements=agreements, employment=employment,
                                      positions=positions))
    q = loaded.quarantine.filter(pl.col("table").is_in(["agreements", "employment", "positions"])).sort("table", "line")
    assert q.select("table", "line", "column", "value").rows() == [
        ("agreements", 2, "planned_end_date", "2023-12-31"),
        ("agreements", 3, "actual_end_date", "2023-06-30"),
        ("employment", 2, "contract_end", "2026-12-31"),
        ("employment", 3, "terminated_date", "2024-06-30"),
        ("positions", 2, "closed_date", "2022-06-01"),
    ]
    assert q["reason"][0].startswith("早于见习开始日期（2024-07-01）") and "start_date (2024-07-01)" in q["reason"][0]
    assert q["reason"][2].startswith("早于合同开始日期（2029-01-01）")
    placed = loaded.quarantined_rows.filter(pl.col("table") == "agreements").sort("line")
    assert placed.select("line", "agreement_id", "person_id", "unit_id", "day").rows() == [
        (2, "A1", P1, U1, None), (3, "A2", P2, U2, None)]
    counts = {r["table"]: r for r in loaded.counts.iter_rows(named=True)}
    assert (counts["agreements"]["rows_read"], counts["agreements"]["rows_kept"]) == (4, 2)
    assert (counts["employment"]["rows_read"], counts["employment"]["rows_kept"]) == (3, 1)
    kept = loaded.tables["agreements"]["agreement_id"].sort().to_list()
    assert kept == ["A3", "A4"]


def test_a_blank_insurance_column_is_not_exported_and_one_filled_cell_exports_it(tmp_path: Path) -> None:
    """A 综合保险补贴 column whose every cell is blank says nothing of what was paid on top (the 汇总表's
    indicator 14 counts it): read as not exported, so that indicator is not recomputed without it
    (a 3k world so exported had 9 county-months "differ"). One filled cell makes it exported."""
    header = "claim_id,unit_id,person_id,claim_month,amount,insurance_amount,submitted_date\n"
    rows = [f"C1,{U1},{P1},2023-07,1500,,2023-08-05", f"C2,{U1},{P1},2023-08,1500,,2023-09-05"]
    loaded = load_inputs(write_inputs(tmp_path / "blank", claims=header + "\n".join(rows) + "\n"))
    assert "insurance_amount" in loaded.absent_columns["claims"]
    rows[1] = f"C2,{U1},{P1},2023-08,1500,25,2023-09-05"
    loaded = load_inputs(write_inputs(tmp_path / "filled", claims=header + "\n".join(rows) + "\n"))
    assert "insurance_amount" not in loaded.absent_columns["claims"]
    assert loaded.tables["claims"]["insurance_amount"].to_list() == [None, 25.0]


@pytest.mark.parametrize("table,content,column,filled", [
    ("trainees", f"person_id,name,education\n{P1},张三,\n{P2},李四,\n{P3},王五,\n", "education", ("王五,", "王五,本科")),
    ("positions", f"position_id,unit_id,posted_date,closed_date,slots\nG1,{U1},2023-06-01,,2\nG2,{U2},2023-06-01,,3\n",
     "closed_date", ("2023-06-01,,3", "2023-06-01,2023-09-30,3")),
    ("positions", f"position_id,unit_id,posted_date,closed_date,slots\nG1,{U1},2023-06-01,,\nG2,{U2},2023-06-01,,\n",
     "slots", ("2023-06-01,,\n", "2023-06-01,,3\n")),
])
def test_a_column_the_summary_form_counts_is_not_exported_when_blank_everywhere(
        tmp_path: Path, table: str, content: str, column: str, filled: tuple[str, str]) -> None:
    """学历, 下架日期 and 岗位数量 blank in every cell say nothing (the 汇总表's indicators 3, 4, 7 and 10
    count from them: a 3k world so exported had 30–31 county-months "differ"): read as not
    exported. One filled cell makes the column exported."""
    loaded = load_inputs(write_inputs(tmp_path / "blank", **{table: content}))
    assert column in loaded.absent_columns[table]
    loaded = load_inputs(write_inputs(tmp_path / "filled", **{table: content.replace(*filled)}))
    assert column not in loaded.absent_columns[table]


def test_versions_of_one_agreement_that_disagree_are_quarantined_at_no_time(tmp_path: Path) -> None:
    """One agreement number written on two rows of one person and unit with different dates — an
    export of its history, an extension written over — gives two spans, and which holds is
    unknown (RULES.md §8, "Unreadable rows do not accuse"): both rows are quarantined, each with
    its own dates in the reason, placed by agreement, person and unit at no time. Look-alikes
    kept: an exact copy (collapsed), the same number for two persons, two rows that agree on the
    dates and differ elsewhere (DATA_QUALITY.duplicate_key reports those from the table)."""
    agreements = (
        "agreement_id,person_id,unit_id,start_date,planned_end_date,actual_end_date,retained\n"
        f"A1,{P1},{U1},2023-07-01,2023-12-31,,否\n"
        f"A1,{P1},{U1},2023-07-01,2024-02-29,,否\n"  # the same agreement, its end two months on
        f"A2,{P2},{U2},2023-07-01,2024-06-30,,否\n"
        f"A2,{P2},{U2},2023-07-01,2024-06-30,,否\n"  # an exact copy: collapsed
        f"A3,{P1},{U2},2024-03-01,2024-08-31,,否\n"
        f"A3,{P3},{U2},2024-04-01,2024-09-30,,否\n"  # one number, two persons: two agreements
        f"A4,{P3},{U1},2023-07-01,2023-12-31,,否\n"
        f"A4,{P3},{U1},2023-07-01,2023-12-31,,是\n"  # the same dates: kept, a duplicate key
    )
    loaded = load_inputs(write_inputs(tmp_path / "in", agreements=agreements))
    q = loaded.quarantine.filter(pl.col("table") == "agreements").sort("line")
    assert q.select("line", "column", "value").rows() == [(2, "agreement_id", "A1"), (3, "agreement_id", "A1")]
    assert q["reason"][0].startswith("编号重复且各行起止日期不一致（同一人员、单位，共 2 种；")
    assert "2023-07-01／2023-12-31／空" in q["reason"][0] and "2023-07-01／2024-02-29／空" in q["reason"][1]
    placed = loaded.quarantined_rows.filter(pl.col("table") == "agreements").sort("line")
    assert placed.select("line", "agreement_id", "person_id", "unit_id", "day").rows() == [
        (2, "A1", P1, U1, None), (3, "A1", P1, U1, None)]
    kept = sorted(loaded.tables["agreements"]["agreement_id"].to_list())
    assert kept == ["A2", "A3", "A3", "A4", "A4"]  # A2 once: its copy collapsed


@pytest.mark.parametrize("register, named, read, noted", [
    pytest.param(["A-001", "A-002"], ["A001", "A001", "A-002"], ["A-001", "A-001", "A-002"], True,
                 id="the register punctuates, the claims do not: read as the register writes them"),
    pytest.param(["A001", "A002"], ["A/001", "a-002", "A002"], ["A001", "A002", "A002"], True,
                 id="the claims punctuate (a slash, a lower-case letter and a hyphen): read as the register"),
    pytest.param(["A-001", "A-002"], ["A-001", "A-002", "A-002"], ["A-001", "A-002", "A-002"], False,
                 id="look-alike: both write the numbers alike: nothing changed, nothing said"),
    pytest.param(["A-1-2", "A-12", "A-002"], ["A12", "A-002", "A-003"], ["A12", "A-002", "A-003"], False,
                 id="look-alike: A12 is the letters of two numbers (A-1-2, A-12), A-003 of none: left as written"),
])
def test_a_number_punctuated_otherwise_than_its_register_is_read_as_the_register(
        tmp_path: Path, register: list, named: list, read: list, noted: bool) -> None:
    """A claim names its agreement by a number that the agreements export punctuates otherwise
    (XY-209347622 / XY209347622): read as the register writes it, where its letters and digits
    name exactly one of the register's numbers and it matches none as written, with a note."""
    people = [P1, P2, P3]
    agreements = "agreement_id,person_id,unit_id,start_date,planned_end_date\n" + "".join(
        f"{a},{people[i % 3]},{U1},2023-07-01,2023-12-31\n" for i, a in enumerate(register))
    claims = "claim_id,unit_id,person_id,agreement_id,claim_month,claim_type,amount,submitted_date\n" + "".join(
        f"C{i},{U1},{P1},{a},2023-0{7 + i},月度,1500,2023-0{7 + i}-25\n" for i, a in enumerate(named))
    loaded = load_inputs(write_inputs(tmp_path / "in", agreements=agreements, claims=claims))
    assert loaded.tables["claims"].sort("claim_id")["agreement_id"].cast(pl.String).to_list() == read
    assert any("仅标点不同" in n for n in loaded.notes) == noted
