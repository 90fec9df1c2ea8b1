"""summary_table.xlsx: the 汇总表 recomputed from the micro data, laid out like the form.

One sheet per month (the audit month first, then every earlier month a county reported for):
the form's title, the month, 单位：个、人、万元, the 14 indicator columns with their Chinese names
and numbers, one row per county and a total row. Indicators 5 and 11 have no micro-data source
and show "—". A 核对 sheet puts each county report beside the recomputed values, indicator by
indicator. The values are those the run recomputed (``indicators.parquet``, written by the
pipeline from the rules' definitions, which are repeated under the table); the form itself is
:mod:`audit.summary_form`.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import polars as pl

from audit.masking import mask
from audit.outpaths import inside
from audit.summary_form import INDICATORS, NO_SOURCE
from reports.data import RunFiles
from reports.xlsx import Column, sheet_name, workbook, write_table

FORM_TITLE = "百万就业见习岗位募集计划情况汇总表（审计重算）"
NOTES = [
    "说明：本表由审计系统根据见习单位、岗位、协议、申领明细重算，口径按人社部发〔2023〕27号附件填报说明；指标5、11无明细数据来源，以“—”表示。",
    "指标7、10：学历为研究生/本科/专科、毕业离校日期在见习开始前且不超过规定年限；指标8含期满及提前留用；指标9按见习协议的留用记录；"
    "指标12为提前结束且未被留用；指标13为月末仍在岗；指标14为本年1月1日至月末已拨付的补贴（含综合保险补贴），单位万元。",
]


def recompute(rf: RunFiles) -> tuple[pl.DataFrame, pl.DataFrame | None] | None:
    """(the indicators the run recomputed, county reports ≤ audit month or None), or None for a
    run that recorded no indicators."""
    table = rf.rundir.indicators()
    if table is None:
        return None
    reports = rf.rundir.scan("county_reports")
    if reports is not None:
        reports = reports.with_columns(pl.col("month").dt.truncate("1mo")).filter(
            pl.col("month") <= rf.audit_month).collect()
    return table, reports


def _form_sheet(book: Any, fmt: Any, name: str, rf: RunFiles, month: dt.date, table: pl.DataFrame) -> None:
    ws = book.add_worksheet(name)
    n = len(INDICATORS)
    ws.merge_range(0, 0, 0, n + 1, FORM_TITLE, fmt.title)
    ws.merge_range(1, 0, 1, n + 1, f"（{month.year}年{month.month}月）    单位：个、人、万元", fmt.text)
    ws.write_string(2, 0, "县区", fmt.header)
    ws.write_string(2, 1, "区划代码", fmt.header)
    for j, (_, title) in enumerate(INDICATORS, start=2):
        ws.write_string(2, j, title, fmt.header)
    ws.write_string(3, 0, "项目", fmt.header)
    ws.write_string(3, 1, "", fmt.header)
    for j in range(n):
        ws.write_number(3, j + 2, j + 1, fmt.header)
    ws.set_row(2, 78)
    rows = table.filter(pl.col("month") == month).sort("county_code").to_dicts()
    for i, r in enumerate(rows, start=4):
        # the masking net: a county code that is not one (an ID in the wrong column) is not shown in full
        ws.write_string(i, 0, mask(rf.county_name(r["county_code"])), fmt.text)
        ws.write_string(i, 1, mask(r["county_code"]), fmt.text)
        for j, (key, _) in enumerate(INDICATORS, start=2):
            _cell(ws, fmt, i, j, key, r[key])
    total = 4 + len(rows)
    ws.write_string(total, 0, "合计", fmt.total_label)
    ws.write_string(total, 1, "", fmt.total_label)
    for j, (key, _) in enumerate(INDICATORS, start=2):
        values = [r[key] for r in rows if r[key] is not None]
        if key in NO_SOURCE:
            ws.write_string(total, j, "—", fmt.total_label)
        else:
            ws.write_number(total, j, round(sum(values), 2), fmt.total)
    for k, note in enumerate(NOTES, start=total + 2):
        ws.merge_range(k, 0, k, n + 1, note, fmt.wrap)
        ws.set_row(k, 32)
    ws.set_column(0, 0, 18)
    ws.set_column(1, 1, 10)
    ws.set_column(2, n + 1, 11, fmt.wrap)
    ws.freeze_panes(4, 2)


def _cell(ws: Any, fmt: Any, i: int, j: int, key: str, value: Any) -> None:
    if key in NO_SOURCE or value is None:
        ws.write_string(i, j, "—", fmt.text)
    elif key == "i14":
        ws.write_number(i, j, round(float(value), 2), fmt.money)  # the form's 万元 to two decimals
    else:
        ws.write_number(i, j, int(value), fmt.int)


def _comparison(rf: RunFiles, table: pl.DataFrame, reports: pl.DataFrame) -> list[dict[str, Any]]:
    joined = reports.join(table, on=["county_code", "month"], how="left", suffix="_micro").sort("county_code", "month")
    rows = []
    for r in joined.to_dicts():
        for key, title in INDICATORS:
            reported, micro = r.get(key), r.get(f"{key}_micro")
            if key == "i14" and micro is not None:
                micro = round(float(micro), 2)  # compared as the check compares: 万元 to two decimals
            diff = None
            if key not in NO_SOURCE and reported is not None and micro is not None:
                diff = round(float(reported) - float(micro), 4)
            rows.append({"county": rf.county_name(r["county_code"]), "county_code": r["county_code"],
                         "month": r["month"], "indicator": f"指标{key[1:]}", "name": title,
                         "reported": reported, "micro": "无明细数据来源" if key in NO_SOURCE else micro,
                         "diff": diff, "same": "" if diff is None else ("一致" if round(abs(diff), 2) == 0 else "不一致")})
    return rows


COMPARE_COLUMNS = [
    Column("county", "县区"), Column("county_code", "区划代码"), Column("month", "月份", "date"),
    Column("indicator", "指标"), Column("name", "指标名称"), Column("reported", "县区上报", "money"),
    Column("micro", "明细重算", "money"), Column("diff", "差额（上报−重算）", "money"), Column("same", "核对结果"),
]


def write_summary_table(rf: RunFiles) -> Path | None:
    """Write summary_table.xlsx; None (nothing written) when the run recorded no indicators."""
    result = recompute(rf)
    if result is None:
        return None
    table, reports = result
    path = inside(rf.run_dir, "summary_table.xlsx")
    book, fmt = workbook(str(path))
    used: set[str] = set()
    months = sorted(set(table["month"].to_list()), reverse=True)
    for month in months:
        _form_sheet(book, fmt, sheet_name(month.strftime("%Y-%m"), used), rf, month, table)
    if reports is not None and reports.height:
        write_table(book, fmt, sheet_name("核对", used),
                    "县区上报汇总表与明细数据重算结果核对（不一致的县区月份另见审计报告 REPORT_INCONSISTENT 类问题）",
                    COMPARE_COLUMNS, _comparison(rf, table, reports))
    book.close()
    return path
