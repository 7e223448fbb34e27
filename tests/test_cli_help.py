"""Every command's help ends with one real example, as sqlite-utils' does."""

from __future__ import annotations

from typing import Any

import typer.main

from tests.conftest import Cli
from tracker.cli import app


def _commands(group: Any, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    found: list[tuple[str, ...]] = []
    for name, command in group.commands.items():
        if hasattr(command, "commands"):  # a group of commands
            found += _commands(command, (*prefix, name))
        else:
            found.append((*prefix, name))
    return found


def test_every_command_help_ends_with_an_example(cli: Cli) -> None:
    commands = _commands(typer.main.get_command(app))
    assert ("mark",) in commands and ("papers", "fetch") in commands and ("report", "weekly") in commands
    for path in commands:
        lines = [line.strip() for line in cli(*path, "--help").stdout.splitlines() if line.strip()]
        assert lines[-1].startswith(f"Example: tracker {' '.join(path)}"), (path, lines[-1])


def test_shell_completion_is_offered(cli: Cli) -> None:
    out = cli("--help").stdout
    assert "--install-completion" in out and "--show-completion" in out
