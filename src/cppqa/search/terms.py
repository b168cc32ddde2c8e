"""Words of the corpus: tokens, stems, stopwords, acronyms and typo correction.

``Vocabulary`` is learned from the corpus sentences alone, so a new document
brings its own acronyms ("Communist Party of Pakistan (CPP)" → ``cpp``) and
its own spelling.
"""

from __future__ import annotations

import itertools
import math
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache

_WORD = re.compile(r"\w+(?:['’]\w+)*")
_ACRONYM_DEF = re.compile(r"((?:[A-Z][\w'’-]*\s+(?:(?:of|and|the|for)\s+)*){1,8})\(([A-Z]{2,8})\)")
_ACRONYM = re.compile(r"\b[A-Z]{2,6}\b")
# A word that may be clipped, with its dot: "gen." in "gen. sec.".
_CLIPPED = re.compile(r"\b([a-z]{2,5})\b\.?", re.IGNORECASE)

STOPWORDS = frozenset(
    """
    a about above after again against all also am an and any are as at be because been before
    being below between both but by can could did do does doing down during each else few for
    from further had has have having he her here hers herself him himself his how i if in into
    is it its itself just me more most my myself no nor not now of off on once only or other
    our ours out over own same she should so some such than that the their theirs them
    themselves then there these they this those through to too under until up very was we were
    what when where which while who whom whose why will with would you your yours tell please
    know give name named happen happened happens s t another however thus similarly actually
    despite even still yet though although moreover therefore hence indeed
    """.split()
)


@lru_cache(maxsize=1)
def _stemmer():
    import Stemmer  # PyStemmer: Snowball English (Porter 2)

    return Stemmer.Stemmer("english")


def words(text: str) -> list[str]:
    """Lowercased word tokens; hyphenated words split ("pay-role" → pay, role)."""
    return [w.lower().replace("’", "'") for w in _WORD.findall(text)]


#: Irregular past forms, which a suffix stemmer leaves apart from their verb.
IRREGULAR = {
    past: verb
    for verb, forms in {
        "arise": "arose arisen",
        "be": "was were been",
        "become": "became",
        "begin": "began begun",
        "break": "broke broken",
        "bring": "brought",
        "build": "built",
        "buy": "bought",
        "catch": "caught",
        "choose": "chose chosen",
        "come": "came",
        "do": "did done",
        "draw": "drew drawn",
        "drive": "drove driven",
        "fall": "fell fallen",
        "feel": "felt",
        "fight": "fought",
        "find": "found",
        "flee": "fled",
        "forbid": "forbade forbidden",
        "get": "got gotten",
        "give": "gave given",
        "go": "went gone",
        "grow": "grew grown",
        "have": "had",
        "hold": "held",
        "keep": "kept",
        "know": "knew known",
        "lead": "led",
        "leave": "left",
        "lose": "lost",
        "make": "made",
        "mean": "meant",
        "meet": "met",
        "pay": "paid",
        "rise": "rose risen",
        "run": "ran",
        "say": "said",
        "see": "saw seen",
        "seek": "sought",
        "sell": "sold",
        "send": "sent",
        "shoot": "shot",
        "speak": "spoke spoken",
        "spend": "spent",
        "stand": "stood",
        "steal": "stole stolen",
        "strike": "struck",
        "take": "took taken",
        "teach": "taught",
        "tell": "told",
        "think": "thought",
        "throw": "threw thrown",
        "understand": "understood",
        "win": "won",
        "write": "wrote written",
    }.items()
    for past in forms.split()
}


@lru_cache(maxsize=65536)
def stem(word: str) -> str:
    word = word.removesuffix("'s")
    return str(_stemmer().stemWord(IRREGULAR.get(word, word)))


@lru_cache(maxsize=8)
def subject_stems(subject: frozenset[str]) -> frozenset[str]:
    """Stems of the words of the document's subject and its aliases (stopwords dropped)."""
    return frozenset(stem(w) for alias in subject for w in words(alias) if w not in STOPWORDS)


def content_stems(text: str) -> list[str]:
    """Stems of the words that carry meaning (stopwords dropped)."""
    return [stem(w) for w in words(text) if w not in STOPWORDS]


_MAX_CORRECTIONS = 50_000


@dataclass
class Vocabulary:
    """Corpus statistics: sentence frequency of stems, acronyms, words for typo fixing."""

    sentence_count: int = 0
    frequency: Counter[str] = field(default_factory=Counter)
    surface: set[str] = field(default_factory=set)
    acronyms: dict[str, str] = field(default_factory=dict)
    #: A surface word for each stem ("ideolog" → "ideological").
    stems: dict[str, str] = field(default_factory=dict)
    #: Pairs of words that follow each other in a sentence, for abbreviated phrases.
    bigrams: set[tuple[str, str]] = field(default_factory=set)
    #: Acronyms the corpus spells out in place: "Communist Party of Pakistan (CPP)".
    defined: set[str] = field(default_factory=set)
    _corrected: dict[str, str | None] = field(default_factory=dict, repr=False)
    _pairs_by_initials: dict[tuple[str, str], list[tuple[str, str]]] = field(
        default_factory=dict, repr=False
    )

    @classmethod
    def learn(cls, sentences: Iterable[str]) -> Vocabulary:
        vocab = cls()
        texts = list(sentences)
        vocab.sentence_count = len(texts)
        for text in texts:
            tokens = words(text)
            vocab.surface.update(tokens)
            # "pay-role" is also known as "payrole", so "payroll" can find it.
            vocab.surface.update(w.lower().replace("-", "") for w in re.findall(r"\w+-\w+", text))
            vocab.frequency.update({stem(w) for w in tokens})
            vocab.bigrams.update(itertools.pairwise(tokens))
            for w in tokens:
                vocab.stems.setdefault(stem(w), w)
        for a, b in vocab.bigrams:  # by their first two letters, for clipped phrases
            if a not in STOPWORDS:
                vocab._pairs_by_initials.setdefault((a[:2], b[:2]), []).append((a, b))
        whole = " ".join(texts)
        for match in _ACRONYM_DEF.finditer(whole):
            vocab.acronyms[match.group(2).lower()] = _expansion(match.group(1), match.group(2))
            vocab.defined.add(match.group(2).lower())
        for acronym in set(_ACRONYM.findall(whole)):
            key = acronym.lower()
            if key not in vocab.acronyms and (found := _initials_phrase(whole, acronym)):
                vocab.acronyms[key] = found
        return vocab

    def idf(self, stem_: str) -> float:
        """Smoothed inverse sentence frequency (Robertson-Spärck Jones, +1 to stay positive)."""
        df = self.frequency.get(stem_, 0)
        return math.log(1 + (self.sentence_count - df + 0.5) / (df + 0.5))

    def knows(self, word: str) -> bool:
        return word in self.surface or stem(word) in self.frequency

    def correct(self, word: str) -> str | None:
        """The corpus word closest to a misspelt ``word``, or None when nothing is close."""
        if word in self._corrected:  # the vocabulary never changes once learned
            return self._corrected[word]
        fixed = self._correct(word)
        if len(self._corrected) >= _MAX_CORRECTIONS:  # a server sees endless new words
            self._corrected.clear()
        self._corrected[word] = fixed
        return fixed

    def _correct(self, word: str) -> str | None:
        if self.knows(word) or len(word) < 4 or word.isdigit():
            return word if self.knows(word) else None
        best = closest(word, self.surface)
        if best is not None:
            return best
        # "ideolgy" is far from "ideological" but close to its stem "ideolog".
        best = closest(word, self.stems)
        return None if best is None else self.stems[best]

    def abbreviation(self, first: str, second: str) -> str | None:
        """The one corpus phrase two clipped words stand for ("gen sec" → "general secretary").

        Both words must begin two corpus words that follow each other, and
        only one such pair may exist.
        """
        if min(len(first), len(second)) < 2 or self.knows(first) or self.knows(second):
            return None
        found = {
            f"{a} {b}"
            for a, b in self._pairs_by_initials.get((first[:2], second[:2]), [])
            if a.startswith(first) and b.startswith(second)
        }
        return found.pop() if len(found) == 1 else None

    def normalise_query(self, question: str, expand: bool = True) -> str:
        """Expand acronyms (unless not ``expand``) and abbreviations and fix typos,
        keeping the rest as typed."""
        # Clipped pairs, left to right; a word spelled out with its left neighbour is
        # not paired again with its right one ("dem stud fed": "dem stud" only).
        tokens = list(_CLIPPED.finditer(question))
        parts, done, i = [], 0, 0
        while i + 1 < len(tokens):
            a, b = tokens[i], tokens[i + 1]
            found = question[a.end() : b.start()] == " " and self.abbreviation(
                a.group(1).lower(), b.group(1).lower()
            )
            if found:
                parts += [question[done : a.start()], found]
                done, i = b.end(), i + 2
            else:
                i += 1
        question = "".join(parts) + question[done:]

        def fix(match: re.Match[str]) -> str:
            token = match.group()
            low = token.lower()
            if low in self.acronyms and (token.isupper() or not self.knows(low)):
                return f"{token} {self.acronyms[low]}" if expand else token
            if low in STOPWORDS or low in CUE_WORDS or self.knows(low):
                return token
            fixed = self.correct(low) or _question_word(low)
            return token if fixed is None else fixed

        return _WORD.sub(fix, question)

    def unknown_words(self, question: str) -> list[str]:
        """Content words of ``question`` that the corpus never uses, even allowing for typos."""
        out = []
        for word in words(question):
            if word in STOPWORDS or word in self.acronyms or word.isdigit():
                continue
            if self.correct(word) is None:
                out.append(word)
        return out


QUESTION_WORDS = ("which", "what", "where", "when", "who", "whom", "whose", "how", "why")
#: Words that frame a question without naming its topic ("what happened ...?").
FRAME_WORDS = ("happen", "happened", "happens")
#: Words that say what kind of answer a question wants, whether or not the corpus has them.
CUE_WORDS = (
    "city", "country", "province", "place", "year", "date", "month", "called", "name",
    "long", "many", "much", "organisation", "organization", "person", "people", "list",
)  # fmt: skip


@lru_cache(maxsize=1)
def cue_stems() -> frozenset[str]:
    """Stems of the cue words: they say what kind of answer, not what about."""
    return frozenset(stem(w) for w in CUE_WORDS)


def _question_word(word: str) -> str | None:
    """The question, cue or frame word a misspelt ``word`` stands for ("wich" → "which",
    "citty" → "city", "happend" → "happened"), if any. Short words are too easily another
    word ("man" is no misspelt "many"), so cue and frame words are only tried from four
    letters."""
    choices = QUESTION_WORDS + (CUE_WORDS + FRAME_WORDS if len(word) >= 4 else ())
    found = closest(word, choices)
    if found is None and len(word) >= 4:  # two letters swapped: "yaer" is "year"
        from rapidfuzz.distance import OSA

        near = [c for c in choices if len(c) == len(word) and OSA.distance(word, c) <= 1]
        found = near[0] if len(near) == 1 else None
    return found


#: Typo tolerance: rapidfuzz's normalised Indel similarity, in percent.
TYPO_SIMILARITY = 80


def closest(word: str, choices: Iterable[str]) -> str | None:
    """The choice most similar to ``word``: at least ``TYPO_SIMILARITY`` and at most one
    letter longer or shorter, so that "caused" is not taken for "case".

    >>> closest("genral", ["general", "generals", "gender"])
    'general'
    """
    from rapidfuzz import fuzz, process

    near = [c for c in choices if abs(len(c) - len(word)) <= 1]
    best = process.extractOne(word, near, scorer=fuzz.ratio, score_cutoff=TYPO_SIMILARITY)
    return None if best is None else str(best[0])


def _expansion(phrase: str, acronym: str) -> str:
    """Trim the words before an acronym to those its letters stand for."""
    tokens = phrase.split()
    letters = [c.lower() for c in acronym]
    # Walk back from the end, matching capitalised words to letters.
    picked: list[str] = []
    remaining = letters[:]
    for token in reversed(tokens):
        if not remaining:
            break
        picked.append(token)
        if token[0].lower() == remaining[-1] and token[0].isupper():
            remaining.pop()
    return " ".join(reversed(picked)).lower()


def _initials_phrase(text: str, acronym: str) -> str | None:
    """The run of words whose initials spell ``acronym`` ("CC" → "central committee").

    Among several runs, the one whose neighbouring words best match the
    acronym's own neighbours wins ("Another CC member" ~ "member of the
    central committee"); ties go to a lowercase (common-noun) run.
    """
    letters = acronym.lower()
    tokens = re.findall(r"[A-Za-z]+", text)
    lowered = [t.lower() for t in tokens]

    def context(i: int, n: int) -> set[str]:
        near = lowered[max(0, i - 4) : i] + lowered[i + n : i + n + 4]
        return {w for w in near if w not in STOPWORDS}

    around = set().union(*(context(i, 1) for i, t in enumerate(tokens) if t == acronym))
    best: tuple[int, bool, str] | None = None
    for i in range(len(tokens) - len(letters) + 1):
        window = tokens[i : i + len(letters)]
        if all(
            t[0].lower() == c and t.lower() not in STOPWORDS and len(t) > 2
            for t, c in zip(window, letters, strict=False)
        ) and not any(t.isupper() for t in window):
            key = (len(around & context(i, len(letters))), window[0].islower(), " ".join(window))
            if best is None or key[:2] > best[:2]:
                best = key
    return None if best is None else best[2].lower()
