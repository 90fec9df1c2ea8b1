"""The allocator's settings (``audit/__init__.py``): set before polars loads, read by its jemalloc,
and an operator's own setting kept (bench/NOTES.md, "The allocator")."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# jemalloc prints its options at exit when asked to (stats_print), as it read them
_PRINT = ("import audit, os\n"
          "os.environ['_RJEM_MALLOC_CONF'] += ',stats_print:true,stats_print_opts:mdablxe'\n"
          "import polars as pl\n"
          "pl.Series([1, 2]).sum()\n")


def _options(env: dict[str, str]) -> dict[str, str]:
    done = subprocess.run([sys.executable, "-c", _PRINT], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=120, check=True)
    out = {}
    for line in (done.stdout + done.stderr).splitlines():
        line = line.strip()
        if line.startswith("opt.") and ": " in line:
            name, value = line[4:].split(": ", 1)
            out[name] = value.split()[0]
    return out


def test_polars_allocator_keeps_freed_pages_for_reuse() -> None:
    env = {k: v for k, v in os.environ.items() if k != "_RJEM_MALLOC_CONF"}
    opts = _options(env)
    # large allocations in the ordinary arenas, freed pages kept 3 s, none half-returned (muzzy)
    assert (opts.get("oversize_threshold"), opts.get("dirty_decay_ms"), opts.get("muzzy_decay_ms")) == ("0", "10000", "0"), opts


def test_an_operators_own_allocator_setting_is_kept() -> None:
    env = {**os.environ, "_RJEM_MALLOC_CONF": "dirty_decay_ms:700"}
    opts = _options(env)
    assert opts.get("dirty_decay_ms") == "700" and opts.get("oversize_threshold") != "0", opts
