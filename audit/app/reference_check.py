"""``audit reference check``: every gap a month's run would hit, listed in Chinese, and a workbook
of the operator's reference tables to fill them.

The input directory is read by the loader (the claims, the units and the operator's reference
tables only), the claims restricted as a run restricts them (submitted by the month end), and
:func:`audit.reference.gaps.reference_gaps` and :func:`audit.coverage.policy_status` say what is
missing: counties without a minimum-wage tier, tiers without a usable standard, days without the
working-day calendar, provinces whose notice has expired or whose parameters are unset. The
workbook ``reference_gaps.xlsx`` has a sheet per operator table — ``county_tiers``, ``min_wage``,
``calendar``, with exactly the columns and Chinese headers of audit/schema.py — one row per gap
with its key and the first date needed filled in, and the value and its source (来源) to fill. A
filled sheet goes into the input directory under its table's name (the workbook itself may be
copied as ``county_tiers.xlsx``: the loader reads the sheet named after the table) and is read
and validated like any input. Policy gaps are filled with ``--policy-dir`` (docs/policy.md).
"""

from __future__ import annotations

import datetime as dt
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl

import checks as registered  # which parameters the rules read: the policy gaps that matter
from audit.coverage import policy_status
from audit.loader import load_inputs
from audit.policy import Policy
from audit.reference import date_runs, load_reference
from audit.reference.gaps import ReferenceGaps, reference_gaps
from audit.rundir import parse_month
from audit.schema import SPECS
from audit.tables import Tables, month_end
from reports.xlsx import Column, workbook, write_table

WORKBOOK = "reference_gaps.xlsx"
READ = ("units", "claims", "min_wage", "county_tiers", "calendar")
REFERENCE_TABLES = ("county_tiers", "min_wage", "calendar")


@dataclass
class ReferenceCheck:
    month: dt.date
    gaps: ReferenceGaps
    policy: list[dict[str, Any]]
    #: the quarantined rows of the operator's reference tables (file, line, column, reason)
    quarantine: pl.DataFrame
    notes: list[str] = field(default_factory=list)

    @property
    def policy_gaps(self) -> list[dict[str, Any]]:
        return [p for p in self.policy if p["unset"] or any(n["state"] == "expired" for n in p["notices"])]

    @property
    def empty(self) -> bool:
        return self.gaps.empty and not self.policy_gaps and not self.quarantine.height


def check_reference(input_dir: Path, month: str, policy_dir: Path | None = None) -> ReferenceCheck:
    """The gaps of ``month``'s run over ``input_dir`` (see the module docstring)."""
    audit_month = parse_month(month)
    policy = Policy.load(policy_dir)
    with tempfile.TemporaryDirectory(prefix="audit-reference-") as stage:
        loaded = load_inputs(Path(input_dir), Path(stage), only=READ)
        reference = load_reference(Path(input_dir), loaded)
        claims = loaded.scan("claims").filter(pl.col("submitted_date") <= month_end(audit_month))
        empty = pl.LazyFrame()
        tables = Tables(
            units=loaded.scan("units"), claims=claims, trainees=empty, agreements=empty, social_insurance=empty,
            audit_month=audit_month, si_as_of=audit_month, **reference.frames(),
        )
        gaps = reference_gaps(tables, policy)
    provinces = sorted(p for p in gaps.needs.filter(pl.col("month") <= audit_month)["province_code"].unique().to_list() if p)
    params = {name for c in registered.CHECKS for name in c.rule.params}
    status = policy_status(policy, provinces, month_end(audit_month), params)
    quarantine = loaded.quarantine.filter(pl.col("table").is_in(REFERENCE_TABLES)) if loaded.quarantine.height else loaded.quarantine
    return ReferenceCheck(audit_month, gaps, status, quarantine, notes=[n for n in loaded.notes if "ignored" not in n])


# ---------------------------------------------------------------- the listing ----------------


def _month(value: dt.date | None) -> str:
    return value.strftime("%Y-%m") if value else "—"


def format_check(result: ReferenceCheck, *, limit: int = 40) -> str:
    """The gaps in Chinese, one line each (the first ``limit`` counties, then a count)."""
    g = result.gaps
    month = result.month.strftime("%Y-%m")
    lines = [f"参照数据与政策缺口检查（{month} 审计，判断 {month} 月末前提交的申领）", ""]
    counties = g.county_tiers
    if counties.height:
        lines.append(f"一、县区无最低工资档次：{counties['county_code'].n_unique()} 个县区，"
                     f"{int(counties['claims'].sum()):,} 笔月度申领无法核算补贴标准")
        for r in counties.head(limit).to_dicts():
            until = f"，{r['effective_to']} 起由已有档次表接续" if r["effective_to"] else ""
            lines.append(f"  {r['province_name'] or r['province_code']}{r['county_label'] or ''}（{r['county_code']}）："
                         f"{_month(r['first_needed'])} 至 {_month(r['last_needed'])}，{r['claims']:,} 笔{until}")
        if counties.height > limit:
            lines.append(f"  …另有 {counties.height - limit} 行，见 {WORKBOOK}")
    else:
        lines.append("一、县区最低工资档次：无缺口。")
    wages = g.min_wage
    if wages.height:
        lines.append(f"二、无可用最低工资标准：{wages.height} 个档次，{int(wages['claims'].sum()):,} 笔月度申领")
        for r in wages.to_dicts():
            lines.append(f"  {r['province_name'] or r['province_code']} {r['tier']}类地区：{_month(r['first_needed'])} 至 "
                         f"{_month(r['last_needed'])}，{r['claims']:,} 笔（{r['shipped']}）")
    else:
        lines.append("二、最低工资标准：无缺口。")
    days = g.calendar
    if days.height:
        lines.append(f"三、法定工作日历缺少 {days.height} 天（{'、'.join(sorted({_month(d) for d in days['month'].to_list()}))}），"
                     "提前离岗当月的 15 个工作日规则无法判断：请按国务院办公厅当年节假日安排通知填写")
        for first, last in date_runs(days["date"]):
            lines.append(f"  {first} 至 {last}")
    else:
        lines.append("三、法定工作日历：无缺口。")
    gaps = result.policy_gaps
    if gaps:
        lines.append("四、政策文件与参数（用 --policy-dir 提供更新的参数文件，见 docs/policy.md）：")
        for prov in gaps:
            for n in prov["notices"]:
                if n["state"] == "expired":
                    lines.append(f"  {prov['province_name']}：{n['document']} 已于 {n['expires']} 失效，未见后续文件")
            for u in prov["unset"]:
                what = "窗口期已结束" if u["kind"] == "window_closed" else f"未设定 — {u['kind_zh']}"
                lines.append(f"  {prov['province_name']}：{u['param']}（{u['description'].split(' — ')[0]}）{what}"
                             f"{'：' + u['why'] if u['why'] else ''}")
    else:
        lines.append("四、政策文件与参数：无缺口。")
    if result.quarantine.height:
        lines.append(f"五、操作员参照表中无法使用的行（已隔离，{result.quarantine.height} 行）：")
        for r in result.quarantine.head(limit).to_dicts():
            lines.append(f"  {r['file']} 第 {r['line']} 行 {r['column']}：{r['reason']}（值 {r['value']!r}）")
    lines.extend(result.notes)
    return "\n".join(lines)


# ---------------------------------------------------------------- the workbook ---------------

_NOTICE = {
    "county_tiers": "待补充：{month} 审计所需的县区最低工资档次（{n} 行）。请按省政府最低工资文件的附件（行政区域类别）填写“档次”，"
                    "在“来源”中写明文件名称、文号或网址；“执行日期”为首个需要的月份，可改为文件的执行日期；“截止日期”处已有档次表接续，"
                    "勿删。无法确认的行请整行删除（留空的行会被隔离）。本工作簿可原样复制为输入目录中的 county_tiers.xlsx。",
    "min_wage": "待补充：{month} 审计所需的最低工资标准（{n} 行）。请按最低工资文件填写“月最低工资标准”（元），在“来源”中写明文件，"
                "“执行日期”改为文件的执行日期。本工作簿可原样复制为输入目录中的 min_wage.xlsx。",
    "calendar": "待补充：{month} 审计所需的法定工作日历（{n} 天）。请按国务院办公厅当年部分节假日安排的通知填写“是否工作日”（是/否，"
                "调休上班的周末为“是”），在“来源”中写明通知文号。本工作簿可原样复制为输入目录中的 calendar.xlsx。",
}


def _columns(table: str) -> list[Column]:
    kinds = {"date": "date", "month": "date", "money": "money", "int": "int"}
    return [Column(c.name, c.zh, kinds.get(c.kind.value, "text")) for c in SPECS[table].columns]


def write_workbook(result: ReferenceCheck, path: Path) -> Path:
    """``reference_gaps.xlsx``: 说明 (the listing), then a sheet per operator table to fill."""
    g = result.gaps
    month = result.month.strftime("%Y-%m")
    rows = {
        "county_tiers": g.county_tiers.select(
            "county_code", pl.lit(None, pl.Int64).alias("tier"), pl.col("first_needed").alias("effective_from"),
            "effective_to", pl.lit(None, pl.String).alias("source")),
        "min_wage": g.min_wage.select(
            "province_code", "tier", pl.col("first_needed").alias("effective_from"),
            pl.lit(None, pl.Float64).alias("monthly_yuan"), pl.lit(None, pl.String).alias("source")),
        "calendar": g.calendar.select("date", pl.lit(None, pl.String).alias("is_workday"),
                                      pl.lit(None, pl.String).alias("source")),
    }
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    book, fmt = workbook(str(path))
    readme = book.add_worksheet("说明")
    readme.set_column(0, 0, 140)
    readme.write_string(0, 0, "本工作簿由 audit reference check 生成：下列缺口使相应判断跳过。county_tiers、min_wage、calendar 三个工作表即"
                        "操作员参照表，填好后放入输入目录（文件名为表名，如 county_tiers.xlsx；本工作簿可原样复制），重新运行即按其核算；"
                        "填写的行与任何输入一样逐行校验，无法读取的行进入 quarantine.csv。", fmt.notice)
    for i, line in enumerate(format_check(result, limit=10_000).splitlines(), start=2):
        readme.write_string(i, 0, line, fmt.text)
    for table in REFERENCE_TABLES:
        frame = rows[table]
        write_table(book, fmt, table, _NOTICE[table].format(month=month, n=frame.height), _columns(table), frame)
    book.close()
    return path
