"""The real retention of each unit and year, recomputed from the registries (docs/semantics.md, "Retention").

Definitions (the evidence of every retention finding records them):

- An internship is a chain of agreements at one unit without a gap, whatever its length
  (:mod:`checks._internships`); it *ends* on the latest end (actual, else planned) of its
  agreements, when that is on or before the end of the audit month. The agreement with that end
  ends the internship: its end_reason and retained flag are the internship's; an agreement
  followed by an extension ends nothing.
- *Completed* in year Y: an internship that ended in Y with ``end_reason`` 期满 or 提前留用 (the
  汇总表's 完成见习; 提前离岗 is outside it), or with no reason where it did not end before its
  planned end (the 汇总表's reading of a blank 结束原因, :mod:`checks._summary_table`).
- *Really retained*: a labour contract with the unit starting between the internship's first day and
  ``retention.contract_window_days`` after its end, at least ``retention.min_contract_months`` long
  or open-ended — a contract terminated by the audit month (``terminated_date``) lasting only
  until then, a contract renewed without a gap (a row per term) as long as its renewals; AND
  the unit's employer-paid insurance (payer 单位 or null, not 补充工伤) for
  ``retention.min_insured_months_after`` consecutive months starting in the end month or the
  month after. Months after ``si_as_of`` cannot be judged: a run that reaches ``si_as_of``
  passes, and with nothing visible after the end the contract alone counts. Contracts and
  insurance count under any ID of the person (:mod:`checks._identity`): a trainee registered
  under a corroborated typo whose contract and insurance carry the valid ID is retained.
- Real rate = really retained / completed; declared rate = the agreements' ``retained`` flags
  over the same completed internships, and ``retention_declarations`` where given (the larger).
  A person registered under an ID that fails its check, that nothing ties to a valid one and that
  neither the insurance nor the contracts write is *unverifiable*: the registries may hold the
  person under the valid ID. A unit-year below the threshold only while they count as not
  retained (``real_rate_at_most``, every one of them counted retained, reaches it) is
  ``undecided``: the rules that rest on the rate skip it — and so is a unit-year of a province
  whose 标杆 units are exempt (``retention.benchmark_qualifies``) where the register was exported
  without 是否就业见习标杆单位 (``benchmark_unknown``): it may be exempt (``undecided_reason``).
- *Relabelled* early leave: an internship ended 提前离岗 whose actual end falls within the last
  month of the planned term, or whose person has a contract with the unit in the window or the
  unit's insurance in the months right after the end.

The definition's law is read per unit's province (RULES.md §5, §8): ``retention.requires_labour_contract``
and ``retention.requires_social_insurance`` on the internship's end (a province whose notice sets
one false drops that half of the test; unset, the project's reading of §8 requires both), and
``retention.year_basis`` and ``retention.denominator`` on the year's end (unset, the detection
``retention.default_year_basis`` and the 汇总表's completed_or_hired_early). Everything is per unit
and calendar year of the internship end: a unit-year whose province sets another basis or
denominator is not judged (``definition_supported`` false; the rules skip it with the reason).
"""

from __future__ import annotations

import polars as pl

from audit.policy import Policy
from audit.schema import province_of
from audit.tables import Tables, shared
from checks._claims import claim_link
from checks._expected import (
    DIFFERENCE,
    agreements_frame,
    attach_params,
    claim_context,
    claim_rate_keys,
    claims_in_agreement,
)
from checks._identity import (
    GAP_UNRESOLVED_ID,
    flag_ids,
    person_aliases,
    unknown_to,
    unresolved_ids,
    with_aliases,
)
from checks._internships import chain_agreements
from checks._registries import binds_until, employer_insurance, labour_contracts, lost_registry_rows, renewed_contracts
from checks._runs import first_in_run, new_run
from checks._units import latest_units, unit_counties, units_unwritten

COMPLETED_REASONS = ("期满", "提前留用")
EARLY_LEAVE = "提前离岗"
YEAR_PARAMS: tuple[tuple[str, bool], ...] = (
    ("retention.raised_threshold", True),
    ("retention.benchmark_qualifies", True),
    ("retention.year_basis", True),
    ("retention.denominator", True),
)
PERSON_PARAMS: tuple[tuple[str, bool], ...] = (
    ("retention.requires_labour_contract", True),
    ("retention.requires_social_insurance", True),
)
YEAR_BASIS = "calendar_year"  # the only basis the recomputation implements
# every parameter of the definition, as the rules that rest on it list them
DEFINITION_PARAMS = ("retention.year_basis", "retention.denominator", "retention.requires_labour_contract",
                     "retention.requires_social_insurance")
#: why a unit-year below the threshold only while its unverifiable people count as not retained
#: is not judged (:func:`unit_years`, ``undecided``)
UNVERIFIABLE = ("核实留用率低于达标线，但有见习人员的身份证号校验失败、无可佐证的正确证件号，社保和劳动合同登记中均无此号："
                "其可能以正确证件号留用，计为留用则达到达标线，未判断 / below the threshold only while people under IDs that "
                "fail their check (and that no registry writes) count as not retained: not judged")
#: why a unit-year of a province whose 标杆 units are exempt is not judged where the register
#: does not say which units are 标杆 units (:func:`unit_years`, ``benchmark_unknown``)
BENCHMARK_UNKNOWN = ("见习单位名册未导出“是否就业见习标杆单位”列：该省标杆单位申领差额不受留用率限制，无法判断该单位是否豁免，未判断 / "
                     "the unit register has no 是否就业见习标杆单位 column, and this province's 标杆 units may claim "
                     "the 差额 whatever their retention: not judged")
GAP_BENCHMARK = "未导出是否标杆单位"
#: why a unit-year below the threshold only while its unreadable agreement rows count as no
#: retained completion is not judged (:func:`unit_years`, ``lost_agreements``)
AGREEMENTS_LOST = ("该单位有见习协议行无法读取（已隔离，见 quarantine.csv），可能为当年完成见习并留用的人员，计入则达到达标线，"
                   "未判断 / agreement rows of the unit could not be read: counted as retained completions, the rate "
                   "would reach the threshold: not judged")
GAP_AGREEMENTS_LOST = "见习协议行无法读取"
GAP_OTHER_DEFINITION = "留用率定义与审计口径不同"  # the gap of UNSUPPORTED_DEFINITION
UNSUPPORTED_DEFINITION = "该省留用率定义（计算期间或分母）与本审计按自然年、完成见习人数重算的口径不同，未判断"
DENOMINATOR = "completed_or_hired_early"  # the 汇总表's 完成见习 (COMPLETED_REASONS)


def undecided_because(benchmark_unknown: pl.Expr, agreements_lost: pl.Expr | None = None) -> list[pl.Expr]:
    """``undecided_reason`` and ``undecided_gap`` of an undecided unit-year: the 标杆 status unknown
    where ``benchmark_unknown``, else agreements the loader could not read where
    ``agreements_lost``, else people whose retention is unknown."""
    lost = pl.lit(False) if agreements_lost is None else agreements_lost
    return [
        pl.when(benchmark_unknown).then(pl.lit(BENCHMARK_UNKNOWN)).when(lost).then(pl.lit(AGREEMENTS_LOST))
        .otherwise(pl.lit(UNVERIFIABLE)).alias("undecided_reason"),
        pl.when(benchmark_unknown).then(pl.lit(GAP_BENCHMARK)).when(lost).then(pl.lit(GAP_AGREEMENTS_LOST))
        .otherwise(pl.lit(GAP_UNRESOLVED_ID)).alias("undecided_gap"),
    ]


def _with_lost_agreements(frame: pl.LazyFrame, t: Tables) -> pl.LazyFrame:
    """``lost_agreements`` per unit-year of ``frame``: the unit's agreement rows the loader could
    not read (``Tables.quarantine``) that may be an internship completed that year — started that
    year or the year before, or of no readable start. Each may be a retained completion the rate
    does not count (unreadable rows do not accuse). 0 without a quarantine."""
    if t.quarantine is None:
        return frame.with_columns(pl.lit(0, pl.Int64).alias("lost_agreements"))
    lost = t.quarantine.filter((pl.col("table") == "agreements") & pl.col("unit_id").is_not_null()).select("unit_id", "day")
    started = pl.col("day").dt.year().cast(pl.Int32)
    per_year = (
        frame.select("unit_id", "year").unique().join(lost, on="unit_id")
        .filter(pl.col("day").is_null() | started.is_between(pl.col("year") - 1, pl.col("year")))
        .group_by("unit_id", "year").agg(pl.len().cast(pl.Int64).alias("lost_agreements"))
    )
    return frame.join(per_year, on=["unit_id", "year"], how="left").with_columns(pl.col("lost_agreements").fill_null(0))


def month_index(expr: pl.Expr) -> pl.Expr:
    return expr.dt.year().cast(pl.Int64) * 12 + expr.dt.month().cast(pl.Int64) - 1


def index_month(expr: pl.Expr) -> pl.Expr:
    return pl.date(expr // 12, expr % 12 + 1, 1)


def definition(t: Tables, policy: Policy) -> pl.Expr:
    """The retention definition used, as evidence (on unit-year rows of :func:`unit_years`)."""
    return pl.struct(
        pl.col("year_basis"),
        pl.col("year_basis_source"),
        pl.col("denominator"),
        pl.lit(list(COMPLETED_REASONS)).alias("completed_end_reasons"),
        pl.lit(policy.detect("retention.contract_window_days")).alias("contract_window_days"),
        pl.lit(policy.detect("retention.min_contract_months")).alias("min_contract_months"),
        pl.lit(policy.detect("retention.min_insured_months_after")).alias("min_insured_months_after"),
        pl.lit(t.si_as_of).alias("si_as_of"),
    ).alias("definition")


def ended_internships(t: Tables) -> pl.LazyFrame:
    """The internships that ended by the end of the audit month, one row each: the agreement that
    ends it (:func:`checks._internships.chain_agreements`, no cap), its columns as
    :func:`checks._expected.agreements_frame` names them, with the internship's first day
    (``internship_start``), its ``year``, ``completed`` and ``declared_retained``."""
    # semantics.md counts completions per agreement; an extension's first agreement (often 期满)
    # would otherwise count as a completed, unretained internship and lower the real rate.
    chained = chain_agreements(agreements_frame(t).with_columns(
        pl.col("ag_id").alias("agreement_id"), pl.col("ag_start").alias("start_date"), pl.col("ag_end").alias("end")))
    return (
        chained.filter(pl.col("ends_internship") & (pl.col("ag_end") <= pl.lit(t.month_end)))
        .drop("agreement_id", "start_date", "end", "internship", "internship_end", "alone", "ends_internship")
        .with_columns(
            pl.int_range(pl.len(), dtype=pl.Int64).alias("_iid"),
            pl.col("ag_end").dt.year().cast(pl.Int32).alias("year"),
            # a blank reason (an export without 结束原因, a value not among its spellings): completed
            # when the internship did not end before its planned end — the 汇总表's reading
            # (checks._summary_table, indicator 8); ended early, see person_retention
            (pl.col("ag_end_reason").is_in(COMPLETED_REASONS).fill_null(False)
             | (pl.col("ag_end_reason").is_null()
                & ~(pl.col("ag_actual_end") < pl.col("ag_planned_end")).fill_null(False))).alias("completed"),
            (pl.col("ag_end_reason").is_null() & (pl.col("ag_actual_end") < pl.col("ag_planned_end")).fill_null(False))
            .alias("_ended_early_unsaid"),
            pl.col("ag_retained").fill_null(False).alias("declared_retained"),
        )
    )


@shared(
    tables=("agreements", "employment", "social_insurance", "units", "quarantine"),
    params=tuple(name for name, _ in PERSON_PARAMS),
    detection=("retention.contract_window_days", "retention.min_contract_months",
               "retention.min_insured_months_after", "extract.cut_first_month_share", "extract.cut_min_rows"),
    context=("audit_month", "si_as_of"),
    uses=(person_aliases, unresolved_ids),
)
def person_retention(t: Tables, policy: Policy) -> pl.LazyFrame:
    """Each ended internship (:func:`ended_internships`) with its contract and insurance evidence
    and ``really_retained``.

    Columns added: contract_start/contract_end/contract_terminated (the qualifying contract, else
    the first one in the window; its termination by the audit month), contract_in_window,
    contract_ok; insured_from (first unit-insured month from the end month on), insured_run_months,
    insurance_stop_month (first month of the visible stop, null where the run reaches si_as_of),
    insured_right_after, insurance_judged, insurance_ok;
    requires_contract, requires_insurance (the province's law on the internship's end; unset:
    both required, RULES.md §8); really_retained; relabelled; identity_unknown (not retained as
    far as the registries show, but under an ID nothing resolves that neither registry writes:
    :func:`checks._identity.unknown_to` — whether the person was retained is unknown).
    """
    window = int(policy.detect("retention.contract_window_days"))
    min_contract = int(policy.detect("retention.min_contract_months"))
    min_run = int(policy.detect("retention.min_insured_months_after"))
    ended = ended_internships(t)
    registries = [t.social_insurance] + ([t.employment] if t.employment is not None else [])
    keys = ended.select("_iid", "person_id", "unit_id", "internship_start", "ag_end")
    # each internship once per ID of its person: the registries' rows under any of them count
    by_id = with_aliases(keys, t, policy, alias="_pid").drop("person_id")

    if t.employment is not None:
        # a contract terminated (by the audit month) binds until then, whatever it was signed for:
        # a "retained" contract ended weeks after the 差额 was paid is no year-long hire (issue #16);
        # one renewed without a gap binds as long as its renewals (checks._registries.renewed_contracts)
        def long_enough(until: pl.Expr) -> pl.Expr:
            return until.is_null() | (until.dt.offset_by("1d") >= pl.col("contract_start").dt.offset_by(f"{min_contract}mo"))

        in_window = (
            by_id.join(
                labour_contracts(t).select(pl.col("person_id").alias("_pid"), pl.col("employer_id").alias("unit_id"),
                                           "contract_start", "contract_end", "terminated_date"),
                on=["_pid", "unit_id"],
            )
            .filter(
                (pl.col("contract_start") >= pl.col("internship_start"))
                & (pl.col("contract_start") <= pl.col("ag_end") + pl.duration(days=window))
            )
            .with_columns(long_enough(binds_until(t.month_end)).alias("_long"))
            .cache()  # the short ones' renewals are looked for among their pairs' contracts only
        )
        short = in_window.filter(~pl.col("_long")).select(pl.col("_pid").alias("person_id"),
                                                          pl.col("unit_id").alias("employer_id"))
        renewed = (
            renewed_contracts(t, t.month_end, short)
            .select(pl.col("person_id").alias("_pid"), pl.col("employer_id").alias("unit_id"), "contract_start",
                    long_enough(pl.col("hired_until")).alias("_renewed_long"))
            .unique(["_pid", "unit_id", "contract_start"])
        )
        contracts = (
            in_window.join(renewed, on=["_pid", "unit_id", "contract_start"], how="left")
            .with_columns((pl.col("_long") | pl.col("_renewed_long").fill_null(False)).alias("_long"))
            .sort("_iid", "_long", "contract_start", descending=[False, True, False])
            .group_by("_iid")
            .agg(
                pl.col("contract_start").first(),
                pl.col("contract_end").first(),
                pl.when(pl.col("terminated_date") <= t.month_end).then(pl.col("terminated_date")).first()
                .alias("contract_terminated"),
                pl.col("_long").any().alias("contract_ok"),
            )
            .with_columns(pl.lit(True).alias("contract_in_window"))
        )
    else:
        contracts = pl.LazyFrame(schema={"_iid": pl.Int64, "contract_start": pl.Date, "contract_end": pl.Date,
                                         "contract_terminated": pl.Date, "contract_ok": pl.Boolean,
                                         "contract_in_window": pl.Boolean})

    end_idx = month_index(pl.col("ag_end"))
    insurance = (
        by_id.join(employer_insurance(t.social_insurance, t.si_as_of).rename({"person_id": "_pid"}), on=["_pid", "unit_id"])
        .with_columns((month_index(pl.col("month")) - end_idx).alias("_off"))
        .filter(pl.col("_off") >= 0)
        .unique(["_iid", "_off"])  # one month insured under two IDs of the person is one month
        .sort("_iid", "_off")
        .with_columns(pl.int_range(pl.len(), dtype=pl.Int64).alias("_row"))
        # the month's rank within its internship: rows sorted by (internship, month), so the row
        # number less the internship's first row number (a forward fill, not a window)
        .with_columns((pl.col("_row") - first_in_run(new_run("_iid"), pl.col("_row"))).alias("_rank"))
        .group_by("_iid")
        .agg(
            pl.col("_off").min().alias("_first"),
            ((pl.col("_off") - pl.col("_rank")) == pl.col("_off").min()).sum().cast(pl.Int64).alias("_run"),
            ((pl.col("_off") >= 1) & (pl.col("_off") <= min_run)).any().alias("insured_right_after"),
        )
    )
    # "starting within the month after the end" read as: the run starts in the end month or the
    # month after (an early hire mid-month is insured from the end month).
    si_idx = month_index(pl.lit(t.si_as_of))
    starts_in_time = pl.col("_first").is_not_null() & (pl.col("_first") <= 1)
    stop_idx = end_idx + pl.col("_first") + pl.col("_run")
    # an insurance row of the person the loader could not read, of the unit or of no readable
    # employer, dated from the end month on (or undated): the run cannot be judged (unreadable
    # rows do not accuse); nor the contract, for an unreadable contract row in the window
    judged = (end_idx + 1 <= si_idx) & ~pl.col("_lost_insurance")
    insurance_ok = (~judged) | (starts_in_time & ((pl.col("_run") >= min_run) | (stop_idx > si_idx)))
    return (
        ended.join(contracts, on="_iid", how="left")
        .join(insurance, on="_iid", how="left")
        # an insurance row from the end month on, a contract row starting in the window
        .join(lost_registry_rows(t, by_id, "_iid", insurance=pl.col("day") >= pl.col("ag_end").dt.month_start(),
                                 contract=pl.col("day").is_between(pl.col("internship_start"),
                                                                   pl.col("ag_end") + pl.duration(days=window))),
              on="_iid", how="left")
        .with_columns(pl.col("_lost_insurance", "_lost_contract").fill_null(False))
        # an internship that ended before the insurance extract's first month (an extract of the
        # last years), or before the contracts extract's first contract: what followed it is not in
        # the export, as a lost row's is not
        # — or whose insurance at the unit the extract shows from its very first month, later than
        # the month after the end: a run cut by the extract, whether it started in time not in it
        .join(_extracts_from(t, policy), how="cross")
        # — or whose unit is in an area of which the registry extract writes no unit at all
        .join(_unwritten_areas(t), on="unit_id", how="left")
        .with_columns(pl.col("_si_gap", "_contract_gap").fill_null(False))
        .with_columns((pl.col("_lost_insurance") | pl.col("_si_gap")
                       | (pl.col("ag_end").dt.month_start() < pl.col("_si_from")).fill_null(False)
                       | ((end_idx + 1 < month_index(pl.col("_si_min")))
                          & (end_idx + pl.col("_first") == month_index(pl.col("_si_min")))).fill_null(False))
                      .alias("_lost_insurance"),
                      (pl.col("_lost_contract") | pl.col("_contract_gap")
                       | (pl.col("ag_end") < pl.col("_contracts_from")).fill_null(False))
                      .alias("_lost_contract"))
        .drop("_si_from", "_si_min", "_contracts_from", "_si_gap", "_contract_gap")
        .with_columns(
            (pl.col("contract_ok").fill_null(False) | pl.col("_lost_contract")).alias("contract_ok"),
            pl.col("contract_in_window").fill_null(False),
            pl.col("insured_right_after").fill_null(False),
            pl.when(pl.col("_first").is_not_null()).then(index_month(end_idx + pl.col("_first"))).alias("insured_from"),
            pl.when(starts_in_time).then(pl.col("_run")).otherwise(0).alias("insured_run_months"),
            pl.when(starts_in_time & (stop_idx <= si_idx) & ~pl.col("_lost_insurance")).then(index_month(stop_idx))
            .alias("insurance_stop_month"),
            judged.alias("insurance_judged"),
            insurance_ok.alias("insurance_ok"),
        )
        .pipe(_with_requirements, t, policy)
        .with_columns(((pl.col("contract_ok") | ~pl.col("requires_contract"))
                       & (pl.col("insurance_ok") | ~pl.col("requires_insurance"))).alias("really_retained"))
        # ended early with no reason said: 提前留用 (completed) where the unit hired the trainee —
        # flagged retained, or really retained — else left out, as 提前离岗 is; nothing else tells
        .with_columns((pl.col("completed") | (pl.col("_ended_early_unsaid")
                                              & (pl.col("declared_retained") | pl.col("really_retained")))).alias("completed"))
        .drop("_ended_early_unsaid")
        # not retained as far as the registries show — under an ID that fails its check, that no
        # registration ties to a valid one and that neither registry writes: unknown, not "no"
        .pipe(flag_ids, unknown_to(t, policy, *registries), "_unresolved")
        .with_columns((~pl.col("really_retained") & pl.col("_unresolved")).alias("identity_unknown"))
        .drop("_unresolved")
        .with_columns(
            (
                (pl.col("ag_end_reason") == EARLY_LEAVE)
                & (
                    (pl.col("ag_actual_end") > pl.col("ag_planned_end").dt.offset_by("-1mo"))
                    | pl.col("contract_in_window")
                    | pl.col("insured_right_after")
                )
            ).fill_null(False).alias("relabelled")
        )
        .drop("_first", "_run", "_lost_insurance", "_lost_contract")
    )


def _unwritten_areas(t: Tables) -> pl.LazyFrame:
    """``unit_id, _si_gap, _contract_gap`` of the units in an area of whose units the insurance
    extract (the contracts extract) writes none as employer (:func:`checks._units.units_unwritten`):
    an extract assembled from the areas' own may lack the area, and a retention there is not
    judged on it, as on an extract cut before the internship's end."""
    si = units_unwritten(t, t.social_insurance, "employer_id").select("unit_id", pl.lit(True).alias("_si_gap"))
    if t.employment is None:
        return si.with_columns(pl.lit(False).alias("_contract_gap"))
    contracts = units_unwritten(t, t.employment, "employer_id").select("unit_id", pl.lit(True).alias("_contract_gap"))
    return si.join(contracts, on="unit_id", how="full", coalesce=True)


def _extracts_from(t: Tables, policy: Policy) -> pl.LazyFrame:
    """One row: the month the insurance extract (``_si_from``) and the contracts extract
    (``_contracts_from``, by contract start) were cut at, null for an extract taken as whole
    (:func:`cut_at`); and the insurance extract's first month (``_si_min``)."""
    si = cut_at(t.social_insurance, "month", policy, monthly=True).select(
        pl.col("_from").alias("_si_from"), pl.col("_first").alias("_si_min"))
    if t.employment is None:
        return si.with_columns(pl.lit(None, pl.Date).alias("_contracts_from"))
    return si.join(cut_at(t.employment, "contract_start", policy).select(pl.col("_from").alias("_contracts_from")),
                   how="cross")


def cut_at(rows: pl.LazyFrame, column: str, policy: Policy, *, monthly: bool = False) -> pl.LazyFrame:
    """One row: ``_first``, the first month of ``rows`` (by ``column``), and ``_from``, that month
    where the extract looks cut there — its first month already holds at least
    ``extract.cut_first_month_share`` of the median month's rows, and at least
    ``extract.cut_min_rows`` — else null (a whole history begins thinly and grows). The audit
    office's judgement (detection parameters). ``monthly``: the column holds months already."""
    share = float(policy.detect("extract.cut_first_month_share"))
    least = int(policy.detect("extract.cut_min_rows"))
    month = pl.col(column) if monthly else pl.col(column).dt.month_start()  # monthly: a month's first day already
    months = rows.group_by(month.alias("_m")).len().drop_nulls("_m")
    first = pl.col("len").sort_by("_m").first()
    return months.select(
        pl.col("_m").min().alias("_first"),
        pl.when((first >= share * pl.col("len").median()) & (first >= least)).then(pl.col("_m").min()).alias("_from"))


def _with_requirements(ended: pl.LazyFrame, t: Tables, policy: Policy) -> pl.LazyFrame:
    """Whether the unit's province requires a labour contract and the unit's insurance of a
    retained trainee, on the internship's end (unset: required — RULES.md §8's reading)."""
    return (
        ended.join(unit_counties(t), on="unit_id", how="left")
        .with_columns(province_of(pl.col("county_code")).alias("_province"))
        .pipe(attach_params, policy, on="ag_end", names=PERSON_PARAMS, province="_province", reasons=frozenset())
        .with_columns(
            pl.col("retention_requires_labour_contract").fill_null(True).alias("requires_contract"),
            pl.col("retention_requires_social_insurance").fill_null(True).alias("requires_insurance"),
        )
        .drop("county_code", "_province", "retention_requires_labour_contract", "retention_requires_social_insurance",
              "retention_requires_labour_contract_ref", "retention_requires_social_insurance_ref")
    )


def difference_claims(t: Tables, policy: Policy) -> pl.LazyFrame:
    """差额 claims with the internship they pay for and the year it ended (the retention year):
    the 差额 rows of the claims in context (:func:`checks._expected.claim_context`), whose
    agreement columns are those of the agreement that ends the internship the 差额 pays for —
    so the year is the same whether the export dates the 差额 in the last internship month or
    in the month it was claimed or paid (RULES.md §8). Only a 差额 with no agreement of the person
    at the unit takes the year of its own month."""
    return (
        claim_context(t, policy).filter(pl.col("claim_type") == DIFFERENCE)
        .with_columns(pl.coalesce("ag_end", "claim_month").dt.year().cast(pl.Int32).alias("year"))
    )


@shared(tables=("units", "retention_declarations"), params=tuple(name for name, _ in YEAR_PARAMS),
        detection=("retention.default_year_basis",), uses=(person_retention, claims_in_agreement, claim_rate_keys))
def unit_years(t: Tables, policy: Policy) -> pl.LazyFrame:
    """Per unit and year: completed, really retained, declared, rates, threshold, benchmark exemption
    and that unit-year's 差额 claims (all, and those the real rate does not support)."""
    people = person_retention(t, policy)
    counts = people.group_by("unit_id", "year").agg(
        pl.col("completed").sum().cast(pl.Int64).alias("completed"),
        (pl.col("completed") & pl.col("really_retained")).sum().cast(pl.Int64).alias("really_retained"),
        (pl.col("completed") & pl.col("declared_retained")).sum().cast(pl.Int64).alias("declared_retained"),
        pl.col("relabelled").sum().cast(pl.Int64).alias("relabelled"),
        (pl.col("relabelled") & pl.col("really_retained")).sum().cast(pl.Int64).alias("relabelled_retained"),
        (pl.col("completed") & pl.col("identity_unknown")).sum().cast(pl.Int64).alias("unverifiable"),
        (pl.col("relabelled") & pl.col("identity_unknown")).sum().cast(pl.Int64).alias("_relabelled_unverifiable"),
    )
    diffs = difference_claims(t, policy)
    diff_keys = diffs.select("unit_id", "year").unique()
    frame = counts.join(diff_keys, on=["unit_id", "year"], how="full", coalesce=True).with_columns(
        pl.col("completed", "really_retained", "declared_retained", "relabelled", "relabelled_retained", "unverifiable",
               "_relabelled_unverifiable").fill_null(0)
    )
    if t.retention_declarations is not None:
        decl = (
            t.retention_declarations.group_by("unit_id", pl.col("year").cast(pl.Int32))
            .agg(pl.col("completed_count").sum().alias("decl_completed"), pl.col("retained_count").sum().alias("decl_retained"))
        )
        frame = frame.join(decl, on=["unit_id", "year"], how="left")
    else:
        frame = frame.with_columns(pl.lit(None, pl.Int64).alias("decl_completed"), pl.lit(None, pl.Int64).alias("decl_retained"))
    frame = _with_lost_agreements(frame, t)
    # a unit listed more than once (re-admitted, amended): its latest row, as the claims read it
    units = latest_units(t).select("unit_id", "county_code", pl.col("is_benchmark").fill_null(False))
    benchmark_exported = t.exported("units", "is_benchmark")
    rate = lambda num, den: pl.when(pl.col(den) > 0).then(pl.col(num) / pl.col(den))  # noqa: E731
    frame = (
        frame.join(units, on="unit_id", how="left")
        .with_columns(province_of(pl.col("county_code")).alias("province_code"),
                      pl.date(pl.col("year"), 12, 31).alias("_year_end"))
        .pipe(attach_params, policy, on="_year_end", names=YEAR_PARAMS)
        .with_columns(
            rate("really_retained", "completed").alias("real_rate"),
            # the most the real rate can be: every person whose retention is unknown counted retained,
            # and every agreement the loader could not read a retained completion
            ((pl.col("really_retained") + pl.col("unverifiable") + pl.col("lost_agreements"))
             / (pl.col("completed") + pl.col("lost_agreements"))).alias("real_rate_at_most"),
            rate("declared_retained", "completed").alias("declared_rate_flags"),
            rate("decl_retained", "decl_completed").alias("declared_rate_declarations"),
            (pl.col("completed") + pl.col("relabelled")).alias("corrected_completed"),
            (pl.col("really_retained") + pl.col("relabelled_retained")).alias("corrected_retained"),
            (pl.col("retention_benchmark_qualifies").fill_null(False) & pl.col("is_benchmark")).alias("benchmark_exempt"),
            # a province whose 标杆 units may claim the 差额 whatever their retention, and a register
            # exported without 是否就业见习标杆单位: whether the unit is exempt is unknown
            (pl.col("retention_benchmark_qualifies").fill_null(False) & pl.lit(not benchmark_exported))
            .alias("benchmark_unknown"),
            pl.coalesce("retention_year_basis", pl.lit(policy.detect("retention.default_year_basis"))).alias("year_basis"),
            pl.when(pl.col("retention_year_basis").is_not_null()).then(pl.lit("法规"))
            .otherwise(pl.lit("审计判断（retention.default_year_basis）")).alias("year_basis_source"),
            pl.coalesce("retention_denominator", pl.lit(DENOMINATOR)).alias("denominator"),
        )
        .with_columns(((pl.col("year_basis") == YEAR_BASIS) & (pl.col("denominator") == DENOMINATOR))
                      .alias("definition_supported"))
        .with_columns(
            pl.max_horizontal("declared_rate_flags", "declared_rate_declarations").alias("declared_rate"),
            rate("corrected_retained", "corrected_completed").alias("corrected_rate"),
            ((pl.col("corrected_retained") + pl.col("unverifiable") + pl.col("_relabelled_unverifiable")
              + pl.col("lost_agreements"))
             / (pl.col("corrected_completed") + pl.col("lost_agreements"))).alias("corrected_rate_at_most"),
            (
                pl.col("benchmark_exempt")
                | (pl.col("real_rate").fill_null(0.0) >= pl.col("retention_raised_threshold"))
            ).alias("qualifies"),
        )
        # below the threshold as the registries show, but not if the people whose retention is
        # unknown were retained (checks._identity.UNRESOLVED_ID), or perhaps a 标杆 unit: not judged
        .with_columns((~pl.col("qualifies") & ((pl.col("real_rate_at_most") >= pl.col("retention_raised_threshold"))
                                               | pl.col("benchmark_unknown"))).fill_null(False).alias("undecided"))
        .with_columns(undecided_because(pl.col("benchmark_unknown"), pl.col("lost_agreements") > 0))
        .drop("_relabelled_unverifiable")
    )
    claim_lists = diffs.group_by("unit_id", "year").agg(claim_link().sort_by("claim_id").alias("difference_claims"))
    return frame.join(claim_lists, on=["unit_id", "year"], how="left").with_columns(
        pl.col("difference_claims").list.len().fill_null(0).alias("difference_count"),
        pl.when(~pl.col("qualifies") & ~pl.col("undecided")).then(pl.col("difference_claims")).alias("unsupported_claims"),
    )
