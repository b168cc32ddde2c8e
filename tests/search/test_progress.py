"""progress.py: steps told while indexing, and embedding by batch in the order of one call."""

from __future__ import annotations

import numpy as np
import pytest

import cppqa.search.progress
from conftest import FakeEmbedder
from cppqa.search.progress import Stage, Step, encode_told, pages_told


@pytest.mark.parametrize(
    ("step", "words", "share"),
    [
        (
            Step(Stage.EMBEDDING, 1280, 4310, "sentences"),
            "embedding 1,280 / 4,310 sentences",
            0.297,
        ),
        (Step(Stage.READING, 3, 27, "pages", "a.pdf"), "reading a.pdf: 3 / 27 pages", 0.111),
        (Step(Stage.READING, 0, 2, "files"), "reading 0 / 2 files", 0.0),
        (Step(Stage.EMBEDDING, 0, 0, "texts"), "embedding 0 / 0 texts", 1.0),
    ],
    ids=["embedding", "pages", "files", "nothing to do"],
)
def test_a_step_says_its_count(step: Step, words: str, share: float) -> None:
    assert step.describe() == words
    assert step.share == pytest.approx(share, abs=1e-3)


def test_pages_are_told_as_reading_steps() -> None:
    told: list[Step] = []
    pages_told(told.append)("a.pdf", 2, 5)
    assert told == [Step(Stage.READING, 2, 5, "pages", "a.pdf")]


def test_embedding_by_batch_tells_each_batch_and_keeps_the_order(
    fake_embedder: FakeEmbedder, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(cppqa.search.progress, "BATCH", 4)
    texts = [f"text {'word ' * (n % 5)}number {n}" for n in range(10)]
    told: list[Step] = []
    vectors = encode_told(fake_embedder, texts, told.append)
    assert [step.done for step in told] == [0, 4, 8, 10]
    assert {step.total for step in told} == {10}
    assert {step.stage for step in told} == {Stage.EMBEDDING}
    assert fake_embedder.calls == 3
    assert np.array_equal(vectors, fake_embedder.encode(texts))  # each in its own place


def test_embedding_nothing_is_one_step(fake_embedder: FakeEmbedder) -> None:
    told: list[Step] = []
    assert encode_told(fake_embedder, [], told.append).shape[0] == 0
    assert told == [Step(Stage.EMBEDDING, 0, 0, "sentences and passages")]
