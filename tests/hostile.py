"""Hostile and broken exports, made from a generated world: the seeded mutations of the fuzz test
(``tests/test_fuzz_inputs.py``) and the scans that check what a run shows a person.

A :class:`Mutation` changes one table's file the way real exports break — bytes, lines, encodings,
headers, cells, line ends, sheet layouts — and says what the loader must make of it: the number of
data records the file now holds (``rows``: every one must be read, kept or quarantined; None where
a mutation cannot know), whether the file must be refused (``refuse``) or may be (``may_refuse``).
"""

from __future__ import annotations

import csv
import io
import random
import re
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from audit.masking import id_shaped
from audit.schema import SPECS

#: cell values a hostile or broken export holds (structure-neutral once quoted)
HOSTILE_VALUES = (
    "../../x", "/etc/passwd", "/", "9" * 300, "<script>alert(1)</script>", "<!--<script>", "a\"b'c", "__DATA__",
    "/*__VIS_JS__*/", "=cmd|' /C calc'!A0", "+1+1", "-2+3", "@SUM(A1)", "\tx", "1.288,00", "12,88", "1,288.00",
    "99999999999999999", "1e20", "-1288.00", "NaN", "inf", "", " ", "2023-13-45", "9999-12-31", "1900-01-01",
    "999999999999999999", "２０２３年７月", "是", "√", "_line", "\u202e\u200b", "😀" * 5, "x" * 5000,
)
#: names an extra column may have that the loader or a later stage uses
RESERVED_NAMES = ("_line", "_file", "_src", "_keep", "_row", "_dup_rows", "person_id_raw", "person_id_status",
                  "unit_id_status", "birth_date", "sex", "amount", "unit_name", "county_code", "claim_id", "_pos",
                  "first_claim", "dormancy_months", "person_key", "evidence", "effective_to", "status", "_line_extra")


@dataclass
class Mutation:
    """One table's file, mutated: its name and bytes, and what the loader must make of it."""

    seed: int
    kind: str
    table: str
    name: str  # file name (the table's, with its suffix)
    content: bytes
    rows: int | None  # data records in the file (None: unknown)
    refuse: bool = False
    may_refuse: bool = False

    def __str__(self) -> str:
        return f"seed {self.seed}: {self.kind} on {self.name}"


# ---------------------------------------------------------------------------------------------
# the base: a generated world's CSV files, as lines


@dataclass
class Table:
    name: str
    header: list[str]
    lines: list[str]  # data lines, as written (no line end)

    @property
    def text(self) -> str:
        return "\n".join([",".join(self.header), *self.lines]) + "\n"

    def rows(self) -> list[list[str]]:
        return [next(csv.reader([line])) for line in self.lines]


def read_world(directory: Path) -> dict[str, Table]:
    out = {}
    for path in sorted(Path(directory).glob("*.csv")):
        if path.stem not in SPECS:
            continue
        text = path.read_text(encoding="utf-8")
        lines = text.split("\n")
        if lines and lines[-1] == "":
            lines.pop()
        out[path.stem] = Table(path.stem, next(csv.reader([lines[0]])), lines[1:])
    return out


def _quoted(value: str) -> str:
    buf = io.StringIO()
    csv.writer(buf, lineterminator="").writerow([value])
    return buf.getvalue()


def _join(fields: list[str]) -> str:
    return ",".join(_quoted(f) for f in fields)


def _non_blank(line: str) -> bool:
    return bool(re.sub(r'[,\s"\ufeff]', "", line))


# ---------------------------------------------------------------------------------------------
# mutations: each (rng, table) → (bytes, rows, refuse, may_refuse) or None when it does not apply

Result = tuple[bytes, int | None, bool, bool]


def _lines_text(header: list[str], lines: list[str], end: str = "\n") -> bytes:
    return (end.join([",".join(header), *lines]) + end).encode("utf-8")


def cell_value(rng: random.Random, t: Table) -> Result | None:
    rows = t.rows()
    if not rows:
        return None
    i = rng.randrange(len(rows))
    j = rng.randrange(len(t.header))
    row = rows[i] + [""] * (len(t.header) - len(rows[i]))
    row[j] = rng.choice(HOSTILE_VALUES)
    lines = list(t.lines)
    lines[i] = _join(row)
    return _lines_text(t.header, lines), len(lines), False, False


def _edit_field(rng: random.Random, t: Table, edit) -> Result | None:
    """One field of an unquoted data line changed by ``edit(rng, field)``."""
    candidates = [i for i, line in enumerate(t.lines) if '"' not in line and _non_blank(line)]
    if not candidates:
        return None
    i = rng.choice(candidates)
    fields = t.lines[i].split(",")
    j = rng.randrange(len(fields))
    fields[j] = edit(rng, fields[j])
    lines = list(t.lines)
    lines[i] = ",".join(fields)
    return _lines_text(t.header, lines), len(lines), False, False


def comma_in_text(rng: random.Random, t: Table) -> Result | None:
    """An unquoted comma inside a cell: the fields after it shift (the row is quarantined)."""
    def cut(rng: random.Random, field: str) -> str:
        at = rng.randrange(len(field) + 1)
        return field[:at] + "," + field[at:]
    return _edit_field(rng, t, cut)


def open_quote(rng: random.Random, t: Table) -> Result | None:
    """A quote opened at the start of a field and never closed."""
    return _edit_field(rng, t, lambda rng, field: '"' + field)


def quote_inside(rng: random.Random, t: Table) -> Result | None:
    """A quote in the middle of an unquoted field (``ab"c``)."""
    candidates = [i for i, line in enumerate(t.lines) if '"' not in line and len(line) > 2]
    if not candidates:
        return None
    i = rng.choice(candidates)
    line = t.lines[i]
    cut = rng.randrange(1, len(line))
    if line[cut - 1] == "," or line[cut] == ",":
        return None
    lines = list(t.lines)
    lines[i] = line[:cut] + '"' + line[cut:]
    return _lines_text(t.header, lines), len(lines), False, False


def split_line(rng: random.Random, t: Table) -> Result | None:
    """A line end in the middle of an unquoted line: two short records."""
    candidates = [i for i, line in enumerate(t.lines) if '"' not in line and len(line) > 4]
    if not candidates:
        return None
    i = rng.choice(candidates)
    line = t.lines[i]
    cut = rng.randrange(1, len(line))
    head, tail = line[:cut], line[cut:]
    if not (_non_blank(head) and _non_blank(tail)):
        return None
    lines = t.lines[:i] + [head, tail] + t.lines[i + 1:]
    return _lines_text(t.header, lines), len(lines), False, False


def duplicate_line(rng: random.Random, t: Table) -> Result | None:
    if not t.lines:
        return None
    i = rng.randrange(len(t.lines))
    lines = t.lines[: i + 1] + [t.lines[i]] + t.lines[i + 1:]
    return _lines_text(t.header, lines), len(lines), False, False


def delete_line(rng: random.Random, t: Table) -> Result | None:
    if not t.lines:
        return None
    i = rng.randrange(len(t.lines))
    lines = t.lines[:i] + t.lines[i + 1:]
    return _lines_text(t.header, lines), len(lines), False, not lines


def shuffle_lines(rng: random.Random, t: Table) -> Result | None:
    lines = list(t.lines)
    rng.shuffle(lines)
    return _lines_text(t.header, lines), len(lines), False, False


def blank_lines(rng: random.Random, t: Table) -> Result | None:
    lines = list(t.lines)
    for _ in range(rng.randint(1, 4)):
        lines.insert(rng.randint(0, len(lines)), rng.choice(["", " ", ",,,", "\t"]))
    data = sum(1 for line in lines if _non_blank(line))
    return _lines_text(t.header, lines), data, False, False


def truncate(rng: random.Random, t: Table) -> Result | None:
    """The file cut inside its last line (a broken transfer)."""
    if not t.lines or len(t.lines[-1]) < 2:
        return None
    text = _lines_text(t.header, t.lines).decode("utf-8").rstrip("\n")
    last = t.lines[-1]
    cut = rng.randrange(1, len(last))
    if not _non_blank(last[:cut]):
        return None
    return text[: len(text) - len(last) + cut].encode("utf-8"), len(t.lines), False, False


def line_ends(rng: random.Random, t: Table) -> Result | None:
    """CR only, CRLF, or a mix of CR, LF and CRLF (old Mac and Windows exports, concatenated)."""
    style = rng.choice(["cr", "crlf", "mixed"])
    parts = [",".join(t.header), *t.lines]
    if style == "mixed":
        text = "".join(p + rng.choice(["\r", "\n", "\r\n"]) for p in parts)
    else:
        text = ("\r" if style == "cr" else "\r\n").join(parts) + ("\r" if style == "cr" else "\r\n")
    return text.encode("utf-8"), len(t.lines), False, False


def bom(rng: random.Random, t: Table) -> Result | None:
    return b"\xef\xbb\xbf" + _lines_text(t.header, t.lines), len(t.lines), False, False


def gbk_file(rng: random.Random, t: Table) -> Result | None:
    """The whole file in GBK (real 人社 exports are)."""
    try:
        data = _lines_text(t.header, t.lines).decode("utf-8").encode("gbk")
    except UnicodeEncodeError:
        return None
    return data, len(t.lines), False, False


def gbk_line(rng: random.Random, t: Table) -> Result | None:
    """One GBK line in a UTF-8 file (two exports concatenated): that line is quarantined."""
    candidates = [i for i, line in enumerate(t.lines) if not line.isascii()]
    if not candidates:
        return None
    i = rng.choice(candidates)
    try:
        bad = t.lines[i].encode("gbk")
    except UnicodeEncodeError:
        return None
    head = "".join(line + "\n" for line in [",".join(t.header), *t.lines[:i]]).encode("utf-8")
    tail = "".join(line + "\n" for line in t.lines[i + 1:]).encode("utf-8")
    return head + bad + b"\n" + tail, len(t.lines), False, False


def bad_byte(rng: random.Random, t: Table) -> Result | None:
    """One byte that is not UTF-8 in a data line of a UTF-8 file."""
    if not t.lines:
        return None
    i = rng.randrange(len(t.lines))
    line = t.lines[i].encode("utf-8")
    cut = rng.randrange(len(line) + 1)
    lines = [line_.encode("utf-8") for line_ in t.lines]
    lines[i] = line[:cut] + rng.choice([b"\xff", b"\x80", b"\xc3", b"\xe9", b"\xfe\xfe"]) + line[cut:]
    data = (",".join(t.header)).encode("utf-8") + b"\n" + b"\n".join(lines) + b"\n"
    return data, len(t.lines), False, False


def byte_flip(rng: random.Random, t: Table) -> Result | None:
    """One bit flipped anywhere but a line end, a quote, a comma or NUL; in the header the file
    may stop being a table of its kind."""
    data = bytearray(_lines_text(t.header, t.lines))
    special = set(b'\n\r",\x00')
    for _ in range(20):
        pos = rng.randrange(len(data))
        new = data[pos] ^ (1 << rng.randrange(8))
        if data[pos] not in special and new not in special:
            in_header = pos <= data.index(b"\n")
            data[pos] = new
            return bytes(data), len(t.lines), False, in_header
    return None


def header_chinese(rng: random.Random, t: Table) -> Result | None:
    spec = SPECS[t.name]
    header = [spec.column(h).zh if h in spec.names else h for h in t.header]
    return _lines_text(header, t.lines), len(t.lines), False, False


def header_swap(rng: random.Random, t: Table) -> Result | None:
    """Two columns' names swapped (a mislabelled export): values land in the wrong columns."""
    if len(t.header) < 2:
        return None
    header = list(t.header)
    i, j = rng.sample(range(len(header)), 2)
    header[i], header[j] = header[j], header[i]
    return _lines_text(header, t.lines), len(t.lines), False, False


def header_drop(rng: random.Random, t: Table) -> Result | None:
    """A header cell missing: every row has one field more than the header."""
    header = list(t.header)
    header.pop(rng.randrange(len(header)))
    return _lines_text(header, t.lines), len(t.lines), False, True


def header_reserved(rng: random.Random, t: Table) -> Result | None:
    """An extra column named like one the loader or a later stage uses."""
    name = rng.choice(RESERVED_NAMES)
    lines = [f"{line},v{i}" for i, line in enumerate(t.lines)]
    return _lines_text([*t.header, name], lines), len(lines), False, False


def header_repeat(rng: random.Random, t: Table) -> Result | None:
    """A column's name given to another column too."""
    if len(t.header) < 2:
        return None
    header = list(t.header)
    i, j = rng.sample(range(len(header)), 2)
    header[j] = header[i]
    return _lines_text(header, t.lines), len(t.lines), False, True


def header_spelling(rng: random.Random, t: Table) -> Result | None:
    header = [f" *{h.upper()} " if rng.random() < 0.5 else h for h in t.header]
    return _lines_text(header, t.lines), len(t.lines), False, True


def headerless(rng: random.Random, t: Table) -> Result | None:
    """No header line: the first row is data (and must never be quoted in the refusal)."""
    if not t.lines:
        return None
    return ("\n".join(t.lines) + "\n").encode("utf-8"), None, True, False


def wide_header(rng: random.Random, t: Table) -> Result | None:
    header = [*t.header, *(f"x{i}" for i in range(rng.choice([1_001, 5_000, 100_000])))]
    return _lines_text(header, t.lines), None, True, False


def to_xlsx(rng: random.Random, t: Table) -> tuple[str, Result] | None:
    """The table as a workbook: title rows, blank rows, split over two sheets, or a stray cell
    far away (then refused before it is read)."""
    import openpyxl  # only for the sheet mutations

    rows = t.rows()
    wb = openpyxl.Workbook()
    ws = wb.active
    layout = rng.choice(["title", "blank_rows", "two_sheets", "far_cell"])
    if layout == "title":
        ws.append([f"{SPECS[t.name].zh}（导出）"])
        ws.append([])
    ws.append(t.header)
    half = len(rows) // 2 if layout == "two_sheets" else len(rows)
    for i, row in enumerate(rows[:half]):
        ws.append(row)
        if layout == "blank_rows" and i % 7 == 3:
            ws.append([])
    if layout == "two_sheets":
        second = wb.create_sheet("第二页")
        second.append(t.header)
        for row in rows[half:]:
            second.append(row)
    refuse = False
    if layout == "far_cell":
        ws[rng.choice(["XFD1048576", "XFD20000", "ALM5", "BZZ300000"])] = "x"
        refuse = True
    buf = io.BytesIO()
    wb.save(buf)
    return f"{t.name}.xlsx", (buf.getvalue(), None if refuse else len(rows), refuse, False)


def to_parquet(rng: random.Random, t: Table) -> tuple[str, Result] | None:
    """The table as Parquet, its dates as datetimes with a time zone (a database export)."""
    frame = pl.DataFrame({h: [r[i] if i < len(r) and r[i] != "" else None for r in t.rows()]
                          for i, h in enumerate(t.header)}, schema=dict.fromkeys(t.header, pl.String))
    spec = SPECS[t.name]
    for c in spec.columns:
        if c.name in frame.columns and c.kind.value == "date":
            frame = frame.with_columns(pl.col(c.name).str.strptime(pl.Date, "%Y-%m-%d", strict=False).cast(pl.Datetime("us"))
                                       .dt.replace_time_zone("Asia/Shanghai"))
    buf = io.BytesIO()
    frame.write_parquet(buf)
    return f"{t.name}.parquet", (buf.getvalue(), frame.height, False, False)


MUTATIONS: dict[str, Callable] = {
    "cell_value": cell_value, "comma_in_text": comma_in_text, "open_quote": open_quote, "quote_inside": quote_inside,
    "split_line": split_line, "duplicate_line": duplicate_line, "delete_line": delete_line,
    "shuffle_lines": shuffle_lines, "blank_lines": blank_lines, "truncate": truncate, "line_ends": line_ends,
    "bom": bom, "gbk_file": gbk_file, "gbk_line": gbk_line, "bad_byte": bad_byte, "byte_flip": byte_flip,
    "header_chinese": header_chinese, "header_swap": header_swap, "header_drop": header_drop,
    "header_reserved": header_reserved, "header_repeat": header_repeat, "header_spelling": header_spelling,
    "headerless": headerless, "wide_header": wide_header, "to_xlsx": to_xlsx, "to_parquet": to_parquet,
}
#: mutations that change a file's format (they return its new name with the result)
FORMATS = ("to_xlsx", "to_parquet")
#: how often each is drawn (cells and bytes most, the expensive sheets least)
WEIGHTS = {name: 1.0 for name in MUTATIONS} | {"cell_value": 4.0, "bad_byte": 2.0, "byte_flip": 2.0, "to_xlsx": 0.7,
                                               "wide_header": 0.3, "headerless": 0.5}


def mutation(seed: int, world: dict[str, Table], tables: tuple[str, ...] | None = None) -> Mutation:
    """The mutation of ``seed``: a table (of ``tables``, default any) and a kind, drawn until one
    applies."""
    rng = random.Random(seed)
    names = sorted(tables or world)
    kinds = sorted(MUTATIONS)
    for _ in range(100):
        table = world[rng.choice(names)]
        kind = rng.choices(kinds, weights=[WEIGHTS[k] for k in kinds])[0]
        got = MUTATIONS[kind](rng, table)
        if got is None:
            continue
        name = f"{table.name}.csv"
        if kind in FORMATS:
            name, got = got
        content, rows, refuse, may_refuse = got
        return Mutation(seed, kind, table.name, name, content, rows, refuse, may_refuse)
    raise RuntimeError(f"seed {seed}: no mutation applies")


def write_world(world: dict[str, Table], directory: Path, change: Mutation | None = None,
                tables: tuple[str, ...] | None = None) -> Path:
    """The world's files (those of ``tables``, default all) in ``directory``, one of them
    replaced by ``change``."""
    directory.mkdir(parents=True, exist_ok=True)
    for name, table in world.items():
        if change is not None and name == change.table or tables is not None and name not in tables:
            continue
        (directory / f"{name}.csv").write_text(table.text, encoding="utf-8")
    if change is not None:
        (directory / change.name).write_bytes(change.content)
    return directory


# ---------------------------------------------------------------------------------------------
# what a person sees: no full ID of the input in it

_DIGITS = re.compile(r"\d{15,}")
_CARD_COLUMNS = ("bank_card", "bank_account", "account")


def input_ids(directory: Path) -> set[str]:
    """The ID and card numbers of an input — every run of digits shaped like a person ID
    (:func:`audit.masking.id_shaped`: 15 to 20 digits, hyphens and spaces between digits
    ignored) and every value of a card or account column of 15 digits or more — as their first
    15 digits, which a full number shown anywhere contains."""
    ids: set[str] = set()
    for path in Path(directory).iterdir():
        if not path.is_file():
            continue
        text = re.sub(r"(?<=\d)[ \-](?=\d)", "", _text_of(path))
        ids.update(run[:15] for run in re.findall(r"(?<!\d)\d{15,20}[Xx]?(?!\d)", text) if id_shaped(run))
        if path.suffix == ".csv":
            ids.update(_cards(text))
    return ids


def _cards(text: str) -> set[str]:
    lines = text.splitlines()
    if not lines:
        return set()
    header = next(csv.reader([lines[0]]))
    where = [i for i, name in enumerate(header) if name in _CARD_COLUMNS]
    found = set()
    for row in csv.reader(lines[1:]):
        for i in where:
            value = re.sub(r"\D", "", row[i]) if i < len(row) else ""
            if len(value) >= 15:
                found.add(value[:15])
    return found


def _text_of(path: Path) -> str:
    data = path.read_bytes()
    if path.suffix in (".xlsx",) or data[:2] == b"PK":
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as book:
                return "".join(book.read(n).decode("utf-8", "replace") for n in book.namelist()
                               if n.endswith(".xml"))
        except zipfile.BadZipFile:
            return ""
    if path.suffix == ".parquet":
        try:
            return pl.read_parquet(io.BytesIO(data)).write_csv()
        except Exception:  # noqa: BLE001 — a broken Parquet file has no IDs to find
            return ""
    return data.decode("utf-8", "replace") + data.decode("gb18030", "replace")


def human_files(out_dir: Path) -> Iterator[Path]:
    """The files of a run a person reads: report, viewers, exit lists, recovery list, 汇总表."""
    out_dir = Path(out_dir)
    for pattern in ("report.html", "graphs/*.html", "*.xlsx", "exit_lists/*.xlsx"):
        yield from sorted(out_dir.glob(pattern))


def shown_ids(text: str, ids: set[str]) -> list[str]:
    """The input's IDs that ``text`` shows in full (15 digits of one in a row, separators aside)."""
    digits = re.sub(r"(?<=\d)[ \-](?=\d)", "", text)
    found = []
    for run in _DIGITS.findall(digits):
        if any(run[i:i + 15] in ids for i in range(len(run) - 14)):
            found.append(run)
    return found


def leaks(out_dir: Path, ids: set[str], *texts: str) -> list[tuple[str, str]]:
    """(where, number) for every full input ID in a run's human-facing files and in ``texts``
    (terminal output)."""
    found = [(path.name, n) for path in human_files(out_dir) for n in shown_ids(_text_of(path), ids)]
    found += [("terminal", n) for text in texts for n in shown_ids(text, ids)]
    return found

