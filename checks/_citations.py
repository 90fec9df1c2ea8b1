"""Which clause a finding cites: the one in force for the unit's province on the finding's date.

RULES.md §8 ("Law in force, by province and date"; "The date of a finding"): a citation is the
clause in force for the unit's province on the finding's date — the claim month for a claim, the
internship's start for eligibility, the audit month's end for a unit's standing — and a county is
never sent another province's notice. A rule whose basis every notice states in its own words
lists one clause per notice (the sets below); :func:`cited` picks, per finding, the province's
own clause in force, else the national one (:meth:`audit.policy.Policy.cite`).

Where the finding rests on a parameter, its reference (``Policy.attach(..., with_reference=True)``)
is the citation and these sets are not needed.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable

import polars as pl

from audit.policy import Policy
from audit.rules import CheckResult
from audit.schema import province_of
from audit.tables import Tables

# 部门间信息比对, 防止骗取、挪用、虚报、冒领: every notice's duty behind the cross-registry checks
DATA_COMPARISON: tuple[str, ...] = (
    "赣人社发〔2023〕9号 五(三) (加强部门间信息比对和监督检查，防止补贴资金骗取、挪用、虚报、冒领)",
    "湘人社规〔2023〕9号 四(二) (加强部门间信息比对和监督检查，防止补贴资金骗取、挪用、虚报、冒领)",
    "豫人社函〔2023〕138号 三(四) (加强部门间信息比对和监督检查，防止补贴资金骗取、挪用、虚报、冒领)",
    "云人社发〔2023〕18号 三 (严防骗取、挪用、虚报、冒领等行为)",
    "人社部发〔2023〕27号 四(二) (加强部门间信息比对和监督检查，防止补贴资金骗取、挪用、虚报、冒领)",
    "人社部发〔2022〕11号 四(六) (强化部门间信息比对共享)",
)

# the target groups: graduates within two years of leaving school NOT employed, unemployed youth
TARGET_GROUPS: tuple[str, ...] = (
    "赣人社发〔2023〕9号 一 (离校两年内未就业高校毕业生、16-24岁失业青年)",
    "湘人社规〔2023〕9号 二(一) (离校2年内未就业高校毕业生…16-24岁的登记失业人员)",
    "豫人社函〔2023〕138号 一 (离校两年内未就业高校毕业生和16—24岁失业青年)",
    "云人社发〔2023〕18号 三 (离校2年内未就业高校毕业生和中职毕业生、16—24岁失业青年)",
    "人社部发〔2023〕27号 一 (离校两年内未就业高校毕业生和16—24岁失业青年)",
    "人社部发〔2022〕11号 三(一) (见习对象为离校2年内未就业高校毕业生和16—24岁失业青年)",
)

# the subsidy pays the unit for the trainee's months: what a claim may be for
SUBSIDY: tuple[str, ...] = (
    "赣人社发〔2023〕9号 三(一)、四(二) (按月申领见习期间的见习补贴)",
    "湘人社规〔2023〕9号 三(一) (见习期间…给予见习单位就业见习补贴)",
    "豫人社函〔2023〕138号 三(一) (用于支付见习人员见习期间基本生活费)",
    "云人社发〔2023〕18号 三 (用于见习单位支付见习人员见习期间基本生活费)",
    "人社部发〔2023〕27号 三(一) (用于支付见习人员见习期间基本生活费)",
    "人社部发〔2022〕11号 三(一) (见习期间，由见习单位为见习人员提供基本生活费)",
)

# the unit pays the trainee's allowance (先垫后补 in Jiangxi; by card in Hunan)
ALLOWANCE: tuple[str, ...] = (
    "赣人社发〔2023〕9号 四(二) (先垫后补，按月足额发放见习人员基本生活费后申请见习补贴)",
    "湘人社规〔2023〕9号 三(一) (通过银行卡或者社保卡为见习人员提供基本生活补助)",
    "豫人社函〔2023〕138号 三(一) (用于支付见习人员见习期间基本生活费)",
    "云人社发〔2023〕18号 三 (用于见习单位支付见习人员见习期间基本生活费)",
    "人社部发〔2023〕27号 三(一) (用于支付见习人员见习期间基本生活费)",
    "人社部发〔2022〕11号 三(一) (由见习单位为见习人员提供基本生活费)",
)

# retention: hired = a labour contract and social insurance; the raised rate at ≥ 50 %
RETENTION: tuple[str, ...] = (
    "赣人社发〔2023〕9号 二(六)、三(一)、四(二)1、五(三) (当年见习期满留用率；留用见习人员劳动合同和工资发放表)",
    "湘人社规〔2023〕9号 二(六)、三(一) (签订劳动合同，缴纳社会保险；见习期满留用率达到50%以上)",
    "豫人社函〔2023〕138号 二(六)、三(一) (签订劳动合同，缴纳社会保险；见习期满留用率达到50%及以上)",
    "云人社发〔2023〕18号 三 (见习期满留用率达到50%以上)",
    "人社部发〔2023〕27号 二(六)、三(一) (签订劳动合同，缴纳社会保险；见习期满留用率达到50%以上)",
    "人社部发〔2022〕11号 三(一) (见习期满留用率达到50%以上)",
    "甘人社通〔2022〕134号 二 (见习期满留用率达到50%以上的见习单位，按规定提高见习补贴标准)",
)

# the office's duty to manage units and internships (and, in Yunnan, to clear out units): the
# basis of the audit office's judgement where a province's notice has no clause of its own
MANAGEMENT: tuple[str, ...] = (
    "湘人社规〔2023〕9号 二(五) (强化见习规范管理)",
    "豫人社函〔2023〕138号 二(五) (强化见习规范管理)",
    "云人社发〔2023〕18号 三 (规范就业见习基地认定和清退)",
    "人社部发〔2023〕27号 二(五) (强化见习规范管理)",
    "人社部发〔2022〕11号 四(二) (合理设置见习单位和见习岗位条件，定期跟踪、动态管理)",
)

# claims and their procedure
CLAIMS: tuple[str, ...] = (
    "赣人社发〔2023〕9号 四(二) (见习补贴申领)",
    "湘人社规〔2023〕9号 四(二) (优化见习补贴申领流程)",
    "豫人社函〔2023〕138号 三(四) (优化流程)",
    "云人社发〔2023〕18号 三 (按月申报、审核就业见习补贴)",
    "人社部发〔2023〕27号 四(二) (优化见习补贴申领流程)",
    "人社部发〔2022〕11号 四(六) (畅通补贴申领渠道)",
)

# the monthly 汇总表 and its 填报说明
REPORT_FORM: tuple[str, ...] = (
    "赣人社发〔2023〕9号 附件3《就业见习岗位募集计划情况汇总表》",
    "云人社发〔2023〕18号 附件2《云南省就业见习万岗募集计划工作情况汇总表》",
    "人社部发〔2023〕27号 附件《百万就业见习岗位募集计划情况汇总表》",
    "人社部发〔2022〕11号 五(四) 按月填报《百万就业见习岗位募集计划情况汇总表》",
)

# the audit office's judgement, where the province's notice does not say it (RULES.md §8, "What
# the mission asks everywhere"); the finding's evidence says which (``basis``)
LAW, JUDGEMENT = "法规", "审计判断"


def judgement(detection: str, value: object) -> str:
    """The words a judgement citation starts with: the detection parameter and its value."""
    return f"{JUDGEMENT}（检测参数 {detection} = {value}，本省通知未规定）；依据 "


def cited(lf: pl.LazyFrame, policy: Policy, clauses: tuple[str, ...], *, on: str | dt.date = "period_start",
          prefix: str | pl.Expr = "", alias: str = "citation") -> pl.LazyFrame:
    """``lf`` with ``alias``: the clause of ``clauses`` in force for each row's province (from its
    ``county_code``) on ``on`` (a date column, or one date for every row), after ``prefix``."""
    if isinstance(on, dt.date):
        lf = lf.with_columns(pl.lit(on).alias("_cite_on"))
        on = "_cite_on"
    # a finding with no county (a person-level data-quality fact) cites the national clause
    county = pl.col("county_code") if "county_code" in lf.collect_schema().names() else pl.lit(None, pl.String)
    out = policy.cite(lf.with_columns(province_of(county).alias("_cite_province")), clauses,
                      on=on, province="_cite_province", alias=alias)
    if not (isinstance(prefix, str) and prefix == ""):
        head = pl.lit(prefix) if isinstance(prefix, str) else prefix
        out = out.with_columns(pl.concat_str([head, pl.col(alias)]).alias(alias))
    return out.drop("_cite_province", "_cite_on", strict=False)


MONTH_END = "month_end"  # ``citing(on=MONTH_END)``: a unit's standing, judged at the audit month's end


def citing(clauses: tuple[str, ...], *, on: str = "period_start", prefix: str = "") -> Callable:
    """Decorate a check so each finding it returns carries its citation (:func:`cited`): the clause
    of ``clauses`` in force for the finding's province on ``on`` — a column of the findings
    (``period_start`` by default; the audit month's end where the finding has none), or
    :data:`MONTH_END` for a unit's standing. Put it under ``@rule(..., citations=clauses)``."""

    def wrap(fn: Callable) -> Callable:
        @functools.wraps(fn)
        def check(t: Tables, policy: Policy) -> pl.LazyFrame | CheckResult:
            out = fn(t, policy)
            findings = out.findings if isinstance(out, CheckResult) else out
            have = findings.collect_schema().names()
            when = (pl.coalesce(pl.col(on), pl.lit(t.month_end)) if on != MONTH_END and on in have
                    else pl.lit(t.month_end))
            findings = cited(findings.with_columns(when.alias("_cite_day")), policy, clauses, on="_cite_day",
                             prefix=prefix).drop("_cite_day")
            return CheckResult(findings, out.skipped) if isinstance(out, CheckResult) else findings

        return check

    return wrap


def report_form(what: str) -> tuple[str, ...]:
    """The 汇总表 clauses of each notice, each followed by ``what`` (the 填报说明 relied on)."""
    return tuple(f"{c} {what}" for c in REPORT_FORM)
