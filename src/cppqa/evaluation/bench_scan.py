"""The scan rows of ``cppqa bench`` (issue 33): a scanned PDF from its upload to its
first answer, and the pages OCR read a second on the way.

The scan is made here as a scanner would make it: the dense A4 pages of
``cppqa.evaluation.bench_upload.pdf_pages`` drawn by PDFium at ``SCAN_DPI`` in grey, and a PDF
of those images alone written by Pillow (one JPEG a page, no text layer). It is then
handed to ``Uploads.add`` as the web chat's upload box hands it: read (each page with
OCR: ``cppqa.documents.ocr``), indexed and asked. OCR's pages a second are the scan's pages over
that upload's reading time (the move into the session folder, PDFium finding no text,
then drawing each page and Tesseract reading it).

Each run writes a scan no cache has seen (its title holds a fresh id) and keeps what
OCR read in a temporary cache folder, so OCR runs every time. Where Tesseract or
pytesseract is missing, the rows say so (``ScanRun.missing``) instead of failing.

>>> run = measure_scan(qa, folder, text=text, question="When was it founded?")  # doctest: +SKIP
>>> [row.name for row in scan_rows(run)]                                        # doctest: +SKIP
['OCR, 10-page scan (pages/s)', 'upload → first answer, 10-page scan (s)']
"""

from __future__ import annotations

import io
import logging
import math
import uuid
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

from cppqa.evaluation.bench_upload import UploadRun, pdf_pages, upload

if TYPE_CHECKING:
    from cppqa.qa import QA

log = logging.getLogger(__name__)

#: Issue 33: a 10-page scan answered within 60 s of its upload on 2 cores.
SCAN_PAGES, SCAN_TARGET_S = 10, 60.0
#: A scanner's usual resolution for text (and the one OCR draws pages at, ``OCR_DPI``).
SCAN_DPI = 300


@dataclass(frozen=True)
class ScanRun:
    """A scan of ``pages`` pages uploaded and asked: ``upload`` is None where OCR cannot
    run here, and ``missing`` says why."""

    pages: int
    upload: UploadRun | None
    missing: str | None = None


class ScanRow(NamedTuple):
    """One row of the bench's table (``cppqa.evaluation.bench_report.Row`` without a floor)."""

    name: str
    value: float
    target: str
    ok: bool | None


def scan_pdf(text: str, pages: int, dpi: int = SCAN_DPI) -> bytes:
    """``pdf_pages(text, pages)`` as a scan: each page drawn at ``dpi`` in grey, and a
    PDF of those images only (the size of the original's pages), titled with a fresh id.

    >>> import pypdfium2
    >>> len(pypdfium2.PdfDocument(scan_pdf("One. Two.", 2, dpi=20)))
    2
    """
    import pypdfium2 as pdfium

    source = pdfium.PdfDocument(pdf_pages(text, pages))
    try:
        images = []
        for page in source:
            images.append(page.render(scale=dpi / 72, grayscale=True).to_pil())
            page.close()
    finally:
        source.close()
    out = io.BytesIO()
    images[0].save(
        out,
        format="PDF",
        save_all=True,
        append_images=images[1:],
        resolution=float(dpi),
        title=f"cppqa bench scan {uuid.uuid4()}",  # no cache knows these bytes
    )
    return out.getvalue()


def measure_scan(
    qa: QA, folder: Path, *, text: str, question: str, pages: int = SCAN_PAGES
) -> ScanRun:
    """Upload a scan of ``pages`` pages of ``text`` to ``qa``'s uploads (their folders,
    and what OCR read, under ``folder``) and ask it ``question``."""
    from cppqa.documents.ocr import missing_tesseract
    from cppqa.uploads.sessions import Uploads

    missing = missing_tesseract()
    if missing is not None:
        log.warning("the scan rows are not measured: %s", missing)
        return ScanRun(pages, None, missing)
    data = scan_pdf(text, pages)
    (folder / "scan-held").mkdir()
    uploads = Uploads(
        qa, replace(qa.settings, cache_dir=folder / "scan-cache"), root=folder / "scan-held"
    )
    try:
        run, _ = upload(uploads, folder, data, pages, question, kind="scan")
    finally:
        uploads.close()
    log.info("%d-page scan answered %.1f s after its upload", pages, run.seconds)
    return ScanRun(pages, run)


def scan_rows(run: ScanRun) -> tuple[ScanRow, ScanRow]:
    """OCR's pages a second, and the upload to the first answer against the target; where
    OCR could not run, both NaN with why in their target column."""
    ocr = f"OCR, {run.pages}-page scan (pages/s)"
    answered = f"upload → first answer, {run.pages}-page scan (s)"
    target = f"≤ {SCAN_TARGET_S:g} s on 2 cores"
    if run.upload is None:
        why = f"not measured: {run.missing}"
        return ScanRow(ocr, math.nan, why, None), ScanRow(answered, math.nan, why, None)
    return (
        ScanRow(ocr, run.pages / run.upload.read_seconds, "", None),
        ScanRow(answered, run.upload.seconds, target, run.upload.seconds <= SCAN_TARGET_S),
    )


def scan_notes(run: ScanRun) -> tuple[str, ...]:
    """What the scan rows measured."""
    if run.upload is None:
        return (f"scan: not measured: {run.missing}",)
    u = run.upload
    return (
        f"scan: {run.pages} pages like the PDFs above drawn at {SCAN_DPI} dpi in grey, written "
        f"as an image-only PDF (a JPEG a page, Pillow) and uploaded as they are: read with "
        f"OCR {u.read_seconds:.1f} s ({run.pages / u.read_seconds:.2f} pages/s), "
        f"index {u.index_seconds:.1f} s ({u.sentences} sentences, {u.passages} passages), "
        f"answer {u.answer_seconds:.2f} s ({u.cited or 'no answer'})",
    )
