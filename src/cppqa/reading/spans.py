"""Pure functions: the reader's logits → the best character span, and a calibrated confidence.

After the SQuAD post-processing of Hugging Face's ``utils_qa.py``: the best span
has start ≤ end, at most ``max_tokens`` tokens, lies inside the window's text,
and is compared with the no-answer score at [CLS]. Across windows, the span
with the highest start + end logit wins (the windows were trained with the same
no-answer target, so their scores are comparable, as in Clark & Gardner 2018).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Sequence

    from cppqa.reading.reader import WindowLogits

#: Longest answer, in word pieces (SQuAD answers rarely pass 30; utils_qa.py uses 30).
MAX_ANSWER_TOKENS = 30
#: Candidate starts and ends looked at per window (utils_qa.py's n_best_size).
N_BEST = 20


@dataclass(frozen=True)
class Span:
    """A candidate answer: characters ``[start, end)`` of window ``window``, and its score."""

    window: int
    start: int
    end: int
    score: float
    null: float

    @property
    def margin(self) -> float:
        """How much the span beats the window's own no-answer score."""
        return self.score - self.null


def best_span(
    logits: WindowLogits, window: int = 0, max_tokens: int = MAX_ANSWER_TOKENS
) -> Span | None:
    """The best-scoring valid span of one window, or None if the window has no context tokens.

    >>> import numpy as np
    >>> from cppqa.reading.reader import WindowLogits
    >>> w = WindowLogits(np.array([0., 1, 5, 0]), np.array([0., 0, 1, 4]),
    ...                  (None, None, (0, 3), (4, 9)), 0.0)
    >>> best_span(w)
    Span(window=0, start=0, end=9, score=9.0, null=0.0)
    """
    import numpy as np

    valid = [i for i, o in enumerate(logits.offsets) if o is not None]
    if not valid:
        return None
    idx = np.array(valid)
    starts = idx[np.argsort(logits.start[idx])[::-1][:N_BEST]]
    ends = idx[np.argsort(logits.end[idx])[::-1][:N_BEST]]
    best: tuple[float, int, int] | None = None
    for s in starts:
        for e in ends:
            if e < s or e - s + 1 > max_tokens:
                continue
            score = float(logits.start[s] + logits.end[e])
            if best is None or score > best[0]:
                best = (score, int(s), int(e))
    if best is None:
        return None
    score, s, e = best
    first, last = logits.offsets[s], logits.offsets[e]
    assert first is not None and last is not None
    return Span(window, first[0], last[1], score, logits.null)


def window_spans(windows: Sequence[WindowLogits]) -> list[Span | None]:
    """The best span of each window, in order (None for a window without context tokens)."""
    return [best_span(w, i) for i, w in enumerate(windows)]


def strongest(spans: Sequence[Span | None]) -> Span | None:
    """Of the windows' best spans, the one with the largest margin over its window's null."""
    return max((s for s in spans if s is not None), key=lambda s: s.margin, default=None)


def best_across(windows: Sequence[WindowLogits]) -> Span | None:
    """The best span over all windows: the one with the largest margin over its window's null."""
    return strongest(window_spans(windows))


def confidence(margin: float, scale: float, bias: float) -> float:
    """Platt scaling (Platt 1999): P(right answer) = σ(scale · margin + bias).

    ``scale`` and ``bias`` are fitted on held-out questions by ``cppqa eval``.
    """
    z = scale * margin + bias
    return 1.0 / (1.0 + math.exp(-z)) if z > -60 else 0.0


#: Named ranges of the calibrated confidence, highest first: a confidence is Platt-fitted
#: on held-out questions, so "high" is where most such answers were right (the share each
#: level had right on held-out articles is in docs/quality.md).
LEVELS: tuple[tuple[float, str], ...] = ((0.6, "high"), (0.3, "medium"), (0.0, "low"))


def level(value: float) -> str:
    """The name of the range ``value`` (a calibrated confidence) falls in.

    >>> [level(c) for c in (0.9, 0.45, 0.1)]
    ['high', 'medium', 'low']
    """
    return next(name for floor, name in LEVELS if value >= floor)
