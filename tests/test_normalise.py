"""The vectorised parsers and the ID check-digit maths, case by case."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest

from audit import normalise as nz

D = dt.date


def run(expr_of, values: list[str | None]) -> list:
    return pl.DataFrame({"v": values}, schema={"v": pl.String}).select(expr_of(pl.col("v"))).to_series().to_list()


DATES = [
    ("ISO", "2023-07-05", D(2023, 7, 5)),
    ("slashes, no padding", "2023/7/5", D(2023, 7, 5)),
    ("compact", "20230705", D(2023, 7, 5)),
    ("Chinese", "2023年7月5日", D(2023, 7, 5)),
    ("dots", "2023.7.5", D(2023, 7, 5)),
    ("Excel serial", "45112", D(2023, 7, 5)),
    ("Excel serial as float", "45112.0", D(2023, 7, 5)),
    ("with time of day", "2023-07-05 00:00:00", D(2023, 7, 5)),
    ("full-width digits", "２０２３－０７－０５", D(2023, 7, 5)),
    ("surrounding spaces", "  2023-07-05 ", D(2023, 7, 5)),
    ("spaced Chinese", "2023 年 7 月 5 日", D(2023, 7, 5)),
    ("Chinese with time of day", "2023年7月5日 08:30", D(2023, 7, 5)),
    ("spaced Chinese with time of day", "2023 年 7 月 5 日 08:30:00", D(2023, 7, 5)),
    ("with weekday", "2023/7/5 星期三", D(2023, 7, 5)),
    ("Chinese with 时 and 分", "2023年7月5日8时30分", D(2023, 7, 5)),
    ("a system's compact timestamp", "20230705083000", D(2023, 7, 5)),
    ("a compact timestamp to the minute", "202307050830", D(2023, 7, 5)),
    ("ten digits are no date", "2023070508", None),
    ("twelve digits that are no date", "123456789012", None),
    ("em dashes", "2023\u201407\u201405", D(2023, 7, 5)),
    ("no such day", "2023-02-30", None),
    ("no such day, spaced", "2023 年 2 月 30 日", None),
    ("two-digit year is not guessed", "23/7/5", None),
    ("words", "七月五日", None),
    ("a year alone is not a serial", "2023", None),
    ("blank", "", None),
    ("missing", None, None),
]


@pytest.mark.parametrize("text,expected", [c[1:] for c in DATES], ids=[c[0] for c in DATES])
def test_parse_date(text: str | None, expected: dt.date | None) -> None:
    assert run(nz.parse_date, [text]) == [expected]


MONTHS = [
    ("ISO month", "2023-07", D(2023, 7, 1)),
    ("compact", "202307", D(2023, 7, 1)),
    ("Chinese", "2023年7月", D(2023, 7, 1)),
    ("dots", "2023.07", D(2023, 7, 1)),
    ("slash, no padding", "2023/7", D(2023, 7, 1)),
    ("a full date gives its month", "2023-07-05", D(2023, 7, 1)),
    ("Chinese full date", "2023年7月19日", D(2023, 7, 1)),
    ("Excel serial", "45112", D(2023, 7, 1)),
    ("with 份", "2023年7月份", D(2023, 7, 1)),
    ("spaced Chinese", "2023 年 7 月", D(2023, 7, 1)),
    ("two-digit year is not guessed", "23年7月", None),
    ("month 13", "2023-13", None),
    ("month 13 in Chinese", "2023年13月", None),
    ("garbage", "last July", None),
]


@pytest.mark.parametrize("text,expected", [c[1:] for c in MONTHS], ids=[c[0] for c in MONTHS])
def test_parse_month(text: str, expected: dt.date | None) -> None:
    assert run(nz.parse_month, [text]) == [expected]


MONEY = [
    ("thousands separator", "1,500.00", 1500.0),
    ("yuan suffix", "1500元", 1500.0),
    ("yen sign", "¥1500", 1500.0),
    ("full-width yen sign and comma", "￥1,500", 1500.0),
    ("full-width digits", "１５００", 1500.0),
    ("fen kept", "1234.56", 1234.56),
    ("rounded to the fen", "0.125", 0.13),
    ("spaces", " 1 500 ", 1500.0),
    ("words", "一千五", None),
    ("two points", "1.5.0", None),
    ("thousands, no decimals", "1,288", 1288.0),
    ("thousands and fen", "1,288.00", 1288.0),
    ("two groups of thousands", "12,345,678.90", 12345678.9),
    ("plain", "1288", 1288.0),
    ("European: point groups, comma decimal", "1.288,00", None),
    ("decimal comma", "12,88", None),
    ("a comma after the point", "1288.0,0", None),
    ("a group of two", "1,28,800", None),
    ("negative (a reversal)", "-1,500.00", -1500.0),
    ("negative as an accountant writes it", "(1,500.00)", -1500.0),
    ("negative in full-width parentheses", "（1500）", -1500.0),
    ("parentheses around a negative: ambiguous", "(-1500)", None),
    ("parentheses around words", "(一千五)", None),
    ("exact: the nearest double to 19.99", "19.99", 19.99),
    ("exact: the nearest double to 0.07", "0.07", 0.07),
]


@pytest.mark.parametrize("text,expected", [c[1:] for c in MONEY], ids=[c[0] for c in MONEY])
def test_parse_money(text: str, expected: float | None) -> None:
    assert run(nz.parse_money, [text]) == [expected]


def test_parse_money_is_the_nearest_double_of_every_fen_amount() -> None:
    """Every amount of whole fen reads as the double nearest to it — what Python's float() of
    its text gives — not a product with 0.01 one bit away (19.99 was 19.990000000000002)."""
    texts = [f"{yuan}.{fen:02d}" for yuan in (0, 1, 19, 1288, 99999, 12345678) for fen in range(100)]
    assert run(nz.parse_money, texts) == [float(t) for t in texts]


INTS = [("plain", "22", 22), ("spreadsheet float", "22.0", 22), ("full-width", "２２", 22),
        ("fraction", "22.5", None), ("words", "二十二", None)]


@pytest.mark.parametrize("text,expected", [c[1:] for c in INTS], ids=[c[0] for c in INTS])
def test_parse_int(text: str, expected: int | None) -> None:
    assert run(nz.parse_int, [text]) == [expected]


DAYS = ("天", "日", "个工作日", "工作日")
COUNTED = [("days", "22天", DAYS, 22), ("workdays", "22个工作日", DAYS, 22), ("spreadsheet float", "22.0天", DAYS, 22),
           ("spaced", "22 天", DAYS, 22), ("months are no days", "3个月", DAYS, None), ("no unit asked", "22天", (), None),
           ("people", "70人", ("人", "名"), 70), ("ten thousand people", "2万人", ("人", "名"), None),
           ("another column's unit", "70人", DAYS, None), ("circled", "③", (), 3),
           ("an item of the notice", "情形3", ("情形", "第", "项"), 3), ("the item so numbered", "第3项", ("情形", "第", "项"), 3),
           ("an item in words is not guessed", "第三项", ("情形", "第", "项"), None)]


@pytest.mark.parametrize("text,units,expected", [c[1:] for c in COUNTED], ids=[c[0] for c in COUNTED])
def test_parse_int_with_the_columns_counting_words(text: str, units: tuple[str, ...], expected: int | None) -> None:
    """A count written with its column's own unit (22天 of working days) is the number; a unit
    that changes what it counts (3个月, 2万人) or belongs to another column is not read."""
    assert run(lambda e: nz.parse_int(e, units), [text]) == [expected]


BOOLS = [("是", True), ("否", False), ("Y", True), ("n", False), ("1", True), ("0", False), ("true", True),
         ("FALSE", False), ("√", True), ("×", False), ("１", True), ("maybe", None), (None, None),
         ("已留用", True), ("未留用", False), ("不留用", False), ("已列入", True), ("未列入", False), ("移出", False), ("已移出", False),
         ("留用率", None), ("已", None)]


@pytest.mark.parametrize("text,expected", BOOLS)
def test_parse_bool(text: str | None, expected: bool | None) -> None:
    assert run(nz.parse_bool, [text]) == [expected]


# 11010519491231002X is the GB 11643 standard's own example.
PERSON_IDS = [
    ("valid", "11010519491231002X", "11010519491231002X", "ok"),
    ("lower-case x", "11010519491231002x", "11010519491231002X", "ok"),
    ("spaces inside", " 110105 19491231002X ", "11010519491231002X", "ok"),
    ("full-width", "１１０１０５１９４９１２３１００２Ｘ", "11010519491231002X", "ok"),
    ("legacy 15 digits", "110105491231002", "11010519491231002X", "legacy15"),
    ("bad check digit kept", "110105194912310021", "110105194912310021", "bad_check"),
    ("impossible birth date", "110105194902300021", "110105194902300021", "malformed"),
    ("too short", "12345", "12345", "malformed"),
    ("letters", "ABCDEFGHIJKLMNOPQR", "ABCDEFGHIJKLMNOPQR", "malformed"),
    ("blank", "  ", None, None),
]


@pytest.mark.parametrize("raw,expected_id,status", [c[1:] for c in PERSON_IDS], ids=[c[0] for c in PERSON_IDS])
def test_person_id(raw: str, expected_id: str | None, status: str | None) -> None:
    got = run(nz.normalise_person_id, [raw])[0]
    assert got == {"id": expected_id, "status": status}


def test_person_id_same_result_over_distinct_values_path() -> None:
    """Above 50 000 rows the IDs are normalised once per distinct value and spread back."""
    raws = [c[1] for c in PERSON_IDS] * 6000
    small = nz.person_id_table(pl.Series(raws[: len(PERSON_IDS)]))
    big = nz.map_distinct(pl.Series(raws), nz.person_id_table)
    assert big.height == len(raws)
    assert big.head(len(PERSON_IDS)).equals(small)
    assert big.slice(len(PERSON_IDS) * 5000, len(PERSON_IDS)).equals(small)


def test_birth_date_and_sex() -> None:
    frame = pl.DataFrame({"p": ["11010519491231002X", "110105200001010011", "12345"]})
    out = frame.select(b=nz.person_birth_date(pl.col("p")), s=nz.person_sex(pl.col("p")))
    assert out["b"].to_list() == [D(1949, 12, 31), D(2000, 1, 1), None]
    assert out["s"].to_list() == ["F", "M", None]


@pytest.mark.parametrize("first17", ["11010519491231002", "43010219900101123", "00000000000000000", "99999999999999999"])
def test_check_digit_python_and_polars_agree(first17: str) -> None:
    assert run(nz.person_id_check_char, [first17]) == [nz.gb11643_check_char(first17)]


# 91350100M000100Y43 is the GB 32100 standard's example.
USCCS = [
    ("valid", "91350100M000100Y43", "91350100M000100Y43", "ok"),
    ("lower case", "91350100m000100y43", "91350100M000100Y43", "ok"),
    ("spaces and full-width", "９１３５０１００Ｍ０００１００Ｙ４３ ", "91350100M000100Y43", "ok"),
    ("bad check character kept", "91350100M000100Y44", "91350100M000100Y44", "bad_check"),
    ("letter I is not in the alphabet", "91350100I000100Y43", "91350100I000100Y43", "malformed"),
    ("too short", "9135", "9135", "malformed"),
    ("missing", None, None, None),
]


@pytest.mark.parametrize("raw,expected,status", [c[1:] for c in USCCS], ids=[c[0] for c in USCCS])
def test_uscc(raw: str | None, expected: str | None, status: str | None) -> None:
    assert run(nz.normalise_uscc, [raw])[0] == {"id": expected, "status": status}


@pytest.mark.parametrize("first17", ["91350100M000100Y4", "91430102MA4L00001", "00000000000000000", "YYYYYYYYYYYYYYYYY"])
def test_uscc_python_and_polars_agree(first17: str) -> None:
    assert run(nz.uscc_check_char, [first17]) == [nz.gb32100_check_char(first17)]


# the register: the standard's example embeds M000100Y4; two codes that embed the same 12345678X
REGISTER = ["91350100M000100Y43", "91360102123456789K", "92360103123456789L"]
ORG_CODES = [
    ("a unit's 组织机构代码 is the unit", "M000100Y4", "91350100M000100Y43", "org_code"),
    ("with the hyphen before its check character", "M000100Y-4", "91350100M000100Y43", "org_code"),
    ("an organisation code of no unit: another employer, named by it", "MA0GBR9X-Q", "MA0GBR9XQ", "org_code"),
    ("embedded by two units of the register: neither", "123456789", "123456789", "org_code"),
    ("look-alike: nine characters of another shape", "1234-56789", "1234-56789", "malformed"),
    ("look-alike: a credit code stays itself", "91350100M000100Y43", "91350100M000100Y43", "ok"),
    ("look-alike: a credit code failing its check is not an organisation code", "91350100M000100Y44",
     "91350100M000100Y44", "bad_check"),
]


@pytest.mark.parametrize("raw,expected,status", [c[1:] for c in ORG_CODES], ids=[c[0] for c in ORG_CODES])
def test_a_registry_writing_units_by_their_organisation_code(raw: str, expected: str, status: str) -> None:
    """GB 32100 embeds the GB 11714 组织机构代码 in characters 9–17 of the credit code: a registry
    that still writes employers by it names the unit of the register that embeds it."""
    org_map = nz.org_code_map(pl.Series(REGISTER))
    assert sorted(org_map["org"].to_list()) == ["M000100Y4"]
    read = nz.read_org_codes(nz.uscc_table(pl.Series([raw])), org_map)
    assert read.row(0) == (expected, status)


def test_python_check_helpers_refuse_bad_input() -> None:
    with pytest.raises(ValueError):
        nz.gb11643_check_char("1234")
    with pytest.raises(ValueError):
        nz.gb32100_check_char("I" * 17)


def test_full_width_to_ascii() -> None:
    assert run(nz.to_ascii, ["（ＡＢＣ）／１２３　"]) == ["(ABC)/123 "]
    assert nz.to_ascii_str("（１）") == "(1)"


VOCABULARY = [
    ("insurance_type", "城镇企业职工基本养老保险", "养老"), ("insurance_type", "企业养老", "养老"),
    ("insurance_type", "职工医保", "医疗"), ("insurance_type", "职工基本医疗保险（含生育保险）", "医疗"),
    # look-alike: the residents' pension is no employer's insurance: not read as 养老, never guessed
    ("insurance_type", "城乡居民养老保险", None),
    ("payer_type", "单位缴纳", "单位"), ("payer_type", "个人", None),  # 个人 may be 灵活就业 or not
    ("end_reason", "见习到期", "期满"), ("end_reason", "离职", None),  # 离职 before or after the end?
]


@pytest.mark.parametrize("table_column,text,expected",
                         [(f"{'social_insurance' if c != 'end_reason' else 'agreements'}.{c}", t, e) for c, t, e in VOCABULARY],
                         ids=[f"{c}:{t}" for c, t, _ in VOCABULARY])
def test_closed_vocabulary_spellings(table_column: str, text: str, expected: str | None) -> None:
    from audit.schema import SPECS

    table, column = table_column.split(".")
    spellings = SPECS[table].column(column).spellings
    assert run(lambda v: nz.read_vocabulary(v, spellings), [text]) == [expected]


COUNTY_CODES = [
    ("a county code", "360102", "360102"),
    ("as a spreadsheet's number", "360102.0", "360102"),
    ("full-width", "３６０１０２", "360102"),
    ("the statistics bureau's 12 digits (统计用区划代码) of the county", "360102000000", "360102"),
    ("a township's 9 digits: the county it lies in", "360102001", "360102"),
    ("a village's 12 digits: the county it lies in", "360102001002", "360102"),
    ("look-alike: five digits are no county code, kept as written", "36010", "36010"),
    ("look-alike: ten digits are no 统计用区划代码, kept as written", "3601020001", "3601020001"),
]


@pytest.mark.parametrize("raw,expected", [c[1:] for c in COUNTY_CODES], ids=[c[0] for c in COUNTY_CODES])
def test_clean_county(raw: str, expected: str) -> None:
    assert run(nz.clean_county, [raw]) == [expected]
