"""PDFs for the PDF tests, made with fpdf2: a booklet of the shipped document with a
contents page, a running header and page numbers; and scans of any PDF."""

from __future__ import annotations

import io
import re
import textwrap
from pathlib import Path

from conftest import DOCUMENT, make_pdf
from cppqa.documents.corpus import split_sentences
from cppqa.documents.pagebox import Box

SENTENCES = [s.text for s in split_sentences(DOCUMENT.read_text(encoding="utf-8"))]
HEADER = "A short history of the Communist Party of Pakistan"
#: The booklet's sections: a heading and its sentences, one section a page from page 2.
SECTIONS = (
    ("Formation", SENTENCES[:12]),
    ("Repression", SENTENCES[12:24]),
    ("Today", SENTENCES[24:]),
)


def booklet(*, furniture: bool = True, hyphenate: bool = False) -> bytes:
    """The shipped document as an A4 booklet: page 1 the contents (blank without
    ``furniture``), then a section a page, each page after the first with ``HEADER`` at
    its top and its number at its foot (without ``furniture``, none).

    With ``hyphenate``, the first section is written line by line, a word broken with a
    hyphen at the end of one line (``hyphenated_lines``), as a typesetter would: PDFium reports
    the hyphen as one at a line's end, and the reader joins the word again.
    """
    from fpdf import FPDF

    class Booklet(FPDF):
        def header(self) -> None:
            if furniture and self.page_no() > 1:
                self.set_font(size=9)
                self.cell(0, 5, HEADER, align="C")
                self.ln(10)

        def footer(self) -> None:
            if furniture and self.page_no() > 1:
                self.set_y(-15)
                self.set_font(size=9)
                self.cell(0, 5, str(self.page_no()), align="C")

    pdf = Booklet(format="A4")
    fonts = _fonts()
    pdf.add_font("dejavu", fname=str(fonts / "DejaVuSans.ttf"))
    pdf.add_font("last-resort", fname=str(fonts / "LastResortHE-Regular.ttf"))
    pdf.set_fallback_fonts(["last-resort"])  # DejaVu Sans has no '۔'
    pdf.set_font("dejavu", size=11)
    pdf.add_page()
    if furniture:
        pdf.cell(0, 8, "Contents", new_x="LMARGIN", new_y="NEXT")
        for page, (heading, _) in enumerate(SECTIONS, start=2):
            pdf.cell(0, 6, f"{page - 1} {heading} {'. ' * 30}{page}", new_x="LMARGIN", new_y="NEXT")
    for heading, sentences in SECTIONS:
        pdf.add_page()
        pdf.multi_cell(0, 6, heading)
        pdf.ln(4)
        if hyphenate and heading == SECTIONS[0][0]:
            for line in hyphenated_lines(" ".join(sentences))[0]:
                pdf.cell(0, 6, line, new_x="LMARGIN", new_y="NEXT")
        else:
            pdf.multi_cell(0, 6, " ".join(sentences))
    return bytes(pdf.output())


def hyphenated_lines(paragraph: str) -> tuple[list[str], str]:
    """``paragraph`` in lines of about 80 characters, the first long lowercase word that
    starts a line broken across the line before and it; and that word."""
    lines = textwrap.wrap(paragraph, 80)
    at = next(n for n, line in enumerate(lines) if n and re.match(r"[a-z]{8,}\b", line))
    word = lines[at].split(" ", 1)[0]
    lines[at - 1] += f" {word[:4]}-"
    lines[at] = lines[at][4:]
    return lines, word


def _fonts() -> Path:
    import matplotlib

    return Path(matplotlib.get_data_path()) / "fonts" / "ttf"  # matplotlib: a test dependency


def scanned(data: bytes, dpi: int = 300) -> bytes:
    """The PDF ``data`` as a scan: each page rendered to a grey image, and a PDF of those
    images only, each page the size of the original's."""
    import pypdfium2 as pdfium
    from fpdf import FPDF

    source = pdfium.PdfDocument(data)
    out = FPDF(unit="pt")
    try:
        for page in source:
            width, height = page.get_size()
            image = page.render(scale=dpi / 72, grayscale=True).to_pil()
            buffer = io.BytesIO()
            image.save(buffer, format="PNG")
            out.add_page(format=(width, height))
            out.image(buffer, x=0, y=0, w=width, h=height)
            page.close()
    finally:
        source.close()
    return bytes(out.output())


#: The one line of ``turned``'s page.
LINE = "In 1954 the party was declared illegal."
#: Pages shown otherwise than their user space: turned by /Rotate, or cropped away
#: from (0, 0) (a crop box inside the A4 media box).
TURNS = {
    "rotated 90": {"rotate": 90},
    "rotated 270": {"rotate": 270},
    "cropped": {"crop": (20.0, 100.0, 500.0, 830.0)},
    "rotated 90 and cropped": {"rotate": 90, "crop": (20.0, 100.0, 500.0, 830.0)},
}


def turned(rotate: int = 0, crop: tuple[float, float, float, float] | None = None) -> bytes:
    """An A4 PDF of one page holding ``LINE`` alone, turned by ``/Rotate`` and with its
    crop box (left, bottom, right, top) set, by PDFium."""
    import pypdfium2 as pdfium

    pdf = pdfium.PdfDocument(make_pdf([[LINE]], size=(210, 297)))
    page = pdf[0]
    if rotate:
        page.set_rotation(rotate)
    if crop is not None:
        page.set_cropbox(*crop)
    out = io.BytesIO()
    pdf.save(out)
    return out.getvalue()


def ink(png: bytes) -> Box:
    """Where the drawn page ``png`` is dark (its text), in shares of it from its top-left
    corner: an oracle that knows nothing of PDF coordinates."""
    from PIL import Image

    image = Image.open(io.BytesIO(png)).convert("L")
    left, top, right, bottom = image.point(lambda v: 255 if v < 128 else 0).getbbox() or (0,) * 4
    return Box(left / image.width, top / image.height, right / image.width, bottom / image.height)


def covers(box: Box, inner: Box, slack: float = 0.004) -> bool:
    """Whether ``box`` covers ``inner`` (shares of the page; ``slack``: anti-aliasing)."""
    return (
        box.left - slack <= inner.left
        and inner.right <= box.right + slack
        and box.top - slack <= inner.top
        and inner.bottom <= box.bottom + slack
    )
