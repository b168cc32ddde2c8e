"""Opening a PDF with PDFium (one document at a time: PDFium is not thread-safe) and the
rectangle type of its page coordinates; read by the text reader, OCR and the highlighter."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from cppqa.errors import CorpusError

#: PDFium is not thread-safe (pypdfium2's documentation): one document at a time.
PDFIUM = threading.Lock()


@dataclass(frozen=True)
class Rect:
    """A rectangle on a PDF page in points (1/72 inch), in the page's own coordinates
    as PDFium reports them: ``bottom < top``, y growing upwards."""

    left: float
    bottom: float
    right: float
    top: float


@contextmanager
def opened(data: bytes, name: str) -> Iterator[Any]:
    """The PDF ``data`` opened with PDFium, holding ``PDFIUM`` while it is open."""
    import pypdfium2 as pdfium
    import pypdfium2.raw as pdfium_c

    with PDFIUM:
        try:
            pdf = pdfium.PdfDocument(data)
        except pdfium.PdfiumError as exc:
            if getattr(exc, "err_code", None) in (
                pdfium_c.FPDF_ERR_PASSWORD,
                pdfium_c.FPDF_ERR_SECURITY,
            ):
                raise CorpusError(
                    f"{name!r} is an encrypted PDF that needs a password: save an unprotected "
                    "copy (for example, print it to PDF) and use that"
                ) from None
            raise CorpusError(
                f"{name!r} is a damaged PDF that cannot be read ({exc}): "
                "download or export it again"
            ) from None
        try:
            yield pdf
        finally:
            pdf.close()
