"""Time and peak memory of a full monthly run (`audit run`) on a generated world.

    python bench/bench_run.py                          # 100 k trainees
    python bench/bench_run.py --trainees 1000000       # national scale: ~8 M claims, ~30 M insurance rows
    python bench/bench_run.py --workspace [DIR]        # the same run as one month of the monthly cycle

The world is generated once into bench/out/world_<N>_<seed>/ (Parquet) and reused. The run is
made in a child process so that its peak memory is the run's alone: the resident memory of the run
and its validation process together, sampled (and the larger one's own ru_maxrss beside it);
stages (load, validate, checks) come from the run's own run.json. Rendering (reports, exit
lists, graphs) is timed separately with --render. With --workspace the run is made with a
workspace that already holds the month before (a first, untimed run fills it), as every month
after the first is: the workspace's stages (statuses, the sample, the 摘牌 workflow, the outcomes
forms, the one transaction) are in stages_s and their sum in workspace_s. Prints one line and
writes bench/results_run.json. A benchmark, not a test: nothing here asserts a time.
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

HERE = Path(__file__).parent


class TreeMemory:
    """The resident memory of a process and its children together, sampled every 50 ms from
    /proc (``ru_maxrss`` gives each process's own peak only: the run's validation process runs
    beside it, audit.app.validator)."""

    def __init__(self, pid: int) -> None:
        self.pid, self.peak_kib, self._done = pid, 0, threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()

    def _pids(self) -> list[int]:
        pids, i = [self.pid], 0
        while i < len(pids):
            try:
                pids += [int(c) for c in Path(f"/proc/{pids[i]}/task/{pids[i]}/children").read_text().split()]
            except OSError:
                pass
            i += 1
        return pids

    def _sample(self) -> None:
        while not self._done.wait(0.05):
            total = 0
            for pid in self._pids():
                try:
                    status = Path(f"/proc/{pid}/status").read_text()
                except OSError:
                    continue
                total += next((int(line.split()[1]) for line in status.splitlines() if line.startswith("VmRSS:")), 0)
            self.peak_kib = max(self.peak_kib, total)

    def stop(self) -> None:
        self._done.set()
        self._thread.join()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--trainees", type=int, default=100_000)
    ap.add_argument("--seed", type=int, default=11)
    ap.add_argument("--month", default="2024-06")
    ap.add_argument("--render", action="store_true", help="also render reports, exit lists and graphs")
    ap.add_argument("--workspace", nargs="?", type=Path, const=Path(), default=None, metavar="DIR",
                    help="run as a month of the monthly cycle, with a workspace holding the month before "
                         "(in DIR, emptied first; default bench/out/ws_<N>_<seed>)")
    ap.add_argument("--out", type=Path, default=HERE / "results_run.json")
    args = ap.parse_args()

    world = HERE / "out" / f"world_{args.trainees}_{args.seed}"
    if not (world / "claims.parquet").exists():
        t0 = time.perf_counter()
        subprocess.run([sys.executable, "-m", "audit", "fixtures", "generate", str(world), "--trainees",
                        str(args.trainees), "--seed", str(args.seed), "--format", "parquet"], check=True)
        print(f"generated {args.trainees:,} trainees in {time.perf_counter() - t0:.1f} s", flush=True)
    run_dir = HERE / "out" / f"run_{args.trainees}_{args.seed}"
    cmd = [sys.executable, "-m", "audit", "run", str(world), "--month", args.month, "--out", str(run_dir), "--quiet"]
    if not args.render:
        cmd.append("--no-render")
    if args.workspace is not None:
        workspace = args.workspace if args.workspace != Path() else HERE / "out" / f"ws_{args.trainees}_{args.seed}"
        shutil.rmtree(workspace, ignore_errors=True)
        year, month = map(int, args.month.split("-"))
        prior = f"{year - (month == 1)}-{(month - 2) % 12 + 1:02d}"
        first = subprocess.run([sys.executable, "-m", "audit", "run", str(world), "--month", prior, "--out",
                                str(HERE / "out" / f"run_{args.trainees}_{args.seed}_{prior}"), "--quiet",
                                "--no-render", "--workspace", str(workspace)], capture_output=True, text=True)
        if first.returncode not in (0, 1):  # 1: findings, as every month has
            sys.stderr.write(first.stdout + first.stderr)
            raise SystemExit(f"the month before ({prior}) failed with exit code {first.returncode}")
        cmd += ["--workspace", str(workspace)]
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    t0 = time.perf_counter()
    with subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) as child:
        tree = TreeMemory(child.pid)
        out, err = child.communicate()
        tree.stop()
    proc = subprocess.CompletedProcess(cmd, child.returncode, out, err)
    seconds = time.perf_counter() - t0
    peak_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    if proc.returncode not in (0, 1):
        sys.stderr.write(proc.stdout + proc.stderr)
        raise SystemExit(f"audit run failed with exit code {proc.returncode}")
    run = json.loads((run_dir / "run.json").read_text(encoding="utf-8"))
    rows = {r["table"]: r.get("rows_read") for r in run.get("inputs", []) if isinstance(r, dict) and "table" in r}
    result = {
        "trainees": args.trainees,
        "seconds": round(seconds, 1),
        # the run and its validation process together (sampled), and the larger process alone
        "peak_rss_gib": round(max(tree.peak_kib, peak_kib) / 2**20, 2),
        "peak_rss_one_process_gib": round(max(peak_kib, before) / 2**20, 2),
        "stages_s": run.get("timings_s", {}),
        "rows": rows,
        "findings": next((r["findings"] for r in run.get("by_family", []) if r["family"] == "TOTAL"), None),
        "render": args.render,
        "workspace": args.workspace is not None,
        "workspace_s": round(sum(v for k, v in run.get("timings_s", {}).items()
                                 if k in ("statuses", "workspace", "workspace_commit")), 2),
    }
    print(json.dumps(result, ensure_ascii=False, indent=2))
    args.out.write_text(json.dumps(result, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
