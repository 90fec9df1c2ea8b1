"""Input data contracts: one great-expectations suite per table, built from its TableSpec.

Each table is expected to have its columns with their types, its required values present, its
key unique, its identity numbers well formed (GB 11643 / GB 32100 status ``ok``), its codes in
format, its closed value sets respected, its dates, months, amounts and counts in range, its
date pairs in order (planned_end_date ≥ start_date …) and its references resolved (claims →
agreements → trainees and units). A failed expectation does not stop the run: the rows are kept
and the checks flag them as DATA_QUALITY; the report shows how many rows fail and a few
examples (file, line, values with IDs masked). great-expectations is used only in this module.

Each expectation runs on a reduction of its table, not on every row: polars groups the table
by what decides the expectation — the distinct months, value-set entries, amounts or (start,
end) pairs; ``<id>_status`` instead of the ID; "present" instead of a non-null value;
``_key_count`` (how often a key occurs, the key shown only where it repeats); ``_in_ref`` (the
reference's membership, by a polars ``is_in``, the value shown only where it is missing) — with
each group's row count (``_rows``) and first file and line. great-expectations evaluates the
expectation on that frame (``result_format`` COMPLETE, indexed by ``_gid``), and the failing
groups' ``_rows`` add up to the failing rows: the outcome of validating every row, which
``tests/test_validation.py`` compares it with. (great-expectations has no polars data source;
on pandas its cost grows with the rows: bench/NOTES.md.) The reductions are collected table by
table, over lazy scans of the normalised Parquet files when the load was staged.
"""

from __future__ import annotations

import datetime as dt
import html
import json
import logging
import os
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import polars as pl

from audit.masking import key_role, mask_as, mask_id
from audit.outpaths import inside
from audit.schema import SPECS, Kind, TableSpec

if TYPE_CHECKING:
    from audit.loader import LoadResult

log = logging.getLogger("audit.validation")

#: how many example rows each failed expectation shows.
EXAMPLES = 5
DATE_RANGE = (dt.date(1900, 1, 1), dt.date(2099, 12, 31))
MONTH_RANGE = (dt.date(1990, 1, 1), dt.date(2099, 12, 1))
#: ranges of whole numbers beyond "not negative", by (table, column).
INT_RANGES: dict[tuple[str, str], tuple[int, int]] = {
    ("units", "exit_reason"): (1, 4),
    ("claims", "working_days"): (0, 31),
    ("retention_declarations", "year"): (2000, 2099),
    ("min_wage", "tier"): (1, 4),
    ("county_tiers", "tier"): (1, 4),
}
#: (table, later column, earlier column): the later date may not precede the earlier one.
DATE_ORDER: tuple[tuple[str, str, str], ...] = (
    ("agreements", "planned_end_date", "start_date"),
    ("agreements", "actual_end_date", "start_date"),
    ("units", "exit_date", "approved_date"),
    ("positions", "closed_date", "posted_date"),
    ("employment", "contract_end", "contract_start"),
    ("employment", "terminated_date", "contract_start"),
)
#: (table, larger column, smaller column) for counts.
COUNT_ORDER: tuple[tuple[str, str, str], ...] = (
    ("retention_declarations", "completed_count", "retained_count"),
)
PANDAS_TYPE = {  # polars dtype name as the schema frame records it
    Kind.STR: "String", Kind.PERSON_ID: "String", Kind.USCC: "String", Kind.COUNTY: "String",
    Kind.ENUM: "String", Kind.DATE: "Date", Kind.MONTH: "Date", Kind.INT: "Int64",
    Kind.MONEY: "Float64", Kind.BOOL: "Boolean",
}


# ---------------------------------------------------------------------------------------------
# what is expected, as data


@dataclass(frozen=True)
class Contract:
    """One expectation of one table: its GE form, the reduced input it runs on, and plain words."""

    table: str
    domain: str  # name of the reduced frame the expectation runs on
    kind: str  # the GE expectation class name
    kwargs: dict[str, Any]
    description: str
    columns: tuple[str, ...]


@dataclass
class Domain:
    """A reduction of a table: group by ``keys`` (projections), count rows, keep first file/line.

    ``examples`` are shown with each group: their values on the group's first row. With ``by``,
    the rows are first grouped by those columns (a count ``_n`` per distinct value), and
    ``keys`` are computed over the distinct values: for keys that depend on those columns only
    (a reference's membership, a key's count), so that a membership test or a count runs once
    per distinct value rather than once per row.
    """

    name: str
    keys: dict[str, pl.Expr]
    examples: dict[str, pl.Expr] = field(default_factory=dict)
    by: tuple[str, ...] = ()
    #: the column whose presence alone this domain reduces (``keys``: that column, "present"
    #: where it is not null): all such domains of a table are reduced in one pass
    #: (:func:`_reduce_presence`) rather than grouped one by one
    presence_of: str | None = None
    #: a reference's domain (keys ``_in_ref`` and the referencing column, ``by`` that column): its
    #: rows tested one by one and only the failing ones grouped (:func:`_reduce_reference`)
    reference: bool = False
    #: a key's domain (keys ``_key_count`` and the key's columns where repeated, ``by`` the key):
    #: only the rows whose key's hash repeats are grouped (:func:`_reduce_key`)
    unique_key: bool = False


def _range_text(lo: Any, hi: Any) -> str:
    return f"{lo} … {hi}"


def contracts_for(spec: TableSpec, present: set[str]) -> tuple[list[Contract], list[Domain]]:
    """The expectations of one table and the reduced frames they run on."""
    t = spec.name
    contracts: list[Contract] = []
    domains: dict[str, Domain] = {}

    def add(domain: Domain, kind: str, description: str, columns: tuple[str, ...], zh: str, **kwargs: Any) -> None:
        domains.setdefault(domain.name, domain)
        contracts.append(Contract(t, domain.name, kind, kwargs, f"{zh} / {description}", columns))

    def zh(name: str) -> str:
        return spec.column(name).zh

    # the schema as a frame of one row per column of the contract (:func:`_schema_frame`): two
    # expectations a table, each failing column one unexpected row, rather than two a column
    # (great-expectations costs per expectation: 204 of the 357 of a run were these)
    schema = Domain("schema", {})
    every = tuple(c.name for c in spec.columns)
    add(schema, "ExpectColumnValuesToNotBeNull", f"列存在 every column of the contract exists ({len(every)})", every,
        f"列齐全：契约规定的 {len(every)} 列均已导出", column="dtype")
    add(schema, "ExpectColumnPairValuesToBeEqual", "类型 every column has its contract's type", every,
        "列类型：各列的类型与契约一致", column_A="dtype", column_B="expected", ignore_row_if="either_value_is_missing")
    for c in spec.columns:
        col = pl.col(c.name)
        if c.not_null:
            d = Domain(f"present:{c.name}", {c.name: pl.when(col.is_not_null()).then(pl.lit(PRESENT))},
                       presence_of=c.name)
            add(d, "ExpectColumnValuesToNotBeNull", f"必填 required: {c.name} ({c.zh}) is not empty", (c.name,),
                f"必填：{c.zh}不为空", column=c.name)
        if c.kind in (Kind.PERSON_ID, Kind.USCC):
            status = f"{c.name}_status"
            standard, what = ("GB 11643", "身份证号") if c.kind is Kind.PERSON_ID else ("GB 32100", "统一社会信用代码")
            law = f"{standard} {what}"
            d = Domain(f"status:{c.name}", {status: pl.col(status)}, {c.name: col})
            add(d, "ExpectColumnValuesToBeInSet", f"{law} 18位且校验位正确 18 characters with a valid check character: {c.name}",
                (c.name,), f"校验位：{c.zh}为18位且校验位正确（{standard}）", column=status, value_set=["ok"])
        elif c.kind is Kind.ENUM:
            d = Domain(f"value:{c.name}", {c.name: col})
            add(d, "ExpectColumnValuesToBeInSet", f"取值 {c.name} ({c.zh}) in {'/'.join(c.values)}", (c.name,),
                f"取值：{c.zh}为 {'/'.join(c.values)} 之一", column=c.name, value_set=list(c.values))
        elif c.kind is Kind.COUNTY:
            d = Domain(f"value:{c.name}", {c.name: col})
            add(d, "ExpectColumnValuesToMatchRegex", f"区划代码 {c.name} is six digits (GB/T 2260)", (c.name,),
                f"区划代码：{c.zh}为6位数字（GB/T 2260）", column=c.name, regex=r"^\d{6}$")
        elif c.kind in (Kind.DATE, Kind.MONTH):
            lo, hi = DATE_RANGE if c.kind is Kind.DATE else MONTH_RANGE
            d = Domain(f"value:{c.name}", {c.name: col})
            add(d, "ExpectColumnValuesToBeBetween", f"日期范围 {c.name} ({c.zh}) within {_range_text(lo, hi)}",
                (c.name,), f"日期范围：{c.zh}在 {lo} 至 {hi} 之间", column=c.name, min_value=lo.isoformat(),
                max_value=hi.isoformat())
        elif c.kind is Kind.MONEY:
            d = Domain(f"value:{c.name}", {c.name: col})
            add(d, "ExpectColumnValuesToBeBetween", f"金额 {c.name} ({c.zh}) ≥ 0", (c.name,),
                f"金额：{c.zh}不为负数", column=c.name, min_value=0)
        elif c.kind is Kind.INT:
            lo, hi = INT_RANGES.get((t, c.name), (0, None))
            d = Domain(f"value:{c.name}", {c.name: col})
            words = f"≥ {lo}" if hi is None else f"within {lo} … {hi}"
            words_zh = f"不小于 {lo}" if hi is None else f"在 {lo} 至 {hi} 之间"
            add(d, "ExpectColumnValuesToBeBetween", f"整数 {c.name} ({c.zh}) {words}", (c.name,),
                f"整数：{c.zh}{words_zh}", column=c.name, min_value=lo, max_value=hi)
    if spec.key:
        key_count = pl.col("_n").cast(pl.Int64)  # rows per distinct key (see Domain.by)
        d = Domain(
            "key",
            {"_key_count": key_count, **{k: pl.when(key_count > 1).then(pl.col(k)) for k in spec.key}},
            by=tuple(spec.key),
            unique_key=True,
        )
        add(d, "ExpectColumnValuesToBeBetween", f"主键唯一 key ({', '.join(spec.key)}) is unique", spec.key,
            f"主键唯一：{'、'.join(zh(k) for k in spec.key)}不重复", column="_key_count", min_value=1, max_value=1)
    for table, later, earlier in DATE_ORDER + COUNT_ORDER:
        if table == t and {later, earlier} <= present:
            d = Domain(f"order:{later}:{earlier}", {later: pl.col(later), earlier: pl.col(earlier)})
            order = "不早于" if (table, later, earlier) in DATE_ORDER else "不小于"
            add(d, "ExpectColumnPairValuesAToBeGreaterThanB", f"先后 {later} ≥ {earlier}", (later, earlier),
                f"先后：{zh(later)}{order}{zh(earlier)}", column_A=later, column_B=earlier,
                or_equal=True, ignore_row_if="either_value_is_missing")
    return contracts, list(domains.values())


def reference_domains(spec: TableSpec, known: dict[tuple[str, str], pl.Series]) -> tuple[list[Contract], list[Domain]]:
    """Cross-table references: the membership is computed in polars, GE expects it true.

    ``known`` holds the distinct values of each referenced (table, column) present.
    """
    contracts, domains = [], []
    for column, other, other_column in spec.references:
        if (other, other_column) not in known:
            continue
        in_ref = pl.col(column).is_null() | pl.col(column).is_in(known[(other, other_column)].implode())
        name = f"ref:{column}"
        domains.append(Domain(name, {"_in_ref": in_ref, column: pl.when(~in_ref).then(pl.col(column))}, by=(column,),
                              reference=True))
        contracts.append(Contract(
            spec.name, name, "ExpectColumnValuesToBeInSet",
            {"column": "_in_ref", "value_set": [True]},
            f"引用：{spec.column(column).zh}见于{SPECS[other].zh}的{SPECS[other].column(other_column).zh} / "
            f"引用 {column} found in {other}.{other_column} ({SPECS[other].zh})", (column,),
        ))
    return contracts, domains


def referenced_values(names: list[str], scan: Any) -> dict[tuple[str, str], pl.Series]:
    """The distinct values of every (table, column) some present table references."""
    wanted = sorted({(other, oc) for name in names for _, other, oc in SPECS[name].references if other in names})
    found = pl.collect_all([scan(other).select(pl.col(oc).unique()) for other, oc in wanted])
    return {key: frame.to_series() for key, frame in zip(wanted, found)}


# ---------------------------------------------------------------------------------------------
# outcomes


@dataclass
class Outcome:
    table: str
    expectation: str
    description: str
    columns: list[str]
    success: bool
    rows_checked: int
    unexpected_rows: int
    examples: list[dict[str, Any]]
    error: str | None = None


@dataclass
class ValidationReport:
    outcomes: list[Outcome]
    rows: dict[str, int]
    seconds: float
    method: str = "polars reduction to distinct values, then great-expectations on pandas"

    @property
    def success(self) -> bool:
        return all(o.success for o in self.outcomes)

    def failed(self) -> list[Outcome]:
        return [o for o in self.outcomes if not o.success]

    def text(self) -> str:
        failed = self.failed()
        lines = [
            f"数据契约 / data contracts: {len(self.outcomes)} expectations over {len(self.rows)} tables, "
            f"{len(failed)} not met (rows kept, flagged for review)"
        ]
        for o in failed:
            where = f"{o.unexpected_rows:,} of {o.rows_checked:,} rows" if o.error is None else f"error: {o.error}"
            lines.append(f"  ✗ {o.table}: {o.description} — {where}")
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        return {
            "success": self.success,
            "method": self.method,
            "seconds": round(self.seconds, 2),
            "rows": self.rows,
            "expectations": [asdict(o) for o in self.outcomes],
        }


# ---------------------------------------------------------------------------------------------
# running the suites


def _mask(column: str, value: Any) -> Any:
    if value is None or isinstance(value, (bool, int, float)):
        return value
    text = str(value)
    col = column.lower()
    if col.endswith("_status"):
        return text
    if col.endswith("_raw"):
        return mask_id(text)
    return mask_as(key_role(col), text)  # an ID, card or phone column by its role; the text net for the rest


def _ge_context() -> Any:
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    logging.getLogger("great_expectations").setLevel(logging.WARNING)
    import great_expectations as gx  # after GX_ANALYTICS_ENABLED, which it reads on import (2 s)
    from great_expectations.data_context.types.base import ProgressBarsConfig  # with it, as above

    # GE sets its own loggers' levels on import; quiet them after it, or an INFO line about its
    # temporary docs directory lands in every run's output.
    for name in list(logging.root.manager.loggerDict):
        if name.startswith("great_expectations"):
            logging.getLogger(name).setLevel(logging.WARNING)

    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False, metric_calculations=False)
    return context


def _schema_frame(spec: TableSpec, schema: pl.Schema, height: int) -> pl.DataFrame:
    """A row per column of the contract: its name, its dtype's name in the table (empty where the
    table lacks it) and the type the contract expects, so GE can check existence and type."""
    names = {pl.Date: "Date", pl.Int64: "Int64", pl.Float64: "Float64", pl.Boolean: "Boolean", pl.String: "String"}
    dtypes = {c: next((n for d, n in names.items() if dtype == d), str(dtype)) for c, dtype in schema.items()}
    return pl.DataFrame({
        "column": [c.name for c in spec.columns],
        "dtype": [dtypes.get(c.name) for c in spec.columns],
        "expected": [PANDAS_TYPE[c.kind] for c in spec.columns],
    }, schema={"column": pl.String, "dtype": pl.String, "expected": pl.String}).with_row_index("_gid").with_columns(
        _rows=pl.lit(height, pl.Int64))


def _reduce(frame: pl.LazyFrame, domain: Domain) -> pl.LazyFrame:
    """The domain's groups with their row count (``_rows``) and first row (``_row``).

    The first row's file, line and example values are looked up afterwards (:func:`_locate`),
    once per table, rather than read with every domain. This is what a reduction is; the
    presence, reference and key domains are reduced by quicker ways that give the same frame
    (:func:`_reduce_presence`, :func:`_reduce_reference`, :func:`_reduce_key`; tests hold each
    equal to this one, which is why its ``by`` grouping stays).
    """
    rows = frame.with_row_index("_row")
    count = pl.len()
    if domain.by:
        rows = rows.group_by(domain.by).agg(_n=pl.len(), _row=pl.col("_row").min())
        count = pl.col("_n").sum()
    return (
        rows.select(*[e.alias(k) for k, e in domain.keys.items()], "_row", *(["_n"] if domain.by else []))
        .group_by(list(domain.keys))
        .agg(_rows=count.cast(pl.Int64), _row=pl.col("_row").min())
    )


#: the value a presence domain shows for a row whose column is not null
PRESENT = "present"


def _reduce_presence(frame: pl.LazyFrame, columns: list[str]) -> list[pl.DataFrame]:
    """The reductions :func:`_reduce` gives of the presence domains of ``columns`` (one group of
    the rows where the column holds a value, keyed "present", one of those where it is null), all
    in one pass over the table: a null count and the first row of either kind per column, no
    group-by (1 M trainees: the 43 presence domains 0.6 against 2.2 CPU-s)."""
    if not columns:
        return []
    row = pl.int_range(pl.len(), dtype=pl.get_index_type())
    exprs = [pl.len().alias("_len")]
    for i, c in enumerate(columns):
        null = pl.col(c).is_null()
        exprs += [null.sum().alias(f"_nulls{i}"), row.filter(null).first().alias(f"_null_row{i}"),
                  row.filter(~null).first().alias(f"_value_row{i}")]
    one = frame.select(exprs).collect().row(0, named=True)
    out = []
    for i, c in enumerate(columns):
        nulls = int(one[f"_nulls{i}"])
        groups = [(PRESENT, one["_len"] - nulls, one[f"_value_row{i}"]), (None, nulls, one[f"_null_row{i}"])]
        groups = [g for g in groups if g[1]]
        out.append(pl.DataFrame({c: [g[0] for g in groups], "_rows": [g[1] for g in groups], "_row": [g[2] for g in groups]},
                                schema={c: pl.String, "_rows": pl.Int64, "_row": pl.get_index_type()}))
    return out


def _reduce_reference(frame: pl.LazyFrame, domain: Domain) -> pl.DataFrame:
    """The reduction :func:`_reduce` gives of a reference's domain (:func:`reference_domains`):
    one group of the rows whose value the other table holds (or that have none), one per value
    it lacks. Each row's membership is tested and only the failing rows are grouped: cheaper than
    grouping every row by its value first (the claims' person IDs, 6 M rows of 1.1 M values: 1.4
    against 1.8 CPU-s)."""
    column = domain.by[0]
    rows = frame.select(column).with_row_index("_row").with_columns(domain.keys["_in_ref"].alias("_in_ref"))
    found, missing = pl.collect_all([
        rows.select(pl.col("_in_ref").sum().cast(pl.Int64).alias("_rows"),
                    pl.col("_row").filter(pl.col("_in_ref")).first()),
        rows.filter(~pl.col("_in_ref")).group_by(column).agg(_rows=pl.len().cast(pl.Int64), _row=pl.col("_row").min()),
    ])
    schema = {"_in_ref": pl.Boolean, column: pl.String, "_rows": pl.Int64, "_row": pl.get_index_type()}
    held = found.filter(pl.col("_rows") > 0).select(pl.lit(True).alias("_in_ref"), pl.lit(None, pl.String).alias(column),
                                                    "_rows", "_row")
    return pl.concat([held.cast(schema), missing.select(pl.lit(False).alias("_in_ref"), column, "_rows", "_row").cast(schema)])


def _key_hash(key: list[str]) -> pl.Expr:
    """A 64-bit hash of a key's columns (equal keys, nulls included, hash alike)."""
    return pl.col(key[0]).hash() if len(key) == 1 else pl.struct(key).hash()


def _reduce_key(frame: pl.LazyFrame, domain: Domain) -> pl.DataFrame:
    """The reduction :func:`_reduce` gives of a key's domain (:func:`contracts_for`): one group
    of the rows whose key no other row has (``_key_count`` 1), one per key that repeats. Only the
    rows whose key's 64-bit hash repeats — every repeated key, and the rare distinct keys whose
    hashes collide — are grouped, on the key itself: a sort of the hashes instead of a hash table
    of every key (the claims' 6 M claim IDs: 0.3 against 1.3 CPU-s)."""
    key = list(domain.by)
    rows = frame.select(key).with_row_index("_row").with_columns(_key_hash(key).alias("_h")).collect()
    ordered = rows["_h"].sort()
    repeated = ordered.filter(ordered == ordered.shift(1)).unique()
    maybe = rows["_h"].is_in(repeated.implode())
    grouped = rows.filter(maybe).group_by(key).agg(_n=pl.len().cast(pl.Int64), _row=pl.col("_row").min())
    twice = grouped.filter(pl.col("_n") > 1)
    once_rows = [r for r in (rows["_row"].filter(~maybe).first(), grouped.filter(pl.col("_n") == 1)["_row"].min())
                 if r is not None]
    once = pl.DataFrame({"_key_count": [1], **{k: [None] for k in key},
                         "_rows": [rows.height - int(twice["_n"].sum())], "_row": [min(once_rows, default=None)]},
                        schema={"_key_count": pl.Int64, **{k: rows.schema[k] for k in key}, "_rows": pl.Int64,
                                "_row": pl.get_index_type()})
    return pl.concat([
        once.filter(pl.col("_rows") > 0),
        twice.select(pl.col("_n").alias("_key_count"), *key, pl.col("_n").alias("_rows"), "_row").cast(once.schema),
    ])


def _locate(frame: pl.LazyFrame, groups: list[pl.DataFrame], domains: list[Domain]) -> list[pl.DataFrame]:
    """Each domain's groups with the file, line and example values of their first row, in line
    order, numbered (``_gid``) for GE's unexpected-index lists."""
    rows = pl.concat([g["_row"] for g in groups]).unique() if groups else pl.Series("_row", [], pl.UInt32)
    examples = {f"_ex{i}_{k}": e for i, d in enumerate(domains) for k, e in d.examples.items()}
    where = (
        frame.with_row_index("_row").filter(pl.col("_row").is_in(rows.implode()))
        .select("_row", "_file", "_line", *[e.alias(k) for k, e in examples.items()])
        .collect()
    )
    out = []
    for i, (small, domain) in enumerate(zip(groups, domains)):
        mine = where.select("_row", "_file", "_line", *[pl.col(f"_ex{i}_{k}").alias(k) for k in domain.examples])
        out.append(
            small.join(mine, on="_row", how="left")
            .sort("_line", "_row")
            .select(*domain.keys, "_rows", "_file", "_line", *domain.examples)
            .with_row_index("_gid")
        )
    return out


def validate(loaded: LoadResult) -> ValidationReport:
    """Run every table's suite on the loaded tables and return the outcomes.

    The tables are read through ``loaded.scan``: lazily from the staged Parquet files of a
    staged load (only the columns each reduction needs), or from the frames in memory. The
    reductions are collected one after another, in a worker thread ahead of great-expectations
    (pure Python, one core), so the two overlap: the reductions start while great-expectations
    is imported and its context made. A run validates the same way in a process of its own,
    table by table as the load stages them (:mod:`audit.app.validator`).
    """
    t0 = time.perf_counter()
    names = list(loaded.heights)
    known: dict[tuple[str, str], pl.Series] = {}

    def reduce_table(name: str) -> list[Reduced]:
        if not known:
            known.update(referenced_values(names, loaded.scan))
        t1 = time.perf_counter()
        reduced = reduce_table_domains(name, loaded.scan(name), loaded.heights[name], known)
        log.debug("validation: %s reduced in %.1f s", name, time.perf_counter() - t1)
        return reduced

    outcomes: list[Outcome] = []
    with ThreadPoolExecutor(max_workers=1) as ahead:
        pending = [(name, ahead.submit(reduce_table, name)) for name in names]
        try:
            suites = Suites()  # its 2 s import overlaps the first reductions
            for table, future in pending:
                outcomes += suites.run(table, loaded.heights[table], future.result())
        except BaseException:
            for _, future in pending:  # do not reduce the tables no one will read
                future.cancel()
            raise
    return ValidationReport(outcomes, {t: loaded.heights[t] for t in names}, time.perf_counter() - t0)


#: one reduced frame of a table with the expectations that run on it
Reduced = tuple[Domain, list[Contract], pl.DataFrame]


def reduce_table_domains(name: str, frame: pl.LazyFrame, height: int,
                         known: dict[tuple[str, str], pl.Series] | None, *, own: bool = True) -> list[Reduced]:
    """The reduced frames of one table (:func:`_reduce`, :func:`_locate`) with their
    expectations, in the suite's order: the table's own domains (with ``own``), then its
    references where ``known`` is given (:func:`referenced_values`)."""
    schema = frame.collect_schema()
    contracts, domains = contracts_for(SPECS[name], set(schema.names())) if own else ([], [])
    if known is not None:
        ref_contracts, ref_domains = reference_domains(SPECS[name], known)
        contracts, domains = contracts + ref_contracts, domains + ref_domains
    data = [d for d in domains if d.name != "schema"]
    presence = [d for d in data if d.presence_of is not None]
    by_presence = dict(zip([d.name for d in presence], _reduce_presence(frame, [d.presence_of for d in presence if d.presence_of])))
    # one reduction at a time: collect_all caches its shared scans whole, slower (bench/NOTES.md)
    groups = [by_presence[d.name] if d.name in by_presence
              else _reduce_reference(frame, d) if d.reference else _reduce_key(frame, d) if d.unique_key
              else _reduce(frame, d).collect() for d in data]
    reduced = dict(zip([d.name for d in data], _locate(frame, groups, data)))
    if own:
        reduced["schema"] = _schema_frame(SPECS[name], schema, height)
    return [(d, [c for c in contracts if c.domain == d.name], reduced[d.name]) for d in domains]


class Suites:
    """great-expectations, imported and its context made once, running the suites of reduced
    frames (:func:`reduce_table_domains`) into outcomes."""

    def __init__(self) -> None:
        import great_expectations as gx

        self.gx = gx
        context = _ge_context()
        asset = context.data_sources.add_pandas("registries").add_dataframe_asset("reduced")
        self.batch_def = asset.add_batch_definition_whole_dataframe("whole")

    def run(self, table: str, total: int, reduced: list[Reduced]) -> list[Outcome]:
        """The suites of a table's reduced frames, as one batch: first for success alone
        (``BOOLEAN_ONLY``), then the expectations that failed once more with their unexpected rows
        (``COMPLETE``, indexed by ``_gid``): an expectation without a ``mostly`` that succeeds has
        no unexpected row to list, so the outcomes are those of one COMPLETE pass, for some 60 % of
        its cost (bench/NOTES.md, "Validation beside the load, and the cases beside the lists");
        one with a ``mostly`` runs in the COMPLETE pass whatever its success. One batch for the
        table, not one per frame: great-expectations' cost is per batch and per expectation, not
        per row (:func:`_one_batch` says how the frames share it without reading each other)."""
        if not reduced:
            return []
        batch, contracts, owner = _one_batch(reduced)
        pdf = batch.to_pandas()
        by_index = self._validate(table, pdf, contracts, {"result_format": "BOOLEAN_ONLY"})
        failed = {i: c for i, c in contracts.items()
                  if i not in by_index or not by_index[i].success or "mostly" in c.kwargs}
        if failed:
            by_index |= self._validate(table, pdf, failed, {
                "result_format": "COMPLETE", "unexpected_index_column_names": ["_gid"]})
        outcomes, i = [], 0
        for j, (domain, own_contracts, small) in enumerate(reduced):
            for contract in own_contracts:
                result = by_index.get(i)
                listed = ((result.result or {}).get("unexpected_index_list") or []) if result is not None else []
                gids = [row["_gid"] - owner[j] for row in listed]
                outcomes.append(_outcome(contract, result, small, total, domain, gids))
                i += 1
        return outcomes

    def _validate(self, table: str, pdf: Any, contracts: dict[int, Contract],
                  result_format: dict[str, Any]) -> dict[int, Any]:
        gx = self.gx
        # given whole: add_expectation compares each with every one added before (quadratic)
        suite = gx.ExpectationSuite(name=table, expectations=[
            getattr(gx.expectations, contract.kind)(**_ge_kwargs(contract.kwargs), meta={"i": i})
            for i, contract in contracts.items()])
        result = self.batch_def.get_batch(batch_parameters={"dataframe": pdf}).validate(suite, result_format=result_format)
        return {r.expectation_config.meta["i"]: r for r in result.results}


#: the columns a contract's expectation reads, by keyword
_COLUMN_KWARGS = ("column", "column_A", "column_B")


def _one_batch(reduced: list[Reduced]) -> tuple[pl.DataFrame, dict[int, Contract], list[int]]:
    """A table's reduced frames stacked into one frame for one batch: (the frame, every contract
    numbered in order with its columns renamed to its frame's, each frame's first ``_gid``).

    Each frame's rows keep their ``_gid`` shifted past the frames before; each column an
    expectation reads is renamed ``<column>@<frame>``, so no two frames share one, and is
    empty on the other frames' rows — which every column expectation here passes over (a value
    in a set, between bounds, matching a pattern, a pair in order with ``either_value_is_missing``)
    — or, for an expectation that a value is not empty, holds :data:`PRESENT` there."""
    parts, contracts, owner, offset = [], {}, [], 0
    for j, (_, own_contracts, small) in enumerate(reduced):
        owner.append(offset)
        renamed = {c.kwargs[k]: f"{c.kwargs[k]}@{j}" for c in own_contracts for k in _COLUMN_KWARGS if k in c.kwargs}
        not_null = {renamed[c.kwargs["column"]] for c in own_contracts if c.kind == "ExpectColumnValuesToNotBeNull"}
        keep = [c for c in small.columns if c in renamed]
        part = small.select((pl.col("_gid").cast(pl.Int64) + offset).alias("_gid"),
                            *[pl.col(c).alias(renamed.get(c, c)) for c in keep])
        parts.append((part, not_null))
        for c in own_contracts:
            kwargs = {k: (renamed.get(v, v) if k in _COLUMN_KWARGS else v) for k, v in c.kwargs.items()}
            contracts[len(contracts)] = replace(c, kwargs=kwargs)
        offset += small.height
    batch = pl.concat([p for p, _ in parts], how="diagonal")
    # a not-null column's own frame keeps its nulls; the other frames' rows read PRESENT
    spans = {name: (owner[j], owner[j] + part.height) for j, (part, names) in enumerate(parts) for name in names}
    batch = batch.with_columns(
        pl.when(pl.col("_gid").is_between(lo, hi, closed="left")).then(pl.col(name)).otherwise(pl.lit(PRESENT)).alias(name)
        for name, (lo, hi) in spans.items())
    return batch, contracts, owner


def _ge_kwargs(kwargs: dict[str, Any]) -> dict[str, Any]:
    """ISO dates become pandas timestamps: GE compares a datetime column only with timestamps."""
    import pandas as pd  # only beside great-expectations, which has imported it already

    out = dict(kwargs)
    for key in ("min_value", "max_value"):
        if isinstance(out.get(key), str):
            out[key] = pd.Timestamp(out[key])
    return out


def _ge_error(result: Any) -> str | None:
    """The first exception GE caught while computing the expectation's metrics, if any."""
    info = result.exception_info or {}
    candidates = [info] + [v for v in info.values() if isinstance(v, dict)]
    for item in candidates:
        if item.get("raised_exception"):
            return str(item.get("exception_message", "error"))[:200]
    return None


def _outcome(contract: Contract, result: Any, small: pl.DataFrame, total: int, domain: Domain,
             gids: list[int]) -> Outcome:
    base = dict(table=contract.table, expectation=contract.kind, description=contract.description,
                columns=list(contract.columns), rows_checked=total)
    if result is None:
        return Outcome(**base, success=False, unexpected_rows=0, examples=[], error="no result")
    message = _ge_error(result)
    if message:
        return Outcome(**base, success=False, unexpected_rows=0, examples=[], error=message)
    if domain.name == "schema":  # a column missing or of another type: every row of the table
        wrong = small.filter(pl.col("_gid").is_in(gids)).drop("_gid", "_rows")
        return Outcome(**base, success=bool(result.success), unexpected_rows=0 if result.success else total,
                       examples=wrong.head(EXAMPLES).to_dicts())
    failing = small.filter(pl.col("_gid").is_in(gids)).sort("_rows", descending=True)
    shown = [c for c in small.columns if c not in ("_gid", "_rows", "_file", "_line")]
    examples = [
        {"file": row["_file"], "line": row["_line"], "rows": row["_rows"],
         **{c: _mask(c, _plain(row[c])) for c in shown}}
        for row in failing.head(EXAMPLES).to_dicts()
    ]
    unexpected = int(failing["_rows"].sum()) if failing.height else 0
    return Outcome(**base, success=bool(result.success), unexpected_rows=unexpected, examples=examples)


def _plain(value: Any) -> Any:
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    return value


# ---------------------------------------------------------------------------------------------
# writing


def write_validation(out_dir: Path, report: ValidationReport) -> None:
    """validation.json (every expectation's outcome) and validation.html (the same, readable)."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    inside(out_dir, "validation.json").write_text(
        json.dumps(report.to_dict(), ensure_ascii=False, indent=2, default=str), encoding="utf-8"
    )
    inside(out_dir, "validation.html").write_text(render_html(report), encoding="utf-8")


def render_html(report: ValidationReport) -> str:
    e = html.escape
    parts = [
        "<!doctype html><html lang='zh'><head><meta charset='utf-8'><title>数据契约校验 / data contracts</title>",
        "<style>body{font-family:sans-serif;margin:2em;max-width:75em}table{border-collapse:collapse;width:100%;"
        "margin-bottom:2em}td,th{border:1px solid #ccc;padding:.3em .5em;vertical-align:top;text-align:left}"
        ".ok{color:#186a3b}.bad{color:#a93226;font-weight:bold}code{font-size:90%}</style></head><body>",
        "<h1>数据契约校验 / input data contracts</h1>",
        f"<p>{len(report.outcomes)} expectations, {len(report.failed())} not met. "
        "Rows that fail an expectation are kept and flagged for review (DATA_QUALITY); only unreadable rows "
        f"are quarantined (see quarantine.csv). Method: {e(report.method)}; {report.seconds:.1f} s.</p>",
    ]
    for table in report.rows:
        rows = [o for o in report.outcomes if o.table == table]
        bad = sum(not o.success for o in rows)
        parts.append(f"<h2>{e(table)} — {e(SPECS[table].zh)} ({report.rows[table]:,} rows; {bad} not met)</h2>")
        parts.append("<table><tr><th>expectation</th><th>GE</th><th>met</th><th>rows failing</th><th>examples (file:line)</th></tr>")
        for o in sorted(rows, key=lambda o: o.success):
            mark = "<span class='ok'>✓</span>" if o.success else "<span class='bad'>✗</span>"
            ex = "<br>".join(
                e(f"{x.get('file', '')}:{x.get('line', '')} " + ", ".join(
                    f"{k}={v}" for k, v in x.items() if k not in ("file", "line")))
                for x in o.examples
            )
            failing = e(o.error) if o.error else f"{o.unexpected_rows:,}"
            parts.append(f"<tr><td>{e(o.description)}</td><td><code>{e(o.expectation)}</code></td>"
                         f"<td>{mark}</td><td>{failing}</td><td>{ex}</td></tr>")
        parts.append("</table>")
    parts.append("</body></html>")
    return "\n".join(parts)
