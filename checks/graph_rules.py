"""Graph rules: rings of supplied identities, shell clusters, rotation, communities (RULES.md §9).

Every 2023 notice requires 部门间信息比对 to prevent 骗取、挪用、虚报、冒领; organised fraud shows
in the links between parties rather than in one row. These rules are investigative SIGNALS
(``signal_only=True``): they say where to look, they do not by themselves prove a violation,
and they put no money at risk (the money passing through is in the evidence) — all but one:
``GHOST_TRAINEE.card_shared_in_unit``, a unit paying several trainees' allowances into one card
or into its own account, is a finding with the months paid there at risk (issue #16). Shared
identifiers are joined in polars; connected components and Louvain communities run in
:mod:`audit.graph` on the small graph of linked units and flagged trainees only.
"""

from __future__ import annotations

import polars as pl

from audit import graph
from audit.masking import mask_card_expr, mask_phone_expr
from audit.policy import Policy
from audit.rules import ONGOING, Check, Severity, rule
from audit.tables import Tables, shared
from checks._citations import ALLOWANCE, DATA_COMPARISON, MONTH_END, citing
from checks._claims import claim_rows, with_claims
from checks._identity import identity_links, rows_of_persons, with_person_key
from checks._runs import new_run

_INFO_CLAUSES = DATA_COMPARISON
# Jiangxi's own clauses where they are in force; elsewhere the province's duty to compare registries
_UNIT_CLAUSES = ("赣人社发〔2023〕9号 四(一)2(5)③; 五(三) (防止补贴资金骗取、挪用、虚报、冒领)", *DATA_COMPARISON[1:])
_ROTATION_CLAUSES = ("赣人社发〔2023〕9号 四(二) (同一见习人员只能参加一次); 五(三)", *DATA_COMPARISON[1:])
LOUVAIN_SEED = 20230816  # fixed, so communities are the same on every run (赣人社发〔2023〕9号's date)


# ---------------------------------------------------------------------------------------------
# shared building blocks


def _pairs(t: Tables, persons: pl.LazyFrame | None = None, units: pl.LazyFrame | None = None) -> pl.LazyFrame:
    """``person_id, unit_id`` of agreements and claims, restricted first to the persons/units given.

    Restricting before de-duplicating keeps a national run fast: the rings and clusters name a
    few thousand trainees and units among millions of claims.
    """
    frames = []
    for table in (t.agreements, t.claims):
        lf = table.select("person_id", "unit_id")
        if persons is not None:
            lf = lf.join(persons, on="person_id", how="semi")
        if units is not None:
            lf = lf.join(units, on="unit_id", how="semi")
        frames.append(lf)
    return pl.concat(frames).drop_nulls().unique()


def _claimed(t: Tables, by: str, keys: pl.LazyFrame) -> pl.LazyFrame:
    """``<by>, claimed_yuan``: yuan claimed (subsidy + insurance) by the given persons or at the given units."""
    return t.claims.join(keys, on=by, how="semi").group_by(by).agg(
        (pl.col("amount").fill_null(0) + pl.col("insurance_amount").fill_null(0)).sum().round(2).alias("claimed_yuan"))


def _person_context(t: Tables, persons: pl.LazyFrame) -> pl.LazyFrame:
    """``person_id, unit_id, county_code, period_start, period_end``: the given trainees' internships."""
    spans = t.agreements.join(persons, on="person_id", how="semi").group_by("person_id").agg(
        pl.col("unit_id").sort().first(),
        pl.col("start_date").min().alias("period_start"),
        pl.coalesce("actual_end_date", "planned_end_date").max().alias("period_end"),
    )
    return spans.join(t.units.select("unit_id", "county_code"), on="unit_id", how="left")


_GROUP_SCHEMA = {
    "kind": pl.String, "key": pl.String, "persons": pl.List(pl.String), "units": pl.List(pl.String),
    "n_persons": pl.UInt32, "n_units": pl.UInt32, "account_of_units": pl.List(pl.String),
    "shared_kinds": pl.List(pl.String),
    "placements": pl.List(pl.Struct({"person_id": pl.String, "unit_id": pl.String})),
}


@shared(tables=("trainees", "agreements", "claims", "units", "market_registry"),
        detection=("graph.large_employer_staff", "graph.shared_phone_min_trainees"), uses=(identity_links,))
def graph_groups(t: Tables, policy: Policy) -> pl.LazyFrame:
    """The parties one identifier ties together, computed once per run:

    - ``kind = "card"`` / ``"phone"``: a card or phone (normalised, :func:`audit.graph.card_key`
      / :func:`~audit.graph.phone_key`) given by two or more trainees — fewer where
      ``graph.shared_phone_min_trainees`` asks fewer — and any trainee's card that is a unit's
      basic account (``account_of_units``); ``persons`` who give it (their IDs) and ``units``
      they have agreements or claims with, and their counts (``n_persons``: natural persons,
      :mod:`checks._identity` — one trainee registered under two IDs with one card is one);
    - ``kind = "cluster"``: units linked by a shared legal representative, phone or bank account,
      or by an address together with a trainee placed at both (:func:`linked_units`), ``key`` the
      cluster's smallest unit id, ``units`` its members,
      ``shared_kinds`` what links them, ``placements`` the (person_id, unit_id) pairs of agreements
      and claims at its units (:func:`placements`).

    Five rules read these (the card and phone rings, the shell clusters and rotation among
    linked units, and the flagged communities), each applying its own thresholds to the groups.
    """
    large = int(policy.detect("graph.large_employer_staff"))
    min_phone = min(2, int(policy.detect("graph.shared_phone_min_trainees")))
    # .cache(): each subplan is used twice or more; computed once per query, not once per use
    accounts = graph.unit_identifiers(t).filter(pl.col("kind") == "bank").group_by("key").agg(
        pl.col("unit_id").unique().sort().alias("account_of_units")).cache()

    def given(kind: str, key: pl.Expr, fewest: int) -> pl.LazyFrame:
        """``person_id, kind, key`` of the trainees' cards or phones that may be shared. Nearly
        all of a million keys are given once: one is_duplicated pass drops them before any
        de-duplication or grouping on strings (a unit's account counts given once)."""
        rows = t.trainees.select("person_id", key.alias("key")).drop_nulls()
        if fewest >= 2:
            rows = rows.cache()
            kept = [rows.filter(pl.col("key").is_duplicated())]
            if kind == "card":
                kept.append(rows.join(accounts.select("key"), on="key", how="semi"))
            rows = pl.concat(kept)
        return rows.unique().select("person_id", pl.lit(kind).alias("kind"), "key")

    ids = with_person_key(pl.concat([given("card", graph.card_key(pl.col("bank_card")), 2),
                                     given("phone", graph.phone_key(pl.col("phone")), min_phone)]),
                          identity_links(t, policy)).cache()
    min_persons = pl.when(pl.col("kind") == "card").then(2).otherwise(min_phone)
    shared = pl.concat([
        ids.group_by("kind", "key").agg(pl.col("person_key").n_unique().alias("n"))
        .filter(pl.col("n") >= min_persons).select("kind", "key"),
        accounts.select(pl.lit("card").alias("kind"), "key"),
    ]).unique()
    ids = ids.join(shared, on=["kind", "key"], how="semi").cache()
    rings = (
        ids.join(_pairs(t, persons=ids.select("person_id").unique()), on="person_id", how="left")
        .group_by("kind", "key")
        .agg(
            pl.col("person_id").unique().sort().alias("persons"),
            pl.col("unit_id").drop_nulls().unique().sort().alias("units"),
            pl.col("person_key").n_unique().alias("n_persons"),
        )
        .with_columns(pl.col("units").list.len().alias("n_units"))
        .join(accounts, on="key", how="left")
        .with_columns(pl.when(pl.col("kind") == "card").then(pl.col("account_of_units")).alias("account_of_units"))
    )
    linked = _linked_units(t, large, identity_links(t, policy)).lazy()
    placed = _pairs(t, units=linked.select("unit_id")).join(linked.select("unit_id", "component"), on="unit_id") \
        .group_by("component").agg(pl.struct("person_id", "unit_id").sort().alias("placements"))
    clusters = (
        linked.group_by("component").agg(pl.col("unit_id").sort().alias("units"), pl.col("shared_kinds").first())
        .join(placed, on="component", how="left")
        .with_columns(pl.col("placements").fill_null([]))
    )
    return pl.concat([
        rings,
        clusters.select(pl.lit("cluster").alias("kind"), pl.col("component").alias("key"), "units",
                        pl.col("units").list.len().alias("n_units"), "shared_kinds", "placements"),
    ], how="diagonal").select([pl.col(c).cast(d) if c in ("n_persons", "n_units") else pl.col(c)
                               for c, d in _GROUP_SCHEMA.items()])


def _rings(t: Tables, policy: Policy, kind: str, min_persons: int = 2) -> pl.LazyFrame:
    """``key, persons, units, n_persons, n_units`` (and ``account_of_units`` for cards): the cards or
    phones given by ``min_persons`` or more trainees, from :func:`graph_groups`."""
    return graph_groups(t, policy).filter((pl.col("kind") == kind) & (pl.col("n_persons") >= min_persons)).drop(
        "kind", "shared_kinds")


def _person_findings(t: Tables, rings: pl.LazyFrame, evidence: list[pl.Expr]) -> pl.LazyFrame:
    """One finding per trainee in a ring, located at the trainee's (first) unit and internship."""
    members = rings.explode("persons").rename({"persons": "person_id"}).cache()
    persons = members.select("person_id").unique().cache()
    return (
        members
        .join(_person_context(t, persons), on="person_id", how="left")
        .join(_claimed(t, "person_id", persons), on="person_id", how="left")
        .with_columns(pl.col("claimed_yuan").fill_null(0.0))
        .select("person_id", "unit_id", "county_code", "period_start", "period_end",
                pl.lit(0.0).alias("amount_at_risk"), pl.struct(*evidence).alias("evidence"))
    )


def linked_units(t: Tables, policy: Policy) -> pl.LazyFrame:
    """``unit_id, component, shared_kinds``: units linked by a shared legal representative, phone or
    bank account, or by an address and a trainee placed at both, with the smallest unit id of
    their connected cluster as its label (the ``cluster`` groups of :func:`graph_groups`, one row
    per unit)."""
    return (
        graph_groups(t, policy).filter(pl.col("kind") == "cluster")
        .select(pl.col("units").alias("unit_id"), pl.col("key").alias("component"), "shared_kinds")
        .explode("unit_id")
    )


def placements(t: Tables, policy: Policy) -> pl.LazyFrame:
    """``person_id, unit_id, component, shared_kinds``: every trainee with an agreement or a claim
    at a linked unit (``_pairs(t, units=linked)`` joined to :func:`linked_units`), from the
    ``placements`` of the cluster groups."""
    return (
        graph_groups(t, policy).filter(pl.col("kind") == "cluster")
        .select(pl.col("key").alias("component"), "shared_kinds", "placements")
        .explode("placements").unnest("placements")
        .drop_nulls(["person_id", "unit_id"])
    )


def _linked_units(t: Tables, large: int, links: pl.LazyFrame) -> pl.DataFrame:
    """Build the unit clusters of :func:`linked_units` (networkx on the few linked units).

    Large employers (staff ≥ ``graph.large_employer_staff``) are left out: they legitimately share
    switchboards, addresses and owners with their branches. An address alone links nothing: an
    incubator or an office building hosts unrelated firms at one address. Units at one address
    are linked only through a trainee (a natural person, ``links``: :mod:`checks._identity`)
    placed at two or more of them.
    """
    ids = graph.unit_identifiers(t, large).collect()
    shared = (
        ids.group_by("kind", "key").agg(pl.col("unit_id").unique())
        .filter(pl.col("unit_id").list.len() >= 2)
        .explode("unit_id")
    )
    at_address = shared.filter(pl.col("kind") == "address").lazy()
    through_trainees = (
        with_person_key(_pairs(t, units=at_address.select("unit_id").unique()), links)
        .join(at_address.select("unit_id", "key"), on="unit_id")
        .group_by("key", "person_key").agg(pl.col("unit_id").unique())
        .filter(pl.col("unit_id").list.len() >= 2)
        .explode("unit_id")
        .select(pl.lit("address").alias("kind"), pl.concat_str([pl.col("key"), pl.lit("|"), pl.col("person_key")]).alias("key"),
                "unit_id")
        .unique()
        .collect()
    )
    shared = pl.concat([shared.filter(pl.col("kind") != "address"), through_trainees.select(shared.columns)])
    if shared.height == 0:
        return pl.DataFrame(schema={"unit_id": pl.String, "component": pl.String, "shared_kinds": pl.List(pl.String)})
    comps = graph.components(
        shared.select("unit_id", pl.concat_str([pl.col("kind"), pl.lit(":"), pl.col("key")]).alias("ident")),
        "unit_id", "ident",
    )
    kinds = comps.join(shared.select("unit_id", "kind"), on="unit_id").group_by("component").agg(
        pl.col("kind").unique().sort().alias("shared_kinds"))
    return comps.join(kinds, on="component").sort("unit_id")


# ---------------------------------------------------------------------------------------------
# rules


@rule(
    id="GHOST_TRAINEE.shared_card_ring",
    identity=ONGOING,
    facts=("card", "units", "trainees_sharing"),
    title="多名见习人员共用同一银行卡（跨单位）",
    severity=Severity.HIGH,
    citations=_INFO_CLAUSES,
    detection_params=("graph.shared_card_min_units",),
    signal_only=True,
)
@citing(_INFO_CLAUSES)
def shared_card_ring(t: Tables, policy: Policy) -> pl.LazyFrame:
    """A bank or social-security card is one person's: when trainees at ``graph.shared_card_min_units``
    or more different units give the same card, or a trainee's card is a unit's basic account,
    the allowance of supplied identities is flowing to one pocket. Signal; every trainee sharing the
    card is listed, at the unit and internship period of their agreements — for a unit's account,
    every trainee placed by the end of the audit month (one not yet placed is no finding yet).
    """
    min_units = int(policy.detect("graph.shared_card_min_units"))
    across = (pl.col("n_persons") >= 2) & (pl.col("n_units") >= min_units)
    rings = _rings(t, policy, "card", 1).filter(across | pl.col("account_of_units").is_not_null())
    # a card that is a unit's account says something of a trainee placed somewhere by the audit
    # month's end (an agreement or a claim); of one not yet placed, nothing yet
    evidence = pl.col("evidence")
    across_found = (evidence.struct.field("trainees_sharing") >= 2) & (evidence.struct.field("units_count") >= min_units)
    return _person_findings(t, rings, [
        mask_card_expr(pl.col("key")).alias("card"),
        pl.col("n_persons").alias("trainees_sharing"),
        pl.col("units").alias("units"),
        pl.col("n_units").alias("units_count"),
        pl.col("account_of_units").alias("card_is_account_of_units"),
        pl.col("claimed_yuan"),
        pl.lit(min_units).alias("graph_shared_card_min_units"),
    ]).filter(across_found | pl.col("unit_id").is_not_null())


@rule(
    id="GHOST_TRAINEE.shared_phone_ring",
    identity=ONGOING,
    facts=("phone", "units", "trainees_sharing"),
    title="多名见习人员共用同一手机号（跨单位）",
    severity=Severity.MEDIUM,
    citations=_INFO_CLAUSES,
    detection_params=("graph.shared_card_min_units", "graph.shared_phone_min_trainees"),
    signal_only=True,
)
@citing(_INFO_CLAUSES)
def shared_phone_ring(t: Tables, policy: Policy) -> pl.LazyFrame:
    """One mobile number given by ``graph.shared_phone_min_trainees`` or more trainees placed at
    ``graph.shared_card_min_units`` or more different units suggests an intermediary filling in
    supplied identities. Two relatives sharing a home phone stay below the trainee threshold; a
    unit giving its own HR number for its trainees stays below the unit threshold. Signal.
    """
    min_units = int(policy.detect("graph.shared_card_min_units"))
    min_trainees = int(policy.detect("graph.shared_phone_min_trainees"))
    rings = _rings(t, policy, "phone", min_trainees).filter(
        (pl.col("n_persons") >= min_trainees) & (pl.col("n_units") >= min_units)
    )
    return _person_findings(t, rings, [
        mask_phone_expr(pl.col("key")).alias("phone"),
        pl.col("n_persons").alias("trainees_sharing"),
        pl.col("units").alias("units"),
        pl.col("n_units").alias("units_count"),
        pl.col("claimed_yuan"),
        pl.lit(min_units).alias("graph_shared_card_min_units"),
        pl.lit(min_trainees).alias("graph_shared_phone_min_trainees"),
    ])


@rule(
    id="UNIT_INELIGIBLE.shell_cluster",
    identity=ONGOING,
    facts=("units", "shared_kinds"),
    title="多家见习单位共用法定代表人/电话/地址/账户（疑似空壳集群）",
    severity=Severity.MEDIUM,
    citations=_UNIT_CLAUSES,
    detection_params=("graph.shell_min_units", "graph.shell_min_trainees", "graph.large_employer_staff"),
    signal_only=True,
)
@citing(_UNIT_CLAUSES, on=MONTH_END)
def shell_cluster(t: Tables, policy: Policy) -> pl.LazyFrame:
    """Units linked (directly or through each other) by a shared legal representative, phone or bank
    account — or by an address, only together with a trainee placed at both (incubators host
    unrelated firms at one address) — form a cluster; a cluster of ``graph.shell_min_units`` or
    more units, with shared trainees (a natural person placed at two or more of its units) and
    ``graph.shell_min_trainees`` or more trainees passing through it, is a candidate shell
    cluster, weighted by its trainees and the yuan claimed through it. Large employers
    (``graph.large_employer_staff``) are not linked by what they share. Signal; one finding per
    unit of the cluster.
    """
    min_units = int(policy.detect("graph.shell_min_units"))
    min_trainees = int(policy.detect("graph.shell_min_trainees"))
    linked = linked_units(t, policy)
    units = linked.select("unit_id")
    members = linked.group_by("component").agg(pl.col("unit_id").sort().alias("units"))
    people = with_person_key(placements(t, policy), identity_links(t, policy))
    shared_trainees = (
        people.group_by("component", "person_key").agg(pl.col("unit_id").n_unique().alias("_units"))
        .filter(pl.col("_units") >= 2)
        .group_by("component").agg(pl.len().cast(pl.Int64).alias("shared_trainees"))
    )
    through = people.group_by("component").agg(pl.col("person_key").n_unique().alias("trainees")).join(
        shared_trainees, on="component", how="left")
    # the linked units' claims, read once for the money and the months
    per_unit = t.claims.join(units, on="unit_id", how="semi").group_by("unit_id").agg(
        (pl.col("amount").fill_null(0) + pl.col("insurance_amount").fill_null(0)).sum().round(2).alias("claimed_yuan"),
        pl.col("claim_month").min().alias("period_start"), pl.col("claim_month").max().alias("period_end"),
    ).cache()
    money = per_unit.join(linked, on="unit_id").group_by("component").agg(pl.col("claimed_yuan").sum().round(2))
    spans = per_unit.select("unit_id", "period_start", "period_end")
    clusters = (
        members.join(through, on="component", how="left").join(money, on="component", how="left")
        .with_columns(pl.col("trainees").fill_null(0), pl.col("shared_trainees").fill_null(0),
                      pl.col("claimed_yuan").fill_null(0.0), pl.col("units").list.len().alias("units_count"))
        .filter((pl.col("units_count") >= min_units) & (pl.col("trainees") >= min_trainees)
                & (pl.col("shared_trainees") >= 1))
    )
    return (
        linked.join(clusters, on="component")
        .join(t.units.select("unit_id", "county_code"), on="unit_id", how="left")
        .join(spans, on="unit_id", how="left")
        .select("unit_id", "county_code", "period_start", "period_end", pl.lit(0.0).alias("amount_at_risk"),
                pl.struct(
                    pl.col("component").alias("cluster"), "units", "units_count", "shared_kinds",
                    pl.col("trainees").alias("trainees_through_cluster"), "shared_trainees", "claimed_yuan",
                    pl.lit(min_units).alias("graph_shell_min_units"),
                    pl.lit(min_trainees).alias("graph_shell_min_trainees"),
                ).alias("evidence"))
    )


@rule(
    id="GHOST_TRAINEE.rotation_linked_units",
    identity=ONGOING,
    facts=("units",),
    title="见习人员在关联单位之间轮转见习",
    severity=Severity.MEDIUM,
    citations=_ROTATION_CLAUSES,
    detection_params=("graph.large_employer_staff",),
    signal_only=True,
)
@citing(_ROTATION_CLAUSES)
def rotation_linked_units(t: Tables, policy: Policy) -> pl.LazyFrame:
    """A trainee with agreements or claims at two or more units that share a legal representative,
    phone, bank account or address is being rotated among one owner's units — the one-internship
    rule (同一见习人员只能参加一次就业见习) evaded by changing the unit code. Large employers'
    branches are not linked by what they share. Signal.
    """
    rotations = (
        placements(t, policy)
        .group_by("person_id", "component")
        .agg(pl.col("unit_id").unique().sort().alias("units"), pl.col("shared_kinds").first())
        .filter(pl.col("units").list.len() >= 2)
    )
    persons = rotations.select("person_id").unique()
    spans = t.agreements.join(persons, on="person_id", how="semi").group_by("person_id").agg(
        pl.col("start_date").min().alias("period_start"),
        pl.coalesce("actual_end_date", "planned_end_date").max().alias("period_end"),
        pl.len().alias("agreements"),
    )
    return (
        rotations.join(spans, on="person_id", how="left")
        .join(_claimed(t, "person_id", persons), on="person_id", how="left")
        .with_columns(pl.col("units").list.first().alias("unit_id"))
        .join(t.units.select("unit_id", "county_code"), on="unit_id", how="left")
        .select("person_id", "unit_id", "county_code", "period_start", "period_end",
                pl.lit(0.0).alias("amount_at_risk"),
                pl.struct(pl.col("component").alias("cluster"), "units", "shared_kinds",
                          pl.col("agreements").fill_null(0), pl.col("claimed_yuan").fill_null(0.0)).alias("evidence"))
    )


def _internship_spans(t: Tables, pairs: pl.LazyFrame) -> pl.LazyFrame:
    """``person_id, unit_id, period_start, period_end``: the first start and last end (actual, else
    planned) of the agreements of each given trainee at each given unit."""
    return t.agreements.join(pairs.select("person_id", "unit_id").unique(), on=["person_id", "unit_id"], how="semi").group_by(
        "person_id", "unit_id").agg(
        pl.col("start_date").min().alias("period_start"),
        pl.coalesce("actual_end_date", "planned_end_date").max().alias("period_end"),
    )


@rule(
    id="GHOST_TRAINEE.card_shared_in_unit",
    identity=ONGOING,
    facts=("card", "trainees_sharing", "card_is_unit_account"),
    title="同一单位多名见习人员登记同一银行卡或登记单位基本账户（生活费未发至见习人员本人）",
    severity=Severity.HIGH,
    citations=ALLOWANCE,
    exit_condition=3,  # the unit paid several trainees' allowances into one account: it knew
)
@citing(ALLOWANCE)
def card_shared_in_unit(t: Tables, policy: Policy) -> pl.LazyFrame:
    """A bank or social-security card is one person's, and the unit pays each trainee's allowance
    to the trainee (先垫后补; Hunan: 通过银行卡或者社保卡). Two or more trainees of one unit —
    natural persons (:mod:`checks._identity`), with an agreement or a claim there — registered with
    one card (normalised: digits only), or a trainee registered with the unit's own basic account,
    were not paid: the allowances of the unit's trainees went to one pocket (the legal
    representative's, another trainee's, the unit's). The same card at two units is
    shared_card_ring's signal. One finding per trainee and unit. Period: the trainee's
    agreements at the unit. Money at risk: the trainee's monthly claims at the unit for the months
    whose allowance the unit's ledger (allowance_payments) shows paid to that card or account;
    without the ledger nothing is priced and the evidence says so.
    """
    cards = graph_groups(t, policy).filter(pl.col("kind") == "card").select("key", "persons", "account_of_units")
    members = cards.explode("persons").rename({"persons": "person_id"}).drop_nulls("person_id")
    links = identity_links(t, policy)
    placed = with_person_key(
        members.join(_pairs(t, persons=members.select("person_id").unique()), on="person_id"), links).cache()
    sharers = placed.group_by("key", "unit_id").agg(pl.col("person_key").n_unique().alias("trainees_sharing"))
    is_account = pl.col("account_of_units").list.contains(pl.col("unit_id")).fill_null(False)
    hits = (
        placed.join(sharers, on=["key", "unit_id"])
        .with_columns(is_account.alias("card_is_unit_account"))
        .filter((pl.col("trainees_sharing") >= 2) | pl.col("card_is_unit_account"))
        .select("person_id", "person_key", "unit_id", "key", "trainees_sharing", "card_is_unit_account")
        .unique(["person_id", "unit_id"])
        .cache()
    )
    claims = (
        rows_of_persons(claim_rows(t), hits.select("person_key"), links)
        .filter(pl.col("claim_type") == "月度")
        .join(hits.select("person_key", "unit_id", "key"), on=["person_key", "unit_id"])
    )
    if t.allowance_payments is not None:
        to_card = (
            rows_of_persons(t.allowance_payments.select("person_id", "unit_id", "month", "amount", "account"),
                            hits.select("person_key"), links)
            .filter(pl.col("amount") > 0)
            .join(hits.select("person_key", "unit_id", "key"), on=["person_key", "unit_id"])
            .filter(graph.card_key(pl.col("account")) == pl.col("key"))
            .select("person_key", "unit_id", pl.col("month").alias("claim_month"))
            .unique()
        )
        claims = claims.join(to_card, on=["person_key", "unit_id", "claim_month"], how="semi")
    else:
        claims = claims.head(0)
    matched = claims.join(hits.select("person_id", "person_key", "unit_id"), on=["person_key", "unit_id"],
                          suffix="_trainee").drop("person_id").rename({"person_id_trainee": "person_id"})
    found = (
        hits.join(_internship_spans(t, hits), on=["person_id", "unit_id"], how="left")
        .join(t.units.select("unit_id", "county_code").unique("unit_id"), on="unit_id", how="left")
    )
    months = matched.group_by("person_id", "unit_id").agg(
        pl.col("claim_month").unique().sort().alias("months_paid_to_card"))
    return (
        with_claims(found, matched, ["person_id", "unit_id"])
        .join(months, on=["person_id", "unit_id"], how="left")
        .select(
            "person_id", "unit_id", "county_code", "period_start", "period_end", "amount_at_risk", "claims_at_risk",
            pl.struct(
                mask_card_expr(pl.col("key")).alias("card"), "trainees_sharing", "card_is_unit_account",
                pl.lit(t.allowance_payments is not None).alias("ledger_given"),
                pl.col("months_paid_to_card").fill_null([]), "claims",
            ).alias("evidence"),
        )
    )


@rule(
    id="GHOST_TRAINEE.batch_paperwork",
    identity=ONGOING,
    facts=("batch_agreements",),
    title="【调查线索】同一单位多名见习人员登记单位电话，协议同日审核且编号连续（疑似中介批量代办）",
    severity=Severity.MEDIUM,
    citations=_INFO_CLAUSES,
    detection_params=("batch.min_trainees",),
    signal_only=True,
)
@citing(_INFO_CLAUSES)
def batch_paperwork(t: Tables, policy: Policy) -> pl.LazyFrame:
    """An investigative signal, not a finding of a violation: batch.min_trainees or more trainees
    (natural persons) of one unit who all give the unit's own phone (normalised) as theirs, and
    whose agreements with it were approved on the same day under consecutive numbers (the same
    prefix, the trailing numbers one apart), were filled in by one hand — an intermediary's, the
    real cases' supplied identities. A cohort approved together under their own phones, or two
    siblings sharing a home phone, is not. One finding per trainee of the batch. Period: the
    trainee's agreements at the unit. No money at risk; the yuan claimed is in the evidence.
    """
    min_trainees = int(policy.detect("batch.min_trainees"))
    phones = graph_groups(t, policy).filter(pl.col("kind") == "phone").select("key", "persons")
    unit_phones = t.units.select("unit_id", graph.phone_key(pl.col("phone")).alias("key")).drop_nulls().unique()
    givers = (
        phones.join(unit_phones, on="key").explode("persons").rename({"persons": "person_id"})
        .select("person_id", "unit_id", "key")
    )
    number = pl.col("agreement_id").str.extract(r"(\d+)$").cast(pl.Int64, strict=False)
    batch = pl.col("unit_id").cast(pl.String) + "|" + pl.col("approved_date").cast(pl.String) + "|" + pl.col("_prefix")
    agreements = with_person_key(
        t.agreements.select("agreement_id", "person_id", "unit_id", "approved_date").join(
            givers, on=["person_id", "unit_id"]), identity_links(t, policy),
    ).with_columns(
        number.alias("_number"), pl.col("agreement_id").str.replace(r"\d+$", "").alias("_prefix"),
    ).drop_nulls(["approved_date", "_number"]).sort("unit_id", "approved_date", "_prefix", "_number")
    runs = (
        agreements.with_columns(batch.alias("_batch"))
        .with_columns(
            (new_run("_batch") | (pl.col("_number") - pl.col("_number").shift(1) > 1)).cum_sum().alias("_run"))
        .with_columns(pl.col("person_key").n_unique().over("_run").alias("batch_trainees"),
                      pl.col("_number").min().over("_run").alias("_first"),
                      pl.col("_number").max().over("_run").alias("_last"),
                      pl.col("agreement_id").sort_by("_number").over("_run", mapping_strategy="join").alias("batch_agreements"))
        .filter(pl.col("batch_trainees") >= min_trainees)
        .unique(["person_id", "unit_id"], keep="first", maintain_order=True)
    )
    return (
        runs.join(_internship_spans(t, runs), on=["person_id", "unit_id"], how="left")
        .join(_claimed(t, "person_id", runs.select("person_id").unique()), on="person_id", how="left")
        .join(t.units.select("unit_id", "county_code").unique("unit_id"), on="unit_id", how="left")
        .select(
            "person_id", "unit_id", "county_code", "period_start", "period_end", pl.lit(0.0).alias("amount_at_risk"),
            pl.struct(
                pl.lit("调查线索：多名见习人员登记单位电话，协议同日审核、编号连续 (investigative signal)").alias("label"),
                mask_phone_expr(pl.col("key")).alias("unit_phone"), "approved_date", "batch_trainees",
                "batch_agreements", pl.col("claimed_yuan").fill_null(0.0),
                pl.lit(min_trainees).alias("batch_min_trainees"),
            ).alias("evidence"),
        )
    )


def _red_flag_trainees(t: Tables, policy: Policy, cards: pl.LazyFrame, phones: pl.LazyFrame) -> pl.LazyFrame:
    """``person_id``: trainees carrying a graph red flag (card/phone ring, rotation, several units).

    ``cards`` and ``phones``: the card and phone groups of :func:`graph_groups` (two or more trainees).
    """
    min_units = int(policy.detect("graph.shared_card_min_units"))
    min_trainees = int(policy.detect("graph.shared_phone_min_trainees"))
    card = cards.filter((pl.col("n_persons") >= 2) & (pl.col("n_units") >= min_units))
    phone = phones.filter((pl.col("n_persons") >= min_trainees) & (pl.col("n_units") >= min_units))
    # several units by agreement (the registry of internships; a claim without one is DATA_QUALITY's)
    # (only persons with two or more agreement rows can have two units: grouping those few, not a
    # million persons, is what costs nothing)
    several = (
        t.agreements.select("person_id", "unit_id").filter(pl.col("person_id").is_duplicated())
        .group_by("person_id").agg(pl.col("unit_id").n_unique().alias("n")).filter(pl.col("n") >= 2)
    )
    rotating = placements(t, policy).group_by("person_id").agg(pl.col("unit_id").n_unique().alias("n")).filter(pl.col("n") >= 2)
    return pl.concat([
        card.select(pl.col("persons").alias("person_id")).explode("person_id"),
        phone.select(pl.col("persons").alias("person_id")).explode("person_id"),
        several.select("person_id"),
        rotating.select("person_id"),
    ]).unique().sort("person_id")


@rule(
    id="UNIT_INELIGIBLE.flagged_community",
    facts=("units",),
    title="高度集中图谱疑点的关联社区（Louvain）",
    severity=Severity.MEDIUM,
    citations=_UNIT_CLAUSES,
    detection_params=("graph.community_min_flagged", "graph.community_min_share", "graph.shared_card_min_units",
                      "graph.shared_phone_min_trainees", "graph.large_employer_staff"),
    signal_only=True,
)
@citing(_UNIT_CLAUSES, on=MONTH_END)
def flagged_community(t: Tables, policy: Policy) -> pl.LazyFrame:
    """Communities of the graph of red-flagged trainees (card or phone ring, rotation among linked
    units, several units), their units and the identifiers they share — connected clusters, split
    by Louvain (fixed seed) when large: a community in which ``graph.community_min_flagged`` or more flagged
    trainees make up at least ``graph.community_min_share`` of the units' trainees concentrates the
    signals of an organised ring. A large employer with a few flagged trainees stays below the
    share. Signal; one finding per unit of the community.
    """
    min_flagged = int(policy.detect("graph.community_min_flagged"))
    min_share = float(policy.detect("graph.community_min_share"))
    linked = linked_units(t, policy)
    cards, phones = _rings(t, policy, "card"), _rings(t, policy, "phone")
    flagged = _red_flag_trainees(t, policy, cards, phones).cache()
    p, u = graph.NODE_KINDS["trainee"].prefix, graph.NODE_KINDS["unit"].prefix
    flagged_edges = _pairs(t, persons=flagged).select(
        graph.node_id(p, pl.col("person_id")).alias("src"), graph.node_id(u, pl.col("unit_id")).alias("dst")).cache()
    unit_nodes = flagged_edges.select(pl.col("dst").str.slice(len(u) + 1).alias("unit_id")).unique()
    ident_edges = linked.join(unit_nodes, on="unit_id", how="semi").select(
        graph.node_id(u, pl.col("unit_id")).alias("src"), pl.concat_str([pl.lit("c:"), pl.col("component")]).alias("dst"))
    # trainees giving one card or phone are linked through it (the ring itself)
    shared_by_trainees = pl.concat([
        shared.select(pl.concat_str([pl.lit(tag), pl.col("key")]).alias("dst"), pl.col("persons").alias("person_id"))
        for tag, shared in (("k:card:", cards), ("k:phone:", phones))
    ]).explode("person_id").join(flagged, on="person_id", how="semi").select(
        graph.node_id(p, pl.col("person_id")).alias("src"), "dst")
    # networkx needs the small graph in memory: the flagged trainees and its edges, one collect
    flagged, edges = pl.collect_all([flagged, pl.concat([flagged_edges, ident_edges, shared_by_trainees])])
    if flagged.height == 0:
        return pl.LazyFrame(schema={"unit_id": pl.String})
    communities = graph.louvain(edges, seed=LOUVAIN_SEED)
    # only communities holding enough flagged trainees can pass: count the rest of their trainees
    candidates = communities.filter(pl.col("node").str.starts_with(p + ":")).group_by("community").len() \
        .filter(pl.col("len") >= min_flagged).select("community")
    units_in = communities.join(candidates, on="community", how="semi").filter(pl.col("node").str.starts_with(u + ":")) \
        .select(pl.col("node").str.slice(len(u) + 1).alias("unit_id"), "community")
    # concentration is measured against every trainee of the community's units, flagged or not
    members = _pairs(t, units=units_in.lazy().select("unit_id")).join(units_in.lazy(), on="unit_id").with_columns(
        pl.col("person_id").is_in(flagged["person_id"].implode()).alias("flagged"))
    stats = members.group_by("community").agg(
        pl.col("unit_id").unique().sort().alias("units"),
        pl.col("person_id").n_unique().alias("trainees"),
        pl.col("person_id").filter(pl.col("flagged")).n_unique().alias("flagged_trainees"),
    ).with_columns(
        (pl.col("flagged_trainees") / pl.col("trainees")).round(3).alias("flagged_share"),
        pl.col("units").list.len().alias("units_count"),
    ).filter(
        (pl.col("flagged_trainees") >= min_flagged) & (pl.col("flagged_share") >= min_share)
    )
    money = _claimed(t, "unit_id", units_in.lazy().select("unit_id")).join(units_in.lazy(), on="unit_id") \
        .group_by("community").agg(pl.col("claimed_yuan").sum().round(2))
    return (
        units_in.lazy().join(stats, on="community").join(money, on="community", how="left")
        .join(t.units.select("unit_id", "county_code"), on="unit_id", how="left")
        .select("unit_id", "county_code", pl.lit(0.0).alias("amount_at_risk"),
                pl.struct(pl.col("units").list.first().alias("community"), "units", "units_count", "trainees", "flagged_trainees", "flagged_share",
                          pl.col("claimed_yuan").fill_null(0.0),
                          pl.lit(min_flagged).alias("graph_community_min_flagged"),
                          pl.lit(min_share).alias("graph_community_min_share")).alias("evidence"))
    )


CHECKS: tuple[Check, ...] = (
    shared_card_ring,
    shared_phone_ring,
    shell_cluster,
    rotation_linked_units,
    flagged_community,
    card_shared_in_unit,
    batch_paperwork,
)
