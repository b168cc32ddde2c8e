"""bench_scale.py: the scale benchmark on tiny sizes, and the approximate vector store it measures.

No absolute times are asserted: timings are only checked to be measured
(positive, ordered p50 ≤ p95), recall and memory against exact references.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest

from conftest import run_cli
from cppqa.evaluation import bench_scale
from cppqa.search.dense import EXACT_LIMIT, FaissStore, StoreKind, StoreSpec
from cppqa.search.index import Index


@pytest.mark.parametrize(
    ("size", "kind", "nlist"),
    [
        (10, StoreKind.EXACT, 0),
        (EXACT_LIMIT - 1, StoreKind.EXACT, 0),
        (EXACT_LIMIT, StoreKind.IVF_PQ_REFINE, 256),
        (1_000_000, StoreKind.IVF_PQ_REFINE, 1024),
    ],
)
def test_store_spec_switches_to_ivf_above_the_limit(size: int, kind: StoreKind, nlist: int) -> None:
    spec = StoreSpec.for_size(size, 384)
    assert spec.kind is kind
    assert spec.nlist == nlist
    if kind is StoreKind.IVF_PQ_REFINE:
        assert 0 < spec.nprobe < spec.nlist
        assert 384 % spec.pq_m == 0
        assert spec.to_json()["factory"] == f"IVF{nlist},PQ192x4fs,Refine(SQ8)"
    else:
        assert spec.to_json() == {"kind": "IndexFlatIP"}


def test_ivf_store_round_trips_with_its_parameters(tmp_path: Path) -> None:
    vectors = bench_scale.synthetic_vectors(3000, topics=15, dimension=64)
    spec = StoreSpec.for_size(len(vectors), 64, exact_limit=1000)
    store = FaissStore.build(vectors, spec)
    store.save(tmp_path / "v.faiss")
    loaded = FaissStore.load(tmp_path / "v.faiss")
    assert loaded.spec == spec
    assert loaded.kind == "IVF-PQfs-SQ8"
    assert (len(loaded), loaded.dimension) == (3000, 64)
    queries = vectors[:20]
    assert np.array_equal(store.search(queries, 5)[1], loaded.search(queries, 5)[1])
    # Each stored vector finds itself first: the re-scoring is by the real vectors.
    assert np.mean(loaded.search(queries, 1)[1][:, 0] == np.arange(20)) >= 0.95


def test_single_query_search_matches_batch_and_restores_threads() -> None:
    import faiss

    vectors = bench_scale.synthetic_vectors(500, topics=5, dimension=32)
    store = FaissStore.build(vectors)
    threads = faiss.omp_get_max_threads()
    one = [store.search(vectors[i : i + 1], 7)[1][0] for i in range(10)]
    assert np.array_equal(np.stack(one), store.search(vectors[:10], 7)[1])
    assert faiss.omp_get_max_threads() == threads


def test_index_manifest_records_the_store_of_each_file(settings, fake_embedder) -> None:  # type: ignore[no-untyped-def]
    index = Index.build(settings, fake_embedder)
    assert index.manifest["faiss"] == {
        "sentences": {"kind": "IndexFlatIP"},
        "chunks": {"kind": "IndexFlatIP"},
    }
    index.save(settings.index_dir)
    saved = json.loads((settings.index_dir / "manifest.json").read_text())
    assert (
        saved["faiss"]["sentences"]["kind"]
        == FaissStore.load(settings.index_dir / "sentences.faiss").kind
    )


def test_synthetic_vectors_are_clustered_unit_vectors() -> None:
    x = bench_scale.synthetic_vectors(2000, topics=10, dimension=128)
    again = bench_scale.synthetic_vectors(2000, topics=10, dimension=128)
    assert np.array_equal(x, again)
    assert np.allclose(np.linalg.norm(x, axis=1), 1.0, atol=1e-5)
    sims = x[:500] @ x[500:].T
    nearest = np.sort(sims, axis=1)[:, -1]
    # A shared direction (random pairs are not orthogonal) and topics (neighbours are close):
    # uniform noise on the sphere would give a mean near 0 and neighbours near 0.3 in 128-d.
    assert 0.05 < sims.mean() < 0.5
    assert nearest.mean() > sims.mean() + 0.3


def test_scale_run_at_2k_switches_store_and_keeps_recall() -> None:
    exact, approximate = (
        bench_scale.run_scale([2000], queries=60, dimension=64)[0],
        bench_scale.run_scale([2000], queries=60, dimension=64, exact_limit=1000)[0],
    )
    assert exact.store == {"kind": "IndexFlatIP"}
    assert exact.recall_at_10 == 1.0
    assert approximate.store["kind"] == "IVF-PQfs-SQ8"
    assert approximate.store["nlist"] == 32
    assert 0.9 <= approximate.recall_at_10 <= 1.0
    for r in (exact, approximate):
        assert 0 < r.search_p50_ms <= r.search_p95_ms
        # An RSS delta under a megabyte can round to 0.0; only its sign is certain.
        assert r.disk_mb > 0 and r.memory_mb >= 0 and r.build_seconds >= 0
    # 2000 × 64 float32 is 0.5 MB; the compressed codes plus 8-bit vectors are smaller.
    assert approximate.disk_mb < exact.disk_mb
    assert "SYNTHETIC" in bench_scale.format_scale([exact, approximate])


def test_plot_is_skipped_without_matplotlib(monkeypatch, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    result = _result(10_000)
    assert bench_scale.plot_scale([result], tmp_path / "s.png") is False
    assert not (tmp_path / "s.png").exists()


def test_plot_is_a_png(tmp_path: Path) -> None:
    pytest.importorskip("matplotlib", reason="matplotlib is the optional 'bench' extra")
    path = tmp_path / "docs" / "scaling.png"
    assert bench_scale.plot_scale([_result(10_000), _result(100_000)], path) is True
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("abc", "'abc' is not a comma-separated list of whole numbers"),
        ("10,5", "'10,5': every size must be at least 100"),
    ],
)
def test_cli_rejects_bad_sizes(value: str, message: str) -> None:
    done = run_cli("bench", "--scale", "--sizes", value)
    assert done.returncode == 2
    assert message in done.stderr


def test_cli_scale_json(tmp_path: Path) -> None:
    plot = tmp_path / "s.png"
    done = run_cli("bench", "--scale", "--sizes", "1000", "--json", "--plot", str(plot))
    assert done.returncode == 0, done.stderr
    (row,) = json.loads(done.stdout)
    assert row["size"] == 1000 and row["recall_at_10"] == 1.0
    assert ("plot written" in done.stderr) == plot.exists()


def _result(size: int) -> bench_scale.ScaleResult:
    return bench_scale.ScaleResult(size, {"kind": "IndexFlatIP"}, 1.0, 2.0, 2.0, 0.1, 0.2, 0.3, 1.0)
