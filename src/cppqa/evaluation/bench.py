"""The benchmark behind ``cppqa bench``: cppqa against its physical floor, and at scale.

Everything is measured in one run on one machine, side by side with its
floor, so the ratios mean something even when the machine is shared:

- warm answer latency of ``QA.ask`` against the bare model encoding the same
  question plus one FAISS search (interleaved, question by question);
- cold start of ``python -m cppqa ask`` against a process that only imports
  sentence-transformers and loads the same model; ``--help`` wall time;
- index build throughput against the model's bare ``encode`` of the same texts;
- peak RSS of the process that answered one question;
- documents (``cppqa.evaluation.bench_documents``): PDF extraction in pages a second, indexing in
  sentences a second, and the time from uploading a 30-page and a 100-page PDF to the
  first answer; and a 10-page scan's (``cppqa.evaluation.bench_scan``), with OCR's pages a second.

``run_scale`` builds vector stores over synthetic vectors (see
``synthetic_vectors``) and reports build time, size, search latency and
recall@10 against exact search; with ``store=VectorBackend.MILVUS`` a Milvus
collection is built next to each FAISS store, in the same run, over the same
vectors, and its top 10 are compared with FAISS's.

>>> report = run_system(Settings.from_env(), questions=300)   # doctest: +SKIP
>>> report.rows[0].name, report.rows[0].ratio                 # doctest: +SKIP
('warm answer p50 (ms)', 1.08)
"""

from __future__ import annotations

import gc
import json
import logging
import math
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cppqa.config import Settings, VectorBackend
from cppqa.evaluation.bench_documents import (
    UPLOAD_PAGES,
    UPLOAD_TARGET_PAGES,
    UPLOAD_TARGET_S,
    DocumentRun,
    measure,
)
from cppqa.evaluation.bench_scan import SCAN_PAGES, scan_notes, scan_rows
from cppqa.reading.reader import SHIPPED_DIR

if TYPE_CHECKING:
    import numpy as np

log = logging.getLogger(__name__)

#: The targets of issue 5, as ratios measured side by side (or seconds for --help).
WARM_TARGET, COLD_TARGET, HELP_TARGET, BUILD_TARGET = 1.3, 1.3, 0.5, 0.85
#: A question on a corpus ~7× the shipped one (about 26 KB) may cost at most this much more.
GROWTH_TARGET, GROWTH_COPIES = 1.2, 7
SCALE_P95_MS, SCALE_RECALL, SCALE_MEMORY_MB = 10.0, 0.95, 1500.0
QUESTION = "When was the party declared illegal?"
#: What the retriever asks FAISS for (``Retriever.search``: max(50, 4k)).
SEARCH_DEPTH = 50


@dataclass(frozen=True)
class Row:
    """One line of the table: cppqa's number, its floor, the ratio and the target."""

    name: str
    value: float
    floor: float | None = None
    target: str = ""
    ok: bool | None = None

    @property
    def ratio(self) -> float | None:
        return round(self.value / self.floor, 3) if self.floor else None


@dataclass(frozen=True)
class SystemReport:
    machine: dict[str, Any]
    rows: tuple[Row, ...]
    notes: tuple[str, ...]

    def to_json(self) -> dict[str, Any]:
        """The report as JSON; a value not measured (NaN) is null, as JSON has no NaN."""
        return {
            "machine": self.machine,
            "rows": [
                {
                    **asdict(r),
                    "value": r.value if math.isfinite(r.value) else None,
                    "ratio": r.ratio,
                }
                for r in self.rows
            ],
            "notes": list(self.notes),
        }


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


def machine() -> dict[str, Any]:
    """Cores, CPU model and RAM of this machine (Linux; blanks elsewhere)."""
    cpu, ram_gb = "", 0.0
    info = Path("/proc/cpuinfo")
    if info.is_file():
        for line in info.read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    meminfo = Path("/proc/meminfo")
    if meminfo.is_file():
        total = meminfo.read_text().split("\n", 1)[0].split()
        ram_gb = round(int(total[1]) / 2**20, 1)
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else 0.0
    return {
        "cores": os.cpu_count(),
        "cpu": cpu,
        "ram_gb": ram_gb,
        "python": sys.version.split()[0],
        "load_average_1min": round(load, 2),
    }


def percentile(values: list[float], q: float) -> float:
    """The ``q``-th percentile (0-100) by linear interpolation, as numpy's default."""
    ordered = sorted(values)
    at = (len(ordered) - 1) * q / 100
    low = int(at)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (at - low)


def eval_questions(data: Path, count: int) -> list[str]:
    """``count`` questions: those of ``data/qa.jsonl`` repeated in order."""
    lines = (data / "qa.jsonl").read_text(encoding="utf-8").splitlines()
    base = [json.loads(line)["question"] for line in lines if line.strip()]
    return [base[i % len(base)] for i in range(count)]


def run_system(
    settings: Settings,
    *,
    data: Path = Path("eval"),
    questions: int = 300,
    repeats: int = 3,
    pages: Sequence[int] = UPLOAD_PAGES,
) -> SystemReport:
    """Measure the real system on the shipped index against its floors; ``pages``
    are the page counts of the PDFs uploaded."""
    from cppqa.search.embed import describe_model

    # Processes first, while this one holds nothing heavy that could compete with them.
    folder = describe_model(settings.model).folder
    cold = _cold_start(settings, folder, repeats)
    help_s = statistics.median(
        _process([sys.executable, "-m", "cppqa", "--help"])[0] for _ in range(max(3, repeats))
    )

    from cppqa.qa import QA
    from cppqa.search.index import Index

    # QA.load first, as `cppqa ask` does: it loads faiss, and with it the OpenMP setting.
    qa = QA.load(settings, rebuild=False)
    depth = settings.windows
    from sentence_transformers import SentenceTransformer

    bare = SentenceTransformer(str(folder), device="cpu", local_files_only=True)

    asked = eval_questions(data, questions)
    # The windows the reader reads for each question, found once, outside the timing.
    windows = {
        q: [w.text for w in qa.windows(qa.retriever.search(qa.retriever.prepare(q), k=depth))]
        for q in set(asked)
    }

    def floor(question: str) -> None:
        vector = bare.encode([question], normalize_embeddings=True, convert_to_numpy=True)
        qa.index.sentence_vectors.search(vector, SEARCH_DEPTH)
        qa.reader.score(question, windows[question])

    for q in asked[:10]:  # warm both paths up (first calls allocate and JIT-select kernels)
        floor(q)
        qa.ask(q)
    answer_ms, floor_ms = [], []
    for q in asked:
        floor_ms.append(_timed(floor, q))
        answer_ms.append(_timed(qa.ask, q))
    log.info("warm latency measured over %d questions", len(asked))
    small_ms, large_ms, large_kb = _corpus_growth(settings, qa, asked)

    texts = [p.text for p in qa.index.sentences] + [p.text for p in qa.index.chunks]
    build_s, encode_s = [], []
    for _ in range(repeats):
        encode_s.append(_timed(bare.encode, texts, batch_size=64, normalize_embeddings=True) / 1000)
        build_s.append(_timed(Index.build, settings, qa.retriever.embedder) / 1000)
    build_rate = len(texts) / statistics.median(build_s)
    encode_rate = len(texts) / statistics.median(encode_s)
    documents = measure(
        qa,
        lambda texts: bare.encode(texts, batch_size=64, normalize_embeddings=True),
        question=QUESTION,
        text="\n\n".join(d.text for d in qa.index.documents),
        pages=pages,
        repeats=repeats,
        scan_pages=SCAN_PAGES,
    )

    warm_p50, floor_p50 = percentile(answer_ms, 50), percentile(floor_ms, 50)
    rows = (
        Row(
            "warm answer p50 (ms)",
            warm_p50,
            floor_p50,
            f"≤ {WARM_TARGET}× floor",
            warm_p50 <= WARM_TARGET * floor_p50,
        ),
        Row("warm answer p95 (ms)", percentile(answer_ms, 95), percentile(floor_ms, 95)),
        Row("warm answer max (ms)", max(answer_ms), max(floor_ms)),
        Row(
            "cold `ask` process (s)",
            cold["ask_s"],
            cold["floor_s"],
            f"≤ {COLD_TARGET}× floor",
            cold["ask_s"] <= COLD_TARGET * cold["floor_s"],
        ),
        Row("`--help` process (s)", help_s, None, f"< {HELP_TARGET} s", help_s < HELP_TARGET),
        Row(
            "index build (passages/s)",
            build_rate,
            encode_rate,
            f"≥ {BUILD_TARGET}× encode",
            build_rate >= BUILD_TARGET * encode_rate,
        ),
        Row(
            f"answer p50, {large_kb:.0f} KB corpus (ms)",
            large_ms,
            small_ms,
            f"≤ {GROWTH_TARGET}× the shipped corpus",
            large_ms <= GROWTH_TARGET * small_ms,
        ),
        Row("peak RSS, one answer (MB)", cold["ask_rss_mb"], cold["floor_rss_mb"]),
        *_document_rows(documents),
    )
    notes = (
        f"warm: {len(asked)} questions (eval/qa.jsonl repeated), each timed once through "
        f"QA.ask and once as its floor: bare model encode + one FAISS search (k={SEARCH_DEPTH}) "
        f"+ one batched reader forward over the same {depth} windows",
        f"corpus growth: the same questions, interleaved, on the shipped corpus and on one of "
        f"{large_kb:.0f} KB (the document {GROWTH_COPIES} times, as separate files)",
        f"cold: median of {repeats} processes each; floor = import sentence-transformers and "
        "load the same embedding model and reader; RSS = ru_maxrss of those processes "
        "(forked from a small launcher, not from the benchmark)",
        f"build: Index.build on the shipped corpus ({len(texts)} texts) against bare "
        f"SentenceTransformer.encode of the same texts, median of {repeats}",
        *_document_notes(documents, repeats),
    )
    return SystemReport(machine(), rows, notes)


def _document_rows(run: DocumentRun) -> tuple[Row, ...]:
    extraction, first = run.extraction, run.uploads[0]
    rows = [
        Row(
            f"PDF extraction, {extraction.pages} pages (pages/s)",
            extraction.pages / extraction.seconds,
            extraction.pages / extraction.floor_seconds,
        ),
        Row(
            f"indexing, {first.pages}-page PDF (sentences/s)",
            first.sentences / first.index_seconds,
            first.sentences / run.encode_seconds,
        ),
    ]
    for upload in run.uploads:
        bound = upload.pages <= UPLOAD_TARGET_PAGES
        rows.append(
            Row(
                f"upload → first answer, {upload.pages}-page PDF (s)",
                upload.seconds,
                target=f"≤ {UPLOAD_TARGET_S:g} s on 2 cores" if bound else "",
                ok=upload.seconds <= UPLOAD_TARGET_S if bound else None,
            )
        )
    if run.scan is not None:
        rows += [Row(r.name, r.value, target=r.target, ok=r.ok) for r in scan_rows(run.scan)]
    return tuple(rows)


def _document_notes(run: DocumentRun, repeats: int) -> tuple[str, ...]:
    first = run.uploads[0]
    uploads = "; ".join(
        f"{u.pages} pages ({u.characters / u.pages / 1000:.1f} KB of text a page, "
        f"{u.sentences} sentences, {u.passages} passages): read {u.read_seconds:.2f} s, "
        f"index {u.index_seconds:.1f} s, answer {u.answer_seconds:.2f} s"
        f" ({u.cited or 'no answer'})"
        for u in run.uploads
    )
    return (
        "documents: A4 PDFs of the shipped document, repeated in paragraphs of five "
        "sentences, written with PDFium in 11-point Helvetica",
        f"extraction: read_document on the {run.extraction.pages}-page PDF against PDFium's "
        f"text of each page alone (no joining of lines), median of {repeats}",
        f"indexing: the {first.pages}-page upload's Index.build ({first.sentences} sentences "
        f"and {first.passages} passages embedded) against one bare encode of the same texts",
        f"upload: Uploads.add (as the web chat's upload and /ask_files: moved into a session "
        f"folder, read, indexed) and the first answer to {QUESTION!r}; {uploads}",
        *(scan_notes(run.scan) if run.scan is not None else ()),
    )


def _corpus_growth(settings: Settings, qa: Any, asked: list[str]) -> tuple[float, float, float]:
    """Answer p50 (ms) on the shipped corpus and on one ~7× its size, interleaved, and the
    larger corpus's size in KB: the work of a question must not grow with the corpus."""
    import shutil

    from cppqa.qa import QA

    with tempfile.TemporaryDirectory(prefix="cppqa-bench-") as tmp:
        corpus = Path(tmp) / "corpus"
        corpus.mkdir()
        size = 0
        for source in sorted(settings.corpus_dir.glob("*.txt")):
            for n in range(GROWTH_COPIES):
                shutil.copyfile(source, corpus / f"{source.stem}-{n}.txt")
                size += source.stat().st_size
        large = QA.load(
            replace(settings, corpus_dir=corpus, index_dir=Path(tmp) / "index"),
            embedder=qa.retriever.embedder,
            reader=qa.reader,
        )
        sample = asked[: min(len(asked), 100)]
        for q in sample[:5]:
            large.ask(q)
        small_ms, large_ms = [], []
        for q in sample:
            small_ms.append(_timed(qa.ask, q))
            large_ms.append(_timed(large.ask, q))
    return percentile(small_ms, 50), percentile(large_ms, 50), size / 1000


def _timed(call: Callable[..., object], *args: Any, **kwargs: Any) -> float:
    """Milliseconds ``call(*args, **kwargs)`` took."""
    started = time.perf_counter()
    call(*args, **kwargs)
    return (time.perf_counter() - started) * 1000


#: Runs a command and reports its wall time and peak RSS. A child's ru_maxrss
#: includes the RSS of the process it was forked from (Linux folds the old
#: memory's high-water mark in at exec), so the command must be forked from a
#: small process like this one, not from the benchmark holding a model.
_LAUNCHER = """
import json, resource, subprocess, sys, time
started = time.perf_counter()
code = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL).returncode
seconds = time.perf_counter() - started
peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
print(json.dumps({"seconds": seconds, "rss_kib": peak, "code": code}))
"""


def _process(command: list[str]) -> tuple[float, float]:
    """Wall seconds and peak RSS (MB) of a child process; raises if it fails."""
    env = {
        **os.environ,
        "HF_HUB_OFFLINE": "1",
        "TRANSFORMERS_OFFLINE": "1",
        "TOKENIZERS_PARALLELISM": "false",
    }
    done = subprocess.run(
        [sys.executable, "-c", _LAUNCHER, *command], capture_output=True, text=True, env=env
    )
    result = json.loads(done.stdout.strip().splitlines()[-1]) if done.stdout.strip() else {}
    if done.returncode != 0 or result.get("code") != 0:
        raise RuntimeError(f"{' '.join(command)} failed: {done.stderr[-2000:]}")
    # ru_maxrss is in KiB on Linux.
    return float(result["seconds"]), result["rss_kib"] / 1024


def _cold_start(settings: Settings, folder: Path, repeats: int) -> dict[str, float]:
    ask = [
        sys.executable,
        "-m",
        "cppqa",
        "ask",
        "--no-rebuild",
        "--corpus",
        str(settings.corpus_dir),
        "--index",
        str(settings.index_dir),
        *(["--model", settings.model] if settings.model else []),
        QUESTION,
    ]
    floor = [
        sys.executable,
        "-c",
        "import sys\nfrom sentence_transformers import SentenceTransformer\n"
        "from transformers import AutoModelForQuestionAnswering\n"
        "SentenceTransformer(sys.argv[1], device='cpu', local_files_only=True)\n"
        "AutoModelForQuestionAnswering.from_pretrained(sys.argv[2], local_files_only=True)",
        str(folder),
        str(Path(settings.reader) if settings.reader else SHIPPED_DIR),
    ]
    asks, floors = [], []
    for _ in range(repeats):  # alternate, so that drift in the machine's load hits both
        asks.append(_process(ask))
        floors.append(_process(floor))
    return {
        "ask_s": statistics.median(s for s, _ in asks),
        "floor_s": statistics.median(s for s, _ in floors),
        "ask_rss_mb": statistics.median(m for _, m in asks),
        "floor_rss_mb": statistics.median(m for _, m in floors),
    }


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
    exact_ms = [_timed(faiss.knn, q[None], vectors, 10, metric=ip) for q in asked[:50]]
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
    search_ms = [_timed(store.search, q[None], 10) for q in asked]
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
            search_ms = [_timed(store.search, q[None], 10) for q in asked]
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


def format_system(report: SystemReport) -> str:
    """The report as a Markdown table, with the machine and what was measured."""
    m = report.machine
    lines = [
        f"machine: {m['cores']} cores, {m['cpu']}, {m['ram_gb']} GB RAM, Python {m['python']}, "
        f"load average {m['load_average_1min']}",
        "",
        "| measure | cppqa | floor | ratio | target | met |",
        "|---|---:|---:|---:|---|---|",
    ]
    for r in report.rows:
        floor = f"{r.floor:.3g}" if r.floor is not None else ""
        ratio = f"{r.ratio:.2f}" if r.ratio is not None else ""
        met = {True: "yes", False: "**no**", None: ""}[r.ok]
        lines.append(f"| {r.name} | {r.value:.3g} | {floor} | {ratio} | {r.target} | {met} |")
    lines += ["", *(f"- {n}" for n in report.notes)]
    return "\n".join(lines)


def format_scale(results: list[ScaleResult]) -> str:
    lines = [
        "vectors are SYNTHETIC (clustered 384-d unit vectors, see bench.synthetic_vectors)",
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
