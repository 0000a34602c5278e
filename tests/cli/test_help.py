"""`--help` reads as plain text: a docstring's paragraphs are reflowed to the terminal, never cut
where the source line happened to end."""

from __future__ import annotations

import itertools

import pytest
from typer.testing import CliRunner

from reporter.cli import app

COMMANDS = ("validate", "assess", "report", "verify", "seal", "keygen", "schema", "import", "mappings")


def _help(*args: str) -> str:
    result = CliRunner().invoke(app, [*args, "--help"], env={"COLUMNS": "80"}, terminal_width=80)
    assert result.exit_code == 0, result.output
    return result.stdout


def test_the_command_list_is_one_line_per_command() -> None:
    listing = _help().split("Commands:\n", 1)[1].splitlines()
    assert [line.split()[0] for line in listing if line.strip()] == list(COMMANDS)
    assert all(len(line) <= 80 for line in listing)


@pytest.mark.parametrize("command", COMMANDS)
def test_a_commands_description_is_one_reflowed_paragraph(command: str) -> None:
    text = _help(command)
    description = text.split("\n\n", 2)[1]  # after the usage line
    lines = description.splitlines()
    assert all(len(line) <= 80 for line in lines)
    # reflowed: a line ends only where the next word would not have fitted
    for line, following in itertools.pairwise(lines):
        assert len(line) + 1 + len(following.split()[0]) > 80, description
    assert "╭" not in text  # plain text: no box drawing in logs or screen readers
