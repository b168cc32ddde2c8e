"""Resolve a follow-up question against the conversation before it is searched.

"Who is the General Secretary?" → "Imdad Qazi"; then "What is his title?"
becomes "What is Imdad Qazi's title?". Ellipsis reuses the last question:
after "When was the CPP formed?", "And where?" becomes "where was the CPP
formed?" and "And in 1958?" swaps the year. A question with no pronoun and
no ellipsis is a new topic and stands alone.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from cppqa.mentions import AnswerType, classify, group_span, typed_spans
from cppqa.terms import IRREGULAR, STOPWORDS, cue_stems, stem, subject_stems, words

_PERSONAL = re.compile(r"\b(he|she|him|his|her|hers)\b", re.IGNORECASE)
_IMPERSONAL = re.compile(r"\b(it|its)\b", re.IGNORECASE)
_PLURAL = re.compile(r"\b(they|them|their|theirs)\b", re.IGNORECASE)
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
_TOKEN = re.compile(r"[\w'-]+")
# A past or present participle, or an irregular past form: not part of a noun phrase.
_VERB_FORM = re.compile(rf"\w{{2,}}(?:ed|ing)|{'|'.join(sorted(IRREGULAR))}")
_PLURAL_NOUN = re.compile(r"[^siu']s$")  # "fronts", not "basis", "status", "class"
#: The most words a thing named in lower case may have ("the party's secret headquarter").
_MAX_PHRASE = 4
_YEAR = re.compile(r"\b(?:1[5-9]|20)\d{2}\b")
#: Question types whose short answer can be what a later "it" refers to.
_NAMING = frozenset({AnswerType.WHO, AnswerType.NAME})


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
    fits: Callable[[str], float] | None = None,
) -> Resolution:
    """Rewrite ``question`` so it stands on its own, given the earlier turns.

    ``topic`` is what "it" and "they" mean when the last turn names nothing
    (the document's subject, e.g. "the party"); names in ``subject`` are
    never taken for what a pronoun points back to. ``fits`` says how much of a
    question one sentence of the corpus says: when the last question names no
    name, "it" may be a thing it speaks of in lower case, if the question so read
    fits the corpus at least as well as with the topic ("When was martial law
    imposed?", then "Who imposed it?" → "Who imposed martial law?").
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
        text = _PERSONAL.sub(_replacing(person), text)
    named = _thing(last, subject)
    thing = named or topic
    if not named and fits and topic and _IMPERSONAL.search(text):
        # from the last question as asked: not the words an earlier turn lent it
        phrase = _phrase(last.question, text, subject)
        if phrase:
            as_phrase, as_topic = (_IMPERSONAL.sub(_replacing(t), text) for t in (phrase, topic))
            fit = fits(as_phrase)
            if fit > 0 and fit >= fits(as_topic):
                thing = phrase
    if thing and _IMPERSONAL.search(text):
        text = _IMPERSONAL.sub(_replacing(thing), text)
    group = _group(last) or named or topic
    if group and _PLURAL.search(text):
        text = _PLURAL.sub(_replacing(group), text)
    if _EVENT.search(text) or _IMPERSONAL.search(text) or _PLURAL.search(text) or wants_more:
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
    """What "it" points back to: the short answer to a who/which question, else a
    name in the last question other than the document's subject (None: the subject).

    After "What is the CPP's ideology?" → "Marxism-Leninism", "it" is still the CPP.
    """
    kind = classify(turn.query)
    if kind is AnswerType.WHO and turn.answer and typed_spans(turn.answer, kind, subject):
        return None  # "it" is not the person just named: "he" or "she" would be
    if turn.answer and len(turn.answer.split()) <= 6 and kind in _NAMING:
        return turn.answer
    spans = typed_spans(turn.query, AnswerType.NAME, subject)
    return turn.query[spans[0].start : spans[0].end] if spans else None


def _phrase(query: str, question: str, subject: frozenset[str]) -> str | None:
    """The longest run of lower-case words in ``query`` that carry meaning, are not the
    document's subject and are not in ``question`` (which says what is asked of the
    thing), up to its first verb form: "When was martial law imposed?", "Who imposed
    it?" → "martial law". None for a plural ("it" is one thing) or a run too long.
    """
    query = query.replace("’", "'")
    # the subject's words, those the follow-up asks with, and cue words
    skipped = subject_stems(subject) | cue_stems() | {stem(w) for w in words(question)}
    runs: list[list[re.Match[str]]] = [[]]
    for token in _TOKEN.finditer(query):
        word = token.group()
        low = word.lower().removesuffix("'s")
        meaningless = (
            low in STOPWORDS
            or not low.isalpha()
            or stem(low) in skipped
            or (word[0].isupper() and token.start() > 0)  # names are _thing's
        )
        if meaningless or (runs[-1] and _VERB_FORM.fullmatch(low)):
            runs.append([])  # a verb form ends the phrase: "martial law [imposed]"
        if not meaningless and not _VERB_FORM.fullmatch(low):
            runs[-1].append(token)
    best = max(runs, key=len)
    if not best or len(best) > _MAX_PHRASE or _PLURAL_NOUN.search(best[-1].group()):
        return None
    return query[best[0].start() : best[-1].end()]


def _group(turn: Turn) -> str | None:
    """What "they" points back to: a group of people in the last question or answer."""
    for text in (turn.query, turn.answer):
        span = group_span(text, set()) if text else None
        if text and span:
            return text[span.start : span.end]
    return None


def _replacing(name: str) -> Callable[[re.Match[str]], str]:
    """A substitution of a pronoun match by ``name`` ("its" → "name's")."""
    return lambda m: _possessive(name, m.group(1))


def _possessive(name: str, pronoun: str) -> str:
    possessive = pronoun.lower() in {"his", "her", "its", "their", "hers", "theirs"}
    return f"{name}'s" if possessive else name


def _context(turn: Turn) -> str:
    return f"{turn.answer or ''} {turn.query}".strip()
