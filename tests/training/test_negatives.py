"""negatives.py: questions changed so that their window no longer answers them."""

from __future__ import annotations

import random
import re

import pytest

from cppqa.training.negatives import perturb_entity, swap_entity


def test_a_swapped_question_names_something_else_of_the_article() -> None:
    rng = random.Random(1)
    swapped = swap_entity(
        "When did Napoleon invade Russia?", "Napoleon met Wellington at Waterloo.", rng
    )
    assert swapped is not None and swapped != "When did Napoleon invade Russia?"
    assert "Wellington" in swapped or "Waterloo" in swapped
    assert swap_entity("what is it?", "Paris is big.", rng) is None


@pytest.mark.parametrize(
    ("question", "window", "changed", "kept"),
    [
        # a year moves by a little, to one the window does not say
        (
            "What was revealed in December 2014?",
            "In December 2014 the cast was revealed.",
            r"December (?!2014)\d{4}\?",
            "December",
        ),
        # an ordinal word becomes a nearby other one
        (
            "What is the twenty-fourth film?",
            "Spectre is the twenty-fourth film.",
            r"the \w+-(?!fourth)\w+ film|the (?!twenty)\w+-fourth film|the \w+ film",
            "film",
        ),
        (
            "Who first sold a million copies?",
            "Elvis first sold a million copies.",
            r"^Who (?!first)\w+ sold",
            "sold",
        ),
        # one word of a name of many words becomes another capitalised word of the article
        (
            "Alyssa Rosenberg of The Washington Post said what?",
            "Alyssa Rosenberg of The Washington Post called it conventional.",
            r"(?!.*Alyssa Rosenberg of The Washington Post)",
            "said what?",
        ),
    ],
)
def test_a_perturbed_question_asks_after_what_the_window_does_not_say(
    question: str, window: str, changed: str, kept: str
) -> None:
    article = window + " Critics in London and Paris praised Craig. Mendes directed it."
    for seed in range(20):
        new = perturb_entity(question, window, article, random.Random(seed))
        assert new is not None and new != question
        assert re.search(changed, new), new
        assert kept in new


def test_a_question_with_nothing_to_perturb_is_left_to_the_swap() -> None:
    rng = random.Random(2)
    assert perturb_entity("what is it?", "Paris is big.", "Paris is big.", rng) is None
    article = "Paris is big. Rome too."
    assert perturb_entity("Where is Paris?", "Paris is big.", article, rng) is None
