"""Identifiers as node keys: normalised before they become nodes, so that one phone written three
ways is one node (polars expressions); node ids, stable ids, and the first row of each key."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

import polars as pl

from audit.normalise import names_someone

_REPEATED_DIGIT = r"^(?:0+|1+|2+|3+|4+|5+|6+|7+|8+|9+)$"


def _usable(digits: pl.Expr, min_len: int) -> pl.Expr:
    """Digits long enough, and not one digit repeated (``00000000``, ``11111111111``)."""
    return pl.when(digits.str.contains(rf"^\d{{{min_len},}}$") & ~digits.str.contains(_REPEATED_DIGIT)).then(digits)


def phone_key(expr: pl.Expr) -> pl.Expr:
    """A phone as digits only, without a +86 / 0086 country prefix; null when unusable."""
    digits = expr.cast(pl.String).str.normalize("NFKC").str.replace_all(r"\D", "")
    # a mobile number (1 + 10 digits) behind a country code: drop the code
    return _usable(digits.str.replace(r"^(?:0086|86)(1\d{10})$", "$1"), 7)


def card_digits(expr: pl.Expr) -> pl.Expr:
    """A bank card or account number as its digits only (full-width folded; spaces, dashes and any
    other separators dropped): ``6217 3257 …`` and ``6217-3257-…`` are one card. Null when no
    digit is left; unlike :func:`card_key`, a short number stays (two numbers are compared, not
    made a node)."""
    digits = expr.cast(pl.String).str.normalize("NFKC").str.replace_all(r"\D", "")
    return pl.when(digits.str.len_chars() > 0).then(digits)


def card_key(expr: pl.Expr) -> pl.Expr:
    """A bank card or account number as digits only; null when too short to identify an account."""
    return _usable(expr.cast(pl.String).str.normalize("NFKC").str.replace_all(r"\D", ""), 10)


def address_key(expr: pl.Expr) -> pl.Expr:
    """An address with full-width forms folded (NFKC), whitespace and punctuation removed.

    An address without a digit (no street or house number: ``南昌市东湖区``) names an area, not a
    place, and would link every unit in it: it is not a node.
    """
    text = (
        expr.cast(pl.String).str.normalize("NFKC").str.to_lowercase()
        .str.replace_all(r"[\s\p{P}\p{S}]+", "")
    )
    return pl.when(text.str.contains(r"\d") & (text.str.len_chars() >= 6)).then(text)


def person_key(expr: pl.Expr) -> pl.Expr:
    """A person ID as it is already normalised by the loader (upper-case X), null when empty."""
    text = expr.cast(pl.String).str.strip_chars().str.to_uppercase()
    return pl.when(text.str.len_chars() > 0).then(text)


def rep_key(expr: pl.Expr) -> pl.Expr:
    """A legal representative's ID as a node: :func:`person_key` where it names someone (18
    characters; a placeholder such as ``0`` or ``无`` in two units' rows is no one and links
    nothing), else null."""
    key = person_key(expr)
    return pl.when(names_someone(key)).then(key)


def first_rows(lf: pl.LazyFrame, key: str | list[str], among: pl.LazyFrame | None = None) -> pl.LazyFrame:
    """The first row of each ``key`` in table order, for the keys of ``among`` only (all when None).

    ``unique(key)`` keeps any row of a repeated key, and which one changes from run to run (a
    claim id or person ID the registry holds twice — DATA_QUALITY's duplicate keys); the first in
    the file is the one the reports use (:func:`reports.data.load_run`). Restricting to ``among``
    first keeps it cheap on millions of rows.
    """
    lf = lf.with_row_index("_first_row")
    if among is not None:
        lf = lf.join(among, on=key, how="semi")
    return lf.sort("_first_row").unique(key, keep="first", maintain_order=True).drop("_first_row")


def node_id(prefix: str, key: pl.Expr) -> pl.Expr:
    return pl.concat_str([pl.lit(prefix + ":"), key])


def stable_id(prefix: str, keys: Iterable[str]) -> str:
    """An id stable across reruns: a hash of the sorted keys."""
    digest = hashlib.sha1("\n".join(sorted(keys)).encode("utf-8")).hexdigest()[:12]
    return f"{prefix}{digest}"
