"""REPORT_INCONSISTENT rules: the counties' monthly 汇总表 against its own logic and the micro data.

Every county reports the 14-indicator table monthly (``county_reports``; 人社部发〔2023〕27号 附件,
赣人社发〔2023〕9号 附件3, 云人社发〔2023〕18号 附件2). The form's 填报说明7 fixes its logical
relations, 1≥2, 3≥4, 5≥6≥7, 8≥9+11, 9≥10: one rule per inequality, each firing for a
county-month whose reported values break it. A seventh rule compares every reported indicator
with the value recomputed from the micro data (:mod:`checks._summary_table`, where each
indicator's definition is written down); indicators 5 and 11 have no micro-data source and are
checked through the relations only. Reports for months after the audit month are not judged.
No money is at risk in a report: these findings carry ``amount_at_risk`` 0.
"""

from __future__ import annotations

import polars as pl

from audit.policy import Policy
from audit.rules import Check, CheckResult, Severity, rule
from audit.tables import Tables
from checks._summary_table import INDICATOR_NAMES, NO_SOURCE, county_indicators

FORM = "人社部发〔2023〕27号 附件《百万就业见习岗位募集计划情况汇总表》"
RELATION_CITATION = f"{FORM} 填报说明7（逻辑关系）；赣人社发〔2023〕9号 附件3"
DEFINITION_CITATION = f"{FORM} 指标1–14及填报说明2–6；赣人社发〔2023〕9号 附件3"
# 万元 on the form is written to two decimals (百元): amounts agree when equal at that precision.
WAN_DECIMALS = 2
COMPARED = tuple(k for k in INDICATOR_NAMES if k not in NO_SOURCE)


def _reports(t: Tables) -> pl.LazyFrame:
    assert t.county_reports is not None
    return t.county_reports.with_columns(pl.col("month").dt.truncate("1mo")).filter(
        pl.col("month") <= t.audit_month)


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
                citation=RELATION_CITATION, needs=("county_reports",))(_relation(lhs, rhs))  # type: ignore[arg-type]


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


@rule(
    id="REPORT_INCONSISTENT.differs_from_micro_data",
    facts=("differences",),
    title="汇总表上报数与业务明细数据重算结果不一致",
    severity=Severity.MEDIUM,
    citation=DEFINITION_CITATION,
    params=("eligibility.graduate_years_since_leaving",),
    needs=("county_reports",),
)
def differs_from_micro_data(t: Tables, policy: Policy) -> pl.LazyFrame:
    """A county's reported indicator must equal the value recomputed from the micro data (units,
    positions, agreements, claims) for that county and month, by the form's definitions
    (:mod:`checks._summary_table`); 万元 amounts (indicator 14) agree when equal to two decimals.
    Indicators 5 and 11 have no micro-data source and are not compared; an indicator the micro
    data cannot give (no positions table; a graduate rule unset) is not compared either. One
    finding per county-month lists every differing indicator, reported beside recomputed."""
    reports = _reports(t)
    recomputed = county_indicators(t, policy).rename({c: f"{c}_micro" for c in INDICATOR_NAMES})
    joined = reports.join(recomputed, on=["county_code", "month"], how="inner")

    def differs(col: str) -> pl.Expr:
        reported, micro = pl.col(col).cast(pl.Float64), pl.col(f"{col}_micro").cast(pl.Float64)
        if col == "i14":
            reported, micro = reported.round(WAN_DECIMALS), micro.round(WAN_DECIMALS)
        return reported.is_not_null() & micro.is_not_null() & (reported != micro)

    entries = [
        pl.when(differs(c)).then(pl.struct(
            pl.lit(_label(c)).alias("indicator"),
            pl.lit(INDICATOR_NAMES[c]).alias("name"),
            pl.col(c).cast(pl.Float64).alias("reported"),
            pl.col(f"{c}_micro").cast(pl.Float64).round(4).alias("recomputed"),
        ))
        for c in COMPARED
    ]
    return (
        joined.with_columns(pl.concat_list(entries).list.drop_nulls().alias("_diffs"))
        .filter(pl.col("_diffs").list.len() > 0)
        .select(
            "county_code",
            pl.col("month").alias("period_start"),
            pl.col("month").dt.month_end().alias("period_end"),
            pl.lit(0.0).alias("amount_at_risk"),
            pl.struct(
                pl.concat_str([pl.col("county_code"), pl.col("month").dt.strftime("%Y-%m")], separator=" ")
                .alias("report"),
                pl.col("_diffs").list.len().alias("differing"),
                pl.col("_diffs").alias("differences"),
            ).alias("evidence"),
        )
    )


CHECKS: tuple[Check, ...] = (
    new_units_exceed_units,
    new_positions_exceed_positions,
    arrived_exceed_planned,
    graduates_exceed_arrived,
    retained_plus_other_exceed_completed,
    retained_graduates_exceed_retained,
    differs_from_micro_data,
)
