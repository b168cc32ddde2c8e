"""search/milvus.py and the Milvus paths of index.py, config.py and bench_scale.py, on Milvus Lite.

Milvus Lite runs in this process (a ``.db`` folder per test) and lets one
process at a time open a file, so other processes get the file only after
``close``.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("pymilvus")
pytest.importorskip("milvus_lite")

from conftest import ROOT, FakeEmbedder, run_cli
from cppqa.config import Settings, VectorBackend
from cppqa.errors import CppqaError, IndexStateError
from cppqa.evaluation import bench_scale as bench
from cppqa.search.dense import FaissStore, VectorStoreError
from cppqa.search.embed import ModelInfo
from cppqa.search.index import Index, ensure_index
from cppqa.search.milvus import MilvusStore, close, connect, public_uri, serving

QUESTION = "When was the party declared illegal?"


def _info(embedder: FakeEmbedder) -> ModelInfo:
    return ModelInfo(embedder.name, Path("."), embedder.weights_sha256)


@pytest.fixture
def milvus(settings: Settings, tmp_path: Path) -> Settings:
    """The workdir's settings with vectors in a Milvus Lite file beside it."""
    return replace(
        settings,
        index_dir=tmp_path / "mindex",
        vector_store=VectorBackend.MILVUS,
        milvus_uri=str(tmp_path / "vectors.db"),
    )


@pytest.fixture
def built(milvus: Settings, fake_embedder: FakeEmbedder) -> Index:
    return Index.build(milvus, fake_embedder).save(milvus.index_dir)


# --- settings -----------------------------------------------------------------------------


def test_faiss_stays_the_default() -> None:
    assert Settings.from_env({}).vector_store is VectorBackend.FAISS


def test_settings_from_the_environment(tmp_path: Path) -> None:
    env = {"CPPQA_VECTOR_STORE": "Milvus", "CPPQA_MILVUS_URI": "http://db:19530"}
    got = Settings.from_env({**env, "CPPQA_MILVUS_TIMEOUT": "2.5"})
    assert (got.vector_store, got.milvus_uri, got.milvus_timeout) == (
        VectorBackend.MILVUS,
        "http://db:19530",
        2.5,
    )


@pytest.mark.parametrize(
    ("env", "message"),
    [
        (
            {"CPPQA_VECTOR_STORE": "chroma"},
            "CPPQA_VECTOR_STORE='chroma' is not one of faiss, milvus",
        ),
        ({"CPPQA_VECTOR_STORE": "milvus"}, "CPPQA_VECTOR_STORE=milvus needs CPPQA_MILVUS_URI"),
        (
            {"CPPQA_MILVUS_URI": "ftp://db:19530"},
            "CPPQA_MILVUS_URI='ftp://db:19530' is neither a Milvus Lite file",
        ),
        ({"CPPQA_MILVUS_URI": "vectors"}, "CPPQA_MILVUS_URI='vectors' is neither"),
        ({"CPPQA_MILVUS_ALIAS": "my-app"}, "CPPQA_MILVUS_ALIAS='my-app' is not a Milvus name"),
        ({"CPPQA_MILVUS_TIMEOUT": "0"}, "milvus_timeout must be positive"),
    ],
)
def test_bad_settings_are_refused(env: dict[str, str], message: str) -> None:
    with pytest.raises(CppqaError) as caught:
        Settings.from_env(env)
    assert str(caught.value).startswith(message)


@pytest.mark.parametrize(
    ("uri", "public"),
    [
        ("https://user:secret@milvus.example:19530", "https://milvus.example:19530"),
        ("http://milvus:19530/db", "http://milvus:19530/db"),
        ("/srv/vectors.db", "/srv/vectors.db"),
    ],
)
def test_public_uri_drops_credentials(uri: str, public: str) -> None:
    assert public_uri(uri) == public


# --- build, load, search, answer ----------------------------------------------------------


def test_build_load_search(milvus: Settings, fake_embedder: FakeEmbedder, built: Index) -> None:
    loaded = Index.load(milvus.index_dir, milvus, _info(fake_embedder))
    assert loaded.sentences == built.sentences
    assert len(loaded.sentence_vectors) == len(built.sentences)
    assert len(loaded.chunk_vectors) == len(built.chunks)
    target = 20
    scores, ids = loaded.sentence_vectors.search(
        fake_embedder.encode([loaded.sentences[target].text]), 3
    )
    assert ids[0][0] == target
    assert scores[0][0] == pytest.approx(1.0, abs=1e-5)
    assert sorted(p.name for p in milvus.index_dir.iterdir()) == [
        "chunks.milvus.json",
        "manifest.json",
        "passages.json",
        "sentences.milvus.json",
    ]


def test_manifest_records_store_uri_collections_and_aliases(built: Index, milvus: Settings) -> None:
    store = built.manifest["store"]
    assert store["kind"] == "milvus"
    assert store["uri"] == str(Path(str(milvus.milvus_uri)).resolve())
    assert "faiss" not in built.manifest
    client = connect(str(milvus.milvus_uri), 10)
    for part in ("sentences", "chunks"):
        assert store[part]["alias"] == f"cppqa_{part}"
        assert store[part]["collection"].startswith(f"cppqa_{part}_")
        assert serving(client, store[part]["alias"]) == store[part]["collection"]


def test_same_neighbours_as_faiss(milvus: Settings, fake_embedder: FakeEmbedder) -> None:
    vectors = bench.synthetic_vectors(3000, topics=15, dimension=64)
    asked = bench.synthetic_vectors(50, topics=15, dimension=64, seed=1)
    client = connect(str(milvus.milvus_uri), 10)
    _, milvus_ids = MilvusStore.build(client, "same_1", vectors).search(asked, 10)
    _, faiss_ids = FaissStore.build(vectors).search(asked, 10)
    assert bench.overlap(milvus_ids, faiss_ids) >= 0.99


def test_search_pads_like_faiss(milvus: Settings) -> None:
    vectors = np.eye(4, dtype=np.float32)
    store = MilvusStore.build(connect(str(milvus.milvus_uri), 10), "pad_1", vectors)
    _scores, ids = store.search(vectors[:2], 10)
    assert ids.shape == (2, 4) and ids[0][0] == 0 and ids[1][0] == 1


@pytest.mark.slow
def test_cli_answers_with_milvus(workdir: Path) -> None:
    env = {
        "CPPQA_VECTOR_STORE": "milvus",
        "CPPQA_MILVUS_URI": str(workdir / "vectors.db"),
        "CPPQA_INDEX_DIR": str(workdir / "mindex"),
        "CPPQA_CORPUS_DIR": str(workdir / "corpus"),
    }
    done = run_cli("ask", "--json", QUESTION, env=env)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["answer"] == "1954"
    assert "Traceback" not in done.stderr
    manifest = json.loads((workdir / "mindex" / "manifest.json").read_text())
    assert manifest["store"]["kind"] == "milvus"


@pytest.mark.slow
def test_same_answers_as_faiss_on_the_eval_set(qa, workdir: Path) -> None:  # type: ignore[no-untyped-def]
    """At least 99% of the project's eval questions get the same answer from both stores."""
    from cppqa.qa import QA

    settings = Settings(
        corpus_dir=workdir / "corpus",
        index_dir=workdir / "mindex",
        vector_store=VectorBackend.MILVUS,
        milvus_uri=str(workdir / "vectors.db"),
    )
    with_milvus = QA.load(settings)
    questions = [json.loads(line)["question"] for line in (ROOT / "eval" / "qa.jsonl").open()]
    same = sum(qa.ask(q).text == with_milvus.ask(q).text for q in questions)
    assert same / len(questions) >= 0.99, f"{same} of {len(questions)}"


# --- staleness and damage -----------------------------------------------------------------


def test_faiss_index_is_stale_for_milvus_and_back(
    settings: Settings, milvus: Settings, fake_embedder: FakeEmbedder, built: Index
) -> None:
    faiss_settings = replace(settings, index_dir=milvus.index_dir)
    with pytest.raises(
        IndexStateError, match="index vectors are in milvus, settings ask for faiss"
    ):
        Index.load(milvus.index_dir, faiss_settings, _info(fake_embedder))
    elsewhere = replace(milvus, milvus_uri=str(milvus.index_dir.parent / "other.db"))
    with pytest.raises(IndexStateError, match=r"index vectors are in Milvus at \S*/vectors\.db"):
        Index.load(milvus.index_dir, elsewhere, _info(fake_embedder))


def test_dropped_collection_is_rebuilt(
    milvus: Settings, fake_embedder: FakeEmbedder, built: Index
) -> None:
    client = connect(str(milvus.milvus_uri), 10)
    client.drop_collection(built.manifest["store"]["sentences"]["collection"])
    with pytest.raises(IndexStateError, match=r"Milvus collection '\w+' is missing"):
        Index.load(milvus.index_dir, milvus, _info(fake_embedder))
    rebuilt = ensure_index(milvus, _info(fake_embedder), lambda: fake_embedder)
    assert len(rebuilt.sentence_vectors) == len(built.sentences)


def test_damaged_store_file_is_refused(
    milvus: Settings, fake_embedder: FakeEmbedder, built: Index
) -> None:
    path = milvus.index_dir / "sentences.milvus.json"
    about = json.loads(path.read_text())
    path.write_text(json.dumps({**about, "collection": "someone_elses"}))
    with pytest.raises(IndexStateError, match=r"sentences\.milvus\.json is damaged"):
        Index.load(milvus.index_dir, milvus, _info(fake_embedder))


def test_collection_with_other_count_is_refused(
    milvus: Settings, fake_embedder: FakeEmbedder, built: Index
) -> None:
    client = connect(str(milvus.milvus_uri), 10)
    client.delete(built.manifest["store"]["chunks"]["collection"], ids=[0])
    with pytest.raises(IndexStateError, match="holds 16 vectors, the index 17"):
        Index.load(milvus.index_dir, milvus, _info(fake_embedder))


# --- rebuilds -----------------------------------------------------------------------------


def test_rebuild_under_a_concurrent_reader(
    milvus: Settings, fake_embedder: FakeEmbedder, built: Index
) -> None:
    """A reader loaded before a rebuild keeps answering from its own collection throughout;
    the alias moves to the new one, and the generation before the previous is dropped."""
    reader = Index.load(milvus.index_dir, milvus, _info(fake_embedder))
    target = 5
    query = fake_embedder.encode([reader.sentences[target].text])
    errors: list[BaseException] = []
    searches = 0
    stop = threading.Event()

    def read() -> None:
        nonlocal searches
        while not stop.is_set():
            try:
                _, ids = reader.sentence_vectors.search(query, 3)
                assert ids[0][0] == target
                searches += 1
            except BaseException as exc:
                errors.append(exc)
                return

    thread = threading.Thread(target=read)
    thread.start()
    try:
        (milvus.corpus_dir / "extra.md").write_text("Extra notes. The party met in 1970.")
        new = Index.build(milvus, fake_embedder).save(milvus.index_dir)
    finally:
        time.sleep(0.2)
        stop.set()
        thread.join()
    assert not errors, errors
    assert searches > 0
    client = connect(str(milvus.milvus_uri), 10)
    old_name = built.manifest["store"]["sentences"]["collection"]
    new_name = new.manifest["store"]["sentences"]["collection"]
    assert serving(client, "cppqa_sentences") == new_name != old_name
    assert client.has_collection(old_name)  # kept for readers loaded before the rebuild
    fresh = Index.load(milvus.index_dir, milvus, _info(fake_embedder))
    assert len(fresh.sentence_vectors) == len(built.sentences) + 2
    third = Index.build(milvus, fake_embedder).save(milvus.index_dir)
    names = set(client.list_collections())
    assert old_name not in names
    assert {new_name, third.manifest["store"]["sentences"]["collection"]} <= names


#: Builds the index in a child process; with "slow", inserts stall after a marker file.
_CHILD = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    sys.path.insert(0, {tests!r})
    from conftest import FakeEmbedder
    from cppqa.config import Settings, VectorBackend
    from cppqa.search.index import Index
    import cppqa.search.milvus
    from pymilvus import MilvusClient

    settings = Settings(
        corpus_dir=Path({corpus!r}), index_dir=Path({index!r}),
        vector_store=VectorBackend.MILVUS, milvus_uri={uri!r},
    )
    if sys.argv[1] == "slow":
        cppqa.search.milvus.INSERT_BATCH = 4
        insert = MilvusClient.insert
        def stalled(self, *args, **kwargs):
            result = insert(self, *args, **kwargs)
            Path({marker!r}).touch()
            time.sleep(0.5)
            return result
        MilvusClient.insert = stalled
    Index.build(settings, FakeEmbedder()).save(settings.index_dir)
    """
)


@pytest.mark.slow
def test_kill_9_during_a_build_leaves_the_old_collection_serving(
    milvus: Settings, fake_embedder: FakeEmbedder, tmp_path: Path
) -> None:
    marker = tmp_path / "inserting"
    script = _CHILD.format(
        tests=str(ROOT / "tests"),
        corpus=str(milvus.corpus_dir),
        index=str(milvus.index_dir),
        uri=milvus.milvus_uri,
        marker=str(marker),
    )
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    subprocess.run([sys.executable, "-c", script, "fast"], check=True, env=env, timeout=120)
    before = json.loads((milvus.index_dir / "manifest.json").read_text())
    (milvus.corpus_dir / "extra.md").write_text("Extra notes. The party met in 1970.")
    child = subprocess.Popen([sys.executable, "-c", script, "slow"], env=env)
    try:
        deadline = time.monotonic() + 120
        while not marker.exists():
            assert child.poll() is None, "the build ended before it was killed"
            assert time.monotonic() < deadline, "the build never started inserting"
            time.sleep(0.05)
        os.kill(child.pid, signal.SIGKILL)
    finally:
        child.wait(timeout=30)
    assert child.returncode == -signal.SIGKILL
    assert json.loads((milvus.index_dir / "manifest.json").read_text()) == before
    client = connect(str(milvus.milvus_uri), 10)
    old = before["store"]["sentences"]["collection"]
    assert serving(client, "cppqa_sentences") == old
    assert old in client.list_collections()
    (milvus.corpus_dir / "extra.md").unlink()  # the corpus the old index was built for
    loaded = Index.load(milvus.index_dir, milvus, _info(fake_embedder))
    target = 7
    _, ids = loaded.sentence_vectors.search(
        fake_embedder.encode([loaded.sentences[target].text]), 1
    )
    assert ids[0][0] == target
    new = Index.build(milvus, fake_embedder).save(milvus.index_dir)
    remaining = {n for n in client.list_collections() if n.startswith("cppqa_sentences_")}
    # the new one and the old; the killed build's is gone
    assert remaining == {old, new.manifest["store"]["sentences"]["collection"]}


# --- errors -------------------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize(
    ("uri", "message"),
    [
        ("ftp://milvus:19530", "CPPQA_MILVUS_URI='ftp://milvus:19530' is neither"),
        (
            "/no/such/folder/vectors.db",
            "CPPQA_MILVUS_URI='/no/such/folder/vectors.db': folder '/no/such/folder' does not",
        ),
    ],
)
def test_wrong_uri_is_a_clear_error(workdir: Path, uri: str, message: str) -> None:
    env = {
        "CPPQA_VECTOR_STORE": "milvus",
        "CPPQA_MILVUS_URI": uri,
        "CPPQA_INDEX_DIR": str(workdir / "mindex"),
        "CPPQA_CORPUS_DIR": str(workdir / "corpus"),
    }
    done = run_cli("ask", QUESTION, env=env)
    assert done.returncode == 2
    assert done.stderr.strip().splitlines()[-1].startswith(f"cppqa: error: {message}")
    assert "Traceback" not in done.stderr


@pytest.fixture
def silent_server() -> Iterator[int]:
    """A TCP port that accepts connections and never answers: a hung or firewalled server."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(8)
    yield int(server.getsockname()[1])
    server.close()


def test_unreachable_server_fails_within_the_timeout(silent_server: int) -> None:
    started = time.monotonic()
    with pytest.raises(VectorStoreError) as caught:
        connect(f"http://127.0.0.1:{silent_server}", timeout=1.5)
    assert time.monotonic() - started < 10
    assert str(caught.value).startswith(
        f"cannot reach Milvus at http://127.0.0.1:{silent_server} within 1.5 s"
    )


@pytest.mark.slow
def test_cli_unreachable_server_exits_2(workdir: Path, silent_server: int) -> None:
    env = {
        "CPPQA_VECTOR_STORE": "milvus",
        "CPPQA_MILVUS_URI": f"http://user:secret@127.0.0.1:{silent_server}",
        "CPPQA_MILVUS_TIMEOUT": "1.5",
        "CPPQA_INDEX_DIR": str(workdir / "mindex"),
        "CPPQA_CORPUS_DIR": str(workdir / "corpus"),
    }
    done = run_cli("ask", QUESTION, env=env, timeout=120)
    assert done.returncode == 2
    last = done.stderr.strip().splitlines()[-1]
    assert last.startswith(f"cppqa: error: cannot reach Milvus at http://127.0.0.1:{silent_server}")
    assert "secret" not in done.stderr


def test_lite_file_is_freed_by_close(milvus: Settings) -> None:
    uri = str(milvus.milvus_uri)
    close(connect(uri, 10), uri)
    probe = "from cppqa.search.milvus import connect; import sys; connect(sys.argv[1], 10)"
    subprocess.run([sys.executable, "-c", probe, uri], check=True, timeout=60)


# --- benchmark ----------------------------------------------------------------------------


@pytest.mark.slow
def test_scale_bench_puts_milvus_beside_faiss() -> None:
    faiss_row, milvus_row = bench.run_scale([10_000], queries=100, store=VectorBackend.MILVUS)
    assert (faiss_row.backend, milvus_row.backend) == ("faiss", "milvus")
    assert milvus_row.store == {"kind": "Milvus FLAT", "uri": "Milvus Lite"}
    assert milvus_row.recall_at_10 >= 0.99
    assert milvus_row.overlap_with_faiss is not None and milvus_row.overlap_with_faiss >= 0.95
    assert 0 < milvus_row.search_p50_ms <= milvus_row.search_p95_ms
    table = bench.format_scale([faiss_row, milvus_row])
    assert "| 10,000 | Milvus FLAT (uri=Milvus Lite) |" in table
