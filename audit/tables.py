"""The normalised tables a run audits, handed to every check as one object."""

from __future__ import annotations

import calendar as _calendar
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, fields, replace
from datetime import date
from typing import TYPE_CHECKING, Any

import polars as pl

if TYPE_CHECKING:
    from audit.policy import Policy

_VALUE_KEY = (bool, int, float, str, date, type(None))
_CONTEXT = ("audit_month", "si_as_of")


def month_end(month: date) -> date:
    return date(month.year, month.month, _calendar.monthrange(month.year, month.month)[1])


@dataclass
class Tables:
    """Lazy, normalised tables (see :mod:`audit.schema` for their columns) and the run's context.

    Required tables are always present; an optional table the input lacks is ``None`` (a check
    that needs it is skipped and the report says so). Reference tables are always present: the
    project's shipped ones, with the operator's ``min_wage``/``county_tiers``/``calendar`` rows
    from the input (audit/reference/__init__.py says how they combine).

    ``audit_month`` is the first day of the audited month M: the run audits everything recorded
    up to the end of M (RULES.md §8). ``si_as_of`` is the first day of the last month the
    social-insurance extract is complete for: insurance "stopping" after it is not evidence.

    Reference tables:

    - ``min_wage``: province_code, tier (int), effective_from (date), monthly_yuan (float),
      status (VERIFIED … UNVERIFIED, or OPERATOR), source. Rows with an amount are the usable
      ones; a shipped standard that is not usable (UNVERIFIED, unconfirmed) has a null
      monthly_yuan, so the standard before it stops at its date (those months are skipped).
    - ``county_tiers``: county_code, tier, effective_from, effective_to (exclusive, null = open),
      status (OPERATOR for the operator's rows, which win in their span), source.
    - ``calendar``: date, is_workday (statutory holidays off, make-up 调休 weekend days on),
      workday_seq (number of workdays from the calendar's first day up to and including date).
      It may have gaps (an operator's days of a year the package does not cover): a day missing
      is unknown, and a count over it is null (``audit.reference.attach_workdays``).
    - ``regions``: county_code, county_name, city_name, province_code, province_name.

    ``bans`` (optional, :data:`audit.schema.BANS`): units that exited and the legal
    representative behind each — supplied by an operator, or given by a workspace from the exits
    of earlier months (:mod:`audit.workspace`), so that a ban outlives an export that no longer
    carries the old unit.

    ``quarantine``: the input rows the loader could not read, one row each, placed by the cells
    that could be read (``audit.loader.QUARANTINED_ROWS_SCHEMA``: table, file, line, unit_id,
    person_id, county_code, day, paid_date, reasons) — the micro data a rule knows is missing
    (RULES.md §8, "Unreadable rows do not accuse"). ``None`` for a run made before it was kept.
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
    bans: pl.LazyFrame | None = None
    min_wage: pl.LazyFrame | None = None
    county_tiers: pl.LazyFrame | None = None
    calendar: pl.LazyFrame | None = None
    regions: pl.LazyFrame | None = None
    quarantine: pl.LazyFrame | None = None
    notes: dict[str, str] = field(default_factory=dict)
    #: per table, the contract's columns the input did not have (the loader fills them with
    #: nulls: blank everywhere, which says nothing — a rule or an indicator that needs one is not
    #: judged, :meth:`exported`)
    absent: dict[str, tuple[str, ...]] = field(default_factory=dict)
    #: optional tables whose file had no row that could be read: ``None`` here like a table not
    #: exported (:attr:`audit.schema.TableSpec.empty_is_unexported`); named so that a rule's skip
    #: says why
    empty: tuple[str, ...] = ()
    # sub-results several checks share, computed once per Tables (see :meth:`shared`); not an init
    # field, so ``dataclasses.replace`` with other frames starts with an empty store
    _shared: dict = field(default_factory=dict, init=False, repr=False, compare=False)
    _reads: dict | None = field(default=None, init=False, repr=False, compare=False)
    _frames_read: set | None = field(default=None, init=False, repr=False, compare=False)

    def __getattribute__(self, name: str) -> Any:
        value = object.__getattribute__(self, name)
        if name in _FRAMES:  # a table read while :meth:`reading_tables` records
            seen = object.__getattribute__(self, "_frames_read")
            if seen is not None:
                seen.add(name)
        return value

    @property
    def month_end(self) -> date:
        return month_end(self.audit_month)

    def has(self, name: str) -> bool:
        """Whether the input had the table ``name``, or the column ``table.column`` (a rule's
        :attr:`~audit.rules.Rule.needs`)."""
        table, _, column = name.partition(".")
        return self.exported(table, column) if column else getattr(self, name, None) is not None

    def missing(self, names: tuple[str, ...]) -> list[str]:
        return [n for n in names if not self.has(n)]

    def shared(self, result: Shared, policy: Policy) -> pl.LazyFrame:
        """The value of a declared sub-result (:class:`Shared`) for these tables and ``policy``,
        built on first use and held in memory for the rest of the run.

        Checks are collected one at a time to bound memory (:func:`audit.pipeline.run_checks`),
        so a lazy sub-plan they share would otherwise be recomputed by every check that reads it
        — the claims in context by eleven rate rules. The result is keyed by what its declaration
        says it reads (:meth:`Shared.key`): replacing a declared frame on the Tables, another
        policy where policy parameters are declared, another value of a declared detection
        parameter or another audit month builds anew.
        """
        # the frames its key names, or its build reads, are not what the caller's plan scans
        recording, self._frames_read = self._frames_read, None
        try:
            key, keep = result.key(self, policy)
            entry = self._shared.get(key)
            if entry is None:
                # ``keep`` holds the frames and policy named by identity in the key, so that an
                # identity is never reused by another object while its entry exists
                frame = result.build(self, policy).collect().rechunk()
                entry = (keep, frame.lazy(), frame.estimated_size(), result)
                self._shared[key] = entry
        finally:
            self._frames_read = recording
        if self._reads is not None:
            self._reads[key] = entry[2]
        return entry[1]

    @contextmanager
    def reading_shared(self) -> Iterator[dict[tuple, int]]:
        """Within the block, the sub-results read (their cache keys) with their size in bytes:
        what a check's plan holds of them once it is built."""
        outer, self._reads = self._reads, {}
        try:
            yield self._reads
        finally:
            self._reads = outer

    @contextmanager
    def reading_tables(self) -> Iterator[set[str]]:
        """Within the block, the names of the tables read (their frames asked for): what a
        check's plan scans, the frames of the shared sub-results it reads aside."""
        outer, self._frames_read = self._frames_read, set()
        try:
            yield self._frames_read
        finally:
            self._frames_read = outer

    def keep_shared(self, keys: set[tuple]) -> None:
        """Drop from the store every sub-result whose cache key is not in ``keys``."""
        for key in [k for k in self._shared if k not in keys]:
            del self._shared[key]

    def holding(self, policy: Policy, **frames: pl.LazyFrame) -> Tables:
        """A copy with ``frames`` in place of the tables of those names — the same rows, held
        another way (a table collected into memory instead of scanned) — that keeps the
        sub-results built so far under ``policy``: each is re-keyed on the copy, not rebuilt.
        The caller answers for the rows being the same."""
        other = replace(self, **frames)
        for key, entry in self._shared.items():
            result = entry[3]
            if result.key(self, policy)[0] == key:  # built under this policy
                new_key, keep = result.key(other, policy)
                other._shared[new_key] = (keep, *entry[1:])
        return other

    def release_shared(self) -> None:
        """Drop every sub-result built so far from the store. A plan already built that reads one
        still holds it; it is freed with the last such plan (:func:`audit.app.pipeline.run_checks`)."""
        self._shared.clear()

    def shared_names(self) -> list[str]:
        """The sub-results computed so far (for the run's timings and tests)."""
        return sorted({key[0] for key in self._shared})

    def exported(self, table: str, *columns: str) -> bool:
        """Whether the input of ``table`` had every one of ``columns`` (a table it lacks has none)."""
        gone = self.absent.get(table, ())
        return object.__getattribute__(self, table) is not None and not any(c in gone for c in columns)

    @classmethod
    def table_names(cls) -> list[str]:
        return [f.name for f in fields(cls) if f.name not in _NOT_TABLES]


_NOT_TABLES = ("audit_month", "si_as_of", "notes", "absent", "empty", "_shared", "_reads", "_frames_read")
#: the names of the frames a Tables holds (what :meth:`Tables.reading_tables` records)
_FRAMES = frozenset(Tables.table_names())


def _value_key(value: Any) -> Any:
    """A detection value as part of a cache key: by value (a list as a tuple)."""
    if isinstance(value, (list, tuple)):
        return tuple(_value_key(v) for v in value)
    if isinstance(value, _VALUE_KEY):
        return value
    raise TypeError(f"detection value {value!r} cannot key a shared sub-result")


@dataclass(frozen=True, eq=False)
class Shared:
    """A sub-result several checks read, declared with everything it reads.

    Made by :func:`shared` from its builder; called like the builder, ``result(t, policy)``, it
    returns the result for those tables and policy, built once (:meth:`Tables.shared`). The
    cache key comes from this declaration only (:meth:`key`), so a builder must read nothing it
    does not declare — ``tests/test_tables.py`` runs every registered builder on tables whose
    undeclared frames raise when touched.

    ``tables``: the Tables frames it reads (by identity: replacing one builds anew; an optional
    table that is absent counts as ``None``). ``params``: the policy parameters it looks up (any
    declared: keyed by the policy object itself, since they are dated per province).
    ``detection``: the detection parameters it reads (by value). ``context``: ``audit_month``
    and/or ``si_as_of`` where it depends on them (by value). ``uses``: the shared sub-results it
    reads; their keys are part of its key.
    """

    name: str
    build: Callable[[Tables, Policy], pl.LazyFrame] = field(repr=False)
    tables: tuple[str, ...] = ()
    params: tuple[str, ...] = ()
    detection: tuple[str, ...] = ()
    context: tuple[str, ...] = ()
    uses: tuple[Shared, ...] = ()

    def __post_init__(self) -> None:
        known = set(Tables.table_names())
        unknown = [n for n in self.tables if n not in known] + [c for c in self.context if c not in _CONTEXT]
        if unknown:
            raise ValueError(f"shared sub-result {self.name}: unknown table or context {', '.join(unknown)}")

    def __call__(self, t: Tables, policy: Policy) -> pl.LazyFrame:
        return t.shared(self, policy)

    @property
    def doc(self) -> str:
        """What the result is: its builder's docstring."""
        return (self.build.__doc__ or "").strip()

    def key(self, t: Tables, policy: Policy) -> tuple[tuple, list[object]]:
        """The cache key of this result on ``t`` under ``policy``, and the objects it names by
        identity (to be kept alive with the entry)."""
        keep: list[object] = []
        parts: list[object] = [self.name]
        for name in self.tables:
            frame = getattr(t, name)
            keep.append(frame)
            parts.append(None if frame is None else id(frame))
        if self.params:
            keep.append(policy)
            parts.append(id(policy))
        parts.extend(_value_key(policy.detect(name)) for name in self.detection)
        parts.extend(getattr(t, name) for name in self.context)
        for used in self.uses:
            used_key, used_keep = used.key(t, policy)
            parts.append(used_key)
            keep.extend(used_keep)
        return tuple(parts), keep

    def reads(self) -> tuple[set[str], set[str], set[str], set[str]]:
        """Everything this result may read, its own declaration and those of the results it
        uses: (tables, params, detection, context)."""
        tables, params, detection, context = set(self.tables), set(self.params), set(self.detection), set(self.context)
        for used in self.uses:
            more = used.reads()
            tables |= more[0]
            params |= more[1]
            detection |= more[2]
            context |= more[3]
        return tables, params, detection, context


def shared(
    *,
    tables: tuple[str, ...] = (),
    params: tuple[str, ...] = (),
    detection: tuple[str, ...] = (),
    context: tuple[str, ...] = (),
    uses: tuple[Shared, ...] = (),
) -> Callable[[Callable[[Tables, Policy], pl.LazyFrame]], Shared]:
    """Declare a builder ``(t, policy) -> LazyFrame`` as a shared sub-result named after it:

        @shared(tables=("agreements", "units"), context=("audit_month",))
        def unit_internships(t: Tables, policy: Policy) -> pl.LazyFrame: ...

    See :class:`Shared` for what each argument declares.
    """

    def wrap(build: Callable[[Tables, Policy], pl.LazyFrame]) -> Shared:
        return Shared(name=build.__name__, build=build, tables=tuple(tables), params=tuple(params),
                      detection=tuple(detection), context=tuple(context), uses=tuple(uses))

    return wrap
