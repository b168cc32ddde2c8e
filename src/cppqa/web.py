"""The web chat and its JSON API: a Gradio app over one loaded ``QA``.

The only module that imports gradio. It formats answers and wires events;
answering is ``QA.ask``'s job. Two API endpoints: ``/chat`` (the rendered
reply, follow-ups resolved within a client session) and ``/ask`` (the JSON
object of ``cppqa ask --json``).

>>> from cppqa.qa import QA                                   # doctest: +SKIP
>>> launch(build_app(QA.load()), "127.0.0.1", 7860)           # doctest: +SKIP
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from typing import Any

import gradio as gr
from gradio.components.chatbot import ChatbotDataMessages, TextMessage
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.responses import PlainTextResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from cppqa.cli import NOT_FOUND
from cppqa.dialogue import Turn
from cppqa.errors import CppqaError
from cppqa.qa import QA
from cppqa.records import Answer, Document, Source

TITLE = "Ask the history of the Communist Party of Pakistan"
#: Questions the document answers; shown on an empty chat, one click asks them.
EXAMPLES = [
    "When was the CPP formed?",
    "Who is the General Secretary of the Party?",
    "When was the party declared illegal?",
    "What is the ideological basis of the party?",
    "Who was tortured and martyred in the royal fort of Lahore?",
    "What is the name of the party organ?",
    "Where is the party working openly?",
    "Which case was filed against the party in 1951?",
]
#: Sized for a 2-CPU machine (a free Space): an answer is one short CPU burst (one
#: MiniLM encoding, two small searches), so two at once keep both cores busy.
CONCURRENCY = 2
#: Requests waiting beyond this are refused ("queue full") instead of piling up.
QUEUE_SIZE = 64
#: Largest request body accepted. The page sends the whole conversation with
#: some events (~1.3 kB per exchange, measured), so this allows ~700 exchanges.
MAX_REQUEST_BYTES = 1_000_000

# Characters that Markdown, LaTeX or HTML could read as markup, as numeric
# references: quoted text then shows exactly as written and can never become
# a tag, a link, emphasis or a formula. Line breaks too: a reply is then one
# line, and Markdown takes a block that starts with a tag as raw HTML up to
# the next blank line, so nothing in it is parsed as Markdown (``&#10;``
# still breaks the line in the document view).
_ESCAPES = str.maketrans({ch: f"&#{ord(ch)};" for ch in "&<>\"'*_[]()$\\`~|#!{}:\n\r"})
_SYSTEM_SANS = [
    "system-ui",
    "-apple-system",
    "Segoe UI",
    "Roboto",
    "Helvetica Neue",
    "Arial",
    "sans-serif",
]
_SYSTEM_MONO = ["ui-monospace", "SFMono-Regular", "Menlo", "Consolas", "monospace"]
CSS = """
.cppqa-reply blockquote { margin: .5em 0; padding: .3em .8em; border-left: 3px solid
  var(--color-accent); background: var(--background-fill-secondary); font-style: normal; }
.cppqa-reply mark, .cppqa-document mark { background: #fde68a; color: inherit; padding: 0 .1em; }
.cppqa-reply details { margin-top: .4em; font-size: .9em; }
.cppqa-reply summary { cursor: pointer; color: var(--body-text-color); opacity: .75; }
.cppqa-reply ol { margin: .3em 0 0 1.2em; padding: 0; }
.cppqa-reply li { margin: .25em 0; }
.cppqa-source { margin: .15em 0 .5em; padding: .1em .7em; border-left: 3px solid
  var(--border-color-primary); }
/* the body colour, faded: Gradio's subdued grey is under 3:1 on its background */
.cppqa-meta { color: var(--body-text-color); opacity: .75; font-size: .85em; }
.cppqa-not-answer .cppqa-source { border-left-color: var(--body-text-color-subdued); }
.cppqa-document-view { max-width: 75ch; margin: 0 auto; }
.cppqa-document { white-space: pre-wrap; line-height: 1.7; }
.cppqa-document h2 { white-space: normal; }
"""


def escape(text: str) -> str:
    """``text`` as inert HTML: shows verbatim, never becomes markup, a link or LaTeX.

    >>> escape("<b>*x*</b> $1")
    '&#60;b&#62;&#42;x&#42;&#60;/b&#62; &#36;1'
    """
    return text.translate(_ESCAPES)


def render_reply(answer: Answer) -> str:
    """The chat reply for ``answer`` as one sanitiser-safe HTML block."""
    parts = ['<div class="cppqa-reply">']
    if answer.query != answer.question:
        parts.append(f'<p class="cppqa-meta">Understood as: <em>{escape(answer.query)}</em></p>')
    if answer.text is None:
        parts.append(f"<p><strong>{escape(NOT_FOUND)}</strong></p>")
        if answer.sources:
            parts.append(
                '<details open class="cppqa-not-answer"><summary>Nearest passages: '
                f"<strong>not an answer</strong></summary>{_source_list(answer.sources)}</details>"
            )
    else:
        if answer.text != answer.sources[0].passage.text:  # a whole sentence is quoted once
            parts.append(f"<p><strong>{escape(answer.text)}</strong></p>")
        parts.append(f"<blockquote>“{_marked_sentence(answer)}”</blockquote>")
        parts.append(
            f'<p class="cppqa-meta">confidence {answer.confidence:.2f}</p>'
            f"<details><summary>Sources ({len(answer.sources)})</summary>"
            f"{_source_list(answer.sources)}</details>"
        )
    parts.append("</div>")
    return "".join(parts)


def render_document(documents: Sequence[Document], answer: Answer | None) -> str:
    """Every document, escaped, with the latest answer's sentence in ``<mark>``."""
    answered = answer if answer and answer.text and answer.sources else None
    hit = answered.sources[0].passage if answered else None
    if answered:
        note = f"Highlighted: the sentence that answers “{escape(answered.question)}”."
    else:
        note = "Ask a question in the Chat tab: the sentence of the answer is highlighted here."
    parts = [f'<div class="cppqa-document-view"><p class="cppqa-meta">{note}</p>']
    for document in documents:
        text = document.text
        if answered and hit and hit.doc == document.doc:
            body = (
                escape(text[: hit.start])
                + f'<mark id="cppqa-hit">{_marked_sentence(answered, tag="strong")}</mark>'
                + escape(text[hit.end :])
            )
        else:
            body = escape(text)
        parts.append(
            f'<article class="cppqa-document"><h2>{escape(document.title)}</h2>'
            f'<p class="cppqa-meta">{escape(document.doc)}</p>{body}</article>'
        )
    return "".join(parts) + "</div>"


def turns(answers: Sequence[Answer]) -> list[Turn]:
    """The conversation so far as ``Turn``s, as ``cppqa chat`` builds them."""
    return [
        Turn(
            a.question,
            a.query,
            a.text,
            a.sources[0].passage.text if a.sources and a.text else None,
        )
        for a in answers
    ]


def build_app(qa: QA) -> gr.Blocks:
    """The Gradio app: a chat tab, a document tab and the ``/chat`` and ``/ask`` endpoints."""
    limit = qa.settings.max_question_chars

    def chat(
        message: str, history: list[dict[str, Any]], answers: list[Answer]
    ) -> tuple[str, list[Answer]]:
        # One answer per assistant message: after a clear, undo or retry the
        # chat is shorter than the state, and the surplus answers are gone.
        done = sum(1 for m in history if m.get("role") == "assistant")
        earlier = list(answers[:done])
        answer = _ask(qa, message, turns(earlier))
        return render_reply(answer), [*earlier, answer]

    def ask(question: str) -> dict[str, Any]:
        """Answer one question; the JSON object of ``cppqa ask --json``."""
        return _ask(qa, question).to_json()

    def show_document(answers: list[Answer]) -> tuple[str, dict[str, Any]]:
        # The chat clears the textbox's placeholder while it answers; put it back.
        document = render_document(qa.index.documents, answers[-1] if answers else None)
        return document, gr.update(placeholder=placeholder)

    placeholder = f"Ask a question (up to {limit:,} characters)…"
    with gr.Blocks(title="cppqa: " + TITLE, fill_height=True) as app:
        gr.Markdown(
            f"## {TITLE}\nAnswers are quoted word for word from the document, with their "
            "source. Ask follow-ups (“when did he…?”); open **Document** to read the "
            "answer in context."
        )
        answers = gr.State([])
        with gr.Tabs():
            with gr.Tab("Chat", id="chat"):
                chatbot = gr.Chatbot(
                    label="Chat",
                    show_label=False,
                    height="calc(100vh - 300px)",
                    min_height=380,
                    sanitize_html=True,
                    render_markdown=True,
                    latex_delimiters=[],
                    allow_tags=False,
                    feedback_options=None,
                    placeholder="Ask about the party's history, or pick an example.",
                )
                show_user_text_as_typed(chatbot)
                question = gr.Textbox(
                    placeholder=placeholder,
                    elem_id="question",
                    max_length=limit,
                    autofocus=True,
                    submit_btn=True,
                    stop_btn=False,
                )
                gr.ChatInterface(
                    chat,
                    chatbot=chatbot,
                    textbox=question,
                    additional_inputs=[answers],
                    additional_outputs=[answers],
                    examples=[[q] for q in EXAMPLES],
                    cache_examples=False,
                    api_name="chat",
                    api_description="Ask within this client's conversation; returns the reply.",
                    fill_height=False,
                )
            with gr.Tab("Document", id="document"):
                document = gr.HTML(render_document(qa.index.documents, None))
        chatbot.clear(lambda: [], None, answers, api_visibility="private", queue=False)
        answers.change(
            show_document, answers, [document, question], api_visibility="private", queue=False
        )
        gr.api(ask, api_name="ask")
    app.queue(default_concurrency_limit=CONCURRENCY, max_size=QUEUE_SIZE)
    return app


def launch(app: gr.Blocks, server_name: str, server_port: int, **options: Any) -> None:
    """Serve ``app`` with the safety settings: no uploads or files, no monitoring."""
    theme = gr.themes.Soft(primary_hue="red", font=_SYSTEM_SANS, font_mono=_SYSTEM_MONO)
    middleware = [Middleware(NoUploads), Middleware(BodyLimit, max_bytes=MAX_REQUEST_BYTES)]
    app.launch(
        server_name=server_name,
        server_port=server_port,
        theme=theme,
        css=CSS,
        max_file_size=MAX_REQUEST_BYTES,
        app_kwargs={"middleware": middleware},
        enable_monitoring=False,
        run_history=False,
        mcp_server=False,
        ssr_mode=False,
        footer_links=["api"],
        **options,
    )


class NoUploads:
    """ASGI middleware: refuse Gradio's file-upload routes with 403.

    Gradio mounts ``/gradio_api/upload`` on every app; this one takes no files.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and "/upload" in scope.get("path", ""):
            response = PlainTextResponse("this app takes no uploads", status_code=403)
            await response(scope, receive, send)
            return
        await self.app(scope, receive, send)


class BodyLimit:
    """ASGI middleware: refuse request bodies over ``max_bytes`` with 413.

    Checks ``Content-Length`` up front and counts the bytes of bodies sent
    without one (chunked), so neither way can make the server buffer more.
    """

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > self.max_bytes):
            await self._refuse(scope, receive, send)
            return
        received = 0

        async def counted() -> Message:
            nonlocal received
            message = await receive()
            received += len(message.get("body", b""))
            if received > self.max_bytes:
                raise HTTPException(413, self._reason())
            return message

        await self.app(scope, counted, send)

    def _reason(self) -> str:
        return f"request body too large: the limit is {self.max_bytes:,} bytes"

    async def _refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        await PlainTextResponse(self._reason(), status_code=413)(scope, receive, send)


def show_user_text_as_typed(chatbot: gr.Chatbot) -> gr.Chatbot:
    """Make ``chatbot`` show the user's messages as typed, not as HTML.

    Gradio renders a user's message as (sanitised) HTML, so
    ``<img src=x onerror=alert(1)>`` would show as a broken image. This escapes
    user text on its way to the page and unescapes it on its way back, so the
    server always sees exactly what was typed. Replies are left alone: they are
    built from escaped text already. (Wrapping the instance, not subclassing:
    Gradio writes a ``.pyi`` file beside any module defining a component class.)
    """
    postprocess, preprocess = chatbot.postprocess, chatbot.preprocess

    def escaped(value: Any) -> ChatbotDataMessages:
        data = postprocess(value)
        for message in data.root:
            if message.role == "user":
                for part in message.content:
                    if isinstance(part, TextMessage):
                        part.text = html.escape(part.text, quote=False)
        return data

    def unescaped(payload: ChatbotDataMessages | None) -> list[Any]:
        messages = preprocess(payload)
        for message in messages:
            if message["role"] == "user":
                for part in message["content"]:
                    if isinstance(part, dict) and part.get("type") == "text":
                        part["text"] = html.unescape(part["text"])  # type: ignore[typeddict-item]
        return messages

    chatbot.postprocess = escaped  # type: ignore[method-assign]
    chatbot.preprocess = unescaped  # type: ignore[method-assign]
    return chatbot


def _ask(qa: QA, question: str, history: Sequence[Turn] = ()) -> Answer:
    """``qa.ask``, with its errors shown to the user (or API client) as a message."""
    try:
        return qa.ask(question, history)
    except CppqaError as exc:
        raise gr.Error(str(exc), print_exception=False) from None


def _marked_sentence(answer: Answer, tag: str = "mark") -> str:
    """The answer's sentence, escaped, with the answer itself inside ``<tag>``."""
    assert answer.start is not None and answer.end is not None, "only for answers"
    sentence = answer.sources[0].passage
    at, to = answer.start - sentence.start, answer.end - sentence.start
    text = sentence.text
    return f"{escape(text[:at])}<{tag}>{escape(text[at:to])}</{tag}>{escape(text[to:])}"


def _source_list(sources: Sequence[Source]) -> str:
    items = []
    for source in sources:
        p = source.passage
        items.append(
            f'<li><span class="cppqa-meta"><code>{escape(p.doc)}</code> · characters '
            f"{p.start:,}–{p.end:,} · score {source.score:.3f}</span>"
            f'<div class="cppqa-source">{escape(p.text)}</div></li>'
        )
    return "<ol>" + "".join(items) + "</ol>"
