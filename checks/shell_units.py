"""Is the unit a real business? Its registration and its headcount (issue #16, typologies 4 and 5;
currency_2026.md §4 cases #4, #14, #21 and #23).

- ``UNIT_INELIGIBLE.enterprise_not_registered``: a unit with an enterprise credit code (first
  character 9, the market regulator's: 企业, 个体工商户, 农民专业合作社) that the market registry
  extract does not hold has no lawful registration — a forged or borrowed licence. A public
  institution (1), a social organisation (5) or any other registration authority's code is
  registered elsewhere and stays clean. An extract that misses many of the units' enterprise
  codes is judged incomplete (``registry.min_enterprise_coverage``): then no unit is judged, and
  the skipped rows say why; so is a county or prefecture of which it holds none of two or more.
- ``UNIT_INELIGIBLE.trainees_exceed_staff``: a shell by headcount — far more trainees in a year
  than the staff the unit declares and insures (a signal; the ratio is the audit office's
  judgement).
"""

from __future__ import annotations

import polars as pl

from audit.policy import Policy
from audit.rules import ONGOING, Check, CheckResult, Severity, rule
from audit.tables import Tables
from checks._citations import DATA_COMPARISON, MANAGEMENT, MONTH_END, citing
from checks._claims import claim_rows, with_claims
from checks._identity import identity_links, with_person_key
from checks._internships import unit_internships
from checks._registries import employer_insurance
from checks._units import area_gaps, latest_units, unit_counties

ENTERPRISE = "9"  # GB 32100 表1: registration authority 工商 (now 市场监管)
# Jiangxi's admission condition where its notice is in force; elsewhere the duty to compare registries
NOT_REGISTERED = ("赣人社发〔2023〕9号 四(一)1(1) (辖区范围内依法成立（注册、登记）的各类企事业单位及社会组织); 五(三)",
                  *DATA_COMPARISON[1:])
HEADCOUNT = ("赣人社发〔2023〕9号 二(五) (委派…人员作为带教老师)、四(一)1(4) (有专人负责见习人员工作指导)", *MANAGEMENT)
INCOMPLETE = "市场主体登记摘录仅含 {}/{} 家企业类见习单位（{}%，低于检测参数 registry.min_enterprise_coverage），疑似不完整，未判断是否查无登记"
AREA_NOT_IN_EXTRACT = ("市场主体登记摘录中无 {} {}的任何企业类见习单位：摘录可能未涵盖该地区，未判断是否查无登记 / the market registry "
                       "extract holds none of this area's enterprise units: it may not cover the area; not judged")
NO_STAFF = "单位未申报在职职工人数，参保记录未必涵盖全部职工，无法比较见习人数与职工人数，未判断"
SHELL = "调查线索：年度见习人数远超单位申报及参保职工人数，疑似空壳单位 (investigative signal)"


@rule(
    id="UNIT_INELIGIBLE.enterprise_not_registered",
    identity=ONGOING,
    title="企业类见习单位在市场主体登记中查无记录（疑似伪造或借用营业执照）",
    severity=Severity.HIGH,
    citations=NOT_REGISTERED,
    detection_params=("registry.min_enterprise_coverage",),
    needs=("market_registry",),
)
@citing(NOT_REGISTERED, on=MONTH_END)
def enterprise_not_registered(t: Tables, policy: Policy) -> CheckResult:
    """A 见习单位 approved by the end of the audit month whose 统一社会信用代码 is well formed, passes
    its check character and begins with 9 (an enterprise, registered by the market regulator), and
    that has no row in the market registry extract, is not a lawfully registered enterprise (赣人社发
    〔2023〕9号 四(一)1(1) 依法成立（注册、登记）): its licence is forged or borrowed. Codes of other
    registration authorities (public institutions 1, social organisations 5, …) are not in the
    market registry and are never judged. Where the extract holds less than
    registry.min_enterprise_coverage of the units' enterprise codes it looks incomplete: every such
    unit is skipped with the coverage as the reason; so is every unit of a county (a prefecture)
    of which the extract holds none of two or more enterprise units — an extract assembled from
    the areas' registries may lack an area. Period: the approval to the end of the audit month.
    Money at risk: every claim of the unit."""
    assert t.market_registry is not None
    min_share = float(policy.detect("registry.min_enterprise_coverage"))
    well_formed = (pl.col("unit_id_status") == "ok") if "unit_id_status" in t.units.collect_schema() else pl.lit(True)
    enterprises = (
        latest_units(t)
        .filter(well_formed & pl.col("unit_id").str.starts_with(ENTERPRISE) & (pl.col("approved_date") <= t.month_end))
        .select("unit_id", "county_code", "unit_name", "approved_date", "_file", "_line")
        .join(t.market_registry.select("unit_id").unique().with_columns(pl.lit(True).alias("_registered")),
              on="unit_id", how="left")
        .with_columns(pl.col("_registered").fill_null(False))
        .cache()  # the coverage and the units missing: one pass
    )
    coverage = enterprises.select(
        pl.len().alias("enterprise_units"), pl.col("_registered").sum().cast(pl.Int64).alias("enterprise_units_registered"),
    ).with_columns((pl.col("enterprise_units_registered") / pl.col("enterprise_units")).round(4).alias("coverage"))
    # an area (county, or prefecture: an extract assembled from the areas' registries) of which the
    # extract holds none of two or more enterprise units may be outside it: its units are not judged
    enterprises = area_gaps(enterprises, pl.col("_registered"))
    area_gap = pl.col("_gap_area").is_not_null()
    missing = enterprises.filter(~pl.col("_registered")).join(coverage, how="cross").cache()
    complete = pl.col("coverage") >= min_share
    skipped = missing.filter(~complete | area_gap).select(
        "unit_id",
        pl.when(~complete).then(pl.format(INCOMPLETE, "enterprise_units_registered", "enterprise_units",
                                          (pl.col("coverage") * 100).round(1)))
        .otherwise(pl.format(AREA_NOT_IN_EXTRACT, "_gap_area", pl.when(pl.col("_gap_area") == pl.col("county_code"))
                             .then(pl.lit("县（区）")).otherwise(pl.lit("市（州）"))))
        .alias("reason"),
    )
    found = missing.filter(complete & ~area_gap)
    findings = with_claims(found, claim_rows(t).join(found.select("unit_id"), on="unit_id", how="semi"), ["unit_id"])
    return CheckResult(findings.select(
        "unit_id", "county_code",
        pl.col("approved_date").alias("period_start"),
        pl.lit(t.month_end).alias("period_end"),
        "amount_at_risk", "claims_at_risk",
        pl.struct(
            pl.struct("unit_name", "approved_date", "_file", "_line").alias("unit_row"),
            pl.lit(False).alias("in_market_registry"),
            pl.struct("enterprise_units", "enterprise_units_registered", "coverage").alias("registry_coverage"),
            pl.lit(min_share).alias("registry_min_enterprise_coverage"),
            "claims",
        ).alias("evidence"),
    ), skipped)


@rule(
    id="UNIT_INELIGIBLE.trainees_exceed_staff",
    identity=ONGOING,
    title="【调查线索】年度见习人数远超单位申报及参保职工人数（疑似空壳单位）",
    severity=Severity.MEDIUM,
    citations=HEADCOUNT,
    detection_params=("headcount.max_trainees_per_staff", "headcount.min_trainees"),
    signal_only=True,
)
@citing(HEADCOUNT, on="period_end")
def trainees_exceed_staff(t: Tables, policy: Policy) -> CheckResult:
    """An investigative signal, not a finding of a violation: a unit whose trainees in a calendar
    year — natural persons with an internship there at any time in the year — number at least
    headcount.min_trainees and more than headcount.max_trainees_per_staff times its staff, the
    larger of the staff it declares (units.staff_count, the latest row) and the staff it insures
    (persons it insured as an employer in the year, 补充工伤 trainee cover apart), cannot be
    supervising them: the names pass through a shell. A unit that declares no staff count is
    skipped with the reason: an insurance extract pulled for the trainees need not hold the
    unit's whole staff, so its insured persons alone say nothing of its size. Period: the year,
    up to the audit month. No money at risk; the yuan claimed in the year is in the evidence."""
    ratio = float(policy.detect("headcount.max_trainees_per_staff"))
    min_trainees = int(policy.detect("headcount.min_trainees"))
    year_of = pl.int_ranges(pl.col("internship_start").dt.year(), pl.col("internship_end").dt.year() + 1)
    present = unit_internships(t, policy).select("person_id", "unit_id", year_of.alias("year")).explode("year")
    declared = latest_units(t).select("unit_id", pl.col("staff_count").alias("declared_staff"))
    # counted by ID first (a million internships), then by natural person on the few candidates
    counted = (
        present.group_by("unit_id", "year").agg(pl.col("person_id").n_unique().alias("_ids"))
        .join(declared, on="unit_id", how="left")
        .filter(pl.col("_ids") >= min_trainees)
        .cache()  # the units judged and those skipped: one pass
    )
    unknown = counted.filter(pl.col("declared_staff").is_null()).select("unit_id").unique().select(
        "unit_id", pl.lit(NO_STAFF).alias("reason"))
    candidates = (
        counted.filter(pl.col("declared_staff").is_not_null() & (pl.col("_ids") > ratio * pl.col("declared_staff")))
        .drop("_ids")
        .cache()
    )
    trainees = (
        with_person_key(present.join(candidates.select("unit_id", "year"), on=["unit_id", "year"], how="semi"),
                        identity_links(t, policy))
        .group_by("unit_id", "year").agg(pl.col("person_key").n_unique().alias("trainees"))
    )
    units = candidates.select("unit_id").unique()
    insured = (
        employer_insurance(t.social_insurance.join(units.rename({"unit_id": "employer_id"}), on="employer_id", how="semi"),
                           t.si_as_of)
        .with_columns(pl.col("month").dt.year().cast(pl.Int64).alias("year"))
        .group_by("unit_id", "year").agg(pl.col("person_id").n_unique().alias("insured_staff"))
    )
    claimed = (
        claim_rows(t).join(units, on="unit_id", how="semi")
        .group_by("unit_id", pl.col("claim_month").dt.year().cast(pl.Int64).alias("year"))
        .agg((pl.col("amount").fill_null(0) + pl.col("insurance_amount").fill_null(0)).sum().round(2).alias("claimed_yuan"))
    )
    staff = pl.max_horizontal(pl.col("declared_staff"), pl.col("insured_staff"))
    return CheckResult(
        candidates.with_columns(pl.col("year").cast(pl.Int64))
        .join(trainees.with_columns(pl.col("year").cast(pl.Int64)), on=["unit_id", "year"])
        .join(insured, on=["unit_id", "year"], how="left")
        .join(claimed, on=["unit_id", "year"], how="left")
        .with_columns(pl.col("insured_staff").fill_null(0).cast(pl.Int64), pl.col("claimed_yuan").fill_null(0.0))
        .with_columns(staff.alias("staff"))
        .filter((pl.col("trainees") >= min_trainees) & (pl.col("trainees") > ratio * pl.col("staff")))
        .join(unit_counties(t), on="unit_id", how="left")
        .select(
            "unit_id", "county_code",
            pl.date(pl.col("year"), 1, 1).alias("period_start"),
            pl.min_horizontal(pl.date(pl.col("year"), 12, 31), pl.lit(t.month_end)).alias("period_end"),
            pl.lit(0.0).alias("amount_at_risk"),
            pl.struct(
                pl.lit(SHELL).alias("label"), "year", "trainees", "declared_staff", "insured_staff",
                pl.when(pl.col("staff") > 0).then((pl.col("trainees") / pl.col("staff")).round(2)).alias("trainees_per_staff"),
                "claimed_yuan",
                pl.lit(ratio).alias("headcount_max_trainees_per_staff"),
                pl.lit(min_trainees).alias("headcount_min_trainees"),
            ).alias("evidence"),
        ),
        unknown,
    )


CHECKS: tuple[Check, ...] = (
    enterprise_not_registered,
    trainees_exceed_staff,
)
