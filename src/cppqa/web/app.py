"""The web chat: a Gradio app over one loaded ``QA``, with uploads per session.

The only modules that import gradio are this one (the page and its events) and
``cppqa.web.api`` (the JSON endpoints). Answers are rendered by ``cppqa.web.render``, and a
session's uploaded documents are held by ``cppqa.uploads.sessions``; answering is
``QA.ask``'s job. The page keeps its conversation in the session. Where
``Settings.feedback_dir`` is set, replies carry Gradio's thumbs up and down, and each
vote on an answer is kept by ``cppqa.datasets.feedback``, built from the session's own answers.

>>> from cppqa.qa import QA                                   # doctest: +SKIP
>>> launch(build_app(QA.load()), "127.0.0.1", 7860)           # doctest: +SKIP
"""

from __future__ import annotations

import atexit
import html
import logging
import signal
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import gradio as gr
from gradio.components.chatbot import ChatbotDataMessages, TextMessage
from gradio.utils import get_upload_folder
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.responses import PlainTextResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from cppqa.config import Settings
from cppqa.datasets.feedback import Vote, record
from cppqa.documents.formats import SUFFIXES
from cppqa.errors import CppqaError
from cppqa.qa import QA
from cppqa.records import Answer, Document
from cppqa.search.index import fingerprint
from cppqa.search.progress import Step
from cppqa.uploads.sessions import Uploads, release, sweep_stale, unique_names
from cppqa.web.api import add_endpoints, client_of, forget, turns, unexpected
from cppqa.web.front import box_update, chat_update, invitation, render_header
from cppqa.web.page import CSS, JS, SYSTEM_MONO, SYSTEM_SANS
from cppqa.web.pageview import PageImages, render_pages
from cppqa.web.render import (
    as_sentence,
    escape,
    render_answering,
    render_document,
    render_notice,
    render_problem,
    render_reply,
)
from cppqa.web.welcome import SHIPPED, expired, idle_time, subject_of, welcome_for

log = logging.getLogger(__name__)

#: The shipped document's example questions (an upload's are made from its text).
EXAMPLES = SHIPPED.examples
#: Sized for a 2-CPU machine (a free Space): an answer is one short CPU burst (one
#: MiniLM encoding, two small searches), so two at once keep both cores busy.
CONCURRENCY = 2
#: Requests waiting beyond this are refused ("queue full") instead of piling up.
QUEUE_SIZE = 64
#: Largest request body accepted, except uploads. The page sends the whole conversation
#: with some events (~1.3 kB per exchange, measured), so this allows ~700 exchanges.
MAX_REQUEST_BYTES = 1_000_000
#: The character counter under the box appears from this share of the limit on.
COUNTER_FROM = 0.8
#: Most browser sessions whose state (conversation, components) Gradio keeps; the least
#: recently used is forgotten beyond. Gradio's default, 10,000, let memory grow by about
#: 57 KB a session (every request from a new client is one) to gigabytes.
STATE_SESSIONS = 256
#: How the user's own message is shown: its text as inert HTML, in one raw HTML block,
#: so that no Markdown (an image, a link) is rendered from it.
ASKED = '<div class="cppqa-asked">{}</div>'
#: Gradio's own copies of uploaded files that no event took (the page closed first)
#: are deleted when older than this many seconds, checked as often.
CACHE_SECONDS = 600
#: How often idle uploads are looked for, in seconds (at most; sooner for a short idle time).
SWEEP_SECONDS = 60.0
#: The path of Gradio's upload route: the one route whose bodies may be documents.
UPLOAD_PATH = "/gradio_api/upload"
#: Leave an output as it is (``gr.skip()`` is made when an event returns).
KEEP = object()
#: Said under the box when votes are kept (``Settings.feedback_dir``).
FEEDBACK_NOTE = (
    "Your thumbs up/down are saved with your questions and the answers, to improve the reader."
)
#: The height the note takes under the box, in pixels (two lines on a 390 px phone, measured).
NOTE_PX = 60
#: The most lines the question box grows to; a longer question scrolls in it.
BOX_LINES = 5
#: Told to the one whose vote could not be written; the chat goes on.
NOT_SAVED = "Your vote could not be saved. The chat works as before."


def reply(qa: QA, message: str, earlier: Sequence[Answer | None]) -> tuple[str, Answer | None]:
    """The page's reply to ``message`` after the ``earlier`` answers, and its answer.

    Never raises: a question that cannot be asked, or a failure while answering,
    is said in the chat (with no answer), so the chat stays usable.
    """
    try:
        answer = qa.ask(message, turns(earlier))
    except CppqaError as exc:
        return render_notice(as_sentence(str(exc))), None
    except Exception:  # the page must stay usable; the log keeps the traceback
        return render_notice(unexpected("answering")), None
    return render_reply(answer, len(earlier)), answer


def answer_turn(history: Sequence[dict[str, Any]], index: Any) -> int | None:
    """Which reply the chat message at ``index`` is (0: the first), or None when it
    is not a reply. Replies are counted as ``build_app``'s chat keeps its answers.

    >>> chat = [{"role": "user"}, {"role": "assistant"}, {"role": "user"}, {"role": "assistant"}]
    >>> answer_turn(chat, 3), answer_turn(chat, 2)
    (1, None)
    """
    if not isinstance(index, int) or not 0 <= index < len(history):
        return None
    if history[index].get("role") != "assistant":
        return None
    return sum(1 for m in history[:index] if m.get("role") == "assistant")


def vote_for(
    answers: Sequence[Answer | None], turn: int, liked: bool, corpus: str | None = None
) -> Vote | None:
    """The vote ``liked`` on the ``turn``-th reply, made from the session's own answers;
    None when that reply is not an answer (a notice, an error) or not known.

    The history is the conversation's earlier answers as (question, answer) pairs,
    the questions as typed; replies that were not answers are no turns, as in ``turns``.
    """
    if not 0 <= turn < len(answers):
        return None
    answer = answers[turn]
    if answer is None:
        return None
    history = tuple((a.question, a.text) for a in answers[:turn] if a is not None)
    quoted = answer.sources[0].passage if answer.text is not None else None
    return Vote(
        question=answer.question,
        query=answer.query,
        answer=answer.text,
        liked=liked,
        doc=quoted.doc if quoted else None,
        start=answer.start if quoted else None,
        sentence=quoted.text if quoted else None,
        history=history,
        corpus=corpus,
    )


def keep_vote(
    folder: Path,
    history: Sequence[dict[str, Any]],
    answers: Sequence[Answer | None],
    like: gr.LikeData,
    corpus: str | None = None,
) -> Vote | None:
    """Record the thumbs up or down ``like`` on a reply in ``folder``; the vote kept.
    ``corpus`` is the fingerprint of the documents that answered (the shipped ones or
    the session's uploads): readers of the file keep the votes of their corpus only.

    Only Gradio's "Like" (``liked`` True) and "Dislike" (False) are votes. Clicking a
    lit thumb again withdraws it on the page, and Gradio then sends ``liked=""``:
    nothing is written, and a line already written stays (the file is only appended
    to). Nothing is kept for a reply that is not an answer. A vote that cannot be
    written is logged and told to its user in a short warning; it never raises.

    >>> like = gr.LikeData(None, {"index": 1, "value": [], "liked": True})  # the 1st reply
    >>> chat = [{"role": "user"}, {"role": "assistant"}]
    >>> keep_vote(Path("feedback"), chat, [qa.ask("When?")], like).liked  # doctest: +SKIP
    True
    """
    if not isinstance(like.liked, bool):
        return None
    turn = answer_turn(history, like.index)
    vote = vote_for(answers, turn, like.liked, corpus) if turn is not None else None
    if vote is None:
        return None
    try:
        record(folder, vote)
    except OSError as exc:
        log.warning("could not keep a vote in %s: %s", folder, exc)
        gr.Warning(NOT_SAVED)
        return None
    return vote


def voting(folder: Path, corpus_of: Callable[[str], str | None]) -> Callable[..., None]:
    """The chat's like-event handler: ``keep_vote`` into ``folder``, with the fingerprint
    ``corpus_of`` gives for the session's key (None once its uploads are gone)."""

    def voted(
        history: list[dict[str, Any]], answers: list[Answer | None], key: str, like: gr.LikeData
    ) -> None:
        keep_vote(folder, history, answers, like, corpus_of(key))

    return voted


def build_app(qa: QA, uploads: Uploads | None = None) -> gr.Blocks:
    """The Gradio app: a chat tab, a document tab, an upload tab and the API endpoints.

    With ``Settings.feedback_dir`` set, replies have thumbs up and down (``keep_vote``)
    and a line under the box says that votes are kept; without it, neither.
    ``uploads`` holds what sessions upload (default: a new ``Uploads`` over ``qa`` taking
    files from Gradio's upload folder alone, swept for idle ones in the background and
    emptied when the process exits; folders an earlier, killed run left are removed).
    """
    if uploads is None:
        sweep_stale()
        uploads = Uploads(qa, incoming=Path(get_upload_folder()))
        uploads.sweep_every(min(SWEEP_SECONDS, qa.settings.upload_idle_seconds / 2))
        atexit.register(uploads.close)
    held = uploads  # for the closures below: a narrowed name
    limit = qa.settings.max_question_chars
    shipped = qa.index.documents
    votes_in = qa.settings.feedback_dir  # None: no thumbs, nothing kept
    images = PageImages()  # PDF pages drawn for "Show in document", per session

    def answering(key: str) -> QA | None:
        """The QA a session answers from: its uploads' (None: removed), else the shipped."""
        return held.get(key) if key else qa

    def documents(key: str) -> tuple[Document, ...]:
        asked = answering(key)
        return asked.index.documents if asked is not None else shipped

    def corpus_of(key: str) -> str | None:
        asked = answering(key)
        return fingerprint(asked.index.documents) if asked is not None else None

    def respond(
        message: str, history: list[dict[str, Any]], answers: list[Answer | None], key: str
    ) -> tuple[str, list[Answer | None], str]:
        # One answer per assistant message: after a clear, undo or retry the
        # chat is shorter than the state, and the surplus answers are gone.
        done = sum(1 for m in history if m.get("role") == "assistant")
        earlier = list(answers[:done])
        asked = answering(key)
        if asked is None:
            return render_notice(expired(qa.settings)), [*earlier, None], ""
        html_reply, answer = reply(asked, message, earlier)
        return html_reply, [*earlier, answer], key

    def check(message: str) -> dict[str, Any]:
        # A question that cannot be asked stays in the box, the reason shown above it.
        try:
            qa.validate(message)
        except CppqaError as exc:
            return gr.validate(False, as_sentence(str(exc)))
        return gr.validate(True, "")

    def show_latest(answers: list[Answer | None], key: str) -> tuple[str, dict[str, Any]]:
        # The chat clears the textbox's placeholder while it answers; put it back.
        turn = len(answers) - 1
        page = render_document(documents(key), answers[-1] if answers else None, turn)
        asked = held.get(key) if key else None
        return page, box_update(subject_of(asked.index.documents if asked else None), limit)

    def show_turn(
        turn: float | None, answers: list[Answer | None], key: str, request: gr.Request
    ) -> tuple[Any, Any]:
        number = int(turn) if turn is not None else -1
        if not 0 <= number < len(answers):
            return gr.skip(), gr.skip()
        answer, asked = answers[number], answering(key)
        # A PDF's answer on its page, drawn now (once a session), above the text view.
        pages = (
            ""
            if answer is None or asked is None
            else render_pages(answer, asked.settings, images, request.session_hash or "", number)
        )
        page = render_document(documents(key), answer, number, pages)
        return page, gr.Tabs(selected="document")

    def added(
        paths: list[str] | None,
        request: gr.Request,
        progress: gr.Progress = gr.Progress(),  # noqa: B008 (how Gradio asks for one)
    ) -> tuple[Any, ...]:
        """Read and index the files dropped in the box, for this session alone."""
        key = request.session_hash or ""
        if not paths:
            return removed(paths, request)
        files = [(Path(path), Path(path).name) for path in paths]

        def told(step: Step) -> None:
            progress(step.share, desc=step.describe())

        try:
            asked = held.add(key, files, told, client=client_of(request))
        except Exception as exc:
            held.drop(key)  # the box is emptied: the chat answers from the shipped document
            said = str(exc) if isinstance(exc, CppqaError) else unexpected("reading your files")
            return shown(None, "", problem=said, files=None)
        finally:
            release(files)  # Gradio's folders for the files
            forget(app, paths)
        return shown(asked, key, tab="chat")

    def removed(paths: list[str] | None, request: gr.Request) -> tuple[Any, ...]:
        """Answer from the files left in the box; from the shipped document when none is."""
        key = request.session_hash or ""
        names = unique_names([Path(path).name for path in paths or []])
        try:
            asked = held.keep(key, names)
        except Exception as exc:
            held.drop(key)
            said = str(exc) if isinstance(exc, CppqaError) else unexpected("reading your files")
            return shown(None, "", problem=said, files=None)
        if asked is None:
            return shown(None, "", files=None if paths else gr.skip())
        return shown(asked, key)

    def shown(
        asked: QA | None,
        key: str,
        *,
        problem: str = "",
        tab: str | None = None,
        files: Any = KEEP,
    ) -> tuple[Any, ...]:
        """What the page shows for the uploads ``asked`` (None: the shipped document): its
        title, prompts and examples, and a new, empty conversation."""
        docs = asked.index.documents if asked is not None else shipped
        greeting = SHIPPED if asked is None else welcome_for(docs, asked.index.sentences)
        return (
            render_problem(problem) if problem else "",
            render_answering(docs, uploaded=bool(key)),
            key,
            [],
            chat_update(greeting, empty=True),
            render_document(docs, None),
            gr.Tabs(selected=tab) if tab else gr.skip(),
            gr.skip() if files is KEEP else files,
            render_header(greeting),
            box_update(greeting.subject, limit),
        )

    def forgotten(key: str) -> tuple[Any, ...]:
        # The chat found the session's uploads gone: show the shipped document again,
        # leaving the chat's messages (the last one says so).
        if key:
            return (gr.skip(),) * 6
        return (
            render_answering(shipped, uploaded=False),
            render_document(shipped, None),
            None,
            render_header(SHIPPED),
            chat_update(SHIPPED, empty=False),
            box_update(SHIPPED.subject, limit),
        )

    def end(request: gr.Request) -> None:
        held.drop(request.session_hash or "")
        images.drop(request.session_hash or "")

    with gr.Blocks(
        title="cppqa: " + SHIPPED.title,
        fill_height=True,
        delete_cache=(CACHE_SECONDS, CACHE_SECONDS),
    ) as app:
        header = gr.HTML(render_header(SHIPPED), padding=False)
        answering_line = gr.HTML(
            render_answering(shipped, uploaded=False), elem_id="cppqa-answering", padding=False
        )
        answers = gr.State([])
        key = gr.State("")  # the session whose uploads the chat answers from; "": none
        with gr.Tabs() as tabs:
            with gr.Tab("Chat", id="chat"):
                chatbot = gr.Chatbot(
                    label="Chat",
                    elem_id="chatbot",
                    show_label=False,
                    # 310 px, the "Answering from" line, the note on votes where shown, and
                    # what a long question adds to the box (the page's script measures it)
                    height=f"calc(100dvh - {361 + (NOTE_PX if votes_in is not None else 0)}px"
                    " - var(--cppqa-grown, 0px))",
                    min_height=300,
                    sanitize_html=True,
                    render_markdown=True,
                    latex_delimiters=[],
                    allow_tags=False,
                    feedback_options=("Like", "Dislike") if votes_in is not None else None,
                    buttons=["copy"],
                    placeholder=invitation(SHIPPED),
                )
                show_user_text_as_typed(chatbot)
                question = gr.Textbox(
                    placeholder=SHIPPED.prompt(limit),
                    elem_id="question",
                    show_label=False,
                    label="Question",
                    autofocus=True,
                    max_lines=BOX_LINES,
                    submit_btn="Ask",  # a named button (the icon has no name)
                    stop_btn=False,
                )
                gr.ChatInterface(
                    respond,
                    chatbot=chatbot,
                    textbox=question,
                    additional_inputs=[answers, key],
                    additional_outputs=[answers, key],
                    examples=[[q] for q in SHIPPED.examples],
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
                if votes_in is not None:
                    gr.HTML(
                        f'<p class="cppqa-meta">{escape(FEEDBACK_NOTE)}</p>',
                        elem_id="cppqa-feedback-note",
                        padding=False,
                    )
                # "Show in document" links click this hidden button; the page's script
                # gives the answer's turn (its ``js`` runs in the page before the server).
                show = gr.Button("Show in document", visible="hidden", elem_id="cppqa-show")
                turn = gr.Number(visible=False, precision=0)
            with gr.Tab("Document", id="document"):
                document = gr.HTML(render_document(shipped, None))
            with gr.Tab("Add files", id="upload"):
                gr.HTML(
                    '<p class="cppqa-upload-help">Drop PDF, Word (.docx), web pages (.html), '
                    f"Markdown or text files here, up to {qa.settings.max_upload_files} at a "
                    f"time and {qa.settings.max_file_bytes // 1_000_000} MB each. The chat then "
                    "answers from them instead of the shipped document. They belong to this "
                    "browser tab alone and are deleted when you close it or after "
                    f"{idle_time(qa.settings)} unused. To add more, clear the box and drop "
                    "them all together; clear it to ask the shipped document again.</p>",
                    padding=False,
                )
                files = gr.File(
                    label="Documents to ask about",
                    file_count="multiple",
                    file_types=list(SUFFIXES),
                    type="filepath",
                    elem_id="cppqa-files",
                )
                status = gr.HTML("", elem_id="cppqa-upload-status", padding=False)
        outputs = [status, answering_line, key, answers, chatbot, document, tabs, files]
        outputs += [header, question]
        files.upload(added, files, outputs, api_visibility="private", show_progress_on=[files])
        for event in (files.clear, files.delete):
            event(removed, files, outputs, api_visibility="private")
        key.change(
            forgotten,
            key,
            [answering_line, document, files, header, chatbot, question],
            api_visibility="private",
            queue=False,
        )
        # The document too: a state set outside the queue does not trigger its .change.
        chatbot.clear(
            lambda key: ([], render_document(documents(key), None)),
            key,
            [answers, document],
            api_visibility="private",
            queue=False,
        )
        if votes_in is not None:
            # In click order, one at a time: a changed mind is the later line.
            chatbot.like(
                voting(votes_in, corpus_of),
                [chatbot, answers, key],
                None,
                api_visibility="private",
                trigger_mode="multiple",
                concurrency_limit=1,
            )
        answers.change(
            show_latest,
            [answers, key],
            [document, question],
            api_visibility="private",
            queue=False,
        )
        show.click(
            show_turn,
            [turn, answers, key],
            [document, tabs],
            js="(turn, answers, key) => [window.cppqaTurn ?? null, answers, key]",
            api_visibility="private",
            queue=False,
        )
        app.unload(end)
        add_endpoints(qa, held, app)
    app.queue(default_concurrency_limit=CONCURRENCY, max_size=QUEUE_SIZE)
    return app


def launch(app: gr.Blocks, server_name: str, server_port: int, **options: Any) -> None:
    """Serve ``app`` with the safety settings: request sizes capped, no files served,
    no monitoring, at most ``STATE_SESSIONS`` sessions' state kept. Uploads are
    documents, as large as ``Settings.max_file_bytes`` each. SIGTERM stops the server as
    Ctrl-C does, so that uploads are removed (``atexit``) when a service manager stops it."""
    if threading.current_thread() is threading.main_thread() and not options.get(
        "prevent_thread_lock"
    ):  # Gradio then waits in this thread, and turns the interrupt into a clean stop
        signal.signal(signal.SIGTERM, _interrupt)
    settings = Settings.from_env()
    theme = gr.themes.Soft(primary_hue="red", font=SYSTEM_SANS, font_mono=SYSTEM_MONO)
    # A multipart body is the files plus a little framing for each.
    upload_bytes = settings.max_upload_files * (settings.max_file_bytes + 64 * 1024)
    middleware = [
        Middleware(
            BodyLimit,
            max_bytes=MAX_REQUEST_BYTES,
            larger={UPLOAD_PATH: upload_bytes},
        )
    ]
    app.launch(
        server_name=server_name,
        server_port=server_port,
        theme=theme,
        css=CSS,
        js=JS,
        max_file_size=settings.max_file_bytes,
        app_kwargs={"middleware": middleware},
        enable_monitoring=False,
        run_history=False,
        mcp_server=False,
        ssr_mode=False,
        footer_links=["api"],
        state_session_capacity=STATE_SESSIONS,
        # Our handlers turn every failure into a message (cppqa.web.api.guarded); this lets
        # Gradio's own refusals say why too (a path not uploaded here), not {"error": null}.
        show_error=True,
        **options,
    )


def _interrupt(signum: int, frame: Any) -> None:
    """SIGTERM as Ctrl-C: Gradio closes the server, then the process exits normally."""
    raise KeyboardInterrupt


class BodyLimit:
    """ASGI middleware: refuse request bodies over ``max_bytes`` with 413.

    ``larger`` gives some paths (the upload route) a limit of their own. Checks
    ``Content-Length`` up front and counts the bytes of bodies sent without one
    (chunked), so neither way can make the server buffer more.
    """

    def __init__(self, app: ASGIApp, max_bytes: int, larger: dict[str, int] | None = None) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.larger = larger or {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.larger.get(scope.get("path", "").rstrip("/"), self.max_bytes)
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > limit):
            await self._refuse(scope, receive, send, limit)
            return
        received = 0

        async def counted() -> Message:
            nonlocal received
            message = await receive()
            received += len(message.get("body", b""))
            if received > limit:
                raise HTTPException(413, self._reason(limit))
            return message

        await self.app(scope, counted, send)

    @staticmethod
    def _reason(limit: int) -> str:
        return f"request body too large: the limit is {limit:,} bytes"

    async def _refuse(self, scope: Scope, receive: Receive, send: Send, limit: int) -> None:
        await PlainTextResponse(self._reason(limit), status_code=413)(scope, receive, send)


def show_user_text_as_typed(chatbot: gr.Chatbot) -> gr.Chatbot:
    """Make ``chatbot`` show the user's messages as typed: plain text, never HTML or
    Markdown.

    Gradio renders a user's message as (sanitised) Markdown and HTML, so
    ``<img src=x onerror=alert(1)>`` would show as a broken image and
    ``![t](http://host/track.png)`` would be fetched. This sends user text to the page
    as ``ASKED``: every character that could be markup as a numeric reference, in one
    raw HTML block (which Markdown leaves alone), and takes it back on its way in, so
    the server always sees exactly what was typed. Replies are left alone: they are
    built from escaped text already. (Wrapping the instance, not subclassing: Gradio
    writes a ``.pyi`` file beside any module defining a component class.)
    """
    postprocess, preprocess = chatbot.postprocess, chatbot.preprocess
    opening, closing = ASKED.split("{}")

    def escaped(value: Any) -> ChatbotDataMessages:
        data = postprocess(value)
        for message in data.root:
            if message.role == "user":
                for part in message.content:
                    if isinstance(part, TextMessage):
                        part.text = ASKED.format(escape(part.text))
        return data

    def unescaped(payload: ChatbotDataMessages | None) -> list[Any]:
        messages = preprocess(payload)
        for message in messages:
            if message["role"] == "user":
                for part in message["content"]:
                    if isinstance(part, dict) and part.get("type") == "text":
                        text = str(part.get("text", ""))
                        if text.startswith(opening) and text.endswith(closing):
                            text = text[len(opening) : len(text) - len(closing)]
                        part["text"] = html.unescape(text)  # type: ignore[typeddict-unknown-key]
        return messages

    chatbot.postprocess = escaped  # type: ignore[method-assign]
    chatbot.preprocess = unescaped  # type: ignore[method-assign]
    return chatbot
