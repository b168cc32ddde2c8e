"""Typed records that flow through the pipeline: passages in, answers out."""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass, field
from typing import Any

#: What a reply says when the documents hold no answer (the CLI, the web page, the API).
NOT_FOUND = "I couldn't find that in the document."


@dataclass(frozen=True)
class Heading:
    """A heading of a document: ``text`` starts at ``Document.text[start]``.

    ``level`` is 1 for a top-level heading (``#``, ``<h1>``, Word's "Heading 1"),
    2 below it and so on; 0 is a Word document's "Title".
    """

    start: int
    level: int
    text: str


@dataclass(frozen=True)
class Document:
    """One corpus file, read whole. ``doc`` is its path relative to the corpus folder.

    ``text`` is what the file's reader extracted (``cppqa.documents.formats``): every
    passage and answer offset refers to it. ``page_starts[i]`` is where page
    ``i + 1`` of a PDF starts in ``text`` (empty for other formats); ``headings``
    are the headings of a Word, HTML or Markdown file, in order.

    >>> d = Document("r.pdf", "R", "One. Two.", "", page_starts=(0, 5))
    >>> d.page_at(d.text.index("Two")), d.heading_at(0)
    (2, None)
    """

    doc: str
    title: str
    text: str
    sha256: str
    page_starts: tuple[int, ...] = ()
    headings: tuple[Heading, ...] = ()

    def page_at(self, offset: int) -> int | None:
        """The page (from 1) that holds character ``offset``, or None without pages.

        A page without text shares its start with the next page, which gets the offset.
        """
        if not self.page_starts:
            return None
        return max(bisect_right(self.page_starts, offset), 1)

    def heading_at(self, offset: int) -> Heading | None:
        """The last heading that starts at or before ``offset``, or None."""
        starts = [h.start for h in self.headings]
        found = bisect_right(starts, offset)
        return self.headings[found - 1] if found else None


@dataclass(frozen=True)
class Passage:
    """A verbatim stretch of a document: ``document.text[start:end] == text``."""

    doc: str
    start: int
    end: int
    text: str

    def to_json(self) -> dict[str, Any]:
        return {"doc": self.doc, "start": self.start, "end": self.end, "text": self.text}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Passage:
        return cls(str(data["doc"]), int(data["start"]), int(data["end"]), str(data["text"]))


@dataclass(frozen=True)
class Source:
    """A passage offered as evidence, with its retrieval score (higher is better).

    ``page`` is the PDF page it starts on and ``heading`` the heading above it, where
    its document has them (``Document.page_at``, ``Document.heading_at``).

    >>> Source(Passage("r.pdf", 0, 3, "One"), 1.0, page=12).cite()
    'r.pdf, p. 12'
    """

    passage: Passage
    score: float
    page: int | None = None
    heading: str | None = None

    @property
    def place(self) -> str:
        """Where in its document the passage is, for a citation: "p. 12", "“Results”",
        both, or "" for a document without pages or headings."""
        parts = [f"p. {self.page}"] if self.page is not None else []
        if self.heading:
            parts.append(f"“{self.heading}”")
        return ", ".join(parts)

    def cite(self) -> str:
        """The document and the place: "report.pdf, p. 12", or just the document."""
        return ", ".join(part for part in (self.passage.doc, self.place) if part)

    def to_json(self) -> dict[str, Any]:
        """The passage, its score, and its ``page`` and ``heading`` (null where none)."""
        return {
            **self.passage.to_json(),
            "score": round(float(self.score), 4),
            "page": self.page,
            "heading": self.heading,
        }


@dataclass(frozen=True)
class Checked:
    """A passage the reader read for a question, with the best span it found there:
    the evidence behind a refusal ("the document does not say" after reading these).

    ``source`` is the window read (the retrieved sentence and its neighbours), with the
    best retrieval score among its sentences; ``span`` the reader's best span in it,
    starting at document offset ``start`` (None, as the margin, where the window had
    nothing to mark);
    ``margin`` how far that span's score beat the reader's no-answer score for the
    window (at or below 0 the reader itself says the window does not answer);
    ``confidence`` the span's calibrated confidence, to compare with the threshold.
    A span would have been the answer only with a margin above 0 and a confidence at
    or above the threshold.

    >>> c = Checked(Source(Passage("a.txt", 0, 9, "One. Two."), 0.5), "Two", 5, -1.5, 0.12)
    >>> c.to_json()["span"], c.to_json()["margin"], c.to_json()["confidence"]
    ('Two', -1.5, 0.12)
    """

    source: Source
    span: str | None
    start: int | None
    margin: float | None
    confidence: float

    def to_json(self) -> dict[str, Any]:
        """The passage as a source's JSON, with ``span``, ``span_start``, ``margin`` and
        ``confidence``."""
        return {
            **self.source.to_json(),
            "span": self.span,
            "span_start": self.start,
            "margin": None if self.margin is None else round(float(self.margin), 4),
            "confidence": round(float(self.confidence), 4),
        }


@dataclass(frozen=True)
class Answer:
    """The result of one question.

    ``text`` is a verbatim span of ``sources[0].passage`` starting at document
    offset ``start``, or None when the document does not hold an answer.
    ``query`` is the question as it was understood (follow-ups resolved).
    ``checked`` holds the passages the reader read, best span first, each with its
    best span, its margin over the no-answer score and its confidence; ``threshold`` is
    the confidence an answer needed (None where no threshold was applied). A refusal
    is checked against them: no span there beat the reader's no-answer score, or
    none reached the threshold.
    """

    question: str
    query: str
    text: str | None
    confidence: float
    sources: tuple[Source, ...] = field(default_factory=tuple)
    start: int | None = None
    checked: tuple[Checked, ...] = field(default_factory=tuple)
    threshold: float | None = None

    @property
    def abstained(self) -> bool:
        return self.text is None

    @property
    def end(self) -> int | None:
        return None if self.start is None or self.text is None else self.start + len(self.text)

    def to_json(self) -> dict[str, Any]:
        return {
            "question": self.question,
            "query": self.query,
            "answer": self.text,
            "confidence": round(float(self.confidence), 4),
            "sources": [s.to_json() for s in self.sources],
            "threshold": None if self.threshold is None else round(float(self.threshold), 4),
            # what was read and found short: for a refusal only (an answer shows its source)
            "checked": [c.to_json() for c in self.checked] if self.abstained else [],
        }
