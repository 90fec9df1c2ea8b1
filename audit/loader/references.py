"""A number one table gives another by, written with other punctuation there.

The claims name their agreement by its number (``claims.agreement_id`` → ``agreements.agreement_id``,
:attr:`audit.schema.TableSpec.references`). Where the two exports punctuate the number differently
(``XY-209347622`` in the claims, ``XY209347622`` in the register, or ``JX/2024/0001`` against
``JX-2024-0001``), every claim named nothing: the 3k world so exported gave 19,070
DATA_QUALITY.orphan_claim findings and linked no claim to its agreement by number. A number is its
letters and digits; a referencing value that matches no number of the register as written, but
exactly one number of it by its letters and digits, is read as the register writes it (the
register's spelling is what an investigator looks up). One that matches none, or several, is left
as written: the rules report it as they do any number the register lacks.
"""

from __future__ import annotations

import polars as pl

from audit import normalise as nz
from audit.loader.columns import parse_series
from audit.loader.readers import RawSource
from audit.schema import SPECS, ColumnSpec, Kind

#: what a number may be punctuated with (its letters and digits are what it is)
PUNCTUATION = r"[-_/\\.·—－＿／．]"


def _letters_and_digits(expr: pl.Expr) -> pl.Expr:
    return nz.clean_code(expr).str.to_uppercase().str.replace_all(r"[^0-9A-Z\p{L}]", "")


class Register:
    """The numbers of a register's column (``agreements.agreement_id``) as the loader reads them,
    by their letters and digits: built only when a referencing column needs it."""

    def __init__(self, spec: ColumnSpec, raw: list[pl.Series]) -> None:
        self.spec, self._raw = spec, raw
        self._keys: pl.DataFrame | None = None
        self._punctuated: bool | None = None

    def punctuated(self) -> bool:
        """Whether the register writes any number with punctuation."""
        if self._punctuated is None:
            self._punctuated = any(bool(col.cast(pl.String).str.contains(PUNCTUATION).any()) for col in self._raw)
        return self._punctuated

    def keys(self) -> pl.DataFrame:
        """``_key`` → ``_register``: each key that names one number of the register."""
        if self._keys is None:
            written = parse_series(self.spec, pl.concat([c.cast(pl.String) for c in self._raw])).cast(pl.String)
            numbers = pl.DataFrame({"_register": written}).drop_nulls().unique()
            self._keys = (numbers.with_columns(_letters_and_digits(pl.col("_register")).alias("_key"))
                          .filter(pl.len().over("_key") == 1))
            self.punctuated()
            self._raw = []  # the raw column is not held longer than needed
        return self._keys


def registers(raw: dict[str, list[RawSource]]) -> dict[str, dict[str, Register]]:
    """For each table, its code columns that reference another table's code column
    (:attr:`audit.schema.TableSpec.references`), each with the :class:`Register` it refers to."""
    out: dict[str, dict[str, Register]] = {}
    for name, spec in SPECS.items():
        for column, table, target in spec.references:
            col = spec.column(column)
            if col.kind is not Kind.STR or not col.code or table not in raw:
                continue
            ref = SPECS[table].column(target)
            found = [c for s in raw[table] if (c := s.column(target)) is not None]
            if found:
                out.setdefault(name, {})[column] = Register(ref, found)
    return out


def as_the_register_writes(value: pl.Series, register: Register, table: str,
                           column: ColumnSpec) -> tuple[pl.Series, list[str]]:
    """``value`` (a parsed referencing column) with each number that the register writes with other
    punctuation read as the register writes it, and a note saying how many were. Unchanged (and
    nothing built) where neither the column nor the register punctuates a number."""
    text = value.cast(pl.String)
    if not (bool(text.str.contains(PUNCTUATION).any()) or register.punctuated()):
        return value, []
    codes, distinct = nz.encode(text)
    numbers = pl.DataFrame({"_value": distinct}).with_row_index("_code")
    known = register.keys()
    as_written = pl.col("_value").is_in(known["_register"].implode())
    read = (numbers.with_columns(_letters_and_digits(pl.col("_value")).alias("_key"))
            .join(known, on="_key", how="left")
            .with_columns(pl.when(~as_written & pl.col("_register").is_not_null())
                          .then(pl.col("_register")).otherwise(pl.col("_value")).alias("_read"))
            .sort("_code"))  # a row per code, in code order: gathered by the codes below
    changed = read.filter(pl.col("_read") != pl.col("_value"))
    if not changed.height:
        return value, []
    out = read["_read"].gather(codes).alias(value.name)
    rows = int(codes.is_in(changed["_code"].implode()).sum())
    first = changed.row(0, named=True)
    spec = SPECS[table]
    target_table, target = next((t, c) for col, t, c in spec.references if col == column.name)
    note = (f"{spec.zh}“{column.zh}”列：{changed.height:,} 个编号（{rows:,} 行）与{SPECS[target_table].zh}的写法仅标点不同"
            f"（如 {first['_value']} / {first['_read']}），按后者的写法读取 / {table}.{column.name}: {changed.height:,} "
            f"numbers ({rows:,} rows) differ from {target_table}.{target} only in punctuation (e.g. {first['_value']} / "
            f"{first['_read']}): read as the register writes them")
    return out, [note]
