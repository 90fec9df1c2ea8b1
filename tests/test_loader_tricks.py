"""The loader's speed tricks give what the plain versions give (bench/bench_loader_tricks.py times them).

Each trick against its twin written the obvious way:

- a typed Parquet column read directly, against its text parsed by the general parser;
- a text column parsed once per distinct value and spread back, against every row parsed;
- an ID column's ID maths once per distinct value, against the ID table of every row;
- the dictionary encoding by hashing, against the one by a categorical cast;
- the row-hash duplicate finder, against grouping every row on all its columns, in one table
  and through a whole load (exact export duplicates collapsed, near ones kept).
"""

from __future__ import annotations

import datetime as dt
import decimal
import random
from pathlib import Path

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import audit.loader.columns
from audit import normalise as nz
from audit.loader import load_inputs
from audit.loader.columns import _id_column, _typed_fast_path, parse_series, parser_of
from audit.loader.duplicates import RowHash, find_duplicates
from audit.schema import SPECS, ColumnSpec, Kind
from tests.test_loader import P1, P2, U1, U2, pid, reconciles, write_inputs


def spec_of(table: str, column: str) -> ColumnSpec:
    return next(c for c in SPECS[table].columns if c.name == column)


def plain(spec: ColumnSpec, text: pl.Series) -> pl.Series:
    """The general parser on every row's text (a closed vocabulary read through its spellings)."""
    return pl.DataFrame({"v": text.cast(pl.String)}).select(v=parser_of(spec)(pl.col("v"))).to_series().cast(spec.dtype)


def positional(amounts: pl.Series) -> pl.Series:
    """Amounts as an export writes them: ``0.00001``, not the ``1e-5`` a cast to text gives."""
    return pl.Series([None if v is None else format(decimal.Decimal(repr(v)), "f") for v in amounts.to_list()],
                     dtype=pl.String)


def in_fen(amounts: pl.Series) -> list[int | None]:
    """Amounts compared in whole fen: parse_money's division by 100 may differ from a typed
    amount in its last binary digit, never in the fen."""
    return (amounts * 100).round().cast(pl.Int64).to_list()


# ---------------------------------------------------------------------------------------------
# typed columns: read directly where that gives what their text gives


D = dt.date
TYPED = [
    ("date", spec_of("claims", "submitted_date"),
     pl.Series([D(2023, 7, 5), D(1, 1, 1), D(9999, 12, 31), D(1899, 12, 30), None])),
    ("datetime as its date", spec_of("claims", "submitted_date"),
     pl.Series([dt.datetime(2023, 7, 5, 23, 59), dt.datetime(2023, 1, 1), None])),
    ("datetime with a time zone: the local date", spec_of("claims", "submitted_date"),
     pl.Series([dt.datetime(2023, 7, 5, 20, 30), dt.datetime(9999, 12, 31, 23)]).dt.replace_time_zone("UTC")
     .dt.convert_time_zone("Asia/Shanghai")),
    ("date as a month", spec_of("claims", "claim_month"), pl.Series([D(2023, 7, 5), D(2024, 2, 29), None])),
    ("whole numbers, 18 digits at most", spec_of("claims", "working_days"),
     pl.Series([0, -3, 22, 10**18 - 1, 10**18, -(10**18), None])),
    ("unsigned beyond Int64", spec_of("claims", "working_days"), pl.Series([5, 2**64 - 1], dtype=pl.UInt64)),
    ("yes/no", spec_of("agreements", "retained"), pl.Series([True, False, None])),
]


@pytest.mark.parametrize("spec,raw", [c[1:] for c in TYPED], ids=[c[0] for c in TYPED])
def test_a_typed_column_reads_as_its_text(spec: ColumnSpec, raw: pl.Series) -> None:
    assert _typed_fast_path(spec, raw).to_list() == plain(spec, raw).to_list()


AMOUNTS = [1500.0, 19.99, 0.07, 1.005, 2.675, 0.125, -3.335, 12.345, 0.015, 123456789.125, 99_999_999_999.99,
           1e11, 1e16, float("nan"), float("inf"), float("-inf"), -0.0, None]


def test_a_typed_amount_reads_as_its_text() -> None:
    """Half a fen rounds up, as written (``1.005`` is 1.01 although the binary float is below
    it); NaN, infinity and amounts beyond the parser's 15 digits are unreadable."""
    spec = spec_of("claims", "amount")
    raw = pl.Series("amount", AMOUNTS)
    got = _typed_fast_path(spec, raw)
    assert in_fen(got) == in_fen(plain(spec, positional(raw)))
    assert got.to_list()[2:7] == [0.07, 1.01, 2.68, 0.13, -3.34]
    assert got.slice(12, 4).is_null().all()


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(st.floats(allow_nan=True, allow_infinity=True), st.none(),
                          st.integers(-10**9, 10**9).map(lambda fen: fen / 100),
                          st.decimals(-10**6, 10**6, places=3).map(float)), min_size=1, max_size=40))
def test_any_typed_float_amount_reads_as_its_text(values: list[float | None]) -> None:
    spec = spec_of("claims", "amount")
    raw = pl.Series("amount", values, dtype=pl.Float64)
    assert in_fen(_typed_fast_path(spec, raw)) == in_fen(plain(spec, positional(raw)))


def test_typed_integer_and_decimal_amounts_read_as_their_text() -> None:
    spec = spec_of("claims", "amount")
    for raw in (pl.Series([1500, -2, 10**15, None], dtype=pl.Int64),
                pl.Series([decimal.Decimal("1.005"), decimal.Decimal("19.99"), None], dtype=pl.Decimal(10, 3))):
        assert in_fen(_typed_fast_path(spec, raw)) == in_fen(plain(spec, raw)), raw.dtype


def test_an_unreadable_typed_amount_is_quarantined(tmp_path: Path) -> None:
    """A NaN in a Parquet amount column is quarantined as a CSV "NaN" is, in a required column
    and in an optional one alike; the half-fen amount is read rounded up."""
    claims = pl.DataFrame({
        "claim_id": ["C1", "C2", "C3"], "unit_id": [U1, U1, U2], "person_id": [P1, P1, P2],
        "claim_month": ["2023-07", "2023-08", "2023-07"], "amount": [1500.0, float("nan"), 1800.005],
        "insurance_amount": [float("inf"), None, 10.0], "submitted_date": [D(2023, 8, 5)] * 3,
    })
    claims.write_parquet(tmp_path / "claims.parquet")
    loaded = load_inputs(write_inputs(tmp_path, claims=None))
    q = loaded.quarantine.filter(pl.col("table") == "claims").sort("line", "column")
    assert q.select("line", "column", "value").rows() == [(2, "insurance_amount", "inf"), (3, "amount", "NaN")]
    assert loaded.tables["claims"]["amount"].to_list() == [1800.01]
    assert reconciles(loaded.counts)


# ---------------------------------------------------------------------------------------------
# text: parsed once per distinct value, spread back over the rows

MESSY = {
    Kind.DATE: ["2023-07-05", "2023/7/5", "20230705", "2023年7月5日", " 2023.7.5 ", "45000", "２０２３-０７-０５",
                "2023-02-30", "昨天", "", " "],
    Kind.MONTH: ["2023-07", "202307", "2023年7月", "2023.07", "2023/7", "2023-07-15", "2023-13", "七月", ""],
    Kind.MONEY: ["1,500.00", "1500元", "¥1500", "￥1,500", "1.005", "-3.335", "12.5.1", "壹仟", ""],
    Kind.INT: ["12", "12.0", "12.5", "1,200", "-3", "１２", "x", ""],
    Kind.BOOL: ["是", "否", "Y", "n", "1", "0.0", "true", "√", "×", "也许", ""],
    Kind.STR: ["甲公司", " 甲公司 ", "甲公司\u3000", "\ufeff乙", "", "  "],
    Kind.ENUM: ["本科", " 本科", "专科", "研究生 ", "大专", ""],
    Kind.COUNTY: ["430102", " 430102 ", "430102.0", "４３０１０２", "4301 02", "abc", ""],
}
COLUMNS = {Kind.DATE: ("claims", "submitted_date"), Kind.MONTH: ("claims", "claim_month"),
           Kind.MONEY: ("claims", "amount"), Kind.INT: ("claims", "working_days"),
           Kind.BOOL: ("agreements", "retained"), Kind.STR: ("units", "unit_name"),
           Kind.ENUM: ("trainees", "education"), Kind.COUNTY: ("units", "county_code")}


@pytest.mark.parametrize("compact_max", [audit.loader.columns.COMPACT_MAX, 2], ids=["as enum", "as text"])
@pytest.mark.parametrize("kind", list(MESSY), ids=[k.name for k in MESSY])
def test_a_text_column_reads_as_every_row_parsed(kind: Kind, compact_max: int,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(audit.loader.columns, "COMPACT_MAX", compact_max)
    rng = random.Random(kind.name)
    raw = pl.Series("v", [None if rng.random() < 0.05 else rng.choice(MESSY[kind]) for _ in range(2_000)])
    spec = spec_of(*COLUMNS[kind])
    got = parse_series(spec, raw)
    assert got.dtype == spec.dtype
    assert got.to_list() == plain(spec, raw).to_list()


@pytest.mark.parametrize("compact_max", [audit.loader.columns.COMPACT_MAX, 2], ids=["as enum", "as text"])
@pytest.mark.parametrize("table,column", [("trainees", "person_id"), ("claims", "unit_id")])
def test_an_id_column_reads_as_the_id_table_of_every_row(table: str, column: str, compact_max: int,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(audit.loader.columns, "COMPACT_MAX", compact_max)
    spec = spec_of(table, column)
    if spec.kind is Kind.PERSON_ID:
        ids = [P1, P2, P1.lower(), f" {P2} ", P1[:6] + P1[8:17], P1[:17] + "0", "不详", "", None]
    else:
        ids = [U1, U2, U1.lower(), f"{U2[:9]} {U2[9:]}", U1[:17] + "I", "123", "", None]
    rng = random.Random(column)
    raw = pl.Series(column, [rng.choice(ids) for _ in range(2_000)])
    value, derived = _id_column(spec, raw, RowHash())
    table_of = nz.person_id_table if spec.kind is Kind.PERSON_ID else nz.uscc_table
    expected = table_of(raw)
    assert value.cast(pl.String).to_list() == expected["id"].to_list()
    assert derived[f"{column}_status"].cast(pl.String).to_list() == expected["status"].to_list()
    if spec.kind is Kind.PERSON_ID:
        assert derived[f"{column}_raw"].cast(pl.String).to_list() == raw.to_list()


@pytest.mark.parametrize("distinct", [3, 5_000, 200_000])
def test_encoding_by_hash_and_by_category_agree(distinct: int) -> None:
    """Both give every row its value, a null code exactly for a null, and one code per value."""
    rng = random.Random(distinct)
    values = pl.Series("v", [None if rng.random() < 0.02 else f"v{rng.randrange(distinct)}" for _ in range(60_000)])
    by_hash, by_category = nz._encode_by_hash(values), nz._encode_by_category(values)
    streamed = nz._encode_by_category(values, streamed=True)  # cast a morsel at a time
    assert by_hash is not None
    for codes, found in (by_hash, by_category, streamed):
        assert found.gather(codes).to_list() == values.to_list()
        assert codes.is_null().to_list() == values.is_null().to_list()
        assert codes.drop_nulls().n_unique() == values.drop_nulls().n_unique()


# ---------------------------------------------------------------------------------------------
# duplicates: a row hash narrows, the values decide


def plain_duplicates(table: pl.DataFrame, cols: list[str], good: pl.Series | None) -> tuple[list[int], list[bool]]:
    """(``_dup_rows``, kept) by grouping every eligible row on all its columns."""
    eligible = pl.repeat(True, table.height, eager=True) if good is None else good
    rows = table.with_row_index("_pos").with_columns(_ok=eligible)
    firsts = (
        rows.filter("_ok").group_by(cols, maintain_order=True)
        .agg(_first=pl.col("_pos").min(), _count=pl.len().cast(pl.Int64), _all=pl.col("_pos"))
    )
    dup_rows = [1] * table.height
    kept = [True] * table.height
    for first, count, members in firsts.select("_first", "_count", "_all").iter_rows():
        dup_rows[first] = count
        for pos in members:
            kept[pos] = pos == first
    return dup_rows, kept


def random_table(seed: int, n: int = 400) -> pl.DataFrame:
    rng = random.Random(seed)
    return pl.DataFrame({
        "person": [rng.choice(["a", "b", "c", None]) for _ in range(n)],
        "month": [rng.choice([D(2023, 7, 1), D(2023, 8, 1), None]) for _ in range(n)],
        "amount": [rng.choice([1500.0, 1800.0, None]) for _ in range(n)],
        "kind": pl.Series([rng.choice(["养老", "医疗"]) for _ in range(n)], dtype=pl.Enum(["养老", "医疗"])),
        "_src": pl.Series([rng.randrange(2) for _ in range(n)], dtype=pl.UInt16),
    })


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("hashing", ["row hash of the values", "every row colliding", "no hash given"])
def test_the_duplicate_finder_equals_grouping_every_row(seed: int, hashing: str) -> None:
    table = random_table(seed)
    cols = ["person", "month", "amount", "kind"]
    rng = random.Random(seed)
    good = pl.Series([rng.random() > 0.1 for _ in range(table.height)]) if seed % 2 else None
    row_hash = {"row hash of the values": table.select(pl.struct(cols).hash()).to_series(),
                "every row colliding": pl.repeat(0, table.height, dtype=pl.UInt64, eager=True),
                "no hash given": None}[hashing]
    dup_rows, keep, removed = find_duplicates(table, cols, row_hash, good)
    expected_dups, expected_kept = plain_duplicates(table, cols, good)
    assert dup_rows.to_list() == expected_dups
    assert (keep.to_list() if keep is not None else [True] * table.height) == expected_kept
    dropped = table["_src"].filter(~pl.Series(expected_kept)).value_counts(name="n").sort("_src")
    assert removed.sort("_src").rows() == dropped.rows()


def test_a_load_collapses_the_rows_exported_twice_and_nothing_else(tmp_path: Path) -> None:
    """Through a whole load (its row hash folds each column's dictionary codes): the rows equal
    as exported are collapsed into their first, counted; rows equal only once trimmed or
    normalised (`` 2023-07`` against ``2023-07``) are kept apart; unreadable rows are never
    folded. The plain twin groups the file's rows as text."""
    rng = random.Random(5)
    pool = [(p, u, m, k) for p in (P1, P2, pid("43010219900101002")) for u in (U1, U2, "")
            for m in ("2023-07", " 2023-07", "202308", "2023-13") for k in ("养老", "医疗 ")]
    rows = [rng.choice(pool[: len(pool) // 3]) if rng.random() < 0.7 else rng.choice(pool) for _ in range(3_000)]
    text = "person_id,employer_id,month,insurance_type\n" + "".join(",".join(r) + "\n" for r in rows)
    loaded = load_inputs(write_inputs(tmp_path, social_insurance=text))

    raw = pl.read_csv(text.encode(), infer_schema=False).with_row_index("line", offset=2)
    bad = set(loaded.quarantine.filter(pl.col("table") == "social_insurance")["line"])
    assert bad == set(raw.filter(pl.col("month").str.contains("13"))["line"])
    cols = ["person_id", "employer_id", "month", "insurance_type"]
    expected = (
        raw.filter(~pl.col("line").is_in(list(bad)))
        .group_by(cols, maintain_order=True).agg(_line=pl.col("line").min(), _dup_rows=pl.len().cast(pl.Int64))
        .sort("_line")
    )
    si = loaded.tables["social_insurance"]
    assert si.select("_line", "_dup_rows").rows() == expected.select(pl.col("_line").cast(pl.Int64), "_dup_rows").rows()
    assert reconciles(loaded.counts)


def test_ids_written_many_times_side_by_side_are_encoded_by_the_categorical_cast(monkeypatch: pytest.MonkeyPatch) -> None:
    """A sample of a column of IDs each written four times is as distinct as one of IDs written
    once. Written one after another (insurance months sorted by person), runs of consecutive rows
    tell them apart and the categorical cast encodes them (the quicker there); written in no order
    (the claims' people), the runs are as distinct as the sample and they are hashed, as IDs
    written once are (the quicker there: bench/NOTES.md)."""
    hashed: list[str] = []
    by_hash = nz._encode_by_hash
    monkeypatch.setattr(nz, "_encode_by_hash", lambda values: hashed.append(values.name) or by_hash(values))
    once = pl.select(v=pl.int_range(1_000_000).cast(pl.String).str.zfill(18)).to_series().alias("once")
    fourfold = pl.select(v=(pl.int_range(1_000_000) % 250_000).cast(pl.String).str.zfill(18)).to_series()
    side_by_side, scattered = fourfold.sort().alias("side_by_side"), fourfold.shuffle(seed=1).alias("scattered")
    for values in (side_by_side, scattered):
        sample = values.gather_every(values.len() // nz._SAMPLE)
        assert sample.n_unique() > nz._MANY_DISTINCT * sample.len()  # the sample alone would hash both
    for values in (once, side_by_side, scattered):
        codes, found = nz.encode(values)
        assert (found.gather(codes) == values).all()
    assert hashed == ["once", "scattered"]
