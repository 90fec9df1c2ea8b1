"""The rule registry is complete: every check module is registered, every check it defines is in
its tuple, every rule has an id of a known family, a Chinese title, a citation, declared
parameters that exist, and a table of cases in the tests."""

from __future__ import annotations

import importlib
import pkgutil
from pathlib import Path

import pytest

import checks
from audit.policy import Policy
from audit.rules import Check

TESTS = Path(__file__).parent


def _modules():
    return [m.name for m in pkgutil.iter_modules(checks.__path__) if not m.name.startswith("_")]


def test_every_module_is_registered():
    registered = {m.__name__.rsplit(".", 1)[1] for m in checks.MODULES}
    assert set(_modules()) == registered


@pytest.mark.parametrize("name", _modules())
def test_every_check_in_a_module_is_in_its_tuple(name):
    module = importlib.import_module(f"checks.{name}")
    defined = {id(v) for v in vars(module).values() if isinstance(v, Check)}
    listed = {id(c) for c in module.CHECKS}
    assert defined == listed, f"checks.{name}: a Check is defined but not in CHECKS (or the reverse)"


def test_rule_ids_unique_and_metadata_complete():
    policy = Policy.load()
    ids = [c.rule.id for c in checks.CHECKS]
    assert len(ids) == len(set(ids))
    for c in checks.CHECKS:
        r = c.rule
        assert r.family  # a known family, or Family() raised at import
        assert r.title and any("\u4e00" <= ch <= "\u9fff" for ch in r.title), r.id
        assert r.citation, r.id
        assert c.doc, f"{r.id}: the check needs a docstring stating the rule"
        for p in r.params:
            assert p in policy.catalogue, f"{r.id}: unknown policy parameter {p}"
        for p in r.detection_params:
            assert p in policy.detection, f"{r.id}: unknown detection parameter {p}"


def test_every_rule_has_a_table_of_cases():
    """A registered rule must be exercised by a test case table that names its id."""
    text = "\n".join(p.read_text(encoding="utf-8") for p in TESTS.glob("test_*.py"))
    missing = [c.rule.id for c in checks.CHECKS if c.rule.id not in text]
    assert not missing, f"rules without a table of cases in tests/: {missing}"


def test_registry_is_not_empty():
    assert len(checks.CHECKS) > 0, "no rules registered"


def test_every_shared_result_is_registered():
    """A shared sub-result defined in checks/ is in ``checks.SHARED`` (so the run builds it first)."""
    from audit.tables import Shared

    defined = {
        id(value)
        for info in pkgutil.iter_modules(checks.__path__)
        for value in vars(importlib.import_module(f"checks.{info.name}")).values()
        if isinstance(value, Shared)
    }
    assert defined == {id(result) for result in checks.SHARED}
