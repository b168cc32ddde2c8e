"""The answer on its PDF page, for the web chat and the API: where its characters stand
(``cppqa.pagebox``), the page drawn once per session, and the HTML that shows it.

No gradio here. The page is drawn without marks and the highlight is laid over it as
positioned elements, in shares of the page (the same rectangles the API returns, in
PDF points), so the browser can find them and the image stays the page as printed.
Pages are drawn when asked for, kept in memory per session (``PageImages``), and
never written anywhere.

>>> placed = highlights(answer, Settings())              # doctest: +SKIP
>>> placed[0][0].page, placed[0][0].rects                # doctest: +SKIP
(3, (Rect(left=358.1, bottom=623.7, right=563.8, top=634.5), ...))
"""

from __future__ import annotations

import base64
import functools
import logging
import threading
from collections import OrderedDict
from collections.abc import Callable
from pathlib import Path

from cppqa.config import Settings
from cppqa.errors import CppqaError
from cppqa.pagebox import PageHighlight, Rect, highlight, render_highlight
from cppqa.records import Answer, Passage
from cppqa.render import escape

log = logging.getLogger(__name__)

#: Pixels per PDF point of a drawn page (2: 144 dots per inch; an A4 page is about
#: 160 KB of PNG, drawn in about 0.1 s here).
PAGE_SCALE = 2.0
#: Most bytes of drawn pages kept, all sessions together; the least recently shown go.
MAX_CACHED_BYTES = 64_000_000

#: A page of a PDF, marked: a rectangle per line of the answer (``PageHighlight``).
Placed = tuple[PageHighlight, ...]


def is_pdf(doc: str) -> bool:
    """Whether the corpus file ``doc`` is a PDF (the only format with pages to draw).

    >>> is_pdf("Report.PDF"), is_pdf("notes.md")
    (True, False)
    """
    return Path(doc).suffix.lower() == ".pdf"


def placed(passage: Passage, start: int, end: int, settings: Settings) -> Placed | None:
    """Where characters ``[start, end)`` of ``passage``'s PDF stand on its pages, or None
    where its document is not a PDF or the file cannot say (it changed since it was
    read, or is gone: logged, and the text view is the answer's place)."""
    if not is_pdf(passage.doc):
        return None
    quote = passage.text[start - passage.start : end - passage.start]
    try:
        found = highlight(
            settings.corpus_dir / passage.doc, start, end, settings=settings, quote=quote
        )
    except (CppqaError, OSError) as exc:
        log.warning("no highlight for %s [%d, %d): %s", passage.doc, start, end, exc)
        return None
    return found or None


def highlights(answer: Answer, settings: Settings) -> list[Placed | None]:
    """For each of ``answer``'s sources, where its quoted characters stand on its PDF's
    pages: the answer's own characters for the source that holds it (the first, when
    there is an answer), the whole passage for any other. None for a source that is
    not in a PDF (or whose file cannot say). The files are read from
    ``settings.corpus_dir``."""
    out: list[Placed | None] = []
    for number, source in enumerate(answer.sources):
        passage = source.passage
        if number == 0 and answer.start is not None and answer.end is not None:
            out.append(placed(passage, answer.start, answer.end, settings))
        else:
            out.append(placed(passage, passage.start, passage.end, settings))
    return out


class PageImages:
    """Drawn pages kept in memory per session, the least recently shown dropped beyond
    ``max_bytes`` in all. A session's pages go with it (``drop``).

    >>> images = PageImages()
    >>> images.get("session", ("a.pdf", "sha", 3), lambda: b"png")
    b'png'
    """

    def __init__(self, max_bytes: int = MAX_CACHED_BYTES) -> None:
        self.max_bytes = max_bytes
        self._kept: OrderedDict[tuple[str, tuple[object, ...]], bytes] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, session: str, page: tuple[object, ...], draw: Callable[[], bytes]) -> bytes:
        """The PNG of ``page`` (any key naming the file and page) for ``session``:
        kept from before, or ``draw()`` now and kept."""
        key = (session, page)
        with self._lock:
            if key in self._kept:
                self._kept.move_to_end(key)
                return self._kept[key]
        png = draw()  # outside the lock: other sessions' pages meanwhile
        with self._lock:
            self._kept[key] = png
            while sum(len(v) for v in self._kept.values()) > self.max_bytes and self._kept:
                self._kept.popitem(last=False)
        return png

    def drop(self, session: str) -> None:
        """Forget ``session``'s pages (it ended)."""
        with self._lock:
            for key in [k for k in self._kept if k[0] == session]:
                del self._kept[key]

    def __len__(self) -> int:
        return len(self._kept)


def render_pages(
    answer: Answer,
    settings: Settings,
    images: PageImages,
    session: str,
    turn: int | None = None,
) -> str:
    """``answer``'s page(s) as HTML: each page's image with the answer's lines laid over
    it (``.cppqa-page-hit``), its alt text the answer's sentence; "" where the answer is
    not from a PDF or its place there cannot be found (the text view then shows it)."""
    if answer.text is None or answer.start is None or answer.end is None or not answer.sources:
        return ""
    passage = answer.sources[0].passage
    found = placed(passage, answer.start, answer.end, settings)
    if not found:
        return ""
    path = settings.corpus_dir / passage.doc
    data = "" if turn is None else f' data-turn="{turn}"'
    figures = []
    for marked in found:
        blank = PageHighlight(marked.page, (), marked.width, marked.height)
        png = images.get(
            session,
            (str(path), path.stat().st_mtime_ns, marked.page),
            functools.partial(render_highlight, path, blank, scale=PAGE_SCALE, settings=settings),
        )
        figures.append(_figure(passage, marked, png, data))
    return (
        '<section class="cppqa-pages" aria-label="The answer on its page">'
        + "".join(figures)
        + '<p class="cppqa-meta">The text of the document follows, the answer’s sentence '
        "highlighted in it too.</p></section>"
    )


def _figure(passage: Passage, marked: PageHighlight, png: bytes, data: str) -> str:
    """One page: the image, the answer's lines over it, and a caption."""
    where = f"Page {marked.page} of {passage.doc}"
    alt = escape(f"{where}, the answer highlighted in the sentence: “{passage.text}”")
    source = "data:image/png;base64," + base64.b64encode(png).decode("ascii")
    hits = "".join(
        f'<span class="cppqa-page-hit"{data} style="{_box_style(r, marked)}"></span>'
        for r in marked.rects
    )
    return (
        f'<figure class="cppqa-page"><figcaption class="cppqa-meta">{escape(where)}, the '
        'answer highlighted</figcaption><div class="cppqa-page-frame">'
        f'<img src="{source}" alt="{alt}" width="{round(marked.width)}" '
        f'height="{round(marked.height)}">{hits}</div></figure>'
    )


def _box_style(rect: Rect, marked: PageHighlight) -> str:
    """A rectangle in PDF points (y up from the page's foot) as CSS shares of the page
    (y down from its top), so it stays over its words at any displayed size."""
    left, bottom, right, top = rect.left, rect.bottom, rect.right, rect.top
    width, height = marked.width, marked.height
    return (
        f"left:{100 * left / width:.3f}%;top:{100 * (height - top) / height:.3f}%;"
        f"width:{100 * (right - left) / width:.3f}%;height:{100 * (top - bottom) / height:.3f}%"
    )
