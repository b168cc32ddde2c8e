"""bench.py: the system report's code paths on tiny sizes, and the documents it uploads.

No absolute times are asserted: timings are only checked to be measured
(positive, ordered p50 ≤ p95).
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from conftest import DOCUMENT, ROOT
from cppqa.config import Settings
from cppqa.documents.corpus import split_sentences
from cppqa.evaluation import bench, bench_documents, bench_report, bench_scan, bench_upload


@pytest.mark.slow
def test_system_run_measures_every_row() -> None:
    from cppqa.config import Settings
    from cppqa.documents.ocr import missing_tesseract

    missing = missing_tesseract()
    scans = {"OCR, 10-page scan (pages/s)", "upload → first answer, 10-page scan (s)"}

    report = bench.run_system(
        Settings(corpus_dir=ROOT / "corpus", index_dir=ROOT / "index"),
        data=ROOT / "eval",
        questions=12,
        repeats=1,
        pages=(2, 3),
    )
    rows = {r.name: r for r in report.rows}
    assert set(rows) == {
        "warm answer p50 (ms)",
        "warm answer p95 (ms)",
        "warm answer max (ms)",
        "cold `ask` process (s)",
        "`--help` process (s)",
        "index build (passages/s)",
        "answer p50, 26 KB corpus (ms)",
        "peak RSS, one answer (MB)",
        "PDF extraction, 3 pages (pages/s)",
        "indexing, 2-page PDF (sentences/s)",
        "upload → first answer, 2-page PDF (s)",
        "upload → first answer, 3-page PDF (s)",
        *scans,
    }
    # Without Tesseract the scan rows say so (NaN, why in their target) instead of failing.
    assert all(r.value > 0 for r in report.rows if r.name not in scans or not missing)
    assert rows["upload → first answer, 10-page scan (s)"].target.startswith(
        "not measured: OCR is not supported here" if missing else "≤ 60 s on 2 cores"
    )
    assert all(r.ratio and r.ratio > 0 for r in report.rows if r.floor is not None)
    # The answering process holds the model: well over 100 MB; --help holds nothing.
    assert rows["peak RSS, one answer (MB)"].value > 100
    assert rows["`--help` process (s)"].value < rows["cold `ask` process (s)"].value
    assert report.machine["cores"] >= 1
    # Reading a PDF is a small part of uploading one (embedding is the rest); the answer
    # is found in it. (2 pages against 3 is no order: at these sizes noise decides it.)
    reading = 3 / rows["PDF extraction, 3 pages (pages/s)"].value
    assert reading < 0.5 * rows["upload → first answer, 3-page PDF (s)"].value
    assert any("report-2-pages.pdf, p. " in note for note in report.notes)
    text = bench_report.format_system(report)
    assert "| warm answer p50 (ms) |" in text
    assert "| upload → first answer, 2-page PDF (s) |" in text
    assert (
        json.loads(json.dumps(report.to_json()))["rows"][0]["ratio"]
        == rows["warm answer p50 (ms)"].ratio
    )


def test_generated_pdf_reads_back_page_by_page() -> None:
    from cppqa.documents.formats import read_pdf

    text = DOCUMENT.read_text(encoding="utf-8")
    content = read_pdf(bench_upload.pdf_pages(text, 4), "r.pdf", Settings())
    assert len(content.page_starts) == 4
    assert list(content.page_starts) == sorted(set(content.page_starts))  # each page has text
    # A dense report page, and every sentence of the document whole (rejoined across lines).
    assert 3000 < len(content.text) / 4 < 4500
    written = text.replace("۔", "?")  # Helvetica has no '۔'
    assert all(s.text in content.text for s in split_sentences(written))
    # Paragraphs of five sentences (a full last line joins two, as in any PDF: see reflow).
    paragraphs = [len(split_sentences(p)) for p in content.text.split("\n\n")]
    assert len(paragraphs) > 4 * 3
    assert set(paragraphs[:-1]) <= {5, 10}


def test_uploads_are_timed_stage_by_stage(settings: Settings, fake_embedder) -> None:  # type: ignore[no-untyped-def]
    import time

    from cppqa.qa import QA

    batches: list[float] = []  # seconds of each encode of 3 texts or more: indexing's
    encode = fake_embedder.encode

    def slow(texts: list[str], progress: bool = False) -> np.ndarray:
        started = time.perf_counter()
        time.sleep(0.05)
        vectors = encode(texts)
        if len(texts) > 2:  # a question is asked with one text or two (retrieve.py)
            batches.append(time.perf_counter() - started)
        return vectors

    fake_embedder.encode = slow
    qa = QA.load(settings, embedder=fake_embedder)
    batches.clear()  # the shipped index's, rebuilt for this embedder
    encoded: list[list[str]] = []
    run = bench_documents.measure(
        qa,
        encoded.append,
        question=bench.QUESTION,
        text=DOCUMENT.read_text(encoding="utf-8"),
        pages=(2, 4),
        repeats=2,
    )
    assert run.extraction.pages == 4
    assert run.extraction.floor_seconds > 0 and run.extraction.seconds > 0
    first, second = run.uploads
    assert (first.pages, second.pages) == (2, 4)
    # The floor encoded exactly what the first upload indexed.
    assert [len(texts) for texts in encoded] == [first.sentences + first.passages]
    assert 1.7 < second.characters / first.characters < 2.3
    assert 1.7 < second.sentences / first.sentences < 2.3
    for upload in run.uploads:
        parts = (upload.read_seconds, upload.index_seconds, upload.answer_seconds)
        assert all(part > 0 for part in parts)
        assert sum(parts) <= upload.seconds
        assert upload.cited.startswith(f"report-{upload.pages}-pages.pdf, p. ")
    # Embedding, batch by batch, is indexing's (not split at the last progress step).
    assert sum(u.index_seconds for u in run.uploads) >= sum(batches) > 0
    assert run.scan is None
    assert len(qa.index.documents) == 1  # the shipped QA is untouched by the uploads


def test_document_rows_carry_the_upload_target() -> None:
    upload = bench_upload.UploadRun(30, 110_000, 1000, 500, 0.2, 20.0, 0.3, 21.0, "r.pdf, p. 1")
    run = bench_documents.DocumentRun(
        bench_documents.Extraction(100, 0.5, 0.25),
        (upload, replace(upload, pages=100, seconds=70.0)),
        encode_seconds=16.0,
    )
    extraction, indexing, small, large = bench._document_rows(run)
    assert (extraction.value, extraction.ratio) == (200.0, 0.5)
    assert (indexing.value, indexing.floor, indexing.ratio) == (50.0, 62.5, 0.8)
    assert (small.name, small.target, small.ok) == (
        "upload → first answer, 30-page PDF (s)",
        "≤ 30 s on 2 cores",
        True,
    )
    late = replace(run, uploads=(replace(upload, seconds=31.0),))
    assert bench._document_rows(late)[2].ok is False
    assert (large.target, large.ok, large.floor) == ("", None, None)


def test_reading_ends_at_the_last_step_before_embedding() -> None:
    from cppqa.search.progress import Stage, Step

    told = [
        *((Step(Stage.READING, n, 1, "files"), 0.1 * n) for n in range(2)),
        *((Step(Stage.READING, n, 3, "pages", "a.pdf"), 1.0 + n) for n in range(1, 4)),
        (Step(Stage.READING, 1, 1, "files"), 4.0),
        *((Step(Stage.EMBEDDING, n, 200, "texts"), 6.0 + n / 64) for n in (0, 64, 128, 192)),
    ]
    assert bench_upload.stage_seconds(told, 12.0) == (4.0, 8.0)


def test_scan_rows_carry_the_target_or_why_not_measured() -> None:
    upload = bench_upload.UploadRun(10, 35_000, 300, 150, 40.0, 12.0, 0.5, 53.0, "s.pdf, p. 2")
    ocr, answered = bench_scan.scan_rows(bench_scan.ScanRun(10, upload))
    assert (ocr.name, ocr.value, ocr.ok) == ("OCR, 10-page scan (pages/s)", 0.25, None)
    assert (answered.name, answered.value, answered.target, answered.ok) == (
        "upload → first answer, 10-page scan (s)",
        53.0,
        "≤ 60 s on 2 cores",
        True,
    )
    late = bench_scan.ScanRun(10, replace(upload, seconds=61.0))
    assert bench_scan.scan_rows(late)[1].ok is False
    missing = bench_scan.ScanRun(10, None, "OCR is not supported here: Tesseract is not installed")
    for row in bench_scan.scan_rows(missing):
        assert np.isnan(row.value) and row.ok is None
        assert row.target == "not measured: OCR is not supported here: Tesseract is not installed"


def test_a_scan_is_not_measured_without_tesseract(
    settings: Settings,
    fake_embedder,  # type: ignore[no-untyped-def]
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import cppqa.documents.ocr
    from cppqa.qa import QA

    monkeypatch.setattr(
        cppqa.documents.ocr, "missing_tesseract", lambda: "OCR is not supported here"
    )
    run = bench_scan.measure_scan(
        QA.load(settings, embedder=fake_embedder), tmp_path, text="One. Two.", question="?"
    )
    assert run == bench_scan.ScanRun(10, None, "OCR is not supported here")
    assert bench_scan.scan_notes(run) == ("scan: not measured: OCR is not supported here",)


def test_a_scan_upload_is_read_with_ocr_and_answered(
    settings: Settings,
    fake_embedder,  # type: ignore[no-untyped-def]
    tmp_path: Path,
) -> None:
    import pypdfium2 as pdfium

    from cppqa.documents.ocr import missing_tesseract
    from cppqa.qa import QA

    text = DOCUMENT.read_text(encoding="utf-8")
    scan = bench_scan.scan_pdf(text, 2, dpi=30)
    assert scan != bench_scan.scan_pdf(text, 2, dpi=30)  # no cache knows a new one
    pdf = pdfium.PdfDocument(scan)
    assert [pdf[n].get_textpage().get_text_range() for n in range(len(pdf))] == ["", ""]
    pdf.close()
    if missing_tesseract():
        pytest.skip(missing_tesseract())
    qa = QA.load(settings, embedder=fake_embedder)
    run = bench_scan.measure_scan(qa, tmp_path, text=text, question=bench.QUESTION, pages=1)
    assert run.upload is not None and run.pages == 1
    assert run.upload.sentences > 20  # the page's text, read with OCR
    assert run.upload.cited == "scan-1-pages.pdf, p. 1"
    assert 0 < run.upload.read_seconds + run.upload.index_seconds <= run.upload.seconds
    assert list((tmp_path / "scan-cache" / "ocr").glob("*.json"))  # not the user's cache
