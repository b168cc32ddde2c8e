"""The answer on its PDF page, for the web chat and the API: where its characters stand
(``cppqa.documents.pagebox``), the page drawn once per session, and the HTML that shows it.

No gradio here. The page is drawn without marks and the highlight is laid over it as
positioned elements, in shares of the page as shown (``PageHighlight.boxes``, the
``boxes`` the API returns), so the browser can find them and the image stays the page
as printed.
Pages are drawn when asked for, kept in memory per session (``PageImages``), and
never written anywhere.

>>> placed = highlights(answer, Settings())              # doctest: +SKIP
>>> placed[0][0].page, placed[0][0].boxes                # doctest: +SKIP
(3, (Box(left=0.60155, top=0.24627, right=0.94711, bottom=0.25910), ...))
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
from cppqa.documents.pagebox import Box, PageHighlight, Places, read_places, render_highlight
from cppqa.errors import CppqaError
from cppqa.records import Answer, Passage
from cppqa.web.render import escape

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


def document_path(settings: Settings, doc: str) -> Path:
    """The file of the corpus document ``doc``: ``settings.corpus_dir / doc``, or the
    corpus itself where it is one file (``--corpus report.pdf``, whose one document is
    ``report.pdf``).

    >>> document_path(Settings(corpus_dir=Path("corpus")), "report.pdf")
    PosixPath('corpus/report.pdf')
    """
    corpus = settings.corpus_dir
    return corpus if corpus.is_file() else corpus / doc


def placed(passage: Passage, start: int, end: int, settings: Settings) -> Placed | None:
    """Where characters ``[start, end)`` of ``passage``'s PDF stand on its pages, or None
    where its document is not a PDF or the file cannot say (``highlights``)."""
    return _placed_in(passage.doc, [(passage, start, end)], settings)[0]


def highlights(answer: Answer, settings: Settings) -> list[Placed | None]:
    """For each of ``answer``'s sources, where its quoted characters stand on its PDF's
    pages: the answer's own characters for the source that holds it (the first, when
    there is an answer), the whole passage for any other. None for a source that is
    not in a PDF, or whose file cannot say: it changed since it was read, is gone, is a
    scan whose OCR reading was not kept (OCR is not run for this), or failed in any
    other way (logged: the highlight never costs the answer). Each file is read once,
    from ``settings.corpus_dir``."""
    spans: dict[str, list[tuple[int, tuple[Passage, int, int]]]] = {}
    for number, source in enumerate(answer.sources):
        passage = source.passage
        if number == 0 and answer.start is not None and answer.end is not None:
            span = (passage, answer.start, answer.end)
        else:
            span = (passage, passage.start, passage.end)
        spans.setdefault(passage.doc, []).append((number, span))
    out: list[Placed | None] = [None] * len(answer.sources)
    for doc, numbered in spans.items():
        found = _placed_in(doc, [span for _, span in numbered], settings)
        for (number, _), placed_here in zip(numbered, found, strict=True):
            out[number] = placed_here
    return out


def _placed_in(
    doc: str, spans: list[tuple[Passage, int, int]], settings: Settings
) -> list[Placed | None]:
    """Each span ``(passage, start, end)`` of the document ``doc`` on its pages, the
    file read once; None for each where it is not a PDF or cannot say (logged)."""
    if not is_pdf(doc):
        return [None] * len(spans)
    try:
        places: Places | None = read_places(document_path(settings, doc), settings)
    except (CppqaError, OSError) as exc:
        log.warning("no highlight in %s: %s", doc, exc)
        places = None
    except Exception:  # a side feature: whatever fails, the answer is still given
        log.exception("no highlight in %s: reading it failed", doc)
        places = None
    return [None if places is None else _marked(places, *span) for span in spans]


def _marked(places: Places, passage: Passage, start: int, end: int) -> Placed | None:
    quote = passage.text[start - passage.start : end - passage.start]
    try:
        found = places.highlight(start, end, quote=quote)
    except CppqaError as exc:
        log.warning("no highlight for %s [%d, %d): %s", passage.doc, start, end, exc)
        return None
    except Exception:  # a side feature: whatever fails, the answer is still given
        log.exception("no highlight for %s [%d, %d)", passage.doc, start, end)
        return None
    return found or None


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
    not from a PDF or its place there cannot be found, or the page cannot be drawn (the
    file went meanwhile: logged; the text view then shows the answer)."""
    if answer.text is None or answer.start is None or answer.end is None or not answer.sources:
        return ""
    passage = answer.sources[0].passage
    found = placed(passage, answer.start, answer.end, settings)
    if not found:
        return ""
    path = document_path(settings, passage.doc)
    data = "" if turn is None else f' data-turn="{turn}"'
    figures = []
    try:
        for marked in found:
            blank = PageHighlight(marked.page, (), (), marked.width, marked.height)
            png = images.get(
                session,
                (str(path), path.stat().st_mtime_ns, marked.page),
                functools.partial(
                    render_highlight, path, blank, scale=PAGE_SCALE, settings=settings
                ),
            )
            figures.append(_figure(passage, marked, png, data))
    except Exception:  # a side feature: the text view still shows the answer
        log.exception("page %s of %s cannot be drawn", [m.page for m in found], passage.doc)
        return ""
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
        f'<span class="cppqa-page-hit"{data} style="{_box_style(box)}"></span>'
        for box in marked.boxes
    )
    return (
        f'<figure class="cppqa-page"><figcaption class="cppqa-meta">{escape(where)}, the '
        'answer highlighted</figcaption><div class="cppqa-page-frame">'
        f'<img src="{source}" alt="{alt}" width="{round(marked.width)}" '
        f'height="{round(marked.height)}">{hits}</div></figure>'
    )


def _box_style(box: Box) -> str:
    """A box on the page as shown (shares of it from its top-left corner) as CSS shares
    of the page's image, so it stays over its words at any displayed size."""
    return (
        f"left:{100 * box.left:.3f}%;top:{100 * box.top:.3f}%;"
        f"width:{100 * (box.right - box.left):.3f}%;height:{100 * (box.bottom - box.top):.3f}%"
    )
