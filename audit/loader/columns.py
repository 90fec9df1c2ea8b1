"""Parsing one column to its spec dtype, and the quarantine lines of its unreadable cells."""

from __future__ import annotations

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
TRUNCATED = "行不完整（文件截断）/ truncated line"


PARSERS = {
    Kind.DATE: nz.parse_date, Kind.MONTH: nz.parse_month, Kind.MONEY: nz.parse_money,
    Kind.INT: nz.parse_int, Kind.BOOL: nz.parse_bool,
    Kind.STR: nz.clean_text, Kind.ENUM: nz.clean_text, Kind.COUNTY: nz.clean_county,
}
#: the values of an ID column's ``<col>_status`` (see audit/schema.py), held as this Enum while
#: a table loads (one byte a row); the normalised table holds them as text.
STATUS = pl.Enum(["ok", "legacy15", "bad_check", "malformed"])


def parse_series(spec: ColumnSpec, raw: pl.Series) -> pl.Series:
    """A column parsed to its spec dtype; typed Parquet columns take a fast path."""
    return _as_text(_parse_column(spec, raw, RowHash()))


def _parse_column(spec: ColumnSpec, raw: pl.Series, row_hash: RowHash) -> pl.Series:
    """A column parsed to its spec dtype, text kept compact (``pl.Enum``) where it repeats.

    ``row_hash`` is fed what identifies the raw value, for duplicate detection: the codes of a
    dictionary-encoded text column, or the value itself.
    """
    value = _typed_fast_path(spec, raw)
    if value is not None:
        row_hash.add(value)
        return value
    text = raw.cast(pl.String)
    if spec.kind is Kind.STR:
        # free text and serial numbers are mostly distinct: trimming every row is cheaper
        row_hash.add(text)
        return nz.clean_text_series(text)
    codes, distinct = nz.encode(text)  # parse each distinct value once
    row_hash.add(codes)
    parsed = pl.DataFrame({"v": distinct}).select(v=PARSERS[spec.kind](pl.col("v"))).to_series().cast(spec.dtype)
    if spec.dtype == pl.String:
        return _spread_text(parsed, codes, distinct, text).alias(raw.name)
    return parsed.gather(codes).alias(raw.name)


def _id_column(c: ColumnSpec, raw: pl.Series, row_hash: RowHash) -> tuple[pl.Series, dict[str, pl.Series]]:
    """A person-ID or credit-code column normalised, with its derived columns (``_raw``, ``_status``).

    The ID maths runs once per distinct value; the status comes back as :data:`STATUS`, the IDs
    (and raw values) as :func:`_spread_text` gives them.
    """
    table_of = nz.person_id_table if c.kind is Kind.PERSON_ID else nz.uscc_table
    text = raw.cast(pl.String)
    codes, distinct = nz.encode(text)
    row_hash.add(codes)
    ids = table_of(distinct)
    derived = {}
    if c.kind is Kind.PERSON_ID:
        derived[f"{c.name}_raw"] = _spread_text(distinct, codes, distinct, text)
    derived[f"{c.name}_status"] = ids["status"].cast(STATUS).gather(codes)
    return _spread_text(ids["id"], codes, distinct, text).alias(c.name), derived


#: a text column with at most this many distinct values is held as a ``pl.Enum`` while loading.
COMPACT_MAX = 1 << 16


def _spread_text(results: pl.Series, codes: pl.Series, distinct: pl.Series, raw: pl.Series) -> pl.Series:
    """Text results per distinct value (``results[code]`` for the raw value ``distinct[code]``)
    spread back over the rows.

    A column of few distinct values comes back as a ``pl.Enum`` (one or two bytes a row). One of
    many (person IDs) stays text: a ``pl.Enum`` of a million categories is slow to turn back
    into text (every row a random read) when the table is written. Its rows are the raw column
    itself where the result equals the raw value — most rows: exported IDs are mostly clean —
    and the result only where it differs, so they share the raw column's memory.
    """
    if distinct.len() <= COMPACT_MAX:
        return nz.spread(results, codes, compact=True)
    changed = ~results.eq_missing(distinct)
    if not changed.any():
        return raw.alias(results.name)
    rows = changed.gather(codes).fill_null(False).arg_true()  # a copy of the raw column, patched
    return raw.clone().scatter(rows, results.gather(codes.gather(rows))).alias(results.name)


def _typed_fast_path(spec: ColumnSpec, raw: pl.Series) -> pl.Series | None:
    k, dtype = spec.kind, raw.dtype
    if k in (Kind.DATE, Kind.MONTH) and (dtype == pl.Date or isinstance(dtype, pl.Datetime)):
        value = raw.cast(pl.Date)
        return value.dt.month_start() if k is Kind.MONTH else value
    if k is Kind.MONEY and dtype.is_numeric():
        return raw.cast(pl.Float64).round(2)
    if k is Kind.INT and dtype.is_integer():
        return raw.cast(pl.Int64)
    if k is Kind.BOOL and dtype == pl.Boolean:
        return raw
    return None


def _blank(raw: pl.Series) -> pl.Series:
    if raw.dtype == pl.String:
        return nz.clean_text_series(raw).is_null()
    return raw.is_null()


def _as_text(series: pl.Series) -> pl.Series:
    return series.cast(pl.String) if isinstance(series.dtype, (pl.Enum, pl.Categorical)) else series



def _cell_reasons(c: ColumnSpec, raw: pl.Series, value: pl.Series) -> list[pl.DataFrame]:
    """Quarantine lines (``_pos``, column, value, reason) for one column's unreadable cells.

    Cheap null tests pick the candidate rows; only those are checked for blankness, so a
    whitespace-only optional cell is not mistaken for an unreadable one.
    """
    if c.not_null:
        suspect = value.is_null()
    elif c.kind in REASONS and raw.dtype == pl.String:
        suspect = value.is_null() & raw.is_not_null()
    else:
        return []
    pos = suspect.arg_true()
    if not pos.len():
        return []
    sub_raw, sub_value = raw.gather(pos), value.gather(pos)
    blank = _blank(sub_raw)
    out = []
    if c.not_null:
        out.append(pl.DataFrame({"_pos": pos.filter(blank)}).with_columns(
            column=pl.lit(c.name), value=pl.lit(None, pl.String), reason=pl.lit(MISSING)))
    if c.kind in REASONS:
        bad = ~blank & sub_value.is_null()
        out.append(pl.DataFrame({"_pos": pos.filter(bad), "value": sub_raw.filter(bad).cast(pl.String)}).with_columns(
            column=pl.lit(c.name), reason=pl.lit(REASONS[c.kind])).select("_pos", "column", "value", "reason"))
    return out
