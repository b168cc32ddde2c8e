"""One PDF uploaded and asked about, as a user of the web page does, timed stage by stage;
and the PDFs the documents bench makes (``pdf_pages``). Read by the documents bench and
the scan bench."""

from __future__ import annotations

import ctypes
import io
import textwrap
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cppqa.documents.corpus import split_sentences
from cppqa.search.progress import Stage, Step

if TYPE_CHECKING:
    from cppqa.uploads.sessions import Uploads


#: The page: A4 in points, 1-inch margins, 11-point Helvetica on 14-point lines: 48 lines
#: of at most 88 characters (about 3.7 KB of text), a dense report page.
_PAGE, _MARGIN, _FONT_SIZE, _LEADING, _LINE_CHARS = (595.0, 842.0), 72.0, 11.0, 14.0, 88


PARAGRAPH_SENTENCES = 5


@dataclass(frozen=True)
class UploadRun:
    """One PDF from the upload to its first answer; ``seconds`` is the whole of it.

    ``read_seconds`` runs from ``Uploads.add``'s first progress step to its last reading
    step (the move into the session folder and ``read_document``), ``index_seconds``
    from there to the ``QA`` it returns (``Index.build``: splitting, then embedding
    batch by batch), ``answer_seconds`` is the first ``ask`` (``stage_seconds``).
    """

    pages: int
    characters: int
    sentences: int
    passages: int
    read_seconds: float
    index_seconds: float
    answer_seconds: float
    seconds: float
    #: Where the first answer was found ("report.pdf, p. 3"), or "" when it abstained.
    cited: str


def pdf_pages(text: str, pages: int) -> bytes:
    """A PDF of ``pages`` A4 pages of ``text`` (repeated as needed) in paragraphs of
    ``PARAGRAPH_SENTENCES`` sentences, a blank line between them.

    Helvetica is one of PDF's standard fonts and is not embedded; a character it
    cannot show (outside Windows-1252, such as '۔') is written as '?'.

    >>> from cppqa.config import Settings
    >>> from cppqa.documents.formats import read_pdf
    >>> len(read_pdf(pdf_pages("One. Two.", 3), "a.pdf", Settings()).page_starts)
    3
    """
    import pypdfium2 as pdfium
    import pypdfium2.raw as pdfium_c

    sentences = [s.text for s in split_sentences(text)]
    if not sentences:
        raise ValueError("pdf_pages needs text with at least one sentence")
    per_page = int((_PAGE[1] - 2 * _MARGIN) // _LEADING)
    lines: list[str] = []
    at = 0
    while len(lines) < pages * per_page:
        paragraph = " ".join(
            sentences[(at + n) % len(sentences)] for n in range(PARAGRAPH_SENTENCES)
        )
        paragraph = paragraph.encode("cp1252", "replace").decode("cp1252")
        # Not at hyphens: PDFium would report a hyphen ending a line as a soft one.
        lines += [*textwrap.wrap(paragraph, _LINE_CHARS, break_on_hyphens=False), ""]
        at += PARAGRAPH_SENTENCES
    pdf = pdfium.PdfDocument.new()
    font = pdfium_c.FPDFText_LoadStandardFont(pdf.raw, b"Helvetica")
    try:
        for number in range(pages):
            page = pdf.new_page(*_PAGE)
            for row, line in enumerate(lines[number * per_page : (number + 1) * per_page]):
                if line:
                    _add_line(pdf, page, font, line, _PAGE[1] - _MARGIN - (row + 1) * _LEADING)
            page.gen_content()
            page.close()
        out = io.BytesIO()
        pdf.save(out)
    finally:
        pdfium_c.FPDFFont_Close(font)
        pdf.close()
    return out.getvalue()


def _add_line(pdf: Any, page: Any, font: Any, line: str, y: float) -> None:
    """One line of text at the left margin, its baseline at ``y``. PDFium's C API:
    pypdfium2 has no helper for writing text."""
    import pypdfium2.raw as pdfium_c

    text = pdfium_c.FPDFPageObj_CreateTextObj(pdf.raw, font, _FONT_SIZE)
    utf16 = ctypes.create_string_buffer((line + "\0").encode("utf-16-le"))
    pdfium_c.FPDFText_SetText(text, ctypes.cast(utf16, ctypes.POINTER(pdfium_c.FPDF_WCHAR)))
    pdfium_c.FPDFPageObj_Transform(text, 1, 0, 0, 1, _MARGIN, y)
    pdfium_c.FPDFPage_InsertObject(page.raw, text)


def upload(
    uploads: Uploads, folder: Path, data: bytes, pages: int, question: str, kind: str = "report"
) -> tuple[UploadRun, list[str]]:
    """Upload one PDF and ask it ``question``; the run, and the texts that were embedded."""
    name = f"{kind}-{pages}-pages.pdf"
    received = folder / "received" / name  # where a web server holds what it was sent
    received.parent.mkdir(exist_ok=True)
    received.write_bytes(data)
    marks: list[tuple[Step, float]] = []
    key = f"bench-{kind}-{pages}"
    started = time.perf_counter()
    asked = uploads.add(
        key, [(received, name)], lambda step: marks.append((step, time.perf_counter()))
    )
    built = time.perf_counter()
    answer = asked.ask(question)
    done = time.perf_counter()
    uploads.drop(key)
    index = asked.index
    read_seconds, index_seconds = stage_seconds(marks, built)
    run = UploadRun(
        pages=pages,
        characters=sum(len(d.text) for d in index.documents),
        sentences=len(index.sentences),
        passages=len(index.chunks),
        read_seconds=read_seconds,
        index_seconds=index_seconds,
        answer_seconds=done - built,
        seconds=done - started,
        cited=answer.sources[0].cite() if answer.text is not None else "",
    )
    return run, [p.text for p in index.sentences] + [p.text for p in index.chunks]


def stage_seconds(marks: Sequence[tuple[Step, float]], built: float) -> tuple[float, float]:
    """Reading's seconds and indexing's, from each progress step told and when, to
    ``built``: reading runs from the first step to the last reading step before the
    first embedding step (``Uploads.add`` tells one once every file is read), indexing
    from there to ``built``.

    >>> from cppqa.search.progress import Stage, Step
    >>> read = [(Step(Stage.READING, n, 2, "pages", "a.pdf"), float(n)) for n in range(3)]
    >>> embed = [(Step(Stage.EMBEDDING, n, 128, "texts"), 5.0 + n / 64) for n in (0, 64, 128)]
    >>> stage_seconds(read + embed, 8.0)
    (2.0, 6.0)
    """
    if not marks:
        raise ValueError("stage_seconds needs the steps told: none were")
    embedding = next(
        (at for at, (step, _) in enumerate(marks) if step.stage is Stage.EMBEDDING), len(marks)
    )
    read_end = marks[embedding - 1][1] if embedding else marks[0][1]
    return read_end - marks[0][1], built - read_end
