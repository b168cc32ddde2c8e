"""relation.py: the discourse relation a question asks across, and how qa.py follows it."""

from __future__ import annotations

import doctest

import pytest

import cppqa.qa
from cppqa import relation
from cppqa.dialogue import Turn
from cppqa.relation import (
    Kind,
    acts_in,
    asks_what_it_did,
    circumstance_stems,
    opens_with,
    parse,
)


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
    ("question", "condition", "main"),
    [
        # the condition stops at a question word, or "and" before one
        ("after the raid who was martyred in karachi", "the raid", "who was martyred in karachi"),
        (
            "What happened after the party was formed and who created problems for it?",
            "the party was formed",
            "What happened and who created problems for it?",
        ),
        # ... and at "and" before another relation, but not at a relation inside it
        ("What happened after the ban and despite it?", "the ban", "What happened and despite it?"),
        (
            "Despite the repression after the Rawalpindi case, what did the party keep doing?",
            "the repression after the Rawalpindi case",
            "what did the party keep doing?",
        ),
        # "following" as a word of time, not as "the party's following"
        ("Following 1990 where does it work openly?", "1990", "where does it work openly?"),
    ],
)
def test_parse_ends_the_condition_with_its_clause(question: str, condition: str, main: str) -> None:
    relation = parse(question)
    assert relation is not None
    assert (relation.condition, relation.main) == (condition, main)


@pytest.mark.parametrize(
    "question",
    [
        "When was the CPP formed?",
        "After which event was the party declared illegal?",  # asks for the condition itself
        "what happened after?",
        "Who responded?",
        "What is the party's following among the workers?",
        "Who was the following General Secretary?",
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
    ("sentence", "stems"),
    [
        ("When Ayub Khan imposed martial law in 1958, a brutel operation was launched.",
         {"ayub", "khan", "impos", "martial", "law", "1958"}),
        ("The situation has changed to some extent since 1990.", {"1990"}),
        ("The CPP began a struggle against it.", set()),
    ],
)  # fmt: skip
def test_circumstance_stems_are_those_of_clauses_that_set_the_time(
    sentence: str, stems: set[str]
) -> None:
    assert circumstance_stems(sentence) == stems


ALIASES = ["communist party of pakistan", "communist party", "party", "cpp"]


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("How did the party respond to the bureaucracy?", True),
        ("What did the CPP do after the ban?", True),
        ("What was the party's response to the ban?", True),
        ("What happened to the members after the ban?", False),
        ("How did things go for the party after the ban?", False),
        # the members or the leaders, not the party
        ("What did the party members do after the ban?", False),
        ("How did the party's members respond to the ban?", False),
        ("What did the government do after the party's reaction to the ban?", False),
    ],
)
def test_asks_what_it_did(question: str, expected: bool) -> None:
    found = parse(question)
    assert found is not None
    assert asks_what_it_did(found, ALIASES) is expected


@pytest.mark.parametrize(
    ("sentence", "expected"),
    [
        ("The CPP began a struggle against it.", True),
        ("At the same time, she started the process of forming unions.", True),
        ("However, even in these bad circumstances, the party has been active.", True),
        ("The party is working openly in Sindh.", True),
        ("Most of the party members were imprisioned.", False),  # the members, not the party
        ("For this reason, in 1954, the party was declared illegal.", False),  # done to it
        ("As a result, the party's secret headquarter was raided.", False),
        ("Similarly, patriotic elements in the army were arrested.", False),
        ("Despite this, the party leadership and the soldiers were punished.", False),
        ("The party organ, Red Flag has been published for the last 50 years.", False),
        ("The CPP, despite the ban, continued to work.", True),
        ("The party has formed unions.", True),
        ("The party is open about it.", True),
        # passives with an adverb, an irregular participle or "being"
        ("The party was also banned.", False),
        ("The party was made illegal.", False),
        ("The party is being watched.", False),
        ("It was a dark time.", False),  # a pronoun that describes
        ("The Party of Labour opposed it.", False),  # another party
    ],
)
def test_acts_in_finds_the_party_as_the_doer(sentence: str, expected: bool) -> None:
    assert acts_in(sentence, ALIASES) is expected


def test_the_module_examples_hold() -> None:
    assert doctest.testmod(relation).failed == 0


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
        # two sentences on, when that one opens with "After that"
        ("what came after the brutal operation of 1958", "After that the situation got worse"),
        # one sentence on, when that one says what the question asks ("punished")
        (
            "Who was punished despite the party advising the officers against it?",
            "Despite this, the party leadership and the soldiers were punished.",
        ),
        # of the two after the event, the one that says most of what is asked ("rest")
        (
            "What happened to the rest of the members after the party was declared illegal?",
            "The rest remained underground",
        ),
        # despite: a sentence marked as going on despite it ("Even in such circumstances")
        ("What did the party do despite being punished?", "the party continued to work"),
    ],
)
def test_questions_across_a_relation_are_answered_from_what_follows(  # type: ignore[no-untyped-def]
    qa, question: str, sentence: str
) -> None:
    answer = qa.ask(question)
    assert answer.text is not None
    assert sentence in answer.sources[0].passage.text
    scores = [s.score for s in answer.sources]
    assert scores == sorted(scores, reverse=True)


@pytest.mark.parametrize(
    ("question", "sentence"),
    [
        # the event's own sentence says what is asked ("leadership")
        (
            "What happened to the leadership after the Rawalpindi case?",
            "the entire leadership was imprisoned",
        ),
        # the event is only the time of its sentence: "When X, Y"
        ("What happened after Ayub Khan imposed martial law?", "a brutel operation"),
        ("What happened to the party after 1990?", "The situation has changed"),
    ],
)
def test_an_event_sentence_that_answers_is_kept(  # type: ignore[no-untyped-def]
    qa, question: str, sentence: str
) -> None:
    answer = qa.ask(question)
    assert sentence in answer.sources[0].passage.text


def test_a_typed_question_is_only_moved_to_a_sentence_of_its_type(qa) -> None:  # type: ignore[no-untyped-def]
    # The next sentence says the members were imprisoned, but gives no time.
    answer = qa.ask("When were the members imprisoned after the party was declared illegal?")
    assert answer.text == "1954"


def test_what_went_on_despite_an_event_is_not_simply_the_next_sentence(qa) -> None:  # type: ignore[no-untyped-def]
    # The sentence after "declared illegal" tells no defiance, nor opens with "Even so".
    answer = qa.ask("what did the party do despite being declared illegal")
    assert "Most of the party members" not in answer.sources[0].passage.text


@pytest.mark.parametrize(
    ("question", "sentence"),
    [
        (
            "What did the party do after the bureaucracy began creating problems?",
            "The CPP began a struggle against it.",
        ),
        # three sentences on: the two between tell of a comrade, not of the party
        (
            "What did the party do despite the raid on its headquarters?",
            "the party has been active in various political fronts",
        ),
    ],
)
def test_what_the_party_did_is_the_next_sentence_in_which_it_acts(  # type: ignore[no-untyped-def]
    qa, question: str, sentence: str
) -> None:
    assert sentence in qa.ask(question).sources[0].passage.text


def test_what_the_party_did_is_never_what_others_did(qa) -> None:  # type: ignore[no-untyped-def]
    # The two sentences after the case tell of army officers, not of the party.
    answer = qa.ask("What did the party do after the Rawalpindi case?")
    assert "patriotic elements" not in answer.sources[0].passage.text
    assert "military officers" not in answer.sources[0].passage.text


def test_what_its_members_did_is_not_what_the_party_did(qa) -> None:  # type: ignore[no-untyped-def]
    answer = qa.ask("What did the party members do after the party was declared illegal?")
    assert answer.sources[0].passage.text == "Most of the party members were imprisioned."


def test_a_typed_question_is_not_moved_to_any_sentence_of_its_type(qa) -> None:  # type: ignore[no-untyped-def]
    # Nobody is martyred in the two sentences after martial law; "US" is no answer.
    answer = qa.ask("Who was martyred after Ayub imposed martial law?")
    assert answer.text in (None, "Hassan Nasir", "Comrade Hassan Nasir")


def test_a_condition_the_corpus_does_not_tell_moves_nothing(  # type: ignore[no-untyped-def]
    qa, monkeypatch: pytest.MonkeyPatch
) -> None:
    question = "What happened after the Indo-Pakistani war?"  # no sentence tells of a war
    with_relation = qa.ask(question)
    monkeypatch.setattr(cppqa.qa, "parse", lambda _question: None)
    without = qa.ask(question)
    assert with_relation.sources == without.sources


def test_a_followed_sentence_is_as_sure_as_the_surer_of_it_and_the_event(qa) -> None:  # type: ignore[no-untyped-def]
    # "After that the situation got worse" shares few words with the question; the
    # event's sentence speaks for it, so it is not refused for being vague on its own.
    answer = qa.ask("How were things for the party after Ayub's crackdown operation?")
    assert answer.text is not None and "worse" in answer.text
    assert answer.confidence >= 0.5


def _turn(qa, question: str) -> Turn:  # type: ignore[no-untyped-def]
    answer = qa.ask(question)
    return Turn(question, answer.query, answer.text, answer.sources[0].passage.text)


def test_after_that_follows_the_last_answer(qa) -> None:  # type: ignore[no-untyped-def]
    history = [_turn(qa, "When did Ayub Khan impose martial law?")]
    answer = qa.ask("What happened after that?", history)
    assert answer.text == "After that the situation got worse and worse."


def test_what_else_after_skips_what_was_said(qa) -> None:  # type: ignore[no-untyped-def]
    question = "What happened after the party was declared illegal?"
    first = _turn(qa, question)
    assert first.sentence == "Most of the party members were imprisioned."
    again = qa.ask("What else happened after the party was declared illegal?", [first])
    assert (
        again.sources[0].passage.text
        == "The rest remained underground and engaged in revolutionary work."
    )


def test_a_best_sentence_that_answers_is_not_moved(qa) -> None:  # type: ignore[no-untyped-def]
    history = [_turn(qa, "What was raided during Zia's operation?")]
    assert qa.ask("Who was martyred after it?", history).text == "Nazir Abbasi"
