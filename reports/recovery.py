"""recovery.xlsx and recovery_lists/<code>_<name>.xlsx: the claims that should not have been
paid (应追回) and those that should not be (应停止拨付), per county.

Each claim appears once, with its money at risk (the largest amount any finding puts on it,
never more than was paid — RULES.md §8), the rules that put it at risk and their citations.
Findings that put money at risk without naming claims are listed with their own amount, as to
recover. A claim without a 拨付日期 was not paid (RULES.md §8, "Unpaid claims"): there is nothing
to recover, it is listed apart as 应停止拨付 — never on the recovery list. Where the export has no
拨付日期 column at all every claim is taken as paid, and the notice says so.

``recovery.xlsx`` is the province's summary, one row per county; each county is sent its own
file, ``recovery_lists/<code>_<name>.xlsx`` (a county reads its own lines, not a national list):
the paid claims by unit and trainee, then claim by claim, then the unpaid claims.

ID numbers are masked here too, although this is an internal working file: subsidies are
recovered from the unit that claimed them, the county identifies every line by its 申领编号 and
协议编号 in its own system (which holds the full 身份证号), and a spreadsheet travels by e-mail and
USB stick far more easily than the system it came from. So no full ID leaves the audit.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl

from audit.findings import STATUSES
from audit.masking import mask_id
from audit.outpaths import inside
from reports.data import RunFiles, claim_money, unlinked_money, with_county
from reports.xlsx import Column, county_file_name, sheet_name, workbook, write_table

NOTICE = ("应追回清单（已拨付的申领）— 审计线索与建议，须由县区人社部门核实确认后依规追回。每笔申领只列一次，金额为各问题中最大者"
          "且不超过实际申领额。身份证号已脱敏：请按申领编号、协议编号在经办系统中查询。")
NOTICE_STOP = ("应停止拨付清单（尚无拨付日期的申领）— 资金尚未拨出，无需追回：须由县区人社部门核实确认后停止拨付。每笔申领只列一次，"
               "金额为各问题中最大者且不超过申领额。身份证号已脱敏：请按申领编号、协议编号在经办系统中查询。")
NOTICE_SUMMARY = ("应追回与应停止拨付汇总 — 审计线索与建议，各县区明细见 recovery_lists/ 下本县区的文件，须由县区人社部门核实确认。"
                  "已拨付（有拨付日期）的申领应追回，尚未拨付的应停止拨付。")
NOTICE_NO_PAID_DATE = "本次申领数据没有“拨付日期”一列，无法区分是否已拨付：全部按已拨付列入应追回。"
RECOVERY_DIR = "recovery_lists"

CLAIM_COLUMNS = [
    Column("county", "县区"), Column("county_code", "区划代码"), Column("unit_name", "单位名称"),
    Column("unit_id", "统一社会信用代码"), Column("name", "见习人员姓名"), Column("person", "身份证号（脱敏）"),
    Column("claim_id", "申领编号"), Column("agreement_id", "协议编号"), Column("claim_month", "补贴所属月份", "date"),
    Column("claim_type", "补贴类型"), Column("paid", "申领金额（元）", "money"), Column("paid_date", "拨付日期", "date"),
    Column("recover", "应追回金额（元）", "money"), Column("rules", "问题", "wrap", 40),
    Column("citations", "依据", "wrap", 36), Column("finding_ids", "问题编号", "wrap", 20), Column("status", "审计状态"),
]
STOP_COLUMNS = [c if c.key != "recover" else Column("recover", "应停止拨付金额（元）", "money")
                for c in CLAIM_COLUMNS if c.key != "paid_date"]
PERSON_COLUMNS = [
    Column("county", "县区"), Column("county_code", "区划代码"), Column("unit_name", "单位名称"),
    Column("unit_id", "统一社会信用代码"), Column("name", "见习人员姓名"), Column("person", "身份证号（脱敏）"),
    Column("claims", "申领笔数", "int"), Column("first_month", "最早月份", "date"), Column("last_month", "最晚月份", "date"),
    Column("recover", "应追回金额（元）", "money"), Column("rules", "问题", "wrap", 40),
]
SUMMARY_COLUMNS = [
    Column("county", "县区"), Column("county_code", "区划代码"), Column("units", "涉及单位数", "int"),
    Column("persons", "涉及人员数", "int"), Column("recover_claims", "应追回申领笔数", "int"),
    Column("recover", "应追回金额（元）", "money"), Column("stop_claims", "应停止拨付申领笔数", "int"),
    Column("stop_payment", "应停止拨付金额（元）", "money"), Column("file", "本县区明细文件"),
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

    Columns: the keys of :data:`CLAIM_COLUMNS`, and ``is_paid`` (应追回 when true, 应停止拨付 when
    not: :func:`audit.totals.claim_money`). Built in polars over the claims at risk; only the
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
        pl.col("paid").alias("is_paid"),
    )
    loose = with_county(rf, unlinked_money(rf, rf.findings)).drop("status", strict=False).with_row_index(
        "_row", offset=per_claim.height)
    loose_rows = _with_titles(loose, pl.concat_list("finding_id"), rules, rf.findings).select(
        "_row", "county_code", "unit_id", "person_id", pl.lit(NO_CLAIM).alias("claim_id"), pl.lit("").alias("agreement_id"),
        pl.col("period_start").alias("claim_month"), pl.lit("").alias("claim_type"), pl.lit(None, pl.Float64).alias("paid"),
        pl.lit(None, pl.Date).alias("paid_date"), pl.col("amount_at_risk").cast(pl.Float64).round(2).alias("recover"),
        pl.col("finding_id").alias("finding_ids"), "rules", "citations", "status", pl.lit(True).alias("is_paid"),
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
    return rows.select([c.key for c in CLAIM_COLUMNS] + ["is_paid"])


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


def summary_rows(rows: pl.DataFrame, files: dict[str, str]) -> pl.DataFrame:
    """Per county: units, persons, and the claims and money to recover and to stop paying."""
    paid = pl.col("is_paid")
    return rows.group_by("county_code", maintain_order=True).agg(
        pl.col("county").first(), pl.col("unit_id").filter(pl.col("unit_id") != "").n_unique().alias("units"),
        pl.col("person").filter(pl.col("person") != "").n_unique().alias("persons"),
        (paid & (pl.col("claim_id") != NO_CLAIM)).sum().cast(pl.Int64).alias("recover_claims"),
        pl.col("recover").filter(paid).sum().round(2).alias("recover"),
        (~paid).sum().cast(pl.Int64).alias("stop_claims"),
        pl.col("recover").filter(~paid).sum().round(2).alias("stop_payment"),
    ).sort("county_code").with_columns(
        pl.col("county_code").replace_strict(files, default="", return_dtype=pl.String).alias("file")
    ).select([c.key for c in SUMMARY_COLUMNS])


def _write_county(path: Path, rf: RunFiles, rows: pl.DataFrame, extra: str) -> None:
    """One county's file: the paid claims by unit and trainee and claim by claim, the unpaid apart."""
    name = rows["county"][0] if rows.height else ""
    paid, unpaid = rows.filter(pl.col("is_paid")), rows.filter(~pl.col("is_paid"))
    book, fmt = workbook(str(path))
    used: set[str] = set()
    head = f"{rf.month_label} {name} "
    write_table(book, fmt, sheet_name("应追回（按单位和人员）", used), head + NOTICE + extra, PERSON_COLUMNS,
                person_rows(paid), total_of=("claims", "recover"))
    write_table(book, fmt, sheet_name("应追回申领明细", used), head + NOTICE + extra, CLAIM_COLUMNS,
                paid.select([c.key for c in CLAIM_COLUMNS]), total_of=("recover",))
    write_table(book, fmt, sheet_name("应停止拨付", used), head + NOTICE_STOP, STOP_COLUMNS,
                unpaid.select([c.key for c in STOP_COLUMNS]), total_of=("recover",))
    book.close()


def write_recovery(rf: RunFiles) -> pl.DataFrame:
    """recovery.xlsx (the summary per county) and recovery_lists/<code>_<name>.xlsx per county;
    returns the rows (every claim at risk, paid or not)."""
    rows = recovery_rows(rf)
    extra = "" if rf.paid_date_exported else NOTICE_NO_PAID_DATE
    folder = inside(rf.run_dir, RECOVERY_DIR)
    folder.mkdir(exist_ok=True)
    # a file per six-digit county code; every other code (none, or not GB/T 2260) shares unknown.xlsx
    files = {code: county_file_name(code, rf.county_names.get(code)) for code in rows["county_code"].unique().to_list()}
    by_file = rows.with_columns(pl.col("county_code").replace_strict(files, return_dtype=pl.String).alias("_file"))
    for (name,), part in by_file.partition_by("_file", as_dict=True, maintain_order=True).items():
        _write_county(inside(folder, name), rf, part.drop("_file"), extra)
    book, fmt = workbook(str(inside(rf.run_dir, "recovery.xlsx")))
    write_table(book, fmt, sheet_name("汇总", set()), f"{rf.month_label} " + NOTICE_SUMMARY + extra, SUMMARY_COLUMNS,
                summary_rows(rows, {k: f"{RECOVERY_DIR}/{v}" for k, v in files.items()}),
                total_of=("units", "persons", "recover_claims", "recover", "stop_claims", "stop_payment"))
    book.close()
    return rows
