"""Chinese labels of the evidence fields the typologies of real cases and their fixes add (issue #16).

One mapping, kept apart so that the evidence-label table of issue #14 can fold it in;
reports/evidence.py merges it into its LABELS.
"""

from __future__ import annotations

TYPOLOGY_LABELS: dict[str, str] = {
    "label": "性质", "card": "银行卡号", "trainees_sharing": "共用该卡的见习人数", "card_is_unit_account": "该卡为本单位基本账户",
    "ledger_given": "有生活费发放明细", "months_paid_to_card": "生活费发至该卡的月份",
    "contract": "劳动合同", "terminated_date": "解除日期", "contract_terminated": "合同解除日期",
    "insured_by_unit_in_month": "当月由本单位以职工参保", "remaining_period_window_open": "招用时剩余期限补贴政策有效",
    "remaining_period_window_end": "剩余期限补贴政策截止日期",
    "legal_rep_source": "法定代表人信息来源", "companies": "担任法定代表人的企业", "company_id": "企业统一社会信用代码",
    "reg_status_raw": "登记状态（原文）", "established_date": "成立日期", "owner_active_statuses": "视为经营中的登记状态",
    "unit_row": "见习单位名录记录", "in_market_registry": "市场主体登记中有记录", "registry_coverage": "登记摘录覆盖情况",
    "enterprise_units": "企业类见习单位数", "enterprise_units_registered": "其中登记摘录中有记录", "coverage": "覆盖率",
    "registry_min_enterprise_coverage": "覆盖率下限（检测参数）",
    "trainees": "见习人数", "declared_staff": "申报在职职工人数", "insured_staff": "本单位参保职工人数",
    "trainees_per_staff": "人均带教见习人数", "claimed_yuan": "申领金额（元）",
    "headcount_max_trainees_per_staff": "见习人数与职工人数比上限（检测参数）", "headcount_min_trainees": "见习人数下限（检测参数）",
    "unit_phone": "单位电话", "batch_trainees": "同批见习人数", "batch_agreements": "同批协议编号",
    "batch_min_trainees": "同批人数下限（检测参数）", "shared_trainees": "在两家以上关联单位见习的人数",
    "trainees_through_cluster": "经手见习人数",
}
