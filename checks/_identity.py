"""Who is one person: the identity resolution shared by the trainee-level rules.

docs/semantics.md, "People": one person = one normalised 18-digit ID. The loader already turns a
legacy 15-digit ID into its 18-digit form, so the two forms carry the same ``person_id`` and are
one person without any work here. Two further kinds of ID are linked to a valid ID (status ``ok``
or ``legacy15``) only with corroboration — the same name AND (the same bank card OR the same
phone) on the ``trainees`` rows:

- ``bad_check``: an 18-character ID whose GB 11643 check digit fails;
- ``transposition``: an ID (failing, or malformed e.g. by an impossible birth date) that becomes
  the valid ID by one swap of two adjacent characters. This is a stronger link than
  ``bad_check`` alone and is preferred when both apply.

Two IDs that both validate are never linked (namesakes with one birth date, twins sharing a
family phone): name and birth date alone never make one person. Linking is by equi-joins within
blocks — (name, bank_card), (name, phone), and the ≤17 adjacent-swap variants of each suspect ID
— so it stays linear in the number of trainees, never pairwise.

The result maps every ``person_id`` seen in trainees, agreements or claims to a ``person_key``
(the canonical ID of the natural person), with how it was linked.
"""

from __future__ import annotations

import polars as pl

from audit.policy import Policy
from audit.tables import Tables, shared

VALID_STATUSES = ("ok", "legacy15")
IDENTITY_SCHEMA: dict[str, pl.DataType] = {
    "person_id": pl.String(),
    "person_key": pl.String(),
    "link": pl.String(),  # self | bad_check | transposition
    "link_via": pl.String(),  # bank_card | phone | bank_card+phone (null for self)
}
_LINK_PRIORITY = {"transposition": 0, "bad_check": 1}


def _clean(col: str) -> pl.Expr:
    """A comparable value: whitespace removed, empty → null (an empty card corroborates nothing)."""
    text = pl.col(col).cast(pl.String).str.replace_all(r"\s+", "")
    return pl.when(text.str.len_chars() > 0).then(text).otherwise(None).alias(col)


def _trainee_contacts(t: Tables) -> pl.LazyFrame:
    return t.trainees.select(
        pl.col("person_id"),
        # a row the loader did not flag is an unflagged (valid) ID
        pl.col("person_id_status").fill_null("ok").alias("status"),
        _clean("name"),
        _clean("bank_card"),
        _clean("phone"),
    ).filter(pl.col("person_id").is_not_null() & pl.col("name").is_not_null())


def _swap_variants(suspects: pl.LazyFrame) -> pl.LazyFrame:
    """Every ID one adjacent swap away from each suspect ID (≤17 rows per ID, vectorised)."""
    pid = pl.col("person_id")
    pos = pl.col("_pos")
    return (
        suspects.filter(pid.str.len_chars() == 18)
        .with_columns(pl.int_ranges(0, 17, dtype=pl.Int64).alias("_pos"))
        .explode("_pos")
        .with_columns(
            pl.concat_str(
                pid.str.slice(0, pos),
                pid.str.slice(pos + 1, 1),
                pid.str.slice(pos, 1),
                pid.str.slice(pos + 2),
            ).alias("_variant")
        )
        .filter(pl.col("_variant") != pid)
        .drop("_pos")
    )


@shared(tables=("trainees",), detection=("duplicate.max_transpositions",))
def identity_links(t: Tables, policy: Policy) -> pl.LazyFrame:
    """The corroborated links: suspect ``person_id`` → valid ``person_key``, one row per suspect.

    Columns: person_id, person_key, link, link_via, name (the shared name).
    """
    swaps = int(policy.detect("duplicate.max_transpositions"))
    # .cache(): the million register rows are cleaned once and read by every block below (the
    # valid IDs by three joins, the suspects by two), not once per join
    contacts = _trainee_contacts(t).cache()
    valid = contacts.filter(pl.col("status").is_in(VALID_STATUSES)).select(
        pl.col("person_id").alias("person_key"), "name", "bank_card", "phone"
    )
    suspects = contacts.filter(pl.col("status").is_in(("bad_check", "malformed"))).unique()

    # bad_check + same name + same card / same phone (blocked equi-joins)
    bad = suspects.filter(pl.col("status") == "bad_check")
    by_card = bad.drop("phone").drop_nulls("bank_card").join(
        valid.drop("phone").drop_nulls("bank_card"), on=["name", "bank_card"]
    ).select("person_id", "person_key", "name", pl.lit("bank_card").alias("_via"))
    by_phone = bad.drop("bank_card").drop_nulls("phone").join(
        valid.drop("bank_card").drop_nulls("phone"), on=["name", "phone"]
    ).select("person_id", "person_key", "name", pl.lit("phone").alias("_via"))
    by_check = pl.concat([by_card, by_phone]).with_columns(pl.lit("bad_check").alias("link"))

    candidates = [by_check]
    if swaps >= 1:
        # an adjacent swap still needs the same corroboration; only one swap is supported
        swapped = (
            _swap_variants(suspects)
            .join(valid, left_on="_variant", right_on="person_key", suffix="_v")
            .with_columns(pl.col("_variant").alias("person_key"))
            .filter(pl.col("name") == pl.col("name_v"))
        )
        by_swap = pl.concat(
            [
                swapped.filter(pl.col("bank_card") == pl.col("bank_card_v")).select(
                    "person_id", "person_key", "name", pl.lit("bank_card").alias("_via")
                ),
                swapped.filter(pl.col("phone") == pl.col("phone_v")).select(
                    "person_id", "person_key", "name", pl.lit("phone").alias("_via")
                ),
            ]
        ).with_columns(pl.lit("transposition").alias("link"))
        candidates.append(by_swap)

    return (
        pl.concat(candidates)
        .group_by("person_id", "person_key", "link")
        .agg(pl.col("name").first(), pl.col("_via").unique().sort().str.join("+").alias("link_via"))
        .with_columns(pl.col("link").replace_strict(_LINK_PRIORITY, return_dtype=pl.Int64).alias("_prio"))
        # several valid IDs could corroborate one suspect: a transposition wins over a bare
        # failed check digit; two equally good candidates are ambiguous and link to neither
        .filter(pl.col("_prio") == pl.col("_prio").min().over("person_id"))
        .filter(pl.len().over("person_id") == 1)
        .select("person_id", "person_key", "link", "link_via", "name")
    )


def person_identity(t: Tables, policy: Policy) -> pl.LazyFrame:
    """Each person_id seen in trainees/agreements/claims → its canonical ``person_key``.

    Columns as :data:`IDENTITY_SCHEMA`. An ID with no corroborated link is its own key
    (``link = self``).
    """
    seen = pl.concat(
        [tbl.select(pl.col("person_id").cast(pl.String)) for tbl in (t.trainees, t.agreements, t.claims)]
    ).drop_nulls().unique()
    links = identity_links(t, policy).drop("name")
    return (
        seen.join(links, on="person_id", how="left")
        .with_columns(
            pl.coalesce("person_key", "person_id").alias("person_key"),
            pl.col("link").fill_null("self"),
        )
        .select(list(IDENTITY_SCHEMA))
    )


def raw_id(col: str = "person_id") -> pl.Expr:
    """The ID as exported (``<col>_raw``), or the normalised one where the raw is missing."""
    return pl.coalesce(f"{col}_raw", col).alias(f"{col}_raw")


def with_person_key(lf: pl.LazyFrame, identity: pl.LazyFrame, *, on: str = "person_id",
                    alias: str = "person_key") -> pl.LazyFrame:
    """Add the canonical person key of column ``on`` (the ID itself where nothing links).

    ``identity`` is :func:`person_identity` or, cheaper at scale, :func:`identity_links` (only the
    linked IDs, a tiny table): an ID absent from it is its own key either way."""
    keys = identity.select(pl.col("person_id").alias("_pid_join"), pl.col("person_key").alias(alias))
    return lf.join(keys, left_on=on, right_on="_pid_join", how="left").with_columns(
        pl.coalesce(alias, on).alias(alias)
    )


def rows_of_persons(lf: pl.LazyFrame, person_keys: pl.LazyFrame, identity: pl.LazyFrame) -> pl.LazyFrame:
    """The rows of ``lf`` (a table with ``person_id``) belonging to the natural persons listed in
    ``person_keys`` (column ``person_key``), under any of their linked IDs, with ``person_key``
    added. Filtering on the raw ID first keeps an 8-million-row claims table from being widened
    and joined whole when only a few thousand persons are wanted."""
    keys = person_keys.select("person_key").unique()
    ids = pl.concat([
        keys.select(pl.col("person_key").alias("person_id")),
        identity.join(keys, on="person_key", how="semi").select("person_id"),
    ]).unique()
    return with_person_key(lf.join(ids, on="person_id", how="semi"), identity)

