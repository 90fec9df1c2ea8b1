"""The input tables of the data contract (`shared/contract.md`), defined once.

Every table the audit reads is a `TableSpec`: its canonical name, its columns with their
Chinese headers and accepted spellings, the kind of value each holds, and which columns are
required and which form its key. The loader, the great-expectations suites, the fixtures
generator and the docs all read these specs; nothing else spells a column list.

Normalised tables (what the loader hands to the checks) have, besides the canonical columns:

- ``_file`` (str): the source file (``claims.xlsx#Sheet1`` for a sheet), ``_line`` (int): the
  1-based line in that file (the header is line 1 for a CSV; the sheet row for XLSX; the row
  index + 2 for Parquet), ``_dup_rows`` (int): how many identical export rows were collapsed into
  this one (1 when none).
- for every ``person_id``-kind column ``X``: ``X_raw`` (the string as exported) and
  ``X_status``: ``ok`` | ``legacy15`` (a 15-digit ID converted to 18 digits) | ``bad_check``
  (18 characters whose GB 11643 check digit fails) | ``malformed``.
- for every ``uscc``-kind column ``X``: ``X_status``: ``ok`` | ``org_code`` (a 组织机构代码, read as
  the credit code of the unit of the register that embeds it, else kept without its hyphen:
  :func:`audit.normalise.read_org_codes`) | ``bad_check`` | ``malformed``.
- for every ENUM column ``X`` read through spellings (``market_registry.reg_status``): ``X_raw``,
  the value as exported (trimmed); ``X`` holds its canonical value.
- ``trainees`` also carries ``birth_date`` (date) and ``sex`` (``M``/``F``) derived from the ID.
"""

from __future__ import annotations

import datetime as dt
import unicodedata
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

import polars as pl

from audit.normalise import to_ascii_str


class Kind(str, Enum):
    """What a column holds, and so how the loader parses it."""

    STR = "str"
    PERSON_ID = "person_id"  # 居民身份证号, GB 11643
    USCC = "uscc"  # 统一社会信用代码, GB 32100
    COUNTY = "county"  # GB/T 2260 six-digit code
    DATE = "date"
    MONTH = "month"  # normalised to the first day of the month (pl.Date)
    INT = "int"
    MONEY = "money"  # yuan, Float64 rounded to the fen
    BOOL = "bool"
    ENUM = "enum"  # a string from a closed value set (see ColumnSpec.values)


POLARS_DTYPE: dict[Kind, pl.DataType] = {
    Kind.STR: pl.String(),
    Kind.PERSON_ID: pl.String(),
    Kind.USCC: pl.String(),
    Kind.COUNTY: pl.String(),
    Kind.DATE: pl.Date(),
    Kind.MONTH: pl.Date(),
    Kind.INT: pl.Int64(),
    Kind.MONEY: pl.Float64(),
    Kind.BOOL: pl.Boolean(),
    Kind.ENUM: pl.String(),
}


#: the range a value of each kind must fall in when it is read, or its row is quarantined (a
#: value that does not fit its type, or no sane one: an amount beyond ±100 million yuan, a date
#: outside 1950–2100, a whole number beyond ±1 billion); a column's own ``bounds`` narrow it.
KIND_BOUNDS: dict[Kind, tuple[Any, Any]] = {
    Kind.MONEY: (-100_000_000.0, 100_000_000.0),
    Kind.DATE: (dt.date(1950, 1, 1), dt.date(2100, 12, 31)),
    Kind.MONTH: (dt.date(1950, 1, 1), dt.date(2100, 12, 1)),
    Kind.INT: (-1_000_000_000, 1_000_000_000),
}


@dataclass(frozen=True)
class ColumnSpec:
    name: str
    zh: str
    kind: Kind
    required: bool = False  # the column must be present in the file
    not_null: bool = False  # a present column whose value may not be empty (else: quarantine)
    values: tuple[str, ...] = ()  # closed value set for ENUM (canonical spellings)
    # ENUM only: every accepted spelling (as audit.normalise.vocabulary_key writes it) → its
    # canonical value; the loader reads the column through it, keeps the text as exported in
    # ``<name>_raw`` and quarantines a value it does not list
    spellings: dict[str, str] | None = field(default=None, hash=False, compare=False)
    # with spellings: whether the text as exported is kept in ``<name>_raw`` (where two spellings
    # of one canonical value say different things: 吊销，未注销 and 吊销 are both 吊销), and what a
    # value not listed does — its row quarantined, or (``unknown_blank``: a row the audit needs
    # whatever this cell says, an agreement or a trainee) the cell read as blank, with a note
    keeps_raw: bool = True
    unknown_blank: bool = False
    # with ``unknown_blank``: where a blank cell has a reading the rules act on that an unlisted
    # word does not support (缴费类型 blank: paid by the employer), the value such a word is read as
    # instead of blank (其他: neither)
    unknown_reads_as: str | None = None
    # with ``unknown_reads_as``: the words that say nothing of what the column records (缴费类型
    # 正常应缴, 补缴: whether a month was paid in time) and read as blank all the same
    blank_words: tuple[str, ...] = ()
    # a blank cell has a reading the rules act on (补贴类型: 月度; 实际结束日期: ran to term; 拨付日期:
    # not paid; 毕业离校日期: no graduate …) that an export whose every cell is blank does not
    # support — the column was not filled: such a column is read as not exported
    # (``Tables.absent``, the rules' readings of a missing column), with a note
    blank_is_unexported: bool = False
    # DATE only: a registry that records the date to the month (毕业时间 2023-06, 2023年6月) is
    # read as the month's first day, the derived ``<name>_month_only`` true on that row, and one
    # that records the year alone (2023, 2023届) as the year's first day, ``<name>_year_only`` true:
    # a rule whose accusation would rest on the day reads the month's (the year's) last day there
    month_precision: bool = False
    # STR only: a number one registry gives and another refers to (协议编号, 岗位编号): compared as
    # the same code whatever the spelling — full-width characters as ASCII, no spaces, upper case
    code: bool = False
    # INT only: the counting words an export may write after the number (当月见习工作日数 22天,
    # 在职职工人数 70人) or around it (退出情形 第3项): read as the number. Only a column's own words
    # are listed — 3个月 in a count of days, or 2万人, is not a number of that column and stays unreadable
    units: tuple[str, ...] = ()
    # DATE only: an end that may be none (劳动合同终止日期, 实际结束日期, 退出日期): 长期, 无固定期限,
    # 9999-12-31 are blank there — what a blank end means for the rules, not an unreadable row
    open_end: bool = False
    aliases: tuple[str, ...] = ()  # other header spellings seen in exports
    bounds: tuple[Any, Any] | None = None  # the column's own range (else its kind's: KIND_BOUNDS)

    @property
    def dtype(self) -> pl.DataType:
        return POLARS_DTYPE[self.kind]

    @property
    def value_range(self) -> tuple[Any, Any] | None:
        """(lowest, highest) a value read may be, both included; None for text."""
        return self.bounds or KIND_BOUNDS.get(self.kind)


@dataclass(frozen=True)
class TableSpec:
    name: str
    zh: str
    columns: tuple[ColumnSpec, ...]
    key: tuple[str, ...] = ()  # unique key (duplicates are kept and flagged)
    required: bool = False  # the audit cannot run without this table
    references: tuple[tuple[str, str, str], ...] = ()  # (column, table, column)
    extra: dict[str, str] = field(default_factory=dict)
    #: an optional table exported without a row it could read (a header only, or every row
    #: quarantined) says nothing: read as not exported, so that no rule reads the absence of a
    #: contract, a position or a payment in it as evidence (RULES.md §8, "Unreadable rows do not
    #: accuse"). Not for the tables that are empty in the normal course (deaths, bans).
    empty_is_unexported: bool = False
    #: (start column, end column): a row whose end precedes its start holds no span that can be
    #: read — which of the two dates was keyed wrong is unknown — and is quarantined, so that no
    #: rule reads a span from it (RULES.md §8, "Unreadable rows do not accuse")
    spans: tuple[tuple[str, str], ...] = ()
    #: the columns that name one span (agreements: the agreement number, its person and unit): rows
    #: that share them but not the span's dates (:attr:`spans`) are versions that disagree — which
    #: holds is unknown — and are quarantined, each of them, placed at no time (RULES.md §8,
    #: "Unreadable rows do not accuse"); DATA_QUALITY.duplicate_key reports the number
    one_span_per: tuple[str, ...] = ()

    def column(self, name: str) -> ColumnSpec:
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(f"{self.name} has no column {name!r}")

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)


C = ColumnSpec
K = Kind

EDUCATION = ("研究生", "本科", "专科", "中职", "技工院校", "其他")
END_REASONS = ("期满", "提前离岗", "提前留用", "其他")
CLAIM_TYPES = ("月度", "差额", "剩余期限")
RATE_BASES = ("标准", "提高")
INSURANCE_TYPES = ("养老", "医疗", "失业", "工伤", "生育", "补充工伤")
#: 其他: a payer written otherwise than the spellings list (个人缴费 …): not the employer, as far as known
PAYER_TYPES = ("单位", "灵活就业", "城乡居民", "其他")
#: what 社保 systems write in a 缴费类型 column to say whether a month was paid in time: no payer
#: (the row's employer paid it, where one is named)
PAYMENT_STATUS_WORDS = ("正常应缴", "正常缴费", "正常缴纳", "正常", "补缴", "补收", "预缴", "欠缴", "足额缴费", "退收", "断缴")
#: the market registry's statuses as the rules read them (canonical spellings)
REG_STATUSES = ("存续", "在业", "迁出", "停业", "歇业", "清算", "吊销", "责令关闭", "注销", "撤销")
#: every spelling of ``market_registry.reg_status`` the loader reads, written as
#: :func:`audit.normalise.vocabulary_key` sees it (full-width to ASCII, no spaces or punctuation),
#: with the canonical status it reads as: the short forms and the long forms of the national
#: enterprise credit information system (国家企业信用信息公示系统), e.g. 存续（在营、开业、在册） or
#: 吊销，未注销. A revoked licence later cancelled (吊销，已注销) reads as cancelled: the entity no
#: longer exists. Any other value is quarantined with its file, line and reason, never guessed.
REG_STATUS_SPELLINGS: dict[str, str] = {
    "存续": "存续", "在营": "存续", "开业": "存续", "在册": "存续", "存续在营开业在册": "存续", "正常": "存续",
    "在业": "在业",
    "迁出": "迁出", "已迁出": "迁出",
    "停业": "停业", "歇业": "歇业", "清算": "清算", "正在清算": "清算",
    "吊销": "吊销", "已吊销": "吊销", "吊销未注销": "吊销", "吊销营业执照": "吊销",
    "责令关闭": "责令关闭",
    "注销": "注销", "已注销": "注销", "吊销已注销": "注销",
    "撤销": "撤销", "已撤销": "撤销", "撤销登记": "撤销",
}
#: the counting words of a number of people (人, 名: 70人)
PEOPLE = ("人", "名")
#: the words around an item number of the notice's exit conditions (情形3, 第3项, 第3种情形)
EXIT_ITEM = ("情形", "第", "项", "种情形", "条")
POSITION_CATEGORIES = ("科研", "技术技能", "管理", "社会服务")


def _spelling_key(text: str) -> str:
    """A spelling as :func:`audit.normalise.vocabulary_key` reads it: full-width forms as ASCII,
    every space and punctuation mark removed."""
    return "".join(ch for ch in to_ascii_str(text) if not ch.isspace() and not unicodedata.category(ch).startswith("P"))


def vocabulary(words: dict[str, tuple[str, ...]]) -> dict[str, str]:
    """Spellings (:attr:`ColumnSpec.spellings`) from each canonical value's other spellings: the
    canonical value itself, and each listed one, read as itself. A spelling is listed only where
    it can mean nothing else (``留用`` alone could be 期满 retained or 提前留用: not listed)."""
    out: dict[str, str] = {}
    for canonical, others in words.items():
        for spelling in (canonical, *others):
            key = _spelling_key(spelling)
            if out.setdefault(key, canonical) != canonical:
                raise ValueError(f"spelling {spelling!r} listed for {out[key]!r} and {canonical!r}")
    return out


#: how exports spell the closed vocabularies of the contract (the 人社 and 社保 systems' own
#: words: 养老保险, 企业职工基本养老保险, 月度补贴, 见习期满, 大专 …). Read as the canonical value;
#: a value not listed is never guessed at.
CLAIM_TYPE_SPELLINGS = vocabulary({
    "月度": ("月度补贴", "月度见习补贴", "见习补贴月度", "按月", "按月申领", "按月补贴", "月度申领", "月度发放"),
    "差额": ("差额补贴", "差额见习补贴", "见习补贴差额", "提高标准差额", "提高标准差额补贴", "提标差额", "补差", "补差额",
           "差额补发", "留用率差额"),
    "剩余期限": ("剩余期限补贴", "剩余期限见习补贴", "剩余见习期限补贴", "剩余期限一次性补贴", "未满见习期限补贴"),
})
RATE_BASIS_SPELLINGS = vocabulary({
    "标准": ("标准补贴", "基本标准", "基本补贴", "正常标准", "一般标准"),
    "提高": ("提高标准", "提高补贴", "提标", "提高档", "上浮", "上浮标准"),
})
INSURANCE_TYPE_SPELLINGS = vocabulary({
    "养老": ("养老保险", "基本养老保险", "职工养老保险", "职工基本养老保险", "企业养老保险", "企业职工养老保险",
           "企业职工基本养老保险", "城镇职工基本养老保险", "机关事业单位养老保险", "机关事业单位基本养老保险",
           "企业养老", "企业职工基本养老", "城镇企业职工基本养老保险", "职工养老"),
    "医疗": ("医疗保险", "基本医疗保险", "职工医疗保险", "职工基本医疗保险", "城镇职工基本医疗保险", "医保",
           "基本医疗", "职工医保", "职工基本医疗", "职工基本医疗保险含生育保险", "职工基本医疗保险含生育"),
    "失业": ("失业保险",),
    "工伤": ("工伤保险",),
    "生育": ("生育保险",),
    "补充工伤": ("补充工伤保险", "见习人员补充工伤保险", "就业见习人员补充工伤保险", "见习补充工伤", "见习补充工伤保险"),
})
PAYER_TYPE_SPELLINGS = vocabulary({
    "单位": ("单位缴费", "单位参保", "单位职工", "企业职工", "在职职工", "职工参保", "单位缴纳", "单位申报"),
    "灵活就业": ("灵活就业人员", "灵活就业参保", "灵活就业人员参保", "个体灵活就业"),
    "城乡居民": ("城乡居民参保", "城乡居民缴费", "居民参保"),
    "其他": ("其它",),
})
END_REASON_SPELLINGS = vocabulary({
    "期满": ("见习期满", "期满结束", "见习期满结束", "正常期满", "期满离岗", "期满结业", "到期", "见习到期", "到期结束"),
    "提前离岗": ("中途离岗", "提前离开", "中途退出", "提前退出", "提前离岗离职", "中途离职", "提前离职"),
    "提前留用": ("提前被留用", "提前录用", "期内留用", "见习期内留用", "提前留用签订劳动合同"),
    "其他": ("其它",),
})
EDUCATION_SPELLINGS = vocabulary({
    "研究生": ("硕士", "博士", "硕士研究生", "博士研究生", "研究生及以上", "硕士及以上", "研究生学历"),
    "本科": ("大学本科", "大本", "本科学历", "本科毕业"),
    "专科": ("大专", "大学专科", "高职", "高职高专", "高职专科", "专科学历", "大专学历"),
    "中职": ("中专", "中等职业教育", "中等专业学校", "职高", "职业高中", "中职学历", "中专学历"),
    "技工院校": ("技校", "技工学校", "技师学院", "高级技工学校"),
    "其他": ("其它",),
})

#: other headers of the ID columns met in 人社, 社保 and 市场监管 exports. A header is read as a
#: column only where it can name nothing else in that table (the 社会保障号码 of a resident is
#: the 公民身份号码, GB 11643; 协议号 is the agreement's number in every export seen).
PERSON_ID_ALIASES = ("公民身份号码", "身份证号码", "居民身份证号码", "公民身份证号码", "身份证件号码", "证件号码",
                     "社会保障号码")
#: a unit's code as exports head it; 组织机构代码 columns hold the older code the credit code embeds
#: (characters 9–17), read as the unit of the register that embeds it (audit.normalise.read_org_codes)
UNIT_ID_ALIASES = ("单位统一社会信用代码", "单位社会信用代码", "社会信用代码", "见习单位统一社会信用代码", "组织机构代码",
                   "单位组织机构代码")
AGREEMENT_ID_ALIASES = ("见习协议编号", "协议号")

UNITS = TableSpec(
    "units",
    "见习单位",
    (
        C("unit_id", "统一社会信用代码", K.USCC, required=True, not_null=True, aliases=UNIT_ID_ALIASES),
        C("unit_name", "单位名称", K.STR, required=True, not_null=True, aliases=("见习单位名称", "单位全称")),
        C("county_code", "所在地区划代码", K.COUNTY, required=True, not_null=True, aliases=("区划代码", "所属地区")),
        C("legal_rep_id", "法定代表人身份证号", K.PERSON_ID, aliases=("法定代表人身份证号码", "法定代表人证件号码")),
        C("legal_rep_name", "法定代表人", K.STR, aliases=("法定代表人姓名",)),
        C("phone", "联系电话", K.STR),
        C("bank_account", "基本账户账号", K.STR, aliases=("银行账号", "基本存款账户")),
        C("address", "单位地址", K.STR),
        C("staff_count", "在职职工人数", K.INT, units=PEOPLE, aliases=("职工人数", "在职人数")),
        C("is_benchmark", "是否就业见习标杆单位", K.BOOL, aliases=("标杆单位",), blank_is_unexported=True),
        C("approved_date", "认定日期", K.DATE, required=True, not_null=True, aliases=("认定时间", "见习单位认定日期")),
        C("exit_date", "退出日期", K.DATE, blank_is_unexported=True, open_end=True, aliases=("退出时间", "摘牌日期")),
        C("exit_reason", "退出情形", K.INT, units=EXIT_ITEM),
    ),
    key=("unit_id",),
    required=True,
)

TRAINEES = TableSpec(
    "trainees",
    "见习人员",
    (
        C("person_id", "身份证号", K.PERSON_ID, required=True, not_null=True, aliases=PERSON_ID_ALIASES),
        C("name", "姓名", K.STR, required=True, not_null=True, aliases=("见习人员姓名", "人员姓名")),
        C("education", "学历", K.ENUM, values=EDUCATION, spellings=EDUCATION_SPELLINGS, keeps_raw=False,
          unknown_blank=True, blank_is_unexported=True),
        C("graduation_date", "毕业离校日期", K.DATE, aliases=("毕业时间", "离校日期", "毕业日期", "毕业离校时间"), blank_is_unexported=True,
          month_precision=True),
        C("unemployment_reg_date", "失业登记日期", K.DATE, blank_is_unexported=True, aliases=("失业登记时间",),
          month_precision=True),
        C("phone", "手机号码", K.STR, aliases=("联系电话",)),
        C("bank_card", "社保卡/银行卡号", K.STR, aliases=("银行卡号", "社保卡号")),
    ),
    key=("person_id",),
    required=True,
)

AGREEMENTS = TableSpec(
    "agreements",
    "见习协议",
    (
        C("agreement_id", "协议编号", K.STR, required=True, not_null=True, aliases=AGREEMENT_ID_ALIASES, code=True),
        C("person_id", "身份证号", K.PERSON_ID, required=True, not_null=True, aliases=PERSON_ID_ALIASES),
        C("unit_id", "统一社会信用代码", K.USCC, required=True, not_null=True, aliases=UNIT_ID_ALIASES),
        C("position_id", "岗位编号", K.STR, code=True),
        C("start_date", "见习开始日期", K.DATE, required=True, not_null=True,
          aliases=("见习开始时间", "见习起始日期", "协议开始日期")),
        C("planned_end_date", "约定结束日期", K.DATE, required=True, not_null=True,
          aliases=("约定结束时间", "约定见习结束日期", "协议结束日期", "计划结束日期")),
        C("actual_end_date", "实际结束日期", K.DATE, blank_is_unexported=True, open_end=True,
          aliases=("实际结束时间", "实际见习结束日期")),
        C("end_reason", "结束原因", K.ENUM, values=END_REASONS, spellings=END_REASON_SPELLINGS, keeps_raw=False,
          unknown_blank=True, blank_is_unexported=True),
        C("retained", "是否留用", K.BOOL, blank_is_unexported=True),
        C("allowance_monthly", "月基本生活费", K.MONEY, aliases=("每月基本生活费", "基本生活费标准")),
        C("approved_date", "协议审核日期", K.DATE, aliases=("协议审核时间",)),
    ),
    key=("agreement_id",),
    spans=(("start_date", "planned_end_date"), ("start_date", "actual_end_date")),
    one_span_per=("agreement_id", "person_id", "unit_id"),
    required=True,
    references=(("person_id", "trainees", "person_id"), ("unit_id", "units", "unit_id")),
)

CLAIMS = TableSpec(
    "claims",
    "补贴申领明细",
    (
        C("claim_id", "申领编号", K.STR, required=True, not_null=True, aliases=("申领单号", "申请编号")),
        C("unit_id", "统一社会信用代码", K.USCC, required=True, not_null=True, aliases=UNIT_ID_ALIASES),
        C("person_id", "身份证号", K.PERSON_ID, required=True, not_null=True, aliases=PERSON_ID_ALIASES),
        C("agreement_id", "协议编号", K.STR, aliases=AGREEMENT_ID_ALIASES, code=True),
        C("claim_month", "补贴所属月份", K.MONTH, required=True, not_null=True,
          aliases=("补贴所属期", "补贴所属年月", "补贴月份", "所属月份", "所属年月")),
        C("claim_type", "补贴类型", K.ENUM, values=CLAIM_TYPES, spellings=CLAIM_TYPE_SPELLINGS, keeps_raw=False,
          blank_is_unexported=True),
        C("working_days", "当月见习工作日数", K.INT, units=("天", "日", "个工作日", "工作日"),
          aliases=("见习工作日数", "当月见习天数")),
        C("rate_basis", "补贴标准档次", K.ENUM, values=RATE_BASES, spellings=RATE_BASIS_SPELLINGS, keeps_raw=False),
        C("amount", "申领金额", K.MONEY, required=True, not_null=True, aliases=("申领补贴金额", "申请金额", "见习补贴金额")),
        C("insurance_amount", "综合保险补贴", K.MONEY, aliases=("综合保险补贴金额",), blank_is_unexported=True),
        C("submitted_date", "申领日期", K.DATE, required=True, not_null=True, aliases=("申领时间", "申请日期", "申报日期")),
        C("paid_date", "拨付日期", K.DATE, blank_is_unexported=True, aliases=("拨付时间",)),
        C("handling_county_code", "经办机构区划代码", K.COUNTY),
    ),
    key=("claim_id",),
    required=True,
    references=(
        ("agreement_id", "agreements", "agreement_id"),
        ("person_id", "trainees", "person_id"),
        ("unit_id", "units", "unit_id"),
    ),
)

SOCIAL_INSURANCE = TableSpec(
    "social_insurance",
    "社保缴费记录",
    (
        C("person_id", "身份证号", K.PERSON_ID, required=True, not_null=True, aliases=PERSON_ID_ALIASES),
        C("employer_id", "缴费单位统一社会信用代码", K.USCC, required=True,
          aliases=("单位统一社会信用代码", "缴费单位社会信用代码", "缴费单位", "缴费单位组织机构代码", "单位组织机构代码", "组织机构代码")),
        C("month", "缴费所属月份", K.MONTH, required=True, not_null=True, aliases=("费款所属期", "缴费月份", "缴费年月")),
        C("insurance_type", "险种", K.ENUM, required=True, values=INSURANCE_TYPES, spellings=INSURANCE_TYPE_SPELLINGS,
          keeps_raw=False),
        # 缴费类型 is also what 社保 systems call whether a month was paid in time (正常应缴, 补缴: AAA115):
        # a value that names no payer is read as no payer recorded (the employer's, with an employer)
        C("payer_type", "缴费类型", K.ENUM, values=PAYER_TYPES, spellings=PAYER_TYPE_SPELLINGS, keeps_raw=False,
          unknown_blank=True, unknown_reads_as="其他", blank_words=PAYMENT_STATUS_WORDS),
    ),
    required=True,
)

ALLOWANCE_PAYMENTS = TableSpec(
    "allowance_payments",
    "基本生活费发放明细",
    (
        C("person_id", "身份证号", K.PERSON_ID, required=True, not_null=True, aliases=PERSON_ID_ALIASES),
        C("unit_id", "统一社会信用代码", K.USCC, required=True, not_null=True, aliases=UNIT_ID_ALIASES),
        C("month", "所属月份", K.MONTH, required=True, not_null=True),
        C("amount", "发放金额", K.MONEY, required=True, not_null=True),
        C("paid_date", "发放日期", K.DATE),
        C("account", "收款账号", K.STR),
    ),
    empty_is_unexported=True,
)

EMPLOYMENT = TableSpec(
    "employment",
    "就业登记/劳动合同",
    (
        C("person_id", "身份证号", K.PERSON_ID, required=True, not_null=True, aliases=PERSON_ID_ALIASES),
        C("employer_id", "用人单位统一社会信用代码", K.USCC, required=True, not_null=True,
          aliases=("用人单位组织机构代码", "单位组织机构代码", "组织机构代码")),
        C("contract_start", "合同开始日期", K.DATE, required=True, not_null=True, aliases=("劳动合同开始日期", "合同起始日期")),
        C("contract_end", "合同结束日期", K.DATE, open_end=True, aliases=("劳动合同结束日期", "合同终止日期")),
        C("contract_type", "合同类型", K.STR),
        C("terminated_date", "解除日期", K.DATE, blank_is_unexported=True, aliases=("合同解除日期", "解除时间")),
    ),
    spans=(("contract_start", "contract_end"), ("contract_start", "terminated_date")),
    empty_is_unexported=True,
)

POSITIONS = TableSpec(
    "positions",
    "见习岗位",
    (
        C("position_id", "岗位编号", K.STR, required=True, not_null=True, code=True),
        C("unit_id", "统一社会信用代码", K.USCC, required=True, not_null=True, aliases=UNIT_ID_ALIASES),
        C("title", "岗位名称", K.STR),
        C("category", "岗位类别", K.ENUM, values=POSITION_CATEGORIES),
        C("posted_date", "发布日期", K.DATE, required=True, not_null=True),
        C("closed_date", "下架日期", K.DATE, blank_is_unexported=True),
        C("slots", "岗位数量", K.INT, units=("个", *PEOPLE), blank_is_unexported=True),
    ),
    key=("position_id",),
    spans=(("posted_date", "closed_date"),),
    references=(("unit_id", "units", "unit_id"),),
    empty_is_unexported=True,
)

MARKET_REGISTRY = TableSpec(
    "market_registry",
    "市场主体登记",
    (
        C("unit_id", "统一社会信用代码", K.USCC, required=True, not_null=True, aliases=UNIT_ID_ALIASES),
        C("reg_status", "登记状态", K.ENUM, required=True, values=REG_STATUSES, spellings=REG_STATUS_SPELLINGS),
        C("status_date", "状态日期", K.DATE),
        C("abnormal_listed", "列入经营异常名录", K.BOOL),
        C("serious_violation_listed", "列入严重违法失信名单", K.BOOL),
        C("legal_rep_id", "法定代表人身份证号", K.PERSON_ID),
        C("established_date", "成立日期", K.DATE),
    ),
    key=("unit_id",),
    empty_is_unexported=True,
)

RETENTION_DECLARATIONS = TableSpec(
    "retention_declarations",
    "留用申报",
    (
        C("unit_id", "统一社会信用代码", K.USCC, required=True, not_null=True, aliases=UNIT_ID_ALIASES),
        C("year", "年度", K.INT, units=("年", "年度"), required=True, not_null=True, bounds=(1990, 2100)),
        C("completed_count", "见习期满人数", K.INT, units=PEOPLE, required=True),
        C("retained_count", "留用人数", K.INT, units=PEOPLE, required=True),
    ),
    key=("unit_id", "year"),
    empty_is_unexported=True,
)

COUNTY_REPORTS = TableSpec(
    "county_reports",
    "县区月报汇总表",
    (
        C("county_code", "区划代码", K.COUNTY, required=True, not_null=True, aliases=("所在地区划代码", "县区代码")),
        C("month", "月份", K.MONTH, required=True, not_null=True, aliases=("统计月份", "报告月份")),
        *(
            C(f"i{n}", f"指标{n}", K.MONEY if n == 14 else K.INT, required=True)
            for n in range(1, 15)
        ),
    ),
    key=("county_code", "month"),
    empty_is_unexported=True,
)

DEATHS = TableSpec(
    "deaths",
    "死亡登记",
    (
        C("person_id", "身份证号", K.PERSON_ID, required=True, not_null=True, aliases=PERSON_ID_ALIASES),
        C("death_date", "死亡日期", K.DATE, required=True, not_null=True, aliases=("死亡时间", "死亡年月"),
          month_precision=True),
    ),
)

BANS = TableSpec(
    "bans",
    "禁入单位名单",
    (
        C("unit_id", "统一社会信用代码", K.USCC, required=True, not_null=True, aliases=UNIT_ID_ALIASES),
        C("unit_name", "单位名称", K.STR),
        C("county_code", "所在地区划代码", K.COUNTY, required=True, not_null=True, aliases=("区划代码", "所属地区")),
        C("legal_rep_id", "法定代表人身份证号", K.PERSON_ID, aliases=("法定代表人身份证号码", "法定代表人证件号码")),
        C("legal_rep_name", "法定代表人", K.STR, aliases=("法定代表人姓名",)),
        C("exit_date", "退出日期", K.DATE, required=True, not_null=True, aliases=("摘牌日期",)),
        C("exit_reason", "退出情形", K.INT, units=EXIT_ITEM, required=True, not_null=True),
        C("source", "来源", K.STR),
    ),
)

# The operator's reference tables (optional): where the shipped reference data (audit/reference/)
# has a gap or is wrong, an operator supplies rows from the notice itself, with its source. Each row
# is used in its own span and wins there over the shipped rows (audit/reference/__init__.py);
# `audit reference check` writes a workbook with these columns, one row per gap.
MIN_WAGE = TableSpec(
    "min_wage",
    "最低工资标准",
    (
        C("province_code", "省份代码", K.COUNTY, required=True, not_null=True),
        C("tier", "档次", K.INT, required=True, not_null=True),
        C("effective_from", "执行日期", K.DATE, required=True, not_null=True),
        C("monthly_yuan", "月最低工资标准", K.MONEY, required=True, not_null=True),
        C("source", "来源", K.STR, aliases=("依据", "文件")),
    ),
    key=("province_code", "tier", "effective_from"),
)

COUNTY_TIERS = TableSpec(
    "county_tiers",
    "县区最低工资档次",
    (
        C("county_code", "区划代码", K.COUNTY, required=True, not_null=True),
        C("tier", "档次", K.INT, required=True, not_null=True),
        C("effective_from", "执行日期", K.DATE, required=True, not_null=True),
        C("effective_to", "截止日期", K.DATE, aliases=("失效日期",)),
        C("source", "来源", K.STR, aliases=("依据", "文件")),
    ),
    key=("county_code", "effective_from"),
)

CALENDAR = TableSpec(
    "calendar",
    "法定工作日历",
    (
        C("date", "日期", K.DATE, required=True, not_null=True),
        C("is_workday", "是否工作日", K.BOOL, required=True, not_null=True, aliases=("工作日",)),
        C("source", "来源", K.STR, aliases=("依据", "文件")),
    ),
    key=("date",),
)

TABLES: tuple[TableSpec, ...] = (
    UNITS,
    TRAINEES,
    AGREEMENTS,
    CLAIMS,
    SOCIAL_INSURANCE,
    POSITIONS,
    EMPLOYMENT,
    MARKET_REGISTRY,
    RETENTION_DECLARATIONS,
    COUNTY_REPORTS,
    DEATHS,
    ALLOWANCE_PAYMENTS,
    BANS,
)
REFERENCE_TABLES: tuple[TableSpec, ...] = (MIN_WAGE, COUNTY_TIERS, CALENDAR)
SPECS: dict[str, TableSpec] = {t.name: t for t in (*TABLES, *REFERENCE_TABLES)}
REQUIRED_TABLES = tuple(t.name for t in TABLES if t.required)

#: columns the loader and the stages after it add to a table (besides each ID column's ``_raw``
#: and ``_status``; ``effective_to``, ``status``, ``source``: the reference tables'): an input
#: column of one of these names is kept as an extra column with a suffix, as is one named like a
#: column of any table, or starting with ``_``.
LOADER_COLUMNS = ("_file", "_line", "_dup_rows", "_src", "_keep", "_row", "_pos", "_row_hash", "birth_date", "sex",
                  "effective_to", "status", "source")


def normalised_columns(spec: TableSpec) -> tuple[str, ...]:
    """The columns of a normalised table the rules may read (module docstring): the spec's, the
    row's file, line and duplicate count, each ID's derived columns; not the extra columns an
    input carried, which stay in ``normalised/`` for a person to look at and never meet a
    rule's own names."""
    born = ["birth_date", "sex"] if spec.name == "trainees" else []
    return (*spec.names, "_file", "_line", "_dup_rows", *_derived_columns(spec), *born)


def _derived_columns(spec: TableSpec) -> list[str]:
    """The columns the loader derives from a table's columns: each person ID's ``_raw`` and
    ``_status``, each credit code's ``_status``, each column read through spellings' ``_raw``,
    each date recorded to the month's ``_month_only`` and to the year's ``_year_only``."""
    out = []
    for c in spec.columns:
        if c.kind is Kind.PERSON_ID:
            out += [f"{c.name}_raw", f"{c.name}_status"]
        elif c.kind is Kind.USCC:
            out.append(f"{c.name}_status")
        if c.spellings is not None and c.keeps_raw:
            out.append(f"{c.name}_raw")
        if c.month_precision:
            out += [f"{c.name}_month_only", f"{c.name}_year_only"]
    return out


def reserved_column_names() -> frozenset[str]:
    """Every name an input column may not keep as an extra column (see :data:`LOADER_COLUMNS`):
    the columns of every table, their derived ``_raw``/``_status`` columns, the loader's own."""
    names = set(LOADER_COLUMNS)
    for spec in SPECS.values():
        names.update(spec.names)
        names.update(_derived_columns(spec))
        names.update(f"{c.name}_raw" for c in spec.columns if c.kind is Kind.USCC)  # kept free for one
    return frozenset(names)


# ---------------------------------------------------------------------------------------------
# What comes back (contract.md, "The monthly cycle: what comes back"): read by
# ``audit outcomes import``, never from a run's input directory (so not in SPECS).

#: the contract's vocabulary of 核实结论
OUTCOME_VALUES = ("属实", "部分属实", "不属实", "待核实")

#: what a county decided about one finding or one sampled claim, and what it recovered
VERDICT_COLUMNS = (
    C("outcome", "核实结论", K.ENUM, required=True, values=OUTCOME_VALUES, aliases=("核查结论",)),
    C("amount_recovered", "追回金额", K.MONEY, aliases=("本次追回金额", "已追回金额")),
    C("decided_date", "核实日期", K.DATE, aliases=("核查日期",)),
    C("decided_by", "核实单位", K.STR, aliases=("核查单位",)),
    C("note", "备注", K.STR),
)

OUTCOMES = TableSpec(
    "outcomes",
    "核查结果",
    (C("finding_id", "问题编号", K.STR, required=True, not_null=True), *VERDICT_COLUMNS),
)

#: outcomes of the random sample of claims no rule flagged (the outcomes form's second sheet)
SAMPLE_OUTCOMES = TableSpec(
    "sample_outcomes",
    "抽查结果",
    (C("claim_id", "申领编号", K.STR, required=True, not_null=True, aliases=("申领单号", "申请编号")), *VERDICT_COLUMNS),
)

#: an exit list a county sends back: its 县区核实结论 per unit, and the 摘牌 date where done
EXIT_REPLY_VALUES = (*OUTCOME_VALUES, "确认退出", "不予退出")
EXIT_REPLIES = TableSpec(
    "exit_replies",
    "退出名单县区核实结论",
    (
        C("unit_id", "统一社会信用代码", K.USCC, required=True, not_null=True, aliases=UNIT_ID_ALIASES),
        C("conclusion", "县区核实结论", K.ENUM, required=True, values=EXIT_REPLY_VALUES),
        C("exit_date", "摘牌日期", K.DATE, aliases=("退出日期",)),
        C("decided_date", "核实日期", K.DATE),
        C("decided_by", "核实单位", K.STR),
        C("note", "备注", K.STR),
    ),
)
RETURNED: tuple[TableSpec, ...] = (OUTCOMES, SAMPLE_OUTCOMES, EXIT_REPLIES)

PROVINCES: dict[str, str] = {
    "430000": "湖南",
    "360000": "江西",
    "410000": "河南",
    "530000": "云南",
    "620000": "甘肃",
}


def province_of(county_code: pl.Expr) -> pl.Expr:
    """The province code (``XX0000``) of a GB/T 2260 county code expression."""
    return pl.concat_str([county_code.str.slice(0, 2), pl.lit("0000")])


def employer_paid() -> pl.Expr:
    """``social_insurance`` rows an employer paid (payer_type 单位, or not recorded) for its own
    employee: 灵活就业 and 城乡居民 rows are paid by the person and show no employment."""
    return (pl.col("payer_type").is_null() | (pl.col("payer_type") == "单位")) & pl.col("employer_id").is_not_null()
