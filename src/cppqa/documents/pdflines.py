"""The lines of PDF pages made into the text answers quote, each character traced back.

A page arrives as one string (PDFium's text of the page, or the text OCR read from
it) in which position ``i`` is character ``i`` of the page: PDFium's character index,
or the index of an OCR character box. Every step here keeps, for each character it
outputs, the page and position it came from, so that an answer's offsets lead back to
the glyphs on the page (``cppqa.documents.pagebox``):

1. ``page_lines``: the page's lines, ligatures spelled out (ﬁ → fi), control
   characters dropped, runs of spaces made one;
2. ``without_furniture``: running headers and footers (a line at the top or bottom of
   most pages, page numbers that change from page to page included) are dropped;
3. ``without_contents``: table-of-contents lines (dot leaders, or page numbers at the
   end of the lines under a "Contents" heading) are dropped;
4. ``join_lines``: lines are joined into paragraphs (``reflow``'s rules).

``PdfText.pages[i]`` and ``PdfText.chars[i]`` are the page (from 0) and the position on
it of ``text[i]``, or -1 for a character the joining put there (a space or a blank line
between lines).
"""

from __future__ import annotations

import re
import unicodedata
from array import array
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

#: PDFium reports a word hyphenated at the end of a line with U+0002 (older builds U+FFFE).
_HYPHENS = ("\x02", "\ufffe", "\u00ad")
_LIGATURES = {c: unicodedata.normalize("NFKC", chr(c)) for c in range(0xFB00, 0xFB07)}  # ﬁ → fi
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f\u00ad\ufffe]")  # \u00ad: a soft hyphen
_UNCLEAN = re.compile(r"[\x00-\x08\x0b-\x1f\x7f\u00ad\ufffe\ufb00-\ufb06\t]|  ")
#: A line ends its paragraph when the next line's first word would have fitted on it,
#: with room to spare: in a proportional font a full line's length in characters
#: varies by about a tenth, so "fits" means within 80% of a full line.
_FIT = 0.8


@dataclass(frozen=True)
class Line:
    """One line of a page: ``text[i]`` came from position ``sources[i]`` of page ``page``
    (-1: made here). A blank line has no text."""

    page: int
    text: str
    sources: Sequence[int]


@dataclass(frozen=True)
class PdfText:
    """A PDF's text, where each page starts in it, and where each character came from."""

    text: str
    page_starts: tuple[int, ...]
    #: The page (from 0) of each character of ``text``, -1 for one the joining added.
    pages: array[int]
    #: The position of each character of ``text`` on its page, -1 likewise.
    chars: array[int]


def extract(pages: Sequence[str]) -> PdfText:
    """The text of PDF pages with headers, footers and contents lines left out.

    >>> pages = [f"Guide\\n{word} page.\\n{n}" for n, word in enumerate(["One", "Two", "Six"])]
    >>> extract(pages).text
    'One page. Two page. Six page.'
    """
    lines = page_lines(pages)
    return join_lines(without_contents(without_furniture(lines)), len(pages))


def reflow(pages: Sequence[str]) -> PdfText:
    """Join the lines of PDF pages into paragraphs; keep where each page starts.

    Lines of a paragraph are joined with a space (a word hyphenated across two
    lines is joined again), paragraphs with a blank line. A paragraph ends at a
    blank line or where the next line's first word would have fitted on the
    line, so a heading or a short last line ends one. A sentence that runs on
    to the next page stays one sentence; the page starts at its first character.
    Nothing is left out (``extract`` leaves out headers, footers and contents).

    >>> content = reflow(["Heading\\nA sentence that runs over two full lines of the\\n", "page."])
    >>> content.text, content.page_starts
    ('Heading\\n\\nA sentence that runs over two full lines of the page.', (0, 57))
    """
    return join_lines(page_lines(pages), len(pages))


# --- lines ----------------------------------------------------------------------------------


def page_lines(pages: Sequence[str]) -> list[Line]:
    """Every line of every page, cleaned, blank lines included."""
    lines = []
    for number, page in enumerate(pages):
        offset = 0
        for raw in page.splitlines(keepends=True):
            body = raw.rstrip("\r\n\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029")
            text, sources = _clean(body, offset)
            lines.append(Line(number, text, sources))
            offset += len(raw)
    return lines


def _clean(raw: str, offset: int) -> tuple[str, Sequence[int]]:
    """A line with ligatures spelled out, control characters dropped and runs of spaces
    made one, stripped; a hyphen PDFium marked at its end stays (``join_lines`` needs it)."""
    if not _UNCLEAN.search(raw):  # most lines: only stripping, positions stay a range
        stripped = raw.strip()
        if not stripped:
            return "", ()
        first = offset + raw.index(stripped)
        return stripped, range(first, first + len(stripped))
    pairs = [(out, offset + i) for i, ch in enumerate(raw) for out in _LIGATURES.get(ord(ch), ch)]
    pairs = _stripped(pairs)
    hyphen = pairs.pop() if pairs and pairs[-1][0] in _HYPHENS else None
    kept: list[tuple[str, int]] = []
    for ch, source in pairs:
        if _CONTROL.match(ch):
            continue
        if ch in " \t":
            if kept and kept[-1][0] == " ":
                continue
            ch = " "
        kept.append((ch, source))
    kept = _stripped(kept)
    if kept and hyphen:
        kept.append(hyphen)
    return "".join(ch for ch, _ in kept), tuple(source for _, source in kept)


def _stripped(pairs: list[tuple[str, int]]) -> list[tuple[str, int]]:
    start, end = 0, len(pairs)
    while start < end and pairs[start][0].isspace():
        start += 1
    while end > start and pairs[end - 1][0].isspace():
        end -= 1
    return pairs[start:end]


# --- headers, footers and contents ----------------------------------------------------------

#: How many lines at each end of a page may be a running header or footer.
_EDGE_LINES = 2
#: A line is a header or footer when it stands at the top or bottom of this share of the
#: pages with text (and of 3 at least): books alternate two headers between left and
#: right pages, so each is on half the pages, less where a chapter starts.
_FURNITURE_SHARE = 0.4
_NUMBER = re.compile(r"\d+|\b[ivxlcdm]+\b", re.IGNORECASE)


def furniture_key(text: str) -> str:
    """A line as compared across pages: its letters, lowercased, without numbers (arabic
    or roman), so that "Guide ii" on a front page and "Guide 3 / 21" later are one line.

    >>> [furniture_key(line) for line in ["Chapter 4: Function reference 23", "iv", "- 7 -"]]
    ['chapterfunctionreference', '', '']
    """
    return "".join(c for c in _NUMBER.sub("", text.lower()) if c.isalpha())


def without_furniture(lines: list[Line]) -> list[Line]:
    """``lines`` without the lines at the top or bottom of most pages that are the same
    but for their numbers, or that hold the page's number (a page number runs with the
    page: "Chapter 2: Naming 3" on the page after "Chapter 1: Scope 2" is a header)."""
    edges: dict[int, list[int]] = {}  # the indexes in ``lines`` of each page's edge lines
    for at, line in enumerate(lines):
        if line.text:
            edges.setdefault(line.page, []).append(at)
    for page, ats in edges.items():
        edges[page] = ats[:_EDGE_LINES] + ats[_EDGE_LINES:][-_EDGE_LINES:]
    least = max(3, _FURNITURE_SHARE * len(edges))
    keys = Counter(key for ats in edges.values() for key in {_edge_key(lines[at]) for at in ats})
    del keys[""]  # lines without letters that are not a number alone: never by their key
    offsets = Counter(
        offset
        for ats in edges.values()
        for offset in {o for at in ats for o in _offsets(lines[at])}
    )
    dropped = {
        at
        for ats in edges.values()
        for at in ats
        if keys[_edge_key(lines[at])] >= least
        or any(offsets[o] >= least for o in _offsets(lines[at]))
    }
    return [line for at, line in enumerate(lines) if at not in dropped]


#: A line that is a number alone, arabic or roman, perhaps decorated: "7", "- 7 -", "iv".
_LONE_NUMBER = re.compile(r"[^\w]*(\d{1,4}|[ivxlcdm]{1,7})[^\w]*", re.IGNORECASE)


def _edge_key(line: Line) -> str:
    """``line`` as compared across pages' edges: its ``furniture_key``; "#" for a number
    alone (a page number, though one that restarts, as roman numerals before arabic ones
    do, has no steady offset); "" for another line without letters (a total, a year, a
    formula), which is never furniture by its key: "" would match every one of them."""
    key = furniture_key(line.text)
    return key or ("#" if _LONE_NUMBER.fullmatch(line.text) else "")


#: A page number ends a header or footer: "Guide 3", "3 / 21", "Page 3 of 21", "- 3 -".
#: (One at the start is left alone: "1 Introduction" opening chapter 1 on page 1 is not.)
_PAGE_NUMBER = re.compile(r"(?:^|\s)(\d{1,4})(?:\s*(?:/|of)\s*\d{1,4})?[^\w]*\Z")


def _offsets(line: Line) -> set[int]:
    """How far the page number ending ``line`` is from its page's index (the same on
    every page for a page number), or nothing."""
    found = _PAGE_NUMBER.search(line.text)
    return {int(found.group(1)) - line.page} if found else set()


#: A contents page's heading, in English and a few other languages of Latin script.
_CONTENTS = re.compile(
    r"(table of )?contents|contents at a glance|inhalt|inhaltsverzeichnis|"
    r"table des matières|sommaire|[íi]ndice|contenidos?|sumário",
    re.IGNORECASE,
)
#: Dot leaders before a page number: "Introduction . . . . 1", "Scope ........ iv".
_LEADERS = re.compile(r"(\.\s?){4,}\s*(\d+|[ivxlcdm]+)\Z", re.IGNORECASE)
#: A page number at the end of a line of a contents page: "2.1 Reading PDFs 14".
_ENTRY = re.compile(r"\S.*\s(\d{1,4}|[ivxlcdm]{1,7})\Z", re.IGNORECASE)
#: How many lines of a long contents entry may come before the line with its number.
_ENTRY_LINES = 2


def without_contents(lines: list[Line]) -> list[Line]:
    """``lines`` without table-of-contents lines: any line with dot leaders before a page
    number, and a "Contents" heading with the entries under it (lines ending in a page
    number, and the lines of a long entry before its number)."""
    dropped = {at for at, line in enumerate(lines) if _LEADERS.search(line.text)}
    texts = [(at, line) for at, line in enumerate(lines) if line.text]
    for here, (at, line) in enumerate(texts):
        if not _CONTENTS.fullmatch(line.text.rstrip(":")):
            continue
        entries = list(_entries([line for _, line in texts[here + 1 :]]))
        if len(entries) >= 2:
            dropped.add(at)
            dropped.update(texts[here + 1 + n][0] for n in entries)
    return [line for at, line in enumerate(lines) if at not in dropped]


def _entries(lines: list[Line]) -> Iterator[int]:
    """The indexes of the contents entries at the start of ``lines``: lines ending in a
    page number, the page numbers in order (so "Chapter 1" after "Appendix 12" is not
    one); a line of a long entry before the line with its number, on the same page."""
    pending: list[int] = []
    last = 0
    for n, line in enumerate(lines):
        found = _ENTRY.fullmatch(line.text) or _LEADERS.search(line.text)
        number = found.group(found.re.groups) if found else ""
        if (
            found
            and (not number.isdigit() or int(number) >= last)
            and all(lines[p].page == line.page for p in pending)
        ):
            last = int(number) if number.isdigit() else last
            yield from pending
            yield n
            pending = []
        elif len(pending) < _ENTRY_LINES:
            pending.append(n)
        else:
            return


# --- joining --------------------------------------------------------------------------------


def join_lines(lines: Sequence[Line], page_count: int) -> PdfText:
    """Lines joined into paragraphs (see ``reflow``), with where each page starts."""
    full = _full_line([len(line.text) for line in lines if line.text])
    text: list[str] = []
    pages = array("i")
    chars = array("i")
    starts: list[int | None] = [None] * page_count
    previous = ""
    blank = False
    for line in lines:
        if not line.text:
            blank = bool(text)
            continue
        if text:
            gap = _gap(previous, line.text, full, blank)
            hyphen = pages[-1], chars[-1]
            if previous.endswith(_HYPHENS):
                text[-1] = text[-1][:-1]
                del pages[-1], chars[-1]
            text.append(gap)
            if gap == "-":  # the hyphen, seen: its glyph is the one PDFium marked
                pages.append(hyphen[0])
                chars.append(hyphen[1])
            else:
                pages.extend([-1] * len(gap))
                chars.extend([-1] * len(gap))
        if starts[line.page] is None:
            starts[line.page] = len(pages)
        text.append(line.text)
        pages.extend([line.page] * len(line.text))
        chars.extend(line.sources)
        previous, blank = line.text, False
    if previous.endswith(_HYPHENS):  # the last line of all: its hyphen is a hyphen
        text[-1] = text[-1][:-1] + "-"
    page_starts: list[int] = []
    following = len(pages)  # a page without text starts where the next one with text does
    for start in reversed(starts):
        following = following if start is None else start
        page_starts.append(following)
    return PdfText("".join(text), tuple(reversed(page_starts)), pages, chars)


def _full_line(lengths: list[int]) -> int:
    """The length of a full line: the 90th percentile, so that a few long lines do not count."""
    return sorted(lengths)[round(0.9 * (len(lengths) - 1))] if lengths else 0


def _gap(previous: str, line: str, full: int, blank: bool) -> str:
    if previous.endswith(_HYPHENS):
        # "manip-" + "ulation"; a capital or digit after it was a real hyphen ("Marxism-Leninism").
        return "-" if line[0].isupper() or line[0].isdigit() else ""
    if blank or len(previous) + 1 + len(line.split(" ", 1)[0]) <= _FIT * full:
        return "\n\n"
    return " "
