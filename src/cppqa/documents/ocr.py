"""Scanned PDF pages read with OCR: Tesseract (Debian's ``tesseract-ocr`` and
``tesseract-ocr-eng``) through pytesseract.

A page is rendered by PDFium at ``OCR_DPI`` and Tesseract reads the image; its words
become the page's text, a line per line it found and a blank line between its
paragraphs, and each character gets a box on the page in PDF points (its word's box,
cut into equal parts), which ``cppqa.documents.pagebox`` draws. Why pytesseract, and how fast
and how right it is here: docs/documents.md.

Limits (``Settings.ocr_max_pages``, ``Settings.ocr_max_seconds``): a PDF with more
scanned pages is refused before any is read, and reading stops with ``CorpusError``
once the seconds have passed with pages left (a Tesseract still reading then is killed).

What OCR read is kept in ``Settings.cache_dir / "ocr"`` by the PDF's SHA-256
(``kept_pages``, ``keep_pages``), so a scan is read with OCR once: a server that
highlights an answer in a scan indexed by another process does not read it again.
"""

from __future__ import annotations

import ctypes
import json
import logging
import os
import shutil
import tempfile
import threading
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from cppqa.config import Settings
from cppqa.documents.pdfium import Rect, opened
from cppqa.errors import CorpusError

#: Tesseract reads best at 300 dots per inch (its documentation, "Improving the quality
#: of the output"); lower loses the small print.
OCR_DPI = 300
#: How many pages Tesseract reads at once (a process each, one thread each).
OCR_WORKERS = max(1, min(4, os.cpu_count() or 1))
#: What installs Tesseract, for messages.
INSTALL = "apt-get install tesseract-ocr tesseract-ocr-eng"
#: Tesseract's language: English.
_LANGUAGE = "eng"
#: The format of the files ``keep_pages`` writes; a file of another is not used.
_KEPT_FORMAT = 1

log = logging.getLogger(__name__)

#: A page read with OCR: its text and the box of each of its characters.
OcrPage = tuple[str, tuple[Rect | None, ...]]


def missing_tesseract() -> str | None:
    """Why OCR cannot run here, with how to install what is missing; None where it can."""
    try:
        import pytesseract
    except ImportError:
        return "OCR is not supported here: pytesseract is not installed (pip install pytesseract)"
    if shutil.which(pytesseract.pytesseract.tesseract_cmd) is None:
        return f"OCR is not supported here: Tesseract is not installed ({INSTALL})"
    return None


def kept_pages(folder: Path, sha256: str) -> dict[int, OcrPage]:
    """The pages of the PDF with this SHA-256 that OCR read before (``keep_pages``), by
    their index; none if there is no such file, or it is damaged or of another format."""
    path = folder / "ocr" / f"{sha256}.json"
    try:
        kept = json.loads(path.read_text(encoding="utf-8"))
        if kept.get("format") != _KEPT_FORMAT or kept.get("dpi") != OCR_DPI:
            return {}
        pages = {
            int(number): (
                str(page["text"]),
                tuple(None if box is None else Rect(*box) for box in page["boxes"]),
            )
            for number, page in kept["pages"].items()
        }
        for number, (text, boxes) in pages.items():
            if len(boxes) != len(text):  # a box for each character, or the file is damaged
                raise ValueError(f"page {number} has {len(text)} characters, {len(boxes)} boxes")
        return pages
    except FileNotFoundError:
        return {}
    except (OSError, ValueError, TypeError, KeyError, AttributeError) as exc:
        log.warning("%s cannot be used (%s); the pages are read with OCR again", path, exc)
        return {}


def keep_pages(folder: Path, sha256: str, pages: Mapping[int, OcrPage]) -> None:
    """Keep what OCR read of the PDF with this SHA-256 (``kept_pages`` gives it back).
    Written whole or not at all; a folder that cannot be written is only logged."""
    path = folder / "ocr" / f"{sha256}.json"
    kept = {
        "format": _KEPT_FORMAT,
        "dpi": OCR_DPI,
        "pages": {
            str(number): {
                "text": text,
                "boxes": [
                    None
                    if box is None
                    else [round(v, 2) for v in (box.left, box.bottom, box.right, box.top)]
                    for box in boxes
                ],
            }
            for number, (text, boxes) in pages.items()
        },
    }
    partial: Path | None = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        # A file of its own for each writer, threads of one server included, then renamed.
        with tempfile.NamedTemporaryFile(
            "w", encoding="utf-8", dir=path.parent, suffix=".partial", delete=False
        ) as file:
            partial = Path(file.name)
            file.write(json.dumps(kept))
        os.replace(partial, path)
    except OSError as exc:
        if partial is not None:
            partial.unlink(missing_ok=True)
        log.warning("what OCR read could not be kept in %s (%s)", path, exc)


def ocr_pages(
    data: bytes, numbers: list[int], name: str, settings: Settings | None = None
) -> Iterator[OcrPage]:
    """The text of each of the pages ``numbers`` (from 0) of the PDF ``data``, read with
    OCR, in order, and the box of each character of it (None for the spaces and line
    ends between words).

    Pages are rendered here, one at a time, each holding PDFium's lock (PDFium is not
    thread-safe) only while it is drawn, so other PDFs can be read meanwhile; they are read by
    ``OCR_WORKERS`` Tesseract processes at once. Raises ``CorpusError`` before the first
    page when there are more than ``settings.ocr_max_pages``, and when
    ``settings.ocr_max_seconds`` have passed with pages left (``settings``: None takes
    ``Settings.from_env()``).
    """
    from concurrent.futures import Future, ThreadPoolExecutor

    import pytesseract

    settings = settings or Settings.from_env()
    if len(numbers) > settings.ocr_max_pages:
        raise CorpusError(
            f"{name!r} has {len(numbers)} scanned pages (without a text layer); at most "
            f"{settings.ocr_max_pages} are read with OCR (CPPQA_OCR_MAX_PAGES): split it "
            "into smaller files, or run it through an OCR tool (such as ocrmypdf) first"
        )
    _one_thread_each()
    began = time.monotonic()
    deadline = began + settings.ocr_max_seconds

    def out_of_time(read: int) -> CorpusError:
        return CorpusError(
            f"{name!r}: OCR read {read} of its {len(numbers)} scanned pages in "
            f"{time.monotonic() - began:.0f} s, the limit being {settings.ocr_max_seconds:g} s "
            "(CPPQA_OCR_MAX_SECONDS): split it into smaller files, or run it "
            "through an OCR tool (such as ocrmypdf) first"
        )

    with ThreadPoolExecutor(OCR_WORKERS) as pool:
        pending: list[tuple[Future[dict[str, list[Any]]], _Placement]] = []
        try:
            for done in range(len(numbers)):
                while len(pending) < OCR_WORKERS + 1 and done + len(pending) < len(numbers):
                    with opened(data, name) as pdf:  # PDFium's lock, for this page alone
                        image, placement = _render(pdf[numbers[done + len(pending)]])
                    pending.append((pool.submit(_words, image, deadline), placement))
                words, placement = pending.pop(0)
                try:
                    page = _page_text(words.result(), placement)
                except pytesseract.TesseractError as exc:
                    raise CorpusError(
                        f"{name!r}: Tesseract could not read page {numbers[done] + 1} "
                        f"({exc.message.strip() or exc.status}): is its English data "
                        f"installed? ({INSTALL})"
                    ) from None
                except TimeoutError:
                    raise out_of_time(done) from None
                yield page
                if done + 1 < len(numbers) and time.monotonic() > deadline:
                    raise out_of_time(done + 1)
        finally:  # an error, or the caller stopped: pages not begun are not read
            for future, _ in pending:
                future.cancel()


#: Where a rendered image lies on its page: page point = origin + x * across + y * down,
#: for image pixel (x, y).
_Placement = tuple[tuple[float, float], tuple[float, float], tuple[float, float]]


def _render(page: Any) -> tuple[Any, _Placement]:
    """A page as a grey image at ``OCR_DPI``, and where the image lies on the page (called
    holding PDFium's lock, which the bitmap is closed under too)."""
    try:
        bitmap = page.render(scale=OCR_DPI / 72, grayscale=True)
        try:
            image = bitmap.to_pil().copy()  # a grey image shares the bitmap's memory
        finally:
            bitmap.close()
        size = image.size
        origin = _to_page(page, size, 0, 0)
        right, below = _to_page(page, size, size[0], 0), _to_page(page, size, 0, size[1])
    finally:
        page.close()
    across = ((right[0] - origin[0]) / size[0], (right[1] - origin[1]) / size[0])
    down = ((below[0] - origin[0]) / size[1], (below[1] - origin[1]) / size[1])
    return image, (origin, across, down)


_environ_lock = threading.Lock()


def _one_thread_each() -> None:
    """One thread per Tesseract (unless ``OMP_THREAD_LIMIT`` is set): its OpenMP threads
    wait for each other on a busy machine, and made a page 3-5 times slower here
    (docs/documents.md); pages run side by side. Set before the workers start, never from
    them: setenv is not thread-safe."""
    with _environ_lock:
        if "OMP_THREAD_LIMIT" not in os.environ:
            os.environ["OMP_THREAD_LIMIT"] = "1"


def _words(image: Any, deadline: float) -> dict[str, list[Any]]:
    """Tesseract's words on ``image``, with their boxes, lines and paragraphs; raises
    ``TimeoutError`` at ``deadline`` (``time.monotonic()``), killing Tesseract."""
    import pytesseract

    left = deadline - time.monotonic()
    if left <= 0:  # pytesseract reads a timeout of 0 as none
        raise TimeoutError
    try:
        return pytesseract.image_to_data(
            image, lang=_LANGUAGE, output_type=pytesseract.Output.DICT, timeout=left
        )
    except RuntimeError as exc:
        if str(exc) == "Tesseract process timeout":  # pytesseract's word for it, killed
            raise TimeoutError from None
        raise


def _page_text(
    data: dict[str, list[Any]], placement: _Placement
) -> tuple[str, tuple[Rect | None, ...]]:
    """Tesseract's words as a page's text, a line per line and a blank line between
    paragraphs, and each character's box (its word's, cut into equal parts)."""
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
        text.append(word)
        boxes.extend(
            _on_page(
                placement,
                left + width * i / len(word),
                top,
                left + width * (i + 1) / len(word),
                top + height,
            )
            for i in range(len(word))
        )
    return "".join(text), tuple(boxes)


def _on_page(placement: _Placement, x0: float, y0: float, x1: float, y1: float) -> Rect:
    """The image rectangle from (x0, y0) to (x1, y1) on the page, in points."""
    (ox, oy), (ax, ay), (dx, dy) = placement
    xs = [ox + x * ax + y * dx for x in (x0, x1) for y in (y0, y1)]
    ys = [oy + x * ay + y * dy for x in (x0, x1) for y in (y0, y1)]
    return Rect(min(xs), min(ys), max(xs), max(ys))


def _to_page(page: Any, size: tuple[int, int], x: int, y: int) -> tuple[float, float]:
    """A point of the page's rendered image, in page coordinates (PDF points)."""
    import pypdfium2.raw as pdfium_c

    page_x, page_y = ctypes.c_double(), ctypes.c_double()
    pdfium_c.FPDF_DeviceToPage(
        page.raw, 0, 0, size[0], size[1], 0, x, y, ctypes.byref(page_x), ctypes.byref(page_y)
    )
    return page_x.value, page_y.value
