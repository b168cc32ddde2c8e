"""qa.py: the pipeline end to end on the shipped corpus, with the trained reader."""

from __future__ import annotations

import json

import pytest

from conftest import DOCUMENT, ROOT


def _eval_questions() -> list[str]:
    rows = (ROOT / "eval" / "qa.jsonl").read_text(encoding="utf-8").splitlines()
    return [json.loads(r)["question"] for r in rows if r.strip()]


@pytest.mark.slow
def test_answers_are_verbatim_at_their_offsets(qa) -> None:  # type: ignore[no-untyped-def]
    text = DOCUMENT.read_text(encoding="utf-8")
    questions = _eval_questions()[::3]  # every third: all kinds, a third of the time
    assert len(questions) > 40
    answered = 0
    for question in questions:
        answer = qa.ask(question)
        assert answer.sources, question
        for source in answer.sources:
            p = source.passage
            assert text[p.start : p.end] == p.text, question
        if answer.text is None:
            assert answer.start is None
            continue
        answered += 1
        assert answer.start is not None and answer.end is not None
        assert text[answer.start : answer.end] == answer.text, question
        top = answer.sources[0].passage
        assert top.start <= answer.start and answer.end <= top.end, question
        assert 0.0 <= answer.confidence <= 1.0
    assert answered > len(questions) // 2


@pytest.mark.slow
@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("When was the party declared illegal?", "1954"),
        ("Who is the General Secretary of the Party?", "Imdad Qazi"),
        ("Where was Nazir Abbasi martyred?", "in a military camp in Karachi"),
        ("How long has Red Flag been published?", "the last 50 years"),
        ("What is the party organ called?", "Red Flag"),
    ],
)
def test_real_answers_are_short_typed_spans(qa, question: str, expected: str) -> None:  # type: ignore[no-untyped-def]
    assert qa.ask(question).text == expected


@pytest.mark.slow
@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("Who is the gen sec?", "Imdad Qazi"),  # no word is a corpus word until spelled out
        ("In wich yaer was the party declared illegal?", "1954"),  # swapped letters
        ("When was the CPP first formed?", "March 6, 1948"),  # "first" as an adverb
        ("What exactly did the party do in Sindh?", "is working openly in Sindh"),
        ("Who was Hassan Nasir?", "a key member of the central committee"),
        ("Under which general was the party subjected to a more severe operation?", "Zia"),
    ],
)
def test_real_answers_to_questions_that_rules_could_wrongly_refuse(  # type: ignore[no-untyped-def]
    qa, question: str, expected: str
) -> None:
    assert qa.ask(question).text == expected


@pytest.mark.slow
@pytest.mark.parametrize(
    ("question", "expected", "evidence"),
    [
        ("What does CPP stand for?", "Communist Party of Pakistan", "(CPP) is the representative"),
        ("what is CPI short for", "Communist Party of India", "at the Calcutta Congress"),
        ("Who is the current gen sec of the CPP?", "Imdad Qazi", "is the General Secretary"),
    ],
)
def test_acronyms_and_clipped_words_are_answered_from_their_sentence(  # type: ignore[no-untyped-def]
    qa, question: str, expected: str, evidence: str
) -> None:
    answer = qa.ask(question)
    assert answer.text == expected
    assert evidence in answer.sources[0].passage.text


@pytest.mark.slow
@pytest.mark.parametrize(
    "question",
    [
        "When did Zulfiqar Ali Bhutto die?",  # only the era named after him
        "When was General Zia ul Haq born?",
        # typos and "very" do not hide the ordinal
        "Who was the frist General Secretary of the Party?",
        "Who was the very first General Secretary of the Party?",
        # "which X" where the corpus never speaks of X, and no short answer
        "Which poets were jailed after the Rawalpindi Conspiracy Case?",
        # "which parties" is not answered by a person
        "Which other political parties did the CPP work with under Bhutto?",
        # the passage names one, not "the first"
        "Who was the first General Secretary of the Party?",
        # a role the corpus never mentions
        "Who was the prosecutor in the Rawalpindi Conspiracy Case?",
        # no word beyond the document's subject is in the best passage
        "What is the official anthem of the CPP?",
        "What is the party's motto?",
        "What is the CPP's logo?",
    ],
)
def test_questions_abstain_when_the_passage_does_not_answer_them(qa, question: str) -> None:  # type: ignore[no-untyped-def]
    answer = qa.ask(question)
    assert answer.text is None, answer.text
    assert answer.sources


@pytest.mark.slow
@pytest.mark.parametrize(
    "question",
    ["What is the capital of France?", "Who won the 2018 FIFA World Cup?"],
)
def test_off_topic_questions_abstain_but_give_sources(qa, question: str) -> None:  # type: ignore[no-untyped-def]
    answer = qa.ask(question)
    assert answer.text is None
    assert answer.abstained
    assert answer.start is None
    assert len(answer.sources) == qa.settings.top_k
    assert answer.to_json()["answer"] is None
