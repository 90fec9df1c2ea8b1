"""What a run records of where it came from: the content of every input file and the code version.

Recorded in ``run.json`` (``input_files``, ``code``) beside the hashes of the policy and reference
snapshots (:mod:`audit.rundir`), so that a run can later be shown to have read these exact files
with this exact code.
"""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import audit
from audit.loader import digest_files

PACKAGE = "jianxi-audit"


def input_files(input_dir: Path, hashed: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each file of the input directory (the loader reads its tables and the operator's reference
    files from these; hidden and Office lock files are not read): path, bytes, SHA-256. ``hashed``
    are the records the loader already made of the files it read; the others are hashed here."""
    done = {r["path"] for r in hashed}
    rest = [p for p in Path(input_dir).iterdir()
            if p.is_file() and not p.name.startswith((".", "~$")) and p.name not in done]
    return sorted([*hashed, *digest_files(input_dir, rest)], key=lambda r: r["path"])


def code_version() -> dict[str, Any]:
    """The package version, and the git commit (with whether the checkout had uncommitted changes)
    when the code runs from a git checkout; "unknown" where it cannot be told."""
    version = getattr(audit, "__version__", "unknown")  # of the code running, not of what pip installed
    root = Path(audit.__file__).resolve().parent.parent
    commit, dirty = "unknown", None
    try:
        top = _git(root, "rev-parse", "--show-toplevel")
        if top and Path(top).resolve() == root:
            commit = _git(root, "rev-parse", "HEAD") or "unknown"
            status = _git(root, "status", "--porcelain")
            dirty = None if status is None else bool(status)
    except (OSError, subprocess.SubprocessError):
        pass
    return {"package": PACKAGE, "version": version, "git_commit": commit, "git_dirty": dirty}


def _git(root: Path, *args: str) -> str | None:
    proc = subprocess.run(["git", "-C", str(root), *args], capture_output=True, text=True, timeout=10)
    return proc.stdout.strip() if proc.returncode == 0 else None
