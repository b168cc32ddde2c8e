"""Read ``corpus/`` and split it into sentences and passages with exact offsets.

Every ``Passage`` satisfies ``document.text[p.start:p.end] == p.text``; answers
quote the corpus, so nothing here rewrites the text. Reading a file of any
format is ``cppqa.documents``'s job.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from pathlib import Path

from cppqa.config import Settings
from cppqa.documents import SUFFIXES, FileProgress, read_document
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
# A run of terminators, then closing quotes or brackets, then whitespace or the end.
_END = re.compile(r"[.!?۔]+[\"'”’)\]]*(?=\s|$)")
_PARAGRAPH = re.compile(r"\n[ \t]*\n")
_INITIALS = re.compile(r"^(?:[A-Za-z]\.)*[A-Za-z]$")


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
    "6.5" never splits because no whitespace follows its dot.

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
        if stripped:
            lead = len(piece) - len(piece.lstrip())
            yield start + lead, start + lead + len(stripped)
        start = cut


def _is_boundary(text: str, match: re.Match[str]) -> bool:
    if text[match.end() :].lstrip()[:1].islower():
        return False  # "approx. five", "e.g. the": a sentence rarely starts lowercase
    if not match.group().startswith(".") or re.search(r"[!?۔]", match.group()):
        return True  # '!', '?' and the Urdu full stop always end a sentence ("U.S.?")
    if match.end() - match.start() > 1 and match.group()[1:2] == ".":
        return True  # an ellipsis
    word_start = match.start()
    while (
        word_start > 0
        and not text[word_start - 1].isspace()
        and text[word_start - 1] not in "(\"'“‘"
    ):
        word_start -= 1
    word = text[word_start : match.start()]
    if word.lower() in ABBREVIATIONS:
        return False
    return not _INITIALS.match(word)


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
