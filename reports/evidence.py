"""A finding's evidence (JSON) made readable: labelled items for the report, one line for a sheet.

Evidence is whatever facts a rule recorded; keys become their Chinese labels and coded values
their Chinese words (:mod:`reports.labels`, one table for every output). Every value is masked by
its key's role (:func:`audit.masking.key_role`: a person ID, card or phone whatever its spelling),
or through :func:`audit.masking.mask`, except values under keys that name a unit, claim, agreement
or county (public codes the county needs).
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from audit.masking import key_role, mask, mask_as
from reports.labels import SHOWN_WHEN_GIVEN, label, value_label

MAX_ROWS = 20  # rows of an evidence table shown in the report; the rest are counted


@functools.lru_cache(maxsize=65536)
def _masked(text: str) -> str:
    """:func:`audit.masking.mask`, remembered: dates, amounts and names recur across findings."""
    return mask(text)


#: a month as the evidence records it: the first day of the month (``2025-09-01``)
_MONTH_START = re.compile(r"^(\d{4}-\d{2})-01$")


def _scalar(key: str, value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, str) and "month" in key and (month := _MONTH_START.match(value)):
        return month.group(1)  # 补贴所属月份 2025-09, not 2025-09-01: a month, not a day
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, float):
        if ("rate" in key and "basis" not in key or key == "threshold") and 0 <= value <= 1:  # a rate: 75%
            return f"{value:.0%}" if round(value * 100, 6) == int(round(value * 100)) else f"{value:.1%}"
        return f"{value:,.2f}" if abs(value) >= 1000 or value != int(value) else f"{value:.0f}"
    text = value_label(str(value))
    role = key_role(key) if key else None
    if role is None:
        return _masked(text)
    return mask_as(role, text)  # an ID, card or phone by its key whatever its spelling; public codes as they are


@dataclass
class EvidenceItem:
    """One labelled fact: plain text, or a small table (columns, rows)."""

    label: str
    text: str = ""
    columns: list[str] = field(default_factory=list)
    rows: list[list[str]] = field(default_factory=list)
    lines: list[str] = field(default_factory=list)  # a wide list of records: one line each

    @property
    def is_table(self) -> bool:
        return bool(self.columns)


def parse(evidence: str | None) -> Any:
    if not evidence:
        return {}
    try:
        return json.loads(evidence)
    except (TypeError, ValueError):
        return {"evidence": evidence}


def _given(record: dict) -> Iterator[tuple[str, Any]]:
    """The fields of an evidence record a reader sees: not one of :data:`SHOWN_WHEN_GIVEN` left blank."""
    return ((k, v) for k, v in record.items() if v is not None or k not in SHOWN_WHEN_GIVEN)


def _inline(key: str, value: Any) -> str:
    if isinstance(value, dict):
        return "；".join(f"{label(k)}: {_inline(k, v)}" for k, v in _given(value))
    if isinstance(value, list):
        return "、".join(_inline(key, v) for v in value)
    return _scalar(key, value)


MAX_COLUMNS = 6  # a list of records wider than this reads as one line per record, not a table


def items(evidence: str | None) -> list[EvidenceItem]:
    """The evidence as labelled items: a list of records becomes a small table — its columns
    that are empty in every row left out — or, when still wider than :data:`MAX_COLUMNS` (a
    retention finding's people, 14 facts each), one line of ``标签 值`` per record, which fits
    a card at 1280 px and an A4 page whatever the number of facts."""
    data = parse(evidence)
    if not isinstance(data, dict):
        data = {"evidence": data}
    out: list[EvidenceItem] = []
    for key, value in _given(data):
        if isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
            columns = [c for c in dict.fromkeys(k for row in value for k in row)
                       if any(row.get(c) not in (None, "", []) for row in value)]
            rows = [[_inline(c, row.get(c)) for c in columns] for row in value[:MAX_ROWS]]
            more = f"…另有 {len(value) - MAX_ROWS} 行" if len(value) > MAX_ROWS else ""
            if len(columns) > MAX_COLUMNS:
                lines = ["；".join(f"{label(c)} {cell}" for c, cell in zip(columns, row)) for row in rows]
                out.append(EvidenceItem(label(key), lines=lines + ([more] if more else [])))
                continue
            if more:
                rows.append([more] + [""] * (len(columns) - 1))
            out.append(EvidenceItem(label(key), columns=[label(c) for c in columns], rows=rows))
        else:
            out.append(EvidenceItem(label(key), text=_inline(key, value)))
    return out


def _inline_parts(key: str, value: Any) -> Iterator[str]:
    """:func:`_inline`'s text piece by piece, so that a caller can stop once it has enough."""
    if isinstance(value, dict):
        for i, (k, v) in enumerate(_given(value)):
            if i:
                yield "；"
            yield f"{label(k)}: "
            yield from _inline_parts(k, v)
    elif isinstance(value, list):
        for i, v in enumerate(value):
            if i:
                yield "、"
            yield from _inline_parts(key, v)
    else:
        yield _scalar(key, value)


def one_line(evidence: str | None, limit: int = 400) -> str:
    """The evidence in one line for a spreadsheet cell: ``标签: 值；…`` (masked, shortened).

    Only the first ``limit`` characters are made (an exit list quotes 160 of evidence that
    reads to ~500): the rest would be cut anyway."""
    data = parse(evidence)
    if isinstance(data, (dict, list)):
        pieces, size = [], 0
        for piece in _inline_parts("", data):
            pieces.append(piece)
            size += len(piece)
            if size > limit:
                break
        text = "".join(pieces)
    else:
        text = _scalar("", data)
    return text if len(text) <= limit else text[: limit - 1] + "…"
