"""An answer's characters found on its PDF page, and that page drawn with them marked.

Answers are verbatim spans of a document's extracted text, with offsets. For a PDF,
``cppqa.pdf`` keeps where each character of that text came from (the PDFium character,
or the OCR character box, on its page), through everything the extraction drops or
rejoins: headers, footers and contents lines left out, lines joined, hyphens at line
ends taken out. So the offsets of an answer lead to the glyphs on the page exactly.

Use, for an answer from a PDF (``answer.start``, ``answer.end``; the file is the corpus
file ``folder / source.passage.doc`` or an uploaded one)::

    from cppqa.pagebox import highlight, render_highlight

    for marked in highlight(path, answer.start, answer.end, quote=answer.text):
        marked.page, marked.rects        # page number from 1; rectangles in PDF points
        marked.to_json()                 # {"page": 3, "rects": [[l, b, r, t], ...], ...}
        png = render_highlight(path, marked)  # the page as PNG, the answer marked

An answer is almost always on one page; one that runs on to the next page gives one
``PageHighlight`` per page. Nothing is written anywhere; the PNG is made when asked for
(keep it per session if it is asked for again).
"""

from __future__ import annotations

import ctypes
import io
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cppqa.config import Settings
from cppqa.errors import CorpusError
from cppqa.pdf import PdfContent, Rect, opened, read_pdf_text

#: The highlight's colour: a yellow marker, a third opaque, so the text shows through.
HIGHLIGHT_RGBA = (255, 214, 0, 96)
#: Two boxes are on one line where they share at least this share of the lower's height.
_SAME_LINE = 0.5

__all__ = ["HIGHLIGHT_RGBA", "PageHighlight", "Rect", "highlight", "render_highlight"]


@dataclass(frozen=True)
class PageHighlight:
    """Where an answer stands on page ``page`` (from 1): a rectangle per line it covers,
    in PDF points in the page's coordinates (``Rect``); the page is ``width`` by
    ``height`` points."""

    page: int
    rects: tuple[Rect, ...]
    width: float
    height: float

    def to_json(self) -> dict[str, Any]:
        """``{"page": 3, "rects": [[left, bottom, right, top], ...], "width": w, "height": h}``."""
        return {
            "page": self.page,
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
    at ``path`` stand on its pages: one ``PageHighlight`` per page they are on, in order.

    ``quote``, where given, must be that text's ``[start:end]``: a file changed since it
    was read raises ``CorpusError`` instead of marking the wrong words. The file is read
    again unless it was one of the last few read (then this costs no more than finding
    the boxes).
    """
    settings = settings or Settings()
    data = path.read_bytes()
    content = read_pdf_text(data, str(path), settings)
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
    with opened(data, str(path)) as pdf:
        return tuple(
            _page_highlight(pdf, content, number, chars) for number, chars in wanted.items()
        )


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
    finally:
        page.close()
    kept = [box for box in boxes if box is not None and box.right > box.left]
    return PageHighlight(number + 1, merged(kept), float(width), float(height))


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
    (2: 144 dots per inch), with ``marked.rects`` painted over in translucent yellow.

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
    """A point of the page (PDF points) in its rendered image (pixels)."""
    import pypdfium2.raw as pdfium_c

    device_x, device_y = ctypes.c_int(), ctypes.c_int()
    pdfium_c.FPDF_PageToDevice(
        page.raw, 0, 0, size[0], size[1], 0, x, y, ctypes.byref(device_x), ctypes.byref(device_y)
    )
    return device_x.value, device_y.value
