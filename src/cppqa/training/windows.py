"""Windows: a sentence with its neighbours, as retrieval gives the reader at answer time.

Character ranges of an article's windows, the one holding an answer, and those sharing
most content words with a question (the windows retrieval would offer it), which the
example stream (``examples.py``) reads questions with.
"""

from __future__ import annotations

import functools
import random

from cppqa.datasets.squad import Article
from cppqa.documents.corpus import split_sentences
from cppqa.search.terms import content_stems


def windows_of(context: str, size: int) -> list[tuple[int, int]]:
    """Character ranges of every window of ``size`` consecutive sentences."""
    sentences = split_sentences(context)
    if not sentences:
        return []
    return [
        (sentences[i].start, sentences[min(i + size, len(sentences)) - 1].end)
        for i in range(max(len(sentences) - size + 1, 1))
    ]


def answer_window(
    context: str, start: int, answer: str, size: int, rng: random.Random
) -> tuple[int, int]:
    """A random window of ``size`` sentences that holds the answer at ``start``."""
    holding = [
        (a, b) for a, b in windows_of(context, size) if a <= start and start + len(answer) <= b
    ]
    if holding:
        return rng.choice(holding)
    return 0, len(context)  # the answer crosses a split the splitter made; keep it whole


@functools.cache
def _article_windows(article: Article, size: int) -> tuple[tuple[str, frozenset[str]], ...]:
    """Every window of the article, in order, with its content words (cached: the stream
    ranks an article's windows again and again)."""
    return tuple(
        (paragraph[a:b], frozenset(content_stems(paragraph[a:b])))
        for paragraph, _ in article.paragraphs
        for a, b in windows_of(paragraph, size)
    )


def near_window(
    article: Article, question: str, answer: str, size: int, rng: random.Random
) -> str | None:
    """The window of ``article`` that shares most content words with ``question`` yet
    lacks the answer text (a random one of the best); None when none shares any."""
    asked = set(content_stems(question))
    best, ties = 0, []
    for text, words in _article_windows(article, size):
        if answer.lower() in text.lower():
            continue
        shared = len(asked & words)
        if shared > best:
            best, ties = shared, [text]
        elif shared == best and best:
            ties.append(text)
    return rng.choice(ties) if ties else None


def closest_windows(article: Article, question: str, answer: str, n: int, size: int) -> list[str]:
    """The ``n`` windows of ``article`` sharing most content words with ``question`` that
    lack the answer text, best first (ties in the article's order)."""
    asked = set(content_stems(question))
    lacking = [
        (len(asked & words), i, text)
        for i, (text, words) in enumerate(_article_windows(article, size))
        if not answer or answer.lower() not in text.lower()
    ]
    lacking.sort(key=lambda t: (-t[0], t[1]))
    return [text for _, _, text in lacking[:n]]


def closest_window(paragraph: str, question: str, size: int, rng: random.Random) -> str:
    """The window of ``paragraph`` that shares most content words with ``question`` (a
    random one of the best): the window retrieval would give the question."""
    asked = set(content_stems(question))
    spans = windows_of(paragraph, size) or [(0, len(paragraph))]
    scored = [(len(asked & set(content_stems(paragraph[a:b]))), a, b) for a, b in spans]
    best = max(n for n, _, _ in scored)
    _, a, b = rng.choice([t for t in scored if t[0] == best])
    return paragraph[a:b]
