"""The index as one object: build, save atomically, load, and check it is current.

On disk (``index/``):

- ``sentences.faiss`` / ``chunks.faiss``: unit vectors of sentences and passages;
- ``passages.json``: the sentence and passage records (doc, start, end, text);
- ``manifest.json``: what built them (format, model and weights hash, corpus
  file hashes, splitting parameters, dimension, counts, build time) and the
  SHA-256 of every file above, checked on load.

With ``vector_store = milvus`` the vectors live in Milvus collections instead
and ``sentences.milvus.json`` / ``chunks.milvus.json`` name them; the manifest's
``store`` records the URI (without credentials), collections and aliases. The
aliases are switched right after the folder (see ``cppqa.search.milvus``).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import shutil
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cppqa.config import Precision, Settings, VectorBackend
from cppqa.documents.corpus import corpus_passages, load_corpus
from cppqa.errors import IndexStateError
from cppqa.records import Document, Passage
from cppqa.search.dense import FaissStore, VectorStore
from cppqa.search.embed import Embedder, ModelInfo, sha256_file
from cppqa.search.manifest import (
    MILVUS_FILES,
    PARTS,
    files_of,
    read_manifest,
    splitting,
    store_mismatch,
    vector_precision,
    write_json,
)
from cppqa.search.progress import Progress, encode_told
from cppqa.search.swap import aside, recover, swap_lock

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

log = logging.getLogger(__name__)

#: Bump when the files or the splitting change meaning; older indexes are rebuilt.
FORMAT_VERSION = 2  # 2: the manifest records each FAISS store's kind and parameters


def fingerprint(documents: Sequence[Document]) -> str:
    """One hash of a corpus: its documents' names and SHA-256s, in name order. A reader
    adapted to a corpus records it, and is used for that corpus alone."""
    pairs = sorted((d.doc, d.sha256) for d in documents)
    return hashlib.sha256(json.dumps(pairs).encode()).hexdigest()


@dataclass(frozen=True)
class Index:
    """Sentences and passages of the corpus with their vector stores."""

    documents: tuple[Document, ...]
    sentences: tuple[Passage, ...]
    chunks: tuple[Passage, ...]
    sentence_vectors: VectorStore
    chunk_vectors: VectorStore
    manifest: dict[str, Any]

    @classmethod
    def build(
        cls,
        settings: Settings,
        embedder: Embedder,
        *,
        progress: bool = False,
        documents: Sequence[Document] | None = None,
        steps: Progress | None = None,
    ) -> Index:
        """Read the corpus (unless given its ``documents``), split it, embed every sentence
        and passage.

        ``progress`` shows the model's own bar. ``steps`` is told each batch of texts
        (sentences and passages) embedded, with the count done and the corpus's total
        (``cppqa.search.progress.encode_told``).
        """
        if documents is None:
            documents = load_corpus(settings.corpus_dir, settings)
        sentences, chunks = corpus_passages(
            documents, settings.chunk_sentences, settings.chunk_overlap
        )
        started = time.perf_counter()
        texts = [p.text for p in sentences] + [p.text for p in chunks]
        if steps is None:
            vectors = embedder.encode(texts, progress=progress)
        else:
            vectors = encode_told(embedder, texts, steps)
        manifest: dict[str, Any] = {
            "format": FORMAT_VERSION,
            "model": {
                "name": embedder.name,
                "weights_sha256": embedder.weights_sha256,
                "precision": embedder.precision,
            },
            "corpus": {d.doc: d.sha256 for d in documents},
            "splitting": splitting(settings),
        }
        sentence_vectors: VectorStore
        chunk_vectors: VectorStore
        if settings.vector_store is VectorBackend.MILVUS:
            sentence_vectors, chunk_vectors, manifest["store"] = _build_milvus(
                settings, manifest, vectors[: len(sentences)], vectors[len(sentences) :]
            )
        else:
            faiss_sentences = FaissStore.build(vectors[: len(sentences)])
            faiss_chunks = FaissStore.build(vectors[len(sentences) :])
            manifest["faiss"] = {
                "sentences": faiss_sentences.spec.to_json(),
                "chunks": faiss_chunks.spec.to_json(),
            }
            sentence_vectors, chunk_vectors = faiss_sentences, faiss_chunks
        manifest.update(
            {
                "dimension": int(vectors.shape[1]),
                "counts": {
                    "documents": len(documents),
                    "sentences": len(sentences),
                    "chunks": len(chunks),
                },
                "built_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                "embed_seconds": round(time.perf_counter() - started, 3),
            }
        )
        return cls(
            documents=tuple(documents),
            sentences=tuple(sentences),
            chunks=tuple(chunks),
            sentence_vectors=sentence_vectors,
            chunk_vectors=chunk_vectors,
            manifest=manifest,
        )

    def save(self, folder: Path) -> Index:
        """Write to a sibling temporary folder, then swap it in with renames.

        Returns the index with its manifest as saved (with the files' checksums).

        A crash at any point leaves either the old index or the new one in
        place (``recover`` finishes a swap interrupted between its renames).
        Milvus aliases are switched after the folder, under the same lock; a
        crash between the two leaves the folder's collections serving readers
        that load it (they search the collections it names, not the aliases).
        """
        folder = Path(folder)  # a str from an unconverted setting must not crash the swap
        recover(folder)
        folder.parent.mkdir(parents=True, exist_ok=True)
        tmp = folder.with_name(f"{folder.name}.tmp-{os.getpid()}")
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir()
        files = files_of(self.manifest)
        try:
            self.sentence_vectors.save(tmp / files[0])
            self.chunk_vectors.save(tmp / files[1])
            records = {
                "sentences": [p.to_json() for p in self.sentences],
                "chunks": [[p.doc, p.start, p.end] for p in self.chunks],
            }
            write_json(tmp / "passages.json", records)
            manifest = {**self.manifest, "files": {n: sha256_file(tmp / n) for n in files}}
            write_json(tmp / "manifest.json", manifest)
            for name in (*files, "manifest.json"):
                _fsync(tmp / name)
            old = aside(folder)
            with swap_lock(folder):
                if folder.exists():
                    folder.rename(old)
                tmp.rename(folder)
                self._publish()
            _fsync(folder.parent)
            shutil.rmtree(old, ignore_errors=True)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        return replace(self, manifest=manifest)

    def _publish(self) -> None:
        """Point the Milvus aliases at this index's collections (FAISS: nothing to do)."""
        store = self.manifest.get("store")
        if store is None:
            return
        from cppqa.search.milvus import MilvusStore, publish

        for part, vectors in zip(PARTS, (self.sentence_vectors, self.chunk_vectors), strict=True):
            assert isinstance(vectors, MilvusStore)
            publish(vectors, store[part]["alias"])

    @classmethod
    def load(cls, folder: Path, settings: Settings, model: ModelInfo) -> Index:
        """Read a saved index, refusing one that is damaged or stale.

        Raises ``IndexStateError`` saying why; ``ensure_index`` turns that into
        a rebuild.
        """
        folder = Path(folder)
        recover(folder)
        manifest = read_manifest(folder)
        documents = tuple(load_corpus(settings.corpus_dir, settings))  # read once: PDFs take time
        problem = staleness(manifest, settings, model, folder, documents)
        if problem:
            raise IndexStateError(problem)
        texts = {d.doc: d.text for d in documents}
        try:
            records = json.loads((folder / "passages.json").read_text(encoding="utf-8"))
            sentences = tuple(Passage.from_json(r) for r in records["sentences"])
            chunks = tuple(Passage(d, s, e, texts[d][s:e]) for d, s, e in records["chunks"])
        except (ValueError, TypeError, KeyError, IndexError, AttributeError) as exc:
            # Checksums matched, so the file was written (or resealed) this way on purpose.
            raise IndexStateError(f"index file passages.json is malformed ({exc!r})") from None
        for p in sentences:
            if texts.get(p.doc, "")[p.start : p.end] != p.text:
                raise IndexStateError(f"index record {p.doc}:{p.start}-{p.end} does not match")
        sentence_vectors: VectorStore
        chunk_vectors: VectorStore
        if "store" in manifest:
            sentence_vectors, chunk_vectors = _load_milvus(settings, manifest, folder)
        else:
            sentence_vectors = FaissStore.load(folder / "sentences.faiss")
            chunk_vectors = FaissStore.load(folder / "chunks.faiss")
        index = cls(
            documents=documents,
            sentences=sentences,
            chunks=chunks,
            sentence_vectors=sentence_vectors,
            chunk_vectors=chunk_vectors,
            manifest=manifest,
        )
        if len(index.sentence_vectors) != len(sentences) or len(index.chunk_vectors) != len(chunks):
            raise IndexStateError("index vectors and records disagree in number")
        return index


def ensure_index(
    settings: Settings,
    model: ModelInfo,
    load_embedder: Callable[[], Embedder],
    *,
    rebuild: bool = True,
    progress: bool = False,
) -> Index:
    """Load the index, rebuilding it (with a warning) when missing, damaged or stale.

    With ``rebuild=False`` a missing or stale index raises ``IndexStateError``.
    """
    try:
        return Index.load(settings.index_dir, settings, model)
    except IndexStateError as exc:
        if not rebuild:
            raise IndexStateError(
                f"{exc}; run `cppqa index` to rebuild it, or drop --no-rebuild"
            ) from None
        log.warning("%s; rebuilding the index in %s", exc, settings.index_dir)
    documents = load_corpus(settings.corpus_dir, settings)  # a bad file fails before the model
    return Index.build(settings, load_embedder(), progress=progress, documents=documents).save(
        settings.index_dir
    )


def staleness(
    manifest: dict[str, Any],
    settings: Settings,
    model: ModelInfo,
    folder: Path,
    documents: Sequence[Document] | None = None,
) -> str | None:
    """Why an index built with ``manifest`` cannot serve ``settings`` now, or None.

    ``documents`` is the corpus as read now; None reads it.
    """
    if manifest.get("format") != FORMAT_VERSION:
        return f"index format {manifest.get('format')} is not the current {FORMAT_VERSION}"
    if manifest.get("model", {}).get("weights_sha256") != model.weights_sha256:
        return f"index was built with another model ({manifest.get('model', {}).get('name')})"
    built_in = vector_precision(manifest)
    if settings.precision is not Precision.AUTO and built_in != settings.precision.value:
        # vectors of two precisions never meet in one search
        return (
            f"index vectors were made in {built_in}, and CPPQA_PRECISION asks for "
            f"{settings.precision.value}"
        )
    if manifest.get("splitting") != splitting(settings):
        return "index was built with other splitting parameters"
    if documents is None:
        documents = load_corpus(settings.corpus_dir, settings)
    current = {d.doc: d.sha256 for d in documents}
    built = manifest.get("corpus", {})
    if current != built:
        changed = sorted(set(current) ^ set(built)) or sorted(
            doc for doc in current if current[doc] != built.get(doc)
        )
        return f"index is stale: corpus changed ({', '.join(changed)})"
    problem = store_mismatch(manifest, settings)
    if problem:
        return problem
    files = manifest.get("files", {})
    for name in files_of(manifest):
        path = folder / name
        if not path.is_file():
            return f"index file {name} is missing"
        if sha256_file(path) != files.get(name):
            return f"index file {name} is damaged (checksum mismatch)"
    return None


def _build_milvus(
    settings: Settings, manifest: dict[str, Any], sentences: Any, chunks: Any
) -> tuple[VectorStore, VectorStore, dict[str, Any]]:
    """New collections for the sentence and passage vectors, named after ``manifest``'s hashes.

    They serve only once ``Index.save`` switches the aliases to them.
    """
    from cppqa.search.milvus import MilvusStore, collection_name, connect, public_uri

    assert settings.milvus_uri is not None  # Settings.validate
    digest = hashlib.sha256(json.dumps(manifest, sort_keys=True).encode()).hexdigest()
    client = connect(settings.milvus_uri, settings.milvus_timeout)
    record: dict[str, Any] = {"kind": VectorBackend.MILVUS.value}
    record["uri"] = public_uri(settings.milvus_uri)
    stores = []
    for part, vectors in zip(PARTS, (sentences, chunks), strict=True):
        alias = f"{settings.milvus_alias}_{part}"
        name = collection_name(alias, digest)
        log.info("writing %d vectors to Milvus collection %s", len(vectors), name)
        store = MilvusStore.build(client, name, vectors, timeout=settings.milvus_timeout)
        stores.append(store)
        record[part] = {"collection": name, "alias": alias, "index": store.index}
    return stores[0], stores[1], record


def _load_milvus(
    settings: Settings, manifest: dict[str, Any], folder: Path
) -> tuple[VectorStore, VectorStore]:
    from cppqa.search.milvus import MilvusStore, connect, serving

    assert settings.milvus_uri is not None  # Settings.validate
    client = connect(settings.milvus_uri, settings.milvus_timeout)
    stores = []
    for part, name in zip(PARTS, MILVUS_FILES[:2], strict=True):
        store = MilvusStore.load(folder / name, client, timeout=settings.milvus_timeout)
        alias = manifest["store"][part]["alias"]
        current = serving(client, alias, settings.milvus_timeout)
        if current != store.collection:
            log.warning(
                "Milvus alias %s points at %s; this index's records match %s, which it serves",
                alias,
                current,
                store.collection,
            )
        stores.append(store)
    return stores[0], stores[1]


def _fsync(path: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
