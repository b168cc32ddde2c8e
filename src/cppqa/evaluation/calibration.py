"""A reader's confidence curve fitted on document-mode records (Platt scaling of the span's
margin over the no-answer score), and records seen through a new curve."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from cppqa.config import Settings
from cppqa.errors import CppqaError
from cppqa.evaluation.squad import Record, best_threshold, reader_meta


def fit_platt(margins: Sequence[float], right: Sequence[bool]) -> tuple[float, float]:
    """Fit P(right) = σ(a·margin + b) by Newton's method with backtracking on the log loss.

    As Platt (1999) advises, the targets are smoothed to (N₊+1)/(N₊+2) and 1/(N₋+2),
    so that separable data still gives a finite slope.
    """
    pairs = [(m, bool(y)) for m, y in zip(margins, right, strict=True) if math.isfinite(m)]
    positives = sum(y for _, y in pairs)
    high, low = (positives + 1) / (positives + 2), 1 / (len(pairs) - positives + 2)
    data = [(m, high if y else low) for m, y in pairs]

    def loss(a: float, b: float) -> float:
        total = 0.0
        for m, t in data:
            z = a * m + b
            # log(1 + e^z) - t·z, computed without overflow
            total += (z if z > 0 else 0.0) + math.log1p(math.exp(-abs(z))) - t * z
        return total

    a, b = 1.0, 0.0
    current = loss(a, b)
    for _ in range(100):
        ga = gb = haa = hab = hbb = 0.0
        for m, t in data:
            p = 1.0 / (1.0 + math.exp(-max(min(a * m + b, 60.0), -60.0)))
            ga += (p - t) * m
            gb += p - t
            w = max(p * (1 - p), 1e-12)
            haa += w * m * m
            hab += w * m
            hbb += w
        haa, hbb = haa + 1e-9, hbb + 1e-9
        det = haa * hbb - hab * hab
        da, db = (hbb * ga - hab * gb) / det, (haa * gb - hab * ga) / det
        step = 1.0
        while step > 1e-6 and loss(a - step * da, b - step * db) > current:
            step /= 2
        a, b = a - step * da, b - step * db
        new = loss(a, b)
        if current - new < 1e-10:
            break
        current = new
    return a, b


def as_calibrated_now(records: Sequence[Record], settings: Settings) -> list[Record]:
    """``records`` (asked earlier, perhaps under another calibration) with the confidence
    the reader's current curve gives their margins."""
    from cppqa.reading.reader import Calibration

    now = Calibration.of(reader_meta(settings))
    return recalibrated(records, now.scale, now.bias)


def calibrate(records: Sequence[Record]) -> dict[str, Any]:
    """Fit the confidence curve and the threshold on ``records`` (held-out questions).

    The curve is Platt scaling of the reader's margin against "the answer given is
    right" (F1 ≥ 0.5; a question of another article is never answered right); the
    threshold is the confidence that maximises overall F1 with the fitted curve.
    """
    usable = [r for r in records if math.isfinite(r.margin)]
    if not usable:
        raise CppqaError("nothing to calibrate on: no question got a span from the reader")
    right = [
        r.prediction is not None and bool(r.answers) and r.scores(0.0)[1] >= 0.5 for r in usable
    ]
    scale, bias = fit_platt([r.margin for r in usable], right)
    return {
        "scale": scale,
        "bias": bias,
        # questions of other articles count as unanswerable here
        "threshold": best_threshold(
            [replace(r, foreign=False) for r in recalibrated(records, scale, bias)]
        ),
        "questions": len(records),
        "articles": sorted({r.article for r in records}),
    }


def recalibrated(records: Sequence[Record], scale: float, bias: float) -> list[Record]:
    """``records`` with their confidence computed by the curve σ(scale·margin + bias)."""
    from cppqa.reading.spans import confidence

    return [replace(r, confidence=confidence(r.margin, scale, bias)) for r in records]
