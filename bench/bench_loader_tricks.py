"""Benchmark: the loader's speed tricks against the plain versions they replace.

Not a test (the equality of each pair is proven by tests/test_loader_tricks.py): a script that
times each trick and its plain twin on one column or table the size of a province's insurance
registry, checks that both give the same result, and prints wall and CPU seconds. The numbers
quoted in bench/NOTES.md come from here.

- ``encode``: the dictionary encoding of a text column by hashing (many distinct values) or by
  a categorical cast (few), each against the other;
- ``parse once per distinct value``: encode, parse the distinct values, gather, against parsing
  every row;
- ``typed fast path``: a Parquet date or amount column read directly, against its text parsed;
- ``duplicates``: the row-hash finder against grouping every row on all its columns.

Usage::

    python bench/bench_loader_tricks.py               # 6 M rows (about a minute)
    python bench/bench_loader_tricks.py --rows 1000000
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # this checkout's audit, not an installed one

from audit import normalise as nz  # noqa: E402
from audit.loader.columns import PARSERS, _typed_fast_path  # noqa: E402
from audit.loader.duplicates import find_duplicates  # noqa: E402
from audit.schema import SPECS  # noqa: E402


def timed(label: str, run: Callable[[], Any]) -> tuple[Any, dict[str, float]]:
    t0, c0 = time.perf_counter(), time.process_time()
    result = run()
    took = {"wall_s": round(time.perf_counter() - t0, 2), "cpu_s": round(time.process_time() - c0, 2)}
    print(f"  {label:<44} {took['wall_s']:>6.2f} s wall {took['cpu_s']:>6.2f} s cpu")
    return result, took


def plain_parse(kind: Any, dtype: pl.DataType, text: pl.Series) -> pl.Series:
    return pl.DataFrame({"v": text}).select(v=PARSERS[kind](pl.col("v"))).to_series().cast(dtype)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=6_000_000)
    n = parser.parse_args().rows
    rng = np.random.default_rng(7)
    people = pl.Series(rng.integers(0, n // 6, n)).cast(pl.String).str.zfill(18).alias("person_id")
    employers = ("91430102MA" + pl.Series(rng.integers(0, 60_000, n)).cast(pl.String).str.zfill(8)).alias("employer_id")
    months = (pl.Series(rng.integers(0, 60, n)) + 202000).cast(pl.String).alias("month")
    print(f"{n:,} rows; {n // 6:,} people, 60,000 employers, 60 months")

    print("encode: hashing against the categorical cast")
    for values in (people, employers):
        by_hash, _ = timed(f"{values.name}: by hash", lambda v=values: nz._encode_by_hash(v))
        by_cat, _ = timed(f"{values.name}: by categorical cast", lambda v=values: nz._encode_by_category(v))
        assert by_hash is not None
        assert by_hash[1].gather(by_hash[0]).equals(by_cat[1].gather(by_cat[0])), values.name

    print("parse once per distinct value, against every row")
    month_spec = next(c for c in SPECS["social_insurance"].columns if c.name == "month")

    def once() -> pl.Series:
        codes, distinct = nz.encode(months)
        return plain_parse(month_spec.kind, month_spec.dtype, distinct).gather(codes)

    spread, _ = timed("month: encode, parse distinct, gather", once)
    every, _ = timed("month: parse every row", lambda: plain_parse(month_spec.kind, month_spec.dtype, months))
    assert spread.equals(every)

    print("typed fast path, against the text parsed")
    date_spec = next(c for c in SPECS["claims"].columns if c.name == "submitted_date")
    money_spec = next(c for c in SPECS["claims"].columns if c.name == "amount")
    dates = pl.select(pl.date(2020, 1, 1) + pl.duration(days=pl.Series(rng.integers(0, 2000, n)))).to_series()
    dates = dates.alias("submitted_date")
    amounts = (pl.Series(rng.integers(150_000, 300_000, n)) / 100).alias("amount")
    for spec, column in ((date_spec, dates), (money_spec, amounts)):
        fast, _ = timed(f"{spec.name}: typed", lambda s=spec, c=column: _typed_fast_path(s, c))
        text, _ = timed(f"{spec.name}: as text, parsed", lambda s=spec, c=column: plain_parse(s.kind, s.dtype, c.cast(pl.String)))
        if spec.kind.name == "MONEY":  # parse_money divides in polars (a reciprocal): compare in fen
            fast, text = (fast * 100).round(), (text * 100).round()
        assert fast.equals(text), spec.name

    print("duplicates: the row-hash finder, against grouping every row")
    table = pl.DataFrame([people, employers, months]).with_columns(
        insurance_type=pl.Series(np.array(["养老", "医疗", "失业", "工伤", "生育"])[rng.integers(0, 5, n)]),
        _src=pl.lit(0, pl.UInt16),
    )
    table = pl.concat([table, table.sample(n // 2000, seed=1)])
    cols = ["person_id", "employer_id", "month", "insurance_type"]
    (dup_rows, keep, _), _ = timed("row hash, confirmed on the values", lambda: find_duplicates(table, cols))

    def plain() -> pl.DataFrame:
        return table.with_row_index("_pos").select(
            _first=pl.col("_pos").min().over(cols) == pl.col("_pos"), _count=pl.len().over(cols).cast(pl.Int64))

    grouped, _ = timed("every row grouped on all columns", plain)
    assert keep is not None and keep.equals(grouped["_first"].alias(keep.name))
    expected = grouped.select(pl.when("_first").then("_count").otherwise(1).alias("_dup_rows")).to_series()
    assert dup_rows.equals(expected)

if __name__ == "__main__":
    main()
