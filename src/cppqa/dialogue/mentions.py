"""What a question asks for, and the typed mentions (people, names, groups) in a text.

Follow-up resolution uses these to tell what "he", "it" and "they" point back
to: the person or name the last turn asked about or answered. Answers themselves
come from the trained reader (``reader.py``), not from these patterns.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum

from cppqa.search.terms import STOPWORDS, stem, words


class AnswerType(Enum):
    """What kind of span a question asks for."""

    WHEN = "a date or time"
    DURATION = "a duration"
    COUNT = "a number"
    WHO = "a person"
    WHERE = "a place"
    NAME = "a name"
    LIST = "a list"
    EXPANSION = "what an acronym stands for"
    OTHER = "a phrase"


# Up to two words between "which"/"what" and its noun, none of them a verb:
# "which trade union body", but not "what did the party".
_MODIFIERS = r"(?:(?!(?:did|does|do|is|was|were|are|has|have|had|can|will)\b)[\w'’]+ ){0,2}"

# Order matters: the first pattern that matches the question decides.
_QUESTION_TYPES: tuple[tuple[re.Pattern[str], AnswerType], ...] = tuple(
    (re.compile(p, re.IGNORECASE), t)
    for p, t in (
        (
            r"\bstand(?:s)? for\b|\bfull form\b|\babbreviation\b|\bshort for\b|"
            r"\bacronym\b",
            AnswerType.EXPANSION,
        ),
        (
            r"\bhow long\b|\bfor how many (?:years|months|days|decades)\b|\bhow many years\b|"
            r"\bsince when\b|\bsince\s*\??\s*$",
            AnswerType.DURATION,
        ),
        (r"\bhow many\b|\bhow much\b|\bnumber of\b", AnswerType.COUNT),
        (
            r"\bwhen\b|\bwhat (?:year|date|month|day)\b|\bwhich (?:year|date|month|day)\b|"
            r"\bin what year\b|\byear\b|\bdate\b",
            AnswerType.WHEN,
        ),
        (
            r"\bwhere\b|\bwhich (?:place|city|province|country|town|region)\b|"
            r"\bin what (?:place|city|province)\b|\bplace\b",
            AnswerType.WHERE,
        ),
        (
            r"\bwho(?:m|se)?\b|"
            r"\bwhich (?:\w+ )?(?:generals?|comrades?|leaders?|persons?|people|m[ae]n|"
            r"wom[ae]n|members?)\b",
            AnswerType.WHO,
        ),
        (
            rf"\b(?:what|which|name|list) (?:all )?(?:the )?{_MODIFIERS}(?:fronts|organi[sz]ations|"
            r"groups|bodies|unions|associations|platforms)\b|\blist\b",
            AnswerType.LIST,
        ),
        (
            r"\bcalled\b|\bname(?: of)?\b|\bnamed\b|\b(?:which|what) "
            rf"{_MODIFIERS}(?:organ|newspaper|paper|case|meeting|body|organi[sz]ation|congress|"
            r"front|federation|committee|association|party|parties)\b",
            AnswerType.NAME,
        ),
    )
)

# Capitalised names, joined by "of", "and", "the", "ul" ("Zia ul Haq"), with an (ACRONYM);
# a word may be dotted initials ("the U.K").
_WORD = r"[A-Z][\w'’-]*(?:(?:\.[A-Z](?![a-z]))+\.?)?"
_NAME = re.compile(
    rf"(?<![\w'-]){_WORD}(?:\s+(?:(?:of|and|the|ul|al|for)\s+)*{_WORD})*(?:\s+\([A-Z]{{2,}}\))?"
)
TITLES = frozenset({"comrade", "general", "president", "mr", "mrs", "dr", "prime", "minister"})
#: Words that make a name an organisation, not a person.
ORGANISATION_WORDS = frozenset(
    """
    party committee federation association front congress meeting case union council league
    army bureaucracy parties
    """.split()
)


@dataclass(frozen=True)
class Span:
    """A stretch of a sentence, by offsets into the sentence text."""

    start: int
    end: int


def classify(question: str) -> AnswerType:
    """The answer type a question asks for.

    >>> classify("When was the party declared illegal?")
    <AnswerType.WHEN: 'a date or time'>
    >>> classify("what is the party organ called")
    <AnswerType.NAME: 'a name'>
    """
    # The main clause decides, and in it the cue that comes first: "What was
    # launched when martial law was imposed?" asks for a thing, not a time.
    main = _main_clause(question)
    found = [
        (m.start(), order, kind)
        for order, (pattern, kind) in enumerate(_QUESTION_TYPES)
        if (m := pattern.search(main))
    ]
    return min(found)[2] if found else AnswerType.OTHER


_WH_WORD = re.compile(r"\b(?:what|which|who|whom|whose|when|where|why|how)\b", re.IGNORECASE)


def _main_clause(question: str) -> str:
    """The question up to a second question word, which starts a subordinate clause."""
    found = list(_WH_WORD.finditer(question))
    return question[: found[1].start()] if len(found) > 1 else question


#: Nouns for groups of people: "who" may be answered by one ("the civil bureaucracy").
PEOPLE_NOUNS = frozenset(
    """
    bureaucracy leadership soldiers officers elements members workers peasants class rulers
    generals public employees farmers writers journalists students youth women comrade comrades
    people leader leaders
    """.split()
)


def typed_spans(
    sentence: str,
    kind: AnswerType,
    subject: frozenset[str],
    people: frozenset[str] = frozenset(),
) -> list[Span]:
    """Spans of ``sentence`` shaped like a name (``kind`` NAME) or a person's (WHO).

    ``people`` are the words of names the corpus gives a title somewhere; when
    known, an untitled two-word name is a person only if it shares one ("Ayub
    Khan": yes; "Red Flag": no).
    """
    if kind not in (AnswerType.WHO, AnswerType.NAME):
        raise ValueError(f"no span shape for {kind}")
    return _names(sentence, kind, subject, people)


def _names(
    sentence: str, kind: AnswerType, subject: frozenset[str], people: frozenset[str]
) -> list[Span]:
    spans = []
    for match in _NAME.finditer(sentence):
        start, text = match.start(), match.group()
        # Drop sentence-initial and title words: "The", "Comrade", "General".
        while True:
            first = text.split(" ", 1)[0]
            low = first.lower()
            if " " in text and (
                low in STOPWORDS
                or low in TITLES
                or (start == 0 and low not in subject and not _looks_like_name(first))
            ):
                cut = len(first) + 1
                start, text = start + cut, text[cut:]
                continue
            break
        low_words = set(words(text))
        if not text or text.lower() in subject or (low_words <= subject):
            continue
        if text.lower() in STOPWORDS or (start == 0 and " " not in text):
            continue  # a capital only because a sentence starts there
        is_org = bool(low_words & ORGANISATION_WORDS) or text.isupper()
        if kind is AnswerType.WHO:
            titled = sentence[:start].rstrip().split(" ")[-1].lower() in TITLES
            known = not people or bool(low_words & people) or len(text.split()) > 2
            if is_org or (" " not in text and not titled) or not (titled or known):
                continue
        spans.append(Span(start, start + len(text)))
    return spans


def _looks_like_name(word: str) -> bool:
    return word.lower() not in STOPWORDS and len(word) > 2 and not word.endswith("ly")


_WORDS = re.compile(r"[\w'’-]+")


def group_span(sentence: str, question_stems: set[str]) -> Span | None:
    """For "who" answered by a group: "the party leadership and the soldiers".

    The first group noun the question does not name, with the words before it
    and any "and the ..." group that follows.
    """
    tokens = list(_WORDS.finditer(sentence))
    low = [t.group().lower() for t in tokens]

    def joined(a: int, b: int) -> bool:  # nothing but a space between tokens a and b
        return not sentence[tokens[a].end() : tokens[b].start()].strip()

    def phrase_start(i: int) -> int:
        while i > 0 and low[i - 1] not in STOPWORDS and joined(i - 1, i):
            i -= 1
        return i

    for i, word in enumerate(low):
        if word not in PEOPLE_NOUNS or stem(word) in question_stems:
            continue
        if tokens[i].group()[0].isupper() and i > 0:  # part of a name: "Workers Parties"
            continue
        start, end = phrase_start(i), i
        j = i + 1
        while j + 1 < len(tokens) and low[j] == "and" and joined(j - 1, j):
            k = j + 1 + (low[j + 1] == "the")
            while k < len(tokens) and low[k] not in PEOPLE_NOUNS and low[k] not in STOPWORDS:
                k += 1
            if k >= len(tokens) or low[k] not in PEOPLE_NOUNS:
                break
            end, j = k, k + 1
        return Span(tokens[start].start(), tokens[end].end())
    return None
