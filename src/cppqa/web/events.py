"""What the page does on each of its events, over one shipped ``QA`` and the sessions'
``Uploads``: answer in the chat, show an answer in the document, take and clear uploads,
and follow the documents a session answers from.

``cppqa.web.app`` lays the page out and wires each event to one ``PageEvents`` method;
each method's outputs are the components that event lists, in that order.

>>> events = PageEvents(qa, Uploads(qa), app)                       # doctest: +SKIP
>>> events.respond("Who is the General Secretary?", [], [], "")[2]   # doctest: +SKIP
''
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import gradio as gr

from cppqa.errors import CppqaError
from cppqa.qa import QA
from cppqa.records import Answer, Document
from cppqa.search.index import fingerprint
from cppqa.search.progress import Step
from cppqa.uploads.files import release, unique_names
from cppqa.uploads.sessions import Uploads
from cppqa.web.api import client_of, forget, unexpected
from cppqa.web.chat import reply
from cppqa.web.front import box_update, chat_update, render_header
from cppqa.web.pageview import PageImages, render_pages
from cppqa.web.render import (
    as_sentence,
    render_answering,
    render_document,
    render_notice,
    render_problem,
)
from cppqa.web.welcome import SHIPPED, expired, subject_of, welcome_for

#: Leave an output as it is (``gr.skip()`` is made when an event returns).
KEEP = object()


class PageEvents:
    """The page's event handlers over ``qa`` (the shipped documents) and ``uploads`` (what
    sessions upload), for the Gradio app ``app`` (whose lists of files to delete are kept
    in step as uploads are taken). A session's key is its ``session_hash`` while its
    uploads answer, "" while the shipped documents do."""

    def __init__(self, qa: QA, uploads: Uploads, app: gr.Blocks) -> None:
        self.qa = qa
        self.uploads = uploads
        self.app = app
        self.limit = qa.settings.max_question_chars
        self.shipped = qa.index.documents
        self.images = PageImages()  # PDF pages drawn for "Show in document", per session

    def answering(self, key: str) -> QA | None:
        """The QA a session answers from: its uploads' (None: removed), else the shipped."""
        return self.uploads.get(key) if key else self.qa

    def documents(self, key: str) -> tuple[Document, ...]:
        asked = self.answering(key)
        return asked.index.documents if asked is not None else self.shipped

    def corpus_of(self, key: str) -> str | None:
        asked = self.answering(key)
        return fingerprint(asked.index.documents) if asked is not None else None

    def respond(
        self, message: str, history: list[dict[str, Any]], answers: list[Answer | None], key: str
    ) -> tuple[str, list[Answer | None], str]:
        # One answer per assistant message: after a clear, undo or retry the
        # chat is shorter than the state, and the surplus answers are gone.
        done = sum(1 for m in history if m.get("role") == "assistant")
        earlier = list(answers[:done])
        asked = self.answering(key)
        if asked is None:
            return render_notice(expired(self.qa.settings)), [*earlier, None], ""
        html_reply, answer = reply(asked, message, earlier)
        return html_reply, [*earlier, answer], key

    def check(self, message: str) -> dict[str, Any]:
        # A question that cannot be asked stays in the box, the reason shown above it.
        try:
            self.qa.validate(message)
        except CppqaError as exc:
            return gr.validate(False, as_sentence(str(exc)))
        return gr.validate(True, "")

    def show_latest(self, answers: list[Answer | None], key: str) -> tuple[str, dict[str, Any]]:
        # The chat clears the textbox's placeholder while it answers; put it back.
        turn = len(answers) - 1
        page = render_document(self.documents(key), answers[-1] if answers else None, turn)
        asked = self.uploads.get(key) if key else None
        subject = subject_of(asked.index.documents if asked else None)
        return page, box_update(subject, self.limit)

    def show_turn(
        self, turn: float | None, answers: list[Answer | None], key: str, request: gr.Request
    ) -> tuple[Any, Any]:
        number = int(turn) if turn is not None else -1
        if not 0 <= number < len(answers):
            return gr.skip(), gr.skip()
        answer, asked = answers[number], self.answering(key)
        # A PDF's answer on its page, drawn now (once a session), above the text view.
        pages = (
            ""
            if answer is None or asked is None
            else render_pages(
                answer, asked.settings, self.images, request.session_hash or "", number
            )
        )
        page = render_document(self.documents(key), answer, number, pages)
        return page, gr.Tabs(selected="document")

    def added(
        self,
        paths: list[str] | None,
        request: gr.Request,
        progress: gr.Progress = gr.Progress(),  # noqa: B008 (how Gradio asks for one)
    ) -> tuple[Any, ...]:
        """Read and index the files dropped in the box, for this session alone."""
        key = request.session_hash or ""
        if not paths:
            return self.removed(paths, request)
        files = [(Path(path), Path(path).name) for path in paths]

        def told(step: Step) -> None:
            progress(step.share, desc=step.describe())

        try:
            asked = self.uploads.add(key, files, told, client=client_of(request))
        except Exception as exc:
            self.uploads.drop(key)  # the box is emptied: the chat answers from the shipped one
            said = str(exc) if isinstance(exc, CppqaError) else unexpected("reading your files")
            return self.shown(None, "", problem=said, files=None)
        finally:
            release(files)  # Gradio's folders for the files
            forget(self.app, paths)
        return self.shown(asked, key, tab="chat")

    def removed(self, paths: list[str] | None, request: gr.Request) -> tuple[Any, ...]:
        """Answer from the files left in the box; from the shipped document when none is."""
        key = request.session_hash or ""
        names = unique_names([Path(path).name for path in paths or []])
        try:
            asked = self.uploads.keep(key, names)
        except Exception as exc:
            self.uploads.drop(key)
            said = str(exc) if isinstance(exc, CppqaError) else unexpected("reading your files")
            return self.shown(None, "", problem=said, files=None)
        if asked is None:
            return self.shown(None, "", files=None if paths else gr.skip())
        return self.shown(asked, key)

    def shown(
        self,
        asked: QA | None,
        key: str,
        *,
        problem: str = "",
        tab: str | None = None,
        files: Any = KEEP,
    ) -> tuple[Any, ...]:
        """What the page shows for the uploads ``asked`` (None: the shipped document): its
        title, prompts and examples, and a new, empty conversation."""
        docs = asked.index.documents if asked is not None else self.shipped
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
            box_update(greeting.subject, self.limit),
        )

    def forgotten(self, key: str) -> tuple[Any, ...]:
        # The chat found the session's uploads gone: show the shipped document again,
        # leaving the chat's messages (the last one says so).
        if key:
            return (gr.skip(),) * 6
        return (
            render_answering(self.shipped, uploaded=False),
            render_document(self.shipped, None),
            None,
            render_header(SHIPPED),
            chat_update(SHIPPED, empty=False),
            box_update(SHIPPED.subject, self.limit),
        )

    def end(self, request: gr.Request) -> None:
        self.uploads.drop(request.session_hash or "")
        self.images.drop(request.session_hash or "")
