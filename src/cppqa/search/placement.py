"""Where a corpus's index lives when no one named a folder for it.

The shipped corpus keeps its committed index in ``index/``. Any other corpus keeps its
own in the cache folder (``Settings.cache_dir``, ``CPPQA_CACHE_DIR``), under the
fingerprint of its files, so asking about your own documents never rewrites the shipped
index, and the same files find their index again from any path.

>>> place_index(Settings(), named=False).index_dir == Settings().index_dir
True
"""

from __future__ import annotations

import hashlib
from dataclasses import replace
from pathlib import Path

from cppqa.config import Settings


def place_index(settings: Settings, *, named: bool) -> Settings:
    """``settings`` with the index folder of their corpus: as given where it was ``named``
    (``--index``, ``CPPQA_INDEX_DIR``) or the corpus is the shipped one, else the cache's
    folder for the corpus's files (``corpus_index_dir``)."""
    if named or settings.corpus_dir.resolve() == Settings().corpus_dir.resolve():
        return settings
    cached = corpus_index_dir(settings.corpus_dir, settings.cache_dir)
    return settings if cached is None else replace(settings, index_dir=cached)


def corpus_index_dir(corpus: Path, cache_dir: Path) -> Path | None:
    """Where the index of the corpus at ``corpus`` goes when none is named:
    ``cache_dir/indexes/FINGERPRINT``, the fingerprint of its files' names and bytes
    (``cppqa.search.index.fingerprint``, as ``load_corpus`` would read them). The same files
    find the same index again, from any path; changed files get a new one.

    None when ``corpus`` holds no document file: ``load_corpus`` then says what is wrong.
    """
    from cppqa.documents.formats import SUFFIXES
    from cppqa.records import Document
    from cppqa.search.index import fingerprint

    def readable(path: Path) -> bool:
        # "~$report.docx" is the lock file Word keeps beside an open document (load_corpus)
        return path.suffix.lower() in SUFFIXES and not path.name.startswith("~$")

    if corpus.is_file():
        files = {corpus.name: corpus} if readable(corpus) else {}
    elif corpus.is_dir():
        files = {
            p.relative_to(corpus).as_posix(): p
            for p in corpus.rglob("*")
            if readable(p) and p.is_file()
        }
    else:
        files = {}
    if not files:
        return None
    # Names and hashes are all a fingerprint takes: the files are not read as documents here.
    unread = [
        Document(doc, "", "", hashlib.sha256(path.read_bytes()).hexdigest())
        for doc, path in files.items()
    ]
    return cache_dir / "indexes" / fingerprint(unread)
