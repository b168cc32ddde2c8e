"""How far a long job has come: reading documents, then embedding their texts by batch.

The library tells a ``Step`` to a callback (``Progress``) and never shows it: ``cppqa
index`` prints it (``cppqa.cli``) and the web chat puts it in its progress bar.

>>> Step(Stage.EMBEDDING, 1280, 4310, "sentences and passages").describe()
'embedding 1,280 / 4,310 sentences and passages'
>>> Step(Stage.READING, 3, 27, "pages", doc="manual.pdf").describe()
'reading manual.pdf: 3 / 27 pages'
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np

    from cppqa.documents.formats import FileProgress
    from cppqa.search.embed import Embedder

#: Texts embedded at once: the embedding model's own batch (``embed.py`` encodes 64 at a
#: time), so that each batch is told and the batches are the ones one call would make.
BATCH = 64
#: What is embedded: every sentence, and every passage of a few sentences.
TEXTS = "sentences and passages"


class Stage(enum.Enum):
    """The stages of indexing, in their order."""

    READING = "reading"
    EMBEDDING = "embedding"


@dataclass(frozen=True)
class Step:
    """``done`` of ``total`` ``unit`` in ``stage``; ``doc`` is the document being read
    (None when the step is about the whole corpus)."""

    stage: Stage
    done: int
    total: int
    unit: str
    doc: str | None = None

    @property
    def share(self) -> float:
        """The share of the stage done, 0 to 1 (1 for a stage with nothing to do)."""
        return min(self.done / self.total, 1.0) if self.total > 0 else 1.0

    def describe(self) -> str:
        """The step in words, with its count: "embedding 1,280 / 4,310 sentences"."""
        what = f"{self.stage.value} {self.doc}:" if self.doc else self.stage.value
        return f"{what} {self.done:,} / {self.total:,} {self.unit}"


#: Told each step of a long job.
Progress = Callable[[Step], None]


def pages_told(told: Progress) -> FileProgress:
    """A document reader's page callback (``cppqa.documents.formats.FileProgress``) that tells
    ``told`` each page read as a reading ``Step``."""

    def page(doc: str, done: int, total: int) -> None:
        told(Step(Stage.READING, done, total, "pages", doc))

    return page


def encode_told(embedder: Embedder, texts: Sequence[str], told: Progress) -> np.ndarray:
    """The vectors of ``texts``, in their order, embedded ``BATCH`` at a time, each batch
    told to ``told`` (a step with 0 done first).

    Longest first, as sentence-transformers orders the texts of one call, so that the
    batches are padded as little as those of ``embedder.encode(texts)``.
    """
    import numpy as np

    total = len(texts)
    told(Step(Stage.EMBEDDING, 0, total, TEXTS))
    if not texts:
        return embedder.encode([])
    order = sorted(range(total), key=lambda at: -len(texts[at]))
    parts = []
    for start in range(0, total, BATCH):
        parts.append(embedder.encode([texts[at] for at in order[start : start + BATCH]]))
        told(Step(Stage.EMBEDDING, min(start + BATCH, total), total, TEXTS))
    vectors = np.empty_like(parts[0], shape=(total, parts[0].shape[1]))
    vectors[order] = np.concatenate(parts)
    return vectors
