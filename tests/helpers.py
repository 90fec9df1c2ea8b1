"""Builders for small, literal, normalised tables — so a rule's cases read like a policy table.

    t = tables(
        units=[unit("U1", county="360102")],
        trainees=[trainee("P1")],
        agreements=[agreement("A1", "P1", "U1", "2023-09-01", "2024-02-29")],
        claims=[claim("C1", "U1", "P1", "2023-09", 1488.0, agreement_id="A1")],
    )
    found, skipped = run(checks.rate_misapplied.wrong_amount, t)

IDs: ``pid("P1")`` and ``uscc("U1")`` turn short labels into valid 18-character 身份证号 /
统一社会信用代码 (check characters computed), so cases can use readable labels.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
from typing import Any

import polars as pl

from audit.findings import finalise, finalise_skipped
from audit.loader import QUARANTINED_ROWS_SCHEMA
from audit.policy import Policy
from audit.reference import shipped_regions
from audit.rules import Check
from audit.schema import SPECS, Kind
from audit.tables import Tables

_W = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"
_USCC_ALPHA = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_USCC_W = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)


def id_check(first17: str) -> str:
    return _ID_CHECK[sum(int(c) * w for c, w in zip(first17, _W)) % 11]


def uscc_check(first17: str) -> str:
    total = sum(_USCC_ALPHA.index(c) * w for c, w in zip(first17, _USCC_W))
    return _USCC_ALPHA[(31 - total % 31) % 31]


def _digits(label: str, n: int) -> str:
    return str(int(hashlib.sha1(label.encode()).hexdigest(), 16))[:n].rjust(n, "0")


@functools.cache
def pid(label: str, birth: str = "20000101", region: str = "360102") -> str:
    """A valid 18-digit ID for a readable label (same label → same ID)."""
    if len(label) == 18:
        return label
    body = region + birth + _digits(label, 3)
    return body + id_check(body)


@functools.cache
def uscc(label: str) -> str:
    """A valid 统一社会信用代码 for a readable label."""
    if len(label) == 18:
        return label
    body = "91360102" + "MA" + _digits(label, 7)
    return body + uscc_check(body)


def _d(value: Any) -> Any:
    if isinstance(value, str) and len(value) == 7 and value[4] == "-":
        return dt.date(int(value[:4]), int(value[5:]), 1)
    if isinstance(value, str) and len(value) == 10 and value[4] == "-":
        return dt.date.fromisoformat(value)
    return value


def unit(label: str, county: str = "360102", approved: str = "2022-01-01", **kw: Any) -> dict:
    return {"unit_id": uscc(label), "unit_name": f"单位{label}", "county_code": county,
            "approved_date": approved, **kw}


def trainee(label: str, name: str | None = None, birth: str = "20000101", **kw: Any) -> dict:
    return {"person_id": pid(label, birth), "name": name or f"见习{label}", "education": "本科",
            "graduation_date": "2023-06-30", **kw}


def agreement(aid: str, person: str, unit_label: str, start: str, planned_end: str, **kw: Any) -> dict:
    return {"agreement_id": aid, "person_id": pid(person), "unit_id": uscc(unit_label), "start_date": start,
            "planned_end_date": planned_end, **kw}


def claim(cid: str, unit_label: str, person: str, month: str, amount: float, **kw: Any) -> dict:
    row = {"claim_id": cid, "unit_id": uscc(unit_label), "person_id": pid(person), "claim_month": month,
           "claim_type": "月度", "rate_basis": "标准", "amount": amount}
    row.setdefault("submitted_date", kw.pop("submitted", None) or _month_after(month))
    row.update(kw)
    return row


def insured(person: str, employer_label: str | None, month: str, payer: str = "单位", kind: str = "养老") -> dict:
    return {"person_id": pid(person), "employer_id": uscc(employer_label) if employer_label else None,
            "month": month, "insurance_type": kind, "payer_type": payer}


def _month_after(month: str) -> str:
    d = _d(month)
    nxt = dt.date(d.year + (d.month == 12), d.month % 12 + 1, 10)
    return nxt.isoformat()


def frame(name: str, rows: list[dict]) -> pl.DataFrame:
    """A normalised table from literal rows: spec columns with spec dtypes, plus derived columns."""
    spec = SPECS[name]
    data: dict[str, list] = {c.name: [_d(r.get(c.name)) for r in rows] for c in spec.columns}
    schema = {c.name: c.dtype for c in spec.columns}
    extra = {k for r in rows for k in r} - set(schema)
    df = pl.DataFrame(data, schema=schema)
    for k in sorted(extra):
        df = df.with_columns(pl.Series(k, [_d(r.get(k)) for r in rows]))
    df = df.with_columns(
        pl.lit(f"{name}.csv").alias("_file"),
        pl.int_range(2, pl.len() + 2, dtype=pl.Int64).alias("_line"),
        pl.lit(1, pl.Int64).alias("_dup_rows"),
    )
    for c in spec.columns:
        if c.kind is Kind.PERSON_ID:
            if f"{c.name}_raw" not in df.columns:
                df = df.with_columns(pl.col(c.name).alias(f"{c.name}_raw"))
            if f"{c.name}_status" not in df.columns:
                df = df.with_columns(pl.when(pl.col(c.name).is_null()).then(None).otherwise(pl.lit("ok")).alias(f"{c.name}_status"))
        elif c.kind is Kind.USCC and f"{c.name}_status" not in df.columns:
            df = df.with_columns(pl.when(pl.col(c.name).is_null()).then(None).otherwise(pl.lit("ok")).alias(f"{c.name}_status"))
    if name == "trainees":
        df = df.with_columns(
            pl.col("person_id").str.slice(6, 8).str.strptime(pl.Date, "%Y%m%d", strict=False).alias("birth_date"),
            pl.when(pl.col("person_id").str.slice(16, 1).cast(pl.Int64, strict=False) % 2 == 1)
            .then(pl.lit("M")).otherwise(pl.lit("F")).alias("sex"),
        )
    return df


# A small reference world for rule tests (not the shipped tables: tests state their own facts).
TEST_MIN_WAGE = [
    # Jiangxi: tier 1 / 2 / 3, standard raised on 2024-03-01 (a made-up but shaped-like-real table)
    {"province_code": "360000", "tier": 1, "effective_from": "2018-01-01", "monthly_yuan": 1850.0},
    {"province_code": "360000", "tier": 2, "effective_from": "2018-01-01", "monthly_yuan": 1730.0},
    {"province_code": "360000", "tier": 3, "effective_from": "2018-01-01", "monthly_yuan": 1610.0},
    {"province_code": "360000", "tier": 1, "effective_from": "2024-03-01", "monthly_yuan": 2000.0},
    {"province_code": "360000", "tier": 2, "effective_from": "2024-03-01", "monthly_yuan": 1870.0},
    {"province_code": "360000", "tier": 3, "effective_from": "2024-03-01", "monthly_yuan": 1740.0},
    {"province_code": "410000", "tier": 1, "effective_from": "2022-01-01", "monthly_yuan": 2000.0},
    {"province_code": "410000", "tier": 2, "effective_from": "2022-01-01", "monthly_yuan": 1800.0},
    {"province_code": "430000", "tier": 1, "effective_from": "2022-04-01", "monthly_yuan": 1930.0},
    {"province_code": "530000", "tier": 1, "effective_from": "2022-10-01", "monthly_yuan": 1900.0},
    {"province_code": "620000", "tier": 1, "effective_from": "2021-10-01", "monthly_yuan": 1820.0},
]
TEST_COUNTY_TIERS = [
    {"county_code": "360102", "tier": 1, "effective_from": "2018-01-01"},  # 南昌 东湖区
    {"county_code": "360121", "tier": 2, "effective_from": "2018-01-01"},  # 南昌县
    {"county_code": "360722", "tier": 3, "effective_from": "2018-01-01"},  # 赣州 信丰县
    {"county_code": "410102", "tier": 1, "effective_from": "2018-01-01"},  # 郑州 中原区
    {"county_code": "430102", "tier": 1, "effective_from": "2018-01-01"},  # 长沙 芙蓉区
    {"county_code": "530102", "tier": 1, "effective_from": "2018-01-01"},  # 昆明 五华区
    {"county_code": "620102", "tier": 1, "effective_from": "2018-01-01"},  # 兰州 城关区
]


@functools.lru_cache(maxsize=1)
def calendar_frame() -> pl.DataFrame:
    """The statutory working-day calendar 2021–2025 from chinesecalendar (built once)."""
    import chinese_calendar

    days = pl.date_range(dt.date(2021, 1, 1), dt.date(2025, 12, 31), "1d", eager=True)
    work = [chinese_calendar.is_workday(d) for d in days.to_list()]
    return pl.DataFrame({"date": days, "is_workday": work}).with_columns(
        pl.col("is_workday").cast(pl.Int64).cum_sum().alias("workday_seq")
    )


def tables(
    *,
    units: list[dict] = (),  # type: ignore[assignment]
    trainees: list[dict] = (),  # type: ignore[assignment]
    agreements: list[dict] = (),  # type: ignore[assignment]
    claims: list[dict] = (),  # type: ignore[assignment]
    social_insurance: list[dict] = (),  # type: ignore[assignment]
    audit_month: str = "2024-06",
    si_as_of: str | None = None,
    min_wage: list[dict] | None = None,
    county_tiers: list[dict] | None = None,
    **optional: list[dict] | None,
) -> Tables:
    """Tables for a rule test. Optional tables are absent (None) unless given (a list, maybe [])."""
    mw_rows = min_wage if min_wage is not None else TEST_MIN_WAGE
    ct_rows = county_tiers if county_tiers is not None else TEST_COUNTY_TIERS
    # a row may say its own status (VERIFIED by default); the frame keeps only the table's columns
    mw = frame("min_wage", mw_rows).with_columns(
        pl.Series("status", [r.get("status", "VERIFIED") for r in mw_rows], pl.String), pl.lit("test").alias("source"))
    ct = frame("county_tiers", ct_rows).with_columns(
        pl.Series("status", [r.get("status", "VERIFIED") for r in ct_rows], pl.String), pl.lit("test").alias("source"))
    quarantine = optional.pop("quarantine", None)
    opt = {k: (frame(k, v).lazy() if v is not None else None) for k, v in optional.items()}
    if quarantine is not None:  # the unreadable rows, placed (not an input table: no spec)
        opt["quarantine"] = pl.DataFrame([{k: _d(r.get(k)) for k in QUARANTINED_ROWS_SCHEMA} for r in quarantine],
                                         schema=QUARANTINED_ROWS_SCHEMA).lazy()
    return Tables(
        units=frame("units", list(units)).lazy(),
        trainees=frame("trainees", list(trainees)).lazy(),
        agreements=frame("agreements", list(agreements)).lazy(),
        claims=frame("claims", list(claims)).lazy(),
        social_insurance=frame("social_insurance", list(social_insurance)).lazy(),
        audit_month=_d(audit_month),
        si_as_of=_d(si_as_of or audit_month),
        min_wage=mw.lazy(),
        county_tiers=ct.lazy(),
        calendar=calendar_frame().lazy(),
        regions=shipped_regions().lazy(),  # names only: what a skip reason says of a county
        **opt,
    )


@functools.lru_cache(maxsize=1)
def policy() -> Policy:
    return Policy.load()


def run(check: Check, t: Tables, pol: Policy | None = None) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Run one check and return (findings, skipped) as DataFrames in the output schema."""
    result = check(t, pol or policy())
    found = finalise(result.findings, check.rule).collect()
    skipped = (
        finalise_skipped(result.skipped, check.rule).collect() if result.skipped is not None else pl.DataFrame()
    )
    return found, skipped
