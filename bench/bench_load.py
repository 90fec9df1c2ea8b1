"""Benchmark: load, write and validate 1 M trainees / 8 M claims / 30 M social-insurance rows.

Not a test: a script that reports wall time and peak memory of ``load_inputs`` + ``write`` +
``validate`` + ``write_validation`` on Parquet inputs the size of a province's registries, staged
as ``audit run`` loads (each table written to Parquet as it is normalised; ``--in-memory`` for
the in-memory load). The inputs are generated once, vectorised with numpy and polars, into
``bench/out/inputs-scale<S>`` (reused on the next run; ``--regenerate`` makes new ones). Generation and measurement run in separate
child processes so the peak memory reported (``ru_maxrss`` of the measuring process) is that of
the audit alone. Target on the 2-core, 24 GB reference machine: under 60 s and 6 GB.

The inputs look like exports: IDs and codes as strings (about 0.5 % legacy 15-digit IDs, some
bad check digits and lower-case ``x``), claim months as ``2023-07`` and insurance months as
``202307`` strings (so the month parsers run on every row), dates as Parquet dates, amounts as
floats, a few unreadable months (quarantined) and a few exact duplicate rows (collapsed).

Usage::

    python bench/bench_load.py              # generate if needed, then measure
    python bench/bench_load.py --scale 0.1  # a tenth of the size (quick look)
    AUDIT_DEBUG=1 python bench/bench_load.py --scale 0.1  # with the loader's per-column timings
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import polars as pl

ROOT = Path(__file__).resolve().parent
SIZES = {  # rows at scale 1
    "units": 60_000, "trainees": 1_000_000, "agreements": 1_100_000, "claims": 8_000_000,
    "social_insurance": 30_000_000, "positions": 120_000, "employment": 600_000, "market_registry": 60_000,
    "retention_declarations": 120_000, "deaths": 5_000, "allowance_payments": 2_000_000,
}
COUNTIES = np.array(["430102", "430103", "360102", "360111", "410102", "410105", "530102", "530103", "620102", "620103"])


def _person_ids(n: int, rng: np.random.Generator) -> pl.Series:
    from audit.normalise import person_id_check_char

    births = pl.Series(rng.integers(0, 14 * 365, n)).cast(pl.Int32)
    frame = pl.DataFrame({
        "county": COUNTIES[rng.integers(0, len(COUNTIES), n)],
        "birth": births,
        "seq": rng.permutation(n) % 1000,
    }).with_columns(
        birth=(pl.date(1990, 1, 1) + pl.duration(days=pl.col("birth"))).dt.strftime("%Y%m%d"),
        seq=pl.col("seq").cast(pl.String).str.zfill(3),
    )
    body = frame.select(body=pl.concat_str("county", "birth", "seq"))
    # IDs must be distinct: a repeated body gets its serial bumped by the row number
    body = body.with_row_index().with_columns(
        body=pl.when(pl.col("body").is_first_distinct()).then("body")
        .otherwise(pl.concat_str(pl.col("body").str.slice(0, 14), (pl.col("index") % 1000).cast(pl.String).str.zfill(3)))
    ).unique("body", keep="first").select("body")
    return body.select(pl.concat_str("body", person_id_check_char(pl.col("body")))).to_series().alias("person_id")


def _uscc(n: int, rng: np.random.Generator) -> pl.Series:
    from audit.normalise import USCC_ALPHABET, uscc_check_char

    alphabet = np.array(list(USCC_ALPHABET))
    chars = [pl.Series(alphabet[rng.integers(0, 31, n)]) for _ in range(8)]
    body = pl.DataFrame({"county": COUNTIES[rng.integers(0, len(COUNTIES), n)]}).select(
        body=pl.concat_str(pl.lit("91"), "county", pl.lit("M"), *[pl.lit(c) for c in chars])
    )
    body = body.unique(keep="first")
    return body.select(pl.concat_str("body", uscc_check_char(pl.col("body")))).to_series().alias("unit_id")


def generate(out: Path, scale: float, seed: int = 7) -> None:
    """Write the bench inputs (Parquet) into ``out``, vectorised."""
    rng = np.random.default_rng(seed)
    n = {k: max(10, int(v * scale)) for k, v in SIZES.items()}
    out.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()

    units = _uscc(n["units"], rng)
    nu = units.len()
    unit_frame = pl.select(**{"unit_id": units}).with_columns(
        unit_name=pl.format("见习单位{}", pl.int_range(pl.len())),
        county_code=pl.Series(COUNTIES[rng.integers(0, len(COUNTIES), nu)]),
        staff_count=pl.Series(rng.integers(3, 500, nu)),
        is_benchmark=pl.Series(rng.random(nu) < 0.05),
        approved_date=pl.date(2019, 1, 1) + pl.duration(days=pl.Series(rng.integers(0, 1500, nu))),
    )
    unit_frame.write_parquet(out / "units.parquet")

    pids = _person_ids(n["trainees"], rng)
    npid = pids.len()
    # 0.5 % legacy 15-digit numbers, 0.1 % lower-case x, 0.05 % bad check digit
    kind = rng.random(npid)
    trainee_ids = pl.select(**{"p": pids, "k": kind}).select(
        pl.when(pl.col("k") < 0.005).then(pl.col("p").str.slice(0, 6) + pl.col("p").str.slice(8, 9))
        .when(pl.col("k") < 0.006).then(pl.col("p").str.to_lowercase())
        .when(pl.col("k") < 0.0065).then(pl.col("p").str.slice(0, 17) + "0")
        .otherwise("p").alias("person_id")
    ).to_series()
    pl.select(**{"person_id": trainee_ids}).with_columns(
        name=pl.format("见习人员{}", pl.int_range(pl.len())),
        education=pl.Series(np.array(["本科", "专科", "研究生", "中职"])[rng.integers(0, 4, npid)]),
        graduation_date=pl.date(2021, 6, 30) + pl.duration(days=pl.Series(rng.integers(0, 1000, npid))),
        phone=pl.format("138{}", pl.Series(rng.integers(10_000_000, 99_999_999, npid))),
    ).write_parquet(out / "trainees.parquet")

    na = n["agreements"]
    who = rng.integers(0, npid, na)
    where = rng.integers(0, nu, na)
    start = pl.date(2022, 1, 1) + pl.duration(days=pl.Series(rng.integers(0, 900, na)))
    agreements = pl.select(**{
        "agreement_id": "XY" + (pl.int_range(na, eager=True) + 10_000_000).cast(pl.String),
        "person_id": trainee_ids.gather(who),
        "unit_id": units.gather(where),
    }).with_columns(
        start_date=start,
        planned_end_date=start + pl.duration(days=pl.Series(rng.integers(90, 365, na))),
        retained=pl.Series(np.array(["是", "否"])[rng.integers(0, 2, na)]),
        allowance_monthly=pl.Series(rng.integers(1500, 3000, na)).cast(pl.Float64),
    )
    agreements.write_parquet(out / "agreements.parquet")

    nc = n["claims"]
    which = rng.integers(0, na, nc)
    claims = agreements.select("agreement_id", "person_id", "unit_id").gather(pl.Series(which))
    months = pl.Series(rng.integers(0, 36, nc))
    claims = claims.with_columns(
        claim_id=pl.format("SL{}", pl.int_range(nc, eager=True) + 100_000_000),
        claim_month=(pl.date(2022, 1, 1) + pl.duration(days=months * 31)).dt.strftime("%Y-%m"),
        claim_type=pl.lit("月度"),
        working_days=pl.Series(rng.integers(15, 23, nc)),
        rate_basis=pl.lit("标准"),
        amount=pl.Series(rng.integers(1500, 2200, nc)).cast(pl.Float64),
        submitted_date=pl.date(2022, 2, 1) + pl.duration(days=months * 31 + 5),
        handling_county_code=pl.Series(COUNTIES[rng.integers(0, len(COUNTIES), nc)]),
    )
    # 0.01 % unreadable months (quarantined), 0.05 % exact duplicates (collapsed)
    claims = claims.with_columns(
        claim_month=pl.when(pl.Series(rng.random(nc) < 0.0001)).then(pl.lit("2023年13月")).otherwise("claim_month")
    )
    dups = claims.sample(max(1, nc // 2000), seed=seed)
    pl.concat([claims, dups]).write_parquet(out / "claims.parquet")
    del claims, dups

    ns = n["social_insurance"]
    who = pl.Series(rng.integers(0, npid, ns))
    employer = pl.Series(rng.integers(0, nu, ns))
    ins = np.array(["养老", "医疗", "失业", "工伤", "生育"])
    payer = np.array(["单位", "单位", "单位", "灵活就业"])
    si = pl.select(**{
        "person_id": trainee_ids.gather(who),
        "employer_id": units.gather(employer),
        "month": (pl.date(2020, 1, 1) + pl.duration(days=pl.Series(rng.integers(0, 60, ns)) * 31)).dt.strftime("%Y%m"),
        "insurance_type": pl.Series(ins[rng.integers(0, len(ins), ns)]),
        "payer_type": pl.Series(payer[rng.integers(0, len(payer), ns)]),
    })
    si = si.with_columns(employer_id=pl.when(pl.col("payer_type") == "单位").then("employer_id"))
    si.write_parquet(out / "social_insurance.parquet", row_group_size=1_000_000)
    del si

    npos = n["positions"]
    pl.select(**{
        "position_id": "GW" + pl.int_range(npos, eager=True).cast(pl.String),
        "unit_id": units.gather(pl.Series(rng.integers(0, nu, npos))),
        "category": pl.Series(np.array(["科研", "技术技能", "管理", "社会服务"])[rng.integers(0, 4, npos)]),
        "posted_date": pl.date(2021, 1, 1) + pl.duration(days=pl.Series(rng.integers(0, 1200, npos))),
        "slots": pl.Series(rng.integers(1, 10, npos)),
    }).write_parquet(out / "positions.parquet")

    ne = n["employment"]
    pl.select(**{
        "person_id": trainee_ids.gather(pl.Series(rng.integers(0, npid, ne))),
        "employer_id": units.gather(pl.Series(rng.integers(0, nu, ne))),
        "contract_start": pl.date(2021, 1, 1) + pl.duration(days=pl.Series(rng.integers(0, 1400, ne))),
        "contract_type": pl.lit("固定期限"),
    }).write_parquet(out / "employment.parquet")

    nm = min(n["market_registry"], nu)
    pl.select(**{
        "unit_id": units.head(nm),
        "reg_status": pl.Series(np.array(["存续", "在业", "注销", "吊销"])[rng.choice(4, nm, p=[0.6, 0.37, 0.02, 0.01])]),
        "abnormal_listed": pl.Series(rng.random(nm) < 0.02),
        "established_date": pl.date(2000, 1, 1) + pl.duration(days=pl.Series(rng.integers(0, 7000, nm))),
    }).write_parquet(out / "market_registry.parquet")

    nr = min(n["retention_declarations"], nu * 3)
    completed = rng.integers(1, 30, nr)
    pl.select(**{
        "unit_id": units.gather(pl.Series(np.arange(nr) % nu)),
        "year": pl.Series(2021 + np.arange(nr) // nu),
        "completed_count": pl.Series(completed),
        "retained_count": pl.Series((completed * rng.random(nr)).astype(np.int64)),
    }).write_parquet(out / "retention_declarations.parquet")

    nd = n["deaths"]
    pl.select(**{
        "person_id": trainee_ids.gather(pl.Series(rng.integers(0, npid, nd))),
        "death_date": pl.date(2022, 1, 1) + pl.duration(days=pl.Series(rng.integers(0, 900, nd))),
    }).unique("person_id").write_parquet(out / "deaths.parquet")

    npay = n["allowance_payments"]
    pick = pl.Series(rng.integers(0, na, npay))
    pl.select(**{
        "person_id": agreements["person_id"].gather(pick),
        "unit_id": agreements["unit_id"].gather(pick),
        "month": pl.date(2022, 1, 1) + pl.duration(days=pl.Series(rng.integers(0, 36, npay)) * 31),
        "amount": pl.Series(rng.integers(1500, 3000, npay)).cast(pl.Float64),
    }).with_columns(pl.col("month").dt.month_start()).write_parquet(out / "allowance_payments.parquet")
    print(json.dumps({"generated_s": round(time.perf_counter() - t0, 1), "rows": n}))


def measure(inputs: Path, out: Path, in_memory: bool = False) -> dict:
    """Time each stage in this (fresh) process; peak RSS from getrusage.

    As ``audit run`` does it: each table staged to Parquet as it loads (``load_inputs(inputs,
    out)``), moved into ``normalised/`` by ``write``, validated over scans of the files. With
    ``in_memory``, the tables are held in memory until ``write`` (``load_inputs(inputs)``).
    """
    from audit.loader import load_inputs
    from audit.validation import validate, write_validation

    if os.environ.get("AUDIT_DEBUG") == "1":  # the loader's per-column timings, on stderr
        import logging

        logging.basicConfig(level=logging.WARNING, format="%(relativeCreated)8.0f ms %(name)s %(message)s")
        logging.getLogger("audit").setLevel(logging.DEBUG)
    stages: dict[str, float] = {}
    t0 = time.perf_counter()
    loaded = load_inputs(inputs) if in_memory else load_inputs(inputs, out)
    stages["load_inputs"] = time.perf_counter() - t0
    t = time.perf_counter()
    loaded.write(out)
    stages["write"] = time.perf_counter() - t
    t = time.perf_counter()
    report = validate(loaded)
    write_validation(out, report)
    stages["validate"] = time.perf_counter() - t
    total = time.perf_counter() - t0
    usage = resource.getrusage(resource.RUSAGE_SELF)
    peak_gb = usage.ru_maxrss / 1024 / 1024
    return {
        "mode": "in memory" if in_memory else "staged",
        "cpu_s": round(usage.ru_utime + usage.ru_stime, 1),
        "load_average_1m_at_end": round(os.getloadavg()[0], 1),  # other work on the machine inflates wall time
        "rows": dict(loaded.heights),
        "quarantined_lines": loaded.quarantine.height,
        "expectations": len(report.outcomes),
        "expectations_not_met": len(report.failed()),
        "stages_s": {k: round(v, 1) for k, v in stages.items()},
        "total_s": round(total, 1),
        "peak_rss_gb": round(peak_gb, 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--regenerate", action="store_true")
    parser.add_argument("--in-memory", action="store_true",
                        help="hold the normalised tables in memory until write (load_inputs without out_dir)")
    parser.add_argument("--generate-only", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--measure-only", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    tag = f"scale{args.scale:g}"
    inputs = ROOT / "out" / f"inputs-{tag}"
    out = ROOT / "out" / f"run-{tag}"
    if args.generate_only:
        generate(inputs, args.scale)
        return
    if args.measure_only:
        result = measure(inputs, out, in_memory=args.in_memory)
        print(json.dumps(result))
        return
    me = [sys.executable, __file__, "--scale", str(args.scale)]
    if args.regenerate or not (inputs / "social_insurance.parquet").exists():
        subprocess.run([*me, "--generate-only"], check=True)
    done = subprocess.run([*me, "--measure-only", *(["--in-memory"] if args.in_memory else [])],
                          check=True, stdout=subprocess.PIPE, text=True)
    result = json.loads(done.stdout.strip().splitlines()[-1])
    print(json.dumps(result, ensure_ascii=False, indent=2))
    met = result["total_s"] < 60 and result["peak_rss_gb"] < 6
    print(f"target (< 60 s, < 6 GB): {'met' if met else 'MISSED'}")


if __name__ == "__main__":
    main()
