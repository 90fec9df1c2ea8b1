"""Reports, exit lists, recovery list and the 汇总表 reconciliation, rendered from a run's files.

:func:`render_all` is what the pipeline calls after writing findings, and what ``audit report
RUN_DIR`` calls to re-render a finished run without re-running the checks. It writes
``report.html`` (self-contained), ``report.pdf`` (headless Chromium; skipped with a note when
Chromium is missing), ``exit_list.xlsx`` and ``exit_lists/<county_code>.xlsx``, ``recovery.xlsx``,
``summary_table.xlsx``, for a run made with a workspace ``outcomes/<county_code>.xlsx`` (the
outcomes forms), and ``render.json`` saying what was made (and why not, for the PDF).

Everything is read from the run directory through :class:`audit.rundir.RunDir`: the rules,
parameters and indicators the run recorded, not today's code, so an old run renders as it was.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from pathlib import Path
from typing import Any

from audit.outpaths import inside
from reports.data import load_run
from reports.exit_list import exit_units, write_exit_lists
from reports.outcomes_form import write_outcome_forms
from reports.pdf import find_chromium, print_pdf
from reports.recovery import write_recovery
from reports.render import render_report
from reports.summary_table import write_summary_table

log = logging.getLogger("audit")


def render_all(run_dir: Path) -> None:
    """Render every output of a run from its files."""
    status = render_run(Path(run_dir))
    if status.get("report_pdf") is False:
        log.warning("report.pdf not made: %s", status.get("pdf_note"))


def render_run(run_dir: Path, pdf: bool = True) -> dict[str, Any]:
    """Render everything (the PDF only when ``pdf``); returns (and writes to render.json) what was made.

    Raises :class:`audit.rundir.NotARunError` when ``run_dir`` is not the output of ``audit run``.
    """
    run_dir = Path(run_dir)
    rf = load_run(run_dir)
    policy = rf.policy
    html_path, pdf_path = inside(run_dir, "report.html"), inside(run_dir, "report.pdf")
    if not pdf:
        note = "本次未生成 PDF 版本。"
    else:
        note = "" if find_chromium() else "PDF 版本未生成：本机未安装 Chromium。"
    exits = exit_units(rf, policy)
    html_path.write_text(render_report(rf, policy, note, exits), encoding="utf-8")
    why = print_pdf(html_path, pdf_path) if not note else note
    if why:
        pdf_path.unlink(missing_ok=True)
        if not note:  # printing failed after the page was written: say so on the page too
            html_path.write_text(render_report(rf, policy, f"PDF 版本未生成：{why}。", exits), encoding="utf-8")
    write_exit_lists(rf, policy, exits)
    recovery = write_recovery(rf)
    summary = write_summary_table(rf)
    forms = write_outcome_forms(rf)  # a run made with a workspace: the outcomes form per county
    status = {
        "rendered_at": dt.datetime.now().replace(microsecond=0).isoformat(),
        "report_html": html_path.name,
        "report_pdf": why is None,
        "pdf_note": why or "",
        "exit_units": len(exits),
        "exit_lists": sorted(p.name for p in (run_dir / "exit_lists").glob("*.xlsx")),
        "recovery_rows": len(recovery),
        "summary_table": summary is not None,
        "outcome_forms": len(forms),
    }
    if rf.rundir.notes:  # a run made before a snapshot existed: what was read instead
        status["notes"] = list(rf.rundir.notes)
    inside(run_dir, "render.json").write_text(json.dumps(status, ensure_ascii=False, indent=2), encoding="utf-8")
    return status
