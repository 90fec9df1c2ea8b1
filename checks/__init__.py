"""The rules, registered in one explicit tuple.

Each module in this package defines its checks with :func:`audit.rules.rule` and lists them in
its own ``CHECKS`` tuple; this file joins those tuples into :data:`CHECKS`, the one registry
the pipeline runs. ``tests/test_registry.py`` fails if a module here is left out, if a check
defined in a module is missing from its tuple, or if a registered rule has no table of cases.
"""

from __future__ import annotations

from audit.policy import Policy
from audit.rules import Check
from audit.tables import Shared, Tables
from checks import (
    _expected,
    _identity,
    _internships,
    _retention,
    _summary_table,
    data_quality,
    dormant_unit,
    duplicate_trainee,
    ghost_trainee,
    graph_rules,
    legal_representatives,
    one_internship,
    own_hire,
    rate_misapplied,
    report_inconsistent,
    retention_inflated,
    shell_units,
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
    own_hire,  # issue #16: the typologies of real cases no rule above caught
    legal_representatives,
    shell_units,
)

CHECKS: tuple[Check, ...] = tuple(c for m in MODULES for c in m.CHECKS)

# The sub-results several rules read, each declared where it is defined (:func:`audit.tables.shared`)
# and built once per run (:func:`build_shared`), in this order, before the checks. Each is
# stored under its own name; ``tests/test_tables.py`` fails if one reads a table it does not
# declare.
SHARED: tuple[Shared, ...] = (
    _identity.identity_links,
    _identity.person_aliases,  # every ID of each person known under several
    _identity.unresolved_ids,  # IDs failing their check that nothing links to a valid one
    one_internship.person_internships,
    _internships.unit_internships,
    ghost_trainee.insurance_near_internships,
    _expected.claims_in_agreement,
    _expected.claim_rate_keys,
    _retention.person_retention,
    _retention.unit_years,
    data_quality.claim_references,  # orphan, mismatch and duplicate claims
    graph_rules.graph_groups,  # card and phone rings, linked-unit clusters
    _summary_table.county_indicators,  # the 汇总表 recomputed; the run writes it for the reports
)


def build_shared(tables: Tables, policy: Policy) -> None:
    """Build every shared sub-result (:data:`SHARED`) on ``tables`` under ``policy``, so the checks
    find them ready; the pipeline calls this once before the checks, to time them as one stage."""
    for result in SHARED:
        result(tables, policy)


def by_id() -> dict[str, Check]:
    return {c.rule.id: c for c in CHECKS}


county_indicators = _summary_table.county_indicators  # the pipeline writes it to indicators.parquet
