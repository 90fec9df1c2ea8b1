"""One internship: agreements of one person at one unit chained without a gap (RULES.md §8).

RULES.md §8: "agreements of one person at one unit that follow each other without a gap (the
next starts by the first day of the month after the previous ended) and total at most 12 months
are one internship, extended; any other second agreement is a second internship."
:func:`chain_agreements` is the one place that decides which agreements are one internship. An
agreement ends on its actual end, else its planned end (:func:`agreement_end`); one still
running at the end of the audit month ends there where a rule asks what happened by then
(:func:`end_seen_at`).

Three families read internships, and differ on purpose in two ways, both parameters here:

- the person: ONE_INTERNSHIP chains the agreements of the natural person
  (:mod:`checks._identity`, ``person="person_key"``); GHOST_TRAINEE and the retention rules the
  ID as recorded, the one their findings name — and read the insurance, contracts, deaths and
  claims they compare under every ID of that person (:func:`checks._identity.with_aliases`);
- the cap: ONE_INTERNSHIP cuts a chain longer than ``one_internship.extension_max_months`` into
  internships (the part beyond the cap is a second internship, its finding); for GHOST_TRAINEE
  (:func:`unit_internships`) and the retention rules (:func:`checks._retention.ended_internships`)
  a chain over the cap is still one unbroken stay at the unit — the trainee's employment during
  it, and whether the unit kept the trainee after it, are questions about the whole stay.
"""

from __future__ import annotations

import datetime as dt

import polars as pl

from audit.policy import Policy
from audit.schema import province_of
from audit.tables import Tables, shared
from checks._identity import with_aliases
from checks._runs import new_run
from checks._units import unit_counties

# An internship's keys in the GHOST_TRAINEE findings: person, unit, and its first day.
INTERNSHIP_KEYS = ["person_id", "unit_id", "internship_start"]

_SPLIT_PASSES = 4  # an unbroken chain longer than 4 × the extension cap is absurd; leftovers split singly
_GROUP_STRIDE = 10_000_000  # > any date as days since 1970 plus the offset below
_DAY_OFFSET = 1_000_000  # keeps dates before 1970 positive


def agreement_end() -> pl.Expr:
    """An agreement's end: actual_end_date, else planned_end_date."""
    return pl.coalesce("actual_end_date", "planned_end_date")


def claims_end() -> pl.Expr:
    """The last day a claim of the agreement may pay for: the later of its planned and actual
    ends, so that the 剩余期限 months after an early hire belong to it."""
    return pl.max_horizontal("planned_end_date", "actual_end_date")


def end_seen_at(month_end: dt.date) -> pl.Expr:
    """The agreement's end as seen at the end of the audit month: one started by then and still
    running past it ends at the month end (docs/semantics.md, "Internships"); one that starts
    later keeps its own end."""
    end = agreement_end()
    return pl.when(pl.col("start_date") <= month_end).then(pl.min_horizontal(end, pl.lit(month_end))).otherwise(end)


def chain_agreements(agreements: pl.LazyFrame, *, person: str = "person_id", cap_months: int | None = None) -> pl.LazyFrame:
    """Which agreements are one internship.

    ``agreements``: one row per agreement with ``person``, unit_id, agreement_id, start_date and
    end (:func:`agreement_end`), and any other columns. The agreements of one person at one
    unit, in order of start (then end, then agreement_id), chain while each starts on or before
    the first day of the month after the latest end so far. With ``cap_months`` a chain is then
    cut into internships that each span at most the cap — the greedy prefix whose last end is
    on or before its first start + the cap (a duration: a 12-month term starting mid-month and
    split in two stays one), then the same on what is left; an agreement longer than the cap
    alone is one internship. Without it a chain is one internship whatever its length.

    Returns the rows with ``internship`` (Int64: equal on the agreements of one internship,
    different otherwise), ``internship_start`` and ``internship_end`` (its first start and
    latest end), ``alone`` (the only agreement of its person at its unit, and so an internship
    by itself) and ``ends_internship`` (the agreement with the internship's latest end; of two,
    the later in the order above).
    """
    # Nearly every agreement is its person's only one at its unit: only the others are sorted
    # and chained (bench/NOTES.md, "Internship chains")
    rows = agreements.with_columns(pl.struct(person, "unit_id").is_duplicated().not_().alias("alone")).cache()
    alone = rows.filter(pl.col("alone")).with_row_index("internship").with_columns(
        -(pl.col("internship").cast(pl.Int64) + 1),  # negative: apart from the chained ones below
        pl.col("start_date").alias("internship_start"),
        pl.col("end").alias("internship_end"),
        pl.lit(True).alias("ends_internship"),
    )
    several = rows.filter(~pl.col("alone")).sort(person, "unit_id", "start_date", "end", "agreement_id")
    # A window over a million small (person, unit) groups is slow; on rows sorted by group the
    # latest end so far is a global running maximum, a group number in the high digits keeping
    # it from crossing into the next group.
    group_no = new_run(person, "unit_id").cast(pl.Int64).cum_sum()
    stride = pl.col("_g") * _GROUP_STRIDE
    latest_end = (stride + pl.col("end").cast(pl.Int64) + _DAY_OFFSET).cum_max() - stride - _DAY_OFFSET
    gap = new_run("_g") | (pl.col("start_date") > pl.col("_prev_end").dt.month_start().dt.offset_by("1mo"))
    several = (
        several.with_columns(group_no.alias("_g"))
        .with_columns(latest_end.cast(pl.Int32).cast(pl.Date).shift(1).alias("_prev_end"))
        .with_columns(gap.cast(pl.Int64).cum_sum().alias("internship"))
    )
    if cap_months is not None:
        several = _split_at_cap(several, f"{int(cap_months)}mo")
    row = pl.int_range(pl.len(), dtype=pl.Int64)
    is_last = pl.col("end") == pl.col("end").max()
    several = (
        several.drop("_g", "_prev_end")
        .with_columns(row.alias("_row"))
        .with_columns(
            pl.col("start_date").min().over("internship").alias("internship_start"),
            pl.col("end").max().over("internship").alias("internship_end"),
            (pl.col("_row") == pl.col("_row").filter(is_last).max().over("internship")).alias("ends_internship"),
        )
        .drop("_row")
    )
    return pl.concat([alone, several], how="diagonal")


def _split_at_cap(chained: pl.LazyFrame, cap: str) -> pl.LazyFrame:
    """Cut each chain (``internship``) into internships spanning at most ``cap`` (see
    :func:`chain_agreements`): a fixed number of vectorised passes, not a loop over rows."""
    chained = chained.with_columns(pl.lit(None, pl.Int64).alias("_seg"))
    for k in range(_SPLIT_PASSES):
        open_start = pl.when(pl.col("_seg").is_null()).then(pl.col("start_date")).min().over("internship")
        chained = chained.with_columns(
            # the first open agreement always opens an internship, even one longer than the cap alone
            pl.when(pl.col("_seg").is_null()
                    & ((pl.col("end") <= open_start.dt.offset_by(cap)) | (pl.col("start_date") == open_start)))
            .then(pl.lit(k, pl.Int64)).otherwise(pl.col("_seg")).alias("_seg")
        )
    row = pl.int_range(pl.len(), dtype=pl.Int64)
    # leftovers after the passes: one internship each; (chain, part) numbered as one integer
    part = pl.coalesce("_seg", _SPLIT_PASSES + row)
    return chained.with_columns((pl.col("internship") * (pl.len().cast(pl.Int64) + _SPLIT_PASSES) + part).alias("internship")).drop(
        "_seg")


@shared(tables=("agreements", "units"), context=("audit_month",))
def unit_internships(t: Tables, policy: Policy) -> pl.LazyFrame:
    """The internships GHOST_TRAINEE judges: each person's (as recorded) agreements at one unit
    that started by the end of the audit month (and do not end before they start), chained
    without a gap whatever the length
    (:func:`chain_agreements`). One row per internship: person_id, unit_id, internship_start,
    internship_end (capped at the end of the audit month), claims_end (the last day any of its
    claims may pay for, :func:`claims_end`), agreements (the agreement rows, their ends as seen
    at the month end), county_code and province_code of the unit."""
    month_end = t.month_end
    # an agreement that ends (as planned, or actually) before it starts — a year keyed wrong — has no
    # span: no internship is read from it (the data contract's order check reports the row)
    spans = (pl.col("planned_end_date") >= pl.col("start_date")).fill_null(True) & (
        pl.col("actual_end_date") >= pl.col("start_date")).fill_null(True)
    agreements = t.agreements.filter((pl.col("start_date") <= month_end) & spans).select(
        "person_id", "unit_id", "agreement_id", "start_date", agreement_end().alias("end"),
        end_seen_at(month_end).alias("end_date"), claims_end().alias("_claims_end"), "_file", "_line",
    )
    chained = chain_agreements(agreements).cache()  # alone and chained rows: chained once
    agreement_row = pl.struct("agreement_id", "start_date", "end_date", "_file", "_line")
    alone = chained.filter(pl.col("alone")).select(
        "person_id",
        "unit_id",
        "internship_start",
        pl.col("end_date").alias("internship_end"),
        pl.col("_claims_end").alias("claims_end"),
        pl.concat_list(agreement_row).alias("agreements"),
    )
    several = chained.filter(~pl.col("alone")).group_by("internship").agg(
        pl.col("person_id").first(),
        pl.col("unit_id").first(),
        pl.col("internship_start").first(),
        pl.col("end_date").max().alias("internship_end"),
        pl.col("_claims_end").max().alias("claims_end"),
        agreement_row.sort_by("start_date", "agreement_id").alias("agreements"),
    ).drop("internship")
    return (
        pl.concat([alone, several])
        .join(unit_counties(t), on="unit_id", how="left")
        .with_columns(province_of(pl.col("county_code")).alias("province_code"))
    )


def agreement_rows_lost(rows: pl.LazyFrame, key: list[str], t: Tables, policy: Policy, *,
                        before: str | None = None) -> pl.LazyFrame:
    """``key`` and ``_agreement_lost`` (true) of each of ``rows`` (with ``person_id`` and
    ``unit_id``) whose person — under any of their IDs — has an agreement row at the unit, or of
    no readable unit, that the loader could not read (``Tables.quarantine``: unreadable, ending
    before it starts, one of several versions that disagree); with ``before`` (a date column of
    ``rows``), only such a row dated before it or at no time. That row may be the agreement the
    row is judged against: unreadable rows do not accuse (RULES.md §8). Few rows: the quarantine
    is small."""
    if t.quarantine is None:
        return rows.select(key).head(0).with_columns(pl.lit(True).alias("_agreement_lost"))
    lost = t.quarantine.filter((pl.col("table") == "agreements") & pl.col("person_id").is_not_null()).select(
        pl.col("person_id").alias("_pid"), pl.col("unit_id").alias("_lost_unit"), pl.col("day").alias("_lost_day"))
    matches = pl.col("_lost_unit").is_null() | (pl.col("_lost_unit") == pl.col("unit_id"))
    if before is not None:
        matches = matches & (pl.col("_lost_day").is_null() | (pl.col("_lost_day") < pl.col(before)))
    columns = list(dict.fromkeys([*key, "person_id", "unit_id", *([before] if before else [])]))
    return (with_aliases(rows.select(columns), t, policy, alias="_pid").join(lost, on="_pid").filter(matches)
            .select(key).unique().with_columns(pl.lit(True).alias("_agreement_lost")))
