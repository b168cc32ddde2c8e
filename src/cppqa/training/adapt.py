"""Teach the reader a user's documents: their questions → examples read as at answer time.

``cppqa train-reader --adapt FILE`` reads questions about the corpus with their
answers (the project's ``eval/*.jsonl``, SQuAD JSON, or the web chat's feedback
votes), asks the pipeline for the windows it would read for each (``QA.retrieve``:
follow-ups resolved, the same retrieval, the same windows), and labels them: a
window holding a gold answer is an answer example, the best window that does not
is a no-answer one; a question the document does not answer gives its two best
windows as no-answer examples. An answer retrieval misses is read in the window of
the sentence that holds it. ``train.py`` mixes these with replayed SQuAD examples so
the reader keeps what it knew (domain adaptation, as Haystack's reader docs advise;
replay against forgetting, Robins 1995). Never imported at answer time.
"""

from __future__ import annotations

import gzip
import json
import logging
import math
import re
from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cppqa.config import CHECKOUT
from cppqa.datasets.jsonl import read_rows
from cppqa.errors import CppqaError
from cppqa.training.examples import Example

if TYPE_CHECKING:
    from cppqa.config import Settings
    from cppqa.qa import QA, Window

log = logging.getLogger(__name__)

#: Categories of ``eval/qa.jsonl`` whose questions the document does not answer.
UNANSWERED = ("off_topic", "near_topic")
#: No-answer windows taken for a question the document does not answer.
NO_ANSWER_WINDOWS = 2
#: Times an adaptation run shows each of its examples by default (a few epochs, as
#: fine-tuning recipes for a small labelled set do: Devlin et al. 2019 use 2-4).
EPOCHS = 4
#: The SQuAD articles replayed by default (see data/README.md).
REPLAY_FILE = CHECKOUT / "data" / "squad-replay.json.gz"


@dataclass(frozen=True)
class Taught:
    """One question to learn: its gold answers (empty: the document does not say), the
    conversation before it as (question, answer) pairs, and where it came from."""

    question: str
    answers: tuple[str, ...]
    history: tuple[tuple[str, str | None], ...] = ()
    where: str = ""
    #: For a vote: the fingerprint of the corpus that answered it (None: not recorded).
    corpus: str | None = None


@dataclass(frozen=True)
class Lesson:
    """The questions of a file, and what it held besides."""

    taught: tuple[Taught, ...]
    #: Thumbs-down votes: questions whose right answer someone still has to write down.
    to_label: int = 0


def read_lesson(path: Path, split: str | None = None) -> Lesson:
    """The questions of ``path`` (rows of another ``split`` left out, when one is given).

    ``.jsonl``: ``eval/qa.jsonl`` rows (question, answers, category), conversations
    (``turns``), or feedback votes (``liked``: a thumbs-up answer or "does not say" is
    taught, a thumbs-down is only counted). ``.json`` / ``.json.gz``: SQuAD 1.1 or 2.0
    (``is_impossible`` questions taught as unanswerable).
    """
    from cppqa.datasets.feedback import Vote, final, is_vote

    if not path.is_file():
        raise CppqaError(f"--adapt {str(path)!r} is not a file")
    name = path.name.lower()
    if name.endswith((".json", ".json.gz")):
        return Lesson(tuple(_squad_items(path)))
    if not name.endswith(".jsonl"):
        raise CppqaError(
            f"--adapt {str(path)!r}: expected a .jsonl file (eval questions, conversations or "
            "feedback votes) or SQuAD .json / .json.gz"
        )
    taught: list[Taught] = []
    votes: list[tuple[Vote, str]] = []
    for n, row in read_rows(path, what="--adapt", cut_short=is_vote):
        where = f"{path.name}:{n}"
        if split and row.get("split", split) != split:
            continue
        if is_vote(row):
            try:
                votes.append((Vote.from_json(row), where))
            except (KeyError, TypeError, ValueError) as exc:
                raise CppqaError(f"{where} is not a feedback vote: {exc}") from None
        elif "turns" in row:
            history: list[tuple[str, str | None]] = []
            for turn in row["turns"]:
                answers = _answers(turn, where)
                taught.append(Taught(str(turn["question"]), answers, tuple(history), where))
                history.append((str(turn["question"]), answers[0] if answers else None))
        elif "question" in row:
            answers = () if row.get("category") in UNANSWERED else _answers(row, where)
            taught.append(Taught(str(row["question"]), answers, (), where))
        else:
            raise CppqaError(f"{where}: neither a question, a conversation nor a vote")
    verdicts = final([vote for vote, _ in votes])  # a changed mind: the later vote
    where_of = {id(vote): where for vote, where in votes}
    for vote in verdicts:  # asked as the chat understood it then (its query)
        said: tuple[str, ...] = () if vote.answer is None else (vote.answer,)
        if vote.liked:
            taught.append(Taught(vote.query, said, (), where_of[id(vote)], vote.corpus))
    to_label = sum(not vote.liked for vote in verdicts)
    if not taught and not votes:
        raise CppqaError(
            f"--adapt {str(path)!r} holds no question to learn"
            + (f" in the {split!r} split" if split else "")
        )
    return Lesson(tuple(taught), to_label)


def _answers(row: dict[str, Any], where: str) -> tuple[str, ...]:
    answers = row.get("answers")
    if not isinstance(answers, list) or not all(isinstance(a, str) and a.strip() for a in answers):
        raise CppqaError(
            f"{where}: 'answers' must be a list of exact quotes of the document, or [] when "
            "it does not say"
        )
    return tuple(a for a in answers if a.strip())


def _squad_items(path: Path) -> list[Taught]:
    try:
        raw = gzip.decompress(path.read_bytes()) if path.name.endswith(".gz") else path.read_bytes()
        data = json.loads(raw)["data"]
        return [
            Taught(
                q["question"],
                ()
                if q.get("is_impossible")
                else tuple(a["text"] for a in q["answers"] if a["text"].strip()),
                (),
                f"{path.name}:{q.get('id', '')}",
            )
            for article in data
            for paragraph in article["paragraphs"]
            for q in paragraph["qas"]
        ]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise CppqaError(f"--adapt {str(path)!r} is not a SQuAD file: {exc}") from None


# ---------------------------------------------------------------- examples


def lesson_examples(qa: QA, lesson: Lesson) -> list[Example]:
    """The examples of every question of ``lesson``, read with the windows ``qa`` gives it.

    Raises a ``CppqaError`` naming each question whose answers the corpus does not hold.
    """
    examples: list[Example] = []
    missing: list[Taught] = []
    for item in lesson.taught:
        found = qa.retrieve(item.question, qa.turns(item.history))
        made = _examples(qa, found.asked, list(found.windows), item.answers)
        if made is None:
            missing.append(item)
        else:
            examples += made
    if missing:
        shown = "\n".join(
            f"  {m.where}: {m.question!r} → {' / '.join(repr(a) for a in m.answers)}"
            for m in missing[:20]
        )
        more = f"\n  ... and {len(missing) - 20} more" if len(missing) > 20 else ""
        raise CppqaError(
            f"{len(missing)} of the {len(lesson.taught)} answers are not in the corpus (an "
            "answer must be quoted exactly as the document has it; case may differ):\n"
            f"{shown}{more}"
        )
    return examples


def _examples(
    qa: QA, asked: str, windows: list[Window], answers: Sequence[str]
) -> list[Example] | None:
    """Examples of one question; None when no document holds any of its ``answers``."""
    if not answers:
        return [Example(asked, w.text, None, "", "taught-none") for w in windows][
            :NO_ANSWER_WINDOWS
        ]
    found = [(w, _find(w.text, answers)) for w in windows]
    held = [(w, at) for w, at in found if at is not None]
    if not held:  # retrieval missed it: read it where it is, as if it had been found
        holding = _window_holding(qa, answers)
        if holding is None:
            return None
        held = [holding]
    made = [Example(asked, w.text, start, w.text[start:end], "taught") for w, (start, end) in held]
    lacking = next((w for w, at in found if at is None), None)
    if lacking is not None:
        made.append(Example(asked, lacking.text, None, "", "taught-none"))
    return made


def _find(text: str, answers: Sequence[str]) -> tuple[int, int] | None:
    """Where the shortest of ``answers`` found in ``text`` is, ignoring case: the least
    an answer must quote to be right (``cppqa eval`` counts an answer right when it holds
    any gold one), and so the span to teach."""
    for answer in sorted((a.strip() for a in answers if a.strip()), key=len):
        found = re.search(re.escape(answer), text, re.IGNORECASE)
        if found:
            return found.span()
    return None


def _window_holding(qa: QA, answers: Sequence[str]) -> tuple[Window, tuple[int, int]] | None:
    """The window of the sentence (the first in corpus order) where one of ``answers``
    starts, if the window holds it whole (an answer may run into the next sentence), and
    where in the window it is. Each document is searched once."""
    from cppqa.search.retrieve import Candidate

    sentences = qa.index.sentences
    for document in qa.index.documents:
        found = sorted(
            m.start()
            for answer in {a.strip() for a in answers if a.strip()}
            for m in re.finditer(re.escape(answer), document.text, re.IGNORECASE)
        )
        if not found:
            continue
        ids = [n for n, s in enumerate(sentences) if s.doc == document.doc]
        starts = [sentences[n].start for n in ids]
        for at in found:
            n = bisect_right(starts, at) - 1
            if n < 0 or at >= sentences[ids[n]].end:
                continue  # between sentences
            window = qa.windows([Candidate(ids[n], 0.0, 0.0, 0.0, 0.0)])[0]
            inside = _find(window.text, answers)
            if inside is not None:
                return window, inside
    return None


def prepare(
    settings: Settings, files: Sequence[Path], split: str | None, init: Path
) -> tuple[list[Example], dict[str, Any]]:
    """The examples of the questions in ``files`` about the corpus of ``settings`` (its
    index loaded, or built, as ``cppqa ask`` would), and what they were made from, for
    the adapted reader's ``reader.json``."""
    from cppqa.qa import QA
    from cppqa.reading.reader import Reader
    from cppqa.search.index import fingerprint

    lessons = [read_lesson(file, split) for file in files]
    qa = QA.load(settings, reader=Reader.load(init), progress=True)
    corpus = fingerprint(qa.index.documents)
    asked = [t for one in lessons for t in one.taught]
    mine = [t for t in asked if t.corpus in (None, corpus)]  # not a vote on uploads
    lesson = Lesson(tuple(mine), sum(one.to_label for one in lessons))
    if not mine:
        raise CppqaError(
            "no question to learn in "
            + ", ".join(f.name for f in files)
            + (
                f" ({lesson.to_label} thumbs-down votes wait for their right answers)"
                if lesson.to_label
                else ""
            )
            + (f" ({len(asked)} votes are on other documents)" if asked else "")
        )
    if len(mine) < len(asked):
        log.info("%d votes on other documents (uploads) left out", len(asked) - len(mine))
    taught = lesson_examples(qa, lesson)
    log.info("%d questions → %d examples", len(lesson.taught), len(taught))
    return taught, {
        "files": [file.name for file in files],
        "split": split or "",
        "questions": len(lesson.taught),
        "to_label": lesson.to_label,
        "examples": len(taught),
        "documents": {d.doc: d.sha256 for d in qa.index.documents},
        "corpus": corpus,
    }


def run_length(taught: int, share: float, batch: int) -> int:
    """Examples an adaptation run spans by default: enough for each of its ``taught``
    examples to be seen ``EPOCHS`` times at ``share`` of the stream, in whole batches."""
    wanted = EPOCHS * taught / share
    return max(batch, math.ceil(wanted / batch) * batch)
