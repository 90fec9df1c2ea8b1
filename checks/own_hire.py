"""The unit's own hire, still claimed as an internship (issue #16, typology 2).

The unit signs a labour contract with its trainee and insures them as its employee from month k;
the agreement is left open and the monthly claims go on. The internship ended with the hire
(提前留用): a month in which the trainee is the unit's contracted and insured employee is no
internship month. Where the province's remaining-period window was open on the day of the hire,
the unit could have claimed the remaining months as 剩余期限 — the only form the subsidy takes
after an early hire (RULES.md §4), with its own conditions; monthly claims are not it. The whole
claim is at risk.

Contracts, insurance and claims are matched under every ID of the natural person
(:mod:`checks._identity`).
"""

from __future__ import annotations

import polars as pl

from audit.policy import Policy
from audit.rules import Check, Severity, rule
from audit.schema import province_of
from audit.tables import Tables
from checks._citations import SUBSIDY, cited
from checks._claims import claim_money, claim_rows
from checks._identity import identity_links, rows_of_persons, with_person_key
from checks._internships import INTERNSHIP_KEYS as KEYS
from checks._internships import unit_internships
from checks._joins import hjoin
from checks._registries import employer_insurance, labour_contracts

MONTHLY = "月度"


def own_hires(t: Tables, policy: Policy) -> pl.LazyFrame:
    """Per internship (its keys, ``person_key``, ``claims_end``), the first labour contract with
    the internship unit that starts on or after the internship's first day and by its end as
    seen at the audit month: contract_start, contract_end, terminated_date, contract_until (the
    day it stopped binding), _file, _line."""
    links = identity_links(t, policy)
    spans = with_person_key(unit_internships(t, policy).select(*KEYS, "internship_end", "claims_end", "county_code"), links)
    contracts = with_person_key(labour_contracts(t).rename({"employer_id": "unit_id"}), links).drop("person_id")
    during = (pl.col("contract_start") >= pl.col("internship_start")) & (pl.col("contract_start") <= pl.col("internship_end"))
    return (
        hjoin(spans, contracts, ["person_key", "unit_id"], narrow=lambda rows: rows.filter(during))
        .group_by(KEYS)
        .agg(pl.all().sort_by("contract_start", "_line").first())
    )


@rule(
    id="RATE_MISAPPLIED.claimed_after_own_hire",
    title="单位已与见习人员签订劳动合同并以职工参保，仍按见习申领月度补贴",
    severity=Severity.HIGH,
    citations=SUBSIDY,
    params=("remaining_period.window_start", "remaining_period.window_end"),
    needs=("employment", "claims.claim_type"),
    exit_condition=3,  # the unit's own hire, claimed as its trainee: money it knew was not due
)
def claimed_after_own_hire(t: Tables, policy: Policy) -> pl.LazyFrame:
    """A monthly (月度) claim of an internship for a month that begins on or after the day the unit
    signed a labour contract with the trainee (a contract starting during the internship, still
    binding that month) and in which the unit insured the trainee as its employee (employer-paid,
    not 补充工伤 trainee cover; months after si_as_of are not judged) pays for a month in which the
    trainee was the unit's employee, not its trainee. The hire ended the internship; where the
    remaining-period window was open on the day of the hire (remaining_period.window_start/end of
    the province), a 剩余期限 claim was the only form — the evidence says whether it was. The
    month the contract was signed mid-month stays an internship month. Period: the claim month.
    Money at risk: the whole claim."""
    hires = own_hires(t, policy).cache()  # read for the claims, the insurance and the findings
    persons = hires.select("person_key")
    claims = (
        rows_of_persons(claim_rows(t, "agreement_id", "submitted_date", "paid_date"), persons, identity_links(t, policy))
        .filter(pl.col("claim_type") == MONTHLY)
        .join(hires.select("person_key", "unit_id", "internship_start", "claims_end", "contract_start", "contract_until"),
              on=["person_key", "unit_id"])
        .filter(
            (pl.col("claim_month") >= pl.col("contract_start")) & (pl.col("claim_month") <= pl.col("contract_until"))
            & (pl.col("claim_month") >= pl.col("internship_start").dt.month_start())
            & (pl.col("claim_month") <= pl.col("claims_end"))
        )
    )
    insured = (
        employer_insurance(rows_of_persons(t.social_insurance, persons, identity_links(t, policy)).drop("person_id")
                           .rename({"person_key": "person_id"}), t.si_as_of)
        .select(pl.col("person_id").alias("person_key"), "unit_id", pl.col("month").alias("claim_month"))
    )
    window = (
        hires.select("county_code", "contract_start").unique()
        .with_columns(province_of(pl.col("county_code")).alias("province_code"))
    )
    for name in ("remaining_period.window_start", "remaining_period.window_end"):
        window = policy.attach(window, name, on="contract_start")
    open_window = (
        pl.col("remaining_period_window_end").is_not_null()
        & (pl.col("contract_start") <= pl.col("remaining_period_window_end"))
        & (pl.col("remaining_period_window_start").is_null()
           | (pl.col("contract_start") >= pl.col("remaining_period_window_start")))
    )
    hire_facts = hires.join(window.drop("province_code"), on=["county_code", "contract_start"], how="left").select(
        "person_key", "unit_id", "internship_start", "county_code",
        pl.struct(
            "internship_start", "internship_end", "contract_start", "contract_end", "terminated_date", "_file", "_line",
        ).alias("contract"),
        open_window.fill_null(False).alias("remaining_period_window_open"),
        "remaining_period_window_end",
    )
    found = (
        claims.join(insured, on=["person_key", "unit_id", "claim_month"], how="semi")
        .join(hire_facts, on=["person_key", "unit_id", "internship_start"])
    )
    return cited(found.select(
        "claim_id", "person_id", "unit_id", "county_code",
        pl.col("claim_month").alias("period_start"),
        pl.col("claim_month").dt.month_end().alias("period_end"),
        claim_money().alias("amount_at_risk"),
        pl.struct(
            "claim_type", "claim_month", pl.col("amount").alias("claimed"), "insurance_amount", "agreement_id",
            "submitted_date", "paid_date", "contract", pl.lit(True).alias("insured_by_unit_in_month"),
            "remaining_period_window_open", "remaining_period_window_end",
        ).alias("evidence"),
    ), policy, SUBSIDY)


CHECKS: tuple[Check, ...] = (claimed_after_own_hire,)
