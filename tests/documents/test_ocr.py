"""ocr.py: a scanned PDF (made here: a text PDF rendered to images) read with Tesseract."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from booklets import SECTIONS, booklet, scanned
from cppqa.config import Settings
from cppqa.documents.formats import read_document
from cppqa.documents.ocr import missing_tesseract
from cppqa.documents.pagebox import highlight
from cppqa.errors import CorpusError
from cppqa.records import Document

pytestmark = pytest.mark.skipif(
    missing_tesseract() is not None, reason=missing_tesseract() or "Tesseract is installed"
)


class Read:
    """The booklet and its scan, read; and the progress told while the scan was read."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.text_path = folder / "booklet.pdf"
        self.scan_path = folder / "scan.pdf"
        self.text_path.write_bytes(booklet())
        self.scan_path.write_bytes(scanned(booklet(), dpi=200))
        self.told: list[tuple[str, int, int]] = []
        self.settings = Settings(cache_dir=folder / "cache")
        self.text = read_document(self.text_path, folder, self.settings)
        self.scan = read_document(
            self.scan_path, folder, self.settings, progress=lambda *step: self.told.append(step)
        )


@pytest.fixture(scope="module")
def read(tmp_path_factory: pytest.TempPathFactory) -> Read:
    return Read(tmp_path_factory.mktemp("ocr"))


def _cer(found: str, truth: str) -> float:
    from rapidfuzz.distance import Levenshtein

    found, truth = " ".join(found.split()), " ".join(truth.split())
    return Levenshtein.distance(found, truth) / len(truth)


def test_ocr_reads_the_scan_within_2_percent_of_its_text(read: Read) -> None:
    assert _cer(read.scan.text, read.text.text) <= 0.02
    assert len(read.scan.page_starts) == 4


def test_each_scanned_page_is_a_progress_step(read: Read) -> None:
    assert read.told == [("scan.pdf", n, 4) for n in range(1, 5)]


def test_sentences_read_with_ocr_are_cited_on_their_pages(read: Read) -> None:
    found = 0
    for page, (_, sentences) in enumerate(SECTIONS, start=2):
        for sentence in sentences:
            if sentence in read.scan.text:
                found += 1
                assert read.scan.page_at(read.scan.text.index(sentence)) == page, sentence
    assert found >= 0.8 * sum(len(sentences) for _, sentences in SECTIONS)


def _rects_near(scan: Document, text: Document, read: Read, sentence: str) -> None:
    start = scan.text.index(sentence)
    (marked,) = highlight(
        read.scan_path, start, start + len(sentence), settings=read.settings, quote=sentence
    )
    start = text.text.index(sentence)
    (truth,) = highlight(read.text_path, start, start + len(sentence), quote=sentence)
    assert marked.page == truth.page
    assert len(marked.rects) == len(truth.rects)
    for got, want in zip(marked.rects, truth.rects, strict=True):
        # OCR's word boxes and PDFium's glyph boxes differ by a few points, not lines
        assert abs(got.left - want.left) < 4 and abs(got.right - want.right) < 6
        assert abs(got.bottom - want.bottom) < 4 and abs(got.top - want.top) < 4


def test_an_answer_read_with_ocr_is_highlighted_on_its_page(read: Read) -> None:
    on_page_3 = [s for s in SECTIONS[1][1] if s in read.scan.text]
    sentence = max(on_page_3, key=len)
    _rects_near(read.scan, read.text, read, sentence)
    assert read.scan.page_at(read.scan.text.index(sentence)) == 3


def test_what_ocr_read_is_kept_for_another_process(
    read: Read, monkeypatch: pytest.MonkeyPatch
) -> None:
    import cppqa.documents.ocr
    import cppqa.documents.pdf

    assert [p.name for p in (read.folder / "cache" / "ocr").iterdir()] == [
        f"{read.scan.sha256}.json"
    ]
    # as a new process
    monkeypatch.setattr(cppqa.documents.pdf, "_kept", type(cppqa.documents.pdf._kept)())
    monkeypatch.setattr(cppqa.documents.ocr, "ocr_pages", None)  # OCR would fail
    told: list[tuple[str, int, int]] = []
    again = read_document(
        read.scan_path, read.folder, read.settings, progress=lambda *s: told.append(s)
    )
    assert again == read.scan
    assert told == [("scan.pdf", 4, 4)]
    _rects_near(read.scan, read.text, read, max(SECTIONS[2][1], key=len))


def test_a_damaged_ocr_file_is_not_used(tmp_path: Path) -> None:
    from cppqa.documents.ocr import kept_pages

    (tmp_path / "ocr").mkdir()
    short = '{"format": 1, "dpi": 300, "pages": {"0": {"text": "ab", "boxes": [null]}}}'
    for damaged in ["{", '{"format": 1, "dpi": 300, "pages": {"0": {}}}', "[]", short]:
        (tmp_path / "ocr" / "abc.json").write_text(damaged)
        assert kept_pages(tmp_path, "abc") == {}
    assert kept_pages(tmp_path, "missing") == {}


def test_a_scan_over_the_page_limit_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CPPQA_OCR_MAX_PAGES", "2")
    path = tmp_path / "long.pdf"
    path.write_bytes(scanned(booklet(furniture=False), dpi=50))
    with pytest.raises(CorpusError) as raised:
        read_document(path, tmp_path, Settings.from_env(cache_dir=tmp_path / "cache"))
    assert str(raised.value) == (
        f"{str(path)!r} has 4 scanned pages (without a text layer); at most 2 are read with "
        "OCR (CPPQA_OCR_MAX_PAGES): split it into smaller files, or run it through an OCR "
        "tool (such as ocrmypdf) first"
    )


def test_the_page_limit_is_the_settings_one(tmp_path: Path) -> None:
    from cppqa.documents.ocr import ocr_pages

    scan = scanned(booklet(furniture=False), dpi=50)
    with pytest.raises(CorpusError, match=r"has 2 scanned pages .* at most 1 are read with OCR "):
        next(ocr_pages(scan, [0, 1], "two.pdf", Settings(ocr_max_pages=1)))
    assert len(list(ocr_pages(scan, [1], "one.pdf", Settings(ocr_max_pages=1)))) == 1


def test_a_scan_over_the_time_limit_is_stopped(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import cppqa.documents.ocr

    monkeypatch.setenv("CPPQA_OCR_MAX_SECONDS", "0.000001")
    monkeypatch.setattr(cppqa.documents.ocr, "OCR_DPI", 50)  # fast: the text does not matter here
    path = tmp_path / "slow.pdf"
    path.write_bytes(scanned(booklet(furniture=False), dpi=50))
    with pytest.raises(
        CorpusError,
        match=r"OCR read [01] of its 4 scanned pages in \d+ s, the limit being 1e-06 s "
        r"\(CPPQA_OCR_MAX_SECONDS\): ",
    ):
        read_document(path, tmp_path, Settings.from_env(cache_dir=tmp_path / "cache"))


def test_a_tesseract_without_the_language_is_a_corpus_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import cppqa.documents.ocr

    monkeypatch.setattr(cppqa.documents.ocr, "_LANGUAGE", "xyz")  # no such traineddata
    monkeypatch.setattr(cppqa.documents.ocr, "OCR_DPI", 50)
    path = tmp_path / "scan.pdf"
    path.write_bytes(scanned(booklet(furniture=False), dpi=50))
    with pytest.raises(CorpusError, match=r"Tesseract could not read page 1 \(.*\): is its "):
        read_document(path, tmp_path, Settings(cache_dir=tmp_path / "cache"))


def _asked(path: Path, index: Path, questions: list[str], cache: Path) -> list[dict[str, Any]]:
    from conftest import run_cli

    result = run_cli(
        *("ask", "--json", "--corpus", str(path), "--index", str(index), "-"),
        stdin="".join(f"{question}\n" for question in questions),
        env={"CPPQA_CACHE_DIR": str(cache)},  # what OCR read in this module, kept there
        timeout=600,
    )
    assert result.returncode == 0, result.stderr
    return [json.loads(line) for line in result.stdout.splitlines()]


@pytest.mark.slow
def test_a_scan_answers_as_its_text_pdf_does(read: Read) -> None:
    """10 answerable questions of eval/qa.jsonl, asked of the booklet and of its scan."""
    from conftest import ROOT

    lines = (ROOT / "eval" / "qa.jsonl").read_text(encoding="utf-8").splitlines()
    rows = [json.loads(line) for line in lines]
    questions = [row["question"] for row in rows if row["category"] == "answerable"][:10]
    cache = read.folder / "cache"
    text = _asked(read.text_path, read.folder / "index-text", questions, cache)
    scan = _asked(read.scan_path, read.folder / "index-scan", questions, cache)
    same = [t for t, s in zip(text, scan, strict=True) if t["answer"] == s["answer"]]
    assert len(same) >= 9, [(t["answer"], s["answer"]) for t, s in zip(text, scan, strict=True)]
    for t, s in zip(text, scan, strict=True):
        if t["answer"] is not None and t["answer"] == s["answer"]:
            assert s["sources"][0]["page"] == t["sources"][0]["page"], t["question"]


def test_settings_built_in_code_reach_ocr(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """read_document hands its Settings to OCR: a limit set in code, not in CPPQA_*, holds."""
    monkeypatch.delenv("CPPQA_OCR_MAX_PAGES", raising=False)
    path = tmp_path / "long.pdf"
    path.write_bytes(scanned(booklet(furniture=False), dpi=50))
    with pytest.raises(CorpusError, match=r"has 4 scanned pages .* at most 2 are read with OCR"):
        read_document(path, tmp_path, Settings(cache_dir=tmp_path / "cache", ocr_max_pages=2))


def test_a_hung_tesseract_is_stopped_at_the_time_limit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import time

    import pytesseract

    import cppqa.documents.ocr
    from cppqa.documents.ocr import ocr_pages

    real = pytesseract.pytesseract.tesseract_cmd
    hung = tmp_path / "tesseract"
    hung.write_text(f'#!/bin/sh\n[ "$1" = --version ] && exec {real} --version\nexec sleep 60\n')
    hung.chmod(0o755)
    monkeypatch.setattr(pytesseract.pytesseract, "tesseract_cmd", str(hung))
    monkeypatch.setattr(cppqa.documents.ocr, "OCR_DPI", 50)
    scan = scanned(booklet(furniture=False), dpi=50)
    began = time.monotonic()
    with pytest.raises(CorpusError, match=r"OCR read 0 of its 4 scanned pages in \d+ s, the limit"):
        list(ocr_pages(scan, [0, 1, 2, 3], "hung.pdf", Settings(ocr_max_seconds=2)))
    assert time.monotonic() - began < 20


def test_pages_not_begun_are_not_read_after_an_error(monkeypatch: pytest.MonkeyPatch) -> None:
    """Once Tesseract fails on a page, the pages waiting for a worker are cancelled."""
    import concurrent.futures
    from concurrent.futures import Future

    import pytesseract

    import cppqa.documents.ocr
    from cppqa.documents.ocr import ocr_pages

    submitted: list[Future[Any]] = []

    class Pool:  # runs nothing: the first page fails, the others wait for a worker
        def __init__(self, workers: int) -> None:
            pass

        def __enter__(self) -> Pool:
            return self

        def __exit__(self, *exc: object) -> None:
            pass

        def submit(self, *args: object) -> Future[Any]:
            submitted.append(Future())
            if len(submitted) == 1:
                submitted[0].set_exception(pytesseract.TesseractError(1, "no data"))
            return submitted[-1]

    monkeypatch.setattr(concurrent.futures, "ThreadPoolExecutor", Pool)
    monkeypatch.setattr(cppqa.documents.ocr, "OCR_DPI", 50)
    scan = scanned(booklet(furniture=False), dpi=50)
    with pytest.raises(CorpusError, match="Tesseract could not read page 1"):
        list(ocr_pages(scan, [0, 1, 2, 3], "bad.pdf", Settings()))
    assert len(submitted) > 1
    assert all(future.cancelled() for future in submitted[1:])


def test_the_thread_limit_is_set_before_the_workers_start(monkeypatch: pytest.MonkeyPatch) -> None:
    """setenv is not thread-safe: the workers find OMP_THREAD_LIMIT set, and set nothing."""
    import os

    import cppqa.documents.ocr
    from cppqa.documents.ocr import ocr_pages

    found: list[str | None] = []

    def words(*args: object) -> dict[str, list[Any]]:
        found.append(os.environ.get("OMP_THREAD_LIMIT"))
        return {"text": []}

    monkeypatch.delenv("OMP_THREAD_LIMIT", raising=False)
    monkeypatch.setattr(cppqa.documents.ocr, "_words", words)
    monkeypatch.setattr(cppqa.documents.ocr, "OCR_DPI", 50)
    scan = scanned(booklet(furniture=False), dpi=50)
    assert list(ocr_pages(scan, [0, 1], "two.pdf", Settings())) == [("", ())] * 2
    assert found == ["1", "1"]


def test_bitmaps_are_closed_holding_pdfiums_lock(monkeypatch: pytest.MonkeyPatch) -> None:
    import pypdfium2

    import cppqa.documents.ocr
    from cppqa.documents.ocr import ocr_pages
    from cppqa.documents.pdfium import PDFIUM

    locked: list[bool] = []
    close = pypdfium2.PdfBitmap.close

    def closing(self: Any, *args: Any, **kwargs: Any) -> None:
        locked.append(PDFIUM.locked())
        close(self, *args, **kwargs)

    monkeypatch.setattr(pypdfium2.PdfBitmap, "close", closing)
    monkeypatch.setattr(cppqa.documents.ocr, "_words", lambda *args: {"text": []})
    monkeypatch.setattr(cppqa.documents.ocr, "OCR_DPI", 50)
    scan = scanned(booklet(furniture=False), dpi=50)
    locked.clear()  # scanned() closes bitmaps of its own
    assert len(list(ocr_pages(scan, [0, 1], "two.pdf", Settings()))) == 2
    assert locked == [True, True]


def test_threads_keeping_the_same_scan_do_not_collide(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """Two threads of one server keep what OCR read of one scan at once: each writes a
    file of its own, so neither fails and the file kept is whole."""
    import os
    import threading

    from cppqa.documents.ocr import keep_pages, kept_pages
    from cppqa.documents.pdfium import Rect

    pages = {0: ("two words", (Rect(1, 2, 3, 4),) * 9)}
    both_written = threading.Barrier(2, timeout=10)
    replace = os.replace

    def replacing(source: Any, target: Any) -> None:
        both_written.wait()  # each thread has written its file before either renames it
        replace(source, target)

    monkeypatch.setattr(os, "replace", replacing)

    def keep() -> None:
        keep_pages(tmp_path, "abc", pages)

    threads = [threading.Thread(target=keep) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert [r.getMessage() for r in caplog.records if r.levelname == "WARNING"] == []
    assert kept_pages(tmp_path, "abc") == pages
    assert [p.name for p in (tmp_path / "ocr").iterdir()] == ["abc.json"]
