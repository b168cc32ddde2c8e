"""Dense vector search with FAISS; the only module that imports faiss.

Small collections get exact search (``IndexFlatIP``). From ``EXACT_LIMIT``
vectors on, exact search costs too much per query (it reads every vector:
1M × 384 float32 is 1.5 GB per question), so the store switches to an
approximate index: an inverted file (IVF) of 4-bit product-quantised codes
scanned with SIMD ("fast scan"), whose best ``k_factor × k`` candidates are
re-scored with 8-bit scalar-quantised vectors. ``StoreSpec`` holds the choice
and its parameters; the index manifest records it.

>>> spec = StoreSpec.for_size(1_000_000, 384)
>>> spec.kind.value, spec.nlist, spec.nprobe
('IVF-PQfs-SQ8', 1024, 96)
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from cppqa.errors import CppqaError, IndexStateError

if TYPE_CHECKING:
    import numpy as np

#: From this many vectors on, search is approximate. Exact search over 50k
#: 384-d vectors takes a few milliseconds on one core; beyond, it grows linearly.
EXACT_LIMIT = 50_000
#: Training samples per inverted list; FAISS warns below 39 (k-means needs them).
TRAIN_PER_LIST = 50
#: Candidates re-scored with the 8-bit vectors, per result asked for.
K_FACTOR = 10


class VectorStoreError(CppqaError):
    """The vector store cannot be reached or used; unlike a stale index, a rebuild cannot help."""


class VectorStore(Protocol):
    """The seam for another vector backend: add unit vectors, search by inner product.

    ``FaissStore`` (here) keeps them in a file; ``cppqa.search.milvus.MilvusStore`` in a
    Milvus collection. ``save`` writes what ``load`` needs to find them again.
    """

    def search(self, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]: ...

    def save(self, path: Path) -> None: ...

    def __len__(self) -> int: ...


class StoreKind(Enum):
    """The FAISS index families a ``FaissStore`` can hold."""

    EXACT = "IndexFlatIP"
    IVF_PQ_REFINE = "IVF-PQfs-SQ8"


@dataclass(frozen=True)
class StoreSpec:
    """Which FAISS index to build, with its parameters (0 where they do not apply)."""

    kind: StoreKind
    nlist: int = 0  # inverted lists (k-means cells)
    nprobe: int = 0  # cells visited per query
    pq_m: int = 0  # product-quantiser sub-vectors, 4 bits each
    k_factor: int = 0  # candidates re-scored per result

    @classmethod
    def for_size(cls, n: int, dimension: int, *, exact_limit: int = EXACT_LIMIT) -> StoreSpec:
        """Exact below ``exact_limit`` vectors, else IVF with about √n lists.

        √n lists is the usual balance between the coarse search and the list
        scans (FAISS wiki, "Guidelines to choose an index"); visiting 3/32 of
        them keeps recall@10 at about 0.97 on clustered data (see ``cppqa bench
        --scale``). Two dimensions per 4-bit sub-quantiser keep the codes
        precise enough that re-scoring finds the true neighbours.
        """
        if n < exact_limit:
            return cls(StoreKind.EXACT)
        nlist = 2 ** round(math.log2(math.sqrt(n)))
        pq_m = dimension // 2 if dimension % 2 == 0 else dimension
        return cls(
            StoreKind.IVF_PQ_REFINE,
            nlist=nlist,
            nprobe=max(16, nlist * 3 // 32),
            pq_m=pq_m,
            k_factor=K_FACTOR,
        )

    def factory(self) -> str:
        """The ``faiss.index_factory`` description of this store."""
        if self.kind is StoreKind.EXACT:
            return "Flat"
        return f"IVF{self.nlist},PQ{self.pq_m}x4fs,Refine(SQ8)"

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"kind": self.kind.value}
        if self.kind is not StoreKind.EXACT:
            out.update(
                factory=self.factory(),
                nlist=self.nlist,
                nprobe=self.nprobe,
                pq_m=self.pq_m,
                k_factor=self.k_factor,
            )
        return out


class FaissStore:
    """Inner-product search over normalised vectors (cosine similarity), exact or IVF."""

    def __init__(self, index: Any, spec: StoreSpec) -> None:
        self._index = index
        self.spec = spec

    @property
    def kind(self) -> str:
        return self.spec.kind.value

    @classmethod
    def build(cls, vectors: np.ndarray, spec: StoreSpec | None = None) -> FaissStore:
        """A store of ``vectors``; ``spec`` defaults to ``StoreSpec.for_size``."""
        faiss = _faiss()
        import numpy as np

        n, dimension = vectors.shape
        spec = spec or StoreSpec.for_size(n, dimension)
        index: Any
        if spec.kind is StoreKind.EXACT:
            index = faiss.IndexFlatIP(dimension)
        else:
            index = faiss.index_factory(dimension, spec.factory(), faiss.METRIC_INNER_PRODUCT)
            # A fixed seed: the same vectors always give the same index file.
            rng = np.random.default_rng(0)
            sample = min(n, spec.nlist * TRAIN_PER_LIST)
            rows = np.sort(rng.choice(n, sample, replace=False)) if sample < n else slice(None)
            index.train(np.ascontiguousarray(vectors[rows]))
            _tune(index, spec)
        index.add(vectors)
        return cls(index, spec)

    @classmethod
    def load(cls, path: Path) -> FaissStore:
        faiss = _faiss()

        try:
            index = faiss.read_index(str(path))
        except RuntimeError as exc:
            raise IndexStateError(f"cannot read FAISS index {str(path)!r}: {exc}") from None
        return cls(index, _spec_of(index))

    def save(self, path: Path) -> None:
        faiss = _faiss()

        faiss.write_index(self._index, str(path))

    def search(self, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Scores and ids of the ``k`` nearest vectors for each query row (id -1: none).

        One query runs on this thread alone: FAISS's OpenMP team costs more
        than it saves there, and on a busy 2-core machine it waits for the
        other core (a 50k exact search took 76 ms with 2 threads, 20 ms with 1).
        OpenMP's thread count is per calling thread, so others are unaffected.
        """
        if len(queries) != 1:
            return self._index.search(queries, min(k, len(self)))
        faiss = _faiss()

        threads = faiss.omp_get_max_threads()
        faiss.omp_set_num_threads(1)
        try:
            return self._index.search(queries, min(k, len(self)))
        finally:
            faiss.omp_set_num_threads(threads)

    def vector(self, i: int) -> np.ndarray:
        """The stored vector ``i`` (approximate stores give their decoded copy)."""
        return self._index.reconstruct(int(i))

    @property
    def dimension(self) -> int:
        return int(self._index.d)

    def __len__(self) -> int:
        return int(self._index.ntotal)


def _tune(index: Any, spec: StoreSpec) -> None:
    faiss = _faiss()

    faiss.extract_index_ivf(index).nprobe = spec.nprobe
    index.k_factor = spec.k_factor


def _spec_of(index: Any) -> StoreSpec:
    """The spec of a loaded index (FAISS saves nprobe and k_factor with it)."""
    faiss = _faiss()

    if isinstance(index, faiss.IndexFlatIP):
        return StoreSpec(StoreKind.EXACT)
    if isinstance(index, faiss.IndexRefine):
        ivf = faiss.downcast_index(index.base_index)
        if isinstance(ivf, faiss.IndexIVFPQFastScan):
            return StoreSpec(
                StoreKind.IVF_PQ_REFINE,
                nlist=int(ivf.nlist),
                nprobe=int(ivf.nprobe),
                pq_m=int(ivf.M),
                k_factor=int(index.k_factor),
            )
    kinds = ", ".join(k.value for k in StoreKind)
    raise IndexStateError(
        f"unsupported FAISS index type {type(index).__name__!r}; cppqa reads {kinds}"
    )


def _faiss() -> Any:
    """Import faiss, first telling OpenMP to let idle threads sleep.

    faiss and torch each bring an OpenMP runtime whose idle threads spin by
    default; on 2 cores they starved each other and the model: a warm answer
    took 551 ms with spinning threads, 20 ms with OMP_WAIT_POLICY=PASSIVE
    (``cppqa bench`` machine, under load). The runtimes read the variable when
    they start, and faiss is loaded before the model, so this covers both;
    a value the user set wins.
    """
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    import faiss

    return faiss
