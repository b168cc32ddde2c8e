"""Choose the answering sentence and the shortest verbatim span in it that answers.

The expected answer type comes from the question's wording ("when" → a date,
"who" → a person, "how long" → a duration...); spans of that type are found in
the sentence by patterns. Untyped questions ("what is X?") answer with the
part of the sentence that the question does not already say.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import Enum

from cppqa.terms import STOPWORDS, content_stems, stem, subject_stems, words


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


#: Types whose absence from the best passage means the document does not answer.
TYPED = frozenset(
    {AnswerType.WHEN, AnswerType.DURATION, AnswerType.COUNT, AnswerType.WHO, AnswerType.NAME}
)

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
_NAMES_A_TIME = re.compile(rf"\b(?:{_TIME_NOUNS}) of (?:(?:General|President|Prime Minister) )?$")
_TIME_OF = re.compile(rf"\b(?:{_TIME_NOUNS}) of (.+)$")
_PLACE_TIME = re.compile(rf"\b(?:{_TIME_NOUNS})\b")
# "under which general", "in whose time": a person who names a time is what is asked.
_ASKS_FOR_A_TIME = re.compile(rf"\b(?:{_TIME_NOUNS}|under)\b", re.IGNORECASE)


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


_WHY = re.compile(r"\bwhy\b|\bfor what reason\b|\bwhat was the reason\b", re.IGNORECASE)
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


_ORGANISATION_STEMS = frozenset(
    stem(w) for w in ORGANISATION_WORDS | {"organisation", "organization", "body", "group", "forum"}
)


def _of_the_kind_asked(
    sentence: str, spans: list[Span], kind: AnswerType, question: str
) -> list[Span]:
    """Names of organisations only, when the question asks for one ("which parties")."""
    noun = asked_noun(question) if kind is AnswerType.NAME else None
    if noun is None or stem(noun) not in _ORGANISATION_STEMS:
        return spans
    return [
        s
        for s in spans
        if set(words(sentence[s.start : s.end])) & ORGANISATION_WORDS
        or sentence[s.start : s.end].isupper()
    ]


def answers_type(
    sentence: str,
    kind: AnswerType,
    subject: frozenset[str],
    question: str = "",
    acronyms: Mapping[str, str] | None = None,
    people: frozenset[str] = frozenset(),
    defined: Iterable[str] = (),
) -> bool:
    """Whether ``sentence`` holds anything of the type ``kind`` asks for.

    An acronym in ``defined`` is spelled out in place somewhere in the corpus
    ("... (CPP)"): only that sentence answers what it stands for.
    """
    if kind is AnswerType.OTHER:
        return True
    if kind is AnswerType.EXPANSION:
        asked = {a.lower() for a in re.findall(r"\b[A-Z]{2,8}\b", question)}
        if any(f"({a.upper()})" in sentence for a in asked):
            return True
        return (
            not asked & set(defined) and _expansion_span(sentence, question, acronyms) is not None
        )
    # The document's subject is as good as asked: "in Pakistan" tells nothing new
    # about the Communist Party of Pakistan (choose_span judges spans the same way).
    asked = {stem(w) for w in words(question) if w not in STOPWORDS} | subject_stems(subject)
    if any(
        novel(sentence[s.start : s.end], asked, kind)
        for s in _of_the_kind_asked(
            sentence, typed_spans(sentence, kind, subject, people), kind, question
        )
    ):
        return True  # a span of the type that says more than the question
    fallback = _acronym_spans(sentence, subject)
    if kind is AnswerType.WHERE and _COUNTRY.search(question):  # "which country": "US"
        return any(novel(sentence[s.start : s.end], asked) for s in fallback)
    if kind is not AnswerType.WHO:
        return False
    return bool(set(words(sentence)) & PEOPLE_NOUNS) or any(
        novel(sentence[s.start : s.end], asked) for s in fallback
    )


_COUNTRY = re.compile(r"\b(?:which|what) (?:country|nation|state)\b", re.IGNORECASE)


def _acronym_spans(sentence: str, subject: frozenset[str]) -> list[Span]:
    """Acronyms other than the subject's: "whose pay-role?" → "US" when no person fits."""
    return [
        Span(*m.span())
        for m in re.finditer(r"\b[A-Z]{2,5}\b", sentence)
        if m.group().lower() not in subject
    ]


def without_cue(question: str, kind: AnswerType) -> str:
    """The question without words that only say what kind of answer is wanted.

    "What is the full form of CC?" searches for "What is the of CC?": the
    words "full form" would otherwise match "formed" in the document.
    """
    if kind is not AnswerType.EXPANSION:
        return question
    return _QUESTION_TYPES[0][0].sub(" ", question)


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


def learn_people(sentences: Iterable[str]) -> frozenset[str]:
    """Words of the names that follow a title ("Comrade Hassan Nasir", "General Zia")."""
    found: set[str] = set()
    for sentence in sentences:
        for match in _NAME.finditer(sentence):
            before = sentence[: match.start()].rstrip().rsplit(" ", 1)[-1].lower()
            name = match.group().split()
            titled = before in TITLES or name[0].lower() in TITLES
            found.update(w.lower() for w in name if titled and w.lower() not in TITLES | STOPWORDS)
    return frozenset(found)


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


def _shared(span_text: str, question_stems: set[str]) -> int:
    return len({stem(w) for w in words(span_text) if w not in STOPWORDS} & question_stems)


#: Words that frame a time without saying which: "till the time of General X".
_TIME_FRAME = frozenset(
    stem(w) for w in _TIME_NOUNS.split("|") + "till until since during".split()
) | frozenset(TITLES)
_TITLE_STEMS = frozenset(stem(w) for w in TITLES)
_STOPWORD_STEMS = frozenset(stem(w) for w in STOPWORDS)


def novel(span_text: str, question_stems: set[str], kind: AnswerType | None = None) -> bool:
    """Whether a span says something the question does not already say.

    A time named after someone says nothing new when the question names them:
    "till the time of General Zia ul Haq" does not answer "when did Zia ul Haq die?".
    """
    stems = {stem(w) for w in words(span_text) if w not in STOPWORDS}
    if kind is AnswerType.WHO and (stems & question_stems) - _TITLE_STEMS:
        return False  # "Who else was martyred under Zia?" is not answered by "Zia ul Haq"
    if kind is AnswerType.WHEN:
        named = _TIME_OF.search(span_text)
        if named and set(content_stems(named.group(1))) - _TIME_FRAME <= question_stems:
            return False  # "during the so-called democratic era of X" for "when did X die?"
        stems -= _TIME_FRAME
    return bool(stems - question_stems)


def choose_span(
    sentence: str,
    kind: AnswerType,
    question: str,
    question_stems: set[str],
    subject: frozenset[str],
    acronyms: Mapping[str, str] | None = None,
    people: frozenset[str] = frozenset(),
) -> Span | None:
    """The best short answer in ``sentence``, or None when only the sentence will do."""
    if kind is AnswerType.EXPANSION:
        return _expansion_span(sentence, question, acronyms)
    spans = [
        s
        for s in _of_the_kind_asked(
            sentence, typed_spans(sentence, kind, subject, people), kind, question
        )
        if novel(sentence[s.start : s.end], question_stems, kind)
    ]
    if kind is AnswerType.WHO and not _ASKS_FOR_A_TIME.search(question):
        # "In the time of General Ayub, ... Comrade Hassan Nasir was tortured": the
        # person who names a time is not who the question is about (unless it asks
        # "under which general" or "in whose time").
        spans = [s for s in spans if not _NAMES_A_TIME.search(sentence[: s.start])]
    if not spans and (
        (kind is AnswerType.WHO and not group_span(sentence, question_stems))
        or (kind is AnswerType.WHERE and _COUNTRY.search(question))
    ):
        spans = [
            s
            for s in _acronym_spans(sentence, subject)
            if novel(sentence[s.start : s.end], question_stems)
        ]
    if spans:
        anchor = _anchors(sentence, question_stems)
        if kind in (AnswerType.NAME, AnswerType.LIST):
            # "Which writers association...": the name that shares the question's
            # words ("Association of Progressive Writers") before the nearest one.
            return min(
                spans,
                key=lambda s: (
                    -_shared(sentence[s.start : s.end], question_stems),
                    _distance(s, anchor),
                    s.start,
                ),
            )
        return min(spans, key=lambda s: (_distance(s, anchor), s.start))
    if kind is AnswerType.WHO and (group := group_span(sentence, question_stems)):
        return group
    if kind in (AnswerType.OTHER, AnswerType.NAME, AnswerType.LIST, AnswerType.WHO):
        if _WHY.search(question):
            return _reason_span(sentence, question)  # a reason, or the whole sentence
        return (
            _head_noun_span(sentence, question, question_stems)
            or _agent_span(sentence, question)
            or _doing_span(sentence, question, subject)
            or _gap_span(sentence, question, question_stems)
            or _appositive_span(sentence, question, question_stems)
            or _named_span(sentence, question, question_stems, subject)
            or _predicate_span(sentence, question_stems, subject, question)
        )
    return None


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


def _expansion_span(
    sentence: str, question: str, acronyms: Mapping[str, str] | None
) -> Span | None:
    """Where the sentence spells out an acronym of the question: "X Y Z (XYZ)", or
    the expansion the corpus taught ("CC" → "central committee")."""
    for acronym in re.findall(r"\b[A-Z]{2,8}\b", question):
        expansion = (acronyms or {}).get(acronym.lower())
        if expansion:  # as the corpus defines it, trimmed to the acronym's letters
            found = re.search(rf"({re.escape(expansion)})\s*\({acronym}\)", sentence, re.I)
            found = found or re.search(f"({re.escape(expansion)})", sentence, re.IGNORECASE)
            if found:
                return Span(*found.span(1))
        for m in re.finditer(
            rf"((?:[A-Z][\w'-]*\s+(?:(?:of|and|the|for)\s+)*)+)\({acronym}\)", sentence
        ):
            start = m.start(1) + (4 if m.group(1).startswith("The ") else 0)
            return Span(start, m.end(1) - 1)
    return None


def _anchors(sentence: str, question_stems: set[str]) -> list[int]:
    return [
        m.start()
        for m in re.finditer(r"\w+", sentence)
        if stem(m.group().lower()) in question_stems
    ]


def _distance(span: Span, anchors: list[int]) -> int:
    if not anchors:
        return 0
    return min(
        0 if span.start <= a < span.end else min(abs(a - span.start), abs(a - span.end))
        for a in anchors
    )


# Up to three words after "which/what (kind of)", before a verb: the last is the noun
# ("which international forum is ..." → "forum").
_ASKED_NOUN = re.compile(
    r"\b(?:which|what)\s+(?:(?:kind|sort|type)\s+of\s+)?"
    r"((?:(?!(?:is|was|are|were|did|does|do|has|have|had|can|will|got)\b)[a-z][\w'’]*\s*){1,3})",
    re.IGNORECASE,
)


def asked_noun(question: str) -> str | None:
    """X in "which X" / "what kind of X" questions, lowercased; None otherwise.

    >>> asked_noun("In which language is it published?")
    'language'
    """
    m = _ASKED_NOUN.search(question)
    if not m:
        return None
    # the noun ends the phrase; stop at a word like "of" or "in" inside it
    if re.match(r"what\s+\w+ed\b", m.group().lower()):
        return None  # "what nurtured X" asks for a doer, not a kind of X
    phrase: list[str] = []
    for word in m.group(1).lower().split():
        if word in ("other", "another") and not phrase:
            continue  # "which other parties"
        if word in STOPWORDS:
            break
        phrase.append(word.rstrip("'’").removesuffix("'s"))
    return phrase[-1] if phrase else None


def _head_noun_span(sentence: str, question: str, question_stems: set[str]) -> Span | None:
    """For "which/what (kind of) X" questions: the modifiers before X in the sentence."""
    noun = asked_noun(question)
    if noun is None:
        return None
    head = stem(noun)
    tokens = list(re.finditer(r"[\w'’-]+", sentence))
    for i, token in enumerate(tokens):
        if stem(token.group().lower()) != head:
            continue
        j = i
        while j > 0:
            prev = tokens[j - 1].group().lower()
            gap = sentence[tokens[j - 1].end() : tokens[j].start()]
            if prev == "and" and j >= 2 and j < i and not gap.strip():
                j -= 1  # "subservient and mercenary state"
                continue
            if prev in STOPWORDS or gap.strip():
                break
            j -= 1
        if tokens[j].group().lower() == "and":
            j += 1
        # the modifiers, if they say what the question does not ("independent" foreign policy)
        if j < i and novel(sentence[tokens[j].start() : tokens[i - 1].end()], question_stems):
            return Span(tokens[j].start(), token.end())
        low = [t.group().lower() for t in tokens]
        # "the rest of the provinces": a noun before "of (the) X" says which X.
        k = i - 1 - (i >= 1 and low[i - 1] == "the")
        if k >= 1 and low[k] == "of" and low[k - 1] not in STOPWORDS:
            return Span(tokens[k - 1].start(), token.end())
        # "the platforms of the people's fronts": what follows "X of" says which.
        end = i + 1
        if end < len(tokens) and low[end] == "of":
            end += 1 + (end + 1 < len(tokens) and low[end + 1] == "the")
            while (
                end < len(tokens)
                and low[end] not in STOPWORDS
                and not sentence[tokens[end - 1].end() : tokens[end].start()].strip()
            ):
                end += 1
            if end > i + 2:
                return Span(token.start(), tokens[end - 1].end())
    return None


# "got" stays with its participle ("his body [got disappeared]"): it is matched, not consumed.
_COPULA = re.compile(r"\s(?:(?:is|was|are|were|has been|have been|had been|became)\s|(?=got\s))")
# Where a clause starts or ends inside a sentence: a comma, a semicolon, or an
# "and" that begins a new subject ("... and the entire leadership was imprisoned").
_CLAUSE_BREAK = re.compile(
    r"\s*[,;:]\s+|\s+and\s+(?=(?:the|his|her|its|their|a|an|this|that|these|those)\s)"
)


def _clause_bounds(sentence: str, start: int, end: int) -> Span:
    """The clause around ``sentence[start:end]``: from the break before to the break after."""
    body_end = len(sentence.rstrip(".!?۔"))
    left = max((m.end() for m in _CLAUSE_BREAK.finditer(sentence, 0, start)), default=0)
    after = _CLAUSE_BREAK.search(sentence, end, body_end)
    return Span(left, after.start() if after else body_end)


_PASSIVE_QUESTION = re.compile(
    r"^\s*(?:what|who|which \w+)\s+(?:is|was|are|were|has been|have been|had been|got)\s+"
    r"[a-z]+(?:ed|en|t)\b",
    re.IGNORECASE,
)


def _predicate_span(
    sentence: str, question_stems: set[str], subject: frozenset[str], question: str = ""
) -> Span | None:
    """For "X is Y" clauses where the question says X: the Y part; where it says Y: X.

    X must share more with the question than the document's subject: "The
    Communist Party of Pakistan is ..." answers nothing by itself.
    """
    subject_only = subject_stems(subject)
    # "What was launched ...?" asks for the subject of a passive clause.
    passive = bool(_PASSIVE_QUESTION.match(question))

    def stems_of(span: Span) -> set[str]:
        return {stem(w) for w in words(sentence[span.start : span.end]) if w not in STOPWORDS}

    def covered(span: Span) -> float:
        stems = stems_of(span)
        return len(stems & question_stems) / len(stems) if stems else 0.0

    copulas = [
        (m, _clause_bounds(sentence, m.start(), m.end())) for m in _COPULA.finditer(sentence)
    ]
    found: list[tuple[float, Span]] = []
    for m, clause in copulas if not passive else ():
        right = Span(m.end(), clause.end)
        if not words(sentence[right.start : right.end]):
            continue  # nothing after the verb ("... was .")
        # The subject: the words since the last break, or, when those say no more
        # than the document's subject, since the sentence start ("For this
        # reason, in 1954, the party was declared illegal").
        for left in (Span(clause.start, m.start()), Span(0, m.start())):
            specific = (stems_of(left) & question_stems) - subject_only
            if specific and covered(left) >= 0.5 > covered(right):
                found.append((covered(left), right))
                break
    if found:  # the clause whose subject the question names best ("his body got ...")
        return max(found, key=lambda f: f[0])[1]
    for m, clause in copulas:
        joint = _JOINT.search(sentence, m.end(), clause.end)  # "raided [and arrests were ...]"
        left, right = (
            Span(clause.start, m.start()),
            Span(m.end(), joint.start() if joint else clause.end),
        )
        if (stems_of(right) & question_stems) - subject_only and covered(right) >= 0.5:
            # "general secretary" → "Comrade Imdad Qazi is the General Secretary of the Party."
            names = [
                n
                for n in _names(sentence[: m.start()], AnswerType.NAME, subject, frozenset())
                if n.start >= left.start
            ]
            text = sentence[: m.start()]
            rest = (text[: names[0].start] + text[names[0].end :]) if names else ""
            if len(names) == 1 and not covered(names[0]) and set(words(rest)) <= STOPWORDS | TITLES:
                return names[0]  # the subject of the sentence is just the name
            if not names and passive and stems_of(left) - question_stems and covered(left) < 0.5:
                return left  # "a brutel operation was launched against the Party"
    return None


# Words that give a reason ("since" and "as" also give times, so they do not count).
_REASON = re.compile(
    r"\b(?:because(?: of)?|due to|saying that|so that|in order to)\s+", re.IGNORECASE
)


def _reason_span(sentence: str, question: str) -> Span | None:
    """For "why" questions: the clause after "because", "saying that", "due to"..."""
    if not _WHY.search(question):
        return None
    m = next((r for r in _REASON.finditer(sentence) if r.start() > 0), None)
    if m is None:
        return None
    end = _clause_bounds(sentence, m.end(), m.end()).end
    return Span(m.end(), end) if end > m.end() else None


# A phrase that starts like a noun phrase: a determiner, a title or a capitalised name.
_DETERMINER = re.compile(r"(?i:the|an?|its|his|her|their|our|comrade|general)\b|[A-Z]")


def _appositive_span(sentence: str, question: str, question_stems: set[str]) -> Span | None:
    """For "what/who is X" where the sentence says "X, the Y," or "the Y, X,": the Y part."""
    if (
        re.search(r"\b(?:do|doing|happen\w*)\b", question, re.IGNORECASE)
        or re.match(r"\s*(?:how|when|where)\b", question, re.IGNORECASE)
        or _WHY.search(question)
    ):
        return None  # asks what someone did, what happened, why or how: not what X is
    bounds = [0]
    for m in re.finditer(r",\s+", sentence):
        bounds += [m.start(), m.end()]
    bounds.append(len(sentence.rstrip(".!?۔")))
    segments = [Span(bounds[i], bounds[i + 1]) for i in range(0, len(bounds) - 1, 2)]

    def content(span: Span) -> set[str]:
        return {stem(w) for w in words(sentence[span.start : span.end]) if w not in STOPWORDS}

    def noun_phrase(i: int, first_too: bool = False) -> bool:
        """A short phrase between commas, like "the military bureaucracy"."""
        span = segments[i]
        text = sentence[span.start : span.end]
        return (
            (i > 0 or first_too)
            and i < len(segments) - 1
            and len(text.split()) <= 7
            and bool(_DETERMINER.match(text))
            and not _COPULA.search(f" {text} ")
        )

    named = set(content_stems(question)) if not _WH_WORD.search(question) else set()
    for i, segment in enumerate(segments):
        tokens = [stem(w.lower()) for w in _WORDS.findall(sentence[segment.start : segment.end])]
        own = {t for t in tokens if t not in STOPWORDS} - _TITLE_STEMS
        if (  # "Red Flag?" and "The party organ, Red Flag has been ...": the phrase before
            named
            and i > 0
            and set(tokens[: len(named)]) == named
            and noun_phrase(i - 1, first_too=True)
            and content(segments[i - 1]) - named
        ):
            return segments[i - 1]
        # The segment must be what the question names, and nothing more, or end
        # with it: "The civil bureaucracy and its junior partner".
        if (not own or not own <= question_stems) and (
            not tokens or not set(tokens[-3:]) <= question_stems | STOPWORDS
        ):
            continue
        for j in (i + 1, i - 1):
            if 0 <= j < len(segments) and noun_phrase(j) and content(segments[j]) - question_stems:
                return segments[j]
    return None


def _named_span(
    sentence: str, question: str, question_stems: set[str], subject: frozenset[str]
) -> Span | None:
    """For "what is X?": the one name in the sentence that shares a word with X and
    says more ("the party's women's wing" → "Democratic Women's Association")."""
    if not re.match(r"\s*(?:what|which)\s+(?:is|are|was|were)\b", question, re.IGNORECASE):
        return None
    specific = question_stems - subject_stems(subject)
    found = [
        n
        for n in _names(sentence, AnswerType.NAME, subject, frozenset())
        if _shared(sentence[n.start : n.end], specific)
        and novel(sentence[n.start : n.end], question_stems)
    ]
    return found[0] if len(found) == 1 else None


_NOT_A_VERB = frozenset(
    "in on at by for with under against during from to of into through after before and or".split()
)
_DOING = re.compile(
    r"(?:^|[,;])\s*what\s+(?:else\s+|\w+ly\s+)?(?:did|does|do|has|have|had)\s+(.+?)\s+"
    r"(?:do|doing|done)\b",
    re.I,
)


def _doing_span(sentence: str, question: str, subject: frozenset[str]) -> Span | None:
    """For "what did X do?": what the sentence says after X ("The rest [remained underground]")."""
    m = _DOING.search(question)
    if not m or m.group(1).lower().endswith(" to"):
        return None  # "what did they decline to do" asks for the thing, not the doing
    # the actor without a relative clause: "its members [who weren't jailed]"
    actor = set(content_stems(re.split(r"\b(?:who|that|which)\b", m.group(1))[0]))
    tokens = list(_WORDS.finditer(sentence))
    # "what did the party do in Sindh?": the sentence must say "Sindh" too
    if not set(content_stems(question[m.end() :])) <= {stem(t.group().lower()) for t in tokens}:
        return None
    for i in range(len(tokens) - 1):
        here, after = tokens[i], tokens[i + 1]
        if stem(here.group().lower()) not in actor or stem(after.group().lower()) in actor:
            continue  # not the actor, or not its last word ("Ayub [Khan]")
        if sentence[here.end() : after.start()].strip() or after.group().lower() in _NOT_A_VERB:
            continue  # "X, ..." or "X in 1951": not what X did
        end = _clause_bounds(sentence, after.start(), after.start()).end
        if novel(sentence[after.start() : end], actor):
            return Span(after.start(), end)  # the first thing the sentence says X did
    return None


_AGENT_QUESTION = re.compile(
    r"^\s*(?:what|who)\s+(?:had\s+|has\s+|have\s+)?(?P<verb>[a-z]+ed)\b"
    r"(?:\s+and\s+[a-z]+)?\s+(?P<thing>[^?]+)",
    re.IGNORECASE,
)


def _agent_span(sentence: str, question: str) -> Span | None:
    """For "what nurtured X?": the agent in "X nurtured by Y" ("British imperialism")."""
    m = _AGENT_QUESTION.match(question)
    if not m or m.group("verb").lower() in STOPWORDS:  # "what happened to X" asks no agent
        return None
    thing = [w for w in words(m.group("thing")) if w not in STOPWORDS]
    if not thing:
        return None
    head = re.escape(thing[-1])
    found = re.search(rf"\b{head}\w*\s+(?:\w+ly\s+)?\w+(?:ed|en|t)\s+by\s+", sentence, re.I)
    if not found:
        return None
    end = _clause_bounds(sentence, found.end(), found.end()).end
    joint = _JOINT.search(sentence, found.end(), end)
    stop = joint.start() if joint else end
    # the agent is a noun phrase: it ends before the next verb of the clause
    end_of_agent = None
    for w in re.finditer(r"\S+", sentence[found.end() : stop]):
        if end_of_agent is not None and re.fullmatch(r"[a-z]+(?:ed|ing)", w.group()):
            break
        end_of_agent = found.end() + w.end()
    return None if end_of_agent is None else Span(found.end(), end_of_agent)


_JOINT = re.compile(
    r"\s+(?:and|or|but|to|which|that|who|while|when|where|by|through|with|from|in|at|on|"
    r"during|under|against|after|before|since|for)\s|[,;:]"
)


def _gap_span(sentence: str, question: str, question_stems: set[str]) -> Span | None:
    """For "what did X do to Y"-shaped questions: the words the question leaves out.

    The longest run of question words found in the sentence is the frame;
    the answer is what the sentence puts where the question has a gap: between
    the run and the question's next word ("began [a struggle] against"), or
    after the run when the question ends with it ("link the country to
    [imperialism]").
    """
    m = re.match(r"\s*what\s+(?:did|does|do|will|would|can|could|should)\s+", question, re.I)
    if not m:
        return None
    asked = [stem(w) for w in words(question[m.end() :])]
    tokens = list(_WORDS.finditer(sentence))
    have = [stem(t.group().lower()) for t in tokens]
    best: tuple[int, int, int] | None = None  # (length, question end, sentence end)
    for qi in range(len(asked)):
        for si in range(len(have)):
            n = 0
            while qi + n < len(asked) and si + n < len(have) and asked[qi + n] == have[si + n]:
                n += 1
            if n and (best is None or n > best[0]):
                best = (n, qi + n, si + n)
    if best is None or best[0] < 2:
        return None
    n, q_end, s_end = best
    frame = set(asked[q_end - n : q_end])
    if not (frame & question_stems) - _STOPWORD_STEMS:
        return None  # a run of stopwords frames nothing
    if s_end >= len(tokens):
        return None
    start = tokens[s_end].start()
    if sentence[tokens[s_end - 1].end() : start].strip():
        return None  # punctuation right after the frame: the clause ended there
    stop = _clause_bounds(sentence, start, start).end
    if q_end == len(asked):  # the question ends at the frame: what follows, up to a joint
        joint = _JOINT.search(sentence, start, stop)
        stop = joint.start() if joint else stop
    else:  # the question goes on: the gap ends where its next word is
        nxt = asked[q_end]
        found = next((t for t in tokens[s_end:] if stem(t.group().lower()) == nxt), None)
        if found is None or found.start() > stop:
            return None
        stop = found.start()
    text = sentence[start:stop].rstrip()
    if not text or len(text.split()) > 8 or not novel(text, question_stems):
        return None
    return Span(start, start + len(text))
