"""The JSON API of the web app: ``/ask``, ``/chat`` and ``/ask_files``.

Each answers with the JSON record of ``cppqa ask --json`` (``AnswerRecord``).
``/ask`` takes one question; ``/chat`` a question and the earlier turns, which the
client sends back each time, so any replica can answer; ``/ask_files`` documents and
questions about them, answered from those documents alone and forgotten after.

>>> from gradio_client import Client, handle_file                    # doctest: +SKIP
>>> Client(url).predict([handle_file("report.pdf")], ["Who signed it?"],
...                     api_name="/ask_files")[0]["answer"]            # doctest: +SKIP
'the Minister'
"""

from __future__ import annotations

import secrets
import typing
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypedDict, TypeVar, cast

import gradio as gr
from gradio.data_classes import FileData
from gradio.utils import get_upload_folder

from cppqa.dialogue import Turn
from cppqa.errors import CppqaError, UploadError
from cppqa.qa import QA
from cppqa.records import Answer
from cppqa.sessions import Uploads, release

#: Most questions one ``/ask_files`` call may ask.
MAX_FILE_QUESTIONS = 20

_T = TypeVar("_T")


class SourceRecord(TypedDict):
    """One source of an answer: a verbatim passage and its retrieval score, with the PDF
    page it starts on and the heading above it (None where its document has none)."""

    doc: str
    start: int
    end: int
    text: str
    score: float
    page: int | None
    heading: str | None


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


def add_endpoints(qa: QA, uploads: Uploads) -> None:
    """Declare ``/ask``, ``/chat`` and ``/ask_files`` in the ``gr.Blocks`` being built."""

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

    def ask_files(files: list[FileData], questions: list[str]) -> list[AnswerRecord]:
        """Answer each of ``questions`` (on its own) from ``files`` alone: PDF, Word,
        web pages, Markdown or text. The files are read, indexed and removed once the
        questions are answered; nothing is kept between calls."""
        try:
            if not isinstance(questions, list) or not all(isinstance(q, str) for q in questions):
                raise UploadError("questions must be a list of strings")
            if not questions or len(questions) > MAX_FILE_QUESTIONS:
                raise UploadError(
                    f"ask between 1 and {MAX_FILE_QUESTIONS} questions, not {len(questions)}"
                )
            for question in questions:
                qa.validate(question)  # before the files are read, which takes time
            given = [_received(f) for f in files or []]
            key = f"api-{secrets.token_hex(8)}"
            try:
                asked = uploads.add(key, given)
                return [_record(asked.ask(question)) for question in questions]
            finally:
                uploads.drop(key)
                release(given)
        except CppqaError as exc:
            raise gr.Error(str(exc), print_exception=False) from None

    gr.api(_resolved(ask), api_name="ask")
    gr.api(_resolved(chat), api_name="chat")
    gr.api(_resolved(ask_files), api_name="ask_files")


def _received(file: FileData | dict[str, Any]) -> tuple[Path, str]:
    """A file sent to ``/ask_files``: its path in Gradio's upload folder, and its name.

    Only a file uploaded to this server is read: a path anywhere else is refused.
    """
    try:
        data = FileData.model_validate(file) if isinstance(file, dict) else file
        path = Path(data.path).resolve()
    except (ValueError, TypeError, AttributeError):
        raise UploadError("each file must be a file sent with gradio_client.handle_file") from None
    if not path.is_relative_to(Path(get_upload_folder()).resolve()):
        raise UploadError(f"{data.orig_name or path.name!r} was not uploaded to this server")
    return path, data.orig_name or path.name


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
