"""The generator: deterministic, and its truth reconciles with its tables (docs/semantics.md)."""

from __future__ import annotations

import datetime as dt
import hashlib
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import polars as pl
import pytest

from audit.policy import Policy
from audit.reference import load_reference
from fixtures.generate import generate
from fixtures.world import Config

SMALL = dict(trainees=400, first_month=dt.date(2023, 1, 1), last_month=dt.date(2024, 6, 1))


def _digest(folder: Path) -> dict[str, str]:
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("world")
    generate(out, Config(seed=11, **SMALL))
    return out


def test_same_seed_gives_byte_identical_files(world: Path, tmp_path: Path) -> None:
    generate(tmp_path / "again", Config(seed=11, **SMALL))
    assert _digest(world) == _digest(tmp_path / "again")


def test_different_seed_gives_different_files(world: Path, tmp_path: Path) -> None:
    generate(tmp_path / "other", Config(seed=12, **SMALL))
    a, b = _digest(world), _digest(tmp_path / "other")
    assert a["claims.csv"] != b["claims.csv"]


@pytest.mark.parametrize("fmt", ["parquet", "xlsx", "mixed"])
def test_other_formats_are_deterministic(tmp_path: Path, fmt: str) -> None:
    cfg = Config(seed=5, fmt=fmt, mess=fmt == "mixed", trainees=150)
    generate(tmp_path / "a", cfg)
    generate(tmp_path / "b", cfg)
    assert _digest(tmp_path / "a") == _digest(tmp_path / "b")


def _read(world: Path, name: str) -> pl.DataFrame:
    return pl.read_csv(world / f"{name}.csv", infer_schema=False)


def test_every_table_of_the_contract_is_written(world: Path) -> None:
    from audit.schema import TABLES

    for spec in TABLES:
        assert (world / f"{spec.name}.csv").exists(), spec.name


def test_every_planted_key_exists_in_the_tables(world: Path) -> None:
    truth = pl.read_csv(world / "truth" / "planted.csv", infer_schema=False)
    from audit.normalise import normalise_person_id

    raw = pl.concat([_read(world, "trainees").select("person_id"), _read(world, "claims").select("person_id")])
    people = set(raw.select(normalise_person_id(pl.col("person_id")).struct.field("id")).to_series())
    units = set(_read(world, "units")["unit_id"])
    claims = set(_read(world, "claims")["claim_id"])
    reports = {(c, m[:7]) for c, m in _read(world, "county_reports").select("county_code", "month").iter_rows()}
    for row in truth.to_dicts():
        if row["person_id"]:
            assert row["person_id"] in people, row
        if row["unit_id"]:
            assert row["unit_id"] in units, row
        if row["claim_id"]:
            assert row["claim_id"] in claims, row
        if row["family"] == "REPORT_INCONSISTENT":
            assert (row["county_code"], row["month"]) in reports, row


def test_every_family_is_planted_with_lookalikes(world: Path) -> None:
    truth = pl.read_csv(world / "truth" / "planted.csv", infer_schema=False)
    families = set(truth.filter(pl.col("lookalike") == "false")["family"])
    assert families == {"ONE_INTERNSHIP", "DUPLICATE_TRAINEE", "GHOST_TRAINEE", "RATE_MISAPPLIED", "RETENTION_INFLATED",
                        "DORMANT_UNIT", "UNIT_INELIGIBLE", "REPORT_INCONSISTENT", "DATA_QUALITY"}
    assert truth.filter(pl.col("lookalike") == "true").height >= 20


def _half_up(x: Decimal) -> float:
    return float(x.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))


def test_unplanted_monthly_claims_are_exactly_what_the_rules_give(world: Path) -> None:
    """Recomputed here from the policy and the reference tables the audit loads for this input."""
    policy = Policy.load()
    tiers = pl.read_csv(world / "county_tiers.csv", schema_overrides={"county_code": pl.String, "tier": pl.Int64},
                        try_parse_dates=True)
    from types import SimpleNamespace

    ref = load_reference(world, SimpleNamespace(tables={"county_tiers": tiers}))
    truth = pl.read_csv(world / "truth" / "planted.csv", infer_schema=False)
    planted_claims = set(truth["claim_id"].drop_nulls())
    planted_people = set(truth.filter(pl.col("family") != "RATE_MISAPPLIED")["person_id"].drop_nulls())
    units = _read(world, "units").select("unit_id", "county_code")
    from fixtures.export import SPOILED_AMOUNT

    claims = (_read(world, "claims").filter((pl.col("claim_type") == "月度") & ~pl.col("claim_id").is_in(planted_claims)
                                            & ~pl.col("person_id").is_in(planted_people)
                                            & (pl.col("amount") != SPOILED_AMOUNT))  # lost to the quarantine
              .join(units, on="unit_id").with_columns(pl.col("claim_month").str.to_date("%Y-%m-%d"), pl.col("amount").cast(pl.Float64)))
    claims = claims.filter(pl.col("claim_id").is_unique())
    ct, mw = ref.county_tiers, ref.min_wage
    checked = 0
    for row in claims.head(600).to_dicts():
        prov, month = row["county_code"][:2] + "0000", row["claim_month"]
        kind = policy.value("rate.kind", prov, month)
        tier = ct.filter((pl.col("county_code") == row["county_code"]) & (pl.col("effective_from") <= month)
                         & (pl.col("effective_to").is_null() | (pl.col("effective_to") > month))).sort("effective_from")
        if (tier["status"] == "OPERATOR").any():  # the operator's row in force wins over the shipped maps
            tier = tier.filter(pl.col("status") == "OPERATOR")
        if kind is None or tier.height == 0:
            continue
        wage = mw.filter((pl.col("province_code") == prov) & (pl.col("tier") == tier["tier"][-1])
                         & (pl.col("effective_from") <= month)).sort("effective_from")
        if wage.height == 0 or wage["monthly_yuan"][-1] is None:
            continue
        if kind == "flat":
            expected = policy.value("rate.standard_flat", prov, month)
        else:
            share = policy.value("rate.standard_share", prov, month)
            if share is None:
                continue
            expected = _half_up(Decimal(str(share)) * Decimal(str(wage["monthly_yuan"][-1])))
        assert row["amount"] == pytest.approx(expected, abs=0.005), row
        checked += 1
    assert checked > 50


def test_county_reports_match_the_micro_data_except_where_planted(world: Path) -> None:
    truth = pl.read_csv(world / "truth" / "planted.csv", infer_schema=False).filter(
        (pl.col("family") == "REPORT_INCONSISTENT") & (pl.col("lookalike") == "false"))
    planted = set(zip(truth["county_code"], truth["month"]))
    reports = _read(world, "county_reports").with_columns([pl.col(f"i{k}").cast(pl.Float64) for k in range(1, 15)])
    for r in reports.to_dicts():
        if (r["county_code"], r["month"][:7]) in planted:
            continue
        assert r["i1"] >= r["i2"] and r["i3"] >= r["i4"] and r["i5"] >= r["i6"] >= r["i7"], r
        assert r["i8"] >= r["i9"] + r["i11"] and r["i9"] >= r["i10"], r


def test_mess_rows_land_in_the_quarantine_the_truth_expects(tmp_path: Path) -> None:
    from audit.loader import load_inputs

    generate(tmp_path / "messy", Config(seed=9, trainees=150, fmt="mixed", mess=True))
    expected = pl.read_csv(tmp_path / "messy" / "truth" / "expected_quarantine.csv")
    loaded = load_inputs(tmp_path / "messy")
    got = set(loaded.quarantine.select("table", "line").iter_rows())
    assert set(expected.select("table", "line").iter_rows()) == got
    assert expected.height >= 4
    # every other row was read: rows kept per table equal the clean world's rows
    generate(tmp_path / "clean", Config(seed=9, trainees=150))
    clean = load_inputs(tmp_path / "clean")
    for name, frame in clean.tables.items():
        assert loaded.tables[name].height == frame.height, name


# ---------------------------------------------------------------- one person, spelled many ways


def _normalised(frame: pl.DataFrame, col: str) -> pl.DataFrame:
    from audit.normalise import person_id_table

    ids = person_id_table(frame[col])
    return frame.with_columns(ids["id"].alias("_id"), ids["status"].alias("_status"))


@pytest.mark.parametrize(("table", "col", "legacy"), [
    ("trainees", "person_id", False), ("agreements", "person_id", False), ("claims", "person_id", False),
    ("social_insurance", "person_id", True), ("employment", "person_id", True), ("allowance_payments", "person_id", True),
    ("units", "legal_rep_id", True), ("market_registry", "legal_rep_id", True)])
def test_each_registry_writes_some_ids_its_own_way(world: Path, table: str, col: str, legacy: bool) -> None:
    """Full-width, spaced or tabbed, lower-case x — and the 15-digit form only outside the
    internship system's own tables — each reading to an 18-digit ID."""
    rows = _normalised(_read(world, table), col).drop_nulls(col)
    other = rows.filter(pl.col(col) != pl.col("_id"))
    assert other.height > 0, f"{table}: every ID written plainly"
    forms = set(other["_status"])
    assert "ok" in forms, (table, forms)  # full-width, spaced, tabbed, lower x: read as they are
    if not legacy:  # a 15-digit ID there is a planted DATA_QUALITY or DUPLICATE_TRAINEE case, never background
        truth = set(pl.read_csv(world / "truth" / "planted.csv", infer_schema=False)["person_id"].drop_nulls())
        assert set(other.filter(pl.col("_status") == "legacy15")["_id"]) <= truth


def test_the_registries_write_some_ids_in_the_15_digit_form(world: Path) -> None:
    forms = set()
    for table in ("social_insurance", "employment", "deaths", "allowance_payments"):
        forms |= set(_normalised(_read(world, table), "person_id")["_status"])
    assert "legacy15" in forms


def test_a_corroborated_typo_is_registered_twice_and_used_by_the_internship_system(world: Path) -> None:
    """Each typo case: the trainee register holds the valid ID and the typo with the same name and
    the same card or phone; the agreement names the typo; the registry names the valid ID."""
    truth = pl.read_csv(world / "truth" / "planted.csv", infer_schema=False)
    trainees = _normalised(_read(world, "trainees"), "person_id")
    agreements = _normalised(_read(world, "agreements"), "person_id")
    cases = truth.filter(pl.col("kind") == "insured_elsewhere_typo").group_by("case_id").agg(pl.col("person_id"))
    assert cases.height > 0
    insured = set(_normalised(_read(world, "social_insurance"), "person_id")["_id"])
    for ids in cases["person_id"].to_list():
        rows = trainees.filter(pl.col("_id").is_in(ids))
        assert rows.height == 2 and rows["name"].n_unique() == 1
        assert rows["bank_card"].n_unique() == 1 or rows["phone"].n_unique() == 1
        typo = rows.filter(pl.col("_status") == "bad_check")["_id"].item()
        valid = rows.filter(pl.col("_status") != "bad_check")["_id"].item()
        assert typo in set(agreements["_id"]) and valid not in set(agreements["_id"])
        assert valid in insured and typo not in insured


def test_the_law_in_force_is_planted(world: Path) -> None:
    """Issue #11: dormant units and second internships in every province, Jiangxi claims with insurance
    before its notice (look-alikes), hires after the remaining-period window and county-months whose
    claim rows are unreadable (expected skips)."""
    truth = pl.read_csv(world / "truth" / "planted.csv", infer_schema=False)
    kinds = {k: g for (k,), g in truth.group_by("kind")}
    second = kinds["second_internship_each_province"]
    trainees = _read(world, "agreements").select("person_id", pl.col("unit_id").str.slice(2, 2).alias("p"))
    provinces = set(second.join(trainees, on="person_id")["p"])
    assert provinces == {"36", "41", "43", "53", "62"}
    dormant = kinds["dormant_judgement"]
    assert set(dormant["county_code"].str.slice(0, 2)) == {"41", "43", "53", "62"}  # Jiangxi's is law
    assert set(kinds["insurance_before_notice"]["lookalike"]) == {"true"}
    for kind in ("remaining_after_window", "quarantined_claim_rows"):
        assert set(kinds[kind]["expect_skip"]) == {"true"}, kind
    spoiled = pl.read_csv(world / "truth" / "expected_quarantine.csv").filter(pl.col("table") == "claims")
    assert spoiled.height >= 1  # a real claim the county's report counted, written unreadably


@pytest.mark.parametrize(("first", "last", "ok"), [
    ("2023-01", "2024-06", True), ("2025-09", "2026-11", True),
    ("2026-01", "2026-11", False),  # the autumn before the audit year is outside
    ("2025-09", "2026-01", False),  # the February after the first month is outside
])
def test_a_world_too_short_for_its_cases_is_refused(first: str, last: str, ok: bool) -> None:
    """Cases are planted in the autumn before the audit year and in the February after the first
    month: a world that holds neither is refused, rather than dated outside itself (claims before
    their unit's approval, a deregistration after the audit month)."""
    month = lambda text: dt.date(int(text[:4]), int(text[5:]), 1)  # noqa: E731
    if ok:
        Config(first_month=month(first), last_month=month(last))
    else:
        with pytest.raises(ValueError, match="must reach back to"):
            Config(first_month=month(first), last_month=month(last))
