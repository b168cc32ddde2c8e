"""Checking and cleaning a question before anything heavy is loaded."""

from __future__ import annotations

import re
import unicodedata

from cppqa.errors import QuestionError

_WORD = re.compile(r"\w")


def clean_question(question: object, limit: int) -> str:
    """The question with control characters and runs of space collapsed.

    Raises ``QuestionError`` for a question that is not text, empty, longer
    than ``limit`` characters, or without any word to search for.

    >>> clean_question("  When\\x00 was it?\\n", 1000)
    'When was it?'
    """
    if not isinstance(question, str):
        raise QuestionError(f"a question must be text, not {type(question).__name__}")
    cleaned = question.encode("utf-8", "replace").decode("utf-8")  # lone surrogates → '?'
    cleaned = "".join(" " if unicodedata.category(ch)[0] == "C" else ch for ch in cleaned)
    cleaned = re.sub(r"\s+", " ", cleaned).strip()
    if not cleaned:
        raise QuestionError("the question is empty; type a question about the document")
    if len(cleaned) > limit:
        raise QuestionError(
            f"the question is {len(cleaned):,} characters long; the limit is {limit:,}"
        )
    if not _WORD.search(cleaned):
        raise QuestionError(f"the question {cleaned!r} has no words to search for")
    return cleaned
