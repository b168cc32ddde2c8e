"""The evaluation: judging one answer, and floors on the project's own QA set.

Since the answer rules gave way to the trained reader, most targets of this set are
not met (docs/quality.md says which, and why). The floors are a little under what the
shipped reader measured, so that a worse reader, retriever or threshold fails here;
off-topic abstention keeps its target.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from cppqa.errors import CppqaError
from cppqa.evaluation.evaluate import evaluate, format_report, judge, read_jsonl
from cppqa.records import Answer, Passage, Source

EVAL = Path(__file__).resolve().parents[2] / "eval"
SENTENCE = "For this reason, in 1954, the party was declared illegal."


def _answer(text: str | None, sources: tuple[str, ...] = (SENTENCE,)) -> Answer:
    passages = tuple(Source(Passage("d.txt", 0, len(s), s), 1.0) for s in sources)
    return Answer("q", "q", text, 0.9, passages, 0 if text else None)


def test_a_short_right_answer_is_accurate_concise_and_ranked_first() -> None:
    verdict = judge(_answer("1954"), ["1954"], SENTENCE)
    assert verdict == {
        "right": True,
        "abstained": False,
        "accurate": True,
        "concise": True,
        "rank": 1,
    }


def test_a_whole_sentence_is_accurate_but_not_concise() -> None:
    verdict = judge(_answer(SENTENCE), ["1954"], SENTENCE)
    assert verdict["accurate"] and not verdict["concise"]


def test_conciseness_is_measured_against_the_gold_answer_found() -> None:
    long_gold = "the party was declared illegal"
    verdict = judge(_answer(SENTENCE), ["1954", long_gold], SENTENCE)
    assert verdict["concise"]  # within 40 characters of the longer gold answer it contains


def test_abstaining_is_wrong_when_there_is_an_answer_and_right_when_there_is_none() -> None:
    assert not judge(_answer(None), ["1954"], SENTENCE)["right"]
    assert judge(_answer(None), [], None)["right"]
    assert not judge(_answer("1954"), [], None)["right"]


def test_evidence_rank_counts_from_one_and_is_none_when_absent() -> None:
    answer = _answer("x", ("Another sentence.", SENTENCE))
    assert judge(answer, ["x"], SENTENCE)["rank"] == 2
    assert judge(_answer("x", ("Another sentence.",)), ["x"], SENTENCE)["rank"] is None


def test_a_broken_evaluation_file_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "qa.jsonl").write_text('{"id": "a"}\nnot json\n', encoding="utf-8")
    with pytest.raises(CppqaError, match=r"qa.jsonl:2 is not valid JSON"):
        read_jsonl(tmp_path / "qa.jsonl")
    with pytest.raises(CppqaError, match="does not exist"):
        read_jsonl(tmp_path / "missing.jsonl")


def test_the_set_has_what_the_quality_issue_asks_for() -> None:
    singles = read_jsonl(EVAL / "qa.jsonl")
    conversations = read_jsonl(EVAL / "conversations.jsonl")
    categories = [item["category"] for item in singles]
    assert categories.count("answerable") >= 60
    assert categories.count("off_topic") + categories.count("near_topic") >= 20
    assert categories.count("near_topic") >= 10
    assert len(conversations) >= 12
    document = (EVAL.parent / "corpus" / "communist-party-of-pakistan.txt").read_text("utf-8")
    for item in singles:
        if item["answers"]:
            assert item["evidence"] in document, item["id"]
            assert all(a in item["evidence"] for a in item["answers"]), item["id"]


@pytest.fixture(scope="module")
def report(qa: Any) -> dict[str, Any]:
    return evaluate(qa, EVAL, split="all")


# (section, metric, floor): a little under the value the shipped reader measured
# (docs/quality.md); the targets are far above most of them.
FLOORS = [
    ("answerable", "evidence@1", 0.89),  # measured 0.930 (target 0.95)
    ("answerable", "evidence@3", 0.95),  # measured 0.970
    ("answerable", "mrr", 0.92),  # measured 0.947
    ("answerable", "accuracy", 0.78),  # measured 0.815 (target 0.95)
    ("answerable", "conciseness", 0.75),  # measured 0.790 (target 0.85)
    ("abstention", "off_topic_abstained", 1.0),  # target, met
    ("abstention", "near_topic_abstained", 0.45),  # measured 0.486 (target 0.70)
    ("abstention", "precision", 0.87),  # measured 0.911
    ("follow_up", "accuracy", 0.70),  # measured 0.741 (target 0.90)
]


@pytest.mark.slow
@pytest.mark.parametrize(("section", "metric", "floor"), FLOORS)
def test_quality_floor(report: dict[str, Any], section: str, metric: str, floor: float) -> None:
    assert report[section][metric] >= floor, format_report(report)


@pytest.mark.slow
def test_answerable_questions_are_rarely_refused(report: dict[str, Any]) -> None:
    # Measured 0.020 with the shipped reader (the target is 0.03), with 0.49 of near-topic
    # questions abstained; the one before refused 0.025 and abstained on 0.51.
    assert report["abstention"]["answerable_refused"] <= 0.05, format_report(report)


@pytest.mark.slow
def test_the_capital_of_france_is_not_in_the_document(qa: Any) -> None:
    assert qa.ask("What is the capital of France?").text is None
