"""relation.py: the discourse relation a question asks across, and how qa.py follows it."""

from __future__ import annotations

import pytest

from cppqa.relation import Kind, opens_with, parse


@pytest.mark.parametrize(
    ("question", "kind", "condition", "main"),
    [
        (
            "How did the party respond to the bureaucracy tying the country to imperialism?",
            Kind.RESPONSE,
            "the bureaucracy tying the country to imperialism",
            "How did the party ?",
        ),
        (
            "what did they do in reaction to the ban",
            Kind.RESPONSE,
            "the ban",
            "what did they do",
        ),
        (
            "What happened to most members after the party was declared illegal?",
            Kind.AFTER,
            "the party was declared illegal",
            "What happened to most members ?",
        ),
        ("situation after 1958?", Kind.AFTER, "1958", "situation ?"),
        (
            "Despite the repression, among whom did the party gain influence?",
            Kind.DESPITE,
            "the repression",
            "among whom did the party gain influence?",
        ),
        (
            "Who was arrested as a result of the raid?",
            Kind.AFTER,
            "the raid",
            "Who was arrested ?",
        ),
    ],
)
def test_parse_splits_the_condition_from_the_question(
    question: str, kind: Kind, condition: str, main: str
) -> None:
    relation = parse(question)
    assert relation is not None
    assert (relation.kind, relation.condition, relation.main) == (kind, condition, main)


@pytest.mark.parametrize(
    "question",
    [
        "When was the CPP formed?",
        "After which event was the party declared illegal?",  # asks for the condition itself
        "what happened after?",
        "Who responded?",
    ],
)
def test_parse_finds_no_relation(question: str) -> None:
    assert parse(question) is None


@pytest.mark.parametrize(
    ("kind", "sentence", "expected"),
    [
        (Kind.AFTER, "After that the situation got worse and worse.", True),
        (Kind.AFTER, "As a result, the headquarter was raided.", True),
        (Kind.AFTER, "Afterlife is long.", False),
        (Kind.DESPITE, "Despite this, the leadership was punished.", True),
        (Kind.DESPITE, "Even in such circumstances, the party continued to work.", True),
        (Kind.DESPITE, "After that the situation got worse.", False),
        (Kind.RESPONSE, "Thus, the party refused.", True),
        (Kind.RESPONSE, "The party refused; thus it was banned.", False),
    ],
)
def test_opens_with_a_connective_of_the_kind(kind: Kind, sentence: str, expected: bool) -> None:
    assert opens_with(kind, sentence) is expected


@pytest.mark.parametrize(
    ("question", "sentence"),
    [
        # what followed: the sentence after the event's, not the event's own
        (
            "What did the party do in response to the bureaucracy linking Pakistan to imperialism?",
            "The CPP began a struggle against it.",
        ),
        (
            "What happened after the party was banned in 1954?",
            "Most of the party members were imprisioned.",
        ),
        # two sentences on, when that one is marked "After that"
        ("what came after the brutal operation of 1958", "After that the situation got worse"),
        # two sentences on, when that one says what the question asks ("punished")
        (
            "Who was punished despite the party advising the officers against it?",
            "Despite this, the party leadership and the soldiers were punished.",
        ),
        # the event's own sentence, when it answers the question itself ("leadership")
        (
            "What happened to the leadership after the Rawalpindi case?",
            "the entire leadership was imprisoned",
        ),
    ],
)
def test_questions_across_a_relation_are_answered_from_what_follows(  # type: ignore[no-untyped-def]
    qa, question: str, sentence: str
) -> None:
    answer = qa.ask(question)
    assert answer.text is not None
    assert sentence in answer.sources[0].passage.text


def test_what_went_on_despite_an_event_is_not_simply_the_next_sentence(qa) -> None:  # type: ignore[no-untyped-def]
    # The sentence after "declared illegal" tells no defiance; the answer is not moved there.
    answer = qa.ask("what did the party do despite being declared illegal")
    assert "Most of the party members" not in answer.sources[0].passage.text


def test_a_followed_sentence_is_as_sure_as_the_event_it_follows(qa) -> None:  # type: ignore[no-untyped-def]
    # "After that the situation got worse" shares few words with the question; its
    # confidence is the event's, so it is not refused for being vague on its own.
    answer = qa.ask("how did things go for the party after ayub's operation")
    assert answer.text is not None and "worse" in answer.text
    assert answer.confidence >= 0.5
