"""Thumbs up and down on the chat's replies, kept as ``cppqa.datasets.feedback`` votes.

A vote is made from the session's own answers (never from what the page sends back),
and only for a reply that is an answer. ``voting`` is the chat's like-event handler.

>>> like = gr.LikeData(None, {"index": 1, "value": [], "liked": True})  # doctest: +SKIP
>>> keep_vote(Path("feedback"), chat, answers, like).liked            # doctest: +SKIP
True
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import gradio as gr

from cppqa.datasets.feedback import Vote, record
from cppqa.records import Answer

log = logging.getLogger(__name__)

#: Told to the one whose vote could not be written; the chat goes on.
NOT_SAVED = "Your vote could not be saved. The chat works as before."


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
