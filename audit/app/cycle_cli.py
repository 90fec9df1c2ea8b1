"""The monthly cycle's commands: ``audit outcomes import``, ``audit history``, ``audit diff``."""

from __future__ import annotations

import json
from pathlib import Path

import click
import polars as pl

from audit.app.outcomes import import_file
from audit.findings import DISMISSED, NEW, ONGOING_STATUS, STATUSES
from audit.rules import FAMILY_ZH, Family
from audit.rundir import RunDir
from audit.tables import month_end
from audit.workspace import Workspace
from audit.workspace.measures import performance, sample_results
from audit.workspace.status import latest_decisions
from audit.workspace.units import UNIT_STATES, current_states
from reports.xlsx import Column, sheet_name, workbook, write_table

WORKSPACE_OPTION = click.option("--workspace", "workspace", required=True,
                                type=click.Path(file_okay=False, path_type=Path),
                                help="工作区目录（由 `audit run … --workspace DIR` 建立） / The workspace directory (`audit run … --workspace DIR` made it).")


@click.group("outcomes")
def outcomes_group() -> None:
    """县区反馈的核查结果：核查结果表、核查结果文件、退回的退出名单。

    What the counties send back: outcomes forms, outcomes files, returned exit lists.

    \b
    示例 / Example:
      audit outcomes import out/2024-06/outcomes/360102.xlsx --workspace ws
    """


@outcomes_group.command("import")
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@WORKSPACE_OPTION
def outcomes_import(files: tuple[Path, ...], workspace: Path) -> None:
    """把县区反馈的核查结果记入工作区。

    Record returned outcomes in the workspace: an outcomes form, a CSV/XLSX in the contract's
    outcomes format (Chinese or canonical headers), or an exit list with 县区核实结论 filled in.

    Columns are found by their headers. Importing the same file again changes nothing; a row that
    cannot be read, or names an unknown finding, claim or unit, is quarantined with file, line,
    column and reason (exit code 1), and nothing recorded before is lost.

    \b
    示例 / Example:
      audit outcomes import out/2024-06/outcomes/360102.xlsx --workspace ws
      audit outcomes import returned/360102_exit_list.xlsx --workspace ws
    """
    quarantined = 0
    for path in files:
        report = import_file(path, workspace)
        click.echo(report.text())
        quarantined += report.quarantine.height
    raise SystemExit(1 if quarantined else 0)


# ---------------------------------------------------------------------------------------------


def overview(ws: Workspace) -> dict[str, pl.DataFrame]:
    """The workspace now: per month, per rule, per county, replies overdue, the sample, exits."""
    months = ws.months()
    if not months:
        return {}
    latest = months[-1]
    runs = ws.table("runs")
    reply_days = int(json.loads(runs.filter(pl.col("month") == latest)["settings_json"][0] or "{}").get("office.reply_days", 30))
    share = float(json.loads(runs.filter(pl.col("month") == latest)["settings_json"][0] or "{}").get(
        "office.false_alarm_share", 0.5))
    rows = ws.frame("SELECT month, finding_id, family, status FROM findings")
    per_month = []
    previous: set[str] = set()
    for month in months:
        now = rows.filter(pl.col("month") == month)
        counted = now.filter(pl.col("status") != DISMISSED)
        ids = set(counted["finding_id"].to_list())
        per_month.append({"month": month.strftime("%Y-%m"), "findings": counted.height,
                          **{s: int((now["status"] == s).sum()) for s in STATUSES},
                          "resolved": len(previous - set(now["finding_id"].to_list()))})
        previous = ids
    current = ws.table("findings", "WHERE month = ?", [latest])
    links = ws.table("finding_claims", "WHERE month = ?", [latest])
    counted = current.filter(pl.col("status") != DISMISSED)
    seen = ws.frame("SELECT finding_id, arg_max(rule_id, month) AS rule_id, arg_max(county_code, month) AS county_code "
                    "FROM findings GROUP BY finding_id").cast({"finding_id": pl.String, "rule_id": pl.String,
                                                               "county_code": pl.String})
    seen_links = ws.frame(
        "SELECT c.finding_id, c.claim_id, c.amount FROM finding_claims c JOIN (SELECT finding_id, max(month) AS month "
        "FROM findings GROUP BY finding_id) l ON c.finding_id = l.finding_id AND c.month = l.month")
    decisions = latest_decisions(ws.table("outcomes"))
    counted_links = links.join(counted.select("finding_id"), on="finding_id", how="semi").drop("month")
    by_rule = performance(counted, counted_links, seen, seen_links, decisions, "rule_id", share)
    by_county = performance(counted, counted_links, seen, seen_links, decisions, "county_code", share)
    end = month_end(latest)
    due = (pl.col("sent_month").dt.month_end() + pl.duration(days=reply_days))
    late = (current.join(decisions.select("finding_id", "outcome"), on="finding_id", how="left")
            .filter(pl.col("status").is_in([NEW, ONGOING_STATUS])
                    & (pl.col("outcome").is_null() | (pl.col("outcome") == "待核实")) & (due < end))
            .group_by(pl.col("county_code").fill_null("")).agg(pl.len().alias("overdue"), due.min().alias("oldest_due"))
            .sort("county_code"))
    sample = ws.table("sample").drop("month")
    states = current_states(ws.table("unit_events"))
    units = pl.DataFrame({"state": list(UNIT_STATES)}).join(
        states.group_by("state").len(), on="state", how="left").with_columns(pl.col("len").fill_null(0).alias("units")).drop("len")
    return {"months": pl.DataFrame(per_month), "rules": by_rule, "counties": by_county, "overdue": late,
            "sample": sample_results(sample, latest_decisions(ws.table("sample_outcomes"), key="claim_id")),
            "units": units}


def _print(title: str, frame: pl.DataFrame) -> None:
    click.echo(f"\n{title}")
    if frame.height == 0:
        click.echo("  （无 / none）")
        return
    with pl.Config(tbl_rows=200, tbl_cols=20, tbl_width_chars=200, tbl_hide_dataframe_shape=True,
                   tbl_hide_column_data_types=True, fmt_str_lengths=60):
        click.echo(str(frame))


TITLES = {
    "months": "各月问题状态 / findings by month and status (不属实 not counted)",
    "rules": "规则成效 / per rule: decided, hit rate (confirmed / decided), money at risk, recovered (mostly_false: 误报为主)",
    "counties": "县区成效 / per county",
    "overdue": "逾期未回复 / replies overdue, per county",
    "sample": "随机抽查 / random sample of unflagged claims: share of frauds the rules missed",
    "units": "摘牌进度 / units in the exit workflow",
}


def _write(path: Path, tables: dict[str, pl.DataFrame]) -> None:
    if path.suffix.lower() == ".xlsx":
        book, fmt = workbook(str(path))
        used: set[str] = set()
        for name, frame in tables.items():
            cols = [Column(c, c, "date" if frame.schema[c] == pl.Date else "text") for c in frame.columns]
            write_table(book, fmt, sheet_name(name, used), TITLES.get(name, name), cols, frame)
        book.close()
    else:  # a directory: one CSV per table
        path.mkdir(parents=True, exist_ok=True)
        for name, frame in tables.items():
            frame.write_csv(path / f"{name}.csv")


@click.command("history")
@WORKSPACE_OPTION
@click.option("--out", "out", type=click.Path(path_type=Path), default=None,
              help="另存各表：FILE.xlsx（每表一页）或目录下的 CSV 文件 / Also write the tables: to FILE.xlsx (one sheet each), or as CSV files into a directory.")
def history_cmd(workspace: Path, out: Path | None) -> None:
    """审计的成效与遗漏：按月、按规则和县区的问题状态、核实率和追回情况。

    What the audit is worth and what it misses: per month the findings by status, per rule and
    county the findings decided, hit rate, money at risk and money recovered, replies overdue, the
    random sample's results, and the units in the 摘牌 workflow.

    \b
    示例 / Example:
      audit history --workspace ws --out history.xlsx
    """
    with Workspace.open(workspace, create=False, read_only=True) as ws:
        tables = overview(ws)
        months = ws.months()
    if not tables:
        click.echo(f"{workspace}: 工作区中还没有运行 / no runs in the workspace yet")
        return
    click.echo(f"工作区 / workspace {workspace}: {', '.join(m.strftime('%Y-%m') for m in months)}")
    for name, frame in tables.items():
        _print(TITLES[name], frame)
    if out is not None:
        _write(out, tables)
        click.echo(f"→ {out}")


# ---------------------------------------------------------------------------------------------


def diff_runs(run_a: RunDir, run_b: RunDir) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(counts per family, and the findings) of new, persisting and resolved findings from run A to
    run B — by finding_id, the counted findings only (a 不属实 finding is in neither)."""
    a, b = run_a.findings(), run_b.findings()
    keep = ["finding_id", "family", "rule_id", "unit_id", "county_code", "amount_at_risk"]
    rows = pl.concat([
        b.join(a.select("finding_id"), on="finding_id", how="anti").select(keep).with_columns(pl.lit("new").alias("change")),
        b.join(a.select("finding_id"), on="finding_id", how="semi").select(keep).with_columns(pl.lit("persisting").alias("change")),
        a.join(b.select("finding_id"), on="finding_id", how="anti").select(keep).with_columns(pl.lit("resolved").alias("change")),
    ]).sort("change", "family", "rule_id", "finding_id")
    counts = rows.group_by("family").agg(*[(pl.col("change") == c).sum().cast(pl.Int64).alias(c)
                                           for c in ("new", "persisting", "resolved")]).sort("family")
    names = {f: _family_zh(f) for f in counts["family"].to_list()}
    counts = counts.with_columns(pl.col("family").replace_strict(names, return_dtype=pl.String).alias("family_zh"))
    total = counts.select(pl.lit("TOTAL").alias("family"), pl.col("new", "persisting", "resolved").sum(),
                          pl.lit("合计").alias("family_zh"))
    return pl.concat([counts, total]).select("family", "family_zh", "new", "persisting", "resolved"), rows


def _family_zh(family: str) -> str:
    try:
        return FAMILY_ZH[Family(family)]
    except ValueError:
        return family


@click.command("diff")
@click.argument("run_a", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.argument("run_b", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--out", "out", type=click.Path(dir_okay=False, path_type=Path), default=Path("diff.csv"),
              show_default=True, help="输出文件：.csv（计数）或 .xlsx（计数和问题明细） / Where to write the table: .csv (the counts) or .xlsx (counts and findings).")
def diff_cmd(run_a: Path, run_b: Path, out: Path) -> None:
    """比较两次运行：RUN_B 新发现、延续自 RUN_A 和已解决的问题（按类别）。

    The findings new in RUN_B, persisting from RUN_A and resolved since, by family — two run
    directories of `audit run`, usually a month and the month before (finding IDs are stable
    across months: the same facts keep their ID).

    \b
    示例 / Example:
      audit diff out/2024-05 out/2024-06 --out diff.xlsx
    """
    a, b = RunDir.open(run_a), RunDir.open(run_b)
    counts, rows = diff_runs(a, b)
    label = f"{a.run.get('audit_month', run_a.name)} → {b.run.get('audit_month', run_b.name)}"
    _print(f"新发现、持续与已解决的问题 / new, persisting and resolved findings, {label}", counts)
    if out.suffix.lower() == ".xlsx":
        book, fmt = workbook(str(out))
        used: set[str] = set()
        write_table(book, fmt, sheet_name("按类别", used), f"问题变化 {label}（不含不属实）",
                    [Column("family", "family"), Column("family_zh", "类别"), Column("new", "新发现", "int"),
                     Column("persisting", "持续", "int"), Column("resolved", "已解决", "int")], counts)
        write_table(book, fmt, sheet_name("明细", used), f"问题变化明细 {label}",
                    [Column(c, c, "money" if c == "amount_at_risk" else "text") for c in rows.columns], rows)
        book.close()
    else:
        counts.write_csv(out)
    click.echo(f"→ {out}")
