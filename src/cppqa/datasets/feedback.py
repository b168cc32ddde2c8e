"""Thumbs up or down on an answer, kept as data: one JSON line per vote.

The web chat records a vote (Gradio's ``Chatbot.like`` event) in
``<feedback_dir>/feedback.jsonl`` when ``Settings.feedback_dir`` is set, and nowhere
otherwise. ``cppqa eval --feedback`` scores the reader on the confirmed answers and
lists the rejected ones to label; ``cppqa train-reader --adapt`` learns from the
confirmed ones (a confirmed "not in the document" is an unanswerable example).

>>> vote = Vote("When?", "When?", "1954", True, "cpp.txt", 10, "In 1954 ...")
>>> Vote.from_json(vote.to_json()) == vote
True
"""

from __future__ import annotations

import contextlib
import json
import os
import threading
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from cppqa.datasets.jsonl import lines_of
from cppqa.errors import CppqaError

FEEDBACK_FILE = "feedback.jsonl"
_lock = threading.Lock()  # one writer at a time within the server process


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


@dataclass(frozen=True)
class Vote:
    """A reader's verdict on one answer: the question as asked and as understood, the
    answer shown (None: the chat said the document does not say), where it was quoted
    from, the turns before it in its conversation as (question, answer) pairs, and the
    fingerprint of the corpus that answered (``cppqa.search.index.fingerprint``: the shipped
    corpus, or a session's uploads)."""

    question: str
    query: str
    answer: str | None
    liked: bool
    doc: str | None = None
    start: int | None = None
    sentence: str | None = None
    history: tuple[tuple[str, str | None], ...] = ()
    corpus: str | None = None
    time: str = field(default_factory=_now)

    def to_json(self) -> dict[str, Any]:
        return {**asdict(self), "history": [list(turn) for turn in self.history]}

    @classmethod
    def from_json(cls, row: dict[str, Any]) -> Vote:
        history = tuple((str(q), None if a is None else str(a)) for q, a in row.get("history", []))
        return cls(
            question=str(row["question"]),
            query=str(row.get("query") or row["question"]),
            answer=None if row.get("answer") is None else str(row["answer"]),
            liked=bool(row["liked"]),
            doc=row.get("doc"),
            start=row.get("start"),
            sentence=row.get("sentence"),
            history=history,
            corpus=row.get("corpus"),
            time=str(row.get("time", "")),
        )


def record(folder: Path, vote: Vote) -> Path:
    """Append ``vote`` to ``folder/feedback.jsonl`` (created if missing) as one line,
    written whole and flushed to disk, so that a crash loses at most the vote in flight."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / FEEDBACK_FILE
    line = (json.dumps(vote.to_json(), ensure_ascii=False) + "\n").encode("utf-8")
    with _lock:
        # owner-only: the questions people ask are kept in plain text
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        start = os.lseek(fd, 0, os.SEEK_END)
        try:
            written = 0
            while written < len(line):
                written += os.write(fd, line[written:])
            os.fsync(fd)
        except OSError:
            with contextlib.suppress(OSError):  # no half line for the next vote to join
                os.ftruncate(fd, start)
            raise
        finally:
            os.close(fd)
    return path


def final(votes: list[Vote]) -> list[Vote]:
    """The last vote on each answer (same question, conversation and answer): a reader who
    changed their mind leaves two lines, and the later one is the verdict."""
    last = {(v.question, v.history, v.answer): v for v in votes}
    return [v for v in votes if last[(v.question, v.history, v.answer)] is v]


def is_vote(row: dict[str, Any]) -> bool:
    """Whether a JSON line is a vote (it has ``liked``) rather than an evaluation item."""
    return "liked" in row


def read_votes(path: Path) -> list[Vote]:
    """The votes in a feedback file, oldest first, each answer's last vote only (see
    ``final``); a last line cut short by a crash is skipped."""
    try:
        lines = lines_of(path)
    except OSError as exc:
        raise CppqaError(f"cannot read the feedback file {str(path)!r}: {exc}") from None
    votes = []
    for n, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            votes.append(Vote.from_json(row))
        except (ValueError, KeyError, TypeError) as exc:
            if n == len(lines):  # the last line, half-written when the server stopped
                break
            raise CppqaError(f"{path}:{n} is not a feedback vote: {exc}") from None
    return final(votes)
