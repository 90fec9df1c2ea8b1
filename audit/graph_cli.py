"""CLI command ``audit graph``."""

from __future__ import annotations

graph_cmd = None
