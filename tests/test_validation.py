"""The great-expectations contracts: each table's suite on good and bad rows, and the rendering."""

from __future__ import annotations

import json
import re
from pathlib import Path

import polars as pl
import pytest

from audit.loader import LoadResult, load_inputs, note_zh
from audit.schema import SPECS
from audit.validation import ValidationReport, _ge_context, _ge_kwargs, contracts_for, validate, write_validation
from fixtures.generate import Config, generate
from tests.test_loader import MINIMAL, P1, P2, U1, U2, write_inputs


@pytest.fixture(scope="module")
def clean_report(tmp_path_factory) -> ValidationReport:
    return validate(load_inputs(write_inputs(tmp_path_factory.mktemp("clean"))))


def test_clean_input_meets_every_expectation(clean_report: ValidationReport) -> None:
    assert clean_report.failed() == []
    tables = {o.table for o in clean_report.outcomes}
    assert tables == {"units", "trainees", "agreements", "claims", "social_insurance"}
    kinds = {o.expectation for o in clean_report.outcomes}
    assert {"ExpectColumnPairValuesToBeEqual", "ExpectColumnValuesToNotBeNull", "ExpectColumnValuesToBeInSet",
            "ExpectColumnValuesToBeBetween", "ExpectColumnPairValuesAToBeGreaterThanB",
            "ExpectColumnValuesToMatchRegex"} <= kinds


BAD_P2 = P2[:17] + ("0" if P2[17] != "0" else "1")
BAD = [
    ("units: county code not six digits", "units",
     MINIMAL["units"].replace(f"{U2},乙公司,430102", f"{U2},乙公司,4301"), "区划代码 county_code", 1),
    ("trainees: bad check digit", "trainees",
     MINIMAL["trainees"].replace(P2, BAD_P2), "GB 11643", 1),
    ("units: exit before approval", "units",
     MINIMAL["units"].replace("approved_date\n", "approved_date,exit_date\n").replace("2023-01-05\n", "2023-01-05,2022-12-31\n")
     .replace("2023-02-01\n", "2023-02-01,\n"), "exit_date ≥ approved_date", 1),
    ("agreements: trainee not registered", "agreements",
     MINIMAL["agreements"].replace(f"A2,{P2}", f"A2,{BAD_P2}"), "引用 person_id", 1),
    ("claims: duplicated claim id", "claims",
     MINIMAL["claims"].replace("C3,", "C1,"), "主键唯一", 2),
    ("claims: negative amount", "claims",
     MINIMAL["claims"].replace(",1800,", ",-1800,"), "金额 amount", 1),
    ("claims: agreement missing", "claims",
     MINIMAL["claims"].replace(",A2,", ",A9,"), "引用 agreement_id", 1),
    ("claims: month out of sane years", "claims",
     MINIMAL["claims"].replace("C3,", "C4,").replace(f"{P2},A2,2023-07", f"{P2},A2,1970-07"), "日期范围 claim_month", 1),
    ("social insurance: malformed employer code", "social_insurance",
     MINIMAL["social_insurance"].replace(f"{P2},{U2}", f"{P2},{U2[:10]}"), "GB 32100", 1),
]


@pytest.mark.parametrize("table,content,words,rows", [c[1:] for c in BAD], ids=[c[0] for c in BAD])
def test_bad_rows_fail_their_expectation_and_are_kept(tmp_path: Path, table: str, content: str, words: str,
                                                      rows: int) -> None:
    loaded = load_inputs(write_inputs(tmp_path, **{table: content}))
    report = validate(loaded)
    failed = [o for o in report.failed() if o.table == table and words in o.description]
    assert len(failed) == 1, [o.description for o in report.failed()]
    assert failed[0].unexpected_rows == rows
    assert failed[0].examples and failed[0].examples[0]["file"] == f"{table}.csv"
    assert loaded.quarantine.height == 0  # readable rows are kept, never quarantined


def test_closed_vocabularies_read_their_spellings_and_guess_at_nothing(tmp_path: Path) -> None:
    """A closed vocabulary is read through the spellings exports use (大专 is 专科, 企业职工基本养老保险
    is 养老, 月度补贴 is 月度); a value not listed is never guessed at: a claim or an insurance row
    is quarantined with the reason, an agreement or a trainee is kept with the cell read as
    blank and a note, as the rules read a blank one."""
    inputs = write_inputs(
        tmp_path,
        trainees=MINIMAL["trainees"].replace("李四,专科", "李四,大专").replace("张三,本科", "张三,高中"),
        claims=MINIMAL["claims"].replace(",A2,2023-07,月度", ",A2,2023-07,季度").replace(",月度,", ",月度补贴,", 1),
        social_insurance=MINIMAL["social_insurance"].replace("医疗", "大病").replace("养老", "企业职工基本养老保险", 1),
    )
    loaded = load_inputs(inputs)
    trainees = loaded.tables["trainees"]
    assert sorted(trainees["education"].to_list(), key=str) == sorted(["专科", None, "本科"], key=str)
    assert any("trainees.education" in n and "高中（1 行）" in n for n in loaded.notes)
    assert set(loaded.tables["claims"]["claim_type"].unique().to_list()) == {"月度"}
    assert set(loaded.tables["social_insurance"]["insurance_type"].unique().to_list()) <= set(
        SPECS["social_insurance"].column("insurance_type").values)
    q = loaded.quarantine
    assert sorted(q.filter(pl.col("reason").str.contains("可识别的写法"))["column"].to_list()) == [
        "claim_type", "insurance_type"]
    assert sorted(q["value"].to_list()) == ["大病", "季度"]
    assert not validate(loaded).failed()


def test_examples_mask_person_ids(tmp_path: Path) -> None:
    report = validate(load_inputs(write_inputs(tmp_path, trainees=MINIMAL["trainees"].replace(P2, BAD_P2))))
    outcome = next(o for o in report.failed() if "GB 11643" in o.description)
    shown = json.dumps(outcome.examples, ensure_ascii=False)
    assert BAD_P2 not in shown and BAD_P2[:4] in shown


def test_written_json_and_html(tmp_path: Path, clean_report: ValidationReport) -> None:
    write_validation(tmp_path, clean_report)
    data = json.loads((tmp_path / "validation.json").read_text(encoding="utf-8"))
    assert data["success"] is True and len(data["expectations"]) == len(clean_report.outcomes)
    page = (tmp_path / "validation.html").read_text(encoding="utf-8")
    assert "<h2>claims — 补贴申领明细" in page and "ExpectColumnValuesToBeInSet" in page
    assert "data contracts" in clean_report.text()
    assert P1 not in page and U1 in MINIMAL["units"]


# ---------------------------------------------------------------------------------------------
# the reduction against great-expectations on every row


@pytest.fixture(scope="module")
def messy(tmp_path_factory) -> LoadResult:
    """A mixed-format world with unreadable rows, duplicates, bad IDs and broken contracts."""
    world = tmp_path_factory.mktemp("messy") / "world"
    generate(world, Config(seed=9, trainees=150, fmt="mixed", mess=True))
    return load_inputs(world)


def test_the_reduction_fails_the_rows_great_expectations_fails_on_every_row(messy: LoadResult) -> None:
    """Every per-row expectation (required, value set, format, range, order, ID status), given
    to great-expectations with each table's every row, fails on as many rows as the validation
    over the reduced frames reports; the keys and references are counted by polars either way."""
    import great_expectations as gx  # as audit.validation does: a 2 s import, for this test only

    report = validate(messy)
    outcome = {(o.table, o.description): o for o in report.outcomes}
    context = _ge_context()
    batch_def = context.data_sources.add_pandas("rows").add_dataframe_asset("table").add_batch_definition_whole_dataframe("all")
    compared = failing = 0
    for name in messy.heights:
        frame = messy.tables[name]
        contracts = [c for c in contracts_for(SPECS[name], set(frame.columns))[0] if c.domain not in ("schema", "key")]
        suite = gx.ExpectationSuite(name=f"rows:{name}")
        for i, contract in enumerate(contracts):
            suite.add_expectation(getattr(gx.expectations, contract.kind)(**_ge_kwargs(contract.kwargs), meta={"i": i}))
        result = batch_def.get_batch(batch_parameters={"dataframe": frame.to_pandas()}).validate(
            suite, result_format={"result_format": "SUMMARY"})
        for r in result.results:
            contract = contracts[r.expectation_config.meta["i"]]
            reduced = outcome[(name, contract.description)]
            assert (reduced.success, reduced.unexpected_rows) == (r.success, r.result.get("unexpected_count", 0)), \
                (name, contract.description)
            compared += 1
            failing += not r.success
    assert compared > 100 and failing >= 3  # the messy world breaks contracts: not a vacuous comparison


def test_a_column_missing_or_of_another_type_fails_the_schema_naming_it() -> None:
    """The schema's two expectations a table: each column of the contract exists, and has its
    type; a failure names the column, what it is and what it should be — and the whole table's
    rows are what it concerns."""
    from audit.validation import Domain, Suites, _schema_frame

    good = pl.DataFrame({c.name: pl.Series([], dtype=pl.String) for c in SPECS["deaths"].columns})
    good = good.with_columns(pl.col("death_date").cast(pl.Date))
    suites = Suites()

    def schema_outcomes(frame: pl.DataFrame) -> dict[str, object]:
        contracts = [c for c in contracts_for(SPECS["deaths"], set(frame.columns))[0] if c.domain == "schema"]
        reduced = [(Domain("schema", {}), contracts, _schema_frame(SPECS["deaths"], frame.schema, 7))]
        return {o.expectation: o for o in suites.run("deaths", 7, reduced)}

    assert all(o.success for o in schema_outcomes(good).values())
    lacking = schema_outcomes(good.drop("death_date"))
    assert not lacking["ExpectColumnValuesToNotBeNull"].success and lacking["ExpectColumnPairValuesToBeEqual"].success
    assert lacking["ExpectColumnValuesToNotBeNull"].examples == [{"column": "death_date", "dtype": None, "expected": "Date"}]
    assert lacking["ExpectColumnValuesToNotBeNull"].unexpected_rows == 7
    typed = schema_outcomes(good.with_columns(pl.col("death_date").cast(pl.String)))
    assert typed["ExpectColumnValuesToNotBeNull"].success and not typed["ExpectColumnPairValuesToBeEqual"].success
    assert typed["ExpectColumnPairValuesToBeEqual"].examples == [{"column": "death_date", "dtype": "String", "expected": "Date"}]


def test_a_tables_frames_in_one_batch_give_what_each_in_its_own_gives(messy: LoadResult) -> None:
    """The suites run as one batch per table (the frames stacked, each expectation's column its
    own frame's) give every outcome — success, failing rows, examples with file and line — that
    one batch per frame gives: no frame's rows reach another frame's expectations."""
    from audit.validation import Suites, reduce_table_domains, referenced_values

    suites = Suites()
    known = referenced_values(list(messy.heights), messy.scan)
    compared = failing = 0
    for name, height in messy.heights.items():
        reduced = reduce_table_domains(name, messy.scan(name), height, known)
        together = suites.run(name, height, reduced)
        apart = [o for one in reduced for o in suites.run(name, height, [one])]
        assert together == apart, name
        compared += len(together)
        failing += sum(not o.success for o in together)
    assert compared > 150 and failing >= 5


def test_an_expectation_with_mostly_lists_its_unexpected_rows_though_it_succeeds() -> None:
    """The suites run for success first and list the unexpected rows of the failed expectations
    only (``Suites.run``); one with a ``mostly`` may succeed with unexpected rows, which must be
    counted and shown as one COMPLETE pass shows them."""
    import polars as pl

    from audit.validation import Contract, Domain, Suites

    domain = Domain("set:claim_type", {"claim_type": pl.col("claim_type")})
    small = pl.DataFrame({"_gid": [0, 1, 2, 3], "claim_type": ["月度", "月度", "差额", "奇怪"],
                          "_rows": [50, 30, 15, 5], "_file": ["claims.csv"] * 4, "_line": [2, 3, 4, 5]})
    kinds = [Contract("claims", domain.name, "ExpectColumnValuesToBeInSet",
                      {"column": "claim_type", "value_set": ["月度", "差额"], **more}, "in set", ("claim_type",))
             for more in ({"mostly": 0.5}, {})]
    with_mostly, strict = Suites().run("claims", 100, [(domain, kinds, small)])
    assert with_mostly.success and with_mostly.unexpected_rows == 5 and with_mostly.examples[0]["claim_type"] == "奇怪"
    assert not strict.success and strict.unexpected_rows == 5


@pytest.mark.parametrize("values", [
    ["a", None, "b", None, "c"],  # values and nulls mixed, the first row a value
    [None, None, "x"],  # the first row null
    [None, None],  # nothing present
    ["x", "y"],  # nothing missing
    [],  # an empty table
])
def test_presence_reduced_in_one_pass_equals_the_grouped_reduction(values: list[str | None]) -> None:
    """The presence domains of a table are reduced in one pass (``_reduce_presence``): the same
    groups, counts and first rows as the group-by of any other domain (``_reduce``)."""
    import polars as pl

    from audit.validation import Domain, _reduce, _reduce_presence

    frame = pl.LazyFrame({"v": values, "w": list(reversed(values))}, schema={"v": pl.String, "w": pl.String})
    fused = _reduce_presence(frame, ["v", "w"])
    for column, got in zip(["v", "w"], fused):
        domain = Domain(f"present:{column}", {column: pl.when(pl.col(column).is_not_null()).then(pl.lit("present"))},
                        presence_of=column)
        grouped = _reduce(frame, domain).collect()
        assert got.schema == grouped.schema
        assert got.sort(column, nulls_last=True).rows() == grouped.sort(column, nulls_last=True).rows()
        assert got["_rows"].sum() == len(values)


@pytest.mark.parametrize("values", [
    ["p1", None, "zz", "p2", "zz", "yy", "p1"],  # held, null, and two values lacking, one twice
    ["zz", "p1"],  # the first row lacking
    ["p1", None],  # nothing lacking
    ["zz", "yy"],  # nothing held
    [],  # an empty table
])
def test_a_reference_reduced_row_by_row_equals_the_grouped_reduction(values: list[str | None]) -> None:
    """A reference's domain is reduced by testing each row and grouping only the failing ones
    (``_reduce_reference``): the same groups, counts and first rows as grouping every row by its
    value first (``_reduce``)."""
    import polars as pl

    from audit.validation import _reduce, _reduce_reference, reference_domains

    known = {("trainees", "person_id"): pl.Series(["p1", "p2", "p3"])}
    [domain] = [d for d in reference_domains(SPECS["claims"], known)[1] if d.by == ("person_id",)]
    frame = pl.LazyFrame({"person_id": values}, schema={"person_id": pl.String})
    got, grouped = _reduce_reference(frame, domain), _reduce(frame, domain).collect()
    assert got.schema == grouped.schema
    order = ["_in_ref", "person_id"]
    assert got.sort(order, nulls_last=True).rows() == grouped.sort(order, nulls_last=True).rows()
    assert got["_rows"].sum() == len(values)


@pytest.mark.parametrize("collide", [False, True])
@pytest.mark.parametrize("table, rows", [
    ("claims", {"claim_id": ["c1", "c2", "c1", None, "c3", None, "c1"]}),  # one key thrice, null twice
    ("claims", {"claim_id": ["c1", "c2"]}),  # every key once
    ("claims", {"claim_id": ["c1", "c1"]}),  # no key once
    ("claims", {"claim_id": []}),  # an empty table
    ("retention_declarations", {"unit_id": ["u1", "u1", "u2", "u1"], "year": [2024, 2025, 2024, 2024]}),
])
def test_a_key_reduced_by_its_hash_equals_the_grouped_reduction(table: str, rows: dict[str, list[object]],
                                                                 collide: bool, monkeypatch) -> None:
    """A key's domain groups only the rows whose key's hash repeats (``_reduce_key``): the same
    groups, counts and first rows as grouping every row by its key (``_reduce``) — also when
    every hash collides, so that distinct keys are told apart on the key itself."""
    import polars as pl

    import audit.validation as v

    if collide:
        monkeypatch.setattr(v, "_key_hash", lambda key: pl.lit(7, pl.UInt64))
    schema = {c: (pl.Int64 if c == "year" else pl.String) for c in rows}
    frame = pl.LazyFrame(rows, schema=schema)
    [domain] = [d for d in v.contracts_for(SPECS[table], set(rows))[1] if d.name == "key"]
    got, grouped = v._reduce_key(frame, domain), v._reduce(frame, domain).collect()
    assert got.schema == grouped.schema
    order = ["_key_count", *SPECS[table].key]
    assert got.sort(order, nulls_last=True).rows() == grouped.sort(order, nulls_last=True).rows()
    assert got["_rows"].sum() == len(next(iter(rows.values())))


def test_every_expectation_says_in_chinese_what_it_expects(clean_report: ValidationReport) -> None:
    """Each expectation is written 中文 / English: the report's first screen shows the Chinese — the
    column by its Chinese header, no field name, no English sentence — and the terminal both."""
    field = re.compile(r"(?<![\w.])[a-z][a-z0-9]*(?:_[a-z0-9]+)+(?![\w./])")
    english = re.compile(r"[A-Za-z]+(?:[ ,;'-]+[A-Za-z]+){3,}")
    said = [note_zh(o.description) for o in clean_report.outcomes]
    assert all(" / " in o.description for o in clean_report.outcomes)
    assert [s for s in said if field.search(s) or english.search(s) or not re.search(r"[\u4e00-\u9fff]", s)] == []
    assert "主键唯一：申领编号不重复" in said and "先后：退出日期不早于认定日期" in said
    key = next(o.description for o in clean_report.outcomes if o.table == "claims" and "主键唯一" in o.description)
    assert field.search(key.split(" / ", 1)[1])  # the English part names fields: the test can fail
