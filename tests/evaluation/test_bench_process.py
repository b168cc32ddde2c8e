"""bench_process.py: a child process's wall time and peak RSS, measured from outside."""

from __future__ import annotations

import sys

import numpy as np
import pytest

from cppqa.evaluation import bench_process


def test_child_rss_is_its_own_not_the_parents() -> None:
    ballast = np.ones(300 * 2**20 // 8)  # this process holds 300 MB more than the child
    _seconds, small = bench_process.measure_process([sys.executable, "-c", "pass"])
    _seconds, grown = bench_process.measure_process(
        [sys.executable, "-c", "import numpy as np; a = np.ones(150 * 2**20 // 8)"]
    )
    assert ballast.sum() > 0
    assert small < 100
    assert grown > small + 140


def test_failing_child_is_reported() -> None:
    with pytest.raises(RuntimeError, match="boom"):
        bench_process.measure_process([sys.executable, "-c", "raise SystemExit('boom')"])
