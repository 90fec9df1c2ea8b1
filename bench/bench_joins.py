"""The speed tricks of checks/ against the plain polars operation, on synthetic tables of national
scale (a profile, not a test; the results are in bench/NOTES.md).

    python bench/bench_joins.py            # about a minute, ~2 GB

Each line prints the CPU seconds (least of three runs) of the plain operation and of the trick
that replaces it in checks/; ``tests/test_joins.py`` and ``tests/test_internships.py`` hold
each trick equal to its plain version.
"""

from __future__ import annotations

import datetime as dt
import time

import numpy as np
import polars as pl

from audit.policy import Policy
from audit.tables import Tables
from checks._identity import identity_links, with_aliases, with_person_key, with_person_key_few
from checks._internships import chain_agreements
from checks._joins import hash_key, hjoin, keys_with_more_rows_than, repeated_rows

RNG = np.random.default_rng(11)


def _ids(n: int, prefix: str = "") -> np.ndarray:
    return np.array([f"{prefix}{x:018d}"[-18:] for x in RNG.integers(10**17, 10**18, n)])


def _cpu(lf: pl.LazyFrame) -> float:
    best = float("inf")
    for _ in range(3):
        start = time.process_time()
        lf.collect()
        best = min(best, time.process_time() - start)
    return best


def _line(what: str, plain: pl.LazyFrame, trick: pl.LazyFrame) -> None:
    print(f"{what:62s} plain {_cpu(plain):5.2f} s   trick {_cpu(trick):5.2f} s", flush=True)


def main() -> None:
    persons = _ids(1_000_000)
    units = _ids(30_000, "91")
    claims = pl.LazyFrame({
        "person_id": persons[RNG.integers(0, len(persons), 5_600_000)],
        "amount": RNG.random(5_600_000),
    }).collect().lazy()
    spans = pl.LazyFrame({
        "person_id": persons,
        "unit_id": units[RNG.integers(0, len(units), len(persons))],
        "day": RNG.integers(0, 1000, len(persons)),
    }).collect().lazy()

    # hjoin: two large sides on person_id; the filter keeps ~1 %; the keys confirm after it
    near = (pl.col("amount") * 1000 - pl.col("day")).abs() < 5
    _line("5.6 M claims x 1 M internships on person_id, then a 1 % filter",
          claims.join(spans, on="person_id").filter(near), hjoin(claims, spans, "person_id", narrow=lambda r: r.filter(near)))
    # every monthly claim to its payments (allowance_not_paid): a hashed anti-join narrows to the
    # claims maybe unpaid, which are then judged on the keys
    month = pl.date_range(dt.date(2023, 1, 1), dt.date(2023, 6, 1), "1mo", eager=True)
    keys = ["person_id", "unit_id", "claim_month"]
    monthly = spans.select("person_id", "unit_id").join(pl.LazyFrame({"claim_month": month}), how="cross") \
        .collect().sample(fraction=0.93, seed=3).lazy()
    payments = monthly.collect().sample(fraction=0.99, seed=4).lazy()
    _line("5.6 M monthly claims anti-joined to 5.5 M payments on (person, unit, month)",
          monthly.join(payments, on=keys, how="anti"),
          monthly.with_columns(hash_key(keys)).join(payments.select(hash_key(keys)), on="_k", how="anti"))
    # a hash does not pay against a small side: unit counties are joined plainly
    counties = pl.LazyFrame({"unit_id": units, "county_code": units}).collect().lazy()
    _line("1 M internships x 30 k units on unit_id (left; checks/ joins plainly)",
          spans.join(counties, on="unit_id", how="left"),
          spans.with_columns(hash_key(["unit_id"])).join(counties.with_columns(hash_key(["unit_id"])).drop("unit_id"),
                                                         on="_k", how="left"))

    # the (county, month) key of the claims in context: the claims are joined to their units
    # anyway; a number of the county rides along and makes the key exact, where a hash of the pair
    # would not be, and numbering the distinct pairs would cost a join of every claim on them
    months = pl.date_range(dt.date(2022, 1, 1), dt.date(2024, 6, 1), "1mo", eager=True)
    county_codes = np.array([f"{x:06d}" for x in RNG.integers(110000, 659999, 3000)])
    unit_counties = pl.LazyFrame({"unit_id": units, "county_code": county_codes[RNG.integers(0, 3000, len(units))]})
    numbered = unit_counties.join(unit_counties.select("county_code").unique().with_row_index("_county_no"),
                                  on="county_code").collect().lazy()
    in_context = pl.LazyFrame({
        "unit_id": units[RNG.integers(0, len(units), 5_600_000)],
        "claim_month": months.sample(5_600_000, with_replacement=True, seed=1),
    }).collect().lazy().join(numbered, on="unit_id", how="left")
    month_no = pl.col("claim_month").cast(pl.Int32).cast(pl.Int64) + 2**31
    pairs = in_context.select("county_code", "claim_month").unique().with_row_index("_ck")
    _line("5.6 M claims: an exact (county, month) key (numbered pairs vs county no.)",
          in_context.join(pairs, on=["county_code", "claim_month"], how="left"),
          in_context.with_columns((pl.col("_county_no").cast(pl.Int64) * 2**32 + month_no).alias("_ck")))
    print(f"{'   (the 64-bit hash of the pair it replaces, inexact)':62s}       "
          f"      {_cpu(in_context.with_columns(pl.struct('county_code', 'claim_month').hash(seed=7))):5.2f} s")

    # the rows whose key repeats: 5.6 M claim ids, a few hundred twice
    ids = pl.LazyFrame({"claim_id": np.concatenate([_ids(5_600_000, "C"), _ids(300, "C").repeat(2)])}).collect().lazy()
    _line("5.6 M claim ids: the rows of the ids seen twice",
          ids.filter(pl.len().over("claim_id") > 1), repeated_rows(ids, ["claim_id"]))
    # the persons with more monthly claims than the smallest maximum (12): months ranked for them only
    per_person = pl.LazyFrame({"person_id": persons[RNG.integers(0, len(persons), 5_600_000)],
                               "n": RNG.integers(0, 12, 5_600_000)}).collect().lazy()
    _line("5.6 M monthly claims: the persons with more than 12 claims",
          per_person.filter(pl.len().over("person_id") > 12),
          keys_with_more_rows_than(per_person, ["person_id"], pl.lit(12)))

    # one person under several IDs (checks/_identity.py): 1 000 corroborated typos among a million
    # trainees. The person key of 5.6 M claims by a left join to the links, against the trick that
    # joins only the rows of linked IDs; and the insurance of 1 M internships under every ID of the
    # person, by keying the 11 M insurance rows against widening the internships by their aliases
    _identity_lines(persons, claims, spans)

    # the internship chain: a million agreements, a few thousand persons with two at one unit
    n = 1_000_000
    unit_of = spans.collect()["unit_id"].to_numpy()
    agreements = pl.LazyFrame({
        "agreement_id": [f"A{i}" for i in range(n)],
        "person_id": np.concatenate([persons[: n - 2000], persons[: 2000]]),
        "unit_id": np.concatenate([unit_of[: n - 2000], unit_of[: 2000]]),
        "start_date": pl.Series(RNG.integers(19000, 19900, n)).cast(pl.Int32).cast(pl.Date),
    }).with_columns(pl.col("start_date").dt.offset_by("6mo").alias("end")).collect().lazy()
    everything = chain_agreements(agreements.with_columns(pl.lit(False).alias("_x")), person="person_id")
    _line("1 M agreements, 2 k persons with two at a unit: chain all vs the pairs only",
          agreements.sort("person_id", "unit_id", "start_date").with_columns(
              pl.col("end").cum_max().over(["person_id", "unit_id"]).alias("_latest")),
          everything)


def _identity_lines(persons: np.ndarray, claims: pl.LazyFrame, spans: pl.LazyFrame) -> None:
    valid = persons[:1000]
    typos = np.array([p[:17] + ("0" if p[17] != "0" else "1") for p in valid])
    trainees = pl.LazyFrame({
        "person_id": np.concatenate([valid, typos]),
        "person_id_status": ["ok"] * 1000 + ["bad_check"] * 1000,
        "name": [f"N{i}" for i in range(1000)] * 2,
        "bank_card": [f"6217{i:015d}" for i in range(1000)] * 2,
        "phone": [None] * 2000,
    }, schema_overrides={"phone": pl.String})
    empty = pl.LazyFrame()
    t = Tables(units=empty, trainees=trainees, agreements=empty, claims=claims, social_insurance=empty,
               audit_month=dt.date(2024, 6, 1), si_as_of=dt.date(2024, 6, 1))
    policy = Policy.load()
    links = identity_links(t, policy)
    _line("5.6 M claims: the person key (1 000 linked IDs)",
          with_person_key(claims, links), with_person_key_few(claims, t, policy))
    insurance = pl.LazyFrame({"person_id": persons[RNG.integers(0, len(persons), 11_000_000)],
                              "month": RNG.integers(0, 60, 11_000_000)}).collect().lazy()
    _line("11 M insurance rows x 1 M internships under every ID of the person",
          with_person_key(insurance, links).join(with_person_key(spans, links), on="person_key"),
          insurance.join(with_aliases(spans, t, policy, alias="person_id_any").drop("person_id")
                         .rename({"person_id_any": "person_id"}), on="person_id"))


if __name__ == "__main__":
    main()
