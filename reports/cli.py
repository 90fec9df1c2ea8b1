"""CLI command ``audit report``: re-render a run's reports from its files."""

from __future__ import annotations

from pathlib import Path

import click

from reports import render_run


@click.command("report")
@click.argument("run_dir", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--no-pdf", is_flag=True, help="不生成 report.pdf / Skip report.pdf (printing it takes headless Chromium a few seconds).")
def report_cmd(run_dir: Path, no_pdf: bool) -> None:
    """根据运行目录 RUN_DIR 重新生成报告、退出名单、追回清单和汇总表。

    Re-render report.html/.pdf, exit lists, recovery list and summary table from RUN_DIR.

    Reads the run's findings, links, run.json, normalised inputs, and the rules, parameters and
    indicators the run recorded; does not re-run the checks, so the run renders as it was made.
    A directory that is not the output of `audit run` is refused (exit code 2).

    \b
    示例 / Example:
      audit report out/demo
      audit report out/demo --no-pdf
    """
    status = render_run(run_dir, pdf=not no_pdf)
    for note in status.get("notes", []):
        click.echo(f"注意 / note: {note}", err=True)
    click.echo(f"已生成 / written: report.html{'、report.pdf' if status['report_pdf'] else ''}；"
               f"退出名单 exit_list.xlsx（{status['exit_units']:,} 家单位，分县区文件 {len(status['exit_lists']):,} 个）；"
               f"追回清单 recovery.xlsx（应追回 {status['recovery_rows']:,} 笔、应停止拨付 {status['stop_payment_rows']:,} 笔，"
               f"分县区文件 {len(status['recovery_lists']):,} 个）{'；汇总表 summary_table.xlsx' if status['summary_table'] else ''}")
    if not status["report_pdf"] and not no_pdf:
        click.echo(f"PDF 未生成 / no PDF: {status['pdf_note']}", err=True)
    click.echo(f"→ {run_dir}")
