"""The workspace's one file, ``DIR/workspace.duckdb``: DuckDB behind one door.

Nothing else in the project imports duckdb. Frames go in and come out as polars through Arrow;
every change a command makes is written in one transaction (:meth:`Workspace.transaction`), so a
process killed half-way leaves the file as it was (DuckDB's write-ahead log discards what was
not committed).

Only one process may write a workspace at a time. DuckDB holds a lock on the file for as long as
a connection is open, and the operating system drops it when the process ends, however it ends:
a second process that opens the file meets the lock and is told "workspace busy / 工作区正被另一
进程使用" (:class:`WorkspaceBusy`) — it never writes beside the first one, and no stale lock
file is left behind by a crash.

Tables (one row per …):

- ``runs``: month (the audit month, the key: re-running a month replaces it), run_dir,
  generated_at, recorded_at, findings, rules_json (the run's rules.json), settings_json;
- ``findings``: month, finding — its columns as in findings.parquet but the evidence, with
  county_code the county that handles it (its own, else its unit's), status and sent_month (the
  month the finding went out on an outcomes form in its current episode);
- ``evidence``: per finding of a rule that names its ``facts``, the evidence of the latest run
  that found it — what a decision's facts key is computed from;
- ``finding_claims``: month, finding, claim — the yuan at risk on it, capped at what was paid;
- ``outcomes``: a reply on a finding (核实结论, amount recovered, date, office, note), with the
  facts key of the finding when decided and the file and line it came from; a row identical to
  one recorded (row_key) is not recorded twice;
- ``sample``: month, claim drawn for on-site checking; ``sample_outcomes``: a reply on one;
- ``proposals``: month, unit proposed for exit, its conditions and the findings behind it;
- ``unit_events``: the 摘牌 workflow, one row per step (建议退出, 县区确认, 不予退出, 已摘牌); a
  unit's state is its latest step;
- ``bans``: the exits a ban may follow (unit, legal representative, exit date and condition),
  remembered from every export and from the workflow, given to the next run as its bans table;
- ``imports``: each file read back, with its SHA-256 and counts.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import polars as pl

WORKSPACE_FILE = "workspace.duckdb"
SCHEMA_VERSION = "1"
BUSY = "工作区正被另一进程使用 / workspace busy"

_DDL = """
CREATE TABLE IF NOT EXISTS meta (key VARCHAR PRIMARY KEY, value VARCHAR);
CREATE TABLE IF NOT EXISTS runs (
    month DATE PRIMARY KEY, run_dir VARCHAR, generated_at VARCHAR, recorded_at TIMESTAMP,
    findings BIGINT, rules_json VARCHAR, settings_json VARCHAR);
CREATE TABLE IF NOT EXISTS findings (
    month DATE, finding_id VARCHAR, rule_id VARCHAR, family VARCHAR, severity VARCHAR,
    person_id VARCHAR, unit_id VARCHAR, claim_id VARCHAR, county_code VARCHAR,
    period_start DATE, period_end DATE, amount_at_risk DOUBLE, citation VARCHAR,
    status VARCHAR, sent_month DATE, PRIMARY KEY (month, finding_id));
CREATE TABLE IF NOT EXISTS evidence (finding_id VARCHAR PRIMARY KEY, month DATE, rule_id VARCHAR, evidence VARCHAR);
CREATE TABLE IF NOT EXISTS finding_claims (month DATE, finding_id VARCHAR, claim_id VARCHAR, amount DOUBLE);
CREATE TABLE IF NOT EXISTS outcomes (
    row_key VARCHAR PRIMARY KEY, seq BIGINT, finding_id VARCHAR, outcome VARCHAR, amount_recovered DOUBLE,
    decided_date DATE, decided_by VARCHAR, note VARCHAR, facts_key VARCHAR, source VARCHAR,
    source_file VARCHAR, source_line BIGINT, imported_at TIMESTAMP);
CREATE TABLE IF NOT EXISTS sample (
    month DATE, county_code VARCHAR, claim_id VARCHAR, unit_id VARCHAR, person_id VARCHAR,
    claim_month DATE, claim_type VARCHAR, amount DOUBLE, submitted_date DATE, PRIMARY KEY (month, claim_id));
CREATE TABLE IF NOT EXISTS sample_outcomes (
    row_key VARCHAR PRIMARY KEY, seq BIGINT, claim_id VARCHAR, outcome VARCHAR, amount_recovered DOUBLE,
    decided_date DATE, decided_by VARCHAR, note VARCHAR, source_file VARCHAR, source_line BIGINT,
    imported_at TIMESTAMP);
CREATE TABLE IF NOT EXISTS proposals (
    month DATE, unit_id VARCHAR, unit_name VARCHAR, county_code VARCHAR, legal_rep_id VARCHAR,
    legal_rep_name VARCHAR, headline BIGINT, conditions VARCHAR, banned BOOLEAN, ban_years BIGINT,
    finding_ids VARCHAR[], PRIMARY KEY (month, unit_id));
CREATE TABLE IF NOT EXISTS unit_events (
    seq BIGINT, unit_id VARCHAR, county_code VARCHAR, state VARCHAR, month DATE, event_date DATE,
    exit_date DATE, source VARCHAR, source_file VARCHAR, decided_by VARCHAR, note VARCHAR,
    recorded_at TIMESTAMP);
CREATE TABLE IF NOT EXISTS bans (
    unit_id VARCHAR, unit_name VARCHAR, county_code VARCHAR, legal_rep_id VARCHAR, legal_rep_name VARCHAR,
    exit_date DATE, exit_reason BIGINT, source VARCHAR, month DATE, PRIMARY KEY (unit_id, exit_date, exit_reason));
CREATE TABLE IF NOT EXISTS imports (
    sha256 VARCHAR, file VARCHAR, imported_at TIMESTAMP, kind VARCHAR, rows_read BIGINT, recorded BIGINT,
    unchanged BIGINT, unanswered BIGINT, quarantined BIGINT);
"""

#: the columns (and types) of each table, for frames written to it
SCHEMAS: dict[str, dict[str, pl.DataType]] = {
    "runs": {"month": pl.Date(), "run_dir": pl.String(), "generated_at": pl.String(), "recorded_at": pl.Datetime("us"),
             "findings": pl.Int64(), "rules_json": pl.String(), "settings_json": pl.String()},
    "findings": {"month": pl.Date(), "finding_id": pl.String(), "rule_id": pl.String(), "family": pl.String(),
                 "severity": pl.String(), "person_id": pl.String(), "unit_id": pl.String(), "claim_id": pl.String(),
                 "county_code": pl.String(), "period_start": pl.Date(), "period_end": pl.Date(),
                 "amount_at_risk": pl.Float64(), "citation": pl.String(),
                 "status": pl.String(), "sent_month": pl.Date()},
    "evidence": {"finding_id": pl.String(), "month": pl.Date(), "rule_id": pl.String(), "evidence": pl.String()},
    "finding_claims": {"month": pl.Date(), "finding_id": pl.String(), "claim_id": pl.String(), "amount": pl.Float64()},
    "outcomes": {"row_key": pl.String(), "seq": pl.Int64(), "finding_id": pl.String(), "outcome": pl.String(),
                 "amount_recovered": pl.Float64(), "decided_date": pl.Date(), "decided_by": pl.String(),
                 "note": pl.String(), "facts_key": pl.String(), "source": pl.String(), "source_file": pl.String(),
                 "source_line": pl.Int64(), "imported_at": pl.Datetime("us")},
    "sample": {"month": pl.Date(), "county_code": pl.String(), "claim_id": pl.String(), "unit_id": pl.String(),
               "person_id": pl.String(), "claim_month": pl.Date(), "claim_type": pl.String(), "amount": pl.Float64(),
               "submitted_date": pl.Date()},
    "sample_outcomes": {"row_key": pl.String(), "seq": pl.Int64(), "claim_id": pl.String(), "outcome": pl.String(),
                        "amount_recovered": pl.Float64(), "decided_date": pl.Date(), "decided_by": pl.String(),
                        "note": pl.String(), "source_file": pl.String(), "source_line": pl.Int64(),
                        "imported_at": pl.Datetime("us")},
    "proposals": {"month": pl.Date(), "unit_id": pl.String(), "unit_name": pl.String(), "county_code": pl.String(),
                  "legal_rep_id": pl.String(), "legal_rep_name": pl.String(), "headline": pl.Int64(),
                  "conditions": pl.String(), "banned": pl.Boolean(), "ban_years": pl.Int64(),
                  "finding_ids": pl.List(pl.String())},
    "unit_events": {"seq": pl.Int64(), "unit_id": pl.String(), "county_code": pl.String(), "state": pl.String(),
                    "month": pl.Date(), "event_date": pl.Date(), "exit_date": pl.Date(), "source": pl.String(),
                    "source_file": pl.String(), "decided_by": pl.String(), "note": pl.String(),
                    "recorded_at": pl.Datetime("us")},
    "bans": {"unit_id": pl.String(), "unit_name": pl.String(), "county_code": pl.String(), "legal_rep_id": pl.String(),
             "legal_rep_name": pl.String(), "exit_date": pl.Date(), "exit_reason": pl.Int64(), "source": pl.String(),
             "month": pl.Date()},
    "imports": {"sha256": pl.String(), "file": pl.String(), "imported_at": pl.Datetime("us"), "kind": pl.String(),
                "rows_read": pl.Int64(), "recorded": pl.Int64(), "unchanged": pl.Int64(), "unanswered": pl.Int64(),
                "quarantined": pl.Int64()},
}
#: tables whose rows a run of a month writes, and which re-running that month replaces
RUN_TABLES = ("runs", "findings", "finding_claims", "sample", "proposals")


def rows_of(table: str, rows: list[dict[str, Any]] | pl.DataFrame) -> pl.DataFrame:
    """Records (dicts or a frame) as a frame of ``table``'s columns and types, missing ones null."""
    cols = SCHEMAS[table]
    frame = rows if isinstance(rows, pl.DataFrame) else pl.DataFrame(rows, infer_schema_length=None) if rows else pl.DataFrame()
    return frame.select([pl.col(c).cast(t) if c in frame.columns else pl.lit(None, t).alias(c) for c, t in cols.items()])


class WorkspaceError(Exception):
    """A workspace that cannot be used: not one, or written by a newer version (exit code 2)."""


class WorkspaceBusy(WorkspaceError):
    """Another process holds the workspace (exit code 4): try again when it has finished."""


class Workspace:
    """An open workspace (``Workspace.open(DIR)``); use it as a context manager, or :meth:`close`."""

    def __init__(self, directory: Path, con: duckdb.DuckDBPyConnection, read_only: bool) -> None:
        self.directory = directory
        self.con = con
        self.read_only = read_only

    @property
    def path(self) -> Path:
        return self.directory / WORKSPACE_FILE

    @classmethod
    def open(cls, directory: Path, *, create: bool = True, read_only: bool = False) -> Workspace:
        """Open (and with ``create``, make) the workspace in ``directory``.

        Raises :class:`WorkspaceBusy` when another process holds it, :class:`WorkspaceError` when
        the directory holds no workspace (and ``create`` is off) or one of a newer schema.
        """
        directory = Path(directory)
        path = directory / WORKSPACE_FILE
        if not path.exists():
            if not create or read_only:
                raise WorkspaceError(f"{directory}: no workspace here ({WORKSPACE_FILE} missing); "
                                     "`audit run … --workspace DIR` creates one")
            directory.mkdir(parents=True, exist_ok=True)
        try:
            con = duckdb.connect(str(path), read_only=read_only)
        except duckdb.IOException as exc:
            if "lock" in str(exc).lower():
                raise WorkspaceBusy(f"{BUSY}: {path} — {str(exc).splitlines()[0]}; "
                                    "wait for the other `audit` command to finish, then try again") from None
            raise WorkspaceError(f"{path}: cannot open the workspace ({str(exc).splitlines()[0]})") from None
        except duckdb.Error as exc:
            raise WorkspaceError(f"{path}: not a workspace DuckDB can read ({str(exc).splitlines()[0]})") from None
        ws = cls(directory, con, read_only)
        try:
            ws._ensure_schema()
        except BaseException:
            con.close()
            raise
        return ws

    def _ensure_schema(self) -> None:
        if not self.read_only:
            with self.transaction():
                self.con.execute(_DDL)
                self.con.execute("INSERT OR IGNORE INTO meta VALUES ('schema_version', ?)", [SCHEMA_VERSION])
        version = self.con.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchall()
        version = version[0] if version else None
        if version is None or version[0] != SCHEMA_VERSION:
            raise WorkspaceError(f"{self.path}: workspace schema {version[0] if version else '?'}, this version "
                                 f"of the audit reads schema {SCHEMA_VERSION}")

    def close(self) -> None:
        self.con.close()

    def __enter__(self) -> Workspace:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- reading ---------------------------------------------------------------------------
    def frame(self, sql: str, params: list[Any] | None = None) -> pl.DataFrame:
        """The result of a query as a polars frame (through Arrow)."""
        found = pl.from_arrow(self.con.sql(sql, params=params or None).to_arrow_table())
        assert isinstance(found, pl.DataFrame)
        return found

    def table(self, name: str, where: str = "", params: list[Any] | None = None) -> pl.DataFrame:
        """A table's rows (optionally ``WHERE …``), typed as :data:`SCHEMAS` says."""
        cols = SCHEMAS[name]
        found = self.frame(f"SELECT {', '.join(cols)} FROM {name} {where}", params)
        return found.cast(cols) if found.height else pl.DataFrame(schema=cols)  # type: ignore[arg-type]

    def scalar(self, sql: str, params: list[Any] | None = None) -> Any:
        rows = self.con.execute(sql, params or []).fetchall()
        return rows[0][0] if rows else None

    def months(self) -> list[dt.date]:
        return [r[0] for r in self.con.execute("SELECT month FROM runs ORDER BY month").fetchall()]

    # -- writing ---------------------------------------------------------------------------
    @contextlib.contextmanager
    def transaction(self) -> Iterator[None]:
        """Everything inside is committed together, or not at all."""
        if self.read_only:
            raise WorkspaceError(f"{self.path}: opened read-only")
        self.con.execute("BEGIN TRANSACTION")
        try:
            yield
        except BaseException:
            self.con.execute("ROLLBACK")
            raise
        self.con.execute("COMMIT")

    def checkpoint(self) -> None:
        """Fold the committed changes into the file itself (DuckDB would otherwise do it on close)."""
        self.con.execute("CHECKPOINT")

    def next_seq(self, table: str) -> int:
        return int(self.scalar(f"SELECT coalesce(max(seq), 0) FROM {table}") or 0) + 1

    def insert(self, table: str, rows: pl.DataFrame, *, ignore_existing: bool = False) -> None:
        """Append ``rows`` (cast to the table's columns) — inside a :meth:`transaction`."""
        if rows.height == 0:
            return
        typed = rows_of(table, rows)
        self.con.register("_incoming", typed.to_arrow())
        try:
            verb = "INSERT OR IGNORE INTO" if ignore_existing else "INSERT INTO"
            self.con.execute(f"{verb} {table} BY NAME SELECT * FROM _incoming")
        finally:
            self.con.unregister("_incoming")

    def keep_latest_evidence(self, rows: pl.DataFrame) -> None:
        """Record each finding's evidence unless a later month already has — inside a transaction."""
        if rows.height == 0:
            return
        self.con.register("_incoming", rows_of("evidence", rows).to_arrow())
        try:
            self.con.execute("INSERT INTO evidence BY NAME SELECT * FROM _incoming ON CONFLICT (finding_id) DO UPDATE "
                             "SET month = excluded.month, rule_id = excluded.rule_id, evidence = excluded.evidence "
                             "WHERE excluded.month >= evidence.month")
        finally:
            self.con.unregister("_incoming")

    def delete_month(self, month: dt.date) -> None:
        """Remove what a run of ``month`` wrote (before it is written again) — inside a transaction."""
        for table in RUN_TABLES:
            self.con.execute(f"DELETE FROM {table} WHERE month = ?", [month])
        self.con.execute("DELETE FROM unit_events WHERE month = ? AND source IN ('run', 'export')", [month])
        self.con.execute("DELETE FROM bans WHERE month = ? AND source IN ('run', 'export')", [month])
