"""``cppqa bench --scale``: the vector store at sizes far beyond the shipped corpus.

``run_scale`` builds vector stores over synthetic vectors (see
``synthetic_vectors``) and reports build time, size, search latency and
recall@10 against exact search; with ``store=VectorBackend.MILVUS`` a Milvus
collection is built next to each FAISS store, in the same run, over the same
vectors, and its top 10 are compared with FAISS's. ``format_scale`` draws the
results as a Markdown table and ``plot_scale`` as a figure.

>>> results = run_scale([10_000, 100_000])    # doctest: +SKIP
>>> results[0].recall_at_10, results[0].ok    # doctest: +SKIP
(1.0, True)
"""

from __future__ import annotations

import gc
import logging
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cppqa.config import VectorBackend
from cppqa.evaluation.bench_report import percentile, timed

if TYPE_CHECKING:
    import numpy as np

log = logging.getLogger(__name__)

#: The targets of the scale benchmark: search p95 (ms), recall@10 and the store's memory (MB).
SCALE_P95_MS, SCALE_RECALL, SCALE_MEMORY_MB = 10.0, 0.95, 1500.0


@dataclass(frozen=True)
class ScaleResult:
    """One synthetic size: the store chosen and what it cost.

    ``disk_mb`` and ``memory_mb`` are None where this process cannot see them
    (a Milvus server's); ``overlap_with_faiss`` is the mean share of the top 10
    that a Milvus store has in common with the FAISS store of the same run.
    """

    size: int
    store: dict[str, Any]
    build_seconds: float
    disk_mb: float | None
    memory_mb: float | None
    search_p50_ms: float
    search_p95_ms: float
    exact_p50_ms: float
    recall_at_10: float
    backend: str = VectorBackend.FAISS.value
    overlap_with_faiss: float | None = None

    @property
    def ok(self) -> bool:
        return (
            self.search_p95_ms < SCALE_P95_MS
            and self.recall_at_10 >= SCALE_RECALL
            and (self.memory_mb is None or self.memory_mb < SCALE_MEMORY_MB)
        )


def synthetic_vectors(
    n: int, *, topics: int, dimension: int = 384, seed: int = 0, chunk: int = 100_000
) -> np.ndarray:
    """``n`` unit vectors shaped like sentence embeddings, not uniform noise.

    Real embeddings (e.g. all-MiniLM-L6-v2) are not spread evenly on the sphere:
    they share a common direction (random pairs have cosine ≈ 0.1-0.2), they
    gather in topics, and their variance falls off across directions (a low
    intrinsic dimension). Uniform noise has none of that and makes every index
    look worse and every neighbour equally far. Here: ``topics`` Gaussian
    centres plus a shared mean, per-vector noise with a power-law spectrum
    (variance ∝ i^-1.2), rotated by a random orthogonal matrix so that no axis
    is special, then normalised. The topics and the rotation depend only on
    ``topics`` and ``dimension``; ``seed`` draws the vectors, so queries drawn
    with another seed come from the same "corpus".
    """
    import numpy as np

    shape = np.random.default_rng(12345 + topics)
    spectrum = np.arange(1, dimension + 1, dtype=np.float32) ** -0.6
    spectrum /= np.sqrt(np.sum(spectrum**2))
    rotation, _ = np.linalg.qr(shape.standard_normal((dimension, dimension)))
    rotation = rotation.astype(np.float32)
    mean = shape.standard_normal(dimension).astype(np.float32)
    mean *= 0.45 / np.linalg.norm(mean)
    centres = shape.standard_normal((topics, dimension)).astype(np.float32) * spectrum
    centres *= 0.9 / np.linalg.norm(centres, axis=1, keepdims=True).mean()
    rng = np.random.default_rng(seed)
    out = np.empty((n, dimension), dtype=np.float32)
    for start in range(0, n, chunk):
        rows = min(chunk, n - start)
        noise = rng.standard_normal((rows, dimension), dtype=np.float32) * (0.75 * spectrum)
        x = (centres[rng.integers(0, topics, rows)] + noise) @ rotation + mean
        x /= np.linalg.norm(x, axis=1, keepdims=True)
        out[start : start + rows] = x
    return out


def run_scale(
    sizes: list[int],
    *,
    queries: int = 300,
    exact_limit: int | None = None,
    dimension: int = 384,
    store: VectorBackend = VectorBackend.FAISS,
    milvus_uri: str | None = None,
) -> list[ScaleResult]:
    """Build a store per size over synthetic vectors; time it, size it, check recall@10.

    ``exact_limit`` overrides ``dense.EXACT_LIMIT`` (tests use it to reach the
    approximate store with few vectors). With ``store=VectorBackend.MILVUS``
    each size also gets a Milvus row, at ``milvus_uri`` (default: a temporary
    Milvus Lite file); its benchmark collection is dropped afterwards.
    """
    results = []
    for n in sizes:
        results.extend(_scale(n, queries, exact_limit, dimension, store, milvus_uri))
        log.info("scale %d: %s", n, results[-1])
        gc.collect()
    return results


def _scale(
    n: int,
    queries: int,
    exact_limit: int | None,
    dimension: int,
    backend: VectorBackend,
    milvus_uri: str | None,
) -> list[ScaleResult]:
    import faiss

    from cppqa.search.dense import EXACT_LIMIT, FaissStore, StoreSpec

    topics = max(8, n // 200)  # a topic per ~200 passages, like a long article's sections
    vectors = synthetic_vectors(n, topics=topics, dimension=dimension)
    asked = synthetic_vectors(queries, topics=topics, dimension=dimension, seed=1)
    ip = faiss.METRIC_INNER_PRODUCT
    _scores, truth = faiss.knn(asked, vectors, 10, metric=ip)
    exact_ms = [timed(faiss.knn, q[None], vectors, 10, metric=ip) for q in asked[:50]]
    exact_p50 = round(percentile(exact_ms, 50), 3)
    spec = StoreSpec.for_size(n, dimension, exact_limit=exact_limit or EXACT_LIMIT)
    started = time.perf_counter()
    built = FaissStore.build(vectors, spec)
    build_seconds = time.perf_counter() - started
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "store.faiss"
        built.save(path)
        del built
        memory_mb = _loaded_mb(path)
        disk_mb = path.stat().st_size / 2**20
        store = FaissStore.load(path)
    _found_scores, found = store.search(asked, 10)
    for q in asked[:10]:
        store.search(q[None], 10)
    search_ms = [timed(store.search, q[None], 10) for q in asked]
    results = [
        ScaleResult(
            size=n,
            store=spec.to_json(),
            build_seconds=round(build_seconds, 2),
            disk_mb=round(disk_mb, 1),
            memory_mb=round(memory_mb, 1),
            search_p50_ms=round(percentile(search_ms, 50), 3),
            search_p95_ms=round(percentile(search_ms, 95), 3),
            exact_p50_ms=exact_p50,
            recall_at_10=overlap(found, truth),
        )
    ]
    if backend is VectorBackend.MILVUS:
        del store
        gc.collect()
        results.append(_scale_milvus(vectors, asked, truth, found, exact_p50, milvus_uri))
    return results


def overlap(found: np.ndarray, other: np.ndarray, k: int = 10) -> float:
    """The mean share of each row's top ``k`` ids that ``other``'s row also has."""
    shared = [len(set(a[:k]) & set(b[:k])) / k for a, b in zip(found, other, strict=True)]
    return round(sum(shared) / len(shared), 4)


def _scale_milvus(
    vectors: np.ndarray,
    asked: np.ndarray,
    truth: np.ndarray,
    faiss_found: np.ndarray,
    exact_p50: float,
    uri: str | None,
) -> ScaleResult:
    """A Milvus collection over the same vectors, timed and compared with exact and FAISS."""
    from cppqa.search.milvus import (
        MilvusStore,
        close,
        collection_name,
        connect,
        is_lite,
        public_uri,
    )

    with tempfile.TemporaryDirectory() as tmp:
        target = uri or str(Path(tmp) / "bench.db")
        client = connect(target, timeout=60)
        name = collection_name("cppqa_bench", f"{len(vectors):x}")
        try:
            started = time.perf_counter()
            store = MilvusStore.build(client, name, vectors, timeout=600)
            build_seconds = time.perf_counter() - started
            _scores, found = store.search(asked, 10)
            for q in asked[:10]:
                store.search(q[None], 10)
            search_ms = [timed(store.search, q[None], 10) for q in asked]
            lite = is_lite(target)
            disk = sum(f.stat().st_size for f in Path(target).rglob("*") if f.is_file())
        finally:
            client.drop_collection(name)
            close(client, target)
    return ScaleResult(
        size=len(vectors),
        store={"kind": store.kind, "uri": "Milvus Lite" if lite else public_uri(target)},
        build_seconds=round(build_seconds, 2),
        disk_mb=round(disk / 2**20, 1) if lite else None,
        memory_mb=None,
        search_p50_ms=round(percentile(search_ms, 50), 3),
        search_p95_ms=round(percentile(search_ms, 95), 3),
        exact_p50_ms=exact_p50,
        recall_at_10=overlap(found, truth),
        backend=VectorBackend.MILVUS.value,
        overlap_with_faiss=overlap(found, faiss_found),
    )


#: Run in a fresh process: this one's heap reuses freed pages and would under-count.
_LOAD_AND_MEASURE = """
import os, sys
from pathlib import Path
import faiss
from cppqa.search.dense import FaissStore
def rss():
    return int(Path("/proc/self/statm").read_text().split()[1]) * os.sysconf("SC_PAGE_SIZE")
# Page in FAISS's reader code and thread pool first: only the index should count.
faiss.deserialize_index(faiss.serialize_index(faiss.IndexFlatIP(8)))
before = rss()
store = FaissStore.load(Path(sys.argv[1]))
print((rss() - before) / 2**20)
"""


def _loaded_mb(path: Path) -> float:
    """Resident memory (MB) that loading the store at ``path`` adds to a fresh process."""
    done = subprocess.run(
        [sys.executable, "-c", _LOAD_AND_MEASURE, str(path)],
        capture_output=True,
        text=True,
        check=True,
    )
    return max(0.0, float(done.stdout.strip()))


def plot_scale(results: list[ScaleResult], path: Path) -> bool:
    """Draw latency, recall and memory against size into ``path``; False without matplotlib."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return False
    results = [r for r in results if r.backend == VectorBackend.FAISS.value]
    sizes = [r.size for r in results]
    fig, (speed, recall, memory) = plt.subplots(1, 3, figsize=(13, 4))
    speed.plot(sizes, [r.search_p95_ms for r in results], "o-", label="cppqa store p95")
    speed.plot(sizes, [r.search_p50_ms for r in results], "o--", label="cppqa store p50")
    speed.plot(sizes, [r.exact_p50_ms for r in results], "s:", label="exact search p50")
    speed.axhline(SCALE_P95_MS, color="grey", lw=0.8, label="target p95")
    speed.set(xscale="log", yscale="log", xlabel="passages", ylabel="ms per query")
    speed.set_title("search latency (one query)")
    recall.plot(sizes, [r.recall_at_10 for r in results], "o-")
    recall.axhline(SCALE_RECALL, color="grey", lw=0.8)
    recall.set(xscale="log", xlabel="passages", ylabel="recall@10 vs exact", ylim=(0.8, 1.01))
    recall.set_title("recall@10")
    memory.plot(sizes, [r.memory_mb for r in results], "o-", label="store in memory")
    memory.plot(sizes, [r.size * 384 * 4 / 2**20 for r in results], "s:", label="raw float32")
    memory.axhline(SCALE_MEMORY_MB, color="grey", lw=0.8, label="target")
    memory.set(xscale="log", yscale="log", xlabel="passages", ylabel="MB")
    memory.set_title("memory")
    for axis in (speed, memory):
        axis.legend(fontsize=8)
    fig.suptitle("cppqa vector store on synthetic clustered 384-d vectors")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return True


def format_scale(results: list[ScaleResult]) -> str:
    """The results as a Markdown table, each size's stores with the targets they met."""
    lines = [
        "vectors are SYNTHETIC (clustered 384-d unit vectors, see bench_scale.synthetic_vectors)",
        "",
        "| passages | store | build (s) | disk (MB) | memory (MB) | search p50 (ms) "
        "| search p95 (ms) | exact p50 (ms) | recall@10 | top-10 overlap with FAISS "
        "| targets met |",
        "|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for r in results:
        params = ", ".join(f"{k}={v}" for k, v in r.store.items() if k not in {"kind", "factory"})
        store = r.store["kind"] + (f" ({params})" if params else "")
        disk = "–" if r.disk_mb is None else f"{r.disk_mb:.0f}"
        memory = "–" if r.memory_mb is None else f"{r.memory_mb:.0f}"
        shared = "–" if r.overlap_with_faiss is None else f"{r.overlap_with_faiss:.3f}"
        lines.append(
            f"| {r.size:,} | {store} | {r.build_seconds:.1f} | {disk} | {memory} | "
            f"{r.search_p50_ms:.2f} | {r.search_p95_ms:.2f} | {r.exact_p50_ms:.2f} | "
            f"{r.recall_at_10:.3f} | {shared} | {'yes' if r.ok else '**no**'} |"
        )
    lines.append(
        f"targets: search p95 < {SCALE_P95_MS:g} ms, recall@10 ≥ {SCALE_RECALL}, "
        f"memory < {SCALE_MEMORY_MB:g} MB"
    )
    return "\n".join(lines)
