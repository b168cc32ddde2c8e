"""The upload surface under attack (issue 32): each hole found, held closed.

One test (or a few) per attack, each of which failed on the code the attacks were
made against. Loopback only, bounded loops; times are compared as ratios within one
run, never against a clock.
"""

from __future__ import annotations

import html
import io
import json
import logging
import os
import re
import secrets
import subprocess
import sys
import time
import zipfile
from pathlib import Path
from typing import Any

import httpx
import pytest

from conftest import DOCUMENT, ROOT
from cppqa.config import Settings
from cppqa.documents.formats import read_document
from cppqa.errors import CorpusError, QuestionError, UploadError
from cppqa.uploads.files import FOLDER_PREFIX, accepted, release, sweep_stale, unique_names
from cppqa.uploads.sessions import Uploads
from cppqa.web.api import guarded, turns_from_records
from cppqa.web.chat import show_user_text_as_typed

# --- pathological text: splitting and indexing stay linear ---------------------------------

#: A megabyte of each, built in the child process.
PATHOLOGICAL = {
    "prose": "(PROSE * (1_000_000 // len(PROSE) + 1))[:1_000_000]",
    # a run of stops not followed by whitespace: the old regex tried it from every dot
    "dots": "'.' * 999_999 + 'x'",
    # every stop a boundary: as many "sentences" as dots, unless punctuation is none
    "dots and spaces": "'. ' * 500_000",
    "A. ": "('A. ' * 340_000)[:1_000_000]",
    # no whitespace at all: every stop's word reaches back to the start
    "one unbroken line": "'a.' * 500_000",
}
#: How much longer than prose a megabyte of pathological text may take to index. Measured
#: 0.1x (dots) to 1.9x ("A. "); on d414d8e "A. " took 14x and dots never ended.
MAX_RATIO = 5
_INDEXING = """
import sys, time
sys.path.insert(0, {tests!r})
from pathlib import Path
from conftest import FakeEmbedder
from cppqa.config import Settings
from cppqa.search.index import Index
from cppqa.records import Document
PROSE = Path({document!r}).read_text(encoding="utf-8")
text = {text}
document = Document(doc="x.txt", title="x", text=text, sha256="0" * 64)
settings = Settings(corpus_dir=Path("."), index_dir=Path("unused"))
started = time.perf_counter()
index = Index.build(settings, FakeEmbedder(), documents=[document])
print(time.perf_counter() - started, len(index.sentences))
"""


def _indexing_time(kind: str, guard: float) -> float:
    """Seconds to split, embed (fake) and index a megabyte of ``kind`` text, in a child
    process killed after ``guard`` seconds (a quadratic splitter never finishes)."""
    script = _INDEXING.format(
        tests=str(ROOT / "tests"), document=str(DOCUMENT), text=PATHOLOGICAL[kind]
    )
    try:
        done = subprocess.run(
            [sys.executable, "-c", script],
            capture_output=True,
            text=True,
            timeout=guard,
            check=True,
        )
    except subprocess.TimeoutExpired:
        pytest.fail(f"indexing a megabyte of {kind!r} did not end in {guard:.0f} s")
    return float(done.stdout.split()[0])


@pytest.mark.slow
def test_pathological_text_indexes_about_as_fast_as_prose() -> None:
    """A megabyte of dots, of "A. " and of one unbroken line: split, passages built and
    indexed (with the fake embedder: the real one would take minutes for the prose on
    2 cores) within a small multiple of the time a megabyte of prose takes."""
    prose = _indexing_time("prose", guard=300)
    times = {
        kind: _indexing_time(kind, guard=60 + MAX_RATIO * prose)
        for kind in PATHOLOGICAL
        if kind != "prose"
    }
    ratios = {kind: round(seconds / prose, 2) for kind, seconds in times.items()}
    assert max(ratios.values()) < MAX_RATIO, json.dumps(ratios)


# --- a .docx of tiny paragraphs: read until the character limit, no further ----------------


def _tiny_paragraphs(count: int) -> bytes:
    """A Word file of ``count`` one-letter paragraphs: 35 bytes of XML for 3 characters
    of text, so a small file unpacks to a large document part."""
    import docx

    made = io.BytesIO()
    docx.Document().save(made)
    with zipfile.ZipFile(made) as archive:
        parts = {entry.filename: archive.read(entry) for entry in archive.infolist()}
    xml = parts["word/document.xml"]
    start = xml.index(b"<w:body>") + len(b"<w:body>")
    parts["word/document.xml"] = (
        xml[:start] + b"<w:p><w:r><w:t>a</w:t></w:r></w:p>" * count + xml[start:]
    )
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in parts.items():
            archive.writestr(name, data)
    return out.getvalue()


def _refusing_time(path: Path, settings: Settings) -> float:
    """The fastest of two refusals of ``path`` for holding too much text, in seconds."""
    times = []
    for _ in range(2):
        started = time.perf_counter()
        with pytest.raises(CorpusError, match="CPPQA_MAX_DOCUMENT_CHARS"):
            read_document(path, path.parent, settings)
        times.append(time.perf_counter() - started)
    return min(times)


@pytest.mark.slow
def test_a_docx_is_read_only_as_far_as_its_character_limit(tmp_path: Path) -> None:
    """Five times the paragraphs past the limit cost no more to refuse: reading stops at
    the limit (d414d8e parsed the whole part first: 190 MB of these took 470 s, 3.6 GB)."""
    settings = Settings(max_document_chars=150_000)  # ~50,000 paragraphs
    twice, ten_times = tmp_path / "twice.docx", tmp_path / "ten-times.docx"
    twice.write_bytes(_tiny_paragraphs(100_000))
    ten_times.write_bytes(_tiny_paragraphs(500_000))
    ratio = _refusing_time(ten_times, settings) / _refusing_time(twice, settings)
    assert ratio < 2, f"5x the paragraphs took {ratio:.1f}x as long to refuse"


# --- 1. only regular files, uploaded here, reach an upload ----------------------------------

NOTES = b"# Meeting notes\n\nThe river bridge was opened in 1931 by the mayor.\n"


def _pending(incoming: Path, name: str = "pending.md") -> Path:
    """A file as Gradio keeps an upload: in a folder of its own in its upload folder."""
    folder = incoming / secrets.token_hex(8)
    folder.mkdir(parents=True)
    (folder / name).write_bytes(NOTES)
    return folder / name


@pytest.fixture
def refusing(tmp_path: Path) -> Uploads:
    """Uploads that refuse before any model is needed, taking files from tmp/incoming."""

    class _Shipped:
        settings = Settings()

    (tmp_path / "held").mkdir()
    return Uploads(  # type: ignore[arg-type]
        _Shipped(), root=tmp_path / "held", incoming=tmp_path / "incoming"
    )


def _not_uploaded(name: str) -> str:
    return f"{name!r} is not a file uploaded to this server: upload it again"


def test_a_folder_given_as_a_file_is_refused_and_moves_nothing(
    refusing: Uploads, tmp_path: Path
) -> None:
    """d414d8e moved Gradio's whole upload folder, another client's pending upload in it,
    into the session's folder, and deleted it after."""
    incoming = tmp_path / "incoming"
    theirs = _pending(incoming)
    outside = tmp_path / "outside.md"
    outside.write_bytes(NOTES)
    link_folder = incoming / "linked"
    link_folder.mkdir()
    (link_folder / "out.md").symlink_to(outside)
    loose = incoming / "loose.md"
    loose.write_bytes(NOTES)
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "elsewhere" / "in.md").write_bytes(NOTES)
    (incoming / "linked-folder").symlink_to(tmp_path / "elsewhere", target_is_directory=True)
    for path, name in [
        (incoming, "gradio"),  # the upload folder itself
        (theirs.parent, "theirs"),  # another upload's folder
        (link_folder / "out.md", "out.md"),  # a link to a file elsewhere
        (incoming / "linked-folder" / "in.md", "in.md"),  # a file in a linked folder
        (loose, "loose.md"),  # not in a folder of its own
        (tmp_path / "missing" / "x.md", "x.md"),
        (Path(str(theirs) + "\x00.md"), "nul.md"),
    ]:
        with pytest.raises(UploadError) as refused:
            refusing.add("attacker", [(path, name)])
        assert str(refused.value) == _not_uploaded(name)
        release([(path, name)])  # as the web app does after a refusal
    assert theirs.read_bytes() == NOTES  # the other client's upload is untouched
    assert outside.read_bytes() == NOTES and (link_folder / "out.md").is_symlink()
    assert list((tmp_path / "held").iterdir()) == []


def test_a_file_in_a_folder_of_its_own_is_accepted(tmp_path: Path) -> None:
    given = _pending(tmp_path / "incoming", "report.md")
    assert accepted(given, "report.md", tmp_path / "incoming") == given
    # the upload folder itself may be reached through a link (a temporary folder may be)
    (tmp_path / "linked").symlink_to(tmp_path / "incoming", target_is_directory=True)
    through = tmp_path / "linked" / given.parent.name / "report.md"
    assert accepted(through, "report.md", tmp_path / "linked") == through


# --- 4. upload slots per client, and when to come back --------------------------------------


@pytest.mark.slow
def test_one_client_holds_at_most_its_share_and_is_told_when_to_retry(  # type: ignore[no-untyped-def]
    qa, tmp_path: Path
) -> None:
    """d414d8e let one client's eight requests take all eight slots, renewably."""
    clock = [0.0]
    (tmp_path / "held").mkdir()
    uploads = Uploads(qa, root=tmp_path / "held", clock=lambda: clock[0])
    try:
        for key in ("tab-1", "tab-2"):
            uploads.add(key, [(_pending(tmp_path / "in"), "a.md")], client="10.0.0.1")
        clock[0] += 600  # ten minutes on: the first tab's upload is freed in 20
        with pytest.raises(UploadError) as refused:
            uploads.add("tab-3", [(_pending(tmp_path / "in"), "a.md")], client="10.0.0.1")
        assert str(refused.value) == (
            "you already have documents open in 2 other tabs or sessions, the most one "
            "client may: try again in 20 minutes, or close one of them"
        )
        # a tab of its own may replace its documents, and other clients are served
        uploads.add("tab-2", [(_pending(tmp_path / "in"), "b.md")], client="10.0.0.1")
        uploads.add("other", [(_pending(tmp_path / "in"), "c.md")], client="10.0.0.2")
        assert len(uploads) == 3
    finally:
        uploads.close()


# --- 6. upload folders left by a killed run are removed at the next start -------------------


def _dead_pid() -> int:
    """The id of a process that has ended."""
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def _plant(root: Path) -> dict[str, Path]:
    """Upload folders as runs leave them: a killed run's, one from before folders were
    named by process, a running process's, a link named like one, and others."""
    dead = _dead_pid()
    outside = root / "elsewhere"
    outside.mkdir()
    (outside / "keep.txt").write_text("not ours to remove")
    planted = {
        "killed": root / f"{FOLDER_PREFIX}{dead}-x1y2",
        "unnamed": root / f"{FOLDER_PREFIX}ab12cd34",
        "running": root / f"{FOLDER_PREFIX}{os.getpid()}-z9",
        "link": root / f"{FOLDER_PREFIX}{dead}-link",
        "file": root / f"{FOLDER_PREFIX}{dead}-file",
        "other": root / "someone-else",
    }
    for name in ("killed", "unnamed", "running", "other"):
        planted[name].mkdir()
        (planted[name] / "report.pdf").write_bytes(b"%PDF-")
    planted["link"].symlink_to(outside, target_is_directory=True)
    planted["file"].write_text("a file, not a folder")
    return planted


def test_only_stale_upload_folders_of_ours_are_swept(tmp_path: Path) -> None:
    planted = _plant(tmp_path)
    if os.getuid() == 0:  # another user's folder: only root can make one here
        planted["another user's"] = tmp_path / f"{FOLDER_PREFIX}{_dead_pid()}-theirs"
        planted["another user's"].mkdir()
        os.chown(planted["another user's"], 65534, 65534)
    removed = sweep_stale(tmp_path)
    assert sorted(removed) == sorted([planted["killed"], planted["unnamed"]])
    kept = [p for name, p in planted.items() if name not in ("killed", "unnamed")]
    assert all(os.path.lexists(p) for p in kept)
    assert (tmp_path / "elsewhere" / "keep.txt").exists()


# --- 7. history turns are bounded like questions --------------------------------------------


@pytest.mark.parametrize(
    ("turn", "message"),
    [
        (
            {"question": "Who?", "answer": "a" * 880_000},
            "history turn 1: 'answer' is 880,000 characters long; the limit is 1,000",
        ),
        (
            {"question": "Who?" * 300},
            "history turn 1: 'question' is 1,200 characters long; the limit is 1,000",
        ),
        (
            {"question": "Who?", "query": "q" * 1001},
            "history turn 1: 'query' is 1,001 characters long; the limit is 1,000",
        ),
        (
            {"question": "Who?", "answer": "x", "sources": [{"text": "s" * 20_001}]},
            "history turn 1: sources[0].text is 20,001 characters long; the limit is 20,000",
        ),
    ],
    ids=["answer", "question", "query", "sentence"],
)
def test_history_turns_are_bounded(turn: dict[str, Any], message: str) -> None:
    """An 880,000-character answer in a turn became the understood question on d414d8e:
    14-26 s of CPU per request."""
    with pytest.raises(ValueError) as refused:
        turns_from_records([turn], 1000)
    assert str(refused.value) == message


# --- 8. file names without control or bidirectional characters ------------------------------


@pytest.mark.parametrize(
    ("given", "used"),
    [
        ("a\x00b.md", "ab.md"),  # a NUL made the move raise: {"error": null}
        ("invoice\u202efdp.exe", "invoicefdp.exe"),  # shown as "invoiceexe.pdf"
        ("\u2067notes\u2069.md", "notes.md"),
        ("line\nbreak\r.md", "linebreak.md"),
        ("x" * 300 + ".pdf", "x" * 196 + ".pdf"),
    ],
    ids=["NUL", "right-to-left override", "isolates", "line breaks", "too long"],
)
def test_file_names_are_cleaned_before_use(given: str, used: str) -> None:
    assert unique_names([given]) == [used]


# --- 9. the user's question shows as typed ---------------------------------------------------


def test_markdown_in_a_question_is_shown_as_text() -> None:
    """d414d8e escaped HTML only: an image in Markdown was fetched, a link was live."""
    import gradio as gr

    typed = "![t](http://tracker.example/t.png) [x](http://evil.example) **b** `c` $x$"
    with gr.Blocks():
        chatbot = show_user_text_as_typed(gr.Chatbot())
    shown = chatbot.postprocess([{"role": "user", "content": typed}]).root[0].content[0].text
    # one raw HTML block, which Markdown leaves alone
    assert shown.startswith('<div class="cppqa-asked">') and shown.endswith("</div>")
    inner = shown.removeprefix('<div class="cppqa-asked">').removesuffix("</div>")
    assert not re.search(r"[<>*_\[\]()$`!:]", inner)  # nothing Markdown or HTML can read
    assert html.unescape(inner) == typed
    messages = chatbot.preprocess(chatbot.postprocess([{"role": "user", "content": typed}]))
    assert messages[0]["content"][0]["text"] == typed  # the server sees what was typed


# --- 10. an unexpected failure is a line with a reference to the log ------------------------


def test_an_unexpected_failure_says_where_the_log_has_it(
    caplog: pytest.LogCaptureFixture,
) -> None:
    import gradio as gr

    @guarded("answering")
    def broken(question: str) -> str:
        raise KeyError(question)

    with caplog.at_level(logging.ERROR), pytest.raises(gr.Error) as raised:
        broken("When?")
    said = str(raised.value.message)
    found = re.fullmatch(
        r"Something went wrong on the server while answering \(reference (\w{8})\): try "
        r"again; if it fails again, report it with that reference, which its log holds",
        said,
    )
    assert found is not None, said
    assert f"[reference {found[1]}]" in caplog.text and "KeyError" in caplog.text


def test_a_refusal_keeps_its_own_message() -> None:
    import gradio as gr

    @guarded("answering")
    def refusing_endpoint(question: str) -> str:
        raise UploadError("ask between 1 and 20 questions, not 0")

    with pytest.raises(gr.Error) as raised:
        refusing_endpoint("When?")
    assert raised.value.message == "ask between 1 and 20 questions, not 0"


# --- 5. the session state Gradio keeps is bounded --------------------------------------------


class _Refusing:
    """Stands in for ``QA``: the shipped document, and every question refused at once."""

    settings = Settings()

    def __init__(self) -> None:
        from types import SimpleNamespace

        from cppqa.records import Document

        self.index = SimpleNamespace(documents=(Document(DOCUMENT.name, "CPP", "text", ""),))

    def ask(self, question: str, history: Any = ()) -> Any:
        raise QuestionError("the question is empty; type a question about the document")

    def validate(self, question: str) -> str:
        raise QuestionError("the question is empty; type a question about the document")


@pytest.mark.slow
def test_the_sessions_gradio_keeps_are_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every API call is a new session to Gradio, which kept 10,000 of them (about 57 KB
    each) on d414d8e: memory grew by gigabytes, refused requests included."""
    from conftest import free_port
    from cppqa.web import app as web
    from cppqa.web import server

    monkeypatch.setattr(server, "STATE_SESSIONS", 10)
    shipped = _Refusing()
    app = web.build_app(shipped, Uploads(shipped))  # type: ignore[arg-type]
    port = free_port()
    server.launch(app, "127.0.0.1", port, prevent_thread_lock=True, quiet=True)
    try:
        url = f"http://127.0.0.1:{port}/"
        for _ in range(25):
            event, said = _call(url, "ask", "")
            assert (event, said) == (
                "error",
                "the question is empty; type a question about the document",
            )
        assert len(app.state_holder.session_data) <= 10
    finally:
        app.close()


# --- the running app, attacked over HTTP as any client can ----------------------------------


def _call(url: str, endpoint: str, *data: Any) -> tuple[str, Any]:
    """Call an API endpoint the two-step way (curl's): its last event, "complete" or
    "error", and that event's data (an error's message: None when Gradio gave none)."""
    posted = httpx.post(f"{url}gradio_api/call/{endpoint}", json={"data": list(data)}, timeout=60)
    posted.raise_for_status()
    stream = httpx.get(
        f"{url}gradio_api/call/{endpoint}/{posted.json()['event_id']}", timeout=300
    ).text
    events = re.findall(r"^event: (\w+)\ndata: (.*)$", stream, re.MULTILINE)
    event, data_line = [e for e in events if e[0] in ("complete", "error")][-1]
    data = json.loads(data_line)
    return event, data.get("error") if event == "error" and isinstance(data, dict) else data


def _upload(url: str, name: str, data: bytes) -> str:
    """Upload a file as a client does first; the path the server keeps it at."""
    sent = httpx.post(f"{url}gradio_api/upload", files=[("files", (name, data))], timeout=60)
    sent.raise_for_status()
    return str(sent.json()[0])


def _file(path: str, name: str) -> dict[str, Any]:
    return {"path": path, "orig_name": name, "meta": {"_type": "gradio.FileData"}}


def _page_upload(url: str, session: str, name: str, data: bytes) -> str:
    """Drop a file in the page's upload box, as the browser of ``session`` does; the
    status line the page then shows, as text ("" when the upload was taken)."""
    path = _upload(url, name, data)
    config = httpx.get(f"{url}config", timeout=30).json()
    box = next(
        c["id"] for c in config["components"] if c.get("props", {}).get("elem_id") == "cppqa-files"
    )
    event = next(d for d in config["dependencies"] if [box, "upload"] in d["targets"])
    joined = httpx.post(
        f"{url}gradio_api/queue/join",
        json={
            "data": [[_file(path, name)]],
            "fn_index": event["id"],
            "trigger_id": box,
            "session_hash": session,
            "event_data": None,
        },
        timeout=60,
    )
    joined.raise_for_status()
    with httpx.stream(
        "GET", f"{url}gradio_api/queue/data", params={"session_hash": session}, timeout=300
    ) as stream:
        for line in stream.iter_lines():
            message = json.loads(line[6:]) if line.startswith("data: ") else {}
            if message.get("msg") == "process_completed":
                assert message.get("success"), message
                return html.unescape(re.sub(r"<[^>]+>", "", message["output"]["data"][0]))
    pytest.fail("the upload event never completed")


def _rss_kb(pid: int) -> int:
    status = Path(f"/proc/{pid}/status").read_text()
    return int(re.search(r"^VmRSS:\s+(\d+) kB", status, re.MULTILINE)[1])  # type: ignore[index]


class _Attacked:
    """The app as a hostile client finds it: served on loopback from a temporary folder
    where a killed run left its uploads."""

    def __init__(self, url: str, server: subprocess.Popen[bytes], temp: Path) -> None:
        self.url, self.server, self.temp = url, server, temp
        self.planted: dict[str, Path] = {}

    def uploads(self) -> list[Path]:
        """The upload folders the server made (not those planted before it started)."""
        planted = set(self.planted.values())
        found = self.temp.glob(FOLDER_PREFIX + "*")
        return sorted(p for p in found if p.is_dir() and not p.is_symlink() and p not in planted)


@pytest.fixture(scope="module")
def attacked(tmp_path_factory: pytest.TempPathFactory) -> Any:
    import shutil

    from conftest import CORPUS, INDEX, app_server

    work = tmp_path_factory.mktemp("attacked")
    shutil.copytree(CORPUS, work / "corpus")
    shutil.copytree(INDEX, work / "index")
    temp = work / "tmp"
    temp.mkdir()
    planted = _plant(temp)
    env: dict[str, str | None] = {
        "GRADIO_SERVER_NAME": "127.0.0.1",
        "CPPQA_CORPUS_DIR": str(work / "corpus"),
        "CPPQA_INDEX_DIR": str(work / "index"),
        "TMPDIR": str(temp),
    }
    with app_server(work, work / "app.log", env) as (url, server, _port):
        found = _Attacked(url + "/", server, temp)
        found.planted = planted
        yield found


@pytest.mark.slow
def test_a_server_starts_by_sweeping_what_a_killed_one_left(attacked: _Attacked) -> None:
    """d414d8e removed uploads only at a clean exit: after kill -9 they stayed for good."""
    planted = attacked.planted
    assert not planted["killed"].exists() and not planted["unnamed"].exists()
    assert planted["running"].is_dir() and planted["link"].is_symlink()
    assert (attacked.temp / "elsewhere" / "keep.txt").exists()


@pytest.mark.slow
def test_a_folder_sent_as_a_file_is_refused_and_moves_no_ones_upload(attacked: _Attacked) -> None:
    """d414d8e took Gradio's upload folder as a file: it moved every pending upload
    into the session's folder, deleted them, and answered ``{"error": null}``."""
    theirs = Path(_upload(attacked.url, "pending.md", NOTES))
    for folder in (theirs.parent.parent, theirs.parent):
        event, said = _call(attacked.url, "ask_files", [_file(str(folder), "x.md")], ["When?"])
        assert (event, said) == ("error", "'x.md' was not uploaded to this server: upload it first")
    assert theirs.read_bytes() == NOTES
    # refused by Gradio before cppqa sees it: with its reason, not {"error": null}
    event, said = _call(attacked.url, "ask_files", [_file("/etc/passwd", "p.md")], ["When?"])
    assert event == "error" and "/etc/passwd" in said and "not uploaded" in said


@pytest.mark.slow
def test_a_name_with_nul_and_bidi_characters_is_cleaned(attacked: _Attacked) -> None:
    """A NUL in a name made d414d8e answer ``{"error": null}``; a right-to-left override
    let a name lie about its type."""
    path = _upload(attacked.url, "notes.md", NOTES)
    name = "notes\x00\u202edm.exe.md"
    event, answers = _call(
        attacked.url, "ask_files", [_file(path, name)], ["When was the bridge opened?"]
    )
    assert event == "complete", answers
    assert {s["doc"] for s in answers[0][0]["sources"]} == {"notesdm.exe.md"}


@pytest.mark.slow
def test_a_long_history_is_refused_with_its_reason(attacked: _Attacked) -> None:
    event, said = _call(
        attacked.url,
        "chat",
        "When was it declared illegal?",
        [{"question": "What is the party?", "answer": "a" * 880_000}],
    )
    assert (event, said) == (
        "error",
        "history turn 1: 'answer' is 880,000 characters long; the limit is 1,000",
    )


def _padded_docx() -> bytes:
    """A 300 KB Word file: two sentences, and an unused picture's worth of bytes."""
    import docx

    made = io.BytesIO()
    document = docx.Document()
    document.add_paragraph("The river bridge was opened in 1931. The mayor cut the ribbon.")
    document.save(made)
    with zipfile.ZipFile(made, "a") as archive:
        archive.writestr("word/media/padding.bin", secrets.token_bytes(300_000))
    return made.getvalue()


@pytest.mark.slow
def test_memory_is_flat_under_repeated_mixed_load(attacked: _Attacked) -> None:
    """Five rounds of questions, refused questions (each a new session to Gradio) and
    uploads of 300 KB (one answered, one refused): the server's memory grows by less
    than 10% from the third round to the fifth. (d414d8e grew ~115 MB a round under a
    heavier load; this load is too light to show that: the bound on Gradio's sessions
    is shown by test_the_sessions_gradio_keeps_are_bounded.)"""
    url = attacked.url
    padded = _padded_docx()
    refused = b"\x89PNG\r\n\x1a\n" + secrets.token_bytes(300_000)
    rss = []
    for _ in range(5):
        for question in ("When was the CPP formed?", "Who is the General Secretary?") * 3:
            assert _call(url, "ask", question)[0] == "complete"
        for _ in range(60):
            assert _call(url, "ask", "")[0] == "error"
        answered = _call(
            url, "ask_files", [_file(_upload(url, "b.docx", padded), "b.docx")], ["When?"]
        )
        assert answered[0] == "complete", answered
        scan = _call(url, "ask_files", [_file(_upload(url, "s.pdf", refused), "s.pdf")], ["Q?"])
        assert scan[0] == "error" and "is not a PDF" in scan[1]
        rss.append(_rss_kb(attacked.server.pid))
    assert rss[4] < 1.10 * rss[2], f"RSS by round (kB): {rss}"


@pytest.mark.slow
def test_one_client_cannot_take_every_upload_slot(attacked: _Attacked) -> None:
    """On d414d8e eight requests from one client took all eight slots."""
    for tab in ("tab-1", "tab-2"):
        assert _page_upload(attacked.url, tab, "notes.md", NOTES) == ""
    said = _page_upload(attacked.url, "tab-3", "notes.md", NOTES)
    assert re.fullmatch(
        r"You already have documents open in 2 other tabs or sessions, the most one client "
        r"may: try again in (29|30) minutes, or close one of them\.",
        said,
    ), said


@pytest.mark.slow
def test_a_stopped_server_removes_the_uploads_it_holds(attacked: _Attacked) -> None:
    """SIGTERM (what service managers send) killed d414d8e without its clean-up."""
    assert _page_upload(attacked.url, "tab-1", "notes.md", NOTES) == ""
    assert attacked.uploads(), "the upload should be held in a folder of the server's"
    attacked.server.terminate()
    assert attacked.server.wait(timeout=60) == 0
    assert attacked.uploads() == []
