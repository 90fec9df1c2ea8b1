"""The documents a clone of the project carries (issue #14, point 8): the data contract and the
policy readings live in docs/, each naming its source and the date it was copied; the README
and the report send readers there, never outside the project; the README's demo figures are
the demo's."""

from __future__ import annotations

import re
from pathlib import Path

import polars as pl

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")


def test_contract_and_readings_are_documents_of_the_project() -> None:
    for name, source in (("contract.md", "`contract.md`"), ("readings.md", "`RULES.md`")):
        text = (ROOT / "docs" / name).read_text(encoding="utf-8")
        assert "Copied on 2026-12-05" in text and source in text, name
    readings = (ROOT / "docs" / "readings.md").read_text(encoding="utf-8")
    for heading in ("Unpaid claims", "Money at risk", "应追回", "应停止拨付", "9,106.00 元"):
        assert heading in readings


def test_nothing_points_outside_the_project() -> None:
    templates = [p.read_text(encoding="utf-8") for p in (ROOT / "reports" / "templates").glob("*.html")]
    for text in (README, *templates):
        assert "../shared" not in text and "shared/contract.md" not in text
    assert "docs/contract.md" in README and "docs/readings.md" in README


def test_the_readmes_demo_figures_are_the_demos() -> None:
    row = next(line for line in README.splitlines() if "on the demo" in line and "claims" in line)
    trainees, units, claims = (int(x.replace(",", "")) for x in re.findall(r"([\d,]+) (?:trainee|units|claims)", row))
    demo = ROOT / "fixtures" / "demo"
    assert trainees == pl.read_csv(demo / "trainees.csv", infer_schema=False).height
    assert units == pl.read_csv(demo / "units.csv", infer_schema=False).height
    assert claims == pl.read_csv(demo / "claims.csv", infer_schema=False).height
