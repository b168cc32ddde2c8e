"""tradeoff.py: answered share against right share over the threshold, and its plot."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cppqa.evaluation.squad import Record
from cppqa.evaluation.tradeoff import Decision, at, draw, from_report, from_squad, plot, sweep

decisions = st.lists(
    st.builds(
        Decision,
        st.floats(0, 1),
        st.booleans(),
        st.floats(0, 1),
        st.sampled_from([0.0, 1.0]),
        st.booleans(),
    ),
    min_size=1,
    max_size=30,
)


@given(decisions)
def test_raising_the_threshold_never_answers_more(ds: list[Decision]) -> None:
    points = sweep(ds)
    shares = [p.answered for p in points]
    assert shares == sorted(shares, reverse=True)
    assert points[-1].answered == 0.0  # past every confidence: nothing answered
    assert points[0].answered == pytest.approx(sum(d.proposed for d in ds) / len(ds), abs=1e-4)


def test_the_right_share_counts_right_refusals() -> None:
    ds = [
        Decision(0.8, True, 1.0, 0.0, answerable=True),  # right answer
        Decision(0.6, True, 0.0, 1.0, answerable=False),  # unanswerable, answered wrongly
        Decision(0.2, False, 0.0, 1.0, answerable=False),  # no span over the null: refused
    ]
    low, high = at(ds, 0.5), at(ds, 0.7)
    assert (low.answered, low.right) == (
        pytest.approx(2 / 3, abs=1e-4),
        pytest.approx(2 / 3, abs=1e-4),
    )
    assert (high.answered, high.right) == (pytest.approx(1 / 3, abs=1e-4), 1.0)
    assert (high.has_ans, high.no_ans) == (1.0, 1.0)
    assert (low.has_ans, low.no_ans) == (1.0, 0.5)


def test_squad_records_score_by_f1_and_leave_foreign_questions_out() -> None:
    def record(answers: tuple[str, ...], prediction: str | None, foreign: bool = False) -> Record:
        return Record("A", "q?", answers, foreign, prediction, 1.0, 0.7, False, "")

    ds = from_squad(
        [
            record(("the red flag",), "red flag weekly"),
            record((), "1954"),
            record((), None),
            record(("x",), "x", foreign=True),
        ]
    )
    assert len(ds) == 3
    assert ds[0].if_answered == pytest.approx(0.8)  # F1 of "red flag weekly" vs "red flag"
    assert [d.answerable for d in ds] == [True, False, False]
    assert [d.proposed for d in ds] == [True, True, False]


def test_a_report_gives_its_decisions() -> None:
    report = {
        "decisions": [
            {
                "category": "answerable",
                "confidence": 0.9,
                "proposed": "1954",
                "proposed_right": True,
            },
            {
                "category": "near_topic",
                "confidence": 0.1,
                "proposed": None,
                "proposed_right": False,
            },
        ]
    }
    ds = from_report(report)
    assert at(ds, 0.0).right == 1.0 and at(ds, 0.95).right == 0.5


@pytest.mark.parametrize("squad", [False, True])
def test_the_plot_marks_the_threshold_in_use(tmp_path: Path, squad: bool) -> None:
    ds = [
        Decision(c / 10, c % 3 != 0, float(c % 2), float(c % 2 == 0), c % 2 == 1) for c in range(10)
    ]
    shown = plot("held-out", ds, 0.45)
    figure = draw([shown], tmp_path / "plot" / "tradeoff.png", squad=squad)
    assert (tmp_path / "plot" / "tradeoff.png").stat().st_size > 1000
    marks = [line for line in figure.axes[0].lines if line.get_gid() == "shipped"]
    assert len(marks) == 1
    assert list(marks[0].get_xdata()) == [at(ds, 0.45).answered]
    assert list(marks[0].get_ydata()) == [at(ds, 0.45).right]
    curve = figure.axes[0].lines[0]
    assert list(curve.get_xdata()) == [p.answered for p in sweep(ds)]
    assert len(figure.axes) == (2 if squad else 1)
    if squad:
        (line,) = [x for x in figure.axes[1].lines if x.get_gid() == "shipped"]
        assert list(line.get_xdata()) == [0.45, 0.45]
