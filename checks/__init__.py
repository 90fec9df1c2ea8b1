"""The rules, registered in one explicit tuple.

Each module in this package defines its checks with :func:`audit.rules.rule` and lists them in
its own ``CHECKS`` tuple; this file joins those tuples into :data:`CHECKS`, the one registry
the pipeline runs. ``tests/test_registry.py`` fails if a module here is left out, if a check
defined in a module is missing from its tuple, or if a registered rule has no table of cases.
"""

from __future__ import annotations

from typing import Callable

import polars as pl

from audit.policy import Policy
from audit.rules import Check
from audit.tables import Tables
from checks import (
    _expected,
    _identity,
    _retention,
    data_quality,
    dormant_unit,
    duplicate_trainee,
    ghost_trainee,
    graph_rules,
    one_internship,
    rate_misapplied,
    report_inconsistent,
    retention_inflated,
    unit_ineligible,
)
from checks._summary_table import indicators  # noqa: F401 — the 汇总表 recomputed; the pipeline writes it

MODULES = (
    one_internship,
    duplicate_trainee,
    ghost_trainee,
    rate_misapplied,
    retention_inflated,
    dormant_unit,
    unit_ineligible,
    report_inconsistent,
    graph_rules,
    data_quality,
)

CHECKS: tuple[Check, ...] = tuple(c for m in MODULES for c in m.CHECKS)

# The sub-results several rules read, computed once per run before the checks (each is memoised
# on the Tables by ``Tables.shared``; the pipeline builds them first to time them as one stage).
SHARED: tuple[tuple[str, Callable[[Tables, Policy], pl.LazyFrame]], ...] = (
    ("identity_links", _identity.identity_links),
    ("person_internships", one_internship.internships),
    ("ghost_internships", lambda t, p: ghost_trainee.internships(t)),
    ("insurance_near_internships", ghost_trainee._insurance_near),
    ("claim_context", _expected.claim_context),  # claims_in_agreement and claim_rate_keys
    ("person_retention", _retention.person_retention),
    ("unit_years", _retention.unit_years),
    ("claim_references", lambda t, p: data_quality.claim_references(t)),  # orphan, mismatch, duplicate claims
    ("graph_groups", graph_rules.graph_groups),  # card and phone rings, linked-unit clusters
)


def build_shared(tables: Tables, policy: Policy) -> None:
    """Build every shared sub-result once (each is memoised on the Tables)."""
    for _name, build in SHARED:
        build(tables, policy)


def by_id() -> dict[str, Check]:
    return {c.rule.id: c for c in CHECKS}
