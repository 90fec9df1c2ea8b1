"""The HTML renderer: the one module that uses jinja2 (autoescape on, undefined is an error).

Templates are package data in ``reports/templates`` (partials named ``_*.html``). The page is
self-contained: styles inline, charts as inline SVG, no script, nothing from the network.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from markupsafe import Markup

from audit.masking import mask
from audit.policy import Policy
from reports import charts, figures, history
from reports.data import RunFiles
from reports.exit_list import CONDITIONS, JUDGEMENT, JUDGEMENT_TEXT, exit_units

# a finding or case id the run made (a hex hash with a letter in it): shown as it is
_RUN_ID = re.compile(r"^C?(?=[0-9a-f]*[a-f])[0-9a-f]{12,16}$")


def _masked_output(value: Any) -> Any:
    """Every text the page prints passes the masking net (:func:`audit.masking.mask`): an ID
    that reached a name, an address or a note is masked too. The run's own finding and case
    ids are not personal, and are printed as they are."""
    if isinstance(value, str) and not _RUN_ID.match(value):
        masked = mask(value)
        return Markup(masked) if isinstance(value, Markup) else masked
    return value


def environment() -> Environment:
    env = Environment(
        loader=PackageLoader("reports", "templates"),
        autoescape=select_autoescape(default=True, default_for_string=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        finalize=_masked_output,
    )
    env.filters["yuan"] = lambda v: f"{float(v or 0):,.2f}"
    env.filters["money"] = lambda v: charts.money_text(float(v or 0))
    env.filters["num"] = lambda v: f"{int(v):,}" if isinstance(v, (int, float)) and not isinstance(v, bool) else v
    env.filters["mask"] = mask
    return env


def context(rf: RunFiles, policy: Policy, pdf_note: str, exits: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    n_top = int(policy.detection["report.top_cases"].value) if "report.top_cases" in policy.detection else 20
    counties = figures.by_county(rf)
    families = figures.by_family(rf)
    trend = figures.trend(rf)
    exits = exit_units(rf, policy) if exits is None else exits
    return {
        "month": rf.run.get("audit_month", ""),
        "month_label": rf.month_label,
        "run": {
            "si_as_of": rf.run.get("si_as_of", ""), "generated_at": rf.run.get("generated_at", ""),
            "input_dir": Path(str(rf.run.get("input_dir", ""))).name, "rules_run": len(rf.run.get("rules_run") or []),
            "timings": rf.run.get("timings_s") or {},
        },
        "rendered_at": dt.datetime.now().replace(microsecond=0).isoformat(sep=" "),
        "headline": figures.headline(rf),
        "coverage": figures.coverage(rf),
        "families": families,
        "family_chart": charts.horizontal_bars(families, "family_zh", "money", "各类问题涉及金额"),
        "rules": figures.by_rule(rf),
        "counties": counties,
        "county_chart": charts.horizontal_bars(counties, "county", "money", "各县区涉及金额"),
        "top": figures.top_findings(rf, n_top),
        "n_top": n_top,
        "cases": figures.cases(rf, n_top),
        "trend": trend,
        "trend_chart": charts.vertical_bars(trend, "month", "money", "各月涉及金额") if len(trend) > 1 else None,
        "inputs": figures.inputs(rf),
        "input_notes": figures.input_notes(rf),
        "quarantined": rf.quarantined,
        "reference": figures.reference_status(rf),
        "parameters": figures.parameters(rf, policy),
        "detection": figures.detection(policy),
        "rules_skipped": figures.rules_skipped(rf),
        "skipped_keys": figures.skipped_keys(rf),
        "exit_counts": [{"condition": text, "units": sum(1 for e in exits if e["_headline"] == number)}
                        for number, text in [*CONDITIONS.items(), (JUDGEMENT, JUDGEMENT_TEXT)]],
        "exit_top": sorted(exits, key=lambda e: (-(e["recover"] + e["stop_payment"]), e["unit_id"]))[:n_top],
        "exit_total": len(exits),
        "pdf_note": pdf_note,
        "has_validation": rf.rundir.has("validation.html"),
        "contracts": figures.contracts(rf),
        "history": history.context(rf, n_top),  # the monthly cycle (None without a workspace)
    }


def render_report(rf: RunFiles, policy: Policy, pdf_note: str = "", exits: list[dict[str, Any]] | None = None) -> str:
    return environment().get_template("report.html").render(**context(rf, policy, pdf_note, exits))
