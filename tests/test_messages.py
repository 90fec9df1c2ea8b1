"""What the command line says: Chinese help on every command, click's own usage errors in
Chinese first, a pipe closed early ends cleanly (issue #14, point 7)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from audit.app.cli import main
from audit.app.messages import usage_error_text
from tests.test_cli_docs import COMMANDS

ROOT = Path(__file__).resolve().parent.parent


def _chinese(text: str) -> bool:
    return any("\u4e00" <= ch <= "\u9fff" for ch in text)


@pytest.mark.parametrize("path", [(), *COMMANDS], ids=lambda p: " ".join(p) or "audit")
def test_every_help_is_in_chinese(path: tuple[str, ...]) -> None:
    result = CliRunner().invoke(main, [*path, "--help"])
    assert result.exit_code == 0, result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert lines[0].startswith("用法 / Usage:")
    assert _chinese(lines[1]), f"audit {' '.join(path)} --help does not start in Chinese: {lines[1]!r}"
    assert "选项 / Options" in result.output and "显示本帮助并退出" in result.output
    command = main
    for name in path:
        command = command.commands[name]  # type: ignore[attr-defined]
    silent = [p.name for p in command.params if isinstance(p, click.Option) and not _chinese(p.help or "")]
    assert silent == [], f"options without Chinese help: {silent}"  # every option says what it is in Chinese


USAGE_ERRORS = [
    (["run", "fixtures/demo"], "缺少必需的选项", "--month"),
    (["run", "--bogus"], "没有这个选项", "--bogus"),
    (["nosuch"], "没有这个命令", "nosuch"),
    (["report", "/no/such/dir"], "路径不存在", "/no/such/dir"),
]


@pytest.mark.parametrize("args, chinese, named", USAGE_ERRORS, ids=[" ".join(a[0]) for a in USAGE_ERRORS])
def test_clicks_own_errors_are_bilingual(args: list[str], chinese: str, named: str) -> None:
    result = CliRunner().invoke(main, args, standalone_mode=True)
    assert result.exit_code == 2, result.output
    assert f"用法错误 / usage error: {chinese} / " in result.output and named in result.output
    assert "查看帮助" in result.output


def test_an_unknown_click_message_is_kept_as_it_is() -> None:
    assert usage_error_text("Something new") == "Something new"


def test_a_pipe_closed_early_ends_cleanly() -> None:
    """`audit policy show 江西 | head -1`: exit 0, no BrokenPipeError."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen([sys.executable, "-m", "audit", "policy", "show", "江西"], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert proc.stdout is not None and proc.stderr is not None
    first = proc.stdout.readline()
    proc.stdout.close()  # what `head -1` does after its line
    err = proc.stderr.read().decode("utf-8")
    assert proc.wait(timeout=60) == 0, err
    assert "江西" in first.decode("utf-8")
    assert "BrokenPipe" not in err and "运行错误" not in err


def test_report_on_a_directory_that_is_not_a_run_is_invalid_input(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["report", str(tmp_path)])
    assert result.exit_code == 2 and "输入无法使用" in result.output


def test_the_terminal_table_keeps_national_figures_apart() -> None:
    """At national scale a family's claims and money are wider than the demo's: every cell of
    the terminal table still stands apart from its neighbours, and the columns line up."""
    from audit.app.cli import _width, format_summary

    def row(family: str, n: int, money: float) -> dict:
        return {"family": family, "findings": n, "persons": n, "units": n, "claims": 8_342_000 + n,
                "amount_at_risk": money, "recover": money, "stop_payment": 0.0}

    summary = {"audit_month": "2026-11", "si_as_of": "2026-11",
               "by_family": [row("DUPLICATE_TRAINEE", 17_230, 11_599_812.0), row("TOTAL", 173_919, 352_863_795.0)]}
    lines = format_summary(summary).splitlines()
    table = [line for line in lines if line.startswith(("重复身份", "合计"))]
    assert len(table) == 2
    for line in table:
        cells = re.split(r" {2,}", line.strip())
        assert len(cells) == 8, line  # eight cells: none ran into the next
        assert "8,359,230" in cells or "8,515,919" in cells
    head = next(line for line in lines if line.startswith("问题类别"))
    widths = {_width(line.rstrip()) for line in table}  # right-aligned money: the rows end together
    assert len(widths) == 1 and head.split()[0] == "问题类别"
