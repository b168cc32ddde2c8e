"""The web app under a burst of users, and its exposure: loopback only, no files, bad input.

Starts ``app.py`` as a user would, on 127.0.0.1 and a free port, and talks
to it over plain HTTP (Gradio's ``/gradio_api/call/<api>`` protocol), so a
question can carry anything JSON can, lone surrogates included.
"""

from __future__ import annotations

import importlib.util
import json
import statistics
import subprocess
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from conftest import DOCUMENT, ROOT, app_server
from cppqa.web.api import AnswerRecord
from cppqa.web.app import EXAMPLES
from cppqa.web.server import MAX_REQUEST_BYTES
from test_reliability import ANSWERED, REFUSED

pytestmark = pytest.mark.slow

CLIENTS, QUESTIONS_EACH = 32, 20
#: The burst's questions: answered ones, abstentions and refusals, as real traffic mixes them.
QUESTIONS = [
    *EXAMPLES,
    "What happened in 1958?",
    "Who imposed martial law?",
    "What changed after 1990?",
    "Why was the party banned?",
    "Who founded the party?",
    "What did the military officers want?",
    "Who is the president of France?",
    "What is the capital of Peru?",
    "<img src=x onerror=alert(1)>",
    "?!",
    "",
    "x" * 5000,
]


class Server:
    def __init__(self, url: str, process: subprocess.Popen[bytes], port: int) -> None:
        self.url, self.process, self.port = url, process, port

    def call(self, api: str, *data: Any) -> tuple[str, Any]:
        """``("complete", outputs)`` or ``("error", message)`` for one queued API call."""
        body = json.dumps({"data": list(data)}).encode("utf-8")
        request = urllib.request.Request(
            f"{self.url}/gradio_api/call/{api}",
            data=body,
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=120) as response:
            event_id = json.loads(response.read())["event_id"]
        with urllib.request.urlopen(
            f"{self.url}/gradio_api/call/{api}/{event_id}", timeout=120
        ) as response:
            stream = response.read().decode("utf-8")
        event, payload = _last_event(stream)
        if event == "complete":
            return event, json.loads(payload)[0]
        assert event == "error", stream
        return event, json.loads(payload)["error"] if payload.startswith("{") else payload

    def status(self, path: str, data: bytes | None = None, **headers: str) -> int:
        request = urllib.request.Request(self.url + path, data=data, headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return int(response.status)
        except urllib.error.HTTPError as exc:
            return int(exc.code)


def _last_event(stream: str) -> tuple[str, str]:
    event, data = "", ""
    for line in stream.splitlines():
        if line.startswith("event: "):
            event = line[len("event: ") :]
        elif line.startswith("data: "):
            data = line[len("data: ") :]
    return event, data


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    # No GRADIO_SERVER_NAME: the app must choose loopback by itself.
    log = tmp_path_factory.mktemp("server") / "app.log"
    with app_server(ROOT, log, {"GRADIO_SERVER_NAME": None}) as (url, process, port):
        yield Server(url, process, port)
    assert "Traceback" not in log.read_text(errors="replace")


def test_the_app_binds_loopback_only_by_default(server: Server) -> None:
    if not Path("/proc/net/tcp").is_file():
        pytest.skip("reads the listening sockets from Linux's /proc/net")
    listening = []
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for row in Path(table).read_text().splitlines()[1:]:
            local, state = row.split()[1], row.split()[3]
            address, port = local.split(":")
            if state == "0A" and int(port, 16) == server.port:  # 0A: LISTEN
                listening.append(address)
    assert listening == ["0100007F"]  # 127.0.0.1, and no IPv6 or wildcard socket


@pytest.mark.parametrize(
    ("environ", "host"),
    [({}, "127.0.0.1"), ({"GRADIO_SERVER_NAME": "0.0.0.0"}, "0.0.0.0")],
    ids=["default", "asked (Spaces)"],
)
def test_app_py_chooses_the_host(monkeypatch, environ: dict[str, str], host: str) -> None:
    import cppqa.qa
    import cppqa.web.app
    import cppqa.web.server

    launched: list[tuple[object, str, int]] = []
    monkeypatch.delenv("GRADIO_SERVER_NAME", raising=False)
    monkeypatch.delenv("GRADIO_SERVER_PORT", raising=False)
    for key, value in environ.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setattr(cppqa.qa.QA, "load", classmethod(lambda cls, *a, **k: "qa"))
    monkeypatch.setattr(cppqa.web.app, "build_app", lambda qa: f"app({qa})")
    monkeypatch.setattr(
        cppqa.web.server, "launch", lambda app, h, p, **k: launched.append((app, h, p))
    )
    spec = importlib.util.spec_from_file_location("cppqa_app_under_test", ROOT / "app.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.main()
    assert launched == [("app(qa)", host, 7860)]


@pytest.mark.parametrize(
    "path",
    [
        "/gradio_api/file=/etc/passwd",
        f"/gradio_api/file={ROOT / 'app.py'}",
        f"/gradio_api/file={DOCUMENT}",
        f"/gradio_api/file={ROOT / 'index' / 'manifest.json'}",
        "/gradio_api/file=../../../../etc/passwd",
        "/file=/etc/passwd",
    ],
)
def test_no_file_on_disk_is_served(server: Server, path: str) -> None:
    assert server.status(path) in {403, 404}


def test_uploads_over_the_limit_are_refused(server: Server) -> None:
    """Documents may be uploaded (the web chat reads them), but no more than the limit."""
    from cppqa.config import Settings

    settings = Settings()
    limit = settings.max_upload_files * (settings.max_file_bytes + 64 * 1024)
    headers = {
        "Content-Type": "multipart/form-data; boundary=cppqa-boundary",
        "Content-Length": str(limit + 1),  # refused on what it declares, before reading
    }
    assert server.status("/gradio_api/upload", b"--cppqa-boundary--\r\n", **headers) == 413
    headers["Content-Length"] = str(MAX_REQUEST_BYTES + 1)  # every other route: 1 MB
    assert server.status("/gradio_api/run/predict", b"{}", **headers) == 413


@pytest.mark.parametrize("question", list(ANSWERED.values()), ids=list(ANSWERED))
def test_odd_input_over_http_gets_an_answer(server: Server, question: str) -> None:
    event, answer = server.call("ask", question)
    assert event == "complete", answer
    assert set(answer) == set(AnswerRecord.__annotations__)
    assert "\x00" not in answer["question"]


@pytest.mark.parametrize(("question", "message"), list(REFUSED.values()), ids=list(REFUSED))
def test_unaskable_input_over_http_is_a_message(server: Server, question, message) -> None:
    event, error = server.call("ask", question)
    assert event == "error" and message in error


@pytest.mark.parametrize(
    "question", [ANSWERED["HTML and script"], ANSWERED["script tag"], ANSWERED["Markdown"]]
)
def test_markup_in_a_question_comes_back_as_data_not_markup(server: Server, question) -> None:
    """/chat answers with JSON: the question comes back as the text it was, and nothing
    of it leaks into the answer or its sources (the page escapes it: test_browser.py)."""
    event, reply = server.call("chat", question, [])
    assert event == "complete", reply
    assert reply["question"] == question
    said = json.dumps([reply["answer"], reply["sources"]], ensure_ascii=False)
    for raw in ("<img", "<script", "onerror", "](http", "![x]"):
        assert raw not in said


def test_a_burst_of_users_gets_every_answer_unchanged(server: Server) -> None:
    """32 clients × 20 questions at once: every answer arrives, identical to a lone user's."""
    started = time.perf_counter()
    alone = {q: server.call("ask", q) for q in QUESTIONS}
    single_seconds = (time.perf_counter() - started) / len(QUESTIONS)
    assert any(event == "error" for event, _ in alone.values())
    assert sum(event == "complete" and a["answer"] is not None for event, a in alone.values()) >= 10

    latencies: list[float] = []
    results: list[tuple[str, tuple[str, Any]]] = []
    lost: list[str] = []
    lock = threading.Lock()

    def client(number: int) -> None:
        for n in range(QUESTIONS_EACH):
            question = QUESTIONS[(number + n) % len(QUESTIONS)]
            began = time.perf_counter()
            try:
                result = server.call("ask", question)
            except Exception as exc:  # a lost request is the finding, not a test crash
                with lock:
                    lost.append(f"{question[:30]!r}: {exc!r}")
                continue
            with lock:
                latencies.append(time.perf_counter() - began)
                results.append((question, result))

    burst_started = time.perf_counter()
    with ThreadPoolExecutor(CLIENTS) as pool:
        list(pool.map(client, range(CLIENTS)))
    wall = time.perf_counter() - burst_started

    total = CLIENTS * QUESTIONS_EACH
    p50 = statistics.median(latencies)
    p95 = statistics.quantiles(latencies, n=20)[-1] if len(latencies) > 1 else float("nan")
    print(
        f"\nload: {total} requests from {CLIENTS} clients in {wall:.1f} s = "
        f"{len(results) / wall:.1f} answers/s; latency p50 {p50 * 1000:.0f} ms, "
        f"p95 {p95 * 1000:.0f} ms, max {max(latencies) * 1000:.0f} ms "
        f"(one user alone: {single_seconds * 1000:.0f} ms); lost {len(lost)}"
    )
    assert lost == []
    assert len(results) == total
    changed = [q for q, result in results if result != alone[q]]
    assert changed == []
    assert server.process.poll() is None
