"""Time and size of ``audit fixtures generate`` for 10 k, 100 k and 1 M trainees.

    python bench/bench_generate.py                 # 10k and 100k, CSV and Parquet
    python bench/bench_generate.py --sizes 10000,100000,1000000 --formats parquet

Prints one line per run (trainees, format, seconds, rows, files' size on disk) and writes the
numbers as JSON to bench/results_generate.json. Each run is a fresh process-free call of
:func:`fixtures.generate.generate` into a temporary directory, removed afterwards.
"""

from __future__ import annotations

import argparse
import json
import shutil
import tempfile
import time
from pathlib import Path

from fixtures.generate import generate
from fixtures.world import Config


def _size(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="10000,100000")
    ap.add_argument("--formats", default="csv,parquet")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--out", type=Path, default=Path(__file__).with_name("results_generate.json"))
    args = ap.parse_args()
    results = []
    for n in (int(s) for s in args.sizes.split(",")):
        for fmt in args.formats.split(","):
            tmp = Path(tempfile.mkdtemp(prefix=f"gen{n}_"))
            t0 = time.perf_counter()
            summary = generate(tmp / "world", Config(trainees=n, seed=args.seed, fmt=fmt))
            seconds = time.perf_counter() - t0
            row = {"trainees": n, "format": fmt, "seconds": round(seconds, 1), "rows": sum(summary["sizes"].values()),
                   "claims": summary["sizes"]["claims"], "social_insurance": summary["sizes"]["social_insurance"],
                   "bytes": _size(tmp / "world"), "cases": summary["cases"]}
            results.append(row)
            print(f"{n:>9,} trainees  {fmt:<8} {seconds:7.1f} s  {row['rows']:>12,} rows  "
                  f"{row['bytes'] / 2**20:9.1f} MiB  ({row['claims']:,} claims, {row['social_insurance']:,} insurance rows)",
                  flush=True)
            shutil.rmtree(tmp)
    args.out.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
