"""The relationship graph of trainees, units and the identifiers they share — behind one door.

Investigators start from a person or a unit and look at what it is connected to. The graph has
nodes for trainees, units, legal representatives, phones, bank accounts/cards and addresses, and
edges from agreements (trainee–unit, with dates and money claimed), legal representation, the
identifiers units and trainees registered, and the insurance and labour-contract registries
(trainee–employer). Node and edge kinds are declared once, below, as data.

Identifiers are normalised before they become nodes, so that one phone written three ways is one
node: phones keep their digits without a +86/0086 prefix, spaces or dashes; cards and accounts
keep their digits; addresses are NFKC-normalised (full-width → ASCII) with whitespace and
punctuation removed. A value too short or degenerate to identify anything (``00000000``, an
address without a house number) is not a node: it would link unrelated parties.

Scale: every edge is computed in polars; networkx is used only on the small graphs of flagged
entities and their neighbourhoods (connected components, Louvain communities, layouts, Gephi
exports). networkx is imported only in this module.
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Iterable

import networkx as nx
import polars as pl

from audit.tables import Tables, month_end


# ---------------------------------------------------------------------------------------------
# kinds, declared once


@dataclass(frozen=True)
class NodeKind:
    name: str
    zh: str
    prefix: str  # node ids are "<prefix>:<normalised key>"
    colour: str
    shape: str


@dataclass(frozen=True)
class EdgeKind:
    name: str
    zh: str
    source: str  # node kind(s) at the source end ("person" = trainee or legal representative)
    target: str
    links: bool  # True: the edge joins parties (walked when grouping cases and expanding views)


NODE_KINDS: dict[str, NodeKind] = {k.name: k for k in (
    NodeKind("trainee", "见习人员", "p", "#4e79a7", "dot"),
    NodeKind("legal_rep", "法定代表人", "p", "#b07aa1", "diamond"),
    NodeKind("unit", "见习单位", "u", "#f28e2b", "square"),
    NodeKind("phone", "电话", "t", "#59a14f", "triangle"),
    NodeKind("bank", "银行账户/卡", "b", "#edc948", "hexagon"),
    NodeKind("address", "地址", "a", "#9c755f", "star"),
)}

EDGE_KINDS: dict[str, EdgeKind] = {k.name: k for k in (
    EdgeKind("agreement", "见习协议/申领", "person", "unit", True),
    EdgeKind("legal_rep", "法定代表人", "person", "unit", True),
    EdgeKind("unit_phone", "单位联系电话", "unit", "phone", True),
    EdgeKind("unit_account", "单位基本账户", "unit", "bank", True),
    EdgeKind("unit_address", "单位地址", "unit", "address", True),
    EdgeKind("trainee_phone", "见习人员手机", "person", "phone", True),
    EdgeKind("trainee_card", "见习人员银行卡", "person", "bank", True),
    # registries of other departments: facts about a person, not links walked between parties
    EdgeKind("insured", "社保缴费(用人单位)", "person", "unit", False),
    EdgeKind("employed", "劳动合同", "person", "unit", False),
)}

LINK_EDGE_KINDS = tuple(k for k, v in EDGE_KINDS.items() if v.links)

EDGE_SCHEMA: dict[str, pl.DataType] = {
    "src": pl.String(),
    "dst": pl.String(),
    "kind": pl.String(),
    "first": pl.Date(),
    "last": pl.Date(),
    "n": pl.Int64(),
    "amount": pl.Float64(),
}

# Identifier kinds a unit registers (units table; legal representative also from market_registry).
UNIT_IDENTIFIER_KINDS = ("legal_rep", "phone", "bank", "address")


# ---------------------------------------------------------------------------------------------
# identifier normalisation (polars expressions)


_REPEATED_DIGIT = r"^(?:0+|1+|2+|3+|4+|5+|6+|7+|8+|9+)$"


def _usable(digits: pl.Expr, min_len: int) -> pl.Expr:
    """Digits long enough, and not one digit repeated (``00000000``, ``11111111111``)."""
    return pl.when(digits.str.contains(rf"^\d{{{min_len},}}$") & ~digits.str.contains(_REPEATED_DIGIT)).then(digits)


def phone_key(expr: pl.Expr) -> pl.Expr:
    """A phone as digits only, without a +86 / 0086 country prefix; null when unusable."""
    digits = expr.cast(pl.String).str.normalize("NFKC").str.replace_all(r"\D", "")
    # a mobile number (1 + 10 digits) behind a country code: drop the code
    return _usable(digits.str.replace(r"^(?:0086|86)(1\d{10})$", "$1"), 7)


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


def _p(kind: str) -> str:
    return NODE_KINDS[kind].prefix


# ---------------------------------------------------------------------------------------------
# identifiers and memberships as tables (used by the graph rules as well as the graph)


def unit_identifiers(t: Tables, large_employer_staff: int | None = None) -> pl.LazyFrame:
    """``unit_id, kind, key``: the legal representative, phone, account and address of each unit.

    Units with at least ``large_employer_staff`` staff are left out when the threshold is given:
    large employers legitimately share switchboards, addresses and owners with their branches.
    """
    units = t.units
    if large_employer_staff is not None:
        units = units.filter(pl.col("staff_count").fill_null(0) < large_employer_staff)
    frames = [
        units.select("unit_id", pl.lit("legal_rep").alias("kind"), person_key(pl.col("legal_rep_id")).alias("key")),
        units.select("unit_id", pl.lit("phone").alias("kind"), phone_key(pl.col("phone")).alias("key")),
        units.select("unit_id", pl.lit("bank").alias("kind"), card_key(pl.col("bank_account")).alias("key")),
        units.select("unit_id", pl.lit("address").alias("kind"), address_key(pl.col("address")).alias("key")),
    ]
    if t.market_registry is not None and "legal_rep_id" in t.market_registry.collect_schema():
        registry = t.market_registry.join(units.select("unit_id"), on="unit_id", how="semi")
        frames.append(registry.select("unit_id", pl.lit("legal_rep").alias("kind"),
                                      person_key(pl.col("legal_rep_id")).alias("key")))
    return pl.concat(frames).drop_nulls(["unit_id", "key"]).unique()


def trainee_units(t: Tables) -> pl.LazyFrame:
    """``person_id, unit_id``: every unit a trainee has an agreement or a claim with."""
    return pl.concat([
        t.agreements.select("person_id", "unit_id"),
        t.claims.select("person_id", "unit_id"),
    ]).drop_nulls().unique()


def claimed_by_pair(t: Tables) -> pl.LazyFrame:
    """``person_id, unit_id, claimed, claims``: yuan claimed (subsidy + insurance) per trainee and unit."""
    return t.claims.group_by("person_id", "unit_id").agg(
        (pl.col("amount").fill_null(0) + pl.col("insurance_amount").fill_null(0)).sum().round(2).alias("claimed"),
        pl.len().cast(pl.Int64).alias("claims"),
    )


# ---------------------------------------------------------------------------------------------
# edges


def _edges(lf: pl.LazyFrame, src: pl.Expr, dst: pl.Expr, kind: str, **attrs: pl.Expr) -> pl.LazyFrame:
    cols = [src.alias("src"), dst.alias("dst"), pl.lit(kind).alias("kind")]
    for name, dtype in EDGE_SCHEMA.items():
        if name in ("src", "dst", "kind"):
            continue
        cols.append(attrs[name].cast(dtype).alias(name) if name in attrs else pl.lit(None, dtype).alias(name))
    return lf.select(cols).drop_nulls(["src", "dst"])


def link_edges(t: Tables) -> pl.LazyFrame:
    """Every edge that links parties: agreements/claims, legal representation, registered identifiers."""
    agreements = t.agreements.select(
        "person_id", "unit_id", pl.col("start_date").alias("first"),
        pl.coalesce("actual_end_date", "planned_end_date").alias("last"),
        pl.lit(1, pl.Int64).alias("n"), pl.lit(0.0).alias("amount"),
    )
    claims = claimed_by_pair(t).select(
        "person_id", "unit_id", pl.lit(None, pl.Date).alias("first"), pl.lit(None, pl.Date).alias("last"),
        pl.lit(0, pl.Int64).alias("n"), pl.col("claimed").alias("amount"),
    )
    pairs = pl.concat([agreements, claims]).group_by("person_id", "unit_id").agg(
        pl.col("first").min(), pl.col("last").max(), pl.col("n").sum(), pl.col("amount").sum().round(2),
    )
    p, u = _p("trainee"), _p("unit")
    ids = unit_identifiers(t)
    frames = [
        _edges(pairs, node_id(p, pl.col("person_id")), node_id(u, pl.col("unit_id")), "agreement",
               first=pl.col("first"), last=pl.col("last"), n=pl.col("n"), amount=pl.col("amount")),
    ]
    unit_kind_edge = {"legal_rep": ("legal_rep", p), "phone": ("unit_phone", _p("phone")),
                      "bank": ("unit_account", _p("bank")), "address": ("unit_address", _p("address"))}
    for ident, (edge_kind, prefix) in unit_kind_edge.items():
        part = ids.filter(pl.col("kind") == ident)
        if ident == "legal_rep":
            frames.append(_edges(part, node_id(prefix, pl.col("key")), node_id(u, pl.col("unit_id")), edge_kind))
        else:
            frames.append(_edges(part, node_id(u, pl.col("unit_id")), node_id(prefix, pl.col("key")), edge_kind))
    trainees = t.trainees.select("person_id", "phone", "bank_card")
    # the other kinds come from grouped or unique rows; a person the register holds twice gives
    # the same phone and card edge twice: these alone need de-duplicating (not 3.6 M edges at 1 M)
    frames.append(_edges(trainees, node_id(p, pl.col("person_id")), node_id(_p("phone"), phone_key(pl.col("phone"))),
                         "trainee_phone").unique(["src", "dst"]))
    frames.append(_edges(trainees, node_id(p, pl.col("person_id")), node_id(_p("bank"), card_key(pl.col("bank_card"))),
                         "trainee_card").unique(["src", "dst"]))
    return pl.concat(frames)


def registry_edges(t: Tables, persons: pl.LazyFrame) -> pl.LazyFrame:
    """Insurance (employer-paid) and labour-contract edges for the given ``person_id`` rows only.

    These registries are large (a row per person, employer, month and insurance kind); they are
    facts about the persons already in view, so they are joined for those persons alone.
    """
    p, u = _p("trainee"), _p("unit")
    si = t.social_insurance.join(persons, on="person_id", how="semi").filter(
        pl.col("employer_id").is_not_null() & (pl.col("payer_type").is_null() | (pl.col("payer_type") == "单位"))
    ).group_by("person_id", "employer_id").agg(
        pl.col("month").min().alias("first"), pl.col("month").max().alias("last"),
        pl.col("month").n_unique().cast(pl.Int64).alias("n"),
    )
    frames = [_edges(si, node_id(p, pl.col("person_id")), node_id(u, pl.col("employer_id")), "insured",
                     first=pl.col("first"), last=pl.col("last"), n=pl.col("n"))]
    if t.employment is not None:
        emp = t.employment.join(persons, on="person_id", how="semi")
        frames.append(_edges(emp, node_id(p, pl.col("person_id")), node_id(u, pl.col("employer_id")), "employed",
                             first=pl.col("contract_start"),
                             last=pl.coalesce("terminated_date", "contract_end"), n=pl.lit(1)))
    return pl.concat(frames)


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
    hubs = degrees(edges).filter(pl.col("degree") > hub_degree).select("node") if hub_degree is not None else None
    for hop in range(1, hops + 1):
        if hubs is not None and hop > 1:
            frontier = frontier.join(hubs, on="node", how="anti")
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
    persons = base.filter(pl.col("prefix") == _p("trainee")).select("node", "key")
    units = base.filter(pl.col("prefix") == _p("unit")).select("node", "key")
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

    kinds_by_prefix = {k.prefix: k.name for k in NODE_KINDS.values() if k.prefix != _p("trainee")}
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
    other = base.filter(~pl.col("prefix").is_in([_p("trainee"), _p("unit")])).select(
        "node", pl.col("prefix").replace_strict(kinds_by_prefix, default="unknown").alias("kind"), "key",
        pl.lit(None, pl.String).alias("name"), pl.lit(None, pl.Float64).alias("claimed"), pl.lit(None, pl.String).alias("info"),
    )
    out = pl.concat([person_rows, unit_rows, other], how="diagonal_relaxed")
    for col, dtype in (("county_code", pl.String), ("staff_count", pl.Int64)):
        if col not in out.columns:
            out = out.with_columns(pl.lit(None, dtype).alias(col))
    return out.with_columns(pl.col("claimed").fill_null(0.0)).sort("node")


# ---------------------------------------------------------------------------------------------
# algorithms on small graphs (networkx stays here)


def components(pairs: pl.DataFrame, left: str, right: str) -> pl.DataFrame:
    """Connected components of the bipartite graph ``left — right``.

    Returns ``<left>, component``: each left value with the smallest left value of its component,
    a label that does not depend on row order.
    """
    g = nx.Graph()
    lefts = pairs[left].to_list()
    g.add_nodes_from(("L", v) for v in lefts)
    g.add_edges_from((("L", a), ("R", b)) for a, b in zip(lefts, pairs[right].to_list()))
    rows: list[tuple[str, str]] = []
    for comp in nx.connected_components(g):
        members = sorted(v for side, v in comp if side == "L")
        rows.extend((m, members[0]) for m in members)
    return pl.DataFrame(rows, schema={left: pl.String, "component": pl.String}, orient="row")


def node_components(nodes: Iterable[str], edges: Iterable[tuple[str, str]]) -> dict[str, int]:
    """Component number of each node (numbered by their smallest member, in sorted order)."""
    g = nx.Graph()
    g.add_nodes_from(nodes)
    g.add_edges_from(edges)
    comps = sorted((sorted(c) for c in nx.connected_components(g)), key=lambda c: c[0])
    return {n: i for i, comp in enumerate(comps) for n in comp}


def louvain(edges: pl.DataFrame, *, seed: int, split_above: int = 100, resolution: float = 1.0) -> pl.DataFrame:
    """``node, community``: communities of the undirected graph of ``src, dst``.

    A connected component of at most ``split_above`` nodes is one community (modularity splits
    even a four-person ring in two, which hides the ring); larger components are split by Louvain
    (``networkx.community.louvain_communities`` with the fixed ``seed``). The community label is its
    smallest node id, so labels do not depend on algorithm order.
    """
    g = nx.Graph()
    # sorted insertion: Louvain visits nodes in graph order, so a fixed order plus a fixed seed
    # gives the same communities on every run
    g.add_edges_from(sorted(set(zip(edges["src"].to_list(), edges["dst"].to_list()))))
    rows: list[tuple[str, str]] = []
    for comp in sorted((sorted(c) for c in nx.connected_components(g)), key=lambda c: c[0]):
        if len(comp) <= split_above:
            rows.extend((n, comp[0]) for n in comp)
            continue
        sub = g.subgraph(comp)
        for c in nx.community.louvain_communities(sub, seed=seed, resolution=resolution):
            label = min(c)
            rows.extend((n, label) for n in c)
    return pl.DataFrame(rows, schema={"node": pl.String, "community": pl.String}, orient="row").sort("node")


# networkx's spring_layout switches to its sparse Fruchterman-Reingold from this many nodes
_NX_SPARSE_FROM = 500


def _spring_layout_large(g: nx.Graph, *, seed: int, iterations: int, threshold: float = 1e-4,
                         cells: int = 1_000_000) -> dict:
    """``nx.spring_layout(g, seed=seed, iterations=iterations, method="force")`` for 500 nodes or more,
    computed in numpy blocks: the same positions, bit for bit.

    From 500 nodes networkx runs its sparse Fruchterman-Reingold, whose inner loop is Python, one
    node at a time (5,000 nodes × 15 iterations: minutes). This is that algorithm with the same
    random start, dtypes (float32 positions and adjacency, float64 forces) and order of summation
    (each node's displacement summed over the other nodes in node order), a block of nodes at a
    time (``cells`` pairs per block bound the memory); tests compare it with networkx.
    """
    import numpy as np

    adjacency = nx.to_scipy_sparse_array(g, weight="weight", dtype="f").tocsr()
    n = adjacency.shape[0]
    pos = np.asarray(np.random.RandomState(seed).rand(n, 2), dtype=adjacency.dtype)
    k = np.sqrt(1.0 / n)
    kk = k * k
    t = max(max(pos.T[0]) - min(pos.T[0]), max(pos.T[1]) - min(pos.T[1])) * 0.1
    dt = t / (iterations + 1)
    step = max(1, cells // n)
    blocks = []  # per block of nodes, its edges: (other node, node in block, weight)
    for lo in range(0, n, step):
        hi = min(lo + step, n)
        edges = adjacency[lo:hi].tocoo()
        blocks.append((lo, hi, edges.col, edges.row, edges.data))
    width = min(step, n)
    # column c of a block is node lo + c; row j the other node: summing over axis 0 accumulates
    # the other nodes in order, as networkx's per-node sum does
    dx, dy, dist, sq = (np.empty((n, width), np.float32) for _ in range(4))
    force, prod = np.empty((n, width)), np.empty((n, width))
    displacement = np.zeros((2, n))
    for _ in range(iterations):
        x, y = pos[:, 0], pos[:, 1]
        for lo, hi, other, node, weight in blocks:
            w = hi - lo
            bx, by, bd, bs, bf, bp = dx[:, :w], dy[:, :w], dist[:, :w], sq[:, :w], force[:, :w], prod[:, :w]
            np.subtract(x[None, lo:hi], x[:, None], out=bx)
            np.subtract(y[None, lo:hi], y[:, None], out=by)
            np.multiply(bx, bx, out=bd)
            np.multiply(by, by, out=bs)
            np.add(bd, bs, out=bd)
            np.sqrt(bd, out=bd)
            np.clip(bd, 0.01, None, out=bd)
            np.multiply(bd, bd, out=bs)
            np.divide(kk, bs, out=bf)  # repulsion k²/d², float64 as networkx's
            # attraction A·d/k where there is an edge (elsewhere A is 0 and networkx subtracts 0)
            bf[other, node] -= weight * bd[other, node] / k
            np.multiply(bx, bf, out=bp)
            displacement[0, lo:hi] = bp.sum(axis=0)
            np.multiply(by, bf, out=bp)
            displacement[1, lo:hi] = bp.sum(axis=0)
        length = np.clip(np.sqrt((displacement ** 2).sum(axis=0)), a_min=0.01, a_max=None)
        delta_pos = (displacement * t / length).T
        pos += delta_pos
        t -= dt
        if (np.linalg.norm(delta_pos) / n) < threshold:
            break
    return dict(zip(g, nx.rescale_layout(pos, scale=1) + np.zeros(2)))


def layout(nodes: list[str], edges: list[tuple[str, str]], *, seed: int = 7,
           core: Iterable[str] | None = None) -> dict[str, tuple[float, float]]:
    """Node positions computed once in Python (the browser does no physics).

    The ``core`` nodes (those shown at first) get a force-directed layout (seeded); every other
    node is placed on a small circle around the nodes it hangs from, so that the expandable
    neighbours cost no layout time and appear next to what they expand.
    """
    g = nx.Graph()
    g.add_nodes_from(sorted(nodes))
    g.add_edges_from(sorted(edges))
    if g.number_of_nodes() == 0:
        return {}
    core_set = set(nodes) if core is None else set(core) & set(nodes)
    # a graph of its own, nodes in sorted order: a subgraph view of fewer than half the nodes
    # iterates them from a set, in an order that changes with each process's string hashing,
    # and the force layout's result depends on the node order
    sub = nx.Graph()
    sub.add_nodes_from(sorted(core_set))
    sub.add_edges_from(sorted((u, v) for u, v in g.edges(core_set) if u in core_set and v in core_set))
    n = sub.number_of_nodes()
    pos: dict[str, tuple[float, float]] = {}
    if n:
        # beyond a few hundred nodes the iterations are cut, so that a view of thousands of nodes
        # (a unit with thousands of flagged trainees) still lays out in seconds
        iterations = 50 if n <= 500 else 15
        if n == 1:
            raw = {next(iter(sub)): (0.0, 0.0)}
        elif n < _NX_SPARSE_FROM:
            raw = nx.spring_layout(sub, seed=seed, iterations=iterations, method="force")
        else:
            raw = _spring_layout_large(sub, seed=seed, iterations=iterations)
        pos = {v: (float(x), float(y)) for v, (x, y) in raw.items()}
    radius = 0.6 / max(n, 1) ** 0.5
    pending = sorted(set(nodes) - set(pos))
    while pending:
        placed_any = False
        children: dict[str, list[str]] = {}
        for v in pending:
            parents = sorted(u for u in g.neighbors(v) if u in pos)
            if parents:
                children.setdefault(parents[0], []).append(v)
        for parent, kids in children.items():
            px, py = pos[parent]
            for i, v in enumerate(kids):
                angle = 2 * math.pi * i / len(kids)
                r = radius * (1 + 0.3 * (i % 3))
                pos[v] = (px + r * math.cos(angle), py + r * math.sin(angle))
                placed_any = True
        pending = sorted(set(nodes) - set(pos))
        if not placed_any:  # nodes unconnected to anything placed: a row below the drawing
            for i, v in enumerate(pending):
                pos[v] = (-1.0 + 2.0 * i / max(len(pending), 1), 1.2)
            break
    return pos


def to_networkx(nodes: pl.DataFrame, edges: pl.DataFrame) -> nx.MultiGraph:
    """A networkx graph for export; attribute values are strings and numbers only (GraphML/GEXF)."""
    g = nx.MultiGraph()
    for row in nodes.to_dicts():
        g.add_node(row["node"], **_plain(row, exclude=("node",)))
    for row in edges.to_dicts():
        g.add_edge(row["src"], row["dst"], key=row["kind"], **_plain(row, exclude=("src", "dst")))
    return g


def _plain(row: dict, exclude: tuple[str, ...]) -> dict:
    out = {}
    for k, v in row.items():
        if k in exclude or v is None:
            continue
        if isinstance(v, bool):
            out[k] = int(v)
        elif isinstance(v, (int, float, str)):
            out[k] = v
        elif isinstance(v, date):
            out[k] = v.isoformat()
        elif isinstance(v, (list, tuple)):
            out[k] = ";".join(str(x) for x in v)
        else:
            out[k] = str(v)
    return out


def write_export(nodes: pl.DataFrame, edges: pl.DataFrame, path: Path, fmt: str) -> None:
    g = to_networkx(nodes, edges)
    if fmt == "graphml":
        nx.write_graphml(g, path)
    elif fmt == "gexf":
        nx.write_gexf(g, path)
    else:
        raise ValueError(f"unknown export format {fmt!r}: use graphml or gexf")


# ---------------------------------------------------------------------------------------------
# a run directory as tables


def run_tables(run_dir: Path) -> Tables:
    """The normalised tables of a run directory, claims restricted as the run restricted them."""
    run_dir = Path(run_dir)
    norm = run_dir / "normalised"
    if not norm.is_dir():
        raise FileNotFoundError(f"{run_dir} has no normalised/ tables: is it the output directory of `audit run`?")
    meta = json.loads((run_dir / "run.json").read_text(encoding="utf-8")) if (run_dir / "run.json").exists() else {}
    month = meta.get("audit_month")
    audit_month = date(int(month[:4]), int(month[5:7]), 1) if month else date(2100, 1, 1)
    si = meta.get("si_as_of")
    si_as_of = date(int(si[:4]), int(si[5:7]), 1) if si else audit_month
    frames: dict[str, pl.LazyFrame | None] = {}
    for name in Tables.table_names():
        path = norm / f"{name}.parquet"
        frames[name] = pl.scan_parquet(path) if path.exists() else None
    for required in ("units", "trainees", "agreements", "claims", "social_insurance"):
        if frames.get(required) is None:
            raise FileNotFoundError(f"{norm} lacks {required}.parquet")
    claims = frames["claims"]
    assert claims is not None
    if month:
        frames["claims"] = claims.filter(pl.col("submitted_date") <= month_end(audit_month))
    return Tables(audit_month=audit_month, si_as_of=si_as_of, **frames)  # type: ignore[arg-type]


def stable_id(prefix: str, keys: Iterable[str]) -> str:
    """An id stable across reruns: a hash of the sorted keys."""
    digest = hashlib.sha1("\n".join(sorted(keys)).encode("utf-8")).hexdigest()[:12]
    return f"{prefix}{digest}"


def write_run_graphs(run_dir: Path) -> None:
    """cases.parquet and graphs/case_<id>.html for the top cases of a run (see :mod:`audit.cases`)."""
    from audit.cases import write_run_cases

    write_run_cases(Path(run_dir))


# ---------------------------------------------------------------------------------------------
# findings on the graph, and views for the viewer


def finding_entities(findings: pl.DataFrame, claims: pl.LazyFrame) -> pl.DataFrame:
    """``finding_id, node``: the trainee and unit nodes a finding names (a claim names both)."""
    p, u = _p("trainee"), _p("unit")
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
    persons = hood.filter(pl.col("node").str.starts_with(_p("trainee") + ":")).select(
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
        node_id(_p("trainee"), person_key(pl.col("v"))).alias("p"),
        node_id(_p("unit"), person_key(pl.col("v"))).alias("u"),
        node_id(_p("phone"), phone_key(pl.col("v"))).alias("t"),
        node_id(_p("bank"), card_key(pl.col("v"))).alias("b"),
        node_id(_p("address"), address_key(pl.col("v"))).alias("a"),
    ).row(0)
    candidates = [c for c in probe if c is not None]
    known = set(pl.concat([edges.select(pl.col("src").alias("n")), edges.select(pl.col("dst").alias("n"))])
                .filter(pl.col("n").is_in(candidates))["n"].to_list())
    for c in candidates:
        if c in known:
            return c
    raise KeyError(f"no trainee, unit, phone, card or address {text!r} in this run's graph")
