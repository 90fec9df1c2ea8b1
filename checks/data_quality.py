"""DATA_QUALITY — rows the loader kept but flagged, which the other rules and an investigator need
to know about (contract.md, "Bad input": money was paid against them, so they are kept).

Each finding points at the input rows (``_file``, ``_line``) and the values. A paying office
that disagrees with the unit's county is UNIT_INELIGIBLE's, not ours. Where the internship
system disagrees with the registry that is the authority for a fact (RULES.md §8, "Which source
wins"), the disagreement is a finding with both values. No money is put at risk by a data
finding itself: the rules that use these rows price them.
"""

from __future__ import annotations

import polars as pl

from audit.loader.normalised import VERSIONS_DISAGREE
from audit.normalise import uscc_structure_faults
from audit.policy import Policy
from audit.rules import ONGOING, Check, CheckResult, Severity, rule
from audit.tables import Tables, shared
from checks._citations import CLAIMS, DATA_COMPARISON, citing
from checks._identity import identity_links, raw_id, with_person_key
from checks._joins import first_by_key, repeated_rows

# the standard, then the province's own duty to compare registries (checks._citations)
ID_STANDARD = "GB 11643-1999 公民身份号码 (校验码); "
USCC_STANDARD = "GB 32100-2015 法人和其他组织统一社会信用代码编码规则 (校验码); "
CITE_ID = tuple(ID_STANDARD + c for c in DATA_COMPARISON)
CITE_USCC = tuple(USCC_STANDARD + c for c in DATA_COMPARISON)
CITE_CLAIM = CLAIMS
CITE_CHECK = DATA_COMPARISON
COUNTY_STANDARD = "GB/T 2260 中华人民共和国行政区划代码; "
CITE_COUNTY = tuple(COUNTY_STANDARD + c for c in DATA_COMPARISON)
_MAX_ROWS = 20  # rows listed in one finding's evidence (the count says how many there are)
_INTERNSHIP_TABLES = ("trainees", "agreements", "claims")
_UNIT_TABLES = ("units", "agreements", "claims", "positions", "market_registry")


def _rows(tables: list[tuple[str, pl.LazyFrame]], id_col: str, status_col: str,
          statuses: tuple[str, ...], raw_col: str | None) -> pl.LazyFrame:
    """The rows of several tables whose ``status_col`` is in ``statuses``: id, status, table,
    _file, _line, raw_id."""
    parts = []
    for name, lf in tables:
        have = lf.collect_schema()
        if status_col not in have:
            continue
        parts.append(
            lf.filter(pl.col(status_col).is_in(statuses)).select(
                pl.col(id_col).cast(pl.String).alias("id"),
                pl.col(status_col).alias("status"),
                pl.lit(name).alias("table"),
                pl.col("_file").cast(pl.String),
                pl.col("_line").cast(pl.Int64),
                (pl.coalesce(raw_col, id_col) if raw_col and raw_col in have else pl.col(id_col)).cast(pl.String).alias("raw_id"),
            )
        )
    return pl.concat(parts) if parts else pl.LazyFrame(
        schema={"id": pl.String, "status": pl.String, "table": pl.String, "_file": pl.String,
                "_line": pl.Int64, "raw_id": pl.String}
    )


def _per_id(rows: pl.LazyFrame) -> pl.LazyFrame:
    return rows.group_by("id").agg(
        pl.col("status").unique().sort().alias("statuses"),
        pl.col("raw_id").unique().sort().alias("raw_ids"),
        pl.len().alias("row_count"),
        pl.struct("table", "_file", "_line", "raw_id").sort_by("table", "_file", "_line").head(_MAX_ROWS).alias("rows"),
    )


def _present(t: Tables, names: tuple[str, ...]) -> list[tuple[str, pl.LazyFrame]]:
    return [(n, getattr(t, n)) for n in names if t.has(n)]


@rule(
    id="DATA_QUALITY.legacy_id",
    facts=("raw_ids",),
    title="使用15位旧身份证号",
    severity=Severity.LOW,
    citations=CITE_ID,
    needs=("trainees", "agreements", "claims"),
)
@citing(DATA_COMPARISON, prefix=ID_STANDARD)
def legacy_id(t: Tables, policy: Policy) -> pl.LazyFrame:
    """An ID recorded in its legacy 15-digit form in the trainees, agreements or claims: the
    loader converted it to 18 digits (the two forms are one person), and matching against
    registries that hold only the 18-digit form must use the converted one. One finding per
    person, any period; evidence: the rows and the raw IDs."""
    rows = _rows(_present(t, _INTERNSHIP_TABLES), "person_id", "person_id_status", ("legacy15",), "person_id_raw")
    return _per_id(rows).select(
        pl.col("id").alias("person_id"),
        pl.struct(pl.col("id").alias("normalised_id"), "raw_ids", "row_count", "rows").alias("evidence"),
    )


@rule(
    id="DATA_QUALITY.id_check_failed",
    facts=("raw_ids",),
    title="身份证号校验码错误或格式不符",
    severity=Severity.MEDIUM,
    citations=CITE_ID,
    detection_params=("duplicate.max_transpositions",),
    needs=("trainees", "agreements", "claims"),
)
@citing(DATA_COMPARISON, prefix=ID_STANDARD)
def id_check_failed(t: Tables, policy: Policy) -> pl.LazyFrame:
    """An ID in the trainees, agreements or claims whose GB 11643 check digit fails (or that is
    malformed): it cannot be matched to the population and insurance registries as it stands.
    Where it links, with corroboration, to a valid ID (:mod:`checks._identity`), the evidence
    names that ID and how. One finding per ID, any period."""
    rows = _rows(_present(t, _INTERNSHIP_TABLES), "person_id", "person_id_status", ("bad_check", "malformed"),
                 "person_id_raw")
    links = identity_links(t, policy).select(
        pl.col("person_id").alias("id"), pl.struct("person_key", "link", "link_via").alias("linked_to")
    )
    return _per_id(rows).join(links, on="id", how="left").select(
        pl.col("id").alias("person_id"),
        pl.struct("statuses", "raw_ids", "row_count", "rows", "linked_to").alias("evidence"),
    )


@rule(
    id="DATA_QUALITY.uscc_check_failed",
    title="统一社会信用代码校验码错误或格式不符",
    severity=Severity.MEDIUM,
    citations=CITE_USCC,
    needs=("units", "agreements", "claims"),
)
@citing(DATA_COMPARISON, prefix=USCC_STANDARD)
def uscc_check_failed(t: Tables, policy: Policy) -> pl.LazyFrame:
    """A unit code in the units, agreements, claims, positions or market registry whose GB 32100
    check character fails (or that is malformed): it cannot be matched to the market registry
    as it stands. One finding per code, any period."""
    rows = _rows(_present(t, _UNIT_TABLES), "unit_id", "unit_id_status", ("bad_check", "malformed"), None)
    return _per_id(rows).select(
        pl.col("id").alias("unit_id"),
        pl.struct("statuses", "row_count", "rows").alias("evidence"),
    )


@rule(
    id="DATA_QUALITY.uscc_structure",
    title="统一社会信用代码结构不符（登记管理部门、机构类别或行政区划码）",
    severity=Severity.LOW,
    citation="GB 32100-2015 法人和其他组织统一社会信用代码编码规则 4 代码结构、表1; 赣人社发〔2023〕9号 五(三)",
    needs=("units", "agreements", "claims"),
)
def uscc_structure(t: Tables, policy: Policy) -> pl.LazyFrame:
    """A unit code in the units, agreements, claims, positions or market registry whose check
    character holds but whose structure does not (GB 32100-2015): a registration-authority code
    (1st character) the standard does not list, an organisation-type code (2nd) its authority does
    not assign — 1 (机构编制) 1/2/3/9, 5 (民政) 1/2/3/9, 9 (工商) 1/2/3 … — or a registration
    division code (3rd–8th) that is not six digits. A fact for the investigator: the code may be
    keyed wrongly and match no registry; no money at risk, no row stopped. One finding per code,
    any period."""
    tables = _present(t, _UNIT_TABLES)
    # the distinct codes of each table first (a few thousand of millions of claim rows), then the
    # structure of each code once, then the rows of the few faulty codes
    codes = pl.concat([lf.filter(pl.col("unit_id_status") == "ok").select("unit_id").unique() for _, lf in tables]).unique()
    faulty = codes.with_columns(uscc_structure_faults(pl.col("unit_id")).alias("faults")).filter(
        pl.col("faults").list.len() > 0).cache()  # read once per table below, and for the findings
    rows = pl.concat([
        lf.join(faulty.select("unit_id"), on="unit_id", how="semi").select(
            "unit_id", pl.lit(name).alias("table"), pl.col("_file").cast(pl.String), pl.col("_line").cast(pl.Int64))
        for name, lf in tables
    ])
    per_code = rows.group_by("unit_id").agg(
        pl.len().alias("row_count"),
        pl.struct("table", "_file", "_line").sort_by("table", "_file", "_line").head(_MAX_ROWS).alias("rows"),
    )
    return faulty.join(per_code, on="unit_id").select(
        "unit_id", pl.struct("faults", "row_count", "rows").alias("evidence"))


_CLAIM_ROW = ("claim_id", "unit_id", "person_id", "person_id_raw", "agreement_id", "claim_month", "claim_type",
              "amount", "insurance_amount", "submitted_date", "paid_date", "_file", "_line")
_CLAIM_FLAGS = ("_no_agreement", "_no_person", "_no_unit", "_other_ids", "_repeated_id")


@shared(tables=("claims", "agreements", "trainees", "units"))
def claim_references(t: Tables, policy: Policy) -> pl.LazyFrame:
    """The claim rows whose references or key do not hold, computed once per run for
    orphan_claim, claim_agreement_mismatch and duplicate_key: the claim
    names an agreement the agreements register does not hold (``_no_agreement``), a person or
    unit the trainees or units register does not hold (``_no_person``, ``_no_unit``), an
    agreement (its first row, by file and line) recorded for other raw person or unit IDs
    (``_other_ids``, with that row's ``agreement_person_id, agreement_raw_person_id,
    agreement_unit_id, agreement_file, agreement_line``; whether those IDs are one natural
    person is the mismatch rule's question), or a claim_id another claim row has too
    (``_repeated_id``).

    Columns: the claim's own (:data:`_CLAIM_ROW`; ``person_id_raw`` as exported), the five
    flags and the agreement's columns.
    """
    # the three rules read the claims once, here, on narrow columns; only the rows that fail come
    # out. One read of the claims, numbered to tell rows apart; .cache(): the joins below all read it
    have = t.claims.collect_schema()
    claims = t.claims.select([c for c in _CLAIM_ROW if c in have]).with_row_index("_r").cache()
    first = first_by_key(t.agreements.select("agreement_id", "person_id", raw_id(), "unit_id", "_file", "_line"),
                          "agreement_id").select(
        "agreement_id",
        pl.col("person_id").alias("agreement_person_id"),
        pl.col("person_id_raw").alias("agreement_raw_person_id"),
        pl.col("unit_id").alias("agreement_unit_id"),
        pl.col("_file").alias("agreement_file"), pl.col("_line").alias("agreement_line"),
    ).cache()
    persons, units = t.trainees.select("person_id"), t.units.select("unit_id")

    # Each agreement's person and unit, and whether the registers lack them: a million rows
    # checked against the registers instead of 5.6 M claims. A claim naming its agreement's own
    # person (unit) ID is registered exactly as that agreement's is; only the few claims that
    # name no agreement, a missing one, or other IDs are checked against the registers
    # themselves. Those naming other raw IDs are the mismatch rule's to judge.
    def unregistered(col: str, register: pl.LazyFrame, key: str, flag: str) -> pl.LazyFrame:
        return (first.select("agreement_id", col).join(register, left_on=col, right_on=key, how="anti")
                .select("agreement_id", pl.lit(True).alias(flag)))

    agreement_ids = (
        first.select("agreement_id", "agreement_person_id", "agreement_unit_id", pl.lit(True).alias("_has"))
        .join(unregistered("agreement_person_id", persons, "person_id", "_agreement_no_person"), on="agreement_id",
              how="left")
        .join(unregistered("agreement_unit_id", units, "unit_id", "_agreement_no_unit"), on="agreement_id", how="left")
    )
    same_person = (pl.col("person_id") == pl.col("agreement_person_id")).fill_null(False)
    same_unit = (pl.col("unit_id") == pl.col("agreement_unit_id")).fill_null(False)
    looked = (
        claims.select("_r", "agreement_id", "person_id", "unit_id")
        .join(agreement_ids, on="agreement_id", how="left")  # no agreement id, no agreement: nulls
        .filter(~same_person | ~same_unit | pl.col("_agreement_no_person").fill_null(False)
                | pl.col("_agreement_no_unit").fill_null(False))
        .with_columns(same_person.alias("_same_person"), same_unit.alias("_same_unit"))
        .cache()
    )
    no_person = (looked.filter(~pl.col("_same_person")).select("_r", "person_id")
                 .join(persons, on="person_id", how="anti").select("_r", pl.lit(True).alias("_person_missing")))
    no_unit = (looked.filter(~pl.col("_same_unit")).select("_r", "unit_id")
               .join(units, on="unit_id", how="anti").select("_r", pl.lit(True).alias("_unit_missing")))
    raw_differs = (pl.col("person_id") != pl.col("agreement_person_id")) | (pl.col("unit_id") != pl.col("agreement_unit_id"))
    broken = (
        looked.join(no_person, on="_r", how="left").join(no_unit, on="_r", how="left")
        .select(
            "_r",
            (pl.col("agreement_id").is_not_null() & pl.col("_has").is_null()).alias("_no_agreement"),
            pl.when(pl.col("_same_person")).then(pl.col("_agreement_no_person"))
            .otherwise(pl.col("_person_missing")).fill_null(False).alias("_no_person"),
            pl.when(pl.col("_same_unit")).then(pl.col("_agreement_no_unit"))
            .otherwise(pl.col("_unit_missing")).fill_null(False).alias("_no_unit"),
            (pl.col("_has").fill_null(False) & raw_differs.fill_null(False)).alias("_other_ids"),
        )
        .filter(pl.any_horizontal("_no_agreement", "_no_person", "_no_unit", "_other_ids"))
    )
    repeated_id = repeated_rows(claims.select("_r", "claim_id"), ["claim_id"]).select("_r", pl.lit(True).alias("_repeated_id"))
    flags = broken.join(repeated_id, on="_r", how="full", coalesce=True)
    agreement_cols = [c for c in first.collect_schema().names() if c != "agreement_id"]
    return (
        claims.join(flags, on="_r", how="inner")
        .with_columns(pl.col(c).fill_null(False) for c in _CLAIM_FLAGS)
        .join(first, on="agreement_id", how="left")
        .with_columns(pl.when(pl.col("_other_ids")).then(pl.col(c)).alias(c) for c in agreement_cols)
        .drop("_r")
    )


@rule(
    id="DATA_QUALITY.orphan_claim",
    title="申领记录对应的协议、人员或单位不存在",
    severity=Severity.MEDIUM,
    citations=CITE_CLAIM,
    needs=("trainees", "units", "agreements", "claims"),
)
@citing(CLAIMS)
def orphan_claim(t: Tables, policy: Policy) -> CheckResult:
    """A claim naming an agreement, a person or a unit that the agreements, trainees or units
    registers do not hold: a subsidy is claimed against an agreement approved through the
    platform for a registered trainee of an approved unit. One finding per claim row, in the
    claim month; evidence: which reference is missing and the claim's row. A reference to a row
    of its register the loader could not read (the quarantine, placed by the row's readable
    cells) is not missing: a claim whose every missing reference is such a row is skipped."""
    refs = claim_references(t, policy).filter(pl.any_horizontal("_no_agreement", "_no_person", "_no_unit"))
    refs = with_lost_rows(with_lost_rows(with_lost_rows(refs, t, "agreements", "agreement_id"), t, "trainees", "person_id"),
                          t, "units", "unit_id")
    # a reference whose row in its register could not be read is not missing: it may be that row
    missing = pl.concat_list(
        pl.when(pl.col("_no_agreement") & ~pl.col("_lost_agreement_id")).then(pl.lit("agreement_id")),
        pl.when(pl.col("_no_person") & ~pl.col("_lost_person_id")).then(pl.lit("person_id")),
        pl.when(pl.col("_no_unit") & ~pl.col("_lost_unit_id")).then(pl.lit("unit_id")),
    ).list.drop_nulls()
    refs = refs.with_columns(missing.alias("missing")).cache()  # findings and skips
    findings = (
        refs.filter(pl.col("missing").list.len() > 0)
        .select(
            "person_id", "unit_id", "claim_id",
            pl.col("claim_month").alias("period_start"),
            pl.col("claim_month").dt.month_end().alias("period_end"),
            pl.struct(
                "missing", "agreement_id", raw_id().alias("raw_person_id"), "unit_id", "claim_type",
                "amount", "insurance_amount", "_file", "_line",
            ).alias("evidence"),
        )
    )
    return CheckResult(findings, refs.filter(pl.col("missing").list.len() == 0).select(
        "person_id", "unit_id", "claim_id", pl.lit(REFERENCE_LOST).alias("reason"), pl.lit(GAP_REFERENCE_LOST).alias("gap")))


#: why a claim (agreement) whose agreement, trainee or unit is a row of its register the loader
#: could not read is not an orphan
REFERENCE_LOST = ("所引用的见习协议、人员或单位在其登记表中有无法读取的行（已隔离，见 quarantine.csv），未判断是否不存在 / "
                  "the agreement, trainee or unit referred to is a row of its register that could not be read: "
                  "not judged missing")
GAP_REFERENCE_LOST = "所引用的登记行无法读取"


def with_lost_rows(frame: pl.LazyFrame, t: Tables, table: str, column: str) -> pl.LazyFrame:
    """``frame`` with ``_lost_<column>``: whether its ``column`` value places a row of ``table``
    that the loader could not read (``Tables.quarantine``, by the row's readable cell) — a
    reference to it is to a row that exists. False without a quarantine."""
    flag = f"_lost_{column}"
    if t.quarantine is None:
        return frame.with_columns(pl.lit(False).alias(flag))
    lost = (t.quarantine.filter(pl.col("table") == table).select(column).drop_nulls().unique()
            .with_columns(pl.lit(True).alias(flag)))
    return frame.join(lost, on=column, how="left").with_columns(pl.col(flag).fill_null(False))


@rule(
    id="DATA_QUALITY.orphan_agreement",
    identity=ONGOING,
    title="见习协议对应的人员或单位不存在",
    severity=Severity.LOW,
    citations=CITE_CLAIM,
    needs=("trainees", "units", "agreements"),
)
@citing(CLAIMS)
def orphan_agreement(t: Tables, policy: Policy) -> CheckResult:
    """An agreement naming a person or a unit that the trainees or units registers do not hold.
    One finding per agreement row, over the agreement's dates. A person or unit whose register
    row could not be read is not missing (skipped, as orphan_claim's)."""
    # anti-joins on narrow columns: only the few orphan rows come out of the million agreements
    agreements = t.agreements.select("agreement_id", "person_id", raw_id(), "unit_id", "start_date", "planned_end_date",
                                     "actual_end_date", "_file", "_line").with_row_index("_r").cache()
    missing = pl.concat([
        agreements.select("_r", "person_id").join(t.trainees.select("person_id"), on="person_id", how="anti")
        .select("_r", pl.lit("person_id").alias("missing")),
        agreements.select("_r", "unit_id").join(t.units.select("unit_id"), on="unit_id", how="anti")
        .select("_r", pl.lit("unit_id").alias("missing")),
    ]).group_by("_r").agg(pl.col("missing").sort())
    # a person or unit whose row in its register could not be read is not missing (it may be that
    # row): looked up for the few orphan rows only
    found = with_lost_rows(with_lost_rows(agreements.join(missing, on="_r"), t, "trainees", "person_id"),
                           t, "units", "unit_id")
    found = found.with_columns(pl.concat_list(
        pl.when(pl.col("missing").list.contains("person_id") & ~pl.col("_lost_person_id")).then(pl.lit("person_id")),
        pl.when(pl.col("missing").list.contains("unit_id") & ~pl.col("_lost_unit_id")).then(pl.lit("unit_id")),
    ).list.drop_nulls().alias("missing")).cache()  # findings and skips
    findings = (
        found.filter(pl.col("missing").list.len() > 0)
        .select(
            "person_id", "unit_id",
            pl.col("start_date").alias("period_start"),
            pl.coalesce("actual_end_date", "planned_end_date").alias("period_end"),
            pl.struct(
                "missing", "agreement_id", pl.col("person_id_raw").alias("raw_person_id"), "unit_id", "_file", "_line",
            ).alias("evidence"),
        )
    )
    return CheckResult(findings, found.filter(pl.col("missing").list.len() == 0).select(
        "person_id", "unit_id", pl.lit(REFERENCE_LOST).alias("reason"), pl.lit(GAP_REFERENCE_LOST).alias("gap")))


def _duplicates(rows: pl.LazyFrame, table: str, key: list[str], values: list[str],
                out: dict[str, pl.Expr]) -> pl.LazyFrame:
    """One finding per key of ``rows`` — the rows of a table whose key repeats
    (:func:`checks._joins.repeated_rows`) — listing its rows' ``values``."""
    have = rows.collect_schema()
    cols = [c for c in values if c in have]
    return (
        rows.group_by(key)
        .agg(
            pl.len().alias("row_count"),
            pl.struct(*cols, "_file", "_line").sort_by("_file", "_line").head(_MAX_ROWS).alias("rows"),
            *[e.sort_by("_file", "_line").first().alias(k) for k, e in out.items()],
        )
        .select(
            *[pl.col(k) for k in ("person_id", "unit_id", "claim_id", "period_start", "period_end") if k in out or k in key],
            # encoded here: the tables' rows have different fields, and are concatenated below
            pl.struct(pl.lit(table).alias("table"), pl.lit(", ".join(key)).alias("key"), "row_count", "rows")
            .struct.json_encode().alias("evidence"),
        )
    )


def _versions_lost(t: Tables) -> pl.LazyFrame:
    """One finding per agreement number whose rows — one person, one unit — give different dates,
    which the loader quarantined, each version (:data:`audit.loader.normalised.VERSIONS_DISAGREE`):
    the rows' file, line and reason (each row's own dates). An agreement number repeated in the
    readable table as well is reported with those rows (:func:`_duplicates`), not twice."""
    if t.quarantine is None:
        return pl.LazyFrame()
    lost = t.quarantine.filter((pl.col("table") == "agreements")
                               & pl.col("reasons").str.contains(VERSIONS_DISAGREE, literal=True))
    return (
        lost.join(t.agreements.select("agreement_id"), on="agreement_id", how="anti")
        .group_by("agreement_id")
        .agg(pl.len().alias("row_count"),
             pl.struct(pl.col("file").alias("_file"), pl.col("line").alias("_line"), pl.col("reasons").alias("reason"))
             .sort_by("file", "line").head(_MAX_ROWS).alias("rows"),
             pl.col("person_id").first(), pl.col("unit_id").first())
        .select("person_id", "unit_id",
                pl.struct(pl.lit("agreements").alias("table"), pl.lit("agreement_id").alias("key"), "row_count", "rows")
                .struct.json_encode().alias("evidence"))
    )


@rule(
    id="DATA_QUALITY.duplicate_key",
    title="主键重复且内容不一致",
    severity=Severity.MEDIUM,
    citations=CITE_CHECK,
    needs=("trainees", "units", "agreements", "claims"),
)
@citing(DATA_COMPARISON)
def duplicate_key(t: Tables, policy: Policy) -> pl.LazyFrame:
    """The same claim_id, agreement_id, unit_id or person ID on two or more rows whose content
    differs (exact export duplicates are collapsed by the loader and counted by
    export_duplicate_rows). Which row is true cannot be told from the data; a claim key twice
    may have been paid twice. A 15- and an 18-digit form of one ID on two trainee rows is
    DUPLICATE_TRAINEE.id_variant, not this. One finding per duplicated key, any period. An
    agreement number whose rows for one person and unit give different dates was quarantined by
    the loader, every version (:func:`_versions_lost`): reported here from the quarantine."""
    claim_cols = ["claim_id", "unit_id", "person_id_raw", "agreement_id", "claim_month", "claim_type", "amount",
                  "insurance_amount", "submitted_date", "paid_date"]
    agreement_cols = ["agreement_id", "person_id_raw", "unit_id", "start_date", "planned_end_date", "actual_end_date",
                      "end_reason"]
    unit_cols = ["unit_id", "unit_name", "county_code", "legal_rep_id", "approved_date", "exit_date", "exit_reason"]
    trainee_cols = ["person_id_raw", "name", "education", "graduation_date", "phone", "bank_card"]
    parts = [
        # the claims' repeated ids are found with their other broken references, once per run
        _duplicates(claim_references(t, policy).filter(pl.col("_repeated_id")), "claims", ["claim_id"], claim_cols,
                    {"person_id": pl.col("person_id"), "unit_id": pl.col("unit_id"),
                     "period_start": pl.col("claim_month")}),
        _duplicates(repeated_rows(t.agreements, ["agreement_id"]), "agreements", ["agreement_id"], agreement_cols,
                    {"person_id": pl.col("person_id"), "unit_id": pl.col("unit_id"),
                     "period_start": pl.col("start_date"), "period_end": pl.col("planned_end_date")}),
        _versions_lost(t),
        _duplicates(repeated_rows(t.units, ["unit_id"]), "units", ["unit_id"], unit_cols, {}),
        _duplicates(repeated_rows(t.trainees.with_columns(raw_id()), ["person_id", "person_id_raw"]), "trainees",
                    ["person_id", "person_id_raw"], trainee_cols, {}),
    ]
    return pl.concat(parts, how="diagonal_relaxed")


@rule(
    id="DATA_QUALITY.export_duplicate_rows",
    facts=("tables.table",),
    title="导出数据存在完全重复的行（已合并计数）",
    severity=Severity.LOW,
    citations=CITE_CHECK,
    needs=("trainees", "units", "agreements", "claims"),
)
@citing(DATA_COMPARISON)
def export_duplicate_rows(t: Tables, policy: Policy) -> pl.LazyFrame:
    """Identical rows repeated in an export were collapsed by the loader (``_dup_rows`` > 1). An
    export artefact, not a double payment (a claim paid twice has two claim ids or a duplicated
    key). One informational finding per run with the count per table, when there are any."""
    parts = []
    for name in Tables.table_names():
        lf = getattr(t, name, None)
        if lf is None or name in ("min_wage", "county_tiers", "calendar", "regions") or "_dup_rows" not in lf.collect_schema():
            continue
        parts.append(
            lf.filter(pl.col("_dup_rows") > 1).select(
                pl.lit(name).alias("table"),
                pl.len().alias("rows_repeated"),
                (pl.col("_dup_rows") - 1).sum().cast(pl.Int64).alias("extra_rows_collapsed"),
            )
        )
    return (
        pl.concat(parts)
        .filter(pl.col("rows_repeated") > 0)
        .select(pl.struct("table", "rows_repeated", "extra_rows_collapsed").sort_by("table").implode().alias("tables"))
        .filter(pl.col("tables").list.len() > 0)
        .select(pl.struct("tables").alias("evidence"))
    )


@rule(
    id="DATA_QUALITY.claim_agreement_mismatch",
    title="申领记录与所引协议的人员或单位不一致",
    severity=Severity.MEDIUM,
    citations=CITE_CLAIM,
    detection_params=("duplicate.max_transpositions",),
    needs=("trainees", "agreements", "claims"),
)
@citing(CLAIMS)
def claim_agreement_mismatch(t: Tables, policy: Policy) -> CheckResult:
    """A claim whose agreement exists but belongs to another person (another natural person, not
    a linked ID variant) or another unit. One finding per claim row, in the claim month;
    evidence: both sides. Two IDs of which one has a trainee registration the loader could not
    read (what could corroborate their link) are not judged two people: skipped."""
    identity = identity_links(t, policy)
    # the claims whose raw IDs differ from their agreement's (few): a linked ID variant on either
    # side is the same natural person
    refs = claim_references(t, policy).filter(pl.col("_other_ids"))
    refs = with_person_key(with_person_key(refs, identity), identity, on="agreement_person_id",
                           alias="agreement_person_key")
    # two IDs whose link a trainee registration the loader could not read may corroborate (its
    # name, card or phone) are not judged two people
    refs = with_lost_rows(refs, t, "trainees", "person_id").join(
        with_lost_rows(refs.select(pl.col("agreement_person_id").alias("person_id")).unique(), t, "trainees", "person_id")
        .rename({"person_id": "agreement_person_id", "_lost_person_id": "_lost_agreement_person"}),
        on="agreement_person_id", how="left")
    person_differs = pl.col("person_key") != pl.col("agreement_person_key")
    unknowable = person_differs & (pl.col("_lost_person_id") | pl.col("_lost_agreement_person").fill_null(False))
    differs = pl.concat_list(
        pl.when(person_differs & ~unknowable).then(pl.lit("person_id")),
        pl.when(pl.col("unit_id") != pl.col("agreement_unit_id")).then(pl.lit("unit_id")),
    ).list.drop_nulls()
    refs = refs.with_columns(differs.alias("differs"), unknowable.fill_null(False).alias("_unknowable")).cache()
    skipped = refs.filter((pl.col("differs").list.len() == 0) & pl.col("_unknowable")).select(
        "person_id", "unit_id", "claim_id", pl.lit(LINK_EVIDENCE_LOST).alias("reason"),
        pl.lit(GAP_REFERENCE_LOST).alias("gap"))
    findings = (
        refs.filter(pl.col("differs").list.len() > 0)
        .select(
            "person_id", "unit_id", "claim_id",
            pl.col("claim_month").alias("period_start"),
            pl.col("claim_month").dt.month_end().alias("period_end"),
            pl.struct(
                "differs", "agreement_id",
                raw_id().alias("claim_raw_person_id"), pl.col("unit_id").alias("claim_unit_id"),
                "agreement_raw_person_id", "agreement_unit_id", "_file", "_line", "agreement_file", "agreement_line",
            ).alias("evidence"),
        )
    )
    return CheckResult(findings, skipped)


LINK_EVIDENCE_LOST = ("申领与协议的身份证号不同，其中一个号码的见习人员登记行无法读取（已隔离，见 quarantine.csv），"
                      "无法核实是否同一人 / the claim's and the agreement's IDs differ, and a trainee registration "
                      "of one of them could not be read: whether they are one person cannot be told")


@rule(
    id="DATA_QUALITY.registry_disagreement",
    facts=("internship_system_value", "market_registry_value"),
    title="见习单位信息与市场主体登记不一致（法定代表人）",
    severity=Severity.MEDIUM,
    citations=CITE_CHECK,
    needs=("units", "market_registry"),
)
@citing(DATA_COMPARISON)
def registry_disagreement(t: Tables, policy: Policy) -> pl.LazyFrame:
    """The internship system's legal representative of a unit differs from the market registry's,
    the authority for it (RULES.md §8): the registry's value is the one the other rules use, and
    the disagreement is reported with both values and rows. One finding per unit, as extracted."""
    assert t.market_registry is not None
    registry = first_by_key(t.market_registry.filter(pl.col("legal_rep_id").is_not_null()), "unit_id").select(
        "unit_id",
        pl.col("legal_rep_id").alias("registry_legal_rep_id"),
        (raw_id("legal_rep_id") if "legal_rep_id_raw" in t.market_registry.collect_schema() else pl.col("legal_rep_id"))
        .alias("registry_raw"),
        pl.col("_file").alias("registry_file"), pl.col("_line").alias("registry_line"),
    )
    units = first_by_key(t.units.filter(pl.col("legal_rep_id").is_not_null()), "unit_id")
    raw = raw_id("legal_rep_id") if "legal_rep_id_raw" in t.units.collect_schema() else pl.col("legal_rep_id")
    return (
        units.join(registry, on="unit_id")
        .filter(pl.col("legal_rep_id") != pl.col("registry_legal_rep_id"))
        .select(
            "unit_id",
            "county_code",
            pl.struct(
                pl.lit("legal_rep_id").alias("field"),
                raw.alias("internship_system_value"), "legal_rep_name",
                pl.col("registry_raw").alias("market_registry_value"),
                pl.lit("market_registry").alias("authority"),
                "_file", "_line", "registry_file", "registry_line",
            ).alias("evidence"),
        )
    )


@rule(
    id="DATA_QUALITY.county_code_invalid",
    title="区划代码不是6位数字（GB/T 2260）",
    severity=Severity.MEDIUM,
    citations=CITE_COUNTY,
    needs=("units",),
)
@citing(DATA_COMPARISON, prefix=COUNTY_STANDARD)
def county_code_invalid(t: Tables, policy: Policy) -> pl.LazyFrame:
    """A county code that is not six digits — a unit's county, the office that paid a claim, a
    county report's county — in any period: GB/T 2260 codes are six digits, and the county
    decides the province, the minimum wage and the rules in force. The row is kept (money was
    paid against it) and the code never names an output file (the unit's exit list is
    ``exit_lists/unknown.xlsx``). One finding per row; evidence: the table, column, value and
    row."""
    def bad(name: str, column: str, keys: tuple[str, ...], period: str | None) -> pl.LazyFrame | None:
        lf = getattr(t, name, None)
        if lf is None or column not in lf.collect_schema():
            return None
        code = pl.col(column)
        return lf.filter(code.is_not_null() & ~code.str.contains(r"^\d{6}$")).select(
            *keys,
            *([pl.col(period).alias("period_start"), pl.col(period).dt.month_end().alias("period_end")] if period else []),
            # encoded here: the tables' rows have different keys, and are concatenated below
            pl.struct(pl.lit(name).alias("table"), pl.lit(column).alias("column"), code.alias("value"),
                      "_file", "_line").struct.json_encode().alias("evidence"),
        )

    parts = [p for p in (
        bad("units", "county_code", ("unit_id",), None),
        bad("claims", "handling_county_code", ("claim_id", "unit_id", "person_id"), "claim_month"),
        bad("county_reports", "county_code", (), "month"),
    ) if p is not None]
    return pl.concat(parts, how="diagonal_relaxed")


@rule(
    id="DATA_QUALITY.negative_amount",
    title="申领金额为负数（冲销）",
    severity=Severity.LOW,
    citations=CITE_CLAIM,
    needs=("claims",),
)
@citing(CLAIMS)
def negative_amount(t: Tables, policy: Policy) -> pl.LazyFrame:
    """A claim whose amount or insurance amount is negative, in its claim month: a reversal
    (冲销) of an earlier payment, or a keying error. The row is kept — the money it reverses was
    paid — and shown so that the reversal can be matched with the payment it undoes; no money is
    put at risk by it. One finding per claim row; evidence: the amounts and the row."""
    negative = (pl.col("amount") < 0).fill_null(False) | (pl.col("insurance_amount") < 0).fill_null(False)
    return t.claims.filter(negative).select(
        "claim_id", "unit_id", "person_id",
        pl.col("claim_month").alias("period_start"), pl.col("claim_month").dt.month_end().alias("period_end"),
        pl.struct("claim_type", "amount", "insurance_amount", "_file", "_line").alias("evidence"),
    )


CHECKS: tuple[Check, ...] = (
    legacy_id,
    id_check_failed,
    uscc_check_failed,
    uscc_structure,
    orphan_claim,
    orphan_agreement,
    duplicate_key,
    export_duplicate_rows,
    claim_agreement_mismatch,
    registry_disagreement,
    county_code_invalid,
    negative_amount,
)
