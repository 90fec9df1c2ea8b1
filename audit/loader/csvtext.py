"""A CSV file as text and records: its encoding decided, its line ends read, every record's
line and field count known, so that no row is lost or silently cut.

- **Encoding.** A file that is valid UTF-8 is read as it is (from the path, by polars). One
  that is not is decoded line by line: the file's encoding is the one most of its non-ASCII
  lines are written in — UTF-8, else GB18030 (GBK's superset) — decided from every line, not
  from the first bad byte; a line that is not valid in the file's encoding (a stray byte, a
  line of the other encoding) is decoded with replacement characters and its record
  quarantined with the line named. A header line that cannot be decoded refuses the file.
- **Line ends.** ``\\n``, ``\\r\\n`` and a lone ``\\r`` (old Mac exports), mixed in any way,
  each end a line.
- **Separators.** Commas; a file whose header is found only when its lines are split at tabs
  (a system's "CSV", a sheet copied out of Excel) is written again with commas, line for line.
- **Records.** Every record's first line and its number of fields are counted, quotes
  respected. A record with more fields than the header (an unquoted comma in a text cell
  shifts the fields after it) or fewer (a truncated line) is quarantined with the counts;
  trailing empty fields do not count. Files whose quotes are plain (each quoted field closed
  on its own line) are parsed by polars; a file with a field spanning lines, or a quote in
  the middle of a field, by Python's ``csv`` module, which follows the same rules as polars
  for well-formed files and reads the rest too. A quoted field left open, which would swallow
  the lines after it, is read line by line instead, its quote taken as a character.

Row contents are never quoted in a message: the file, the line and the counts say where.
"""

from __future__ import annotations

import codecs
import csv
import io
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from audit.loader.columns import TRUNCATED
from audit.loader.discovery import InputError

#: the most columns a table file may have: beyond it the file is refused before its header is read.
MAX_COLUMNS = 1_000
#: how many rows at the top of a file or sheet may be titles before the header row.
MAX_TITLE_ROWS = 30
#: the longest field Python's csv module reads (its default is 128 KB); a longer one is an error.
MAX_FIELD = 1 << 24

FIELDS_TOO_MANY = "字段数多于表头（文本中可能有未加引号的逗号）/ more fields than the header (an unquoted comma?)"
FIELDS_TOO_FEW = "字段数少于表头 / fewer fields than the header"
NOT_ENCODING = "无法按{enc}解码的字节（该行已隔离）/ bytes not valid {enc} (line quarantined)"
OTHER_ENCODING = "本行为UTF-8编码，与文件其余部分（GB18030）不同 / a UTF-8 line in a GB18030 file"

# a line whose quotes are plain: fields unquoted (no quote, no comma) or quoted and closed on it
_PLAIN_QUOTES = r'^(?:[^",]*|"(?:[^"]|"")*")(?:,(?:[^",]*|"(?:[^"]|"")*"))*$'
_QUOTED = r'"(?:[^"]|"")*"'


@dataclass
class CsvText:
    """A CSV file read as records: a frame of text columns (the header's names, polars-style
    ``_duplicated_<n>`` for a repeated name) with ``_line``, and the problems of its records."""

    frame: pl.DataFrame
    encoding: str
    #: record's first line → why it is quarantined (field count, undecodable bytes)
    problems: dict[int, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


class _ReadAsGbk(Exception):
    """A file valid as UTF-8 throughout that is GBK text: letters of other scripts and no Chinese."""


def read_csv_text(path: Path, header_at: Callable[[list[list[str]]], int | None] | None = None) -> CsvText:
    """The file's records (see the module docstring); raises :class:`InputError` for a file that
    is empty, binary, too wide or has an undecodable header.

    ``header_at`` (the loader's: the index of the header among the first
    :data:`MAX_TITLE_ROWS` lines' cells, or None) finds a header below title lines, as a sheet
    saved as CSV keeps them (``某市就业见习补贴申领明细表,,,``): those lines are skipped with a
    note, and every row keeps its line in the file."""
    path = Path(path)
    with open(path, "rb") as fh:
        head = fh.read(1 << 16)
    if not head.strip(b" \t\r\n\xef\xbb\xbf"):
        raise InputError(f"{path.name}: the file is empty")
    if b"\x00" in head:
        raise InputError(f"{path.name}: not a text table (binary content); export it as CSV, XLSX or Parquet")
    _check_width(path, head)
    problems: dict[int, str] = {}
    notes: list[str] = []
    try:
        lines = pl.read_lines(path).to_series()
        source: Path | bytes = path
        encoding = "utf-8"
        if lines.str.contains("\r", literal=True).any():  # a lone CR: polars ends lines only at \n
            data = path.read_bytes()
            source = _one_line_end(data)
            lines = _lines_of(source)
            notes.append(f"{path.name}：行以回车符（CR）结束，已按行读取 / lines ended by CR (\\r) read as lines")
        if lines.str.contains(_OTHER_SCRIPTS).any() and not lines.str.contains(_CHINESE).any():
            # valid UTF-8 throughout, yet no Chinese text and letters of other scripts: a GBK
            # file whose only Chinese characters happen to be valid UTF-8 ("元" beside amounts)
            raise _ReadAsGbk
    except (pl.exceptions.ComputeError, _ReadAsGbk):  # not valid UTF-8 somewhere, or GBK
        source, encoding, bad = _decode_lines(path.name, _one_line_end(path.read_bytes()))
        lines = _lines_of(source)
        problems.update(bad)
    if encoding != "utf-8":
        notes.append(f"{path.name}：按 {encoding.upper()} 编码读取 / read as {encoding.upper()} (GBK-compatible)")
    elif problems:
        notes.append(f"{path.name}：按 UTF-8 读取，{len(problems):,} 行含无法解码的字节，已隔离 / read as UTF-8; "
                     f"{len(problems):,} line(s) with bytes that are not UTF-8 quarantined")
    if lines.len() and lines[-1] == "":
        lines = lines.head(-1)  # the empty string after the last line end
    if _tab_separated(lines, header_at):
        source = _as_commas(lines)
        lines = _lines_of(source)
        if lines.len() and lines[-1] == "":
            lines = lines.head(-1)
        notes.append(f"{path.name}：字段以制表符分隔，已按此读取 / fields separated by tabs, read as such")
    titles = _title_lines(lines, header_at)
    if titles:
        notes.append(f"{path.name}：跳过表头上方的 {titles} 行标题 / {titles} title line(s) above the header skipped")
        lines = lines.slice(titles)
        problems = {line - titles: why for line, why in problems.items() if line > titles}
    frame, last, fields, (width, needed) = _records(path, source, lines, titles)
    if titles:  # every row keeps its line in the file
        frame = frame.with_columns(pl.col("_line") + titles)
        last = None if last is None else last + titles
        fields = [(line + titles, n_fields, effective) for line, n_fields, effective in fields]
        problems = {line + titles: why for line, why in problems.items()}
    for line, n_fields, effective in fields:
        if effective > width:
            problems.setdefault(line, f"{FIELDS_TOO_MANY}: {effective} / {width}")
        elif n_fields < needed:
            problems.setdefault(line, TRUNCATED if line == last else f"{FIELDS_TOO_FEW}: {n_fields} / {width}")
    return CsvText(frame, encoding, problems, notes)


def _first_rows(lines: pl.Series, delimiter: str = ",") -> list[list[str]]:
    """The cells of the first :data:`MAX_TITLE_ROWS` lines, each line read on its own."""
    rows = []
    for text in lines.head(MAX_TITLE_ROWS).to_list():
        try:
            rows.append(next(csv.reader([text.removeprefix("\ufeff")], delimiter=delimiter), []))
        except csv.Error:
            rows.append([])
    return rows


def _tab_separated(lines: pl.Series, header_at: Callable[[list[list[str]]], int | None] | None) -> bool:
    """Whether a file named .csv separates its fields by tabs (as some systems' "CSV" exports and
    a sheet copied out of Excel do): no header is found among its first lines read with commas,
    and one is with tabs."""
    if header_at is None or not lines.head(MAX_TITLE_ROWS).str.contains("\t", literal=True).any():
        return False
    return header_at(_first_rows(lines)) is None and header_at(_first_rows(lines, "\t")) is not None


def _as_commas(lines: pl.Series) -> bytes:
    """Tab-separated lines written again with commas, quoted where a cell holds a comma or a
    quote: one line for each line, so that every record keeps its line in the file."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    for row in csv.reader(io.StringIO("\n".join(lines.to_list()) + "\n"), delimiter="\t"):
        writer.writerow(row)
    return out.getvalue().encode("utf-8")


def _title_lines(lines: pl.Series, header_at: Callable[[list[list[str]]], int | None] | None) -> int:
    """How many lines above the header are titles (0 without ``header_at``, or when it finds no
    header: the first line is then the header, or the file is refused as one without)."""
    if header_at is None or lines.len() < 2:
        return 0
    return header_at(_first_rows(lines)) or 0


def _check_width(path: Path, head: bytes) -> None:
    """Refuse a header of more than :data:`MAX_COLUMNS` fields before anything reads it (the
    first line is read a buffer at a time until its end, or until it is too wide)."""
    commas = 0
    with open(path, "rb") as fh:
        while chunk := fh.read(1 << 20):
            ends = [i for i in (chunk.find(b"\n"), chunk.find(b"\r")) if i >= 0]
            end = min(ends) if ends else len(chunk)
            commas += chunk.count(b",", 0, end)
            if ends or commas >= MAX_COLUMNS:
                break
    if commas + 1 > MAX_COLUMNS:
        raise InputError(f"{path.name}: the header has more than {MAX_COLUMNS:,} columns; not a table of the contract")


def _one_line_end(data: bytes) -> bytes:
    """CRLF and lone CR as LF (neither byte occurs inside a UTF-8 or GB18030 character)."""
    return data.replace(b"\r\n", b"\n").replace(b"\r", b"\n") if b"\r" in data else data


def _lines_of(data: bytes) -> pl.Series:
    return pl.read_lines(io.BytesIO(data)).to_series()


#: letters of scripts no Chinese registry writes (Latin Extended through Greek Extended:
#: Cyrillic, Armenian, Hebrew, Arabic …), and the characters of Chinese text
_OTHER_SCRIPTS = r"[\x{0100}-\x{1FFF}]"
#: the same with Latin-1's letters and signs (路 in GBK is C2 B7, the UTF-8 of ·; 梅 is C3 B7, ÷):
#: for the lines of a file that holds GBK text already, where a line of them and no Chinese is
#: GBK; not for a file valid as UTF-8 throughout, where it may be a foreign name ("José")
_OTHER_SCRIPTS_OR_LATIN1 = r"[\x{0080}-\x{1FFF}]"
_CHINESE = r"[\x{3000}-\x{303F}\x{3400}-\x{4DBF}\x{4E00}-\x{9FFF}\x{F900}-\x{FAFF}\x{FF00}-\x{FFEF}]"


def _gbk_read_as_utf8(lines: pl.Series) -> pl.Series:
    """Lines (of a file that holds GBK text) that read, as UTF-8, as Latin-1 signs or letters of
    other scripts and no Chinese text at all: GBK text that happens to be valid UTF-8 ("2220.0元"
    is ``32 32 32 30 2E 30 D4 AA``, and D4 AA is the UTF-8 of the Cyrillic Ԫ). A GBK export writes
    元 beside an amount on a line that may hold no other Chinese character."""
    return lines.str.contains(_OTHER_SCRIPTS_OR_LATIN1) & ~lines.str.contains(_CHINESE)


def _decode_lines(name: str, data: bytes) -> tuple[bytes, str, dict[int, str]]:
    """(the text as UTF-8, the file's encoding, line → reason for the lines not valid in it) of
    a file that is not UTF-8 throughout.

    The file is decoded whole twice, as UTF-8 and as GB18030, each bad sequence replaced (both
    keep every line end, so their lines align), and every line classed in polars: valid UTF-8
    with non-ASCII text, or valid only as GB18030. The file is UTF-8 when at least as many lines
    read as UTF-8 as read only as GB18030 (a stray byte in a UTF-8 export), else GB18030. A line
    that does not decode in the file's encoding keeps its replacement characters and is
    quarantined; so is a valid UTF-8 line in a GB18030 file that reads as Chinese text either way
    (a file of two exports, or a GBK line that happens to be valid UTF-8: one too many to guess
    at). A line valid as both that reads as UTF-8 only as letters of other scripts, with no
    Chinese text (:func:`_gbk_read_as_utf8`), is GBK text and counts as such: a GB18030 line.
    """
    as_utf8 = codecs.decode(data, "utf-8", errors="replace").encode("utf-8")
    lines = _lines_of(as_utf8)
    bad_utf8 = lines.str.contains("\ufffd", literal=True)
    utf8_ok = lines.str.contains(r"[^\x00-\x7F]") & ~bad_utf8
    looks_gbk = utf8_ok & _gbk_read_as_utf8(lines)
    del lines
    as_gb = codecs.decode(data, "gb18030", errors="replace").encode("utf-8")
    bad_gb = _lines_of(as_gb).str.contains("\ufffd", literal=True)
    gbk_too = looks_gbk & ~bad_gb
    utf8_ok = utf8_ok & ~gbk_too
    gb_only = (bad_utf8 | gbk_too) & ~bad_gb
    if utf8_ok.sum() >= gb_only.sum():
        encoding, source = "utf-8", as_utf8
        bad = dict.fromkeys((bad_utf8.arg_true() + 1).to_list(), NOT_ENCODING.format(enc="UTF-8"))
    else:
        encoding, source = "gb18030", as_gb
        bad = {**dict.fromkeys((utf8_ok.arg_true() + 1).to_list(), OTHER_ENCODING),
               **dict.fromkeys(((bad_utf8 & bad_gb).arg_true() + 1).to_list(), NOT_ENCODING.format(enc="GB18030"))}
    if 1 in bad:
        raise InputError(f"{name}: cannot decode line 1 (the header) as {encoding.upper()}, the encoding of the "
                         "file's other lines (UTF-8 or GBK/GB18030); save the file as UTF-8")
    return source, encoding, bad


#: (frame with ``_line``, the last record's line, (line, fields, fields up to the last non-empty
#: one) for every non-blank record whose count may differ from the header's, the header's width
#: and the fields a row may not have fewer of: :func:`_header_width`)
Records = tuple[pl.DataFrame, int | None, list[tuple[int, int, int]], tuple[int, int]]


def _records(path: Path, source: Path | bytes, lines: pl.Series, skip: int = 0) -> Records:
    """The file's records below its first ``skip`` lines (titles; ``lines`` are the lines after
    them, and every line number counts from the first of them): by polars when its quotes are
    plain (each line a record, fields counted in polars, only the rows whose count differs looked
    at in Python), else by Python's csv module (:func:`_python_records`)."""
    has_quotes = lines.str.contains('"', literal=True)
    plain = not has_quotes.any() or lines.filter(has_quotes).str.contains(_PLAIN_QUOTES).all()
    if plain and lines.len():
        try:
            table = pl.read_csv(source, infer_schema=False, truncate_ragged_lines=True, raise_if_empty=False,
                                quote_char='"', skip_lines=skip)
        except pl.exceptions.PolarsError:
            table = None
        if table is not None and table.height == lines.len() - 1:
            width, needed = _header_width(next(csv.reader([lines[0].removeprefix("\ufeff")]), []))
            body = pl.DataFrame({"line": lines}).with_row_index("_n", offset=1).slice(1)
            if has_quotes.any():  # a quoted field's commas are not separators
                body = body.with_columns(pl.col("line").str.replace_all(_QUOTED, ""))
            fields = pl.col("line").str.count_matches(",", literal=True) + 1
            suspect = body.filter((fields > width) | (fields < needed)).select(
                "_n", fields.alias("fields"),
                (pl.col("line").str.replace(r"[,\s]*$", "").str.count_matches(",", literal=True) + 1).alias("effective"),
                blank=pl.col("line").str.replace_all(r"[,\s\ufeff]", "").str.len_bytes() == 0,
            ).filter(~pl.col("blank"))
            table = without_line_column(table).with_row_index("_line", offset=2).with_columns(
                pl.col("_line").cast(pl.Int64))
            last = table.height + 1 if table.height else None
            return table, last, list(suspect.select("_n", "fields", "effective").iter_rows()), (width, needed)
    return _python_records(path, source, skip)


def _python_records(path: Path, source: Path | bytes, skip: int = 0) -> Records:
    """:func:`_records` by Python's csv module: fields spanning lines, quotes inside fields."""
    text = source.decode("utf-8") if isinstance(source, bytes) else Path(source).read_text(encoding="utf-8")
    text = text.removeprefix("\ufeff")
    physical = text.split("\n")[skip:]
    if physical and physical[-1] == "":
        physical.pop()
    csv.field_size_limit(MAX_FIELD)
    rows: list[list[str]] = []
    starts: list[int] = []
    line = 0
    while line < len(physical):
        start = line
        reader = csv.reader(_Lines(physical, line), strict=True)
        try:
            record = next(reader)
            used = reader.line_num
        except (csv.Error, StopIteration):  # a quote never closed, or text after a closing quote
            record, used = [], 0
        if used == 0 or used > 1 and rows and _swallowed(record, physical[start + 1:start + used], len(rows[0])):
            # a quote left open swallowed the lines after it: this line alone, its quotes as text
            record = next(csv.reader([physical[start]], quoting=csv.QUOTE_NONE), [])
            used = 1
        rows.append(record)
        starts.append(start + 1)
        line = start + used
    if not rows:
        raise InputError(f"{path.name}: the file is empty")
    header = _polars_names(rows[0])
    header = [_free_name("_line_extra", set(header)) if name == "_line" else name for name in header]
    body = rows[1:]
    columns = {name: [r[i] if i < len(r) else None for r in body] for i, name in enumerate(header)}
    table = pl.DataFrame({name: pl.Series(name, values, dtype=pl.String) for name, values in columns.items()})
    table = table.with_columns(pl.Series("_line", starts[1:], dtype=pl.Int64)).select("_line", *header)
    table = table.with_columns(pl.col(c).replace("", None) for c in header)
    fields = []
    for start, record in zip(starts[1:], body):
        if not "".join(record).strip(" \t\ufeff"):
            continue  # a blank line
        effective = len(record)
        while effective > 1 and not record[effective - 1].strip():
            effective -= 1
        fields.append((start, len(record), effective))
    return table, starts[-1] if body else None, fields, _header_width(rows[0])


def _swallowed(record: list[str], continued: list[str], width: int) -> bool:
    """Whether a record spanning lines is a quote left open rather than a cell with line breaks:
    its field count is not the header's, or a line it took in is a whole record of its own (as
    many commas as the header)."""
    return len(record) != width or any(text.count(",") >= width - 1 for text in continued)


class _Lines:
    """Physical lines from ``start`` on, each with its line end, for ``csv.reader``."""

    def __init__(self, lines: list[str], start: int) -> None:
        self.lines, self.i = lines, start

    def __iter__(self) -> _Lines:
        return self

    def __next__(self) -> str:
        if self.i >= len(self.lines):
            raise StopIteration
        self.i += 1
        return self.lines[self.i - 1] + "\n"


def without_line_column(frame: pl.DataFrame) -> pl.DataFrame:
    """The frame with a column named ``_line`` (the loader's own name for the row's line) renamed
    ``_line_extra`` (or ``_line_extra_extra``…, whichever is free): an input column of that name
    is kept as an extra column."""
    if "_line" not in frame.columns:
        return frame
    return frame.rename({"_line": _free_name("_line_extra", set(frame.columns))})


def _free_name(name: str, taken: set[str]) -> str:
    while name in taken:
        name += "_extra"
    return name


def _polars_names(header: list[str]) -> list[str]:
    """The header's names as polars gives them: a repeated name as ``<name>_duplicated_<n>``."""
    seen: dict[str, int] = {}
    out = []
    for name in header:
        if name in seen:
            out.append(f"{name}_duplicated_{seen[name]}")
            seen[name] += 1
        else:
            seen[name] = 0
            out.append(name)
    return out


def _header_width(names: list[str]) -> tuple[int, int]:
    """(fields of the header, fields up to its last named one): trailing unnamed fields may be
    left out by a row."""
    needed = len(names)
    while needed > 1 and not names[needed - 1].strip():
        needed -= 1
    return len(names), needed
