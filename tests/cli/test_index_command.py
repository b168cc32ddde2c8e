"""cli/index.py: ``cppqa index`` as a user runs it (subprocesses), the index a corpus keeps
in the cache, and the progress bars."""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

import pytest

from conftest import DOCUMENT, INDEX, run_cli
from cppqa.cli.index import _StepBars
from cppqa.documents.corpus import load_corpus
from cppqa.evaluation.bench_upload import pdf_pages
from cppqa.search.index import fingerprint
from cppqa.search.progress import Stage, Step

TEXT = DOCUMENT.read_text(encoding="utf-8")


# --- building the index ----------------------------------------------------------------------


@pytest.mark.slow
def test_index_builds_in_the_given_folders(workdir: Path) -> None:
    target = workdir / "fresh-index"
    result = run_cli("index", "--corpus", str(workdir / "corpus"), "--index", str(target))
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    assert re.search(
        r"^Indexed 1 document\(s\): 35 sentences, 17 passages, 384-d vectors from "
        r"sentence-transformers/all-MiniLM-L6-v2, in [\d.]+ s → .*fresh-index$",
        result.stdout,
        re.MULTILINE,
    ), result.stdout
    manifest = json.loads((target / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["counts"] == {"documents": 1, "sentences": 35, "chunks": 17}
    assert sorted(p.name for p in workdir.iterdir()) == ["corpus", "fresh-index", "index"]


@pytest.mark.slow
def test_index_shows_the_count_of_a_long_embedding_rise(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "report.pdf").write_bytes(pdf_pages(TEXT, 12))  # embedding it takes seconds
    (corpus / "short.txt").write_text("A short note.", encoding="utf-8")
    result = run_cli("index", "--corpus", str(corpus), "--index", str(tmp_path / "index"))
    assert result.returncode == 0, result.stderr
    counts = re.findall(r"embedding ([\d,]+) / ([\d,]+) sentences and passages", result.stderr)
    done = sorted({int(n.replace(",", "")) for n, _ in counts})
    (total,) = {int(n.replace(",", "")) for _, n in counts}
    assert len(done) >= 3 and done[-1] == total, result.stderr  # by batch, up to all
    assert "short.txt" not in result.stderr
    assert result.stdout.startswith("Indexed 2 document(s)")


def test_index_shows_a_bar_with_a_count_for_each_stage(capsys: pytest.CaptureFixture[str]) -> None:
    bars = _StepBars(delay=0)  # `cppqa index` waits a second
    texts = "sentences and passages"
    for step in [
        Step(Stage.READING, 1, 3, "pages", "a.pdf"),
        Step(Stage.READING, 3, 3, "pages", "a.pdf"),
        Step(Stage.READING, 2, 2, "pages", "b/c.pdf"),
        Step(Stage.EMBEDDING, 0, 4310, texts),
        Step(Stage.EMBEDDING, 1280, 4310, texts),
        Step(Stage.EMBEDDING, 4310, 4310, texts),
    ]:
        bars(step)
    bars.close()
    shown = capsys.readouterr()
    assert shown.out == ""
    assert re.search(r"reading a\.pdf: 3 / 3 pages 100%", shown.err)
    assert re.search(r"reading b/c\.pdf: 2 / 2 pages 100%", shown.err)
    assert re.search(r"embedding 0 / 4,310 sentences and passages   0%", shown.err)
    assert re.search(r"embedding 4,310 / 4,310 sentences and passages 100%", shown.err)


# --- an index belongs to its corpus ----------------------------------------------------------


def _files_of(folder: Path) -> dict[str, tuple[str, int]]:
    """Every file under ``folder`` with its SHA-256 and modification time."""
    return {
        p.relative_to(folder).as_posix(): (
            hashlib.sha256(p.read_bytes()).hexdigest(),
            p.stat().st_mtime_ns,
        )
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


@pytest.mark.slow
def test_a_corpus_without_index_keeps_its_own_in_the_cache(tmp_path: Path) -> None:
    """``--corpus`` without ``--index`` leaves the shipped ``index/`` alone: its index goes
    into the cache, named by the corpus's fingerprint, and the next ask reuses it."""
    shipped = _files_of(INDEX)
    document = tmp_path / "mine" / "history.txt"
    document.parent.mkdir()
    document.write_text(TEXT, encoding="utf-8")
    cache = tmp_path / "cache"
    env = {"CPPQA_CACHE_DIR": str(cache)}
    question = "When was the party declared illegal?"

    first = run_cli("ask", "--json", "--corpus", str(document), question, env=env)
    assert first.returncode == 0, first.stderr
    assert "1954" in json.loads(first.stdout)["answer"]
    (built,) = (cache / "indexes").iterdir()
    assert built.name == fingerprint(load_corpus(document))
    manifest = (built / "manifest.json").read_bytes()

    again = run_cli("ask", "--json", "--no-rebuild", "--corpus", str(document), question, env=env)
    assert again.returncode == 0, again.stderr
    assert json.loads(again.stdout) == json.loads(first.stdout)
    # The same files elsewhere are the same corpus: `index` finds their index current.
    copy = tmp_path / "copy" / document.name
    copy.parent.mkdir()
    copy.write_bytes(document.read_bytes())
    current = run_cli("index", "--corpus", str(copy), env=env)
    assert current.returncode == 0, current.stderr
    assert current.stdout == (
        f"Index of 1 document(s) is current: 35 sentences, 17 passages → {built} "
        "(--force rebuilds it)\n"
    )
    assert (built / "manifest.json").read_bytes() == manifest
    assert [p.name for p in (cache / "indexes").iterdir()] == [built.name]

    forced = run_cli("index", "--force", "--corpus", str(copy), env=env)
    assert forced.returncode == 0, forced.stderr
    assert forced.stdout.startswith("Indexed 1 document(s): 35 sentences, 17 passages")
    assert (built / "manifest.json").read_bytes() != manifest  # built anew: a new build time
    assert _files_of(INDEX) == shipped
