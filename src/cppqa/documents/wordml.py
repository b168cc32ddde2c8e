"""The text of a Word ``.docx`` file, streamed: its paragraphs and table rows, in order.

python-docx parses the whole of ``word/document.xml`` into one tree before its first
paragraph can be looked at: 190 MB of tiny paragraphs (a 552 KB file) took 470 s and
3.6 GB before the file could be refused for holding too much text. ``blocks`` reads the
part as it is unpacked, holds one top-level paragraph or table row at a time and is
lazy, so a caller that stops at its character limit has read only that far.

The text of each block is what python-docx gives: a paragraph's runs and its
hyperlinks' runs (``Paragraph.text``: tabs, line breaks, no-break hyphens as
characters), and a table row's cells (``_Row.cells``: a cell once for each column it
spans, a vertically merged cell's text in each row it spans, ``_Cell.text``). Content
inside other wrappers (content controls, tracked insertions) is left out, as
python-docx leaves it out. The parts are found as python-docx finds them, through the
package's relationships. Damage raises ``KeyError`` (a part is missing), ``ValueError``
(not a Word document, a merged cell with nothing above it) or
``lxml.etree.XMLSyntaxError``. Imported only to read a ``.docx`` file (lxml and
python-docx are heavy).

>>> with zipfile.ZipFile("report.docx") as archive:                    # doctest: +SKIP
...     next(blocks(archive))
(('Annual report',), 'Title')
"""

from __future__ import annotations

import posixpath
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

import docx
from docx.styles import BabelFish
from lxml import etree

#: The WordprocessingML and package namespaces and relationship types.
W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
_RELATIONSHIPS = "http://schemas.openxmlformats.org/package/2006/relationships"
_CONTENT_TYPES = "http://schemas.openxmlformats.org/package/2006/content-types"
_OFFICE_DOCUMENT = (
    "http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument"
)
_STYLES = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles"
#: The content type of a Word document's main part (python-docx accepts no other).
MAIN_CONTENT_TYPE = (
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"
)
#: Bytes unpacked at a time.
_CHUNK = 1 << 16
#: python-docx's styles, for a document that has none of its own.
_DEFAULT_STYLES = Path(docx.__file__).parent / "templates" / "default-styles.xml"


def _w(name: str) -> str:
    return f"{{{W}}}{name}"


_BODY, _P, _TR, _TC, _R, _HYPERLINK = map(_w, ("body", "p", "tr", "tc", "r", "hyperlink"))
_PPR, _PSTYLE, _TRPR, _GRID_BEFORE = map(_w, ("pPr", "pStyle", "trPr", "gridBefore"))
_TCPR, _GRID_SPAN, _VMERGE = map(_w, ("tcPr", "gridSpan", "vMerge"))
_T, _BR, _VAL, _TYPE = map(_w, ("t", "br", "val", "type"))
#: Run content that stands for one character, as python-docx reads it.
_CHARACTERS = {_w("tab"): "\t", _w("ptab"): "\t", _w("cr"): "\n", _w("noBreakHyphen"): "-"}

#: A paragraph, or a table row: its texts (one, or one per cell) and its paragraph
#: style's name as Word shows it ("Heading 1"; "" for none, and for a table row).
Block = tuple[tuple[str, ...], str]


def blocks(archive: zipfile.ZipFile) -> Iterator[Block]:
    """The paragraphs and table rows of the Word document in ``archive``, in order,
    read as they are unpacked; a table's paragraphs come as its rows."""
    main = _main_part(archive)
    names = _style_names(archive, _related(archive, main, _STYLES))
    table: Any = None  # the table whose rows are being read, and its previous row's cells
    above: dict[int, tuple[str, int]] = {}
    for element in _stream(archive.open(main), (_P, _TR)):
        parent = element.getparent()
        if element.tag == _P:
            if parent is None or parent.tag != _BODY:
                continue  # a paragraph in a table: read with its row
            text, style = _paragraph(element)
            yield (text,), names.get(style, "") if style else ""
        else:
            body = parent.getparent() if parent is not None else None
            if body is None or body.tag != _BODY:
                continue  # a row of a table in a cell: python-docx leaves it out
            if parent is not table:
                table, above = parent, {}
            cells, above = _row(element, above)
            yield cells, ""
        # What has been read is let go: the block, and whatever came before it.
        element.clear(keep_tail=True)
        while (earlier := element.getprevious()) is not None:
            parent.remove(earlier)


def _paragraph(p: Any) -> tuple[str, str]:
    """A paragraph's text and its style id ("" for none), as python-docx's ``CT_P``
    gives them (``text``, ``style``)."""
    parts: list[str] = []
    style = ""
    for child in p:
        if child.tag == _R:
            runs: Any = (child,)
        elif child.tag == _HYPERLINK:
            runs = child.iterchildren(_R)
        else:
            if child.tag == _PPR and style == "":
                found = child.find(_PSTYLE)
                style = found.get(_VAL, "") if found is not None else ""
            continue
        for run in runs:
            for item in run:
                if item.tag == _T:
                    parts.append(item.text or "")
                elif item.tag == _BR:  # a page or column break is no character
                    parts.append("\n" if item.get(_TYPE, "textWrapping") == "textWrapping" else "")
                elif item.tag in _CHARACTERS:
                    parts.append(_CHARACTERS[item.tag])
    return "".join(parts), style


def _row(
    tr: Any, above: dict[int, tuple[str, int]]
) -> tuple[tuple[str, ...], dict[int, tuple[str, int]]]:
    """A table row's cells, as python-docx's ``_Row.cells`` gives them, and each of its
    cells by the grid column it starts at (its text and width), for the row below.

    ``above`` is the row above's: a cell merged with the one above it ("continue")
    shows that cell, as python-docx shows it."""
    properties = tr.find(_TRPR)
    before = properties.find(_GRID_BEFORE) if properties is not None else None
    offset = int(before.get(_VAL)) if before is not None else 0
    cells: list[str] = []
    starts: dict[int, tuple[str, int]] = {}
    for tc in tr.iterchildren(_TC):
        tc_properties = tc.find(_TCPR)
        span_element = tc_properties.find(_GRID_SPAN) if tc_properties is not None else None
        merge = tc_properties.find(_VMERGE) if tc_properties is not None else None
        span = int(span_element.get(_VAL)) if span_element is not None else 1
        if merge is not None and merge.get(_VAL, "continue") == "continue":
            if offset not in above:
                raise ValueError(f"no `tc` element at grid_offset={offset}")
            cell = above[offset]
        else:
            cell = ("\n".join(_paragraph(p)[0] for p in tc.iterchildren(_P)), span)
        cells += [cell[0]] * cell[1]
        starts[offset] = cell
        offset += span
    return tuple(cells), starts


def _stream(source: IO[bytes], tags: tuple[str, ...]) -> Iterator[Any]:
    """Each element with one of ``tags`` in the XML file ``source``, at its end, as it is
    read (then closed): no entities resolved, nothing fetched."""
    parser = etree.XMLPullParser(
        events=("end",),
        tag=tags,
        remove_blank_text=True,  # as python-docx parses
        resolve_entities=False,
        no_network=True,
    )
    with source:
        while chunk := source.read(_CHUNK):
            parser.feed(chunk)
            for _event, element in parser.read_events():
                yield element
        parser.close()
        for _event, element in parser.read_events():
            yield element


def _main_part(archive: zipfile.ZipFile) -> str:
    """The name of the main document part, checked to be a Word document's."""
    types = _xml(archive, "[Content_Types].xml")
    main = _related(archive, "", _OFFICE_DOCUMENT)
    if main is None:
        raise ValueError("the package names no main document")
    content_type = None
    for override in types.iterfind(f"{{{_CONTENT_TYPES}}}Override"):
        if override.get("PartName", "").lstrip("/").lower() == main.lower():
            content_type = override.get("ContentType")
    if content_type is None:
        extension = posixpath.splitext(main)[1].lstrip(".").lower()
        for default in types.iterfind(f"{{{_CONTENT_TYPES}}}Default"):
            if default.get("Extension", "").lower() == extension:
                content_type = default.get("ContentType")
    if content_type != MAIN_CONTENT_TYPE:
        raise ValueError(f"it is not a Word file, its content type is {content_type!r}")
    return main


def _related(archive: zipfile.ZipFile, source: str, kind: str) -> str | None:
    """The part that ``source`` (``""``: the package) relates to as ``kind``, if any."""
    folder, name = posixpath.split(source)
    rels = posixpath.join(folder, "_rels", f"{name}.rels")
    if source and rels not in archive.NameToInfo:
        return None
    for relationship in _xml(archive, rels).iterfind(f"{{{_RELATIONSHIPS}}}Relationship"):
        if relationship.get("Type") == kind and relationship.get("TargetMode") != "External":
            target = relationship.get("Target", "")
            path = target.lstrip("/") if target.startswith("/") else posixpath.join(folder, target)
            return posixpath.normpath(path)
    return None


def _style_names(archive: zipfile.ZipFile, part: str | None) -> dict[str, str]:
    """Each style's id and its name as Word shows it ("heading 1" is stored, "Heading 1"
    shown), streamed too; python-docx's default styles where the file has none."""
    if part is not None and part in archive.NameToInfo:
        source: IO[bytes] = archive.open(part)
    else:
        source = _DEFAULT_STYLES.open("rb")
    names = {}
    for style in _stream(source, (f"{{{W}}}style",)):
        name = style.find(f"{{{W}}}name")
        style_id = style.get(f"{{{W}}}styleId")
        value = name.get(f"{{{W}}}val") if name is not None else None
        if style_id is not None and value:
            names[style_id] = BabelFish.internal2ui(value)
        style.clear()
    return names


def _xml(archive: zipfile.ZipFile, part: str) -> Any:
    """A small package part (content types, relationships), parsed safely."""
    parser = etree.XMLParser(resolve_entities=False, no_network=True)
    return etree.fromstring(archive.read(part), parser)
