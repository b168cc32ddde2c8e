"""The web app: reply formatting in-process, then the HTTP API of a running ``app.py``."""

from __future__ import annotations

import html
import json
import re

import httpx
import pytest
from gradio_client import Client
from gradio_client.exceptions import AppError
from hypothesis import given
from hypothesis import strategies as st

from conftest import run_cli
from cppqa.cli import NOT_FOUND
from cppqa.records import Answer
from cppqa.web import (
    EXAMPLES,
    MAX_REQUEST_BYTES,
    escape,
    render_document,
    render_reply,
    show_user_text_as_typed,
    turns,
)

XSS = "<img src=x onerror=alert(1)>"
MARKUP = re.compile(r"[<>*_\[\]()$`\\]")


def _text(fragment: str) -> str:
    """What a reader sees: tags dropped, references decoded."""
    return html.unescape(re.sub(r"<[^>]+>", "", fragment))


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


@pytest.mark.slow
def test_reply_has_bold_answer_marked_sentence_and_sources(qa) -> None:  # type: ignore[no-untyped-def]
    answer = qa.ask("Who is the General Secretary of the Party?")
    reply = render_reply(answer)
    assert "<strong>Comrade Imdad Qazi</strong>" in reply
    assert "<mark>Comrade Imdad Qazi</mark> is the General Secretary" in reply
    assert "<details><summary>Sources (3)</summary>" in reply
    first = answer.sources[0].passage
    assert f"characters {first.start:,}–{first.end:,}" in reply
    assert f"score {answer.sources[0].score:.3f}" in reply
    assert "Understood as" not in reply
    assert "\n" not in reply  # one line: Markdown cannot reach inside


@pytest.mark.slow
def test_a_whole_sentence_answer_is_quoted_once(qa) -> None:  # type: ignore[no-untyped-def]
    source = qa.ask("How did the party respond to the bureaucracy?").sources[0]
    # a reader's span may be a whole sentence: it is shown once, as the quote
    answer = Answer("q", "q", source.passage.text, 0.9, (source,), source.passage.start)
    reply = render_reply(answer)
    assert reply.split("<details>")[0].count(escape(answer.text)) == 1  # (sources aside)
    assert "<strong>" not in reply


@pytest.mark.slow
def test_reply_for_abstention_marks_passages_as_not_an_answer(qa) -> None:  # type: ignore[no-untyped-def]
    answer = qa.ask("What is the capital of France?")
    assert answer.text is None
    reply = render_reply(answer)
    assert escape(NOT_FOUND) in reply
    assert "not an answer" in reply
    assert "<mark>" not in reply
    assert all(escape(s.passage.text) in reply for s in answer.sources)


@pytest.mark.slow
def test_follow_up_shows_how_it_was_understood(qa) -> None:  # type: ignore[no-untyped-def]
    first = qa.ask("Who is the General Secretary of the Party?")
    follow = qa.ask("What is his **title** $x$?", turns([first]))
    reply = render_reply(follow)
    assert follow.query != follow.question
    assert "Understood as: <em>" in reply
    assert "Imdad Qazi" in _text(reply.split("</em>")[0])
    assert "**" not in reply and "$x$" not in reply


@pytest.mark.slow
def test_document_view_marks_the_answer_sentence(qa) -> None:  # type: ignore[no-untyped-def]
    answer = qa.ask("When was the party declared illegal?")
    page = render_document(qa.index.documents, answer)
    marked = re.search(r'<mark id="cppqa-hit">(.*?)</mark>', page)
    assert marked is not None
    assert _text(marked.group(1)) == answer.sources[0].passage.text
    assert "<strong>1954</strong>" in marked.group(1)
    document = qa.index.documents[0]
    body = page.split(f"{escape(document.doc)}</p>", 1)[1].removesuffix("</article></div>")
    assert _text(body) == document.text
    assert "<mark" not in render_document(qa.index.documents, None)


def test_user_text_is_escaped_for_the_page_and_restored_for_the_server() -> None:
    import gradio as gr

    with gr.Blocks():
        chatbot = show_user_text_as_typed(gr.Chatbot())
    history = [
        {"role": "user", "content": XSS + " & &lt;"},
        {"role": "assistant", "content": "<p><strong>x</strong></p>"},
    ]
    shown = chatbot.postprocess(history)
    assert shown.root[0].content[0].text == html.escape(XSS + " & &lt;", quote=False)
    assert shown.root[1].content[0].text == "<p><strong>x</strong></p>"
    back = chatbot.preprocess(shown)
    assert back[0]["content"][0]["text"] == XSS + " & &lt;"


def test_examples_are_a_handful() -> None:
    assert 6 <= len(EXAMPLES) <= 8


# --- the running app --------------------------------------------------------


@pytest.fixture(scope="module")
def client(web_url: str) -> Client:
    return Client(web_url, verbose=False)


@pytest.mark.slow
def test_api_lists_exactly_chat_and_ask(client: Client) -> None:
    endpoints = client.view_api(print_info=False, return_format="dict")["named_endpoints"]
    assert set(endpoints) == {"/chat", "/ask"}


@pytest.mark.slow
@pytest.mark.parametrize("question", [EXAMPLES[0], EXAMPLES[3], "What is the capital of France?"])
def test_ask_returns_what_qa_returns(client: Client, qa, question: str) -> None:  # type: ignore[no-untyped-def]
    assert client.predict(question, api_name="/ask") == qa.ask(question).to_json()


@pytest.mark.slow
def test_ask_matches_the_cli_json(client: Client) -> None:
    question = "When was the party declared illegal?"
    cli = run_cli("ask", "--no-rebuild", "--json", question)
    assert cli.returncode == 0, cli.stderr
    assert client.predict(question, api_name="/ask") == json.loads(cli.stdout)


@pytest.mark.slow
def test_chat_follows_up_within_a_client_and_starts_fresh_in_another(web_url: str) -> None:
    one = Client(web_url, verbose=False)
    first = one.predict("Who is the General Secretary of the Party?", api_name="/chat")
    assert "<strong>Comrade Imdad Qazi</strong>" in first
    follow = one.predict("What is his title?", api_name="/chat")
    assert "Understood as" in follow and "Imdad Qazi" in follow
    assert "<strong>" in follow  # answered, from the understood question
    fresh = Client(web_url, verbose=False).predict("What is his title?", api_name="/chat")
    assert "Imdad Qazi&#39;s" not in fresh


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
def test_chat_reply_never_contains_the_injected_tag(web_url: str) -> None:
    client = Client(web_url, verbose=False)
    assert "<img" not in client.predict(XSS, api_name="/chat")
    client.predict("Who is the General Secretary of the Party?", api_name="/chat")
    echoed = client.predict(f"What is his {XSS}?", api_name="/chat")
    assert "Understood as" in echoed
    assert "<img" not in echoed and "&#60;img src=x onerror=alert&#40;1&#41;&#62;" in echoed
    assert client.predict(XSS, api_name="/ask")["question"] == XSS


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
    """The README's curl example: POST the question, then read the event stream."""

    def call(question: str) -> str:
        posted = httpx.post(
            web_url + "gradio_api/call/ask", json={"data": [question]}, timeout=30
        ).text
        event_id = posted.split('"')[3]  # the README's awk -F'"' '{print $4}'
        return httpx.get(f"{web_url}gradio_api/call/ask/{event_id}", timeout=30).text

    stream = call("Who is the General Secretary of the Party?")
    assert stream.startswith("event: complete\ndata: ")
    assert (
        json.loads(stream.splitlines()[1].removeprefix("data: "))[0]["answer"]
        == "Comrade Imdad Qazi"
    )
    error = call("???")
    assert error.startswith("event: error\ndata: ")
    assert "has no words to search for" in error


@pytest.mark.slow
@pytest.mark.parametrize("path", ["monitoring", "gradio_api/monitoring", "gradio_api/runs"])
def test_monitoring_and_run_history_are_off(web_url: str, path: str) -> None:
    assert httpx.get(web_url + path, timeout=10).status_code in {403, 404}
