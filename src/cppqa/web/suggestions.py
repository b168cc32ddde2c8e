"""Example questions for documents the chat has never seen, made from their own words.

Nothing is generated: each question is a fixed template filled with words taken
verbatim from a document. A heading becomes a question about its section ("How to
install" → "How to install?", "Installation" → "What is said about “Installation”?");
a sentence gives the dates ("What happened in 1954?") and the names of two or more
capitalised words ("What is said about Imdad Qazi?") it holds. Headings come first, in
order; then the sentences', alternating dates and names, each date or name asked once
and at most ``EACH`` of either, spread over the document; a few documents take turns.

>>> from cppqa.records import Document, Heading, Passage
>>> doc = Document("n.md", "N", "# Setup\\nIn 1931, Mary Brown opened it.", "",
...                headings=(Heading(0, 1, "Setup"),))
>>> suggest([doc], [Passage("n.md", 8, 38, "In 1931, Mary Brown opened it.")])
('What is said about “Setup”?', 'What happened in 1931?', 'What is said about Mary Brown?')
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from itertools import chain, zip_longest

from cppqa.dialogue.mentions import AnswerType, typed_spans
from cppqa.records import Document, Passage

#: The most example questions offered: as many as the shipped document's.
MOST = 8
#: The most questions about dates, and about names, from one document: a chronicle
#: would otherwise offer nothing but "What happened in ...?".
EACH = MOST // 2
#: Longest heading or name turned into a question, in characters: a longer one is a
#: sentence set as a heading, or a run of capitalised words that is no name.
LONGEST = 60
#: Headings that name no subject of their own: asked about, they find nothing to quote.
EMPTY_HEADINGS = frozenset(
    "contents table of contents index references bibliography notes footnotes appendix "
    "acknowledgements acknowledgments abstract summary introduction".split()
) | {"table of contents"}
#: A word written with a capital.
_CAPITALISED = re.compile(r"\b[A-Z][\w'’-]*")
#: A heading that asks already, or starts as a question would ("How to install").
_ASKING = re.compile(r"^(?:how|what|why|when|where|who|which)\b", re.IGNORECASE)
_MONTH = (
    r"(?:January|February|March|April|May|June|July|August|September|October|November|"
    r"December)"
)
#: A date: "March 6, 1948", "6 March 1948", "March 1948" or a year from 1000 to 2099.
#: "in" or "on" is the template's preposition for it (a day takes "on").
_DATE = re.compile(
    rf"\b(?P<day>{_MONTH} \d{{1,2}}, \d{{4}}|\d{{1,2}} {_MONTH} \d{{4}})\b"
    rf"|\b(?P<month>{_MONTH} \d{{4}})\b"
    r"|(?<![\d.,-])\b(?P<year>1\d{3}|20\d{2})\b(?![.,-]?\d)"
)


def suggest(documents: Sequence[Document], sentences: Sequence[Passage]) -> tuple[str, ...]:
    """Up to ``MOST`` example questions about ``documents``, from their headings, then
    from the dates and names in their ``sentences``; each question once."""
    by_document = [
        chain(from_headings(d), from_sentences([s for s in sentences if s.doc == d.doc]))
        for d in documents
    ]
    chosen: list[str] = []
    for turn in zip_longest(*by_document):
        for question in turn:
            if question is not None and question not in chosen:
                chosen.append(question)
        if len(chosen) >= MOST:
            break
    return tuple(chosen[:MOST])


def from_headings(document: Document) -> Iterator[str]:
    """A question for each heading of ``document`` that names a subject (not its title,
    nor "Contents" and the like), in order."""
    for heading in document.headings:
        text = " ".join(heading.text.split()).rstrip(" :.")
        if (
            heading.level == 0
            or not text
            or len(text) > LONGEST
            or text.lower() in EMPTY_HEADINGS
            or text.lower() == document.title.lower()
            or not any(ch.isalpha() for ch in text)
        ):
            continue
        if text.endswith("?"):
            yield text
        elif _ASKING.match(text):
            yield text + "?"
        else:
            yield f"What is said about “{text}”?"


def from_sentences(sentences: Sequence[Passage]) -> Iterator[str]:
    """Questions about the dates and names in ``sentences``, taking turns (a date, a
    name, ...), each date and name asked about once."""
    dates, names = spread(_dates(sentences), EACH), spread(_names(sentences), EACH)
    for pair in zip_longest(dates, names):
        yield from (q for q in pair if q is not None)


def spread(items: Sequence[str], most: int) -> list[str]:
    """At most ``most`` of ``items``, in order, evenly spaced from the first to the last.

    >>> spread([str(n) for n in range(10)], 4)
    ['0', '3', '6', '9']
    """
    if len(items) <= most:
        return list(items)
    if most == 1:
        return [items[0]]
    return [items[round(n * (len(items) - 1) / (most - 1))] for n in range(most)]


def _dates(sentences: Sequence[Passage]) -> list[str]:
    """A question about each date in ``sentences``, in order of first mention."""
    asked: dict[str, str] = {}
    for sentence in sentences:
        for match in _DATE.finditer(sentence.text):
            date = match.group()
            asked.setdefault(date, f"What happened {'on' if match.group('day') else 'in'} {date}?")
    return list(asked.values())


def _names(sentences: Sequence[Passage]) -> list[str]:
    """A question about each name of two words or more in ``sentences``, in order.

    A name that starts a sentence keeps its first word only where the document also
    writes that word with a capital inside a sentence: "Later Tom came" names Tom alone.
    """
    inside = {m.group() for s in sentences for m in _CAPITALISED.finditer(s.text) if m.start()}
    asked: dict[str, str] = {}
    for sentence in sentences:
        for span in typed_spans(sentence.text, AnswerType.NAME, frozenset()):
            name = sentence.text[span.start : span.end]
            if span.start == 0 and name.split(" ", 1)[0] not in inside:
                name = name.partition(" ")[2]
            if " " in name and len(name) <= LONGEST and not _DATE.search(name):
                asked.setdefault(name, f"What is said about {name}?")
    return list(asked.values())
