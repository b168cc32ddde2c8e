"""pagebox.py: an answer's characters found on its PDF page, and the page drawn with them."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from booklets import LINE, SECTIONS, TURNS, booklet, covers, hyphenated_lines, ink, scanned, turned
from conftest import make_pdf
from cppqa.config import Settings
from cppqa.documents.formats import read_document
from cppqa.documents.pagebox import (
    Box,
    PageHighlight,
    Rect,
    highlight,
    read_places,
    render_highlight,
)
from cppqa.errors import CorpusError

ON_PAGE_3 = max(SECTIONS[1][1], key=len)  # the longest sentence of page 3


def _written(tmp_path: Path, data: bytes, name: str = "booklet.pdf") -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def _on_page(path: Path, marked: PageHighlight) -> list[str]:
    """The text PDFium finds within each rectangle (an oracle that knows nothing of our
    offsets: its own character boxes and its own rule of what is in a rectangle)."""
    import pypdfium2 as pdfium

    pdf = pdfium.PdfDocument(path)
    textpage = pdf[marked.page - 1].get_textpage()
    return [
        textpage.get_text_bounded(r.left, r.bottom, r.right, r.top).replace("\ufffe", "-")
        for r in marked.rects
    ]


def _first_glyph(path: Path, page: int, phrase: str) -> Rect:
    """The box of the first character of ``phrase`` on ``page``, found by PDFium's search."""
    import pypdfium2 as pdfium

    textpage = pdfium.PdfDocument(path)[page - 1].get_textpage()
    found = textpage.search(phrase, match_case=True).get_next()
    assert found is not None, phrase
    return Rect(*textpage.get_charbox(found[0]))


def _inside(inner: Rect, outer: Rect, slack: float = 0.01) -> bool:
    return (
        outer.left - slack <= inner.left
        and inner.right <= outer.right + slack
        and outer.bottom - slack <= inner.bottom
        and inner.top <= outer.top + slack
    )


def test_a_sentence_on_page_3_is_highlighted_on_page_3_over_its_characters(
    tmp_path: Path,
) -> None:
    path = _written(tmp_path, booklet())
    document = read_document(path, tmp_path, Settings())
    start = document.text.index(ON_PAGE_3)
    assert document.page_at(start) == 3
    (marked,) = highlight(path, start, start + len(ON_PAGE_3), quote=ON_PAGE_3)
    assert marked.page == 3
    assert (round(marked.width), round(marked.height)) == (595, 842)  # A4 in points
    assert len(marked.rects) >= 2  # the sentence takes more than one line
    found = _on_page(path, marked)
    assert "".join("".join(found).split()) == "".join(ON_PAGE_3.split())
    assert _inside(_first_glyph(path, 3, ON_PAGE_3[:20]), marked.rects[0])
    assert all(r.left < r.right and r.bottom < r.top for r in marked.rects)
    assert all(_inside(r, Rect(0, 0, marked.width, marked.height)) for r in marked.rects)


def test_the_first_word_after_a_removed_header_maps_exactly(tmp_path: Path) -> None:
    path = _written(tmp_path, booklet())
    document = read_document(path, tmp_path, Settings())
    start = document.text.index("Repression")
    (marked,) = highlight(path, start, start + len("Repression"))
    assert (marked.page, _on_page(path, marked)) == (3, ["Repression"])


def test_a_word_hyphenated_across_two_lines_maps_to_both_halves(tmp_path: Path) -> None:
    path = _written(tmp_path, booklet(hyphenate=True))
    document = read_document(path, tmp_path, Settings())
    word = hyphenated_lines(" ".join(SECTIONS[0][1]))[1]
    start = document.text.index(f" {word} ") + 1
    (marked,) = highlight(path, start, start + len(word), quote=word)
    assert marked.page == 2
    # the hyphen is not in the word: its two halves are marked
    assert [found.strip() for found in _on_page(path, marked)] == [word[:4], word[4:]]
    assert marked.rects[1].top < marked.rects[0].bottom  # the second half a line below


def test_a_span_over_two_pages_is_marked_on_both(tmp_path: Path) -> None:
    path = _written(tmp_path, booklet())
    document = read_document(path, tmp_path, Settings())
    end_of_2 = document.text.index(SECTIONS[0][1][-1]) + len(SECTIONS[0][1][-1])
    start = end_of_2 - 8
    marked = highlight(path, start, end_of_2 + 12)
    assert [m.page for m in marked] == [2, 3]


def test_a_quote_that_is_not_there_is_refused(tmp_path: Path) -> None:
    path = _written(tmp_path, booklet())
    with pytest.raises(CorpusError, match=r"does not hold 'Nothing' at \[0, 7\)"):
        highlight(path, 0, 7, quote="Nothing")
    with pytest.raises(CorpusError, match=r"characters \[5, 10\*\*9\)|are not in"):
        highlight(path, 5, 10**9)


def test_the_page_is_drawn_with_the_answer_marked(tmp_path: Path) -> None:
    from PIL import Image

    path = _written(tmp_path, booklet())
    document = read_document(path, tmp_path, Settings())
    start = document.text.index(ON_PAGE_3)
    (marked,) = highlight(path, start, start + len(ON_PAGE_3))
    png = render_highlight(path, marked, scale=1.0)
    image = Image.open(io.BytesIO(png)).convert("RGB")
    assert abs(image.width - marked.width) <= 1 and abs(image.height - marked.height) <= 1
    # y grows down in the image, up in the PDF
    rect = marked.rects[0]
    inside = image.getpixel((int(rect.left + 2), int(marked.height - (rect.top + rect.bottom) / 2)))
    margin = image.getpixel((5, 5))
    assert margin == (255, 255, 255)
    assert isinstance(inside, tuple) and inside[2] < 200 < inside[0]  # yellow over it
    plain = render_highlight(path, PageHighlight(3, (), (), marked.width, marked.height), scale=1.0)
    assert plain != png
    with pytest.raises(CorpusError, match="has no page 9; it has 4 page"):
        render_highlight(path, PageHighlight(9, (), (), marked.width, marked.height))


@pytest.mark.parametrize("turn", TURNS.values(), ids=TURNS.keys())
def test_the_boxes_cover_the_words_where_the_page_is_drawn(
    tmp_path: Path, turn: dict[str, object]
) -> None:
    path = _written(tmp_path, turned(**turn))  # type: ignore[arg-type]
    text = read_document(path, tmp_path, Settings()).text
    start = text.index(LINE)
    (marked,) = highlight(path, start, start + len(LINE), quote=LINE)
    (box,) = marked.boxes
    plain = render_highlight(path, PageHighlight(1, (), (), marked.width, marked.height))
    drawn = ink(plain)  # the line's glyphs, where PDFium draws the page
    assert covers(box, drawn)
    # and no more than the line: its box within a line's height of its ink
    assert covers(
        Box(drawn.left - 0.02, drawn.top - 0.02, drawn.right + 0.02, drawn.bottom + 0.02), box
    )
    from PIL import Image

    image = Image.open(io.BytesIO(plain))
    assert (image.width, image.height) == (round(2 * marked.width), round(2 * marked.height))
    if turn.get("rotate"):
        assert marked.height < marked.width  # the page turned on its side
    # the server's PNG paints the same place yellow (its rects mapped by PDFium)
    painted = Image.open(io.BytesIO(render_highlight(path, marked))).convert("RGB")
    yellow = [
        (x, y)
        for y in range(0, painted.height, 2)
        for x in range(0, painted.width, 2)
        if (lambda r, g, b: r > 200 and b < 200)(*painted.getpixel((x, y)))  # type: ignore[misc]
    ]
    assert yellow
    assert covers(
        box,
        Box(
            min(x for x, _ in yellow) / painted.width,
            min(y for _, y in yellow) / painted.height,
            max(x for x, _ in yellow) / painted.width,
            max(y for _, y in yellow) / painted.height,
        ),
    )


def test_each_span_of_a_pdf_read_once(tmp_path: Path) -> None:
    path = _written(tmp_path, booklet())
    text = read_document(path, tmp_path, Settings()).text
    places = read_places(path)
    path.unlink()  # read once: the spans are found without the file
    start = text.index("Repression")
    assert places.highlight(start, start + 10, quote="Repression")[0].page == 3
    start = text.index(ON_PAGE_3)
    assert places.highlight(start, start + len(ON_PAGE_3))[0].page == 3


def test_a_scan_whose_ocr_was_not_kept_is_not_read_with_ocr(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import cppqa.documents.ocr

    path = _written(tmp_path, scanned(make_pdf([[LINE]]), dpi=100), "scan.pdf")
    ran: list[list[int]] = []
    monkeypatch.setattr(cppqa.documents.ocr, "missing_tesseract", lambda: None)
    monkeypatch.setattr(
        cppqa.documents.ocr, "ocr_pages", lambda data, numbers, *a, **k: ran.append(numbers)
    )
    with pytest.raises(CorpusError, match=r"scanned page\(s\) 1 is not kept .* OCR is not run"):
        highlight(path, 0, 4, settings=Settings(cache_dir=tmp_path / "cache"))
    assert ran == []


def test_to_json_gives_boxes_points_and_the_page() -> None:
    marked = PageHighlight(
        3, (Rect(10, 20, 30.123, 40),), (Box(0.1, 0.2, 0.3000004, 0.4),), 595.276, 841.89
    )
    assert marked.to_json() == {
        "page": 3,
        "boxes": [[0.1, 0.2, 0.3, 0.4]],
        "rects": [[10, 20, 30.12, 40]],
        "width": 595.28,
        "height": 841.89,
    }
