"""reader.py: the shipped reader loads offline from the repository, verified by its hash."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from cppqa.errors import ModelError
from cppqa.reading.reader import (
    READER_FILE,
    SHIPPED_DIR,
    SHIPPED_SHA256,
    WEIGHTS_FILE,
    Reader,
    sha256_file,
)


def test_the_shipped_reader_is_in_the_repository_as_plain_weights() -> None:
    weights = SHIPPED_DIR / WEIGHTS_FILE
    assert weights.is_file()
    assert weights.stat().st_size < 100 * 2**20  # fits the repository without LFS
    assert not weights.read_bytes()[:100].startswith(b"version https://git-lfs")
    assert sha256_file(weights) == SHIPPED_SHA256
    meta = json.loads((SHIPPED_DIR / READER_FILE).read_text(encoding="utf-8"))
    assert meta["weights_sha256"] == SHIPPED_SHA256
    card = (SHIPPED_DIR / "README.md").read_text(encoding="utf-8")
    for must in (
        "all-MiniLM-L6-v2",
        "Apache-2.0",
        "SQuAD",
        "CC BY-SA 4.0",
        "Seed",
        "Examples seen",
    ):
        assert must in card


@pytest.fixture(scope="module")
def reader() -> Reader:
    return Reader.load()


@pytest.mark.slow
def test_the_reader_marks_the_answer_inside_the_window(reader: Reader) -> None:
    from cppqa.reading.spans import best_across

    windows = ["The weather was mild.", "The treaty was signed in Paris in 1783 by both sides."]
    scored = reader.score("Where was the treaty signed?", windows)
    assert len(scored) == 2
    span = best_across(scored)
    assert span is not None and span.window == 1
    assert "Paris" in windows[1][span.start : span.end]
    for w, text in zip(scored, windows, strict=True):
        for offset in w.offsets:
            if offset is not None:
                assert 0 <= offset[0] < offset[1] <= len(text)


def _copy(tmp_path: Path) -> Path:
    folder = tmp_path / "reader"
    shutil.copytree(SHIPPED_DIR, folder)
    return folder


@pytest.mark.slow
def test_damaged_weights_are_refused(tmp_path: Path) -> None:
    folder = _copy(tmp_path)
    weights = folder / WEIGHTS_FILE
    data = bytearray(weights.read_bytes())
    data[-10] ^= 0xFF
    weights.write_bytes(bytes(data))
    with pytest.raises(ModelError, match="SHA-256"):
        Reader.load(folder)


def test_a_missing_or_unreadable_reader_says_how_to_get_one(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match="train-reader"):
        Reader.load(tmp_path)
    folder = _copy(tmp_path)
    (folder / READER_FILE).write_text("{", encoding="utf-8")
    with pytest.raises(ModelError, match=r"reader\.json"):
        Reader.load(folder)
