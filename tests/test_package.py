"""The package stays light: importing it or asking for help loads no heavy library."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from conftest import ROOT

HEAVY = ("torch", "sentence_transformers", "faiss", "bm25s", "gradio", "numpy")

PROBES = {
    "import cppqa": "import cppqa",
    "cppqa --help": (
        "import runpy\n"
        "sys.argv = ['cppqa', '--help']\n"
        "try:\n"
        "    runpy.run_module('cppqa', run_name='__main__')\n"
        "except SystemExit as exc:\n"
        "    assert exc.code == 0, exc.code\n"
    ),
    "cppqa ask --help": (
        "from cppqa.cli import main\n"
        "try:\n"
        "    main(['ask', '--help'])\n"
        "except SystemExit as exc:\n"
        "    assert exc.code == 0, exc.code\n"
    ),
}


@pytest.mark.parametrize("probe", PROBES, ids=list(PROBES))
def test_no_heavy_imports(probe: str) -> None:
    code = (
        "import sys, json\n"
        + PROBES[probe]
        + f"\nloaded = [m for m in {HEAVY!r} if m in sys.modules]\n"
        + "print('LOADED=' + json.dumps(loaded))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=60
    )
    assert result.returncode == 0, result.stderr
    line = result.stdout.strip().splitlines()[-1]
    assert line.startswith("LOADED=")
    assert json.loads(line.removeprefix("LOADED=")) == []


def test_probe_can_see_a_heavy_import() -> None:
    """The check above would notice: asking for ``QA`` does load numpy."""
    code = "import sys, cppqa\ncppqa.QA\nprint('numpy' in sys.modules)"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=60
    )
    assert result.stdout.strip() == "True", result.stderr


def test_public_names() -> None:
    import cppqa

    assert cppqa.__version__
    assert set(cppqa.__all__) == {"QA", "Answer", "CppqaError", "Passage", "Source", "__version__"}


def _names(lines: list[str]) -> set[str]:
    """Distribution names of requirement lines, normalised (PEP 503)."""
    import re

    found = set()
    for line in lines:
        line = line.split("#", 1)[0].strip()
        if line and not line.startswith("-"):
            name = re.match(r"[A-Za-z0-9][A-Za-z0-9._-]*", line)
            assert name, line
            found.add(re.sub(r"[-_.]+", "-", name.group()).lower())
    return found


def test_the_space_installs_every_runtime_dependency() -> None:
    """Spaces installs requirements.txt, not pyproject.toml: a dependency missing there
    breaks the Space alone (HTML pages once did, without lxml_html_clean)."""
    import tomllib

    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    needed = _names(project["project"]["dependencies"])
    listed = _names((ROOT / "requirements.txt").read_text(encoding="utf-8").splitlines())
    assert needed - listed == set()
    assert "tesseract-ocr" in (ROOT / "packages.txt").read_text(encoding="utf-8").split()
