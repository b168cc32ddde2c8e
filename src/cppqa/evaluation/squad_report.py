"""The report of `cppqa eval --squad`: scores at the threshold, per confidence level, and beside
another reader's, as JSON and as a table."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from cppqa.datasets.squad import ABSTENTION_ARTICLES
from cppqa.evaluation.calibration import calibrate
from cppqa.evaluation.squad import Record, best_threshold, summary


def report(
    records: Sequence[Record],
    threshold: float,
    compared: dict[str, tuple[Sequence[Record], float]] | None = None,
) -> dict[str, Any]:
    """The summary at ``threshold``; for the two abstention articles, also each one scored at
    the threshold that is best on the other (calibrate on one, report on the other); and
    the summary of each of ``compared`` (other readers' records of the same questions, at
    their own thresholds)."""
    out: dict[str, Any] = {"at_threshold": summary(records, threshold)}
    if compared:
        out["compared"] = {name: summary(rs, t) for name, (rs, t) in compared.items()}
    titles = {r.article for r in records}
    if set(ABSTENTION_ARTICLES) <= titles:
        swapped = {}
        for title in ABSTENTION_ARTICLES:
            other = [r for r in records if r.article != title and r.article in ABSTENTION_ARTICLES]
            chosen = best_threshold(other)
            swapped[title] = summary([r for r in records if r.article == title], chosen)
        out["calibrated_on_the_other"] = swapped
    if any(math.isfinite(r.margin) for r in records):
        fitted = calibrate(records)
        out["fitted_here"] = {k: fitted[k] for k in ("scale", "bias", "threshold")}
    return out


def format_report(report: dict[str, Any]) -> str:
    """The report as text: one table row per summary."""
    rows = [("all articles", report["at_threshold"])]
    rows += [(f"{name[:36]} (compared)", s) for name, s in report.get("compared", {}).items()]
    rows += [
        (f"{title[:28]} (t from the other)", s)
        for title, s in report.get("calibrated_on_the_other", {}).items()
    ]
    head = (
        f"{'':<44}{'n':>6}{'EM':>7}{'F1':>7}{'HasEM':>7}{'HasF1':>7}{'NoAns':>7}"
        f"{'ans%':>7}{'ev@1':>7}{'t':>6}"
    )
    lines = ["cppqa SQuAD evaluation (document mode)", "", head]
    for name, s in rows:
        lines.append(
            f"{name:<44}{s['n']:>6}"
            + "".join(
                f"{_fmt(v):>7}"
                for v in (
                    s["overall"]["em"],
                    s["overall"]["f1"],
                    s["has_ans"]["em"],
                    s["has_ans"]["f1"],
                    s["no_ans_abstained"],
                    s["answer_rate"],
                    s["evidence@1"],
                )
            )
            + f"{s['threshold']:>6.2f}"
        )
    s = report["at_threshold"]
    base = s["baselines"]
    lines += [
        "",
        f"baselines: always abstain F1 {_fmt(base['always_abstain']['f1'])}; top retrieved "
        f"sentence F1 {_fmt(base['top_sentence']['f1'])} (HasAns "
        f"{_fmt(base['top_sentence']['has_ans_f1'])})",
    ]
    lines.append(
        "answers by confidence level (share right): "
        + "; ".join(
            f"{name} {v['answers']} ({_fmt(v['right'])})" for name, v in s["levels"].items()
        )
    )
    if s["foreign"]:
        lines.append(
            f"questions of other articles: {s['foreign']} asked, "
            f"{_fmt(s['foreign_abstained'])} abstained"
        )
    if fitted := report.get("fitted_here"):
        lines.append(
            f"fitted on these records (eval --calibrate would write it): confidence = "
            f"σ({fitted['scale']:.3f}·margin + {fitted['bias']:.3f}), threshold "
            f"{fitted['threshold']:.3f}"
        )
    return "\n".join(lines)


def _fmt(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"
