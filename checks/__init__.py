"""The rules, registered in one explicit tuple.

Each module in this package defines its checks with :func:`audit.rules.rule` and lists them in
its own ``CHECKS`` tuple; this file joins those tuples into :data:`CHECKS`, the one registry
the pipeline runs. ``tests/test_registry.py`` fails if a module here is left out, if a check
defined in a module is missing from its tuple, or if a registered rule has no table of cases.
"""

from __future__ import annotations

from audit.rules import Check
from checks import (
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


def by_id() -> dict[str, Check]:
    return {c.rule.id: c for c in CHECKS}
