"""The document rows of ``cppqa bench`` (issue 25): PDF extraction, indexing, upload to answer.

- **extraction**: ``read_document`` on a generated PDF, in pages a second, against
  PDFium's bare text of each page (what ``read_pdf`` adds is joining the lines);
- **indexing**: the sentences a second of the upload's ``Index.build``, against the
  bare model's encode of the same texts;
- **upload to first answer**: a PDF handed to ``Uploads.add``, as the web chat's
  upload box and ``/ask_files`` hand it (moved into a session folder, read, indexed),
  then the first question asked of it;
- **a scan**, the same from upload to first answer with each page read with OCR
  (``cppqa.evaluation.bench_scan``).

The PDFs are made here with PDFium (pypdfium2, which cppqa reads PDFs with), so the
bench needs nothing beyond cppqa's own dependencies: A4 pages of the shipped
document, repeated, in paragraphs of five sentences.

>>> run = measure(qa, encode, pages=(30, 100))               # doctest: +SKIP
>>> run.uploads[0].seconds, run.uploads[0].cited               # doctest: +SKIP
(28.5, 'report-30-pages.pdf, p. 29')
"""

from __future__ import annotations

import logging
import statistics
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from cppqa.documents.formats import read_document
from cppqa.evaluation.bench_upload import (
    UploadRun,
    pdf_pages,
    upload,
)

if TYPE_CHECKING:
    from cppqa.evaluation.bench_scan import ScanRun
    from cppqa.qa import QA

log = logging.getLogger(__name__)

#: The page counts of the uploaded PDFs (issue 25).
UPLOAD_PAGES = (30, 100)
#: Issue 25: a 30-page PDF answered within 30 s of the upload on 2 cores (a shorter one too).
UPLOAD_TARGET_S, UPLOAD_TARGET_PAGES = 30.0, 30


@dataclass(frozen=True)
class Extraction:
    """``read_document`` on one PDF against PDFium's text of each page alone (medians)."""

    pages: int
    seconds: float
    floor_seconds: float


@dataclass(frozen=True)
class DocumentRun:
    """What ``measure`` found; ``encode_seconds`` is the bare encode of the texts that
    the first upload indexed (its floor); ``scan`` the scanned PDF's upload, if made."""

    extraction: Extraction
    uploads: tuple[UploadRun, ...]
    encode_seconds: float
    scan: ScanRun | None = None


def measure(
    qa: QA,
    encode: Callable[[list[str]], object],
    *,
    question: str,
    text: str,
    pages: Sequence[int] = UPLOAD_PAGES,
    repeats: int = 3,
    scan_pages: int | None = None,
) -> DocumentRun:
    """Make a PDF of ``text`` for each of ``pages``, upload each to ``qa``'s uploads and
    ask ``question``; time ``read_document`` on the largest ``repeats`` times; then,
    unless ``scan_pages`` is None, upload and ask a scan of that many pages
    (``cppqa.evaluation.bench_scan``).

    ``encode`` is the bare model's encode (the floor of indexing), timed once on the
    texts the first upload indexed, right after it.
    """
    from cppqa.evaluation.bench_scan import measure_scan
    from cppqa.uploads.sessions import Uploads

    made = {n: pdf_pages(text, n) for n in pages}
    with tempfile.TemporaryDirectory(prefix="cppqa-bench-") as tmp:
        folder = Path(tmp)
        extraction = _extraction(folder, made[max(pages)], qa, repeats)
        (folder / "held").mkdir()
        uploads = Uploads(qa, root=folder / "held")
        runs: list[UploadRun] = []
        encode_seconds = 0.0
        try:
            for n in pages:
                run, texts = upload(uploads, folder, made[n], n, question)
                runs.append(run)
                if not encode_seconds:
                    started = time.perf_counter()
                    encode(texts)
                    encode_seconds = time.perf_counter() - started
                log.info("%d-page PDF answered %.1f s after its upload", n, run.seconds)
        finally:
            uploads.close()
        scan = None
        if scan_pages is not None:
            scan = measure_scan(qa, folder, text=text, question=question, pages=scan_pages)
    return DocumentRun(extraction, tuple(runs), encode_seconds, scan)


def _extraction(folder: Path, data: bytes, qa: QA, repeats: int) -> Extraction:
    """``read_document`` and the bare PDFium text of every page, interleaved."""
    import pypdfium2 as pdfium

    path = folder / "extraction.pdf"
    path.write_bytes(data)

    def bare() -> int:
        pdf = pdfium.PdfDocument(data)
        try:
            for number in range(len(pdf)):
                page = pdf[number]
                textpage = page.get_textpage()
                textpage.get_text_bounded()
                textpage.close()
                page.close()
            return len(pdf)
        finally:
            pdf.close()

    read_s, floor_s = [], []
    pages = 0
    for _ in range(max(1, repeats)):
        started = time.perf_counter()
        read_document(path, folder, qa.settings)
        read_s.append(time.perf_counter() - started)
        started = time.perf_counter()
        pages = bare()
        floor_s.append(time.perf_counter() - started)
    path.unlink()
    return Extraction(pages, statistics.median(read_s), statistics.median(floor_s))
