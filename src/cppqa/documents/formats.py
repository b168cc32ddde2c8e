"""Read one document file into the text that answers quote, with its pages and headings.

One small function per format, each ``(data, name, settings) -> Content``:

- ``.pdf``: pypdfium2 (PDFium), page by page, OCR for a scanned page (``cppqa.documents.pdf``);
  running headers, footers and contents lines are left out, the lines are joined back
  into paragraphs (``cppqa.documents.pdflines``) and where each page starts is kept;
- ``.docx``: python-docx, paragraphs, headings and table rows in order;
- ``.html`` / ``.htm``: trafilatura, the main text without menus, scripts or footers;
- ``.md`` / ``.txt``: the UTF-8 text as it is (the ``#`` headings of Markdown noted).

The extracted text is the document from then on: passages, answers and their
offsets refer to it. Why these libraries (with measurements): docs/documents.md.
A file that cannot be read raises ``CorpusError`` saying what is wrong and what to do;
reading writes nothing but OCR's reading of a scan (``cppqa.documents.ocr``, in the cache folder).
The libraries are imported on first use.
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
import re
import zipfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cppqa.config import Settings
from cppqa.documents.pdf import read_pdf_text, too_long
from cppqa.errors import CorpusError, CppqaError
from cppqa.records import Document, Heading

log = logging.getLogger(__name__)


#: Told as a document is worked through: its ``doc``, the pages (or texts) done, and all.
FileProgress = Callable[[str, int, int], None]


@dataclass(frozen=True)
class Content:
    """What a reader extracted: the text, PDF page starts and headings (see ``Document``)."""

    text: str
    page_starts: tuple[int, ...] = ()
    headings: tuple[Heading, ...] = ()


def read_document(
    path: Path,
    folder: Path,
    settings: Settings | None = None,
    *,
    allow_empty: bool = False,
    shown: str | None = None,
    progress: FileProgress | None = None,
) -> Document:
    """Read ``path`` with the reader for its suffix; ``doc`` is its path under ``folder``.

    ``progress`` is told after each page of a PDF (other formats have no pages).

    Messages name the file by ``shown`` (default: its path): an uploaded file by the
    name it was given, not the temporary folder it is read from.

    A title comes from ``NAME.meta.json`` beside the file (``{"title": ...}``),
    else from the file name. A file without text raises ``CorpusError`` unless
    ``allow_empty``, which gives a document with no text instead.
    """
    settings = settings or Settings()
    name = shown or str(path)
    reader = READERS.get(path.suffix.lower())
    if reader is None:
        raise CorpusError(
            f"{name!r} is not a document cppqa reads; it reads {_listed(SUFFIXES)} files"
        )
    size = path.stat().st_size
    if size > settings.max_file_bytes:
        raise CorpusError(
            f"{name!r} is {_size(size)}; the limit is {_size(settings.max_file_bytes)} per file "
            "(CPPQA_MAX_FILE_BYTES): split it into smaller files or trim it"
        )
    data = path.read_bytes()
    doc = path.relative_to(folder).as_posix()
    if not data.strip():
        content = Content("")
    elif reader is read_pdf and progress is not None:  # the one format with pages
        content = read_pdf(data, name, settings, lambda done, pages: progress(doc, done, pages))
    else:
        content = reader(data, name, settings)
    if len(content.text) > settings.max_document_chars:
        raise CorpusError(
            f"{name!r} holds {len(content.text):,} characters of text; the limit is "
            f"{settings.max_document_chars:,} (CPPQA_MAX_DOCUMENT_CHARS): split it into "
            "smaller files"
        )
    if not content.text.strip():
        if not allow_empty:
            what = "is empty" if not data else "has no text"
            raise CorpusError(f"{name!r} {what}: put the document's text in it")
        log.warning("%s has no text; nothing in it can be found", name)
    return Document(
        doc=doc,
        title=_title(path),
        text=content.text,
        sha256=hashlib.sha256(data).hexdigest(),
        page_starts=content.page_starts,
        headings=content.headings,
    )


def _title(path: Path) -> str:
    meta = path.with_name(path.stem + ".meta.json")
    if meta.is_file():
        try:
            title = json.loads(meta.read_text(encoding="utf-8")).get("title")
        except (ValueError, AttributeError, UnicodeDecodeError) as exc:
            raise CorpusError(f"metadata file {str(meta)!r} is not a JSON object: {exc}") from None
        if isinstance(title, str) and title.strip():
            return title.strip()
    return path.stem.replace("-", " ").replace("_", " ").strip().capitalize()


# --- plain text and Markdown ----------------------------------------------------------------


def read_text(data: bytes, name: str, settings: Settings) -> Content:
    """A ``.txt`` file: its UTF-8 text, unchanged."""
    try:
        return Content(data.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise CorpusError(
            f"{name!r} is not valid UTF-8 (byte {exc.start}); "
            "save it as UTF-8 or remove it from the corpus"
        ) from None


_FENCE = re.compile(r" {0,3}(`{3,}|~{3,})")
_ATX = re.compile(r" {0,3}(#{1,6})[ \t]+(.*?)(?:[ \t]+#+)?[ \t]*$")


def read_markdown(data: bytes, name: str, settings: Settings) -> Content:
    """A ``.md`` file: its UTF-8 text unchanged, with its ``#`` headings.

    Headings in fenced code blocks are not headings; underlined (setext)
    headings are not recognised.

    >>> read_markdown(b"# Party\\n\\nText.\\n## Today ##\\n", "a.md", Settings()).headings
    (Heading(start=2, level=1, text='Party'), Heading(start=18, level=2, text='Today'))
    """
    text = read_text(data, name, settings).text
    headings = []
    fence = ""
    offset = 0
    for line in text.splitlines(keepends=True):
        opening = _FENCE.match(line)
        if opening and (not fence or opening.group(1).startswith(fence)):
            fence = "" if fence else opening.group(1)[:3]
        elif not fence and (heading := _ATX.match(line.rstrip("\r\n"))) and heading.group(2):
            headings.append(Heading(offset + heading.start(2), len(heading.group(1)), heading[2]))
        offset += len(line)
    return Content(text, headings=tuple(headings))


# --- PDF ------------------------------------------------------------------------------------


def read_pdf(
    data: bytes, name: str, settings: Settings, progress: Callable[[int, int], None] | None = None
) -> Content:
    """A PDF's text (``cppqa.documents.pdf``: its text layer, or OCR for a scanned page), running
    headers, footers and contents lines left out, with where each page starts;
    ``progress`` is told the pages read and the pages in all after each page."""
    if data.find(b"%PDF-", 0, 1024) < 0:  # readers accept the header within 1 KB
        raise CorpusError(
            f"{name!r} is not a PDF (it looks like {_kind(data)}): "
            "give it the name of its real type, or export it as PDF again"
        )
    text = read_pdf_text(data, name, settings, progress).text
    return Content(text.text, text.page_starts)


# --- Word -----------------------------------------------------------------------------------

_HEADING_STYLE = re.compile(r"Heading ([1-9])\Z")


def read_docx(data: bytes, name: str, settings: Settings) -> Content:
    """A Word ``.docx`` file: its paragraphs, headings and table rows, in order.

    The ZIP archive's declared sizes are checked before anything is unpacked
    (``zipfile`` never unpacks more than an entry declares); then the document is read
    as it is unpacked (``cppqa.documents.wordml``), and reading stops as soon as its text is
    over ``max_document_chars``: work and memory follow what has been read.
    """
    if not data.startswith(b"PK\x03\x04"):
        raise CorpusError(
            f"{name!r} is not a Word .docx file (it looks like {_kind(data)}): "
            "open it in Word or LibreOffice and save it as .docx"
        )
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            unpacked = sum(entry.file_size for entry in archive.infolist())
            if unpacked > settings.max_unpacked_bytes:
                raise CorpusError(
                    f"{name!r} would unpack to {_size(unpacked)} from {_size(len(data))}, "
                    f"more than the {_size(settings.max_unpacked_bytes)} allowed "
                    "(CPPQA_MAX_UNPACKED_BYTES): it may be a zip bomb; leave it out, or open "
                    "it in Word and save it again"
                )
            return _joined(_docx_blocks(archive, name, settings.max_document_chars))
    except zipfile.BadZipFile as exc:
        raise CorpusError(
            f"{name!r} is truncated or damaged ({exc}): download it again, or open it in "
            "Word and save it again"
        ) from None
    except CppqaError:
        raise
    except Exception as exc:  # a damaged file makes the XML and ZIP readers raise many kinds
        detail = exc.args[0] if len(exc.args) == 1 else exc  # a KeyError's str() is quoted
        raise CorpusError(
            f"{name!r} cannot be read as a Word document ({detail}): open it in Word and save "
            "it again as .docx"
        ) from None


def _docx_blocks(
    archive: zipfile.ZipFile, name: str, limit: int
) -> Iterator[tuple[str, int | None]]:
    """The blocks of a Word document (text, heading level), read until their text, as
    ``_joined`` joins it, would be over ``limit`` characters: then ``CorpusError``.

    An empty paragraph counts as its separator would (2), so that a document of empty
    paragraphs is not read without end either."""
    from cppqa.documents.wordml import blocks

    size = 0
    for texts, style in blocks(archive):
        if len(texts) == 1:
            text = _squash(texts[0])
            heading = _HEADING_STYLE.match(style)
            level = 0 if style == "Title" else int(heading.group(1)) if heading else None
        else:
            cells: list[str] = []
            for cell in texts:  # a merged cell is listed once per column it spans
                squashed = _squash(cell)
                if squashed and (not cells or cells[-1] != squashed):
                    cells.append(squashed)
            text, level = " | ".join(cells), None
        size += len(text) + 2
        if size - 2 > limit:
            raise too_long(name, limit)
        yield text, level


# --- HTML -----------------------------------------------------------------------------------


def read_html(data: bytes, name: str, settings: Settings) -> Content:
    """A web page's main text (trafilatura): headings, paragraphs, list items, table rows.

    Menus, scripts, styles, headers, footers and comments are left out.
    """
    import trafilatura

    extracted = trafilatura.bare_extraction(
        data, include_comments=False, include_tables=True, with_metadata=False
    )
    body = getattr(extracted, "body", None)
    blocks = list(_html_blocks(body)) if body is not None else []
    if not any(text for text, _ in blocks):
        raise CorpusError(
            f"{name!r} has no main text (nothing but menus, scripts or markup): "
            "save the page with its article, or copy the text into a .txt file"
        )
    return _joined(blocks)


def _html_blocks(body: Any) -> Iterator[tuple[str, int | None]]:
    """trafilatura's output tree: ``head`` (with ``rend="h2"``), ``p``, ``list``, ``table``, ..."""
    for element in body:
        if element.tag == "head":
            rend = str(element.get("rend", "h1"))
            text = without_permalink(_squash("".join(element.itertext())))
            yield text, int(rend[1:]) if rend[1:].isdigit() else 1
        elif element.tag == "list":
            for item in element.iterchildren("item"):
                yield _squash("".join(item.itertext())), None
        elif element.tag == "table":
            for row in element.iterchildren("row"):
                cells = (_squash("".join(c.itertext())) for c in row.iterchildren("cell"))
                yield " | ".join(c for c in cells if c), None
        else:
            yield _squash("".join(element.itertext())), None


#: What documentation generators put at the end of a heading as its permalink (Sphinx and
#: MkDocs "¶", rustdoc "§", "🔗" with its emoji selector, the zero-width space of
#: Docusaurus), besides a "#" of its own ("Using C#" keeps its "#").
_PERMALINK_SIGNS = frozenset(" ¶§🔗\ufe0f\u200b")


def without_permalink(heading: str) -> str:
    """``heading`` without the permalink sign a documentation generator put at its end.

    >>> without_permalink("Socket Programming HOWTO¶"), without_permalink("Creating a socket #")
    ('Socket Programming HOWTO', 'Creating a socket')
    >>> without_permalink("Using C#"), without_permalink("¶")
    ('Using C#', '¶')
    """
    end = len(heading)
    while end:  # by index: a long run of signs costs one pass, not one copy per sign
        while end and heading[end - 1] in _PERMALINK_SIGNS:
            end -= 1
        if end >= 2 and heading[end - 2 : end] == " #":
            end -= 2
            continue
        break
    return heading[:end] if end else heading


# --- shared ---------------------------------------------------------------------------------


def _size(count: int) -> str:
    """A size in bytes for a message: "5.6 MB", "38 KB"."""
    return f"{count / 1e6:,.1f} MB" if count >= 1e6 else f"{count / 1e3:,.0f} KB"


def _squash(text: str) -> str:
    return " ".join(text.split())


def _joined(blocks: Iterable[tuple[str, int | None]]) -> Content:
    """Blocks (text, heading level or None) as paragraphs separated by blank lines."""
    parts: list[str] = []
    headings: list[Heading] = []
    size = 0
    for text, level in blocks:
        if not text:
            continue
        if parts:
            parts.append("\n\n")
            size += 2
        if level is not None:
            headings.append(Heading(size, level, text))
        parts.append(text)
        size += len(text)
    return Content("".join(parts), headings=tuple(headings))


#: What a file that is not of the type its name says looks like, by its first bytes.
_MAGIC = (
    (b"PK\x03\x04", "a ZIP archive (.docx, .xlsx, .zip?)"),
    (b"\xd0\xcf\x11\xe0", "an old Office file (.doc, .xls) or a password-protected one"),
    (b"%PDF-", "a PDF"),
    (b"\x89PNG", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF8", "a GIF image"),
    (b"II*\x00", "a TIFF image"),
    (b"MM\x00*", "a TIFF image"),
    (b"{\\rtf", "an RTF document"),
)


def _kind(data: bytes) -> str:
    for magic, kind in _MAGIC:
        if data.startswith(magic):
            return kind
    head = data[:1024].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if head.startswith(b"<"):
        return "an HTML or XML file"
    try:
        data[:1024].decode("utf-8")
    except UnicodeDecodeError as exc:
        if exc.start < 1020:  # not just a character cut at the 1 KB mark
            return "some other binary file"
    return "a text file"


def _listed(items: Sequence[str]) -> str:
    return ", ".join(items[:-1]) + " or " + items[-1] if len(items) > 1 else "".join(items)


#: The reader of each suffix (compared lowercased).
READERS: dict[str, Callable[[bytes, str, Settings], Content]] = {
    ".pdf": read_pdf,
    ".docx": read_docx,
    ".html": read_html,
    ".htm": read_html,
    ".md": read_markdown,
    ".txt": read_text,
}
SUFFIXES = tuple(READERS)
