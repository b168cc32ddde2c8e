"""No network and no unsafe loading: the whole pipeline runs with sockets and pickle disabled.

The pipeline runs in a fresh interpreter, so nothing is already imported or
cached: the socket guard is installed before cppqa, torch or
sentence-transformers are imported, the hub's offline switches are *unset*
and ``HF_HOME`` points at an empty folder.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

from conftest import CORPUS

SCRIPT = textwrap.dedent(
    """
    import json, socket, sys
    from pathlib import Path

    attempts = []

    def refuse(name):
        def guard(*args, **kwargs):
            attempts.append(f"{name}{args[:2]!r}")
            raise OSError(f"network disabled by the test: {name}")
        return guard

    socket.socket.connect = refuse("connect")
    socket.socket.connect_ex = refuse("connect_ex")
    socket.create_connection = refuse("create_connection")
    socket.getaddrinfo = refuse("getaddrinfo")
    # The guard works: a connection attempt is refused and recorded.
    try:
        socket.create_connection(("127.0.0.1", 9))
    except OSError:
        pass
    assert attempts, "the socket guard did not catch a connection"
    attempts.clear()

    from cppqa.config import Settings
    from cppqa.search.embed import load_embedder
    from cppqa.search.index import Index
    from cppqa.qa import QA

    settings = Settings(corpus_dir=Path(sys.argv[1]), index_dir=Path(sys.argv[2]))
    Index.build(settings, load_embedder(None)).save(settings.index_dir)
    built = list(attempts)

    # From here on, nothing may unpickle: index files are FAISS and JSON only.
    import pickle, numpy, torch
    unpickled = []

    def forbid(name):
        def guard(*args, **kwargs):
            unpickled.append(name)
            raise RuntimeError(f"{name} called while loading the index")
        return guard

    pickle.load, pickle.loads = forbid("pickle.load"), forbid("pickle.loads")
    pickle.Unpickler = forbid("pickle.Unpickler")
    numpy.load, torch.load = forbid("numpy.load"), forbid("torch.load")

    qa = QA.load(settings, rebuild=False)
    answers = [qa.ask(q).to_json() for q in sys.argv[3:]]
    print(json.dumps({"build": built, "ask": attempts[len(built):],
                      "unpickled": unpickled, "answers": answers}))
    """
)

QUESTIONS = ["When was the party declared illegal?", "Who is the General Secretary of the Party?"]


@pytest.mark.slow
def test_build_load_and_ask_without_network_or_pickle(tmp_path: Path, qa) -> None:
    import shutil

    shutil.copytree(CORPUS, tmp_path / "corpus")
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE", "HF_DATASETS_OFFLINE"}
    }
    env["HF_HOME"] = str(tmp_path / "empty-hf-home")
    result = subprocess.run(
        [
            *(sys.executable, "-c", SCRIPT),
            *(str(tmp_path / "corpus"), str(tmp_path / "index"), *QUESTIONS),
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["build"] == [] and report["ask"] == [], report
    assert report["unpickled"] == []
    assert [a["answer"] for a in report["answers"]] == ["1954", "Comrade Imdad Qazi"]

    # The offline build answers as the shipped index does (scores may differ in float noise).
    def where(answer: dict[str, Any]) -> tuple[object, ...]:
        return answer["answer"], [(s["doc"], s["start"], s["end"]) for s in answer["sources"]]

    assert [where(a) for a in report["answers"]] == [where(qa.ask(q).to_json()) for q in QUESTIONS]


def test_index_files_are_faiss_and_json_only(workdir: Path) -> None:
    """No file in the index is a pickle (pickles start with 0x80 and a protocol byte)."""
    index = workdir / "index"
    names = sorted(p.name for p in index.iterdir())
    assert names == ["chunks.faiss", "manifest.json", "passages.json", "sentences.faiss"]
    for path in index.iterdir():
        data = path.read_bytes()
        assert not data.startswith(b"\x80"), path.name
        if path.suffix == ".json":
            json.loads(data.decode("utf-8"))
