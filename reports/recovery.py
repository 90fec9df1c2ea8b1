"""recovery.xlsx: per unit and trainee, the claims that should not have been paid.

Each claim appears once, with its money at risk (the largest amount any finding puts on it,
never more than was paid — RULES.md §8), the rules that put it at risk and their citations.
Findings that put money at risk without naming claims are listed with their own amount.

ID numbers are masked here too, although this is an internal working file: subsidies are
recovered from the unit that claimed them, the county identifies every line by its 申领编号 and
协议编号 in its own system (which holds the full 身份证号), and a spreadsheet travels by e-mail and
USB stick far more easily than the system it came from. So no full ID leaves the audit.
"""

from __future__ import annotations

import polars as pl

from audit.findings import STATUSES
from audit.masking import mask_id
from audit.outpaths import inside
from reports.data import RunFiles, claim_money, unlinked_money, with_county
from reports.xlsx import Column, sheet_name, workbook, write_table

NOTICE = ("追缴清单 — 审计线索与建议，须由县区人社部门核实确认后依规追缴。每笔申领只列一次，金额为各问题中最大者且不超过实际申领额。"
          "身份证号已脱敏：请按申领编号、协议编号在经办系统中查询。")

CLAIM_COLUMNS = [
    Column("county", "县区"), Column("county_code", "区划代码"), Column("unit_name", "单位名称"),
    Column("unit_id", "统一社会信用代码"), Column("name", "见习人员姓名"), Column("person", "身份证号（脱敏）"),
    Column("claim_id", "申领编号"), Column("agreement_id", "协议编号"), Column("claim_month", "补贴所属月份", "date"),
    Column("claim_type", "补贴类型"), Column("paid", "申领金额（元）", "money"), Column("paid_date", "拨付日期", "date"),
    Column("recover", "应追缴金额（元）", "money"), Column("rules", "问题", "wrap", 40),
    Column("citations", "依据", "wrap", 36), Column("finding_ids", "问题编号", "wrap", 20), Column("status", "审计状态"),
]
PERSON_COLUMNS = [
    Column("county", "县区"), Column("county_code", "区划代码"), Column("unit_name", "单位名称"),
    Column("unit_id", "统一社会信用代码"), Column("name", "见习人员姓名"), Column("person", "身份证号（脱敏）"),
    Column("claims", "申领笔数", "int"), Column("first_month", "最早月份", "date"), Column("last_month", "最晚月份", "date"),
    Column("recover", "应追缴金额（元）", "money"), Column("rules", "问题", "wrap", 40),
]


NO_CLAIM = "（未列明申领）"  # the claim column of a finding that puts money at risk without naming claims


def _rule_table(rf: RunFiles) -> pl.DataFrame:
    """rule_id → its title and registered citation (:meth:`RunFiles.rule`), for the rules found."""
    ids = rf.findings["rule_id"].drop_nulls().unique().sort().to_list()
    return pl.DataFrame({"rule_id": ids, "_title": [rf.rule(i).title for i in ids],
                         "_rule_citation": [rf.rule(i).citation for i in ids]},
                        schema={"rule_id": pl.String, "_title": pl.String, "_rule_citation": pl.String})


def _with_titles(rows: pl.DataFrame, fids: pl.Expr, rules: pl.DataFrame, findings: pl.DataFrame) -> pl.DataFrame:
    """Add ``rules`` (titles of the rows' findings' rules, in rule-id order, each once) and
    ``citations`` (each citation once, sorted): ``fids`` is a list of finding ids per row."""
    per = (
        rows.select("_row", fids.alias("finding_id")).explode("finding_id")
        .join(findings.select("finding_id", "rule_id", "citation", "status"), on="finding_id")
        .join(rules, on="rule_id", how="left")
        # each finding's own citation: the clause in force for its province and date (RULES.md §8)
        .with_columns(pl.when(pl.col("citation").fill_null("") != "").then(pl.col("citation"))
                      .otherwise(pl.col("_rule_citation").fill_null("")).alias("_citation"))
    )
    titles = per.unique(["_row", "rule_id"]).group_by("_row").agg(
        pl.col("_title").sort_by("rule_id").str.join("；").alias("rules"))
    citations = per.group_by("_row").agg(pl.col("_citation").unique().sort().str.join("；").alias("citations"))
    # the statuses of the row's findings in the monthly cycle, in the order of STATUSES
    order = pl.col("status").replace_strict(list(STATUSES), list(range(len(STATUSES))), default=len(STATUSES),
                                            return_dtype=pl.Int64)
    statuses = per.filter(pl.col("status").is_not_null()).unique(["_row", "status"]).group_by("_row").agg(
        pl.col("status").sort_by(order).str.join("、").alias("status"))
    return rows.join(titles, on="_row", how="left").join(citations, on="_row", how="left").join(
        statuses, on="_row", how="left").with_columns(
        pl.col("rules").fill_null(""), pl.col("citations").fill_null(""), pl.col("status").fill_null("")).sort("_row")


def recovery_rows(rf: RunFiles) -> pl.DataFrame:
    """One row per claim at risk (and per claim-less finding with money), biggest first per unit.

    Columns: the keys of :data:`CLAIM_COLUMNS`. Built in polars over the claims at risk; only the
    distinct ID numbers pass through :func:`audit.masking.mask_id` (the column is an ID column,
    whatever its values look like).
    """
    rules = _rule_table(rf)
    per_claim = claim_money(rf).filter(pl.col("amount_at_risk") > 0).with_row_index("_row")
    claim_rows = _with_titles(per_claim, pl.col("finding_ids"), rules, rf.findings).select(
        "_row", "county_code", "unit_id", "person_id", "claim_id", pl.col("agreement_id").fill_null(""),
        "claim_month", pl.col("claim_type").fill_null(""),
        pl.when(pl.col("amount").is_null()).then(None)
        .otherwise(pl.col("amount").fill_null(0) + pl.col("insurance_amount").fill_null(0)).round(2).alias("paid"),
        "paid_date", pl.col("amount_at_risk").cast(pl.Float64).round(2).alias("recover"),
        pl.col("finding_ids").list.join("、").fill_null("").alias("finding_ids"), "rules", "citations", "status",
    )
    loose = with_county(rf, unlinked_money(rf, rf.findings)).drop("status", strict=False).with_row_index(
        "_row", offset=per_claim.height)
    loose_rows = _with_titles(loose, pl.concat_list("finding_id"), rules, rf.findings).select(
        "_row", "county_code", "unit_id", "person_id", pl.lit(NO_CLAIM).alias("claim_id"), pl.lit("").alias("agreement_id"),
        pl.col("period_start").alias("claim_month"), pl.lit("").alias("claim_type"), pl.lit(None, pl.Float64).alias("paid"),
        pl.lit(None, pl.Date).alias("paid_date"), pl.col("amount_at_risk").cast(pl.Float64).round(2).alias("recover"),
        pl.col("finding_id").alias("finding_ids"), "rules", "citations", "status",
    )
    rows = pl.concat([claim_rows, loose_rows], how="vertical_relaxed")
    people = rows["person_id"].drop_nulls().unique().to_list()
    masked = pl.DataFrame({"person_id": people, "person": [mask_id(v) for v in people]},
                          schema={"person_id": pl.String, "person": pl.String})
    rows = (
        rows.join(rf.units.select("unit_id", "unit_name"), on="unit_id", how="left", maintain_order="left")
        .join(rf.trainees.select("person_id", "name"), on="person_id", how="left", maintain_order="left")
        .join(masked, on="person_id", how="left", maintain_order="left")
        .with_columns(
            _county_name(rf, pl.col("county_code")).alias("county"), pl.col("county_code").fill_null(""),
            pl.col("unit_id").fill_null(""), pl.col("unit_name").fill_null(""), pl.col("name").fill_null(""),
            pl.col("person").fill_null(""),
        )
        # the order of the list, and among equal keys the order of the claims, then the findings
        .sort("county_code", "unit_id", "person", pl.col("claim_month").cast(pl.String).fill_null(""), "_row")
    )
    return rows.select([c.key for c in CLAIM_COLUMNS])


def _county_name(rf: RunFiles, code: pl.Expr) -> pl.Expr:
    """:meth:`RunFiles.county_name` as an expression."""
    return pl.when(code.fill_null("") == "").then(pl.lit(rf.county_name(None))) \
        .otherwise(code.replace(rf.county_names) if rf.county_names else code)


def person_rows(rows: pl.DataFrame) -> pl.DataFrame:
    """Per unit and (masked) person: claims, first and last month, money and rules, biggest first per county."""
    out = rows.group_by("unit_id", "person", maintain_order=True).agg(
        pl.col("county", "county_code", "unit_name", "name").first(),
        (pl.col("claim_id") != NO_CLAIM).sum().cast(pl.Int64).alias("claims"),
        pl.col("claim_month").min().alias("first_month"), pl.col("claim_month").max().alias("last_month"),
        pl.col("recover").sum().round(2),
        pl.col("rules").str.split("；").list.explode(keep_nulls=False, empty_as_null=False).unique().sort(),
    ).with_columns(pl.col("rules").list.eval(pl.element().filter(pl.element() != "")).list.join("；"))
    return out.sort(["county_code", "recover", "unit_id", "person"], descending=[False, True, False, False],
                    maintain_order=True).select([c.key for c in PERSON_COLUMNS])


def write_recovery(rf: RunFiles) -> pl.DataFrame:
    rows = recovery_rows(rf)
    book, fmt = workbook(str(inside(rf.run_dir, "recovery.xlsx")))
    used: set[str] = set()
    write_table(book, fmt, sheet_name("按单位和人员", used), f"{rf.month_label} " + NOTICE, PERSON_COLUMNS,
                person_rows(rows), total_of=("claims", "recover"))
    write_table(book, fmt, sheet_name("申领明细", used), f"{rf.month_label} " + NOTICE, CLAIM_COLUMNS, rows,
                total_of=("recover",))
    book.close()
    return rows
