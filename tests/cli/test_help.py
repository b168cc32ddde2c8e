"""Every ``--help`` the CLI prints stays the same, byte for byte (issue 34): moving code
between modules must not change what a user reads. The expected texts are in
tests/data/help/, taken at 80 columns; a new or renamed command needs its own file."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from conftest import ROOT

HELP = ROOT / "tests" / "data" / "help"
COMMANDS = ("", "ask", "chat", "index", "eval", "train-reader", "bench")


def _help(command: str) -> bytes:
    env = {**os.environ, "COLUMNS": "80", "LINES": "24"}
    argv = [sys.executable, "-m", "cppqa", *([command] if command else []), "--help"]
    done = subprocess.run(argv, capture_output=True, env=env, cwd=ROOT, timeout=60)
    assert done.returncode == 0, done.stderr.decode()
    return done.stdout


@pytest.mark.parametrize("command", COMMANDS, ids=[c or "cppqa" for c in COMMANDS])
def test_help_is_unchanged(command: str) -> None:
    expected = (HELP / f"{command or 'main'}.txt").read_bytes()
    assert _help(command) == expected


def test_every_command_has_its_help_kept() -> None:
    from cppqa.cli import build_parser

    parser = build_parser()
    (commands,) = [a for a in parser._actions if a.dest == "command"]
    assert set(commands.choices) == set(COMMANDS) - {""}  # type: ignore[attr-defined]
