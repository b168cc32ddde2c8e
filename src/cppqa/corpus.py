"""Read ``corpus/`` and split it into sentences and passages with exact offsets.

Every ``Passage`` satisfies ``document.text[p.start:p.end] == p.text``; answers
quote the corpus, so nothing here rewrites the text.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterator
from pathlib import Path

from cppqa.errors import CorpusError
from cppqa.records import Document, Passage

SUFFIXES = (".txt", ".md")
#: Largest corpus file read, in bytes: a file this size already takes minutes to embed on a CPU.
MAX_FILE_BYTES = 10_000_000

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


def load_corpus(folder: Path) -> list[Document]:
    """Every ``.txt`` / ``.md`` file under ``folder`` (recursively), sorted by path.

    A title comes from ``NAME.meta.json`` beside the file (``{"title": ...}``),
    else from the file name.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise CorpusError(
            f"corpus folder {str(folder)!r} does not exist; create it and put .txt or .md "
            "files in it, or point CPPQA_CORPUS_DIR / --corpus at one"
        )
    paths = sorted(p for p in folder.rglob("*") if p.suffix.lower() in SUFFIXES and p.is_file())
    if not paths:
        raise CorpusError(f"corpus folder {str(folder)!r} has no .txt or .md files")
    documents = [read_document(path, folder) for path in paths]
    if not any(d.text.strip() for d in documents):
        raise CorpusError(f"every file in corpus folder {str(folder)!r} is empty")
    return documents


def read_document(path: Path, folder: Path) -> Document:
    size = path.stat().st_size
    if size > MAX_FILE_BYTES:
        raise CorpusError(
            f"corpus file {str(path)!r} is {size / 1e6:.1f} MB; the limit is "
            f"{MAX_FILE_BYTES / 1e6:.0f} MB per file: split it into smaller files or trim it"
        )
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise CorpusError(
            f"corpus file {str(path)!r} is not valid UTF-8 (byte {exc.start}); "
            "save it as UTF-8 or remove it from the corpus"
        ) from None
    doc = path.relative_to(folder).as_posix()
    return Document(doc=doc, title=_title(path), text=text, sha256=hashlib.sha256(raw).hexdigest())


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
    documents: list[Document], size: int, overlap: int
) -> tuple[list[Passage], list[Passage]]:
    """Sentences and chunks of every document, with their verbatim texts."""
    texts = {d.doc: d.text for d in documents}
    sentences = [s for d in documents for s in split_sentences(d.text, d.doc)]
    chunks = [
        Passage(c.doc, c.start, c.end, texts[c.doc][c.start : c.end])
        for c in chunk_sentences(sentences, size, overlap)
    ]
    return sentences, chunks
