"""Headers as exported, mapped to the contract's canonical column names."""

from __future__ import annotations

import functools

from audit import normalise as nz
from audit.masking import mask
from audit.schema import Kind, TableSpec, reserved_column_names

#: how many characters of an extra column's name a note prints.
NOTE_NAME_CHARS = 30


def header_key(text: str) -> str:
    """A header as compared: ASCII forms, no spaces, no required-marker ``*``, lower case."""
    key = nz.to_ascii_str(str(text)).replace("\ufeff", "")
    key = "".join(key.split()).strip("*").lower()
    return key.replace("【", "[").replace("】", "]").replace("、", "/").replace("\\", "/")


def strip_unit(key: str) -> str:
    """``申领金额(元)`` → ``申领金额``: a trailing bracketed unit does not change the column."""
    for opener, closer in (("(", ")"), ("[", "]")):
        if key.endswith(closer) and opener in key:
            return key[: key.rindex(opener)]
    return key


#: the money units a header may name in brackets (``申领金额（万元）``), as multiples of 元
MONEY_UNITS = {"元": 1.0, "人民币元": 1.0, "万元": 10_000.0, "千元": 1_000.0, "分": 0.01}
#: the money columns the contract holds in another unit than 元: the 汇总表's indicator 14 (万元)
COLUMN_UNITS = {("county_reports", "i14"): "万元"}


def money_scales(spec: TableSpec, mapping: dict[str, str], label: str, notes: list[str]) -> dict[str, float]:
    """Canonical money column → the factor that turns its values into the column's unit (元; 万元
    for :data:`COLUMN_UNITS`), for a header that names another (``申领金额（万元）``: 10,000;
    ``（分）``: 0.01), each with a note. A header whose bracket names no unit of money is read in
    the column's own unit."""
    scales: dict[str, float] = {}
    money = {c.name for c in spec.columns if c.kind is Kind.MONEY}
    for header, canonical in mapping.items():
        key = header_key(header)
        stripped = strip_unit(key)
        if canonical not in money or stripped == key:
            continue
        unit = key[len(stripped) + 1:-1]
        factor = MONEY_UNITS.get(unit)
        if factor is not None:
            factor /= MONEY_UNITS[COLUMN_UNITS.get((spec.name, canonical), "元")]
        if factor is not None and factor != 1.0:
            scales[canonical] = factor
            own = COLUMN_UNITS.get((spec.name, canonical), "元")
            notes.append(f"{label}：列“{shown_name(header)}”按{unit}读取，换算为{own} / {canonical} read in {unit}, "
                         f"converted to {own} (× {factor:g})")
    return scales


def known_columns(cells: list[str], lookup: dict[str, tuple[str, int]]) -> set[str]:
    """The canonical columns that a row of header cells names (a trailing unit ignored)."""
    keys = [header_key(c) for c in cells]
    return {lookup[k][0] for k in keys if k in lookup} | {lookup[strip_unit(k)][0] for k in keys
                                                          if strip_unit(k) in lookup}


def unique_headers(names: list[str]) -> list[str]:
    """Header names made unique: a repeated name gets ``_2``, ``_3`` … in the order met."""
    seen: dict[str, int] = {}
    out = []
    for name in names:
        seen[name] = seen.get(name, 0) + 1
        out.append(name if seen[name] == 1 else f"{name}_{seen[name]}")
    return out


def header_lookup(spec: TableSpec) -> dict[str, tuple[str, int]]:
    """Comparable header → (canonical column, priority): names and Chinese first, aliases after."""
    lookup: dict[str, tuple[str, int]] = {}
    for col in spec.columns:
        for priority, spellings in ((0, (col.name, col.zh)), (1, col.aliases)):
            for spelling in spellings:
                lookup.setdefault(header_key(spelling), (col.name, priority))
    return lookup


def map_headers(spec: TableSpec, headers: list[str], label: str, notes: list[str]) -> dict[str, str]:
    """Header as found → canonical name, or the cleaned header for an unknown extra column.

    An extra column named like a column the loader or a later stage uses (a column of any table,
    an ID's ``_raw``/``_status``, ``_line``…, anything starting with ``_``) is kept under its
    name with ``_extra`` appended. Linear in the headers: one dict lookup each.
    """
    lookup = header_lookup(spec)
    claims: dict[str, tuple[int, str]] = {}
    for header in headers:
        key = header_key(header)
        hit = lookup.get(key) or lookup.get(strip_unit(key))
        if hit and (hit[0] not in claims or hit[1] < claims[hit[0]][0]):
            claims[hit[0]] = (hit[1], header)
    mapping: dict[str, str] = {header: canonical for canonical, (_, header) in claims.items()}
    used = set(mapping.values())
    reserved = _reserved()
    for header in headers:
        if header in mapping:
            continue
        name = " ".join(str(header).split()) or "unnamed"
        while name in used or name in reserved or name.startswith("_") and not name.endswith("_extra"):
            name += "_extra"
        mapping[header] = name
        used.add(name)
        if header_key(header) in lookup:
            notes.append(f"{label}：列“{shown_name(header)}”重复出现，只读取第一列，重复的列保留为文本“{shown_name(name)}” / "
                         f"column {shown_name(header)!r} repeats {lookup[header_key(header)][0]}; "
                         f"kept as extra column {shown_name(name)!r}")
    return mapping


@functools.cache
def _reserved() -> frozenset[str]:
    return reserved_column_names()


def shown_name(name: str) -> str:
    """A column name as a message prints it: masked where it looks like an ID, bank card or
    phone (a headerless file's first row is data), cut to :data:`NOTE_NAME_CHARS`."""
    text = mask(str(name))
    return text if len(text) <= NOTE_NAME_CHARS else text[: NOTE_NAME_CHARS - 1] + "…"


def check_required_columns(spec: TableSpec, present: set[str], label: str) -> list[str]:
    return [
        f"{label}: required column {c.name} ({c.zh}) is missing"
        for c in spec.columns if c.required and c.name not in present
    ]
