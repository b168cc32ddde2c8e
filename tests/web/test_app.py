"""The web app: reply formatting in-process, then the HTTP API of a running ``app.py``."""

from __future__ import annotations

import html
import json
import logging
import re
import secrets
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import httpx
import pytest
from gradio_client import Client
from gradio_client.exceptions import AppError
from hypothesis import given
from hypothesis import strategies as st
from test_pageview import SENTENCE as SENTENCE_1954
from test_pageview import sentence_boxes, within

from booklets import booklet
from conftest import DOCUMENT, ROOT, make_pdf, run_cli
from cppqa.config import Settings
from cppqa.dialogue.followup import Turn
from cppqa.documents.corpus import split_sentences
from cppqa.errors import CorpusError, CppqaError, QuestionError, UploadError
from cppqa.records import NOT_FOUND, Answer, Checked, Document, Heading, Passage, Source
from cppqa.search.index import fingerprint
from cppqa.search.progress import Stage, Step
from cppqa.uploads.files import FOLDER_PREFIX
from cppqa.uploads.sessions import Uploads
from cppqa.web.api import (
    AnswerRecord,
    CheckedRecord,
    SourceRecord,
    record_of,
    turns,
    turns_from_records,
)
from cppqa.web.app import EXAMPLES, FEEDBACK_NOTE, build_app
from cppqa.web.chat import ASKED, reply, show_user_text_as_typed
from cppqa.web.render import (
    SHOWN_QUERY_CHARS,
    escape,
    plain_reply,
    render_document,
    render_reply,
    shorten,
)
from cppqa.web.server import MAX_REQUEST_BYTES
from cppqa.web.votes import NOT_SAVED, keep_vote

XSS = "<img src=x onerror=alert(1)>"
ILLEGAL = "When was the party declared illegal?"
MARKUP = re.compile(r"[<>*_\[\]()$`\\]")
SECRETARY = "Who is the General Secretary of the Party?"


def _text(fragment: str) -> str:
    """What a reader sees: tags dropped, references decoded."""
    return html.unescape(re.sub(r"<[^>]+>", "", fragment))


def _api(record: dict[str, Any]) -> dict[str, Any]:
    """``cppqa ask --json``'s ``record`` as the API returns it for a text document: each
    source with ``highlight`` None."""
    return {**record, "sources": [{**s, "highlight": None} for s in record["sources"]]}


def _copy(reply_html: str) -> str:
    """The plain text a reply carries for copying (its ``data-copy``)."""
    found = re.search(r'data-copy="([^"]*)"', reply_html)
    assert found, reply_html
    return html.unescape(found.group(1))


# --- formatting, no server -------------------------------------------------


@given(st.text())
def test_escape_is_inert_and_reversible(text: str) -> None:
    escaped = escape(text)
    assert html.unescape(escaped) == text
    assert not MARKUP.search(escaped)
    assert "\n" not in escaped


@pytest.mark.parametrize(
    "text",
    [XSS, "**bold** _it_", "[link](http://example.com)", "$x^2$", "`code`", "a\n\nb"],
)
def test_escape_leaves_no_markup(text: str) -> None:
    assert not MARKUP.search(escape(text))


@pytest.mark.parametrize(
    ("text", "limit", "shown"),
    [
        ("short", 10, "short"),
        ("When was the party declared illegal?", 20, "When was the party…"),
        ("x" * 30, 10, "x" * 9 + "…"),
    ],
)
def test_shorten_cuts_at_a_word(text: str, limit: int, shown: str) -> None:
    assert shorten(text, limit) == shown
    assert len(shorten(text, limit)) <= limit


@given(st.text(), st.integers(min_value=2, max_value=50))
def test_shorten_never_exceeds_the_limit(text: str, limit: int) -> None:
    shown = shorten(text, limit)
    assert len(shown) <= limit
    assert shown == text or shown.endswith("…")


def test_records_match_what_answers_serialise_to(tmp_path: Path) -> None:
    passage = Passage("d.txt", 0, 5, "Hello")
    answer = Answer("q", "q", "Hello", 0.5, (Source(passage, 1.0),), 0)
    record = record_of(answer, Settings(corpus_dir=tmp_path))
    assert set(AnswerRecord.__annotations__) == set(record)
    assert set(SourceRecord.__annotations__) == set(record["sources"][0])
    # the CLI's JSON, each source with where a PDF shows it besides (none: a text file)
    assert record == _api(answer.to_json())
    refused = replace(
        answer, text=None, start=None, checked=(Checked(answer.sources[0], "He", 0, -1.0, 0.1),)
    )
    (row,) = record_of(refused, Settings(corpus_dir=tmp_path))["checked"]
    assert set(CheckedRecord.__annotations__) == set(row)


def test_turns_from_records_reads_what_chat_returned() -> None:
    record = {
        "question": "What is his title?",
        "query": TITLED,
        "answer": "General Secretary",
        "confidence": 0.8,
        "sources": [{"doc": "d.txt", "start": 0, "end": 9, "text": "He is GS.", "score": 1.0}],
    }
    assert turns_from_records([record, {"question": "Why?", "answer": None}]) == [
        Turn("What is his title?", "What is Imdad Qazi's title?", "General Secretary", "He is GS."),
        Turn("Why?", "Why?", None, None),
    ]
    assert turns_from_records(None) == [] == turns_from_records([])


@pytest.mark.parametrize(
    ("records", "message"),
    [
        ("Who?", "history must be a list of earlier turns, not str"),
        (["Who?"], "history turn 1 must be an object with a 'question', not str"),
        ([{"question": "Who?"}, {"answer": "x"}], "history turn 2 has no 'question'"),
        ([{"question": 3}], "history turn 1: 'question' must be str, not int"),
        ([{"question": "Who?", "answer": 1}], "history turn 1: 'answer' must be str, not int"),
        (
            [{"question": "Who?", "answer": "x", "sources": {}}],
            "history turn 1: 'sources' must be list, not dict",
        ),
        (
            [{"question": "Who?", "answer": "x", "sources": [{"doc": "d"}]}],
            "history turn 1: sources[0] has no 'text'",
        ),
    ],
)
def test_turns_from_records_says_what_is_wrong(records: Any, message: str) -> None:
    with pytest.raises(ValueError) as caught:
        turns_from_records(records)
    assert str(caught.value) == message


class _FailingQA:
    """Stands in for ``QA``: every question fails with ``error``."""

    def __init__(self, error: Exception) -> None:
        self.error = error

    def ask(self, question: str, history: Any = ()) -> Answer:
        raise self.error


@pytest.mark.parametrize(
    ("error", "said"),
    [
        (QuestionError("the question '???' has no words to search for"), "has no words"),
        (
            RuntimeError("the reader broke"),
            "Something went wrong on the server while answering (reference ",
        ),
    ],
)
def test_a_failing_question_is_said_in_the_chat(
    error: Exception, said: str, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.ERROR):
        shown, answer = reply(_FailingQA(error), "???", [])  # type: ignore[arg-type]
    assert answer is None
    assert said in _text(shown) and said in _copy(shown)
    assert ("the reader broke" in caplog.text) == isinstance(error, RuntimeError)
    if isinstance(error, RuntimeError):  # the reference said is the log line's
        reference = re.search(r"reference (\w+)\)", _text(shown))
        assert reference is not None and f"[reference {reference[1]}]" in caplog.text


def test_user_text_is_escaped_for_the_page_and_restored_for_the_server() -> None:
    import gradio as gr

    with gr.Blocks():
        chatbot = show_user_text_as_typed(gr.Chatbot())
    history = [
        {"role": "user", "content": XSS + " & &lt;"},
        {"role": "assistant", "content": "<p><strong>x</strong></p>"},
    ]
    shown = chatbot.postprocess(history)
    assert shown.root[0].content[0].text == ASKED.format(escape(XSS + " & &lt;"))
    assert shown.root[1].content[0].text == "<p><strong>x</strong></p>"
    back = chatbot.preprocess(shown)
    assert back[0]["content"][0]["text"] == XSS + " & &lt;"


@pytest.mark.parametrize(
    ("page", "heading", "place"),
    [
        (12, None, "p. 12"),
        (None, "Early years", "“Early years”"),
        (3, "Results", "p. 3, “Results”"),
        (None, None, ""),
    ],
)
def test_a_reply_cites_the_page_and_heading(
    page: int | None, heading: str | None, place: str
) -> None:
    passage = Passage("r.pdf", 100, 109, "It ended.")
    answer = Answer("q", "q", "ended", 0.9, (Source(passage, 1.0, page, heading),), 103)
    shown = render_reply(answer)
    cited = f"r.pdf, {place}" if place else "r.pdf"
    assert _text(shown.split("<details>")[0]).endswith(f"high confidence · {cited}")
    assert f"{cited} · characters 100–109" in _text(shown)  # the sources list
    where = f"r.pdf:100-109, {place}" if place else "r.pdf:100-109"
    assert _copy(shown).splitlines()[-1] == where


def test_examples_are_a_handful() -> None:
    assert 6 <= len(EXAMPLES) <= 8


# --- formatting real answers --------------------------------------------------


@pytest.mark.slow
def test_reply_has_bold_answer_marked_sentence_and_sources(qa) -> None:  # type: ignore[no-untyped-def]
    answer = qa.ask(SECRETARY)
    reply_html = render_reply(answer)
    assert "<strong>Comrade Imdad Qazi</strong>" in reply_html
    assert "<mark>Comrade Imdad Qazi</mark> is the General Secretary" in reply_html
    assert "<details><summary>Sources (3)</summary>" in reply_html
    first = answer.sources[0].passage
    assert f"characters {first.start:,}–{first.end:,}" in reply_html
    assert f"score {answer.sources[0].score:.3f}" in reply_html
    assert "Understood as" not in reply_html
    assert "\n" not in reply_html  # one line: Markdown cannot reach inside


@pytest.mark.slow
def test_confidence_is_a_level_with_the_number_on_hover(qa) -> None:  # type: ignore[no-untyped-def]
    from cppqa.reading.spans import level

    answer = qa.ask(SECRETARY)
    reply_html = render_reply(answer)
    named = f"{level(answer.confidence)} confidence"
    assert f'<span title="calibrated confidence {answer.confidence:.2f}">{named}</span>' in (
        reply_html
    )
    assert f"{answer.confidence:.2f}" not in _text(reply_html)  # on hover only


@pytest.mark.slow
def test_copying_a_reply_gives_answer_quote_and_place(qa) -> None:  # type: ignore[no-untyped-def]
    answer = qa.ask(SECRETARY)
    sentence = answer.sources[0].passage
    expected = (
        f"Comrade Imdad Qazi\n“{sentence.text}”\n"
        f"communist-party-of-pakistan.txt:{sentence.start}-{sentence.end}"
    )
    assert plain_reply(answer) == expected
    assert _copy(render_reply(answer)) == expected
    assert plain_reply(qa.ask("What is the capital of France?")) == NOT_FOUND


@pytest.mark.slow
def test_only_an_answer_links_to_its_place_in_the_document(qa) -> None:  # type: ignore[no-untyped-def]
    answer = qa.ask(SECRETARY)
    link = '<a class="cppqa-show" href="#cppqa-turn-3">Show in document</a>'
    assert link in render_reply(answer, 3)
    assert "cppqa-show" not in render_reply(answer)
    assert "cppqa-show" not in render_reply(qa.ask("What is the capital of France?"), 3)


@pytest.mark.slow
def test_a_whole_sentence_answer_is_quoted_once(qa) -> None:  # type: ignore[no-untyped-def]
    source = qa.ask("How did the party respond to the bureaucracy?").sources[0]
    # a reader's span may be a whole sentence: it is shown once, as the quote
    answer = Answer("q", "q", source.passage.text, 0.9, (source,), source.passage.start)
    reply_html = render_reply(answer)
    shown = re.sub(r' data-copy="[^"]*"', "", reply_html).split("<details>")[0]  # sources aside
    assert shown.count(escape(answer.text)) == 1
    assert "<strong>" not in reply_html
    assert _copy(reply_html).count(answer.text) == 1


@pytest.mark.slow
def test_reply_for_abstention_shows_what_was_read_collapsed(qa) -> None:  # type: ignore[no-untyped-def]
    answer = qa.ask("What is the capital of France?")
    assert answer.text is None and answer.checked and answer.threshold is not None
    reply_html = render_reply(answer)
    assert escape(NOT_FOUND) in reply_html
    shown, checked = reply_html.split('<details class="cppqa-checked">')
    assert "not an answer" in checked.split("</summary>")[0]
    assert "<mark>" not in shown  # nothing outside the collapsed list looks like an answer
    items = checked.split("<li>")[1:]
    assert len(items) == len(answer.checked)
    for item, row in zip(items, answer.checked, strict=True):
        assert _text(item.split('<div class="cppqa-source">')[1]) == row.source.passage.text
        if row.span is not None:
            assert f"<mark>{escape(row.span)}</mark>" in item
            assert f"confidence {row.confidence:.2f}" in _text(item)


def test_a_refusal_says_each_span_against_the_threshold_or_the_no_answer_score() -> None:
    text = "Karachi is a city. Lahore is another."
    window = Source(Passage("a.txt", 100, 100 + len(text), text), 0.4, page=2)
    rows = (
        Checked(window, "Karachi", 100, 1.5, 0.31),  # beat no-answer, under the threshold
        Checked(window, "Lahore", 119, -0.75, 0.05),  # no-answer beat it
        Checked(window, None, None, None, 0.0),  # nothing to mark
    )
    refused = Answer(
        "What is the capital?", "What is the capital?", None, 0.31, (window,), None, rows, 0.42
    )
    reply_html = render_reply(refused)
    assert '<details class="cppqa-checked">' in reply_html  # collapsed: no "open"
    assert (
        "What was read: 3 passages, not an answer in any (an answer must beat the reader’s "
        "no-answer score and reach confidence 0.42)"
    ) in _text(reply_html)
    reached = replace(refused, checked=(Checked(window, "Karachi", 100, -0.2, 0.5),))
    assert "confidence 0.50 (reaches the threshold 0.42); the reader’s no-answer score beat it" in (
        _text(render_reply(reached))
    )
    first, second, third = (_text(item) for item in reply_html.split("<li>")[1:])
    assert "confidence 0.31 (under the threshold 0.42)" in first and "no-answer" not in first
    assert "confidence 0.05 (under the threshold 0.42)" in second
    assert "the reader’s no-answer score beat it (margin -0.75)" in second
    assert "nothing in it the reader could mark" in third
    assert "a.txt, p. 2" in first
    assert "<mark>Karachi</mark>" in reply_html and "<mark>Lahore</mark>" in reply_html
    assert reply_html.count("<mark>") == 2


@pytest.mark.slow
def test_follow_up_shows_how_it_was_understood(qa) -> None:  # type: ignore[no-untyped-def]
    first = qa.ask(SECRETARY)
    follow = qa.ask("What is his **title** $x$?", turns([first]))
    reply_html = render_reply(follow)
    assert follow.query != follow.question
    assert "Understood as: <em>" in reply_html
    assert "Imdad Qazi" in _text(reply_html.split("</em>")[0])
    assert "**" not in reply_html and "$x$" not in reply_html


@pytest.mark.slow
def test_understood_as_is_shortened_for_display(qa) -> None:  # type: ignore[no-untyped-def]
    answer = qa.ask(SECRETARY)
    long = Answer("Who?", "Who " + "very " * 300 + "long?", None, 0.1, answer.sources)
    shown = re.search(r"Understood as: <em>(.*?)</em>", render_reply(long))
    assert shown is not None
    assert len(_text(shown.group(1))) <= SHOWN_QUERY_CHARS
    assert _text(shown.group(1)).endswith("…")


@pytest.mark.slow
def test_a_question_that_could_not_be_asked_is_no_turn(qa) -> None:  # type: ignore[no-untyped-def]
    first = qa.ask(SECRETARY)
    shown, answer = reply(qa, "???", [first])
    assert answer is None and "has no words" in _text(shown)
    assert turns([first, None]) == turns([first])
    follow_html, follow = reply(qa, "What is his title?", [first, None])
    assert follow is not None and "Imdad Qazi" in follow.query
    assert 'href="#cppqa-turn-2"' in follow_html  # its place in the chat: the third reply


@pytest.mark.slow
def test_document_view_marks_the_answer_sentence(qa) -> None:  # type: ignore[no-untyped-def]
    answer = qa.ask("When was the party declared illegal?")
    page = render_document(qa.index.documents, answer, 4)
    marked = re.search(r'<mark id="cppqa-hit" tabindex="-1" data-turn="4">(.*?)</mark>', page)
    assert marked is not None
    assert _text(marked.group(1)) == answer.sources[0].passage.text
    assert "<strong>1954</strong>" in marked.group(1)
    document = qa.index.documents[0]
    body = page.split(f"{escape(document.doc)}</p>", 1)[1].removesuffix("</article></div>")
    assert _text(body) == document.text
    assert "<mark" not in render_document(qa.index.documents, None)


# --- the running app --------------------------------------------------------


@pytest.fixture(scope="module")
def client(web_url: str) -> Client:
    return Client(web_url, verbose=False)


@pytest.mark.slow
def test_api_lists_exactly_chat_ask_and_ask_files(client: Client) -> None:
    endpoints = client.view_api(print_info=False, return_format="dict")["named_endpoints"]
    assert set(endpoints) == {"/chat", "/ask", "/ask_files"}


@pytest.mark.slow
@pytest.mark.parametrize("endpoint", ["/ask", "/chat"])
def test_api_declares_typed_json(client: Client, endpoint: str) -> None:
    api = client.view_api(print_info=False, return_format="dict")["named_endpoints"][endpoint]
    (returned,) = api["returns"]
    assert returned["type"]["type"] == "object"
    assert set(returned["type"]["properties"]) == set(AnswerRecord.__annotations__)
    sources = returned["type"]["properties"]["sources"]["items"]["properties"]
    assert set(sources) == set(SourceRecord.__annotations__)
    assert returned["python_type"]["type"].startswith("dict(question: str, query: str, answer:")
    described = client.view_api(print_info=False, return_format="str")
    assert "Any" not in described
    names = [p["parameter_name"] for p in api["parameters"]]
    assert names == (["question"] if endpoint == "/ask" else ["question", "history"])


@pytest.mark.slow
@pytest.mark.parametrize("question", [EXAMPLES[0], EXAMPLES[3], "What is the capital of France?"])
def test_ask_returns_what_qa_returns(client: Client, qa, question: str) -> None:  # type: ignore[no-untyped-def]
    assert client.predict(question, api_name="/ask") == _api(qa.ask(question).to_json())


@pytest.mark.slow
def test_ask_matches_the_cli_json(client: Client) -> None:
    question = "When was the party declared illegal?"
    cli = run_cli("ask", "--no-rebuild", "--json", question)
    assert cli.returncode == 0, cli.stderr
    assert client.predict(question, api_name="/ask") == _api(json.loads(cli.stdout))


@pytest.mark.slow
def test_chat_is_a_stateless_conversation(web_url: str, qa) -> None:  # type: ignore[no-untyped-def]
    # Two clients, as two replicas behind a load balancer would be: the second
    # knows the conversation only from the history the caller sends.
    first = Client(web_url, verbose=False).predict(SECRETARY, api_name="/chat")
    assert first == _api(qa.ask(SECRETARY).to_json())
    other = Client(web_url, verbose=False)
    follow = other.predict("What is his title?", [first], api_name="/chat")
    assert follow["query"] == "What is Imdad Qazi's title?"
    assert follow == _api(qa.ask("What is his title?", turns([qa.ask(SECRETARY)])).to_json())
    brief = {"question": first["question"], "answer": first["answer"]}
    assert other.predict("What is his title?", [brief], api_name="/chat")["query"] == (
        "What is Imdad Qazi's title?"
    )
    alone = other.predict("What is his title?", api_name="/chat")
    assert alone["query"] == "What is his title?"  # nothing kept from the calls before


@pytest.mark.slow
def test_the_readme_conversation_runs(web_url: str) -> None:
    """The README's ``gradio_client`` example of a two-turn conversation, as written."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```python\n(.*?)```", readme, re.DOTALL)
    (example,) = [b for b in blocks if "gradio_client" in b and "/chat" in b]
    assert 'Client("http://127.0.0.1:7860/")' in example
    names: dict[str, Any] = {}
    exec(example.replace("http://127.0.0.1:7860/", web_url), names)
    follow = names["follow"]
    assert follow["query"] == "What is Imdad Qazi's title?"
    assert follow["answer"] is not None


@pytest.mark.slow
def test_chat_refuses_a_malformed_history(client: Client) -> None:
    with pytest.raises(AppError, match="history turn 1 has no 'question'"):
        client.predict("What is his title?", [{"answer": "Imdad Qazi"}], api_name="/chat")


@pytest.mark.slow
@pytest.mark.parametrize("endpoint", ["/chat", "/ask"])
def test_server_enforces_the_length_limit(client: Client, qa, endpoint: str) -> None:  # type: ignore[no-untyped-def]
    limit = qa.settings.max_question_chars
    with pytest.raises(AppError, match=f"the limit is {limit:,}"):
        client.predict("why " * (limit // 4 + 1), api_name=endpoint)


@pytest.mark.slow
def test_wordless_question_is_a_clear_error(client: Client) -> None:
    with pytest.raises(AppError, match="has no words to search for"):
        client.predict("???", api_name="/ask")


@pytest.mark.slow
def test_api_returns_questions_as_data(client: Client) -> None:
    assert client.predict(XSS, api_name="/ask")["question"] == XSS
    first = client.predict(SECRETARY, api_name="/chat")
    echoed = client.predict(f"What is his {XSS}?", [first], api_name="/chat")
    assert echoed["question"] == f"What is his {XSS}?"
    assert XSS in echoed["query"]  # JSON carries the text as asked; the page escapes it


@pytest.mark.slow
@pytest.mark.parametrize("chunked", [False, True])
def test_oversized_bodies_are_refused(web_url: str, chunked: bool) -> None:
    body = json.dumps({"data": ["a" * (MAX_REQUEST_BYTES + 1)]}).encode()
    content = iter([body[i : i + 65536] for i in range(0, len(body), 65536)]) if chunked else body
    response = httpx.post(
        web_url + "gradio_api/call/ask",
        content=content,
        headers={"Content-Type": "application/json"},
        timeout=30,
    )
    assert response.status_code == 413
    assert f"{MAX_REQUEST_BYTES:,} bytes" in response.text


@pytest.mark.slow
def test_curl_style_two_step_call(web_url: str) -> None:
    """The docs' curl example: POST the question, then read the event stream."""

    def call(api: str, *data: Any) -> str:
        posted = httpx.post(
            f"{web_url}gradio_api/call/{api}", json={"data": list(data)}, timeout=30
        ).text
        event_id = posted.split('"')[3]  # the docs' awk -F'"' '{print $4}'
        return httpx.get(f"{web_url}gradio_api/call/{api}/{event_id}", timeout=30).text

    stream = call("ask", SECRETARY)
    assert stream.startswith("event: complete\ndata: ")
    first = json.loads(stream.splitlines()[1].removeprefix("data: "))[0]
    assert first["answer"] == "Comrade Imdad Qazi"
    error = call("ask", "???")
    assert error.startswith("event: error\ndata: ")
    assert "has no words to search for" in error
    follow = call("chat", "What is his title?", [first])
    assert json.loads(follow.splitlines()[1].removeprefix("data: "))[0]["query"] == (
        "What is Imdad Qazi's title?"
    )


@pytest.mark.slow
@pytest.mark.parametrize("path", ["monitoring", "gradio_api/monitoring", "gradio_api/runs"])
def test_monitoring_and_run_history_are_off(web_url: str, path: str) -> None:
    assert httpx.get(web_url + path, timeout=10).status_code in {403, 404}


# --- uploads: each session's own documents -----------------------------------


class _Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture(scope="module")
def report_pdf() -> bytes:
    """The shipped document as a PDF of five small pages."""
    return make_pdf([[DOCUMENT.read_text(encoding="utf-8")]])


@pytest.fixture
def clock() -> _Clock:
    return _Clock()


@pytest.fixture
def uploads(qa, tmp_path: Path, clock: _Clock) -> Iterator[Uploads]:  # type: ignore[no-untyped-def]
    """Uploads over the shipped QA: at most two sessions, forgotten after 60 s idle."""
    settings = replace(qa.settings, max_upload_sessions=2, upload_idle_seconds=60.0)
    (tmp_path / "held").mkdir()
    held = Uploads(qa, settings, root=tmp_path / "held", clock=clock)
    yield held
    held.close()


def _given(tmp_path: Path, name: str, data: bytes) -> tuple[Path, str]:
    """A file as Gradio hands it over: in a folder of its own, under the name it was given."""
    folder = tmp_path / "incoming" / secrets.token_hex(4)
    folder.mkdir(parents=True)
    (folder / name).write_bytes(data)
    return folder / name, name


def _held(tmp_path: Path) -> list[str]:
    """Everything under the uploads' root: their folders and files."""
    root = tmp_path / "held"
    return sorted(path.relative_to(root).as_posix() for path in root.rglob("*"))


def _files(tmp_path: Path) -> list[str]:
    """The names of the files held in upload folders."""
    return sorted(path.name for path in (tmp_path / "held").rglob("*") if path.is_file())


NOTES = b"# Meeting notes\n\nThe river bridge was opened in 1931 by the mayor.\n"


@pytest.mark.parametrize("name", ["max_upload_sessions", "max_upload_files", "upload_idle_seconds"])
def test_upload_limits_must_be_positive(name: str) -> None:
    with pytest.raises(CppqaError, match=f"^{name} must be positive, got 0(\\.0)?$"):
        Settings.from_env({f"CPPQA_{name.upper()}": "0"})


@pytest.mark.slow
def test_an_upload_answers_for_its_session_alone(  # type: ignore[no-untyped-def]
    qa, uploads: Uploads, tmp_path: Path, report_pdf: bytes
) -> None:
    given = _given(tmp_path, "report.pdf", report_pdf)
    mine = uploads.add("session-a", [given])
    answer = mine.ask(ILLEGAL)
    assert answer.text == "1954"
    source = answer.sources[0]
    document = mine.index.documents[0]
    assert (source.passage.doc, document.doc) == ("report.pdf", "report.pdf")
    assert source.page == document.page_at(document.text.index("For this reason, in 1954"))
    assert source.page is not None and source.page > 1
    assert source.cite() == f"report.pdf, p. {source.page}"
    # moved out of Gradio's folder into one of its own, never into corpus/
    assert not given[0].exists()
    assert _files(tmp_path) == ["report.pdf"]
    assert not (ROOT / "corpus" / "report.pdf").exists()
    # another session sees none of it: it has nothing, then only its own
    assert uploads.get("session-b") is None
    theirs = uploads.add("session-b", [_given(tmp_path, "notes.md", NOTES)])
    assert [d.doc for d in theirs.index.documents] == ["notes.md"]
    assert theirs.ask(ILLEGAL).sources[0].passage.doc == "notes.md"
    assert uploads.get("session-a") is mine
    assert {s.passage.doc for s in mine.ask("When was the bridge opened?").sources} == {
        "report.pdf"
    }
    # and the shipped document still answers everyone else
    assert qa.ask(ILLEGAL).sources[0].passage.doc == DOCUMENT.name


@pytest.mark.slow
def test_the_server_holds_at_most_the_set_number_of_uploads(
    uploads: Uploads, tmp_path: Path
) -> None:
    for key in ("a", "b"):
        uploads.add(key, [_given(tmp_path, f"{key}.md", NOTES)])
    before = _held(tmp_path)
    with pytest.raises(UploadError) as refused:
        uploads.add("c", [_given(tmp_path, "c.md", NOTES)])
    assert str(refused.value) == (
        "the server is holding the documents of 2 other sessions, its most "
        "(CPPQA_MAX_UPLOAD_SESSIONS): try again in 1 minute"
    )
    assert _held(tmp_path) == before  # nothing of the refused one
    assert len(uploads) == 2
    # the sessions held keep working, and may replace their own documents
    assert uploads.get("a") is not None
    again = uploads.add("b", [_given(tmp_path, "b2.md", NOTES)])
    assert [d.doc for d in again.index.documents] == ["b2.md"]
    assert _files(tmp_path) == ["a.md", "b2.md"]
    uploads.drop("a")  # a session ended: room for another
    assert [d.doc for d in uploads.add("c", [_given(tmp_path, "c.md", NOTES)]).index.documents] == [
        "c.md"
    ]


@pytest.mark.slow
def test_uploads_are_removed_when_the_session_ends_or_idles(
    uploads: Uploads, tmp_path: Path, clock: _Clock
) -> None:
    uploads.add("a", [_given(tmp_path, "a.md", NOTES)])
    uploads.add("b", [_given(tmp_path, "b.md", NOTES), _given(tmp_path, "c.md", NOTES)])
    uploads.drop("a")  # the tab closed
    assert uploads.get("a") is None
    assert _files(tmp_path) == ["b.md", "c.md"]
    # removing one file from the box re-indexes the rest; its file goes
    kept = uploads.keep("b", ["c.md"])
    assert kept is not None and [d.doc for d in kept.index.documents] == ["c.md"]
    assert _files(tmp_path) == ["c.md"]
    clock.now += 59  # used within the idle time: kept
    assert uploads.get("b") is kept
    clock.now += 61  # then idle longer than that: gone, folder and all
    assert uploads.sweep() == ["b"]
    assert uploads.get("b") is None
    assert _held(tmp_path) == []
    uploads.add("c", [_given(tmp_path, "c.md", NOTES)])
    uploads.close()  # the server stops
    assert _held(tmp_path) == [] and len(uploads) == 0


@pytest.mark.slow
@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        (
            "scan.pdf",
            b"\x89PNG\r\n\x1a\n" + bytes(64),
            "'scan.pdf' is not a PDF (it looks like a PNG image): give it the name of its "
            "real type, or export it as PDF again",
        ),
        ("empty.md", b"", "'empty.md' is empty: put the document's text in it"),
        (
            "data.csv",
            b"a,b\n",
            "'data.csv' is not a document cppqa reads; it reads .pdf, .docx, .html, .htm, .md "
            "or .txt files",
        ),
    ],
    ids=["renamed", "empty", "other type"],
)
def test_a_bad_file_says_what_is_wrong_and_leaves_nothing(
    uploads: Uploads, tmp_path: Path, name: str, data: bytes, message: str
) -> None:
    earlier = uploads.add("a", [_given(tmp_path, "a.md", NOTES)])
    uploads.add("b", [_given(tmp_path, "b.md", NOTES)])
    before = _held(tmp_path)
    with pytest.raises(CorpusError) as caught:
        uploads.add("a", [_given(tmp_path, "good.md", NOTES), _given(tmp_path, name, data)])
    assert str(caught.value) == message  # named as given, not by the temporary folder
    assert _held(tmp_path) == before  # nothing of the failed upload
    assert uploads.get("a") is earlier  # what the session had, it has
    assert uploads.get("b") is not None  # and the other session keeps working
    assert uploads.get("b").ask("When was the bridge opened?").text is not None  # type: ignore[union-attr]


def test_too_many_files_at_once_are_refused(qa_stub_uploads: Uploads, tmp_path: Path) -> None:
    files = [_given(tmp_path, f"{n}.md", NOTES) for n in range(3)]
    with pytest.raises(UploadError, match="3 files is more than the 2 one upload may hold"):
        qa_stub_uploads.add("a", files)
    assert all(path.exists() for path, _ in files)  # refused before anything was moved


@pytest.fixture
def qa_stub_uploads(tmp_path: Path) -> Uploads:
    """Uploads that refuse before any model is needed: at most two files at once."""

    class _Shipped:
        settings = Settings(max_upload_files=2)

    return Uploads(_Shipped(), root=tmp_path)  # type: ignore[arg-type]


# --- uploads through the API ----------------------------------------------------


@pytest.mark.slow
def test_ask_files_answers_from_the_files_alone(
    client: Client, web_temp: Path, tmp_path: Path, report_pdf: bytes
) -> None:
    from gradio_client import handle_file

    report = tmp_path / "report.pdf"
    report.write_bytes(report_pdf)
    answers = client.predict(
        [handle_file(str(report))], [ILLEGAL, SECRETARY], api_name="/ask_files"
    )
    assert [a["answer"] for a in answers] == ["1954", "Comrade Imdad Qazi"]
    assert {s["doc"] for a in answers for s in a["sources"]} == {"report.pdf"}
    assert set(answers[0]) == set(AnswerRecord.__annotations__)
    # nothing kept: no file on the server, and the next question is the shipped document's
    assert [p for p in web_temp.rglob("*") if p.name == "report.pdf"] == []
    assert list(web_temp.glob(FOLDER_PREFIX + "*")) == []
    assert client.predict(ILLEGAL, api_name="/ask")["sources"][0]["doc"] == DOCUMENT.name


@pytest.mark.slow
def test_ask_files_highlights_an_answer_on_page_3_within_its_sentence(
    client: Client, tmp_path: Path
) -> None:
    import pypdfium2 as pdfium
    from gradio_client import handle_file

    path = tmp_path / "booklet.pdf"
    path.write_bytes(booklet())  # the sentence stands on page 3, under a running header
    (answer,) = client.predict([handle_file(str(path))], [ILLEGAL], api_name="/ask_files")
    assert answer["answer"] == "1954"
    first = answer["sources"][0]
    assert (first["text"], first["page"]) == (SENTENCE_1954, 3)
    (on_page,) = first["highlight"]
    assert on_page["page"] == 3
    boxes = sentence_boxes(path, 3, SENTENCE_1954)
    assert on_page["rects"] and all(within(r, boxes) for r in on_page["rects"])
    textpage = pdfium.PdfDocument(path)[2].get_textpage()
    assert [textpage.get_text_bounded(*r).strip() for r in on_page["rects"]] == ["1954"]
    # what to draw: the same line as shares of the page as shown, from its top-left corner
    ((left, top, right, bottom),) = on_page["boxes"]
    ((rect_left, _, rect_right, rect_top),) = on_page["rects"]
    assert (left, right) == pytest.approx(
        (rect_left / on_page["width"], rect_right / on_page["width"]), abs=1e-4
    )
    assert top == pytest.approx(1 - rect_top / on_page["height"], abs=1e-4) and top < bottom
    others = [s["highlight"] for s in answer["sources"][1:]]
    assert all(h and all(p["rects"] for p in h) for h in others)  # each passage on its page


@pytest.mark.slow
def test_ask_files_says_what_is_wrong_with_a_file(client: Client, tmp_path: Path) -> None:
    from gradio_client import handle_file

    scan = tmp_path / "scan.pdf"
    scan.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(64))
    with pytest.raises(AppError, match=r"'scan\.pdf' is not a PDF \(it looks like a PNG image\)"):
        client.predict([handle_file(str(scan))], [ILLEGAL], api_name="/ask_files")
    with pytest.raises(AppError, match="ask between 1 and 20 questions, not 0"):
        client.predict([handle_file(str(scan))], [], api_name="/ask_files")


@pytest.mark.slow
def test_ask_files_reads_no_file_that_was_not_uploaded(web_url: str) -> None:
    file = {"path": str(DOCUMENT), "meta": {"_type": "gradio.FileData"}}
    posted = httpx.post(
        f"{web_url}gradio_api/call/ask_files", json={"data": [[file], [ILLEGAL]]}, timeout=30
    )
    event_id = posted.json()["event_id"]
    stream = httpx.get(f"{web_url}gradio_api/call/ask_files/{event_id}", timeout=60).text
    assert stream.startswith("event: error")
    assert "1954" not in stream


# --- votes on answers (Settings.feedback_dir) --------------------------------------

GS_SENTENCE = Passage(
    DOCUMENT.name, 5000, 5057, "Comrade Imdad Qazi is the General Secretary of the Party."
)
GS = Answer(SECRETARY, SECRETARY, "Comrade Imdad Qazi", 0.9, (Source(GS_SENTENCE, 1.0),), 5000)
TITLE = "What is his title?"
TITLED = "What is Imdad Qazi's title?"
TITLE_ANSWER = Answer(TITLE, TITLED, "General Secretary", 0.8, (Source(GS_SENTENCE, 0.9),), 5026)
FRANCE = "What is the capital of France?"
NOWHERE = Answer(FRANCE, FRANCE, None, 0.1, (Source(GS_SENTENCE, 0.2),))


def _chat(replies: int) -> list[dict[str, Any]]:
    """The chat as the like event hands it over: a question and a reply, ``replies`` times."""
    return [
        {"role": role, "content": [{"type": "text", "text": "…"}]}
        for _ in range(replies)
        for role in ("user", "assistant")
    ]


def _like(index: Any, liked: bool | str) -> Any:
    import gradio as gr

    return gr.LikeData(None, {"index": index, "value": ["…"], "liked": liked})


def _lines(folder: Path) -> list[dict[str, Any]]:
    text = (folder / "feedback.jsonl").read_text(encoding="utf-8")
    return [json.loads(line) for line in text.splitlines()]


def _built(feedback_dir: Path | None) -> Any:
    """The page over a stand-in QA (nothing is asked): settings and the shipped document."""
    from types import SimpleNamespace

    from cppqa.records import Document

    shipped = SimpleNamespace(
        settings=Settings(feedback_dir=feedback_dir),
        index=SimpleNamespace(documents=(Document(DOCUMENT.name, "CPP", "text", ""),)),
    )
    return build_app(shipped, Uploads(shipped))  # type: ignore[arg-type]


def test_a_like_and_a_dislike_are_two_lines_from_the_servers_answers(tmp_path: Path) -> None:
    from cppqa.datasets.feedback import read_votes

    folder = tmp_path / "votes"
    # The second reply was a notice (no answer): no turn of the conversation.
    answers = [GS, None, TITLE_ANSWER]
    liked = keep_vote(folder, _chat(3), answers, _like(5, True))
    disliked = keep_vote(folder, _chat(3), answers, _like(1, False))
    first, second = _lines(folder)
    assert first == {
        "question": TITLE,
        "query": TITLED,
        "answer": "General Secretary",
        "liked": True,
        "doc": DOCUMENT.name,
        "start": 5026,
        "sentence": GS_SENTENCE.text,
        "history": [[SECRETARY, "Comrade Imdad Qazi"]],
        "corpus": None,
        "time": first["time"],
    }
    assert second == {
        "question": SECRETARY,
        "query": SECRETARY,
        "answer": "Comrade Imdad Qazi",
        "liked": False,
        "doc": DOCUMENT.name,
        "start": 5000,
        "sentence": GS_SENTENCE.text,
        "history": [],
        "corpus": None,
        "time": second["time"],
    }
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00", first["time"])
    assert read_votes(folder / "feedback.jsonl") == [liked, disliked]


def test_a_vote_on_does_not_say_keeps_no_answer(tmp_path: Path) -> None:
    keep_vote(tmp_path, _chat(2), [GS, NOWHERE], _like(3, True))
    (line,) = _lines(tmp_path)
    assert (line["question"], line["answer"], line["liked"]) == (FRANCE, None, True)
    assert (line["doc"], line["start"], line["sentence"]) == (None, None, None)
    assert line["history"] == [[SECRETARY, "Comrade Imdad Qazi"]]


@pytest.mark.parametrize(
    ("replies", "answers", "index", "liked"),
    [
        (2, [GS, None], 3, True),  # a notice, not an answer
        (1, [GS], 0, True),  # a question, not a reply
        (1, [GS], 1, ""),  # a thumb clicked again: the vote withdrawn on the page
        (1, [GS], 1, "Flag"),  # an option other than Like and Dislike
        (2, [GS], 3, False),  # a reply the session has no answer for
        (1, [], 1, True),  # the conversation was cleared
        (1, [GS], (0, 1), True),  # not a message index
    ],
    ids=["notice", "question", "withdrawn", "other option", "unknown", "cleared", "tuple"],
)
def test_what_is_not_a_vote_on_an_answer_keeps_nothing(
    tmp_path: Path, replies: int, answers: list[Answer | None], index: Any, liked: bool | str
) -> None:
    folder = tmp_path / "votes"
    assert keep_vote(folder, _chat(replies), answers, _like(index, liked)) is None
    assert not folder.exists()


def test_a_vote_that_cannot_be_written_is_a_warning_and_the_chat_goes_on(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    blocked = tmp_path / "blocked"
    blocked.write_text("a file where the folder should be")  # refused even to root
    answers = [GS]
    with (
        caplog.at_level(logging.WARNING, logger="cppqa.web.votes"),
        pytest.warns(UserWarning, match=f"^{re.escape(NOT_SAVED)}$"),  # gr.Warning, no event
    ):
        assert keep_vote(blocked, _chat(1), answers, _like(1, True)) is None
    assert f"could not keep a vote in {blocked}" in caplog.text
    assert answers == [GS]  # the session's conversation is as it was
    # and the next vote, to a folder that can be written, is kept
    assert keep_vote(tmp_path / "votes", _chat(1), answers, _like(1, True)) is not None


@pytest.mark.parametrize("kept", [True, False], ids=["feedback_dir set", "not set"])
def test_thumbs_and_the_note_only_when_votes_are_kept(tmp_path: Path, kept: bool) -> None:
    import gradio as gr

    folder = tmp_path / "votes"
    app = _built(folder if kept else None)
    (chatbot,) = [b for b in app.blocks.values() if isinstance(b, gr.Chatbot)]
    assert chatbot.get_config()["likeable"] is kept
    assert chatbot.feedback_options == (("Like", "Dislike") if kept else None)
    notes = [b for b in app.blocks.values() if getattr(b, "elem_id", None) == "cppqa-feedback-note"]
    assert [_text(note.value) for note in notes] == ([FEEDBACK_NOTE] if kept else [])
    handlers = [fn for fn in app.fns.values() if any(e == "like" for _, e in fn.targets)]
    if not kept:
        assert handlers == []
        return
    (handler,) = handlers
    # the chat, its answers and the session's key (which corpus answered)
    assert [type(block).__name__ for block in handler.inputs] == ["Chatbot", "State", "State"]
    assert handler.outputs == []  # a vote changes nothing on the page
    handler.fn(_chat(1), [GS], "", _like(1, False))  # as Gradio calls it ("": no uploads)
    (line,) = _lines(folder)
    assert (line["question"], line["answer"], line["liked"]) == (SECRETARY, GS.text, False)
    shipped = fingerprint([SimpleNamespace(doc=DOCUMENT.name, sha256="")])  # the fake app's
    assert line["corpus"] == shipped


@pytest.mark.slow
def test_a_vote_in_an_upload_session_names_the_uploaded_document(
    uploads: Uploads, tmp_path: Path
) -> None:
    mine = uploads.add("session-a", [_given(tmp_path, "notes.md", NOTES)])
    first = mine.ask("When was the bridge opened?")
    follow = mine.ask("Who opened it?", turns([first]))
    assert (first.text, follow.text) == ("1931", "the mayor")
    corpus = fingerprint(mine.index.documents)
    keep_vote(tmp_path / "votes", _chat(2), [first, follow], _like(3, True), corpus)
    (line,) = _lines(tmp_path / "votes")
    sentence = "The river bridge was opened in 1931 by the mayor."
    assert line == {
        "question": "Who opened it?",
        "query": follow.query,
        "answer": "the mayor",
        "liked": True,
        "doc": "notes.md",
        "start": mine.index.documents[0].text.index("the mayor"),
        "sentence": sentence,
        "history": [["When was the bridge opened?", "1931"]],
        "corpus": corpus,
        "time": line["time"],
    }


# --- the page follows the documents it answers from (issue 31, item 3) --------------

#: A session's upload as the page sees it: its documents and sentences, nothing embedded.
HARBOUR = Document(
    "harbour.md",
    "Harbour",
    "Repairs\nIn 1931, Mary Brown rebuilt the north quay.",
    "",
    headings=(Heading(0, 1, "Repairs"),),
)
HARBOUR_STEPS = [
    Step(Stage.READING, 0, 1, "files"),
    Step(Stage.READING, 1, 1, "files"),
    Step(Stage.EMBEDDING, 0, 130, "sentences and passages"),
    Step(Stage.EMBEDDING, 64, 130, "sentences and passages"),
    Step(Stage.EMBEDDING, 128, 130, "sentences and passages"),
    Step(Stage.EMBEDDING, 130, 130, "sentences and passages"),
]


class _OneUpload(Uploads):
    """Uploads that hand every session the same stand-in upload, telling
    ``HARBOUR_STEPS`` on the way, and forget it when its files are cleared."""

    def __init__(self, shipped: Any) -> None:
        super().__init__(shipped)
        self.upload = SimpleNamespace(
            index=SimpleNamespace(
                documents=(HARBOUR,), sentences=tuple(split_sentences(HARBOUR.text, HARBOUR.doc))
            )
        )

    def add(self, key: str, files: Any, progress: Any = None, *, client: str = "") -> Any:
        for step in HARBOUR_STEPS:
            progress(step)
        return self.upload

    def keep(self, key: str, names: Any) -> Any:
        return None

    def get(self, key: str) -> Any:
        return self.upload if key else None


def _handler(app: Any, name: str) -> Any:
    """The page's event handler named ``name`` (its function's name)."""
    (handler,) = {fn.fn for fn in app.fns.values() if getattr(fn.fn, "__name__", "") == name}
    return handler


def _page_of(outputs: tuple[Any, ...]) -> tuple[str, Any, Any]:
    """The header, the chat's update and the question box's update of an upload event."""
    return outputs[8], outputs[4], outputs[9]


def test_an_upload_brings_its_own_page_and_clearing_it_the_shipped_one(tmp_path: Path) -> None:
    import gradio as gr

    shipped = SimpleNamespace(
        settings=Settings(),
        index=SimpleNamespace(documents=(Document(DOCUMENT.name, "CPP", "text", ""),)),
    )
    app = build_app(shipped, _OneUpload(shipped))  # type: ignore[arg-type]
    given = tmp_path / "in" / "harbour.md"
    given.parent.mkdir()
    given.write_text(HARBOUR.text, encoding="utf-8")
    request = SimpleNamespace(session_hash="tab-1", client=None)
    told: list[tuple[float, str]] = []
    added = _handler(app, "added")(
        [str(given)], request, lambda share, desc: told.append((share, desc))
    )
    header, chat, box = _page_of(added)
    assert "<h1>Ask harbour.md</h1>" in header
    assert isinstance(chat, gr.Chatbot)
    assert chat.constructor_args["value"] == []  # a new conversation
    assert [e["text"] for e in chat.constructor_args["examples"]] == [
        "What is said about “Repairs”?",
        "What happened in 1931?",
        "What is said about Mary Brown?",
    ]
    assert _text(chat.constructor_args["placeholder"]).startswith("Ask about harbour.md")
    assert box["placeholder"] == "Ask harbour.md (up to 1,000 characters)…"
    for words in ("Communist", "Party", "Pakistan", "history"):
        assert words not in header + _text(chat.constructor_args["placeholder"])
    # Progress that moves: each step's count, said to Gradio's bar.
    assert [desc for _, desc in told][-3:] == [
        "embedding 64 / 130 sentences and passages",
        "embedding 128 / 130 sentences and passages",
        "embedding 130 / 130 sentences and passages",
    ]
    assert [share for share, _ in told][-4:] == [0.0, 64 / 130, 128 / 130, 1.0]
    # The box cleared: the shipped document's page returns.
    header, chat, box = _page_of(_handler(app, "removed")(None, request))
    assert "<h1>Ask the history of the Communist Party of Pakistan</h1>" in header
    assert [e["text"] for e in chat.constructor_args["examples"]] == list(EXAMPLES)
    assert box["placeholder"] == "Ask a question (up to 1,000 characters)…"


def test_uploads_gone_while_idle_bring_the_shipped_page_and_keep_the_chat() -> None:
    import gradio as gr

    shipped = SimpleNamespace(
        settings=Settings(),
        index=SimpleNamespace(documents=(Document(DOCUMENT.name, "CPP", "text", ""),)),
    )
    app = build_app(shipped, _OneUpload(shipped))  # type: ignore[arg-type]
    forgotten = _handler(app, "forgotten")
    assert forgotten("tab-1") == (gr.skip(),) * 6  # still held: nothing changes
    answering, _, files, header, chat, box = forgotten("")
    assert "the shipped document" in answering and files is None
    assert "Communist Party of Pakistan" in header
    assert "value" not in chat.constructor_args  # the chat's messages stay (the notice)
    assert [e["text"] for e in chat.constructor_args["examples"]] == list(EXAMPLES)
    assert box["placeholder"] == "Ask a question (up to 1,000 characters)…"
