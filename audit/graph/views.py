"""What an investigator looks at: neighbourhoods that stop at hubs, node attributes, the entities
findings name, and views of groups of nodes for the viewer and the exports (all in polars)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import polars as pl

from audit.graph.edges import registry_edges
from audit.graph.keys import address_key, card_key, first_rows, node_id, person_key, phone_key
from audit.graph.kinds import EDGE_SCHEMA, NODE_KINDS, prefix_of
from audit.tables import Tables

# ---------------------------------------------------------------------------------------------
# neighbourhoods


def degrees(edges: pl.DataFrame) -> pl.DataFrame:
    """``node, degree`` over the given edges (both ends)."""
    return pl.concat([edges.select(pl.col("src").alias("node")), edges.select(pl.col("dst").alias("node"))]) \
        .group_by("node").agg(pl.len().cast(pl.Int64).alias("degree"))


def neighbourhoods(edges: pl.DataFrame, seeds: pl.DataFrame, hops: int, *, max_nodes: int = 2000,
                   hub_degree: int | None = None) -> pl.DataFrame:
    """``group, node, hop``: for each group of seeds (hop 0), every node within ``hops`` link edges.

    All groups expand together (one join per hop, whatever the number of groups). Expansion does
    not walk on through a hub (a node with more than ``hub_degree`` edges that is not a seed): a
    switchboard phone or an industrial-park address would otherwise pull in the province. At most
    ``max_nodes`` nodes are kept per group, nearest first (ties in node order), so the result is
    the same on every run.
    """
    seen = seeds.select(pl.col("group").cast(pl.String), pl.col("node").cast(pl.String)).unique() \
        .with_columns(pl.lit(0, pl.Int64).alias("hop"))
    frontier = seen.select("group", "node")
    for hop in range(1, hops + 1):
        if hub_degree is not None and hop > 1:
            # the degrees of the frontier's nodes alone, not of every node (bench/NOTES.md, "Rendering")
            frontier = frontier.join(_hubs(edges, frontier.select("node").unique(), hub_degree), on="node", how="anti")
        if frontier.height == 0:
            break
        nxt = pl.concat([
            frontier.join(edges.select(pl.col("src").alias("node"), pl.col("dst").alias("next")), on="node"),
            frontier.join(edges.select(pl.col("dst").alias("node"), pl.col("src").alias("next")), on="node"),
        ]).select("group", pl.col("next").alias("node")).unique().join(seen, on=["group", "node"], how="anti")
        # signed: pl.len() is UInt32, and polars 2 gives the literal its type, so a group with more
        # seeds than max_nodes got a room of ~4.3 billion and expanded without a cap
        room = seen.group_by("group").agg((pl.lit(max_nodes, pl.Int64) - pl.len().cast(pl.Int64)).alias("room"))
        nxt = (
            nxt.sort("group", "node").join(room, on="group")
            .filter(pl.int_range(pl.len()).over("group") < pl.col("room")).drop("room")
        )
        seen = pl.concat([seen, nxt.with_columns(pl.lit(hop, pl.Int64).alias("hop"))])
        frontier = nxt
    return seen.sort("group", "hop", "node")


def _hubs(edges: pl.DataFrame, nodes: pl.DataFrame, hub_degree: int) -> pl.DataFrame:
    """``node``: those of ``nodes`` with more than ``hub_degree`` edges (``degrees`` of their edges)."""
    touching = pl.concat([edges.join(nodes, left_on="src", right_on="node", how="semi").select(pl.col("src").alias("node")),
                          edges.join(nodes, left_on="dst", right_on="node", how="semi").select(pl.col("dst").alias("node"))])
    return touching.group_by("node").agg(pl.len().alias("degree")).filter(pl.col("degree") > hub_degree).select("node")


def neighbourhood(edges: pl.DataFrame, seeds: Iterable[str], hops: int, *, max_nodes: int = 2000,
                  hub_degree: int | None = None) -> pl.DataFrame:
    """``node, hop``: :func:`neighbourhoods` for one group of seeds."""
    group = pl.DataFrame({"node": sorted(set(seeds))}, schema={"node": pl.String}).with_columns(pl.lit("g").alias("group"))
    return neighbourhoods(edges, group, hops, max_nodes=max_nodes, hub_degree=hub_degree).select("node", "hop")


def edges_within(edges: pl.DataFrame, nodes: pl.DataFrame) -> pl.DataFrame:
    keep = nodes.select("node")
    return edges.join(keep, left_on="src", right_on="node", how="semi").join(keep, left_on="dst", right_on="node", how="semi")


# ---------------------------------------------------------------------------------------------
# node attributes


def node_table(t: Tables, nodes: pl.DataFrame) -> pl.DataFrame:
    """``node, kind, key, label, name, county_code, staff_count, claimed`` for the given node ids.

    A person node is a trainee when the trainees table has the ID, else a legal representative.
    ``claimed`` is the yuan claimed through a trainee or a unit (subsidy + insurance).
    """
    base = nodes.select("node").unique().with_columns(
        pl.col("node").str.split_exact(":", 1).struct.rename_fields(["prefix", "key"]).alias("_s")
    ).unnest("_s")
    persons = base.filter(pl.col("prefix") == prefix_of("trainee")).select("node", "key")
    units = base.filter(pl.col("prefix") == prefix_of("unit")).select("node", "key")
    trainee_info = first_rows(t.trainees.select(
        pl.col("person_id").alias("key"), "name", "education", "graduation_date",
    ), "key", persons.lazy()).collect()
    paid = (pl.col("amount").fill_null(0) + pl.col("insurance_amount").fill_null(0)).sum().round(2).alias("claimed")
    # restrict the claims to the nodes in view before aggregating (millions of claims, hundreds of nodes)
    by_person = t.claims.join(persons.lazy().select(pl.col("key").alias("person_id")), on="person_id", how="semi") \
        .group_by("person_id").agg(paid).rename({"person_id": "key"}).collect()
    by_unit = t.claims.join(units.lazy().select(pl.col("key").alias("unit_id")), on="unit_id", how="semi") \
        .group_by("unit_id").agg(paid).rename({"unit_id": "key"}).collect()
    rep_names = first_rows(t.units.select(pl.col("legal_rep_id").alias("key"), pl.col("legal_rep_name").alias("rep_name"))
                           .drop_nulls(), "key", persons.lazy()).collect()
    unit_info = first_rows(t.units.select(
        pl.col("unit_id").alias("key"), pl.col("unit_name").alias("name"), "county_code", "staff_count",
        "approved_date", "exit_date",
    ), "key", units.lazy()).collect()

    kinds_by_prefix = {k.prefix: k.name for k in NODE_KINDS.values() if k.prefix != prefix_of("trainee")}
    person_rows = persons.join(trainee_info, on="key", how="left").join(rep_names, on="key", how="left") \
        .join(by_person, on="key", how="left").with_columns(
            pl.when(pl.col("name").is_not_null()).then(pl.lit("trainee")).otherwise(pl.lit("legal_rep")).alias("kind"),
            pl.coalesce("name", "rep_name").alias("name"),
        ).select("node", "kind", "key", "name", "claimed",
                 pl.concat_str([pl.col("education"), pl.col("graduation_date").cast(pl.String)], separator=" 毕业 ",
                               ignore_nulls=True).alias("info"))
    unit_rows = units.join(unit_info, on="key", how="left").join(by_unit, on="key", how="left").select(
        "node", pl.lit("unit").alias("kind"), "key", "name", "claimed",
        pl.concat_str([pl.lit("区划 "), pl.col("county_code"), pl.lit(" 职工 "), pl.col("staff_count").cast(pl.String),
                       pl.lit(" 认定 "), pl.col("approved_date").cast(pl.String)], ignore_nulls=True).alias("info"),
        "county_code", "staff_count",
    )
    other = base.filter(~pl.col("prefix").is_in([prefix_of("trainee"), prefix_of("unit")])).select(
        "node", pl.col("prefix").replace_strict(kinds_by_prefix, default="unknown").alias("kind"), "key",
        pl.lit(None, pl.String).alias("name"), pl.lit(None, pl.Float64).alias("claimed"), pl.lit(None, pl.String).alias("info"),
    )
    out = pl.concat([person_rows, unit_rows, other], how="diagonal_relaxed")
    for col, dtype in (("county_code", pl.String), ("staff_count", pl.Int64)):
        if col not in out.columns:
            out = out.with_columns(pl.lit(None, dtype).alias(col))
    return out.with_columns(pl.col("claimed").fill_null(0.0)).sort("node")


# ---------------------------------------------------------------------------------------------
# findings on the graph, and views for the viewer


def finding_entities(findings: pl.DataFrame, claims: pl.LazyFrame) -> pl.DataFrame:
    """``finding_id, node``: the trainee and unit nodes a finding names (a claim names both)."""
    p, u = prefix_of("trainee"), prefix_of("unit")
    named = findings.lazy().select("claim_id").drop_nulls().unique()
    by_claim = findings.lazy().select("finding_id", "claim_id").drop_nulls().join(
        first_rows(claims.select("claim_id", "person_id", "unit_id"), "claim_id", named), on="claim_id")
    frames = [
        findings.lazy().select("finding_id", node_id(p, pl.col("person_id")).alias("node")),
        findings.lazy().select("finding_id", node_id(u, pl.col("unit_id")).alias("node")),
        by_claim.select("finding_id", node_id(p, pl.col("person_id")).alias("node")),
        by_claim.select("finding_id", node_id(u, pl.col("unit_id")).alias("node")),
    ]
    return pl.concat(frames).drop_nulls().unique().sort("finding_id", "node").collect()


@dataclass
class GraphView:
    """What a viewer or an export shows: nodes (with ``hop``), edges among them, findings per node."""

    title: str
    nodes: pl.DataFrame  # node_table columns + hop (0 = focus), focus (bool)
    edges: pl.DataFrame  # EDGE_SCHEMA
    findings: pl.DataFrame  # node + findings columns
    initial_hops: int  # nodes with hop <= this are shown at first; the rest appear on "expand"
    truncated: bool = False


def build_views(t: Tables, edges: pl.DataFrame, findings: pl.DataFrame, entities: pl.DataFrame,
                seeds: pl.DataFrame, *, hops: int, titles: dict[str, str], max_nodes: int = 2000,
                hub_degree: int | None = None) -> dict[str, GraphView]:
    """Views for several groups at once: each group's ``hops``-neighbourhood, one more hop embedded.

    ``seeds``: ``group, node, focus`` (focus False for nodes shown from the start without being
    the subject, e.g. a case's connecting identifiers). ``entities``: :func:`finding_entities`.
    Insurance and labour-contract edges are added for the persons in view. Every table is read
    once for all the groups.
    """
    hood = neighbourhoods(edges, seeds.select("group", "node"), hops + 1, max_nodes=max_nodes, hub_degree=hub_degree)
    full = hood.group_by("group").agg((pl.len() >= max_nodes).alias("truncated"))
    persons = hood.filter(pl.col("node").str.starts_with(prefix_of("trainee") + ":")).select(
        pl.col("node").str.slice(2).alias("person_id")).unique()
    reg = registry_edges(t, persons.lazy()).collect()
    reg = reg.join(hood.rename({"node": "src"}), on="src")  # one row per group the person is in
    extra = (
        reg.select("group", pl.col("dst").alias("node"), (pl.col("hop") + 1).alias("hop"))
        .group_by("group", "node").agg(pl.col("hop").min())
        .join(hood, on=["group", "node"], how="anti")
    )
    hood = pl.concat([hood, extra])
    link = edges.join(hood.select("group", pl.col("node").alias("src")), on="src") \
        .join(hood.select("group", pl.col("node").alias("dst")), on=["group", "dst"])
    all_edges = pl.concat([link, reg.drop("hop")], how="diagonal_relaxed") \
        .sort(["group", "src", "dst", "kind", "first", "last", "n", "amount"], nulls_last=True) \
        .unique(["group", "src", "dst", "kind"], keep="first", maintain_order=True)
    info = node_table(t, hood.select("node").unique())
    focus = seeds.filter(pl.col("focus")).select("group", "node", pl.lit(True).alias("focus"))
    nodes = hood.join(info, on="node", how="left").join(focus, on=["group", "node"], how="left") \
        .with_columns(pl.col("focus").fill_null(False))
    node_findings = entities.join(hood.select("node").unique(), on="node", how="semi").join(findings, on="finding_id")
    views: dict[str, GraphView] = {}
    for group, title in titles.items():
        g_nodes = nodes.filter(pl.col("group") == group).drop("group").sort("hop", "node")
        g_findings = node_findings.join(g_nodes.select("node"), on="node", how="semi").sort("node", "family", "rule_id", "finding_id")
        views[group] = GraphView(
            title=title, nodes=g_nodes,
            edges=all_edges.filter(pl.col("group") == group).drop("group").select(list(EDGE_SCHEMA)).sort("src", "dst", "kind"),
            findings=g_findings, initial_hops=hops,
            truncated=bool(full.filter(pl.col("group") == group)["truncated"].any()),
        )
    return views


def build_view(t: Tables, edges: pl.DataFrame, findings: pl.DataFrame, focus: Iterable[str], *, hops: int,
               title: str, max_nodes: int = 2000, hub_degree: int | None = None,
               core: Iterable[str] = ()) -> GraphView:
    """One view: the ``hops``-neighbourhood of the focus nodes (``core`` nodes shown from the start)."""
    focus, core = sorted(set(focus)), sorted(set(core) - set(focus))
    seeds = pl.DataFrame({"node": focus + core, "focus": [True] * len(focus) + [False] * len(core)},
                         schema={"node": pl.String, "focus": pl.Boolean}).with_columns(pl.lit("v").alias("group"))
    entities = finding_entities(findings, t.claims)
    return build_views(t, edges, findings, entities, seeds, hops=hops, titles={"v": title}, max_nodes=max_nodes,
                       hub_degree=hub_degree)["v"]


def resolve_entity(edges: pl.DataFrame, text: str) -> str:
    """The node id for an ID, unit code, phone, card or address as an investigator types it."""
    probe = pl.DataFrame({"v": [text]}).select(
        node_id(prefix_of("trainee"), person_key(pl.col("v"))).alias("p"),
        node_id(prefix_of("unit"), person_key(pl.col("v"))).alias("u"),
        node_id(prefix_of("phone"), phone_key(pl.col("v"))).alias("t"),
        node_id(prefix_of("bank"), card_key(pl.col("v"))).alias("b"),
        node_id(prefix_of("address"), address_key(pl.col("v"))).alias("a"),
    ).row(0)
    candidates = [c for c in probe if c is not None]
    known = set(pl.concat([edges.select(pl.col("src").alias("n")), edges.select(pl.col("dst").alias("n"))])
                .filter(pl.col("n").is_in(candidates))["n"].to_list())
    for c in candidates:
        if c in known:
            return c
    raise KeyError(f"no trainee, unit, phone, card or address {text!r} in this run's graph")
