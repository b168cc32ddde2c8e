"""suggestions.py: example questions made from a document's own headings, dates and names."""

from __future__ import annotations

import re

import pytest

from conftest import CORPUS
from cppqa.documents.corpus import corpus_passages, load_corpus, split_sentences
from cppqa.records import Document, Heading
from cppqa.web.suggestions import EACH, MOST, from_headings, spread, suggest


def _document(text: str, headings: tuple[tuple[int, str], ...] = (), doc: str = "d.md") -> Document:
    return Document(
        doc, "The Title", text, "", headings=tuple(Heading(0, lvl, h) for lvl, h in headings)
    )


def _asked(text: str, headings: tuple[tuple[int, str], ...] = ()) -> tuple[str, ...]:
    document = _document(text, headings)
    return suggest([document], split_sentences(text, document.doc))


@pytest.mark.parametrize(
    ("heading", "question"),
    [
        ("Installation", "What is said about “Installation”?"),
        ("  Safety  notes: ", "What is said about “Safety notes”?"),
        ("How to replace the filter", "How to replace the filter?"),
        ("Why does the pump stop?", "Why does the pump stop?"),
        ("Contents", None),
        ("Table of Contents", None),
        ("The Title", None),  # the document's own title
        ("3.1", None),
        ("A heading that is really a whole sentence set in bold by its writer", None),
    ],
)
def test_a_heading_becomes_a_question_about_its_section(heading: str, question: str | None) -> None:
    asked = list(from_headings(_document("Text.", ((2, heading),))))
    assert asked == ([question] if question else [])


def test_a_title_heading_is_no_example() -> None:
    assert list(from_headings(_document("Text.", ((0, "Manual"),)))) == []


@pytest.mark.parametrize(
    ("sentence", "question"),
    [
        ("The CPP was formed on March 6, 1948 in Calcutta.", "What happened on March 6, 1948?"),
        ("The dam opened on 6 March 1948.", "What happened on 6 March 1948?"),
        ("The dam opened in March 1948.", "What happened in March 1948?"),
        ("For this reason, in 1954, the party was declared illegal.", "What happened in 1954?"),
    ],
)
def test_a_date_becomes_a_question(sentence: str, question: str) -> None:
    assert _asked(sentence)[0] == question


@pytest.mark.parametrize(
    "sentence",
    [
        "The pump moves 12,000 litres an hour.",
        "Set the voltage to 1954.5 volts.",
        "Call 1954-2210 for help.",
        "it costs 99 rupees.",
    ],
)
def test_numbers_that_are_no_years_give_no_question(sentence: str) -> None:
    assert _asked(sentence) == ()


def test_names_of_two_words_or_more_become_questions() -> None:
    asked = _asked("The bridge was opened by Mary Brown. Later Tom came. Mary Brown left.")
    assert asked == ("What is said about Mary Brown?",)  # once; "Tom" is one word


def test_headings_first_then_dates_and_names_in_turn() -> None:
    text = "In 1931, Mary Brown opened the bridge. In 1932, John Smith closed it."
    asked = _asked(text, ((1, "Setup"),))
    assert asked == (
        "What is said about “Setup”?",
        "What happened in 1931?",
        "What is said about Mary Brown?",
        "What happened in 1932?",
        "What is said about John Smith?",
    )


def test_a_chronicle_offers_a_few_dates_spread_over_it() -> None:
    text = " ".join(f"In {1800 + n}, the bridge was painted." for n in range(40))
    assert _asked(text) == (
        "What happened in 1800?",
        "What happened in 1813?",
        "What happened in 1826?",
        "What happened in 1839?",
    )
    assert EACH == 4


def test_documents_take_turns_and_there_are_at_most_eight() -> None:
    documents = [
        _document("Text.", tuple((1, f"Part {n} of {doc}") for n in range(10)), doc=doc)
        for doc in ("a.md", "b.md")
    ]
    asked = suggest(documents, [])
    assert len(asked) == MOST == 8
    assert asked[:3] == (
        "What is said about “Part 0 of a.md”?",
        "What is said about “Part 0 of b.md”?",
        "What is said about “Part 1 of a.md”?",
    )


def test_nothing_to_ask_gives_no_examples() -> None:
    assert _asked("it was a quiet day. nothing happened.") == ()


def test_spread_keeps_the_first_and_the_last() -> None:
    assert spread(list("abcdefg"), 3) == ["a", "d", "g"]
    assert spread(list("ab"), 3) == ["a", "b"]
    assert spread(list("abc"), 1) == ["a"]


@pytest.mark.slow
def test_the_shipped_documents_examples_are_its_own_words() -> None:
    """Nothing is generated: what a template is filled with is in the document, verbatim."""
    documents = load_corpus(CORPUS)
    sentences, _ = corpus_passages(documents, 3, 1)
    asked = suggest(documents, sentences)
    assert 6 <= len(asked) <= MOST
    text = documents[0].text
    for question in asked:
        filled = re.fullmatch(r"What (?:happened (?:in|on)|is said about) “?(.+?)”?\?", question)
        assert filled is not None, question
        assert filled.group(1) in text, question
