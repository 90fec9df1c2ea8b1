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
