"""Chinese labels for every field a rule's evidence records, and for the coded values in it.

One table, read by the report, the exit lists and the graph viewer (:mod:`reports.evidence`): a
clerk reads 见习协议编号, never ``agreement_id``. ``tests/test_labels.py`` enumerates the evidence
fields of every registered rule from its evidence struct and fails on one missing here. A key
that is already Chinese (指标1名称) is its own label.
"""

from __future__ import annotations

import re

from reports.labels_typologies import TYPOLOGY_LABELS

# ---- people, units, claims, agreements ------------------------------------------------------
_KEYS = {
    "person_id": "身份证号", "person_ids": "身份证号", "name": "姓名", "names": "姓名", "person_key": "人员识别号",
    "raw_id": "原始证件号", "raw_ids": "原始证件号", "raw_person_id": "原始证件号", "normalised_id": "规范后的证件号",
    "claim_raw_person_id": "申领记录中的证件号", "agreement_raw_person_id": "协议记录中的证件号",
    "unit_id": "统一社会信用代码", "unit_ids": "单位代码", "unit_name": "单位名称", "employer_id": "缴费/用人单位",
    "claim_id": "申领编号", "claim_ids": "申领编号", "agreement_id": "协议编号", "agreement_ids": "协议编号",
    "position_id": "岗位编号", "county_code": "县区代码", "province_code": "省份代码",
    "unit_county_code": "单位所在县区代码", "handling_county_code": "经办机构县区代码",
    "claim_unit_id": "申领记录中的单位", "agreement_unit_id": "协议记录中的单位",
    "banned_unit_id": "被禁止申请的原单位", "banned_county_code": "原单位所在县区代码", "banned_units": "被禁止申请的原单位",
    "legal_rep_id": "法定代表人身份证号", "legal_rep_id_masked": "法定代表人身份证号（脱敏）", "legal_rep_name": "法定代表人",
    "bank_card": "银行卡号", "card": "银行卡号", "phone": "手机号码", "account": "账号", "account_masked": "收款账号（脱敏）",
    "account_is_trainee_card": "收款账号是否为本人银行卡", "card_is_account_of_units": "该卡是否为单位账户",
    "trainees": "见习人员", "trainees_sharing": "共用的见习人员数", "units": "单位", "units_count": "单位数",
    "flagged_trainees": "已有问题的见习人员数", "flagged_share": "已有问题的人员占比", "community": "关系群组",
    "cluster": "关联单位群", "trainees_through_cluster": "经关联单位群的见习人员数", "shared_kinds": "共用的信息类型",
    "exclusive_kinds": "不可同时享受的补贴类型", "claimed_yuan": "申领金额（元）", "label": "说明",
    # dates and periods
    "start_date": "开始日期", "end_date": "结束日期", "planned_end_date": "约定结束日期", "planned_end": "约定结束日期",
    "actual_end_date": "实际结束日期", "actual_end": "实际结束日期", "claim_month": "补贴所属月份", "months": "月份",
    "month": "月份", "start": "开始", "end": "结束", "year": "年度", "window_start": "核查期开始", "window_end": "核查期结束",
    "internship_start": "见习开始", "internship_end": "见习结束", "agreement_start": "协议开始日期",
    "counted_from": "计算起日", "counted_to": "计算止日", "overlap_start": "重叠开始", "overlap_end": "重叠结束",
    "overlap_from": "重叠开始", "overlap_to": "重叠结束", "overlap_months": "重叠月数",
    "death_date": "死亡日期", "graduation_date": "毕业日期", "birth_date": "出生日期", "age": "年龄", "age_at_start": "见习开始时年龄",
    "status_date": "状态日期", "approved_date": "认定日期", "exit_date": "退出日期", "readmitted_date": "再次认定日期",
    "unit_approved_date": "单位认定日期", "agreement_approved_date": "协议审批日期", "ban_until": "禁止申请截止日期",
    "paid_date": "拨付日期", "submitted_date": "申领日期", "approved": "审核日期", "terminated_date": "合同终止日期",
    "unemployment_reg_date": "失业登记日期", "effective_from": "执行日期", "tier_effective_from": "档次执行日期",
    "contract_start": "合同开始日期", "contract_end": "合同结束日期", "insured_from": "参保起始月",
    "insurance_stop_month": "停保月份", "last_agreement_start": "最近一份协议开始", "last_agreement_end": "最近一份协议结束",
    "last_claim_month": "最近一次申领所属月份", "last_claim_submitted": "最近一次申领日期",
    "last_position_posted": "最近一次发布岗位", "last_position_closed": "最近一次岗位结束", "si_as_of": "社保数据截至",
    "graduate_eligible_until": "毕业生身份有效至", "before_agreement_approval": "是否早于协议审批",
    "before_unit_approval": "是否早于单位认定",
    # money and rates
    "amount": "金额（元）", "claimed": "申领金额（元）", "expected": "应发金额（元）", "paid": "已拨付（元）",
    "amount_at_risk": "涉及金额（元）", "insurance_amount": "综合保险补贴（元）", "min_wage": "最低工资标准（元）",
    "minimum_wage": "最低工资标准（元）", "monthly_yuan": "月最低工资标准（元）", "monthly_standard": "月补贴标准（元）",
    "allowance": "生活补助（元）", "allowance_source": "生活补助数据来源", "difference": "差额（元）", "per_month": "每月（元）",
    "raised_rate_amount": "提高后的补贴标准（元）", "standard_flat": "补贴标准（元/月）", "standard_share": "补贴标准（最低工资的比例）",
    "raised_share": "提高后的补贴比例", "raised_extra_flat": "提高部分（元/月）", "tier": "档次", "rate": "补贴比例",
    "rate_basis": "补贴标准档次", "kind": "计算方式", "matches": "与哪种标准相符", "separately_reimbursed": "综合保险是否另行补贴",
    "secondary_source": "参照数据仅有二手来源", "source": "数据来源", "tier_source": "档次来源", "tier_status": "档次核实状态",
    "months_paid": "已付月数", "internship_paid_for": "已付补贴的见习", "earlier_difference_of_internship": "同一见习已领的差额",
    "months_equivalent": "折合月数", "months_in_submission": "一次申领的月数", "claims_in_submission": "一次申领的笔数",
    # working days and months
    "working_days": "工作日数", "declared_working_days": "申报的工作日数", "working_days_computed": "核算的工作日数",
    "min_working_days": "最少工作日数", "calendar": "工作日历", "month_number": "第几个月", "months_claimed": "已申领月数",
    "max_months": "最长月数", "months_insured_before": "此前参保的月份", "months_insured_elsewhere": "在其他单位参保的月份",
    "months_without_payment": "未发放生活补助的月份", "payments_not_to_trainee": "未发给本人的生活补助",
    # reasons, statuses, rule facts
    "reason": "原因", "end_reason": "结束原因", "exit_reason": "退出原因", "retained": "是否留用", "status": "状态",
    "statuses": "状态", "reg_status": "登记状态", "reg_status_raw": "登记状态（原文）", "relation": "逻辑关系",
    "report": "汇总表（县区 月份）", "differences": "不一致的指标", "differing": "不一致指标数", "difference_count": "差额申领笔数",
    "indicator": "指标", "reported": "上报数", "recomputed": "明细重算数", "insured": "参保记录", "employer": "用人单位",
    "employment": "劳动合同", "contracts": "劳动合同", "payer_type": "缴费类型", "insurance_type": "险种",
    "insurance_rows": "参保记录", "other_employers": "其他参保/用工单位", "claims": "相关申领", "agreements": "相关协议",
    "claim_type": "补贴类型", "registry_row": "市场主体登记记录", "education": "学历", "completed": "完成见习人数",
    "really_retained": "核实留用人数", "real_rate": "核实留用率",
    "unverifiable": "证件号无法核对人数", "real_rate_at_most": "核实留用率上限（证件号无法核对者计为留用）", "declared_retained": "申报留用", "contract_ok": "劳动合同符合",
    "insurance_ok": "社保符合", "definition": "认定口径", "reference": "依据", "value": "取值", "params": "参数",
    "parameters": "参数", "parameter": "参数", "retention_rate": "留用率", "declared_rate": "申报留用率", "threshold": "标准",
    "basis": "依据", "clause": "条款", "mode_reference": "见习模式依据", "one_plus_one": "是否“1+1”模式",
    "finding": "发现", "failed": "不符合的条件", "conditions": "条件", "requires_social_insurance": "是否要求缴纳社保",
    "min_contract_months": "劳动合同最短月数", "min_insured_months_after": "见习后最少参保月数",
    "min_internship_months": "最短见习月数", "contract_window_days": "签订合同的期限（天）", "insured_run_months": "连续参保月数",
    "insurance_judged": "是否核查社保", "year_basis": "留用率年度口径", "year_basis_source": "年度口径来源",
    "denominator": "留用率分母口径", "completed_end_reasons": "计为完成见习的结束原因", "retention_year": "留用年度",
    "benchmark_qualifies": "示范基地是否适用", "is_benchmark": "是否示范基地", "declared_completed_count": "申报完成见习人数",
    "declared_retained_count": "申报留用人数", "declared_rate_declarations": "申报留用率（按留用申报表）",
    "declared_rate_flags": "申报留用率（按协议留用标记）", "declared_not_real": "申报留用但未核实的人员", "corrected_completed": "更正后完成见习人数",
    "corrected_retained": "更正后留用人数", "corrected_rate": "更正后留用率", "relabelled_people": "被改记为提前离开的人员",
    "difference_claim_id": "差额申领编号", "stop_months_after_difference": "领取差额后停保月数", "stopped": "停保人员",
    "real_rate_without_stopped": "不计停保人员的核实留用率", "without_contract": "无劳动合同的留用人员",
    "without_insurance": "无社保的留用人员", "internship_no": "第几次见习", "internships_total": "见习次数",
    "this_internship": "本次见习", "first_internship": "首次见习", "all_internships": "全部见习", "later_internship": "后一次见习",
    "overlapped_internship": "重叠的见习", "max_internships": "最多见习次数", "extension_max_months": "延长见习的最长月数",
    "identity_links": "身份关联", "link": "关联方式", "links": "关联方式", "link_via": "关联依据", "linked_to": "关联到",
    "corroborated_by": "佐证信息", "ids": "证件号", "via_id_variant": "是否经证件号变体关联", "duplicate_claim": "重复的申领",
    "first_claim": "首笔申领", "death_record": "死亡记录", "recorded_to": "登记精度（仅记至）", "graduate_test": "高校毕业生条件", "youth_test": "失业青年条件",
    "other_death_records": "死亡登记的全部记录（日期不一致）", "reported_versions": "各版本填报值",
    "report_versions": "汇总表版本数（行数）",
    "abnormal_listed": "列入经营异常名录", "serious_violation_listed": "列入严重违法失信名单", "exit_row": "退出记录",
    "admission_row": "再次认定记录", "new_unit_row": "新单位登记记录", "authority": "权威来源", "field": "字段",
    "internship_system_value": "见习系统中的值", "market_registry_value": "市场主体登记中的值", "differs": "不一致之处",
    "missing": "缺少的记录", "faults": "错误", "bad_check": "校验位错误", "table": "数据表", "tables": "数据表",
    "row_count": "行数", "rows": "记录", "rows_repeated": "重复的行", "extra_rows_collapsed": "合并的重复行数", "key": "主键",
    "quarantined_rows": "隔离的行数", "not_verifiable_rows_quarantined": "因隔离而无法核对的行数",
    # source file and line of a record
    "_file": "来源文件", "_line": "行号", "file": "来源文件", "line": "行号", "trainee_file": "人员来源文件",
    "trainee_line": "人员记录行号", "agreement_file": "协议来源文件", "agreement_line": "协议记录行号",
    "registry_file": "登记来源文件", "registry_line": "登记记录行号", "unit_file": "单位来源文件", "unit_line": "单位记录行号",
    "person_id_raw": "证件号（原文）", "person_id_status": "证件号校验", "unit_id_status": "单位代码校验",
    "_dup_rows": "重复行数", "evidence": "证据",
    # the parameters a finding applied (their values; the report lists every parameter with its source)
    "param_eligibility_education": "参数：学历条件", "param_eligibility_graduate_years_since_leaving": "参数：离校年限",
    "param_eligibility_youth_max_age": "参数：失业青年年龄上限", "param_eligibility_youth_min_age": "参数：失业青年年龄下限",
    "param_ghost_min_overlap_months": "参数：最少重叠月数", "param_ghost_own_employee_lookback_months": "参数：追溯本单位职工的月数",
    "param_lump_sum_min_months": "参数：集中发放的最少月数", "param_unit_dormancy_months": "参数：未开展见习的月数",
    "param_unit_exit_ban_conditions": "参数：禁止再次申请的退出情形", "param_unit_exit_ban_years": "参数：禁止再次申请的年限",
    "graph_community_min_flagged": "参数：群组最少问题人员数", "graph_community_min_share": "参数：群组问题人员最低占比",
    "graph_shared_card_min_units": "参数：共用银行卡的最少单位数", "graph_shared_phone_min_trainees": "参数：共用手机号的最少人数",
    "graph_shell_min_trainees": "参数：关联单位群最少人数", "graph_shell_min_units": "参数：关联单位群最少单位数",
}

#: field → Chinese label; the typologies of real cases (issue #16) label their own fields
LABELS: dict[str, str] = {**_KEYS, **TYPOLOGY_LABELS}
#: evidence fields a rule fills only where they say something (several death records, several
#: versions of a report): left out of what a reader sees where blank, not shown as "—"
SHOWN_WHEN_GIVEN = frozenset({"other_death_records", "reported_versions", "report_versions", "recorded_to"})

#: coded values in evidence → Chinese (a value that is a field name takes the field's label)
VALUE_LABELS: dict[str, str] = {
    "calendar_year": "自然年度", "after_internship_work": "见习结束后工作年度", "early_next_year": "次年年初",
    "completed_or_hired_early": "完成见习或提前留用", "min_wage_share": "按最低工资的比例", "standard_flat": "固定金额",
    "bad_check": "校验位错误", "self": "本人", "transposition": "数字颠倒", "ok": "正确", "bank_card": "银行卡号",
    "phone": "手机号码", "address": "地址", "account": "账号", "legacy": "15位旧证件号", "monthly": "月度", "difference": "差额",
}

_IDENTIFIER = re.compile(r"[a-z][a-z0-9]*(?:_[a-z0-9]+)*")


def label(key: str) -> str:
    """The Chinese label of an evidence field (the key itself when it is already Chinese)."""
    return LABELS.get(key, key)


def needs_label(key: str) -> bool:
    """Whether a key is a code a clerk cannot read (a lower-case identifier, ``_file`` …)."""
    return bool(_IDENTIFIER.fullmatch(key.lstrip("_")))


def value_label(text: str) -> str:
    """A coded value in Chinese: a known code or a field name; codes joined by ``+`` each."""
    if "+" in text and all(_IDENTIFIER.fullmatch(part) for part in text.split("+")):
        return "＋".join(value_label(part) for part in text.split("+"))
    if text in VALUE_LABELS:
        return VALUE_LABELS[text]
    if text in LABELS and "_" in text:
        return LABELS[text]
    return text
