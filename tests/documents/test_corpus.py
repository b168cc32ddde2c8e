"""corpus.py: reading the corpus folder, and splitting with exact offsets."""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import CORPUS, DOCUMENT, INDEX, make_pdf
from cppqa.documents.corpus import chunk_sentences, corpus_passages, load_corpus, split_sentences
from cppqa.errors import CorpusError
from cppqa.records import Passage

# --- reading the folder ------------------------------------------------------------------


def test_loads_every_txt_and_md_file_recursively(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("Alpha one.", encoding="utf-8")
    (tmp_path / "b.md").write_text("Beta two.", encoding="utf-8")
    (tmp_path / "c.rst").write_text("Ignored.", encoding="utf-8")
    (tmp_path / "notes.json").write_text("{}", encoding="utf-8")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "d.TXT").write_text("Delta.", encoding="utf-8")
    docs = load_corpus(tmp_path)
    assert [d.doc for d in docs] == ["a.txt", "b.md", "sub/d.TXT"]
    assert [d.text for d in docs] == ["Alpha one.", "Beta two.", "Delta."]
    assert all(len(d.sha256) == 64 for d in docs)
    assert docs[0].sha256 != docs[1].sha256


def test_progress_is_told_each_page_of_a_pdf(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("No pages here.", encoding="utf-8")
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "report.pdf").write_bytes(make_pdf([["One."], ["Two."], ["Three."]]))
    told: list[tuple[str, int, int]] = []
    documents = load_corpus(tmp_path, progress=lambda *t: told.append(t))
    assert told == [("b/report.pdf", 1, 3), ("b/report.pdf", 2, 3), ("b/report.pdf", 3, 3)]
    assert [d.doc for d in documents] == ["b/report.pdf", "notes.txt"]
    assert load_corpus(tmp_path / "notes.txt", progress=lambda *t: told.append(t))
    assert len(told) == 3


def test_non_utf8_file_is_an_error_naming_the_file(tmp_path: Path) -> None:
    (tmp_path / "good.txt").write_text("Fine.", encoding="utf-8")
    (tmp_path / "bad.txt").write_bytes("Caf\u00e9 au lait.".encode("latin-1"))
    with pytest.raises(CorpusError, match=r"bad\.txt.*not valid UTF-8"):
        load_corpus(tmp_path)


def test_missing_folder_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(CorpusError, match="does not exist"):
        load_corpus(tmp_path / "nowhere")


def test_folder_without_documents_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "readme.rst").write_text("Not a corpus file.", encoding="utf-8")
    with pytest.raises(
        CorpusError, match=r"has no \.pdf, \.docx, \.html, \.htm, \.md, \.txt files"
    ):
        load_corpus(tmp_path)


def test_folder_of_empty_files_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("", encoding="utf-8")
    (tmp_path / "b.md").write_text("  \n\n", encoding="utf-8")
    with pytest.raises(CorpusError, match="empty"):
        load_corpus(tmp_path)


def test_title_comes_from_meta_json_else_the_file_name(tmp_path: Path) -> None:
    (tmp_path / "party-history.txt").write_text("Text.", encoding="utf-8")
    (tmp_path / "party-history.meta.json").write_text(
        json.dumps({"title": "  A Party History "}), encoding="utf-8"
    )
    (tmp_path / "other_notes.md").write_text("More.", encoding="utf-8")
    titles = {d.doc: d.title for d in load_corpus(tmp_path)}
    assert titles == {"party-history.txt": "A Party History", "other_notes.md": "Other notes"}


def test_broken_meta_json_is_an_error_naming_it(tmp_path: Path) -> None:
    (tmp_path / "x.txt").write_text("Text.", encoding="utf-8")
    (tmp_path / "x.meta.json").write_text("{not json", encoding="utf-8")
    with pytest.raises(CorpusError, match=r"x\.meta\.json"):
        load_corpus(tmp_path)


def test_shipped_corpus_has_its_title() -> None:
    (doc,) = load_corpus(CORPUS)
    assert doc.doc == DOCUMENT.name
    assert doc.title == "Communist Party of Pakistan: a short history"


# --- splitting: examples -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("One. Two! Three? Four۔ Five", ["One.", "Two!", "Three?", "Four۔", "Five"]),
        ('He said "Stop!" Then he left.', ['He said "Stop!"', "Then he left."]),
        ("She asked: 'Why?' Nobody knew.", ["She asked: 'Why?'", "Nobody knew."]),
        (
            "It moved to the U.S. in 1950. It stayed.",
            ["It moved to the U.S. in 1950.", "It stayed."],
        ),
        ("The U.S. Army came. It left.", ["The U.S. Army came.", "It left."]),
        ("Dr. Khan met Mr. Ali. They talked.", ["Dr. Khan met Mr. Ali.", "They talked."]),
        (
            "Growth was 6.5 percent. Then 7.25 percent.",
            ["Growth was 6.5 percent.", "Then 7.25 percent."],
        ),
        ("It rose e.g. twice. Done.", ["It rose e.g. twice.", "Done."]),
        ("Wait... Then go.", ["Wait...", "Then go."]),
        ("(It ended.) Next one.", ["(It ended.)", "Next one."]),
        ("A heading\n\nA paragraph without a stop", ["A heading", "A paragraph without a stop"]),
        ("  Leading and trailing space.  ", ["Leading and trailing space."]),
        ("", []),
        ("   \n\n  ", []),
        ("Part one.\n\n* * *\n\nPart two. . . .", ["Part one.", "Part two."]),
        (". . . .\n\n---", []),
    ],
)
def test_split_examples(text: str, expected: list[str]) -> None:
    sentences = split_sentences(text, "d.txt")
    assert [s.text for s in sentences] == expected
    for s in sentences:
        assert s.doc == "d.txt"
        assert text[s.start : s.end] == s.text


def test_shipped_document_splits_into_its_35_sentences() -> None:
    text = DOCUMENT.read_text(encoding="utf-8")
    sentences = split_sentences(text, DOCUMENT.name)
    assert len(sentences) == 35
    assert all(text[s.start : s.end] == s.text for s in sentences)
    urdu = [s.text for s in sentences if s.text.endswith("۔")]
    assert urdu == [
        "After the formation of Pakistan, the CPP was formed on March 6, 1948 at the "
        "Calcutta Congress of the Communist Party of India (CPI)۔"
    ]
    assert sentences[0].text.startswith("The Communist Party of Pakistan (CPP) is")
    assert sentences[-1].text == "Comrade Imdad Qazi is the General Secretary of the Party."
    assert "For this reason, in 1954, the party was declared illegal." in [
        s.text for s in sentences
    ]


def test_shipped_document_splits_as_the_committed_index_holds_it() -> None:
    """The splitter's output on the shipped document is what the committed index was
    built from: a change to the splitter must leave it alone or rebuild the index."""
    committed = json.loads((INDEX / "passages.json").read_text(encoding="utf-8"))["sentences"]
    text = DOCUMENT.read_text(encoding="utf-8")
    split = split_sentences(text, DOCUMENT.name)
    assert [(s.start, s.end, s.text) for s in split] == [
        (s["start"], s["end"], s["text"]) for s in committed
    ]


def test_shipped_chunks_are_verbatim_windows() -> None:
    documents = load_corpus(CORPUS)
    sentences, chunks = corpus_passages(documents, size=3, overlap=1)
    text = documents[0].text
    assert len(chunks) == 17
    for chunk in chunks:
        assert text[chunk.start : chunk.end] == chunk.text
        inside = [s for s in sentences if chunk.start <= s.start and s.end <= chunk.end]
        assert 1 <= len(inside) <= 3
        assert inside[0].start == chunk.start
        assert inside[-1].end == chunk.end


# --- splitting: properties -----------------------------------------------------------------

_ALPHABET = st.sampled_from([*"abcXYZ 619.!?۔\"'”)(\n\t,:-", "U.S.", "Dr.", "6.5", "\n\n"])
_TEXT = st.lists(_ALPHABET, max_size=80).map("".join)


@settings(max_examples=300, deadline=None)
@given(_TEXT)
def test_sentences_are_ordered_stripped_exact_and_cover_every_word(text: str) -> None:
    sentences = split_sentences(text, "gen.txt")
    previous_end = 0
    for s in sentences:
        assert s.doc == "gen.txt"
        assert text[s.start : s.end] == s.text
        assert s.text and s.text == s.text.strip()
        assert s.start >= previous_end  # ordered, not overlapping
        previous_end = s.end
    covered = {i for s in sentences for i in range(s.start, s.end)}
    assert all(i in covered for i, ch in enumerate(text) if ch.isalnum())
    assert all(any(ch.isalnum() for ch in s.text) for s in sentences)


_WORD = st.sampled_from(
    ["party", "workers", "Lahore", "6.5", "1954", "U.S.", "union", "Karachi", "the", "fronts"]
)
_FIRST = st.sampled_from(["The", "Comrade", "Dr. Khan", "In", "Party", '"Why', "Most"])
_END = st.sampled_from([".", "!", "?", "۔", '."', "?'", ".)"])


@st.composite
def _sentence(draw: st.DrawFn) -> str:
    body = " ".join([draw(_FIRST), *draw(st.lists(_WORD, min_size=1, max_size=8))])
    if body.endswith("U.S."):
        body += " again"  # "U.S.?" is test_question_mark_after_an_abbreviation_ends_a_sentence
    return body + draw(_END)


@settings(max_examples=200, deadline=None)
@given(st.lists(_sentence(), min_size=1, max_size=8), st.sampled_from([" ", "  ", "\n", " \n\n"]))
def test_generated_sentences_are_recovered_exactly(sentences: list[str], gap: str) -> None:
    text = gap.join(sentences)
    assert [s.text for s in split_sentences(text)] == sentences


@pytest.mark.parametrize("mark", ["?", "!"])
def test_question_mark_after_an_abbreviation_ends_a_sentence(mark: str) -> None:
    text = f"Was he in the U.S.{mark} He was."
    assert [s.text for s in split_sentences(text)] == [f"Was he in the U.S.{mark}", "He was."]


def _passages(n: int, doc: str = "d") -> list[Passage]:
    return [Passage(doc, 10 * i, 10 * i + 5, "") for i in range(n)]


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.integers(min_value=0, max_value=12), min_size=1, max_size=3),
    st.integers(min_value=1, max_value=5),
    st.data(),
)
def test_chunks_are_windows_with_overlap(counts: list[int], size: int, data: st.DataObject) -> None:
    overlap = data.draw(st.integers(min_value=0, max_value=size - 1))
    sentences = [p for d, n in enumerate(counts) for p in _passages(n, f"doc{d}")]
    chunks = chunk_sentences(sentences, size, overlap)
    for d, n in enumerate(counts):
        doc_sentences = [s for s in sentences if s.doc == f"doc{d}"]
        windows = [
            [s for s in doc_sentences if c.start <= s.start and s.end <= c.end]
            for c in chunks
            if c.doc == f"doc{d}"
        ]
        if n == 0:
            assert windows == []
            continue
        # Each window is consecutive sentences, starts and ends on sentence bounds.
        for c, w in zip([c for c in chunks if c.doc == f"doc{d}"], windows, strict=True):
            assert 1 <= len(w) <= size
            assert (c.start, c.end) == (w[0].start, w[-1].end)
        # Every window but the last is full and shares exactly `overlap` with the next.
        for a, b in itertools.pairwise(windows):
            assert len(a) == size
            assert len([s for s in a if s in b]) == overlap
        # Together they cover the document, in order, with no redundant window.
        assert windows[0][0] == doc_sentences[0]
        assert windows[-1][-1] == doc_sentences[-1]
        assert len(windows) == max(1, -(-(n - overlap) // (size - overlap)))
