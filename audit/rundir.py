"""A run directory: what ``audit run`` leaves for the stages after it, and the one reader of it.

The pipeline (:mod:`audit.app.pipeline`) writes, besides the findings, everything a later stage
needs to read the run as it was made, so that no stage reaches back into live code:

- ``run.json`` — the run's facts: audit month, ``si_as_of``, the inputs read (rows, and each
  file's size and SHA-256), the code version, the hashes of the policy and reference files below,
  the rules run and skipped, totals, timings;
- ``rules.json`` — the metadata of every registered rule (:class:`audit.rules.RuleInfo`);
- ``policy/*.yaml`` — the parameter files in force (the shipped ones or ``--policy-dir``), as read;
- ``reference/*.parquet`` — the reference tables in force (min_wage, county_tiers, calendar,
  regions: the shipped ones with the operator's overrides);
- ``normalised/*.parquet`` — the inputs as the rules saw them;
- ``indicators.parquet`` — the 14 indicators of the 汇总表 recomputed from the micro data;
- ``quarantine.parquet`` — the unreadable input rows, one each, placed by their readable cells
  (the rules' ``Tables.quarantine``);
- ``findings.parquet``, ``finding_claims.parquet``, ``skipped.parquet``, ``quarantine.csv``, and
  after rendering ``cases.parquet``;
- with a workspace (:mod:`audit.workspace`), ``history/*.parquet`` and ``history/history.json``:
  where the run stands in the monthly cycle — each finding's history, the findings resolved
  since the last run, hit rates and recoveries per rule and county, replies overdue, the random
  sample of unflagged claims, the units in the 摘牌 workflow — and ``outcomes/<county>.xlsx``,
  the forms that go out to the counties.

Findings a county rejected (status 不属实, on facts that have not changed) stay in
``findings.parquet`` but are kept out of every count, list and exit proposal:
:meth:`RunDir.findings` and :meth:`RunDir.claim_links` leave them out, :meth:`RunDir.dismissed`
gives them.

:class:`RunDir` reads it back: reports, exit lists, cases and the graph viewer open a run only
through it. A run made before a file existed is still read: what it lacks is replaced by the
nearest thing (said in :attr:`RunDir.notes`), never by the live rule registry.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import polars as pl

from audit.findings import CLAIM_LINK_SCHEMA, DISMISSED, FINDINGS_SCHEMA, SKIPPED_SCHEMA
from audit.loader import QUARANTINED_ROWS_SCHEMA, InputError, sha256_file
from audit.outpaths import UnsafePathError, inside
from audit.policy import PARAMS_DIR, Policy
from audit.rules import RuleInfo
from audit.schema import SPECS, TableSpec, normalised_columns
from audit.tables import Tables, month_end

RUN_JSON = "run.json"
RULES_JSON = "rules.json"
POLICY_DIR = "policy"
REFERENCE_DIR = "reference"
INDICATORS_FILE = "indicators.parquet"
NORMALISED_DIR = "normalised"
HISTORY_DIR = "history"
HISTORY_JSON = "history.json"
OUTCOMES_DIR = "outcomes"
REFERENCE_TABLES = ("min_wage", "county_tiers", "calendar", "regions")
QUARANTINE = "quarantine"  # quarantine.parquet: the unreadable rows, placed (Tables.quarantine)
REQUIRED_TABLES = ("units", "trainees", "agreements", "claims", "social_insurance")
SHIPPED_REGIONS = Path(__file__).parent / "reference" / "regions.csv"


class NotARunError(InputError):
    """A directory that is not the output of ``audit run`` (exit code 2: the input's fault)."""


def parse_month(text: str) -> dt.date:
    """``YYYY-MM`` → the first day of that month."""
    try:
        year, month = text.strip().split("-")
        return dt.date(int(year), int(month), 1)
    except ValueError:
        raise ValueError(f"month {text!r} is not of the form YYYY-MM (e.g. 2024-06)") from None


# ---------------------------------------------------------------------------------------------
# what a run writes: its manifest, and the previous run's outputs cleared before a rerun

#: every output a run or a render writes, as paths relative to the run directory (globs). A
#: manifest lists only files that match these *and* were written by the run, so a workspace or an
#: operator's file kept in the run directory is never listed, and never removed.
OUTPUT_PATTERNS = (
    "run.json", "render.json", "rules.json", "findings.parquet", "findings.csv", "finding_claims.parquet",
    "skipped.parquet", "quarantine.csv", "quarantine.parquet", "load_counts.csv", "validation.json",
    "validation.html", "summary_by_family.csv", "indicators.parquet", "cases.parquet", "report.html", "report.pdf",
    "exit_list.xlsx", "recovery.xlsx", "summary_table.xlsx", f"{NORMALISED_DIR}/*.parquet", f"{POLICY_DIR}/*.yaml",
    f"{REFERENCE_DIR}/*.parquet", "graphs/case_*.html", "exit_lists/*.xlsx", "recovery_lists/*.xlsx",
    f"{HISTORY_DIR}/*.parquet", f"{HISTORY_DIR}/{HISTORY_JSON}", f"{OUTCOMES_DIR}/*.xlsx",
)
MANIFEST_KEY = "written"  # run.json and render.json: the files that run (that render) wrote


def written_since(run_dir: Path, since: float, patterns: Iterable[str] = OUTPUT_PATTERNS) -> list[str]:
    """The run's outputs (``patterns``) written or rewritten at or after ``since`` (a time.time()),
    relative to ``run_dir``, sorted: the manifest of what a run (a render) wrote."""
    run_dir = Path(run_dir)
    found = set()
    for pattern in patterns:
        for path in run_dir.glob(pattern):
            if path.is_file() and not path.is_symlink() and path.stat().st_mtime >= since - 1.0:
                found.add(path.relative_to(run_dir).as_posix())
    return sorted(found)


def previous_outputs(run_dir: Path, *names: str) -> list[str]:
    """What the previous run (render) in ``run_dir`` wrote, from the manifests in ``names``
    (run.json, render.json); a file with no manifest lists nothing."""
    out: set[str] = set()
    for name in names:
        try:
            payload = json.loads((Path(run_dir) / name).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        listed = payload.get(MANIFEST_KEY) if isinstance(payload, dict) else None
        if isinstance(listed, list):
            out.update(str(x) for x in listed)
        elif isinstance(payload, dict):  # a run made before manifests: the outputs it named itself
            out.update(f"exit_lists/{x}" for x in payload.get("exit_lists") or [] if isinstance(x, str))
            if name == RUN_JSON:
                out.update(_legacy_graphs(Path(run_dir)))
    return sorted(out)


def _legacy_graphs(run_dir: Path) -> list[str]:
    """The case graphs an earlier run wrote, as its cases.parquet names them."""
    try:
        cases = pl.read_parquet(run_dir / "cases.parquet", columns=["graph_file"])
    except Exception:  # noqa: BLE001 — no cases, or none named: nothing to clear
        return []
    return [str(x) for x in cases["graph_file"].drop_nulls().to_list()]


def remove_outputs(run_dir: Path, listed: Iterable[str], keep_since: float | None = None) -> list[str]:
    """Remove the files ``listed`` (a previous manifest) from ``run_dir``: only those that are
    still one of the run's outputs by name (:data:`OUTPUT_PATTERNS`), regular files inside the run
    directory, and not written at or after ``keep_since`` (this run's own). Emptied output folders
    go too. Returns what was removed."""
    run_dir = Path(run_dir)
    removed = []
    for name in listed:
        relative = Path(name)
        if relative.is_absolute() or ".." in relative.parts or not any(relative.match(p) for p in OUTPUT_PATTERNS):
            continue
        try:
            path = inside(run_dir, *relative.parts)  # a listed name never reaches outside the run
            if path.is_symlink() or not path.is_file():
                continue
            if keep_since is not None and path.stat().st_mtime >= keep_since - 1.0:
                continue
            path.unlink()
        except (OSError, UnsafePathError):
            continue
        removed.append(relative.as_posix())
    for folder in ("graphs", "exit_lists", "recovery_lists", NORMALISED_DIR, POLICY_DIR, REFERENCE_DIR, HISTORY_DIR,
                   OUTCOMES_DIR):
        try:
            (run_dir / folder).rmdir()  # only when empty: an operator's file keeps its folder
        except OSError:
            pass
    return removed


# ---------------------------------------------------------------------------------------------
# writing what later stages read


def write_rules(run_dir: Path, rules: Iterable[RuleInfo]) -> None:
    """``rules.json``: the metadata of every registered rule, in registry order."""
    payload = {"rules": [r.to_dict() for r in rules]}
    inside(Path(run_dir), RULES_JSON).write_text(json.dumps(payload, ensure_ascii=False, indent=2), encoding="utf-8")


def write_policy(run_dir: Path, source: Path | None) -> dict[str, Any]:
    """Copy the parameter files in force (``source``, or the shipped ones) to ``policy/``; returns
    what run.json records of them: where they came from and each file's SHA-256."""
    folder = inside(Path(run_dir), POLICY_DIR)
    if folder.exists():
        shutil.rmtree(folder)  # a file left by an earlier run in the same directory is not in force
    folder.mkdir(parents=True)
    directory = Path(source) if source else PARAMS_DIR
    files = []
    for path in sorted(directory.glob("*.yaml")):
        target = inside(folder, path.name)
        shutil.copyfile(path, target)
        files.append({"name": path.name, "sha256": sha256_file(target)[1]})
    return {"source": str(directory.resolve()) if source else "shipped", "files": files}


def write_reference(run_dir: Path, frames: dict[str, pl.DataFrame]) -> list[dict[str, Any]]:
    """``reference/<name>.parquet`` for each reference table in force; returns their SHA-256."""
    folder = inside(Path(run_dir), REFERENCE_DIR)
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    out = []
    for name in REFERENCE_TABLES:
        path = inside(folder, f"{name}.parquet")
        frames[name].write_parquet(path)
        out.append({"name": path.name, "sha256": sha256_file(path)[1]})
    return out


def write_indicators(run_dir: Path, indicators: pl.DataFrame) -> None:
    """``indicators.parquet``: county_code, month, i1 … i14 (:mod:`audit.summary_form`)."""
    indicators.write_parquet(inside(Path(run_dir), INDICATORS_FILE))


def scan_tables(run_dir: Path, audit_month: dt.date, si_as_of: dt.date,
                present: Iterable[str] | None = None, absent: dict[str, list[str]] | None = None,
                empty: Iterable[str] = ()) -> Tables:
    """A run directory's tables, lazily: the normalised inputs (only those in ``present`` when
    given: the tables the run loaded), the reference tables from the run's snapshot, and the
    claims restricted to those submitted by the end of the audit month (RULES.md §8) that ask for
    any money; ``absent``:
    the contract's columns the inputs lacked, per table (``Tables.absent``); ``empty``: the tables
    read as not exported for want of a readable row (``Tables.empty``: not in ``present``)."""
    run_dir = Path(run_dir)
    loaded = set(present) if present is not None else None
    frames: dict[str, pl.LazyFrame | None] = {}
    for name in Tables.table_names():
        if name in REFERENCE_TABLES:
            path = run_dir / REFERENCE_DIR / f"{name}.parquet"
        elif name == QUARANTINE:  # not an input table: beside quarantine.csv, whenever the run kept it
            path = run_dir / f"{QUARANTINE}.parquet"
        else:
            path = run_dir / NORMALISED_DIR / f"{name}.parquet"
            if loaded is not None and name not in loaded:
                path = None
        frames[name] = pl.scan_parquet(path) if path is not None and path.exists() else None
        if name == QUARANTINE and frames[name] is not None:
            frames[name] = _placed_as_now(frames[name])  # type: ignore[arg-type]
        if frames[name] is not None and name in SPECS and name not in REFERENCE_TABLES:
            # the input's extra columns are not the rules' to read
            frames[name] = _known_columns(frames[name], SPECS[name])
    missing = [name for name in REQUIRED_TABLES if frames[name] is None]
    if missing:
        raise NotARunError(f"{run_dir / NORMALISED_DIR} lacks {', '.join(f'{m}.parquet' for m in missing)}: "
                           "is it the output directory of `audit run`?")
    end = month_end(audit_month)
    # a claim of nothing (0 yuan, no insurance: an application refused or withdrawn, as some
    # systems keep it) asks for no money: no rule judges it (docs/readings.md, stop 30)
    nothing = ((pl.col("amount") == 0) & (pl.col("insurance_amount").fill_null(0) == 0)).fill_null(False)
    recorded = pl.col("submitted_date") <= end
    # looked for once: a filter on the amounts in every plan that reads the claims (some 35) would
    # make each read two more columns of millions of rows
    if frames["claims"].select(nothing.any()).collect().item():  # type: ignore[union-attr]
        recorded = recorded & ~nothing
    frames["claims"] = frames["claims"].filter(recorded)  # type: ignore[union-attr]
    # an agreement neither begun nor approved by the end of M is not yet recorded: a later month's
    # (RULES.md §8: a run for M audits everything recorded up to the end of M)
    agreements = frames["agreements"]
    recorded = pl.col("start_date") <= end
    if "approved_date" in agreements.collect_schema().names():  # type: ignore[union-attr]
        recorded = recorded | (pl.col("approved_date") <= end).fill_null(False)
    frames["agreements"] = agreements.filter(recorded.fill_null(True))  # type: ignore[union-attr]
    gone = {t: tuple(cols) for t, cols in (absent or {}).items() if cols}
    return Tables(audit_month=audit_month, si_as_of=si_as_of, absent=gone, empty=tuple(empty),
                  **frames)  # type: ignore[arg-type]


def _placed_as_now(frame: pl.LazyFrame) -> pl.LazyFrame:
    """A run's placed quarantine with every column the rules read now: a run made before a
    placing cell was kept (``agreement_id``) has it null — placed by nothing, as then."""
    have = frame.collect_schema().names()
    return frame.with_columns(pl.lit(None, dtype).alias(name) for name, dtype in QUARANTINED_ROWS_SCHEMA.items()
                              if name not in have)


def _known_columns(frame: pl.LazyFrame, spec: TableSpec) -> pl.LazyFrame:
    """The normalised table without the input's extra columns (an extra column named like a
    column a rule makes — ``first_claim``, ``dormancy_months`` — would meet it in a join)."""
    have = frame.collect_schema().names()
    known = [c for c in normalised_columns(spec) if c in have]
    return frame.select(known) if len(known) < len(have) else frame


# ---------------------------------------------------------------------------------------------
# reading a run back


def sibling_runs(run_dir: Path) -> list[tuple[Path, dict[str, Any]]]:
    """(directory, run facts) of every run beside ``run_dir`` in its output root, itself included,
    in path order; a run.json that cannot be read is passed over (the trend of a monthly report)."""
    out = []
    for path in sorted(Path(run_dir).parent.glob(f"*/{RUN_JSON}")):
        try:
            run = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if isinstance(run, dict):
            out.append((path.parent, run))
    return out


@dataclass
class RunDir:
    """A run directory opened for reading (see the module docstring)."""

    path: Path
    run: dict[str, Any]
    #: what this run lacks (a run made before a snapshot existed) and what is read instead
    notes: list[str] = field(default_factory=list)

    @classmethod
    def open(cls, path: Path) -> RunDir:
        """Refuses (:class:`NotARunError`) a directory that is not the output of ``audit run``."""
        path = Path(path)
        if not path.is_dir():
            raise NotARunError(f"{path}: not a directory")
        lacking = [name for name in (RUN_JSON, "findings.parquet", NORMALISED_DIR) if not (path / name).exists()]
        if lacking:
            raise NotARunError(f"{path} is not the output directory of `audit run`: it has no {', '.join(lacking)}; "
                               f"run `audit run INPUT_DIR --month YYYY-MM --out {path}` first")
        try:
            run = json.loads((path / RUN_JSON).read_text(encoding="utf-8"))
        except ValueError as exc:
            raise NotARunError(f"{path / RUN_JSON}: not readable as JSON ({exc})") from None
        if not isinstance(run, dict):
            raise NotARunError(f"{path / RUN_JSON}: not the run facts `audit run` writes")
        return cls(path, run)

    def has(self, name: str) -> bool:
        """Whether the run directory holds the file ``name`` (a path relative to it)."""
        return (self.path / name).is_file()

    def _note(self, text: str) -> None:
        if text not in self.notes:
            self.notes.append(text)

    # -- the month ------------------------------------------------------------------------
    @property
    def audit_month(self) -> dt.date:
        text = self.run.get("audit_month")
        if not text:
            raise NotARunError(f"{self.path / RUN_JSON} names no audit_month")
        return parse_month(str(text))

    @property
    def month_end(self) -> dt.date:
        return month_end(self.audit_month)

    @property
    def si_as_of(self) -> dt.date:
        text = self.run.get("si_as_of")
        return parse_month(str(text)) if text else self.audit_month

    @cached_property
    def paid_date_exported(self) -> bool:
        """Whether the claims export had a 拨付日期 column (RULES.md §8, "Unpaid claims": without
        one every claim is taken as paid). A run made before this was recorded: whether any claim
        has a 拨付日期."""
        if isinstance(self.run.get("paid_date_exported"), bool):
            return bool(self.run["paid_date_exported"])
        claims = self.scan("claims")
        if claims is None or "paid_date" not in claims.collect_schema().names():
            return False
        return bool(claims.select(pl.col("paid_date").is_not_null().any()).collect().item())

    # -- tables ---------------------------------------------------------------------------
    @property
    def tables_loaded(self) -> list[str] | None:
        """The input tables the run loaded (None for a run.json that does not say)."""
        inputs = self.run.get("inputs")
        if isinstance(inputs, list) and inputs and all(isinstance(r, dict) and "table" in r for r in inputs):
            return list(dict.fromkeys(str(r["table"]) for r in inputs))
        return None

    def tables(self) -> Tables:
        """The tables as the rules saw them (:func:`scan_tables`)."""
        if not (self.path / REFERENCE_DIR).is_dir():
            self._note("本次运行未保存参照表快照 / this run has no reference/ snapshot: its reference tables are absent")
        absent = self.run.get("absent_columns")
        empty = [str(t) for t in self.run.get("empty_tables") or []]
        loaded = self.tables_loaded
        return scan_tables(self.path, self.audit_month, self.si_as_of,
                           None if loaded is None else [t for t in loaded if t not in empty],
                           absent if isinstance(absent, dict) else None, empty)

    def scan(self, name: str) -> pl.LazyFrame | None:
        """A normalised input table as loaded (claims not restricted to the month), or None."""
        loaded = self.tables_loaded
        path = self.path / NORMALISED_DIR / f"{name}.parquet"
        if (loaded is not None and name not in loaded) or not path.exists():
            return None
        return pl.scan_parquet(path)

    # -- outputs of the run ---------------------------------------------------------------
    def _read(self, name: str, schema: dict[str, pl.DataType]) -> pl.DataFrame:
        path = self.path / name
        return pl.read_parquet(path) if path.exists() else pl.DataFrame(schema=schema)

    def all_findings(self) -> pl.DataFrame:
        """Every finding of the run, the dismissed (不属实) included; a run made before findings
        had a status gets a null one."""
        found = self._read("findings.parquet", FINDINGS_SCHEMA)
        if "status" not in found.columns:
            found = found.with_columns(pl.lit(None, pl.String).alias("status"))
        return found

    def findings(self) -> pl.DataFrame:
        """The findings that count: all but those a county rejected on unchanged facts (不属实)."""
        found = self.all_findings()
        return found.filter(pl.col("status").is_null() | (pl.col("status") != DISMISSED))

    def dismissed(self) -> pl.DataFrame:
        """The findings kept out of the counts, lists and exit proposals (status 不属实)."""
        return self.all_findings().filter(pl.col("status") == DISMISSED)

    def claim_links(self) -> pl.DataFrame:
        """Which claims the counted findings (:meth:`findings`) put money at risk on."""
        links = self._read("finding_claims.parquet", CLAIM_LINK_SCHEMA)
        dismissed = self.dismissed().select("finding_id")
        return links.join(dismissed, on="finding_id", how="anti") if dismissed.height else links

    # -- the monthly cycle ------------------------------------------------------------------
    @property
    def has_history(self) -> bool:
        """Whether the run was made with a workspace (``history/``)."""
        return (self.path / HISTORY_DIR / HISTORY_JSON).is_file()

    def history_facts(self) -> dict[str, Any]:
        """``history/history.json``: the workspace, the months it holds, the office settings used."""
        path = self.path / HISTORY_DIR / HISTORY_JSON
        if not path.is_file():
            return {}
        try:
            facts = json.loads(path.read_text(encoding="utf-8"))
        except ValueError as exc:
            raise NotARunError(f"{path}: not readable as JSON ({exc})") from None
        return facts if isinstance(facts, dict) else {}

    def history(self, name: str) -> pl.DataFrame | None:
        """``history/<name>.parquet`` (None for a run made without a workspace)."""
        path = self.path / HISTORY_DIR / f"{name}.parquet"
        return pl.read_parquet(path) if path.is_file() else None

    def skipped(self) -> pl.DataFrame:
        """Keys the rules left unjudged; a run made before ``gap`` was recorded gets it null."""
        frame = self._read("skipped.parquet", SKIPPED_SCHEMA)
        return frame.with_columns(pl.lit(None, pl.String).alias(c) for c in SKIPPED_SCHEMA if c not in frame.columns)

    def cases(self) -> pl.DataFrame | None:
        path = self.path / "cases.parquet"
        return pl.read_parquet(path) if path.exists() else None

    def indicators(self) -> pl.DataFrame | None:
        """The 汇总表 indicators the run recomputed (None for a run made before they were written)."""
        path = self.path / INDICATORS_FILE
        if not path.exists():
            self._note("本次运行未保存汇总表重算结果 / this run has no indicators.parquet: no summary table")
            return None
        return pl.read_parquet(path)

    def quarantined(self) -> int:
        path = self.path / "quarantine.csv"
        if not path.exists():
            return 0
        return pl.scan_csv(path, infer_schema=False).select(pl.len()).collect().item()

    def validation(self) -> dict[str, Any] | None:
        """The data-contract results the run wrote (``validation.json``: every expectation with
        its outcome), or None for a run without them or with an unreadable file."""
        path = self.path / "validation.json"
        try:
            data = json.loads(path.read_text(encoding="utf-8")) if path.exists() else None
        except (OSError, ValueError):
            return None
        return data if isinstance(data, dict) else None

    def county_names(self) -> dict[str, str]:
        """county_code → 'city county', from the run's regions table."""
        candidates = (self.path / REFERENCE_DIR / "regions.parquet", self.path / NORMALISED_DIR / "regions.parquet")
        for path in (*candidates, SHIPPED_REGIONS):
            if not path.exists():
                continue
            if path == SHIPPED_REGIONS:
                self._note("本次运行未保存行政区划快照 / no regions snapshot: county names from the shipped table")
            frame = pl.read_parquet(path) if path.suffix == ".parquet" else pl.read_csv(path, infer_schema=False)
            if "county_code" in frame.columns and "county_name" in frame.columns:
                city = pl.col("city_name").fill_null("") if "city_name" in frame.columns else pl.lit("")
                frame = frame.select(pl.col("county_code").cast(pl.String),
                                     pl.concat_str([city, pl.col("county_name").cast(pl.String)]).alias("name"))
                return dict(zip(frame["county_code"].to_list(), frame["name"].to_list()))
        return {}

    # -- what was in force ----------------------------------------------------------------
    @cached_property
    def rules(self) -> dict[str, RuleInfo]:
        """rule id → its metadata as recorded by the run (empty for a run without rules.json)."""
        path = self.path / RULES_JSON
        if not path.exists():
            self._note("本次运行未保存规则快照 / this run has no rules.json: rules are shown by id and the "
                       "citation their findings carry, without exit conditions or signal flags")
            return {}
        try:
            records = json.loads(path.read_text(encoding="utf-8"))["rules"]
            infos = [RuleInfo.from_dict(r) for r in records]
        except (ValueError, KeyError, TypeError) as exc:
            raise NotARunError(f"{path}: not the rule snapshot `audit run` writes ({exc})") from None
        return {r.id: r for r in infos}

    @property
    def signal_rules(self) -> frozenset[str]:
        """Ids of the investigative-signal rules (signal_only)."""
        return frozenset(r.id for r in self.rules.values() if r.signal_only)

    @cached_property
    def policy(self) -> Policy:
        """The parameters in force for the run: its ``policy/`` snapshot. A run made before the
        snapshot existed reads its ``--policy-dir`` if that still exists, else the shipped files."""
        snapshot = self.path / POLICY_DIR
        if snapshot.is_dir():
            # a snapshot from before the catalogue declared scopes: looked up as it was then
            return Policy.load(snapshot, legacy_scope="national")
        old = self.run.get("policy_dir")
        if old and Path(old).is_dir():
            self._note(f"本次运行未保存参数快照 / no policy/ snapshot: parameters read from {old} as it is now")
            return Policy.load(Path(old))
        self._note("本次运行未保存参数快照 / no policy/ snapshot: the shipped parameter files are used")
        return Policy.load()
