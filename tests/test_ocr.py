"""ocr.py: a scanned PDF (made here: a text PDF rendered to images) read with Tesseract."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from booklets import SECTIONS, booklet, scanned
from cppqa.config import Settings
from cppqa.documents import read_document
from cppqa.errors import CorpusError
from cppqa.ocr import missing_tesseract
from cppqa.pagebox import highlight
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
    import cppqa.ocr
    import cppqa.pdf

    assert [p.name for p in (read.folder / "cache" / "ocr").iterdir()] == [
        f"{read.scan.sha256}.json"
    ]
    monkeypatch.setattr(cppqa.pdf, "_kept", type(cppqa.pdf._kept)())  # as a new process
    monkeypatch.setattr(cppqa.ocr, "ocr_pages", None)  # OCR would fail
    told: list[tuple[str, int, int]] = []
    again = read_document(
        read.scan_path, read.folder, read.settings, progress=lambda *s: told.append(s)
    )
    assert again == read.scan
    assert told == [("scan.pdf", 4, 4)]
    _rects_near(read.scan, read.text, read, max(SECTIONS[2][1], key=len))


def test_a_damaged_ocr_file_is_not_used(tmp_path: Path) -> None:
    from cppqa.ocr import kept_pages

    (tmp_path / "ocr").mkdir()
    for damaged in ["{", '{"format": 1, "dpi": 300, "pages": {"0": {}}}', "[]"]:
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
    from cppqa.ocr import ocr_pages

    scan = scanned(booklet(furniture=False), dpi=50)
    with pytest.raises(CorpusError, match=r"has 2 scanned pages .* at most 1 are read with OCR "):
        next(ocr_pages(scan, [0, 1], "two.pdf", Settings(ocr_max_pages=1)))
    assert len(list(ocr_pages(scan, [1], "one.pdf", Settings(ocr_max_pages=1)))) == 1


def test_a_scan_over_the_time_limit_is_stopped(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import cppqa.ocr

    monkeypatch.setenv("CPPQA_OCR_MAX_SECONDS", "0.000001")
    monkeypatch.setattr(cppqa.ocr, "OCR_DPI", 50)  # fast: the text does not matter here
    path = tmp_path / "slow.pdf"
    path.write_bytes(scanned(booklet(furniture=False), dpi=50))
    with pytest.raises(
        CorpusError,
        match=r"OCR read 1 of its 4 scanned pages in \d+ s, the limit being 1e-06 s "
        r"\(CPPQA_OCR_MAX_SECONDS\): ",
    ):
        read_document(path, tmp_path, Settings.from_env(cache_dir=tmp_path / "cache"))


def test_a_tesseract_without_the_language_is_a_corpus_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import cppqa.ocr

    monkeypatch.setattr(cppqa.ocr, "_LANGUAGE", "xyz")  # no such traineddata
    monkeypatch.setattr(cppqa.ocr, "OCR_DPI", 50)
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
