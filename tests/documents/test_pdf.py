"""pdf.py: a PDF's text without its running header, page numbers and contents page."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from booklets import HEADER, SECTIONS, booklet
from cppqa.config import Settings
from cppqa.documents.corpus import corpus_passages, split_sentences
from cppqa.documents.formats import read_document
from cppqa.documents.pdf import read_pdf_text


def _document(tmp_path: Path, name: str, data: bytes):  # type: ignore[no-untyped-def]
    path = tmp_path / name
    path.write_bytes(data)
    return read_document(path, tmp_path, Settings())


def test_a_booklet_reads_without_its_header_page_numbers_and_contents(tmp_path: Path) -> None:
    document = _document(tmp_path, "booklet.pdf", booklet())
    plain = _document(tmp_path, "plain.pdf", booklet(furniture=False))
    assert document.text == plain.text  # the same as if the pages had none of it
    assert document.page_starts == plain.page_starts
    assert HEADER not in document.text
    assert "Contents" not in document.text and ". . ." not in document.text
    sentences = [s.text for s in split_sentences(document.text)]
    assert not [s for s in sentences if s.strip().isdigit()]  # no page number left
    for heading, section in SECTIONS:
        assert heading in sentences
        assert all(s in sentences for s in section)
    sentences_, chunks = corpus_passages([document], 3, 1)
    assert not [p for p in sentences_ + chunks if HEADER in p.text or "Contents" in p.text]


def test_page_citations_stay_right_without_the_header_and_contents(tmp_path: Path) -> None:
    document = _document(tmp_path, "booklet.pdf", booklet())
    assert len(document.page_starts) == 4
    assert document.page_starts[0] == document.page_starts[1] == 0  # the contents: no text
    for page, (heading, section) in enumerate(SECTIONS, start=2):
        assert document.page_at(document.text.index(heading)) == page
        for sentence in section:
            assert document.page_at(document.text.index(sentence)) == page, sentence


def test_a_pdf_read_again_is_not_read_twice() -> None:
    data = booklet()
    told: list[tuple[int, int]] = []
    first = read_pdf_text(data, "b.pdf", Settings())
    again = read_pdf_text(data, "b.pdf", Settings(), lambda done, pages: told.append((done, pages)))
    assert again is first
    assert told == [(4, 4)]


@pytest.mark.parametrize("hyphenate", [False, True])
def test_each_character_is_traced_to_a_glyph_of_its_page(hyphenate: bool) -> None:
    import pypdfium2 as pdfium

    data = booklet(hyphenate=hyphenate)
    text = read_pdf_text(data, "b.pdf", Settings()).text
    pdf = pdfium.PdfDocument(data)
    pages = [pdf[n].get_textpage().get_text_range() for n in range(len(pdf))]
    for at, ch in enumerate(text.text):
        page, char = text.pages[at], text.chars[at]
        if page < 0:
            assert ch in " \n"
        else:
            assert pages[page][char] == ch or (ch == "-" and pages[page][char] == "\ufffe")


def test_figure_pages_past_the_ocr_limit_of_a_text_pdf_are_left_out(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """A text PDF with more pages of figures alone (no text) than OCR reads is read, OCR
    reading the first of them and the rest left out with a warning, not refused."""
    from fpdf import FPDF

    import cppqa.documents.ocr

    pdf = FPDF()
    pdf.set_font("helvetica", size=11)
    pdf.add_page()
    pdf.multi_cell(0, 6, "The party was founded in Calcutta in 1948.")
    for _ in range(3):
        pdf.add_page()
        pdf.rect(20, 20, 100, 60, style="F")  # a figure: drawn, no text
    read: list[int] = []

    def ocr_pages(data: bytes, numbers: list[int], *args: object) -> Iterator[tuple[str, tuple]]:
        read.extend(numbers)
        return iter([("", ())] * len(numbers))

    monkeypatch.setattr(cppqa.documents.ocr, "missing_tesseract", lambda: None)
    monkeypatch.setattr(cppqa.documents.ocr, "ocr_pages", ocr_pages)
    settings = Settings(cache_dir=tmp_path / "cache", ocr_max_pages=1)
    content = read_pdf_text(bytes(pdf.output()), "figures.pdf", settings)
    assert content.text.text == "The party was founded in Calcutta in 1948."
    assert read == [1]
    assert "2 page(s) without text after the first 1 left out unread" in caplog.text
    assert "pages 3, 4" in caplog.text
