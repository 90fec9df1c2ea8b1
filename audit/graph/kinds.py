"""Node and edge kinds of the relationship graph, declared once, as data."""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl


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


def prefix_of(kind: str) -> str:
    """The node-id prefix of a node kind (``p`` for trainees and legal representatives)."""
    return NODE_KINDS[kind].prefix
