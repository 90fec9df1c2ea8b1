"""Every CLI command has help with an example and is documented in the README; exit codes are
documented where the CLI says they are."""

from __future__ import annotations

from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from audit.app.cli import main

README = (Path(__file__).parent.parent / "README.md").read_text(encoding="utf-8")


def _commands(group: click.Group, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    out = []
    for name, cmd in sorted(group.commands.items()):
        path = (*prefix, name)
        out.append(path)
        if isinstance(cmd, click.Group):
            out.extend(_commands(cmd, path))
    return out


COMMANDS = _commands(main)


def test_expected_commands_exist():
    names = {" ".join(c) for c in COMMANDS}
    for expected in ("run", "validate", "policy show", "fixtures generate", "evaluate", "report", "graph"):
        assert expected in names, f"audit {expected} is missing"


@pytest.mark.parametrize("path", COMMANDS, ids=lambda p: " ".join(p))
def test_every_command_has_help_with_an_example(path):
    result = CliRunner().invoke(main, [*path, "--help"])
    assert result.exit_code == 0, result.output
    assert "Example" in result.output, f"audit {' '.join(path)} --help has no example"


@pytest.mark.parametrize("path", COMMANDS, ids=lambda p: " ".join(p))
def test_every_command_is_in_the_readme(path):
    assert f"audit {' '.join(path)}" in README, f"README does not document `audit {' '.join(path)}`"


def test_exit_codes_documented():
    for code, meaning in (("0", "clean"), ("1", "findings"), ("2", "invalid input"), ("3", "run error")):
        assert code in README and meaning in README
    result = CliRunner().invoke(main, ["--help"])
    assert "Exit codes" in result.output
