"""Policy parameters: dated values with their document and clause (OpenFisca style).

Law lives in ``audit/params/``:

- ``catalogue.yaml`` declares every policy parameter once: its ``description`` (Chinese and
  English), ``unit`` and ``type`` (ratio, yuan, months, days, working_days, years, count, bool,
  date, text, list).
- one file per jurisdiction (``national.yaml``, ``jiangxi.yaml``, ``hunan.yaml`` …) gives values
  keyed by effective date, each with its ``reference`` (document and clause, starting with a
  document number declared under ``documents:`` in one of the files). A ``value: null`` ends a
  parameter (or records that the notice leaves it unset) and must say why in its ``note``.
  A province uses the national value of a parameter on the dates before its own file gives that
  parameter a value: a provincial notice takes over from its effective date (and a province whose
  file never mentions a parameter uses the national values throughout).

The audit office's own thresholds — not law — live apart in ``detection.yaml`` and are read
with :meth:`Policy.detect`; every report prints them, labelled as judgement.

The loader is strict: a duplicate key, an unknown key, an undeclared parameter, a malformed
date, a value of the wrong type, a value without a reference, a null without a note and a
reference to an undeclared document are refused with the file, the line and what to write instead.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl
import yaml

PARAMS_DIR = Path(__file__).parent / "params"
NATIONAL = "000000"
TYPES = ("ratio", "yuan", "months", "days", "working_days", "years", "count", "bool", "date", "text", "list", "age")
_PARAM_KEYS = {"values", "note"}
_VALUE_KEYS = {"value", "reference", "note"}
_CATALOGUE_KEYS = {"description", "unit", "type", "note"}
_DETECTION_KEYS = {"value", "unit", "description", "rationale"}
_FILE_KEYS = {"jurisdiction", "province_code", "documents", "parameters"}
_DOCUMENT_KEYS = {"title", "issued", "in_force", "expires", "printed", "forwards", "seed", "note"}
_DOCUMENT_DATES = ("issued", "in_force", "expires", "printed")


class PolicyError(ValueError):
    """A parameter file that cannot be used, with the file and line that say why."""


# ---------------------------------------------------------------- strict YAML ---------------


class _Node(dict):
    """A mapping that remembers the line of each key (1-based)."""

    lines: dict[str, int]
    line: int


class _StrictLoader(yaml.SafeLoader):
    pass


def _construct_mapping(loader: _StrictLoader, node: yaml.MappingNode) -> _Node:
    out = _Node()
    out.lines = {}
    out.line = node.start_mark.line + 1
    for key_node, value_node in node.value:
        line = key_node.start_mark.line + 1
        key = _construct_located(loader, key_node)
        if isinstance(key, (dt.date, int, float)) and not isinstance(key, bool):
            key = str(key)
        if key in out:
            raise PolicyError(
                f"{loader.name}:{line}: duplicate key {key!r} (first at line {out.lines[key]}); "
                "merge the two entries into one"
            )
        out[key] = _construct_located(loader, value_node)
        out.lines[key] = line
    return out


def _construct_located(loader: _StrictLoader, node: yaml.Node) -> Any:
    # YAML reads 2023-13-01 as a timestamp and the date constructor raises a bare ValueError:
    # give it the file and line like every other refusal.
    try:
        return loader.construct_object(node, deep=True)
    except ValueError as exc:
        if isinstance(exc, PolicyError):
            raise
        raise PolicyError(
            f"{loader.name}:{node.start_mark.line + 1}: {node.value!r} is not a valid date ({exc}); "
            "write a real date as YYYY-MM-DD"
        ) from None


_StrictLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def load_strict_yaml(path: Path) -> Any:
    with open(path, encoding="utf-8") as fh:
        loader = _StrictLoader(fh)
        loader.name = str(path)
        try:
            return loader.get_single_data()
        except yaml.YAMLError as exc:
            raise PolicyError(f"{path}: not valid YAML: {exc}") from None
        finally:
            loader.dispose()


def _where(path: Path, node: Any, key: str | None = None) -> str:
    line = getattr(node, "lines", {}).get(key) if key is not None else getattr(node, "line", None)
    return f"{path}:{line}" if line else str(path)


def _check_keys(path: Path, node: Any, allowed: set[str], what: str) -> None:
    if not isinstance(node, dict):
        raise PolicyError(f"{_where(path, node)}: {what} must be a mapping")
    for key in node:
        if key not in allowed:
            raise PolicyError(
                f"{_where(path, node, key)}: unknown key {key!r} in {what}; allowed: {', '.join(sorted(allowed))}"
            )


def _parse_date(path: Path, node: Any, key: str) -> dt.date:
    text = str(key)
    try:
        if len(text) != 10:
            raise ValueError(text)
        return dt.date.fromisoformat(text)
    except ValueError:
        raise PolicyError(f"{_where(path, node, key)}: {key!r} is not a date; write it as YYYY-MM-DD") from None


def _cited_document(reference: str, documents: dict[str, Any]) -> str | None:
    """The declared document a reference starts with (the longest match), or None."""
    best = None
    for doc_no in documents:
        if reference.startswith(doc_no) and (best is None or len(doc_no) > len(best)):
            best = doc_no
    return best


# ---------------------------------------------------------------- the model -----------------


@dataclass(frozen=True)
class ParamSpec:
    name: str
    description: str
    unit: str
    type: str


@dataclass(frozen=True)
class Value:
    """One dated value of a parameter in one jurisdiction."""

    name: str
    jurisdiction: str  # province code, or 000000 for the national notices
    effective_from: dt.date
    value: Any  # None: unset from this date
    reference: str | None
    note: str | None = None
    source_file: str = ""
    line: int = 0


@dataclass(frozen=True)
class Detection:
    name: str
    value: Any
    unit: str
    description: str
    rationale: str


def _check_type(path: Path, node: Any, key: str, spec: ParamSpec, value: Any) -> Any:
    if value is None:
        return None
    ok = {
        "ratio": isinstance(value, (int, float)) and not isinstance(value, bool),
        "yuan": isinstance(value, (int, float)) and not isinstance(value, bool),
        "bool": isinstance(value, bool),
        "date": isinstance(value, dt.date),
        "text": isinstance(value, str),
        "list": isinstance(value, list) and all(isinstance(v, str) for v in value),
    }.get(spec.type, isinstance(value, int) and not isinstance(value, bool))
    if not ok:
        raise PolicyError(
            f"{_where(path, node, key)}: {spec.name} is of type {spec.type} ({spec.unit}); got {value!r}"
        )
    return float(value) if spec.type in ("ratio", "yuan") else value


class Policy:
    """All parameters of all jurisdictions, with lookups by province and date."""

    def __init__(self, catalogue: dict[str, ParamSpec], values: list[Value], detection: dict[str, Detection],
                 jurisdictions: dict[str, str], documents: dict[str, dict[str, Any]]):
        self.catalogue = catalogue
        self.values = sorted(values, key=lambda v: (v.name, v.jurisdiction, v.effective_from))
        self.detection = detection
        self.jurisdictions = jurisdictions  # code -> Chinese name
        self.documents = documents
        self._by: dict[tuple[str, str], list[Value]] = {}
        for v in self.values:
            self._by.setdefault((v.name, v.jurisdiction), []).append(v)

    # -- loading ---------------------------------------------------------------------------
    @classmethod
    def load(cls, directory: Path | None = None) -> Policy:
        directory = Path(directory or PARAMS_DIR)
        cat_path = directory / "catalogue.yaml"
        raw_cat = load_strict_yaml(cat_path)
        catalogue: dict[str, ParamSpec] = {}
        for name, spec in raw_cat.items():
            _check_keys(cat_path, spec, _CATALOGUE_KEYS, f"catalogue entry {name}")
            if spec.get("type") not in TYPES:
                raise PolicyError(f"{_where(cat_path, raw_cat, name)}: {name}: type must be one of {', '.join(TYPES)}")
            catalogue[name] = ParamSpec(name, str(spec.get("description", "")), str(spec.get("unit", "")), spec["type"])

        values: list[Value] = []
        jurisdictions: dict[str, str] = {}
        documents: dict[str, dict[str, Any]] = {}
        cited: list[tuple[str, str]] = []  # (where, reference) — checked once every file is read
        for path in sorted(directory.glob("*.yaml")):
            if path.name in ("catalogue.yaml", "detection.yaml"):
                continue
            doc = load_strict_yaml(path)
            _check_keys(path, doc, _FILE_KEYS, "a jurisdiction file")
            code = str(doc.get("province_code", ""))
            if len(code) != 6 or not code.isdigit():
                raise PolicyError(f"{_where(path, doc, 'province_code')}: province_code must be six digits, quoted")
            if code in jurisdictions:
                raise PolicyError(f"{_where(path, doc, 'province_code')}: province_code {code} is also used by "
                                  "another file; one file per jurisdiction")
            jurisdictions[code] = str(doc.get("jurisdiction", code))
            declared = doc.get("documents") or {}
            if not isinstance(declared, dict):
                raise PolicyError(f"{_where(path, doc, 'documents')}: documents must map a document number to its details")
            for doc_no, meta in declared.items():
                _check_keys(path, meta or _Node(), _DOCUMENT_KEYS, f"document {doc_no}")
                for key in _DOCUMENT_DATES:
                    if (meta or {}).get(key) is not None and not isinstance(meta[key], dt.date):
                        raise PolicyError(f"{_where(path, meta, key)}: {doc_no} {key} must be a date YYYY-MM-DD "
                                          "(or null where the text gives none, with a note)")
                if doc_no in documents:
                    raise PolicyError(f"{_where(path, declared, doc_no)}: document {doc_no} is declared twice "
                                      f"(also in {documents[doc_no]['file']}); declare it once")
                documents[doc_no] = dict(meta or {}) | {"jurisdiction": code, "file": path.name}
            params = doc.get("parameters") or {}
            for name, entry in params.items():
                if name not in catalogue:
                    raise PolicyError(
                        f"{_where(path, params, name)}: parameter {name!r} is not declared in {cat_path.name}; "
                        "declare it there (description, unit, type) or fix the spelling"
                    )
                _check_keys(path, entry, _PARAM_KEYS, f"parameter {name}")
                dated = entry.get("values")
                if not isinstance(dated, dict) or not dated:
                    raise PolicyError(f"{_where(path, params, name)}: {name} needs 'values:' keyed by YYYY-MM-DD")
                for day, item in dated.items():
                    when = _parse_date(path, dated, day)
                    _check_keys(path, item, _VALUE_KEYS, f"{name} at {day}")
                    if "value" not in item:
                        raise PolicyError(f"{_where(path, item)}: {name} at {day} has no 'value' (use null to unset)")
                    value = _check_type(path, item, "value", catalogue[name], item["value"])
                    if value is not None and not item.get("reference"):
                        raise PolicyError(
                            f"{_where(path, item)}: {name} at {day} has no 'reference'; cite the document and clause"
                        )
                    if value is None and not item.get("note"):
                        raise PolicyError(
                            f"{_where(path, item)}: {name} at {day} is null without a 'note'; say why it is unset "
                            "(what the notice leaves open, or that it expired)"
                        )
                    if item.get("reference"):
                        cited.append((_where(path, item, "reference"), str(item["reference"])))
                    values.append(Value(name, code, when, value, item.get("reference"), item.get("note"),
                                        path.name, getattr(item, "line", 0)))
        for where, reference in cited:
            if _cited_document(reference, documents) is None:
                raise PolicyError(
                    f"{where}: reference {reference!r} does not start with a declared document number; "
                    f"declare the document under 'documents:' or cite one of: {', '.join(sorted(documents))}"
                )
        detection: dict[str, Detection] = {}
        det_path = directory / "detection.yaml"
        if det_path.exists():
            raw_det = load_strict_yaml(det_path)
            for name, entry in (raw_det or {}).items():
                _check_keys(det_path, entry, _DETECTION_KEYS, f"detection parameter {name}")
                for need in ("value", "description", "rationale"):
                    if need not in entry:
                        raise PolicyError(f"{_where(det_path, raw_det, name)}: detection parameter {name} needs {need!r}")
                detection[name] = Detection(name, entry["value"], str(entry.get("unit", "")),
                                            str(entry["description"]), str(entry["rationale"]))
        return cls(catalogue, values, detection, jurisdictions, documents)

    # -- scalar lookups ---------------------------------------------------------------------
    def _series(self, name: str, province: str) -> list[Value]:
        """The dated values that govern ``province``: the national ones before its own first date."""
        if name not in self.catalogue:
            raise KeyError(f"unknown policy parameter {name!r}")
        national = self._by.get((name, NATIONAL), [])
        own = self._by.get((name, province))
        if province == NATIONAL or not own:
            return national
        first = own[0].effective_from
        return [v for v in national if v.effective_from < first] + own

    def entry(self, name: str, province: str, when: dt.date) -> Value | None:
        """The value in force for ``province`` on ``when`` (with its reference), or None."""
        current = None
        for v in self._series(name, province):
            if v.effective_from <= when:
                current = v
            else:
                break
        return current

    def value(self, name: str, province: str, when: dt.date) -> Any:
        v = self.entry(name, province, when)
        return None if v is None else v.value

    def at(self, province: str, when: dt.date) -> dict[str, Any]:
        """Every parameter in force for a province on a date (None where unset)."""
        return {name: self.value(name, province, when) for name in self.catalogue}

    def detect(self, name: str) -> Any:
        """An audit-office detection threshold (judgement, not law)."""
        try:
            return self.detection[name].value
        except KeyError:
            raise KeyError(f"unknown detection parameter {name!r}; declare it in audit/params/detection.yaml") from None

    # -- vectorised lookups -----------------------------------------------------------------
    def frame(self, name: str, provinces: list[str] | None = None) -> pl.LazyFrame:
        """A parameter as a table: province_code, effective_from, value, reference.

        Each province gets its own rows, or the national ones where its file is silent, so a
        ``join_asof`` by province on a date finds the value in force (null value = unset).
        """
        spec = self.catalogue[name]
        provinces = provinces or sorted(c for c in self.jurisdictions if c != NATIONAL)
        rows = [
            (p, v.effective_from, v.value, v.reference)
            for p in provinces
            for v in self._series(name, p)
        ]
        value_dtype: pl.DataType = {
            "ratio": pl.Float64(), "yuan": pl.Float64(), "bool": pl.Boolean(), "date": pl.Date(),
            "text": pl.String(), "list": pl.List(pl.String()),
        }.get(spec.type, pl.Int64())
        return pl.LazyFrame(
            {
                "province_code": [r[0] for r in rows],
                "effective_from": [r[1] for r in rows],
                "value": [r[2] for r in rows],
                "reference": [r[3] for r in rows],
            },
            schema={"province_code": pl.String(), "effective_from": pl.Date(), "value": value_dtype,
                    "reference": pl.String()},
        ).sort("province_code", "effective_from")

    def attach(self, lf: pl.LazyFrame, name: str, *, on: str, province: str = "province_code",
               alias: str | None = None, with_reference: bool = False) -> pl.LazyFrame:
        """Add the value of parameter ``name`` in force on date column ``on`` for each row.

        Rows whose province has no value on that date get null (the rule must skip them).
        """
        alias = alias or name.replace(".", "_")
        table = self.frame(name).rename({"value": alias, "reference": f"{alias}_ref", "effective_from": "_pf"})
        if not with_reference:
            table = table.drop(f"{alias}_ref")
        return (
            lf.sort(on)
            .join_asof(table.sort("_pf"), left_on=on, right_on="_pf", by=province, strategy="backward",
                       check_sortedness=False)
            .drop("_pf")
        )

    def describe(self, province: str, when: dt.date) -> list[dict[str, Any]]:
        """Rows for ``audit policy show`` and the report: every parameter with its source."""
        out = []
        for name, spec in self.catalogue.items():
            v = self.entry(name, province, when)
            out.append({
                "name": name,
                "description": spec.description,
                "unit": spec.unit,
                "value": None if v is None else v.value,
                "effective_from": None if v is None else v.effective_from,
                "reference": None if v is None else v.reference,
                "note": None if v is None else v.note,
                "from": None if v is None else ("national" if v.jurisdiction == NATIONAL else v.jurisdiction),
            })
        return out
