"""Scanned PDF pages read with OCR: Tesseract (Debian's ``tesseract-ocr`` and
``tesseract-ocr-eng``) through pytesseract.

A page is rendered by PDFium at ``OCR_DPI`` and Tesseract reads the image; its words
become the page's text, a line per line it found and a blank line between its
paragraphs, and each character gets a box on the page in PDF points (its word's box,
cut into equal parts), which ``cppqa.pagebox`` draws. Why pytesseract, and how fast
and how right it is here: docs/documents.md.

Limits: at most ``OCR_MAX_PAGES`` pages of one PDF are read with OCR, and reading
stops with ``CorpusError`` after ``OCR_MAX_SECONDS``.
"""

from __future__ import annotations

import ctypes
import logging
import shutil
import time
from collections.abc import Iterator
from typing import Any

from cppqa.errors import CorpusError
from cppqa.pdf import Rect

log = logging.getLogger(__name__)

#: Tesseract reads best at 300 dots per inch (its documentation, "Improving the quality
#: of the output"); lower loses the small print.
OCR_DPI = 300
#: Most pages of one PDF read with OCR: about a page a second on 2 cores (docs/documents.md).
OCR_MAX_PAGES = 100
#: Most seconds OCR may take on one PDF.
OCR_MAX_SECONDS = 300.0
#: What installs Tesseract, for messages.
INSTALL = "apt-get install tesseract-ocr tesseract-ocr-eng"
#: Tesseract's language: English.
_LANGUAGE = "eng"


def missing_tesseract() -> str | None:
    """Why OCR cannot run here, with how to install what is missing; None where it can."""
    try:
        import pytesseract
    except ImportError:
        return "OCR is not supported here: pytesseract is not installed (pip install pytesseract)"
    if shutil.which(pytesseract.pytesseract.tesseract_cmd) is None:
        return f"OCR is not supported here: Tesseract is not installed ({INSTALL})"
    return None


def ocr_pages(
    pdf: Any, numbers: list[int], name: str
) -> Iterator[tuple[str, tuple[Rect | None, ...]]]:
    """The text of each of the pages ``numbers`` (from 0) of the open PDFium document
    ``pdf``, read with OCR, and the box of each character of it (None for the spaces
    and line ends between words).

    Raises ``CorpusError`` before the first page when there are more than
    ``OCR_MAX_PAGES``, and when ``OCR_MAX_SECONDS`` have passed with pages left.
    """
    if len(numbers) > OCR_MAX_PAGES:
        raise CorpusError(
            f"{name!r} has {len(numbers)} scanned pages (without a text layer); at most "
            f"{OCR_MAX_PAGES} are read with OCR: split it into smaller files, or run it "
            "through an OCR tool (such as ocrmypdf) first"
        )
    began = time.monotonic()
    for done, number in enumerate(numbers):
        spent = time.monotonic() - began
        if done and spent > OCR_MAX_SECONDS:
            raise CorpusError(
                f"{name!r}: OCR read {done} of its {len(numbers)} scanned pages in "
                f"{spent:.0f} s, the limit being {OCR_MAX_SECONDS:.0f} s: split it into "
                "smaller files, or run it through an OCR tool (such as ocrmypdf) first"
            )
        page = pdf[number]
        try:
            read = read_page(page)
        finally:
            page.close()
        yield read
        log.debug("%s: page %d read with OCR", name, number + 1)


def read_page(page: Any) -> tuple[str, tuple[Rect | None, ...]]:
    """One PDFium page read with OCR: its text and the box of each character."""
    import pytesseract

    scale = OCR_DPI / 72
    image = page.render(scale=scale, grayscale=True).to_pil()
    data = pytesseract.image_to_data(image, lang=_LANGUAGE, output_type=pytesseract.Output.DICT)
    text: list[str] = []
    boxes: list[Rect | None] = []
    last_line = last_paragraph = None
    for n, word in enumerate(data["text"]):
        word = word.strip()
        if not word:
            continue
        paragraph = (data["block_num"][n], data["par_num"][n])
        line = (*paragraph, data["line_num"][n])
        if last_line is not None:
            gap = " " if line == last_line else "\n\n" if paragraph != last_paragraph else "\n"
            text.append(gap)
            boxes.extend([None] * len(gap))
        last_line, last_paragraph = line, paragraph
        left, top = data["left"][n], data["top"][n]
        width, height = data["width"][n], data["height"][n]
        corner = _to_page(page, image.size, left, top)
        far = _to_page(page, image.size, left + width, top + height)
        step = (far[0] - corner[0]) / len(word)
        bottom, upper = min(corner[1], far[1]), max(corner[1], far[1])
        text.append(word)
        boxes.extend(
            Rect(corner[0] + i * step, bottom, corner[0] + (i + 1) * step, upper)
            for i in range(len(word))
        )
    return "".join(text), tuple(boxes)


def _to_page(page: Any, size: tuple[int, int], x: int, y: int) -> tuple[float, float]:
    """A point of the page's rendered image, in page coordinates (PDF points)."""
    import pypdfium2.raw as pdfium_c

    page_x, page_y = ctypes.c_double(), ctypes.c_double()
    pdfium_c.FPDF_DeviceToPage(
        page.raw, 0, 0, size[0], size[1], 0, x, y, ctypes.byref(page_x), ctypes.byref(page_y)
    )
    return page_x.value, page_y.value
