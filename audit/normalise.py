"""Vectorised parsers that turn exported strings into typed values, and the ID check-digit maths.

Every function here takes and returns a polars expression (no Python loop over rows); the loader
applies them to whole columns. A parser returns null for a value it cannot read, and the loader
compares that with the raw value to send the row to the quarantine. The accepted spellings are
those of real 人社/社保/市场监管 exports (``shared/contract.md``): dates ``2023-07-05``,
``2023/7/5``, ``20230705``, ``2023年7月5日``, ``2023.7.5`` and Excel serial numbers; months
``2023-07``, ``202307``, ``2023年7月``, ``2023.07``, ``2023/7`` (a full date gives its month);
money ``1,500.00``, ``1500元``, ``¥1500``, ``￥1,500`` (never ``12,88`` or ``1.288,00``: ambiguous); booleans 是/否/Y/N/1/0/true/false/√/×.
Full-width characters (``２０２３``, ``（``) are read as their ASCII forms.

Identity numbers: 居民身份证号 follow GB 11643-1999 (17 digits and an ISO 7064 MOD 11-2 check
character; a legacy 15-digit number becomes 18 digits by inserting ``19`` before the two-digit
birth year and appending the check character). 统一社会信用代码 follow GB 32100-2015 (17 characters
and a MOD 31 check character over the alphabet ``0-9 A-H J-N P-R T-U W-Y``). Both maths exist twice:
as polars expressions for the loader and as plain functions for the fixtures generator.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable

import polars as pl

# ---------------------------------------------------------------------------------------------
# characters

#: full-width forms U+FF01..U+FF5E map onto ASCII 0x21..0x7E; U+3000 is the ideographic space.
FULLWIDTH = [chr(c) for c in range(0xFF01, 0xFF5F)] + ["\u3000"]
ASCII_OF_FULLWIDTH = [chr(c - 0xFEE0) for c in range(0xFF01, 0xFF5F)] + [" "]
_NON_ASCII = r"[^\x00-\x7F]"


def to_ascii(expr: pl.Expr) -> pl.Expr:
    """Full-width digits, letters, punctuation and spaces become their ASCII forms."""
    return expr.str.replace_many(FULLWIDTH, ASCII_OF_FULLWIDTH)


def to_ascii_str(text: str) -> str:
    """Plain-Python twin of :func:`to_ascii`, for headers and generators."""
    return text.translate({ord(f): a for f, a in zip(FULLWIDTH, ASCII_OF_FULLWIDTH)})


_BLANKS = " \t\r\n\u3000\ufeff\xa0"


def unwrap_excel_text(expr: pl.Expr) -> pl.Expr:
    """The value inside Excel's text markers: an export writes a long number as ``'360102…`` (a
    leading apostrophe) or ``="360102…"`` (a formula giving the text) so that Excel keeps its
    digits instead of showing 3.60102E+17. The marker is no part of the value; spaces around it
    go too. (Both branches are computed for every value: the loader calls it only on a column that
    holds a marker at all, :func:`unwrap_excel_text_series`.)"""
    text = _trimmed(expr)
    formula = text.str.starts_with('="') & text.str.ends_with('"') & (text.str.len_bytes() >= 3)
    return pl.when(formula).then(text.str.slice(2).str.strip_suffix('"')).otherwise(text.str.strip_prefix("'"))


def _has_marker(values: pl.Series) -> bool:
    """Whether a text column may hold an Excel text marker: a value starting with ``'`` or ``=``,
    or with a blank (the marker may follow it). Prefix tests, one at a time until one holds:
    0.025 s each for 6 M values, where a search of every value's bytes takes 0.17 s."""
    return any(values.str.starts_with(prefix).any() for prefix in ("'", "=", " ", "\t", "\u3000"))


def unwrap_excel_text_series(values: pl.Series) -> pl.Series:
    """``values`` with Excel's text markers removed (:func:`unwrap_excel_text`); a column without
    any is returned as it is. The loader calls it on each column's distinct values before they
    are parsed."""
    if values.dtype != pl.String or not _has_marker(values):
        return values
    return pl.DataFrame({"v": values}).select(unwrap_excel_text(pl.col("v"))).to_series().alias(values.name)


def _trimmed(expr: pl.Expr) -> pl.Expr:
    return expr.str.strip_chars(_BLANKS)


def clean_text(expr: pl.Expr) -> pl.Expr:
    """Trimmed text, with an empty or blank cell read as missing (null). (Excel's text markers are
    removed before, by the loader: :func:`unwrap_excel_text_series`.)"""
    stripped = _trimmed(expr)
    return pl.when(stripped.str.len_bytes() > 0).then(stripped)


#: what exports write in a cell that holds nothing (compared trimmed, in lower case): read as
#: blank in a date, month, amount, number, yes-no or closed-vocabulary cell — never in a name or an
#: ID, where 无 is kept as written and names no one (:func:`names_someone`)
NO_VALUE = ("无", "暂无", "不详", "未知", "空", "-", "--", "---", "—", "——", "/", "\\", "null", "none", "n/a", "na",
            "#n/a", "nan", "0000-00-00")
#: what an end date that has none says (劳动合同终止日期 of an open-ended contract): read as blank
#: there, as is any date in the year :data:`NO_END_YEAR` (9999-12-31, the systems' "no end")
NO_END = ("长期", "长期有效", "永久", "永久有效", "无固定期限", "无期限", "至今", "终身")
NO_END_YEAR = 9999
#: the dates systems write for no date: 1900-01-01 (a database's or a form's default) and Excel's
#: day 0 and day 1 (1899-12-30 in the 1900 date system's serial numbers, 1899-12-31 as some
#: exports write day 0): read as blank in a date column, as 0000-00-00 is
NO_DATE = (dt.date(1900, 1, 1), dt.date(1899, 12, 30), dt.date(1899, 12, 31))


def says_nothing(values: pl.Series) -> pl.Series:
    """Whether each cell is blank or one of :data:`NO_VALUE` (null for a null cell counts as blank)."""
    text = clean_text_series(values.cast(pl.String))
    return text.is_null() | text.str.to_lowercase().is_in(NO_VALUE)


def clean_text_series(values: pl.Series) -> pl.Series:
    """:func:`clean_text` of a whole column (free text: every row), Excel's text markers removed."""
    return pl.DataFrame({"v": unwrap_excel_text_series(values)}).select(clean_text(pl.col("v"))).to_series()


def clean_county(expr: pl.Expr) -> pl.Expr:
    """A GB/T 2260 code as text: ASCII, no spaces, no ``.0`` a spreadsheet added. A 统计用区划代码
    (the statistics bureau's 12 digits, ``360102000000``, or a township's 9, ``360102001``) begins
    with the code of the county it lies in: read as those six digits."""
    code = clean_code(expr).str.replace(r"\.0+$", "")
    return pl.when(code.str.contains(r"^\d{6}(?:\d{3}|\d{6})$")).then(code.str.slice(0, 6)).otherwise(code)


def clean_code(expr: pl.Expr) -> pl.Expr:
    """A code or number: ASCII, no spaces anywhere, missing when blank."""
    text = clean_text(to_ascii(expr)).str.replace_all(r"\s+", "")
    return pl.when(text.str.len_bytes() > 0).then(text)


def vocabulary_key(expr: pl.Expr) -> pl.Expr:
    """A closed-vocabulary value as its spellings are listed (:attr:`audit.schema.ColumnSpec.spellings`):
    full-width to ASCII, every space and punctuation mark removed — ``存续（在营、开业、在册）`` and
    ``存续(在营,开业,在册)`` are both ``存续在营开业在册``."""
    return clean_text(to_ascii(expr)).str.replace_all(r"[\s\p{P}]+", "")


def read_vocabulary(expr: pl.Expr, spellings: dict[str, str]) -> pl.Expr:
    """The canonical value of each spelling (:func:`vocabulary_key`); null for a value not listed."""
    return vocabulary_key(expr).replace_strict(list(spellings), list(spellings.values()), default=None,
                                               return_dtype=pl.String)


# ---------------------------------------------------------------------------------------------
# dates, months, numbers, booleans

#: Excel's day zero (the 1900 date system, including its 1900-02-29 bug for serials ≥ 61).
EXCEL_EPOCH = dt.date(1899, 12, 30)
#: serials read as dates only in this range (1927-05-18 .. 2173-10-14): a five-digit number.
EXCEL_SERIAL_MIN, EXCEL_SERIAL_MAX = 10_000, 99_999


def _date_text(expr: pl.Expr) -> pl.Expr:
    """ASCII date text with every separator turned into ``-`` and any time of day removed."""
    text = clean_text(to_ascii(expr))
    # "2023 年 7 月 5 日", "2023年7月份": the words' own spacing and 份 are no part of the date
    text = text.str.replace_all(r"\s*([年月])(?:份)?\s*", "${1}").str.replace_all(r"\s+([日号])", "${1}")
    text = text.str.replace(r"([日号])\d{1,2}[时点:].*$", "${1}")  # "2023年7月5日8时30分"
    text = text.str.replace(r"[ T].*$", "")  # "2023-07-05 00:00:00", "2023-07-05T00:00:00"
    text = text.str.replace_all(r"[年月/.\u2013\u2014]", "-").str.replace_all(r"[日号]", "")
    return text.str.strip_chars("-")


def _excel_serial(text: pl.Expr) -> pl.Expr:
    serial = pl.when(text.str.contains(r"^\d{5}(\.\d+)?$")).then(text).cast(pl.Float64, strict=False).floor()
    ok = serial.is_between(EXCEL_SERIAL_MIN, EXCEL_SERIAL_MAX)
    return pl.when(ok).then(pl.lit(EXCEL_EPOCH) + pl.duration(days=serial.cast(pl.Int64)))


def parse_date(expr: pl.Expr) -> pl.Expr:
    """A date from any accepted spelling (see the module docstring); null when unreadable."""
    serial = _excel_serial(clean_text(to_ascii(expr)))
    text = _date_text(expr)
    dashed = pl.when(text.str.contains(r"^\d{4}-\d{1,2}-\d{1,2}$")).then(text)
    # "20230705", and a system's timestamp "202307050830" / "20230705083000"
    compact = pl.when(text.str.contains(r"^\d{8}(?:\d{4}|\d{6})?$")).then(text.str.slice(0, 8))
    return pl.coalesce(
        dashed.str.strptime(pl.Date, "%Y-%m-%d", strict=False),
        compact.str.strptime(pl.Date, "%Y%m%d", strict=False),
        serial,
    )


#: the years a year written alone is read as (a graduating class, a registration's year)
YEAR_ALONE_MIN, YEAR_ALONE_MAX = 1950, 2100


def parse_year(expr: pl.Expr) -> pl.Expr:
    """The first day of the year from a year written alone — ``2023``, ``2023年``, ``2023届`` (the
    class of 2023) — as registers record 毕业时间; null for anything else, and for a number outside
    :data:`YEAR_ALONE_MIN` … :data:`YEAR_ALONE_MAX` (four digits that are no year)."""
    text = _date_text(expr)
    year = pl.when(text.str.contains(r"^\d{4}届?$")).then(text.str.slice(0, 4)).cast(pl.Int32, strict=False)
    return pl.when(year.is_between(YEAR_ALONE_MIN, YEAR_ALONE_MAX)).then(pl.date(year, 1, 1))


def parse_month(expr: pl.Expr) -> pl.Expr:
    """The first day of the month from ``2023-07``, ``202307``, ``2023年7月``, a full date or a serial."""
    text = _date_text(expr)
    month_only = pl.when(text.str.contains(r"^\d{4}-\d{1,2}$")).then(text + "-1")
    compact = pl.when(text.str.contains(r"^\d{6}$")).then(text + "01")
    as_month = pl.coalesce(
        month_only.str.strptime(pl.Date, "%Y-%m-%d", strict=False),
        compact.str.strptime(pl.Date, "%Y%m%d", strict=False),
    )
    return pl.coalesce(as_month, parse_date(expr).dt.month_start())


#: an amount whose commas group thousands (``1,288.00``, ``12,345``), or that has none
_THOUSANDS = r"^[+-]?(?:\d{1,3}(?:,\d{3})+|\d*)(?:\.\d*)?$"


def parse_money(expr: pl.Expr) -> pl.Expr:
    """Yuan from ``1,500.00``, ``1500元``, ``¥1500``, ``￥1,500``, ``(1,500.00)`` (negative, as an
    accountant writes it): exact to the fen, half a fen up;
    null for more than 15 digits of yuan, and for an amount whose separators are ambiguous — a
    comma that does not group thousands before the point (``12,88``, ``1.288,00``: a decimal
    comma, or a typo) is not guessed at.

    The digits are read as integers (yuan and fen apart), never through a binary float, so
    ``1.005`` is 1.01 yuan; the result is the Float64 nearest to whole fen / 100, read from its
    decimal text (``1999e-2`` is 19.99 exactly as written, where 1999 / 100 in polars — a
    multiplication by 0.01 — is 19.990000000000002).
    """
    text = clean_text(to_ascii(expr))
    text = text.str.replace_all(r"[\s¥￥$]|元|人民币|RMB|CNY", "")
    # an accountant's negative, (1,480.00) — a reversal (冲销) as a spreadsheet formats it
    text = text.str.replace(r"^[(（]([^()（）]*)[)）]$", "-$1")
    text = pl.when(text.str.contains(_THOUSANDS)).then(text.str.replace_all(",", "", literal=True))
    ok = text.str.contains(r"^[+-]?(\d{1,15}(\.\d*)?|\.\d+)$")  # at most 15 digits of yuan
    body = pl.when(ok).then(text.str.strip_prefix("+").str.strip_prefix("-"))
    yuan = body.str.extract(r"^(\d*)").str.replace(r"^$", "0").cast(pl.Int64)
    frac = (body.str.extract(r"\.(\d*)$").fill_null("") + "000").str.slice(0, 3)
    fen = frac.str.slice(0, 2).cast(pl.Int64) + (frac.str.slice(2, 1).cast(pl.Int64) >= 5).cast(pl.Int64)
    sign = pl.when(text.str.starts_with("-")).then(-1).otherwise(1)
    return pl.format("{}e-2", (yuan * 100 + fen) * sign).cast(pl.Float64)


#: the circled numbers ① … ⑳ (a list's items, 退出情形 ③), each the number it circles
CIRCLED = tuple(chr(0x2460 + i) for i in range(20))


def parse_int(expr: pl.Expr, units: tuple[str, ...] = ()) -> pl.Expr:
    """A whole number; ``12.0`` (how spreadsheets store integers) reads as 12, ``12.5`` does not;
    a circled number (③) is its number. With ``units``, the column's words written before or
    after the number (``22天``; 退出情形 ``情形3``, ``第3项``) are dropped first."""
    text = clean_text(to_ascii(expr)).str.replace_all(r"[\s,]", "")
    text = text.str.replace_many(list(CIRCLED), [str(i + 1) for i in range(len(CIRCLED))])
    if units:
        words = "(?:" + "|".join(re.escape(u) for u in sorted(units, key=len, reverse=True)) + ")"
        text = text.str.replace(f"^{words}", "").str.replace(f"{words}$", "")
    text = text.str.replace(r"\.0*$", "")
    return pl.when(text.str.contains(r"^[+-]?\d{1,18}$")).then(text).cast(pl.Int64, strict=False)


#: the answer to a 是否… column, and the column's own words where they can mean nothing else
#: (是否留用: 已留用 / 未留用; 列入…名录: 已列入 / 未列入, and 移出: taken off the list)
TRUE_WORDS = ("是", "y", "yes", "1", "true", "t", "√", "✓", "✔", "有", "对", "留用", "已留用", "列入", "已列入")
FALSE_WORDS = ("否", "n", "no", "0", "false", "f", "×", "✗", "✘", "无", "不是", "未留用", "不留用", "未列入", "移出",
               "已移出")


def parse_bool(expr: pl.Expr) -> pl.Expr:
    """True for 是/Y/1/true/√, False for 否/N/0/false/×; null for anything else."""
    text = clean_text(to_ascii(expr)).str.to_lowercase().str.replace(r"\.0+$", "")
    return text.replace_strict(
        [*TRUE_WORDS, *FALSE_WORDS], [True] * len(TRUE_WORDS) + [False] * len(FALSE_WORDS),
        default=None, return_dtype=pl.Boolean,
    )


# ---------------------------------------------------------------------------------------------
# 居民身份证号, GB 11643

ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
ID_CHECK_CHARS = "10X98765432"  # indexed by (Σ digit × weight) mod 11


def gb11643_check_char(first17: str) -> str:
    """The check character of an 18-digit ID from its first 17 digits."""
    if len(first17) != 17 or not first17.isdigit():
        raise ValueError("GB 11643 needs 17 digits")
    return ID_CHECK_CHARS[sum(int(d) * w for d, w in zip(first17, ID_WEIGHTS)) % 11]


def person_id_check_char(first17: pl.Expr) -> pl.Expr:
    """Vectorised GB 11643 check character of 17-digit strings (null when not 17 digits)."""
    total = pl.sum_horizontal(
        [first17.str.slice(i, 1).cast(pl.Int32, strict=False) * w for i, w in enumerate(ID_WEIGHTS)]
    )
    valid = first17.str.contains(r"^\d{17}$")
    return pl.when(valid).then(
        (total % 11).replace_strict(list(range(11)), list(ID_CHECK_CHARS), return_dtype=pl.String)
    )


def clean_person_id(expr: pl.Expr) -> pl.Expr:
    """Spaces removed, full-width to ASCII, ``x`` to ``X``; null when blank."""
    return clean_code(expr).str.to_uppercase()


#: an 18-character ID: 17 digits and a check character (whatever the check says)
ID18 = r"^\d{17}[\dX]$"


def names_someone(expr: pl.Expr) -> pl.Expr:
    """Whether a normalised person ID names someone: 18 characters (a legacy 15-digit ID is
    already read as its 18-digit form), whatever its check character says. A placeholder (``0``,
    ``无``, ``不详``) or any other malformed value names no one: two rows holding the same one are
    not one person. False for a null."""
    return expr.str.contains(ID18).fill_null(False)


def person_id_table(raw: pl.Series) -> pl.DataFrame:
    """``raw`` → a frame of (id, status): the 18-character ID and ok|legacy15|bad_check|malformed.

    A 15-digit legacy number becomes ``first6 + "19" + next9 + check``. An 18-character ID whose
    birth date is not a real date is malformed; one whose check character fails is kept as
    bad_check. Anything else is kept as cleaned and flagged malformed; a blank one is null.
    Computed in stages (one column at a time) so no sub-expression is evaluated twice.
    """
    return (
        pl.DataFrame({"raw": raw.cast(pl.String)})
        .lazy()
        .select(pid=clean_person_id(pl.col("raw")))
        .with_columns(
            is18=pl.col("pid").str.contains(ID18), is15=pl.col("pid").str.contains(r"^\d{15}$")
        )
        .with_columns(
            body=pl.when("is18").then(pl.col("pid").str.slice(0, 17))
            .when("is15").then(pl.col("pid").str.slice(0, 6) + "19" + pl.col("pid").str.slice(6, 9))
        )
        .with_columns(
            check=person_id_check_char(pl.col("body")),
            birth_ok=person_birth_date(pl.col("body")).is_not_null(),
        )
        .select(
            id=pl.when("is15").then(pl.col("body") + pl.col("check")).otherwise("pid"),
            status=pl.when(pl.col("pid").is_null()).then(pl.lit(None, pl.String))
            .when(~(pl.col("is18") | pl.col("is15")) | ~pl.col("birth_ok")).then(pl.lit("malformed"))
            .when("is15").then(pl.lit("legacy15"))
            .when(pl.col("pid").str.slice(17, 1) == pl.col("check")).then(pl.lit("ok"))
            .otherwise(pl.lit("bad_check")),
        )
        .collect()
    )


PERSON_ID_STRUCT = pl.Struct({"id": pl.String(), "status": pl.String()})


def normalise_person_id(expr: pl.Expr) -> pl.Expr:
    """A struct ``{id, status}`` per value (see :func:`person_id_table`), whole column at once."""
    return expr.map_batches(
        lambda s: map_distinct(s, person_id_table).to_struct(s.name), return_dtype=PERSON_ID_STRUCT
    )


def map_distinct(values: pl.Series, table_of: Callable[[pl.Series], pl.DataFrame]) -> pl.DataFrame:
    """``table_of`` applied to the distinct values only, spread back over every row: each row
    gets the result of its own value."""
    if values.len() < 50_000:  # a small column: the encoding would cost more than it saves
        return table_of(values)
    codes, distinct = encode(values)
    table = table_of(distinct)
    return pl.DataFrame([table[name].gather(codes) for name in table.columns])


#: a column whose sample of about 20 000 rows is more than 90 % distinct has its codes found by
#: hashing where its repeated values, if any, lie scattered; by a categorical cast where they lie
#: side by side (the quicker of the two for each: bench/NOTES.md). A sample spread over the column
#: cannot tell IDs each written once (claim numbers, the trainee register) or written six times
#: in no order (the claims' people and agreements: the hash 1.7 against 3.3 CPU-s for 6 M rows)
#: from IDs written ten times one after another (a million people's insurance months, sorted by
#: person: the cast 1.7 against 2.4). Two runs of consecutive rows, each as long as the sample,
#: tell them apart: as distinct as the sample, the values are scattered. Where a run repeats,
#: the estimate of the whole column's distinct values (HyperLogLog, 0.1 s for 11 M rows) still
#: hashes a column of values each written about once.
_SAMPLE = 20_000
_MANY_DISTINCT = 0.9
_HASH_ABOVE = 0.5
#: where the runs of consecutive rows that tell a scattered column are taken (shares of its length)
_RUNS_AT = (1 / 3, 2 / 3)
#: a column whose sample holds at most this many distinct values has them cast a morsel at a time
_FEW = 1_000
#: seed of the second, independent hash that confirms the codes the first one gave.
_CONFIRM_SEED = 0x5EED_1234


def encode(values: pl.Series) -> tuple[pl.Series, pl.Series]:
    """``values`` as (codes, distinct), a dictionary encoding: ``distinct.gather(codes)`` equals
    ``values`` on every row. codes are UInt32, null exactly where the value is null; distinct
    holds the values a code names (each once; an unused code may name null).

    The distinct values are found by a categorical cast, or — for a column of many distinct
    values written once each or repeated in no order (:func:`_scattered`), guessed from a sample,
    runs of consecutive rows and an estimate — by hashing the strings to 64 bits and sorting the
    hashes, each run of equal hashes a code. Codes given by a hash are confirmed row by row with a
    second, independent 64-bit hash of the value (two values would have to collide in both to be
    confused); should a confirmation fail, the categorical cast is used instead.
    """
    if values.dtype != pl.String:
        values = values.cast(pl.String)
    sample = values.gather_every(max(1, values.len() // _SAMPLE))
    in_sample = sample.n_unique()
    if (values.len() >= 50_000 and in_sample > _MANY_DISTINCT * sample.len()
            and (_scattered(values, sample.len()) or values.approx_n_unique() > _HASH_ABOVE * values.len())):
        found = _encode_by_hash(values)
        if found is not None:
            return found
    return _encode_by_category(values, streamed=values.len() >= 50_000 and in_sample <= _FEW)


def _scattered(values: pl.Series, length: int) -> bool:
    """Whether runs of ``length`` consecutive rows (at :data:`_RUNS_AT`) are as distinct as a sample
    spread over the column is (more than :data:`_MANY_DISTINCT`): the column's repeated values, if
    any, do not lie side by side."""
    runs = [values.slice(int(values.len() * at), length) for at in _RUNS_AT]
    return all(run.n_unique() > _MANY_DISTINCT * run.len() for run in runs)


def _encode_by_category(values: pl.Series, *, streamed: bool = False) -> tuple[pl.Series, pl.Series]:
    """The codes by a categorical cast: ``streamed``, cast a morsel at a time on every core (a
    column of a few distinct values: 11 M insurance rows' payer types 0.09 s and 0.18 CPU-s
    against 0.35 s and 0.39 CPU-s cast whole, on one core); else cast whole (many distinct
    values: the cores' morsels would contend for one mapping, 1.4 against 0.5 CPU-s)."""
    categorical = pl.Categorical(pl.Categories.random())
    if streamed:
        cat = pl.LazyFrame({"v": values}).select(pl.col("v").cast(categorical)).collect().to_series()
    else:
        cat = values.cast(categorical)
    present = cat.unique().drop_nulls()
    phys = present.to_physical().cast(pl.UInt32)
    size = int(phys.max() or 0) + 1 if phys.len() else 0
    distinct = pl.Series(values.name, [None], dtype=pl.String).extend_constant(None, max(size - 1, 0))
    distinct = distinct.scatter(phys, present.cast(pl.String)) if size else distinct.clear()
    return cat.to_physical().cast(pl.UInt32).rename(values.name), distinct


def _encode_by_hash(values: pl.Series) -> tuple[pl.Series, pl.Series] | None:
    h = values.hash()
    order = h.arg_sort()  # equal hashes side by side: sorting costs less than a hash table of 30 M
    ordered = h.gather(order)
    del h
    starts = (ordered != ordered.shift(1)).fill_null(True)  # the first row of each hash
    del ordered
    codes = pl.Series(values.name, [0], dtype=pl.UInt32).extend_constant(0, values.len() - 1)
    codes = codes.scatter(order, starts.cast(pl.UInt32).cum_sum() - 1)
    distinct = values.gather(order.filter(starts))
    del order, starts
    if values.null_count():  # nulls have no code (their group, if any, names null)
        codes = pl.select(pl.when(pl.lit(values).is_not_null()).then(pl.lit(codes))).to_series().rename(values.name)
    confirmed = values.hash(_CONFIRM_SEED) == distinct.hash(_CONFIRM_SEED).gather(codes)
    if not confirmed.fill_null(True).all():
        return None
    return codes, distinct


def spread(distinct_results: pl.Series, codes: pl.Series, *, compact: bool = False) -> pl.Series:
    """Results per distinct value (indexed by code) spread back over the rows.

    With ``compact``, a text result comes back as a ``pl.Enum`` of the distinct results (one to
    four bytes a row instead of a string): for the loader, which casts it back to text when the
    table is written.
    """
    if compact and distinct_results.dtype == pl.String:
        categories = distinct_results.drop_nulls().unique(maintain_order=True)
        distinct_results = distinct_results.cast(pl.Enum(categories))
    return distinct_results.gather(codes)


def person_birth_date(person_id: pl.Expr) -> pl.Expr:
    """Birth date from characters 7–14 of a normalised 18-character ID (null when not a date)."""
    return person_id.str.slice(6, 8).str.strptime(pl.Date, "%Y%m%d", strict=False)


def person_sex(person_id: pl.Expr) -> pl.Expr:
    """``M`` when the 17th digit is odd, ``F`` when even, null when it is not a digit."""
    digit = person_id.str.slice(16, 1).cast(pl.Int32, strict=False)
    return pl.when(digit % 2 == 1).then(pl.lit("M")).when(digit % 2 == 0).then(pl.lit("F"))


# ---------------------------------------------------------------------------------------------
# 统一社会信用代码, GB 32100

USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
_USCC_VALUES = {ch: i for i, ch in enumerate(USCC_ALPHABET)}


def gb32100_check_char(first17: str) -> str:
    """The check character of a 统一社会信用代码 from its first 17 characters."""
    if len(first17) != 17 or any(ch not in _USCC_VALUES for ch in first17):
        raise ValueError("GB 32100 needs 17 characters from its alphabet")
    total = sum(_USCC_VALUES[ch] * w for ch, w in zip(first17, USCC_WEIGHTS))
    return USCC_ALPHABET[(31 - total % 31) % 31]


def uscc_check_char(first17: pl.Expr) -> pl.Expr:
    """Vectorised GB 32100 check character of 17-character strings (null when not valid)."""
    values = [
        first17.str.slice(i, 1).replace_strict(
            list(USCC_ALPHABET), list(range(31)), default=None, return_dtype=pl.Int32
        ) * w
        for i, w in enumerate(USCC_WEIGHTS)
    ]
    total = pl.sum_horizontal(values)
    valid = first17.str.contains(rf"^[{USCC_ALPHABET}]{{17}}$")
    return pl.when(valid).then(
        ((31 - total % 31) % 31).replace_strict(list(range(31)), list(USCC_ALPHABET), return_dtype=pl.String)
    )


#: GB 32100-2015 表1: each registration-authority code (1st character) with the organisation-type
#: codes (2nd character) it assigns.
USCC_AUTHORITIES: dict[str, tuple[str, str]] = {
    "1": ("机构编制", "1239"),  # 机关, 事业单位, 中央编办直接管理机构编制的群众团体, 其他
    "2": ("外交", "19"),  # 外国常驻新闻机构, 其他
    "3": ("司法行政", "123459"),  # 律师执业机构, 公证处, 基层法律服务所, 司法鉴定机构, 仲裁委员会, 其他
    "4": ("文化", "19"),  # 外国在华文化中心, 其他
    "5": ("民政", "1239"),  # 社会团体, 民办非企业单位, 基金会, 其他
    "6": ("旅游", "129"),  # 外国旅游部门常驻代表机构, 港澳台地区旅游部门常驻内地（大陆）代表机构, 其他
    "7": ("宗教", "129"),  # 宗教活动场所, 宗教院校, 其他
    "8": ("工会", "19"),  # 基层工会, 其他
    "9": ("工商", "123"),  # 企业, 个体工商户, 农民专业合作社 (now 市场监管)
    "A": ("中央军委改革和编制办公室", "19"),  # 军队事业单位, 其他
    "N": ("农业", "1239"),  # 组级、村级、乡镇级集体经济组织, 其他
    "Y": ("其他", "1"),
}


def uscc_structure_faults(code: pl.Expr) -> pl.Expr:
    """What a well-formed 统一社会信用代码 (18 characters of the GB 32100 alphabet) breaks of the
    structure of GB 32100-2015 beyond its check character, as a list of sentences (empty when
    none): a registration-authority code (1st character) the standard does not list, an
    organisation-type code (2nd) that authority does not assign, a registration division code
    (3rd–8th) that is not six digits. The organisation code and the check character (9th–18th)
    are the loader's (``unit_id_status``)."""
    authority, kind, division = code.str.slice(0, 1), code.str.slice(1, 1), code.str.slice(2, 6)
    known = authority.is_in(list(USCC_AUTHORITIES))
    pairs = [a + k for a, (_, kinds) in USCC_AUTHORITIES.items() for k in kinds]
    allowed = authority.replace_strict(list(USCC_AUTHORITIES), ["/".join(k) for _, k in USCC_AUTHORITIES.values()],
                                       default=None, return_dtype=pl.String)
    return pl.concat_list(
        pl.when(~known).then(pl.format("第1位登记管理部门代码 {} 不在 GB 32100 表1中", authority)),
        pl.when(known & ~pl.concat_str(authority, kind).is_in(pairs))
        .then(pl.format("第2位机构类别代码 {} 不属于登记管理部门 {}（应为 {}）", kind, authority, allowed)),
        pl.when(~division.str.contains(r"^[0-9]{6}$"))
        .then(pl.format("第3–8位登记管理机关行政区划码 {} 不是六位数字", division)),
    ).list.drop_nulls()


def clean_uscc(expr: pl.Expr) -> pl.Expr:
    """Spaces removed, full-width to ASCII, upper case; null when blank."""
    return clean_code(expr).str.to_uppercase()


def uscc_table(raw: pl.Series) -> pl.DataFrame:
    """``raw`` → a frame of (id, status): the cleaned code and ok|bad_check|malformed (null if blank)."""
    return (
        pl.DataFrame({"raw": raw.cast(pl.String)})
        .lazy()
        .select(id=clean_uscc(pl.col("raw")))
        .with_columns(
            wellformed=pl.col("id").str.contains(rf"^[{USCC_ALPHABET}]{{18}}$"),
            check=uscc_check_char(pl.col("id").str.slice(0, 17)),
        )
        .select(
            "id",
            status=pl.when(pl.col("id").is_null()).then(pl.lit(None, pl.String))
            .when(~pl.col("wellformed")).then(pl.lit("malformed"))
            .when(pl.col("id").str.slice(17, 1) == pl.col("check")).then(pl.lit("ok"))
            .otherwise(pl.lit("bad_check")),
        )
        .collect()
    )


#: a 组织机构代码 (GB 11714): eight characters and a check character, the last often after a hyphen
ORG_CODE = r"^[0-9A-Z]{8}-?[0-9A-Z]$"


def org_code_map(unit_ids: pl.Series) -> pl.DataFrame:
    """``org`` → ``unit_id``: the 组织机构代码 each credit code of the unit register embeds (GB 32100:
    its characters 9–17 are the 主体标识码, the organisation's GB 11714 code), for the register's
    18-character codes. An organisation code two of the register's codes embed maps to neither."""
    codes = uscc_table(unit_ids.drop_nulls().unique()).filter(pl.col("status").is_in(["ok", "bad_check"]))
    pairs = codes.select(org=pl.col("id").str.slice(8, 9), unit_id=pl.col("id")).unique()
    return pairs.filter(pl.col("org").is_unique())


def read_org_codes(ids: pl.DataFrame, org_map: pl.DataFrame) -> pl.DataFrame:
    """``ids`` as :func:`uscc_table` gives them (id, status), row for row, with each malformed code
    that is a 组织机构代码 (``MA0GBR9XQ``, ``MA0GBR9X-Q``: a registry that writes employers by their
    old code) read as one, status ``org_code``: the credit code of the unit of the register that
    embeds it (:func:`org_code_map`) — one unit, spelled the old way — else the organisation code
    itself, without its hyphen: another employer, named as its registry names it (not a credit
    code that fails its check)."""
    org = pl.when((pl.col("status") == "malformed") & pl.col("id").str.contains(ORG_CODE)).then(
        pl.col("id").str.replace("-", "", literal=True))
    return (
        ids.lazy().with_columns(org.alias("_org"))
        .join(org_map.lazy().rename({"unit_id": "_unit"}), left_on="_org", right_on="org", how="left",
              maintain_order="left")
        .select(id=pl.coalesce("_unit", "_org", "id"),
                status=pl.when(pl.col("_org").is_not_null()).then(pl.lit("org_code")).otherwise(pl.col("status")))
        .collect()
    )


def normalise_uscc(expr: pl.Expr) -> pl.Expr:
    """A struct ``{id, status}`` per value (see :func:`uscc_table`), whole column at once."""
    return expr.map_batches(
        lambda s: map_distinct(s, uscc_table).to_struct(s.name), return_dtype=PERSON_ID_STRUCT
    )
