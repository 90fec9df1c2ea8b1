"""The relationship graph of trainees, units and the identifiers they share — behind one door.

Investigators start from a person or a unit and look at what it is connected to. The graph has
nodes for trainees, units, legal representatives, phones, bank accounts/cards and addresses, and
edges from agreements (trainee–unit, with dates and money claimed), legal representation, the
identifiers units and trainees registered, and the insurance and labour-contract registries
(trainee–employer). Node and edge kinds are declared once, as data (:mod:`audit.graph.kinds`).

Identifiers are normalised before they become nodes (:mod:`audit.graph.keys`), so that one phone
written three ways is one node: phones keep their digits without a +86/0086 prefix, spaces or
dashes; cards and accounts keep their digits; addresses are NFKC-normalised (full-width → ASCII)
with whitespace and punctuation removed. A value too short or degenerate to identify anything
(``00000000``, an address without a house number) is not a node: it would link unrelated parties.

This is a foundation library: it reads :class:`audit.tables.Tables` and knows nothing of rules,
runs or reports. Its modules, each one section:

- :mod:`~audit.graph.kinds` — node and edge kinds;
- :mod:`~audit.graph.keys` — identifier keys, node ids, stable ids;
- :mod:`~audit.graph.edges` — identifiers and memberships as tables, link and registry edges;
- :mod:`~audit.graph.views` — neighbourhoods, node attributes, the entities findings name, views;
- :mod:`~audit.graph.algorithms` — components, Louvain communities, layouts (networkx);
- :mod:`~audit.graph.export` — GraphML/GEXF for Gephi (networkx).

Scale: every edge is computed in polars; networkx is used only on the small graphs of flagged
entities and their neighbourhoods, and is imported only in ``algorithms`` and ``export``.
"""

from __future__ import annotations

from audit.graph.algorithms import components, layout, louvain, node_components
from audit.graph.edges import claimed_by_pair, link_edges, registry_edges, trainee_units, unit_identifiers
from audit.graph.export import to_networkx, write_export
from audit.graph.keys import address_key, card_digits, card_key, first_rows, node_id, person_key, phone_key, stable_id
from audit.graph.kinds import (
    EDGE_KINDS,
    EDGE_SCHEMA,
    LINK_EDGE_KINDS,
    NODE_KINDS,
    UNIT_IDENTIFIER_KINDS,
    EdgeKind,
    NodeKind,
    prefix_of,
)
from audit.graph.views import (
    GraphView,
    build_view,
    build_views,
    degrees,
    edges_within,
    finding_entities,
    neighbourhood,
    neighbourhoods,
    node_table,
    resolve_entity,
)

__all__ = [
    "EDGE_KINDS", "EDGE_SCHEMA", "LINK_EDGE_KINDS", "NODE_KINDS", "UNIT_IDENTIFIER_KINDS", "EdgeKind", "GraphView",
    "NodeKind", "address_key", "build_view", "build_views", "card_digits", "card_key", "claimed_by_pair", "components", "degrees",
    "edges_within", "finding_entities", "first_rows", "layout", "link_edges", "louvain", "neighbourhood",
    "neighbourhoods", "node_components", "node_id", "node_table", "person_key", "phone_key", "prefix_of",
    "registry_edges", "resolve_entity", "stable_id", "to_networkx", "trainee_units", "unit_identifiers",
    "write_export",
]
