"""feedback.py: votes kept as JSON lines; `cppqa eval --feedback` reads them back."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conftest import run_cli
from cppqa.datasets.feedback import FEEDBACK_FILE, Vote, read_votes, record
from cppqa.errors import CppqaError
from cppqa.evaluation.evaluate import evaluate_votes, to_label_rows


def test_votes_are_appended_whole_and_read_back(tmp_path: Path) -> None:
    first = Vote("When?", "When was it?", "1954", True, "cpp.txt", 120, "In 1954 ...")
    second = Vote("And then?", "And then?", None, False, history=(("When?", "1954"),))
    path = record(tmp_path / "votes", first)
    assert record(tmp_path / "votes", second) == path == tmp_path / "votes" / FEEDBACK_FILE
    lines = path.read_text(encoding="utf-8").splitlines()
    assert len(lines) == 2 and json.loads(lines[1])["history"] == [["When?", "1954"]]
    assert read_votes(path) == [first, second]


def test_a_changed_mind_keeps_the_later_vote_and_the_file_is_private(tmp_path: Path) -> None:
    up = Vote("When?", "When?", "1954", True)
    other = Vote("Where?", "Where?", "Calcutta", True)
    for vote in (up, other, Vote("When?", "When?", "1954", False)):
        path = record(tmp_path, vote)
    assert [(v.question, v.liked) for v in read_votes(path)] == [("Where?", True), ("When?", False)]
    assert path.stat().st_mode & 0o777 == 0o600  # questions are kept in plain text


def test_a_line_cut_short_by_a_crash_is_skipped_but_a_broken_one_is_not(tmp_path: Path) -> None:
    path = record(tmp_path, Vote("When?", "When?", "1954", True))
    with path.open("a", encoding="utf-8") as f:
        f.write('{"question": "Who')  # the server stopped mid-write
    assert [v.question for v in read_votes(path)] == ["When?"]
    path.write_text('{"nothing": 1}\n' + path.read_text(encoding="utf-8"), encoding="utf-8")
    with pytest.raises(CppqaError, match=r":1 is not a feedback vote"):
        read_votes(path)
    with pytest.raises(CppqaError, match="cannot read the feedback file"):
        read_votes(tmp_path / "missing.jsonl")


def test_confirmed_answers_are_asked_again_and_rejected_ones_listed(qa) -> None:  # type: ignore[no-untyped-def]
    votes = [
        Vote("When was the party declared illegal?", "When was the party declared illegal?",
             "1954", True),
        Vote("When was the party declared illegal?", "When was the party declared illegal?",
             "1948", True),  # confirmed wrongly: the reader says 1954, so it is a miss
        Vote("Who is the mayor of Paris?", "Who is the mayor of Paris?", None, True),
        Vote("Who founded it?", "Who founded the CPP?", "Sajjad Zaheer", False),
        Vote("When was it opened?", "When was it opened?", "1931", True,
             corpus="an upload"),  # a vote on other documents: left out
    ]  # fmt: skip
    report = evaluate_votes(qa, votes)
    assert report["other_documents"] == 1 and report["confirmed"] == 3
    assert report["accuracy"] == pytest.approx(2 / 3, abs=0.001)
    assert [m["confirmed"] for m in report["misses"]] == ["1948"]
    assert report["to_label"] == [
        {"question": "Who founded the CPP?", "asked": "Who founded it?",
         "rejected": "Sajjad Zaheer", "sentence": None},
    ]  # fmt: skip
    rows = to_label_rows(report)
    assert rows == [{"question": "Who founded the CPP?", "answers": None,
                     "rejected": "Sajjad Zaheer"}]  # fmt: skip


@pytest.mark.slow
def test_eval_feedback_writes_the_questions_to_label(tmp_path: Path) -> None:
    illegal = "When was the party declared illegal?"
    path = record(tmp_path, Vote(illegal, illegal, "1954", True))
    record(tmp_path, Vote("Who founded it?", "Who founded the CPP?", "Sajjad Zaheer", False))
    out = tmp_path / "label.jsonl"
    done = run_cli("eval", "--feedback", str(path), "--to-label", str(out), "--no-rebuild")
    assert done.returncode == 0, done.stderr
    assert "1 confirmed answers, 1.000 still right" in done.stdout
    assert "'Who founded the CPP?' (got 'Sajjad Zaheer')" in done.stdout
    assert json.loads(out.read_text(encoding="utf-8"))["answers"] is None
    # until its answer is written, --adapt refuses the row and says how to fill it in
    adapt = run_cli("train-reader", "--adapt", str(out), "--examples", "16")
    assert adapt.returncode != 0 and "must be a list of exact quotes" in adapt.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--to-label", "x.jsonl"], "--to-label goes with --feedback"),
        (["--feedback", "f.jsonl", "--split", "dev"], "--feedback scores the votes alone"),
    ],
)
def test_eval_feedback_errors(args: list[str], message: str) -> None:
    done = run_cli("eval", *args)
    assert done.returncode != 0 and message in done.stderr


def test_a_vote_holding_a_line_separator_reads_back(tmp_path: Path) -> None:
    vote = Vote("When\u2028was it?", "When\u2028was it?", "in\u20291954\x85", True)
    path = record(tmp_path, vote)
    record(tmp_path, Vote("Where?", "Where?", "Karachi", False))
    assert [v.question for v in read_votes(path)] == ["When\u2028was it?", "Where?"]
