"""pageview.py: the answer on its PDF page, for the web chat's "Show in document" and
the API's ``highlight`` (``api.record_of``)."""

from __future__ import annotations

import base64
import html
import io
import re
from pathlib import Path

import pytest

from booklets import LINE, SECTIONS, TURNS, booklet, covers, ink, scanned, turned
from conftest import make_pdf
from cppqa.config import Settings
from cppqa.documents.formats import read_document
from cppqa.documents.pagebox import Box
from cppqa.documents.pdfium import Rect
from cppqa.records import Answer, Document, Passage, Source
from cppqa.web.api import PageRecord, SourceRecord, record_of
from cppqa.web.pageview import (
    PAGE_SCALE,
    PageImages,
    document_path,
    highlights,
    is_pdf,
    render_pages,
)

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
    (marked,) = highlights(answer, Settings(corpus_dir=folder))[0]  # type: ignore[misc]
    box = marked.boxes[0]
    assert share["left"] == pytest.approx(100 * box.left, abs=0.001)
    assert share["top"] == pytest.approx(100 * box.top, abs=0.001)
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


def _style_box(style: str) -> Box:
    share = {k: float(v) / 100 for k, v in re.findall(r"(\w+):([\d.]+)%", style)}
    return Box(
        share["left"],
        share["top"],
        share["left"] + share["width"],
        share["top"] + share["height"],
    )


def _line_answer(folder: Path, name: str) -> Answer:
    """``LINE`` of the one-line PDF ``name`` in ``folder`` as the answer, its source."""
    text = read_document(folder / name, folder, Settings()).text
    at = text.index(LINE)
    passage = Passage(name, at, at + len(LINE), LINE)
    return Answer(ILLEGAL, ILLEGAL, LINE, 0.9, (Source(passage, 1.0, page=1),), at)


@pytest.mark.parametrize("turn", TURNS.values(), ids=TURNS.keys())
def test_the_overlay_covers_the_answer_where_the_page_image_shows_it(
    tmp_path: Path, turn: dict[str, object]
) -> None:
    (tmp_path / "turned.pdf").write_bytes(turned(**turn))  # type: ignore[arg-type]
    answer = _line_answer(tmp_path, "turned.pdf")
    shown = render_pages(answer, Settings(corpus_dir=tmp_path), PageImages(), "s")
    (source,) = re.findall(r'<img src="data:image/png;base64,([^"]+)"', shown)
    (style,) = re.findall(r'<span class="cppqa-page-hit" style="([^"]+)">', shown)
    hit, drawn = _style_box(style), ink(base64.b64decode(source))
    assert covers(hit, drawn)  # over the line's glyphs in the image shown
    assert covers(
        Box(drawn.left - 0.02, drawn.top - 0.02, drawn.right + 0.02, drawn.bottom + 0.02), hit
    )
    width, height = (int(v) for v in re.findall(r'(?:width|height)="(\d+)"', shown))
    if turn.get("rotate"):
        assert height < width  # the image's size is the page as shown
    # the API gives the same boxes
    (page,) = record_of(answer, Settings(corpus_dir=tmp_path))["sources"][0]["highlight"] or []
    assert covers(Box(*page["boxes"][0]), drawn)


def test_a_corpus_of_one_pdf_is_highlighted(tmp_path: Path) -> None:
    (tmp_path / "report.pdf").write_bytes(turned())
    answer = _line_answer(tmp_path, "report.pdf")
    one = Settings(corpus_dir=tmp_path / "report.pdf")  # --corpus report.pdf
    assert document_path(one, "report.pdf") == tmp_path / "report.pdf"
    assert document_path(Settings(corpus_dir=tmp_path), "report.pdf") == tmp_path / "report.pdf"
    assert highlights(answer, one)[0] is not None
    assert 'class="cppqa-page-hit"' in render_pages(answer, one, PageImages(), "s")


@pytest.mark.parametrize("error", [IndexError("list index out of range"), ValueError("bad")])
def test_the_answer_comes_back_when_highlighting_fails(
    folder: Path, document: Document, monkeypatch: pytest.MonkeyPatch, error: Exception
) -> None:
    import cppqa.documents.pagebox
    import cppqa.web.pageview

    def failing(*args: object, **kwargs: object) -> None:
        raise error

    settings = Settings(corpus_dir=folder)
    monkeypatch.setattr(cppqa.documents.pagebox.Places, "highlight", failing)
    record = record_of(_answer(document), settings)
    assert record["answer"] == "1954"
    assert [s["highlight"] for s in record["sources"]] == [None, None]
    assert render_pages(_answer(document), settings, PageImages(), "s") == ""
    monkeypatch.setattr(cppqa.web.pageview, "read_places", failing)
    assert [s["highlight"] for s in record_of(_answer(document), settings)["sources"]] == [
        None,
        None,
    ]


def test_a_pdf_read_once_for_all_its_sources(
    folder: Path, document: Document, monkeypatch: pytest.MonkeyPatch
) -> None:
    import cppqa.web.pageview

    read: list[Path] = []
    original = cppqa.web.pageview.read_places

    def counted(path: Path, settings: Settings | None = None):  # type: ignore[no-untyped-def]
        read.append(path)
        return original(path, settings)

    monkeypatch.setattr(cppqa.web.pageview, "read_places", counted)
    found = highlights(_answer(document), Settings(corpus_dir=folder))
    assert all(found) and read == [folder / "booklet.pdf"]  # two sources, one reading


def test_a_scan_without_its_ocr_kept_has_no_highlight_and_no_ocr(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import cppqa.documents.ocr

    (tmp_path / "scan.pdf").write_bytes(scanned(make_pdf([[LINE]]), dpi=100))
    passage = Passage("scan.pdf", 0, len(LINE), LINE)
    answer = Answer(ILLEGAL, ILLEGAL, "1954", 0.9, (Source(passage, 1.0),), LINE.index("1954"))
    ran: list[object] = []
    monkeypatch.setattr(cppqa.documents.ocr, "missing_tesseract", lambda: None)
    monkeypatch.setattr(cppqa.documents.ocr, "ocr_pages", lambda *a, **k: ran.append(a) or iter(()))
    settings = Settings(corpus_dir=tmp_path, cache_dir=tmp_path / "cache")
    assert record_of(answer, settings)["sources"][0]["highlight"] is None
    assert render_pages(answer, settings, PageImages(), "s") == ""
    assert ran == []


def test_a_page_that_cannot_be_drawn_leaves_the_text_view(
    tmp_path: Path, document: Document, monkeypatch: pytest.MonkeyPatch
) -> None:
    import cppqa.web.pageview

    (tmp_path / "booklet.pdf").write_bytes(booklet())
    settings = Settings(corpus_dir=tmp_path)
    real = cppqa.web.pageview.placed

    def then_gone(*args, **kwargs):  # type: ignore[no-untyped-def]
        found = real(*args, **kwargs)
        (tmp_path / "booklet.pdf").unlink()  # removed while the session was idle
        return found

    monkeypatch.setattr(cppqa.web.pageview, "placed", then_gone)
    assert render_pages(_answer(document), settings, PageImages(), "s") == ""
    monkeypatch.setattr(cppqa.web.pageview, "placed", real)
    (tmp_path / "booklet.pdf").write_bytes(booklet())

    def broken(*args: object, **kwargs: object) -> bytes:
        raise RuntimeError("Failed to render page")

    monkeypatch.setattr(cppqa.web.pageview, "render_highlight", broken)
    assert render_pages(_answer(document), settings, PageImages(), "s") == ""
