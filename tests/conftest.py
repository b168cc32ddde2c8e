"""Shared fixtures: the real model loaded once per session, and a fast fake embedder."""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from cppqa.config import Settings

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT / "corpus"
INDEX = ROOT / "index"
DOCUMENT = CORPUS / "communist-party-of-pakistan.txt"

os.environ.setdefault("HF_HUB_OFFLINE", "1")

# The tests measure the general reader: a reader adapted to the shipped document
# (`cppqa train-reader --adapt`) left in models/ must not change what they see.
import cppqa.reading.reader  # noqa: E402

cppqa.reading.reader.ADAPTED_DIR = ROOT / "tests" / "no-adapted-reader"


class FakeEmbedder:
    """Hashes words into buckets: deterministic, instant, good enough for plumbing tests."""

    name = "fake-hashing-embedder"
    weights_sha256 = "0" * 64
    dimension = 64
    precision = "fp32"

    def __init__(self) -> None:
        self.calls = 0

    def encode(self, texts: list[str], progress: bool = False) -> np.ndarray:
        from cppqa.search.terms import words

        self.calls += 1
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        for row, text in enumerate(texts):
            for word in words(text):
                bucket = int(hashlib.md5(word.encode()).hexdigest(), 16) % self.dimension
                out[row, bucket] += 1.0
            norm = np.linalg.norm(out[row]) or 1.0
            out[row] /= norm
        return out


@pytest.fixture
def fake_embedder() -> FakeEmbedder:
    return FakeEmbedder()


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    """A copy of the shipped corpus and index in a temporary folder."""
    shutil.copytree(CORPUS, tmp_path / "corpus")
    if INDEX.is_dir():
        shutil.copytree(INDEX, tmp_path / "index")
    return tmp_path


@pytest.fixture
def settings(workdir: Path) -> Settings:
    return Settings(corpus_dir=workdir / "corpus", index_dir=workdir / "index")


@pytest.fixture(scope="session")
def qa():  # type: ignore[no-untyped-def]
    """The real system on the shipped corpus and index, loaded once per test session."""
    from cppqa.qa import QA

    return QA.load(Settings(corpus_dir=CORPUS, index_dir=INDEX), rebuild=False)


def run_cli(
    *args: str,
    stdin: str | None = None,
    cwd: Path | None = None,
    env: dict[str, str] | None = None,
    timeout: float = 300,
) -> subprocess.CompletedProcess[str]:
    """Run ``python -m cppqa ARGS`` as a user would, capturing its output."""
    full_env = {**os.environ, "HF_HUB_OFFLINE": "1", **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "cppqa", *args],
        input=stdin,
        capture_output=True,
        text=True,
        cwd=cwd or ROOT,
        env=full_env,
        timeout=timeout,
    )


def free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextlib.contextmanager
def app_server(
    cwd: Path, log_path: Path, env: dict[str, str | None], timeout: float = 300
) -> Iterator[tuple[str, subprocess.Popen[bytes], int]]:
    """Run ``python app.py`` on a free loopback port until it answers; stop it after.

    ``env`` is laid over this process's environment; a None value removes a variable.
    Yields the URL (without a trailing slash), the process and the port.
    """
    import time
    import urllib.request

    port = free_port()
    full = {**os.environ, "HF_HUB_OFFLINE": "1", "GRADIO_ANALYTICS_ENABLED": "False"}
    full.update({"GRADIO_SERVER_PORT": str(port)})
    for name, value in env.items():
        if value is None:
            full.pop(name, None)
        else:
            full[name] = value
    url = f"http://127.0.0.1:{port}"
    with log_path.open("wb") as log:
        server = subprocess.Popen(
            [sys.executable, str(ROOT / "app.py")], cwd=cwd, env=full, stdout=log, stderr=log
        )
    try:
        deadline = time.monotonic() + timeout
        while True:
            if server.poll() is not None:
                pytest.fail(f"app.py exited ({server.returncode}):\n{log_path.read_text()}")
            try:
                urllib.request.urlopen(url + "/", timeout=5).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    pytest.fail(
                        f"app.py did not answer in {timeout:.0f} s:\n{log_path.read_text()}"
                    )
                time.sleep(0.5)
        yield url, server, port
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


@pytest.fixture(scope="session")
def web_temp(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The temporary folder of the ``web_url`` server (uploads are read in folders here)."""
    return tmp_path_factory.mktemp("web-tmp")


@pytest.fixture(scope="session")
def web_url(tmp_path_factory: pytest.TempPathFactory, web_temp: Path) -> Iterator[str]:
    """``python app.py`` on a free loopback port, serving a copy of corpus and index; its URL.

    Started once per session (startup loads the model, ~10-20 s) and stopped at the end.
    """
    with served_copy(tmp_path_factory.mktemp("web"), TMPDIR=str(web_temp)) as url:
        yield url


@contextlib.contextmanager
def served_copy(work: Path, **env: str) -> Iterator[str]:
    """``python app.py`` over a copy of the shipped corpus and index in ``work``, with
    ``env`` besides; its URL."""
    shutil.copytree(CORPUS, work / "corpus")
    if INDEX.is_dir():
        shutil.copytree(INDEX, work / "index")
    full: dict[str, str | None] = {
        "GRADIO_SERVER_NAME": "127.0.0.1",
        "CPPQA_CORPUS_DIR": str(work / "corpus"),
        "CPPQA_INDEX_DIR": str(work / "index"),
        **env,
    }
    with app_server(work, work / "app.log", full) as (url, _server, _port):
        yield url + "/"


def make_pdf(pages: list[list[str]], *, size: tuple[float, float] = (105, 148)) -> bytes:
    """A PDF (fpdf2) with each list of paragraphs starting a new page, flowing on if long.

    DejaVu Sans, with Last Resort for the characters it lacks (the Urdu full stop).
    """
    import matplotlib
    from fpdf import FPDF

    fonts = Path(matplotlib.get_data_path()) / "fonts" / "ttf"  # matplotlib: a test dependency
    pdf = FPDF(format=size)
    pdf.add_font("dejavu", fname=str(fonts / "DejaVuSans.ttf"))
    pdf.add_font("last-resort", fname=str(fonts / "LastResortHE-Regular.ttf"))
    pdf.set_fallback_fonts(["last-resort"])  # DejaVu Sans has no '۔'
    pdf.set_font("dejavu", size=11)
    for paragraphs in pages:
        pdf.add_page()
        for paragraph in paragraphs:
            pdf.multi_cell(0, 5, paragraph)
            pdf.ln(5)
    return bytes(pdf.output())
