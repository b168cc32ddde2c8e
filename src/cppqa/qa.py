"""The facade: ``QA.load()`` once, then ``qa.ask(question, history=...)`` → ``Answer``.

One way through: the question → follow-up resolution → retrieval of the best
sentences → a window around each (the sentence and its neighbours) → the reader
over all windows in one batch → the best span across windows with a calibrated
confidence → the answer, or an abstention.

>>> qa = QA.load()                                       # doctest: +SKIP
>>> answer = qa.ask("Who is the General Secretary of the Party?")   # doctest: +SKIP
>>> answer.text, answer.sources[0].passage.doc           # doctest: +SKIP
('Imdad Qazi', 'communist-party-of-pakistan.txt')
"""

from __future__ import annotations

import functools
import logging
import os
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from cppqa.config import Settings
from cppqa.dialogue.followup import Turn, pronoun_of, resolve
from cppqa.dialogue.question import clean_question
from cppqa.reading.reader import Calibration, Reader, adapted_folder
from cppqa.reading.spans import Span, confidence, strongest, window_spans
from cppqa.records import Answer, Checked, Passage, Source
from cppqa.search.embed import Embedder, ModelInfo, SentenceTransformerEmbedder, describe_model
from cppqa.search.index import Index, ensure_index, fingerprint
from cppqa.search.manifest import vector_precision
from cppqa.search.precision import resolve as resolve_precision
from cppqa.search.retrieve import Candidate, Retriever

log = logging.getLogger(__name__)

#: About what the reader reads of a window: ~4 characters a word piece, and room for the
#: question within its 192 tokens. A longer window is cut from the end.
WINDOW_CHARS = 600


def threshold(settings: Settings, calibration: Calibration) -> float:
    """The confidence answers are withheld below: the setting if set, else the reader's."""
    if settings.min_confidence is not None:
        return settings.min_confidence
    return calibration.threshold


@dataclass(frozen=True)
class Window:
    """The text the reader sees for one retrieved sentence: it and its neighbours."""

    doc: str
    start: int
    end: int
    text: str
    sentences: tuple[int, ...]  # indexes into ``index.sentences``, in order


@dataclass(frozen=True)
class Reading:
    """What the pipeline found for one question, before the confidence threshold."""

    answer: Answer
    #: The best span's score over the no-answer score (-inf: nothing to read).
    margin: float
    #: The first retrieved sentence (the "top sentence" baseline of the evaluation).
    top: Passage | None


@dataclass(frozen=True)
class Retrieval:
    """A question as the reader gets it: cleaned, understood (follow-ups resolved), as
    read (typos fixed), and the windows retrieved for it, best first."""

    question: str
    query: str
    asked: str
    candidates: tuple[Candidate, ...]
    windows: tuple[Window, ...]


class QA:
    """Answers questions from an index of the corpus with the trained reader."""

    def __init__(
        self, index: Index, embedder: Embedder, settings: Settings, reader: Reader
    ) -> None:
        self.index = index
        self.settings = settings
        self.reader = reader
        self.retriever = Retriever(index, embedder, settings.rrf_k)
        self._texts = {d.doc: d.text for d in index.documents}
        self._documents = {d.doc: d for d in index.documents}
        #: Answers less sure than this are withheld.
        self.threshold = threshold(settings, reader.calibration)
        self._subject = frozenset(self.retriever.subject)
        self._topic = self.retriever.topic
        corpus = "\n\n".join(self._texts.values())
        #: Which pronoun the corpus uses for a name ("he", "she", "it", "they").
        self._pronoun = functools.lru_cache(maxsize=4096)(lambda name: pronoun_of(name, corpus))

    @classmethod
    def load(
        cls,
        settings: Settings | None = None,
        *,
        rebuild: bool = True,
        progress: bool = False,
        embedder: Embedder | None = None,
        reader: Reader | None = None,
    ) -> QA:
        """Load (or build) the index, the embedding model and the reader named by ``settings``
        (None: ``Settings.from_env()``, a corpus other than the shipped one indexed in the
        cache unless ``CPPQA_INDEX_DIR`` names a folder: ``cppqa.search.placement``)."""
        if settings is None:
            from cppqa.search.placement import place_index

            named = bool(os.environ.get("CPPQA_INDEX_DIR"))
            settings = place_index(Settings.from_env(), named=named)

        def read(index: Index) -> Reader:  # after the index: its errors are told first
            if reader is not None:
                return reader
            precision = resolve_precision(settings.precision)
            if settings.reader:
                return Reader.load(Path(settings.reader), precision)
            # the reader adapted to this very corpus if there is one, else the general one
            return Reader.load(adapted_folder(fingerprint(index.documents)), precision)

        if embedder is None:
            info = describe_model(settings.model)
            holder: list[SentenceTransformerEmbedder] = []

            def get() -> SentenceTransformerEmbedder:
                if not holder:  # hashed once, above; a new index is built in this precision
                    holder.append(
                        SentenceTransformerEmbedder(info, resolve_precision(settings.precision))
                    )
                return holder[0]

            index = ensure_index(settings, info, get, rebuild=rebuild, progress=progress)
            # queries are embedded as the index's vectors were (auto never mixes them)
            get().precision = vector_precision(index.manifest)
            return cls(index, get(), settings, read(index))
        fake = ModelInfo(embedder.name, Path("."), embedder.weights_sha256)
        index = ensure_index(settings, fake, lambda: embedder, rebuild=rebuild, progress=progress)
        return cls(index, embedder, settings, read(index))

    def ask(self, question: str, history: Sequence[Turn] = ()) -> Answer:
        """Answer ``question``; ``history`` holds the earlier turns of a conversation.

        Raises ``QuestionError`` for a question that cannot be asked (empty,
        too long, no words).
        """
        return self.decide(self.read(question, history))

    def decide(self, reading: Reading) -> Answer:
        """The answer ``reading`` gives under the threshold: its span, or an abstention
        when the span's confidence falls below it."""
        answer = replace(reading.answer, threshold=self.threshold)
        if answer.text is not None and answer.confidence < self.threshold:
            log.info("abstaining on %r: confidence %.2f", answer.query, answer.confidence)
            return replace(answer, text=None, start=None)
        return answer

    def retrieve(self, question: str, history: Sequence[Turn] = ()) -> Retrieval:
        """What the reader is given for ``question``: the question as understood and as
        read, and the windows of the sentences retrieved for it (training on a user's
        questions reads them through here too, as at answer time)."""
        question = self.validate(question)
        query = self.understand(question, history)
        candidates = self.retriever.search(self.retriever.prepare(query), k=self.settings.windows)
        # The reader reads the question with typos fixed ("wich yaer") and acronyms kept.
        asked = self.retriever.vocabulary.normalise_query(query, expand=False)
        return Retrieval(question, query, asked, tuple(candidates), tuple(self.windows(candidates)))

    def understand(self, question: str, history: Sequence[Turn] = ()) -> str:
        """``question`` as the pipeline understands it: a follow-up resolved against
        ``history`` ("And the rest?" → what it asks after)."""
        return resolve(question, history, self._topic, self._subject, self._pronoun).query

    def turns(self, pairs: Sequence[tuple[str, str | None]]) -> list[Turn]:
        """The earlier (question, answer) pairs of a conversation as the turns ``ask``
        takes, each question understood as it was in its place."""
        turns: list[Turn] = []
        for question, answer in pairs:
            turns.append(Turn(question, self.understand(question, turns), answer, None))
        return turns

    def read(self, question: str, history: Sequence[Turn] = ()) -> Reading:
        """The reader's best span for ``question`` before the abstention threshold,
        with the evidence the decision rests on (for evaluation and calibration)."""
        found = self.retrieve(question, history)
        question, query, windows, candidates = (
            found.question,
            found.query,
            found.windows,
            found.candidates,
        )
        top = self.index.sentences[candidates[0].sentence] if candidates else None
        spans = window_spans(self.reader.score(found.asked, [w.text for w in windows]))
        span = strongest(spans)
        sources = self._sources(candidates, span, windows)
        checked = self._checked(candidates, windows, spans)
        if span is None:  # no window had any text the reader could mark
            refused = Answer(question, query, None, 0.0, sources, checked=checked)
            return Reading(refused, float("-inf"), top)
        sure = self._confidence(span)
        if span.margin <= 0:  # the reader itself says the windows do not answer
            refused = Answer(question, query, None, sure, sources, checked=checked)
            return Reading(refused, span.margin, top)
        window = windows[span.window]
        start = window.start + span.start
        text = self._texts[window.doc][start : window.start + span.end]
        answer = Answer(question, query, text, sure, sources, start, checked)
        return Reading(answer, span.margin, top)

    def _confidence(self, span: Span) -> float:
        calibration = self.reader.calibration
        return confidence(span.margin, calibration.scale, calibration.bias)

    def _checked(
        self,
        candidates: Sequence[Candidate],
        windows: Sequence[Window],
        spans: Sequence[Span | None],
    ) -> tuple[Checked, ...]:
        """Each window read, in the order retrieved, with its best span and that span's
        confidence: what a refusal rests on. A window's score is its best sentence's."""
        fused = {c.sentence: c.fused for c in candidates}
        out = []
        for window, span in zip(windows, spans, strict=True):
            passage = Passage(window.doc, window.start, window.end, window.text)
            score = max((fused[i] for i in window.sentences if i in fused), default=0.0)
            if span is None:
                out.append(Checked(self._source(passage, score), None, None, None, 0.0))
                continue
            text = window.text[span.start : span.end]
            at = window.start + span.start
            source = self._source(passage, score, at)
            out.append(Checked(source, text, at, span.margin, self._confidence(span)))
        return tuple(out)

    def windows(self, candidates: Sequence[Candidate]) -> list[Window]:
        """For each candidate sentence, it with the sentence before and after (same document).

        The sentence before is left out when it would push the candidate itself past
        what the reader reads (its text is cut at ``max_tokens``, from the end).
        """
        sentences = self.index.sentences
        seen: set[tuple[int, ...]] = set()
        out: list[Window] = []
        for c in candidates:
            hit = sentences[c.sentence]
            ids = tuple(
                i
                for i in (c.sentence - 1, c.sentence, c.sentence + 1)
                if 0 <= i < len(sentences) and sentences[i].doc == hit.doc
            )
            if ids[0] < c.sentence and hit.end - sentences[ids[0]].start > WINDOW_CHARS:
                ids = ids[1:]
            if ids in seen:
                continue
            seen.add(ids)
            first, last = sentences[ids[0]], sentences[ids[-1]]
            text = self._texts[first.doc][first.start : last.end]
            out.append(Window(first.doc, first.start, last.end, text, ids))
        return out

    def _sources(
        self, candidates: Sequence[Candidate], span: Span | None, windows: Sequence[Window]
    ) -> tuple[Source, ...]:
        """The sentences retrieved, best first; the one holding the answer leads."""
        sentences = self.index.sentences
        ranked = [(sentences[c.sentence], c.fused) for c in candidates]
        at: int | None = None  # the answer's offset: its page and heading are the answer's
        if span is not None:
            window = windows[span.window]
            a, b = window.start + span.start, window.start + span.end
            at = a
            holding = [
                i for i in window.sentences if sentences[i].start < b and a < sentences[i].end
            ]
            first, last = sentences[holding[0]], sentences[holding[-1]]
            passage = Passage(
                first.doc, first.start, last.end, self._texts[first.doc][first.start : last.end]
            )
            score = max(
                (s for p, s in ranked if p.start == first.start and p.doc == first.doc), default=0.0
            )
            ranked = [(passage, score)] + [
                (p, s) for p, s in ranked if (p.doc, p.start) != (first.doc, first.start)
            ]
        return tuple(
            self._source(p, s, at if n == 0 else None)
            for n, (p, s) in enumerate(ranked[: self.settings.top_k])
        )

    def _source(self, passage: Passage, score: float, at: int | None = None) -> Source:
        """``passage`` as a source, with the page and the heading at ``at`` (its start)."""
        document = self._documents[passage.doc]
        offset = passage.start if at is None else at
        heading = document.heading_at(offset)
        page = document.page_at(offset)
        return Source(passage, round(score, 4), page, heading.text if heading else None)

    def validate(self, question: str) -> str:
        """The question cleaned of control characters, or a ``QuestionError``."""
        return clean_question(question, self.settings.max_question_chars)
