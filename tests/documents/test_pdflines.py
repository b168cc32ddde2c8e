"""pdflines.py: headers, footers and contents lines left out; each character traced back."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from cppqa.documents.pdflines import PdfText, extract, page_lines, reflow, without_contents

BODY = [
    "The party was founded in Calcutta in 1948 by the delegates",
    "who had come from the provinces that became Pakistan.",
    "It worked among the peasants of Sindh and the workers of Karachi",
    "until it was declared illegal in 1954 after the conspiracy case.",
    "Its members went on working inside other parties and unions.",
]


def _pages(header: str | None, footer: str | None, count: int = 5) -> list[str]:
    pages = []
    for n in range(count):
        lines = [BODY[n % len(BODY)], BODY[(n + 2) % len(BODY)]]
        if header:
            lines.insert(0, header.format(n=n + 1, side="Left" if n % 2 else "Right"))
        if footer:
            lines.append(footer.format(n=n + 1, roman=["i", "ii", "iii", "iv", "v"][n % 5]))
        pages.append("\r\n".join(lines))
    return pages


def _assert_traced(content: PdfText, pages: list[str]) -> None:
    """Each character of the text is the character it says it came from."""
    assert len(content.pages) == len(content.chars) == len(content.text)
    for at, ch in enumerate(content.text):
        page, char = content.pages[at], content.chars[at]
        if page < 0:
            assert ch in " \n" and char == -1
        elif ch == "-" and pages[page][char] in "\x02\ufffe\xad":
            continue  # a hyphen at a line's end that was a real hyphen
        else:
            assert pages[page][char] == ch, (at, ch, pages[page][char])


def test_headers_and_footers_that_change_from_page_to_page_are_left_out() -> None:
    cases = [
        ("Annual report {n}", "Page {n} of 5"),  # numbers change
        ("{side} side header", "{roman}"),  # two headers in turn, roman page numbers
        (None, "- {n} -"),
        ("The report", None),
    ]
    plain = extract(_pages(None, None, count=8))
    for header, footer in cases:
        pages = _pages(header, footer, count=8)
        content = extract(pages)
        assert content.text == plain.text, (header, footer)
        assert content.page_starts == plain.page_starts
        _assert_traced(content, pages)


def test_a_line_on_few_pages_or_in_the_middle_of_pages_stays() -> None:
    pages = _pages("Annual report", None, count=10)
    pages[:7] = [page.split("\r\n", 1)[1] for page in pages[:7]]  # on 3 of 10 pages only
    assert extract(pages).text.count("Annual report") == 3
    middle = ["One.\nTwo.\nThree.\nRepeated line\nFive.\nSix.\nSeven.\n"] * 4
    assert extract(middle).text.count("Repeated line") == 4


def test_a_line_without_letters_at_a_pages_foot_stays_though_pages_are_numbered() -> None:
    """Page numbers have no letters, as totals, years and formulas do: they are left out
    as page numbers, not as lines without letters seen on many pages."""
    values = ["1,250.00", "3,918.75", "2 + 2 = 4", "1947-1954", "8,800"]
    unnumbered = [
        "\n".join([BODY[n], BODY[(n + 2) % len(BODY)], value]) for n, value in enumerate(values)
    ]
    pages = [f"{page}\n{n}" for n, page in enumerate(unnumbered, start=1)]
    content = extract(pages)
    assert content.text == extract(unnumbered).text  # the page numbers alone left out
    assert all(f" {value}" in content.text for value in values), content.text
    _assert_traced(content, pages)


def test_a_contents_page_is_left_out_but_not_what_follows_it() -> None:
    contents = "\n".join(
        [
            "Table of Contents",
            "1 Introduction . . . . . . . . . . . 1",
            "2 A chapter with a title too long for one",
            "line of the contents 4",
            "Appendix 12",
        ]
    )
    pages = [contents, "Chapter 1\nIntroduction\nThe text starts here, in 1948.", "More."]
    content = extract(pages)
    assert content.text == "Chapter 1\n\nIntroduction\n\nThe text starts here, in 1948. More."
    assert content.page_starts == (0, 0, content.text.index("More"))
    _assert_traced(content, pages)


def test_lines_ending_in_numbers_without_a_contents_heading_stay() -> None:
    lines = page_lines(["Members in 1948\nThe party had 200\nIn the year 1954"])
    assert without_contents(lines) == lines
    leaders = page_lines(["Figure 1 . . . . . . . 3\nText."])
    assert [line.text for line in without_contents(leaders)] == ["Text."]


_WORD = st.text(alphabet="abcdefghij.,ABCﬁ", min_size=1, max_size=9)
_LINE = st.lists(_WORD, min_size=1, max_size=8).map(" ".join)
_ENDING = st.sampled_from(["", "\x02", "\ufffe", "  ", "\t", "\x00"])
_PAGE = st.lists(st.tuples(_LINE, _ENDING).map("".join), max_size=6).map("\r\n".join)


@settings(max_examples=200, deadline=None)
@given(st.lists(_PAGE, min_size=1, max_size=5))
def test_every_character_is_traced_to_its_place_on_its_page(pages: list[str]) -> None:
    for content in (reflow(pages), extract(pages)):
        _assert_traced_with_ligatures(content, pages)


def _assert_traced_with_ligatures(content: PdfText, pages: list[str]) -> None:
    for at, ch in enumerate(content.text):
        page, char = content.pages[at], content.chars[at]
        if page < 0:
            assert ch in " \n"
            continue
        source = pages[page][char]
        assert (
            ch == source or (source == "ﬁ" and ch in "fi") or (ch == "-" and source in "\x02\ufffe")
        ), (at, ch, source)
