"""cli/settings.py: the settings the shared flags give, and the index a command uses."""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import CORPUS
from cppqa.cli import build_parser
from cppqa.cli.settings import read_settings
from cppqa.config import Settings
from cppqa.documents.corpus import load_corpus
from cppqa.search.index import fingerprint
from cppqa.search.placement import corpus_index_dir


@pytest.mark.parametrize(
    ("args", "env", "where"),
    [
        ([], {}, "shipped"),
        (["--corpus", str(CORPUS)], {}, "shipped"),
        (["--corpus", "{tmp}/notes"], {}, "cache"),
        (["--corpus", "{tmp}/notes/a.md"], {}, "cache"),
        (["--corpus", "{tmp}/notes", "--index", "{tmp}/mine"], {}, "given"),
        (["--corpus", "{tmp}/notes"], {"CPPQA_INDEX_DIR": "{tmp}/mine"}, "given"),
        (["--corpus", "{tmp}/nowhere"], {}, "shipped"),  # load_corpus says it is missing
    ],
    ids=["default", "shipped", "folder", "file", "flag", "env", "missing"],
)
def test_which_index_a_command_uses(
    args: list[str],
    env: dict[str, str],
    where: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    (tmp_path / "notes").mkdir()
    (tmp_path / "notes" / "a.md").write_text("# A\n\nThe bridge opened in 1931.", encoding="utf-8")
    monkeypatch.setenv("CPPQA_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("CPPQA_INDEX_DIR", raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value.replace("{tmp}", str(tmp_path)))
    parsed = build_parser().parse_args(
        ["ask", *[a.replace("{tmp}", str(tmp_path)) for a in args], "Q?"]
    )
    index_dir = read_settings(parsed).index_dir
    if where == "cache":
        corpus = load_corpus(Path(parsed.corpus))
        expected = tmp_path / "cache" / "indexes" / fingerprint(corpus)
    else:
        expected = Settings().index_dir if where == "shipped" else tmp_path / "mine"
    assert index_dir == expected


def test_the_cache_key_is_the_fingerprint_of_the_files(tmp_path: Path) -> None:
    """Same files, same key from any folder; another byte, another key; a Word lock file and
    files of other types are no part of the corpus."""
    one, two = tmp_path / "one", tmp_path / "two" / "deeper"
    for folder in (one, two):
        (folder / "sub").mkdir(parents=True)
        (folder / "a.md").write_text("# A\n\nThe bridge opened in 1931.", encoding="utf-8")
        (folder / "sub" / "b.txt").write_text("The road opened in 1932.", encoding="utf-8")
    (two / "~$lock.docx").write_bytes(b"\x00")
    (two / "notes.csv").write_text("a,b", encoding="utf-8")
    cache = tmp_path / "cache"
    key = corpus_index_dir(one, cache)
    assert key == cache / "indexes" / fingerprint(load_corpus(one))
    assert corpus_index_dir(two, cache) == key
    (two / "sub" / "b.txt").write_text("The road opened in 1933.", encoding="utf-8")
    assert corpus_index_dir(two, cache) not in {key, None}
    assert corpus_index_dir(two / "notes.csv", cache) is None
    assert corpus_index_dir(tmp_path / "nowhere", cache) is None
