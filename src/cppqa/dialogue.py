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

from cppqa.extract import AnswerType, typed_spans

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
_NO_SUBJECT: frozenset[str] = frozenset()


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
    follow_up: bool = False
    wants_more: bool = False


def resolve(question: str, history: Sequence[Turn]) -> Resolution:
    """Rewrite ``question`` so it stands on its own, given the earlier turns."""
    if not history:
        return Resolution(question)
    last = history[-1]
    wants_more = bool(_ELSE.search(question))
    text = question.strip()
    changed = False

    ellipsis = _ELLIPSIS.match(text)
    if ellipsis and len(text[ellipsis.end() :].split()) <= 4:
        text = _complete(text[ellipsis.end() :], last.query)
        changed = True

    person = _referent(last, AnswerType.WHO)
    if person and _PERSONAL.search(text):
        text = _PERSONAL.sub(lambda m: _possessive(person, m.group(1)), text)
        changed = True
    thing = _referent(last, AnswerType.NAME)
    if _IMPERSONAL.search(text) and thing:
        text = _IMPERSONAL.sub(lambda m: _possessive(thing, m.group(1)), text)
        changed = True
    elif _IMPERSONAL.search(text) or _EVENT.search(text) or (wants_more and not changed):
        # "When did that happen?": the event is what the last turn was about.
        text = f"{text} ({_context(last)})"
        changed = True
    return Resolution(text, follow_up=changed, wants_more=wants_more)


def _complete(fragment: str, previous: str) -> str:
    """Fill an elliptical fragment ("where?", "in 1958?") from the previous question."""
    fragment = fragment.strip().rstrip("?").strip()
    wh = _WH.fullmatch(fragment)
    if wh:
        return (
            _WH.sub(fragment, previous, count=1)
            if _WH.search(previous)
            else (f"{fragment} {previous}")
        )
    year = _YEAR.search(fragment)
    if year and _YEAR.search(previous):
        return _YEAR.sub(year.group(), previous, count=1)
    return f"{previous.rstrip('?')} {fragment}?"


def _referent(turn: Turn, kind: AnswerType) -> str | None:
    """The person (or named thing) the last turn was about."""
    for text in (turn.answer, turn.query, turn.sentence):
        if not text:
            continue
        spans = typed_spans(text, kind, _NO_SUBJECT)
        if spans:
            return text[spans[0].start : spans[0].end]
    return None


def _possessive(name: str, pronoun: str) -> str:
    return (
        f"{name}'s" if pronoun.lower() in {"his", "her", "its", "their", "hers", "theirs"} else name
    )


def _context(turn: Turn) -> str:
    return (turn.answer or "") + " " + turn.query if turn.answer else turn.query
