"""Finding the input files (one file per table of the contract, named after the table), and
recording what they held: each file's size and SHA-256, for the audit trail."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from audit.schema import REQUIRED_TABLES, SPECS

SUFFIXES = (".csv", ".xlsx", ".parquet")


class InputError(Exception):
    """An input that cannot be used at all (exit code 2): names the file and the column."""


def discover(input_dir: Path, only: Iterable[str] | None = None) -> tuple[dict[str, Path], list[str]]:
    """table name → its file; notes about files that were ignored. Two files for a table is an error.
    With ``only``, the files of the other tables are passed over (and not required)."""
    found: dict[str, list[Path]] = {}
    notes: list[str] = []
    wanted = set(only) if only is not None else None
    try:
        entries = sorted(Path(input_dir).iterdir())
    except OSError as exc:
        raise InputError(f"{input_dir}: the input directory cannot be read ({exc.strerror or type(exc).__name__})") from None
    for path in entries:
        if path.name.startswith((".", "~$")):
            continue
        table = path.stem.strip().lower()
        named_like_table = path.suffix.lower() in SUFFIXES and table in SPECS
        if not path.is_file():
            if named_like_table and (wanted is None or table in wanted):
                # a directory (or a device) where the table's file should be
                raise InputError(f"{path.name}: not a file (a directory or special file named like the table "
                                 f"{table} ({SPECS[table].zh})); put the table's file there")
            continue
        if named_like_table:
            if wanted is None or table in wanted:
                found.setdefault(table, []).append(path)
        else:
            notes.append(f"忽略未知文件 / ignored file not in the contract: {path.name}")
    for table, paths in found.items():
        if len(paths) > 1:
            names = " and ".join(p.name for p in paths)
            raise InputError(f"{names}: two files for table {table} ({SPECS[table].zh}); keep one")
    missing = [t for t in REQUIRED_TABLES if t not in found and (wanted is None or t in wanted)]
    if missing:
        listed = "; ".join(f"{t} ({SPECS[t].zh}): expected {t}.csv, {t}.xlsx or {t}.parquet" for t in missing)
        raise InputError(f"{input_dir}: required table missing — {listed}")
    return {t: paths[0] for t, paths in found.items()}, notes


def digest_files(root: Path, paths: Iterable[Path]) -> list[dict[str, Any]]:
    """Each file as the audit trail records it, in path order: ``path`` (relative to ``root``,
    with ``/``), ``bytes`` and ``sha256`` (hex) of its content, read in chunks."""
    root = Path(root)
    records = []
    for path in sorted(Path(p) for p in paths):
        size, digest = sha256_file(path)
        records.append({"path": path.relative_to(root).as_posix(), "bytes": size, "sha256": digest})
    return records


def sha256_file(path: Path) -> tuple[int, str]:
    """A file's size and the SHA-256 of its content (hex), read a buffer at a time."""
    with open(path, "rb") as fh:
        digest = hashlib.file_digest(fh, "sha256")
        return fh.tell(), digest.hexdigest()
