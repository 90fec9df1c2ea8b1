"""A view as a networkx graph, written as GraphML or GEXF for Gephi."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import networkx as nx
import polars as pl


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
