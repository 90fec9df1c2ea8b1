"""Citations follow the finding (RULES.md §8): every finding of the demo run cites the clause in force
for its unit's province on its date — its own province's notice or a national one, never another
province's — and a rule whose basis differs by province cannot leave a finding without one.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

import checks
from audit.app.pipeline import run_audit
from audit.findings import finalise
from audit.policy import NATIONAL, Policy
from audit.rules import Rule, Severity

DEMO = Path(__file__).parents[1] / "fixtures" / "demo"


@pytest.fixture(scope="module")
def demo_findings(tmp_path_factory: pytest.TempPathFactory) -> pl.DataFrame:
    out = tmp_path_factory.mktemp("cite") / "run"
    return run_audit(DEMO, "2024-06", out, render=False).findings


def _documents_cited(policy: Policy, text: str) -> set[str]:
    return {doc for doc in policy.documents if doc in text}


def test_every_finding_has_a_citation(demo_findings: pl.DataFrame) -> None:
    assert demo_findings.height > 0
    missing = demo_findings.filter(pl.col("citation").is_null() | (pl.col("citation") == ""))
    assert missing.height == 0, missing.select("rule_id").unique().to_series().to_list()


def test_no_finding_cites_another_provinces_notice(demo_findings: pl.DataFrame) -> None:
    policy = Policy.load()
    wrong = []
    for rule_id, county, citation in demo_findings.select("rule_id", "county_code", "citation").unique().iter_rows():
        if not county:
            continue
        province = county[:2] + "0000"
        for doc in _documents_cited(policy, citation):
            owner = policy.documents[doc]["jurisdiction"]
            # the ban and benchmark rules rest on Jiangxi's own ban wherever the new unit is
            if owner not in (NATIONAL, province) and not rule_id.startswith("UNIT_INELIGIBLE.banned"):
                wrong.append((rule_id, county, doc))
    assert wrong == []


def test_rules_md_cases_cite_their_own_province(demo_findings: pl.DataFrame) -> None:
    """What issue #11 found: Hunan's second internships cited Jiangxi's notice, Jiangxi's ineligible
    trainees Hunan's and Yunnan's."""
    f = demo_findings.with_columns(pl.col("county_code").str.slice(0, 2).alias("_p"))
    hunan_second = f.filter((pl.col("family") == "ONE_INTERNSHIP") & (pl.col("_p") == "43"))
    assert all("赣人社发" not in c for c in hunan_second["citation"])
    jiangxi_ineligible = f.filter((pl.col("rule_id") == "GHOST_TRAINEE.ineligible_at_start") & (pl.col("_p") == "36"))
    assert all("湘人社规" not in c and "云人社发" not in c for c in jiangxi_ineligible["citation"])


def test_a_rule_with_several_clauses_must_cite_each_finding() -> None:
    rule = Rule(id="GHOST_TRAINEE.example", title="例", severity=Severity.LOW,
                citations=("赣人社发〔2023〕9号 一", "人社部发〔2023〕27号 一"))
    raw = pl.LazyFrame({"person_id": ["P"], "county_code": ["360102"]})
    with pytest.raises(ValueError, match="must give each finding its citation"):
        finalise(raw, rule)
    cited = finalise(raw.with_columns(pl.lit("赣人社发〔2023〕9号 一").alias("citation")), rule).collect()
    assert cited["citation"].to_list() == ["赣人社发〔2023〕9号 一"]


def test_rules_json_keeps_the_possible_citations() -> None:
    info = {c.rule.id: c.rule.info() for c in checks.CHECKS}
    dormant = info["DORMANT_UNIT.no_activity"]
    assert len(dormant.citations) > 1 and dormant.citations[0].startswith("赣人社发〔2023〕9号 二(五)")
    assert type(dormant).from_dict(dormant.to_dict()) == dormant
