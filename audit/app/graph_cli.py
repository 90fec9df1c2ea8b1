"""CLI command ``audit graph``: explore a run's relationship graph around a case or an entity."""

from __future__ import annotations

import datetime as dt
import getpass
import json
import os
from pathlib import Path

import click
import polars as pl

from audit import graph
from audit.app.cases import build_cases
from audit.app.viewer import frame_for_export, render_html
from audit.rundir import RunDir


@click.command("graph")
@click.argument("run_dir", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--case", "case_id", default=None, help="案件编号（见 cases.parquet，如 C1a2b3c4d5e6f） / A case id from cases.parquet (e.g. C1a2b3c4d5e6f).")
@click.option("--entity", default=None, help="身份证号、统一社会信用代码、电话、银行卡/账号或地址 / A 身份证号, 统一社会信用代码, phone, bank card/account or address.")
@click.option("--hops", default=2, show_default=True, type=click.IntRange(0, 6),
              help="围绕案件或对象显示的关系层数（另多嵌入一层供展开） / Neighbourhood shown around the case or entity (one more hop is embedded for expanding).")
@click.option("--out", "out_path", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="输出文件（FILE.html，或配合 --format 的 .graphml/.gexf） / File to write (FILE.html, or .graphml/.gexf with --format).")
@click.option("--format", "fmt", type=click.Choice(["html", "graphml", "gexf"]), default="html", show_default=True,
              help="html：离线查看页面；graphml/gexf：供 Gephi 使用 / html: the offline viewer; graphml/gexf: for Gephi.")
@click.option("--unmasked", is_flag=True, help="显示完整证件号、卡号和电话（仅限调查人员；谁在何时查看记录在 FILE.access.json） / "
              "Show full ID, card and phone numbers (investigators only); who asked and when is recorded beside the "
              "file, in FILE.access.json.")
@click.option("--max-nodes", default=2000, show_default=True, type=click.IntRange(10, 100_000),
              help="关系图最多节点数 / Stop expanding the neighbourhood at this many nodes.")
def graph_cmd(run_dir: Path, case_id: str | None, entity: str | None, hops: int, out_path: Path, fmt: str,
              unmasked: bool, max_nodes: int) -> None:
    """生成某个案件或对象周围的关系图谱。

    Write the relationship graph around a case or an entity of a run.

    The HTML file is self-contained and works offline: click a node for its details and
    findings, search by name or number, double-click to expand neighbours. IDs, cards and
    phones are masked unless --unmasked (then FILE.access.json records the OS user, the time
    and the command).

    \b
    Examples:
      audit graph out/demo --case C1a2b3c4d5e6f --out case.html
      audit graph out/demo --entity 91360102MA35XXXXXX --hops 2 --out unit.html
      audit graph out/demo --case C1a2b3c4d5e6f --format gexf --out case.gexf
    """
    if (case_id is None) == (entity is None):
        raise click.UsageError("give exactly one of --case ID or --entity ID")
    run = RunDir.open(run_dir)  # not a run: exit 2, as any unusable input
    hub = int(run.policy.detect("graph.case_hub_max_degree"))  # the run's own detection values
    t = run.tables()
    findings = run.findings()
    edges = graph.link_edges(t).collect()
    core: list[str] = []
    if case_id is not None:
        cases = run.cases()
        if cases is None:
            cases = build_cases(run_dir, run.policy).cases
        row = cases.filter(pl.col("case_id") == case_id)
        if row.height == 0:
            raise click.ClickException(f"no case {case_id!r} in {run_dir}; see cases.parquet for the case ids")
        focus = row["entities"][0].to_list()
        core = row["connectors"][0].to_list()
        title = f"案件 {case_id}：{row['summary'][0]}"
    else:
        try:
            focus = [graph.resolve_entity(edges, entity or "")]
        except KeyError as exc:
            raise click.ClickException(str(exc.args[0])) from None
        title = "关系图谱：" + ("指定对象" if not unmasked else str(entity))
    view = graph.build_view(t, edges, findings, focus, hops=hops, core=core, title=title, max_nodes=max_nodes,
                            hub_degree=hub)
    if unmasked:  # on record before the file exists
        asked = ["audit", "graph", str(run_dir), *(["--case", case_id] if case_id else ["--entity", str(entity)]),
                 "--hops", str(hops), "--format", fmt, "--max-nodes", str(max_nodes), "--out", str(out_path), "--unmasked"]
        record_unmasked(out_path, run_dir, asked)
    if fmt == "html":
        render_html(view, out_path, signals=run.signal_rules, unmasked=unmasked)
    else:
        nodes, view_edges = frame_for_export(view, unmasked=unmasked)
        out_path.parent.mkdir(parents=True, exist_ok=True)
        graph.write_export(nodes, view_edges, out_path, fmt)
    shown = view.nodes.filter(pl.col("hop") <= hops).height
    click.echo(f"{shown} nodes shown, {view.nodes.height} embedded, {view.edges.height} edges"
               + (" (truncated at --max-nodes)" if view.truncated else "") + f" → {out_path}")


def record_unmasked(out_path: Path, run_dir: Path, command: list[str]) -> Path:
    """``<out>.access.json`` beside a file written with ``--unmasked``: who asked (the OS user),
    when, from which run and with which command — full ID numbers leave the audit only on record."""
    try:
        user = getpass.getuser()
    except (KeyError, OSError):  # no name for the uid (a container): the uid says who
        user = f"uid {os.getuid()}"
    record = {
        "file": out_path.name, "unmasked": True, "user": user,
        "at": dt.datetime.now().astimezone().replace(microsecond=0).isoformat(),
        "run_dir": str(Path(run_dir).resolve()), "command": command,
    }
    sidecar = out_path.with_name(out_path.name + ".access.json")
    sidecar.parent.mkdir(parents=True, exist_ok=True)
    sidecar.write_text(json.dumps(record, ensure_ascii=False, indent=2), encoding="utf-8")
    return sidecar
