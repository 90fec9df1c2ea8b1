"""A run for month M audits everything recorded up to the end of M (RULES.md §8): claims
submitted by then, and the agreements begun or approved by then. An agreement neither begun nor
approved by the end of M belongs to a later month's run, as a claim submitted after M does."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest
from click.testing import CliRunner

from audit.app.cli import main
from tests.helpers import pid, uscc

P1, U1, U2 = pid("P1"), uscc("U1"), uscc("U2")


def _inputs(directory: Path, second: str) -> Path:
    """P1 at U1 in 2024 (claims January–June), and a second agreement at U2 (``second``: its
    start and approval dates); the audit month is 2024-06."""
    directory.mkdir(parents=True)
    files = {
        "units.csv": f"unit_id,unit_name,county_code,approved_date\n{U1},甲公司,360102,2023-01-05\n{U2},乙公司,360102,2023-02-01\n",
        "trainees.csv": f"person_id,name,education,graduation_date\n{P1},张三,本科,2023-06-30\n",
        "agreements.csv": ("agreement_id,person_id,unit_id,start_date,planned_end_date,approved_date\n"
                           f"A1,{P1},{U1},2024-01-01,2024-06-30,2023-12-25\n"
                           f"A2,{P1},{U2},{second}\n"),
        "claims.csv": "claim_id,unit_id,person_id,agreement_id,claim_month,claim_type,amount,submitted_date\n" + "".join(
            f"C{m},{U1},{P1},A1,2024-0{m},月度,1480,2024-0{m}-28\n" for m in range(1, 7)),
        "social_insurance.csv": f"person_id,employer_id,month,insurance_type\n{P1},{U1},2024-01,补充工伤\n",
    }
    for name, text in files.items():
        (directory / name).write_text(text, encoding="utf-8")
    return directory


@pytest.mark.parametrize("second, found", [
    pytest.param("2024-08-01,2024-12-31,2024-07-20", False, id="begun and approved after June: a later month's"),
    pytest.param("2024-07-01,2024-12-31,2024-06-20", True, id="approved in June, begun in July: recorded by June"),
    pytest.param("2024-06-15,2024-12-31,2024-07-02", True, id="begun in June, approved in July: recorded by June"),
    pytest.param("2024-06-15,2024-12-31,", True, id="begun in June, no approval date: recorded by June"),
])
def test_an_agreement_not_yet_recorded_is_a_later_months(tmp_path: Path, second: str, found: bool) -> None:
    assert _fired(_inputs(tmp_path / "in", second), tmp_path / "run", "ONE_INTERNSHIP.second_internship") == found


def _fired(inputs: Path, out: Path, rule_id: str) -> bool:
    """Whether ``audit run`` for 2024-06 on ``inputs`` finds anything by ``rule_id``."""
    result = CliRunner().invoke(main, ["run", str(inputs), "--month", "2024-06", "--out", str(out), "--quiet",
                                       "--no-render"])
    assert result.exit_code in (0, 1), result.output
    return pl.read_parquet(out / "findings.parquet").filter(pl.col("rule_id") == rule_id).height > 0


@pytest.mark.parametrize("amounts, found", [
    pytest.param("0,0", False, id="a claim of nothing: no month claimed twice"),
    pytest.param("0,", False, id="a claim of nothing, insurance not given"),
    pytest.param("1480,0", True, id="look-alike: March claimed again at U2 for 1480"),
    pytest.param("0,25", True, id="look-alike: March's insurance claimed again at U2"),
])
def test_a_claim_of_nothing_is_no_claim(tmp_path: Path, amounts: str, found: bool) -> None:
    """A claims export that keeps an application refused or withdrawn as a row of 0 yuan (and no
    insurance) asks for no money: no rule judges it (here, March claimed at U1 and, for nothing,
    at U2 is not one month claimed twice). A row that asks for anything is a claim."""
    inputs = _inputs(tmp_path / "in", "2024-08-01,2024-12-31,2024-07-20")
    claims = (inputs / "claims.csv").read_text(encoding="utf-8").replace(
        "claim_type,amount,submitted_date\n", "claim_type,amount,insurance_amount,submitted_date\n")
    claims = "\n".join(line.replace(",1480,", ",1480,,") for line in claims.splitlines())
    (inputs / "claims.csv").write_text(claims + f"\nX3,{U2},{P1},,2024-03,月度,{amounts},2024-04-02\n", encoding="utf-8")
    assert _fired(inputs, tmp_path / "run", "DUPLICATE_TRAINEE.same_month_claimed_twice") == found
    assert pl.read_parquet(tmp_path / "run" / "normalised" / "claims.parquet").height == 7  # kept, not judged
