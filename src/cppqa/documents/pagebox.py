"""An answer's characters found on its PDF page, and that page drawn with them marked.

Answers are verbatim spans of a document's extracted text, with offsets. For a PDF,
``cppqa.documents.pdf`` keeps where each character of that text came from (the PDFium character,
or the OCR character box, on its page), through everything the extraction drops or
rejoins: headers, footers and contents lines left out, lines joined, hyphens at line
ends taken out. So the offsets of an answer lead to the glyphs on the page exactly.

Use, for an answer from a PDF (``answer.start``, ``answer.end``; the file is the corpus
file ``folder / source.passage.doc`` or an uploaded one)::

    from cppqa.documents.pagebox import highlight, render_highlight

    for marked in highlight(path, answer.start, answer.end, quote=answer.text):
        marked.page, marked.boxes        # page number from 1; boxes on the page as shown
        marked.to_json()                 # {"page": 3, "boxes": [[l, t, r, b], ...], ...}
        png = render_highlight(path, marked)  # the page as PNG, the answer marked

An answer is almost always on one page; one that runs on to the next page gives one
``PageHighlight`` per page. Nothing is written anywhere; the PNG is made when asked for
(keep it per session if it is asked for again).

Two coordinate systems: ``rects`` are PDF user space, as PDFium gives character boxes
(points, y up); ``boxes`` are the page as it is shown and drawn (its crop box, turned
by its ``/Rotate``), in shares of its width and height from its top-left corner. They
differ on a rotated page or one whose crop box does not start at (0, 0): draw with
``boxes``. Several answers in one PDF: ``read_places`` reads it once.

A scan's highlight needs what OCR read of it, kept when it was indexed
(``cppqa.documents.ocr.kept_pages``): OCR never runs here (it can take minutes), so a scan whose
reading is not kept has no highlight (``CorpusError``).
"""

from __future__ import annotations

import ctypes
import hashlib
import io
import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cppqa.config import Settings
from cppqa.documents.pdf import PdfContent, read_pdf_text
from cppqa.documents.pdfium import Rect, opened
from cppqa.errors import CorpusError

#: The highlight's colour: a yellow marker, a third opaque, so the text shows through.
HIGHLIGHT_RGBA = (255, 214, 0, 96)
#: Two boxes are on one line where they share at least this share of the lower's height.
_SAME_LINE = 0.5
#: The side, in device units, of the square a page is mapped onto to find shares of it
#: (``FPDF_PageToDevice`` gives whole units: a millionth of the page is exact enough).
_DEVICE = 1_000_000
#: How many files' scanned pages are remembered (``_scans``), by path, time and size.
_KEPT_SCANS = 64

__all__ = [
    "HIGHLIGHT_RGBA",
    "Box",
    "PageHighlight",
    "Places",
    "Rect",
    "highlight",
    "read_places",
    "render_highlight",
]


@dataclass(frozen=True)
class Box:
    """A rectangle on a page as it is shown (its crop box, turned by its ``/Rotate``), in
    shares of the shown page's width and height from its top-left corner:
    ``0 <= left < right <= 1``, ``0 <= top < bottom <= 1``, y growing downwards."""

    left: float
    top: float
    right: float
    bottom: float


@dataclass(frozen=True)
class PageHighlight:
    """Where an answer stands on page ``page`` (from 1): a rectangle per line it covers,
    in PDF user space (``rects``, points, y up, as PDFium reports character boxes) and
    on the page as shown (``boxes``, shares of it from its top-left corner: what to
    draw over an image of the page); the page as shown is ``width`` by ``height``
    points."""

    page: int
    rects: tuple[Rect, ...]
    boxes: tuple[Box, ...]
    width: float
    height: float

    def to_json(self) -> dict[str, Any]:
        """``{"page": 3, "boxes": [[left, top, right, bottom], ...], "rects": [[left,
        bottom, right, top], ...], "width": w, "height": h}``: ``boxes`` in shares of the
        page as shown, from its top-left corner; ``rects`` in PDF user space."""
        return {
            "page": self.page,
            "boxes": [
                [round(v, 5) for v in (b.left, b.top, b.right, b.bottom)] for b in self.boxes
            ],
            "rects": [
                [round(v, 2) for v in (r.left, r.bottom, r.right, r.top)] for r in self.rects
            ],
            "width": round(self.width, 2),
            "height": round(self.height, 2),
        }


def highlight(
    path: Path,
    start: int,
    end: int,
    *,
    settings: Settings | None = None,
    quote: str | None = None,
) -> tuple[PageHighlight, ...]:
    """Where characters ``[start, end)`` of the text ``read_document`` gives for the PDF
    at ``path`` stand on its pages: one ``PageHighlight`` per page they are on, in order
    (``read_places(path).highlight(...)``: see there)."""
    return read_places(path, settings).highlight(start, end, quote=quote)


@dataclass(frozen=True)
class Places:
    """A PDF read once (``read_places``), to find where spans of its text stand."""

    path: Path
    data: bytes
    content: PdfContent

    def highlight(
        self, start: int, end: int, *, quote: str | None = None
    ) -> tuple[PageHighlight, ...]:
        """Where characters ``[start, end)`` of the PDF's text stand on its pages: one
        ``PageHighlight`` per page they are on, in order.

        ``quote``, where given, must be that text's ``[start:end]``: a file changed since
        it was read raises ``CorpusError`` instead of marking the wrong words.
        """
        path, content = self.path, self.content
        text = content.text.text
        if not 0 <= start < end <= len(text):
            raise CorpusError(
                f"characters [{start}, {end}) are not in {str(path)!r}, whose text is "
                f"{len(text):,} characters long"
            )
        if quote is not None and text[start:end] != quote:
            raise CorpusError(
                f"{str(path)!r} does not hold {quote!r} at [{start}, {end}) (it holds "
                f"{text[start:end]!r}): the file changed since it was read; index it again"
            )
        wanted: dict[int, list[int]] = {}
        for at in range(start, end):
            page = content.text.pages[at]
            if page >= 0:
                wanted.setdefault(page, []).append(content.text.chars[at])
        with opened(self.data, str(path)) as pdf:
            return tuple(
                _page_highlight(pdf, content, number, chars) for number, chars in wanted.items()
            )


def read_places(path: Path, settings: Settings | None = None) -> Places:
    """The PDF at ``path`` read into its text and where each character stands, as
    ``read_document`` reads it (from ``cppqa.documents.pdf``'s last few readings where it is one
    of them), to find several spans with ``Places.highlight``.

    OCR is never run: a scan whose OCR reading was not kept when it was indexed raises
    ``CorpusError`` (where Tesseract is installed; without it, indexing left those
    pages out too, and so does this).
    """
    settings = settings or Settings()
    data = path.read_bytes()
    scans = _scans(path, data)
    if scans:
        from cppqa.documents.ocr import kept_pages, missing_tesseract

        if not missing_tesseract():
            kept = kept_pages(settings.cache_dir, hashlib.sha256(data).hexdigest())
            unread = [number + 1 for number in scans if number not in kept]
            if unread:
                raise CorpusError(
                    f"{str(path)!r}: what OCR read of its scanned page(s) "
                    f"{', '.join(map(str, unread[:5]))} is not kept in "
                    f"{str(settings.cache_dir / 'ocr')!r}, and OCR is not run to highlight "
                    "an answer: index it again to keep it"
                )
    return Places(path, data, read_pdf_text(data, str(path), settings))


_scanned: OrderedDict[tuple[str, int, int], tuple[int, ...]] = OrderedDict()
_scanned_lock = threading.Lock()


def _scans(path: Path, data: bytes) -> tuple[int, ...]:
    """The pages (from 0) of the PDF ``data`` with no text but something drawn (what
    ``cppqa.documents.pdf`` reads with OCR), remembered by the file's path, time and size."""
    import pypdfium2.raw as pdfium_c

    stat = path.stat()
    key = (str(path), stat.st_mtime_ns, len(data))
    with _scanned_lock:
        if key in _scanned:
            _scanned.move_to_end(key)
            return _scanned[key]
    scans: list[int] = []
    with opened(data, str(path)) as pdf:
        for number in range(len(pdf)):
            page = pdf[number]
            try:
                textpage = page.get_textpage()
                try:
                    count = textpage.count_chars()
                    blank = not count or not str(textpage.get_text_range()).strip()
                finally:
                    textpage.close()
                if blank and pdfium_c.FPDFPage_CountObjects(page.raw) > 0:
                    scans.append(number)
            finally:
                page.close()
    with _scanned_lock:
        _scanned[key] = tuple(scans)
        while len(_scanned) > _KEPT_SCANS:
            _scanned.popitem(last=False)
    return tuple(scans)


def _page_highlight(pdf: Any, content: PdfContent, number: int, chars: list[int]) -> PageHighlight:
    page = pdf[number]
    try:
        width, height = page.get_size()
        if number in content.ocr:
            boxes = [content.ocr[number][c] for c in chars]
        else:
            textpage = page.get_textpage()
            try:
                boxes = [Rect(*_box(textpage.get_charbox(c))) for c in chars]
            finally:
                textpage.close()
        rects = merged([box for box in boxes if box is not None and box.right > box.left])
        shown = tuple(_shown(page, rect) for rect in rects)
    finally:
        page.close()
    return PageHighlight(number + 1, rects, shown, float(width), float(height))


def _shown(page: Any, rect: Rect) -> Box:
    """``rect`` (PDF user space) on the page as shown, in shares of it from its top-left
    corner: PDFium's own mapping (``FPDF_PageToDevice``), the one it draws the page with,
    so the page's crop box and ``/Rotate`` are taken into account as in its image."""
    size = (_DEVICE, _DEVICE)
    x0, y0 = _to_device(page, size, rect.left, rect.top)
    x1, y1 = _to_device(page, size, rect.right, rect.bottom)
    return Box(
        min(x0, x1) / _DEVICE, min(y0, y1) / _DEVICE, max(x0, x1) / _DEVICE, max(y0, y1) / _DEVICE
    )


def _box(charbox: Sequence[float]) -> tuple[float, float, float, float]:
    left, bottom, right, top = charbox  # pypdfium2's order
    return float(left), float(bottom), float(right), float(top)


def merged(boxes: Sequence[Rect]) -> tuple[Rect, ...]:
    """Character boxes, in reading order, as one rectangle per line.

    >>> merged([Rect(0, 0, 5, 10), Rect(5, 1, 9, 9), Rect(0, -12, 4, -2)])
    (Rect(left=0, bottom=0, right=9, top=10), Rect(left=0, bottom=-12, right=4, top=-2))
    """
    lines: list[Rect] = []
    for box in boxes:
        if lines and _same_line(lines[-1], box):
            last = lines[-1]
            lines[-1] = Rect(
                min(last.left, box.left),
                min(last.bottom, box.bottom),
                max(last.right, box.right),
                max(last.top, box.top),
            )
        else:
            lines.append(box)
    return tuple(lines)


def _same_line(line: Rect, box: Rect) -> bool:
    shared = min(line.top, box.top) - max(line.bottom, box.bottom)
    lower = min(line.top - line.bottom, box.top - box.bottom)
    return box.left >= line.left and shared >= _SAME_LINE * max(lower, 0.0)


def render_highlight(
    path: Path, marked: PageHighlight, *, scale: float = 2.0, settings: Settings | None = None
) -> bytes:
    """Page ``marked.page`` of the PDF at ``path`` as a PNG, ``scale`` pixels per point
    (2: 144 dots per inch), with ``marked.rects`` painted over in translucent yellow
    (mapped by PDFium, as ``marked.boxes`` are).

    Nothing is written anywhere: the PNG's bytes are returned.
    """
    from PIL import Image, ImageDraw

    data = path.read_bytes()
    with opened(data, str(path)) as pdf:
        if not 1 <= marked.page <= len(pdf):
            raise CorpusError(f"{str(path)!r} has no page {marked.page}; it has {len(pdf)} page(s)")
        page = pdf[marked.page - 1]
        try:
            image = page.render(scale=scale).to_pil().convert("RGBA")
            corners = [
                (
                    _to_device(page, image.size, r.left, r.top),
                    _to_device(page, image.size, r.right, r.bottom),
                )
                for r in marked.rects
            ]
        finally:
            page.close()
    overlay = Image.new("RGBA", image.size, (0, 0, 0, 0))
    draw = ImageDraw.Draw(overlay)
    for (x0, y0), (x1, y1) in corners:
        draw.rectangle((min(x0, x1), min(y0, y1), max(x0, x1), max(y0, y1)), fill=HIGHLIGHT_RGBA)
    out = io.BytesIO()
    Image.alpha_composite(image, overlay).convert("RGB").save(out, format="PNG")
    return out.getvalue()


def _to_device(page: Any, size: tuple[int, int], x: float, y: float) -> tuple[int, int]:
    """A point of the page (PDF user space) in its image of ``size`` pixels, the page
    drawn as shown (crop box, ``/Rotate``)."""
    import pypdfium2.raw as pdfium_c

    device_x, device_y = ctypes.c_int(), ctypes.c_int()
    pdfium_c.FPDF_PageToDevice(
        page.raw, 0, 0, size[0], size[1], 0, x, y, ctypes.byref(device_x), ctypes.byref(device_y)
    )
    return device_x.value, device_y.value
