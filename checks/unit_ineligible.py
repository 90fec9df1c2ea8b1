"""unit_ineligible rules. See RULES.md §9 and the module's tests for the cases."""

from __future__ import annotations

from audit.rules import Check

CHECKS: tuple[Check, ...] = ()
