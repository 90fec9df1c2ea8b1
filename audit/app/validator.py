"""The data contracts of a run, checked in a process of their own while the run goes on.

great-expectations is pure Python: its import (some 3–4 s) and its suites (some 4 s at national
scale) hold one interpreter, and in the run's own process they either waited for the load or
held the interpreter the loader's Python needs. Here a child process imports it as the run
starts and checks each table as soon as the load has staged it (its own domains), then the
references between tables once the load is complete; the run goes on to its checks meanwhile and
waits for the child only before it writes its manifest (``bench/NOTES.md``, "Validation beside the
load, and the cases beside the lists"). What it writes — validation.json and validation.html — is
what :func:`audit.validation.validate` gives in one process (``tests/test_validator.py``).

The parent (:class:`BackgroundValidation`) hands each staged table over as a hard link in
``out_dir/.validation.partial/`` — the load then moves its own file into ``normalised/``, and the
child reads on undisturbed — and tells the child over its standard input, one JSON line per
table and a last one with the tables' order. The child's standard error goes to a file there; a
child that fails fails the run with it. A process that has imported great-expectations already (a
test session, a long-lived caller) validates inline instead, as the load ends (:func:`start`).
"""

from __future__ import annotations

import gc
import json
import os
import queue
import shutil
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

import polars as pl

from audit.validation import (
    Outcome,
    Reduced,
    Suites,
    ValidationReport,
    reduce_table_domains,
    referenced_values,
    validate,
    write_validation,
)

if TYPE_CHECKING:
    from audit.loader import LoadResult

#: where the parent links the staged tables for the child, inside the run's output directory
WORK_DIR = ".validation.partial"


#: the child's polars works on one thread (the run's own keeps the cores busy);
#: ``AUDIT_VALIDATION_THREADS`` gives it more
CHILD_ENV = {"POLARS_MAX_THREADS": os.environ.get("AUDIT_VALIDATION_THREADS", "1")}


#: the child's scheduling priority (nice): the lowest. The run is CPU-bound; at the run's own
#: priority the child slowed the load it overlaps (22-23 s instead of 19-20), and at the lowest it
#: takes the cores' idle moments of the load, the shared results and the checks instead, and is
#: done long before the run waits for it (bench/NOTES.md, "Validation beside the load, and the
#: cases beside the lists")
CHILD_NICE = 19
#: inputs smaller than this validate in a child at the run's own priority: the overlap the lowest
#: priority buys was measured at national scale (293 MB of Parquet, a load of tens of seconds);
#: on a small input it saves little, and a child at the lowest priority on a busy machine where
#: :func:`hurry` may not raise it (no root, no RLIMIT_NICE: an operator's desktop) starves
NICE_FROM_BYTES = 64 * 2**20


#: how the parent tells the child its priority
NICE_ENV = "AUDIT_VALIDATION_NICE"


def child_nice(input_bytes: int | None) -> int:
    """The child's priority for an input of ``input_bytes`` (None: not known)."""
    return CHILD_NICE if input_bytes is None or input_bytes >= NICE_FROM_BYTES else 0


def settle_priority() -> int:
    """The child takes the priority its parent gave it (:data:`NICE_ENV`; the lowest where none
    was given): the run's own stages first, this process filling the cores' idle moments."""
    nice = int(os.environ.get(NICE_ENV, CHILD_NICE))
    if nice > 0 and hasattr(os, "nice"):
        os.nice(nice)
    return nice


def hurry(pid: int) -> int:
    """The run now waits for the child: every thread of it gets the run's own priority back; how
    many did. The lowest priority is for the overlap only — once the run has nothing left to do
    but wait, a child at nice 19 on a machine with other work (a test worker, another run) got
    next to no CPU: a run of 20 trainees took 97 s, 85 of them waiting for it. Raising a priority
    takes the privilege (root, or an RLIMIT_NICE that allows it); without it the child keeps its
    own, as before."""
    if not hasattr(os, "setpriority"):
        return 0
    own = os.getpriority(os.PRIO_PROCESS, 0)
    try:
        tasks = [int(t.name) for t in Path(f"/proc/{pid}/task").iterdir()]
    except OSError:  # no /proc, or the child has just ended
        tasks = [pid]
    raised = 0
    for task in tasks:  # Linux keeps a nice value per thread: each of the child's threads
        try:
            if os.getpriority(os.PRIO_PROCESS, task) > own:
                os.setpriority(os.PRIO_PROCESS, task, own)
                raised += 1
        except OSError:  # not allowed, or the thread has ended
            pass
    return raised


class ValidationFailed(RuntimeError):
    """The child process ended without writing the validation (its error output attached)."""


def start(out_dir: Path, *, process: bool | None = None,
          input_bytes: int | None = None) -> BackgroundValidation | InlineValidation:
    """The run's validation: in a child process (:class:`BackgroundValidation`), or in this one
    (:class:`InlineValidation`) where ``process`` is false — by default, where this process has
    imported great-expectations already (a test session, a long-lived caller): the child is there
    to take that import and the suites off the run's interpreter, and with the import paid a
    child would pay it once more."""
    if process is None:
        process = "great_expectations" not in sys.modules
    return BackgroundValidation(out_dir, nice=child_nice(input_bytes)) if process else InlineValidation(out_dir)


class InlineValidation:
    """The run's validation in this process, once the load is complete (the same interface)."""

    def __init__(self, out_dir: Path) -> None:
        self.out_dir = Path(out_dir)

    def staged(self, table: str, path: Path, height: int) -> None:
        pass

    def done(self, loaded: LoadResult) -> None:
        write_validation(self.out_dir, validate(loaded))

    def finished(self) -> bool:
        """Nothing runs beside the run: always."""
        return True

    def wait(self) -> float:
        return 0.0  # the run waited for it in done()

    def abort(self) -> None:
        pass


class BackgroundValidation:
    """The parent's side: start the child, hand it the staged tables, wait for it."""

    def __init__(self, out_dir: Path, nice: int = CHILD_NICE) -> None:
        self.out_dir = Path(out_dir)
        self.work = self.out_dir / WORK_DIR
        shutil.rmtree(self.work, ignore_errors=True)  # what a killed run left
        self.work.mkdir(parents=True)
        self._log = open(self.work / "stderr.txt", "wb")  # noqa: SIM115 - closed in _finish
        self.proc: subprocess.Popen[str] | None = subprocess.Popen(
            [sys.executable, "-m", "audit.app.validator", str(self.out_dir)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self._log, text=True, encoding="utf-8",
            env={**os.environ, **CHILD_ENV, NICE_ENV: str(nice)},
        )

    def staged(self, table: str, path: Path, height: int) -> None:
        """A table the load has staged: linked for the child (the load then moves its own name)."""
        link = self.work / f"{table}.parquet"
        try:
            os.link(path, link)
        except OSError:  # a file system without hard links: a copy
            shutil.copyfile(path, link)
        self._send({"table": table, "path": str(link), "height": height})

    def done(self, loaded: LoadResult) -> None:
        """Every table is staged (the validation lists them in ``loaded``'s order)."""
        self._send({"done": list(loaded.heights)})
        assert self.proc is not None and self.proc.stdin is not None
        self.proc.stdin.close()

    def finished(self) -> bool:
        """Whether the child process has ended (without waiting for it)."""
        return self.proc is None or self.proc.poll() is not None

    def wait(self) -> float:
        """Wait for the child; the seconds it took. :class:`ValidationFailed` if it failed."""
        assert self.proc is not None and self.proc.stdout is not None
        if self.proc.poll() is None:
            hurry(self.proc.pid)
        out = self.proc.stdout.read()  # the one pipe it writes to (its errors go to a file)
        code = self.proc.wait()
        error = (self.work / "stderr.txt").read_text(encoding="utf-8", errors="replace")[-4000:]
        self._finish()
        said = out.strip().splitlines()
        if code != 0 or not said:
            raise ValidationFailed(f"数据契约校验进程失败 / the validation process failed (exit {code}):\n{error}")
        return float(json.loads(said[-1])["seconds"])

    def abort(self) -> None:
        """Stop the child (the run failed): nothing it wrote is kept."""
        if self.proc is not None:
            if self.proc.poll() is None:
                self.proc.kill()
            self.proc.wait()
        self._finish()

    def _send(self, message: dict[str, Any]) -> None:
        assert self.proc is not None and self.proc.stdin is not None
        self.proc.stdin.write(json.dumps(message, ensure_ascii=False) + "\n")
        self.proc.stdin.flush()

    def _finish(self) -> None:
        if self.proc is not None:
            for stream in (self.proc.stdin, self.proc.stdout):
                if stream is not None and not stream.closed:
                    try:
                        stream.close()
                    except OSError:  # the child is gone: what was left unsent does not matter
                        pass
        self.proc = None
        self._log.close()
        shutil.rmtree(self.work, ignore_errors=True)


def _read_messages(stream: IO[str], ahead: ThreadPoolExecutor, inbox: queue.Queue[Any]) -> None:
    """The reader thread: each table's own reductions start as its line arrives."""
    for line in stream:
        message = json.loads(line)
        if "table" in message:
            frame = pl.scan_parquet(message["path"])
            future = ahead.submit(reduce_table_domains, message["table"], frame, message["height"], None)
            inbox.put(("table", message, future))
        elif "done" in message:
            inbox.put(("done", message["done"], None))
            return
    inbox.put(("eof", None, None))  # the parent went away without saying done


def child(out_dir: Path) -> int:
    """The child's side: reduce and check each table as it comes, the references at the end,
    write validation.json and validation.html into ``out_dir``."""
    t0 = time.perf_counter()
    settle_priority()
    inbox: queue.Queue[Any] = queue.Queue()
    tables: dict[str, dict[str, Any]] = {}
    own: dict[str, list[Outcome]] = {}
    with ThreadPoolExecutor(max_workers=1) as ahead:
        reader = threading.Thread(target=_read_messages, args=(sys.stdin, ahead, inbox), daemon=True)
        reader.start()
        gc.disable()  # the import makes objects by the hundred thousand: no collection walks them meanwhile
        suites = Suites()  # the import, while the load stages its first table (2.2 against 2.5 CPU-s)
        gc.freeze()  # great-expectations' thousands of module objects: no collection walks them again
        gc.enable()
        while True:
            kind, message, future = inbox.get()
            if kind == "eof":
                return 3
            if kind == "done":
                names: list[str] = message
                break
            reduced: list[Reduced] = future.result()
            tables[message["table"]] = message
            own[message["table"]] = suites.run(message["table"], message["height"], reduced)

        def scan(name: str) -> pl.LazyFrame:
            return pl.scan_parquet(tables[name]["path"])

        known = referenced_values(names, scan)
        refs = {name: ahead.submit(reduce_table_domains, name, scan(name), tables[name]["height"], known, own=False)
                for name in names}
        outcomes: list[Outcome] = []
        for name in names:
            outcomes += own[name] + suites.run(name, tables[name]["height"], refs[name].result())
    heights = {name: int(tables[name]["height"]) for name in names}
    report = ValidationReport(outcomes, heights, time.perf_counter() - t0)
    write_validation(out_dir, report)
    print(json.dumps({"seconds": round(report.seconds, 2), "expectations": len(outcomes),
                      "failed": len(report.failed())}), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(child(Path(sys.argv[1])))
