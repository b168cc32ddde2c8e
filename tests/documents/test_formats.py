"""documents/formats.py: PDF, Word, HTML, Markdown and text files read into the text answers quote.

Every test file is made here: PDFs with fpdf2 (``conftest.make_pdf``), Word files
with python-docx, web pages by hand.
"""

from __future__ import annotations

import io
import json
import subprocess
import sys
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import DOCUMENT, ROOT, FakeEmbedder, make_pdf
from cppqa.config import Settings
from cppqa.documents.corpus import load_corpus, split_sentences
from cppqa.documents.formats import SUFFIXES, read_document
from cppqa.documents.pdflines import reflow
from cppqa.errors import CorpusError
from cppqa.records import Document, Heading
from cppqa.search.embed import ModelInfo
from cppqa.search.index import Index, ensure_index

TEXT = DOCUMENT.read_text(encoding="utf-8")
SENTENCES = [s.text for s in split_sentences(TEXT)]


# --- making the files ----------------------------------------------------------------------


def make_docx(blocks: list[tuple[str, int | None]], table: list[list[str]] | None = None) -> bytes:
    """A Word file of paragraphs, with a heading of the given level where it is not None."""
    import docx

    document = docx.Document()
    for text, level in blocks:
        if level is None:
            document.add_paragraph(text)
        else:
            document.add_heading(text, level)
    if table:
        grid = document.add_table(rows=len(table), cols=len(table[0]))
        for row, values in zip(grid.rows, table, strict=True):
            for cell, value in zip(row.cells, values, strict=True):
                cell.text = value
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


MENU = (
    '<ul class="menu"><li><a href="/">Home</a></li><li><a href="/about">About us</a></li>'
    '<li><a href="/news">Latest news</a></li><li><a href="/contact">Contact</a></li></ul>'
)
JUNK = ["Home", "About us", "Latest news", "Contact", "tracker", "All rights reserved", "Subscribe"]


def make_html(sections: list[tuple[str, list[str]]]) -> bytes:
    """A web page: the sections (h2 and paragraphs) inside menus, scripts and a footer."""
    body = "".join(
        f"<h2>{heading}</h2>" + "".join(f"<p>{p}</p>" for p in paragraphs)
        for heading, paragraphs in sections
    )
    return f"""<!DOCTYPE html><html><head><meta charset="utf-8"><title>CPP</title>
<script>var tracker = "the tracker";</script><style>p {{ color: #222; }}</style></head>
<body><header><nav>{MENU}</nav></header>
<main><article><h1>Communist Party of Pakistan</h1>{body}</article></main>
<aside><h3>Subscribe</h3><p>Subscribe to our newsletter.</p>{MENU}</aside>
<script>document.write("tracker");</script>
<footer><p>Copyright 2024 Example Press. All rights reserved.</p></footer></body></html>
""".encode()


def _thirds() -> list[list[str]]:
    third = len(SENTENCES) // 3
    return [SENTENCES[:third], SENTENCES[third : 2 * third], SENTENCES[2 * third :]]


def _read(tmp_path: Path, name: str, data: bytes, **overrides: int) -> Document:
    path = tmp_path / name
    path.write_bytes(data)
    return read_document(path, tmp_path, Settings(**overrides))


def _assert_headings(document: Document, expected: list[tuple[int, str]]) -> None:
    """The document's headings are ``expected`` (level, text), each at its own offset."""
    assert [(h.level, h.text) for h in document.headings] == expected
    for heading in document.headings:
        assert document.text[heading.start : heading.start + len(heading.text)] == heading.text


def _sentences(document: Document) -> list[str]:
    return [s.text for s in split_sentences(document.text)]


# --- PDF -----------------------------------------------------------------------------------


def test_a_pdf_of_the_shipped_document_reads_as_its_text(tmp_path: Path) -> None:
    """The whole document as one paragraph over five small pages, broken mid-sentence."""
    document = _read(tmp_path, "cpp.pdf", make_pdf([[TEXT]]))
    assert document.text == TEXT  # so answers and their offsets are those of the .txt
    assert _sentences(document) == SENTENCES
    starts = document.page_starts
    assert len(starts) == 5
    assert starts[0] == 0
    assert list(starts) == sorted(set(starts))
    sentences = split_sentences(document.text)
    assert any(s.start < start < s.end for start in starts for s in sentences)


def test_pdf_page_starts_map_each_sentence_to_its_page(tmp_path: Path) -> None:
    thirds = _thirds()
    data = make_pdf([[" ".join(p)] for p in thirds], size=(148, 210))  # A5: a third fits
    document = _read(tmp_path, "cpp.pdf", data)
    assert _sentences(document) == SENTENCES
    assert len(document.page_starts) == 3
    for page, sentences in enumerate(thirds, start=1):
        for sentence in sentences:
            assert document.page_at(document.text.index(sentence)) == page, sentence
    on_page_2 = "For this reason, in 1954, the party was declared illegal."
    assert on_page_2 in thirds[1]
    assert document.page_at(document.text.index(on_page_2)) == 2


def test_pdf_paragraphs_and_headings_stay_apart(tmp_path: Path) -> None:
    first = _thirds()[0]
    paragraphs = ["History", " ".join(first[:6]), " ".join(first[6:]), "Today"]
    data = make_pdf([paragraphs[:3], paragraphs[3:]], size=(148, 210))
    document = _read(tmp_path, "cpp.pdf", data)
    assert document.text == "\n\n".join(paragraphs)
    assert document.page_starts == (0, document.text.index("Today"))


def test_reflow_joins_hyphenated_words_and_cleans_characters() -> None:
    # PDFium marks a hyphen it found at a line's end with U+0002.
    lines = [
        "In 1948 the first congress of the organi\x02",
        "zation met in Calcutta, and its Marxism\x02",
        "Leninism was the ﬁrst point of its pro\u00adgramme",
        "and\t of its  work\x00 in the years that followed.",
    ]
    assert reflow(["\n".join(lines)]).text == (
        "In 1948 the first congress of the organization met in Calcutta, and its "
        "Marxism-Leninism was the first point of its programme and of its work in the "
        "years that followed."
    )


def test_reflow_gives_a_page_without_text_the_start_of_the_next() -> None:
    content = reflow(["First page text.", "  \n", "Third page text."])
    assert content.text == "First page text.\n\nThird page text."
    assert content.page_starts == (0, 18, 18)
    document = Document("d.pdf", "D", content.text, "", page_starts=content.page_starts)
    assert document.page_at(18) == 3
    assert document.page_at(17) == 1


_WORD = st.text(alphabet="abcdefghij.,ABC", min_size=1, max_size=9)
_LINE = st.lists(_WORD, min_size=1, max_size=8).map(" ".join)
_PAGE = st.lists(_LINE, max_size=6).map("\n".join)


@settings(max_examples=200, deadline=None)
@given(st.lists(_PAGE, min_size=1, max_size=5))
def test_reflow_keeps_every_word_and_where_each_page_starts(pages: list[str]) -> None:
    content = reflow(pages)
    assert content.text.split() == " ".join(pages).split()  # nothing lost, nothing added
    starts = content.page_starts
    assert len(starts) == len(pages)
    assert list(starts) == sorted(starts)
    assert all(0 <= start <= len(content.text) for start in starts)
    for page, start in zip(pages, starts, strict=True):
        if page.split():
            assert content.text[start:].startswith(page.split()[0])


# --- Word ----------------------------------------------------------------------------------


def test_a_docx_reads_as_paragraphs_with_its_headings(tmp_path: Path) -> None:
    first, second, third = _thirds()
    blocks: list[tuple[str, int | None]] = [
        ("Communist Party of Pakistan", 0),
        ("Formation", 1),
        (" ".join(first), None),
        ("Repression", 2),
        (" ".join(second), None),
        ("Today", 1),
        ("", None),  # an empty paragraph is no paragraph
        (" ".join(third), None),
    ]
    data = make_docx(blocks, table=[["Year", "Event"], ["1948", "Party formed"]])
    document = _read(tmp_path, "cpp.docx", data)
    _assert_headings(
        document,
        [
            (0, "Communist Party of Pakistan"),
            (1, "Formation"),
            (2, "Repression"),
            (1, "Today"),
        ],
    )
    sentences = _sentences(document)
    assert [s for s in sentences if s in SENTENCES] == SENTENCES
    assert sentences[-2:] == ["Year | Event", "1948 | Party formed"]
    illegal = document.text.index("For this reason, in 1954, the party was declared illegal.")
    assert document.heading_at(illegal) == Heading(
        document.text.index("Repression"), 2, "Repression"
    )


def test_a_pdf_with_too_much_text_is_refused_before_its_last_pages(tmp_path: Path) -> None:
    path = tmp_path / "long.pdf"
    path.write_bytes(make_pdf([[SENTENCES[0]]] * 10))
    told: list[int] = []
    with pytest.raises(CorpusError) as raised:
        read_document(
            path,
            tmp_path,
            Settings(max_document_chars=2 * len(SENTENCES[0])),
            progress=lambda _doc, done, _pages: told.append(done),
        )
    assert str(raised.value) == (
        f"{str(path)!r} holds more than {2 * len(SENTENCES[0]):,} characters of text, the "
        "limit (CPPQA_MAX_DOCUMENT_CHARS): split it into smaller files"
    )
    assert told and told[-1] < 10  # the pages after the limit were never read


def _rich_docx() -> bytes:
    """A Word file with what python-docx reads in its own way: the title and headings,
    line, page and column breaks, tabs, a hyperlink, a tracked insertion and a content
    control (both left out), merged cells across and down, a second paragraph and a
    nested table in a cell, other styles, and a style with no name."""
    import docx
    from docx.enum.text import WD_BREAK
    from docx.oxml import parse_xml
    from docx.oxml.ns import nsdecls

    document = docx.Document()
    document.add_heading("The Title", 0)
    document.add_heading("Heading one", 1)
    paragraph = document.add_paragraph("Before a break")
    paragraph.add_run("line").add_break(WD_BREAK.LINE)
    paragraph.add_run("after\tTab")
    paragraph.add_run("page").add_break(WD_BREAK.PAGE)
    paragraph.add_run("next").add_break(WD_BREAK.COLUMN)
    paragraph.add_run().add_tab()
    paragraph.add_run("tabbed")
    w = nsdecls("w")
    paragraph._p.append(
        parse_xml(f"<w:hyperlink {w}><w:r><w:t>link text</w:t></w:r></w:hyperlink>")
    )
    paragraph._p.append(
        parse_xml(f'<w:ins {w} w:id="1" w:author="x"><w:r><w:t>inserted</w:t></w:r></w:ins>')
    )
    document.add_heading("Heading three", 3)
    table = document.add_table(rows=3, cols=3)
    for i, row in enumerate(table.rows):
        for j, cell in enumerate(row.cells):
            cell.text = f"c{i}{j}"
    table.cell(0, 0).merge(table.cell(0, 1))
    table.cell(0, 2).merge(table.cell(2, 2))
    table.cell(2, 0).add_paragraph("second paragraph in a cell")
    table.cell(2, 1).add_table(rows=1, cols=2).cell(0, 0).text = "nested"
    document.add_paragraph("Quoted", style="Quote")
    document.add_paragraph("Listed", style="List Bullet")
    inside = "<w:p><w:r><w:t>in a control</w:t></w:r></w:p>"
    control = f"<w:sdt {w}><w:sdtContent>{inside}</w:sdtContent></w:sdt>"
    body = document.element.body
    body.insert(len(body) - 1, parse_xml(control))
    document.add_paragraph("  spaced   out  ")
    document.add_paragraph("")
    document.add_paragraph("Last.")
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def _as_python_docx_reads(data: bytes) -> tuple[str, list[tuple[int, str]]]:
    """The text and headings of a Word file as read through python-docx's whole tree
    (how documents.py read it before it streamed)."""
    import docx
    from docx.text.paragraph import Paragraph

    texts: list[str] = []
    headings: list[tuple[int, str]] = []
    for item in docx.Document(io.BytesIO(data)).iter_inner_content():
        if isinstance(item, Paragraph):
            text = " ".join(item.text.split())
            style = item.style.name if item.style is not None else ""
            if text and (style == "Title" or style.startswith("Heading ")):
                headings.append((0 if style == "Title" else int(style[8:]), text))
            texts.append(text)
            continue
        for row in item.rows:
            cells: list[str] = []
            for cell in row.cells:
                text = " ".join(cell.text.split())
                if text and (not cells or cells[-1] != text):
                    cells.append(text)
            texts.append(" | ".join(cells))
    return "\n\n".join(t for t in texts if t), headings


def test_a_docx_is_streamed_into_what_python_docx_reads(tmp_path: Path) -> None:
    data = _rich_docx()
    document = _read(tmp_path, "rich.docx", data)
    text, headings = _as_python_docx_reads(data)
    assert document.text == text
    assert [(h.level, h.text) for h in document.headings] == headings
    assert "link text" in text and "c00 c01 | c02" in text  # the file holds what it should
    assert "inserted" not in text and "in a control" not in text and "nested" not in text


def test_a_docx_with_too_much_text_is_refused_once_that_much_is_read(tmp_path: Path) -> None:
    data = make_docx([(f"Paragraph {n}.", None) for n in range(2000)])
    with pytest.raises(CorpusError) as raised:
        _read(tmp_path, "long.docx", data, max_document_chars=1000)
    assert str(raised.value) == (
        f"{str(tmp_path / 'long.docx')!r} holds more than 1,000 characters of text, the "
        "limit (CPPQA_MAX_DOCUMENT_CHARS): split it into smaller files"
    )


# --- HTML ----------------------------------------------------------------------------------


def test_a_web_page_reads_as_its_main_text_without_menus_or_scripts(tmp_path: Path) -> None:
    first, second, third = _thirds()
    sections = [("Formation", [" ".join(first)]), ("Repression", second), ("Today", third)]
    document = _read(tmp_path, "cpp.html", make_html(sections))
    assert [s for s in _sentences(document) if s in SENTENCES] == SENTENCES
    for junk in JUNK:
        assert junk not in document.text
    _assert_headings(
        document,
        [
            (1, "Communist Party of Pakistan"),
            (2, "Formation"),
            (2, "Repression"),
            (2, "Today"),
        ],
    )
    last = document.text.index(SENTENCES[-1])
    assert document.heading_at(last) is not None
    assert document.heading_at(last).text == "Today"  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("heading", "kept"),
    [
        (
            'Socket Programming HOWTO<a class="headerlink" href="#s">¶</a>',
            "Socket Programming HOWTO",
        ),
        ('Creating a Socket <a href="#c">#</a>', "Creating a Socket"),
        ('Section<a class="doc-anchor" href="#x">§</a>', "Section"),
        ('Links <a href="#l">🔗</a>', "Links"),
        ('Links <a href="#l">🔗\ufe0f</a>', "Links"),
        ("Using C#", "Using C#"),
    ],
)
def test_html_headings_lose_their_permalink_sign(tmp_path: Path, heading: str, kept: str) -> None:
    page = make_html([("Formation", SENTENCES[:3])]).replace(
        b"<h2>Formation</h2>", f"<h2 id='f'>{heading}</h2>".encode()
    )
    document = _read(tmp_path, "doc.html", page)
    assert [h.text for h in document.headings][1] == kept
    assert f"{kept}\n\n" in document.text  # the sign is gone from the text answers quote


def test_htm_is_html(tmp_path: Path) -> None:
    document = _read(tmp_path, "cpp.htm", make_html([("Today", SENTENCES[-3:])]))
    assert _sentences(document)[-3:] == SENTENCES[-3:]


# --- Markdown and text ---------------------------------------------------------------------


def test_markdown_is_read_as_it_is_with_its_headings(tmp_path: Path) -> None:
    text = (
        "# The party\n\nIt was formed in 1948.\n\n## Repression ##\n\nIt was banned.\n\n"
        "```\n# not a heading\n```\n\n#hashtag is not one either\n   ### Today\n"
    )
    document = _read(tmp_path, "notes.md", text.encode())
    assert document.text == text
    assert [(h.level, h.text) for h in document.headings] == [
        (1, "The party"),
        (2, "Repression"),
        (3, "Today"),
    ]
    for heading in document.headings:
        assert text[heading.start : heading.start + len(heading.text)] == heading.text
    assert document.heading_at(text.index("banned")).text == "Repression"  # type: ignore[union-attr]


def test_text_is_read_as_it_is(tmp_path: Path) -> None:
    document = _read(tmp_path, "cpp.txt", TEXT.encode())
    assert (document.text, document.headings, document.page_starts) == (TEXT, (), ())
    assert document.page_at(10) is None
    assert document.heading_at(10) is None


# --- bad files ------------------------------------------------------------------------------


def _scan() -> bytes:
    from fpdf import FPDF

    pdf = FPDF()
    for _ in range(2):
        pdf.add_page()
        pdf.rect(20, 20, 100, 150, style="F")  # an image of a page, no text
    return bytes(pdf.output())


def _encrypted() -> bytes:
    from fpdf import FPDF

    pdf = FPDF()
    pdf.set_font("helvetica", size=12)
    pdf.add_page()
    pdf.cell(text="Minutes of the secret meeting.")
    pdf.set_encryption(owner_password="owner", user_password="reader")
    return bytes(pdf.output())


def _zip(files: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    return out.getvalue()


def _bomb() -> bytes:
    """A real .docx plus 5 MB of zeros that pack into a few KB."""
    with zipfile.ZipFile(io.BytesIO(make_docx([("Text.", None)]))) as archive:
        files = {i.filename: archive.read(i) for i in archive.infolist()}
    return _zip({**files, "word/media/zeros.bin": bytes(5_000_000)})


PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(40)

BAD: dict[str, tuple[str, Callable[[], bytes], dict[str, int], str]] = {
    "encrypted": (
        "secret.pdf",
        _encrypted,
        {},
        "'{path}' is an encrypted PDF that needs a password: save an unprotected copy (for "
        "example, print it to PDF) and use that",
    ),
    "truncated": (
        "cut.pdf",
        lambda: make_pdf([[TEXT]])[:-2000],
        {},
        "'{path}' is truncated (the PDF has no end-of-file marker): download or export it again",
    ),
    "corrupt": (
        "damaged.pdf",
        lambda: b"%PDF-1.7\n" + bytes(range(256)) * 20 + b"\n%%EOF\n",
        {},
        "'{path}' is a damaged PDF that cannot be read (Failed to load document (PDFium: Data "
        "format error).): download or export it again",
    ),
    "image renamed to .pdf": (
        "photo.pdf",
        lambda: PNG,
        {},
        "'{path}' is not a PDF (it looks like a PNG image): give it the name of its real "
        "type, or export it as PDF again",
    ),
    "docx renamed to .pdf": (
        "letter.pdf",
        lambda: make_docx([("Dear comrade,", None)]),
        {},
        "'{path}' is not a PDF (it looks like a ZIP archive (.docx, .xlsx, .zip?)): give it "
        "the name of its real type, or export it as PDF again",
    ),
    "text renamed to .pdf": (
        "notes.pdf",
        lambda: TEXT.encode(),
        {},
        "'{path}' is not a PDF (it looks like a text file): give it the name of its real "
        "type, or export it as PDF again",
    ),
    "too many pages": (
        "long.pdf",
        lambda: make_pdf([[TEXT]]),
        {"max_pages": 4},
        "'{path}' has 5 pages; the limit is 4 (CPPQA_MAX_PAGES): split it into smaller files",
    ),
    "zip bomb": (
        "bomb.docx",
        _bomb,
        {"max_unpacked_bytes": 2_000_000},
        "'{path}' would unpack to 5.8 MB from 42 KB, more than the 2.0 MB allowed "
        "(CPPQA_MAX_UNPACKED_BYTES): it may be a zip bomb; leave it out, or open it in Word "
        "and save it again",
    ),
    "old .doc renamed to .docx": (
        "old.docx",
        lambda: b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504),
        {},
        "'{path}' is not a Word .docx file (it looks like an old Office file (.doc, .xls) or "
        "a password-protected one): open it in Word or LibreOffice and save it as .docx",
    ),
    "truncated docx": (
        "cut.docx",
        lambda: make_docx([(TEXT, None)])[:3000],
        {},
        "'{path}' is truncated or damaged (File is not a zip file): download it again, or "
        "open it in Word and save it again",
    ),
    "zip that is no docx": (
        "archive.docx",
        lambda: _zip({"notes.txt": b"Not a Word document."}),
        {},
        "'{path}' cannot be read as a Word document (There is no item named "
        "'[Content_Types].xml' in the archive): "
        "open it in Word and save it again as .docx",
    ),
    "empty pdf": ("empty.pdf", lambda: b"", {}, "'{path}' is empty: put the document's text in it"),
    "empty docx": (
        "empty.docx",
        lambda: b"",
        {},
        "'{path}' is empty: put the document's text in it",
    ),
    "docx without text": (
        "blank.docx",
        lambda: make_docx([("", None), ("  ", None)]),
        {},
        "'{path}' has no text: put the document's text in it",
    ),
    "empty html": (
        "empty.html",
        lambda: b"<html><body></body></html>",
        {},
        "'{path}' has no main text (nothing but menus, scripts or markup): save the page with "
        "its article, or copy the text into a .txt file",
    ),
    "empty text": (
        "empty.txt",
        lambda: b" \n\n",
        {},
        "'{path}' has no text: put the document's text in it",
    ),
    "not utf-8": (
        "latin1.txt",
        lambda: "Café society.".encode("latin-1"),
        {},
        "'{path}' is not valid UTF-8 (byte 3); save it as UTF-8 or remove it from the corpus",
    ),
    "too much text": (
        "long.md",
        lambda: TEXT.encode(),
        {"max_document_chars": 1000},
        "'{path}' holds 3,724 characters of text; the limit is 1,000 "
        "(CPPQA_MAX_DOCUMENT_CHARS): split it into smaller files",
    ),
    "unsupported type": (
        "notes.rtf",
        lambda: b"{\\rtf1 Text.}",
        {},
        "'{path}' is not a document cppqa reads; it reads .pdf, .docx, .html, .htm, .md or "
        ".txt files",
    ),
}


@pytest.mark.parametrize("case", BAD, ids=list(BAD))
def test_each_bad_file_gets_its_message(tmp_path: Path, case: str) -> None:
    name, make, overrides, message = BAD[case]
    path = tmp_path / name
    path.write_bytes(make())
    before = sorted(tmp_path.rglob("*"))
    with pytest.raises(CorpusError) as raised:
        read_document(path, tmp_path, Settings(**overrides))
    assert str(raised.value) == message.format(path=path)
    assert sorted(tmp_path.rglob("*")) == before  # reading writes nothing


def test_a_scan_without_tesseract_is_refused_naming_the_install_command(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import cppqa.documents.ocr

    monkeypatch.setattr(cppqa.documents.ocr.shutil, "which", lambda _command: None)
    with pytest.raises(CorpusError) as raised:
        _read(tmp_path, "scan.pdf", _scan())
    assert str(raised.value) == (
        f"{str(tmp_path / 'scan.pdf')!r} has no text layer (2 page(s) of images: a scan?); "
        "OCR is not supported here: Tesseract is not installed (apt-get install "
        "tesseract-ocr tesseract-ocr-eng): run it through an OCR tool (such as ocrmypdf) "
        "first, or use the original document"
    )


def test_a_scan_where_ocr_finds_no_text_is_refused(tmp_path: Path) -> None:
    from cppqa.documents.ocr import missing_tesseract

    if missing_tesseract():
        pytest.skip(missing_tesseract())
    path = tmp_path / "scan.pdf"
    path.write_bytes(_scan())  # two pages of a grey box
    with pytest.raises(CorpusError) as raised:
        read_document(path, tmp_path, Settings(cache_dir=tmp_path / "cache"))
    assert str(raised.value) == (
        f"{str(tmp_path / 'scan.pdf')!r} has no text layer and OCR found no text on its 2 "
        "page(s): use a clearer scan, or the original document"
    )


def test_a_file_over_the_size_limit_is_refused_before_it_is_read(tmp_path: Path) -> None:
    huge = tmp_path / "huge.pdf"
    with huge.open("wb") as f:
        f.truncate(Settings().max_file_bytes + 1)  # sparse: costs no disk and no time
    with pytest.raises(CorpusError) as raised:
        read_document(huge, tmp_path)
    assert str(raised.value) == (
        f"{str(huge)!r} is 50.0 MB; the limit is 50.0 MB per file (CPPQA_MAX_FILE_BYTES): "
        "split it into smaller files or trim it"
    )


def test_the_limits_come_from_the_environment() -> None:
    limits = Settings.from_env({"CPPQA_MAX_PAGES": "30", "CPPQA_MAX_FILE_BYTES": "1000"})
    assert (limits.max_pages, limits.max_file_bytes) == (30, 1000)
    with pytest.raises(Exception, match="max_unpacked_bytes must be positive, got 0"):
        Settings.from_env({"CPPQA_MAX_UNPACKED_BYTES": "0"})


# --- the corpus: a folder of mixed files, or one file ---------------------------------------


def test_a_folder_takes_every_format(tmp_path: Path) -> None:
    first, second, third = _thirds()
    (tmp_path / "a.pdf").write_bytes(make_pdf([first]))
    (tmp_path / "b.docx").write_bytes(make_docx([(s, None) for s in second]))
    (tmp_path / "c.html").write_bytes(make_html([("Today", third)]))
    (tmp_path / "d.md").write_text("# Notes\n\nMore notes.", encoding="utf-8")
    (tmp_path / "~$b.docx").write_bytes(b"\x08Word's lock file")
    (tmp_path / "e.txt").write_text("", encoding="utf-8")  # empty: kept, without text
    documents = load_corpus(tmp_path)
    assert [d.doc for d in documents] == ["a.pdf", "b.docx", "c.html", "d.md", "e.txt"]
    sentences = [s for d in documents[:3] for s in _sentences(d) if s in SENTENCES]
    assert sentences == SENTENCES
    assert documents[0].page_starts[0] == 0
    assert documents[1].page_starts == documents[1].headings == ()
    assert documents[4].text == ""


def test_a_single_file_is_a_corpus(tmp_path: Path) -> None:
    path = tmp_path / "report.pdf"
    path.write_bytes(make_pdf([[TEXT]]))
    (tmp_path / "report.meta.json").write_text(json.dumps({"title": "The report"}))
    (tmp_path / "other.txt").write_text("Not part of it.", encoding="utf-8")
    (document,) = load_corpus(path)
    assert (document.doc, document.title, document.text) == ("report.pdf", "The report", TEXT)


def test_a_single_empty_file_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "empty.md"
    path.write_text("", encoding="utf-8")
    with pytest.raises(CorpusError, match=r"empty\.md' is empty"):
        load_corpus(path)


def test_a_folder_without_documents_lists_the_formats(tmp_path: Path) -> None:
    (tmp_path / "notes.rtf").write_text("Not read.", encoding="utf-8")
    with pytest.raises(CorpusError) as raised:
        load_corpus(tmp_path)
    assert str(raised.value).endswith("has no .pdf, .docx, .html, .htm, .md, .txt files")
    assert SUFFIXES == (".pdf", ".docx", ".html", ".htm", ".md", ".txt")


def _info(embedder: FakeEmbedder) -> ModelInfo:
    return ModelInfo(embedder.name, Path("."), embedder.weights_sha256)


def test_a_pdf_corpus_is_indexed_and_loaded_like_the_text(
    tmp_path: Path, fake_embedder: FakeEmbedder
) -> None:
    path = tmp_path / "cpp.pdf"
    path.write_bytes(make_pdf([[TEXT]]))
    pdf = Settings(corpus_dir=path, index_dir=tmp_path / "index")
    txt = Settings(corpus_dir=DOCUMENT, index_dir=tmp_path / "unused")
    built = Index.build(pdf, fake_embedder)
    assert [p.text for p in built.sentences] == SENTENCES
    assert [p.text for p in built.chunks] == [
        p.text for p in Index.build(txt, fake_embedder).chunks
    ]
    built.save(pdf.index_dir)
    loaded = ensure_index(pdf, _info(fake_embedder), lambda: pytest.fail("rebuilt"))
    assert loaded.sentences == built.sentences
    assert loaded.documents[0].page_starts == built.documents[0].page_starts
    assert len(loaded.documents[0].page_starts) == 5


def test_a_bad_file_leaves_the_index_as_it_was(
    settings: Settings, fake_embedder: FakeEmbedder
) -> None:
    Index.build(settings, fake_embedder).save(settings.index_dir)
    snapshot = {p: p.read_bytes() for p in settings.index_dir.rglob("*") if p.is_file()}
    (settings.corpus_dir / "scan.pdf").write_bytes(_scan())
    embedder = FakeEmbedder()
    with pytest.raises(CorpusError, match=r"scan\.pdf' has no text layer"):
        ensure_index(settings, _info(fake_embedder), lambda: embedder)
    assert embedder.calls == 0
    assert {p: p.read_bytes() for p in settings.index_dir.rglob("*") if p.is_file()} == snapshot
    assert sorted(p.name for p in settings.index_dir.parent.iterdir()) == ["corpus", "index"]


def test_reading_the_corpus_loads_no_document_library() -> None:
    code = (
        "import sys\nfrom cppqa.documents.corpus import load_corpus\nload_corpus(sys.argv[1])\n"
        "print(sorted(m for m in ('pypdfium2', 'docx', 'trafilatura') if m in sys.modules))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code, str(DOCUMENT.parent)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
    )
    assert result.stdout.strip() == "[]", result.stderr
