"""CLI command ``audit report``: re-render a run's reports from its files."""

from __future__ import annotations

from pathlib import Path

import click


@click.command("report")
@click.argument("run_dir", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--no-pdf", is_flag=True, help="Skip report.pdf (printing it takes headless Chromium a few seconds).")
def report_cmd(run_dir: Path, no_pdf: bool) -> None:
    """Re-render report.html/.pdf, exit lists, recovery list and summary table from RUN_DIR.

    Reads the run's findings, links, run.json and normalised inputs; does not re-run the checks.

    \b
    Example:
      audit report out/demo
      audit report out/demo --no-pdf
    """
    from reports import render_run

    if not (run_dir / "findings.parquet").exists():
        raise click.ClickException(f"{run_dir} has no findings.parquet: run `audit run INPUT --month YYYY-MM --out {run_dir}` first")
    status = render_run(run_dir, pdf=not no_pdf)
    click.echo(f"report.html{'、report.pdf' if status['report_pdf'] else ''}、exit_list.xlsx（{status['exit_units']} 家单位）、"
               f"recovery.xlsx（{status['recovery_rows']} 行）{'、summary_table.xlsx' if status['summary_table'] else ''}")
    if not status["report_pdf"] and not no_pdf:
        click.echo(f"PDF 未生成：{status['pdf_note']}", err=True)
    click.echo(f"→ {run_dir}")
