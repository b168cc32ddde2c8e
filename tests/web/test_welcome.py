"""welcome.py: the page's title, prompts and examples for the shipped document or an upload."""

from __future__ import annotations

import pytest

from cppqa.config import Settings
from cppqa.documents.corpus import split_sentences
from cppqa.records import Document, Heading
from cppqa.web.welcome import (
    SHIPPED,
    expired,
    idle_time,
    named,
    prompt,
    shortened,
    subject_of,
    welcome_for,
)

NOTES = Document(
    "notes.md",
    "Notes",
    "Budget\nThe river bridge was opened in 1931 by Mary Brown.",
    "",
    headings=(Heading(0, 1, "Budget"),),
)
#: Words of the shipped document's title ("Communist Party of Pakistan: a short history")
#: and of the page's, less "the", "of", "a" and "ask".
SHIPPED_WORDS = {"communist", "party", "pakistan", "short", "history"}


def test_an_upload_speaks_of_its_files_and_its_own_text() -> None:
    welcome = welcome_for([NOTES], split_sentences(NOTES.text, NOTES.doc))
    assert welcome.title == "Ask notes.md"
    assert welcome.prompt(1000) == "Ask notes.md (up to 1,000 characters)…"
    assert welcome.invitation == "Ask about notes.md, or pick an example made from it."
    assert welcome.examples == (
        "What is said about “Budget”?",
        "What happened in 1931?",
        "What is said about Mary Brown?",
    )
    words = " ".join([welcome.title, welcome.lede, welcome.invitation, *welcome.examples])
    assert SHIPPED_WORDS.isdisjoint(words.lower().split())


def test_an_upload_with_nothing_to_ask_offers_no_example() -> None:
    plain = Document("plain.txt", "Plain", "it rained. it stopped.", "")
    welcome = welcome_for([plain], split_sentences(plain.text, plain.doc))
    assert welcome.examples == ()
    assert welcome.invitation == "Ask about plain.txt."


def test_several_files_are_named_in_a_few_words() -> None:
    documents = [Document(f"{n}.md", "", "x", "") for n in "abc"]
    welcome = welcome_for(documents, [])
    assert welcome.title == "Ask a.md and 2 other files"
    assert welcome.lede.startswith("Answers are quoted word for word from your files")
    assert welcome.prompt(1000) == "Ask your 3 files (up to 1,000 characters)…"


@pytest.mark.parametrize(
    ("names", "said"),
    [
        (["a.pdf"], "a.pdf"),
        (["a.pdf", "b.md"], "a.pdf and b.md"),
        (["a.pdf", "b.md", "c.txt"], "a.pdf and 2 other files"),
        (["x" * 40 + ".pdf"], "x" * 23 + "…xxxx.pdf"),
    ],
)
def test_named(names: list[str], said: str) -> None:
    assert named(names) == said


def test_shortened_keeps_short_names_and_the_end_of_long_ones() -> None:
    assert shortened("report.pdf") == "report.pdf"
    long = "minutes-of-the-harbour-board-meeting-2026.docx"
    assert shortened(long) == "minutes-of-the-harbour-…026.docx"
    assert len(shortened(long)) == 32


def test_the_shipped_page_is_written_by_hand() -> None:
    assert SHIPPED.title == "Ask the history of the Communist Party of Pakistan"
    assert SHIPPED.prompt(1000) == prompt("", 1000) == "Ask a question (up to 1,000 characters)…"
    assert subject_of(None) == ""
    assert 6 <= len(SHIPPED.examples) <= 8


@pytest.mark.parametrize(
    ("seconds", "said"), [(60.0, "1 minute"), (1800.0, "30 minutes"), (5.0, "1 minute")]
)
def test_idle_time_in_words(seconds: float, said: str) -> None:
    assert idle_time(Settings(upload_idle_seconds=seconds)) == said
    assert expired(Settings(upload_idle_seconds=seconds)).startswith(
        f"Your documents were removed after {said} unused."
    )
