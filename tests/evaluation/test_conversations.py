"""conversations.py: follow-ups made from SQuAD-format questions, and their scoring."""

from __future__ import annotations

import pytest

from cppqa.datasets.squad import Article, Item
from cppqa.evaluation.conversations import Readings, follow_ups, summary

TEXT = (
    "Beyoncé rose to fame in the late 1990s. She competed in singing and dancing. "
    "Her first album sold well. Beyoncé later toured Europe, where she sang. "
    "Kinect was announced in 2009. It sold eight million units; its price fell."
)


def _article(*pairs: tuple[str, str]) -> Article:
    items = tuple(Item(q, a, TEXT.find(a), (a,)) for q, a in pairs)
    return Article("Test", ((TEXT, items),))


@pytest.mark.parametrize(
    ("previous", "question", "asked"),
    [
        (
            "When did Beyoncé start becoming popular?",
            "What areas did Beyoncé compete in?",
            "What areas did she compete in?",
        ),
        ("Who is Beyoncé?", "What did Beyoncé's first album do?", "What did her first album do?"),
        (
            "Who influenced Beyoncé?",
            "Where did Europe welcome Beyoncé?",
            "Where did Europe welcome her?",
        ),
        (
            "When was Kinect announced?",
            "How many units did Kinect sell?",
            "How many units did it sell?",
        ),
    ],
)
def test_a_name_the_last_question_named_becomes_its_pronoun(
    previous: str, question: str, asked: str
) -> None:
    (made,) = follow_ups(_article((previous, "1990s"), (question, "singing")))
    assert made.asked == asked
    assert made.item.question == question and made.previous.question == previous


@pytest.mark.parametrize(
    ("previous", "question"),
    [
        ("When was Kinect announced?", "How much were Kinect sales?"),  # a modifier
        ("When was Kinect announced?", "When was this Kinect model sold?"),  # a determiner
        ("When was Kinect announced?", "When did Beyoncé tour?"),  # not named before
        ("When was Kinect announced?", "Kinect sold how many?"),  # first word: no pronoun
    ],
)
def test_no_follow_up_where_a_pronoun_would_not_read(previous: str, question: str) -> None:
    assert follow_ups(_article((previous, "2009"), (question, "eight million"))) == []


def test_an_unanswerable_question_makes_no_follow_up() -> None:
    items = (
        Item("When was Kinect announced?", "2009", TEXT.find("2009"), ("2009",)),
        Item("Who sold Kinect?", "", -1, ()),
    )
    assert follow_ups(Article("Test", ((TEXT, items),))) == []


def test_summary_recovery_and_no_harm() -> None:
    (made,) = follow_ups(
        _article(("When was Kinect announced?", "2009"), ("How many did Kinect sell?", "eight"))
    )
    readings = [
        Readings(made, full=1.0, alone=0.0, chat=1.0, full_in_chat=1.0, understood="Kinect ..."),
        Readings(made, full=1.0, alone=0.0, chat=0.0, full_in_chat=0.5, understood="it ..."),
    ]
    s = summary(readings)
    assert (s["full"], s["alone"], s["chat"], s["full_in_chat"]) == (1.0, 0.0, 0.5, 0.75)
    assert s["recovery"] == 0.5 and s["no_harm"] == 0.75 and s["resolved_to_name"] == 0.5
    assert summary([])["recovery"] is None


# --- the benchmark on held-out articles --------------------------------------------------------


@pytest.mark.slow
def test_history_wins_back_what_the_pronoun_cost_and_never_hurts() -> None:
    """Follow-ups made from the vendored SQuAD slice (articles the reader never saw):
    the conversation must win back most of what the pronoun cost, and a full question
    asked inside a conversation must score as it does alone. Fails when resolution is
    switched off (recovery ~0) or made to replace names wrongly (no-harm < 0.98)."""
    from pathlib import Path

    from cppqa.config import Settings
    from cppqa.datasets.squad import load_squad
    from cppqa.evaluation.conversations import read_follow_ups

    slice_ = load_squad(Path(__file__).resolve().parents[1] / "data" / "squad-slice.json")
    readings = list(read_follow_ups(slice_, Settings.from_env()))
    s = summary(readings)
    assert s["n"] >= 30, s
    assert s["full"] - s["alone"] >= 0.05, s  # the pronoun costs something to win back
    assert s["recovery"] >= RECOVERY_FLOOR, s
    assert s["no_harm"] >= 0.98, s
    assert s["resolved_to_name"] >= RESOLVED_FLOOR, s


# Measured with the shipped reader on this slice (48 follow-ups): full 0.483, pronoun alone
# 0.404, in the conversation 0.517 (recovery 1.427), full in the conversation 0.483
# (no-harm 1.000), the pronoun read as its name 0.792; with resolution switched off,
# recovery 0.0 and read as its name 0.0. The slice is small and the recovery ratio noisy
# on it (the previous reader measured 0.499 with the same rules); the ratio on 182
# held-out follow-ups is in docs/quality.md (1.087).
RECOVERY_FLOOR = 0.4
RESOLVED_FLOOR = 0.75
