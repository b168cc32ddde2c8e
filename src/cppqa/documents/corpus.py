"""Read ``corpus/`` and split it into sentences and passages with exact offsets.

Every ``Passage`` satisfies ``document.text[p.start:p.end] == p.text``; answers
quote the corpus, so nothing here rewrites the text. Reading a file of any
format is ``cppqa.documents.formats``'s job.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from pathlib import Path

from cppqa.config import Settings
from cppqa.documents.formats import SUFFIXES, FileProgress, read_document
from cppqa.errors import CorpusError
from cppqa.records import Document, Passage

#: Words that end in '.' without ending a sentence (compared lowercased, without the final '.').
ABBREVIATIONS = frozenset(
    """
    mr mrs ms dr prof sr jr st vs etc e.g i.e cf approx gen col lt capt maj sgt rev hon no
    nos vol pp fig inc ltd co corp dept est govt jan feb mar apr jun jul aug sep sept oct nov
    dec
    """.split()
)
# A whole run of terminators (never from inside one), then closing quotes or brackets,
# then whitespace or the end. Starting only where a run starts keeps the search linear:
# a long run not followed by whitespace ("....x") is tried once, not once per dot.
_END = re.compile(r"(?<![.!?۔])[.!?۔]+[\"'”’)\]]*(?=\s|$)")
_PARAGRAPH = re.compile(r"\n[ \t]*\n")
_INITIALS = re.compile(r"^(?:[A-Za-z]\.)*[A-Za-z]$")
# The first character after a stop and the whitespace that follows it.
_NEXT = re.compile(r"\s*(\S)")
# A letter or digit: a sentence holds one.
_WORDY = re.compile(r"[^\W_]")
# A stop that always ends a sentence.
_FIRM = re.compile(r"[!?۔]")
#: What an abbreviation or initials are made of; a word with anything else is neither.
_ABBREVIATION_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.")
#: Opening quotes and brackets: a word starts after one, as after whitespace.
_OPENERS = "(\"'“‘"


def load_corpus(
    path: Path, settings: Settings | None = None, *, progress: FileProgress | None = None
) -> list[Document]:
    """The documents of ``path``: a folder (every file of a ``SUFFIXES`` type under it,
    recursively, sorted by path) or a single document file.

    ``progress`` is told each page of a PDF as it is read (``read_document``).

    In a folder a file without text is kept with no text (it may get some later);
    a single file without text, or of another type, is an error.
    """
    path = Path(path)
    if path.is_file():
        return [read_document(path, path.parent, settings, progress=progress)]
    if not path.is_dir():
        raise CorpusError(
            f"corpus folder {str(path)!r} does not exist; create it and put documents in it "
            f"({', '.join(SUFFIXES)}), or point CPPQA_CORPUS_DIR / --corpus at a folder or "
            "a file"
        )
    paths = sorted(
        p
        for p in path.rglob("*")
        # "~$report.docx" is the lock file Word keeps beside a document it has open.
        if p.suffix.lower() in SUFFIXES and not p.name.startswith("~$") and p.is_file()
    )
    if not paths:
        raise CorpusError(f"corpus folder {str(path)!r} has no {', '.join(SUFFIXES)} files")
    documents = [
        read_document(p, path, settings, allow_empty=True, progress=progress) for p in paths
    ]
    if not any(d.text.strip() for d in documents):
        raise CorpusError(f"every file in corpus folder {str(path)!r} is empty")
    return documents


def split_sentences(text: str, doc: str = "") -> list[Passage]:
    """Split ``text`` into sentences, each a ``Passage`` with exact offsets.

    Ends at ``. ! ? ۔`` (with closing quotes) before whitespace, and at blank
    lines; not after abbreviations ("Dr.", "U.S.") or before a lowercase word.
    Punctuation without a letter or digit ("* * *", ". . .") is no sentence.
    "6.5" never splits because no whitespace follows its dot. Linear in the text:
    a megabyte of dots, of "A. " or of one unbroken line splits as fast as prose.

    >>> [s.text for s in split_sentences('He left the U.S. in 1950. "Why?" she asked. Done۔ Next')]
    ['He left the U.S. in 1950.', '"Why?" she asked.', 'Done۔', 'Next']
    """
    return [Passage(doc, start, end, text[start:end]) for start, end in _spans(text)]


def _spans(text: str) -> Iterator[tuple[int, int]]:
    cuts = sorted(
        {m.end() for m in _END.finditer(text) if _is_boundary(text, m)}
        | {m.start() for m in _PARAGRAPH.finditer(text)}
        | {len(text)}
    )
    start = 0
    for cut in cuts:
        piece = text[start:cut]
        stripped = piece.strip()
        if _WORDY.search(stripped):  # ". . . .", "* * *", "---": punctuation is no sentence
            lead = len(piece) - len(piece.lstrip())
            yield start + lead, start + lead + len(stripped)
        start = cut


def _is_boundary(text: str, match: re.Match[str]) -> bool:
    """Whether the stop ``match`` ends a sentence. Looks only at the stop, the character
    after the whitespace that follows it and the word before it, never copying the rest
    of the text: each character is looked at by one stop at most."""
    stop = match.group()
    after = _NEXT.match(text, match.end())
    if after is not None and after.group(1).islower():
        return False  # "approx. five", "e.g. the": a sentence rarely starts lowercase
    if stop[0] != "." or _FIRM.search(stop):
        return True  # '!', '?' and the Urdu full stop always end a sentence ("U.S.?")
    if stop[1:2] == ".":
        return True  # an ellipsis
    end = word_start = match.start()
    while word_start > 0 and text[word_start - 1] in _ABBREVIATION_CHARS:
        word_start -= 1
    if word_start > 0 and not (text[word_start - 1].isspace() or text[word_start - 1] in _OPENERS):
        return True  # a character no abbreviation or initial has is in the word ("6.5.")
    word = text[word_start:end]
    return word.lower() not in ABBREVIATIONS and not _INITIALS.match(word)


def chunk_sentences(sentences: list[Passage], size: int, overlap: int) -> list[Passage]:
    """Windows of ``size`` consecutive sentences of one document, sharing ``overlap``.

    A window spans from its first sentence's start to its last one's end, so
    its text is the verbatim document text between them.
    """
    by_doc: dict[str, list[Passage]] = {}
    for sentence in sentences:
        by_doc.setdefault(sentence.doc, []).append(sentence)
    step = size - overlap
    chunks: list[Passage] = []
    for doc_sentences in by_doc.values():
        for first in range(0, max(len(doc_sentences) - overlap, 1), step):
            window = doc_sentences[first : first + size]
            chunks.append(Passage(window[0].doc, window[0].start, window[-1].end, ""))
    return chunks


def corpus_passages(
    documents: Sequence[Document], size: int, overlap: int
) -> tuple[list[Passage], list[Passage]]:
    """Sentences and chunks of every document, with their verbatim texts."""
    texts = {d.doc: d.text for d in documents}
    sentences = [s for d in documents for s in split_sentences(d.text, d.doc)]
    chunks = [
        Passage(c.doc, c.start, c.end, texts[c.doc][c.start : c.end])
        for c in chunk_sentences(sentences, size, overlap)
    ]
    return sentences, chunks
