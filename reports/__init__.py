"""Reports, exit lists, recovery list and the 汇总表 reconciliation, rendered from a run's files.

:func:`render_all` is what the pipeline calls after writing findings, and what ``audit report
RUN_DIR`` calls to re-render a finished run without re-running the checks. It writes
``report.html`` (self-contained), ``report.pdf`` (headless Chromium; skipped with a note when
Chromium is missing), ``exit_list.xlsx`` and ``exit_lists/<code>_<name>.xlsx``, ``recovery.xlsx``
and ``recovery_lists/<code>_<name>.xlsx``, ``summary_table.xlsx``, for a run made with a workspace
``outcomes/<county_code>.xlsx`` (the outcomes forms), and ``render.json`` saying what was made (and
why not, for the PDF) with the manifest of the files it wrote: a re-render removes exactly those first.

Everything is read from the run directory through :class:`audit.rundir.RunDir`: the rules,
parameters and indicators the run recorded, not today's code, so an old run renders as it was.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from audit.outpaths import inside
from audit.rundir import MANIFEST_KEY, previous_outputs, remove_outputs, written_since
from reports.data import load_run
from reports.exit_list import exit_units, write_exit_lists
from reports.outcomes_form import write_outcome_forms
from reports.pdf import find_chromium, print_pdf
from reports.recovery import write_recovery
from reports.render import render_report
from reports.summary_table import write_summary_table

log = logging.getLogger("audit")

#: what a render writes (the manifest render.json keeps, :mod:`audit.rundir`)
RENDER_OUTPUTS = ("render.json", "report.html", "report.pdf", "exit_list.xlsx", "recovery.xlsx", "summary_table.xlsx",
                  "exit_lists/*.xlsx", "recovery_lists/*.xlsx", "outcomes/*.xlsx")


def render_all(run_dir: Path, cases_ready: Callable[[], Iterable[str] | None] | None = None) -> None:
    """Render every output of a run from its files (``cases_ready`` as :func:`render_run` takes it)."""
    status = render_run(Path(run_dir), cases_ready=cases_ready)
    if status.get("report_pdf") is False:
        log.warning("report.pdf not made: %s", status.get("pdf_note"))


def render_run(run_dir: Path, pdf: bool = True,
               cases_ready: Callable[[], Iterable[str] | None] | None = None) -> dict[str, Any]:
    """Render everything (the PDF only when ``pdf``); returns (and writes to render.json) what was made.

    The report (and its PDF, printed by Chromium in a child process) is made in a second thread
    while this one writes the lists (bench/NOTES.md, "Rendering"). ``cases_ready``, when given,
    is called there before the report reads ``cases.parquet`` (its case table links each case's
    graph): the pipeline writes the cases in a third thread meanwhile, and ``cases_ready``
    returns the graph files that thread is still drawing (linked as the files it will be).

    Raises :class:`audit.rundir.NotARunError` when ``run_dir`` is not the output of ``audit run``.
    """
    run_dir = Path(run_dir)
    started = time.time()
    rf = load_run(run_dir, cases=cases_ready is None)
    # what the previous render wrote goes first (by its manifest): a county no longer listed
    # leaves no file behind, and nothing else in the directory is touched
    remove_outputs(run_dir, previous_outputs(run_dir, "render.json"), keep_since=started)
    policy = rf.policy
    html_path, pdf_path = inside(run_dir, "report.html"), inside(run_dir, "report.pdf")
    exits = exit_units(rf, policy)  # before the threads: it fills rf.memo, which both then read

    def report() -> str | None:
        """report.html and report.pdf; why the PDF was not made (None when it was)."""
        if cases_ready is not None:
            rf.graphs_drawing = frozenset(cases_ready() or ())
            rf.cases = rf.rundir.cases()
        if not pdf:
            note = "本次未生成 PDF 版本。"
        else:
            note = "" if find_chromium() else "PDF 版本未生成：本机未安装 Chromium。"
        html_path.write_text(render_report(rf, policy, note, exits), encoding="utf-8")
        why = print_pdf(html_path, pdf_path) if not note else note
        if why:
            pdf_path.unlink(missing_ok=True)
            if not note:  # printing failed after the page was written: say so on the page too
                html_path.write_text(render_report(rf, policy, f"PDF 版本未生成：{why}。", exits), encoding="utf-8")
        return why

    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="report") as pool:
        printed = pool.submit(report)
        write_exit_lists(rf, policy, exits)
        recovery = write_recovery(rf)
        summary = write_summary_table(rf)
        forms = write_outcome_forms(rf)  # a run made with a workspace: the outcomes form per county
        why = printed.result()
    written = sorted({*written_since(run_dir, started, RENDER_OUTPUTS), "render.json"})
    status = {
        "rendered_at": dt.datetime.now().replace(microsecond=0).isoformat(),
        "report_html": html_path.name,
        "report_pdf": why is None,
        "pdf_note": why or "",
        "exit_units": len(exits),
        "exit_lists": [Path(w).name for w in written if w.startswith("exit_lists/")],
        "recovery_rows": int(recovery["is_paid"].sum()),
        "stop_payment_rows": int((~recovery["is_paid"]).sum()),
        "recovery_lists": [Path(w).name for w in written if w.startswith("recovery_lists/")],
        "summary_table": summary is not None,
        "outcome_forms": len(forms),
    }
    if rf.rundir.notes:  # a run made before a snapshot existed: what was read instead
        status["notes"] = list(rf.rundir.notes)
    status[MANIFEST_KEY] = written
    inside(run_dir, "render.json").write_text(json.dumps(status, ensure_ascii=False, indent=2), encoding="utf-8")
    return status
