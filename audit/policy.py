"""Policy parameters: dated values with their document and clause (OpenFisca style).

Law lives in ``audit/params/``:

- ``catalogue.yaml`` declares every policy parameter once: its ``description`` (Chinese and
  English), ``unit``, ``type`` (ratio, yuan, months, days, working_days, years, count, bool,
  date, text, list), its ``scope`` and the ``source`` of that scope, and whether it is
  ``informational`` (declared for the reader, read by no rule; then a ``note`` says why).
- one file per jurisdiction (``national.yaml``, ``jiangxi.yaml``, ``hunan.yaml`` …) gives values
  keyed by effective date, each with its ``reference`` (document and clause, starting with a
  document number declared under ``documents:`` in one of the files). A ``value: null`` ends a
  parameter (or records that the notice leaves it unset) and must say why in its ``note``.

Law in force, by province and date (RULES.md §8):

- ``scope: national`` — what a national notice fixes for every province (the target groups, the
  usual 3–12 months, the remaining-period subsidy and its window, the raised rate at ≥ 50 %
  retention): a province takes the national value on every date its own notice gives none (before
  it, after it expires, or where it is silent), and its own value wherever its notice gives one.
- ``scope: provincial`` — a province's own choice (a rate, insurance paid on top, a ban, a
  dormancy clause, a retention definition): known only from that province's own notices, from
  their dates until they expire. Before the province's first value, after a null, and after the
  cited document's ``expires`` date, it is unset — a national file never fills it — and a rule
  that needs it skips with the reason :meth:`Policy.attach` gives (``with_reason``).

The audit office's own thresholds — not law — live apart in ``detection.yaml`` and are read
with :meth:`Policy.detect`; every report prints them, labelled as judgement.

The loader is strict: a duplicate key, an unknown key, an undeclared parameter, a malformed
date, a value of the wrong type, a value without a reference, a null without a note and a
reference to an undeclared document are refused with the file, the line and what to write instead.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import polars as pl
import yaml

PARAMS_DIR = Path(__file__).parent / "params"
NATIONAL = "000000"
TYPES = ("ratio", "yuan", "months", "days", "working_days", "years", "count", "bool", "date", "text", "list", "age")
_PARAM_KEYS = {"values", "note"}
_VALUE_KEYS = {"value", "reference", "note"}
_CATALOGUE_KEYS = {"description", "unit", "type", "note", "scope", "source", "informational"}
SCOPES = ("national", "provincial")
#: ``unit_zh`` and ``rationale_zh``: the unit and the reason in Chinese, as the report prints them
_DETECTION_KEYS = {"value", "unit", "unit_zh", "description", "rationale", "rationale_zh"}
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


def _latest_in_force(placed: list[tuple[str, dt.date, dt.date | None, str]], day: dt.date) -> tuple | None:
    """Of (jurisdiction, start, end, clause) entries, the latest-starting one in force on ``day``."""
    live = [c for c in placed if c[1] <= day and (c[2] is None or day <= c[2])]
    return max(live, key=lambda c: c[1], default=None)


def _in_force(series: list[Value], when: dt.date) -> Value | None:
    """The entry of a date-sorted series in force on ``when``."""
    current = None
    for v in series:
        if v.effective_from <= when:
            current = v
        else:
            break
    return current


# ---------------------------------------------------------------- the model -----------------


@dataclass(frozen=True)
class ParamSpec:
    name: str
    description: str
    unit: str
    type: str
    scope: str = "provincial"  # national | provincial (see the module docstring)
    source: str = ""  # why it has that scope: the notice and clause
    informational: bool = False  # declared for the reader; no rule reads it (``note`` says why)
    note: str = ""

    @property
    def zh(self) -> str:
        """The Chinese part of the description (before " — ")."""
        return self.description.split(" — ", 1)[0].strip()


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
    unit_zh: str = ""
    rationale_zh: str = ""

    @property
    def shown_unit(self) -> str:
        """The unit as a reader is shown it: in Chinese where the file gives it (``unit_zh``)."""
        return self.unit_zh or self.unit

    @property
    def shown_rationale(self) -> str:
        """The reason as a reader is shown it: in Chinese where the file gives it (``rationale_zh``)."""
        return self.rationale_zh or self.rationale


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


#: policies read, by the bytes of their files (:meth:`Policy.load`); the last few only
_READ: dict[tuple[str, str | None, str], Policy] = {}
_READ_KEPT = 8


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
    def load(cls, directory: Path | None = None, *, legacy_scope: str | None = None) -> Policy:
        """The parameter files of ``directory`` (default: the shipped ones), strictly.

        ``legacy_scope``: for a run's snapshot made before the catalogue declared scopes — each
        entry without one takes it (``national`` reproduces how such a run looked values up).
        Never for files in force: a catalogue entry without a scope is refused there.

        Files read before from the same directory with the same bytes give the policy read then
        (a run reads its files, then its snapshot's twice for the outputs: 0.12 s each, and a
        process running many runs — a test session, the monthly cycle — reads the same files
        each time). Nothing changes a policy once read."""
        directory = Path(directory or PARAMS_DIR)
        files = sorted(directory.glob("*.yaml"))
        digest = hashlib.sha256()
        for path in files:
            data = path.read_bytes()
            digest.update(f"{path.name}\0{len(data)}\0".encode() + data)
        key = (str(directory.resolve()), legacy_scope, digest.hexdigest())
        if key not in _READ:
            if len(_READ) >= _READ_KEPT:
                _READ.pop(next(iter(_READ)))
            _READ[key] = cls._read(directory, legacy_scope)
        return _READ[key]

    @classmethod
    def _read(cls, directory: Path, legacy_scope: str | None) -> Policy:
        cat_path = directory / "catalogue.yaml"
        raw_cat = load_strict_yaml(cat_path)
        catalogue: dict[str, ParamSpec] = {}
        for name, spec in raw_cat.items():
            _check_keys(cat_path, spec, _CATALOGUE_KEYS, f"catalogue entry {name}")
            if spec.get("type") not in TYPES:
                raise PolicyError(f"{_where(cat_path, raw_cat, name)}: {name}: type must be one of {', '.join(TYPES)}")
            if legacy_scope is not None and "scope" not in spec:
                spec = _Node(spec) | {"scope": legacy_scope, "source": "legacy snapshot"}
            if spec.get("scope") not in SCOPES:
                raise PolicyError(
                    f"{_where(cat_path, raw_cat, name)}: {name}: 'scope' must be national (a national notice fixes "
                    "it for every province) or provincial (each province's own notice sets it), with its 'source'"
                )
            if not spec.get("source"):
                raise PolicyError(f"{_where(cat_path, raw_cat, name)}: {name}: no 'source'; say which notice makes it "
                                  f"{spec['scope']} (document and clause, or why)")
            informational = spec.get("informational", False)
            if not isinstance(informational, bool):
                raise PolicyError(f"{_where(cat_path, spec, 'informational')}: {name}: informational must be true or false")
            if informational and not spec.get("note"):
                raise PolicyError(f"{_where(cat_path, raw_cat, name)}: {name} is informational without a 'note'; "
                                  "say why no rule reads it")
            catalogue[name] = ParamSpec(name, str(spec.get("description", "")), str(spec.get("unit", "")), spec["type"],
                                        spec["scope"], str(spec["source"]), informational, str(spec.get("note") or ""))

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
                                            str(entry["description"]), str(entry["rationale"]),
                                            str(entry.get("unit_zh", "")), str(entry.get("rationale_zh", "")))
        return cls(catalogue, values, detection, jurisdictions, documents)

    # -- law in force: segments per province ------------------------------------------------
    def document_span(self, doc_no: str) -> tuple[dt.date | None, dt.date | None]:
        """(first, last day) a document is in force in the law base: from the earliest value citing
        it (the date its values are keyed at; else its in_force, issued or printed date) to its
        ``expires`` date (None: no end stated)."""
        cache = self.__dict__.setdefault("_spans", {})
        if doc_no not in cache:
            meta = self.documents[doc_no]
            starts = [v.effective_from for v in self.values
                      if v.reference and _cited_document(v.reference, self.documents) == doc_no]
            start = min(starts) if starts else next((meta[k] for k in ("in_force", "issued", "printed") if meta.get(k)), None)
            cache[doc_no] = (start, meta.get("expires"))
        return cache[doc_no]

    def first_notice(self, province: str) -> tuple[str, dt.date] | None:
        """The province's first notice in the law base and the day it applies from."""
        starts = [(self.document_span(d)[0], d) for d, m in self.documents.items() if m["jurisdiction"] == province]
        starts = [(day, d) for day, d in starts if day is not None]
        return (min(starts)[1], min(starts)[0]) if starts else None

    def place_name(self, province: str) -> str:
        """``江西省``; ``国家`` for the national notices."""
        if province == NATIONAL:
            return "国家"
        name = self.jurisdictions.get(province, province)
        return name if name.endswith(("省", "区", "市")) or name == province else f"{name}省"

    def _own(self, name: str, province: str) -> list[Value]:
        """A jurisdiction's own values of ``name``, each ended (null) the day after its cited
        document expires where the file itself gives nothing from then."""
        own = self._by.get((name, province), [])
        out: list[Value] = []
        for i, v in enumerate(own):
            out.append(v)
            doc = _cited_document(v.reference, self.documents) if v.reference else None
            expires = self.documents[doc].get("expires") if doc else None
            nxt = own[i + 1].effective_from if i + 1 < len(own) else None
            if v.value is not None and expires is not None:
                end = expires + dt.timedelta(days=1)
                if nxt is None or nxt > end:
                    out.append(Value(name, province, end, None, None, f"{doc} 有效期至{expires}", v.source_file, v.line))
        return out

    def _series(self, name: str, province: str) -> list[Value]:
        """The dated values that govern ``province`` (see the module docstring, "Law in force")."""
        cache = self.__dict__.setdefault("_series_cache", {})
        if (name, province) not in cache:
            cache[(name, province)] = self._build_series(name, province)
        return cache[(name, province)]

    def _build_series(self, name: str, province: str) -> list[Value]:
        if name not in self.catalogue:
            raise KeyError(f"unknown policy parameter {name!r}")
        national = self._by.get((name, NATIONAL), [])
        if province == NATIONAL:
            return national
        own = self._own(name, province)
        if self.catalogue[name].scope == "provincial":
            return own
        # national: the province's own value where its notice gives one, else the national value
        out: list[Value] = []
        for day in sorted({v.effective_from for v in national} | {v.effective_from for v in own}):
            mine, theirs = _in_force(own, day), _in_force(national, day)
            pick = mine if mine is not None and mine.value is not None else theirs or mine
            if pick is None or (out and out[-1].source_file == pick.source_file and out[-1].line == pick.line
                                and out[-1].name == pick.name and out[-1].jurisdiction == pick.jurisdiction
                                and out[-1].note == pick.note and out[-1].value == pick.value):
                continue
            out.append(replace(pick, effective_from=day))
        return out

    def _segments(self, name: str, province: str) -> list[tuple[dt.date, Value | None, str | None]]:
        """(from, value or None, why it is unset) in date order, starting at the earliest date:
        the series of :meth:`_series` with the stretches where nothing is in force made explicit,
        each with its reason (:meth:`unset_reason`)."""
        series = self._series(name, province)
        spec = self.catalogue[name]
        out: list[tuple[dt.date, Value | None, str | None]] = []
        first = self.first_notice(province) if province != NATIONAL else None
        if spec.scope == "provincial" and province != NATIONAL:
            if first is not None:
                doc, day = first
                out.append((dt.date.min, None, f"{self.place_name(province)}通知（{doc}）自{day}起施行，此前政策未知"))
                if not series or series[0].effective_from > day:
                    out.append((day, None, f"{self.place_name(province)}通知未规定{spec.zh}"))
            else:
                out.append((dt.date.min, None, f"{self.place_name(province)}无通知在法规库中，政策未知"))
        else:  # national: before the first national notice that gives it
            first_value = next((v for v in self._by.get((name, NATIONAL), []) if v.reference), None)
            doc = _cited_document(first_value.reference, self.documents) if first_value and first_value.reference else None
            out.append((dt.date.min, None, f"国家通知（{doc}）自{first_value.effective_from}起施行，此前政策未知"
                        if doc and first_value else f"无通知规定{spec.zh}，政策未知"))
        for i, v in enumerate(series):
            if v.value is not None:
                out.append((v.effective_from, v, None))
                continue
            previous = series[i - 1] if i else None
            doc = _cited_document(previous.reference, self.documents) if previous and previous.reference else None
            expires = self.documents[doc].get("expires") if doc else None
            if expires is not None and v.effective_from > expires:
                why = f"{self.place_name(self.documents[doc]['jurisdiction'])}通知已于{expires}到期，此后政策未知"
            else:
                why = f"{self.place_name(v.jurisdiction)}通知未规定{spec.zh}"
            out.append((v.effective_from, v, why))
        return out

    # -- scalar lookups ---------------------------------------------------------------------
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

    def unset_reason(self, name: str, province: str, when: dt.date) -> str | None:
        """Why ``name`` is unset for ``province`` on ``when`` (None where it is set): short, stable
        Chinese naming the province — before its first notice, after its notice expired, or what
        its notice leaves open."""
        why = None
        for day, _value, reason in self._segments(name, province):
            if day <= when:
                why = reason
            else:
                break
        return why

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
    def frame(self, name: str, provinces: list[str] | None = None, *, with_reason: bool = False) -> pl.LazyFrame:
        """A parameter as a table: province_code, effective_from, value, reference (and, with
        ``with_reason``, ``reason``: why the value is unset, :meth:`unset_reason`).

        Each province gets its own rows (:meth:`_series`: national or provincial by the
        parameter's scope), starting at the earliest date, so a ``join_asof`` by province on a
        date finds the value in force (null value = unset).
        """
        spec = self.catalogue[name]
        provinces = provinces or sorted(c for c in self.jurisdictions if c != NATIONAL)
        rows = [
            (p, day, None if v is None else v.value, None if v is None else v.reference, why)
            for p in provinces
            for day, v, why in self._segments(name, p)
        ]
        value_dtype: pl.DataType = {
            "ratio": pl.Float64(), "yuan": pl.Float64(), "bool": pl.Boolean(), "date": pl.Date(),
            "text": pl.String(), "list": pl.List(pl.String()),
        }.get(spec.type, pl.Int64())
        out = pl.LazyFrame(
            {
                "province_code": [r[0] for r in rows],
                "effective_from": [r[1] for r in rows],
                "value": [r[2] for r in rows],
                "reference": [r[3] for r in rows],
                "reason": [r[4] for r in rows],
            },
            schema={"province_code": pl.String(), "effective_from": pl.Date(), "value": value_dtype,
                    "reference": pl.String(), "reason": pl.String()},
        ).sort("province_code", "effective_from")
        return out if with_reason else out.drop("reason")

    def attach(self, lf: pl.LazyFrame, name: str, *, on: str, province: str = "province_code",
               alias: str | None = None, with_reference: bool = False, with_reason: bool = False) -> pl.LazyFrame:
        """Add the value of parameter ``name`` in force on date column ``on`` for each row
        (``alias``, default the name with dots as underscores), with ``with_reference`` its
        reference (``<alias>_ref``) and with ``with_reason`` why it is unset (``<alias>_why``,
        null where set; :meth:`unset_reason`).

        Rows whose province has no value on that date get null (the rule must skip them); a
        province the law base does not know gets null and no reason.
        """
        alias = alias or name.replace(".", "_")
        table = self.frame(name, with_reason=with_reason).rename(
            {"value": alias, "reference": f"{alias}_ref", "effective_from": "_pf", "province_code": province}
            | ({"reason": f"{alias}_why"} if with_reason else {}))
        if not with_reference:
            table = table.drop(f"{alias}_ref")
        return (
            lf.sort(on)
            .join_asof(table.sort("_pf"), left_on=on, right_on="_pf", by=province, strategy="backward",
                       check_sortedness=False)
            .drop("_pf")
        )

    def cite(self, lf: pl.LazyFrame, clauses: tuple[str, ...] | list[str], *, on: str,
             province: str = "province_code", alias: str = "citation") -> pl.LazyFrame:
        """Add ``alias``: the clause in force for each row's province on date column ``on``
        (RULES.md §8: "A citation is the clause in force for the unit's province on the finding's
        date"). Each clause starts with a declared document number; a document is in force from
        :meth:`document_span`'s first to its last day. The province's own clause wins; else a
        national one (the latest in force); never another province's. Null where none applies.
        """
        placed: list[tuple[str, dt.date, dt.date | None, str]] = []  # jurisdiction, start, end, clause
        for clause in clauses:
            doc = _cited_document(clause, self.documents)
            if doc is None:
                raise KeyError(f"citation {clause!r} does not start with a declared document number")
            start, end = self.document_span(doc)
            if start is not None:
                placed.append((self.documents[doc]["jurisdiction"], start, end, clause))
        provinces = sorted(c for c in self.jurisdictions if c != NATIONAL)
        rows: list[tuple[str | None, dt.date, str | None]] = []
        for p in [*provinces, None]:
            mine = [c for c in placed if c[0] == p]
            national = [c for c in placed if c[0] == NATIONAL]
            days = sorted({dt.date.min} | {c[1] for c in mine + national}
                          | {c[2] + dt.timedelta(days=1) for c in mine + national if c[2] is not None})
            for day in days:
                best = _latest_in_force(mine, day) or _latest_in_force(national, day)
                rows.append((p, day, None if best is None else best[3]))
        table = pl.LazyFrame({"_cp": [r[0] for r in rows], "_cf": [r[1] for r in rows], alias: [r[2] for r in rows]},
                             schema={"_cp": pl.String(), "_cf": pl.Date(), alias: pl.String()})
        known = pl.col(province).is_in(provinces)
        # a province the law base does not know takes the national clause (the ``None`` rows)
        keyed = lf.with_columns(pl.when(known).then(pl.col(province)).otherwise(pl.lit("")).alias("_cp"))
        table = table.with_columns(pl.col("_cp").fill_null(""))
        return (
            keyed.sort(on)
            .join_asof(table.sort("_cf"), left_on=on, right_on="_cf", by="_cp", strategy="backward",
                       check_sortedness=False)
            .drop("_cf", "_cp", strict=False)
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
                "note": (None if v is None else v.note) or self.unset_reason(name, province, when),
                "from": None if v is None else ("national" if v.jurisdiction == NATIONAL else v.jurisdiction),
                "scope": spec.scope,
                "informational": spec.informational,
            })
        return out
