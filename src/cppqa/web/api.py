"""The JSON API of the web app: ``/ask``, ``/chat`` and ``/ask_files``.

Each answers with the JSON record of ``cppqa ask --json`` (``AnswerRecord``), each
source with where a PDF shows it (``highlight``: pages, and boxes on each as shown).
``/ask`` takes one question; ``/chat`` a question and the earlier turns, which the
client sends back each time, so any replica can answer; ``/ask_files`` documents and
questions about them, answered from those documents alone and forgotten after.

A request that cannot be answered gets one line that says why (``CppqaError``'s
message); one that fails unexpectedly gets one line with a reference to the line of
the server's log that holds its traceback (``unexpected``), never an empty error.

>>> from gradio_client import Client, handle_file                    # doctest: +SKIP
>>> Client(url).predict([handle_file("report.pdf")], ["Who signed it?"],
...                     api_name="/ask_files")[0]["answer"]            # doctest: +SKIP
'the Minister'
"""

from __future__ import annotations

import functools
import logging
import secrets
import typing
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypedDict, TypeVar, cast

import gradio as gr
from gradio.data_classes import FileData
from gradio.utils import get_upload_folder

from cppqa.config import Settings
from cppqa.dialogue.followup import Turn
from cppqa.errors import CppqaError, UploadError
from cppqa.qa import QA
from cppqa.records import Answer
from cppqa.uploads.files import accepted, clean_name, release
from cppqa.uploads.sessions import Uploads
from cppqa.web.pageview import highlights

log = logging.getLogger(__name__)

#: Most questions one ``/ask_files`` call may ask.
MAX_FILE_QUESTIONS = 20
#: Longest source sentence an earlier ``/chat`` turn may carry: a sentence of the
#: document, so longer than a question may be, but bounded (an 880,000-character
#: answer in a turn once cost 14-26 s of CPU per request).
MAX_TURN_SENTENCE_CHARS = 20_000

_T = TypeVar("_T")


class PassageRecord(TypedDict):
    """A verbatim passage and its retrieval score, with the PDF page it starts on and
    the heading above it (None where its document has none)."""

    doc: str
    start: int
    end: int
    text: str
    score: float
    page: int | None
    heading: str | None


class PageRecord(TypedDict):
    """Where quoted characters stand on one page of a PDF (``PageHighlight.to_json``):
    the page (from 1) and a box per line, two ways:

    - ``boxes``: ``[left, top, right, bottom]`` in shares (0 to 1) of the page as it is
      shown and printed (its crop box, turned by its ``/Rotate``), from its top-left
      corner, y down: draw a box at ``left * W``, ``top * H`` over an image of the
      page ``W`` by ``H`` pixels;
    - ``rects``: ``[left, bottom, right, top]`` in PDF user space (points, y up, as
      PDFium and PDF tools report character boxes); not the shown page's coordinates
      where the page is rotated or its crop box does not start at (0, 0).

    ``width`` and ``height``: the page as shown, in points (a rotated page's swapped)."""

    page: int
    boxes: list[list[float]]
    rects: list[list[float]]
    width: float
    height: float


class SourceRecord(PassageRecord):
    """One source of an answer: the passage, and where a PDF shows it: ``highlight``
    lists the page(s) and rectangles of the answer's own characters for the first
    source of an answer, of the whole passage for any other; None for a source that is
    not in a PDF. A client draws them over the page (``cppqa.web.pageview``)."""

    highlight: list[PageRecord] | None


class CheckedRecord(PassageRecord):
    """A passage read for a refusal: the window as a source, with the reader's best
    ``span`` in it (starting at document offset ``span_start``; None where it marked
    nothing), the span's ``margin`` over the reader's no-answer score (at or below 0:
    the reader says the window does not answer) and its ``confidence``, to compare
    with the answer's threshold."""

    span: str | None
    span_start: int | None
    margin: float | None
    confidence: float


class AnswerRecord(TypedDict):
    """An answer as JSON, as ``cppqa ask --json`` prints it (``Answer.to_json()``), its
    sources with their ``highlight`` besides (``record_of``).

    ``query`` is the question as understood (a follow-up resolved); ``answer``
    is None when the document does not hold one, and then ``checked`` lists the
    passages read, each with its best span's confidence, all under ``threshold``.
    """

    question: str
    query: str
    answer: str | None
    confidence: float
    sources: list[SourceRecord]
    threshold: float | None
    checked: list[CheckedRecord]


class TurnRecord(TypedDict, total=False):
    """An earlier turn sent to ``/chat``: a record it returned, or only ``question``
    and ``answer`` (the record's ``query`` and first source help follow-ups)."""

    question: str
    query: str
    answer: str | None
    sources: list[SourceRecord]


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


def turns_from_records(records: object, limit: int = 1000) -> list[Turn]:
    """The earlier turns a ``/chat`` client sent (``TurnRecord``s), as ``Turn``s.

    A turn's question, query and answer may be as long as a question (``limit``
    characters), its source sentence ``MAX_TURN_SENTENCE_CHARS``. Raises ``ValueError``
    naming the turn and field that is not as expected.

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
        question = _field(record, "question", str, number, limit)
        if question is None:
            raise ValueError(f"history turn {number} has no 'question'")
        query = _field(record, "query", str, number, limit) or question
        answer = _field(record, "answer", str, number, limit)
        sources = _field(record, "sources", list, number) or []
        sentence = None
        if answer and sources:
            first = sources[0]
            sentence = first.get("text") if isinstance(first, dict) else None
            if not isinstance(sentence, str):
                raise ValueError(f"history turn {number}: sources[0] has no 'text'")
            _bounded(sentence, "sources[0].text", number, MAX_TURN_SENTENCE_CHARS)
        out.append(Turn(question, query, answer, sentence))
    return out


def unexpected(what: str) -> str:
    """Log the exception being handled with a reference, and return the one line to tell
    the person whose request failed: that reference, and what to do.

    >>> try:
    ...     1 / 0
    ... except ZeroDivisionError:
    ...     unexpected("answering")                                    # doctest: +ELLIPSIS
    'Something went wrong on the server while answering (reference ...): try again; ...'
    """
    reference = secrets.token_hex(4)
    log.exception("%s failed [reference %s]", what, reference)
    return (
        f"Something went wrong on the server while {what} (reference {reference}): try "
        "again; if it fails again, report it with that reference, which its log holds"
    )


def guarded(what: str) -> Callable[[_T], _T]:
    """Make an endpoint answer every failure with one line: a ``CppqaError``'s own
    message, or ``unexpected``'s with a reference for anything else (left to itself,
    Gradio sends ``{"error": null}``)."""

    def wrap(fn: _T) -> _T:
        function = cast(Callable[..., Any], fn)

        @functools.wraps(function)
        def run(*args: Any, **kwargs: Any) -> Any:
            try:
                return function(*args, **kwargs)
            except gr.Error:
                raise
            except CppqaError as exc:
                raise gr.Error(str(exc), print_exception=False) from None
            except Exception:
                raise gr.Error(unexpected(what), print_exception=False) from None

        return cast(_T, run)

    return wrap


def add_endpoints(qa: QA, uploads: Uploads, app: gr.Blocks) -> None:
    """Declare ``/ask``, ``/chat`` and ``/ask_files`` in ``app``, the ``gr.Blocks``
    being built (the files uploaded to it are the only ones ``/ask_files`` reads)."""
    limit = qa.settings.max_question_chars

    @guarded("answering")
    def ask(question: str) -> AnswerRecord:
        """Answer one question; the JSON object of ``cppqa ask --json``."""
        return record_of(qa.ask(question), qa.settings)

    @guarded("answering")
    def chat(question: str, history: list[TurnRecord] | None = None) -> AnswerRecord:
        """Answer a question that may follow up on ``history``: the earlier turns,
        oldest first, as this endpoint returned them. Nothing is kept between calls."""
        try:
            earlier = turns_from_records(history, limit)
        except ValueError as exc:
            raise gr.Error(str(exc), print_exception=False) from None
        return record_of(qa.ask(question, earlier), qa.settings)

    @guarded("reading the files")
    def ask_files(
        files: list[FileData], questions: list[str], request: gr.Request
    ) -> list[AnswerRecord]:
        """Answer each of ``questions`` (on its own) from ``files`` alone: PDF, Word,
        web pages, Markdown or text. The files are read, indexed and removed once the
        questions are answered; nothing is kept between calls."""
        if not isinstance(questions, list) or not all(isinstance(q, str) for q in questions):
            raise UploadError("questions must be a list of strings")
        if not questions or len(questions) > MAX_FILE_QUESTIONS:
            raise UploadError(
                f"ask between 1 and {MAX_FILE_QUESTIONS} questions, not {len(questions)}"
            )
        for question in questions:
            qa.validate(question)  # before the files are read, which takes time
        given: list[tuple[Path, str]] = []
        key = f"api-{secrets.token_hex(8)}"
        try:
            given += [_received(f, app) for f in files or []]
            asked = uploads.add(key, given, client=client_of(request))
            return [record_of(asked.ask(q), asked.settings) for q in questions]
        finally:
            uploads.drop(key)
            release(given)
            forget(app, [_sent_path(f) for f in files or []])

    gr.api(_resolved(ask), api_name="ask")
    gr.api(_resolved(chat), api_name="chat")
    gr.api(_resolved(ask_files), api_name="ask_files")


def forget(app: gr.Blocks, paths: Sequence[str | None]) -> None:
    """Take ``paths`` off the lists of files Gradio deletes on a schedule and at exit.

    Gradio lists every path a request names in its upload folder, a folder included:
    deleting that folder later failed and ended the schedule, and files moved into an
    upload stayed listed for good."""
    gone = {str(path) for path in paths if path is not None}
    for listed in app.temp_file_sets:
        listed.difference_update(gone)


def client_of(request: gr.Request | None) -> str:
    """Who sent ``request``: its address (a proxy's forwarded one, where uvicorn trusts
    that proxy), or "" when unknown."""
    client = getattr(request, "client", None) if request is not None else None
    return str(getattr(client, "host", "") or "")


def _received(file: FileData | dict[str, Any], app: gr.Blocks) -> tuple[Path, str]:
    """A file sent to ``/ask_files``: its path in Gradio's upload folder, and its name
    (cleaned: ``clean_name``).

    Only a regular file that a client uploaded to this server (Gradio's upload route
    wrote it) is read: any other path, a folder, a link, is refused.
    """
    try:
        data = FileData.model_validate(file) if isinstance(file, dict) else file
        name = clean_name(str(data.orig_name or Path(data.path).name))
        path = Path(data.path)
    except (ValueError, TypeError, AttributeError):
        raise UploadError("each file must be a file sent with gradio_client.handle_file") from None
    if str(path) not in app.upload_file_set:
        raise UploadError(f"{name!r} was not uploaded to this server: upload it first")
    return accepted(path, name, Path(get_upload_folder())), name


def _sent_path(file: FileData | dict[str, Any]) -> str | None:
    """The path a file sent to ``/ask_files`` names, whatever it is (None: none)."""
    path = file.get("path") if isinstance(file, dict) else getattr(file, "path", None)
    return path if isinstance(path, str) else None


def record_of(answer: Answer, settings: Settings) -> AnswerRecord:
    """``answer`` as the API returns it: ``Answer.to_json()`` (``cppqa ask --json``)
    with each source's ``highlight`` (``SourceRecord``), its PDF read from
    ``settings.corpus_dir``, once for all its sources; never with OCR, and never failing
    the answer (a highlight that cannot be found is None: ``pageview.highlights``)."""
    record = answer.to_json()
    for source, placed in zip(record["sources"], highlights(answer, settings), strict=True):
        source["highlight"] = None if placed is None else [p.to_json() for p in placed]
    return cast(AnswerRecord, record)


def _resolved(fn: _T) -> _T:
    """``fn`` with its annotations evaluated, for ``gr.api``.

    ``gr.api`` reads the return type with ``inspect.signature``, which under
    ``from __future__ import annotations`` is a string it cannot describe
    (``view_api`` then says "Any"); the signature is the wrapped function's, where
    ``fn`` wraps one (``guarded``).
    """
    function: Any = fn
    while function is not None:
        function.__annotations__ = typing.get_type_hints(function)
        function = getattr(function, "__wrapped__", None)
    return fn


def _field(
    record: dict[str, Any], name: str, kind: type, number: int, limit: int | None = None
) -> Any:
    value = record.get(name)
    if value is not None and not isinstance(value, kind):
        raise ValueError(
            f"history turn {number}: {name!r} must be {kind.__name__}, not {type(value).__name__}"
        )
    if limit is not None and isinstance(value, str):
        _bounded(value, repr(name), number, limit)
    return value


def _bounded(text: str, name: str, number: int, limit: int) -> None:
    if len(text) > limit:
        raise ValueError(
            f"history turn {number}: {name} is {len(text):,} characters long; the limit is "
            f"{limit:,}"
        )
