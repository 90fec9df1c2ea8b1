"""The test session as a long-lived caller of the audit.

great-expectations is imported once, here, so that every run a test makes validates inline
(:func:`audit.app.validator.start`), as a long-lived process would, instead of starting a child
process that imports it again for each run — some 90 s of the suite on two cores. The child
process itself is tested in ``tests/test_validator.py``, which asks for it.
"""

from __future__ import annotations

import os

os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")  # as audit.validation sets it before its import

import great_expectations  # noqa: E402,F401

#: the files that take longest, longest first (seconds of their tests on two busy workers, stop 31:
#: 146, 142, 130, 91, 58, 58, 52, 51). A file's tests run on one worker (``--dist loadfile``), and
#: files are handed out in the order collected (``--no-loadscope-reorder``: xdist's own order, by
#: the number of tests a file holds, put the two fuzz files of one test each last, and one worker
#: ran the loader fuzz alone for minutes after the other had finished). Longest first, the
#: shorter files fill in behind them.
LONG_FIRST = ("test_respelled.py", "test_fuzz_cli.py", "test_loader.py", "test_cycle_e2e.py",
              "test_workspace.py", "test_e2e_current.py", "test_validator.py", "test_fuzz_inputs.py")


def pytest_collection_modifyitems(items: list) -> None:
    """The long files first, each file's tests in their order; the rest as collected."""
    rank = {name: i for i, name in enumerate(LONG_FIRST)}
    items.sort(key=lambda item: rank.get(item.path.name, len(rank)))
