"""The environment the README makes reads every document format: one question of an
HTML, a Word and a PDF file, each through ``python -m cppqa ask --corpus FILE`` in a
subprocess, as a new user asks it (issue 31: a fresh install resolved an lxml without
the HTML cleaner trafilatura needs, and HTML failed with an ImportError)."""

from __future__ import annotations

import html
import json
import re
from collections.abc import Callable
from pathlib import Path

import pytest

from conftest import DOCUMENT, make_pdf, run_cli

TEXT = DOCUMENT.read_text(encoding="utf-8")
QUESTION = "When was the party declared illegal?"
ANSWER_SENTENCE = "For this reason, in 1954, the party was declared illegal."


def _paragraphs(size: int = 8) -> list[str]:
    """The shipped document in paragraphs of ``size`` sentences."""
    sentences = re.split(r"(?<=[.۔]) (?=[A-Z])", TEXT)
    return [" ".join(sentences[i : i + size]) for i in range(0, len(sentences), size)]


def write_html(path: Path) -> None:
    """A page as a documentation tool writes one: menus, a permalinked heading, a footer."""
    body = "\n".join(f"<p>{html.escape(p)}</p>" for p in _paragraphs())
    path.write_text(
        "<!DOCTYPE html><html><head><meta charset='utf-8'><title>CPP history</title></head>"
        "<body><nav><a href='/'>Home</a> <a href='/docs'>Docs</a></nav><main><article>"
        "<h1>The Communist Party of Pakistan<a class='headerlink' href='#cpp'>¶</a></h1>"
        f"{body}</article></main><footer>© 2026 Example docs</footer></body></html>",
        encoding="utf-8",
    )


def write_docx(path: Path) -> None:
    """A Word file with a heading and paragraphs (python-docx, a dependency)."""
    from docx import Document

    document = Document()
    document.add_heading("The Communist Party of Pakistan", level=1)
    for paragraph in _paragraphs():
        document.add_paragraph(paragraph)
    document.save(str(path))


def write_pdf(path: Path) -> None:
    path.write_bytes(make_pdf([_paragraphs()]))


WRITERS: dict[str, Callable[[Path], None]] = {
    "history.html": write_html,
    "history.docx": write_docx,
    "history.pdf": write_pdf,
}


@pytest.mark.slow
@pytest.mark.parametrize("name", WRITERS, ids=[Path(n).suffix[1:] for n in WRITERS])
def test_ask_one_question_of_each_format(name: str, tmp_path: Path) -> None:
    document = tmp_path / name
    WRITERS[name](document)
    cache = tmp_path / "cache"
    result = run_cli(
        "ask", "--json", "--corpus", str(document), QUESTION, env={"CPPQA_CACHE_DIR": str(cache)}
    )
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    answer = json.loads(result.stdout)
    assert "1954" in answer["answer"]
    source = answer["sources"][0]
    assert source["doc"] == name
    assert source["text"] == ANSWER_SENTENCE
    # Its index went to the cache, and no file beside the document.
    (built,) = (cache / "indexes").iterdir()
    assert (built / "manifest.json").is_file()
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(["cache", name])
