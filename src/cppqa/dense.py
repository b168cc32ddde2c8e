"""Dense vector search with FAISS; the only module that imports faiss."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from cppqa.errors import IndexStateError

if TYPE_CHECKING:
    import numpy as np


class VectorStore(Protocol):
    """The seam for another vector backend: add unit vectors, search by inner product."""

    def search(self, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]: ...

    def save(self, path: Path) -> None: ...

    def __len__(self) -> int: ...


class FaissStore:
    """Exact inner-product search over normalised vectors (cosine similarity)."""

    kind = "IndexFlatIP"

    def __init__(self, index: Any) -> None:
        self._index = index

    @classmethod
    def build(cls, vectors: np.ndarray) -> FaissStore:
        import faiss

        index = faiss.IndexFlatIP(vectors.shape[1])
        index.add(vectors)
        return cls(index)

    @classmethod
    def load(cls, path: Path) -> FaissStore:
        import faiss

        try:
            return cls(faiss.read_index(str(path)))
        except RuntimeError as exc:
            raise IndexStateError(f"cannot read FAISS index {str(path)!r}: {exc}") from None

    def save(self, path: Path) -> None:
        import faiss

        faiss.write_index(self._index, str(path))

    def search(self, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Scores and ids of the ``k`` nearest vectors for each query row (id -1: none)."""
        return self._index.search(queries, min(k, len(self)))

    @property
    def dimension(self) -> int:
        return int(self._index.d)

    def __len__(self) -> int:
        return int(self._index.ntotal)
