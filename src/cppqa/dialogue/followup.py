"""Resolve a follow-up question against the conversation before it is searched.

"Who is the General Secretary?" → "Imdad Qazi"; then "What is his title?"
becomes "What is Imdad Qazi's title?". Ellipsis reuses the last question:
after "When was the CPP formed?", "And where?" becomes "where was the CPP
formed?" and "And in 1958?" swaps the year. A question with no pronoun and
no ellipsis is a new topic and stands alone.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from cppqa.dialogue.mentions import TITLES, AnswerType, classify, group_span, typed_spans
from cppqa.search.terms import IRREGULAR, STOPWORDS, words

_PERSONAL = re.compile(r"\b(he|she|him|his|her|hers)\b", re.IGNORECASE)
_IMPERSONAL = re.compile(r"\b(it|its)\b", re.IGNORECASE)
_PLURAL = re.compile(r"\b(they|them|their|theirs)\b", re.IGNORECASE)
_ELLIPSIS = re.compile(
    r"^\s*(?:and|but|also|what about|how about|and what about)\b[\s,]*", re.IGNORECASE
)
_WHO_IS = re.compile(r"^\W*who\s+(?:is|was|are|were)\s+", re.IGNORECASE)
_WH = re.compile(
    r"\b(when|where|who|whom|whose|what|which|why|how(?: long| many| much)?)\b", re.IGNORECASE
)
_TOKEN = re.compile(r"[\w'-]+")
# A past or present participle, or an irregular past form: not part of a noun phrase.
_VERB_FORM = re.compile(rf"\w{{2,}}(?:ed|ing)|{'|'.join(sorted(IRREGULAR))}")
_PLURAL_NOUN = re.compile(r"[^siu']s$")  # "fronts", not "basis", "status", "class"
#: The most words a thing named in lower case may have ("the party's secret headquarter").
_MAX_PHRASE = 4
#: Words after which a name is the subject of the verb that follows ("did Armenia become").
BEFORE_A_VERB = frozenset("did does do can could will would should may might must".split())
_YEAR = re.compile(r"\b(?:1[5-9]|20)\d{2}\b")
#: Question types whose short answer can be what a later "it" refers to.
_NAMING = frozenset({AnswerType.WHO, AnswerType.NAME})


_ANY_PRONOUN = re.compile(r"\b(he|him|his|she|her|hers|it|its|they|them|their)\b", re.IGNORECASE)
_CLASS = {"him": "he", "his": "he", "her": "she", "hers": "she", "its": "it"}
_CLASS.update({"them": "they", "their": "they"})
_PLURAL_NAME = re.compile(r"[^siu']s$")  # "Canadians", not "Paris", "Confucius"
#: How far after a name its pronoun is looked for: about the rest of a sentence and the next.
_PRONOUN_REACH = 250


def whole(name: str) -> str:
    """A pattern for ``name`` as a whole word: not inside "Irish-born" or "Parisian"."""
    return rf"(?<![\w-]){re.escape(name)}(?![\w-])"


def pronoun_of(name: str, text: str) -> str:
    """The pronoun ``text`` uses for ``name`` ("he", "she", "it" or "they"): after each
    mention, the first pronoun within reach counts; the most counted wins, "it" when
    the text says none (a person is nearly always followed by "he" or "she" soon).

    >>> pronoun_of("Ada", "Ada wrote notes. Her notes were long. Ada said she was ill.")
    'she'
    >>> pronoun_of("Ada", "Ada wrote notes. Her notes were long."), pronoun_of("Turks", "")
    ('it', 'they')
    """
    counts: Counter[str] = Counter()
    for mention in re.finditer(whole(name), text):
        found = _ANY_PRONOUN.search(text, mention.end(), mention.end() + _PRONOUN_REACH)
        if found:
            word = found.group(1).lower()
            counts[_CLASS.get(word, word)] += 1
    total = sum(counts.values())
    person = max(("he", "she"), key=lambda k: counts[k])
    # a person, if mostly so called, and not named "X of Y" (a college, a war, a king's land)
    if counts[person] >= 2 and counts[person] >= 0.6 * total and " of " not in name:
        return person
    if counts["they"] > counts["it"] or (not counts and _PLURAL_NAME.search(name)):
        return "they"
    return "it"


@dataclass(frozen=True)
class Turn:
    """One earlier exchange: what was asked, how it was understood, what was answered."""

    question: str
    query: str
    answer: str | None = None
    sentence: str | None = None


@dataclass(frozen=True)
class Resolution:
    """A question as understood, and whether the conversation changed it."""

    query: str
    follow_up: bool = False


def resolve(
    question: str,
    history: Sequence[Turn],
    topic: str | None = None,
    subject: frozenset[str] = frozenset(),
    pronoun: Callable[[str], str] | None = None,
) -> Resolution:
    """Rewrite ``question`` so it stands on its own, given the earlier turns.

    Only a pronoun or an ellipsis is resolved, and only from what the last turn
    said: its question, its answer and the names in its source sentence. An
    ellipsis ("And where?") reuses the last question; a pronoun takes nothing
    from a turn that found nothing. ``pronoun`` says which pronoun the corpus uses
    for a name (``pronoun_of``): "he" and "she" stand only for a person, "it" never
    does. ``topic`` is what "it" and "they" mean when the last turn names nothing
    (the document's subject, e.g. "the party"); names in ``subject`` are the topic's.
    """
    if not history:
        return Resolution(question)
    text = question.strip()
    kind = pronoun or (lambda _name: "it")
    ellipsis = _ELLIPSIS.match(text)
    if ellipsis and len(text[ellipsis.end() :].split()) <= 4:
        text = _complete(text[ellipsis.end() :], history[-1])
    elif _WH.fullmatch(text.rstrip("?! .")):
        text = _complete(text, history[-1])  # a bare "Where?" or "Why?"
    # what pronouns point back to: a turn that found nothing lends nothing
    last = history[-1] if history[-1].answer is not None else None

    # a name the question itself says is not what its pronoun stands for
    said_here = _said_in(text)
    match = _PERSONAL.search(text)
    if match and last:
        said = _CLASS.get(match.group(1).lower(), match.group(1).lower())
        # "What did Oberhauser call himself after he faked his death?": he is Oberhauser
        within = not _is_object(match, text) and _named_before(
            text[: match.start()], said, subject, kind
        )
        person = None if within else _person(last, said, subject, kind, said_here)
        if person:
            text = _PERSONAL.sub(_replacing(person), text)
    found = _IMPERSONAL.search(text)
    if found and not _owner_before(found, text, subject, kind):
        thing = (_thing(last, subject, kind, said_here) if last else None) or topic
        if thing:
            text = _IMPERSONAL.sub(_replacing(thing), text)
    found = _PLURAL.search(text)
    if found and not _owner_before(found, text, subject, kind):
        group = (_group(last, subject, kind, said_here) if last else None) or topic
        if group:
            text = _PLURAL.sub(_replacing(group), text)
    return Resolution(text, follow_up=text != question.strip())


def _complete(fragment: str, last: Turn) -> str:
    """Fill an elliptical fragment ("where?", "in 1958?") from the previous question."""
    fragment = fragment.strip().rstrip("?").strip()
    previous = last.query
    if _WH.fullmatch(fragment) and _WH.search(previous):
        return _WH.sub(fragment.lower(), previous, count=1)
    year = _YEAR.search(fragment)
    if year and _YEAR.search(previous):
        return _YEAR.sub(year.group(), previous, count=1)
    return f"What about {fragment}?"


def _names(
    text: str | None, subject: frozenset[str], kind: AnswerType = AnswerType.NAME
) -> list[str]:
    """The names (or, with ``kind`` WHO, the people) ``text`` mentions, without "'s"."""
    if not text:
        return []
    found = (text[s.start : s.end] for s in typed_spans(text, kind, subject))
    return [re.sub(r"['’]s$", "", n) for n in found]


def _named_before(
    before: str, said: str, subject: frozenset[str], kind: Callable[[str], str]
) -> bool:
    """Whether the question names a person before its "he" or "she" (``said``): then the
    pronoun points to that person, within the question ("What did Oberhauser call
    himself after he faked his death?"), and the conversation has nothing to add.
    "It" is not held back so: most names are "it", and "it" after one of them mostly
    means another ("Who did Russia fight near the ports of it?")."""
    other = "she" if said == "he" else "he"
    people = _names(before, subject, AnswerType.WHO)
    people += [n for n in _names(before, subject) if kind(n) in ("he", "she")]
    return any(kind(n) != other for n in people)


def _owner_before(
    pronoun: re.Match[str], text: str, subject: frozenset[str], kind: Callable[[str], str]
) -> bool:
    """Whether a possessive "its" or "their" follows a name of the question that is not a
    person: it is that name's ("When did Armenia gain its independence?")."""
    if pronoun.group(1).lower() not in ("its", "their"):
        return False
    before = _names(text[: pronoun.start()], subject)
    return any(kind(n) not in ("he", "she") for n in before)


def _is_object(pronoun: re.Match[str], text: str) -> bool:
    """Whether a "him" or "her" is its verb's object, which is never the subject
    named before it ("What did Napoleon appoint him to?"); "her" before a noun is a
    possessive."""
    word = pronoun.group(1).lower()
    after = re.match(r"\s+([\w'’-]+)", text[pronoun.end() :])
    return word == "him" or (word == "her" and (not after or after.group(1).lower() in STOPWORDS))


def _said_in(question: str) -> Callable[[str], bool]:
    """Whether a name is said in ``question`` (then its pronoun stands for another:
    "Who did Russia fight near it?" does not mean Russia by "it")."""
    return lambda name: bool(re.search(whole(name), question, re.IGNORECASE))


def _is_subject(name: str, subject: frozenset[str]) -> bool:
    return name.lower() in subject or set(words(name)) <= subject


def _described(turn: Turn) -> str:
    """What a "Who is/was ...?" question describes: a person, by name or by role."""
    found = _WHO_IS.match(turn.query)
    return turn.query[found.end() :] if found else ""


def _is_person(name: str, turn: Turn, kind: Callable[[str], str]) -> bool:
    """A person: so the corpus calls it, or so the last question asked ("Who was X?",
    "Who is the General Secretary of X?"; not "Who was the first professor of X?")."""
    described = _described(turn)
    lead = re.match(rf"(?:(?:the|{'|'.join(TITLES)})\s+)*", described, re.IGNORECASE)
    head = described[lead.end() if lead else 0 :]
    return kind(name) in ("he", "she") or (bool(described) and head.startswith(name))


def _person(
    turn: Turn,
    said: str,
    subject: frozenset[str],
    kind: Callable[[str], str],
    here: Callable[[str], bool],
) -> str | None:
    """Who "he" or "she" (``said``) points back to: a person the answer to a "who"
    question names, else one the last question names, else one its source sentence
    names; a person by a title ("Comrade X") or as the corpus calls them, and never
    one the corpus calls by the other pronoun."""
    asked = [turn.answer] if classify(turn.query) is AnswerType.WHO else []
    other = "she" if said == "he" else "he"
    for text in [*asked, turn.query, turn.sentence]:
        found = [n for n in _names(text, subject) if _is_person(n, turn, kind)]
        if text is not turn.sentence:  # a name shaped like a person's, where it was asked
            found = _names(text, subject, AnswerType.WHO) + found
        for name in found:
            if kind(name) != other and not here(name):
                return name
    return None


def _thing(
    turn: Turn, subject: frozenset[str], kind: Callable[[str], str], here: Callable[[str], bool]
) -> str | None:
    """What "it" points back to: a name in the last question that is not a person, else
    the short answer to a question asking for a name (None: the document's topic).

    After "What is the CPP's ideology?" → "Marxism-Leninism", "it" is still the CPP.
    """
    named = [
        n for n in _names(turn.query, frozenset()) if not _is_person(n, turn, kind) and not here(n)
    ]
    if named:
        # a name that modifies the noun after it ("the Arsacid dynasty") is not the thing
        named.sort(key=lambda n: _modifies(n, turn.query))
        # a name of the document's subject is the topic: the caller's "the party"
        own = [n for n in named if not _is_subject(n, subject)]
        return own[0] if own else None
    asked = classify(turn.query)
    if (
        turn.answer
        and asked in _NAMING
        and len(turn.answer.split()) <= 6
        and not _is_person(turn.answer, turn, kind)
        and not _is_subject(turn.answer, subject)  # the topic's: the caller's "the party"
        and not (asked is AnswerType.WHO and typed_spans(turn.answer, AnswerType.WHO, subject))
    ):  # the answer to "who" may be "it" when it is a group ("civil bureaucracy")
        return turn.answer
    return None


def _modifies(name: str, text: str) -> bool:
    """Whether ``name`` stands before a noun in ``text``, as "Arsacid" in "the Arsacid
    dynasty": a lower-case word follows it that is not a function word or a verb form,
    and it is not the subject of an auxiliary's verb ("did Armenia become")."""
    found = re.search(rf"(\w+)?\s*{whole(name)}\s+([a-z][\w'-]*)", text)
    if not found or (found.group(1) or "").lower() in BEFORE_A_VERB:
        return False
    word = found.group(2)
    return word not in STOPWORDS and not _VERB_FORM.fullmatch(word) and not word.endswith("s")


def _group(
    turn: Turn, subject: frozenset[str], kind: Callable[[str], str], here: Callable[[str], bool]
) -> str | None:
    """What "they" points back to: a group of people in the last question or answer, else
    a name in the last question the corpus calls "they" (never one it calls "it": after
    "Who did Russia fight in the Crimean War?", "they" is not the war)."""
    if turn.answer and re.search(r",| and ", turn.answer):
        return turn.answer  # several things: "Which of them ...?"
    for text in (turn.query, turn.answer):
        span = group_span(text, set()) if text else None
        if text and span:
            return text[span.start : span.end]
    named = [
        n for n in _names(turn.query, subject) if not _is_person(n, turn, kind) and not here(n)
    ]
    plural = [n for n in named if kind(n) == "they"]
    return plural[0] if plural else None


def _replacing(name: str) -> Callable[[re.Match[str]], str]:
    """A substitution of a pronoun match by ``name`` ("its" → "name's")."""
    return lambda m: _possessive(name, m.group(1))


def _possessive(name: str, pronoun: str) -> str:
    possessive = pronoun.lower() in {"his", "her", "its", "their", "hers", "theirs"}
    return f"{name}'s" if possessive else name
