"""cli/eval.py: ``cppqa eval`` on records of an earlier run and on a small set, with a plot."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conftest import run_cli


def test_plot_of_records_marks_the_threshold_in_use(tmp_path: Path) -> None:
    rows = [
        {"article": "A", "question": q, "answers": answers, "foreign": False,
         "prediction": "x", "margin": margin, "confidence": 0.0, "evidence": True, "top": ""}
        for q, answers, margin in (("q", ["x"], 9.0), ("r", [], 0.5), ("s", ["x"], 2.0))
    ]  # fmt: skip
    saved = tmp_path / "records.jsonl"
    saved.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    plot = tmp_path / "out" / "tradeoff.png"
    result = run_cli("eval", "--from-records", str(saved), "--plot", str(plot))
    assert result.returncode == 0, result.stderr
    assert f"plot written to {plot}" in result.stderr
    assert plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    wrong = run_cli("eval", "--from-records", str(saved), "--plot", str(tmp_path / "t.jpg"))
    assert wrong.returncode == 2 and "must name a .png file" in wrong.stderr


@pytest.mark.slow
def test_eval_plot_draws_the_set_it_scored(tmp_path: Path) -> None:
    rows = [
        {"id": "a1", "category": "answerable", "style": "plain", "split": "dev",
         "question": "When was the party declared illegal?", "answers": ["1954"]},
        {"id": "o1", "category": "off_topic", "style": "plain", "split": "dev",
         "question": "What is the capital of France?", "answers": []},
    ]  # fmt: skip
    (tmp_path / "qa.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows), "utf-8")
    (tmp_path / "conversations.jsonl").write_text("", encoding="utf-8")
    plot = tmp_path / "tradeoff.png"
    result = run_cli("eval", "--data", str(tmp_path), "--json", "--plot", str(plot))
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert [d["proposed_right"] for d in report["decisions"]] == [True, False]
    assert report["decisions"][1]["proposed"] is None  # the reader's null beat every span
    assert report["threshold"] >= 0 and plot.stat().st_size > 1000


def test_records_from_an_earlier_run_are_scored_again(tmp_path: Path) -> None:
    rows = [
        {"article": "A", "question": "q", "answers": ["x"], "foreign": False,
         "prediction": "x", "margin": 9.0, "confidence": 0.0, "evidence": True, "top": ""},
        {"article": "A", "question": "r", "answers": [], "foreign": False,
         "prediction": "y", "margin": 0.5, "confidence": 1.0, "evidence": False, "top": ""},
    ]  # fmt: skip
    saved = tmp_path / "records.jsonl"
    saved.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    at_half = {"CPPQA_MIN_CONFIDENCE": "0.5"}
    result = run_cli("eval", "--from-records", str(saved), "--json", env=at_half)
    assert result.returncode == 0, result.stderr
    s = json.loads(result.stdout)["at_threshold"]
    # the confidences are the shipped reader's curve on the margins (about 0.70 and 0.17),
    # not the saved ones (0.0 and 1.0): the first is answered and the second withheld
    assert s["overall"]["f1"] == 1.0 and s["no_ans_abstained"] == 1.0
    missing = run_cli("eval", "--from-records", str(tmp_path / "none.jsonl"))
    assert missing.returncode == 2 and "cannot read --from-records" in missing.stderr
