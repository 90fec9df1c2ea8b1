"""Reports, exit lists, recovery list and the 汇总表 reconciliation, rendered from a run's files."""

from __future__ import annotations

from pathlib import Path


def render_all(run_dir: Path) -> None:
    """Render every output of a run from its files (placeholder until the reports land)."""
