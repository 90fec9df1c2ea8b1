"""The monthly 汇总表 as a form: its 14 indicators, their numbers and Chinese names (RULES.md §7).

The form is the 附件 of 人社部发〔2023〕27号 (also 赣人社发〔2023〕9号 附件3, 云人社发〔2023〕18号 附件2).
Indicators 7 and 10 carry the same Chinese name on the forms, so columns are identified by
number (``i1`` … ``i14``), not by name. Indicators 5 (planned) and 11 (employed otherwise) have no
micro-data source: only their logical relations are checked.

How each indicator is recomputed from the micro data is the rules' business
(``checks/_summary_table.py``); a run writes the result to ``indicators.parquet``
(:mod:`audit.rundir`), with the columns ``county_code, month, i1 … i14``.
"""

from __future__ import annotations

INDICATORS: tuple[tuple[str, str], ...] = (
    ("i1", "本期末实有见习单位总数"),
    ("i2", "本期新增见习单位数量"),
    ("i3", "本期末实有见习岗位总数"),
    ("i4", "本期新增见习岗位数量"),
    ("i5", "本期计划组织见习人数"),
    ("i6", "本期实际到岗人数"),
    ("i7", "其中：离校2年内未就业高校毕业生人数（到岗）"),
    ("i8", "本期完成见习人数"),
    ("i9", "被见习单位留用人数"),
    ("i10", "其中：离校2年内未就业高校毕业生人数（留用）"),
    ("i11", "其他方式就业人数"),
    ("i12", "本期非正常结束见习人数"),
    ("i13", "本期末实有在岗见习人数"),
    ("i14", "本年累计各级财政实际拨付的见习补贴资金数（万元）"),
)
INDICATOR_NAMES: dict[str, str] = dict(INDICATORS)
NO_SOURCE = ("i5", "i11")  # no micro-data source: logical relations only
