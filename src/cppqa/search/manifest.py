"""An index's manifest: what built it (the model and its weights, the corpus files'
hashes, the splitting, the vector store and its precision) and a checksum of every
file, read back with every field checked so a damaged one is rebuilt, not trusted."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cppqa.config import Settings, VectorBackend
from cppqa.errors import IndexStateError

if TYPE_CHECKING:
    pass


FILES = ("sentences.faiss", "chunks.faiss", "passages.json")


MILVUS_FILES = ("sentences.milvus.json", "chunks.milvus.json", "passages.json")


PARTS = ("sentences", "chunks")


def vector_precision(manifest: dict[str, Any]) -> str:
    """The precision an index's vectors were made in (indexes before it was recorded: fp32)."""
    return str(manifest.get("model", {}).get("precision", "fp32"))


def store_mismatch(manifest: dict[str, Any], settings: Settings) -> str | None:
    """Why the vectors of ``manifest`` are not where ``settings`` look for them, or None."""
    store = manifest.get("store")
    built = VectorBackend.MILVUS.value if store else VectorBackend.FAISS.value
    if built != settings.vector_store.value:
        return (
            f"index vectors are in {built}, settings ask for {settings.vector_store.value} "
            "(CPPQA_VECTOR_STORE)"
        )
    if store is None:
        return None
    from cppqa.search.milvus import public_uri

    assert settings.milvus_uri is not None  # Settings.validate
    if store.get("uri") != public_uri(settings.milvus_uri):
        return f"index vectors are in Milvus at {store.get('uri')}, settings point elsewhere"
    if store.get("sentences", {}).get("alias") != f"{settings.milvus_alias}_sentences":
        return "index vectors are under another Milvus alias (CPPQA_MILVUS_ALIAS)"
    return None


def files_of(manifest: dict[str, Any]) -> tuple[str, ...]:
    """The files of an index, checksummed in its manifest."""
    return MILVUS_FILES if "store" in manifest else FILES


def read_manifest(folder: Path) -> dict[str, Any]:
    path = folder / "manifest.json"
    if not path.is_file():
        raise IndexStateError(f"no index in {str(folder)!r}")
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError):
        raise IndexStateError(f"index manifest {str(path)!r} is damaged") from None
    if not isinstance(manifest, dict):
        raise IndexStateError(f"index manifest {str(path)!r} is damaged")
    for key in ("model", "corpus", "splitting", "files"):
        if not isinstance(manifest.get(key), dict):
            raise IndexStateError(f"index manifest {str(path)!r} is damaged (bad {key!r})")
    if "store" in manifest:
        store = manifest["store"]
        if not isinstance(store, dict) or not all(isinstance(store.get(p), dict) for p in PARTS):
            raise IndexStateError(f"index manifest {str(path)!r} is damaged (bad 'store')")
    return manifest


def splitting(settings: Settings) -> dict[str, Any]:
    return {"chunk_sentences": settings.chunk_sentences, "chunk_overlap": settings.chunk_overlap}


def write_json(path: Path, data: Any) -> None:
    path.write_text(json.dumps(data, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
