"""What a question asks for, and the typed mentions (people, names, groups) in a text.

Follow-up resolution uses these to tell what "he", "it" and "they" point back
to: the person or name the last turn asked about or answered. Answers themselves
come from the trained reader (``reader.py``), not from these patterns.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum

from cppqa.terms import STOPWORDS, stem, words


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

_MONTHS = "January|February|March|April|May|June|July|August|September|October|November|December"
#: Nouns that name a period after someone: "the tenure of General Zia".
_TIME_NOUNS = "time|tenure|era|rule|reign"
_TYPE_SPANS: dict[AnswerType, re.Pattern[str]] = {
    AnswerType.WHEN: re.compile(
        rf"\b(?:{_MONTHS})\s+\d{{1,2}},\s+\d{{4}}\b|\b(?:{_MONTHS})\s+\d{{4}}\b|"
        r"\b(?:1[5-9]|20)\d{2}s?\b|"
        r"\b(?:(?:in|till|until|since|by) the time|"
        rf"during the (?:[\w-]+ ){{0,3}}(?:{_TIME_NOUNS})) of "
        r"(?:General |President |Prime Minister )?[A-Z][\w-]*(?: (?:ul |al |bin )?[A-Z][\w-]*)*"
    ),
    AnswerType.DURATION: re.compile(
        r"\b(?:the (?:last|past|next|first) )?\d+ (?:years?|months?|weeks?|days?|decades?)\b|"
        r"\bsince \d{4}\b"
    ),
    AnswerType.COUNT: re.compile(
        r"\b\d[\d,.]*\b|\b(?:one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|"
        r"twenty|thirty|forty|fifty|hundred|thousand|million)\b",
        re.IGNORECASE,
    ),
    AnswerType.WHERE: re.compile(
        r"\b(?:in|at)\s+(?:(?:the|a|an)\s+)?(?:[a-z][\w'-]*\s+){0,3}?(?:of\s+|in\s+)?"
        r"(?!General\b|Comrade\b)[A-Z][\w'-]*(?:\s+(?:of\s+(?:the\s+)?)?[A-Z][\w'-]*)*"
        r"(?:\s+\([A-Z]+\))?|\ball over the \w+|\bthroughout the \w+|\bunderground\b"
    ),
    AnswerType.LIST: re.compile(
        r"(?:[\w'’-]+ ){0,5}[\w'’-]+(?:, (?:[\w'’-]+ ){0,5}[\w'’-]+){1,}"
        r",? and (?:[\w'’-]+ ){0,5}[\w'’-]+"
    ),
}
# Capitalised names, joined by "of", "and", "the", "ul" ("Zia ul Haq"), with an (ACRONYM).
_NAME = re.compile(
    r"(?<![\w'-])[A-Z][\w'’-]*(?:\s+(?:(?:of|and|the|ul|al|for)\s+)*[A-Z][\w'’-]*)*"
    r"(?:\s+\([A-Z]{2,}\))?"
)
TITLES = frozenset({"comrade", "general", "president", "mr", "mrs", "dr", "prime", "minister"})
#: Words that make a name an organisation, not a person.
ORGANISATION_WORDS = frozenset(
    """
    party committee federation association front congress meeting case union council league
    army bureaucracy parties
    """.split()
)
_LIST_LEAD = re.compile(r"^.*\b(?:including|such as|of|like|on)\s+|^.*:\s*", re.IGNORECASE)
_PLACE_TIME = re.compile(rf"\b(?:{_TIME_NOUNS})\b")


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
    """Spans of ``sentence`` that have the shape ``kind`` asks for.

    ``people`` (from ``learn_people``) are the words of names the corpus gives
    a title somewhere; when known, an untitled two-word name is a person only
    if it shares one ("Ayub Khan": yes; "Red Flag": no).
    """
    if kind in (AnswerType.WHO, AnswerType.NAME):
        return _names(sentence, kind, subject, people)
    if kind is AnswerType.COUNT:
        found = [Span(*m.span()) for m in _TYPE_SPANS[kind].finditer(sentence)]
        return [s for s in found if not re.fullmatch(r"\d{4}", sentence[s.start : s.end])]
    if kind is AnswerType.LIST:
        return [_trim_list(sentence, m) for m in _TYPE_SPANS[kind].finditer(sentence)]
    if kind is AnswerType.WHERE:
        return [
            _place_only(m)
            for m in _TYPE_SPANS[kind].finditer(sentence)
            if not _PLACE_TIME.search(m.group()) and not re.search(r"\d", m.group())
        ]
    pattern = _TYPE_SPANS.get(kind)
    return [] if pattern is None else [Span(*m.span()) for m in pattern.finditer(sentence)]


def _place_only(match: re.Match[str]) -> Span:
    """A place without the organisation that owns it: "at the Calcutta Congress" of
    "at the Calcutta Congress of the Communist Party of India (CPI)"."""
    for of in re.finditer(r"\s+of\s+", match.group()):
        if set(words(match.group()[of.end() :])) & ORGANISATION_WORDS:
            return Span(match.start(), match.start() + of.start())
    return Span(*match.span())


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


def _trim_list(sentence: str, match: re.Match[str]) -> Span:
    """The items alone: after "including", "such as" or the words that lead to the first."""
    items = re.search(r"\b(?:including|such as|namely)\s+", match.group())
    first_two = ",".join(match.group().split(",", 2)[:2])
    if items and items.start() < len(first_two):  # "various fronts, including the A, the B"
        return Span(match.start() + items.end(), match.end())
    lead = _LIST_LEAD.match(match.group().split(",", 1)[0])
    offset = lead.end() if lead else 0
    return Span(match.start() + offset, match.end())


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
