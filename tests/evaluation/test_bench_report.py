"""bench_report.py: the rows, percentiles and questions every bench report shares."""

from __future__ import annotations

import json

import numpy as np
import pytest

from conftest import ROOT
from cppqa.evaluation import bench_report


@pytest.mark.parametrize("q", [0, 50, 95, 100])
def test_percentile_matches_numpy(q: float) -> None:
    values = [5.0, 1.0, 3.0, 9.0, 7.0, 2.0]
    assert bench_report.percentile(values, q) == pytest.approx(np.percentile(values, q))


def test_eval_questions_repeat_the_set() -> None:
    questions = bench_report.eval_questions(ROOT / "eval", 400)
    lines = (ROOT / "eval" / "qa.jsonl").read_text().splitlines()
    assert len(questions) == 400
    assert questions[len(lines)] == questions[0]


def test_a_row_not_measured_is_null_in_valid_json() -> None:
    """A scan row without Tesseract is NaN; JSON has no NaN, so it is written as null."""
    import math

    report = bench_report.SystemReport(
        {}, (bench_report.Row("OCR (pages/s)", math.nan), bench_report.Row("x", 2.0)), ()
    )
    rows = json.loads(json.dumps(report.to_json(), allow_nan=False))["rows"]
    assert [r["value"] for r in rows] == [None, 2.0]
