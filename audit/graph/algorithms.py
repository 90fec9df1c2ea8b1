"""Algorithms on the small graphs of flagged entities and their neighbourhoods: connected
components, Louvain communities, layouts. networkx is imported here and in :mod:`audit.graph.export`
only; every edge is computed in polars before it reaches them."""

from __future__ import annotations

import math
from collections.abc import Iterable

import networkx as nx
import numpy as np
import polars as pl
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components


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
    """Component number of each node (numbered by their smallest member, in sorted order), the
    nodes in the order of their components, each component's in sorted order.

    Computed by scipy over node numbers, not in a networkx graph (whose 300,000 Python-object
    edges cost more than the search: bench/NOTES.md, "Rendering")."""
    pairs = list(edges)
    names = sorted({*nodes, *(a for a, _ in pairs), *(b for _, b in pairs)})
    if not names:
        return {}
    index = {name: i for i, name in enumerate(names)}
    n = len(names)
    src = np.fromiter((index[a] for a, _ in pairs), dtype=np.int64, count=len(pairs))
    dst = np.fromiter((index[b] for _, b in pairs), dtype=np.int64, count=len(pairs))
    matrix = coo_matrix((np.ones(len(pairs), dtype=np.int8), (src, dst)), shape=(n, n)).tocsr()
    count, labels = connected_components(matrix, directed=False)
    smallest = np.full(count, n)  # each component's smallest member: names are numbered in sorted order
    np.minimum.at(smallest, labels, np.arange(n))
    number = np.empty(count, dtype=np.int64)
    number[np.argsort(smallest)] = np.arange(count)
    of_node = number[labels]
    order = np.lexsort((np.arange(n), of_node))
    return {names[i]: int(of_node[i]) for i in order.tolist()}


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
                         cells: int = 100_000) -> dict:
    """``nx.spring_layout(g, seed=seed, iterations=iterations, method="force")`` for 500 nodes or more,
    computed in numpy blocks: the same positions, bit for bit.

    From 500 nodes networkx runs its sparse Fruchterman-Reingold, whose inner loop is Python, one
    node at a time (5,000 nodes × 15 iterations: minutes). This is that algorithm with the same
    random start, dtypes (float32 positions and adjacency, float64 forces) and order of summation
    (each node's displacement summed over the other nodes in node order), a block of other nodes
    at a time (``cells`` pairs per block: small enough to stay in the processor's cache); tests
    compare it with networkx.
    """
    adjacency = nx.to_scipy_sparse_array(g, weight="weight", dtype="f").tocsr()
    n = adjacency.shape[0]
    pos = np.asarray(np.random.RandomState(seed).rand(n, 2), dtype=adjacency.dtype)
    k = np.sqrt(1.0 / n)
    kk = k * k
    t = max(max(pos.T[0]) - min(pos.T[0]), max(pos.T[1]) - min(pos.T[1])) * 0.1
    dt = t / (iterations + 1)
    step = max(1, cells // n)
    blocks = []  # per block of other nodes (rows lo:hi), its edges: (row in block, node, weight)
    for lo in range(0, n, step):
        hi = min(lo + step, n)
        edges = adjacency[lo:hi].tocoo()  # the adjacency is symmetric: row j, column i is A[i, j]
        blocks.append((lo, hi, edges.row, edges.col, edges.data))
    height = min(step, n)
    # row j of a block is the other node lo + j, column i the node moved. A block's products sit
    # under the running sums (row 0), and one reduction over axis 0 adds them in row order: each
    # node's displacement is summed over the other nodes in node order, as networkx's per-node sum
    # does, with the rows contiguous for numpy (bench/NOTES.md, "Rendering")
    dx, dy, dist, sq = (np.empty((height, n), np.float32) for _ in range(4))
    force = np.empty((height, n))
    prod = np.empty((height + 1, n))
    displacement = np.zeros((2, n))
    for _ in range(iterations):
        x, y = pos[:, 0], pos[:, 1]
        for b, (lo, hi, other, node, weight) in enumerate(blocks):
            m = hi - lo
            bx, by, bd, bs, bf = dx[:m], dy[:m], dist[:m], sq[:m], force[:m]
            np.subtract(x[None, :], x[lo:hi, None], out=bx)
            np.subtract(y[None, :], y[lo:hi, None], out=by)
            np.multiply(bx, bx, out=bd)
            np.multiply(by, by, out=bs)
            np.add(bd, bs, out=bd)
            np.sqrt(bd, out=bd)
            np.maximum(bd, 0.01, out=bd)
            np.multiply(bd, bd, out=bs)
            np.divide(kk, bs, out=bf)  # repulsion k²/d², float64 as networkx's
            # attraction A·d/k where there is an edge (elsewhere A is 0 and networkx subtracts 0)
            bf[other, node] -= weight * bd[other, node] / k
            first = 0 if b == 0 else 1  # the first block starts the sums; later ones add to them
            for axis, delta in ((0, bx), (1, by)):
                if first:
                    prod[0] = displacement[axis]
                np.multiply(delta, bf, out=prod[first:first + m])
                np.add.reduce(prod[:first + m], axis=0, out=displacement[axis])
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
