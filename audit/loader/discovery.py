"""Finding the input files (one file per table of the contract, named after the table), and
recording what they held: each file's size and SHA-256, for the audit trail."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from audit.normalise import to_ascii_str
from audit.schema import REQUIRED_TABLES, SPECS

SUFFIXES = (".csv", ".xlsx", ".parquet")
#: formats an export may come in that the loader does not read, and what to do instead
UNREAD_FORMATS = {
    ".xls": "旧版 Excel 格式，请另存为 .xlsx 或 CSV / the old Excel format: save it as .xlsx or CSV",
    ".et": "WPS 表格格式，请另存为 .xlsx 或 CSV / a WPS sheet: save it as .xlsx or CSV",
    ".xlsm": "含宏的 Excel 格式，请另存为 .xlsx / an Excel file with macros: save it as .xlsx",
    ".ods": "OpenDocument 表格，请另存为 .xlsx 或 CSV / an OpenDocument sheet: save it as .xlsx or CSV",
    ".txt": "文本文件，请改为 .csv / a text file: name it .csv if it is comma-separated",
    ".tsv": "制表符分隔文本，请另存为 CSV / tab-separated text: save it as CSV",
}


def _name_key(text: str) -> str:
    """A file's stem as compared with a table's names: no spaces or slashes, lower case, ASCII
    forms of full-width characters (``见习单位.xlsx``, ``就业登记劳动合同.csv``, ``Claims.CSV``)."""
    return "".join(ch for ch in to_ascii_str(text) if not ch.isspace() and ch not in "/\\、").lower()


#: a table's canonical name and its Chinese one (:attr:`audit.schema.TableSpec.zh`) → the table
TABLE_OF_NAME = {key: name for name, spec in SPECS.items() for key in (_name_key(name), _name_key(spec.zh))}


def table_named(stem: str) -> str | None:
    """The table a file is named after (its canonical or its Chinese name), or None."""
    return TABLE_OF_NAME.get(_name_key(stem))


#: what may follow a table's name in the name of a part or a copy of its export
#: (``claims_2024``, ``claims-南昌``, ``claims (2)``, ``补贴申领明细（2025）``, ``claims2``)
_PART_AFTER = re.compile(r"[_\-.(\[【0-9]")


def table_part_named(stem: str) -> str | None:
    """The table whose name a file's name begins with, followed by a separator or a digit
    (``claims_2024``, ``claims - 副本``, ``补贴申领明细（南昌）``): a part or a copy of that table's
    export, which the loader does not read (one file per table) — or None. The longest name
    wins (``county_tiers_2025`` is of county_tiers); ``见习单位岗位`` is of no table."""
    key = _name_key(stem)
    best = None
    for name_key, table in TABLE_OF_NAME.items():
        if (len(key) > len(name_key) and key.startswith(name_key) and _PART_AFTER.match(key, len(name_key))
                and (best is None or len(name_key) > len(best[0]))):
            best = (name_key, table)
    return best[1] if best else None


class InputError(Exception):
    """An input that cannot be used at all (exit code 2): names the file and the column."""


def discover(input_dir: Path, only: Iterable[str] | None = None) -> tuple[dict[str, Path], list[str]]:
    """table name → its file; notes about files that were ignored. Two files for a table is an error.
    With ``only``, the files of the other tables are passed over (and not required)."""
    found: dict[str, list[Path]] = {}
    parts: dict[str, list[str]] = {}  # table → files named like a part or a copy of it, not read
    notes: list[str] = []
    wanted = set(only) if only is not None else None
    try:
        entries = sorted(Path(input_dir).iterdir())
    except OSError as exc:
        raise InputError(f"{input_dir}: the input directory cannot be read ({exc.strerror or type(exc).__name__})") from None
    for path in entries:
        if path.name.startswith((".", "~$")):
            continue
        table = table_named(path.stem)
        if table is not None and path.suffix.lower() in UNREAD_FORMATS and path.is_file() and (
                wanted is None or table in wanted):
            raise InputError(f"{path.name}: {UNREAD_FORMATS[path.suffix.lower()]} "
                             f"(table {table} ({SPECS[table].zh}))")
        named_like_table = path.suffix.lower() in SUFFIXES and table is not None
        if not path.is_file():
            if named_like_table and (wanted is None or table in wanted):
                # a directory (or a device) where the table's file should be
                raise InputError(f"{path.name}: not a file (a directory or special file named like the table "
                                 f"{table} ({SPECS[table].zh})); put the table's file there")
            continue
        if named_like_table:
            if wanted is None or table in wanted:
                found.setdefault(table, []).append(path)
        elif (part_of := table_part_named(path.stem)) is not None and path.suffix.lower() in SUFFIXES:
            if wanted is not None and part_of not in wanted:
                continue
            parts.setdefault(part_of, []).append(path.name)
            spec = SPECS[part_of]
            notes.append(f"未读取 {path.name}：文件名不是表名，似为{spec.zh}的分批导出或副本；每张表只读取一个文件"
                         f"（{part_of}.csv、{part_of}.xlsx、{part_of}.parquet 或 {spec.zh}.xlsx 等），"
                         "分批导出请合并为一个文件后重新运行 / "
                         f"{path.name} not read: named like a part or a copy of table {part_of}; one file per table is "
                         f"read: merge the parts into one file and run again")
        else:
            notes.append(f"忽略合同外的文件 {path.name} / ignored file not in the contract: {path.name}")
    for table, paths in found.items():
        if len(paths) > 1:
            names = " and ".join(p.name for p in paths)
            raise InputError(f"{names}: two files for table {table} ({SPECS[table].zh}); keep one")
    missing = [t for t in REQUIRED_TABLES if t not in found and (wanted is None or t in wanted)]
    if missing:
        listed = "; ".join(f"{t} ({SPECS[t].zh}): expected {t}.csv, {t}.xlsx or {t}.parquet"
                           + (f" (found {', '.join(parts[t])}, named like parts of it: merge them into one file)"
                              if t in parts else "") for t in missing)
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
