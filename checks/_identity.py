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

Every registry spells IDs its own way (RULES.md §8, "One person across registries"): a 15-digit
legacy form, full-width digits, spaces or tabs, a lower-case x. The loader reads every ID column
of every table — trainees, agreements, claims, social_insurance, employment, deaths,
allowance_payments and the legal representatives of units and market_registry — to one
normalised 18-character ID (:func:`audit.normalise.person_id_table`), so those spellings already
meet as one ``person_id``. What is left is the corroborated typo: :func:`identity_links` (a tiny
table, built once per run) links it to the valid ID, and :func:`person_aliases` lists, for each
person known under several IDs, all of them. A rule that joins people across tables matches a
row under ANY ID of the person — :func:`with_aliases` multiplies the few linked rows of the
smaller side, :func:`rows_under_ids` fetches a few persons' rows of a large table, and
:func:`under_every_id` / :func:`with_person_key_few` touch only the linked rows of a large table
(a million-row table is never joined whole to the links); a spelling difference is no finding of
its own. A legal
representative's ID has nothing to corroborate a typo with (no name, card or phone), so it is
resolved through its spellings only: the loader's normalised ID, never these links.
"""

from __future__ import annotations

import polars as pl

from audit.graph.keys import card_key, phone_key
from audit.normalise import names_someone
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


def names_a_person(col: str) -> pl.Expr:
    """Whether the ID column ``col`` names someone (:func:`audit.normalise.names_someone`)."""
    return names_someone(pl.col(col))


def _clean(col: str) -> pl.Expr:
    """A comparable name: full-width forms folded (NFKC), whitespace and punctuation removed —
    ``阿不都·热合曼`` and ``阿不都 热合曼`` are one spelling; empty → null."""
    text = pl.col(col).cast(pl.String).str.normalize("NFKC").str.replace_all(r"[\s\p{P}]+", "")
    return pl.when(text.str.len_chars() > 0).then(text).otherwise(None).alias(col)


def _trainee_contacts(t: Tables) -> pl.LazyFrame:
    return t.trainees.select(
        pl.col("person_id"),
        # a row the loader did not flag is an unflagged (valid) ID
        pl.col("person_id_status").fill_null("ok").alias("status"),
        _clean("name"),
        # a card and a phone compared as their digits, as the ledgers and graphs compare them:
        # ``6217 3226 …`` and ``6217-3226-…`` are one card, ``133-0962-2065`` and ``+86 13309622065``
        # one phone; a number too short or one digit repeated corroborates nothing
        card_key(pl.col("bank_card")).alias("bank_card"),
        phone_key(pl.col("phone")).alias("phone"),
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


@shared(uses=(identity_links,))
def person_aliases(t: Tables, policy: Policy) -> pl.LazyFrame:
    """Every ID of a natural person known under more than one ID, paired with each of that
    person's IDs (itself included): person_id, alias, person_key, link and link_via — how the two
    are one person: the link (:func:`identity_links`) of whichever of them is not the valid ID
    ``person_key`` (of ``alias`` where neither is), ``self`` for an ID paired with itself. A few
    rows per linked person; an ID absent from it has no other ID."""
    links = identity_links(t, policy)
    members = pl.concat([
        links.select("person_key", "person_id", "link", "link_via"),
        links.select("person_key", pl.col("person_key").alias("person_id"), pl.lit("self").alias("link"),
                     pl.lit(None, pl.String).alias("link_via")).unique(),
    ])
    pairs = members.rename({"link": "_own", "link_via": "_own_via"}).join(
        members.rename({"person_id": "alias"}), on="person_key")
    alias_is_key = pl.col("alias") == pl.col("person_key")
    return (
        pairs.with_columns(
            pl.when(pl.col("person_id") == pl.col("alias")).then(pl.lit("self"))
            .when(alias_is_key).then(pl.col("_own")).otherwise(pl.col("link")).alias("link"),
            pl.when(pl.col("person_id") == pl.col("alias")).then(pl.lit(None, pl.String))
            .when(alias_is_key).then(pl.col("_own_via")).otherwise(pl.col("link_via")).alias("link_via"),
        )
        .select("person_id", "alias", "person_key", "link", "link_via")
        .sort("person_id", "alias")
    )


def with_aliases(lf: pl.LazyFrame, t: Tables, policy: Policy, *, on: str = "person_id",
                 alias: str = "_alias") -> pl.LazyFrame:
    """``lf`` with each row once per ID of its person (column ``alias``): the ID itself, and for a
    person known under several IDs (:func:`person_aliases`) each of them. Join ``alias`` to
    another table's ID column to find that person's rows there under any of their IDs; the
    larger table is left as it is (only the few linked rows are multiplied)."""
    pairs = person_aliases(t, policy).select(pl.col("person_id").alias("_alias_of"), pl.col("alias").alias(alias))
    return lf.join(pairs, left_on=on, right_on="_alias_of", how="left").with_columns(pl.coalesce(alias, on).alias(alias))


def rows_under_ids(rows: pl.LazyFrame, ids: pl.LazyFrame, t: Tables, policy: Policy, *, on: str = "person_id",
                   of: str = "_of") -> pl.LazyFrame:
    """The rows of ``rows`` (a large table whose ID column is ``on``) of the persons whose IDs are
    listed in ``ids`` (column ``person_id``, a few thousand), under any of their IDs; column ``of``
    says which ID of ``ids`` a row belongs to (a row belongs to two where ``ids`` lists two IDs of
    one person). Filtering the large table on the wanted IDs first keeps it from being joined whole."""
    wanted = with_aliases(ids.select("person_id").unique(), t, policy, alias="_alias")
    return rows.join(wanted.select("_alias").unique(), left_on=on, right_on="_alias", how="semi").join(
        wanted.select(pl.col("person_id").alias(of), "_alias"), left_on=on, right_on="_alias")


def under_every_id(rows: pl.LazyFrame, t: Tables, policy: Policy, *, on: str = "person_id",
                   original: str = "row_person_id") -> pl.LazyFrame:
    """``rows`` (a large table whose ID column is ``on``) with, for each row of a person known
    under several IDs, a copy under each of that person's other IDs (``on`` set to it);
    ``original`` keeps the ID the row carries. A join or a sum on ``on`` then sees each person's
    rows under every ID of the person; only the few rows of linked IDs are copied."""
    rows = rows.with_columns(pl.col(on).alias(original))
    copies = (
        rows.filter(is_linked(t, policy, on))
        .join(person_aliases(t, policy).select(pl.col("person_id").alias("_alias_of"), "alias"),
              left_on=on, right_on="_alias_of")
        .filter(pl.col("alias") != pl.col(on))
        .with_columns(pl.col("alias").alias(on))
        .drop("alias")
    )
    return pl.concat([rows, copies])


def with_person_key_few(lf: pl.LazyFrame, t: Tables, policy: Policy, *, on: str = "person_id",
                        alias: str = "person_key") -> pl.LazyFrame:
    """:func:`with_person_key` for a large table: only the rows of linked IDs (a few) are joined to
    the links; every other row's key is its own ID. The row order changes."""
    linked = is_linked(t, policy, on)
    keys = person_aliases(t, policy).select(pl.col("person_id").alias("_key_of"), pl.col("person_key").alias(alias)).unique()
    return pl.concat([
        lf.filter(~linked.fill_null(False)).with_columns(pl.col(on).alias(alias)),
        lf.filter(linked).join(keys, left_on=on, right_on="_key_of"),
    ])


def linked_ids(t: Tables, policy: Policy) -> pl.LazyFrame:
    """``person_id``: the IDs of the persons known under several IDs (a few hundred of a million):
    the only rows a count per person by raw ID would split."""
    return person_aliases(t, policy).select("person_id").unique()


def is_linked(t: Tables, policy: Policy, on: str = "person_id") -> pl.Expr:
    """Whether ``on`` is the ID of a person known under several IDs. The IDs (a few hundred, from
    the shared identity links already in memory) are collected once into the expression, so a
    large table is filtered on a list of values instead of joined."""
    return pl.col(on).is_in(linked_ids(t, policy).collect().to_series().implode())


#: the statuses of an ID that names no one as written (:func:`audit.normalise.person_id_table`)
SUSPECT_STATUSES = ("bad_check", "malformed")
#: why a rule that accuses on what the registries do NOT hold under a person's ID leaves a person
#: known only under an ID that fails its check unjudged (RULES.md §8, "One person across registries")
UNRESOLVED_ID = ("身份证号校验码错误或格式不符，且见习人员登记中无可佐证的正确证件号：其他登记可能以正确证件号记录此人，"
                 "“查无记录”不作为依据，未判断 / the ID fails its check and no registration corroborates the valid one: "
                 "the registries may hold the person under it, so finding nothing under this ID proves nothing")
GAP_UNRESOLVED_ID = "证件号校验失败且无法对应"


@shared(tables=("trainees", "agreements", "claims"), uses=(identity_links,))
def unresolved_ids(t: Tables, policy: Policy) -> pl.LazyFrame:
    """``person_id``: the IDs of the trainee register, agreements and claims that fail their check
    (bad_check, malformed) and that no corroborated link (:func:`identity_links`) ties to a valid
    ID — a few, usually none. Nothing found in another registry under such an ID proves nothing:
    a registry that checks IDs holds the person under the valid one. The rules that accuse on an
    absence (no allowance paid, no contract or insurance after retention) skip them."""
    suspect = [tbl.filter(pl.col("person_id_status").is_in(SUSPECT_STATUSES)).select(pl.col("person_id").cast(pl.String))
               for tbl in (t.trainees, t.agreements, t.claims)]
    return (pl.concat(suspect).drop_nulls().unique()
            .join(identity_links(t, policy).select("person_id"), on="person_id", how="anti").sort("person_id"))


def unknown_to(t: Tables, policy: Policy, *registries: pl.LazyFrame) -> pl.LazyFrame | None:
    """``person_id``: the IDs of :func:`unresolved_ids` that none of ``registries`` (frames with a
    ``person_id``) writes — where a registry does write one, it is that registry's name for the
    person, and what it lacks under it is evidence. None where there is no unresolved ID at all
    (the shared result, already in memory, is asked; the registries are then not read)."""
    ids = unresolved_ids(t, policy)
    if ids.select(pl.len()).collect().item() == 0:
        return None
    written = pl.concat([r.select(pl.col("person_id").cast(pl.String)) for r in registries]).join(
        ids, on="person_id", how="semi")
    return ids.join(written.unique(), on="person_id", how="anti")


def flag_ids(lf: pl.LazyFrame, ids: pl.LazyFrame | None, alias: str, on: str = "person_id") -> pl.LazyFrame:
    """``lf`` with ``alias``: whether its ``on`` is among the distinct values of ``ids``' only
    column (None: none)."""
    if ids is None:
        return lf.with_columns(pl.lit(False).alias(alias))
    return lf.join(ids.select(pl.nth(0).alias(on), pl.lit(True).alias(alias)), on=on, how="left").with_columns(
        pl.col(alias).fill_null(False))


def identity_evidence(t: Tables, policy: Policy, on: str = "person_id") -> pl.LazyFrame:
    """``on`` → ``identity_links``: the person's other IDs (person_id, link, link_via), for the
    evidence of a finding that matched rows under them; only IDs that have any."""
    return (
        person_aliases(t, policy).filter(pl.col("alias") != pl.col("person_id"))
        .group_by("person_id")
        .agg(pl.struct(pl.col("alias").alias("person_id"), "link", "link_via").sort_by("alias").alias("identity_links"))
        .rename({"person_id": on})
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

