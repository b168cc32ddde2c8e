"""cli/__init__.py (``main``): a command's error is one line and exit status 2, without a
traceback; help on every command; no command is a usage error."""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import run_cli


@pytest.mark.parametrize(
    ("args", "env", "message"),
    [
        (["ask", ""], {}, "the question is empty; type a question about the document"),
        (["ask", "   \t "], {}, "the question is empty; type a question about the document"),
        (
            ["ask", "--corpus", "/nonexistent", "When was the party declared illegal?"],
            {},
            "corpus folder '/nonexistent' does not exist; create it",
        ),
        (
            ["chat", "--corpus", "/nonexistent"],
            {},
            "corpus folder '/nonexistent' does not exist; create it",
        ),
        (
            ["ask", "--no-rebuild", "--index", "{tmp}/missing", "When?"],
            {},
            "no index in '{tmp}/missing'; run `cppqa index` to rebuild it, or drop --no-rebuild",
        ),
        (
            ["ask", "--model", "/nonexistent", "When?"],
            {},
            "model folder '/nonexistent' has no model.safetensors",
        ),
        (["ask", "When?"], {"CPPQA_TOP_K": "three"}, "CPPQA_TOP_K='three' is not a valid int"),
        (
            ["ask", "--reader", "{tmp}", "When?"],
            {},
            "no trained reader in '{tmp}' (missing model.safetensors); train one",
        ),
        (
            ["train-reader", "--data", "{tmp}/none.json"],
            {},
            "--data '{tmp}/none.json' is not a file",
        ),
        (
            ["train-reader", "--data", "tests/data/squad-slice.json", "--examples", "2"],
            {},
            "--examples must be at least the batch size (16)",
        ),
        (
            [
                "train-reader",
                "--data",
                "tests/data/squad-slice.json",
                "--resume",
                "--checkpoint",
                "{tmp}/ck",
            ],
            {},
            "--resume: no checkpoint at '{tmp}/ck/state.pt'; start without --resume",
        ),
        (
            ["eval", "--squad", "{tmp}/none.json"],
            {},
            "cannot read SQuAD data from '{tmp}/none.json'",
        ),
        (
            ["eval", "--squad", "tests/data/squad-slice.json", "--articles", "Atlantis"],
            {},
            "--articles: no article titled 'Atlantis' in the file",
        ),
        (
            ["eval", "--squad", "tests/data/squad-slice.json", "--conversations", "--calibrate"],
            {},
            "--conversations scores follow-ups: drop --calibrate and --foreign",
        ),
        (
            [
                "eval",
                "--squad",
                "tests/data/squad-slice.json",
                "--conversations",
                "--articles",
                "Symbiosis",
            ],
            {},
            "--conversations: none of these articles has a follow-up to ask",
        ),
        (
            ["train-reader", "--data", "tests/data/squad-slice.json", "--lr", "2"],
            {},
            "--lr must be between 0 and 1, got 2.0",
        ),
    ],
    ids=[
        "empty",
        "whitespace",
        "no-corpus",
        "chat-no-corpus",
        "no-rebuild",
        "no-model",
        "env",
        "no-reader",
        "train-no-data",
        "train-few",
        "train-no-checkpoint",
        "squad-missing",
        "squad-article",
        "conversations-calibrate",
        "conversations-none",
        "train-lr",
    ],
)
def test_errors_are_one_line_without_traceback(
    args: list[str], env: dict[str, str], message: str, tmp_path: Path
) -> None:
    result = run_cli(*[a.replace("{tmp}", str(tmp_path)) for a in args], env=env)
    assert result.returncode == 2
    assert result.stderr.startswith("cppqa: error: "), result.stderr
    assert message.replace("{tmp}", str(tmp_path)) in result.stderr
    assert "Traceback" not in result.stderr
    assert result.stdout == ""


@pytest.mark.parametrize(
    "command", [[], ["ask"], ["chat"], ["index"], ["eval"], ["train-reader"], ["bench"]]
)
def test_help_on_every_command(command: list[str]) -> None:
    result = run_cli(*command, "--help")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(f"usage: cppqa {' '.join(command)}".rstrip())
    assert result.stderr == ""


def test_a_missing_command_is_a_usage_error() -> None:
    result = run_cli()
    assert result.returncode == 2
    assert "usage: cppqa" in result.stderr
    assert "Traceback" not in result.stderr
