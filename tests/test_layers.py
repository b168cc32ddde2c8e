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


def _with_import(tmp_path: Path, module: str, line: str) -> subprocess.CompletedProcess[str]:
    """``lint-imports`` over a scratch copy of the package where ``module`` (a path under
    src/cppqa) ends with ``line``."""
    shutil.copytree(ROOT / "src" / "cppqa", tmp_path / "src" / "cppqa")
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    changed = tmp_path / "src" / "cppqa" / module
    changed.write_text(changed.read_text() + f"\n{line}\n")
    return _lint(tmp_path / "src", tmp_path)


def test_an_upward_import_breaks_them(tmp_path: Path) -> None:
    done = _with_import(tmp_path, "documents/corpus.py", "from cppqa.qa import QA  # upward")
    assert done.returncode != 0
    assert "cppqa.documents.corpus -> cppqa.qa" in done.stdout, done.stdout


def test_training_stays_out_of_answering(tmp_path: Path) -> None:
    done = _with_import(tmp_path, "web/api.py", "import cppqa.training.adapt  # the answer path")
    assert done.returncode != 0
    assert "Answering never imports training BROKEN" in done.stdout, done.stdout


def test_a_loop_inside_a_package_breaks_them(tmp_path: Path) -> None:
    done = _with_import(tmp_path, "search/fusion.py", "import cppqa.search.retrieve  # a loop")
    assert done.returncode != 0
    assert "No import loops between the modules of a package BROKEN" in done.stdout, done.stdout
