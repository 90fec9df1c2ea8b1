"""Time and memory of each check, one at a time, on a generated world (a profile, not a test).

    python bench/bench_checks.py                       # 100 k trainees, seed 11
    python bench/bench_checks.py --trainees 1000000 --top 15
    python bench/bench_checks.py --trainees 1000000 --from-run bench/out/run_1000000_11 --only GHOST_TRAINEE

Loads and normalises the world once (as ``audit run`` does), then collects every registered
check the way the pipeline does, printing per check the wall seconds, CPU seconds and the growth
of peak RSS, heaviest first. The world is generated into bench/out/world_<N>_<seed>/ if missing
(shared with bench_run.py). Nothing here asserts a time.
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).parent


def _rss_gib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--trainees", type=int, default=100_000)
    ap.add_argument("--seed", type=int, default=11)
    ap.add_argument("--month", default="2024-06")
    ap.add_argument("--top", type=int, default=25, help="how many checks to list")
    ap.add_argument("--only", default="", help="comma-separated rule ids (prefixes) to run")
    ap.add_argument("--from-run", type=Path, default=None,
                    help="read the normalised tables of an earlier `audit run` over the same world (skips loading)")
    args = ap.parse_args()

    world = HERE / "out" / f"world_{args.trainees}_{args.seed}"
    if not (world / "claims.parquet").exists():
        subprocess.run([sys.executable, "-m", "audit", "fixtures", "generate", str(world), "--trainees",
                        str(args.trainees), "--seed", str(args.seed), "--format", "parquet"], check=True)

    import polars as pl

    from audit.app.pipeline import prepare_shared
    from audit.findings import finalise, finalise_skipped
    from audit.loader import load_inputs
    from audit.policy import Policy
    from audit.reference import load_reference
    from audit.rundir import REFERENCE_TABLES, RunDir, parse_month, scan_tables, write_reference
    from checks import CHECKS, SHARED

    policy = Policy.load()
    t0 = time.perf_counter()
    month = parse_month(args.month)
    with tempfile.TemporaryDirectory() as tmp:
        if args.from_run:  # the tables of an earlier run over this world, as it saw them: no loading
            tables = RunDir.open(args.from_run).tables()
        else:
            out = Path(tmp)
            loaded = load_inputs(world, out)  # staged, as audit run loads
            loaded.write(out)
            reference = load_reference(world, loaded)
            write_reference(out, {name: getattr(reference, name) for name in REFERENCE_TABLES})
            tables = scan_tables(out, month, month, present=loaded.tables)
            del loaded
        print(f"loaded in {time.perf_counter() - t0:.1f} s, peak {_rss_gib():.2f} GiB", flush=True)
        t1, c1 = time.perf_counter(), time.process_time()
        for result in SHARED:  # one at a time, in the pipeline's order (checks.build_shared)
            w0, c0, before = time.perf_counter(), time.process_time(), _rss_gib()
            rows = result(tables, policy).select(pl.len()).collect().item()
            print(f"  shared {result.name}: {time.perf_counter() - w0:.2f} s wall, {time.process_time() - c0:.2f} s CPU, "
                  f"{rows:,} rows, +{_rss_gib() - before:.2f} GiB peak", flush=True)
        prepare_shared(tables, policy)  # nothing left to build: each result is memoised
        print(f"shared intermediates in {time.perf_counter() - t1:.1f} s wall, {time.process_time() - c1:.1f} s CPU, "
              f"peak {_rss_gib():.2f} GiB", flush=True)
        only = tuple(p for p in args.only.split(",") if p)
        rows = []
        for check in CHECKS:
            if only and not check.rule.id.startswith(only):
                continue
            if tables.missing(check.rule.needs):
                continue
            before = _rss_gib()
            w0, c0 = time.perf_counter(), time.process_time()
            result = check(tables, policy)
            plans = [finalise(result.findings, check.rule)]
            if result.skipped is not None:
                plans.append(finalise_skipped(result.skipped, check.rule))
            found = pl.collect_all(plans)[0]
            rows.append((time.perf_counter() - w0, time.process_time() - c0, _rss_gib() - before, found.height,
                         check.rule.id))
        total_w = sum(r[0] for r in rows)
        total_c = sum(r[1] for r in rows)
        print(f"{len(rows)} checks: {total_w:.1f} s wall, {total_c:.1f} s CPU; peak {_rss_gib():.2f} GiB")
        print(f"{'wall s':>8}{'cpu s':>8}{'+peak GiB':>11}{'findings':>10}  rule")
        for w, c, m, n, rid in sorted(rows, reverse=True)[: args.top]:
            print(f"{w:8.2f}{c:8.2f}{m:11.2f}{n:10,}  {rid}")


if __name__ == "__main__":
    main()
