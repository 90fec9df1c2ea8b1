"""Masking of personal identifiers for anything a person reads (reports, graphs, evidence).

One place for the masks, so every output hides the same digits: a 身份证号 keeps its first four
and last four characters (``4301**********123X``), a bank card or account its first four and last
four digits (``6222********1234``), a phone its first three and last four (``138****8000``).
Values too short to mask meaningfully are starred out entirely. Python functions for the few
values a viewer shows; polars expressions for columns; :func:`mask` for free text (every report
renderer passes what it writes through it).
"""

from __future__ import annotations

import re
from typing import Any

import polars as pl


def _keep(value: str | None, head: int, tail: int) -> str | None:
    if value is None:
        return None
    text = str(value)
    if len(text) <= head + tail:
        return "*" * len(text)
    return text[:head] + "*" * (len(text) - head - tail) + text[len(text) - tail:]


def mask_id(value: str | None) -> str | None:
    """A person ID: ``430102199001011234`` → ``4301**********1234``."""
    return _keep(value, 4, 4)


def mask_card(value: str | None) -> str | None:
    """A bank card or account number: ``6222020200112341234`` → ``6222***********1234``."""
    return _keep(value, 4, 4)


def mask_phone(value: str | None) -> str | None:
    """A phone number: ``13800138000`` → ``138****8000``."""
    return _keep(value, 3, 4)


def _keep_expr(expr: pl.Expr, head: int, tail: int) -> pl.Expr:
    n = expr.str.len_chars()
    middle = pl.lit("*").repeat_by(pl.max_horizontal(n - head - tail, 0)).list.join("")
    return (
        pl.when(expr.is_null()).then(None)
        .when(n <= head + tail).then(pl.lit("*").repeat_by(n).list.join(""))
        .otherwise(pl.concat_str([expr.str.head(head), middle, expr.str.tail(tail)]))
    )


def mask_id_expr(expr: pl.Expr) -> pl.Expr:
    return _keep_expr(expr, 4, 4)


def mask_card_expr(expr: pl.Expr) -> pl.Expr:
    return _keep_expr(expr, 4, 4)


def mask_phone_expr(expr: pl.Expr) -> pl.Expr:
    return _keep_expr(expr, 3, 4)


# A 15–19 digit run (IDs, bank cards), optionally ending in X, not part of a longer token.
_LONG_NUMBER = re.compile(r"(?<![0-9A-Za-z])(\d{14,18}[\dXx])(?![0-9A-Za-z])")
_MOBILE = re.compile(r"(?<![0-9A-Za-z])(1\d{10})(?![0-9A-Za-z])")


def mask(value: Any) -> str:
    """``value`` as text with every ID, bank-card and mobile number in it masked ('' for None).

    Scanning the text rather than trusting a column name means an ID that reaches a report inside
    evidence, a note or a free-text reason is masked too. Letters next to the digits keep a run
    from matching, so a 统一社会信用代码 such as ``91360102MA35L7XK1B`` stays as it is (a unit's
    code is public); an all-digit code would be masked, which errs on the safe side.
    """
    if value is None:
        return ""
    text = str(value)
    text = _LONG_NUMBER.sub(lambda found: _keep(found.group(1), 4, 4) or "", text)
    return _MOBILE.sub(lambda found: _keep(found.group(1), 3, 4) or "", text)
