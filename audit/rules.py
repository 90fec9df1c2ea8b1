"""What a rule is: its metadata, and the check function that applies it.

A check is a small pure function ``(Tables, Policy) -> pl.LazyFrame | CheckResult``. The rule's
metadata (id, Chinese title, severity, citation, the parameters it reads, the tables it needs)
sits beside it, attached by the :func:`rule` decorator. Checks are registered in one explicit
tuple, ``checks.CHECKS``.

What a check returns — the *raw findings* frame — has any of these columns (missing ones are
filled with nulls by :func:`audit.findings.finalise`):

``person_id, unit_id, claim_id, county_code`` (str), ``period_start, period_end`` (date),
``amount_at_risk`` (float, yuan; 0 where none), ``evidence`` (a struct: the facts that made the
rule fire — rows, dates, computed values, parameters used; JSON-encoded on the way out).

A check that must leave some keys unjudged (a province whose rate is unset, a month with no
usable minimum wage) returns ``CheckResult(findings, skipped)`` where ``skipped`` has columns
``person_id, unit_id, claim_id`` (any present; str), ``reason`` (str, Chinese or English,
one plain sentence) and, optionally, ``gap`` (what was missing, in a few words:
``audit.findings.GAP_*``). The pipeline writes these to ``skipped.parquet``; the run's coverage
(:mod:`audit.coverage`) and the report count them per province, rule and gap.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field, fields
from enum import Enum
from typing import TYPE_CHECKING

import polars as pl

if TYPE_CHECKING:
    from audit.policy import Policy
    from audit.tables import Tables


class Severity(str, Enum):
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"


class Family(str, Enum):
    ONE_INTERNSHIP = "ONE_INTERNSHIP"
    DUPLICATE_TRAINEE = "DUPLICATE_TRAINEE"
    GHOST_TRAINEE = "GHOST_TRAINEE"
    RATE_MISAPPLIED = "RATE_MISAPPLIED"
    RETENTION_INFLATED = "RETENTION_INFLATED"
    DORMANT_UNIT = "DORMANT_UNIT"
    UNIT_INELIGIBLE = "UNIT_INELIGIBLE"
    REPORT_INCONSISTENT = "REPORT_INCONSISTENT"
    DATA_QUALITY = "DATA_QUALITY"


FAMILY_ZH: dict[Family, str] = {
    Family.ONE_INTERNSHIP: "重复参加见习",
    Family.DUPLICATE_TRAINEE: "重复身份/重复申领",
    Family.GHOST_TRAINEE: "虚假见习人员",
    Family.RATE_MISAPPLIED: "补贴标准错用",
    Family.RETENTION_INFLATED: "留用率虚高",
    Family.DORMANT_UNIT: "长期未开展见习",
    Family.UNIT_INELIGIBLE: "见习单位不符合条件",
    Family.REPORT_INCONSISTENT: "统计报表不一致",
    Family.DATA_QUALITY: "数据质量",
}

# Families whose findings always name a person, a unit, or a claim (contract.md).
PERSON_FAMILIES = frozenset({Family.ONE_INTERNSHIP, Family.DUPLICATE_TRAINEE, Family.GHOST_TRAINEE})
UNIT_FAMILIES = frozenset({Family.RETENTION_INFLATED, Family.DORMANT_UNIT, Family.UNIT_INELIGIBLE})
CLAIM_FAMILIES = frozenset({Family.RATE_MISAPPLIED})

# The key columns of a finding (contract.md, "Output of a run"); by default its ``finding_id`` is a
# hash of the rule id and all of them.
KEY_COLUMNS = ("person_id", "unit_id", "claim_id", "county_code", "period_start", "period_end")
# The keys of an ongoing finding — an internship, a unit's standing, a run of months — whose
# period_end is the end of the audit month or the last month claimed so far: the same facts
# next month end later, so the end cannot be part of what the finding is about.
ONGOING = tuple(k for k in KEY_COLUMNS if k != "period_end")


@dataclass(frozen=True)
class Rule:
    """A rule's identity and provenance.

    ``params`` are policy parameters (law, cited) it reads; ``detection_params`` are the audit
    office's own thresholds it reads; ``needs`` are the input tables (``employment``) and optional
    columns (``claims.claim_type``) without which it cannot run: a table or column the input
    lacks makes the rule skip, and the report says so.

    ``citation`` is the rule's basis as one line; ``citations``, where a rule rests on clauses
    that differ by province or date, lists every clause a finding may cite: its check then gives
    each finding the clause in force for the unit's province on the finding's date (a
    ``citation`` column, :meth:`audit.policy.Policy.cite`; RULES.md §8), and ``citation``
    defaults to the list joined. A rule without ``citations`` has one clause valid everywhere.

    ``exit_condition`` (1–4), where set, says which exit/摘牌 condition of 赣人社发〔2023〕9号
    四(一)2(5) a finding of this rule supports where the unit's province has those conditions
    (``unit.exit_conditions``); elsewhere a finding of such a rule supports an exit proposal as
    the audit office's judgement, with no condition number and no ban (RULES.md §8, "Exits
    outside Jiangxi"). Condition ③ is set only on rules whose findings show the unit itself took
    money it knew was not due.

    ``identity`` names the key columns (:data:`KEY_COLUMNS`) that say what a finding is about:
    its ``finding_id`` hashes the rule id and them, so the same facts next month keep the id
    (None: all key columns — a claim, a county-month, a unit-year). ``facts`` names the evidence
    fields a decision on the finding rests on (``a`` a field, ``a.b`` field b of a or of each
    element of a; file and line positions are left out): a 不属实 decision stands until they
    change — another employer's insurance, another agreement — never for one more monthly claim
    of the same internship, since claims and amounts accrue (empty: the identity alone).
    """

    id: str
    title: str
    severity: Severity
    citation: str = ""
    params: tuple[str, ...] = ()
    detection_params: tuple[str, ...] = ()
    needs: tuple[str, ...] = ()
    exit_condition: int | None = None
    signal_only: bool = False  # an investigative signal, not a finding of a violation
    citations: tuple[str, ...] = ()  # the clauses a finding may cite, by province and date
    identity: tuple[str, ...] | None = None
    facts: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not self.citation and self.citations:
            object.__setattr__(self, "citation", "; ".join(self.citations))
        if not self.citation:
            raise ValueError(f"rule {self.id}: no citation")
        unknown = [k for k in self.identity or () if k not in KEY_COLUMNS]
        if unknown:
            raise ValueError(f"rule {self.id}: identity names {', '.join(unknown)}, not key columns {KEY_COLUMNS}")

    @property
    def family(self) -> Family:
        return Family(self.id.split(".", 1)[0])

    @property
    def cites_per_finding(self) -> bool:
        """Whether each finding carries its own citation (several clauses, by province and date)."""
        return bool(self.citations)

    def info(self) -> RuleInfo:
        """The rule's metadata as a run records it (``rules.json``)."""
        return RuleInfo(self.id, self.title, self.severity.value, self.citation, self.family.value, self.params,
                        self.detection_params, self.needs, self.exit_condition, self.signal_only,
                        self.citations or (self.citation,), self.identity, self.facts)


@dataclass(frozen=True)
class RuleInfo:
    """A rule's metadata without its check: what a run records of every registered rule
    (``rules.json``, :mod:`audit.rundir`), so that the stages after the run — reports, exit lists,
    cases, the graph viewer — read the rules as they were when the run was made, not as the code
    reads them today. Plain values only (severity and family as their string values)."""

    id: str
    title: str
    severity: str
    citation: str
    family: str
    params: tuple[str, ...] = ()
    detection_params: tuple[str, ...] = ()
    needs: tuple[str, ...] = ()
    exit_condition: int | None = None
    signal_only: bool = False
    #: every clause a finding of the rule may cite (the finding's own ``citation`` is one of them);
    #: a run made before this field existed reads as its one ``citation``
    citations: tuple[str, ...] = ()
    identity: tuple[str, ...] | None = None  # None: all of KEY_COLUMNS (a run made before it was recorded)
    facts: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not self.citations and self.citation:
            object.__setattr__(self, "citations", (self.citation,))

    @property
    def identity_columns(self) -> tuple[str, ...]:
        return KEY_COLUMNS if self.identity is None else self.identity

    def to_dict(self) -> dict[str, object]:
        out = asdict(self)
        for key in ("params", "detection_params", "needs", "citations", "facts"):
            out[key] = list(out[key])
        if out["identity"] is not None:
            out["identity"] = list(out["identity"])
        return out

    @classmethod
    def from_dict(cls, data: dict[str, object]) -> RuleInfo:
        """Refuses a record with unknown or missing keys (a rules.json this code cannot read)."""
        names = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - names)
        if unknown:
            raise ValueError(f"rule {data.get('id')!r}: unknown keys {', '.join(unknown)}")
        values = dict(data)
        for key in ("params", "detection_params", "needs", "citations", "facts"):
            values[key] = tuple(values.get(key) or ())  # type: ignore[arg-type]
        if values.get("identity") is not None:
            values["identity"] = tuple(values["identity"])  # type: ignore[arg-type]
        return cls(**values)  # type: ignore[arg-type]


@dataclass(frozen=True)
class CheckResult:
    findings: pl.LazyFrame
    skipped: pl.LazyFrame | None = None


CheckFn = Callable[["Tables", "Policy"], pl.LazyFrame | CheckResult]


@dataclass(frozen=True)
class Check:
    rule: Rule
    fn: CheckFn = field(repr=False)
    doc: str = ""

    def __call__(self, tables: Tables, policy: Policy) -> CheckResult:
        out = self.fn(tables, policy)
        return out if isinstance(out, CheckResult) else CheckResult(out)


def rule(**meta: object) -> Callable[[CheckFn], Check]:
    """Attach a rule's metadata to its check function: ``@rule(id=..., title=..., ...)``."""

    def wrap(fn: CheckFn) -> Check:
        r = Rule(**meta)  # type: ignore[arg-type]
        r.family  # noqa: B018 — fail at import on an unknown family
        return Check(rule=r, fn=fn, doc=(fn.__doc__ or "").strip())

    return wrap
