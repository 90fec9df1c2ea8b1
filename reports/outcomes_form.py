"""outcomes/<county_code>.xlsx: the form that goes out to each county and comes back filled in.

Written for a run made with a workspace (it reads the run's ``history/``): per county,

- sheet 核查结果 — the county's open findings (新发现, 持续, 属实待追回), each with its 问题编号,
  status, rule, unit, trainee (ID masked), period, money at risk, what was recovered and decided
  before, and the reply due date; then the columns the county fills in: 核实结论 (a drop-down of
  the contract's vocabulary: 属实, 部分属实, 不属实, 待核实), 追回金额 (yuan recovered since the last
  reply), 核实日期, 核实单位, 备注;
- sheet 随机抽查 — the claims of the month no rule flagged, drawn for on-site checking, with the
  same columns to fill in.

``audit outcomes import FILE --workspace DIR`` reads the form back by its headers, so a county may
reorder or add columns. Findings the county rejected (不属实) on facts that have not changed are
not listed again.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import polars as pl
from xlsxwriter.worksheet import Worksheet

from audit.findings import CONFIRMED, NEW, ONGOING_STATUS
from audit.masking import mask_id_expr
from audit.outpaths import county_file_stem, inside
from audit.rundir import OUTCOMES_DIR
from audit.schema import OUTCOME_VALUES
from reports.data import RunFiles, family_zh, finding_money, with_county
from reports.xlsx import HEADER_ROW, Column, sheet_name, workbook, write_table

OPEN = (NEW, ONGOING_STATUS, CONFIRMED)  # the statuses a county still has to answer

FILL_IN = [
    Column("outcome", "核实结论"), Column("amount_recovered", "追回金额", "money"),
    Column("decided_date", "核实日期", "date"), Column("decided_by", "核实单位"), Column("note", "备注", "wrap", 30),
]
FINDING_COLUMNS = [
    Column("finding_id", "问题编号"), Column("status", "审计状态"), Column("family", "问题类别"),
    Column("title", "问题", "wrap", 36), Column("unit_name", "单位名称"), Column("unit_id", "统一社会信用代码"),
    Column("name", "见习人员"), Column("person", "身份证号（脱敏）"), Column("period_start", "期间起", "date"),
    Column("period_end", "期间止", "date"), Column("money", "涉及金额（元）", "money"),
    Column("recovered", "已记录追回（元）", "money"), Column("earlier", "此前核实情况", "wrap", 30),
    Column("reply_due", "回复期限", "date"), *FILL_IN,
]
SAMPLE_COLUMNS = [
    Column("claim_id", "申领编号"), Column("unit_name", "单位名称"), Column("unit_id", "统一社会信用代码"),
    Column("name", "见习人员"), Column("person", "身份证号（脱敏）"), Column("claim_month", "补贴所属月份", "date"),
    Column("claim_type", "补贴类型"), Column("amount", "申领金额（元）", "money"),
    Column("submitted_date", "申领日期", "date"), Column("reply_due", "回复期限", "date"), *FILL_IN,
]


def _notice(rf: RunFiles, county: str, due: dt.date | None) -> str:
    return (f"{rf.month_label} {county} 核查结果表 — 请逐项填写“核实结论”（{'/'.join(OUTCOME_VALUES)}）、本次新追回的金额、"
            f"核实日期和核实单位，{f'于 {due} 前' if due else ''}报回审计机关（以 audit outcomes import 读入；按表头识别，"
            "列的顺序可调整）。不属实的问题在事实未变化前不再列出。身份证号已脱敏。")


SAMPLE_NOTICE = ("随机抽查 — 以下申领未被任何规则标记，按办公室设定每县区随机抽取，供实地核查：请同样填写核实结论"
                 "（发现骗取、套取的填“属实”），以估计规则漏查的比例。")


def _names(rf: RunFiles, persons: pl.Series) -> pl.DataFrame:
    """person_id → name, for the persons given (the sample's are not among the reports' trainees)."""
    wanted = persons.drop_nulls().unique().implode()
    scan = rf.rundir.scan("trainees")
    if scan is None:
        return pl.DataFrame(schema={"person_id": pl.String, "name": pl.String})
    return scan.filter(pl.col("person_id").is_in(wanted)).select("person_id", "name").unique("person_id").collect()


def finding_rows(rf: RunFiles) -> pl.DataFrame:
    """The open findings with what the form shows of each (keys of :data:`FINDING_COLUMNS`, county_code)."""
    history = rf.rundir.history("findings")
    if history is None or rf.findings.height == 0:
        return pl.DataFrame(schema={"county_code": pl.String, **{c.key: pl.String for c in FINDING_COLUMNS}})
    earlier = pl.when(pl.col("outcome").is_not_null()).then(pl.concat_str([
        pl.col("outcome"), pl.lit("（"), pl.col("decided_date").cast(pl.String).fill_null("日期未填"),
        pl.lit(" "), pl.col("decided_by").fill_null(""), pl.lit("）"),
        pl.when(pl.col("facts_changed")).then(pl.lit("；事实已变化，重新列出")).otherwise(pl.lit("")),
    ])).otherwise(pl.lit(""))
    titles = {r: rf.rule(r).title for r in rf.findings["rule_id"].unique().to_list()}
    families = {f: family_zh(f) for f in rf.findings["family"].unique().to_list()}
    rows = (
        with_county(rf, rf.findings).join(history, on="finding_id", how="left", suffix="_h")
        .filter(pl.col("status").is_in(OPEN))
        .join(finding_money(rf), on="finding_id", how="left")
        .join(rf.units.select("unit_id", "unit_name"), on="unit_id", how="left")
        .join(rf.trainees.select("person_id", "name"), on="person_id", how="left")
        .with_columns(
            pl.col("family").replace_strict(families, default=pl.col("family"), return_dtype=pl.String),
            pl.col("rule_id").replace_strict(titles, default=pl.col("rule_id"), return_dtype=pl.String).alias("title"),
            mask_id_expr(pl.col("person_id")).alias("person"),
            pl.col("recovered").fill_null(0.0), earlier.alias("earlier"),
            *[pl.lit(None, pl.String).alias(c.key) for c in FILL_IN if c.key not in ("decided_date", "amount_recovered")],
            pl.lit(None, pl.Float64).alias("amount_recovered"), pl.lit(None, pl.Date).alias("decided_date"),
        )
    )
    keep = [c.key for c in FINDING_COLUMNS]
    return rows.sort("county_code", "reply_due", "finding_id", nulls_last=True).select(
        pl.col("county_code").fill_null(""), *keep)


def sample_rows(rf: RunFiles, due: dt.date | None) -> pl.DataFrame:
    sample = rf.rundir.history("sample")
    if sample is None or sample.height == 0:
        return pl.DataFrame(schema={"county_code": pl.String, **{c.key: pl.String for c in SAMPLE_COLUMNS}})
    units = rf.rundir.scan("units")
    unit_names = (units.select("unit_id", "unit_name").unique("unit_id").collect() if units is not None
                  else pl.DataFrame(schema={"unit_id": pl.String, "unit_name": pl.String}))
    rows = (
        sample.join(unit_names, on="unit_id", how="left").join(_names(rf, sample["person_id"]), on="person_id", how="left")
        .with_columns(mask_id_expr(pl.col("person_id")).alias("person"), pl.lit(due, pl.Date).alias("reply_due"),
                      *[pl.lit(None, pl.String).alias(c.key) for c in FILL_IN if c.key not in ("decided_date", "amount_recovered")],
                      pl.lit(None, pl.Float64).alias("amount_recovered"), pl.lit(None, pl.Date).alias("decided_date"))
    )
    return rows.select(pl.col("county_code").fill_null(""), *[c.key for c in SAMPLE_COLUMNS])


def _fill_in(ws: Worksheet, columns: list[Column], rows: int) -> None:
    """The fill-in columns' checks: a drop-down of the vocabulary, an amount of at least 0, a date."""
    last = HEADER_ROW + max(rows, 1) + 200  # room for rows a county adds
    index = {c.key: j for j, c in enumerate(columns)}
    ws.data_validation(HEADER_ROW + 1, index["outcome"], last, index["outcome"], {
        "validate": "list", "source": list(OUTCOME_VALUES), "input_title": "核实结论",
        "input_message": "/".join(OUTCOME_VALUES), "error_title": "核实结论", "error_message": "请从下拉列表中选择"})
    ws.data_validation(HEADER_ROW + 1, index["amount_recovered"], last, index["amount_recovered"], {
        "validate": "decimal", "criteria": ">=", "value": 0, "error_message": "追回金额须为不小于0的数字（元）"})
    ws.data_validation(HEADER_ROW + 1, index["decided_date"], last, index["decided_date"], {
        "validate": "date", "criteria": ">", "value": dt.date(2000, 1, 1), "error_message": "请填写日期，如 2024-07-15"})


def write_outcome_forms(rf: RunFiles) -> list[dict[str, Any]]:
    """``outcomes/<county_code>.xlsx`` for every county with open findings or sampled claims;
    returns per county the file and its rows. Nothing for a run made without a workspace."""
    folder = inside(rf.run_dir, OUTCOMES_DIR)
    if not rf.rundir.has_history:
        return []
    facts = rf.rundir.history_facts()
    due = dt.date.fromisoformat(facts["reply_due"]) if facts.get("reply_due") else None
    findings = finding_rows(rf)
    sample = sample_rows(rf, due)
    folder.mkdir(exist_ok=True)
    for old in folder.glob("*.xlsx"):
        old.unlink()
    by_county = findings.partition_by("county_code", as_dict=True, include_key=False)
    drawn_by = sample.partition_by("county_code", as_dict=True, include_key=False)
    counties = sorted({k[0] for k in by_county} | {k[0] for k in drawn_by})
    # a form per six-digit county code; the rows of every other code (none, or not GB/T 2260)
    # share unknown.xlsx — a code never becomes a path (audit.outpaths)
    stems: dict[str, list[str | None]] = {}
    for code in counties:
        stems.setdefault(county_file_stem(code), []).append(code)
    made = []
    for stem, codes in stems.items():
        mine = pl.concat([by_county.get((c,), findings.clear().drop("county_code")) for c in codes])
        drawn = pl.concat([drawn_by.get((c,), sample.clear().drop("county_code")) for c in codes])
        code = codes[0] if len(codes) == 1 else None
        path = inside(folder, f"{stem}.xlsx")
        book, fmt = workbook(str(path))
        used: set[str] = set()
        name = rf.county_name(code) if code is not None else "、".join(str(c or "（无区划代码）") for c in codes)
        ws = write_table(book, fmt, sheet_name("核查结果", used), _notice(rf, name, due), FINDING_COLUMNS, mine)
        _fill_in(ws[0], FINDING_COLUMNS, mine.height)
        ws = write_table(book, fmt, sheet_name("随机抽查", used), f"{rf.month_label} {name} " + SAMPLE_NOTICE,
                         SAMPLE_COLUMNS, drawn)
        _fill_in(ws[0], SAMPLE_COLUMNS, drawn.height)
        book.close()
        made.append({"county_code": code if code is not None else stem, "file": f"{OUTCOMES_DIR}/{path.name}",
                     "findings": mine.height, "sample": drawn.height})
    return made
