"""The web chat and its JSON API: a Gradio app over one loaded ``QA``.

The only module that imports gradio. It formats answers and wires events;
answering is ``QA.ask``'s job. Two API endpoints, both answering with the JSON
record of ``cppqa ask --json`` (``AnswerRecord``): ``/ask`` takes one question,
``/chat`` a question and the earlier turns, which the client sends back each
time, so any replica can answer. The page keeps its conversation in the session.

>>> from cppqa.qa import QA                                   # doctest: +SKIP
>>> launch(build_app(QA.load()), "127.0.0.1", 7860)           # doctest: +SKIP
"""

from __future__ import annotations

import html
import logging
import typing
from collections.abc import Callable, Sequence
from typing import Any, TypedDict, TypeVar, cast

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
from cppqa.spans import level

log = logging.getLogger(__name__)

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
#: "Understood as" shows at most this many characters of the understood question.
SHOWN_QUERY_CHARS = 200
#: The character counter under the box appears from this share of the limit on.
COUNTER_FROM = 0.8
#: Said in the chat when answering fails for a reason that is not the question's.
FAILED = "Something went wrong while answering. Please try again."

# Characters that Markdown, LaTeX or HTML could read as markup, as numeric
# references: quoted text then shows exactly as written and can never become
# a tag, a link, emphasis or a formula. Line breaks too: a reply is then one
# line, and Markdown takes a block that starts with a tag as raw HTML up to
# the next blank line, so nothing in it is parsed as Markdown (``&#10;``
# still breaks the line in the document view and in ``data-copy``).
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
#cppqa-header h1 { font-size: 1.5rem; margin: 0 0 .25rem; line-height: 1.25; }
#cppqa-header p { margin: 0; }
.cppqa-reply blockquote { margin: .5em 0; padding: .3em .8em; border-left: 3px solid
  var(--color-accent); background: var(--background-fill-secondary); font-style: normal; }
.cppqa-reply mark, .cppqa-document mark { background: #fde68a; color: inherit; padding: 0 .1em; }
.cppqa-reply details { margin-top: .4em; font-size: .9em; }
.cppqa-reply summary { cursor: pointer; color: var(--body-text-color); opacity: .85; }
.cppqa-reply ol { margin: .3em 0 0 1.2em; padding: 0; }
.cppqa-reply li { margin: .25em 0; }
.cppqa-reply code { white-space: nowrap; }
.cppqa-reply a.cppqa-show { color: var(--body-text-color); text-decoration: underline; }
.cppqa-source { margin: .15em 0 .5em; padding: .1em .7em; border-left: 3px solid
  var(--border-color-primary); }
/* the body colour, faded to no less than 4.5:1 (axe): Gradio's subdued grey is under 3:1 */
.cppqa-meta { color: var(--body-text-color); opacity: .85; font-size: .85em; }
.cppqa-not-answer .cppqa-source { border-left-color: var(--body-text-color-subdued); }
.cppqa-document-view { max-width: 75ch; margin: 0 auto; }
.cppqa-document { white-space: pre-wrap; line-height: 1.7; }
.cppqa-document h2 { white-space: normal; }
#cppqa-hit { scroll-margin: 4rem; }
/* the selected tab's accent red is 3.6:1 on the page; a darker red of the same hue */
.tabs button.selected { color: var(--primary-700); }
.dark .tabs button.selected { color: var(--primary-300); }
#cppqa-count { margin: 0 .2rem; }
#cppqa-counter:has(#cppqa-count:empty) { display: none; }
/* the footer: a "·" is left over from the links not shown; Gradio's grey is 2.4:1 */
footer .divider:last-child { display: none; }
footer .show-api { color: var(--body-text-color); opacity: .85; }
#cppqa-count.cppqa-over { color: var(--error-text-color); opacity: 1; }
/* examples: bordered buttons, not loose text */
#chatbot button.example { border: 1px solid var(--border-color-primary); border-radius:
  var(--radius-lg); background: var(--background-fill-primary); box-shadow: var(--shadow-drop); }
#chatbot button.example:hover { border-color: var(--color-accent); }
#question button.submit-button { border: 1px solid var(--color-accent); border-radius:
  var(--radius-md); color: var(--primary-700); font-weight: 600; }
.dark #question button.submit-button { color: var(--primary-300); }
@media (max-width: 640px) {
  #cppqa-header h1 { font-size: 1.15rem; }
  #cppqa-header p { font-size: .85rem; line-height: 1.35; }
  #cppqa-header .cppqa-wide { display: none; }
  /* the examples from the top of the chat, compact, not centred below the invitation */
  #chatbot .placeholder { flex-grow: 0; height: auto; padding: .25rem 0 0; }
  #chatbot .examples { padding: .5rem; gap: .5rem; }
  #chatbot button.example { padding: .5rem .75rem; }
  /* replies use the whole width of a phone (Gradio leaves a quarter of it empty) */
  #chatbot .bubble.bot-row { max-width: 100%; }
}
"""

#: The page's script (Gradio runs it once on load). Gradio 6 copies a chat message's raw
#: content and names the message (aria-label) with it; a reply's content is HTML, so
#: both would be markup. Each reply carries its plain text in ``data-copy``: the copy
#: and the name use that. It also counts characters near the limit, opens the Document
#: tab at an answer's place ("Show in document"), and names the examples a group.
JS = """
() => {
  const markup = (text) => /<[a-z]|&#?\\w+;/i.test(text);
  const plain = (raw) => {
    const doc = new DOMParser().parseFromString(raw, "text/html");  // inert: runs nothing
    const reply = doc.querySelector(".cppqa-reply[data-copy]");
    return reply ? reply.dataset.copy : doc.body.textContent;
  };
  const clipboard = navigator.clipboard;
  if (clipboard) {
    const write = clipboard.writeText.bind(clipboard);
    clipboard.writeText = (text) => write(markup(text) ? plain(text) : text);
  }
  // Without the clipboard API (plain http), Gradio copies from a selected textarea.
  document.addEventListener("copy", (event) => {
    const box = event.target;
    if (box instanceof HTMLTextAreaElement && !box.closest("#question") && markup(box.value)) {
      event.clipboardData.setData("text/plain", plain(box.value));
      event.preventDefault();
    }
  }, true);
  // Gradio names messages "bot's message: <raw content>"; say "Reply: <plain text>".
  const NAMES = [["bot's message: ", "Reply: "], ["user's message: ", "Question: "]];
  const relabel = () => {
    for (const message of document.querySelectorAll("#chatbot [aria-label]")) {
      const label = message.getAttribute("aria-label");
      for (const [gradio, ours] of NAMES) {
        if (label.startsWith(gradio)) {
          message.setAttribute("aria-label", ours + plain(label.slice(gradio.length)));
        }
      }
    }
  };
  const count = () => {
    const box = document.querySelector("#question textarea");
    const counter = document.getElementById("cppqa-count");
    if (!box || !counter) return;
    const LIMIT = Number(counter.dataset.limit), FROM = Number(counter.dataset.from);
    const n = [...box.value].length;
    const over = n > LIMIT;
    const text = n >= FROM * LIMIT
      ? `${n.toLocaleString("en")} / ${LIMIT.toLocaleString("en")} characters` +
        (over ? `: too long by ${(n - LIMIT).toLocaleString("en")}; please shorten it` : "")
      : "";
    // Only real changes: the observer below calls this on every change to the page.
    if (counter.textContent !== text) counter.textContent = text;
    if (counter.classList.contains("cppqa-over") !== over) counter.classList.toggle("cppqa-over");
  };
  document.addEventListener("input", (event) => {
    if (event.target.closest && event.target.closest("#question")) count();
  }, true);
  // Gradio's examples are buttons in a role="list" without list items (axe: critical).
  const group = () => {
    for (const examples of document.querySelectorAll('#chatbot .examples[role="list"]')) {
      examples.setAttribute("role", "group");
      examples.setAttribute("aria-label", "Example questions");
    }
  };
  new MutationObserver(() => { relabel(); count(); group(); })
    .observe(document.body, {subtree: true, childList: true, attributes: true,
                             attributeFilter: ["aria-label"]});
  // "Show in document": tell the server which answer (it renders the highlight and
  // opens the tab), then bring that highlight into view once it is on screen.
  document.addEventListener("click", (event) => {
    const link = event.target.closest && event.target.closest("a.cppqa-show");
    if (!link) return;
    event.preventDefault();
    const turn = link.getAttribute("href").replace("#cppqa-turn-", "");
    window.cppqaTurn = Number(turn);
    document.getElementById("cppqa-show").click();
    const until = Date.now() + 10000;
    const reveal = () => {
      const hit = document.getElementById("cppqa-hit");
      if (hit && hit.dataset.turn === turn && hit.getClientRects().length) {
        hit.scrollIntoView({block: "center"});
        hit.focus({preventScroll: true});
      } else if (Date.now() < until) {
        setTimeout(reveal, 50);
      }
    };
    reveal();
  }, true);
}
"""

_T = TypeVar("_T")


class SourceRecord(TypedDict):
    """One source of an answer: a verbatim passage and its retrieval score."""

    doc: str
    start: int
    end: int
    text: str
    score: float


class AnswerRecord(TypedDict):
    """An answer as JSON, as ``cppqa ask --json`` prints it (``Answer.to_json()``).

    ``query`` is the question as understood (a follow-up resolved); ``answer``
    is None when the document does not hold one.
    """

    question: str
    query: str
    answer: str | None
    confidence: float
    sources: list[SourceRecord]


class TurnRecord(TypedDict, total=False):
    """An earlier turn sent to ``/chat``: a record it returned, or only ``question``
    and ``answer`` (the record's ``query`` and first source help follow-ups)."""

    question: str
    query: str
    answer: str | None
    sources: list[SourceRecord]


def escape(text: str) -> str:
    """``text`` as inert HTML: shows verbatim, never becomes markup, a link or LaTeX.

    >>> escape("<b>*x*</b> $1")
    '&#60;b&#62;&#42;x&#42;&#60;/b&#62; &#36;1'
    """
    return text.translate(_ESCAPES)


def shorten(text: str, limit: int = SHOWN_QUERY_CHARS) -> str:
    """``text`` cut to ``limit`` characters at a word, with "…" when cut.

    >>> shorten("When was the party declared illegal?", 20)
    'When was the party…'
    """
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    return (cut.rsplit(" ", 1)[0] if " " in cut else cut).rstrip(" ,;:") + "…"


def plain_reply(answer: Answer) -> str:
    """What copying a reply gives: the answer, the quoted sentence, ``file:start-end``.

    A whole-sentence answer is quoted once; not finding one says so.
    """
    if answer.text is None:
        return NOT_FOUND
    passage = answer.sources[0].passage
    lines = [] if answer.text == passage.text else [answer.text]
    lines += [f"“{passage.text}”", f"{passage.doc}:{passage.start}-{passage.end}"]
    return "\n".join(lines)


def render_reply(answer: Answer, turn: int | None = None) -> str:
    """The chat reply for ``answer`` as one sanitiser-safe HTML block.

    ``turn`` (the answer's place in the conversation, from 0) adds a "Show in
    document" link that opens the Document tab at the answer.
    """
    parts = [f'<div class="cppqa-reply" data-copy="{escape(plain_reply(answer))}">']
    if answer.query != answer.question:
        shown = escape(shorten(answer.query))
        parts.append(f'<p class="cppqa-meta">Understood as: <em>{shown}</em></p>')
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
        passage = answer.sources[0].passage
        meta = [
            f'<span title="calibrated confidence {answer.confidence:.2f}">'
            f"{level(answer.confidence)} confidence</span>",
            f"<code>{escape(passage.doc)}</code>",
        ]
        if turn is not None:
            meta.append(f'<a class="cppqa-show" href="#cppqa-turn-{turn}">Show in document</a>')
        parts.append(
            f'<p class="cppqa-meta">{" · ".join(meta)}</p>'
            f"<details><summary>Sources ({len(answer.sources)})</summary>"
            f"{_source_list(answer.sources)}</details>"
        )
    parts.append("</div>")
    return "".join(parts)


def render_notice(message: str) -> str:
    """A reply that is not an answer (the question could not be asked), as HTML."""
    return (
        f'<div class="cppqa-reply cppqa-notice" data-copy="{escape(message)}">'
        f"<p>{escape(message)}</p></div>"
    )


def render_document(
    documents: Sequence[Document], answer: Answer | None, turn: int | None = None
) -> str:
    """Every document, escaped, with ``answer``'s sentence in ``<mark id="cppqa-hit">``.

    ``turn`` (the answer's place in the conversation) is kept on the mark, so the
    page can tell that the highlight it asked for is the one shown.
    """
    answered = answer if answer and answer.text and answer.sources else None
    hit = answered.sources[0].passage if answered else None
    if answered:
        note = f"Highlighted: the sentence that answers “{escape(shorten(answered.question))}”."
    else:
        note = "Ask a question in the Chat tab: the sentence of the answer is highlighted here."
    data = "" if turn is None else f' data-turn="{turn}"'
    parts = [f'<div class="cppqa-document-view"><p class="cppqa-meta">{note}</p>']
    for document in documents:
        text = document.text
        if answered and hit and hit.doc == document.doc:
            body = (
                escape(text[: hit.start])
                + f'<mark id="cppqa-hit" tabindex="-1"{data}>'
                + f"{_marked_sentence(answered, tag='strong')}</mark>"
                + escape(text[hit.end :])
            )
        else:
            body = escape(text)
        parts.append(
            f'<article class="cppqa-document"><h2>{escape(document.title)}</h2>'
            f'<p class="cppqa-meta">{escape(document.doc)}</p>{body}</article>'
        )
    return "".join(parts) + "</div>"


def turns(answers: Sequence[Answer | None]) -> list[Turn]:
    """The conversation so far as ``Turn``s, as ``cppqa chat`` builds them.

    A question that could not be asked (None) is no turn.
    """
    return [
        Turn(
            a.question,
            a.query,
            a.text,
            a.sources[0].passage.text if a.sources and a.text else None,
        )
        for a in answers
        if a is not None
    ]


def turns_from_records(records: object) -> list[Turn]:
    """The earlier turns a ``/chat`` client sent (``TurnRecord``s), as ``Turn``s.

    Raises ``ValueError`` naming the turn and field that is not as expected.

    >>> turns_from_records([{"question": "Who leads?", "answer": "Imdad Qazi"}])
    [Turn(question='Who leads?', query='Who leads?', answer='Imdad Qazi', sentence=None)]
    """
    if records is None:
        return []
    if not isinstance(records, list):
        raise ValueError(f"history must be a list of earlier turns, not {type(records).__name__}")
    out = []
    for number, record in enumerate(records, 1):
        if not isinstance(record, dict):
            raise ValueError(
                f"history turn {number} must be an object with a 'question', "
                f"not {type(record).__name__}"
            )
        question = _field(record, "question", str, number)
        if question is None:
            raise ValueError(f"history turn {number} has no 'question'")
        query = _field(record, "query", str, number) or question
        answer = _field(record, "answer", str, number)
        sources = _field(record, "sources", list, number) or []
        sentence = None
        if answer and sources:
            first = sources[0]
            sentence = first.get("text") if isinstance(first, dict) else None
            if not isinstance(sentence, str):
                raise ValueError(f"history turn {number}: sources[0] has no 'text'")
        out.append(Turn(question, query, answer, sentence))
    return out


def reply(qa: QA, message: str, earlier: Sequence[Answer | None]) -> tuple[str, Answer | None]:
    """The page's reply to ``message`` after the ``earlier`` answers, and its answer.

    Never raises: a question that cannot be asked, or a failure while answering,
    is said in the chat (with no answer), so the chat stays usable.
    """
    try:
        answer = qa.ask(message, turns(earlier))
    except CppqaError as exc:
        return render_notice(_sentence(str(exc))), None
    except Exception:  # the page must stay usable; the log keeps the traceback
        log.exception("answering %r failed", message[:100])
        return render_notice(FAILED), None
    return render_reply(answer, len(earlier)), answer


def build_app(qa: QA) -> gr.Blocks:
    """The Gradio app: a chat tab, a document tab and the ``/ask`` and ``/chat`` endpoints."""
    limit = qa.settings.max_question_chars
    documents = qa.index.documents

    def respond(
        message: str, history: list[dict[str, Any]], answers: list[Answer | None]
    ) -> tuple[str, list[Answer | None]]:
        # One answer per assistant message: after a clear, undo or retry the
        # chat is shorter than the state, and the surplus answers are gone.
        done = sum(1 for m in history if m.get("role") == "assistant")
        earlier = list(answers[:done])
        html_reply, answer = reply(qa, message, earlier)
        return html_reply, [*earlier, answer]

    def check(message: str) -> dict[str, Any]:
        # A question that cannot be asked stays in the box, the reason shown above it.
        try:
            qa.validate(message)
        except CppqaError as exc:
            return gr.validate(False, _sentence(str(exc)))
        return gr.validate(True, "")

    def ask(question: str) -> AnswerRecord:
        """Answer one question; the JSON object of ``cppqa ask --json``."""
        return _record(_ask(qa, question))

    def chat(question: str, history: list[TurnRecord] | None = None) -> AnswerRecord:
        """Answer a question that may follow up on ``history``: the earlier turns,
        oldest first, as this endpoint returned them. Nothing is kept between calls."""
        try:
            earlier = turns_from_records(history)
        except ValueError as exc:
            raise gr.Error(str(exc), print_exception=False) from None
        return _record(_ask(qa, question, earlier))

    def show_latest(answers: list[Answer | None]) -> tuple[str, dict[str, Any]]:
        # The chat clears the textbox's placeholder while it answers; put it back.
        turn = len(answers) - 1
        page = render_document(documents, answers[-1] if answers else None, turn)
        return page, gr.update(placeholder=placeholder)

    def show_turn(turn: float | None, answers: list[Answer | None]) -> tuple[Any, Any]:
        number = int(turn) if turn is not None else -1
        if not 0 <= number < len(answers):
            return gr.skip(), gr.skip()
        return render_document(documents, answers[number], number), gr.Tabs(selected="document")

    placeholder = f"Ask a question (up to {limit:,} characters)…"
    with gr.Blocks(title="cppqa: " + TITLE, fill_height=True) as app:
        gr.HTML(
            f'<header id="cppqa-header"><h1>{escape(TITLE)}</h1><p>Answers are quoted word '
            'for word from the document, with their source.<span class="cppqa-wide"> Ask '
            "follow-ups; <em>Show in document</em> opens an answer in its place.</span></p>"
            "</header>",
            padding=False,
        )
        answers = gr.State([])
        with gr.Tabs() as tabs:
            with gr.Tab("Chat", id="chat"):
                chatbot = gr.Chatbot(
                    label="Chat",
                    elem_id="chatbot",
                    show_label=False,
                    height="calc(100dvh - 310px)",
                    min_height=300,
                    sanitize_html=True,
                    render_markdown=True,
                    latex_delimiters=[],
                    allow_tags=False,
                    feedback_options=None,
                    buttons=["copy"],
                    placeholder="Ask about the party's history, or pick an example.",
                )
                show_user_text_as_typed(chatbot)
                question = gr.Textbox(
                    placeholder=placeholder,
                    elem_id="question",
                    show_label=False,
                    label="Question",
                    autofocus=True,
                    submit_btn="Ask",  # a named button (the icon has no name)
                    stop_btn=False,
                )
                gr.ChatInterface(
                    respond,
                    chatbot=chatbot,
                    textbox=question,
                    additional_inputs=[answers],
                    additional_outputs=[answers],
                    examples=[[q] for q in EXAMPLES],
                    cache_examples=False,
                    api_name="page_chat",
                    api_visibility="private",
                    fill_height=False,
                    validator=check,
                )
                # Under the box (ChatInterface lays out the chat and the box where it is).
                gr.HTML(
                    f'<p id="cppqa-count" class="cppqa-meta" aria-live="polite" '
                    f'data-limit="{limit}" data-from="{COUNTER_FROM}"></p>',
                    elem_id="cppqa-counter",
                    padding=False,
                )
                # "Show in document" links click this hidden button; the page's script
                # gives the answer's turn (its ``js`` runs in the page before the server).
                show = gr.Button("Show in document", visible="hidden", elem_id="cppqa-show")
                turn = gr.Number(visible=False, precision=0)
            with gr.Tab("Document", id="document"):
                document = gr.HTML(render_document(documents, None))
        # The document too: a state set outside the queue does not trigger its .change.
        chatbot.clear(
            lambda: ([], render_document(documents, None)),
            None,
            [answers, document],
            api_visibility="private",
            queue=False,
        )
        answers.change(
            show_latest, answers, [document, question], api_visibility="private", queue=False
        )
        show.click(
            show_turn,
            [turn, answers],
            [document, tabs],
            js="(turn, answers) => [window.cppqaTurn ?? null, answers]",
            api_visibility="private",
            queue=False,
        )
        gr.api(_resolved(ask), api_name="ask")
        gr.api(_resolved(chat), api_name="chat")
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
        js=JS,
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
    """``qa.ask``, with its errors shown to the API client as a message."""
    try:
        return qa.ask(question, history)
    except CppqaError as exc:
        raise gr.Error(str(exc), print_exception=False) from None


def _record(answer: Answer) -> AnswerRecord:
    return cast(AnswerRecord, answer.to_json())


def _resolved(fn: _T) -> _T:
    """``fn`` with its annotations evaluated, for ``gr.api``.

    ``gr.api`` reads the return type with ``inspect.signature``, which under
    ``from __future__ import annotations`` is a string it cannot describe
    (``view_api`` then says "Any").
    """
    function = cast(Callable[..., Any], fn)
    function.__annotations__ = typing.get_type_hints(function)
    return fn


def _field(record: dict[str, Any], name: str, kind: type, number: int) -> Any:
    value = record.get(name)
    if value is not None and not isinstance(value, kind):
        raise ValueError(
            f"history turn {number}: {name!r} must be {kind.__name__}, not {type(value).__name__}"
        )
    return value


def _sentence(message: str) -> str:
    """An error message as a sentence: capital first letter, full stop.

    >>> _sentence("the question is empty; type a question")
    'The question is empty; type a question.'
    """
    message = message[:1].upper() + message[1:]
    return message if message.endswith((".", "?", "!")) else message + "."


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
