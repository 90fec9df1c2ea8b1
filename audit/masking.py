"""Masking of personal identifiers for anything a person reads (reports, graphs, evidence,
spreadsheets, terminal messages).

One place for the masks, so every output hides the same digits: a 身份证号 keeps its first four
and last four characters (``4301**********123X``), a bank card or account its first four and last
four digits (``6222********1234``), a phone its first three and last four (``138****8000``).
Values too short to mask meaningfully are starred out entirely.

Masking goes by the value's role first: the schema knows which columns hold person IDs, bank
cards and accounts, and phones (:func:`column_role`), and an evidence key names its value's
column (:func:`key_role`), so an ID is masked whatever its spelling — two digits too many, an
``ID`` prefix, hyphens or spaces. The text scan (:func:`mask`) is the second net, for free text
and for keys of no known role: every run of 15 or more digits (single spaces or hyphens between
them allowed, a final ``X``, letters around it or not) and every mobile number is masked — but a
统一社会信用代码 (a valid GB 32100 code that is not shaped like an ID) stays, as a unit's code is
public. A code column (a unit, claim, agreement or county code: :func:`mask_code`) is shown as
it is unless it holds a number shaped like a person ID (a mislabelled column), which is masked.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import logging
import re
from typing import Any

import polars as pl

from audit.normalise import gb32100_check_char
from audit.schema import SPECS, Kind

#: how a value of each role is masked: (characters kept at the head, at the tail)
KEEP = {"id": (4, 4), "card": (4, 4), "phone": (3, 4)}
#: columns that hold a bank card or account, or a phone, by role (person-ID columns are known by
#: their kind: :data:`audit.schema.Kind.PERSON_ID`)
PERSONAL_TEXT_COLUMNS: dict[str, str] = {"bank_card": "card", "bank_account": "card", "account": "card",
                                         "phone": "phone"}


def _keep(value: str | None, head: int, tail: int) -> str | None:
    if value is None:
        return None
    text = str(value)
    if len(text) <= head + tail:
        return "*" * len(text)
    return text[:head] + "*" * (len(text) - head - tail) + text[len(text) - tail:]


def mask_id(value: str | None) -> str | None:
    """A person ID: ``430102199001011234`` → ``4301**********1234``."""
    return _keep(value, *KEEP["id"])


def mask_card(value: str | None) -> str | None:
    """A bank card or account number: ``6222020200112341234`` → ``6222***********1234``."""
    return _keep(value, *KEEP["card"])


def mask_phone(value: str | None) -> str | None:
    """A phone number: ``13800138000`` → ``138****8000``."""
    return _keep(value, *KEEP["phone"])


def mask_as(role: str | None, value: Any) -> str:
    """``value`` masked as its role says (``id``, ``card``, ``phone``; ``public``: a number, masked
    only where it is shaped like an ID, :func:`mask_code`; ``unit``: :func:`mask_unit`); the
    text net for a value of no role ('' for None)."""
    if value is None:
        return ""
    if role in KEEP:
        return _keep(str(value), *KEEP[role]) or ""
    if role == "public":
        return mask_code(value)
    if role == "unit":
        return mask_unit(value)
    return mask(value)


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


# ---------------------------------------------------------------------------------------------
# roles


@functools.cache
def _column_roles() -> dict[str, str]:
    roles = dict(PERSONAL_TEXT_COLUMNS)
    for spec in SPECS.values():
        for c in spec.columns:
            if c.kind is Kind.PERSON_ID:
                roles[c.name] = "id"
                roles[f"{c.name}_raw"] = "id"
    return roles


def column_role(column: str) -> str | None:
    """``id``, ``card`` or ``phone`` for a column of the schema that holds one (a person-ID
    column and its ``_raw``, a bank card or account, a phone); None for any other column."""
    return _column_roles().get(column)


#: evidence keys whose values are numbers a county needs as they are (claim, agreement, position,
#: finding), files and lines: masked only where shaped like an ID (:func:`mask_code`)
_PUBLIC_WORDS = ("claim", "agreement", "position", "file", "line", "finding")
#: evidence keys whose values are unit codes: shown as they are when shaped like one, even with a
#: failed check character (:func:`mask_unit`)
_UNIT_WORDS = ("unit", "employer", "uscc")
#: evidence keys (beside the schema's columns) whose values are person IDs.
_ID_KEYS = ("raw_id", "raw_ids", "normalised_id", "ids", "person_key", "person_ids", "internship_system_value",
            "market_registry_value")


#: evidence keys (beside the schema's columns) whose values are phone, card or account numbers
_PHONE_KEYS = ("phone", "phones", "mobile", "mobiles")
_CARD_KEYS = ("card", "cards", "account", "accounts")


@functools.lru_cache(maxsize=4096)
def key_role(key: str) -> str | None:
    """The role of the value under an evidence (or report) key: a schema column's role, ``id``
    for a key naming a person ID (``person_*``, ``raw_id``, ``*legal_rep_id*``…), ``card`` or
    ``phone`` for one naming those, ``unit`` for a unit's code, ``public`` for a claim,
    agreement, position or finding number, a file or a line; None (the text net) for anything
    else — county codes, names and dates included."""
    k = key.lower()
    role = column_role(k)
    if role:
        return role
    if k.endswith("_masked") or "name" in k:
        return None
    # a key that names the number itself (``card``, ``bank_card_v``), not one that only mentions
    # it (``months_paid_to_card``, ``card_is_unit_account``, ``graph_shared_phone_min_trainees``)
    if k in _PHONE_KEYS or k.startswith(("phone_", "mobile_")) or k.endswith(("_phone", "_mobile")):
        return "phone"
    if k in _CARD_KEYS or k.startswith(("bank_card", "bank_account", "card_no", "account_no")):
        return "card"
    if k in _ID_KEYS or "person_id" in k or "legal_rep_id" in k or k.startswith("raw_"):
        return "id"
    if any(word in k for word in _UNIT_WORDS):
        return "unit"
    if any(word in k for word in _PUBLIC_WORDS):
        return "public"
    return None


def mask_evidence(evidence: str | None) -> str:
    """A finding's evidence (JSON) with every value masked by its key's role (:func:`key_role`),
    the text net for the rest; text that is not JSON through the net alone."""
    if not evidence:
        return evidence or ""
    try:
        data = json.loads(evidence)
    except (TypeError, ValueError):
        return mask(evidence)
    return json.dumps(_mask_tree(None, data), ensure_ascii=False)


def _mask_tree(key: str | None, value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _mask_tree(str(k), v) for k, v in value.items()}
    if isinstance(value, list):
        return [_mask_tree(key, v) for v in value]
    if value is None or isinstance(value, (bool, int, float)):
        return value if not isinstance(value, int) or isinstance(value, bool) or abs(value) < 10**14 else mask(value)
    return mask_as(key_role(key) if key else None, value)


# ---------------------------------------------------------------------------------------------
# the text net

# 15 or more digits (single spaces or hyphens between them allowed), the last may be X: an ID
# however written, a bank card or account; letters around it do not hide it
_LONG_NUMBER = re.compile(r"(?<![0-9])(\d(?:[ \-]?\d){13,}(?:[ \-]?[\dXx]))(?![0-9])")
_MOBILE = re.compile(r"(?<![0-9])(1\d{2}[ \-]?\d{4}[ \-]?\d{4})(?![0-9])")
_TOKEN = re.compile(r"[0-9A-Za-z]+")
_SEPARATORS = re.compile(r"[ \-]")


def _birth_date(text: str) -> bool:
    """Whether ``text`` (YYYYMMDD) is a date from 1900 to 2099."""
    try:
        year, month, day = int(text[:4]), int(text[4:6]), int(text[6:8])
        return 1900 <= year <= 2099 and dt.date(year, month, day) is not None
    except ValueError:
        return False


def id_shaped(number: str) -> bool:
    """Whether a run of digits (separators removed) holds a person ID: a province code (11–82),
    then a birth date in characters 7–14 of 17 digits and a digit or X — anywhere in the run, so
    two digits too many do not hide one — or exactly 15 digits with a birth date (YYMMDD) in
    characters 7–12 (a legacy ID)."""
    text = number.upper()
    for i in range(len(text) - 17):
        body = text[i:i + 18]
        if (body[:17].isdigit() and (body[17].isdigit() or body[17] == "X") and 11 <= int(body[:2]) <= 82
                and _birth_date(body[6:14])):
            return True
    return len(text) == 15 and text.isdigit() and 11 <= int(text[:2]) <= 82 and _birth_date("19" + text[6:12])


def _unit_code(token: str) -> bool:
    """A valid 统一社会信用代码 that is not shaped like a person ID."""
    code = token.upper()
    if len(code) != 18 or id_shaped(code):
        return False
    try:
        return gb32100_check_char(code[:17]) == code[17]
    except ValueError:
        return False


def mask(value: Any) -> str:
    """``value`` as text with every ID, bank-card and mobile number in it masked ('' for None).

    Scanning the text rather than trusting a column name means an ID that reaches a report inside
    evidence, a note, a name or a free-text reason is masked too. A 统一社会信用代码 such as
    ``91330100799655058B`` (17 digits in a row) stays as it is: a unit's code is public.
    """
    if value is None:
        return ""
    text = str(value)
    if not any(ch.isdigit() for ch in text):
        return text
    if _LONG_NUMBER.search(text):
        units = {m.span() for m in _TOKEN.finditer(text) if _unit_code(m.group())}
        text = _LONG_NUMBER.sub(lambda found: found.group(1) if _within(found.span(1), units)
                                else _keep(found.group(1), 4, 4) or "", text)
    return _MOBILE.sub(lambda found: _keep(found.group(1), 3, 4) or "", text)


def _within(span: tuple[int, int], tokens: set[tuple[int, int]]) -> bool:
    return any(start <= span[0] and span[1] <= end for start, end in tokens)


def mask_code(value: Any) -> str:
    """A code shown as it is (a unit's, a claim's, an agreement's or a county's: the county
    looks it up), unless it holds a number shaped like a person ID (:func:`id_shaped`: a
    mislabelled column), which is masked ('' for None)."""
    if value is None:
        return ""
    text = str(value)
    if not any(ch.isdigit() for ch in text):
        return text
    return _LONG_NUMBER.sub(lambda found: _keep(found.group(1), 4, 4) or ""
                            if id_shaped(_SEPARATORS.sub("", found.group(1))) else found.group(1), text)


_USCC_SHAPE = re.compile(r"^[0-9A-HJ-NPQRTUWXY]{18}$")


def mask_unit(value: Any) -> str:
    """A unit's code shown as it is when it is shaped like a 统一社会信用代码 (18 characters of its
    alphabet), even one whose check character fails (the county must see it to correct it),
    unless it is shaped like a person ID; anything else through the net ('' for None)."""
    if value is None:
        return ""
    text = str(value)
    code = text.strip().upper()
    if _USCC_SHAPE.match(code) and not id_shaped(code):
        return text
    return mask(text)


class MaskedFormatter(logging.Formatter):
    """A log formatter that masks the whole line, traceback included (:func:`mask`): a log is
    read by a person, and a library's message may quote a value of the data."""

    def format(self, record: logging.LogRecord) -> str:
        return mask(super().format(record))
