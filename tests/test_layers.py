"""The layers of docs/how-it-works.md hold (``lint-imports``, the contracts in
pyproject.toml), and an import against them is caught: a scratch copy of the package
with one upward import fails the check."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from conftest import ROOT

LINT = str(Path(sys.executable).with_name("lint-imports"))


def _lint(src: Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(src)}
    return subprocess.run(
        [LINT, "--no-cache"], capture_output=True, text=True, env=env, cwd=cwd, timeout=300
    )


def test_the_layers_hold() -> None:
    done = _lint(ROOT / "src", ROOT)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "BROKEN" not in done.stdout


def test_an_upward_import_breaks_them(tmp_path: Path) -> None:
    shutil.copytree(ROOT / "src" / "cppqa", tmp_path / "src" / "cppqa")
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    splitter = tmp_path / "src" / "cppqa" / "documents" / "corpus.py"
    splitter.write_text(splitter.read_text() + "\nfrom cppqa.qa import QA  # upward\n")
    done = _lint(tmp_path / "src", tmp_path)
    assert done.returncode != 0
    assert "cppqa.documents.corpus -> cppqa.qa" in done.stdout, done.stdout


def test_training_stays_out_of_answering(tmp_path: Path) -> None:
    shutil.copytree(ROOT / "src" / "cppqa", tmp_path / "src" / "cppqa")
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    api = tmp_path / "src" / "cppqa" / "web" / "api.py"
    api.write_text(api.read_text() + "\nimport cppqa.training.adapt  # the answer path\n")
    done = _lint(tmp_path / "src", tmp_path)
    assert done.returncode != 0
    assert "Answering never imports training BROKEN" in done.stdout, done.stdout
