"""SQuAD-format data and its official scoring, read by training and by evaluation.

Scores follow the SQuAD 2.0 evaluation script (Rajpurkar et al. 2018): answers
normalised (case, punctuation, articles, spaces), EM and token F1 taken as the
best over the gold answers. Document mode (``cppqa eval --squad``) is
``cppqa.evaluation.squad``.
"""

from __future__ import annotations

import gzip
import json
import logging
import re
import string
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

from cppqa.errors import CppqaError

log = logging.getLogger(__name__)

#: The two SQuAD 2.0 articles whose unanswerable questions measure abstention; never trained on.
ABSTENTION_ARTICLES = ("The_Legend_of_Zelda:_Twilight_Princess", "Spectre_(2015_film)")

#: The fixed split of the 30 SQuAD 2.0 dev articles (``squad-v2.0-dev-30-articles.json.gz``,
#: drawn once at random by whoever made the file): the test four are only ever run for
#: their numbers; the calibration four fit thresholds and confidence curves; training
#: draws from the other 22.
V2_TEST = ("Black_Death", "Economic_inequality", "Force", "Harvard_University")
V2_CALIBRATION = ("Ctenophora", "Pharmacy", "Private_school", "Steam_engine")
#: Never trained on, whatever file a run mixes in.
V2_HELD_OUT = V2_TEST + V2_CALIBRATION + ABSTENTION_ARTICLES


class Item(NamedTuple):
    """One question: its first gold answer and where it starts (-1: unanswerable), all answers."""

    question: str
    answer: str
    start: int
    answers: tuple[str, ...]


@dataclass(frozen=True)
class Article:
    title: str
    paragraphs: tuple[tuple[str, tuple[Item, ...]], ...]

    @property
    def text(self) -> str:
        return "\n\n".join(context for context, _ in self.paragraphs)


def load_squad(path: Path) -> list[Article]:
    """Articles of a SQuAD 1.1 or 2.0 file (``.json`` or ``.json.gz``)."""
    try:
        opener: Callable[..., Any] = gzip.open if path.suffix == ".gz" else open
        with opener(path, "rt", encoding="utf-8") as f:
            data = json.load(f)["data"]
        return [
            Article(
                a["title"],
                tuple((p["context"], tuple(_item(q) for q in p["qas"])) for p in a["paragraphs"]),
            )
            for a in data
        ]
    except (OSError, ValueError, KeyError, TypeError, IndexError) as exc:
        raise CppqaError(
            f"cannot read SQuAD data from {str(path)!r}: {exc.__class__.__name__}: {exc}"
        ) from None


def _item(q: dict[str, Any]) -> Item:
    answers = [] if q.get("is_impossible") else q.get("answers") or []
    if not answers:
        return Item(q["question"], "", -1, ())
    first = answers[0]
    return Item(
        q["question"], first["text"], int(first["answer_start"]), tuple(a["text"] for a in answers)
    )


def normalize_answer(text: str) -> str:
    """SQuAD's official normalisation: lower case, no punctuation, articles or extra spaces."""
    text = "".join(ch for ch in text.lower() if ch not in _PUNCTUATION)
    return " ".join(re.sub(r"\b(a|an|the)\b", " ", text).split())


_PUNCTUATION = frozenset(string.punctuation)


def f1_score(prediction: str, gold: str) -> float:
    """SQuAD's token F1 (both empty: 1; one empty: 0).

    >>> round(f1_score("in March 1948", "March 6, 1948"), 2)
    0.67
    """
    p, g = normalize_answer(prediction).split(), normalize_answer(gold).split()
    if not p or not g:
        return float(p == g)
    common = sum((Counter(p) & Counter(g)).values())
    if common == 0:
        return 0.0
    precision, recall = common / len(p), common / len(g)
    return 2 * precision * recall / (precision + recall)


def exact(prediction: str, gold: str) -> float:
    return float(normalize_answer(prediction) == normalize_answer(gold))
