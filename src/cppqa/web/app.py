"""The web chat: a Gradio app over one loaded ``QA``, with uploads per session.

``build_app`` lays the page out (a chat tab, a document tab, an upload tab) and wires
its events to ``cppqa.web.events.PageEvents``; the JSON endpoints are
``cppqa.web.api``'s, and ``launch`` (``cppqa.web.server``) serves the app. Answers are
rendered by ``cppqa.web.render``, and a session's uploaded documents are held by
``cppqa.uploads.sessions``; answering is ``QA.ask``'s job. The page keeps its
conversation in the session. Where ``Settings.feedback_dir`` is set, replies carry
Gradio's thumbs up and down, and each vote on an answer is kept (``cppqa.web.votes``).
Only ``cppqa.web``'s modules import gradio, and nothing imports them at ``import cppqa``.

>>> from cppqa.qa import QA                                   # doctest: +SKIP
>>> launch(build_app(QA.load()), "127.0.0.1", 7860)           # doctest: +SKIP
"""

from __future__ import annotations

import atexit
from dataclasses import dataclass
from pathlib import Path

import gradio as gr
from gradio.utils import get_upload_folder

from cppqa.config import Settings
from cppqa.documents.formats import SUFFIXES
from cppqa.qa import QA
from cppqa.uploads.files import sweep_stale
from cppqa.uploads.sessions import Uploads
from cppqa.web.api import add_endpoints
from cppqa.web.chat import show_user_text_as_typed
from cppqa.web.events import PageEvents
from cppqa.web.front import invitation, render_header
from cppqa.web.render import escape, render_answering, render_document
from cppqa.web.votes import voting
from cppqa.web.welcome import SHIPPED, idle_time

#: The shipped document's example questions (an upload's are made from its text).
EXAMPLES = SHIPPED.examples
#: Sized for a 2-CPU machine (a free Space): an answer is one short CPU burst (one
#: MiniLM encoding, two small searches), so two at once keep both cores busy.
CONCURRENCY = 2
#: Requests waiting beyond this are refused ("queue full") instead of piling up.
QUEUE_SIZE = 64
#: The character counter under the box appears from this share of the limit on.
COUNTER_FROM = 0.8
#: Gradio's own copies of uploaded files that no event took (the page closed first)
#: are deleted when older than this many seconds, checked as often.
CACHE_SECONDS = 600
#: How often idle uploads are looked for, in seconds (at most; sooner for a short idle time).
SWEEP_SECONDS = 60.0
#: Said under the box when votes are kept (``Settings.feedback_dir``).
FEEDBACK_NOTE = (
    "Your thumbs up/down are saved with your questions and the answers, to improve the reader."
)
#: The height the note takes under the box, in pixels (two lines on a 390 px phone, measured).
NOTE_PX = 60
#: The most lines the question box grows to; a longer question scrolls in it.
BOX_LINES = 5


@dataclass(frozen=True)
class Layout:
    """The page's components that its events read or change."""

    header: gr.HTML
    answering: gr.HTML  # the "Answering from" line
    answers: gr.State  # the session's answers, one per reply (None: not an answer)
    key: gr.State  # the session whose uploads the chat answers from; "": none
    tabs: gr.Tabs
    chatbot: gr.Chatbot
    question: gr.Textbox
    show: gr.Button  # clicked by "Show in document" links
    turn: gr.Number  # the answer "Show in document" shows
    document: gr.HTML
    files: gr.File
    status: gr.HTML  # what went wrong with an upload


def build_app(qa: QA, uploads: Uploads | None = None) -> gr.Blocks:
    """The Gradio app: a chat tab, a document tab, an upload tab and the API endpoints.

    With ``Settings.feedback_dir`` set, replies have thumbs up and down
    (``cppqa.web.votes.keep_vote``) and a line under the box says that votes are kept;
    without it, neither. ``uploads`` holds what sessions upload (default: a new
    ``Uploads`` over ``qa`` taking files from Gradio's upload folder alone, swept for
    idle ones in the background and emptied when the process exits; folders an earlier,
    killed run left are removed).
    """
    if uploads is None:
        sweep_stale()
        uploads = Uploads(qa, incoming=Path(get_upload_folder()))
        uploads.sweep_every(min(SWEEP_SECONDS, qa.settings.upload_idle_seconds / 2))
        atexit.register(uploads.close)
    app = gr.Blocks(
        title="cppqa: " + SHIPPED.title,
        fill_height=True,
        delete_cache=(CACHE_SECONDS, CACHE_SECONDS),
    )
    events = PageEvents(qa, uploads, app)
    with app:
        layout = _layout(events)
        _wire_uploads(layout, events)
        _wire_chat(layout, events, qa.settings.feedback_dir)
        app.unload(events.end)
        add_endpoints(qa, uploads, app)
    app.queue(default_concurrency_limit=CONCURRENCY, max_size=QUEUE_SIZE)
    return app


def _layout(events: PageEvents) -> Layout:
    """The page, top to bottom: the title, the "Answering from" line, and the tabs."""
    header = gr.HTML(render_header(SHIPPED), padding=False)
    answering = gr.HTML(
        render_answering(events.shipped, uploaded=False), elem_id="cppqa-answering", padding=False
    )
    answers = gr.State([])
    key = gr.State("")
    with gr.Tabs() as tabs:
        with gr.Tab("Chat", id="chat"):
            chatbot, question, show, turn = _chat_tab(events, answers, key)
        with gr.Tab("Document", id="document"):
            document = gr.HTML(render_document(events.shipped, None))
        with gr.Tab("Add files", id="upload"):
            files, status = _upload_tab(events.qa.settings)
    return Layout(
        header=header,
        answering=answering,
        answers=answers,
        key=key,
        tabs=tabs,
        chatbot=chatbot,
        question=question,
        show=show,
        turn=turn,
        document=document,
        files=files,
        status=status,
    )


def _chat_tab(
    events: PageEvents, answers: gr.State, key: gr.State
) -> tuple[gr.Chatbot, gr.Textbox, gr.Button, gr.Number]:
    """The chat, its question box, the counter (and the note on votes) under the box, and
    the hidden parts of "Show in document"."""
    votes_kept = events.qa.settings.feedback_dir is not None
    chatbot = show_user_text_as_typed(_chatbot(votes_kept))
    question = gr.Textbox(
        placeholder=SHIPPED.prompt(events.limit),
        elem_id="question",
        show_label=False,
        label="Question",
        autofocus=True,
        max_lines=BOX_LINES,
        submit_btn="Ask",  # a named button (the icon has no name)
        stop_btn=False,
    )
    gr.ChatInterface(
        events.respond,
        chatbot=chatbot,
        textbox=question,
        additional_inputs=[answers, key],
        additional_outputs=[answers, key],
        examples=[[q] for q in SHIPPED.examples],
        cache_examples=False,
        api_name="page_chat",
        api_visibility="private",
        fill_height=False,
        validator=events.check,
    )
    # Under the box (ChatInterface lays out the chat and the box where it is).
    gr.HTML(
        f'<p id="cppqa-count" class="cppqa-meta" aria-live="polite" '
        f'data-limit="{events.limit}" data-from="{COUNTER_FROM}"></p>',
        elem_id="cppqa-counter",
        padding=False,
    )
    if votes_kept:
        gr.HTML(
            f'<p class="cppqa-meta">{escape(FEEDBACK_NOTE)}</p>',
            elem_id="cppqa-feedback-note",
            padding=False,
        )
    # "Show in document" links click this hidden button; the page's script
    # gives the answer's turn (its ``js`` runs in the page before the server).
    show = gr.Button("Show in document", visible="hidden", elem_id="cppqa-show")
    turn = gr.Number(visible=False, precision=0)
    return chatbot, question, show, turn


def _chatbot(votes_kept: bool) -> gr.Chatbot:
    """The chat's messages, with thumbs up and down where ``votes_kept``."""
    return gr.Chatbot(
        label="Chat",
        elem_id="chatbot",
        show_label=False,
        # 310 px, the "Answering from" line, the note on votes where shown, and
        # what a long question adds to the box (the page's script measures it)
        height=f"calc(100dvh - {361 + (NOTE_PX if votes_kept else 0)}px - var(--cppqa-grown, 0px))",
        min_height=300,
        sanitize_html=True,
        render_markdown=True,
        latex_delimiters=[],
        allow_tags=False,
        feedback_options=("Like", "Dislike") if votes_kept else None,
        buttons=["copy"],
        placeholder=invitation(SHIPPED),
    )


def _upload_tab(settings: Settings) -> tuple[gr.File, gr.HTML]:
    """What the upload tab says, its box for files, and the line for what went wrong."""
    gr.HTML(
        '<p class="cppqa-upload-help">Drop PDF, Word (.docx), web pages (.html), '
        f"Markdown or text files here, up to {settings.max_upload_files} at a "
        f"time and {settings.max_file_bytes // 1_000_000} MB each. The chat then "
        "answers from them instead of the shipped document. They belong to this "
        "browser tab alone and are deleted when you close it or after "
        f"{idle_time(settings)} unused. To add more, clear the box and drop "
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
    return files, status


def _wire_uploads(page: Layout, events: PageEvents) -> None:
    """Files dropped or cleared, and uploads gone while idle: the page follows the
    documents the session answers from (``PageEvents.shown`` and ``.forgotten``)."""
    outputs = [
        *(page.status, page.answering, page.key, page.answers, page.chatbot, page.document),
        *(page.tabs, page.files, page.header, page.question),
    ]
    page.files.upload(
        events.added, page.files, outputs, api_visibility="private", show_progress_on=[page.files]
    )
    for event in (page.files.clear, page.files.delete):
        event(events.removed, page.files, outputs, api_visibility="private")
    page.key.change(
        events.forgotten,
        page.key,
        [page.answering, page.document, page.files, page.header, page.chatbot, page.question],
        api_visibility="private",
        queue=False,
    )


def _wire_chat(page: Layout, events: PageEvents, votes_in: Path | None) -> None:
    """The chat cleared, voted on (where ``votes_in``, the folder votes are kept in),
    answered, and an answer shown in the document."""
    # The document too: a state set outside the queue does not trigger its .change.
    page.chatbot.clear(
        lambda key: ([], render_document(events.documents(key), None)),
        page.key,
        [page.answers, page.document],
        api_visibility="private",
        queue=False,
    )
    if votes_in is not None:
        # In click order, one at a time: a changed mind is the later line.
        page.chatbot.like(
            voting(votes_in, events.corpus_of),
            [page.chatbot, page.answers, page.key],
            None,
            api_visibility="private",
            trigger_mode="multiple",
            concurrency_limit=1,
        )
    page.answers.change(
        events.show_latest,
        [page.answers, page.key],
        [page.document, page.question],
        api_visibility="private",
        queue=False,
    )
    page.show.click(
        events.show_turn,
        [page.turn, page.answers, page.key],
        [page.document, page.tabs],
        js="(turn, answers, key) => [window.cppqaTurn ?? null, answers, key]",
        api_visibility="private",
        queue=False,
    )
