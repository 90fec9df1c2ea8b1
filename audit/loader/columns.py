"""Parsing one column to its spec dtype, and the quarantine lines of its unreadable cells."""

from __future__ import annotations

from collections.abc import Callable

import polars as pl

from audit import normalise as nz
from audit.loader.duplicates import RowHash
from audit.schema import ColumnSpec, Kind

REASONS: dict[Kind, str] = {
    Kind.DATE: "无法识别的日期 / unreadable date",
    Kind.MONTH: "无法识别的月份 / unreadable month",
    Kind.MONEY: "无法识别的金额 / unreadable amount",
    Kind.INT: "无法识别的整数 / unreadable whole number",
    Kind.BOOL: "无法识别的是/否 / unreadable yes-no",
}
MISSING = "必填值缺失 / required value missing"
OUT_OF_RANGE = "超出合理范围 / outside the range"
UNKNOWN_VALUE = "无法识别的取值（不在可识别的写法之列）/ value not among the accepted spellings"
TRUNCATED = "行不完整（文件截断）/ truncated line"


PARSERS = {
    Kind.DATE: nz.parse_date, Kind.MONTH: nz.parse_month, Kind.MONEY: nz.parse_money,
    Kind.INT: nz.parse_int, Kind.BOOL: nz.parse_bool,
    Kind.STR: nz.clean_text, Kind.ENUM: nz.clean_text, Kind.COUNTY: nz.clean_county,
}
#: the values of an ID column's ``<col>_status`` (see audit/schema.py), held as this Enum while
#: a table loads (one byte a row); the normalised table holds them as text.
STATUS = pl.Enum(["ok", "legacy15", "org_code", "bad_check", "malformed"])


def parser_of(spec: ColumnSpec) -> Callable[[pl.Expr], pl.Expr]:
    """How a column's text is read: its vocabulary, its kind's parser with the column's counting
    words (:attr:`ColumnSpec.units`), or its kind's parser."""
    if spec.spellings is not None:
        return lambda v: nz.read_vocabulary(v, spec.spellings)
    if spec.units:
        return lambda v: nz.parse_int(v, spec.units)
    return PARSERS[spec.kind]


def parse_series(spec: ColumnSpec, raw: pl.Series) -> pl.Series:
    """A column parsed to its spec dtype; typed Parquet columns take a fast path."""
    return _as_text(_parse_column(spec, raw, RowHash()))


#: a character a code as the registries' own systems write it does not hold: lower case, a space of
#: either width, a full-width form, Excel's text markers (a code written so is read through
#: :func:`audit.normalise.clean_code`; one without any is only trimmed, as free text is)
_NOT_A_CODE = r"[a-z\s\u3000\uFF01-\uFF5E'=\"]"


def _parse_column(spec: ColumnSpec, raw: pl.Series, row_hash: RowHash) -> pl.Series:
    """A column parsed to its spec dtype, text kept compact (``pl.Enum``) where it repeats.

    ``row_hash`` is fed what identifies the raw value, for duplicate detection: the codes of a
    dictionary-encoded text column, or the value itself. A date a system writes for none
    (1900-01-01), and an end date that says there is none (:attr:`ColumnSpec.open_end`:
    9999-12-31), is blank.
    """
    value = _parse_value(spec, raw, row_hash)
    if spec.kind is Kind.DATE and value.dtype == pl.Date:
        value = _no_date_is_blank(value, spec.open_end)
    return value


def _no_date_is_blank(value: pl.Series, open_end: bool) -> pl.Series:
    """A system's date for no date (1900-01-01, Excel's day 0 or 1: :data:`audit.normalise.NO_DATE`)
    as blank; in an end that may be none, a date in the year 9999 too."""
    day = pl.col(value.name)
    keep = ~day.is_in(list(nz.NO_DATE))
    if open_end:
        keep = keep & (day.dt.year() < nz.NO_END_YEAR)
    return value.to_frame().select(pl.when(keep).then(day)).to_series()


def _parse_value(spec: ColumnSpec, raw: pl.Series, row_hash: RowHash) -> pl.Series:
    value = _typed_fast_path(spec, raw)
    if value is not None:
        row_hash.add(value)
        return value
    text = raw.cast(pl.String)
    if spec.kind is Kind.STR and spec.code and text.str.contains(_NOT_A_CODE).any():
        # a number two registries share, spelled otherwise somewhere (lower case, full-width,
        # spaced, Excel's markers): one spelling, read once per distinct value
        codes, distinct = nz.encode(text)
        row_hash.add(codes)
        parsed = pl.DataFrame({"v": nz.unwrap_excel_text_series(distinct)}).select(
            v=nz.clean_code(pl.col("v")).str.to_uppercase()).to_series()
        return _spread_text(parsed, codes, distinct, text).alias(raw.name)
    if spec.kind is Kind.STR:
        # free text and serial numbers are mostly distinct: trimming every row is cheaper
        row_hash.add(text)
        return nz.clean_text_series(text)
    codes, distinct = nz.encode(text)  # parse each distinct value once
    row_hash.add(codes)
    parser = parser_of(spec)
    # Excel's text markers ('360102…, ="360102…") go before any reading
    parsed = (pl.DataFrame({"v": nz.unwrap_excel_text_series(distinct)}).select(v=parser(pl.col("v"))).to_series()
              .cast(spec.dtype))
    if spec.dtype == pl.String:
        return _spread_text(parsed, codes, distinct, text).alias(raw.name)
    return parsed.gather(codes).alias(raw.name)


class DigitsLost(ValueError):
    """A person-ID column saved as numbers: the loader refuses the file (the message says why)."""


#: a person-ID column whose distinct values are, at least this many and this share of them, IDs
#: written as numbers (:func:`ids_as_numbers`) was saved as numbers: its 18-digit IDs lost digits
DIGITS_LOST_MIN, DIGITS_LOST_SHARE = 10, 0.9
DIGITS_LOST = ("身份证号列以数字格式保存，18位号码超出数字的15位有效数字，末几位已丢失（如 3.60102E+17 或 360102199901009984），"
               "无法还原；请将该列设为文本后重新导出 / the ID column was saved as numbers: an 18-digit ID has more digits "
               "than a number cell keeps, its last digits are lost and cannot be recovered; export the column as text")


def ids_as_numbers(values: pl.Series) -> pl.Series:
    """Whether each value is an 18-digit ID as a number cell writes it: in scientific notation
    (``3.60102E+17``, as a CSV saved by Excel has it) or as the digits of the binary number
    nearest to the ID (``360102199901009984``: exactly a double, as one in 64 IDs of that size is
    by chance — which is why only a whole column of them says the column was numbers)."""
    text = nz.clean_code(pl.col("v"))
    scientific = text.str.contains(r"^\d(\.\d+)?[eE]\+?1[5-7]$")
    digits = pl.when(text.str.contains(r"^\d{18}$")).then(text).cast(pl.Int64, strict=False)
    exact_double = digits.cast(pl.Float64).cast(pl.Int64, strict=False) == digits
    return pl.DataFrame({"v": values.cast(pl.String)}).select((scientific | exact_double).fill_null(False)).to_series()


def _saved_as_numbers(distinct: pl.Series, codes: pl.Series) -> bool:
    """Whether a person-ID column's cells (``distinct[codes]``) are IDs written as numbers, at
    least :data:`DIGITS_LOST_MIN` of them and :data:`DIGITS_LOST_SHARE` of those not blank —
    counted by cell, since in scientific notation many IDs become one value. The first 2,000
    distinct values are looked at first: a column of text is passed after them."""
    if (ids_as_numbers(distinct.head(2000)).mean() or 0.0) < DIGITS_LOST_SHARE:
        return False
    cells = ids_as_numbers(distinct).gather(codes)
    numbers = int(cells.sum())
    return numbers >= DIGITS_LOST_MIN and numbers >= DIGITS_LOST_SHARE * distinct.gather(codes).count()


def _id_column(c: ColumnSpec, raw: pl.Series, row_hash: RowHash,
               org_codes: pl.DataFrame | None = None) -> tuple[pl.Series, dict[str, pl.Series]]:
    """A person-ID or credit-code column normalised, with its derived columns (``_raw``, ``_status``).

    The ID maths runs once per distinct value; the status comes back as :data:`STATUS`, the IDs
    (and raw values) as :func:`_spread_text` gives them. A person-ID column saved as numbers
    (:data:`DIGITS_LOST`) raises :class:`DigitsLost`. With ``org_codes`` (the unit register's
    :func:`audit.normalise.org_code_map`), a credit-code column's 组织机构代码 of a unit of the
    register read as its credit code (:func:`audit.normalise.read_org_codes`).
    """
    table_of = nz.person_id_table if c.kind is Kind.PERSON_ID else nz.uscc_table
    text = raw.cast(pl.String)
    codes, distinct = nz.encode(text)
    row_hash.add(codes)
    if c.kind is Kind.PERSON_ID and _saved_as_numbers(distinct, codes):
        raise DigitsLost(f"{c.name}（{c.zh}）：{DIGITS_LOST}")
    ids = table_of(nz.unwrap_excel_text_series(distinct))  # Excel's text markers go first
    if c.kind is Kind.USCC and org_codes is not None and org_codes.height:
        ids = nz.read_org_codes(ids, org_codes)
    derived = {}
    if c.kind is Kind.PERSON_ID:
        derived[f"{c.name}_raw"] = _spread_text(distinct, codes, distinct, text)
    derived[f"{c.name}_status"] = ids["status"].cast(STATUS).gather(codes)
    return _spread_text(ids["id"], codes, distinct, text).alias(c.name), derived


#: a text column with at most this many distinct values is held as a ``pl.Enum`` while loading.
COMPACT_MAX = 1 << 16


def _spread_text(results: pl.Series, codes: pl.Series, distinct: pl.Series, raw: pl.Series) -> pl.Series:
    """Text results per distinct value (``results[code]`` for the raw value ``distinct[code]``)
    spread back over the rows: every row gets the result of its own raw value.

    A column of at most :data:`COMPACT_MAX` distinct values comes back as a ``pl.Enum``; one of
    more (person IDs) as text: the raw column, with the rows whose result differs from their raw
    value replaced.
    """
    # a million-category Enum is slow to turn back into text; the patched raw column shares its memory
    if distinct.len() <= COMPACT_MAX:
        return nz.spread(results, codes, compact=True)
    changed = ~results.eq_missing(distinct)
    if not changed.any():
        return raw.alias(results.name)
    rows = changed.gather(codes).fill_null(False).arg_true()  # a copy of the raw column, patched
    return raw.clone().scatter(rows, results.gather(codes.gather(rows))).alias(results.name)


def _typed_fast_path(spec: ColumnSpec, raw: pl.Series) -> pl.Series | None:
    """A typed (Parquet) date, amount, whole number or yes/no column, read as its text would be.

    Each value is taken as it is where that gives what its text gives — a date of the years 1 to
    9999, an amount below 10¹¹ yuan not near half a fen, a number of at most 18 digits — and is
    parsed from its text otherwise: ``1.005`` yuan rounds half a fen up and a NaN amount is
    unreadable, as in a CSV file. None for a column of any other type.
    """
    k, dtype = spec.kind, raw.dtype
    if k in (Kind.DATE, Kind.MONTH) and (dtype == pl.Date or isinstance(dtype, pl.Datetime)):
        value = raw.dt.date() if isinstance(dtype, pl.Datetime) else raw  # the local date, as its text shows
        value = value.dt.month_start() if k is Kind.MONTH else value
        plain = value.dt.year().is_between(1, 9999)
    elif k is Kind.MONEY and dtype.is_numeric():
        amount = raw.cast(pl.Float64)
        value = amount.round(2)
        fen = amount * 100
        plain = amount.is_finite() & (amount.abs() < 1e11) & ((fen - fen.round()).abs() < 0.4)  # not near half a fen
    elif k is Kind.INT and dtype.is_integer():
        value = raw.cast(pl.Int64, strict=False)
        plain = raw.cast(pl.Float64).abs() < 1e18
    elif k is Kind.BOOL and dtype == pl.Boolean:
        return raw
    else:
        return None
    odd = ~plain.fill_null(True)  # a null is null either way
    if not odd.any():
        return value.alias(raw.name)
    rows = odd.arg_true()
    text = nz.unwrap_excel_text_series(raw.gather(rows).cast(pl.String))
    parsed = pl.DataFrame({"v": text}).select(v=parser_of(spec)(pl.col("v"))).to_series().cast(spec.dtype)
    return value.scatter(rows, parsed).alias(raw.name)


def _blank(raw: pl.Series, spec: ColumnSpec | None = None) -> pl.Series:
    """Whether each cell holds nothing: empty, spaces, or a placeholder (无, -, NULL …:
    :data:`audit.normalise.NO_VALUE`) — only ever asked of cells that read as no value. In a date
    column also a system's date for none (1900-01-01: :data:`audit.normalise.NO_DATE`), and in an
    end date that may have none (:attr:`ColumnSpec.open_end`) the words and the date that say so
    (长期, 无固定期限, 9999-12-31: :data:`audit.normalise.NO_END`)."""
    if spec is not None and spec.kind is Kind.DATE:
        text = raw.cast(pl.String)
        day = nz.parse_date(pl.col("v"))
        no_date = day.is_in(list(nz.NO_DATE))
        if spec.open_end:
            no_date = no_date | nz.clean_text(pl.col("v")).is_in(nz.NO_END) | (day.dt.year() >= nz.NO_END_YEAR)
        none = pl.DataFrame({"v": text}).select(no_date).to_series().fill_null(False)
        return nz.says_nothing(text) | none if raw.dtype == pl.String else raw.is_null() | none
    if raw.dtype == pl.String:
        return nz.says_nothing(raw)
    return raw.is_null()


def unknown_spellings(c: ColumnSpec, raw: pl.Series, value: pl.Series) -> pl.DataFrame:
    """The values of a column read through spellings that are not listed (the cells read as
    blank, for an ``unknown_blank`` column): value and rows, most frequent first."""
    unknown = value.is_null() & raw.is_not_null()
    if not unknown.any():
        return pl.DataFrame(schema={"value": pl.String, "rows": pl.UInt32})
    cells = raw.filter(unknown)
    cells = cells.filter(~_blank(cells)).cast(pl.String)
    return cells.value_counts(name="rows", sort=True).rename({cells.name: "value"})


def _as_text(series: pl.Series) -> pl.Series:
    return series.cast(pl.String) if isinstance(series.dtype, (pl.Enum, pl.Categorical)) else series


def _range_reasons(c: ColumnSpec, raw: pl.Series, value: pl.Series) -> list[pl.DataFrame]:
    """Quarantine lines (``_pos``, column, value, reason) for the values read that fall outside
    the column's range (:attr:`audit.schema.ColumnSpec.value_range`)."""
    bounds = c.value_range
    if bounds is None or value.dtype != c.dtype:
        return []
    lo, hi = bounds
    outside = (value < lo) | (value > hi)
    if not outside.any():
        return []
    pos = outside.fill_null(False).arg_true()
    return [pl.DataFrame({"_pos": pos, "value": raw.gather(pos).cast(pl.String)}).with_columns(
        column=pl.lit(c.name), reason=pl.lit(f"{OUT_OF_RANGE} {lo} … {hi}")).select("_pos", "column", "value", "reason")]


def _cell_reasons(c: ColumnSpec, raw: pl.Series, value: pl.Series) -> list[pl.DataFrame]:
    """Quarantine lines (``_pos``, column, value, reason) for one column's unreadable cells.

    Cheap null tests pick the candidate rows; only those are checked for blankness, so a
    whitespace-only optional cell is not mistaken for an unreadable one.
    """
    unreadable = REASONS.get(c.kind) if c.spellings is None else None if c.unknown_blank else UNKNOWN_VALUE
    if c.not_null:
        suspect = value.is_null()
    elif unreadable is not None:
        suspect = value.is_null() & raw.is_not_null()
    else:
        return []
    pos = suspect.arg_true()
    if not pos.len():
        return []
    sub_raw, sub_value = raw.gather(pos), value.gather(pos)
    blank = _blank(sub_raw, c)
    out = []
    if c.not_null:
        out.append(pl.DataFrame({"_pos": pos.filter(blank)}).with_columns(
            column=pl.lit(c.name), value=pl.lit(None, pl.String), reason=pl.lit(MISSING)))
    if unreadable is not None:
        bad = ~blank & sub_value.is_null()
        out.append(pl.DataFrame({"_pos": pos.filter(bad), "value": sub_raw.filter(bad).cast(pl.String)}).with_columns(
            column=pl.lit(c.name), reason=pl.lit(unreadable)).select("_pos", "column", "value", "reason"))
    return out
