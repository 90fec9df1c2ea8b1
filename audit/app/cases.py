"""Cases: the findings of a run grouped by graph connectivity, one case per connected cluster.

A case is what one investigator takes up. Its entities are the trainees and units that findings
name (a claim-level finding names the claim's trainee and unit). Two flagged entities belong to
the same case when a finding names both, when a link edge joins them (an agreement, a shared
legal representative), or when they share a connector — a unit, person, phone, bank number or
address adjacent to both. A connector with more than ``graph.case_hub_max_degree`` edges (a
switchboard, an industrial-park address) and a large employer (``graph.large_employer_staff``)
do not join cases: they link unrelated parties.

DATA_QUALITY and REPORT_INCONSISTENT findings do not open a case of their own; they join the case
of an entity they name. The case id is a hash of the case's sorted entity keys, so it is the same
on every rerun over the same data. Money at risk of a case counts each claim once (RULES.md §8:
per claim the largest amount any of the case's findings puts at risk, never more than was paid),
plus the amounts of findings that name no claim.
"""

from __future__ import annotations

import json
import logging
import sys
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from audit import graph
from audit.app.viewer import render_html
from audit.outpaths import inside, safe_stem
from audit.policy import Policy
from audit.rules import FAMILY_ZH, Family
from audit.rundir import RunDir
from audit.tables import Tables
from audit.totals import yuan_expr

log = logging.getLogger("audit")

# the per-run case graphs stay small enough to open at once; `audit graph --max-nodes` goes further
CASE_GRAPH_MAX_NODES = 600
#: how many case viewers are drawn at once
VIEWER_THREADS = 2

ATTACH_ONLY_FAMILIES = (Family.DATA_QUALITY.value, Family.REPORT_INCONSISTENT.value)

CASE_SCHEMA: dict[str, pl.DataType] = {
    "case_id": pl.String(),
    "rank": pl.Int64(),
    "summary": pl.String(),
    "entities": pl.List(pl.String()),  # node ids of the flagged trainees and units ("p:…", "u:…")
    "connectors": pl.List(pl.String()),  # node ids that join them (shared identifiers, units)
    "person_ids": pl.List(pl.String()),
    "unit_ids": pl.List(pl.String()),
    "unit_names": pl.List(pl.String()),
    "county_codes": pl.List(pl.String()),
    "n_persons": pl.Int64(),
    "n_units": pl.Int64(),
    "n_findings": pl.Int64(),
    "n_signals": pl.Int64(),
    "families": pl.List(pl.String()),
    "rule_ids": pl.List(pl.String()),
    "finding_ids": pl.List(pl.String()),
    "n_claims": pl.Int64(),
    "amount_at_risk": pl.Float64(),
    "amount_claimed": pl.Float64(),
    "graph_file": pl.String(),
}


def case_membership(t: Tables, findings: pl.DataFrame, edges: pl.DataFrame, policy: Policy,
                    ents: pl.DataFrame | None = None) -> tuple[pl.DataFrame, pl.DataFrame]:
    """``(finding_id, case_id)`` and ``(case_id, node, role)`` (role: entity | connector).

    ``ents`` is :func:`audit.graph.finding_entities` of the findings, when already computed.
    """
    hub_max = int(policy.detect("graph.case_hub_max_degree"))
    large = int(policy.detect("graph.large_employer_staff"))
    ents = graph.finding_entities(findings, t.claims) if ents is None else ents
    seeding = findings.filter(~pl.col("family").is_in(ATTACH_ONLY_FAMILIES)).select("finding_id")
    seed_ents = ents.join(seeding, on="finding_id", how="semi")
    seeds = seed_ents.select("node").unique()
    empty_members = pl.DataFrame(schema={"case_id": pl.String, "node": pl.String, "role": pl.String})
    if seeds.height == 0:
        return pl.DataFrame(schema={"finding_id": pl.String, "case_id": pl.String}), empty_members

    # entities named by one finding belong together
    first = seed_ents.group_by("finding_id").agg(pl.col("node").min().alias("a"))
    within = seed_ents.join(first, on="finding_id").select("a", pl.col("node").alias("b")).filter(pl.col("a") != pl.col("b"))
    # link edges touching a flagged entity: direct links, and candidate connectors
    touching = pl.concat([
        edges.join(seeds, left_on="src", right_on="node", how="semi").select(pl.col("src").alias("seed"), pl.col("dst").alias("other")),
        edges.join(seeds, left_on="dst", right_on="node", how="semi").select(pl.col("dst").alias("seed"), pl.col("src").alias("other")),
    ]).unique()
    seed_set = seeds.rename({"node": "other"})
    direct = touching.join(seed_set, on="other", how="semi").select(pl.col("seed").alias("a"), pl.col("other").alias("b"))
    candidates = touching.join(seed_set, on="other", how="anti")
    shared = candidates.group_by("other").agg(pl.col("seed").n_unique().alias("n_seeds")).filter(pl.col("n_seeds") >= 2)
    deg = graph.degrees(edges.join(shared.select(pl.col("other").alias("src")), on="src", how="semi")
                        .vstack(edges.join(shared.select(pl.col("other").alias("dst")), on="dst", how="semi")))
    large_units = t.units.filter(pl.col("staff_count").fill_null(0) >= large).select(
        graph.node_id(graph.NODE_KINDS["unit"].prefix, pl.col("unit_id")).alias("other")).collect()
    connectors = (
        shared.join(deg.rename({"node": "other"}), on="other", how="left")
        .filter(pl.col("degree").fill_null(0) <= hub_max)
        .join(large_units, on="other", how="anti")
        .select("other")
    )
    via = candidates.join(connectors, on="other", how="semi").select(pl.col("seed").alias("a"), pl.col("other").alias("b"))
    pairs = pl.concat([within, direct, via])
    nodes = pl.concat([seeds["node"], connectors["other"]]).unique().to_list()
    comp = graph.node_components(nodes, zip(pairs["a"].to_list(), pairs["b"].to_list()))
    members = pl.DataFrame({"node": list(comp), "comp": list(comp.values())}, schema={"node": pl.String, "comp": pl.Int64})
    members = members.with_columns(
        pl.when(pl.col("node").is_in(seeds["node"].implode())).then(pl.lit("entity")).otherwise(pl.lit("connector")).alias("role"))
    # a case is named by its flagged entities alone: stable while its connectors or hub cut-offs vary
    names = members.filter(pl.col("role") == "entity").group_by("comp").agg(pl.col("node").sort())
    names = names.with_columns(pl.Series("case_id", [graph.stable_id("C", keys) for keys in names["node"].to_list()]))
    members = members.join(names.select("comp", "case_id"), on="comp").select("case_id", "node", "role").sort("case_id", "node")
    # every finding (attach-only ones included) goes to the case of an entity it names
    of_finding = ents.join(members.filter(pl.col("role") == "entity").select("node", "case_id"), on="node") \
        .group_by("finding_id").agg(pl.col("case_id").min())
    return of_finding.sort("finding_id"), members


def case_table(t: Tables, findings: pl.DataFrame, links: pl.DataFrame, of_finding: pl.DataFrame,
               members: pl.DataFrame, signals: frozenset[str] = frozenset()) -> pl.DataFrame:
    """One row per case with its entities, counts, families, money (each claim once) and summary;
    ``signals`` are the ids of the signal-only rules (counted apart)."""
    if of_finding.height == 0:
        return pl.DataFrame(schema=CASE_SCHEMA)
    # a claim id the table holds twice counts once, by its first row (graph.first_rows)
    claims = t.claims.select("claim_id", "person_id", "unit_id",
                             (pl.col("amount").fill_null(0) + pl.col("insurance_amount").fill_null(0)).alias("_paid")) \
        .with_row_index("_row")
    f = findings.join(of_finding, on="finding_id")
    case_links = links.join(of_finding, on="finding_id")
    paid = claims.select("_row", "claim_id", "_paid").join(case_links.lazy().select("claim_id"), on="claim_id", how="semi") \
        .sort("_row").unique("claim_id", keep="first", maintain_order=True).drop("_row").collect()
    per_claim = (
        case_links.group_by("case_id", "claim_id").agg(pl.col("amount").max())
        .join(paid, on="claim_id", how="left")
        .with_columns(pl.min_horizontal("amount", pl.col("_paid").fill_null(float("inf"))).alias("amount"))
    )
    linked_money = per_claim.group_by("case_id").agg(pl.col("amount").sum().alias("_linked"),
                                                     pl.col("claim_id").n_unique().alias("n_claims"))
    unlinked = f.join(links.select("finding_id").unique(), on="finding_id", how="anti").group_by("case_id").agg(
        pl.col("amount_at_risk").sum().alias("_unlinked"))
    stats = f.group_by("case_id").agg(
        pl.len().alias("n_findings"),
        pl.col("rule_id").is_in(list(signals)).sum().alias("n_signals"),
        pl.col("family").unique().sort().alias("families"),
        pl.col("rule_id").unique().sort().alias("rule_ids"),
        pl.col("finding_id").sort().alias("finding_ids"),
        pl.col("county_code").drop_nulls().unique().sort().alias("county_codes"),
    )
    ent = members.filter(pl.col("role") == "entity")
    p, u = graph.NODE_KINDS["trainee"].prefix + ":", graph.NODE_KINDS["unit"].prefix + ":"
    people = ent.filter(pl.col("node").str.starts_with(p)).select("case_id", pl.col("node").str.slice(len(p)).alias("person_id"))
    units = ent.filter(pl.col("node").str.starts_with(u)).select("case_id", pl.col("node").str.slice(len(u)).alias("unit_id"))
    # what passed through the case: claims of its trainees or at its units, each claim once
    claimed = pl.concat([
        claims.join(people.lazy(), on="person_id").select("_row", "case_id", "claim_id", "_paid"),
        claims.join(units.lazy(), on="unit_id").select("_row", "case_id", "claim_id", "_paid"),
    ]).sort("_row").unique(["case_id", "claim_id"], keep="first", maintain_order=True) \
        .group_by("case_id").agg(pl.col("_paid").sum().alias("amount_claimed")).collect()
    names = graph.first_rows(t.units.select("unit_id", "unit_name"), "unit_id").collect()
    unit_money = claims.join(units.lazy().select("unit_id"), on="unit_id", how="semi") \
        .group_by("unit_id").agg(pl.col("_paid").sum().alias("_m")).collect()
    unit_rows = units.join(names, on="unit_id", how="left").join(unit_money, on="unit_id", how="left") \
        .sort(["case_id", "_m", "unit_id"], descending=[False, True, False], nulls_last=True) \
        .group_by("case_id", maintain_order=True).agg(pl.col("unit_id"), pl.col("unit_name").fill_null(pl.col("unit_id")).alias("unit_names"))
    person_rows = people.group_by("case_id").agg(pl.col("person_id").sort())
    connectors = members.filter(pl.col("role") == "connector").group_by("case_id").agg(pl.col("node").sort().alias("connectors"))
    entities = ent.group_by("case_id").agg(pl.col("node").sort().alias("entities"))
    out = (
        stats.join(entities, on="case_id").join(connectors, on="case_id", how="left")
        .join(person_rows, on="case_id", how="left").join(unit_rows, on="case_id", how="left")
        .join(linked_money, on="case_id", how="left").join(unlinked, on="case_id", how="left")
        .join(claimed, on="case_id", how="left")
        .with_columns(
            (pl.col("_linked").fill_null(0) + pl.col("_unlinked").fill_null(0)).round(2).alias("amount_at_risk"),
            pl.col("amount_claimed").fill_null(0).round(2),
            pl.col("n_claims").fill_null(0).cast(pl.Int64),
            pl.col("connectors").fill_null([]),
            pl.col("person_id").fill_null([]).alias("person_ids"),
            pl.col("unit_id").fill_null([]).alias("unit_ids"),
            pl.col("unit_names").fill_null([]),
        )
        .with_columns(pl.col("person_ids").list.len().alias("n_persons"), pl.col("unit_ids").list.len().alias("n_units"))
        .sort(["amount_at_risk", "amount_claimed", "n_findings", "case_id"], descending=[True, True, True, False])
        .with_row_index("rank", offset=1)
    )
    out = out.with_columns(_summary().alias("summary"), pl.lit(None, pl.String).alias("graph_file"))
    return out.select([pl.col(k).cast(v) for k, v in CASE_SCHEMA.items()])


def _summary() -> pl.Expr:
    """A one-line Chinese summary: who, how many, which problems, how much — a part whose count
    is zero is left out ("见习人员0人" is never written), amounts as every output writes them."""
    zh = {f.value: z for f, z in FAMILY_ZH.items()}
    families = pl.col("families").list.eval(pl.element().replace_strict(zh, default=pl.element())).list.join("、")
    lead = pl.when(pl.col("unit_names").list.len() > 0).then(
        pl.concat_str([pl.col("unit_names").list.first(),
                       pl.when(pl.col("n_units") > 1).then(pl.format("等{}家单位", pl.col("n_units"))).otherwise(pl.lit(""))])
    ).otherwise(pl.lit("未涉及见习单位"))

    def part(count: str, text: str) -> pl.Expr:
        return pl.when(pl.col(count) > 0).then(pl.format(text, pl.col(count))).otherwise(None)

    who = pl.concat_str([part("n_persons", "见习人员{}人"), part("n_units", "见习单位{}家")], separator="、",
                        ignore_nulls=True)
    leads = pl.concat_str([pl.format("问题线索{}条", pl.col("n_findings")),
                           pl.when(pl.col("n_signals") > 0).then(pl.format("（其中图谱信号{}条）", pl.col("n_signals")))
                           .otherwise(pl.lit(""))])
    money = pl.concat_str([pl.lit("风险金额 "), yuan_expr(pl.col("amount_at_risk")),
                           pl.when(pl.col("amount_claimed") > 0)
                           .then(pl.concat_str([pl.lit("，经手申领 "), yuan_expr(pl.col("amount_claimed"))]))
                           .otherwise(pl.lit(""))])
    body = pl.concat_str([who, leads, pl.concat_str([pl.lit("涉及"), families])], separator="，", ignore_nulls=True)
    return pl.concat_str([lead, pl.lit("："), body, pl.lit("；"), money])


@dataclass
class RunCases:
    """A run's cases and what was built on the way (reused to draw the case graphs)."""

    cases: pl.DataFrame
    members: pl.DataFrame  # case_id, node, role
    tables: Tables
    findings: pl.DataFrame
    entities: pl.DataFrame  # finding_id, node
    edges: pl.DataFrame  # link edges of the whole run
    signals: frozenset[str]  # ids of the signal-only rules, as the run recorded them


def build_cases(run_dir: Path, policy: Policy | None = None) -> RunCases:
    """The cases of a run directory (see the module docstring), with the run's own detection
    values (its ``policy/`` snapshot) unless ``policy`` is given."""
    return _build_cases(RunDir.open(run_dir), policy)


def _build_cases(run: RunDir, policy: Policy | None) -> RunCases:
    policy = policy or run.policy
    t = run.tables()
    findings = run.findings()
    links = run.claim_links()
    edges = graph.link_edges(t).collect()
    ents = graph.finding_entities(findings, t.claims)
    of_finding, members = case_membership(t, findings, edges, policy, ents)
    cases = case_table(t, findings, links, of_finding, members, run.signal_rules)
    return RunCases(cases, members, t, findings, ents, edges, run.signal_rules)


def write_run_cases(run_dir: Path, policy: Policy | None = None,
                    cases_written: Callable[[frozenset[str]], object] | None = None) -> pl.DataFrame:
    """Write ``cases.parquet`` and ``graphs/case_<case_id>.html`` for the top ``report.top_cases``
    cases: the graph output stage of a run, with the run's own detection values.

    ``cases.parquet`` names each top case's graph file and is written first; ``cases_written``,
    when given, is then called with those files, before they are drawn: the pipeline's report
    reads the cases meanwhile."""
    t0 = time.perf_counter()
    run_dir = Path(run_dir)
    run = RunDir.open(run_dir)
    policy = policy or run.policy
    built = _build_cases(run, policy)
    cases, t, findings, edges, signals = built.cases, built.tables, built.findings, built.edges, built.signals
    top = int(policy.detect("report.top_cases"))
    hub = int(policy.detect("graph.case_hub_max_degree"))
    graphs = inside(run_dir, "graphs")
    graphs.mkdir(exist_ok=True)
    files: dict[str, str] = {}
    chosen = cases.head(top)
    if chosen.height:
        seeds = pl.concat([
            chosen.select(pl.col("case_id").alias("group"), pl.col("entities").alias("node"), pl.lit(True).alias("focus")),
            chosen.select(pl.col("case_id").alias("group"), pl.col("connectors").alias("node"), pl.lit(False).alias("focus")),
        ]).explode("node").drop_nulls("node").unique(["group", "node"], keep="first")
        titles = {cid: f"案件 {cid}（第{rank}位）：{summary}"
                  for cid, rank, summary in zip(chosen["case_id"], chosen["rank"], chosen["summary"])}
        views = graph.build_views(t, edges, findings, built.entities, seeds, hops=1, titles=titles,
                                  max_nodes=CASE_GRAPH_MAX_NODES, hub_degree=hub)
        names = {case_id: f"case_{safe_stem(case_id)}.html" for case_id in views}  # a hash the run made; sanitised all the same
        files = {case_id: f"graphs/{name}" for case_id, name in names.items()}
    else:
        views, names = {}, {}
    del built, t, findings, edges  # the run's tables and 4 M edges: the viewers need none of them
    cases = cases.with_columns(pl.col("case_id").replace_strict(files, default=None, return_dtype=pl.String).alias("graph_file"))
    cases.write_parquet(inside(run_dir, "cases.parquet"))
    if cases_written is not None:
        cases_written(frozenset(files.values()))
    # two at a time, the largest first: the layout is numpy's and leaves the interpreter to the
    # other viewer's Python (bench/NOTES.md, "Validation beside the load, and the cases beside
    # the lists")
    order = sorted(views, key=lambda case_id: -views[case_id].nodes.height)
    with ThreadPoolExecutor(max_workers=VIEWER_THREADS, thread_name_prefix="viewer") as pool:
        for done in [pool.submit(render_html, views[case_id], inside(graphs, names[case_id]), signals=signals)
                     for case_id in order]:
            done.result()  # a viewer that failed fails the stage
    log.info("cases: %d (%d graphs) in %.1fs", cases.height, len(files), time.perf_counter() - t0)
    return cases


def _main(argv: list[str]) -> int:
    """``python -m audit.app.cases RUN_DIR``: :func:`write_run_cases` in a process of its own
    (:func:`audit.app.pipeline.render_outputs` for a large run); the graph files being drawn are
    printed as one JSON line as soon as ``cases.parquet`` is written."""

    def written(files: frozenset[str]) -> None:
        sys.stdout.write(json.dumps(sorted(files), ensure_ascii=False) + "\n")
        sys.stdout.flush()

    write_run_cases(Path(argv[0]), cases_written=written)
    return 0


if __name__ == "__main__":
    raise SystemExit(_main(sys.argv[1:]))
