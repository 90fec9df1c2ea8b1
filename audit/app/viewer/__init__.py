"""One self-contained, offline HTML file to explore a graph view.

The JS graph library is vis-network, read from the installed ``pyvis`` package (which bundles it)
and inlined; pyvis's own template is not used, because it adds CDN tags. Nothing is fetched: the
page carries a Content-Security-Policy that forbids any network request. The layout is computed
in Python (:func:`audit.graph.layout`, seeded) and the browser runs no physics, so a graph of
thousands of nodes draws at once.

Nodes are filled by kind and bordered by the family of their findings, sized by money (at risk,
else claimed). A click shows a node's details and findings; a search box finds a node by name or
number; "展开邻居" (or a double click) reveals the neighbours embedded one hop beyond the view.
Person IDs, bank numbers and phones are masked (:mod:`audit.masking`) unless ``unmasked``.
"""

from __future__ import annotations

import functools
import html
import importlib.util
import json
import math
import re
from importlib import resources
from pathlib import Path
from typing import Any

import polars as pl

from audit import graph
from audit.masking import mask, mask_card, mask_id, mask_phone, mask_unit
from audit.rules import FAMILY_ZH, Family
from reports import evidence as readable

SEVERITY_ZH = {"high": "高", "medium": "中", "low": "低"}
KIND_PREFIX = {"phone": "电话", "bank": "银行卡/账户", "address": "地址"}  # a hub's label says what it is
OVERVIEW_LABELS = 40  # nodes labelled at every zoom level: units, hubs, flagged people (the rest on zooming in)
HUB_DEGREE = 3  # a phone, card or address with this many edges or more is a hub (drawn and labelled as such)

FAMILY_COLOURS: dict[str, str] = {
    Family.ONE_INTERNSHIP.value: "#e15759",
    Family.DUPLICATE_TRAINEE.value: "#ff9da7",
    Family.GHOST_TRAINEE.value: "#d62728",
    Family.RATE_MISAPPLIED.value: "#17becf",
    Family.RETENTION_INFLATED.value: "#bcbd22",
    Family.DORMANT_UNIT.value: "#7f7f7f",
    Family.UNIT_INELIGIBLE.value: "#8c564b",
    Family.REPORT_INCONSISTENT.value: "#9467bd",
    Family.DATA_QUALITY.value: "#c7c7c7",
}
EDGE_COLOURS: dict[str, str] = {
    "agreement": "#4e79a7", "legal_rep": "#b07aa1", "unit_phone": "#59a14f", "unit_account": "#edc948",
    "unit_address": "#9c755f", "trainee_phone": "#59a14f", "trainee_card": "#edc948", "insured": "#bab0ac",
    "employed": "#76b7b2",
}
VIS_VERSION_DIR = re.compile(r"vis-(\d+)\.(\d+)\.(\d+)$")


@functools.lru_cache(maxsize=1)
def vis_assets() -> tuple[str, str]:
    """(vis-network JS, CSS) from the installed pyvis package: its newest bundled version.

    Read once per process (a run writes a viewer per top case), from pyvis's files without
    importing pyvis (which imports IPython: 0.4 s for nothing we use)."""
    spec = importlib.util.find_spec("pyvis")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("the graph viewer needs the pyvis package (it ships vis-network): pip install pyvis")
    lib = Path(list(spec.submodule_search_locations)[0]) / "lib"
    versions = []
    for entry in lib.iterdir():
        m = VIS_VERSION_DIR.match(entry.name)
        if m and (entry / "vis-network.min.js").is_file():
            versions.append((tuple(int(x) for x in m.groups()), entry))
    if not versions:
        raise RuntimeError(f"no vis-network bundle found under {lib}")
    folder = max(versions)[1]
    js = (folder / "vis-network.min.js").read_text(encoding="utf-8")
    css = (folder / "vis-network.css").read_text(encoding="utf-8") if (folder / "vis-network.css").is_file() else ""
    js = re.sub(r"//# sourceMappingURL=\S+", "", js)  # no request for a source map, even with devtools open
    return js, css


def mask_text(text: str) -> str:
    """Mask person IDs, bank numbers and mobiles inside free text as the reports do."""
    return mask(text)


def _mask_key(kind: str, key: str | None, unmasked: bool) -> str:
    if key is None or unmasked:
        return key or ""
    if kind in ("trainee", "legal_rep"):
        return mask_id(key) or ""
    if kind == "bank":
        return mask_card(key) or ""
    if kind == "phone":
        return mask_phone(key) or ""
    if kind == "unit":  # a unit's credit code is public registry data, unless it is an ID in the wrong column
        return mask_unit(key)
    return mask(key)  # an address is public too; the net masks an ID or card number in it


def _money(x: float | None) -> str:
    return f"{(x or 0):,.2f}"


def view_payload(view: graph.GraphView, *, signals: frozenset[str] = frozenset(), unmasked: bool = False) -> dict:
    """The JSON the page draws: nodes with positions, edges, findings per node, kinds, legend.

    ``signals``: the ids of the signal-only rules, as the run recorded them (:mod:`audit.rundir`).
    """
    nodes = view.nodes
    names = nodes["node"].to_list()
    opaque = {n: f"n{i}" for i, n in enumerate(names)}  # raw IDs never appear as node ids in the page
    shown = nodes.filter((pl.col("hop") <= view.initial_hops) | pl.col("focus"))["node"].to_list()
    pos = graph.layout(names, list(zip(view.edges["src"].to_list(), view.edges["dst"].to_list())), core=shown)
    spread = 220.0 * math.sqrt(max(len(shown), 1))
    findings_by_node: dict[str, list[dict]] = {}
    for f in view.findings.to_dicts():
        findings_by_node.setdefault(f["node"], []).append(f)
    degree: dict[str, int] = {}
    for a, b in zip(view.edges["src"].to_list(), view.edges["dst"].to_list()):
        degree[a] = degree.get(a, 0) + 1
        degree[b] = degree.get(b, 0) + 1
    readable_evidence: dict[str | None, list[dict]] = {}  # a finding naming a person and a unit is at two nodes

    def evidence_of(text: str | None) -> list[dict]:
        if text not in readable_evidence:
            readable_evidence[text] = [
                {"label": i.label, "text": i.text, "columns": i.columns, "rows": i.rows, "lines": i.lines}
                for i in readable.items(text)] if not unmasked else \
                [{"label": "证据", "text": text or "", "columns": [], "rows": [], "lines": []}]
        return readable_evidence[text]

    out_nodes = []
    for row in nodes.to_dicts():
        kind, key = row["kind"], row["key"]
        shown_key = _mask_key(kind, key, unmasked)
        name = row["name"] if unmasked else mask(row["name"]) if row["name"] else row["name"]
        info = row.get("info") if unmasked else mask(row.get("info")) if row.get("info") else None
        found = findings_by_node.get(row["node"], [])
        at_risk = sum(f["amount_at_risk"] or 0 for f in found)
        money = at_risk or row["claimed"] or 0
        families = sorted({f["family"] for f in found}, key=lambda fam: list(FAMILY_COLOURS).index(fam) if fam in FAMILY_COLOURS else 99)
        hub = kind in KIND_PREFIX and degree.get(row["node"], 0) >= HUB_DEGREE
        if kind in ("trainee", "legal_rep"):
            label = f"{name or ''} {shown_key}".strip()
        elif kind == "unit":
            label = name or shown_key
        else:
            label = f"{KIND_PREFIX.get(kind, '')} {shown_key}".strip()
            if hub:
                label += f"（{degree[row['node']]}条关联）"
        details = {"类型": graph.NODE_KINDS[kind].zh if kind in graph.NODE_KINDS else kind, "编号": shown_key}
        if name:
            details["名称"] = name
        if info:
            details["信息"] = info
        details["经手申领(元)"] = _money(row["claimed"])
        details["风险金额(元)"] = _money(at_risk)
        details["距焦点(跳)"] = str(row["hop"])
        digits = re.sub(r"\D", "", key or "")
        search = " ".join(x for x in (label, name or "", shown_key, digits[-4:] if digits else "",
                                      (key or "") if unmasked else "") if x).lower()
        x, y = pos.get(row["node"], (0.0, 0.0))
        out_nodes.append({
            "id": opaque[row["node"]], "label": label, "kind": kind, "families": families,
            # a negative amount (a reversal) draws the smallest node, as no money does
            "size": round(10 + 4 * math.log10(1 + max(money, 0)), 1), "x": round(x * spread, 1), "y": round(y * spread, 1),
            "hidden": row["hop"] > view.initial_hops and not row["focus"], "focus": bool(row["focus"]),
            "details": details, "search": search, "hub": hub, "flagged": bool(found),
            "_rank": (0 if row["focus"] else 1 if kind == "unit" else 2 if hub else 3 if found else 9, -money),
            "findings": [{
                "rule_id": f["rule_id"], "family": f["family"], "family_zh": FAMILY_ZH.get(Family(f["family"]), f["family"]),
                "severity": SEVERITY_ZH.get(f["severity"], f["severity"]), "amount": _money(f["amount_at_risk"]),
                "signal": f["rule_id"] in signals,
                "period": f"{f['period_start'] or ''} 至 {f['period_end'] or ''}", "citation": f["citation"] or "",
                # the evidence in labelled sentences and small tables, as in the report (raw JSON only unmasked)
                "evidence": evidence_of(f["evidence"]),
            } for f in found],
        })
    # the overview names the nodes an investigator looks for first, whatever the zoom
    ranked = sorted((n for n in out_nodes if n["_rank"][0] < 9), key=lambda n: n["_rank"])
    for i, n in enumerate(ranked[:OVERVIEW_LABELS]):
        n["overview"], n["overview_rank"] = True, i
    for n in out_nodes:
        n.setdefault("overview", False)
        del n["_rank"]
    out_edges = [
        {"id": f"e{i}", "from": opaque[e["src"]], "to": opaque[e["dst"]], "kind": e["kind"]}
        for i, e in enumerate(view.edges.to_dicts()) if e["src"] in opaque and e["dst"] in opaque
    ]
    return {
        "title": view.title if unmasked else mask(view.title),
        "truncated": view.truncated,
        "nodes": out_nodes,
        "edges": out_edges,
        "kinds": {k.name: {"zh": k.zh, "colour": k.colour, "shape": k.shape} for k in graph.NODE_KINDS.values()},
        "edge_kinds": {k.name: {"zh": k.zh, "links": k.links, "colour": EDGE_COLOURS.get(k.name, "#999")}
                       for k in graph.EDGE_KINDS.values()},
        "families": {fam.value: {"zh": FAMILY_ZH[fam], "colour": FAMILY_COLOURS[fam.value]} for fam in Family},
    }


def render_html(view: graph.GraphView, path: Path, *, signals: frozenset[str] = frozenset(),
                unmasked: bool = False) -> Path:
    """Write the view as one offline HTML file and return its path (``signals`` as in
    :func:`view_payload`)."""
    js, css = vis_assets()
    template = (resources.files(__name__) / "template.html").read_text(encoding="utf-8")
    payload = script_json(view_payload(view, signals=signals, unmasked=unmasked))
    title = view.title if unmasked else mask(view.title)
    parts = {"/*__VIS_CSS__*/": css, "__TITLE__": html_text(title), "__DATA__": payload, "/*__VIS_JS__*/": js}
    # one pass over the template: what is put in is never searched for placeholders again, so a
    # name that spells one splices nothing
    page = _PLACEHOLDER.sub(lambda found: parts[found.group(0)], template)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(page, encoding="utf-8")
    return path


_PLACEHOLDER = re.compile(r"/\*__VIS_CSS__\*/|/\*__VIS_JS__\*/|__TITLE__|__DATA__")


def script_json(payload: Any) -> str:
    """``payload`` as JSON that is safe inside a ``<script>`` element: every ``<``, ``>`` and
    ``&`` is written as its ``\\u`` escape, so no ``</script>``, ``<!--`` or ``<script`` in the data
    can end the element or change how the browser parses it; U+2028/2029 escaped as well."""
    text = json.dumps(payload, ensure_ascii=False, default=str)
    for char, escape in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026"), ("\u2028", "\\u2028"),
                         ("\u2029", "\\u2029")):
        text = text.replace(char, escape)
    return text


def html_text(text: str) -> str:
    """Text for an HTML element's content (the page's title)."""
    return html.escape(text, quote=True)


def frame_for_export(view: graph.GraphView, *, unmasked: bool = False) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Nodes and edges for GraphML/GEXF: masked keys (unless ``unmasked``), findings summarised."""
    per_node = view.findings.group_by("node").agg(
        pl.len().alias("findings"), pl.col("family").unique().sort().alias("families"),
        pl.col("amount_at_risk").sum().round(2).alias("amount_at_risk"))
    nodes = view.nodes.join(per_node, on="node", how="left").with_columns(
        pl.col("findings").fill_null(0), pl.col("amount_at_risk").fill_null(0.0))
    if not unmasked:
        masked = [_mask_key(k, v, False) for k, v in zip(nodes["kind"].to_list(), nodes["key"].to_list())]
        opaque = {n: f"n{i}" for i, n in enumerate(nodes["node"].to_list())}
        nodes = nodes.with_columns(pl.Series("key", masked, dtype=pl.String),
                                   pl.col("node").replace_strict(opaque).alias("node"))
        edges = view.edges.with_columns(pl.col("src").replace_strict(opaque), pl.col("dst").replace_strict(opaque))
    else:
        edges = view.edges
    nodes = nodes.with_columns(pl.coalesce("name", "key").alias("label"))
    return nodes, edges
