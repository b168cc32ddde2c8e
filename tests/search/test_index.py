"""index.py: build, save atomically, load, and refuse or rebuild a stale index."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

import cppqa.search.embed
import cppqa.search.index
import cppqa.search.manifest
import cppqa.search.progress
from conftest import CORPUS, INDEX, FakeEmbedder
from cppqa.config import Settings
from cppqa.errors import IndexStateError
from cppqa.search.embed import ModelInfo, describe_model
from cppqa.search.index import Index, ensure_index, staleness
from cppqa.search.manifest import FILES
from cppqa.search.progress import Stage, Step


def _info(embedder: FakeEmbedder) -> ModelInfo:
    return ModelInfo(embedder.name, Path("."), embedder.weights_sha256)


@pytest.fixture
def built(settings: Settings, fake_embedder: FakeEmbedder) -> Index:
    """The workdir corpus plus a second document, indexed with the fake embedder."""
    (settings.corpus_dir / "extra.md").write_text(
        "Extra notes. The party met in Quetta in 1970.", encoding="utf-8"
    )
    index = Index.build(settings, fake_embedder)
    index.save(settings.index_dir)
    return index


def test_round_trip(settings: Settings, fake_embedder: FakeEmbedder, built: Index) -> None:
    loaded = Index.load(settings.index_dir, settings, _info(fake_embedder))
    assert loaded.sentences == built.sentences
    assert loaded.chunks == built.chunks
    assert [d.doc for d in loaded.documents] == ["communist-party-of-pakistan.txt", "extra.md"]
    assert len(loaded.sentence_vectors) == len(built.sentences) == 37
    assert len(loaded.chunk_vectors) == len(built.chunks) == 17 + 1
    assert loaded.sentence_vectors.dimension == fake_embedder.dimension
    texts = {d.doc: d.text for d in loaded.documents}
    for p in loaded.sentences + loaded.chunks:
        assert texts[p.doc][p.start : p.end] == p.text
    leftovers = sorted(p.name for p in settings.index_dir.parent.iterdir())
    assert leftovers == ["corpus", "index"]  # no index.tmp-* or index.old


def test_progress_by_batch_gives_the_same_index(
    settings: Settings, fake_embedder: FakeEmbedder, built: Index, monkeypatch: pytest.MonkeyPatch
) -> None:
    # the corpus's 55 texts in three batches
    monkeypatch.setattr(cppqa.search.progress, "BATCH", 20)
    told: list[Step] = []
    calls = fake_embedder.calls
    shown = Index.build(settings, fake_embedder, steps=told.append)
    texts = "sentences and passages"
    assert told == [Step(Stage.EMBEDDING, done, 55, texts) for done in (0, 20, 40, 55)]
    assert [step.describe() for step in told][-2:] == [
        "embedding 40 / 55 sentences and passages",
        "embedding 55 / 55 sentences and passages",
    ]
    assert fake_embedder.calls == calls + 3
    assert (shown.sentences, shown.chunks) == (built.sentences, built.chunks)
    # The same vectors in the same places: every passage's own text finds the same.
    for passages, mine, theirs in (
        (built.sentences, shown.sentence_vectors, built.sentence_vectors),
        (built.chunks, shown.chunk_vectors, built.chunk_vectors),
    ):
        queries = fake_embedder.encode([p.text for p in passages])
        for got, expected in zip(mine.search(queries, 8), theirs.search(queries, 8), strict=True):
            assert np.array_equal(got, expected)


def test_search_finds_a_sentence_by_its_own_vector(
    settings: Settings, fake_embedder: FakeEmbedder, built: Index
) -> None:
    loaded = Index.load(settings.index_dir, settings, _info(fake_embedder))
    target = 20
    vector = fake_embedder.encode([loaded.sentences[target].text])
    scores, ids = loaded.sentence_vectors.search(vector, 3)
    assert ids[0][0] == target
    assert scores[0][0] == pytest.approx(1.0, abs=1e-5)


def test_manifest_fields(settings: Settings, fake_embedder: FakeEmbedder, built: Index) -> None:
    manifest = json.loads((settings.index_dir / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["format"] == cppqa.search.index.FORMAT_VERSION
    assert manifest["model"] == {
        "name": fake_embedder.name,
        "weights_sha256": fake_embedder.weights_sha256,
        "precision": fake_embedder.precision,
    }
    assert set(manifest["corpus"]) == {"communist-party-of-pakistan.txt", "extra.md"}
    assert manifest["splitting"] == {"chunk_sentences": 3, "chunk_overlap": 1}
    assert manifest["dimension"] == fake_embedder.dimension
    assert manifest["counts"] == {"documents": 2, "sentences": 37, "chunks": 18}
    assert manifest["built_at"].endswith("Z")
    assert set(manifest["files"]) == set(FILES)
    for name, digest in manifest["files"].items():
        assert digest == cppqa.search.embed.sha256_file(settings.index_dir / name)


def _edit_corpus(s: Settings) -> None:
    path = s.corpus_dir / "communist-party-of-pakistan.txt"
    path.chmod(0o644)
    path.write_text(path.read_text(encoding="utf-8") + " A new sentence.", encoding="utf-8")


def _add_file(s: Settings) -> None:
    (s.corpus_dir / "more.txt").write_text("More history.", encoding="utf-8")


def _remove_file(s: Settings) -> None:
    (s.corpus_dir / "extra.md").unlink()


def _damage_file(s: Settings) -> None:
    with (s.index_dir / "passages.json").open("a", encoding="utf-8") as f:
        f.write(" ")


def _delete_file(s: Settings) -> None:
    (s.index_dir / "chunks.faiss").unlink()


def _break_manifest(s: Settings) -> None:
    (s.index_dir / "manifest.json").write_text("{", encoding="utf-8")


def _delete_index(s: Settings) -> None:
    for path in s.index_dir.iterdir():
        path.unlink()
    s.index_dir.rmdir()


CHANGES: dict[str, tuple[Callable[[Settings], None], str]] = {
    "edited corpus file": (_edit_corpus, r"stale: corpus changed \(communist-party-of-pakistan"),
    "added corpus file": (_add_file, r"stale: corpus changed \(more\.txt\)"),
    "removed corpus file": (_remove_file, r"stale: corpus changed \(extra\.md\)"),
    "damaged index file": (_damage_file, r"passages\.json is damaged"),
    "missing index file": (_delete_file, r"chunks\.faiss is missing"),
    "broken manifest": (_break_manifest, r"manifest .* is damaged"),
    "missing index": (_delete_index, r"no index in"),
}


@pytest.mark.parametrize("change", CHANGES, ids=list(CHANGES))
def test_stale_index_is_refused_then_rebuilt_with_a_warning(
    change: str,
    settings: Settings,
    fake_embedder: FakeEmbedder,
    built: Index,
    caplog: pytest.LogCaptureFixture,
) -> None:
    apply, message = CHANGES[change]
    apply(settings)
    info = _info(fake_embedder)
    with pytest.raises(IndexStateError, match=message):
        Index.load(settings.index_dir, settings, info)
    calls = fake_embedder.calls
    with caplog.at_level(logging.WARNING, logger="cppqa.search.index"):
        rebuilt = ensure_index(settings, info, lambda: fake_embedder)
    assert fake_embedder.calls == calls + 1
    assert any(
        r.levelno == logging.WARNING and "rebuilding the index" in r.getMessage()
        for r in caplog.records
    )
    reloaded = Index.load(settings.index_dir, settings, info)  # current again
    assert reloaded.sentences == rebuilt.sentences
    assert reloaded.manifest["corpus"] == rebuilt.manifest["corpus"]


def test_other_model_hash_is_stale(
    settings: Settings, fake_embedder: FakeEmbedder, built: Index, caplog: pytest.LogCaptureFixture
) -> None:
    other = ModelInfo("another-model", Path("."), "f" * 64)
    with pytest.raises(IndexStateError, match="built with another model"):
        Index.load(settings.index_dir, settings, other)
    with caplog.at_level(logging.WARNING, logger="cppqa.search.index"):
        ensure_index(settings, other, lambda: fake_embedder)
    assert "another model" in caplog.text


def test_format_bump_is_stale(
    settings: Settings,
    fake_embedder: FakeEmbedder,
    built: Index,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    old = cppqa.search.index.FORMAT_VERSION
    monkeypatch.setattr(cppqa.search.index, "FORMAT_VERSION", old + 1)
    with pytest.raises(IndexStateError, match=f"index format {old} is not the current {old + 1}"):
        Index.load(settings.index_dir, settings, _info(fake_embedder))
    with caplog.at_level(logging.WARNING, logger="cppqa.search.index"):
        rebuilt = ensure_index(settings, _info(fake_embedder), lambda: fake_embedder)
    assert rebuilt.manifest["format"] == old + 1
    assert "rebuilding" in caplog.text


def test_other_splitting_is_stale(
    settings: Settings, fake_embedder: FakeEmbedder, built: Index
) -> None:
    other = Settings(
        corpus_dir=settings.corpus_dir, index_dir=settings.index_dir, chunk_sentences=4
    )
    with pytest.raises(IndexStateError, match="other splitting parameters"):
        Index.load(settings.index_dir, other, _info(fake_embedder))


def test_no_rebuild_raises_with_a_clear_message(
    settings: Settings, fake_embedder: FakeEmbedder, built: Index
) -> None:
    _edit_corpus(settings)
    calls = fake_embedder.calls
    with pytest.raises(
        IndexStateError, match=r"corpus changed .*; run `cppqa index` to rebuild it, or drop"
    ):
        ensure_index(settings, _info(fake_embedder), lambda: fake_embedder, rebuild=False)
    assert fake_embedder.calls == calls  # nothing rebuilt


def test_current_index_is_loaded_without_embedding(
    settings: Settings, fake_embedder: FakeEmbedder, built: Index
) -> None:
    calls = fake_embedder.calls
    ensure_index(settings, _info(fake_embedder), lambda: fake_embedder)
    assert fake_embedder.calls == calls


def test_save_replaces_an_existing_index(
    settings: Settings, fake_embedder: FakeEmbedder, built: Index
) -> None:
    _remove_file(settings)
    Index.build(settings, fake_embedder).save(settings.index_dir)
    loaded = Index.load(settings.index_dir, settings, _info(fake_embedder))
    assert loaded.manifest["counts"]["documents"] == 1
    assert not settings.index_dir.with_name("index.old").exists()


def test_interrupted_swap_is_recovered(
    settings: Settings, fake_embedder: FakeEmbedder, built: Index
) -> None:
    # A crash between the two renames of save() leaves only index.old.
    settings.index_dir.rename(settings.index_dir.with_name("index.old"))
    loaded = Index.load(settings.index_dir, settings, _info(fake_embedder))
    assert loaded.sentences == built.sentences
    assert not settings.index_dir.with_name("index.old").exists()


def test_committed_index_is_current_for_the_shipped_corpus() -> None:
    manifest = json.loads((INDEX / "manifest.json").read_text(encoding="utf-8"))
    shipped = Settings(corpus_dir=CORPUS, index_dir=INDEX)
    model = describe_model(None)
    assert staleness(manifest, shipped, model, INDEX) is None
    assert manifest["model"]["name"] == "sentence-transformers/all-MiniLM-L6-v2"
    assert manifest["dimension"] == 384
    assert manifest["counts"] == {"documents": 1, "sentences": 35, "chunks": 17}


def test_committed_index_is_stale_for_the_fake_model(
    settings: Settings, fake_embedder: FakeEmbedder
) -> None:
    with pytest.raises(IndexStateError, match="another model"):
        Index.load(settings.index_dir, settings, _info(fake_embedder))
