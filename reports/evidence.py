"""A finding's evidence (JSON) made readable: labelled items for the report, one line for a sheet.

Evidence is whatever facts a rule recorded; keys become Chinese labels where we know them and
stay as they are otherwise. Every value is masked by its key's role (:func:`audit.masking.key_role`:
a person ID, card or phone whatever its spelling), or through :func:`audit.masking.mask`, except
values under keys that name a unit, claim, agreement or county (public codes the county needs).
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from audit.masking import key_role, mask, mask_as
from reports.labels_typologies import TYPOLOGY_LABELS

LABELS: dict[str, str] = {
    "person_id": "身份证号", "person_ids": "身份证号", "name": "姓名", "names": "姓名",
    "unit_id": "统一社会信用代码", "unit_ids": "单位代码", "unit_name": "单位名称", "employer_id": "缴费/用人单位",
    "claim_id": "申领编号", "claim_ids": "申领编号", "agreement_id": "协议编号", "agreement_ids": "协议编号",
    "position_id": "岗位编号", "county_code": "县区代码", "province_code": "省份代码",
    "start_date": "开始日期", "end_date": "结束日期", "planned_end_date": "约定结束日期",
    "actual_end_date": "实际结束日期", "claim_month": "补贴所属月份", "months": "月份", "month": "月份",
    "amount": "金额（元）", "claimed": "申领金额（元）", "expected": "应发金额（元）", "paid": "已拨付（元）",
    "amount_at_risk": "涉及金额（元）", "insurance_amount": "综合保险补贴（元）",
    "min_wage": "最低工资标准（元）", "tier": "档次", "rate": "补贴比例", "working_days": "工作日数",
    "reason": "原因", "end_reason": "结束原因", "retained": "是否留用", "status": "状态",
    "relation": "逻辑关系", "report": "汇总表（县区 月份）", "differences": "不一致的指标", "differing": "不一致指标数",
    "indicator": "指标", "reported": "上报数", "recomputed": "明细重算数",
    "death_date": "死亡日期", "graduation_date": "毕业日期", "birth_date": "出生日期", "age": "年龄",
    "reg_status": "登记状态", "status_date": "状态日期", "approved_date": "认定日期", "exit_date": "退出日期",
    "bank_card": "银行卡号", "phone": "手机号码", "account": "账号", "insured": "参保记录",
    "employer": "用人单位", "employment": "劳动合同", "contract_start": "合同开始日期", "contract_end": "合同结束日期",
    "payer_type": "缴费类型", "insurance_type": "险种", "legal_rep_id": "法定代表人身份证号",
    "_file": "来源文件", "_line": "行号", "file": "来源文件", "line": "行号",
    "claims": "相关申领", "agreements": "相关协议", "claim_type": "补贴类型", "rate_basis": "补贴标准档次",
    "registry_row": "市场主体登记记录", "internship_start": "见习开始", "internship_end": "见习结束",
    "education": "学历", "unemployment_reg_date": "失业登记日期", "start": "开始", "end": "结束",
    "year": "年度", "completed": "完成见习人数", "really_retained": "核实留用人数", "real_rate": "核实留用率",
    "declared_retained": "申报留用", "contract_ok": "劳动合同符合", "insurance_ok": "社保符合",
    "paid_date": "拨付日期", "submitted_date": "申领日期", "approved": "审核日期", "definition": "认定口径",
    "reference": "依据", "value": "取值", "params": "参数", "parameters": "参数",
    "retention_rate": "留用率", "declared_rate": "申报留用率", "threshold": "标准",
}
# the evidence fields of the typologies of real cases (issue #16)
LABELS.update(TYPOLOGY_LABELS)

MAX_ROWS = 20  # rows of an evidence table shown in the report; the rest are counted

def label(key: str) -> str:
    return LABELS.get(key, key)


@functools.lru_cache(maxsize=65536)
def _masked(text: str) -> str:
    """:func:`audit.masking.mask`, remembered: dates, amounts and names recur across findings."""
    return mask(text)


def _scalar(key: str, value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, float):
        text = f"{value:,.2f}" if abs(value) >= 1000 or value != int(value) else f"{value:.0f}"
        return text
    text = str(value)
    role = key_role(key) if key else None
    if role is None:
        return _masked(text)
    return mask_as(role, text)  # an ID, card or phone by its key whatever its spelling; public codes as they are


@dataclass
class EvidenceItem:
    """One labelled fact: plain text, or a small table (columns, rows)."""

    label: str
    text: str = ""
    columns: list[str] = field(default_factory=list)
    rows: list[list[str]] = field(default_factory=list)

    @property
    def is_table(self) -> bool:
        return bool(self.columns)


def parse(evidence: str | None) -> Any:
    if not evidence:
        return {}
    try:
        return json.loads(evidence)
    except (TypeError, ValueError):
        return {"evidence": evidence}


def _inline(key: str, value: Any) -> str:
    if isinstance(value, dict):
        return "；".join(f"{label(k)}: {_inline(k, v)}" for k, v in value.items())
    if isinstance(value, list):
        return "、".join(_inline(key, v) for v in value)
    return _scalar(key, value)


def items(evidence: str | None) -> list[EvidenceItem]:
    """The evidence as labelled items; a list of records becomes a small table."""
    data = parse(evidence)
    if not isinstance(data, dict):
        data = {"evidence": data}
    out: list[EvidenceItem] = []
    for key, value in data.items():
        if isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
            columns = list(dict.fromkeys(k for row in value for k in row))
            rows = [[_inline(c, row.get(c)) for c in columns] for row in value[:MAX_ROWS]]
            if len(value) > MAX_ROWS:
                rows.append([f"…另有 {len(value) - MAX_ROWS} 行"] + [""] * (len(columns) - 1))
            out.append(EvidenceItem(label(key), columns=[label(c) for c in columns], rows=rows))
        else:
            out.append(EvidenceItem(label(key), text=_inline(key, value)))
    return out


def _inline_parts(key: str, value: Any) -> Iterator[str]:
    """:func:`_inline`'s text piece by piece, so that a caller can stop once it has enough."""
    if isinstance(value, dict):
        for i, (k, v) in enumerate(value.items()):
            if i:
                yield "；"
            yield f"{label(k)}: "
            yield from _inline_parts(k, v)
    elif isinstance(value, list):
        for i, v in enumerate(value):
            if i:
                yield "、"
            yield from _inline_parts(key, v)
    else:
        yield _scalar(key, value)


def one_line(evidence: str | None, limit: int = 400) -> str:
    """The evidence in one line for a spreadsheet cell: ``标签: 值；…`` (masked, shortened).

    Only the first ``limit`` characters are made (an exit list quotes 160 of evidence that
    reads to ~500): the rest would be cut anyway."""
    data = parse(evidence)
    if isinstance(data, (dict, list)):
        pieces, size = [], 0
        for piece in _inline_parts("", data):
            pieces.append(piece)
            size += len(piece)
            if size > limit:
                break
        text = "".join(pieces)
    else:
        text = _scalar("", data)
    return text if len(text) <= limit else text[: limit - 1] + "…"
