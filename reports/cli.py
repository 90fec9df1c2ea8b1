"""CLI command ``audit report``."""

from __future__ import annotations

report_cmd = None
