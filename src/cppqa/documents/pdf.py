"""A PDF read into its text, page by page, with where each character of it stands.

pypdfium2 (PDFium) gives each page's text layer; a page without one but with an
image or drawing on it (a scan) is read with OCR (``cppqa.documents.ocr``) where
Tesseract is installed.
In a PDF with text on other pages, such pages past ``Settings.ocr_max_pages`` (figures,
mostly) are left out with a warning; a PDF with no text layer at all and more is refused.
``cppqa.documents.pdflines`` then drops running headers, footers and contents lines and joins
the lines into paragraphs, keeping for every character of the text the page and the
PDFium character (or OCR character box) it came from: ``cppqa.documents.pagebox`` uses that to
draw an answer on its page.

A PDF's reading is kept for the last few files read (by their SHA-256), so that
highlighting an answer just after reading its file costs nothing, and OCR is not
run twice.
"""

from __future__ import annotations

import hashlib
import logging
import threading
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from cppqa.config import Settings
from cppqa.documents.pdfium import Rect, opened
from cppqa.documents.pdflines import PdfText, extract
from cppqa.errors import CorpusError

log = logging.getLogger(__name__)

#: Pages are read until their raw text is over this many times ``max_document_chars``:
#: reflowing drops line ends and runs of spaces, so raw text may be longer than the text
#: kept (which is checked after), but not twice as long.
_RAW_TEXT_SHARE = 2
#: How many PDFs' readings are kept (``read_pdf_text``).
_KEPT = 4


@dataclass(frozen=True)
class PdfContent:
    """A PDF's text (``PdfText``), and the character boxes of the pages read with OCR:
    ``ocr[page][i]`` is the box of character ``i`` of that page's OCR text (None for a
    space or line end between words)."""

    text: PdfText
    ocr: Mapping[int, tuple[Rect | None, ...]] = field(default_factory=dict)


_kept: OrderedDict[tuple[str, int, int], PdfContent] = OrderedDict()
_kept_lock = threading.Lock()


def read_pdf_text(
    data: bytes,
    name: str,
    settings: Settings,
    progress: Callable[[int, int], None] | None = None,
) -> PdfContent:
    """The text of the PDF ``data`` (named ``name`` in messages); ``progress`` is told
    the pages read and the pages in all after each page.

    Raises ``CorpusError`` for a file that is truncated, damaged or
    encrypted, has more than ``settings.max_pages`` pages or more text than
    ``settings.max_document_chars``, or has no text that can be read.
    """
    key = (hashlib.sha256(data).hexdigest(), settings.max_pages, settings.max_document_chars)
    with _kept_lock:
        if key in _kept:
            _kept.move_to_end(key)
            content = _kept[key]
            if progress is not None:
                pages = len(content.text.page_starts)
                progress(pages, pages)
            return content
    content = _read(data, key[0], name, settings, progress)
    with _kept_lock:
        _kept[key] = content
        while len(_kept) > _KEPT:
            _kept.popitem(last=False)
    return content


def _read(
    data: bytes,
    sha256: str,
    name: str,
    settings: Settings,
    progress: Callable[[int, int], None] | None,
) -> PdfContent:
    if b"%%EOF" not in data.rstrip(b"\x00\t\n\f\r ")[-1024:]:
        raise CorpusError(
            f"{name!r} is truncated (the PDF has no end-of-file marker): "
            "download or export it again"
        )
    with opened(data, name) as pdf:
        if len(pdf) > settings.max_pages:
            raise CorpusError(
                f"{name!r} has {len(pdf)} pages; the limit is {settings.max_pages} "
                "(CPPQA_MAX_PAGES): split it into smaller files"
            )
        pages: list[str] = []
        scans: list[int] = []  # pages without text but with something drawn: OCR reads them
        read = 0
        for number in range(len(pdf)):
            text, scanned = _page_text(pdf, number, name)
            pages.append(text)
            read += len(text)
            if read > _RAW_TEXT_SHARE * settings.max_document_chars:
                raise too_long(name, settings.max_document_chars)
            if scanned:
                scans.append(number)
            elif progress is not None:
                progress(number + 1 - len(scans), len(pdf))
    if len(scans) > settings.ocr_max_pages and any(page.strip() for page in pages):
        # A text PDF's pages without text are mostly figures: past the limit they are left
        # out, not the file refused (a PDF without any text layer, a scan, still is).
        log.warning(
            "%s: %d page(s) without text after the first %d left out unread, OCR reading "
            "at most %d (CPPQA_OCR_MAX_PAGES): pages %s",
            name,
            len(scans) - settings.ocr_max_pages,
            settings.ocr_max_pages,
            settings.ocr_max_pages,
            ", ".join(str(n + 1) for n in scans[settings.ocr_max_pages :]),
        )
        scans = scans[: settings.ocr_max_pages]
    ocr: dict[int, tuple[Rect | None, ...]] = {}
    if scans:  # with PDFium free: OCR takes it only to draw each page
        ocr = _ocr_pages(data, sha256, scans, pages, name, settings, progress)
    if not any(page.strip() for page in pages):
        raise _no_text(name, len(pages), bool(scans))
    return PdfContent(extract(pages), ocr)


def _no_text(name: str, pages: int, scanned: bool) -> CorpusError:
    from cppqa.documents.ocr import missing_tesseract

    missing = missing_tesseract()
    if scanned and not missing:
        return CorpusError(
            f"{name!r} has no text layer and OCR found no text on its {pages} page(s): "
            "use a clearer scan, or the original document"
        )
    return CorpusError(
        f"{name!r} has no text layer ({pages} page(s) of images: a scan?); "
        f"{missing or 'OCR is not supported'}: run it through an OCR tool (such as "
        "ocrmypdf) first, or use the original document"
    )


def _ocr_pages(
    data: bytes,
    sha256: str,
    scans: list[int],
    pages: list[str],
    name: str,
    settings: Settings,
    progress: Callable[[int, int], None] | None,
) -> dict[int, tuple[Rect | None, ...]]:
    """Read the pages ``scans`` with OCR into ``pages`` (or take what OCR read of them
    before, kept by the PDF's ``sha256``); their character boxes. Without Tesseract,
    nothing (a PDF with no text at all is then refused by the caller)."""
    from cppqa.documents.ocr import keep_pages, kept_pages, missing_tesseract, ocr_pages

    missing = missing_tesseract()
    if missing:
        log.warning("%s: %d page(s) without text left out: %s", name, len(scans), missing)
        return {}
    kept = {n: page for n, page in kept_pages(settings.cache_dir, sha256).items() if n in scans}
    todo = [number for number in scans if number not in kept]
    done = len(pages) - len(todo)
    if progress is not None and kept:
        progress(done, len(pages))
    for number, page in zip(
        todo, ocr_pages(data, todo, name, settings) if todo else (), strict=True
    ):
        kept[number] = page
        done += 1
        if progress is not None:
            progress(done, len(pages))
    if todo:
        keep_pages(settings.cache_dir, sha256, kept)
    for number, (text, _) in kept.items():
        pages[number] = text
    return {number: boxes for number, (_, boxes) in kept.items()}


def _page_text(pdf: Any, number: int, name: str) -> tuple[str, bool]:
    """Page ``number``'s text, character ``i`` of it PDFium's character ``i``; and whether
    it is a scan: no text, but something drawn (an image, or letters drawn as shapes)."""
    import pypdfium2 as pdfium
    import pypdfium2.raw as pdfium_c

    try:
        page = pdf[number]
        try:
            textpage = page.get_textpage()
            try:
                count = textpage.count_chars()
                text = str(textpage.get_text_range()) if count else ""
                if len(text) != count:  # a character outside the BMP: ask one at a time
                    raw = textpage.raw
                    text = "".join(
                        chr(pdfium_c.FPDFText_GetUnicode(raw, i) or 0xFFFD) for i in range(count)
                    )
            finally:
                textpage.close()
            scanned = not text.strip() and pdfium_c.FPDFPage_CountObjects(page.raw) > 0
            return text, scanned
        finally:
            page.close()
    except pdfium.PdfiumError as exc:
        raise CorpusError(
            f"{name!r} has a damaged page {number + 1} ({exc}): download or export it again"
        ) from None


def too_long(name: str, limit: int) -> CorpusError:
    """Said of a document found to hold more than ``limit`` characters before it was all
    read (reading stopped there)."""
    return CorpusError(
        f"{name!r} holds more than {limit:,} characters of text, the limit "
        "(CPPQA_MAX_DOCUMENT_CHARS): split it into smaller files"
    )
