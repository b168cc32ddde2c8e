"""mentions.py: the answer type a question asks for (which follow-up resolution uses)."""

from __future__ import annotations

import pytest

from cppqa.dialogue.mentions import AnswerType, classify


@pytest.mark.parametrize(
    ("question", "kind"),
    [
        ("When was the party declared illegal?", AnswerType.WHEN),
        ("In what year was the CPP formed?", AnswerType.WHEN),
        ("which year did ayub impose martial law", AnswerType.WHEN),
        ("How long has Red Flag been published?", AnswerType.DURATION),
        ("For how many years has Red Flag been published?", AnswerType.DURATION),
        ("Since when has the situation changed?", AnswerType.DURATION),
        ("How many fronts does the party work on?", AnswerType.COUNT),
        ("Who is the General Secretary of the Party?", AnswerType.WHO),
        ("Whose representative party is the CPP?", AnswerType.WHO),
        ("Which general was the first to work on US pay-role?", AnswerType.WHO),
        ("Where was Nazir Abbasi martyred?", AnswerType.WHERE),
        ("In which province is the party working openly?", AnswerType.WHERE),
        ("Which fronts is the party working on?", AnswerType.LIST),
        ("What organisations is the party part of?", AnswerType.LIST),
        ("What is the party organ called?", AnswerType.NAME),
        ("youth front name", AnswerType.NAME),
        ("Which students' organisation is one of the fronts?", AnswerType.NAME),
        ("situation changed since?", AnswerType.DURATION),
        ("Name the organizations the party works through.", AnswerType.LIST),
        ("Which other political parties has the CPP allied with?", AnswerType.NAME),
        ("Which people in the armed forces were detained?", AnswerType.WHO),
        ("What was the name of the false case?", AnswerType.NAME),
        ("Which newspaper does the party publish?", AnswerType.NAME),
        ("What does CPP stand for?", AnswerType.EXPANSION),
        ("What is the full form of CC?", AnswerType.EXPANSION),
        ("what is CPI short for", AnswerType.EXPANSION),
        ("What is the ideological basis of the party?", AnswerType.OTHER),
        ("Why did the party restrain the officers?", AnswerType.OTHER),
    ],
)
def test_classify(question: str, kind: AnswerType) -> None:
    assert classify(question) is kind


FRONTS = (
    "The Communist Party is currently working on various fronts, including the Peasants "
    "Committee, the Trade Union Federation, the Democratic Students Federation, the Democratic "
    "Youth Front, the Democratic Women's Association, and the Association of Progressive Writers."
)
