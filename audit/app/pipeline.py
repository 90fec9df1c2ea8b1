"""The monthly run: load and validate the inputs, run every registered check, write the files.

Stages: (1) load + normalise + quarantine (:mod:`audit.loader`), (2) data contracts
(:mod:`audit.validation`; checked in a child process beside the load and the checks,
:mod:`audit.app.validator`), (3) the snapshot of what is in force — the rules' metadata, the
parameter files, the reference tables — into the run directory (:mod:`audit.rundir`), (4) the
sub-results several rules share (:func:`checks.build_shared`: the claims in their agreements, the
internships, the identity links, retention per person), each computed once and held in memory
(:meth:`audit.tables.Tables.shared`), (5) the checks, each collected once, one after another, and
the 汇总表 indicators, (6) outputs: findings, then cases and their graphs
(:mod:`audit.app.cases`), reports, exit lists (:mod:`reports`) — each read back from the run
directory alone.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl

import checks as registered  # the registry; run_checks' argument `checks` is a selection of it
from audit import rundir, totals
from audit.app import validator
from audit.app.cases import write_run_cases
from audit.app.cycle import Cycle
from audit.app.provenance import code_version, input_files
from audit.app.validator import BackgroundValidation, InlineValidation, ValidationFailed
from audit.coverage import run_coverage
from audit.findings import (
    CLAIM_LINK_DTYPE,
    DISMISSED,
    FINDINGS_SCHEMA,
    SKIPPED_SCHEMA,
    assign_ids,
    finalise,
    finalise_skipped,
    split_claim_links,
)
from audit.loader import LoadResult, load_inputs
from audit.outpaths import inside, write_csv
from audit.policy import Policy
from audit.reference import load_reference
from audit.reference.gaps import reference_gaps
from audit.rules import Check
from audit.rundir import parse_month
from audit.schema import SPECS
from audit.tables import Tables, month_end
from reports import render_all

log = logging.getLogger("audit")

EXIT_CLEAN, EXIT_FINDINGS, EXIT_INVALID, EXIT_ERROR, EXIT_BUSY = 0, 1, 2, 3, 4


class RunError(RuntimeError):
    """The run broke for a reason that is not the input's fault (exit code 3)."""


#: the skipped rows' columns of few values (rules, families, reasons, gaps, counties), held as
#: categories from the checks until they are written: millions of rows repeat a dozen reasons
#: (1 M trainees: 3.2 M rows, 643 MiB as text). skipped.parquet holds them as text
#: (:data:`audit.findings.SKIPPED_SCHEMA`), written by :func:`write_findings`.
SKIPPED_REPEATING = ("rule_id", "family", "reason", "county_code", "gap")


def compact_skipped(frame: pl.LazyFrame) -> pl.LazyFrame:
    """Skipped rows (:data:`SKIPPED_SCHEMA`) with :data:`SKIPPED_REPEATING` as categories."""
    return frame.with_columns(pl.col(c).cast(pl.Categorical) for c in SKIPPED_REPEATING)


def skipped_as_text(frame: pl.DataFrame) -> pl.LazyFrame:
    """The skipped rows of a :class:`CheckOutcome` in :data:`SKIPPED_SCHEMA`, lazily."""
    return frame.lazy().with_columns(pl.col(c).cast(SKIPPED_SCHEMA[c]) for c in SKIPPED_REPEATING)


@dataclass
class CheckOutcome:
    findings: pl.DataFrame
    skipped: pl.DataFrame  # SKIPPED_SCHEMA, with SKIPPED_REPEATING as categories
    claim_links: pl.DataFrame
    rules_run: list[str]
    rules_skipped: dict[str, str]  # rule id -> why it did not run at all
    seconds: float


@dataclass
class RunResult:
    out_dir: Path
    findings: pl.DataFrame
    summary: dict[str, Any] = field(default_factory=dict)

    @property
    def exit_code(self) -> int:
        return EXIT_FINDINGS if self.findings.height else EXIT_CLEAN


#: the tables the checks after the rate rules read from memory (:func:`run_checks`): the claims
#: are scanned by 35 of them; held once the claims in context are freed, they cost no more memory
#: than the run held before
HELD_FOR_CHECKS = ("claims",)

#: how many of the checks after the claims are held run at once (:func:`_collect_side_by_side`)
CONCURRENT_CHECKS = 2


def run_checks(tables: Tables, policy: Policy, checks: tuple[Check, ...] | None = None,
               progress: Callable[[str], None] | None = None, release_shared: bool = False,
               hold_when: Callable[[], bool] | None = None, table_rows: dict[str, int] | None = None) -> CheckOutcome:
    """Run checks over the tables: each check's plan is built lazily and collected once, with its
    skipped keys (the two share their subplans), one check after another.

    One ``pl.collect_all`` over every check's plan was measured slower and far heavier: 9.9 s
    against 2.7 s on the 400-trainee demo, and killed for memory at 23.7 GB on a 1 M-trainee
    world, since all plans' intermediates are held at once. A check at a time bounds peak memory
    by the heaviest check.

    ``release_shared`` (the run): every plan is built first, recording the shared sub-results it
    reads; the checks reading the largest one (the rate rules, the claims in context: 1 GiB on a
    national run) are collected first, each plan let go once collected, so that result is freed
    with the last of them. The other checks follow, each let go in turn; from the first for
    which ``hold_when()`` is true (the run: once its validation process, whose memory would add
    to it, has ended), the tables of :data:`HELD_FOR_CHECKS` are collected into memory and those
    checks' plans built again on them (the shared results they read carried over,
    :meth:`Tables.holding`). The outcome is in the order of ``checks`` either way; every shared
    result is released at the end.
    """
    if checks is None:
        checks = registered.CHECKS
    t0 = time.perf_counter()
    rules_skipped: dict[str, str] = {}
    runnable: list[Check] = []
    for check in checks:
        missing = tables.missing(check.rule.needs)
        if missing:
            rules_skipped[check.rule.id] = missing_inputs(missing, tables.empty)
        else:
            runnable.append(check)

    def plans_of(check: Check, on: Tables) -> list[pl.LazyFrame]:
        result = check(on, policy)
        pair = [finalise(result.findings, check.rule)]
        if result.skipped is not None:
            pair.append(compact_skipped(finalise_skipped(result.skipped, check.rule)))
        return pair

    def collect(i: int, pair: list[pl.LazyFrame]) -> None:
        if progress:
            progress(runnable[i].rule.id)
        collected[i] = pl.collect_all(pair)

    collected: list[list[pl.DataFrame]] = [[] for _ in runnable]
    if not release_shared:
        for i, check in enumerate(runnable):
            collect(i, plans_of(check, tables))
    else:
        built: list[list[pl.LazyFrame] | None] = []
        reads: list[dict[tuple, int]] = []
        heavy: list[bool] = []  # too heavy to run beside another heavy one (_collect_side_by_side)
        for check in runnable:
            with tables.reading_shared() as read, tables.reading_tables() as scanned:
                built.append(plans_of(check, tables))
            reads.append(dict(read))
            heavy.append(_heavy(scanned, table_rows))
        largest = [max(r.values(), default=0) for r in reads]
        order = sorted(range(len(runnable)), key=lambda i: -largest[i])  # stable: the registry's order among equals
        first = [i for i in order if largest[i] and largest[i] == largest[order[0]]]
        rest = [i for i in order if i not in first]
        # the store keeps what the rest read; the largest result lives on in the first group's plans
        tables.keep_shared({key for i in rest for key in reads[i]})

        def collect_built(i: int) -> None:
            # the plan lives only here: the last plan reading a shared sub-result frees it on return
            pair, built[i] = built[i], None
            assert pair is not None
            collect(i, pair)

        for i in first:
            collect_built(i)
        # the claims, scanned by 35 of the other plans (7 columns each on average), are held in
        # memory once the largest result is freed and ``hold_when`` says so, and the plans after
        # that built again on them
        position = 0
        while position < len(rest) and hold_when is not None and not hold_when():
            collect_built(rest[position])
            position += 1
        later = rest[position:]
        if later:
            held = tables.holding(policy, **{name: getattr(tables, name).collect().lazy()
                                             for name in HELD_FOR_CHECKS if getattr(tables, name) is not None})
            tables.release_shared()
            for i in later:
                built[i] = None
            _collect_side_by_side(later, heavy, lambda i: plans_of(runnable[i], held), collect)
            held.release_shared()
            del held
        tables.release_shared()
    plans = [c[0] for c in collected]
    skip_plans = [f for c in collected for f in c[1:]]
    rules_run = [c.rule.id for c in runnable]
    found = [f for f in plans if f.height]
    skipped = [f for f in skip_plans if f.height]
    findings = pl.concat(found, how="vertical_relaxed") if found else None
    if findings is None:
        findings = pl.DataFrame(schema={k: v for k, v in FINDINGS_SCHEMA.items() if k not in ("finding_id", "status")})
        findings = findings.with_columns(pl.lit(None, CLAIM_LINK_DTYPE).alias("_claims"))
    findings = assign_ids(findings, {c.rule.id: c.rule.identity for c in checks if c.rule.identity is not None})
    findings, links = split_claim_links(findings)
    skipped_df = (pl.concat(skipped, how="vertical_relaxed") if skipped
                  else compact_skipped(pl.LazyFrame(schema=SKIPPED_SCHEMA)).collect())
    # a row listed twice is listed once; asking first is cheaper than making unique millions of
    # rows that are (1 M trainees: 0.7 against 1.5 CPU-s for 3.2 M rows, none repeated)
    if skipped_df.is_duplicated().any():
        skipped_df = skipped_df.unique(maintain_order=True)
    return CheckOutcome(findings, skipped_df, links, rules_run, rules_skipped, time.perf_counter() - t0)


def missing_inputs(missing: list[str], empty: tuple[str, ...] = ()) -> str:
    """Why a rule did not run: the tables (``employment``) and columns (``claims.claim_type``) of
    its :attr:`~audit.rules.Rule.needs` the input lacks, the columns with their Chinese headers;
    a table in ``empty`` was exported without a row that could be read (read as not exported)."""
    tables = [name for name in missing if "." not in name and name not in empty]
    blank = [name for name in missing if name in empty]
    columns = [name.split(".", 1) for name in missing if "." in name]
    said = ["缺少输入表: " + ", ".join(tables)] if tables else []
    if blank:
        said.append("输入表没有可读的数据行（按未导出处理）: " + ", ".join(f"{t}（{SPECS[t].zh}）" for t in blank))
    if columns:
        said.append("缺少输入列: " + ", ".join(f"{t}.{c}（{SPECS[t].column(c).zh}）" for t, c in columns))
    return "; ".join(said)


#: a check is heavy (:func:`_collect_side_by_side`) when the tables it scans hold this many times
#: the claims' rows together: the claims joined to the insurance records, the allowance ledger, …
#: (1 M trainees: up to 1.1 GiB of intermediates each, against 0.5 GiB at most for the others)
HEAVY_ROWS = 2


def _heavy(scanned: set[str], table_rows: dict[str, int] | None) -> bool:
    """Whether a check that scans the tables ``scanned`` is heavy: with the tables' rows known,
    by :data:`HEAVY_ROWS`; without, when it scans a table of :data:`HELD_FOR_CHECKS`."""
    if table_rows is None:
        return bool(scanned.intersection(HELD_FOR_CHECKS))
    claims = table_rows.get("claims", 0)
    return sum(table_rows.get(name, 0) for name in scanned) >= HEAVY_ROWS * claims > 0


def _collect_side_by_side(order: list[int], heavy: list[bool], build: Callable[[int], list[pl.LazyFrame]],
                          collect: Callable[[int, list[pl.LazyFrame]], None]) -> None:
    """``collect(i, build(i))`` for each check ``i`` of ``order``, :data:`CONCURRENT_CHECKS` at a
    time: each plan built here, collected in a thread (polars lets go of the interpreter while it
    collects), never two ``heavy`` ones at once; the next check started is the first in
    ``order`` that may start.

    One check's plan alone leaves the cores idle for moments — the interpreter building the
    next plan, the single-threaded ends of a join or a sort — which a second one fills
    (1 M trainees: the checks after the claims are held 2–3 s faster). A heavy check (:func:`_heavy`:
    the claims beside the insurance records or the allowance ledger) holds up to a gigabyte of
    intermediates; two at once would add their peaks (bench/NOTES.md, "Checks side by side").
    """
    pending = list(order)
    running: dict[Future[None], bool] = {}
    with ThreadPoolExecutor(max_workers=CONCURRENT_CHECKS) as pool:
        while pending or running:
            heavy_running = any(running.values())
            for i in list(pending):
                if len(running) >= CONCURRENT_CHECKS:
                    break
                if heavy[i] and heavy_running:
                    continue
                running[pool.submit(collect, i, build(i))] = heavy[i]
                heavy_running = heavy_running or heavy[i]
                pending.remove(i)
            done, _ = wait(running, return_when=FIRST_COMPLETED)
            for future in done:
                del running[future]
                future.result()


def prepare_shared(tables: Tables, policy: Policy) -> float:
    """Compute the sub-results several checks share (:func:`checks.build_shared`) once, before the
    checks; returns the seconds it took."""
    t0 = time.perf_counter()
    registered.build_shared(tables, policy)
    return time.perf_counter() - t0


def family_summary(findings: pl.DataFrame, links: pl.DataFrame, claims: pl.DataFrame | None,
                   paid_date_exported: bool = True) -> pl.DataFrame:
    """The headline figures per family and in total (:func:`audit.totals.by_family`, the one
    definition the report reads too): findings, persons, units, claims, money at risk, and the
    money split into 应追回 (paid claims) and 应停止拨付 (claims not yet paid)."""
    claims = totals.claims_for_figures(claims, links)
    rows = totals.by_family(findings, links, claims, paid_date_exported)
    return pl.DataFrame(rows, schema=totals.FIGURES_SCHEMA)


def write_findings(out_dir: Path, outcome: CheckOutcome) -> None:
    out_dir.mkdir(parents=True, exist_ok=True)
    outcome.findings.write_parquet(inside(out_dir, "findings.parquet"))
    write_csv(outcome.findings, inside(out_dir, "findings.csv"))  # formula-safe: a clerk opens it in Excel
    # as text, streamed: the text column of millions of rows is never held whole
    # (lz4: 0.6 against 0.9 s for zstd at 3.2 M rows; the file is the run's own, read back once)
    skipped_as_text(outcome.skipped).sink_parquet(inside(out_dir, "skipped.parquet"), compression="lz4")
    outcome.claim_links.write_parquet(inside(out_dir, "finding_claims.parquet"))


def json_default(value: Any) -> Any:
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def write_json(path: Path, payload: Any) -> None:
    path.write_text(json.dumps(payload, ensure_ascii=False, indent=2, default=json_default), encoding="utf-8")


def run_audit(input_dir: Path, month: str, out_dir: Path, *, si_as_of: str | None = None,
              policy_dir: Path | None = None, progress: Callable[[str], None] | None = None,
              render: bool = True, workspace: Path | None = None) -> RunResult:
    """The whole monthly run. Raises ``audit.loader.InputError`` for unusable input (exit 2).

    With ``workspace`` the run is one month of the monthly cycle (:mod:`audit.app.cycle`): the
    workspace is locked from the start (:class:`audit.workspace.WorkspaceBusy` when another
    process holds it) and written in one transaction at the end.
    """
    audit_month = parse_month(month)
    policy = Policy.load(policy_dir)  # from the operator's files: an error names them, not the copy
    if workspace is None:
        return _run(input_dir, audit_month, out_dir, si_as_of, policy_dir, policy, progress, render, None)
    cycle = Cycle.open(Path(workspace), audit_month)
    try:
        return _run(input_dir, audit_month, out_dir, si_as_of, policy_dir, policy, progress, render, cycle)
    finally:
        cycle.close()


def _run(input_dir: Path, audit_month: dt.date, out_dir: Path, si_as_of: str | None, policy_dir: Path | None,
         policy: Policy, progress: Callable[[str], None] | None, render: bool, cycle: Cycle | None) -> RunResult:
    t0, started = time.perf_counter(), time.time()
    si_month = parse_month(si_as_of) if si_as_of else None  # None: the extract's own end (insurance_extract_end)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    timings: dict[str, float] = {}

    if progress:
        progress("读取输入 / loading inputs")
    # the data contracts are checked in a process of their own, each table as soon as it is
    # staged, while this one loads, then computes (audit.app.validator); waited for at the end
    validation = validator.start(out_dir, input_bytes=_input_bytes(input_dir))
    try:
        return _run_validated(input_dir, audit_month, out_dir, si_month, policy_dir, policy, progress, render,
                              cycle, validation, timings, t0, started)
    finally:
        validation.abort()  # a no-op once it has been waited for


def _input_bytes(input_dir: Path) -> int | None:
    """The size of the files in the input directory (what decides the validation child's
    priority, :func:`audit.app.validator.child_nice`), or None where it cannot be listed (the
    load then says why)."""
    try:
        return sum(entry.stat().st_size for entry in Path(input_dir).iterdir() if entry.is_file())
    except OSError:
        return None


def insurance_extract_end(loaded: LoadResult, audit_month: dt.date) -> tuple[dt.date, list[str]]:
    """The month the social-insurance extract is complete to, when the operator does not say
    (``--si-as-of``): the audit month — or, where the extract holds no row of any month after an
    earlier one (extracted, or posted, before the audit month ended), that month, with a note.
    Insurance "stopping" after it is no evidence (contract.md): an extract that ends in September
    does not show a November without insurance."""
    if "social_insurance" not in loaded.tables or "social_insurance" in loaded.empty_tables:
        return audit_month, []
    latest = loaded.scan("social_insurance").select(pl.col("month").max()).collect().item()
    if latest is None or latest >= audit_month:
        return audit_month, []
    when = f"{latest:%Y-%m}"
    return latest, [f"社保缴费记录最晚只到 {when}，早于审计月份 {audit_month:%Y-%m}：按社保数据截至 {when} 判断，其后未见参保不作为证据"
                    f"（可用 --si-as-of 指定） / the insurance extract's latest month is {when}, before the audit month: "
                    f"judged as complete to {when}, so no insurance after it is evidence (--si-as-of says otherwise)"]


def _run_validated(input_dir: Path, audit_month: dt.date, out_dir: Path, si_month: dt.date | None, policy_dir: Path | None,
                   policy: Policy, progress: Callable[[str], None] | None, render: bool, cycle: Cycle | None,
                   validation: BackgroundValidation | InlineValidation, timings: dict[str, float], t0: float,
                   started: float) -> RunResult:
    loaded = load_inputs(Path(input_dir), out_dir, staged=validation.staged)  # each table staged to Parquet as it loads
    timings["load"] = time.perf_counter() - t0
    # the input is usable: what the previous run into this directory wrote goes (exactly that, by
    # its manifest: a workspace or an operator's file beside it stays), so nothing stale is left
    rundir.remove_outputs(out_dir, rundir.previous_outputs(out_dir, rundir.RUN_JSON, "render.json"),
                          keep_since=started)
    loaded.write(out_dir)
    si_notes: list[str] = []
    if si_month is None:
        si_month, si_notes = insurance_extract_end(loaded, audit_month)
    if progress and isinstance(validation, InlineValidation):
        progress("数据契约校验 / validating contracts")
    t1 = time.perf_counter()
    validation.done(loaded)  # the child writes validation.json from here on (inline: it is written)
    timings["validate"] = time.perf_counter() - t1

    t1 = time.perf_counter()
    reference = load_reference(Path(input_dir), loaded)  # reads no claim: a gap never refuses the run
    timings["reference"] = time.perf_counter() - t1
    # what is in force, written before the checks: the checks read the reference tables from it
    t1 = time.perf_counter()
    rundir.write_rules(out_dir, (c.rule.info() for c in registered.CHECKS))
    policy_files = rundir.write_policy(out_dir, policy_dir)
    reference_files = rundir.write_reference(out_dir, {
        "min_wage": reference.min_wage, "county_tiers": reference.county_tiers,
        "calendar": reference.calendar, "regions": reference.regions,
    })
    provenance = {"input_files": input_files(Path(input_dir), loaded.input_files), "code": code_version()}
    timings["snapshot"] = time.perf_counter() - t1
    present = [t for t in loaded.tables if t not in loaded.empty_tables]
    if cycle is not None:  # the bans the workspace remembers, read by the rules as a table like any other
        present = cycle.give_bans(out_dir, present)
    tables = rundir.scan_tables(out_dir, audit_month, si_month, present=present, absent=loaded.absent_columns,
                                empty=loaded.empty_tables)
    t1 = time.perf_counter()
    # what the claims judged (restricted to the month end above) need of the reference, and lack
    gaps = reference_gaps(tables, policy)
    timings["reference_gaps"] = time.perf_counter() - t1
    if progress:
        progress("共用中间结果 / shared intermediates")
    timings["shared"] = prepare_shared(tables, policy)
    t2 = time.perf_counter()
    # the 汇总表 recomputed is one of the shared results: written before the checks release them
    rundir.write_indicators(out_dir, registered.county_indicators(tables, policy).collect())
    timings["indicators"] = time.perf_counter() - t2
    t2 = time.perf_counter()
    outcome = run_checks(tables, policy, progress=progress, release_shared=True, hold_when=validation.finished,
                         table_rows=loaded.heights)
    timings["checks"] = time.perf_counter() - t2
    del tables
    if cycle is not None:
        t3 = time.perf_counter()
        outcome.findings = cycle.statuses(outcome.findings, [c.rule for c in registered.CHECKS],
                                          int(policy.detect("office.reply_days")))
        timings["statuses"] = time.perf_counter() - t3
    t3 = time.perf_counter()
    # the findings are written while their figures are counted (polars lets go of the interpreter
    # while it writes; 1 M trainees: 1.6 s of writing, 0.7 s of figures)
    with ThreadPoolExecutor(max_workers=1) as writer:
        written_findings = writer.submit(write_findings, out_dir, outcome)
        counted = outcome.findings.filter(pl.col("status") != DISMISSED)  # a county's 不属实 counts nowhere
        counted_links = outcome.claim_links.join(counted.select("finding_id"), on="finding_id", how="semi")

        # what the linked claims paid (each family's money is capped by it), and whether they were paid
        claims_df = totals.claims_for_figures(pl.scan_parquet(out_dir / "normalised" / "claims.parquet"),
                                              counted_links)
        paid_date_exported = "paid_date" not in loaded.absent_columns.get("claims", [])
        summary_table = family_summary(counted, counted_links, claims_df, paid_date_exported)
        summary_table.write_csv(inside(out_dir, "summary_by_family.csv"))
        written_findings.result()
    timings["findings_out"] = time.perf_counter() - t3
    if progress and isinstance(validation, BackgroundValidation):
        progress("数据契约校验 / validating contracts")
    t3 = time.perf_counter()
    try:
        seconds = validation.wait()
    except ValidationFailed as exc:
        raise RunError(str(exc)) from None
    if isinstance(validation, BackgroundValidation):
        timings["validation_process"] = seconds  # its own seconds, beside the load and the checks
        timings["validate"] += time.perf_counter() - t3  # what the run waited for it
    t3 = time.perf_counter()
    # how much was judged, once: the terminal summary and the report read it from run.json
    written = rundir.RunDir(out_dir, {"audit_month": audit_month.strftime("%Y-%m"), "si_as_of": si_month.strftime("%Y-%m"),
                                      "inputs": loaded.counts_dict(), "rules_skipped": outcome.rules_skipped})
    coverage = run_coverage(written, gaps)
    timings["coverage"] = time.perf_counter() - t3
    summary = {
        "audit_month": audit_month.strftime("%Y-%m"),
        "month_end": month_end(audit_month),
        "si_as_of": si_month.strftime("%Y-%m"),
        "input_dir": str(Path(input_dir).resolve()),
        "policy_dir": str(Path(policy_dir).resolve()) if policy_dir else None,
        "generated_at": dt.datetime.now().replace(microsecond=0).isoformat(),
        "inputs": loaded.counts_dict(),
        "absent_columns": {t: cols for t, cols in loaded.absent_columns.items() if cols},
        "input_notes": loaded.reading_notes() + si_notes,
        "empty_tables": loaded.empty_tables,
        "paid_date_exported": paid_date_exported,
        **provenance,
        "policy": policy_files,  # the files in force, copied to policy/ (the later stages read them there)
        "reference_files": reference_files,  # reference/*.parquet
        "rules_run": outcome.rules_run,
        "rules_skipped": outcome.rules_skipped,
        "skipped_keys": outcome.skipped.group_by("rule_id", "reason").len()
        .with_columns(pl.col("rule_id", "reason").cast(pl.String)).sort("rule_id").to_dicts(),
        "by_family": summary_table.to_dicts(),
        "coverage": coverage,
        "reference": reference.status(),
        "timings_s": {k: round(v, 2) for k, v in timings.items()},
    }
    write_json(inside(out_dir, "run.json"), summary)
    if cycle is not None:
        if progress:
            progress("工作区：状态、抽样、摘牌进度 / workspace: statuses, sample, exits")
        t4 = time.perf_counter()
        summary["workspace"] = cycle.prepare(out_dir, policy)
        summary["timings_s"]["workspace"] = round(time.perf_counter() - t4, 2)
        write_json(inside(out_dir, "run.json"), summary)
    if render:
        if progress:
            progress("生成报告 / rendering reports")
        render_outputs(out_dir)
        rendered = out_dir / "render.json"  # what the reports made (report.pdf needs Chromium)
        if rendered.exists():
            summary["outputs"] = json.loads(rendered.read_text(encoding="utf-8"))
    if cycle is not None:  # last: a run that failed before here left the workspace as it was
        t5 = time.perf_counter()
        cycle.commit()
        summary["timings_s"]["workspace_commit"] = round(time.perf_counter() - t5, 2)
    summary["timings_s"]["total"] = round(time.perf_counter() - t0, 2)
    summary[rundir.MANIFEST_KEY] = sorted({*rundir.written_since(out_dir, started), rundir.RUN_JSON})
    write_json(inside(out_dir, "run.json"), summary)
    return RunResult(out_dir, counted, summary)


#: from this many findings on, a run draws its cases in a process of its own (bench/NOTES.md,
#: "Validation beside the load, and the cases beside the lists"): below it the cases take a few
#: seconds, less than the child's start
CASES_PROCESS_MIN_FINDINGS = 20_000
#: the child that draws them (its argument: the run directory)
CASES_COMMAND = (sys.executable, "-m", "audit.app.cases")


def render_outputs(run_dir: Path) -> None:
    """Cases and their graphs, reports and exit lists, from the run directory alone.

    Three threads (bench/NOTES.md, "Rendering"): this one writes the lists, a second the cases
    and their viewers, a third the report and its PDF (:func:`reports.render_run`) as soon as
    ``cases.parquet`` is written — the report's case table links each case's graph, which the
    second thread is then drawing. Most of the cases' work is polars and numpy, and the PDF is
    Chromium's: they leave the interpreter to the lists' Python. A large run (from
    :data:`CASES_PROCESS_MIN_FINDINGS` findings) draws its cases in a child process instead
    (:func:`_render_with_cases_process`), where their Python no longer waits for the lists'.
    """
    run_dir = Path(run_dir)
    findings = run_dir / "findings.parquet"
    if findings.exists() and pl.scan_parquet(findings).select(pl.len()).collect().item() >= CASES_PROCESS_MIN_FINDINGS:
        _render_with_cases_process(run_dir)
        return
    written = threading.Event()
    drawing: list[frozenset[str]] = []

    def cases_written(files: frozenset[str]) -> None:
        drawing.append(files)
        written.set()

    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="cases") as pool:
        drawn = pool.submit(write_run_cases, run_dir, cases_written=cases_written)

        def cases_ready() -> frozenset[str]:
            while not written.wait(0.05):
                if drawn.done():  # it ended before writing cases.parquet: its error, raised here
                    drawn.result()
                    raise RunError("the cases stage ended without writing cases.parquet")
            return drawing[0]

        render_all(run_dir, cases_ready=cases_ready)
        drawn.result()  # a viewer that failed fails the run


def _render_with_cases_process(run_dir: Path) -> None:
    """:func:`render_outputs` with the cases drawn by ``python -m audit.app.cases`` (a child
    process that prints the graph files it draws once ``cases.parquet`` is written): the lists'
    Python and the viewers' no longer take turns at one interpreter. A child that fails fails the
    run with its error output."""
    with tempfile.TemporaryFile() as errors:

        def failed(why: str) -> RunError:
            errors.seek(0)
            tail = errors.read()[-4000:].decode("utf-8", errors="replace")
            return RunError(f"{why}:\n{tail}")

        child = subprocess.Popen([*CASES_COMMAND, str(run_dir)],
                                 stdout=subprocess.PIPE, stderr=errors, text=True, encoding="utf-8")
        assert child.stdout is not None
        try:
            def cases_ready() -> frozenset[str]:
                assert child.stdout is not None
                line = child.stdout.readline()
                if not line:
                    child.wait()
                    raise failed(f"the cases process ended (exit {child.returncode}) without writing cases.parquet")
                return frozenset(json.loads(line))

            render_all(run_dir, cases_ready=cases_ready)
            child.stdout.read()
            if child.wait() != 0:  # a viewer that failed fails the run
                raise failed(f"the cases process failed (exit {child.returncode})")
        finally:
            if child.poll() is None:
                child.kill()
                child.wait()
            child.stdout.close()
