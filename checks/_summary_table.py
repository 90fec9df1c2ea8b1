"""The 14 indicators of the monthly 汇总表, recomputed per county and month from the micro data.

The form is the 附件 of 人社部发〔2023〕27号 (also 赣人社发〔2023〕9号 附件3, 云人社发〔2023〕18号 附件2);
its 填报说明 define indicators 8, 11, 12 and 14 and say that "本期" is the period's own situation,
not accumulated with earlier periods (说明6). A county is the unit's county
(``units.county_code``, RULES.md §8); a month M runs from its first to its last day (ME). People
are counted once per county and month (distinct ``person_id``). The definitions:

1. 本期末实有见习单位总数 — units approved by ME and not exited by ME
   (``approved_date ≤ ME`` and ``exit_date`` empty or after ME).
2. 本期新增见习单位数量 — units whose ``approved_date`` falls in M.
3. 本期末实有见习岗位总数 — positions of the county's units open at ME (``posted_date ≤ ME`` and
   ``closed_date`` empty or after ME), counting each position's ``slots`` (1 where empty): the form
   counts 岗位 (个), and one posting of three places is three positions. Null when the input has
   no ``positions`` table.
4. 本期新增见习岗位数量 — slots of positions posted in M (null without ``positions``).
5. 本期计划组织见习人数 — a plan; no micro-data source (always null, relations only).
6. 本期实际到岗人数 — trainees whose agreement starts in M (arrivals of the period, 说明6).
7. of whom 离校2年内未就业高校毕业生 — a 高校 graduate (学历 研究生/本科/专科) whose
   ``graduation_date`` is on or before the agreement's start and within
   ``eligibility.graduate_years_since_leaving`` years of it (the province's parameter on the start
   date; the form says 2 years). Null for a county-month with a trainee whose province leaves the
   parameter unset.
8. 本期完成见习人数 — trainees whose internship ended in M by completing the term or by being
   hired early (说明2): the agreement's end (``actual_end_date``, else ``planned_end_date``) falls
   in M and ``end_reason`` is 期满 or 提前留用, or ``end_reason`` is empty and the agreement did not
   end before its planned end. Early leavers for personal reasons are outside it.
9. 被见习单位留用人数 — of 8, those the unit kept: ``retained`` is true or ``end_reason`` is
   提前留用. This is the internship system's own record, the source the county compiles the form
   from; whether a retention is real (contract, insurance) is RETENTION_INFLATED's question.
10. of whom 离校2年内未就业高校毕业生 — of 9, graduates as in 7 (at the agreement's start).
11. 其他方式就业人数 — employment found otherwise; no reliable micro-data source (always null,
    relations only).
12. 本期非正常结束见习人数 — trainees whose agreement ended early in M (``actual_end_date`` in M
    and before ``planned_end_date``), not 提前留用 and not retained (说明4).
13. 本期末实有在岗见习人数 — trainees on post at ME: an agreement started by ME whose end is
    after ME.
14. 本年累计各级财政实际拨付的见习补贴资金数 — claims paid (``paid_date``) from 1 January of M's year
    up to ME, ``amount`` + ``insurance_amount``, in 万元 (说明5), unrounded.

Reconciled with the fixtures generator's independent definitions (``fixtures/indicators.py``):
they agree on every indicator but one detail of 8, where we follow the form's note 2 (如期完成 =
reached the agreed end): an agreement with no ``end_reason`` that did not end before its planned
end counts as completed here, and not there. Generated worlds never have such a row (the
generator sets ``end_reason`` on every ended agreement), so the two agree on them; real exports
with an unfilled 结束原因 are where it matters.

Everything is lazy: :func:`indicators` returns one plan; the REPORT_INCONSISTENT check and the
``summary_table.xlsx`` writer collect it.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

import polars as pl

from audit.schema import province_of

# the form's definition (RULES.md §7); INDICATOR_NAMES is read from here by report_inconsistent
from audit.summary_form import INDICATOR_NAMES, INDICATORS, NO_SOURCE  # noqa: F401
from audit.tables import shared
from checks import _joins
from checks._registries import graduation_latest
from checks._units import latest_units

if TYPE_CHECKING:
    from audit.policy import Policy
    from audit.tables import Tables

COUNT_COLUMNS = tuple(k for k, _ in INDICATORS if k != "i14")
#: the optional input columns each indicator's definition reads (above): where the input lacks
#: one, the indicator is not recomputed (positions absent altogether: 3 and 4, by has_positions)
INDICATOR_SOURCES: dict[str, tuple[tuple[str, str], ...]] = {
    "i1": (("units", "exit_date"),),
    "i3": (("positions", "closed_date"), ("positions", "slots")),
    "i4": (("positions", "slots"),),
    "i7": (("trainees", "education"), ("trainees", "graduation_date")),
    "i8": (("agreements", "actual_end_date"), ("agreements", "end_reason")),
    "i9": (("agreements", "actual_end_date"), ("agreements", "end_reason"), ("agreements", "retained")),
    "i10": (("agreements", "actual_end_date"), ("agreements", "end_reason"), ("agreements", "retained"),
            ("trainees", "education"), ("trainees", "graduation_date")),
    "i12": (("agreements", "actual_end_date"), ("agreements", "end_reason"), ("agreements", "retained")),
    "i13": (("agreements", "actual_end_date"),),
    "i14": (("claims", "paid_date"), ("claims", "insurance_amount")),
}

# 高校毕业生: graduates of higher education (the form's wording), not 中职/技工院校.
HIGHER_EDUCATION = ("研究生", "本科", "专科")
COMPLETED_REASONS = ("期满", "提前留用")
HIRED_EARLY = "提前留用"


def _month(expr: pl.Expr) -> pl.Expr:
    return expr.dt.truncate("1mo")


def default_months(t: Tables) -> pl.LazyFrame:
    """The audit month and every earlier month a county reported for."""
    months = [pl.LazyFrame({"month": [t.audit_month]}, schema={"month": pl.Date})]
    if t.county_reports is not None:
        months.append(t.county_reports.select(_month(pl.col("month")).alias("month"))
                      .filter(pl.col("month") <= t.audit_month))
    return pl.concat(months).unique()


def _grid(t: Tables, months: pl.LazyFrame) -> pl.LazyFrame:
    counties = [t.units.select("county_code")]
    if t.county_reports is not None:
        counties.append(t.county_reports.select("county_code"))
    return (
        pl.concat(counties).drop_nulls().unique()
        .join(months.select(pl.col("month").cast(pl.Date)), how="cross")
    )


def _stock(frame: pl.LazyFrame, start: pl.Expr, stop: pl.Expr, last: dt.date) -> pl.LazyFrame:
    """One row per month M in which a thing that began on ``start`` is still there at ME.

    Still there at ME ⇔ ``start ≤ ME`` and ``stop`` empty or after ME, i.e. M runs from start's
    month to the month before stop's month (or to ``last`` when open). This widens every row to
    its months: used only where things must be told apart (people with several agreements);
    :func:`_stock_total` counts and sums without widening.
    """
    return (
        _span(frame, start, stop, last)
        .with_columns(pl.date_ranges("_from", "_to", "1mo").alias("month"))
        .explode("month")
        .drop_nulls("month")
        .drop("_from", "_to")
    )


def _span(frame: pl.LazyFrame, start: pl.Expr, stop: pl.Expr, last: dt.date) -> pl.LazyFrame:
    """``_from``/``_to``: the first and last month M a thing is there at ME (``_to`` ≤ ``last``)."""
    return frame.with_columns(
        _month(start).alias("_from"),
        pl.min_horizontal(pl.coalesce(_month(stop).dt.offset_by("-1mo"), pl.lit(last)), pl.lit(last)).alias("_to"),
    ).filter(pl.col("_from").is_not_null())


def _stock_total(frame: pl.LazyFrame, start: pl.Expr, stop: pl.Expr, last: dt.date, grid: pl.LazyFrame,
                 name: str, value: str | None = None) -> pl.LazyFrame:
    """Per county and grid month M, how many things are there at ME (as :func:`_stock`), or the
    sum of their column ``value``.

    Scale: widening a million agreements or a hundred thousand units (approved since 2019) to
    every month they run made millions of rows to count. A thing there from ``_from`` to ``_to``
    adds its value at ``_from`` and takes it away at the month after ``_to``; the stock at M is
    the sum of these changes up to M — per county a few dozen change months, joined to the grid.
    """
    span = _span(frame, start, stop, last).filter(pl.col("_from") <= pl.col("_to"))
    total = pl.len().cast(pl.Int64) if value is None else pl.col(value).sum()
    # two group-bys of one subplan (polars computes it once); an explode to one list of both
    # changes per row was measured three times slower at a million rows
    changes = pl.concat([
        span.group_by("county_code", pl.col("_from").alias("_at")).agg(total.alias("_change")),
        span.group_by("county_code", pl.col("_to").dt.offset_by("1mo").alias("_at")).agg((-total).alias("_change")),
    ])
    return (
        grid.join(changes, on="county_code", how="inner")
        .filter(pl.col("_at") <= pl.col("month"))
        .group_by("county_code", "month")
        .agg(pl.col("_change").sum().alias(name))
    )


def _grad_years(t: Tables, policy: Policy) -> pl.LazyFrame:
    """province_code, start_date, _grad_years: the graduate rule's years in force on each start
    date an agreement has, for every province a unit is in.

    Scale: an as-of join sorts its input; looked up on these few keys (a few provinces times a
    few hundred dates, read from two narrow columns) and joined back by hash, a million
    agreement rows are neither sorted nor read twice.
    """
    provinces = t.units.select(province_of(pl.col("county_code")).alias("province_code")).unique().drop_nulls()
    dates = t.agreements.select("start_date").unique().drop_nulls()
    return policy.attach(provinces.join(dates, how="cross"), "eligibility.graduate_years_since_leaving",
                         on="start_date", alias="_grad_years")


def _agreements(t: Tables) -> pl.LazyFrame:
    """Agreements with their unit's county, effective end, completion flags, and ``_single``: the
    person has no other agreement row, so counting the row counts the person (:func:`_distinct`).

    ``_single`` compares hashes of the ID: two people whose IDs share a hash are both taken as
    having several agreements and counted the exact (slower) way, so a collision costs time,
    never a miscount.
    """
    units = t.units.select("unit_id", "county_code").unique("unit_id")
    agreements = (
        t.agreements.select("person_id", "unit_id", "start_date", "planned_end_date", "actual_end_date",
                            "end_reason", "retained")
        .join(units, on="unit_id", how="inner")
    )
    ended_early = pl.col("actual_end_date").is_not_null() & (pl.col("actual_end_date") < pl.col("planned_end_date"))
    completed = pl.col("end_reason").is_in(COMPLETED_REASONS).fill_null(False) | (
        pl.col("end_reason").is_null() & ~ended_early
    )
    kept = (pl.col("retained").fill_null(False) | (pl.col("end_reason") == HIRED_EARLY).fill_null(False))
    return agreements.select(
        "person_id", "county_code", "start_date", "actual_end_date",
        pl.coalesce("actual_end_date", "planned_end_date").alias("end_date"),
        completed.alias("completed"),
        kept.alias("kept"),
        (ended_early & ~kept & (pl.col("end_reason") != HIRED_EARLY).fill_null(True)).alias("abnormal"),
        _joins._key_hash(["person_id"]).is_unique().alias("_single"),
    )


def _with_graduate(agreements: pl.LazyFrame, t: Tables, policy: Policy) -> pl.LazyFrame:
    """Add ``is_graduate``: a 高校 graduate within the province's years of leaving at the start
    (null where the province leaves the years unset)."""
    names = t.trainees.collect_schema().names()
    trainees = t.trainees.select("person_id", "education", "graduation_date",
                                 graduation_latest(names)).unique("person_id")
    agreements = (
        agreements.join(trainees, on="person_id", how="left")
        .with_columns(province_of(pl.col("county_code")).alias("province_code"))
        .join(_grad_years(t, policy), on=["province_code", "start_date"], how="left")
    )

    def graduate(left: str) -> pl.Expr:
        limit = pl.col(left).dt.offset_by(pl.concat_str([pl.col("_grad_years").cast(pl.String), pl.lit("y")]))
        return (pl.col("education").is_in(HIGHER_EDUCATION).fill_null(False)
                & (pl.col(left) <= pl.col("start_date")).fill_null(False)
                & (pl.col("start_date") <= limit).fill_null(False))
    # a graduation recorded to the month or the year (its first day, its last) that counts the
    # person one way on one day and the other on another leaves the count unknown
    is_graduate = (
        pl.when(pl.col("_grad_years").is_null()).then(None)
        .when(graduate("graduation_date") != graduate("graduation_latest")).then(None)
        .otherwise(graduate("graduation_date"))
    )
    return agreements.with_columns(is_graduate.alias("is_graduate")).drop("graduation_latest")


def _distinct(where: pl.Expr) -> pl.Expr:
    """Distinct ``person_id`` among a group's rows where ``where`` holds.

    Scale: nearly every person has one agreement, so a distinct count of a million ID strings
    per county-month is mostly counting rows. A ``_single`` row's person has no other row, so
    those rows are summed as booleans; only the few people with several agreements are
    counted as distinct IDs. The two sets of people are disjoint, so the sum is exact.
    """
    single = (where & pl.col("_single")).sum()
    several = pl.col("person_id").filter(where & ~pl.col("_single")).n_unique()
    return (single + several).cast(pl.Int64)


def _graduates(where: pl.Expr) -> pl.Expr:
    """Distinct graduates among the rows where ``where`` holds; null where any of those trainees'
    graduate status cannot be judged."""
    return (
        pl.when(pl.col("is_graduate").filter(where).is_null().any()).then(None)
        .otherwise(_distinct(where & pl.col("is_graduate")))
        .cast(pl.Int64)
    )


def _flows(agreements: pl.LazyFrame) -> list[pl.LazyFrame]:
    """Indicators 6–10 and 12 per county and month: arrivals by the start's month, completions
    and retentions by the end's month, early ends by the actual end's month. Three group-bys of
    one subplan, which polars computes once (exploding each row to its three months costs more
    than the counting: a million rows copied three times)."""
    every = pl.lit(True)
    retained = pl.col("completed") & pl.col("kept")
    by = [
        (pl.col("start_date"), [_distinct(every).alias("i6"), _graduates(every).alias("i7")]),
        (pl.col("end_date"), [_distinct(pl.col("completed")).alias("i8"), _distinct(retained).alias("i9"),
                              _graduates(retained).alias("i10")]),
        (pl.col("actual_end_date"), [_distinct(pl.col("abnormal")).alias("i12")]),
    ]
    return [agreements.group_by("county_code", _month(date).alias("month")).agg(aggs) for date, aggs in by]


def _on_post(agreements: pl.LazyFrame, last: dt.date, grid: pl.LazyFrame) -> pl.LazyFrame:
    """Indicator 13 per county and grid month: distinct people on post at ME. People with one
    agreement are counted by the changes of :func:`_stock_total`; the few with several are
    widened to their months and counted as distinct IDs."""
    single = _stock_total(agreements.filter(pl.col("_single")), pl.col("start_date"), pl.col("end_date"), last,
                          grid, "_single_on_post")
    several = (
        _stock(agreements.filter(~pl.col("_single")), pl.col("start_date"), pl.col("end_date"), last)
        .group_by("county_code", "month").agg(pl.col("person_id").n_unique().alias("_several_on_post"))
    )
    return (
        grid.join(single, on=["county_code", "month"], how="left")
        .join(several, on=["county_code", "month"], how="left")
        .select("county_code", "month",
                (pl.col("_single_on_post").fill_null(0) + pl.col("_several_on_post").fill_null(0)).alias("i13"))
    )


def indicators(t: Tables, policy: Policy, months: pl.LazyFrame | None = None) -> pl.LazyFrame:
    """county_code, month, i1 … i14 for every county and month (see the module docstring).

    Scale (a million agreements, 5.6 million claims): the stocks (1, 3, 13) are sums of changes,
    not rows widened to every month (:func:`_stock_total`); people are counted as rows where
    they have one agreement (:func:`_distinct`); the agreements are read once for all their
    indicators (:func:`_flows`, :func:`_on_post`).
    """
    months = default_months(t) if months is None else months
    last = t.audit_month
    grid = _grid(t, months)
    # a unit listed more than once (re-admitted, amended): its latest-approved row, approved from its
    # earliest approval (checks._units.latest_units; the row order decides nothing)
    units = latest_units(t).select("unit_id", "county_code", pl.col("first_approved").alias("approved_date"),
                                   "exit_date")

    parts: list[pl.LazyFrame] = [
        # units are unique by unit_id here: counting them counts distinct units
        _stock_total(units, pl.col("approved_date"), pl.col("exit_date"), last, grid, "i1"),
        units.group_by("county_code", _month(pl.col("approved_date")).alias("month"))
        .agg(pl.col("unit_id").n_unique().alias("i2")),
    ]
    has_positions = t.positions is not None
    if t.positions is not None:
        positions = t.positions.select("unit_id", "posted_date", "closed_date",
                                       pl.col("slots").fill_null(1).cast(pl.Int64)).join(
            units.select("unit_id", "county_code"), on="unit_id", how="inner")
        parts.append(_stock_total(positions, pl.col("posted_date"), pl.col("closed_date"), last, grid,
                                  "i3", value="slots"))
        parts.append(positions.group_by("county_code", _month(pl.col("posted_date")).alias("month"))
                     .agg(pl.col("slots").sum().alias("i4")))

    # .cache(): the flows and the on-post stock read it; computed once per query, not once per use
    agreements = _agreements(t).cache()
    parts += [*_flows(_with_graduate(agreements, t, policy)), _on_post(agreements, last, grid)]

    paid = (
        t.claims.filter(pl.col("paid_date").is_not_null())
        .select("unit_id", "paid_date",
                (pl.col("amount").fill_null(0) + pl.col("insurance_amount").fill_null(0)).alias("paid"))
        .join(units.select("unit_id", "county_code"), on="unit_id", how="inner")
        .group_by("county_code", _month(pl.col("paid_date")).alias("paid_month"))
        .agg(pl.col("paid").sum())
    )
    parts.append(
        grid.join(paid, on="county_code", how="inner")
        .filter((pl.col("paid_month") <= pl.col("month"))
                & (pl.col("paid_month").dt.year() == pl.col("month").dt.year()))
        .group_by("county_code", "month")
        .agg((pl.col("paid").sum() / 10_000).alias("i14"))  # the form's unit is 万元
    )

    out = grid
    for part in parts:
        out = out.join(part, on=["county_code", "month"], how="left")
    graduate_cols = ("i7", "i10")
    fill = [pl.col(c).fill_null(0).cast(pl.Int64) for c in ("i1", "i2", "i6", "i8", "i9", "i12", "i13")]
    # a county-month with no arrivals has 0 graduates; a null from _graduates means "cannot judge"
    fill += [pl.when(pl.col(c).is_null() & (pl.col(base).fill_null(0) == 0)).then(0).otherwise(pl.col(c)).cast(pl.Int64).alias(c)
             for c, base in zip(graduate_cols, ("i6", "i9"))]
    fill.append(pl.col("i14").fill_null(0.0).cast(pl.Float64))
    if has_positions:
        fill += [pl.col("i3").fill_null(0).cast(pl.Int64), pl.col("i4").fill_null(0).cast(pl.Int64)]
    else:
        fill += [pl.lit(None, pl.Int64).alias("i3"), pl.lit(None, pl.Int64).alias("i4")]
    fill += [pl.lit(None, pl.Int64).alias(c) for c in NO_SOURCE]
    out = out.with_columns(fill)
    # an indicator whose source column the input lacks cannot be recomputed (a column the loader
    # filled with nulls is blank everywhere, which says nothing): null, not compared
    unknown = [c for c, sources in INDICATOR_SOURCES.items()
               if not all(t.exported(table, column) for table, column in sources)]
    out = out.with_columns(pl.lit(None, pl.Float64 if c == "i14" else pl.Int64).alias(c) for c in unknown)
    return out.select("county_code", "month", *[k for k, _ in INDICATORS]).sort("county_code", "month")


@shared(tables=("units", "positions", "agreements", "claims", "trainees", "county_reports"),
        params=("eligibility.graduate_years_since_leaving",), context=("audit_month",))
def county_indicators(t: Tables, policy: Policy) -> pl.LazyFrame:
    """The 汇总表 recomputed for every county and month the run covers (:func:`indicators`), built
    once: REPORT_INCONSISTENT compares the counties' reports with it and the run writes it to
    ``indicators.parquet`` for the reports."""
    return indicators(t, policy)
