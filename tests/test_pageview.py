"""pageview.py: the answer on its PDF page, for the web chat's "Show in document" and
the API's ``highlight`` (``api.record_of``)."""

from __future__ import annotations

import base64
import html
import io
import re
from pathlib import Path

import pytest

from booklets import SECTIONS, booklet
from conftest import make_pdf
from cppqa.api import PageRecord, SourceRecord, record_of
from cppqa.config import Settings
from cppqa.documents import read_document
from cppqa.pagebox import Rect
from cppqa.pageview import PAGE_SCALE, PageImages, highlights, is_pdf, render_pages
from cppqa.records import Answer, Document, Passage, Source

SENTENCE = "For this reason, in 1954, the party was declared illegal."
ILLEGAL = "When was the party declared illegal?"
assert SENTENCE in SECTIONS[1][1]  # the booklet's page 3


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A corpus folder holding the booklet (the sentence on its page 3) and a text file."""
    folder = tmp_path_factory.mktemp("corpus")
    (folder / "booklet.pdf").write_bytes(booklet())
    (folder / "notes.txt").write_text(SENTENCE + "\n", encoding="utf-8")
    return folder


@pytest.fixture(scope="module")
def document(folder: Path) -> Document:
    return read_document(folder / "booklet.pdf", folder, Settings())


def _answer(document: Document, text: str = "1954") -> Answer:
    """The answer ``text`` in ``SENTENCE``, with a second source from page 2, as
    ``QA.ask`` would give it."""
    at = document.text.index(SENTENCE)
    sentence = Passage(document.doc, at, at + len(SENTENCE), SENTENCE)
    other_text = SECTIONS[0][1][0]
    other_at = document.text.index(other_text)
    other = Passage(document.doc, other_at, other_at + len(other_text), other_text)
    sources = (Source(sentence, 1.0, page=3), Source(other, 0.5, page=2))
    return Answer(ILLEGAL, ILLEGAL, text, 0.9, sources, at + SENTENCE.index(text))


def sentence_boxes(path: Path, page: int, sentence: str) -> list[Rect]:
    """The boxes of ``sentence``'s characters on ``page``, found by PDFium alone: its
    characters in order, white space aside, matched against the sentence's."""
    import pypdfium2 as pdfium

    textpage = pdfium.PdfDocument(path)[page - 1].get_textpage()
    chars = [(i, textpage.get_text_range(i, 1)) for i in range(textpage.count_chars())]
    solid = [(i, c) for i, c in chars if c.strip()]
    wanted = "".join(sentence.split())
    at = "".join(c for _, c in solid).find(wanted)
    assert at >= 0, f"{sentence!r} is not on page {page}"
    return [Rect(*textpage.get_charbox(i)) for i, _ in solid[at : at + len(wanted)]]


def within(rect: list[float], boxes: list[Rect], slack: float = 0.01) -> bool:
    """Whether ``rect`` ([l, b, r, t], rounded to 0.01 pt) lies within the boxes of the
    line of ``boxes`` it is on (their bounding box)."""
    left, bottom, right, top = rect
    line = [b for b in boxes if min(top, b.top) - max(bottom, b.bottom) > 0]
    return bool(line) and (
        min(b.left for b in line) - slack <= left
        and right <= max(b.right for b in line) + slack
        and min(b.bottom for b in line) - slack <= bottom
        and top <= max(b.top for b in line) + slack
    )


def test_only_pdfs_have_pages() -> None:
    assert [is_pdf(d) for d in ("a.pdf", "B.PDF", "c.txt", "pdf", "d.pdf.md")] == [
        True,
        True,
        False,
        False,
        False,
    ]


def test_the_api_highlight_lies_within_the_sentence_on_page_3(
    folder: Path, document: Document
) -> None:
    record = record_of(_answer(document), Settings(corpus_dir=folder))
    first, second = record["sources"]
    assert set(first) == set(SourceRecord.__annotations__)
    assert first["highlight"] is not None and len(first["highlight"]) == 1
    (on_page,) = first["highlight"]
    assert set(on_page) == set(PageRecord.__annotations__)
    assert on_page["page"] == 3
    assert (round(on_page["width"]), round(on_page["height"])) == (595, 842)
    boxes = sentence_boxes(folder / "booklet.pdf", 3, SENTENCE)
    assert on_page["rects"] and all(within(r, boxes) for r in on_page["rects"])
    # the answer's own characters, not the whole sentence: narrower than it
    (answer_rect,) = on_page["rects"]
    assert (
        answer_rect[2] - answer_rect[0]
        < (max(b.right for b in boxes) - min(b.left for b in boxes)) / 4
    )
    # any other source: its whole passage, on its own page
    assert second["highlight"] is not None and [p["page"] for p in second["highlight"]] == [2]
    assert record["answer"] == "1954" and record["checked"] == []


def test_a_source_that_is_not_a_pdf_or_changed_has_no_highlight(
    folder: Path, tmp_path: Path, document: Document
) -> None:
    text = Passage("notes.txt", 0, len(SENTENCE), SENTENCE)
    answer = Answer(ILLEGAL, ILLEGAL, "1954", 0.9, (Source(text, 1.0),), SENTENCE.index("1954"))
    assert record_of(answer, Settings(corpus_dir=folder))["sources"][0]["highlight"] is None
    # a PDF changed since it was read: no rectangles over other words
    changed = tmp_path / "booklet.pdf"
    changed.write_bytes(make_pdf([["Other words on every line. " * 400]]))
    assert highlights(_answer(document), Settings(corpus_dir=tmp_path))[0] is None
    assert render_pages(_answer(document), Settings(corpus_dir=tmp_path), PageImages(), "s") == ""


def test_the_page_view_lays_the_answer_over_its_page(folder: Path, document: Document) -> None:
    from PIL import Image

    answer = _answer(document)
    shown = render_pages(answer, Settings(corpus_dir=folder), PageImages(), "s", turn=2)
    (source,) = re.findall(r'<img src="data:image/png;base64,([^"]+)"', shown)
    image = Image.open(io.BytesIO(base64.b64decode(source)))
    assert image.size == (round(595.28 * PAGE_SCALE), round(841.89 * PAGE_SCALE))
    alt = html.unescape(re.search(r'alt="([^"]+)"', shown).group(1))  # type: ignore[union-attr]
    assert alt.startswith("Page 3 of booklet.pdf") and SENTENCE in alt
    # each line of the answer a positioned element, in shares of the page, over its glyphs
    (style,) = re.findall(r'<span class="cppqa-page-hit" data-turn="2" style="([^"]+)">', shown)
    share = {k: float(v) for k, v in re.findall(r"(\w+):([\d.]+)%", style)}
    (rect,) = highlights(answer, Settings(corpus_dir=folder))[0]  # type: ignore[misc]
    left, top = rect.rects[0].left, rect.rects[0].top
    assert share["left"] == pytest.approx(100 * left / rect.width, abs=0.001)
    assert share["top"] == pytest.approx(100 * (rect.height - top) / rect.height, abs=0.001)
    # the drawn page is bare where the highlight lies (it is laid over, not painted in)
    x = int((share["left"] + share["width"] / 2) / 100 * image.width)
    y = int((share["top"] + share["height"] / 2) / 100 * image.height)
    ink = image.convert("RGB").crop((x - 40, y - 10, x + 40, y + 10)).getcolors(1 << 16) or []
    assert not any(r > 200 and g > 180 and b < 120 for _, (r, g, b) in ink)  # no yellow


def test_pages_are_drawn_once_a_session_and_go_with_it(folder: Path, document: Document) -> None:
    images = PageImages()
    drawn: list[bytes] = []
    original = images.get

    def counted(session: str, page: tuple[object, ...], draw):  # type: ignore[no-untyped-def]
        return original(session, page, lambda: drawn.append(draw()) or drawn[-1])

    images.get = counted  # type: ignore[method-assign]
    settings = Settings(corpus_dir=folder)
    first = render_pages(_answer(document), settings, images, "one")
    assert render_pages(_answer(document, "the party"), settings, images, "one") != first
    assert len(drawn) == 1  # the same page, another answer on it: not drawn again
    render_pages(_answer(document), settings, images, "two")
    assert len(drawn) == 2 and len(images) == 2  # per session
    images.drop("one")
    assert len(images) == 1


def test_the_cache_keeps_the_latest_pages_within_its_bytes() -> None:
    images = PageImages(max_bytes=10)
    for page in range(4):
        images.get("s", ("a.pdf", page), lambda: b"12345")
    assert len(images) == 2
    calls: list[int] = []
    images.get("s", ("a.pdf", 0), lambda: calls.append(0) or b"12345")
    assert calls == [0]  # the oldest was dropped


def test_no_page_for_a_refusal_or_a_text_file(folder: Path, document: Document) -> None:
    refused = Answer(ILLEGAL, ILLEGAL, None, 0.1, _answer(document).sources)
    assert render_pages(refused, Settings(corpus_dir=folder), PageImages(), "s") == ""
    text = Passage("notes.txt", 0, len(SENTENCE), SENTENCE)
    answer = Answer(ILLEGAL, ILLEGAL, "1954", 0.9, (Source(text, 1.0),), SENTENCE.index("1954"))
    assert render_pages(answer, Settings(corpus_dir=folder), PageImages(), "s") == ""
