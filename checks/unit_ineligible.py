"""UNIT_INELIGIBLE: a unit that must exit, or must not have been admitted, for reasons other than
dormancy (RULES.md §6, §8 and §9; docs/semantics.md, "Units").

Exit conditions, 赣人社发〔2023〕9号 四(一)2(5), as this module assigns them (the exit lists are
built from ``Rule.exit_condition``):

- deregistered while claiming → ③: subsidy claimed for months after the unit ceased to exist
  in law is 骗取/套取 of the funds.
- deregistered, still listed → ①: the registry status alone proves only that the unit can offer
  no position and take no trainee (注销 is often voluntary); a violation behind a 吊销 is
  evidenced by the serious-violation list, which is ④.
- on the serious-violation list (严重违法失信名单) → ④ (其他经营违法行为): the market regulator's
  list is of illegal business conduct, not of breaches of the internship rules (②); it also
  breaks admission condition 四(一)1(1) 无不良信用记录.
- re-admitted within the ban → ②: admitting a unit the notice bars for 5 years is a serious
  breach of the internship management rules.
- the abnormal-operation list, a banned owner's new unit and a claim paid by the wrong office
  carry no exit condition: the first two are signals, the third a control failure of the office.
"""

from __future__ import annotations

import polars as pl

from audit.policy import Policy
from audit.rules import ONGOING, Check, CheckResult, Severity, rule
from audit.schema import province_of
from audit.tables import Tables
from checks._citations import CLAIMS, DATA_COMPARISON, MANAGEMENT, MONTH_END, citing
from checks._claims import claim_rows, with_claims
from checks._identity import names_a_person
from checks._units import latest_units, not_exited, unit_counties

# Canonical statuses (audit/schema.py REG_STATUSES; the loader reads every long form, e.g.
# 吊销，未注销, into them). 责令关闭 (ordered closed) ends lawful operation like 吊销 and 撤销: the
# three are the administrative causes of dissolution (公司法 第二百二十九条). 停业, 歇业, 清算 and
# 迁出 are not: the unit still exists in law.
DEREGISTERED = ("吊销", "责令关闭", "注销", "撤销")
_BAN_PARAMS = ("unit.exit_ban_years", "unit.exit_ban_conditions")
# Jiangxi's admission conditions and exit clause where its notice is in force (the unit's standing,
# at the audit month's end); elsewhere the province's own duty to manage and clear out units
DEREGISTERED_CLAIMING = ("赣人社发〔2023〕9号 四(一)1(1) (依法成立、合法经营); 四(一)2(5)③", *DATA_COMPARISON[1:])
DEREGISTERED_LISTED = ("赣人社发〔2023〕9号 四(一)1(1) (依法成立、合法经营); 四(一)2(5)①", *MANAGEMENT)
SERIOUS = ("赣人社发〔2023〕9号 四(一)1(1) (无不良信用记录); 四(一)2(5)④ (有其他经营违法行为)", *MANAGEMENT)
ABNORMAL = ("赣人社发〔2023〕9号 四(一)1(1) (无不良信用记录，合法经营)", *MANAGEMENT)
PAYING_OFFICE = ("赣人社发〔2023〕9号 四(二)1 (就业见习补贴实行属地管理原则，向当地市、县（区）人社部门申请)", *CLAIMS[1:])


def _masked(col: str) -> pl.Expr:
    return pl.when(pl.col(col).is_null()).then(None).otherwise(pl.concat_str([pl.lit("****"), pl.col(col).str.slice(-4)]))


def _registry_rows(t: Tables) -> pl.LazyFrame:
    """The registry rows the rules read; ``reg_status_raw`` is the status as exported (the loader
    reads it to the canonical ``reg_status``), the canonical one where a table has no raw column."""
    assert t.market_registry is not None
    raw = "reg_status_raw" if "reg_status_raw" in t.market_registry.collect_schema() else "reg_status"
    return t.market_registry.select(
        "unit_id", "reg_status", pl.col(raw).alias("reg_status_raw"), "status_date", "abnormal_listed",
        "serious_violation_listed", "_file", "_line"
    )


#: the statuses of a company that exists and trades (a row dated on or after a deregistration
#: contradicts it)
ACTIVE = ("存续", "在业")
#: why a deregistration the registry contradicts is not judged
DEREGISTRATION_CONTRADICTED = (
    "市场主体登记中该单位{}的记录（{}）与同日或其后的存续/在业记录（{}）矛盾，无法确定哪一条为准，未判断 / the registry's "
    "deregistration of the unit ({}) is contradicted by an active status dated the same day or later ({}): which holds "
    "is unknown; not judged")


def _deregistrations(t: Tables) -> pl.LazyFrame:
    """unit_id → the earliest 吊销/注销/撤销 of the unit in the market registry, with its row, and
    ``active_row``: a row of the unit that says it exists (:data:`ACTIVE`) dated on or after that
    deregistration — the registry then contradicts itself, and which row holds is unknown (null
    where none does; an undated status places nothing)."""
    rows = _registry_rows(t)
    earliest = (
        rows.filter(pl.col("reg_status").is_in(DEREGISTERED))
        .sort("status_date", "_line", nulls_last=True)
        .group_by("unit_id")
        .agg(
            pl.col("status_date").first(),
            pl.struct("reg_status", "reg_status_raw", "status_date", "_file", "_line").first().alias("registry_row"),
        )
    )
    active = (
        rows.filter(pl.col("reg_status").is_in(ACTIVE) & pl.col("status_date").is_not_null())
        .join(earliest.select("unit_id", pl.col("status_date").alias("_dereg")), on="unit_id")
        .filter(pl.col("status_date") >= pl.col("_dereg"))
        .group_by("unit_id")
        .agg(pl.struct("reg_status", "reg_status_raw", "status_date", "_file", "_line")
             .sort_by("status_date", "_file", "_line").first().alias("active_row"))
    )
    return earliest.join(active, on="unit_id", how="left")


def _contradicted(found: pl.LazyFrame) -> pl.LazyFrame:
    """The unit-level skipped rows of ``found`` (units with ``registry_row`` and ``active_row``)."""
    dereg = pl.format("{} {}", pl.col("registry_row").struct.field("status_date"),
                      pl.col("registry_row").struct.field("reg_status_raw"))
    active = pl.format("{} {}", pl.col("active_row").struct.field("status_date"),
                       pl.col("active_row").struct.field("reg_status_raw"))
    return found.filter(pl.col("active_row").is_not_null()).select(
        "unit_id", pl.format(DEREGISTRATION_CONTRADICTED, pl.col("registry_row").struct.field("reg_status_raw"),
                             dereg, active, dereg, active).alias("reason")).unique()


@rule(
    id="UNIT_INELIGIBLE.deregistered_while_claiming",
    identity=ONGOING,
    facts=("registry_row",),
    title="市场主体已吊销/注销/撤销后仍申领见习补贴",
    severity=Severity.HIGH,
    citations=DEREGISTERED_CLAIMING,
    needs=("market_registry",),
    exit_condition=3,
)
@citing(DEREGISTERED_CLAIMING, on=MONTH_END)
def deregistered_while_claiming(t: Tables, policy: Policy) -> pl.LazyFrame:
    """A unit whose market registration was revoked (吊销), cancelled (注销) or annulled (撤销)
    cannot run internships: claims for months beginning on or after the status date (claim
    month ≥ status_date) pay a unit that no longer exists in law. A 差额 pays for no month of its
    own — its claim_month may be the last internship month or the month it was claimed or paid
    (RULES.md §8) — so it is judged on the day it was claimed: a 差额 submitted on or after the
    status date, whichever month dates it. A status without a date cannot be placed in time and
    is left to deregistered_still_listed. Where the registry also says the unit exists (存续/在业)
    on or after the deregistration's date, which holds is unknown: skipped with both rows.
    Period: from the status date to the last such claim month (a 差额's, the month it was
    submitted). Money at risk: those claims."""
    keys = ["unit_id"]
    judged_on = pl.when(pl.col("claim_type") == "差额").then(pl.col("submitted_date")).otherwise(pl.col("claim_month"))
    matched = (
        claim_rows(t, "submitted_date")
        .join(_deregistrations(t), on="unit_id")
        .filter(judged_on >= pl.col("status_date"))
        .with_columns(judged_on.dt.month_start().alias("_month"))
    )
    found = (
        matched.filter(pl.col("active_row").is_null()).group_by(keys)
        .agg(pl.col("status_date").first(), pl.col("registry_row").first(), pl.col("_month").max().alias("_last"))
        .join(unit_counties(t), on="unit_id", how="left")
    )
    findings = with_claims(found, matched.drop("status_date", "registry_row", "active_row", "submitted_date", "_month"),
                           keys).select(
        "unit_id",
        "county_code",
        pl.col("status_date").alias("period_start"),
        pl.col("_last").dt.month_end().alias("period_end"),
        "amount_at_risk",
        "claims_at_risk",
        pl.struct("registry_row", "claims").alias("evidence"),
    )
    return CheckResult(findings, _contradicted(matched))


@rule(
    id="UNIT_INELIGIBLE.deregistered_still_listed",
    identity=ONGOING,
    facts=("registry_row", "exit_date"),
    title="市场主体已吊销/注销/撤销但仍在见习单位名单中（未退出）",
    severity=Severity.MEDIUM,
    citations=DEREGISTERED_LISTED,
    needs=("market_registry",),
    exit_condition=1,
)
@citing(DEREGISTERED_LISTED, on=MONTH_END)
def deregistered_still_listed(t: Tables, policy: Policy) -> pl.LazyFrame:
    """A unit revoked, cancelled or annulled in the market registry (status date on or before the
    end of the audit month, or undated) that is still an approved 见习单位 with no exit at the
    end of the audit month must exit and be delisted (摘牌); not where the registry also says it
    exists (存续/在业) on or after that date (skipped with both rows). Period: from the status date
    (or the approval) to the end of the audit month. No money is at risk."""
    deregistered = _deregistrations(t).filter(pl.col("status_date").is_null() | (pl.col("status_date") <= t.month_end))
    found = latest_units(t).filter(not_exited(t)).join(deregistered, on="unit_id").cache()  # found and skipped
    findings = found.filter(pl.col("active_row").is_null()).select(
        "unit_id",
        "county_code",
        pl.coalesce("status_date", "approved_date").alias("period_start"),
        pl.lit(t.month_end).alias("period_end"),
        pl.lit(0.0).alias("amount_at_risk"),
        pl.struct("unit_name", "approved_date", "exit_date", "registry_row",
                  pl.col("_file").alias("unit_file"), pl.col("_line").alias("unit_line")).alias("evidence"),
    )
    return CheckResult(findings, _contradicted(found))


def _listed(t: Tables, flag: str) -> pl.LazyFrame:
    """Units approved and not exited at the end of the audit month that the registry lists under ``flag``."""
    listed = (
        _registry_rows(t).filter(pl.col(flag).fill_null(False))
        .group_by("unit_id")
        .agg(pl.struct("reg_status", "reg_status_raw", "status_date", flag, "_file", "_line").first()
             .alias("registry_row"))
    )
    found = latest_units(t).filter(not_exited(t)).join(listed, on="unit_id")
    return found.select(
        "unit_id",
        "county_code",
        pl.col("approved_date").alias("period_start"),
        pl.lit(t.month_end).alias("period_end"),
        pl.lit(0.0).alias("amount_at_risk"),
        pl.struct("unit_name", "approved_date", "registry_row",
                  pl.col("_file").alias("unit_file"), pl.col("_line").alias("unit_line")).alias("evidence"),
    )


@rule(
    id="UNIT_INELIGIBLE.serious_violation",
    identity=ONGOING,
    facts=("registry_row",),
    title="见习单位列入严重违法失信名单（其他经营违法行为，应退出）",
    severity=Severity.HIGH,
    citations=SERIOUS,
    needs=("market_registry",),
    exit_condition=4,
)
@citing(SERIOUS, on=MONTH_END)
def serious_violation(t: Tables, policy: Policy) -> pl.LazyFrame:
    """A unit still approved (not exited) at the end of the audit month that the market registry
    lists as a serious violator (严重违法失信名单) has a bad credit record (admission condition
    四(一)1(1)) and illegal business conduct: exit condition ④, with the 5-year ban. The list
    carries no date, so the finding covers the approval to the end of the audit month and puts
    no money at risk."""
    return _listed(t, "serious_violation_listed")


@rule(
    id="UNIT_INELIGIBLE.abnormal_listed",
    identity=ONGOING,
    facts=("registry_row",),
    title="见习单位列入经营异常名录（信用风险提示）",
    severity=Severity.LOW,
    citations=ABNORMAL,
    needs=("market_registry",),
    signal_only=True,
)
@citing(ABNORMAL, on=MONTH_END)
def abnormal_listed(t: Tables, policy: Policy) -> pl.LazyFrame:
    """A unit still approved (not exited) at the end of the audit month that the market registry
    lists as operating abnormally (经营异常名录: usually an annual report not filed or an
    address that cannot be reached) is a lower-severity signal for a review of its admission
    condition 四(一)1(1), not by itself a ground to exit. Period: the approval to the end of the
    audit month. No money at risk."""
    return _listed(t, "abnormal_listed")


def _exit_rows(t: Tables) -> pl.LazyFrame:
    """Every recorded exit: the units table's, and the ``bans`` table's (an operator's list, or the
    exits a workspace remembers from earlier exports) where the units table does not carry it."""
    cols = ["unit_id", "unit_name", "county_code", "approved_date", "exit_date", "exit_reason", "_file", "_line"]
    exits = t.units.filter(pl.col("exit_date").is_not_null() & pl.col("exit_reason").is_not_null()).select(cols)
    if t.bans is None:
        return exits
    listed = t.bans.filter(pl.col("exit_date").is_not_null() & pl.col("exit_reason").is_not_null()).select(
        *[pl.lit(None, pl.Date).alias(c) if c == "approved_date" else pl.col(c) for c in cols])
    return pl.concat([exits, listed.join(exits, on=["unit_id", "exit_date", "exit_reason"], how="anti")])


def _banned_exits(t: Tables, policy: Policy) -> pl.LazyFrame:
    """Every recorded exit (:func:`_exit_rows`) with the ban parameters in force on its exit date.

    Columns: unit_id, county_code, exit_date, exit_reason, ban_years, ban_conditions (null where
    the province has not set them), banned (the exit carries a ban), ban_until, exit_row.
    """
    exits = (
        _exit_rows(t)
        .select("unit_id", "county_code", "exit_date", "exit_reason",
                pl.struct("unit_name", "approved_date", "exit_date", "exit_reason", "_file", "_line").alias("exit_row"))
        .with_columns(province_of(pl.col("county_code")).alias("province_code"))
    )
    exits = policy.attach(exits, "unit.exit_ban_years", on="exit_date", alias="ban_years", with_reference=True)
    exits = policy.attach(exits, "unit.exit_ban_conditions", on="exit_date", alias="ban_conditions")
    return exits.with_columns(
        pl.col("ban_conditions").list.contains(pl.col("exit_reason").cast(pl.String)).alias("banned"),
        pl.col("exit_date").dt.offset_by(pl.format("{}y", pl.col("ban_years"))).alias("ban_until"),
    )


def _within_ban(approved: str) -> pl.Expr:
    return (pl.col(approved) > pl.col("exit_date")) & (pl.col(approved) < pl.col("ban_until"))


_BAN_UNSET = "unit.exit_ban_years / unit.exit_ban_conditions 在退出日期该省未设定，无法判断是否在禁入期内"


@rule(
    id="UNIT_INELIGIBLE.banned_reentry",
    identity=ONGOING,
    facts=("exit_date", "exit_reason", "readmitted_date"),
    title="因骗取补贴或经营违法退出的单位在禁入期内再次被认定为见习单位",
    severity=Severity.HIGH,
    citation="赣人社发〔2023〕9号 四(一)2(5) (出现情形3或4的，予以退出，5年内不得再次申请)",
    params=_BAN_PARAMS,
    exit_condition=2,
)
def banned_reentry(t: Tables, policy: Policy) -> CheckResult:
    """A unit that exited under one of the conditions in unit.exit_ban_conditions (③ 骗取/套取
    补贴, ④ 其他经营违法行为) may not apply again for unit.exit_ban_years years (parameters of
    its province on the exit date). An approval of the same unit_id after the exit date and
    before the ban ends — a later approved_date on the exit row itself, or another row of the
    same unit_id — by the end of the audit month is a re-entry in breach of the ban; an
    approval after the ban has run out is not. Period: the re-admission to the end of the ban.
    Money at risk: the unit's claims for months from the re-admission on, since a unit admitted
    against the ban is not a lawful 见习单位. Exits whose province has no ban parameter are
    skipped."""
    admissions = t.units.select(
        "unit_id", pl.col("approved_date").alias("readmitted_date"),
        pl.struct("unit_name", "approved_date", "exit_date", "exit_reason", "_file", "_line").alias("admission_row"),
    )
    candidates = (
        _banned_exits(t, policy)
        .join(admissions, on="unit_id")
        .filter((pl.col("readmitted_date") > pl.col("exit_date")) & (pl.col("readmitted_date") <= t.month_end))
    )
    unset = pl.col("ban_years").is_null() | pl.col("ban_conditions").is_null()
    skipped = candidates.filter(unset).select("unit_id", pl.lit(_BAN_UNSET).alias("reason"))
    hits = candidates.filter(~unset & pl.col("banned") & _within_ban("readmitted_date"))
    # The first re-admission within the ban decides the finding (one per unit and exit).
    first = (
        hits.sort("readmitted_date")
        .group_by("unit_id", "exit_date")
        .agg(pl.all().first())
    )
    keys = ["unit_id", "exit_date"]
    matched = first.select(*keys, "readmitted_date").join(claim_rows(t), on="unit_id").filter(
        pl.col("claim_month") >= pl.col("readmitted_date").dt.month_start()
    )
    findings = with_claims(first, matched, keys).select(
        "unit_id",
        "county_code",
        pl.col("readmitted_date").alias("period_start"),
        pl.col("ban_until").alias("period_end"),
        "amount_at_risk",
        "claims_at_risk",
        pl.struct(
            "exit_row", "admission_row", "exit_date", "exit_reason", "readmitted_date", "ban_until",
            pl.struct(pl.col("ban_years").alias("value"), pl.col("ban_years_ref").alias("reference"))
            .alias("param_unit_exit_ban_years"),
            pl.col("ban_conditions").alias("param_unit_exit_ban_conditions"),
            "claims",
        ).alias("evidence"),
    )
    return CheckResult(findings, skipped)


def _owners(t: Tables) -> pl.LazyFrame:
    """unit_id → legal_rep_id, from the units table and, where given, the bans table and the
    market registry; only IDs that name someone (:func:`checks._identity.names_a_person`)."""
    parts = [t.units.select("unit_id", "legal_rep_id")]
    if t.bans is not None:  # the legal representative of a banned unit the export no longer carries
        parts.append(t.bans.select("unit_id", "legal_rep_id"))
    if t.market_registry is not None:
        parts.append(t.market_registry.select("unit_id", "legal_rep_id"))
    # a placeholder such as 0 or 无 in two rows is no one, and links no units
    return pl.concat(parts).drop_nulls().filter(names_a_person("legal_rep_id")).unique()


@rule(
    id="UNIT_INELIGIBLE.banned_owner_new_unit",
    identity=ONGOING,
    facts=("banned_units.banned_unit_id", "banned_units.exit_date"),
    title="【调查线索】禁入期内单位的法定代表人名下新单位被认定为见习单位",
    severity=Severity.MEDIUM,
    citation="赣人社发〔2023〕9号 四(一)2(5) (出现情形3或4的，予以退出，5年内不得再次申请)",
    params=_BAN_PARAMS,
    signal_only=True,
)
def banned_owner_new_unit(t: Tables, policy: Policy) -> CheckResult:
    """An investigative signal, not a finding of a violation: the ban of 四(一)2(5) is on the
    unit, but when the legal representative (legal_rep_id, from the units table or the market
    registry) of a unit that exited under a banned condition is also behind a different unit
    approved after that exit and before the ban ends (by the end of the audit month), the same
    owner may be re-entering under a new code. The finding is on the new unit. Period: its
    approval to the end of the banned unit's ban. No money is at risk. Exits whose province has
    no ban parameter are skipped."""
    owners = _owners(t)
    banned = _banned_exits(t, policy).join(owners, on="unit_id").rename({"unit_id": "banned_unit_id",
                                                                          "county_code": "banned_county_code"})
    new_units = (
        t.units.select("unit_id", "county_code", "unit_name", "approved_date", "_file", "_line")
        .join(owners, on="unit_id")
    )
    candidates = (
        banned.join(new_units, on="legal_rep_id")
        .filter(
            (pl.col("unit_id") != pl.col("banned_unit_id"))
            & (pl.col("approved_date") > pl.col("exit_date"))
            & (pl.col("approved_date") <= t.month_end)
        )
    )
    unset = pl.col("ban_years").is_null() | pl.col("ban_conditions").is_null()
    skipped = candidates.filter(unset).select("unit_id", pl.lit(_BAN_UNSET).alias("reason"))
    hits = candidates.filter(~unset & pl.col("banned") & _within_ban("approved_date"))
    found = hits.group_by("unit_id", "approved_date").agg(
        pl.col("county_code").first(),
        pl.col("ban_until").max(),
        pl.struct("banned_unit_id", "banned_county_code", "exit_date", "exit_reason", "ban_until", "exit_row",
                  _masked("legal_rep_id").alias("legal_rep_id_masked"))
        .sort_by("exit_date", "banned_unit_id").alias("banned_units"),  # units exited the same day: by id
        pl.struct("unit_name", "approved_date", "_file", "_line").first().alias("new_unit_row"),
    )
    findings = found.select(
        "unit_id",
        "county_code",
        pl.col("approved_date").alias("period_start"),
        pl.col("ban_until").alias("period_end"),
        pl.lit(0.0).alias("amount_at_risk"),
        pl.struct(
            pl.lit("调查线索：同一法定代表人，禁入期内新单位获认定 (investigative signal)").alias("label"),
            "new_unit_row", "banned_units",
        ).alias("evidence"),
    )
    return CheckResult(findings, skipped)


@rule(
    id="UNIT_INELIGIBLE.wrong_paying_office",
    title="见习补贴由非单位所在地经办机构拨付（属地管理失控）",
    severity=Severity.MEDIUM,
    citations=PAYING_OFFICE,
)
@citing(PAYING_OFFICE)
def wrong_paying_office(t: Tables, policy: Policy) -> pl.LazyFrame:
    """A claim must be handled and paid by the office of the unit's own county (属地管理; RULES.md
    §8 "Where a claim belongs"). A claim whose handling_county_code is given and differs from
    the unit's county_code was paid outside the unit's locality — a control failure that lets a
    unit draw on another county's funds or be paid twice. One finding per claim, for its
    claim month. No money is put at risk by this rule: the subsidy may still be due, and a
    second payment of the same month is priced by DUPLICATE_TRAINEE. A claim whose office or
    unit is placed under a code the division table (``regions``) does not hold, as county, city
    or province, is skipped with both codes: no locality can be compared."""
    # Semantics and RULES.md §8 compare with the unit's county exactly; 赣人社发〔2023〕9号 四(二)1
    # names 市、县（区）人社部门, so a city-level office (XXXX00) paying for a unit of one of its
    # districts also fires here — a reviewer may wish to accept the unit's own city office.
    found = (
        t.claims.filter(pl.col("handling_county_code").is_not_null())
        .join(unit_counties(t), on="unit_id")
        .filter(pl.col("handling_county_code") != pl.col("county_code"))
    )
    skipped = None
    if t.regions is not None:
        # a code the division table does not hold — a development zone's office (统计用区划代码
        # 360171), a code since replaced (新建县 360122), a typo — names no county whose locality
        # could be compared: that claim is not judged (the codes named in the reason)
        known = _known_division_codes(t.regions)
        found = found.join(known.select(pl.col("code").alias("handling_county_code"), pl.lit(True).alias("_office_known")),
                           on="handling_county_code", how="left")
        found = found.join(known.select(pl.col("code").alias("county_code"), pl.col("level").alias("_unit_level")),
                           on="county_code", how="left")
        unit, office = pl.col("county_code"), pl.col("handling_county_code")
        # a unit placed only to its city (or province) may be in the county whose office paid
        within = (((pl.col("_unit_level") == "city") & (office.str.slice(0, 4) == unit.str.slice(0, 4)))
                  | ((pl.col("_unit_level") == "province") & (office.str.slice(0, 2) == unit.str.slice(0, 2))))
        reason = (pl.when(pl.col("_office_known").is_null() | pl.col("_unit_level").is_null())
                  .then(pl.format(UNKNOWN_DIVISION, office, unit))
                  .when(within).then(pl.format(COARSE_DIVISION, unit, office)))
        skipped = found.filter(reason.is_not_null()).select(
            "unit_id", "person_id", "claim_id", "county_code", pl.col("claim_month").alias("period_start"),
            reason.alias("reason"),
            pl.when(pl.col("_unit_level").is_null() | pl.col("_office_known").is_null())
            .then(pl.lit(GAP_UNKNOWN_DIVISION)).otherwise(pl.lit(GAP_COARSE_DIVISION)).alias("gap"),
        )
        either = reason.is_not_null()
        found = found.filter(~either)
    findings = found.select(
        "unit_id",
        "person_id",
        "claim_id",
        "county_code",
        pl.col("claim_month").alias("period_start"),
        pl.col("claim_month").dt.month_end().alias("period_end"),
        pl.lit(0.0).alias("amount_at_risk"),
        pl.struct(
            "claim_id", "claim_month", "amount", "handling_county_code",
            pl.col("county_code").alias("unit_county_code"), "_file", "_line",
        ).alias("evidence"),
    )
    return findings if skipped is None else CheckResult(findings, skipped)


#: why a claim paid by an office, or for a unit, under a code no division of the table holds is
#: not judged by wrong_paying_office
UNKNOWN_DIVISION = ("经办机构区划代码 {} 或单位所在地区划代码 {} 不在区划代码表中（开发区、已撤并的旧代码或错填），"
                    "无法判断是否属地拨付 / a division code the table does not hold (a development zone, a code "
                    "since replaced, a typo): whether the office was the unit's own cannot be told")
GAP_UNKNOWN_DIVISION = "区划代码不在区划代码表中"
#: why a claim of a unit placed only to its city (province) and paid by an office within it is not judged
COARSE_DIVISION = ("单位所在地区划代码 {} 仅到地市（省）一级，经办机构 {} 在其辖区内，无法判断是否属地拨付 / the unit is "
                   "placed only to its city (province), and the office that paid lies within it: whether it was the unit's "
                   "own county cannot be told")
GAP_COARSE_DIVISION = "单位区划代码仅到地市一级"


def _known_division_codes(regions: pl.LazyFrame) -> pl.LazyFrame:
    """The division codes an office or a unit may be placed under, with their ``level``: every
    county of the table, and the city and province above it (a city's office paying for a
    district's unit is compared, and found, as before). A few hundred rows."""
    county = regions.select(pl.col("county_code").alias("code")).unique()
    return pl.concat([
        county.with_columns(pl.lit("county").alias("level")),
        county.select((pl.col("code").str.slice(0, 4) + "00").alias("code"), pl.lit("city").alias("level")),
        county.select((pl.col("code").str.slice(0, 2) + "0000").alias("code"), pl.lit("province").alias("level")),
    ]).unique("code", keep="first", maintain_order=True)


CHECKS: tuple[Check, ...] = (
    deregistered_while_claiming,
    deregistered_still_listed,
    serious_violation,
    abnormal_listed,
    banned_reentry,
    banned_owner_new_unit,
    wrong_paying_office,
)
