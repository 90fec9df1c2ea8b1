"""Benchmark: the rendering of a finished run (what ``audit.app.pipeline.render_outputs`` does), stage by stage.

    python bench/bench_render.py RUN_DIR             # graph + every report output, PDF apart
    python bench/bench_render.py RUN_DIR --pdf       # also print report.pdf with headless Chromium
    python bench/bench_render.py RUN_DIR --only graph|reports
    python bench/bench_render.py RUN_DIR --as-run    # render_outputs itself, as ``audit run`` calls it

RUN_DIR is the output directory of ``audit run`` (``--no-render`` is enough); its outputs are
overwritten, so give it a copy. Stages, in the pipeline's order: ``write_run_graphs`` (edges,
cases.parquet, the top cases' viewers), then the steps of ``reports.render_run``: loading the
run's files, the exit units, report.html, the exit lists (the province's and one per county), the
recovery lists (recovery.xlsx and one per county), summary_table.xlsx, the outcomes forms (a run
made with a workspace) and, with ``--pdf``, the Chromium print (a child process: its CPU is shown
apart, and its memory is not in the peak). The run renders the cases in a second thread while
the lists are written (``audit.app.pipeline.render_outputs``): ``--as-run`` times that call as
one stage, PDF included, instead of the stages one after another. Each line gives wall seconds, CPU seconds of this process (all its threads)
and the peak resident memory of this process during the stage (sampled every 20 ms). A benchmark, not a test: nothing here
asserts a time. Other jobs on the machine inflate wall time; CPU seconds are the steadier figure.
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

_PAGE = os.sysconf("SC_PAGE_SIZE")


class Peak:
    """Peak RSS of this process since the last :meth:`reset`, sampled from /proc in a thread."""

    def __init__(self, every_s: float = 0.02):
        self.every_s, self.peak, self._stop = every_s, 0, threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    @staticmethod
    def rss() -> int:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * _PAGE

    def _run(self) -> None:
        while not self._stop.wait(self.every_s):
            self.peak = max(self.peak, self.rss())

    def reset(self) -> None:
        self.peak = self.rss()


ROWS: list[tuple[str, float, float, float]] = []


@contextmanager
def stage(name: str, peak: Peak) -> Iterator[None]:
    peak.reset()
    w0, c0, k0 = time.perf_counter(), time.process_time(), _children_cpu()
    yield
    wall, cpu, children = time.perf_counter() - w0, time.process_time() - c0, _children_cpu() - k0
    peak.peak = max(peak.peak, peak.rss())
    ROWS.append((name, wall, cpu, peak.peak / 2**30))
    more = f"   (+{children:.1f} s CPU in child processes)" if children >= 0.05 else ""
    print(f"{name:<22} {wall:8.1f} s wall {cpu:8.1f} s CPU   peak {peak.peak / 2**30:5.2f} GiB{more}", flush=True)


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("run_dir", type=Path)
    ap.add_argument("--pdf", action="store_true", help="also print report.pdf (Chromium, timed apart)")
    ap.add_argument("--only", choices=("graph", "reports"), default=None)
    ap.add_argument("--as-run", action="store_true", help="time render_outputs as the run calls it (PDF included)")
    args = ap.parse_args()
    run_dir: Path = args.run_dir

    from audit.app.cases import write_run_cases
    from audit.app.pipeline import render_outputs
    from reports.data import load_run
    from reports.exit_list import exit_units, write_exit_lists
    from reports.outcomes_form import write_outcome_forms
    from reports.recovery import write_recovery
    from reports.render import render_report
    from reports.summary_table import write_summary_table

    peak = Peak()
    print(f"{run_dir}  load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs", flush=True)
    if args.as_run:
        with stage("render_outputs", peak):
            render_outputs(run_dir)
        return
    if args.only in (None, "graph"):
        with stage("write_run_cases", peak):
            write_run_cases(run_dir)
    if args.only in (None, "reports"):
        with stage("load_run", peak):
            rf = load_run(run_dir)
            policy = rf.policy
        with stage("exit_units", peak):
            exits = exit_units(rf, policy)
        html = run_dir / "report.html"
        with stage("report.html", peak):
            html.write_text(render_report(rf, policy, "本次未生成 PDF 版本。" if not args.pdf else "", exits), encoding="utf-8")
        with stage("exit lists", peak):
            write_exit_lists(rf, policy, exits)
        with stage("recovery lists", peak):
            rows = write_recovery(rf)
        with stage("summary_table.xlsx", peak):
            write_summary_table(rf)
        with stage("outcomes forms", peak):
            write_outcome_forms(rf)
        counties = len(list((run_dir / "recovery_lists").glob("*.xlsx")))
        print(f"  {len(exits):,} exit units in {len(list((run_dir / 'exit_lists').glob('*.xlsx'))):,} county files, "
              f"{int(rows['is_paid'].sum()):,} recovery rows and {int((~rows['is_paid']).sum()):,} to stop paying "
              f"in {counties:,} county files", flush=True)
        if args.pdf:
            from reports.pdf import print_pdf

            with stage("report.pdf (Chromium)", peak):
                why = print_pdf(html, run_dir / "report.pdf")
            if why:
                print(f"  PDF not made: {why}")
    total = [r for r in ROWS if not r[0].startswith("report.pdf")]
    print(f"{'TOTAL (PDF apart)':<22} {sum(r[1] for r in total):8.1f} s wall {sum(r[2] for r in total):8.1f} s CPU   "
          f"peak {max((r[3] for r in total), default=0):5.2f} GiB  (ru_maxrss "
          f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20:.2f} GiB)")


if __name__ == "__main__":
    main()
