"""SQuAD data and scoring (datasets/squad.py), and the whole pipeline in document mode
(evaluation/squad.py, calibration.py, squad_report.py) on a held-out slice."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

from cppqa.config import Settings
from cppqa.datasets.squad import (
    ABSTENTION_ARTICLES,
    V2_CALIBRATION,
    V2_TEST,
    exact,
    f1_score,
    load_squad,
    normalize_answer,
)
from cppqa.errors import CppqaError
from cppqa.evaluation.calibration import as_calibrated_now, fit_platt
from cppqa.evaluation.squad import (
    Record,
    best_threshold,
    from_json,
    select,
    squad_records,
    summary,
    threshold_of,
    to_json,
)
from cppqa.evaluation.squad_report import report

SLICE = Path(__file__).resolve().parents[1] / "data" / "squad-slice.json"
#: 6 paragraphs of each SQuAD 2.0 test article: 257 questions, 115 unanswerable.
SLICE2 = Path(__file__).resolve().parents[1] / "data" / "squad2-test-slice.json"


def record(answers: tuple[str, ...], prediction: str | None, confidence: float, **kw) -> Record:  # type: ignore[no-untyped-def]
    return Record(
        article=kw.get("article", "A"),
        question="q",
        answers=answers,
        foreign=kw.get("foreign", False),
        prediction=prediction,
        margin=kw.get("margin", 1.0),
        confidence=confidence,
        evidence=kw.get("evidence", True),
        top=kw.get("top", ""),
    )


@pytest.mark.parametrize(
    ("text", "normal"),
    [
        ("The Rolling Stones!", "rolling stones"),
        ("  an  apple, a day ", "apple day"),
        ("U.S.", "us"),
    ],
)
def test_normalisation_is_squads(text: str, normal: str) -> None:
    assert normalize_answer(text) == normal


def test_f1_and_exact_match_follow_the_official_script() -> None:
    assert exact("the Beatles", "Beatles") == 1.0
    assert f1_score("in March 1948", "March 6, 1948") == pytest.approx(2 / 3)
    assert f1_score("", "") == 1.0 and f1_score("x", "") == 0.0
    assert f1_score("cat", "dog") == 0.0


def test_both_squad_versions_load_with_their_unanswerable_questions(tmp_path: Path) -> None:
    articles = load_squad(SLICE)
    assert {a.title for a in articles} >= {"Web_browser", "Spectre_(2015_film)"}
    spectre = next(a for a in articles if a.title == "Spectre_(2015_film)")
    items = [q for _, qs in spectre.paragraphs for q in qs]
    assert sum(q.start < 0 for q in items) == 54
    for context, qs in spectre.paragraphs:
        for q in qs:
            if q.start >= 0:
                assert context[q.start : q.start + len(q.answer)] == q.answer
    packed = tmp_path / "s.json.gz"
    with gzip.open(packed, "wt", encoding="utf-8") as f:
        f.write(SLICE.read_text(encoding="utf-8"))
    assert [a.title for a in load_squad(packed)] == [a.title for a in articles]


def test_a_file_that_is_not_squad_is_a_clear_error(tmp_path: Path) -> None:
    bad = tmp_path / "x.json"
    bad.write_text(json.dumps({"rows": []}))
    with pytest.raises(CppqaError, match="cannot read SQuAD data"):
        load_squad(bad)
    with pytest.raises(CppqaError, match="cannot read SQuAD data"):
        load_squad(tmp_path / "missing.json")


def test_records_score_at_any_threshold() -> None:
    right = record(("1954",), "in 1954", 0.8)
    assert right.scores(0.5) == (0.0, pytest.approx(2 / 3))
    assert right.scores(0.9) == (0.0, 0.0)  # withheld: an answerable question scores 0
    unanswerable = record((), "1951", 0.4)
    assert unanswerable.scores(0.5) == (1.0, 1.0)  # withheld: right
    assert unanswerable.scores(0.3) == (0.0, 0.0)


def test_the_best_threshold_maximises_f1() -> None:
    records = [
        record(("a",), "a", 0.9),
        record((), "b", 0.6),
        record((), "c", 0.5),
        record(("d",), "d", 0.7),
    ]
    assert best_threshold(records) == 0.7


def test_summary_reports_hasans_noans_foreign_and_baselines() -> None:
    records = [
        record(("Paris",), "Paris", 0.9, top="Paris is big."),
        record((), None, 0.0),
        record((), "x", 0.9, foreign=True),
    ]
    s = summary(records, 0.5)
    assert s["n"] == 2 and s["has_answer"] == 1 and s["no_answer"] == 1
    assert s["overall"]["f1"] == 1.0 and s["has_ans"]["em"] == 1.0
    assert s["no_ans_abstained"] == 1.0 and s["foreign_abstained"] == 0.0
    assert s["baselines"]["always_abstain"]["f1"] == 0.5
    assert s["baselines"]["top_sentence"]["has_ans_f1"] == pytest.approx(0.5)


def test_levels_count_answers_and_their_share_right() -> None:
    records = [
        record(("Paris",), "Paris", 0.9),  # high, right
        record(("Rome",), "Milan", 0.7),  # high, wrong
        record(("Oslo",), "Oslo", 0.4),  # medium, right
        record((), "x", 0.2),  # low, an unanswerable question answered: wrong
        record(("Bern",), "Bern", 0.05),  # withheld at 0.1: in no level
    ]
    s = summary(records, 0.1)["levels"]
    assert s["high"] == {"answers": 2, "right": 0.5}
    assert s["medium"] == {"answers": 1, "right": 1.0}
    assert s["low"] == {"answers": 1, "right": 0.0}


def test_platt_scaling_recovers_a_known_slope() -> None:
    import math
    import random

    rng = random.Random(0)
    margins = [rng.uniform(-6, 6) for _ in range(4000)]
    right = [rng.random() < 1 / (1 + math.exp(-(0.8 * m - 1.0))) for m in margins]
    a, b = fit_platt(margins, right)
    assert a == pytest.approx(0.8, abs=0.1) and b == pytest.approx(-1.0, abs=0.15)


def test_unknown_article_titles_are_named(tmp_path: Path) -> None:
    with pytest.raises(CppqaError, match="no article titled 'Nope'"):
        select(load_squad(SLICE), "Nope", Settings())


def test_the_report_swaps_calibration_between_the_abstention_articles() -> None:
    a, b = ABSTENTION_ARTICLES
    records = [
        record(("x",), "x", 0.9, article=a),
        record((), "y", 0.3, article=a),
        record(("z",), "z", 0.6, article=b),
        record((), "w", 0.2, article=b),
    ]
    out = report(records, 0.5)
    assert set(out["calibrated_on_the_other"]) == {a, b}
    assert out["calibrated_on_the_other"][a]["threshold"] == 0.6  # fitted on b
    assert out["calibrated_on_the_other"][b]["threshold"] == 0.9  # fitted on a


@pytest.mark.slow
def test_the_reader_answers_held_out_articles_in_document_mode() -> None:
    """The whole pipeline on articles the reader never saw; floors just under what it
    measured (docs/quality.md), so that a worse reader or retriever fails here."""
    articles = load_squad(SLICE)
    settings = Settings.from_env()
    records = list(squad_records(articles, settings, foreign=5))
    plain = summary([r for r in records if r.article not in ABSTENTION_ARTICLES], 0.0)
    assert plain["has_answer"] == 216
    assert plain["has_ans"]["f1"] >= HAS_ANS_F1_FLOOR, plain
    assert plain["has_ans"]["f1"] > plain["baselines"]["top_sentence"]["has_ans_f1"] + 0.2
    spectre = summary(
        [r for r in records if r.article == "Spectre_(2015_film)"], threshold_of(settings)
    )
    assert spectre["overall"]["f1"] >= SPECTRE_F1_FLOOR, spectre
    foreign = summary(records, threshold_of(settings))
    assert foreign["foreign"] == 20
    assert foreign["foreign_abstained"] >= FOREIGN_FLOOR, foreign


# Measured with the 104,000-example reader: HasAns F1 0.541 on the three articles;
# Spectre's slice F1 0.413 at its threshold; 20 of 20 other articles' questions
# abstained. The shipped reader (150,000) was not measured on this slice alone: it
# passes these floors in CI, and is better on the 800-question test half.
HAS_ANS_F1_FLOOR = 0.51
SPECTRE_F1_FLOOR = 0.39
FOREIGN_FLOOR = 0.9


def test_calibration_fits_a_rising_curve_and_a_threshold_between_right_and_wrong() -> None:
    from cppqa.evaluation.calibration import calibrate

    right = [record(("a",), "a", 0.0, margin=m) for m in (4.0, 5.0, 6.0, 7.0, 3.0)]
    wrong = [record((), "b", 0.0, margin=m) for m in (-1.0, 0.5, 1.0, 1.5, 3.5)]
    fitted = calibrate(right + wrong)
    assert fitted["scale"] > 0
    assert fitted["questions"] == 10
    from cppqa.reading.spans import confidence

    at = fitted["threshold"]
    assert confidence(1.5, fitted["scale"], fitted["bias"]) < at
    assert confidence(4.0, fitted["scale"], fitted["bias"]) >= at


def test_calibration_is_written_into_reader_json(tmp_path: Path) -> None:
    from cppqa.reading.reader import write_calibration

    (tmp_path / "reader.json").write_text(json.dumps({"weights_sha256": "x"}))
    write_calibration(tmp_path, {"scale": 1.0, "bias": 0.0, "threshold": 0.4})
    meta = json.loads((tmp_path / "reader.json").read_text())
    assert meta == {
        "weights_sha256": "x",
        "calibration": {"scale": 1.0, "bias": 0.0, "threshold": 0.4},
    }
    assert threshold_of(Settings(reader=str(tmp_path))) == 0.4
    assert threshold_of(Settings(reader=str(tmp_path), min_confidence=0.1)) == 0.1


def test_the_squad2_dev_split_is_named_and_records_round_trip() -> None:
    articles = load_squad(SLICE2)
    assert {a.title for a in select(articles, "v2-test", Settings())} == set(V2_TEST)
    assert not set(V2_TEST) & set(V2_CALIBRATION)
    with pytest.raises(CppqaError, match="none of those articles"):
        select(articles, "v2-calibration", Settings())
    records = [record(("x", "y"), "x", 0.9), record((), None, 0.0, foreign=True)]
    assert from_json(json.loads(json.dumps(to_json(records)))) == records
    with pytest.raises(CppqaError, match="not a record"):
        from_json([{"question": "q"}])


def test_the_report_puts_a_compared_reader_beside() -> None:
    ours = [record(("a",), "a", 0.9), record((), None, 0.0)]
    theirs = [record(("a",), "b", 0.9), record((), "c", 0.9)]
    out = report(ours, 0.5, {"models/old": (theirs, 0.5)})
    assert out["at_threshold"]["overall"]["f1"] == 1.0
    assert out["compared"]["models/old"]["overall"]["f1"] == 0.0
    assert out["compared"]["models/old"]["no_ans_abstained"] == 0.0
    from cppqa.evaluation.squad_report import format_report

    assert "models/old (compared)" in format_report(out)


@pytest.mark.slow
def test_the_reader_says_when_squad2_test_articles_do_not_answer() -> None:
    """The SQuAD 2.0 test slice through the whole pipeline: half its questions were written
    to look answerable from their paragraph and are not. Floors just under what the
    shipped reader measured (below)."""
    records = list(squad_records(load_squad(SLICE2), Settings.from_env()))
    s = summary(records, threshold_of(Settings.from_env()))
    assert s["n"] == 257 and s["no_answer"] == 115
    assert s["overall"]["f1"] >= V2_F1_FLOOR, s
    assert s["no_ans_abstained"] >= V2_NO_ANS_FLOOR, s
    assert s["has_ans"]["f1"] >= V2_HAS_ANS_F1_FLOOR, s


def test_saved_records_are_scored_with_the_readers_current_calibration(tmp_path: Path) -> None:
    from cppqa.reading.reader import write_calibration
    from cppqa.reading.spans import confidence

    (tmp_path / "reader.json").write_text(json.dumps({"weights_sha256": "x"}))
    write_calibration(tmp_path, {"scale": 0.5, "bias": -1.0, "threshold": 0.3})
    asked = [record(("a",), "a", 0.99, margin=2.0), record((), "b", 0.99, margin=-4.0)]
    now = as_calibrated_now(asked, Settings(reader=str(tmp_path)))
    assert [r.confidence for r in now] == [confidence(2.0, 0.5, -1.0), confidence(-4.0, 0.5, -1.0)]
    assert now[0].confidence == pytest.approx(0.5) and now[1].confidence < 0.1


# Measured with the shipped reader (run 6) on this slice: F1 0.451, NoAns abstained 0.139,
# HasAns F1 0.704 (always abstaining: 0.448). Run 12b, trained on real unanswerable
# questions and not shipped (docs/quality.md), measured 0.628 / 0.635 / 0.623: the floors
# rise with the reader that ships.
V2_F1_FLOOR = 0.42
V2_NO_ANS_FLOOR = 0.10
V2_HAS_ANS_F1_FLOOR = 0.67
