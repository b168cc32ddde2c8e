"""placement.py: a corpus other than the shipped one keeps its index in the cache."""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import INDEX
from cppqa.config import Settings
from cppqa.search.placement import corpus_index_dir, place_index


def _corpus(tmp_path: Path) -> Path:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "bridge.md").write_text(
        "# The bridge\n\nThe bridge opened in 1931. Anna Berg designed it.", encoding="utf-8"
    )
    return corpus


def test_another_corpus_gets_the_cache_unless_a_folder_is_named(tmp_path: Path) -> None:
    corpus, cache = _corpus(tmp_path), tmp_path / "cache"
    own = Settings(corpus_dir=corpus, cache_dir=cache)
    assert own.index_dir == Settings().index_dir  # the default is the shipped folder...
    placed = place_index(own, named=False)
    assert placed.index_dir == corpus_index_dir(corpus, cache)  # ...which it never gets
    assert placed.index_dir.parent == cache / "indexes"
    assert place_index(own, named=True) == own
    shipped = Settings(cache_dir=cache)
    assert place_index(shipped, named=False) == shipped


def test_qa_load_from_the_environment_never_writes_the_shipped_index(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fake_embedder
) -> None:  # type: ignore[no-untyped-def]
    """``python app.py`` with CPPQA_CORPUS_DIR (the web app, QA.load()) indexed another
    corpus into index/ before: now into the cache, the shipped index untouched."""
    from cppqa.qa import QA

    corpus = _corpus(tmp_path)
    monkeypatch.setenv("CPPQA_CORPUS_DIR", str(corpus))
    monkeypatch.setenv("CPPQA_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("CPPQA_INDEX_DIR", raising=False)
    import cppqa.qa

    real = cppqa.qa.ensure_index

    def guarded(settings: Settings, *args, **kwargs):  # type: ignore[no-untyped-def]
        # without the fix this test must fail here, before it rewrites the shipped index
        assert settings.index_dir.resolve() != INDEX.resolve()
        return real(settings, *args, **kwargs)

    monkeypatch.setattr(cppqa.qa, "ensure_index", guarded)
    before = {p: p.stat().st_mtime_ns for p in INDEX.rglob("*")}
    qa = QA.load(embedder=fake_embedder)
    assert qa.settings.index_dir == corpus_index_dir(corpus, tmp_path / "cache")
    assert [d.doc for d in qa.index.documents] == ["bridge.md"]
    assert {p: p.stat().st_mtime_ns for p in INDEX.rglob("*")} == before
    assert any(qa.settings.index_dir.iterdir())
