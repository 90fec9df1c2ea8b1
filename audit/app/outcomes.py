"""``audit outcomes import``: what the counties send back, recorded in the workspace.

A file is read by :func:`audit.workspace.returns.read_returned` (outcomes forms, outcomes files in
the contract's format, returned exit lists — by their headers). Then, in one transaction:

- an outcome names a finding the workspace holds (any month); its facts key is taken from the
  finding's latest evidence, with the facts its rule named at its latest run, so that a later run
  knows whether a 不属实 decision still stands;
- a sampled claim's outcome names a claim the workspace drew;
- a county's conclusion on a unit of its exit list applies to the findings behind the unit's
  latest proposal (确认退出 as 属实, 不予退出 as 不属实) and moves the unit on in the 摘牌 workflow
  (:mod:`audit.workspace.units`); a 摘牌 date records the exit, and a ban where the proposal
  carries one.

A row identical to one already recorded is not recorded again, and a step the unit already took
is not taken twice: importing the same file twice changes nothing. A row naming an unknown
finding, claim or unit joins the file's unreadable rows in the quarantine (file, line, column,
reason), written beside the workspace in ``imports/``; nothing recorded before is touched.
"""

from __future__ import annotations

import codecs
import datetime as dt
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl

from audit.app.cycle import digest
from audit.findings import facts_key
from audit.loader import sha256_file
from audit.rules import RuleInfo
from audit.workspace import Workspace
from audit.workspace.returns import Returned, read_returned
from audit.workspace.store import rows_of
from audit.workspace.units import DECLINED, DELISTED, REPLY_OUTCOME, REPLY_STATE, current_states

IMPORTS_DIR = "imports"


@dataclass
class ImportReport:
    file: Path
    rows_read: int = 0
    recorded: int = 0
    unchanged: int = 0
    unanswered: int = 0
    unit_steps: int = 0
    quarantine: pl.DataFrame = field(default_factory=pl.DataFrame)
    quarantine_file: Path | None = None
    notes: list[str] = field(default_factory=list)

    def text(self) -> str:
        lines = [f"{self.file.name}: 读取 {self.rows_read} 行 / rows read — 新记录 {self.recorded} (recorded), "
                 f"已有记录 {self.unchanged} (already recorded), 未填写 {self.unanswered} (unanswered), "
                 f"隔离 {self.quarantine.height} (quarantined); 单位摘牌进度更新 {self.unit_steps} (unit steps)"]
        for r in self.quarantine.head(20).to_dicts():
            lines.append(f"  {r['file']} 第{r['line']}行 {r['column']}: {r['reason']} (value {r['value']!r})")
        if self.quarantine.height > 20:
            lines.append(f"  … {self.quarantine.height - 20} more")
        if self.quarantine_file is not None:
            lines.append(f"  → {self.quarantine_file}")
        lines += [f"  {n}" for n in self.notes]
        return "\n".join(lines)


def _facts_of(ws: Workspace, finding_ids: list[str]) -> pl.DataFrame:
    """finding_id → rule_id, its facts key at its latest run (the facts its rule named then)."""
    if not finding_ids:
        return pl.DataFrame(schema={"finding_id": pl.String, "rule_id": pl.String, "facts_key": pl.String})
    ws.con.register("_ids", pl.DataFrame({"finding_id": finding_ids}).to_arrow())
    try:
        latest = ws.frame(
            "SELECT f.finding_id, f.rule_id, e.evidence, f.month, r.rules_json FROM findings f JOIN _ids USING (finding_id) "
            "JOIN runs r ON r.month = f.month LEFT JOIN evidence e ON e.finding_id = f.finding_id "
            "QUALIFY row_number() OVER (PARTITION BY f.finding_id ORDER BY f.month DESC) = 1")
    finally:
        ws.con.unregister("_ids")
    facts: dict[tuple[Any, str], tuple[str, ...]] = {}
    keys = []
    for fid, rule_id, evidence, month, rules_json in latest.select(
            "finding_id", "rule_id", "evidence", "month", "rules_json").iter_rows():
        if (month, rule_id) not in facts:
            infos = {r["id"]: r for r in json.loads(rules_json or '{"rules": []}').get("rules", [])}
            facts[(month, rule_id)] = RuleInfo.from_dict(infos[rule_id]).facts if rule_id in infos else ()
        keys.append({"finding_id": fid, "rule_id": rule_id, "facts_key": facts_key(evidence, facts[(month, rule_id)])})
    return pl.DataFrame(keys, schema={"finding_id": pl.String, "rule_id": pl.String, "facts_key": pl.String})


def _record(ws: Workspace, table: str, rows: pl.DataFrame, report: ImportReport) -> None:
    """Insert the rows whose content key is new (``row_key``), numbered in arrival order."""
    if rows.height == 0:
        return
    rows = rows.unique("row_key", keep="first", maintain_order=True)
    known = ws.frame(f"SELECT row_key FROM {table}")
    fresh = rows.join(known.cast({"row_key": pl.String}), on="row_key", how="anti") if known.height else rows
    report.unchanged += rows.height - fresh.height
    report.recorded += fresh.height
    seq = ws.next_seq(table)
    ws.insert(table, fresh.with_columns(pl.int_range(seq, seq + pl.len(), dtype=pl.Int64).alias("seq")))


def _reply_columns(rows: pl.DataFrame, source: str, now: dt.datetime) -> list[pl.Expr]:
    return [pl.col(c) if c in rows.columns else pl.lit(None).alias(c) for c in
            ("outcome", "amount_recovered", "decided_date", "decided_by", "note")] + [
        pl.lit(source).alias("source"), pl.col("_file").alias("source_file"), pl.col("_line").alias("source_line"),
        pl.lit(now).alias("imported_at")]


def import_file(path: Path, workspace: Path) -> ImportReport:
    """Read one returned file and record it (see the module docstring)."""
    path = Path(path)
    returned = read_returned(path)
    report = ImportReport(path, rows_read=returned.rows_read, unanswered=returned.unanswered, notes=list(returned.notes))
    now = dt.datetime.now().replace(microsecond=0)
    with Workspace.open(Path(workspace), create=False) as ws:
        with ws.transaction():
            _findings(ws, returned, report, now)
            _samples(ws, returned, report, now)
            _exits(ws, returned, report, now)
            report.quarantine = returned.quarantine
            if report.recorded or report.unit_steps or report.quarantine.height:
                ws.insert("imports", pl.DataFrame([{
                    "sha256": sha256_file(path)[1], "file": str(path.resolve()), "imported_at": now,
                    "kind": ",".join(sorted(k for k, v in returned.tables.items() if v.height)),
                    "rows_read": report.rows_read, "recorded": report.recorded, "unchanged": report.unchanged,
                    "unanswered": report.unanswered, "quarantined": report.quarantine.height}]))
    if report.quarantine.height:
        folder = Path(workspace) / IMPORTS_DIR
        folder.mkdir(exist_ok=True)
        report.quarantine_file = folder / f"{now:%Y%m%d-%H%M%S}_{path.stem}_quarantine.csv"
        with open(report.quarantine_file, "wb") as fh:
            fh.write(codecs.BOM_UTF8)
            report.quarantine.write_csv(fh)
    return report


def _findings(ws: Workspace, returned: Returned, report: ImportReport, now: dt.datetime) -> None:
    rows = returned.rows("outcomes")
    if rows.height == 0:
        return
    known = _facts_of(ws, rows["finding_id"].unique().to_list())
    returned.reject("outcomes", rows.join(known, on="finding_id", how="anti"), "finding_id", pl.col("finding_id"),
                    "问题编号不在工作区中 / no such finding in the workspace")
    rows = returned.rows("outcomes").join(known.select("finding_id", "facts_key"), on="finding_id")
    _record(ws, "outcomes", rows.select(
        pl.col("finding_id"), *_reply_columns(rows, "outcomes", now), pl.col("facts_key"),
        pl.concat_str([pl.col(c).cast(pl.String).fill_null("") for c in
                       ("finding_id", "outcome", "amount_recovered", "decided_date", "decided_by", "note")],
                      separator="\x1f").map_batches(_digests, return_dtype=pl.String).alias("row_key")), report)


def _digests(texts: pl.Series) -> pl.Series:
    return pl.Series([digest(t) for t in texts.to_list()], dtype=pl.String)


def _samples(ws: Workspace, returned: Returned, report: ImportReport, now: dt.datetime) -> None:
    rows = returned.rows("sample_outcomes")
    if rows.height == 0:
        return
    drawn = ws.frame("SELECT DISTINCT claim_id FROM sample").cast({"claim_id": pl.String})
    returned.reject("sample_outcomes", rows.join(drawn, on="claim_id", how="anti"), "claim_id", pl.col("claim_id"),
                    "申领编号不在抽查样本中 / not a claim the workspace drew for checking")
    rows = returned.rows("sample_outcomes")
    _record(ws, "sample_outcomes", rows.select(
        "claim_id", *_reply_columns(rows, "sample", now),
        pl.concat_str([pl.col(c).cast(pl.String).fill_null("") for c in
                       ("claim_id", "outcome", "amount_recovered", "decided_date", "decided_by", "note")],
                      separator="\x1f").map_batches(_digests, return_dtype=pl.String).alias("row_key")), report)


def _exits(ws: Workspace, returned: Returned, report: ImportReport, now: dt.datetime) -> None:
    rows = returned.rows("exit_replies")
    if rows.height == 0:
        return
    proposals = ws.table("proposals").sort("month").group_by("unit_id").agg(pl.all().last())
    returned.reject("exit_replies", rows.join(proposals.select("unit_id"), on="unit_id", how="anti"), "unit_id",
                    pl.col("unit_id"), "该单位不在工作区的退出建议中 / no exit proposal of this unit in the workspace")
    rows = returned.rows("exit_replies").join(proposals, on="unit_id")
    # the conclusion, as the outcome of every finding behind the unit's latest proposal
    outcomes = rows.with_columns(pl.col("conclusion").replace(REPLY_OUTCOME).alias("outcome")).explode("finding_ids") \
        .rename({"finding_ids": "finding_id"}).drop_nulls("finding_id")
    known = _facts_of(ws, outcomes["finding_id"].unique().to_list())
    outcomes = outcomes.join(known.select("finding_id", "facts_key"), on="finding_id")
    _record(ws, "outcomes", outcomes.select(
        "finding_id", *_reply_columns(outcomes, "exit_list", now), "facts_key",
        pl.concat_str([pl.col(c).cast(pl.String).fill_null("") for c in
                       ("unit_id", "finding_id", "outcome", "exit_date", "decided_date", "decided_by", "note")],
                      separator="\x1f").map_batches(_digests, return_dtype=pl.String).alias("row_key")), report)
    # the unit's next steps, each taken once
    state = {r["unit_id"]: r for r in current_states(ws.table("unit_events")).to_dicts()}
    events: list[dict[str, Any]] = []
    bans: list[dict[str, Any]] = []
    for r in rows.to_dicts():
        now_state = state.get(r["unit_id"], {}).get("state")
        step = REPLY_STATE.get(r["conclusion"])
        base = {"unit_id": r["unit_id"], "county_code": r["county_code"], "source": "import",
                "source_file": f"{r['_file']}:{r['_line']}", "decided_by": r.get("decided_by"), "note": r.get("note")}
        if step and now_state != step and not (now_state == DELISTED and step != DECLINED):
            events.append({**base, "state": step, "event_date": r.get("decided_date") or now.date()})
            now_state = step
        if r.get("exit_date") and step != DECLINED and now_state != DELISTED:
            events.append({**base, "state": DELISTED, "event_date": r["exit_date"], "exit_date": r["exit_date"]})
            if r["banned"]:
                bans.append({k: r.get(k) for k in ("unit_id", "unit_name", "county_code", "legal_rep_id", "legal_rep_name")}
                            | {"exit_date": r["exit_date"], "exit_reason": r["headline"], "source": "import"})
    if events:
        seq = ws.next_seq("unit_events")
        ws.insert("unit_events", rows_of("unit_events", [{**e, "seq": seq + i, "recorded_at": now}
                                                         for i, e in enumerate(events)]))
        report.unit_steps += len(events)
    if bans:
        ws.insert("bans", rows_of("bans", bans), ignore_existing=True)
