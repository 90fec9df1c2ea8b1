"""Headers as exported, mapped to the contract's canonical column names."""

from __future__ import annotations

from audit import normalise as nz
from audit.schema import TableSpec


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


def header_lookup(spec: TableSpec) -> dict[str, tuple[str, int]]:
    """Comparable header → (canonical column, priority): names and Chinese first, aliases after."""
    lookup: dict[str, tuple[str, int]] = {}
    for col in spec.columns:
        for priority, spellings in ((0, (col.name, col.zh)), (1, col.aliases)):
            for spelling in spellings:
                lookup.setdefault(header_key(spelling), (col.name, priority))
    return lookup


def map_headers(spec: TableSpec, headers: list[str], label: str, notes: list[str]) -> dict[str, str]:
    """Header as found → canonical name, or the cleaned header for an unknown extra column."""
    lookup = header_lookup(spec)
    claims: dict[str, tuple[int, str]] = {}
    for header in headers:
        key = header_key(header)
        hit = lookup.get(key) or lookup.get(strip_unit(key))
        if hit and (hit[0] not in claims or hit[1] < claims[hit[0]][0]):
            claims[hit[0]] = (hit[1], header)
    mapping: dict[str, str] = {header: canonical for canonical, (_, header) in claims.items()}
    # the loader's and the validation's own columns too (_src, _keep while loading; _row)
    reserved = set(spec.names) | {"_file", "_line", "_dup_rows", "birth_date", "sex", "_src", "_keep", "_row"}
    for header in headers:
        if header in mapping:
            continue
        name = " ".join(str(header).split()) or "unnamed"
        while name in reserved or name in mapping.values():
            name += "_extra"
        mapping[header] = name
        if header_key(header) in lookup:
            notes.append(f"{label}: column {header!r} repeats {lookup[header_key(header)][0]}; kept as extra column {name!r}")
    return mapping


def check_required_columns(spec: TableSpec, present: set[str], label: str) -> list[str]:
    return [
        f"{label}: required column {c.name} ({c.zh}) is missing"
        for c in spec.columns if c.required and c.name not in present
    ]
