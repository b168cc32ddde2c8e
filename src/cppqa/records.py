"""Typed records that flow through the pipeline: passages in, answers out."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Document:
    """One corpus file, read whole. ``doc`` is its path relative to the corpus folder."""

    doc: str
    title: str
    text: str
    sha256: str


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
    """A passage offered as evidence, with its retrieval score (higher is better)."""

    passage: Passage
    score: float

    def to_json(self) -> dict[str, Any]:
        return {**self.passage.to_json(), "score": round(float(self.score), 4)}


@dataclass(frozen=True)
class Answer:
    """The result of one question.

    ``text`` is a verbatim span of ``sources[0].passage`` starting at document
    offset ``start``, or None when the document does not hold an answer.
    ``query`` is the question as it was understood (follow-ups resolved).
    """

    question: str
    query: str
    text: str | None
    confidence: float
    sources: tuple[Source, ...] = field(default_factory=tuple)
    start: int | None = None

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
        }
