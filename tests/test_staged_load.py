"""The staged load (each table written to Parquet as it is normalised) and the large-table path.

``load_inputs(input_dir, out_dir)`` stages every table in ``out_dir/.normalised.partial/`` and
``write`` moves them into ``normalised/``; it must give exactly what the in-memory load gives,
leave nothing behind when it fails, and validate the same. Tables of 50 000 rows and more are
dictionary-encoded (``audit.normalise.encode``): their rows must come out as each row's value
normalised on its own would.
"""

from __future__ import annotations

import datetime as dt
import json
import random
from pathlib import Path

import polars as pl
import pytest

import audit.loader.columns
import audit.loader.load
from audit import normalise as nz
from audit.loader import STAGE_DIR, InputError, load_inputs
from audit.schema import SPECS
from audit.validation import validate
from fixtures.generate import Config, generate
from tests.test_loader import MINIMAL, P1, P2, U1, U2, pid, reconciles, write_inputs


@pytest.fixture(scope="module")
def messy(tmp_path_factory) -> Path:
    """A mixed-format world (CSV, XLSX, Parquet) with unreadable rows, duplicates and bad IDs."""
    world = tmp_path_factory.mktemp("messy") / "world"
    generate(world, Config(seed=9, trainees=150, fmt="mixed", mess=True))
    return world


def _normalised(out: Path) -> dict[str, pl.DataFrame]:
    return {p.stem: pl.read_parquet(p) for p in sorted((out / "normalised").glob("*.parquet"))}


def test_staged_and_in_memory_loads_write_the_same_files(messy: Path, tmp_path: Path) -> None:
    memory = load_inputs(messy)
    memory.write(tmp_path / "memory")
    staged = load_inputs(messy, tmp_path / "staged")
    staged.write(tmp_path / "staged")

    a, b = _normalised(tmp_path / "memory"), _normalised(tmp_path / "staged")
    assert a.keys() == b.keys() == set(memory.tables)
    for name in a:
        assert a[name].equals(b[name]), name
        assert a[name].equals(memory.tables[name]), name
        assert staged.tables[name].equals(a[name]), name  # read back from normalised/ on access
        assert staged.scan(name).collect().equals(a[name]), name
    for name in ("quarantine.csv", "load_counts.csv"):
        assert (tmp_path / "memory" / name).read_bytes() == (tmp_path / "staged" / name).read_bytes(), name
    assert memory.heights == staged.heights == {n: f.height for n, f in a.items()}
    assert staged.quarantine.height > 0 and reconciles(staged.counts)


def test_the_normalised_tables_hold_text_not_categories(messy: Path, tmp_path: Path) -> None:
    """The loader keeps repeated text compact while it works; the tables the checks read hold
    strings (checks compare them with ``is_in`` and write ``_file`` into JSON evidence)."""
    loaded = load_inputs(messy, tmp_path)
    loaded.write(tmp_path)
    for name in loaded.tables:
        schema = pl.read_parquet_schema(tmp_path / "normalised" / f"{name}.parquet")
        assert not [c for c, t in schema.items() if isinstance(t, (pl.Enum, pl.Categorical))], name
        assert schema["_file"] == pl.String and schema["_line"] == pl.Int64 and schema["_dup_rows"] == pl.Int64


def test_nothing_is_visible_until_write(tmp_path: Path) -> None:
    data = write_inputs(tmp_path / "in")
    out = tmp_path / "out"
    loaded = load_inputs(data, out)
    assert sorted(p.name for p in out.iterdir()) == [STAGE_DIR]
    assert sorted(p.name for p in (out / STAGE_DIR).iterdir()) == sorted(f"{t}.parquet" for t in MINIMAL)
    loaded.write(out)
    assert not (out / STAGE_DIR).exists()
    assert sorted(p.stem for p in (out / "normalised").iterdir()) == sorted(MINIMAL)
    assert loaded.tables["trainees"]["person_id"].to_list() == loaded.scan("trainees").collect()["person_id"].to_list()


def test_a_failed_load_leaves_nothing_behind(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """An error while the tables are being staged (here: the third table) removes the stage,
    and the output directory the load created for it."""
    data = write_inputs(tmp_path / "in")
    real = audit.loader.load.normalise
    seen: list[str] = []

    def failing(spec, sources, **kw):
        seen.append(spec.name)
        if len(seen) == 3:
            raise InputError(f"{spec.name}: made to fail")
        return real(spec, sources, **kw)

    monkeypatch.setattr(audit.loader.load, "normalise", failing)
    out = tmp_path / "run" / "out"
    with pytest.raises(InputError, match="made to fail"):
        load_inputs(data, out)
    assert not (tmp_path / "run").exists()

    existing = tmp_path / "existing"  # an output dir that was there stays, with its files
    existing.mkdir()
    (existing / "note.txt").write_text("keep me")
    seen.clear()
    with pytest.raises(InputError):
        load_inputs(data, existing)
    assert sorted(p.name for p in existing.iterdir()) == ["note.txt"]


def test_an_unusable_input_stages_nothing(tmp_path: Path) -> None:
    data = write_inputs(tmp_path / "in", claims="claim_id,amount\nC1,1500\n")
    with pytest.raises(InputError, match="required column"):
        load_inputs(data, tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_a_stage_left_by_a_killed_load_is_cleared(tmp_path: Path) -> None:
    stale = tmp_path / "out" / STAGE_DIR
    stale.mkdir(parents=True)
    (stale / "budget.parquet").write_bytes(b"half-written")
    loaded = load_inputs(write_inputs(tmp_path / "in"), tmp_path / "out")
    assert "budget.parquet" not in {p.name for p in stale.iterdir()}
    loaded.write(tmp_path / "out")
    assert not stale.exists() and not (tmp_path / "out" / "normalised" / "budget.parquet").exists()


def test_validation_over_the_staged_files_equals_validation_in_memory(messy: Path, tmp_path: Path) -> None:
    staged = load_inputs(messy, tmp_path)
    staged.write(tmp_path)
    a, b = validate(load_inputs(messy)).to_dict(), validate(staged).to_dict()
    a.pop("seconds"), b.pop("seconds")
    assert json.dumps(a, default=str) == json.dumps(b, default=str)
    assert not a["success"]  # the messy world breaks contracts: the comparison is not vacuous


# ---------------------------------------------------------------------------------------------
# large tables: dictionary-encoded columns


def _messy_ids(n: int, rng: random.Random) -> list[str | None]:
    """Valid IDs, with lower-case x, legacy 15-digit numbers, bad check digits, junk and blanks."""
    out: list[str | None] = []
    for i in range(n):
        birth = (dt.date(1990, 1, 1) + dt.timedelta(days=i % 3650)).strftime("%Y%m%d")
        body = f"430102{birth}{i // 3650 % 1000:03d}"
        good = body + nz.gb11643_check_char(body)
        roll = rng.random()
        if roll < 0.02:
            out.append(good.lower() if good.endswith("X") else " " + good)
        elif roll < 0.04:
            out.append(good[:6] + good[8:17])
        elif roll < 0.05:
            out.append(good[:17] + ("0" if good[17] != "0" else "1"))
        elif roll < 0.055:
            out.append("不详")
        elif roll < 0.058:
            out.append(None)
        elif roll < 0.06:
            out.append(" 　")
        else:
            out.append(good)
    return out


@pytest.mark.parametrize("compact_max", [audit.loader.columns.COMPACT_MAX, 100], ids=["ids as enum", "ids as text"])
def test_a_large_table_reads_row_by_row_as_a_small_one(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                       compact_max: int) -> None:
    """60 000 insurance rows (encoded, parsed once per distinct value) against each row's value
    normalised directly: IDs, statuses, raw values, months, the quarantine and the duplicates.
    The person IDs (some 55 000 distinct: codes found by hashing) are held as text or as a
    ``pl.Enum`` while loading, by ``COMPACT_MAX``; the result is the same."""
    monkeypatch.setattr(audit.loader.columns, "COMPACT_MAX", compact_max)
    hashed = []
    real = nz._encode_by_hash
    monkeypatch.setattr(nz, "_encode_by_hash", lambda v: hashed.append(v.name) or real(v))
    rng = random.Random(3)
    n = 60_000
    people = _messy_ids(n * 4, rng)
    rows = pl.DataFrame({
        "person_id": [people[rng.randrange(len(people))] for _ in range(n)],
        "employer_id": [U1 if rng.random() < 0.5 else (U2.lower() if rng.random() < 0.5 else None) for _ in range(n)],
        "month": [rng.choice(["2023-07", "202308", "2023年9月", " 2023.10 ", "2023-13", ""]) for _ in range(n)],
        "insurance_type": [rng.choice(["养老", " 医疗", "失业", "工伤保险"]) for _ in range(n)],
    })
    rows = pl.concat([rows, rows.slice(100, 500)])  # 500 exact duplicate rows
    rows.write_parquet(tmp_path / "social_insurance.parquet")
    data = write_inputs(tmp_path, social_insurance=None)
    loaded = load_inputs(data)
    si = loaded.tables["social_insurance"]

    expect = (
        rows.with_row_index("_i")
        .with_columns(_line=pl.col("_i").cast(pl.Int64) + 2, m=nz.parse_month(pl.col("month")),
                      blank=nz.clean_text(pl.col("month")).is_null(), pid=nz.clean_person_id(pl.col("person_id")))
    )
    unreadable = expect.filter(pl.col("m").is_null() | pl.col("pid").is_null())
    q = loaded.quarantine.filter(pl.col("table") == "social_insurance")
    assert set(q["line"]) == set(unreadable["_line"])
    assert q.filter(pl.col("column") == "month").height == unreadable.filter(pl.col("m").is_null()).height

    kept = expect.filter(pl.col("m").is_not_null() & pl.col("pid").is_not_null()).unique(
        ["person_id", "employer_id", "month", "insurance_type"], keep="first", maintain_order=True)
    assert si["_line"].to_list() == kept["_line"].to_list()
    ids = nz.person_id_table(kept["person_id"])
    assert si["person_id"].to_list() == ids["id"].to_list()
    assert si["person_id_status"].to_list() == ids["status"].to_list()
    assert si["person_id_raw"].to_list() == kept["person_id"].to_list()  # the raw column is not patched
    assert si["employer_id"].to_list() == nz.uscc_table(kept["employer_id"])["id"].to_list()
    assert si["month"].to_list() == kept["m"].to_list()
    vocabulary = SPECS["social_insurance"].column("insurance_type").spellings
    assert si["insurance_type"].to_list() == kept.select(nz.read_vocabulary(pl.col("insurance_type"), vocabulary)).to_series().to_list()
    assert si.schema["month"] == pl.Date and si.schema["person_id_status"] == pl.String
    assert {"legacy15", "bad_check", "malformed", "ok"} <= set(si["person_id_status"])

    assert hashed == ["person_id"]
    counts = loaded.counts.filter(pl.col("table") == "social_insurance").row(0, named=True)
    assert counts["rows_read"] == rows.height and counts["rows_kept"] == si.height
    assert counts["duplicates_collapsed"] == int(si["_dup_rows"].sum()) - si.height >= 500
    assert reconciles(loaded.counts)


@pytest.mark.parametrize("distinct,hashed", [(7, False), (40_000, False), (10_000_000, True)],
                         ids=["few values", "some values", "many values: hashed"])
def test_encode_gives_every_row_its_value(distinct: int, hashed: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    rng = random.Random(distinct)
    values = pl.Series("v", [None if rng.random() < 0.01 else f"v{rng.randrange(distinct)}" for _ in range(120_000)])
    calls = []
    real = nz._encode_by_hash
    monkeypatch.setattr(nz, "_encode_by_hash", lambda v: calls.append(1) or real(v))
    codes, found = nz.encode(values)
    assert bool(calls) is hashed
    assert codes.dtype == pl.UInt32
    assert found.gather(codes).to_list() == values.to_list()
    assert codes.is_null().to_list() == values.is_null().to_list()
    assert found.drop_nulls().n_unique() == values.drop_nulls().n_unique()


def test_encode_falls_back_to_the_exact_path_when_a_hash_is_not_confirmed(monkeypatch: pytest.MonkeyPatch) -> None:
    values = pl.Series("v", [f"v{i % 30_000}" for i in range(100_000)])
    monkeypatch.setattr(nz, "_encode_by_hash", lambda v: None)  # as if the second hash disagreed
    codes, found = nz.encode(values)
    assert found.gather(codes).to_list() == values.to_list()


def test_staged_load_of_ids_kept_as_written(tmp_path: Path) -> None:
    """Legacy and lower-case IDs come out of the staged files as the in-memory load gives them."""
    legacy = P2[:6] + P2[8:17]
    content = f"person_id,name\n{P1},张三\n{legacy},李四\n{pid('43010219900101002')[:17]}x,王五\n"
    data = write_inputs(tmp_path / "in", trainees=content)
    staged = load_inputs(data, tmp_path / "out")
    staged.write(tmp_path / "out")
    t = staged.tables["trainees"]
    assert t["person_id_status"].to_list() == ["ok", "legacy15", t["person_id_status"][2]]
    assert t["person_id"][1] == P2 and t["person_id_raw"][1] == legacy
    assert t["birth_date"].to_list()[:2] == [dt.date(1999, 1, 1), dt.date(1998, 2, 2)]
    assert t.equals(load_inputs(data).tables["trainees"])


def test_extra_columns_named_like_the_loaders_own_are_kept_apart(tmp_path: Path) -> None:
    """An export's unknown column called ``_src``, ``_keep`` or ``_row`` (names the loader and the
    validation use while they work) is kept, renamed, and does not disturb them."""
    content = f"unit_id,unit_name,county_code,approved_date,_src,_keep,_row\n{U1},甲公司,430102,2023-01-05,a,b,c\n"
    data = write_inputs(tmp_path / "in", units=content)
    for loaded in (load_inputs(data), load_inputs(data, tmp_path / "out")):
        units = loaded.tables["units"]
        assert units.select("_src_extra", "_keep_extra", "_row_extra").row(0) == ("a", "b", "c")
        assert loaded.unknown_columns["units"] == ["_src_extra", "_keep_extra", "_row_extra"]
        assert validate(loaded).rows["units"] == 1
