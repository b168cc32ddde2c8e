"""What abstaining costs: answers given against answers right, over the threshold.

Every question the evaluation asks ends in a ``Decision``: the reader's best span
(proposed where it beat the no-answer score) with its calibrated confidence, and what
answering or refusing would score. Raising the threshold refuses more; ``sweep``
follows one set of decisions through every threshold that changes one of them, and
``draw`` plots the curves with the threshold in use marked (``cppqa eval --plot``).

Coverage against accuracy is the selective-prediction curve of El-Yaniv & Wiener
(2010), "On the foundations of noise-free selective classification": here the answered
share against the right share, where a refusal of an unanswerable question is right.

>>> ds = [Decision(0.9, True, 1.0, 0.0), Decision(0.4, True, 0.0, 1.0)]
>>> [(p.threshold, p.answered, p.right) for p in sweep(ds)]
[(0.0, 1.0, 0.5), (0.4, 1.0, 0.5), (0.9, 0.5, 1.0), (1.0, 0.0, 0.5)]
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from cppqa.evaluation.squad import Record


@dataclass(frozen=True)
class Decision:
    """One question at any threshold: the reader's ``confidence`` in its best span,
    whether it ``proposed`` one (its margin over the no-answer score above 0), and the
    score of answering with it and of refusing (1 right, 0 wrong; F1 for SQuAD)."""

    confidence: float
    proposed: bool
    if_answered: float
    if_refused: float
    answerable: bool = True

    def answered(self, threshold: float) -> bool:
        return self.proposed and self.confidence >= threshold

    def score(self, threshold: float) -> float:
        return self.if_answered if self.answered(threshold) else self.if_refused


@dataclass(frozen=True)
class Point:
    """The decisions at one threshold: the ``answered`` share, the ``right`` share (a
    refusal of an unanswerable question is right), the answerable questions' mean score
    (HasAns F1) and the unanswerable ones refused (NoAns); None where there are none."""

    threshold: float
    answered: float
    right: float
    has_ans: float | None
    no_ans: float | None


@dataclass(frozen=True)
class Plot:
    """The curve of one evaluation and the threshold in use on it (``shipped``)."""

    title: str
    points: tuple[Point, ...]
    shipped: Point


def at(decisions: Sequence[Decision], threshold: float) -> Point:
    """The decisions' shares and scores at ``threshold``."""
    has = [d for d in decisions if d.answerable]
    no = [d for d in decisions if not d.answerable]

    def mean(values: list[float]) -> float | None:
        return round(sum(values) / len(values), 4) if values else None

    return Point(
        threshold,
        mean([float(d.answered(threshold)) for d in decisions]) or 0.0,
        mean([d.score(threshold) for d in decisions]) or 0.0,
        mean([d.score(threshold) for d in has]),
        mean([float(not d.answered(threshold)) for d in no]),
    )


def sweep(decisions: Sequence[Decision]) -> list[Point]:
    """A point at 0, at each confidence of a proposed span, and at 1 (past the highest
    confidence only where one is 1): every threshold at which a decision changes."""
    cuts = {0.0, 1.0} | {d.confidence for d in decisions if d.proposed}
    if any(d.proposed and d.confidence >= 1.0 for d in decisions):
        cuts.add(1.0 + 1e-9)
    return [at(decisions, t) for t in sorted(cuts)]


def plot(title: str, decisions: Sequence[Decision], threshold: float) -> Plot:
    """The curve of ``decisions`` with the point at ``threshold`` marked."""
    return Plot(title, tuple(sweep(decisions)), at(decisions, threshold))


def from_report(report: dict[str, Any]) -> list[Decision]:
    """The single questions of a ``cppqa eval`` report (``evaluate.evaluate``): an
    answer is right when it holds a gold answer, a refusal when there is none."""
    return [
        Decision(
            float(row["confidence"]),
            row["proposed"] is not None,
            float(bool(row["proposed_right"])),
            float(row["category"] != "answerable"),
            row["category"] == "answerable",
        )
        for row in report["decisions"]
    ]


def from_squad(records: Sequence[Record]) -> list[Decision]:
    """SQuAD document-mode records (``squad.Record``), each own question scored by F1
    as SQuAD 2.0 scores it (foreign questions are left out, as in the summary)."""
    own = [r for r in records if not r.foreign]
    return [
        Decision(
            r.confidence,
            r.prediction is not None,
            r.scores(float("-inf"))[1] if r.answers else 0.0,
            0.0 if r.answers else 1.0,
            bool(r.answers),
        )
        for r in own
    ]


def draw(plots: Sequence[Plot], path: Path, squad: bool = False) -> Any:
    """Draw ``plots`` into the PNG at ``path`` and return the matplotlib figure: the
    answered share against the right share, each threshold in use a marked point;
    with ``squad``, also HasAns F1 and NoAns refused against the threshold."""
    import matplotlib

    matplotlib.use("Agg")  # no display: a file, on any machine
    import matplotlib.pyplot as plt

    columns = 2 if squad else 1
    figure, axes = plt.subplots(1, columns, figsize=(6 * columns, 4.6), squeeze=False)
    left = axes[0][0]
    for p in plots:
        line = left.plot([q.answered for q in p.points], [q.right for q in p.points], label=p.title)
        left.plot(
            [p.shipped.answered],
            [p.shipped.right],
            "o",
            color=line[0].get_color(),
            markersize=8,
            label=f"threshold in use ({p.shipped.threshold:.2f})",
            gid="shipped",
        )
    left.set(
        xlabel="answered (share of questions)",
        ylabel="right (share; refusing an unanswerable one is right)",
        title="What abstaining costs",
        xlim=(0, 1.02),
        ylim=(0, 1.02),
    )
    left.grid(alpha=0.3)
    left.legend(loc="lower left", fontsize=8)
    if squad:
        _against_threshold(axes[0][1], plots)
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=120)
    plt.close(figure)
    return figure


def _against_threshold(axis: Any, plots: Sequence[Plot]) -> None:
    """HasAns F1 and NoAns refused against the threshold, the one in use a dashed line."""
    for p in plots:
        shown = [q for q in p.points if q.threshold <= 1.0]
        xs = [q.threshold for q in shown]
        axis.plot(xs, [q.has_ans for q in shown], label=f"{p.title}: HasAns F1")
        axis.plot(xs, [q.no_ans for q in shown], label=f"{p.title}: NoAns refused")
        axis.axvline(p.shipped.threshold, linestyle="--", color="grey", gid="shipped")
    axis.set(xlabel="confidence threshold", ylabel="share", xlim=(0, 1), ylim=(0, 1.02))
    axis.set_title("Against the threshold")
    axis.grid(alpha=0.3)
    axis.legend(loc="lower left", fontsize=8)
