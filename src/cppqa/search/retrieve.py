"""Hybrid retrieval of sentences: dense (FAISS) and lexical (BM25), fused by rank.

Three rankings are fused: the question against each sentence's vector, against
each passage's vector (a sentence inherits its best passage's rank, which
brings in context such as "she" meaning the party), and BM25 over stems.
Words that every sentence shares (the document's subject: "the party", "CPP")
are dropped from the query first, so they cannot decide the ranking.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from cppqa.search.fusion import reciprocal_rank_fusion
from cppqa.search.lexical import LexicalIndex
from cppqa.search.terms import Vocabulary, content_stems, stem, subject_stems

if TYPE_CHECKING:
    from cppqa.search.embed import Embedder
    from cppqa.search.index import Index

#: A stem in at least this share of sentences is the document's subject, not a clue.
SUBJECT_SHARE = 0.2
#: How much a query word found only in the previous sentence counts towards coverage.
CONTEXT_WEIGHT = 0.75
#: ... and one found only two sentences back (tuned on the dev split: flat from 0.6 to 0.75).
EARLIER_WEIGHT = 0.6


@dataclass(frozen=True, eq=False)
class Query:
    """A question prepared for search."""

    text: str  # as understood: acronyms expanded, typos fixed
    focus: str  # without the subject's aliases, for the dense model
    stems: tuple[str, ...]  # content stems, subject dropped
    #: Unit vectors of ``focus`` and ``text``, encoded once per question.
    vectors: np.ndarray


@dataclass(frozen=True)
class Candidate:
    """A sentence found for a query, with the evidence for it."""

    sentence: int
    fused: float
    dense: float
    lexical: float
    coverage: float  # IDF-weighted share of the query's stems found in the sentence


class Retriever:
    """Searches an ``Index`` with an ``Embedder``."""

    def __init__(self, index: Index, embedder: Embedder, rrf_k: int = 60) -> None:
        self.index = index
        self.embedder = embedder
        self.rrf_k = rrf_k
        texts = [p.text for p in index.sentences]
        self.vocabulary = Vocabulary.learn(texts)
        self._sentence_stems = [set(content_stems(t)) for t in texts]
        sentences = index.sentences
        self._previous = [
            i - 1 if i > 0 and sentences[i - 1].doc == p.doc else -1
            for i, p in enumerate(sentences)
        ]
        self.subject = self._subject_aliases()
        self.subject_stems = subject_stems(frozenset(self.subject))
        self.lexical = LexicalIndex([content_stems(t) for t in texts])
        self._chunk_of = self._sentence_chunks()

    def prepare(self, question: str) -> Query:
        text = self.vocabulary.normalise_query(question)
        focus = self.strip_subject(text) or text
        stems = self.specific_stems(text)
        # The question with and without the subject: the first matches what is
        # specific, the second keeps phrases like "the party's newspaper" whole.
        vectors = self.embedder.encode([focus, text])
        return Query(text=text, focus=focus, stems=stems, vectors=vectors)

    def search(self, query: Query, k: int = 8) -> list[Candidate]:
        """The ``k`` best sentences, best first."""
        n = len(self.index.sentences)
        vectors = query.vectors
        depth = min(n, max(50, 4 * k))
        dense_scores, dense_ids = self.index.sentence_vectors.search(vectors, depth)
        _chunk_scores, chunk_ids = self.index.chunk_vectors.search(
            vectors[:1], min(len(self.index.chunks), depth)
        )
        dense: dict[int, float] = {}
        for row in range(2):
            for i, score in zip(dense_ids[row], dense_scores[row], strict=True):
                if i >= 0:
                    dense[int(i)] = max(dense.get(int(i), -1.0), float(score))
        chunk_rank: list[int] = []
        for c in chunk_ids[0]:
            for s in self._chunk_of.get(int(c), ()):
                if s not in chunk_rank:
                    chunk_rank.append(s)
        bm25 = self.lexical.scores(list(query.stems))
        top = np.argpartition(-bm25, depth - 1)[:depth] if depth < n else np.arange(n)
        lexical_rank = [int(i) for i in top[np.argsort(-bm25[top])] if bm25[i] > 0]
        fused = reciprocal_rank_fusion(
            [[int(i) for i in dense_ids[0] if i >= 0], chunk_rank, lexical_rank], self.rrf_k
        )
        best = sorted(fused, key=lambda i: -fused[i])[:k]
        return [
            Candidate(
                sentence=i,
                fused=fused[i],
                dense=dense.get(i, 0.0),
                lexical=float(bm25[i]),
                coverage=self.coverage(query, i),
            )
            for i in best
        ]

    def specific_stems(self, text: str) -> tuple[str, ...]:
        """The content stems of ``text`` that are not the document's subject."""
        return tuple(s for s in content_stems(text) if s not in self.subject_stems)

    def coverage(self, query: Query, sentence: int) -> float:
        """The IDF-weighted share of the query's stems in the sentence or just before it."""
        return self.share(query.stems, sentence, context=True)

    def share(self, stems: Sequence[str], sentence: int, context: bool = False) -> float:
        """The IDF-weighted share of ``stems`` found in ``sentence``; with ``context``,
        those found only in the one or two sentences before count in part."""
        if not stems:
            return 0.0
        have = self._sentence_stems[sentence]
        previous = self._previous[sentence] if context else -1
        before = self._sentence_stems[previous] if previous >= 0 else set()
        earlier = self._previous[previous] if previous >= 0 else -1
        further = self._sentence_stems[earlier] if earlier >= 0 else set()
        weights = [self.vocabulary.idf(s) for s in stems]
        # A word found only in the sentence before counts in part: "The CPP began a
        # struggle against it" is about the bureaucracy named just before. Two
        # sentences back counts for less ("such an action" → the officers' plan).

        def found(s: str) -> float:
            if s in have:
                return 1.0
            return CONTEXT_WEIGHT if s in before else EARLIER_WEIGHT if s in further else 0.0

        hit = sum(w * found(s) for s, w in zip(stems, weights, strict=True))
        return hit / sum(weights)

    def _subject_aliases(self) -> list[str]:
        """The document's subject: the acronym mentioned in the most sentences, and its forms.

        Its expansion's head ("communist party") and head noun ("party") count too,
        when that noun fills at least ``SUBJECT_SHARE`` of the sentences. It is the
        subject only when at least that share of the sentences mention one of these: in
        most documents the most-mentioned acronym is a side matter ("FM" in an article
        on Somalia), and none is the subject.
        """
        vocab = self.vocabulary
        texts = [p.text.lower() for p in self.index.sentences]

        def mentions(item: tuple[str, str]) -> int:
            acronym, expansion = item
            return sum(bool(re.search(rf"\b{acronym}\b", t)) or expansion in t for t in texts)

        self._others: list[str] = []
        if not vocab.acronyms:
            return []
        acronym, expansion = max(sorted(vocab.acronyms.items()), key=mentions)
        head = expansion.split(" of ")[0].split()
        aliases = [expansion, acronym]
        if head and vocab.frequency[stem(head[-1])] / max(vocab.sentence_count, 1) >= SUBJECT_SHARE:
            aliases += [" ".join(head), head[-1]]
        said = [re.compile(rf"\b{re.escape(a)}\b") for a in aliases]
        if sum(any(p.search(t) for p in said) for t in texts) < SUBJECT_SHARE * len(texts):
            return []
        self._others = [e for a, e in vocab.acronyms.items() if a != acronym]
        return sorted(set(aliases), key=len, reverse=True)

    @property
    def topic(self) -> str | None:
        """The subject as a noun phrase ("the party"), or None when the corpus has none."""
        if not self.subject:
            return None
        text = " ".join(p.text.lower() for p in self.index.sentences)
        return f"the {max(self.subject, key=lambda alias: text.count(alias))}"

    def strip_subject(self, text: str) -> str:
        """``text`` without the subject's aliases, leaving other expansions whole.

        "Was the CPP formed at a congress of the Communist Party of India?"
        becomes "Was formed at a congress of the Communist Party of India?".
        """
        protected = [
            m.span()
            for other in self._others
            for m in re.finditer(re.escape(other), text, re.IGNORECASE)
        ]
        alternatives = "|".join(re.escape(a) for a in self.subject) or r"(?!x)x"
        pattern = re.compile(rf"\b(?:the\s+)?(?:{alternatives})(?:'s)?\b", re.IGNORECASE)

        def drop(match: re.Match[str]) -> str:
            inside = any(a < match.end() and match.start() < b for a, b in protected)
            return match.group() if inside else " "

        return re.sub(r"\s+", " ", pattern.sub(drop, text)).strip()

    def _sentence_chunks(self) -> dict[int, list[int]]:
        """For each passage, the sentence ids inside it (sentences are in document order)."""
        starts: dict[str, tuple[list[int], list[int]]] = {}
        for i, p in enumerate(self.index.sentences):
            offsets, ids = starts.setdefault(p.doc, ([], []))
            offsets.append(p.start)
            ids.append(i)
        out: dict[int, list[int]] = {}
        for c, chunk in enumerate(self.index.chunks):
            offsets, ids = starts.get(chunk.doc, ([], []))
            first = bisect.bisect_left(offsets, chunk.start)
            last = bisect.bisect_left(offsets, chunk.end)
            out[c] = ids[first:last]
        return out
