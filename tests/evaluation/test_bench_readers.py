"""bench_readers.py: the shipped reader beside another, interleaved, in one run."""

from __future__ import annotations

import pytest

from conftest import CORPUS, INDEX, ROOT
from cppqa.config import Settings


@pytest.mark.slow
def test_a_reader_compared_with_itself_answers_alike() -> None:
    """The shipped reader as "the other": its fp32 rows must match the floor's answers
    (the plumbing compares like with like), int8 and fewer windows get rows of their own."""
    from cppqa.evaluation.bench_readers import FEW_WINDOWS, run_readers
    from cppqa.reading.reader import SHIPPED_DIR

    settings = Settings(corpus_dir=CORPUS, index_dir=INDEX)
    report = run_readers(settings, SHIPPED_DIR, data=ROOT / "eval", questions=4)
    rows = {row.name.strip(): row for row in report.rows}
    speed = [r for r in report.rows if r.name.startswith("warm answer p50")]
    assert len(speed) == 5
    assert speed[0].floor is None and all(r.floor == speed[0].value for r in speed[1:])
    assert all(r.value > 0 for r in speed)
    shipped, same = speed[0].name.split(", ", 1)[1], speed[1].name.split(", ", 1)[1]
    assert rows[f"right (share), {shipped}"].value == rows[f"right (share), {same}"].value
    assert any(f"{FEW_WINDOWS} windows" in r.name for r in speed)
    shares = [r for r in report.rows if "same answer as" in r.name]
    assert len(shares) == 3 and all(r.value in {0, 0.25, 0.5, 0.75, 1} for r in shares)
    assert str(SHIPPED_DIR) in report.notes[1]


def test_quantized_readers_keep_their_own_weights() -> None:
    """int8 works on a copy: the reader it came from reads exactly as before."""
    import numpy as np
    import torch

    from cppqa.evaluation.bench_readers import quantized
    from cppqa.reading.reader import Reader

    question, window = "When was the party declared illegal?", ["It was banned in 1954."]
    reader = Reader.load()
    [before] = reader.score(question, window)
    int8 = quantized(reader)
    [after] = reader.score(question, window)
    assert int8.model is not reader.model
    assert np.array_equal(before.start, after.start) and before.null == after.null
    linears = [m for m in reader.model.modules() if type(m) is torch.nn.Linear]
    assert linears and all(m.weight.dtype == torch.float32 for m in linears)
    assert not [m for m in int8.model.modules() if type(m) is torch.nn.Linear]
    [low] = int8.score(question, window)
    assert low.start.shape == before.start.shape and low.offsets == before.offsets


def test_variants_are_distinct_when_few_windows_are_all_windows() -> None:
    """With 3 windows or fewer, "all" and "the first 3" are one setting, measured once."""
    from dataclasses import replace

    from conftest import CORPUS, INDEX
    from cppqa.evaluation.bench_readers import variants
    from cppqa.qa import QA

    settings = Settings(corpus_dir=CORPUS, index_dir=INDEX, windows=2)
    qa = QA.load(settings, rebuild=False)
    names = [v.name for v in variants(qa, qa.reader, replace(settings, windows=2))]
    assert len(names) == len(set(names)) == 3
