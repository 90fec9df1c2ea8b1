"""REPORT_INCONSISTENT rules: the counties' monthly 汇总表 against its own logic and the micro data.

Every county reports the 14-indicator table monthly (``county_reports``; 人社部发〔2023〕27号 附件,
赣人社发〔2023〕9号 附件3, 云人社发〔2023〕18号 附件2). The form's 填报说明7 fixes its logical
relations, 1≥2, 3≥4, 5≥6≥7, 8≥9+11, 9≥10: one rule per inequality, each firing for a
county-month whose reported values break it. A seventh rule compares every reported indicator
with the value recomputed from the micro data (:mod:`checks._summary_table`, where each
indicator's definition is written down); indicators 5 and 11 have no micro-data source and are
checked through the relations only. Reports for months after the audit month are not judged.
No money is at risk in a report: these findings carry ``amount_at_risk`` 0.

Unreadable rows do not accuse (RULES.md §8): an indicator whose micro data lost rows to the
quarantine (``Tables.quarantine``) for that county and month cannot be recomputed exactly, so it
is not compared there (:func:`lost_rows`); a county-month whose every difference is such an
indicator is skipped with the reason, not flagged.
"""

from __future__ import annotations

import polars as pl

from audit.policy import Policy
from audit.rules import Check, CheckResult, Severity, rule
from audit.tables import Tables
from checks._citations import citing, report_form
from checks._summary_table import INDICATOR_NAMES, NO_SOURCE, county_indicators

# each province's own form where its notice has one (Jiangxi 附件3, Yunnan 附件2), else the national
# form, as in force in the report's month (checks._citations)
RELATION_CITATIONS = report_form("填报说明7（逻辑关系）")
DEFINITION_CITATIONS = report_form("指标1–14及填报说明2–6")
# 万元 on the form is written to two decimals (百元): amounts agree when equal at that precision.
WAN_DECIMALS = 2
COMPARED = tuple(k for k in INDICATOR_NAMES if k not in NO_SOURCE)
# which indicators a lost row of each table changes (checks._summary_table's definitions): a unit's
# row carries the county of everything else of the unit, so a lost unit row changes them all
INDICATORS_OF: dict[str, tuple[str, ...]] = {
    "units": COMPARED,
    "positions": ("i3", "i4"),
    "agreements": ("i6", "i7", "i8", "i9", "i10", "i12", "i13"),
    "trainees": ("i7", "i10"),
    "claims": ("i14",),
}
LOST_WHAT = {"units": "见习单位记录", "positions": "岗位记录", "agreements": "见习协议记录", "trainees": "见习人员记录",
             "claims": "申领记录"}


def _reports(t: Tables) -> pl.LazyFrame:
    """The county-months reported up to the audit month, a city's or the province's subtotal
    rows (:func:`_subtotals`) aside: they report no county of their own."""
    reports = _reported(t)
    return reports.join(_subtotals(reports), on=["county_code", "month"], how="anti")


def _reported(t: Tables) -> pl.LazyFrame:
    assert t.county_reports is not None
    return t.county_reports.with_columns(pl.col("month").dt.truncate("1mo")).filter(
        pl.col("month") <= t.audit_month)


INDICATORS = tuple(f"i{n}" for n in range(1, 15))
#: why a county-month reported on several rows that disagree is not found where a version agrees
VERSIONS_DIFFER = ("该县区当月的汇总表有 {} 行且数字不一致，其中有与明细数据一致的版本，无法确定哪一行为准，未判断 / the county-month is "
                   "reported on {} rows with different figures, one of which agrees with the micro data: which holds is "
                   "unknown; not judged")
#: why a city's (province's) row of the 汇总表 is not compared as a county's report
SUBTOTAL = ("区划代码为地市（省）一级，且各项指标均等于所辖县区当月之和：汇总行，不作为一个县区的报告核对 / a city's "
            "(province's) row equal, indicator by indicator, to the sum of its counties' rows that month: a subtotal, "
            "not a county's report")


def _subtotals(reports: pl.LazyFrame) -> pl.LazyFrame:
    """(county_code, month) of the rows of a city (``XXXX00``) or the province (``XX0000``) whose
    fourteen indicators each equal the sum of the same month's rows of the counties within it
    (indicator 14, 万元, to two decimals): the 汇总表's 小计 and 合计 under a division's code. A
    city row that is not such a sum (a 市本级 of its own units), or whose counties reported nothing
    but zeros, is a report like a county's."""
    code = pl.col("county_code")
    counties = reports.filter(~code.str.ends_with("00"))
    totals = pl.concat([
        counties.with_columns((code.str.slice(0, 4) + "00").alias("county_code")),
        counties.with_columns((code.str.slice(0, 2) + "0000").alias("county_code")),
    ]).group_by("county_code", "month").agg(
        *[pl.col(c).cast(pl.Float64).sum().alias(f"{c}_sum") for c in INDICATORS])
    same = [((pl.col(c).cast(pl.Float64).round(WAN_DECIMALS) == pl.col(f"{c}_sum").round(WAN_DECIMALS))
             .fill_null(pl.col(c).is_null())) for c in INDICATORS]
    something = pl.any_horizontal([pl.col(f"{c}_sum") > 0 for c in INDICATORS])  # zeros sum to anything's zeros
    return (reports.filter(code.str.ends_with("00")).join(totals, on=["county_code", "month"])
            .filter(pl.all_horizontal(same) & something).select("county_code", "month").unique())


def _label(col: str) -> str:
    return f"指标{col[1:]}"


def _relation(lhs: str, rhs: tuple[str, ...]) -> object:
    """Build the check for ``lhs ≥ sum(rhs)`` on the reported values."""
    text = f"{_label(lhs)} ≥ {' + '.join(_label(c) for c in rhs)}"

    def check(t: Tables, policy: Policy) -> CheckResult:
        reports = _reports(t)
        cols = (lhs, *rhs)
        right = pl.sum_horizontal([pl.col(c) for c in rhs])
        complete = pl.all_horizontal([pl.col(c).is_not_null() for c in cols])
        found = reports.filter(complete & (pl.col(lhs) < right)).select(
            "county_code",
            pl.col("month").alias("period_start"),
            pl.col("month").dt.month_end().alias("period_end"),
            pl.lit(0.0).alias("amount_at_risk"),
            pl.struct(
                pl.lit(text).alias("relation"),
                *[pl.col(c).cast(pl.Float64).alias(_label(c)) for c in cols],
                *[pl.lit(INDICATOR_NAMES[c]).alias(f"{_label(c)}名称") for c in cols],
                pl.concat_str([pl.col("county_code"), pl.col("month").dt.strftime("%Y-%m")], separator=" ")
                .alias("report"),
            ).alias("evidence"),
        )
        skipped = reports.filter(~complete).select(
            "county_code", pl.col("month").alias("period_start"),
            pl.concat_str([pl.lit("县区"), pl.col("county_code"), pl.lit(" "), pl.col("month").dt.strftime("%Y-%m"),
                           pl.lit(f" 汇总表未填报{text}中的指标，无法校验")]).alias("reason"))
        return CheckResult(found, skipped)

    check.__doc__ = (
        f"A county's monthly 汇总表 must satisfy {text} (填报说明7); a report with both sides filled "
        "in that breaks it is inconsistent in itself, whatever the micro data say."
    )
    return check


def _relation_rule(rule_id: str, title: str, lhs: str, rhs: tuple[str, ...]) -> Check:
    return rule(id=f"REPORT_INCONSISTENT.{rule_id}", title=title, severity=Severity.MEDIUM,
                citations=RELATION_CITATIONS, needs=("county_reports",))(
        citing(RELATION_CITATIONS)(_relation(lhs, rhs)))  # type: ignore[arg-type]


new_units_exceed_units = _relation_rule(
    "new_units_exceed_units", "汇总表逻辑错误：新增见习单位数大于期末实有见习单位总数（1≥2）", "i1", ("i2",))
new_positions_exceed_positions = _relation_rule(
    "new_positions_exceed_positions", "汇总表逻辑错误：新增见习岗位数大于期末实有见习岗位总数（3≥4）", "i3", ("i4",))
arrived_exceed_planned = _relation_rule(
    "arrived_exceed_planned", "汇总表逻辑错误：实际到岗人数大于计划组织见习人数（5≥6）", "i5", ("i6",))
graduates_exceed_arrived = _relation_rule(
    "graduates_exceed_arrived", "汇总表逻辑错误：到岗高校毕业生人数大于实际到岗人数（6≥7）", "i6", ("i7",))
retained_plus_other_exceed_completed = _relation_rule(
    "retained_plus_other_exceed_completed",
    "汇总表逻辑错误：留用人数与其他方式就业人数之和大于完成见习人数（8≥9+11）", "i8", ("i9", "i11"))
retained_graduates_exceed_retained = _relation_rule(
    "retained_graduates_exceed_retained", "汇总表逻辑错误：留用高校毕业生人数大于留用人数（9≥10）", "i9", ("i10",))


def lost_rows(t: Tables) -> pl.LazyFrame:
    """The quarantined rows of the tables the indicators are recomputed from, each placed: the
    county whose indicators it changes (null: unknown — every county), the first and last month it
    can change (null last: every later month), the indicators, and the table.

    A row's county is its unit's (``units.county_code``, the county the recomputation uses), else
    the county its own cells name (a claim's paying office, a unit's county); a trainee's, that of
    every unit the person has an agreement with. Its months: from the month of its own date (a
    unit's approval, a position's posting, an agreement's start) on; a claim changes indicator 14
    (paid this year) from its payment month to that year's end, or, with the payment date
    unreadable, from its claim month to the end of the next year. A row with no readable date
    changes every month."""
    empty = pl.LazyFrame(schema={"county_code": pl.String, "_from": pl.Date, "_to": pl.Date,
                                 "indicators": pl.List(pl.String), "table": pl.String})
    if t.quarantine is None:
        return empty
    quarantine = t.quarantine.filter(pl.col("table").is_in(list(INDICATORS_OF)))
    units = t.units.select("unit_id", pl.col("county_code").alias("_unit_county")).unique("unit_id", keep="first")
    people = (t.agreements.select("person_id", "unit_id").join(units, on="unit_id")
              .select("person_id", pl.col("_unit_county").alias("_person_county")).unique())
    placed = (
        quarantine.join(units, on="unit_id", how="left")
        .join(people, on="person_id", how="left")
        .with_columns(
            pl.when(pl.col("table") == "trainees").then(pl.col("_person_county"))
            .otherwise(pl.coalesce("_unit_county", "county_code")).alias("county_code"),
            pl.col("day").dt.truncate("1mo").alias("_day"),
            pl.col("paid_date").dt.truncate("1mo").alias("_paid"),
        )
    )
    claim = pl.col("table") == "claims"
    return placed.select(
        "county_code",
        pl.when(claim & pl.col("_paid").is_not_null()).then(pl.col("_paid"))
        .when(pl.col("table") == "trainees").then(pl.lit(None, pl.Date))
        .otherwise(pl.col("_day")).alias("_from"),
        pl.when(claim & pl.col("_paid").is_not_null()).then(pl.date(pl.col("_paid").dt.year(), 12, 1))
        .when(claim & pl.col("_day").is_not_null()).then(pl.date(pl.col("_day").dt.year() + 1, 12, 1))
        .otherwise(pl.lit(None, pl.Date)).alias("_to"),
        pl.col("table").replace_strict({k: list(v) for k, v in INDICATORS_OF.items()},
                                       return_dtype=pl.List(pl.String)).alias("indicators"),
        "table",
    )


def _lost_per_report(reports: pl.LazyFrame, lost: pl.LazyFrame) -> pl.LazyFrame:
    """Per reported county-month: the indicators whose micro data lost rows (``_lost``), how many
    lost rows touch it (``_lost_rows``) and what they were (``_lost_what``)."""
    keys = reports.select("county_code", "month").unique()
    in_months = (pl.col("_from").is_null() | (pl.col("month") >= pl.col("_from"))) & (
        pl.col("_to").is_null() | (pl.col("month") <= pl.col("_to")))
    located = keys.join(lost.filter(pl.col("county_code").is_not_null()), on="county_code")
    anywhere = keys.join(lost.filter(pl.col("county_code").is_null()).drop("county_code"), how="cross")
    return (
        pl.concat([located, anywhere], how="diagonal_relaxed")
        .filter(in_months)
        .group_by("county_code", "month")
        .agg(
            pl.col("indicators").list.explode(keep_nulls=False, empty_as_null=False).unique().sort().alias("_lost"),
            pl.len().alias("_lost_rows"),
            pl.col("table").replace_strict(LOST_WHAT, default="记录").unique().sort().str.join("、").alias("_lost_what"),
        )
    )


@rule(
    id="REPORT_INCONSISTENT.differs_from_micro_data",
    facts=("differences",),
    title="汇总表上报数与业务明细数据重算结果不一致",
    severity=Severity.MEDIUM,
    citations=DEFINITION_CITATIONS,
    params=("eligibility.graduate_years_since_leaving",),
    needs=("county_reports",),
)
@citing(DEFINITION_CITATIONS)
def differs_from_micro_data(t: Tables, policy: Policy) -> CheckResult:
    """A county's reported indicator must equal the value recomputed from the micro data (units,
    positions, agreements, claims) for that county and month, by the form's definitions
    (:mod:`checks._summary_table`); 万元 amounts (indicator 14) agree when equal to two decimals.
    Indicators 5 and 11 have no micro-data source and are not compared; an indicator the micro
    data cannot give (no positions table; a graduate rule unset) is not compared either, nor one
    whose micro data for the county-month lost rows to the quarantine (:func:`lost_rows`). One
    finding per county-month lists every differing indicator, reported beside recomputed, and
    the differing ones it could not verify; a county-month whose only differences are of those is
    skipped: "该县区当月有申领记录未能读取（隔离N行），无法精确核对"."""
    reports = _reports(t)
    recomputed = county_indicators(t, policy).rename({c: f"{c}_micro" for c in INDICATOR_NAMES})
    joined = (
        reports.join(recomputed, on=["county_code", "month"], how="inner")
        .join(_lost_per_report(reports, lost_rows(t)), on=["county_code", "month"], how="left")
        .with_columns(pl.col("_lost").fill_null([]), pl.col("_lost_rows").fill_null(0))
    )

    def differs(col: str) -> pl.Expr:
        reported, micro = pl.col(col).cast(pl.Float64), pl.col(f"{col}_micro").cast(pl.Float64)
        if col == "i14":
            reported, micro = reported.round(WAN_DECIMALS), micro.round(WAN_DECIMALS)
        return reported.is_not_null() & micro.is_not_null() & (reported != micro)

    # a county-month reported on several rows with different figures (a revision beside the first):
    # which holds is unknown, so an indicator differs only where every version differs
    report = ["county_code", "month"]
    versions = joined.group_by(report).agg(
        pl.len().alias("_versions"),
        *[differs(c).all().alias(f"_differs_{c}") for c in COMPARED],
        *[differs(c).any().alias(f"_unsure_{c}") for c in COMPARED],
        *[pl.col(c).cast(pl.Float64).unique().sort().alias(f"_reported_{c}") for c in COMPARED],
        *[pl.col(c).first() for c in COMPARED], *[pl.col(f"{c}_micro").first() for c in COMPARED],
        pl.col("_lost").first(), pl.col("_lost_rows").first(), pl.col("_lost_what").first(),
    )

    def entries(lost: bool) -> pl.Expr:
        return pl.concat_list([
            pl.when(pl.col(f"_differs_{c}") & (pl.col("_lost").list.contains(c) == lost)).then(pl.struct(
                pl.lit(_label(c)).alias("indicator"),
                pl.lit(INDICATOR_NAMES[c]).alias("name"),
                pl.col(c).cast(pl.Float64).alias("reported"),
                pl.when(pl.col(f"_reported_{c}").list.len() > 1).then(pl.col(f"_reported_{c}")).alias("reported_versions"),
                pl.col(f"{c}_micro").cast(pl.Float64).round(4).alias("recomputed"),
            ))
            for c in COMPARED
        ]).list.drop_nulls()

    unsure = pl.any_horizontal(pl.col(f"_unsure_{c}") & ~pl.col(f"_differs_{c}") for c in COMPARED)
    judged = versions.with_columns(entries(False).alias("_diffs"), entries(True).alias("_unverifiable"),
                                   unsure.alias("_unsure")).cache()
    findings = judged.filter(pl.col("_diffs").list.len() > 0).select(
        "county_code",
        pl.col("month").alias("period_start"),
        pl.col("month").dt.month_end().alias("period_end"),
        pl.lit(0.0).alias("amount_at_risk"),
        pl.struct(
            pl.concat_str([pl.col("county_code"), pl.col("month").dt.strftime("%Y-%m")], separator=" ")
            .alias("report"),
            pl.col("_diffs").list.len().alias("differing"),
            pl.col("_diffs").alias("differences"),
            pl.col("_unverifiable").alias("not_verifiable_rows_quarantined"),
            pl.col("_lost_rows").alias("quarantined_rows"),
            pl.when(pl.col("_versions") > 1).then(pl.col("_versions")).alias("report_versions"),
        ).alias("evidence"),
    )
    nothing_sure = pl.col("_diffs").list.len() == 0
    skipped = pl.concat([
        judged.filter(nothing_sure & (pl.col("_unverifiable").list.len() > 0)).select(
            "county_code",
            pl.col("month").alias("period_start"),
            pl.format("该县区当月有{}未能读取（隔离{}行），无法精确核对", pl.col("_lost_what"), pl.col("_lost_rows")).alias("reason"),
        ),
        judged.filter(nothing_sure & (pl.col("_unverifiable").list.len() == 0) & pl.col("_unsure")).select(
            "county_code",
            pl.col("month").alias("period_start"),
            pl.format(VERSIONS_DIFFER, pl.col("_versions"), pl.col("_versions")).alias("reason"),
        ),
    ])
    subtotals = _subtotals(_reported(t)).select(
        "county_code", pl.col("month").alias("period_start"), pl.lit(SUBTOTAL).alias("reason"))
    return CheckResult(findings, pl.concat([skipped, subtotals]))


CHECKS: tuple[Check, ...] = (
    new_units_exceed_units,
    new_positions_exceed_positions,
    arrived_exceed_planned,
    graduates_exceed_arrived,
    retained_plus_other_exceed_completed,
    retained_graduates_exceed_retained,
    differs_from_micro_data,
)
