"""A run records what was in force, and the stages after it read the run, not today's code.

One run of the demo is made with ``--policy-dir``: a copy of the shipped parameter files whose
detection values differ (``graph.case_hub_max_degree`` 1 instead of 50, ``report.top_cases`` 2
instead of 20). Its cases and graphs must be built with those values — they were built with the
shipped ones before (a bug) — and after the parameter files and the rule registry change, ``audit
report`` must render it as it was.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
from pathlib import Path

import openpyxl
import polars as pl
import pytest
from click.testing import CliRunner

import audit
import checks
from audit import graph
from audit.app.cases import build_cases
from audit.app.cli import main
from audit.policy import PARAMS_DIR, Policy
from audit.rules import RuleInfo
from audit.rundir import NotARunError, RunDir
from reports import render_run

DEMO = Path(__file__).resolve().parent.parent / "fixtures" / "demo"
RUN_HUB, RUN_TOP = 1, 2  # the run's own detection values (shipped: 50 and 20)


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _set_detection(directory: Path, name: str, value: int) -> None:
    path = directory / "detection.yaml"
    text = path.read_text(encoding="utf-8")
    new = re.sub(rf"^({re.escape(name)}:\n  value: )\S+$", rf"\g<1>{value}", text, count=1, flags=re.M)
    assert new != text, name
    path.write_text(new, encoding="utf-8")


def _set_ban_years(directory: Path, years: int) -> None:
    path = directory / "jiangxi.yaml"
    text = path.read_text(encoding="utf-8")
    new = re.sub(r"(unit\.exit_ban_years:\n    values:\n      2023-08-16: \{value: )5,", rf"\g<1>{years},", text)
    assert new != text
    path.write_text(new, encoding="utf-8")


def _cells(path: Path) -> dict:
    book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    out = {ws.title: [tuple(r) for r in ws.iter_rows(values_only=True)] for ws in book.worksheets}
    book.close()
    return out


@pytest.fixture(scope="module")
def made_with(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The parameter files the run is made with, kept as they were."""
    folder = tmp_path_factory.mktemp("params")
    for path in PARAMS_DIR.glob("*.yaml"):
        shutil.copyfile(path, folder / path.name)
    _set_detection(folder, "graph.case_hub_max_degree", RUN_HUB)
    _set_detection(folder, "report.top_cases", RUN_TOP)
    return folder


@pytest.fixture(scope="module")
def policy_dir(made_with: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The operator's --policy-dir: the same files, which a test edits after the run."""
    folder = tmp_path_factory.mktemp("policy_dir")
    for path in made_with.glob("*.yaml"):
        shutil.copyfile(path, folder / path.name)
    return folder


@pytest.fixture(scope="module")
def run_dir(policy_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("run") / "2024-06"
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("AUDIT_CHROMIUM", str(out.parent / "no-chromium"))  # the PDF is test_pdf's
        result = CliRunner().invoke(main, ["run", str(DEMO), "--month", "2024-06", "--out", str(out),
                                           "--policy-dir", str(policy_dir), "--quiet"])
    assert result.exit_code == 1, result.output
    return out


# ---------------------------------------------------------------- what the run records --------

def test_run_json_names_every_input_file_by_content(run_dir: Path) -> None:
    run = json.loads((run_dir / "run.json").read_text(encoding="utf-8"))
    recorded = {f["path"]: f for f in run["input_files"]}
    on_disk = sorted(p.name for p in DEMO.iterdir() if p.is_file() and not p.name.startswith("."))
    assert sorted(recorded) == on_disk
    for name in on_disk:
        assert recorded[name]["sha256"] == _sha(DEMO / name), name
        assert recorded[name]["bytes"] == (DEMO / name).stat().st_size, name
    code = run["code"]
    assert code["version"] == audit.__version__
    assert code["git_commit"] == "unknown" or re.fullmatch(r"[0-9a-f]{40}", code["git_commit"])


def test_the_policy_in_force_is_copied_with_its_hashes(run_dir: Path, made_with: Path, policy_dir: Path) -> None:
    run = json.loads((run_dir / "run.json").read_text(encoding="utf-8"))
    assert run["policy"]["source"] == str(policy_dir.resolve())
    files = {f["name"]: f["sha256"] for f in run["policy"]["files"]}
    assert sorted(files) == sorted(p.name for p in made_with.glob("*.yaml"))
    for name, sha in files.items():
        assert sha == _sha(made_with / name) == _sha(run_dir / "policy" / name), name


def test_the_reference_tables_in_force_are_kept_with_their_hashes(run_dir: Path) -> None:
    run = json.loads((run_dir / "run.json").read_text(encoding="utf-8"))
    files = {f["name"]: f["sha256"] for f in run["reference_files"]}
    assert sorted(files) == ["calendar.parquet", "county_tiers.parquet", "min_wage.parquet", "regions.parquet"]
    for name, sha in files.items():
        assert sha == _sha(run_dir / "reference" / name), name
    assert pl.read_parquet(run_dir / "reference" / "regions.parquet").height > 0


def test_every_registered_rule_is_recorded(run_dir: Path) -> None:
    recorded = RunDir.open(run_dir).rules
    assert list(recorded) == [c.rule.id for c in checks.CHECKS]
    for check in checks.CHECKS:
        assert recorded[check.rule.id] == check.rule.info()
        assert RuleInfo.from_dict(recorded[check.rule.id].to_dict()) == recorded[check.rule.id]
    assert any(r.exit_condition for r in recorded.values()) and any(r.signal_only for r in recorded.values())


def test_the_indicators_are_recorded(run_dir: Path, made_with: Path) -> None:
    """The 汇总表 as the rules define it, over the tables the run saw."""
    table = pl.read_parquet(run_dir / "indicators.parquet")
    assert table.columns == ["county_code", "month", *[f"i{n}" for n in range(1, 15)]]
    assert table.height > 0
    assert table.equals(checks.county_indicators(RunDir.open(run_dir).tables(), Policy.load(made_with)).collect())


# ---------------------------------------------------------------- the run's own values --------

def test_cases_are_built_with_the_runs_detection_values(run_dir: Path, made_with: Path) -> None:
    on_disk = pl.read_parquet(run_dir / "cases.parquet")
    own = build_cases(run_dir, Policy.load(made_with)).cases
    shipped = build_cases(run_dir, Policy.load()).cases
    assert on_disk.drop("graph_file").equals(own.drop("graph_file"))
    # a hub of more than one edge joins no case here: the demo's two shipped connectors are gone
    assert not on_disk.drop("graph_file").equals(shipped.drop("graph_file"))
    assert on_disk["connectors"].list.len().sum() == 0 < shipped["connectors"].list.len().sum()


def test_case_graphs_are_drawn_for_the_runs_top_cases(run_dir: Path) -> None:
    cases = pl.read_parquet(run_dir / "cases.parquet")
    drawn = sorted(p.name for p in (run_dir / "graphs").glob("case_*.html"))
    assert len(drawn) == RUN_TOP
    assert drawn == sorted(f"case_{c}.html" for c in cases.head(RUN_TOP)["case_id"])
    assert cases["graph_file"].drop_nulls().len() == RUN_TOP


def test_audit_graph_uses_the_runs_detection_values(run_dir: Path, tmp_path: Path) -> None:
    run = RunDir.open(run_dir)
    case = pl.read_parquet(run_dir / "cases.parquet").row(0, named=True)
    t, findings = run.tables(), run.findings()
    edges = graph.link_edges(t).collect()

    def embedded(hub: int) -> int:
        return graph.build_view(t, edges, findings, case["entities"], hops=2, core=case["connectors"], title="",
                                hub_degree=hub).nodes.height

    assert embedded(RUN_HUB) != embedded(50)  # the demo's top case tells the two apart
    out = tmp_path / "case.graphml"
    result = CliRunner().invoke(main, ["graph", str(run_dir), "--case", case["case_id"], "--hops", "2",
                                       "--format", "graphml", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert f"{embedded(RUN_HUB)} embedded" in result.output


# ---------------------------------------------------------------- an old run, re-rendered ------

def test_audit_report_renders_an_old_run_as_it_was(run_dir: Path, policy_dir: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """After the run: Jiangxi's exit ban becomes 3 years in the operator's files, the top cases 5,
    and every rule in today's registry loses its exit condition. None of it may reach the run."""
    books = ["exit_list.xlsx", "recovery.xlsx", "summary_table.xlsx",
             *(f"exit_lists/{p.name}" for p in (run_dir / "exit_lists").glob("*.xlsx"))]
    before = {name: _cells(run_dir / name) for name in books}
    html_before = re.sub(r"\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}:\d{2}", "", (run_dir / "report.html").read_text("utf-8"))
    assert any("是（5年）" in str(row) for sheet in before["exit_list.xlsx"].values() for row in sheet)

    _set_ban_years(policy_dir, 3)
    _set_detection(policy_dir, "report.top_cases", 5)
    changed = tuple(type(c)(rule=type(c.rule)(**{**c.rule.__dict__, "exit_condition": None, "title": "改"}),
                            fn=c.fn, doc=c.doc) for c in checks.CHECKS)
    monkeypatch.setattr(checks, "CHECKS", changed)
    monkeypatch.setenv("AUDIT_CHROMIUM", str(run_dir / "no-chromium"))

    result = CliRunner().invoke(main, ["report", str(run_dir), "--no-pdf"])
    assert result.exit_code == 0, result.output
    for name in books:
        assert _cells(run_dir / name) == before[name], name
    html = re.sub(r"\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}:\d{2}", "", (run_dir / "report.html").read_text("utf-8"))
    html_before = html_before.replace("PDF 版本未生成：本机未安装 Chromium。", "本次未生成 PDF 版本。")
    assert html == html_before
    assert "notes" not in json.loads((run_dir / "render.json").read_text(encoding="utf-8"))


def test_a_run_without_snapshots_renders_and_says_what_it_lacks(run_dir: Path, tmp_path: Path) -> None:
    """A run made before the snapshots existed: rendered from what it has, the render saying so."""
    old = tmp_path / "old"
    shutil.copytree(run_dir, old, ignore=shutil.ignore_patterns("graphs", "*.xlsx", "exit_lists"))
    for name in ("rules.json", "indicators.parquet"):
        (old / name).unlink()
    for folder in ("policy", "reference"):
        shutil.rmtree(old / folder)
    status = render_run(old, pdf=False)
    assert status["summary_table"] is False and not (old / "summary_table.xlsx").exists()
    notes = " ".join(status["notes"])
    assert "rules.json" in notes and "policy/" in notes and "indicators.parquet" in notes
    assert (old / "exit_list.xlsx").exists() and (old / "report.html").exists()


# ---------------------------------------------------------------- not a run -------------------

NOT_A_RUN = [
    ("an empty directory", lambda d: None),
    ("findings without run.json", lambda d: (d / "findings.parquet").write_bytes(b"")),
    ("run.json that is not JSON", lambda d: ((d / "run.json").write_text("{", encoding="utf-8"),
                                             (d / "findings.parquet").write_bytes(b""), (d / "normalised").mkdir())),
]


@pytest.mark.parametrize("description, make", NOT_A_RUN, ids=[c[0] for c in NOT_A_RUN])
def test_not_a_run_is_refused(description: str, make, tmp_path: Path) -> None:
    make(tmp_path)
    with pytest.raises(NotARunError):
        RunDir.open(tmp_path)
    for args in (["report", str(tmp_path), "--no-pdf"],
                 ["graph", str(tmp_path), "--entity", "13800138000", "--out", str(tmp_path / "g.html")]):
        result = CliRunner().invoke(main, args)
        assert result.exit_code == 2, (description, args, result.output)
        assert "invalid input" in result.output
