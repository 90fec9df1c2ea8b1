"""Reading back what the counties return (contract.md, "The monthly cycle: what comes back").

One file — CSV or XLSX, Chinese or canonical headers, title rows above the header allowed — holds
any of three tables, told apart by their headers, never by column positions (a later layout of
a list does not break its reading):

- ``outcomes`` (:data:`audit.schema.OUTCOMES`): 问题编号 and 核实结论 — the contract's outcomes
  format, and the first sheet of the outcomes form a run writes per county;
- ``sample_outcomes`` (:data:`audit.schema.SAMPLE_OUTCOMES`): 申领编号 and 核实结论 — the
  form's sheet of randomly sampled claims;
- ``exit_replies`` (:data:`audit.schema.EXIT_REPLIES`): 统一社会信用代码 and 县区核实结论 — an
  exit list (``exit_lists/<county>.xlsx``) sent back with the county's conclusion per unit.

Each sheet (an XLSX may hold several) is read by the loader's own readers and normalised by its
own :func:`audit.loader.normalise`, so dates, amounts and IDs are read as in any input, and a row
that cannot be read goes to the quarantine with file, line, column and reason. A row left
unanswered (no 核实结论 / 县区核实结论: a form's row not yet decided, a list's total row) is counted
as unanswered, not as an error. A conclusion outside the vocabulary, or a negative amount, is
quarantined too; every other row is returned to be recorded.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import fastexcel
import polars as pl

from audit.loader import (
    MAX_TITLE_ROWS,
    QUARANTINE_SCHEMA,
    InputError,
    RawSource,
    check_required_columns,
    header_lookup,
    map_headers,
    normalise,
    read_csv,
)
from audit.loader.headers import known_columns, unique_headers
from audit.schema import EXIT_REPLIES, OUTCOMES, SAMPLE_OUTCOMES, TableSpec

#: the tables a returned file may hold, in the order a sheet is tried against them
RETURNED = (OUTCOMES, EXIT_REPLIES, SAMPLE_OUTCOMES)
#: the column that says a row was answered, per table
ANSWER = {"outcomes": "outcome", "sample_outcomes": "outcome", "exit_replies": "conclusion"}


@dataclass
class Returned:
    """What one file held: per table the answered rows (normalised, with ``_file`` and ``_line``),
    the quarantine, and counts."""

    path: Path
    tables: dict[str, pl.DataFrame] = field(default_factory=dict)
    quarantine: pl.DataFrame = field(default_factory=lambda: pl.DataFrame(schema=QUARANTINE_SCHEMA))
    rows_read: int = 0
    unanswered: int = 0
    notes: list[str] = field(default_factory=list)

    def rows(self, name: str) -> pl.DataFrame:
        return self.tables.get(name, pl.DataFrame())

    def reject(self, name: str, rows: pl.DataFrame, column: str, value: pl.Expr, reason: str) -> None:
        """Move ``rows`` (of table ``name``, with _file and _line) to the quarantine."""
        if rows.height == 0:
            return
        bad = rows.select(pl.lit(name).alias("table"), pl.col("_file").alias("file"), pl.col("_line").alias("line"),
                          pl.lit(column).alias("column"), value.cast(pl.String).alias("value"),
                          pl.lit(reason).alias("reason"))
        self.quarantine = pl.concat([self.quarantine, bad.cast(QUARANTINE_SCHEMA)])  # type: ignore[arg-type]
        self.tables[name] = self.tables[name].join(rows.select("_file", "_line"), on=["_file", "_line"], how="anti")


def read_returned(path: Path) -> Returned:
    """Read one returned file (raises :class:`audit.loader.InputError` when it holds none of the
    three tables, or cannot be read at all)."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: no such file")
    suffix = path.suffix.lower()
    if suffix == ".xlsx":
        found = _xlsx_sources(path)
    elif suffix == ".csv":
        found = _csv_sources(path)
    else:
        raise InputError(f"{path.name}: an outcomes file is a .csv or .xlsx file")
    out = Returned(path)
    notes = [n for n in found.pop("_notes", [])]  # type: ignore[arg-type]
    if not found:
        raise InputError(f"{path.name}: holds no outcomes (问题编号 + 核实结论), sampled claims (申领编号 + 核实结论) "
                         "or returned exit list (统一社会信用代码 + 县区核实结论)")
    out.notes = notes
    for spec in RETURNED:
        sources = found.get(spec.name)
        if not sources:
            continue
        answered = []
        for src in sources:  # type: ignore[union-attr]
            out.rows_read += src.frame.height
            answer = src.frame[ANSWER[spec.name]] if ANSWER[spec.name] in src.frame.columns else None
            blank = answer.is_null() | (answer.cast(pl.String).str.strip_chars() == "") if answer is not None else None
            if blank is not None and blank.any():
                out.unanswered += int(blank.sum())
                src = RawSource(src.label, src.frame.filter(~blank), src.extras)
            answered.append(src)
        table = normalise(spec, answered)
        out.tables[spec.name] = table.frame()
        out.quarantine = pl.concat([out.quarantine, table.quarantine.cast(QUARANTINE_SCHEMA)])  # type: ignore[arg-type]
        rows = out.tables[spec.name]
        answer = ANSWER[spec.name]
        allowed = spec.column(answer).values
        out.reject(spec.name, rows.filter(~pl.col(answer).is_in(list(allowed))), answer, pl.col(answer),
                   f"{spec.column(answer).zh}须为 {'/'.join(allowed)} 之一 / not one of {', '.join(allowed)}")
        if "amount_recovered" in rows.columns:
            out.reject(spec.name, out.tables[spec.name].filter(pl.col("amount_recovered") < 0), "amount_recovered",
                       pl.col("amount_recovered"), "追回金额不能为负 / the amount recovered is negative")
    return out


# ---------------------------------------------------------------------------------------------


def _csv_sources(path: Path) -> dict[str, object]:
    """The one table a CSV holds: tried against each returned table, the first that fits."""
    tried: list[str] = []
    for spec in RETURNED:
        notes: list[str] = []
        errors: list[str] = []
        sources = read_csv(path, spec, notes, errors)
        if sources and not errors:
            return {spec.name: sources, "_notes": notes}
        tried += errors
    return {"_notes": tried}


def _xlsx_sources(path: Path) -> dict[str, object]:
    """Each sheet with a recognisable header row, as a source of the table its headers name."""
    try:
        reader = fastexcel.read_excel(str(path))
        sheets = [(name, reader.load_sheet(name, header_row=None, dtypes="string", skip_rows=0).to_polars())
                  for name in reader.sheet_names]
    except Exception as exc:  # noqa: BLE001 — fastexcel raises its own error family for bad files
        raise InputError(f"{path.name}: not a readable XLSX workbook ({str(exc).splitlines()[0]})") from None
    found: dict[str, object] = {}
    notes: list[str] = []
    for name, sheet in sheets:
        label = f"{path.name}#{name}"
        match = _header(sheet)
        if match is None:
            notes.append(f"{label}: no header row of outcomes, sampled claims or an exit list; sheet skipped")
            continue
        spec, idx = match
        header = [("" if v is None else str(v)).strip() for v in sheet.row(idx)]
        body = sheet.slice(idx + 1)
        names = unique_headers([h or f"未命名列{i + 1}" for i, h in enumerate(header)])
        body = body.rename(dict(zip(body.columns, names))).with_row_index("_line", offset=idx + 2).with_columns(
            pl.col("_line").cast(pl.Int64))
        mapping = map_headers(spec, names, label, notes)
        body = body.rename(mapping)
        data = [c for c in body.columns if c != "_line"]
        blank = pl.all_horizontal([pl.col(c).is_null() | (pl.col(c).str.strip_chars() == "") for c in data])
        body = body.filter(~blank)
        extras = [c for c in data if c not in spec.names]
        found.setdefault(spec.name, []).append(RawSource(label, body, extras))  # type: ignore[union-attr]
    found["_notes"] = notes
    return found


def _header(sheet: pl.DataFrame) -> tuple[TableSpec, int] | None:
    """The first of the top rows holding the required headers of a returned table, and that table."""
    lookups = [(spec, header_lookup(spec)) for spec in RETURNED]
    for idx in range(min(MAX_TITLE_ROWS, sheet.height)):
        cells = [str(v) for v in sheet.row(idx) if v is not None and str(v).strip()]
        for spec, lookup in lookups:
            if not check_required_columns(spec, known_columns(cells, lookup), ""):
                return spec, idx
    return None
