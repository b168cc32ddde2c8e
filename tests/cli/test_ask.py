"""cli/ask.py: ``cppqa ask`` and ``cppqa chat`` as a user runs them (subprocesses), and the
text rendering of an answer.

The model-loading runs are module fixtures, each started once and checked by
several tests, because every one costs a model load.
"""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest

from conftest import DOCUMENT, make_pdf, run_cli
from cppqa.cli.ask import render
from cppqa.documents.formats import read_document
from cppqa.records import NOT_FOUND, Answer, Passage, Source

CONTRACT = {"question", "query", "answer", "confidence", "sources", "threshold", "checked"}
#: "page" and "heading" were added with PDF and Word documents (issue 25): null for a .txt.
SOURCE_KEYS = {"doc", "start", "end", "text", "score", "page", "heading"}
TEXT = DOCUMENT.read_text(encoding="utf-8")


def _objects(result: subprocess.CompletedProcess[str]) -> list[dict[str, Any]]:
    return [json.loads(line) for line in result.stdout.splitlines()]


def _check_contract(obj: dict[str, Any]) -> None:
    assert set(obj) == CONTRACT
    assert isinstance(obj["confidence"], float) and 0.0 <= obj["confidence"] <= 1.0
    assert obj["sources"]
    for source in obj["sources"]:
        assert set(source) == SOURCE_KEYS
        assert source["doc"] == DOCUMENT.name
        assert TEXT[source["start"] : source["end"]] == source["text"]
        assert isinstance(source["score"], float)
        assert source["page"] is None and source["heading"] is None  # the shipped .txt
    if obj["answer"] is not None:
        assert obj["answer"] in obj["sources"][0]["text"]
        assert obj["checked"] == []  # an answer's evidence is its source
        return
    assert obj["checked"], "a refusal lists the passages it read"
    for row in obj["checked"]:
        assert set(row) == SOURCE_KEYS | {"span", "span_start", "margin", "confidence"}
        assert TEXT[row["start"] : row["end"]] == row["text"]
        if row["span"] is not None:
            assert row["margin"] <= 0 or row["confidence"] < obj["threshold"]


# --- one question ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def ask_text() -> subprocess.CompletedProcess[str]:
    return run_cli("ask", "When was the party declared illegal?")


@pytest.fixture(scope="module")
def ask_json() -> subprocess.CompletedProcess[str]:
    return run_cli("ask", "--json", "Who is the General Secretary of the Party?")


@pytest.mark.slow
def test_ask_prints_the_answer_and_its_source(ask_text: subprocess.CompletedProcess[str]) -> None:
    assert ask_text.returncode == 0, ask_text.stderr
    assert "Traceback" not in ask_text.stderr
    assert re.search(r"^Answer: .*1954", ask_text.stdout, re.MULTILINE)
    where = re.search(r"^Source: (\S+):(\d+)-(\d+)", ask_text.stdout, re.MULTILINE)
    assert where, ask_text.stdout
    doc, start, end = where.group(1), int(where.group(2)), int(where.group(3))
    assert doc == DOCUMENT.name
    assert TEXT[start:end] == "For this reason, in 1954, the party was declared illegal."
    assert '"For this reason, in **1954**, the party was declared illegal."' in ask_text.stdout


@pytest.mark.slow
def test_ask_json_prints_one_contract_object(ask_json: subprocess.CompletedProcess[str]) -> None:
    assert ask_json.returncode == 0, ask_json.stderr
    (obj,) = _objects(ask_json)
    _check_contract(obj)
    assert obj["question"] == "Who is the General Secretary of the Party?"
    assert "Imdad Qazi" in obj["answer"]
    assert obj["sources"][0]["text"] == "Comrade Imdad Qazi is the General Secretary of the Party."


# --- many questions on stdin -----------------------------------------------------------------


BATCH = [
    "When was the party declared illegal?",
    "What is the capital of France?",
    "",
    "What is his position?",
    "?!",
    "Where was Nazir Abbasi martyred?",
]


@pytest.fixture(scope="module")
def ask_batch() -> subprocess.CompletedProcess[str]:
    return run_cli("ask", "--json", "-", stdin="\n".join(BATCH) + "\n")


@pytest.mark.slow
def test_ask_stdin_prints_one_object_per_question(
    ask_batch: subprocess.CompletedProcess[str],
) -> None:
    assert "Traceback" not in ask_batch.stderr
    objects = _objects(ask_batch)
    assert [o["question"] for o in objects] == [q for q in BATCH if q]  # blank lines skipped
    illegal, france, position, bad, nazir = objects
    for obj in (illegal, france, position, nazir):
        _check_contract(obj)
    assert "1954" in illegal["answer"]
    assert france["answer"] is None
    assert nazir["answer"] is not None and "Karachi" in nazir["answer"]
    # Questions are independent: nothing carries over from one line to the next.
    assert position["query"] == "What is his position?"
    # A bad line is reported in place and the batch carries on, exiting non-zero.
    assert set(bad) == {"question", "error"}
    assert "has no words" in bad["error"]
    assert ask_batch.returncode == 1


# --- a conversation --------------------------------------------------------------------------


CHAT = [
    "Who is the General Secretary of the Party?",
    "What is his position?",
    "",
    "What is his position?",
]


@pytest.fixture(scope="module")
def chat_json() -> subprocess.CompletedProcess[str]:
    return run_cli("chat", "--json", stdin="\n".join(CHAT) + "\n")


@pytest.mark.slow
def test_chat_json_resolves_follow_ups_and_resets_on_a_blank_line(
    chat_json: subprocess.CompletedProcess[str],
) -> None:
    assert chat_json.returncode == 0, chat_json.stderr
    first, follow_up, fresh = _objects(chat_json)
    for obj in (first, follow_up, fresh):
        _check_contract(obj)
    assert "Imdad Qazi" in first["answer"]
    assert follow_up["question"] == "What is his position?"
    assert follow_up["query"] != follow_up["question"]
    assert "Imdad Qazi" in follow_up["query"]
    # After the blank line the same words mean nobody in particular.
    assert fresh["query"] == "What is his position?"


# --- another corpus --------------------------------------------------------------------------


@pytest.mark.slow
def test_ask_about_a_single_pdf_gives_the_answers_of_the_text(tmp_path: Path) -> None:
    """``--corpus FILE``: a PDF of the shipped document, same answers, quotes and offsets."""
    pdf = tmp_path / "cpp.pdf"
    pdf.write_bytes(make_pdf([[TEXT]]))
    questions = "When was the party declared illegal?\nWho is the General Secretary of the Party?\n"
    result = run_cli(
        *("ask", "--json", "--corpus", str(pdf), "--index", str(tmp_path / "index"), "-"),
        stdin=questions,
    )
    assert result.returncode == 0, result.stderr
    illegal, secretary = _objects(result)
    assert "1954" in illegal["answer"]
    source = illegal["sources"][0]
    assert source["doc"] == "cpp.pdf"
    assert TEXT[source["start"] : source["end"]] == source["text"]
    assert source["text"] == "For this reason, in 1954, the party was declared illegal."
    read = read_document(pdf, tmp_path)
    assert (source["page"], source["heading"]) == (read.page_at(source["start"]), None)
    assert "Imdad Qazi" in secretary["answer"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cpp.pdf", "index"]


def test_a_bad_corpus_file_is_named_and_no_index_is_written(tmp_path: Path) -> None:
    scan = tmp_path / "empty.pdf"
    scan.write_bytes(b"")
    result = run_cli("ask", "--corpus", str(scan), "--index", str(tmp_path / "index"), "When?")
    assert result.returncode == 2
    message = f"cppqa: error: {str(scan)!r} is empty: put the document's text in it"
    assert result.stderr.splitlines()[-1] == message
    assert "Traceback" not in result.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["empty.pdf"]  # no index was written


# --- the text rendering ----------------------------------------------------------------------


_AT = TEXT.index("For this reason, in 1954")
SENTENCE = Passage(DOCUMENT.name, _AT, _AT + 57, TEXT[_AT : _AT + 57])


def test_render_marks_the_answer_in_its_sentence() -> None:
    start = SENTENCE.start + SENTENCE.text.index("1954")
    answer = Answer("q", "q", "1954", 0.9, (Source(SENTENCE, 0.8),), start)
    assert render(answer).splitlines() == [
        "Answer: 1954",
        '  "For this reason, in **1954**, the party was declared illegal."',
        f"Source: {DOCUMENT.name}:{SENTENCE.start}-{SENTENCE.end}  (confidence 0.90)",
    ]


def test_render_quotes_a_whole_sentence_answer_once() -> None:
    answer = Answer("q", "q", SENTENCE.text, 0.9, (Source(SENTENCE, 0.8),), SENTENCE.start)
    assert render(answer).splitlines() == [
        f"Answer: {SENTENCE.text}",
        f"Source: {DOCUMENT.name}:{SENTENCE.start}-{SENTENCE.end}  (confidence 0.90)",
    ]


def test_render_names_the_page_and_heading_of_a_source() -> None:
    start = SENTENCE.start + SENTENCE.text.index("1954")
    paged = Source(SENTENCE, 0.8, page=2, heading="History")
    answer = Answer("q", "q", "1954", 0.9, (paged,), start)
    where = f"{DOCUMENT.name}:{SENTENCE.start}-{SENTENCE.end}, p. 2, “History”"
    assert render(answer).splitlines()[-1] == f"Source: {where}  (confidence 0.90)"
    nearest = Answer("q", "q", None, 0.1, (Source(SENTENCE, 0.2, page=3),))
    assert render(nearest).splitlines()[2] == (
        f'  1. {DOCUMENT.name}:{SENTENCE.start}-{SENTENCE.end}, p. 3  "{SENTENCE.text}"'
    )


def test_render_abstention_lists_the_nearest_passages() -> None:
    answer = Answer("q", "q", None, 0.1, (Source(SENTENCE, 0.2), Source(SENTENCE, 0.1)))
    lines = render(answer).splitlines()
    assert lines[0] == NOT_FOUND
    assert lines[1] == "Nearest passages (not an answer):"
    assert lines[2] == f'  1. {DOCUMENT.name}:{SENTENCE.start}-{SENTENCE.end}  "{SENTENCE.text}"'
    assert len(lines) == 4


@pytest.mark.slow
def test_ask_verbose_shows_what_a_refusal_checked() -> None:
    result = run_cli("ask", "-v", "What is the capital of France?")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert out.startswith("I couldn't find that in the document.")
    found = re.search(r"Checked (\d+) passages; closest to an answer:\n  (.+)\n  (.+)", out)
    assert found and int(found.group(1)) >= 1, out
    assert DOCUMENT.name in found.group(2)
    assert found.group(3).startswith(("best span", "the reader marked no span"))
