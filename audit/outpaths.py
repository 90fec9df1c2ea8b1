"""Where a run may write: inside its own directory, under names that data cannot steer.

Every writer of a run directory (the loader's normalised tables and quarantine, the findings,
the snapshots, the reports, the exit lists, the recovery list, the case graphs) asks
:func:`inside` for the path it writes, and :func:`inside` refuses one that resolves outside the
run directory — through ``..``, an absolute part or a symbolic link. A file name made from data
(a county's exit list is ``exit_lists/<county_code>.xlsx``) is made only from a validated value
(:func:`county_file_stem`: six digits, GB/T 2260) or a sanitised one (:func:`safe_stem`); a
county code that is not six digits is a data-quality fact about its row, never part of a path.

A CSV file a clerk may open in Excel (``findings.csv``, ``quarantine.csv``) is written through
:func:`write_csv`: a text cell that begins with ``=``, ``+``, ``-``, ``@``, a tab or a carriage
return would be run by Excel as a formula, so it is written with a leading apostrophe (which
Excel shows as text); a text that is a plain number (``-1288.00``, ``+35``) is left as it is —
Excel reads it as the number it is, not as a formula — and number columns are never touched.
"""

from __future__ import annotations

import codecs
import re
from pathlib import Path

import polars as pl

#: a county code as GB/T 2260 writes it: six digits.
COUNTY_CODE = re.compile(r"^\d{6}$")
#: the stem of a file whose name has no valid code to be made from.
UNKNOWN_STEM = "unknown"
#: the longest stem :func:`safe_stem` makes (file systems allow 255 bytes; a CJK character is 3).
MAX_STEM_CHARS = 60
_UNSAFE = re.compile(r"[^0-9A-Za-z_\-\u4e00-\u9fff]+")


class UnsafePathError(ValueError):
    """A path a writer was about to use resolves outside the run directory (a fault of the
    program, not of the input: names made from data are validated before they get here)."""


def inside(root: Path, *parts: str) -> Path:
    """``root / parts…``, refused unless it resolves inside ``root`` (links followed)."""
    root = Path(root)
    path = root.joinpath(*parts)
    if not path.resolve().is_relative_to(root.resolve()):
        shown = "/".join(parts)[:80]
        raise UnsafePathError(f"refusing to write {shown!r}: it resolves outside the run directory {root}")
    return path


def is_county_code(text: str | None) -> bool:
    """Whether ``text`` is a county code as GB/T 2260 writes it (six digits)."""
    return text is not None and bool(COUNTY_CODE.match(text))


def county_file_stem(code: str | None) -> str:
    """The file stem of a county's output: its code when it is six digits, else ``unknown``."""
    return code if code is not None and is_county_code(code) else UNKNOWN_STEM


def safe_stem(text: str | None, fallback: str = UNKNOWN_STEM) -> str:
    """``text`` as a file stem: letters, digits, CJK, ``-`` and ``_`` only (every other run of
    characters one ``_``), at most :data:`MAX_STEM_CHARS`, never empty or hidden."""
    stem = _UNSAFE.sub("_", text or "").strip("_")[:MAX_STEM_CHARS]
    return stem or fallback


#: a text cell Excel would read as a formula (OWASP's list: = + - @, tab, carriage return)
FORMULA_START = r"^[=+\-@\t\r]"
#: a text that is a plain number: Excel reads it as that number, never as a formula
PLAIN_NUMBER = r"^[+-]?(?:\d[\d,]*(?:\.\d*)?|\.\d+)$"


def formula_safe(frame: pl.DataFrame) -> pl.DataFrame:
    """The frame with every text cell Excel would run as a formula prefixed with ``'`` (the
    rule in the module docstring); number, date and boolean columns as they are."""
    text = [name for name, dtype in frame.schema.items() if dtype == pl.String]
    if not text:
        return frame
    return frame.with_columns(
        pl.when(pl.col(c).str.contains(FORMULA_START) & ~pl.col(c).str.contains(PLAIN_NUMBER))
        .then(pl.lit("'") + pl.col(c)).otherwise(pl.col(c)).alias(c)
        for c in text
    )


def write_csv(frame: pl.DataFrame, path: Path, *, bom: bool = False) -> None:
    """``frame`` as CSV at ``path``, formula-safe (:func:`formula_safe`); with ``bom``, UTF-8
    with a byte-order mark (Excel then reads the Chinese right)."""
    safe = formula_safe(frame)
    with open(path, "wb") as fh:
        if bom:
            fh.write(codecs.BOM_UTF8)
        safe.write_csv(fh)
