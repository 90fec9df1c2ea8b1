"""The relationship graph (audit/graph.py): identifiers normalised before they become nodes, kinds
declared once, edges from a literal world, neighbourhoods that stop at hubs, Gephi exports, and
the `audit graph` command (masked unless --unmasked)."""

from __future__ import annotations

import random
from pathlib import Path

import networkx as nx
import polars as pl
import pytest
from click.testing import CliRunner

from audit import graph
from audit.app.cli import main
from audit.app.viewer import mask_text
from audit.graph.algorithms import _spring_layout_large
from audit.masking import mask_card, mask_id, mask_phone
from tests.helpers import pid, uscc
from tests.test_cases import HOME_PHONE, SHARED_CARD, world_tables, write_world

PHONES = [
    ("+86 138-0013-8000", "13800138000"),
    ("0086 13800138000", "13800138000"),
    ("８６１３８００１３８０００", "13800138000"),  # full-width, with country code
    ("0791-86123456", "079186123456"),  # a landline keeps its area code
    ("00000000000", None),  # placeholder
    ("12345", None),  # too short
    (None, None),
]
CARDS = [
    ("6222 0202 0011 2233", "6222020200112233"),
    ("6222-0202-0011-2233", "6222020200112233"),
    ("６２２２０２０２００１１２２３３", "6222020200112233"),
    ("0000000000000000", None),
    ("123456", None),
]
ADDRESSES = [
    ("南昌市 东湖区 八一大道１２号", "南昌市东湖区八一大道12号"),
    ("南昌市东湖区八一大道12号（A座）", "南昌市东湖区八一大道12号a座"),
    ("江西省南昌市东湖区", None),  # an area without a number names no place
]


@pytest.mark.parametrize("raw, key", PHONES)
def test_phone_key(raw, key):
    assert pl.select(graph.phone_key(pl.lit(raw, pl.String))).item() == key


@pytest.mark.parametrize("raw, key", CARDS)
def test_card_key(raw, key):
    assert pl.select(graph.card_key(pl.lit(raw, pl.String))).item() == key


@pytest.mark.parametrize("raw, key", ADDRESSES)
def test_address_key(raw, key):
    assert pl.select(graph.address_key(pl.lit(raw, pl.String))).item() == key


def test_kinds_declared_once_and_edges_use_them():
    t = world_tables()
    edges = graph.link_edges(t).collect()
    assert set(edges["kind"].unique()) <= set(graph.EDGE_KINDS)
    prefixes = {k.prefix for k in graph.NODE_KINDS.values()}
    for col in ("src", "dst"):
        assert set(edges[col].str.split(":").list.first().unique()) <= prefixes
    # the shared card is one node with two trainees; the shared phone likewise
    card = edges.filter(pl.col("dst") == f"b:{SHARED_CARD}")
    assert set(card["src"]) == {f"p:{pid('P1')}", f"p:{pid('P2')}"}
    assert edges.filter(pl.col("dst") == f"t:{HOME_PHONE}").height == 2
    # the two spellings of one address are one node
    assert edges.filter(pl.col("kind") == "unit_address")["dst"].n_unique() == 1
    agreement = edges.filter((pl.col("kind") == "agreement") & (pl.col("src") == f"p:{pid('P1')}")).row(0, named=True)
    assert agreement["dst"] == f"u:{uscc('U1')}" and agreement["amount"] == 1480.0 and agreement["n"] == 1


def test_node_table_names_kinds():
    t = world_tables()
    edges = graph.link_edges(t).collect()
    rep = edges.filter(pl.col("kind") == "legal_rep")["src"][0]
    nodes = graph.node_table(t, pl.DataFrame({"node": [f"p:{pid('P1')}", f"u:{uscc('U1')}", rep, f"b:{SHARED_CARD}"]}))
    kinds = dict(zip(nodes["node"], nodes["kind"]))
    assert kinds == {f"p:{pid('P1')}": "trainee", f"u:{uscc('U1')}": "unit", rep: "legal_rep", f"b:{SHARED_CARD}": "bank"}
    assert nodes.filter(pl.col("kind") == "legal_rep")["name"][0] == "甲某"


def test_neighbourhood_stops_at_hubs_and_caps_nodes():
    # a star: hub H with 10 leaves; seed S — A — H
    edges = pl.DataFrame({"src": ["S", "A"] + ["H"] * 10, "dst": ["A", "H"] + [f"L{i}" for i in range(10)]})
    edges = edges.with_columns(pl.lit("agreement").alias("kind"))
    full = graph.neighbourhood(edges, ["S"], 3)
    assert full.height == 13
    stopped = graph.neighbourhood(edges, ["S"], 3, hub_degree=5)
    assert set(stopped["node"]) == {"S", "A", "H"}  # H is reached but not walked through
    capped = graph.neighbourhood(edges, ["S"], 3, max_nodes=5)
    assert capped.height == 5 and capped["hop"].to_list() == sorted(capped["hop"].to_list())
    # more seeds than max_nodes (a unit with thousands of flagged trainees): the seeds, nothing beyond
    crowded = graph.neighbourhood(edges, ["S", "A", "H"] + [f"L{i}" for i in range(5)], 3, max_nodes=5)
    assert crowded.height == 8 and set(crowded["hop"]) == {0}


@pytest.mark.parametrize("n, iterations", [(500, 50), (640, 15)])
def test_large_layout_is_networkx_spring_layout_bit_for_bit(n, iterations):
    # a unit with many trainees (a star) plus shared phones: the shape of a big case's view
    edges = [("u:U1", f"p:{i:04d}") for i in range(n - 41)] + [(f"p:{i:04d}", f"t:{i % 40:02d}") for i in range(0, n - 41, 3)]
    g = nx.Graph()
    g.add_nodes_from(sorted({v for e in edges for v in e}))
    g.add_edges_from(sorted(edges))
    sub = g.subgraph(sorted(g))
    assert sub.number_of_nodes() == n
    ours = _spring_layout_large(sub, seed=7, iterations=iterations, cells=50_000)  # several blocks
    theirs = nx.spring_layout(sub, seed=7, iterations=iterations, method="force")
    assert list(ours) == list(theirs)
    assert all(tuple(map(float, ours[v])) == tuple(map(float, theirs[v])) for v in theirs)


def test_node_components_are_networkx_connected_components():
    # the plain version: a networkx graph, its components sorted, numbered by their smallest member
    def plain(nodes, edges):
        g = nx.Graph()
        g.add_nodes_from(nodes)
        g.add_edges_from(edges)
        comps = sorted((sorted(c) for c in nx.connected_components(g)), key=lambda c: c[0])
        return {n: i for i, comp in enumerate(comps) for n in comp}

    rng = random.Random(11)
    for _ in range(60):
        names = [f"{rng.choice('pu')}:{rng.randint(0, 300)}" for _ in range(rng.randint(0, 120))]
        edges = [(rng.choice(names), rng.choice(names + ["t:only-in-an-edge"])) for _ in range(rng.randint(0, 90))] \
            if names else []
        ours, theirs = graph.node_components(names, iter(edges)), plain(names, edges)
        assert ours == theirs and list(ours) == list(theirs)


def test_louvain_is_deterministic_and_keeps_small_rings_whole():
    ring = pl.DataFrame({"src": ["P1", "P3", "P2", "P4", "P1", "P3"], "dst": ["U1", "U1", "U2", "U2", "c1", "c2"]})
    ring = pl.concat([ring, pl.DataFrame({"src": ["P2", "P4"], "dst": ["c1", "c2"]})])
    out = graph.louvain(ring, seed=1)
    assert out["community"].n_unique() == 1
    big = pl.DataFrame({"src": [f"a{i}" for i in range(150)] + [f"b{i}" for i in range(150)] + ["a0"],
                        "dst": [f"a{(i + 1) % 150}" for i in range(150)] + [f"b{(i + 1) % 150}" for i in range(150)] + ["b0"]})
    first, second = graph.louvain(big, seed=7), graph.louvain(big, seed=7)
    assert first.equals(second) and first["community"].n_unique() > 1


def test_masks():
    assert mask_id("43010219900101123X") == "4301**********123X"
    assert mask_card("6222020200111234") == "6222********1234"
    assert mask_phone("13800138000") == "138****8000"
    # evidence text in the viewer is masked with the reports' own text mask (one convention)
    text = mask_text('{"person": "43010219900101123X", "card": "6222020200111234", "phone": "13800138000"}')
    assert "43010219900101123X" not in text and "6222020200111234" not in text and "13800138000" not in text


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory) -> Path:
    from audit.app.cases import write_run_cases
    from tests.helpers import policy

    run = write_world(tmp_path_factory.mktemp("graph") / "run")
    write_run_cases(run, policy())
    return run


def _case_id(run_dir: Path) -> str:
    cases = pl.read_parquet(run_dir / "cases.parquet")
    return cases.filter(pl.col("person_ids").list.contains(pid("P1")))["case_id"][0]


def _external_references(html: str) -> list[str]:
    """src/href attributes of the page's own tags (script bodies are not parsed as tags)."""
    from html.parser import HTMLParser

    found: list[str] = []

    class Tags(HTMLParser):
        def handle_starttag(self, tag, attrs):
            found.extend(f"<{tag} {k}={v}>" for k, v in attrs if k in ("src", "href") and v)

    Tags().feed(html)
    return found


def test_cli_case_html_is_masked_and_offline(run_dir, tmp_path):
    out = tmp_path / "case.html"
    result = CliRunner().invoke(main, ["graph", str(run_dir), "--case", _case_id(run_dir), "--out", str(out)])
    assert result.exit_code == 0, result.output
    html = out.read_text(encoding="utf-8")
    assert "vis.Network" in html and "张一" in html
    assert _external_references(html) == []
    assert pid("P1") not in html and SHARED_CARD not in html and HOME_PHONE not in html
    assert mask_id(pid("P1")) in html


def test_cli_entity_unmasked_by_phone_spelling(run_dir, tmp_path):
    out = tmp_path / "phone.html"
    result = CliRunner().invoke(main, ["graph", str(run_dir), "--entity", "+86 139-1234-5678", "--hops", "1",
                                       "--out", str(out), "--unmasked"])
    assert result.exit_code == 0, result.output
    html = out.read_text(encoding="utf-8")
    assert pid("P5") in html and pid("P6") in html and HOME_PHONE in html


def test_cli_unknown_entity_and_bad_arguments(run_dir, tmp_path):
    runner = CliRunner()
    unknown = runner.invoke(main, ["graph", str(run_dir), "--entity", "nobody", "--out", str(tmp_path / "x.html")])
    assert unknown.exit_code != 0 and "no trainee, unit" in unknown.output
    both = runner.invoke(main, ["graph", str(run_dir), "--out", str(tmp_path / "x.html")])
    assert both.exit_code != 0 and "exactly one of" in both.output


@pytest.mark.parametrize("fmt", ["graphml", "gexf"])
def test_cli_exports_for_gephi(run_dir, tmp_path, fmt):
    out = tmp_path / f"case.{fmt}"
    result = CliRunner().invoke(main, ["graph", str(run_dir), "--case", _case_id(run_dir), "--format", fmt,
                                       "--out", str(out)])
    assert result.exit_code == 0, result.output
    g = nx.read_graphml(out) if fmt == "graphml" else nx.read_gexf(out)
    assert g.number_of_nodes() > 0 and g.number_of_edges() > 0
    kinds = {d.get("kind") for _, d in g.nodes(data=True)}
    assert {"trainee", "unit"} <= kinds
    text = out.read_text(encoding="utf-8")
    assert pid("P1") not in text  # masked by default in exports too
