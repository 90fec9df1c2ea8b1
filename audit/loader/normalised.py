"""One table normalised from its raw sources: every row parsed, quarantined or kept, counted."""

from __future__ import annotations

import dataclasses
import logging
import time
from dataclasses import dataclass

import polars as pl

from audit import normalise as nz
from audit.loader.columns import (
    DigitsLost,
    _blank,
    _cell_reasons,
    _id_column,
    _parse_column,
    _range_reasons,
    unknown_spellings,
)
from audit.loader.discovery import InputError
from audit.loader.duplicates import RowHash, find_duplicates
from audit.loader.readers import RawSource
from audit.loader.references import Register, as_the_register_writes
from audit.schema import ColumnSpec, Kind, TableSpec

log = logging.getLogger("audit.loader")

QUARANTINE_SCHEMA = {
    "table": pl.String(), "file": pl.String(), "line": pl.Int64(), "column": pl.String(),
    "value": pl.String(), "reason": pl.String(),
}
# One row per quarantined row (not per cell): where it belongs, from its cells that could be read —
# which unit, person and county it names, its own date (a claim's month, an agreement's start …)
# and a claim's payment date — so that a rule can tell which county-months lost micro data
# (RULES.md §8, "Unreadable rows do not accuse"). Null where the cell was unreadable or absent.
QUARANTINED_ROWS_SCHEMA = {
    "table": pl.String(), "file": pl.String(), "line": pl.Int64(), "unit_id": pl.String(),
    "person_id": pl.String(), "county_code": pl.String(), "day": pl.Date(), "paid_date": pl.Date(),
    "reasons": pl.String(), "agreement_id": pl.String(),
}
# which columns place a row, first present wins (claims: the paying office is the county)
_PLACED_BY = {
    "unit_id": ("unit_id", "employer_id"), "person_id": ("person_id",),
    "county_code": ("handling_county_code", "county_code"),
    "day": ("claim_month", "start_date", "posted_date", "approved_date", "month", "contract_start", "death_date"),
    "paid_date": ("paid_date",), "agreement_id": ("agreement_id",),
}
COUNTS_SCHEMA = {
    "table": pl.String(), "file": pl.String(), "rows_read": pl.Int64(), "rows_kept": pl.Int64(),
    "rows_quarantined": pl.Int64(), "duplicates_collapsed": pl.Int64(), "blank_lines": pl.Int64(),
}


@dataclass
class NormalisedTable:
    """One table normalised: every row read, which of them are kept, and how to finalise them.

    ``columns`` holds every row read (quarantined rows and collapsed copies included) in compact
    dtypes — repeated text as ``pl.Enum``, the source as ``_src`` — with ``_keep`` marking the
    rows the table keeps (absent when it keeps them all). :meth:`plan` is the normalised table
    itself, lazily: the kept rows, text as text, ``_file`` named, in the spec's column order.
    Collecting it gives the in-memory table; sinking it to Parquet streams it out without a
    second copy of the columns in memory.
    """

    spec: TableSpec
    columns: pl.DataFrame
    labels: list[str]  # file label per _src
    order: list[str]  # the normalised table's columns
    quarantine: pl.DataFrame
    counts: pl.DataFrame
    height: int  # rows kept
    #: the quarantined rows, one each, placed by their readable cells (QUARANTINED_ROWS_SCHEMA)
    quarantined_rows: pl.DataFrame | None = None
    #: the contract's columns no source had (filled with nulls): a claims export without 拨付日期
    #: says nothing about payment, which is not the same as every claim unpaid (RULES.md §8)
    absent: tuple[str, ...] = ()
    #: what the load says of the table beyond its quarantine: values of an ``unknown_blank``
    #: column not among its spellings, read as blank (:func:`_unknown_note`)
    notes: tuple[str, ...] = ()

    def plan(self) -> pl.LazyFrame:
        schema = self.columns.schema
        text = {name: pl.col(name).cast(pl.String) if isinstance(dtype, (pl.Enum, pl.Categorical)) else pl.col(name)
                for name, dtype in schema.items()}
        exprs = []
        for name in self.order:
            if name == "_file":
                exprs.append(_label_of_src(self.labels).alias("_file"))
            elif self.spec.name == "trainees" and name == "birth_date":
                exprs.append(nz.person_birth_date(text["person_id"]).alias(name))
            elif self.spec.name == "trainees" and name == "sex":
                exprs.append(nz.person_sex(text["person_id"]).alias(name))
            else:
                exprs.append(text[name].alias(name))
        lf = self.columns.lazy()
        if "_keep" in schema:
            lf = lf.filter(pl.col("_keep"))
        return lf.select(exprs)

    def frame(self) -> pl.DataFrame:
        return self.plan().collect()


def normalise_table(spec: TableSpec, sources: list[RawSource]) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """(normalised table, its quarantine lines, its counts per file) from the raw sources."""
    table = normalise(spec, sources)
    return table.frame(), table.quarantine, table.counts


def normalise(spec: TableSpec, sources: list[RawSource], org_codes: pl.DataFrame | None = None,
              registers: dict[str, Register] | None = None) -> NormalisedTable:
    """The table normalised from its raw sources (see :class:`NormalisedTable`); the sources'
    frames are consumed.

    Column by column: each raw column is parsed (:mod:`audit.loader.columns`) and dropped
    (person IDs keep theirs as ``<col>_raw``), so one raw column at a time is held beside the
    normalised ones; the unreadable cells of each become quarantine lines. Rows are not
    filtered here: quarantined rows and collapsed copies are only marked (``_keep``), and
    dropped as the table is finalised (:meth:`NormalisedTable.plan`). ``org_codes``: the unit
    register's 组织机构代码 (:func:`audit.normalise.org_code_map`), by which a credit-code column
    written the old way is read (:func:`audit.loader.columns._id_column`).
    """
    t0, c0 = time.perf_counter(), time.process_time()
    extras: list[str] = []
    for src in sources:
        extras += [e for e in src.extras if e not in extras]
    columns = _Columns(sources)
    n = columns.height

    values: dict[str, pl.Series] = {}
    derived: dict[str, pl.Series] = {}
    reasons: list[pl.DataFrame] = []
    row_hash = RowHash()
    absent: list[str] = []
    notes: list[str] = []
    for c in spec.columns:
        col = columns.pop(c.name)
        if col is None:
            absent.append(c.name)
            col = pl.repeat(None, n, dtype=pl.String, eager=True).alias(c.name)
        if c.kind in (Kind.PERSON_ID, Kind.USCC):
            try:
                value, more = _id_column(c, col, row_hash, org_codes)
            except DigitsLost as exc:
                raise InputError(f"{', '.join(s.label for s in sources)}: {exc}") from None
            derived.update(more)
            del more
        else:
            value = _parse_column(c, col, row_hash)
            if registers and c.name in registers:  # a number another table gives, as that table writes it
                value, said = as_the_register_writes(value, registers[c.name], spec.name, c)
                notes += said
            if c.month_precision:
                value, derived[f"{c.name}_month_only"], derived[f"{c.name}_year_only"] = _to_the_month(c, col, value)
            factors = [src.scales.get(c.name, 1.0) for src in sources]
            if any(f != 1.0 for f in factors):
                value = _in_yuan(col, value, pl.Series(factors, dtype=pl.Float64).gather(columns["_src"]))
            if c.unknown_blank:
                unknown = unknown_spellings(c, col, value)
                notes += _unknown_note(spec, c, unknown)
                if c.unknown_reads_as is not None and unknown.height:
                    value = _read_unknown_as(c, col, value)
            if c.spellings is not None and c.keeps_raw:  # the value as exported, beside the canonical one
                derived[f"{c.name}_raw"] = _parse_column(dataclasses.replace(c, kind=Kind.STR, spellings=None), col,
                                                         RowHash()).alias(f"{c.name}_raw")
        if c.blank_is_unexported and n and c.name not in absent and _all_blank(col):
            absent.append(c.name)
            notes.append(f"{spec.zh}“{c.zh}”列：整列为空，按未导出处理 / {spec.name}.{c.name}: every cell blank: "
                         "read as not exported")
        values[c.name] = value.alias(c.name)
        reasons += _cell_reasons(c, col, value)
        reasons += _range_reasons(c, col, value)
        del col, value
        log.debug("%s.%s: %.1f s, cpu %.1f s, rss %.2f GB", spec.name, c.name, time.perf_counter() - t0,
                  time.process_time() - c0, rss_gb())
    reasons.append(_row_problems(sources, columns))
    reasons += _span_reasons(spec, values)
    reasons += _version_reasons(spec, values)
    qlines = pl.concat(reasons).sort("_pos", maintain_order=True)
    qlines = qlines.with_columns(_src=columns["_src"].gather(qlines["_pos"]), _line=columns["_line"].gather(qlines["_pos"]))
    labels = [s.label for s in sources]
    log.debug("%s: parsed %d rows in %.1f s", spec.name, n, time.perf_counter() - t0)

    # every row in the spec's shape: spec columns, _src/_line, derived, extras; then _dup_rows, _keep
    read_per_src = columns["_src"].value_counts(name="rows_read")
    extra_cols = [columns.pop(e) for e in extras]
    for col in extra_cols:
        row_hash.add(col)
    table = pl.DataFrame([*values.values(), columns.pop("_src"), columns.pop("_line"),
                          *[s.alias(k) for k, s in derived.items()], *extra_cols])
    derived_names = list(derived)
    del values, derived, columns, extra_cols
    bad_pos = qlines["_pos"].unique()
    # an export's own lines (合计, 制表人：…) among the rows quarantined, or kept with an ID that is
    # no ID (a signature line in a table whose required cells are an ID and a name reads)
    no_id = [c for c in derived_names if c.endswith("_status") and c.removesuffix("_status") in spec.names]
    kept_odd = (table.select(pl.any_horizontal(pl.col(c) == "malformed" for c in no_id).fill_null(False))
                .to_series().arg_true() if no_id else pl.Series([], dtype=pl.UInt32))
    said = _export_lines(table, qlines, kept_odd.cast(qlines.schema["_pos"]),
                         [c for c in table.columns if c in spec.names or c in extras])
    said = said.with_columns(pl.col("_pos").cast(qlines.schema["_pos"]))
    totals = said["_pos"]
    if totals.len():  # said in the quarantine as what they are, and placed nowhere
        said = said.with_columns(column=pl.lit(""), value=pl.lit(None, pl.String),
                                 _src=table["_src"].gather(totals), _line=table["_line"].gather(totals))
        qlines = pl.concat([qlines, said.select(qlines.columns)]).sort("_pos", maintain_order=True)
        bad_pos = qlines["_pos"].unique()
    quarantine = qlines.select(
        table=pl.lit(spec.name), file=_label_of_src(labels), line="_line", column="column", value="value", reason="reason",
    )
    placed = _quarantined_rows(spec, table, qlines.filter(~pl.col("_pos").is_in(totals.implode())), labels)
    good = pl.repeat(True, n, eager=True).scatter(bad_pos, False) if bad_pos.len() else None
    data_cols = [c for c in table.columns if c not in ("_src", "_line")]
    dup_rows, not_copy, removed = find_duplicates(table, data_cols, row_hash.value, good)
    del row_hash
    keep = good if not_copy is None else not_copy if good is None else good & not_copy
    table = table.with_columns(dup_rows.alias("_dup_rows"))
    if keep is not None:
        table = table.with_columns(keep.alias("_keep"))
    log.debug("%s: duplicates, %.1f s, cpu %.1f s, rss %.2f GB", spec.name, time.perf_counter() - t0,
              time.process_time() - c0, rss_gb())
    if spec.name == "trainees":
        derived_names += ["birth_date", "sex"]
    kept_src = table["_src"] if keep is None else table["_src"].filter(keep)
    counts = _counts(spec, sources, read_per_src, qlines, kept_src.value_counts(name="rows_kept"), removed)
    order = [*spec.names, "_file", "_line", "_dup_rows", *derived_names, *extras]
    return NormalisedTable(spec, table, labels, order, quarantine, counts, kept_src.len(), placed, tuple(absent),
                           tuple(notes))


def _all_blank(col: pl.Series) -> bool:
    """Whether every cell of a column as read holds nothing (null, only spaces, or a placeholder:
    :data:`audit.normalise.NO_VALUE`); the first thousand filled cells decide most columns."""
    if col.null_count() == col.len():
        return True
    if col.dtype != pl.String:
        return False
    if not bool(nz.says_nothing(col.drop_nulls().head(1000)).all()):
        return False
    return bool(nz.says_nothing(col).all())


#: how many unlisted values a note names (the most frequent)
NOTE_VALUES = 5


def _to_the_month(c: ColumnSpec, raw: pl.Series, value: pl.Series) -> tuple[pl.Series, pl.Series, pl.Series]:
    """A date column that may be recorded to the month or the year (:attr:`ColumnSpec.month_precision`):
    the cells that read as no day but as a month (``2023-06``, ``2023年6月``) read as its first day,
    those that read as a year alone (``2023``, ``2023年``, ``2023届``) as the year's first day; and
    whether each row's value was such a month, or such a year (false where a day was given or
    nothing was)."""
    none = pl.repeat(False, value.len(), eager=True)
    if value.dtype != pl.Date or raw.dtype == pl.Date or not value.null_count():
        return value, none, none
    month = _parse_column(dataclasses.replace(c, kind=Kind.MONTH, month_precision=False), raw, RowHash())
    month_only = value.is_null() & month.is_not_null()
    if month_only.any():  # a day a system writes for none (1900-01-01) is no month either
        rows = month_only.arg_true()
        month = month.scatter(rows.filter(_blank(raw.gather(rows), c)), None)
        month_only = value.is_null() & month.is_not_null()
    value = value.fill_null(month)
    year_only = none
    if value.null_count() and value.null_count() < value.len():
        rows = value.is_null().arg_true()
        years = raw.gather(rows).cast(pl.String).to_frame("x").select(nz.parse_year(pl.col("x")).alias("x"))["x"]
        if years.is_not_null().any():
            value = value.scatter(rows, years)
            year_only = none.scatter(rows, years.is_not_null())
    return value, month_only, year_only

def _read_unknown_as(c: ColumnSpec, raw: pl.Series, value: pl.Series) -> pl.Series:
    """``value`` with each cell that holds a word its spellings do not list read as
    :attr:`ColumnSpec.unknown_reads_as` — not a blank cell, nor one of its ``blank_words``."""
    rows = (value.is_null() & raw.is_not_null()).arg_true()
    cells = raw.gather(rows)
    text = cells.cast(pl.String).to_frame("v")
    says_nothing = pl.Series(c.blank_words, dtype=pl.String).to_frame("v").select(nz.vocabulary_key(pl.col("v")))["v"]
    # an export's own signature or total line (制表人：…) is no value of the column: it stays blank,
    # for the line to be read as what it is (:func:`_export_lines`, which reads its cells so)
    stripped = pl.col("v").str.replace_all(r"[\s\u3000]", "")
    keep_blank = text.select(
        nz.vocabulary_key(pl.col("v")).is_in(says_nothing.implode()) | stripped.str.contains(NOTE_PATTERN)
        | stripped.str.contains(TOTAL_CELL))["v"].fill_null(False)
    rows = rows.filter(~_blank(cells, c) & ~keep_blank)
    return value.cast(pl.String).scatter(rows, c.unknown_reads_as)


def _unknown_note(spec: TableSpec, c: ColumnSpec, unknown: pl.DataFrame) -> list[str]:
    """The note for an ``unknown_blank`` column's values not among its spellings: the rows are
    kept (an agreement or a trainee the audit needs whatever this cell says), the cell read as
    blank, as the rules read a blank one — or as :attr:`ColumnSpec.unknown_reads_as`."""
    if not unknown.height:
        return []
    rows = int(unknown["rows"].sum())
    shown = "、".join(f"{v}（{n} 行）" for v, n in unknown.head(NOTE_VALUES).iter_rows())
    more = f" 等 {unknown.height} 种" if unknown.height > NOTE_VALUES else ""
    zh, en = ("未填写", "blank") if c.unknown_reads_as is None else (f"“{c.unknown_reads_as}”", c.unknown_reads_as)
    return [f"{spec.zh}“{c.zh}”列：{rows} 行的取值不在可识别的写法之列，按{zh}读取：{shown}{more} / "
            f"{spec.name}.{c.name}: {rows} rows hold values not among the accepted spellings; read as {en}"]


def _quarantined_rows(spec: TableSpec, table: pl.DataFrame, qlines: pl.DataFrame, labels: list[str]) -> pl.DataFrame:
    """The quarantined rows of ``table`` (the positions in ``qlines``), one each, with the parsed
    values of the cells that place them (:data:`_PLACED_BY`; null where unreadable or absent) and
    every reason on one line. A row whose end precedes its start (:attr:`audit.schema.TableSpec.spans`)
    is placed at no time (``day`` null): either date may be the one keyed wrong, so the row may
    belong to any month; so is one of several versions of a span that disagree (:func:`_version_reasons`)."""
    if not qlines.height:
        return pl.DataFrame(schema=QUARANTINED_ROWS_SCHEMA)
    reasons = qlines.group_by("_pos").agg(
        pl.format("{}: {}", pl.col("column"), pl.col("reason")).sort().str.join("; ").alias("reasons"))
    rows = table.with_row_index("_pos").join(reasons.with_columns(pl.col("_pos").cast(pl.UInt32)), on="_pos")
    names = set(spec.names)

    def cell(kind: str, dtype: pl.DataType) -> pl.Expr:
        col = next((c for c in _PLACED_BY[kind] if c in names), None)
        if col is None:
            return pl.lit(None, dtype).alias(kind)
        value = pl.col(col)
        if kind == "day" and spec.spans:  # a span that cannot be read places its row at no time
            unreadable = pl.any_horizontal(pl.col(end) < pl.col(start) for start, end in spec.spans).fill_null(False)
            unreadable = unreadable | pl.col("reasons").str.contains(VERSIONS_DISAGREE, literal=True)
            value = pl.when(~unreadable).then(value)
        value = value.cast(pl.String) if dtype == pl.String() else value.cast(pl.Date, strict=False)
        return value.alias(kind)

    return rows.sort("_pos").select(
        pl.lit(spec.name).alias("table"), _label_of_src(labels).alias("file"), pl.col("_line").cast(pl.Int64).alias("line"),
        cell("unit_id", pl.String()), cell("person_id", pl.String()), cell("county_code", pl.String()),
        cell("day", pl.Date()), cell("paid_date", pl.Date()), "reasons", cell("agreement_id", pl.String()),
    ).cast(QUARANTINED_ROWS_SCHEMA)  # type: ignore[arg-type]


#: the words of an export's summary line (合计 in the first column, the sums beside it)
TOTAL_WORDS = ("合计", "总计", "小计", "合计金额", "总合计", "本页合计", "累计", "共计")
#: a cell of a summary line, spaces aside: a total word, alone or with its sum or count written
#: in it (合计：4500, 合计4,500.00元, 共计12人)
TOTAL_CELL = (r"^(?:" + "|".join(sorted(TOTAL_WORDS, key=len, reverse=True))
              + r")[:：]?(?:[-+]?[\d,]*\.?\d*(?:元|万元|人|笔|条|户|家|个)?)?$")
TOTAL_ROW = "导出的合计行，不是一条记录 / a total line of the export, not a record"
#: a line below a table that signs or annotates it: 制表人：张三, 审核人, 注：本表数据截至…, 打印时间
NOTE_PATTERN = (r"^(?:制表|填报|填表|审核|复核|审批|负责人|经办人|联系人|打印|导出|数据来源|单位盖章|盖章|"
                r"单位[（(]盖章[)）]|(?:注|备注|说明)\s*[:：0-9０-９一二三四五六七八九、.．(（])")
NOTE_ROW = "导出的表尾说明行（制表人、审核人、注等），不是一条记录 / a note line of the export (signatures, notes), not a record"


def _export_lines(table: pl.DataFrame, qlines: pl.DataFrame, kept: pl.Series, cells: list[str]) -> pl.DataFrame:
    """Among the rows already quarantined (the positions of ``qlines``), an export's own lines
    (``_pos``, ``reason``): a total line, a cell reading 合计, 总计, 小计 … (spaces aside); a note
    line, whose every filled cell (of ``cells``) is a signature or a note (:data:`NOTE_PATTERN`).
    A cell is read as written: the value parsed, else the text the quarantine kept (a note in a
    column of amounts or dates). Such a line is no record and loses no money: it must not be
    taken for an unreadable claim of some county (RULES.md §8, unreadable rows do not accuse).
    Among the rows ``kept`` (positions of readable rows whose ID is no ID), a note line only:
    a readable row is never a total, whatever a cell says."""
    out = pl.DataFrame(schema={"_pos": pl.UInt32, "reason": pl.String})
    if not (qlines.height or kept.len()) or not cells:
        return out
    quarantined = qlines["_pos"].unique()
    positions = pl.concat([quarantined, kept]).unique().sort()
    written = (
        table[positions].select(positions.cast(pl.UInt32).alias("_pos"), *[pl.col(c).cast(pl.String) for c in cells])
        .unpivot(index="_pos", variable_name="column", value_name="text")
        .join(qlines.filter(pl.col("value").is_not_null())
              .select(pl.col("_pos").cast(pl.UInt32), "column", "value").unique(["_pos", "column"]),
              on=["_pos", "column"], how="left")
        .select("_pos", pl.coalesce("text", "value").str.replace_all(r"[\s\u3000]", "").alias("text"))
        .filter(pl.col("text").is_not_null() & (pl.col("text") != ""))
    )
    return (
        written.group_by("_pos", maintain_order=True)
        .agg(
            pl.col("text").str.contains(TOTAL_CELL).any().alias("_total"),
            pl.col("text").str.contains(NOTE_PATTERN).all().alias("_note"),
        )
        .select("_pos", pl.when(pl.col("_total") & pl.col("_pos").is_in(quarantined.cast(pl.UInt32).implode()))
                .then(pl.lit(TOTAL_ROW)).when("_note").then(pl.lit(NOTE_ROW)).alias("reason"))
        .drop_nulls("reason")
    )


def _in_yuan(raw: pl.Series, value: pl.Series, factor: pl.Series) -> pl.Series:
    """A money column whose header names another unit (万元, 分; ``factor`` per row, 1 for the rows
    of a file in the column's own unit): those rows read from their text as a number of that unit,
    times the factor, to two decimals as every amount is read (``0.1488`` 万元 is 1,488.00 元,
    where reading it as 元 first would keep 0.15)."""
    text = nz.clean_text(nz.to_ascii(pl.col("raw").cast(pl.String))).str.replace_all(r"[\s,¥￥]|万元|千元|元|分", "")
    number = pl.when(text.str.contains(r"^[+-]?(\d+(\.\d*)?|\.\d+)$")).then(text).cast(pl.Float64, strict=False)
    scaled = (number * pl.col("factor")).round(2)
    return pl.DataFrame({"raw": raw, "value": value, "factor": factor}).select(
        pl.when(pl.col("factor") != 1.0).then(scaled).otherwise(pl.col("value")).alias(value.name)).to_series()


def _row_problems(sources: list[RawSource], columns: _Columns) -> pl.DataFrame:
    """Quarantine lines (``_pos``, column, value, reason) for the rows a reader marked as a whole
    (:attr:`RawSource.problems`: a field count that differs from the header, undecodable bytes)."""
    marked = [(i, line, reason) for i, src in enumerate(sources) for line, reason in src.problems.items()]
    out = pl.DataFrame(schema={"_pos": pl.UInt32, "column": pl.String, "value": pl.String, "reason": pl.String})
    if not marked:
        return out
    problems = pl.DataFrame(marked, schema={"_src": pl.UInt16, "_line": pl.Int64, "reason": pl.String}, orient="row")
    rows = pl.DataFrame({"_src": columns["_src"], "_line": columns["_line"]}).with_row_index("_pos")
    return rows.join(problems, on=["_src", "_line"]).select(
        pl.col("_pos").cast(pl.UInt32), column=pl.lit(""), value=pl.lit(None, pl.String), reason="reason")


def ends_before_start(start_zh: str, start: str) -> str:
    """Why a row whose end precedes its start is quarantined (:attr:`audit.schema.TableSpec.spans`),
    with ``{}`` where the start's day goes."""
    return (f"早于{start_zh}（{{}}），期限无法判断（可能某一日期录错），本行不作为任何判断的依据 / before its "
            f"{start} ({{}}): the span cannot be read (a date keyed wrong); the row is evidence of nothing")


def _span_reasons(spec: TableSpec, values: dict[str, pl.Series]) -> list[pl.DataFrame]:
    """Quarantine lines (``_pos``, column, value, reason) for the rows whose end date precedes
    their start date, per :attr:`audit.schema.TableSpec.spans`; a blank date orders nothing."""
    out = []
    for start, end in spec.spans:
        if start not in values or end not in values:
            continue
        frame = pl.DataFrame({"s": values[start], "e": values[end]}).with_row_index("_pos")
        bad = frame.filter(pl.col("e") < pl.col("s"))
        if bad.height:
            out.append(bad.select(
                pl.col("_pos").cast(pl.UInt32), column=pl.lit(end), value=pl.col("e").cast(pl.String),
                reason=pl.format(ends_before_start(spec.column(start).zh, start), pl.col("s"), pl.col("s"))))
    return out


#: the words that begin the reason of a row quarantined as one of several versions of a span
#: (:func:`_version_reasons`); DATA_QUALITY.duplicate_key finds such rows by them
VERSIONS_DISAGREE = "编号重复且各行起止日期不一致"


def _version_reasons(spec: TableSpec, values: dict[str, pl.Series]) -> list[pl.DataFrame]:
    """Quarantine lines for the rows that share :attr:`audit.schema.TableSpec.one_span_per` (none
    blank) with another row whose span dates differ: each is a version, and which holds is
    unknown. The reason gives the row's own dates and how many versions there are."""
    if not spec.one_span_per or any(c not in values for c in spec.one_span_per):
        return []
    dates = list(dict.fromkeys(c for pair in spec.spans for c in pair if c in values))
    key = list(spec.one_span_per)
    frame = pl.DataFrame([values[c] for c in key + dates]).with_row_index("_pos").filter(
        pl.col(key[0]).is_duplicated() & pl.all_horizontal(pl.col(c).is_not_null() for c in key))  # few rows
    versions = pl.struct(dates).n_unique().over(key)
    bad = frame.filter(versions > 1).with_columns(versions.alias("_n"))  # two versions: two rows at least
    if not bad.height:
        return []
    shown = [pl.coalesce(pl.col(c).cast(pl.String), pl.lit("空")) for c in dates]
    names = "、".join(spec.column(c).zh for c in dates)
    return [bad.select(
        pl.col("_pos").cast(pl.UInt32), column=pl.lit(key[0]), value=pl.col(key[0]).cast(pl.String),
        reason=pl.format(f"{VERSIONS_DISAGREE}（同一人员、单位，共 {{}} 种；本行{names}：{'／'.join(['{}'] * len(dates))}），"
                         f"无法确定哪一行有效，本行不作为任何判断的依据 / {key[0]} repeated for one person and unit with "
                         f"{{}} different spans: which holds is unknown; the row is evidence of nothing",
                         pl.col("_n"), *shown, pl.col("_n")))]


def rss_gb() -> float:
    """Current resident memory (for the debug log only)."""
    try:
        with open("/proc/self/statm") as fh:
            return int(fh.read().split()[1]) * 4096 / 1e9
    except OSError:
        return 0.0


def _label_of_src(labels: list[str]) -> pl.Expr:
    if len(labels) == 1:
        return pl.lit(labels[0], pl.String)
    return pl.col("_src").replace_strict(list(range(len(labels))), labels, return_dtype=pl.String)


class _Columns:
    """The raw columns of a table's sources, concatenated, handed out one at a time."""

    def __init__(self, sources: list[RawSource]) -> None:
        self.sources = sources
        self.heights = [s.frame.height for s in sources]
        self.height = sum(self.heights)
        self._extra = {
            "_src": pl.concat([pl.repeat(i, h, dtype=pl.UInt16, eager=True) for i, h in enumerate(self.heights)]).alias("_src"),
            "_line": pl.concat([s.frame["_line"] for s in sources]).alias("_line"),
        }
        self._taken: set[str] = set()

    def __getitem__(self, name: str) -> pl.Series:
        return self._extra[name]

    def pop(self, name: str) -> pl.Series | None:
        """The column (null where a source lacks it), or None when no source has it."""
        if name in self._extra:
            return self._extra.pop(name)
        parts = [s.column(name) for s in self.sources]
        if all(p is None for p in parts):
            return None
        dtype = next(p.dtype for p in parts if p is not None)
        if len(parts) > 1 and any(p is None or p.dtype != dtype for p in parts):
            parts = [pl.repeat(None, h, dtype=pl.String, eager=True) if p is None else p.cast(pl.String)
                     for p, h in zip(parts, self.heights)]
        for s in self.sources:  # free the raw column as soon as it is handed out
            if name in s.frame.columns:
                s.frame = s.frame.drop(name)
        return (pl.concat(parts) if len(parts) > 1 else parts[0]).alias(name)


def _counts(spec: TableSpec, sources: list[RawSource], read_per_src: pl.DataFrame, qlines: pl.DataFrame,
            kept_per_src: pl.DataFrame, removed: pl.DataFrame) -> pl.DataFrame:
    read_per_src = read_per_src.cast({"_src": pl.UInt16})
    quarantined = qlines.unique("_pos").group_by("_src").agg(rows_quarantined=pl.len())
    base = pl.DataFrame({"_src": list(range(len(sources))), "file": [s.label for s in sources],
                         "blank_lines": [s.blank_lines for s in sources]}, schema_overrides={"_src": pl.UInt16})
    out = (
        base.join(read_per_src, on="_src", how="left").join(quarantined, on="_src", how="left")
        .join(kept_per_src.cast({"_src": pl.UInt16}), on="_src", how="left")
        .join(removed.rename({"n": "duplicates_collapsed"}), on="_src", how="left")
        .with_columns(table=pl.lit(spec.name))
    )
    return out.select(
        [pl.col(name).fill_null(0).cast(dtype) if dtype == pl.Int64() else pl.col(name)
         for name, dtype in COUNTS_SCHEMA.items()]
    )
