"""The same world, spelled as other registries spell it, gives the same audit (a metamorphic test).

Our generator shares our readings, so a world it makes cannot show where a reading is wrong. A
world re-spelled cell by cell (:mod:`tests.respell`: dates, months, amounts, IDs with Excel's
text markers, cards and phones with separators, the closed vocabularies in the systems' own
words, Chinese headers, other encodings) holds the same facts; any finding, skipped key or
quarantined row that differs is a reading that depends on spelling. Found this way: person IDs
written ``'360102…`` or ``="360102…"`` read as malformed (521 findings became 43,682 on a
3,000-trainee world), phones with dashes corroborating no typo, and 月度补贴 / 养老保险 / 见习期满
silently read as other values than 月度 / 养老 / 期满 (521 became 3,884).
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path

import polars as pl
import pytest

from audit.app.pipeline import run_audit
from audit.loader import note_zh
from audit.loader.normalised import NOTE_ROW
from fixtures.generate import generate
from fixtures.world import Config
from tests.respell import respell
from tests.test_outputs_e2e import FIELD_NAME

MONTH = "2026-11"
KEYS = ["rule_id", "person_id", "unit_id", "claim_id", "county_code", "period_start", "period_end", "amount_at_risk"]


@pytest.fixture(scope="module")
def audited(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A generated world (current month, every province) and its audit."""
    root = tmp_path_factory.mktemp("respelled")
    world = root / "world"
    generate(world, Config(seed=5, trainees=600, first_month=dt.date(2024, 9, 1), last_month=dt.date(2026, 11, 1)))
    run_audit(world, MONTH, root / "run", render=False)
    return world, root / "run"


def _findings(run: Path) -> pl.DataFrame:
    return pl.read_parquet(run / "findings.parquet").select(KEYS).sort(KEYS, nulls_last=True)


def _skipped(run: Path) -> pl.DataFrame:
    return (pl.read_parquet(run / "skipped.parquet").group_by("rule_id", "gap").len()
            .sort("rule_id", "gap", nulls_last=True))


@pytest.mark.parametrize("seed", [3, 4])  # each writes every kind of respelling below
def test_a_respelled_world_gives_the_same_audit(audited: tuple[Path, Path], tmp_path: Path, seed: int) -> None:
    world, run = audited
    written = respell(world, tmp_path / "world", seed)
    assert any(w.endswith(":gbk") for w in written) and len(written) >= 10
    assert any(w.endswith(":tabs") for w in written) and any(w.endswith(":named in Chinese") for w in written)
    assert any(w.endswith(":organisation codes") for w in written)
    run_audit(tmp_path / "world", MONTH, tmp_path / "run", render=False)
    # what the reading said reaches run.json, each note's Chinese part free of field names
    notes = json.loads((tmp_path / "run" / "run.json").read_text(encoding="utf-8"))["input_notes"]
    assert any("制表符" in n for n in notes) and any("GB18030" in n or "GBK" in n for n in notes)
    assert [n for n in notes if FIELD_NAME.findall(note_zh(n))] == []
    before, after = _findings(run), _findings(tmp_path / "run")
    assert before.height > 100  # planted fraud of every family: something to lose
    lost = before.join(after, on=KEYS, how="anti", nulls_equal=True)
    new = after.join(before, on=KEYS, how="anti", nulls_equal=True)
    assert lost.height == 0 and new.height == 0, (lost.group_by("rule_id").len(), new.group_by("rule_id").len())
    assert before.height == after.height  # the same findings, as many times
    assert _skipped(run).equals(_skipped(tmp_path / "run"))
    # the same quarantine, beside the signature lines, each quarantined as what it is
    quarantined = [pl.read_csv(r / "quarantine.csv", infer_schema=False) for r in (run, tmp_path / "run")]
    notes = quarantined[1].filter(pl.col("reason") == NOTE_ROW).select("table", "line")
    assert notes.height == sum(w.endswith(":titled") for w in written) > 0
    assert quarantined[0].height == quarantined[1].join(notes, on=["table", "line"], how="anti").height


#: optional columns an export may lack, each a reading the rules must not turn into accusations
ABSENT = [("claims", "claim_type"), ("claims", "paid_date"), ("agreements", "actual_end_date"),
          ("agreements", "end_reason"), ("agreements", "retained"), ("trainees", "graduation_date"),
          ("employment", "terminated_date"), ("units", "exit_date")]
#: whom a finding accuses of what (its period may differ: an internship's end read otherwise)
WHO = ["rule_id", "person_id", "unit_id", "claim_id", "county_code"]


#: the same, exported as a column of blank cells (the header written, the column never filled)
BLANK = [("claims", "claim_type"), ("agreements", "actual_end_date"), ("employment", "terminated_date"),
         ("trainees", "graduation_date")]


#: optional tables exported with their header only (a failed or filtered extract): no contract, no
#: position anywhere is no evidence (``TableSpec.empty_is_unexported``)
EMPTIED = ["employment", "positions"]


@pytest.mark.parametrize("table, column, how", [(t, c, "dropped") for t, c in ABSENT] + [(t, c, "blank") for t, c in BLANK]
                         + [(t, "", "emptied") for t in EMPTIED],
                         ids=[f"{t}.{c}" for t, c in ABSENT] + [f"{t}.{c}-blank" for t, c in BLANK]
                         + [f"{t}-header-only" for t in EMPTIED])
def test_a_world_exported_without_a_column_accuses_no_one_more(audited: tuple[Path, Path], tmp_path: Path,
                                                                table: str, column: str, how: str) -> None:
    """The same world with one optional column left out of its export, or written with every
    cell blank: the audit may find less (a rule that needs the column skips, and says so), but
    every finding it makes is one it made with the column, for no more money. Found this way:
    without 补贴类型 every 差额 read as a monthly claim (521 findings became 1,665 on a
    3,000-trainee world), without 解除日期 contracts ended long before an internship counted as
    employment during it (+195), without 实际结束日期 or 结束原因 early hires lowered the real
    retention rate (+26, +39); and each column left blank read as a fact (every internship ran to
    term: 1,536; nobody graduated: 4,305). An optional table exported with its header only is not
    a registry in which nobody is: 521 findings became 1,009 with no 就业登记/劳动合同 row (every
    retention unproven) and 1,799 with no 见习岗位 row (every unit dormant, every 汇总表 wrong)."""
    world, run = audited
    shutil.copytree(world, tmp_path / "world")
    path = tmp_path / "world" / f"{table}.csv"
    frame = pl.read_csv(path, infer_schema=False)
    frame = (frame.drop(column) if how == "dropped" else frame.head(0) if how == "emptied"
             else frame.with_columns(pl.lit(None, pl.String).alias(column)))
    frame.write_csv(path)
    result = run_audit(tmp_path / "world", MONTH, tmp_path / "run", render=False)
    if how == "emptied":
        assert result.summary["empty_tables"] == [table] and result.summary["rules_skipped"]
    before = pl.read_parquet(run / "findings.parquet").group_by(WHO).agg(pl.col("amount_at_risk").sum())
    after = pl.read_parquet(tmp_path / "run" / "findings.parquet").group_by(WHO).agg(pl.col("amount_at_risk").sum())
    new = after.join(before, on=WHO, how="anti", nulls_equal=True)
    assert new.height == 0, new.group_by("rule_id").len()
    more = after.join(before, on=WHO, nulls_equal=True).filter(
        pl.col("amount_at_risk") > pl.col("amount_at_risk_right") + 0.01)
    assert more.height == 0, more
