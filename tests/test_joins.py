"""The speed tricks of checks/ give what the plain polars operation gives.

Each helper of :mod:`checks._joins` is compared with the plain operation on random keys with
nulls and duplicates — with the real hashes, and with hashes made to collide on purpose, where a
hash only narrows and the keys themselves must still decide. The rules built on a hash are
checked the same way: GHOST_TRAINEE.allowance_not_paid finds what it finds on the keys
themselves, and a colliding hash never makes it accuse a claim.
"""

from __future__ import annotations

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from checks import _joins
from checks import ghost_trainee as g
from tests.helpers import claim, pid, run, tables, trainee, unit, uscc

_KEYS = st.lists(st.one_of(st.none(), st.sampled_from(["a", "b", "c", "dd"])), min_size=0, max_size=12)
_NUMS = st.lists(st.one_of(st.none(), st.integers(min_value=0, max_value=2)), min_size=0, max_size=12)


# the fixture only chooses the hash: the same for every generated input
_SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


def _colliding_hash_key(on: list[str]) -> pl.Expr:
    """A 'hash' with three values: most unequal keys collide."""
    return (pl.struct(on).hash() % 3).cast(pl.Int128).alias("_k")


def _colliding_key_hash(key: list[str]) -> pl.Expr:
    return (pl.struct(key).hash() % 2).alias("_h")


@pytest.fixture(params=["real hash", "colliding hash"])
def hashes(request, monkeypatch):
    if request.param == "colliding hash":
        monkeypatch.setattr(_joins, "hash_key", _colliding_hash_key)
        monkeypatch.setattr(_joins, "_key_hash", _colliding_key_hash)
    return request.param


def _frame(keys: list[str | None], nums: list[int | None], value: str) -> pl.LazyFrame:
    n = min(len(keys), len(nums))
    return pl.LazyFrame({"k": keys[:n], "n": nums[:n], value: list(range(n))},
                        schema={"k": pl.String, "n": pl.Int64, value: pl.Int64})


def _rows(lf: pl.LazyFrame) -> pl.DataFrame:
    df = lf.collect()
    return df.select(sorted(df.columns)).sort(sorted(df.columns), nulls_last=True)


def _same(a: pl.LazyFrame, b: pl.LazyFrame) -> None:
    assert _rows(a).equals(_rows(b))


@_SETTINGS
@given(_KEYS, _NUMS, _KEYS, _NUMS)
def test_hjoin_is_the_plain_join(hashes, left_keys, left_nums, right_keys, right_nums):
    left, right = _frame(left_keys, left_nums, "x"), _frame(right_keys, right_nums, "y")
    for on in (["k"], ["k", "n"]):
        _same(_joins.hjoin(left, right, on), left.join(right, on=on))
        keep = (pl.col("x") + pl.col("y")) % 2 == 0
        _same(_joins.hjoin(left, right, on, narrow=lambda rows, keep=keep: rows.filter(keep)), left.join(right, on=on).filter(keep))


@_SETTINGS
@given(_KEYS, _NUMS)
def test_repeated_rows_are_the_rows_of_keys_seen_twice(hashes, keys, nums):
    rows = _frame(keys, nums, "x")
    for key in (["k"], ["k", "n"]):
        _same(_joins.repeated_rows(rows, key), rows.filter(pl.len().over(key) > 1))


@_SETTINGS
@given(_KEYS, _NUMS)
def test_first_by_key_is_the_plain_first_row(hashes, keys, nums):
    rows = _frame(keys, nums, "_line").with_columns(pl.lit("f.csv").alias("_file"))
    _same(_joins.first_by_key(rows, "k"), rows.sort("k", "_file", "_line").unique("k", keep="first"))


@_SETTINGS
@given(_KEYS, _NUMS)
def test_keys_with_more_rows_than_is_the_plain_count(hashes, keys, nums):
    rows = _frame(keys, nums, "x")
    limit = pl.col("n").min().fill_null(0)
    _same(_joins.keys_with_more_rows_than(rows, ["k"], limit),
          rows.filter(pl.len().over("k") > rows.select(limit).collect().item()))


@settings(max_examples=30, deadline=None)
@given(_KEYS)
def test_first_trainee_rows_are_the_first_row_of_each_person(person_ids):
    trainees = pl.LazyFrame({"person_id": person_ids, "line": list(range(len(person_ids)))},
                            schema={"person_id": pl.String, "line": pl.Int64})
    t = type("T", (), {"trainees": trainees})()
    assert g._first_trainee_rows(t).collect().equals(  # type: ignore[arg-type]
        trainees.unique("person_id", keep="first", maintain_order=True).collect())


# ---------------------------------------------------------------- a rule narrowed on a hash


def _exact_hash_key(on: list[str]) -> pl.Expr:
    """The keys themselves in the place of their hash: the plain join, through the same code."""
    return pl.struct(on).alias("_k")


def _ledger_world(seed: int):
    import random

    rnd = random.Random(seed)
    people = [f"P{i}" for i in range(6)]
    months = [f"2023-{m:02d}" for m in range(9, 13)]
    claims, payments, trainees = [], [], []
    for p in people:
        card = rnd.choice([None, f"62220000{p[1:]:0>8}"])
        trainees.append(trainee(p, bank_card=card))
        for m in months:
            if rnd.random() < 0.8:
                claims.append(claim(f"C_{p}_{m}", "U1", p, m, 1488.0))
            for _ in range(rnd.choice([0, 1, 1, 2])):
                account = rnd.choice([None, card, "6222999988887777"])
                payments.append({"person_id": pid(p), "unit_id": uscc("U1"), "month": m,
                                 "amount": rnd.choice([0.0, 1500.0]), "account": account, "paid_date": f"{m}-20"})
    return tables(units=[unit("U1")], trainees=trainees, claims=claims, allowance_payments=payments)


@pytest.mark.parametrize("seed", range(8))
def test_allowance_not_paid_decides_on_the_keys(seed, monkeypatch):
    """The same findings as the plain joins; with a colliding hash, never a claim the plain joins
    do not find unpaid (a hash may only narrow: there it can hide a month, never accuse one)."""
    t = _ledger_world(seed)
    hashed, _ = run(g.allowance_not_paid, t)
    with monkeypatch.context() as m:
        m.setattr(g, "hash_key", _exact_hash_key)
        plain, _ = run(g.allowance_not_paid, t)
    with monkeypatch.context() as m:
        m.setattr(g, "hash_key", _colliding_hash_key)
        colliding, _ = run(g.allowance_not_paid, t)
    cols = ["person_id", "unit_id", "period_start", "period_end", "amount_at_risk", "evidence"]
    assert plain.height > 0
    assert hashed.select(cols).sort(cols).equals(plain.select(cols).sort(cols))
    def accused(found: pl.DataFrame) -> set[str]:
        return set(found.select(pl.col("_claims").explode().struct.field("claim_id")).to_series().drop_nulls())

    assert accused(colliding) <= accused(plain)


def _floor_world(seed: int):
    """Jiangxi claims (allowance.min_wage_floor set) with allowance payments of random sums."""
    import random

    from tests.helpers import agreement

    rnd = random.Random(seed)
    people = [f"P{i}" for i in range(6)]
    months = [f"2023-{m:02d}" for m in range(9, 13)]
    claims, payments, agreements = [], [], []
    for p in people:
        agreements.append(agreement(f"A_{p}", p, "U1", "2023-09-01", "2024-02-29",
                                    allowance_monthly=rnd.choice([None, 1500.0, 2500.0])))
        for m in months:
            claims.append(claim(f"C_{p}_{m}", "U1", p, m, 1000.0, agreement_id=f"A_{p}"))
            for _ in range(rnd.choice([0, 1, 2])):
                payments.append({"person_id": pid(p), "unit_id": uscc("U1"), "month": m,
                                 "amount": rnd.choice([600.0, 1200.0, 2400.0]), "account": None, "paid_date": f"{m}-20"})
    return tables(units=[unit("U1", county="360102")], trainees=[trainee(p) for p in people], agreements=agreements,
                  claims=claims, allowance_payments=payments)


@pytest.mark.parametrize("seed", range(6))
def test_allowance_below_min_wage_decides_on_the_keys(seed, monkeypatch):
    """Summed per hash, then judged again on the keys: the findings of the plain sums, and never
    a claim they do not find under a hash made to collide."""
    from checks import rate_misapplied as rm

    t = _floor_world(seed)
    hashed, _ = run(rm.allowance_below_min_wage, t)
    with monkeypatch.context() as m:
        m.setattr(rm, "hash_key", _exact_hash_key)
        plain, _ = run(rm.allowance_below_min_wage, t)
    with monkeypatch.context() as m:
        m.setattr(rm, "hash_key", _colliding_hash_key)
        colliding, _ = run(rm.allowance_below_min_wage, t)
    cols = ["claim_id", "amount_at_risk", "evidence"]
    assert plain.height > 0
    assert hashed.select(cols).sort(cols).equals(plain.select(cols).sort(cols))
    assert set(colliding["claim_id"]) <= set(plain["claim_id"])
    assert colliding.select(cols).sort(cols).equals(plain.filter(pl.col("claim_id").is_in(colliding["claim_id"].implode()))
                                                   .select(cols).sort(cols))


# ---------------------------------------------------------------- rules joined through hjoin


def _ghost_world():
    """Six trainees at U1 with insurance, contracts and register rows that several rules read."""
    from tests.helpers import agreement

    people = [f"P{i}" for i in range(6)]
    insurance = [{"person_id": pid(p), "employer_id": uscc(e), "month": m, "insurance_type": "养老", "payer_type": "单位"}
                 for p, e, m in (("P0", "X", "2023-10"), ("P1", "U1", "2023-06"), ("P2", "X", "2023-08"),
                                 ("P3", "Y", "2024-01"), ("P3", "U1", "2023-07"))]
    employment = [{"person_id": pid(p), "employer_id": uscc(e), "contract_start": s, "contract_end": None}
                  for p, e, s in (("P4", "X", "2023-01-01"), ("P5", "U1", "2023-03-01"), ("P0", "Y", "2024-05-01"))]
    register = [trainee(p, graduation_date=g) for p, g in zip(people, ["2023-06-30", "2023-06-30", "2024-07-01",
                                                                       "2019-06-30", "2023-06-30", None])]
    return tables(units=[unit("U1"), unit("X"), unit("Y")], trainees=register, social_insurance=insurance,
                  employment=employment,
                  agreements=[agreement(f"A{p}", p, "U1", "2023-09-01", "2024-02-29") for p in people],
                  claims=[claim(f"C{p}{m}", "U1", p, m, 1480.0, agreement_id=f"A{p}")
                          for p in people for m in ("2023-09", "2023-10", "2023-11", "2023-12", "2024-01", "2024-02")])


@pytest.mark.parametrize("rule", ["insured_elsewhere", "contracted_elsewhere", "own_employee", "ineligible_at_start",
                                  "still_student"])
def test_ghost_rules_joined_on_a_hash_decide_on_the_keys(rule, monkeypatch):
    """The rules that join through hjoin/hashed_join give the same findings under a hash made to
    collide: the hash narrows, the keys decide (a fresh Tables each time: shared results are
    held per Tables)."""
    check = getattr(g, rule)
    real, _ = run(check, _ghost_world())
    with monkeypatch.context() as m:
        m.setattr(_joins, "hash_key", _colliding_hash_key)
        colliding, _ = run(check, _ghost_world())
    assert real.height > 0, rule
    cols = ["person_id", "unit_id", "period_start", "amount_at_risk", "evidence"]
    assert colliding.select(cols).sort(cols).equals(real.select(cols).sort(cols))


def test_indicators_count_people_on_the_ids(monkeypatch):
    """The 汇总表's ``_single`` (a person with one agreement row) is found on a hash of the ID: a
    colliding hash sends people to the exact count, never miscounts them."""
    from checks import _summary_table
    from tests.helpers import agreement, policy

    agreements = [agreement(f"A{i}", f"P{i % 5}", "U1", f"2023-{1 + i % 9:02d}-01", f"2023-{3 + i % 9:02d}-28",
                            end_reason="期满") for i in range(9)]
    t = lambda: tables(units=[unit("U1")], trainees=[trainee(f"P{i}") for i in range(5)],  # noqa: E731
                       agreements=agreements, audit_month="2023-12")
    real = _summary_table.indicators(t(), policy()).collect()
    with monkeypatch.context() as m:
        m.setattr(_joins, "_key_hash", _colliding_key_hash)
        colliding = _summary_table.indicators(t(), policy()).collect()
    assert real.height > 0
    keys = ["county_code", "month"]
    assert colliding.sort(keys).equals(real.sort(keys))
