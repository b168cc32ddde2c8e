"""spans.py: logits → the best character span across windows, and the confidence."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cppqa.reading.reader import WindowLogits
from cppqa.reading.spans import MAX_ANSWER_TOKENS, best_across, best_span, confidence

# [CLS] question [SEP] "Ann" "wrote" "it" [SEP]
OFFSETS = (None, None, None, (0, 3), (4, 9), (10, 12), None)


def window(start: list[float], end: list[float], offsets=OFFSETS) -> WindowLogits:  # type: ignore[no-untyped-def]
    s, e = np.array(start), np.array(end)
    return WindowLogits(s, e, offsets, float(s[0] + e[0]))


def test_the_best_span_maps_tokens_back_to_characters() -> None:
    span = best_span(window([0, 9, 9, 1, 5, 0, 9], [0, 9, 9, 0, 0, 4, 9]))
    assert span is not None
    assert (span.start, span.end) == (4, 12)  # "wrote it": question tokens never count
    assert span.score == 9.0 and span.null == 0.0 and span.margin == 9.0


def test_an_end_before_the_start_is_never_chosen() -> None:
    span = best_span(window([0, 0, 0, 0, 0, 5, 0], [0, 0, 0, 6, 0, 0, 0]))
    assert span is not None
    assert span.start <= span.end
    assert span.score < 11  # 5 + 6 would need the end before the start


def test_a_span_longer_than_the_limit_is_never_chosen() -> None:
    n = MAX_ANSWER_TOKENS + 5
    offsets = (None, *((i * 2, i * 2 + 1) for i in range(n)))
    start = [0.0] * (n + 1)
    end = [0.0] * (n + 1)
    start[1], end[n] = 10.0, 10.0  # the best pair spans n tokens: too long
    span = best_span(window(start, end, offsets))
    assert span is not None
    assert span.score < 20.0


def test_a_window_without_text_has_no_span() -> None:
    assert best_span(window([1, 2], [1, 2], (None, None))) is None
    assert best_across([]) is None


def test_the_window_whose_span_beats_its_own_null_most_wins() -> None:
    loud = window([9, 0, 0, 10, 0, 0, 0], [9, 0, 0, 10, 0, 0, 0])  # score 20, null 18
    sure = window([0, 0, 0, 0, 0, 7, 0], [0, 0, 0, 0, 0, 7, 0])  # score 14, null 0
    span = best_across([loud, sure])
    assert span is not None
    assert span.window == 1 and (span.start, span.end) == (10, 12)
    assert span.null == 0.0 and span.margin == 14.0


def test_confidence_is_monotonic_and_bounded() -> None:
    values = [confidence(m, 0.5, -1.0) for m in (-200, -3, 0, 3, 200)]
    assert values == sorted(values)
    assert values[0] >= 0.0 and values[-1] <= 1.0
    assert confidence(2.0, 0.5, -1.0) == pytest.approx(0.5)


@given(
    logits=st.lists(st.tuples(st.floats(-20, 20), st.floats(-20, 20)), min_size=2, max_size=40),
    question_tokens=st.integers(0, 5),
)
@settings(max_examples=200, deadline=None)
def test_a_span_always_lies_inside_the_window_text(
    logits: list[tuple[float, float]], question_tokens: int
) -> None:
    n = len(logits)
    offsets = tuple(
        None if i <= question_tokens else ((i - question_tokens) * 3, (i - question_tokens) * 3 + 2)
        for i in range(n)
    )
    w = window([a for a, _ in logits], [b for _, b in logits], offsets)
    span = best_span(w)
    context = [o for o in offsets if o is not None]
    if not context:
        assert span is None
        return
    assert span is not None
    assert context[0][0] <= span.start < span.end <= context[-1][1]
