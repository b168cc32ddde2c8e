"""Resolve a follow-up question against the conversation before it is searched.

"Who is the General Secretary?" → "Imdad Qazi"; then "What is his title?"
becomes "What is Imdad Qazi's title?". Ellipsis reuses the last question:
after "When was the CPP formed?", "And where?" becomes "where was the CPP
formed?" and "And in 1958?" swaps the year. A question with no pronoun and
no ellipsis is a new topic and stands alone.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from cppqa.extract import AnswerType, classify, typed_spans

_PERSONAL = re.compile(r"\b(he|she|him|his|her|hers)\b", re.IGNORECASE)
_IMPERSONAL = re.compile(r"\b(it|its|they|them|their|theirs)\b", re.IGNORECASE)
_EVENT = re.compile(r"\b(that|this|then|there)\b(?!\s+\w+\s+(?:was|is|were|are)\b)", re.IGNORECASE)
_ELLIPSIS = re.compile(
    r"^\s*(?:and|but|also|what about|how about|and what about)\b[\s,]*", re.IGNORECASE
)
_ELSE = re.compile(
    r"\b(?:what|who|which|where) else\b|\banything else\b|\bany other\b", re.IGNORECASE
)
_WH = re.compile(
    r"\b(when|where|who|whom|whose|what|which|why|how(?: long| many| much)?)\b", re.IGNORECASE
)
_YEAR = re.compile(r"\b(?:1[5-9]|20)\d{2}\b")
#: Question types whose short answer can be what a later "it" refers to.
_NAMING = frozenset({AnswerType.WHO, AnswerType.NAME, AnswerType.OTHER})


@dataclass(frozen=True)
class Turn:
    """One earlier exchange: what was asked, how it was understood, what was answered."""

    question: str
    query: str
    answer: str | None = None
    sentence: str | None = None


@dataclass(frozen=True)
class Resolution:
    """A question as understood, and whether it asks for something new ("what else")."""

    query: str
    #: Words from the conversation that help the search but are not the question.
    context: str = ""
    follow_up: bool = False
    wants_more: bool = False


def resolve(
    question: str,
    history: Sequence[Turn],
    topic: str | None = None,
    subject: frozenset[str] = frozenset(),
) -> Resolution:
    """Rewrite ``question`` so it stands on its own, given the earlier turns.

    ``topic`` is what "it" and "they" mean when the last turn names nothing
    (the document's subject, e.g. "the party"); names in ``subject`` are
    never taken for what a pronoun points back to.
    """
    if not history:
        return Resolution(question)
    last = history[-1]
    wants_more = bool(_ELSE.search(question))
    text = question.strip()
    context = ""

    ellipsis = _ELLIPSIS.match(text)
    if ellipsis and len(text[ellipsis.end() :].split()) <= 4:
        text, context = _complete(text[ellipsis.end() :], last)
    elif _WH.fullmatch(text.rstrip("?! .")):
        text, context = _complete(text, last)  # a bare "Where?" or "Why?"

    person = _referent(last, AnswerType.WHO, subject)
    if person and _PERSONAL.search(text):
        text = _PERSONAL.sub(lambda m: _possessive(person, m.group(1)), text)
    thing = _thing(last, subject) or topic
    if thing and _IMPERSONAL.search(text):
        text = _IMPERSONAL.sub(lambda m: _possessive(thing, m.group(1)), text)
    if _EVENT.search(text) or _IMPERSONAL.search(text) or wants_more:
        # "When did that happen?": the event is what the last turn was about.
        context = _context(last)
    return Resolution(
        text, context, follow_up=text != question.strip() or bool(context), wants_more=wants_more
    )


def _complete(fragment: str, last: Turn) -> tuple[str, str]:
    """Fill an elliptical fragment ("where?", "in 1958?") from the previous question.

    Returns the question as understood and extra context for the search.
    """
    fragment = fragment.strip().rstrip("?").strip()
    previous = last.query
    if _WH.fullmatch(fragment) and _WH.search(previous):
        return _WH.sub(fragment.lower(), previous, count=1), ""
    year = _YEAR.search(fragment)
    if year and _YEAR.search(previous):
        return _YEAR.sub(year.group(), previous, count=1), ""
    # "And the rest?": ask about the fragment, searching near the last answer.
    return f"What about {fragment}?", _context(last)


def _referent(turn: Turn, kind: AnswerType, subject: frozenset[str]) -> str | None:
    """The person (or named thing) the last turn was about."""
    for text in (turn.answer, turn.query, turn.sentence):
        if not text:
            continue
        spans = typed_spans(text, kind, subject)
        if spans:
            return text[spans[0].start : spans[0].end]
    return None


def _thing(turn: Turn, subject: frozenset[str]) -> str | None:
    """What "it" or "they" points back to: a short answer naming something, else a name."""
    if turn.answer and len(turn.answer.split()) <= 6 and classify(turn.query) in _NAMING:
        return turn.answer
    return _referent(turn, AnswerType.NAME, subject)


def _possessive(name: str, pronoun: str) -> str:
    possessive = pronoun.lower() in {"his", "her", "its", "their", "hers", "theirs"}
    return f"{name}'s" if possessive else name


def _context(turn: Turn) -> str:
    return f"{turn.answer or ''} {turn.query}".strip()
