"""windows.py: a sentence with its neighbours, and the windows closest to a question."""

from __future__ import annotations

import random

from cppqa.datasets.squad import Article
from cppqa.training.windows import near_window, windows_of


def test_windows_cover_consecutive_sentences() -> None:
    text = "One is here. Two is there. Three is near. Four is far."
    windows = windows_of(text, 3)
    assert [text[a:b] for a, b in windows] == [
        "One is here. Two is there. Three is near.",
        "Two is there. Three is near. Four is far.",
    ]
    assert windows_of("Only one.", 3) == [(0, 9)]


def test_a_near_window_shares_the_questions_words_but_not_its_answer() -> None:
    text = (
        "The castle was built in 1120. Its walls are stone. Its gate faces north. "
        "The castle towers were built by Norman masons. They used local stone. "
        "The river floods in spring."
    )
    article = Article("Castle", ((text, ()),))
    near = near_window(article, "When was the castle built?", "1120", 1, random.Random(0))
    assert near == "The castle towers were built by Norman masons."
    assert near_window(article, "Who sang?", "1120", 1, random.Random(0)) is None
