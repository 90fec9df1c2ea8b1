"""The normalised tables a run audits, handed to every check as one object."""

from __future__ import annotations

import calendar as _calendar
from dataclasses import dataclass, field, fields
from datetime import date
from typing import Callable

import polars as pl

_VALUE_KEY = (bool, int, float, str, date, type(None))


def month_end(month: date) -> date:
    return date(month.year, month.month, _calendar.monthrange(month.year, month.month)[1])


@dataclass
class Tables:
    """Lazy, normalised tables (see :mod:`audit.schema` for their columns) and the run's context.

    Required tables are always present; an optional table the input lacks is ``None`` (a check
    that needs it is skipped and the report says so). Reference tables are always present: the
    project's shipped ones, or the operator's ``min_wage``/``county_tiers`` from the input.

    ``audit_month`` is the first day of the audited month M: the run audits everything recorded
    up to the end of M (RULES.md §8). ``si_as_of`` is the first day of the last month the
    social-insurance extract is complete for: insurance "stopping" after it is not evidence.

    Reference tables:

    - ``min_wage``: province_code, tier (int), effective_from (date), monthly_yuan (float),
      status (VERIFIED … UNVERIFIED, or OPERATOR), source. Rows with an amount are the usable
      ones; a shipped standard that is not usable (UNVERIFIED, unconfirmed) has a null
      monthly_yuan, so the standard before it stops at its date (those months are skipped).
    - ``county_tiers``: county_code, tier, effective_from, effective_to (exclusive, null = open),
      status, source.
    - ``calendar``: date, is_workday (statutory holidays off, make-up 调休 weekend days on),
      workday_seq (number of workdays from the calendar's first day up to and including date).
    - ``regions``: county_code, county_name, city_name, province_code, province_name.
    """

    units: pl.LazyFrame
    trainees: pl.LazyFrame
    agreements: pl.LazyFrame
    claims: pl.LazyFrame
    social_insurance: pl.LazyFrame
    audit_month: date
    si_as_of: date
    positions: pl.LazyFrame | None = None
    employment: pl.LazyFrame | None = None
    market_registry: pl.LazyFrame | None = None
    retention_declarations: pl.LazyFrame | None = None
    county_reports: pl.LazyFrame | None = None
    deaths: pl.LazyFrame | None = None
    allowance_payments: pl.LazyFrame | None = None
    min_wage: pl.LazyFrame | None = None
    county_tiers: pl.LazyFrame | None = None
    calendar: pl.LazyFrame | None = None
    regions: pl.LazyFrame | None = None
    notes: dict[str, str] = field(default_factory=dict)
    # sub-results several checks share, computed once per Tables (see :meth:`shared`); not an init
    # field, so ``dataclasses.replace`` with other frames starts with an empty store
    _shared: dict = field(default_factory=dict, init=False, repr=False, compare=False)

    @property
    def month_end(self) -> date:
        return month_end(self.audit_month)

    def has(self, name: str) -> bool:
        return getattr(self, name, None) is not None

    def missing(self, names: tuple[str, ...]) -> list[str]:
        return [n for n in names if not self.has(n)]

    def shared(self, name: str, build: Callable[[], pl.LazyFrame], *depends: object) -> pl.LazyFrame:
        """A sub-result several checks read (the claims in context, the internships, the identity
        links, retention per person), computed once and held in memory for the rest of the run.

        Checks are collected one at a time to bound memory (:func:`audit.pipeline.run_checks`),
        so a lazy sub-plan they share would otherwise be recomputed by every check that reads it
        — the claims in context by eleven rate rules. ``depends`` are what the result is built
        from: the frames it reads and the policy (by identity; the store keeps them alive, so an
        identity is never reused while its entry exists), and plain values such as the audit
        month (by value). Replacing a frame on the Tables, or handing another policy, builds anew.
        """
        key = (name, *(d if isinstance(d, _VALUE_KEY) else id(d) for d in depends))
        entry = self._shared.get(key)
        if entry is None:
            entry = (depends, build().collect().rechunk().lazy())
            self._shared[key] = entry
        return entry[1]

    def shared_names(self) -> list[str]:
        """The sub-results computed so far (for the run's timings and tests)."""
        return sorted({key[0] for key in self._shared})

    @classmethod
    def table_names(cls) -> list[str]:
        return [f.name for f in fields(cls) if f.name not in ("audit_month", "si_as_of", "notes", "_shared")]
