"""``cppqa ask`` and ``cppqa chat``: one question, many on stdin, or a conversation; and
the text of an answer for the terminal (``render``)."""

from __future__ import annotations

import argparse
import io
import json
import sys
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, TextIO

from cppqa.cli.settings import load_qa
from cppqa.errors import CppqaError
from cppqa.records import NOT_FOUND

if TYPE_CHECKING:
    from cppqa.records import Answer, Source


def add_parsers(commands: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    """Register ``ask`` and ``chat``, in that order, each with the shared flags."""
    ask = commands.add_parser(
        "ask",
        parents=[common],
        help="answer one question (or one per line from stdin)",
        description="Answer a question with a verbatim span of the corpus and its source. "
        "With QUESTION '-', read one question per line from stdin: the models load once "
        "for them all (each ask loads them anew; `cppqa chat` also loads them once).",
    )
    ask.add_argument("question", metavar="QUESTION", help="the question, or - for stdin")
    ask.add_argument("--json", action="store_true", help="print JSON (JSON Lines for stdin)")
    ask.set_defaults(run=run_ask)

    chat = commands.add_parser(
        "chat",
        parents=[common],
        help="an interactive conversation with follow-up questions",
        description="Ask successive questions; follow-ups ('when did he...', 'and in 1958?') "
        "use the conversation. Type /new to start over, /quit or Ctrl-D to leave. With "
        "--json, read turns from stdin and print one JSON object per turn; a blank line "
        "starts a new conversation.",
    )
    chat.add_argument("--json", action="store_true", help="read turns from stdin, print JSON")
    chat.set_defaults(run=run_chat)


def run_ask(args: argparse.Namespace) -> int:
    """``cppqa ask QUESTION``, or ``cppqa ask -`` for one question per line of stdin."""
    if args.question == "-":
        qa = load_qa(args)
        return _each_line(sys.stdin, lambda line: qa.ask(line), args.json)
    from cppqa.config import Settings
    from cppqa.dialogue.question import clean_question

    # before the model loads, and before the corpus is hashed for its index
    clean_question(args.question, Settings.from_env().max_question_chars)
    qa = load_qa(args)
    answer = qa.ask(args.question)
    shown = render(answer, checked=args.verbose)
    print(json.dumps(answer.to_json(), ensure_ascii=False) if args.json else shown)
    return 0


def _each_line(
    stream: TextIO,
    answer: Callable[[str], Answer],
    as_json: bool,
    *,
    on_blank: Callable[[], None] | None = None,
) -> int:
    """Answer each input line; a bad question prints an error object and carries on."""
    failures = 0
    for line in _lines(stream):
        if not line.strip():
            if on_blank:
                on_blank()
            continue
        try:
            result = answer(line)
        except CppqaError as exc:
            failures += 1
            if as_json:
                print(json.dumps({"question": line, "error": str(exc)}, ensure_ascii=False))
            else:
                print(f"cppqa: error: {exc}", file=sys.stderr)
            continue
        print(json.dumps(result.to_json(), ensure_ascii=False) if as_json else render(result))
        sys.stdout.flush()
    return 1 if failures else 0


def _lines(stream: TextIO) -> Iterator[str]:
    if isinstance(stream, io.TextIOWrapper):
        # Bytes that are not UTF-8 become U+FFFD instead of ending the batch.
        stream.reconfigure(errors="replace")
    for raw in stream:
        yield raw.rstrip("\r\n")


def run_chat(args: argparse.Namespace) -> int:
    """``cppqa chat``: a conversation at the terminal, or turns on stdin with ``--json``."""
    from cppqa.dialogue.followup import Turn

    qa = load_qa(args)
    history: list[Turn] = []

    def turn(question: str) -> Answer:
        answer = qa.ask(question, history)
        sentence = answer.sources[0].passage.text if answer.sources and answer.text else None
        history.append(Turn(question, answer.query, answer.text, sentence))
        return answer

    if args.json:
        return _each_line(sys.stdin, turn, True, on_blank=history.clear)
    interactive = sys.stdin.isatty()
    if interactive:
        print("Ask about the document. /new starts over, /quit leaves.")
    while True:
        try:
            line = input("> " if interactive else "")
        except EOFError:
            return 0
        command = line.strip().lower()
        if command in {"/quit", "/exit", "quit", "exit"}:
            return 0
        if command == "/new" or not command:
            history.clear()
            continue
        try:
            answer = turn(line)
        except CppqaError as exc:
            print(f"cppqa: error: {exc}", file=sys.stderr)
            continue
        if answer.query != answer.question:
            print(f"(understood as: {answer.query})")
        print(render(answer), end="\n\n")


def render(answer: Answer, *, checked: bool = False) -> str:
    """The human-readable form of an answer: answer, marked sentence, source.

    A source's place follows its file and characters where its document has one:
    ``report.pdf:1717-1774, p. 12`` or ``guide.docx:40-96, “Installing”``. With
    ``checked`` (``ask -v``), a refusal also shows the passage read whose best span came
    closest to being the answer, and why it was not.
    """

    def where(source: Source) -> str:
        p = source.passage
        return ", ".join(part for part in (f"{p.doc}:{p.start}-{p.end}", source.place) if part)

    if answer.text is None:
        lines = [NOT_FOUND, "Nearest passages (not an answer):"]
        for n, source in enumerate(answer.sources):
            lines.append(f'  {n + 1}. {where(source)}  "{source.passage.text}"')
        if checked and answer.checked:
            lines += _closest(answer, where)
        return "\n".join(lines)
    passage = answer.sources[0].passage
    assert answer.start is not None and answer.end is not None
    at, to = answer.start - passage.start, answer.end - passage.start
    marked = f"{passage.text[:at]}**{passage.text[at:to]}**{passage.text[to:]}"
    # A whole sentence is the quote itself: it is not printed twice.
    quote = [f'  "{marked}"'] if answer.text != passage.text else []
    return "\n".join(
        [
            f"Answer: {answer.text}",
            *quote,
            f"Source: {where(answer.sources[0])}  (confidence {answer.confidence:.2f})",
        ]
    )


def _closest(answer: Answer, where: Callable[[Source], str]) -> list[str]:
    """The refusal's evidence: the best span of the passage read that came closest, its
    confidence against the threshold, and whether the reader's no-answer score beat it."""
    best = max(answer.checked, key=lambda c: (c.span is not None, c.confidence))
    lines = [f"Checked {len(answer.checked)} passages; closest to an answer:"]
    lines.append(f'  {where(best.source)}  "{best.source.passage.text}"')
    if best.span is None:
        lines.append("  the reader marked no span in it")
        return lines
    bar = "" if answer.threshold is None else f" (an answer needs {answer.threshold:.2f})"
    lines.append(f'  best span "{best.span}": confidence {best.confidence:.2f}{bar}')
    if best.margin is not None and best.margin <= 0:
        lines.append(
            f"  the reader's no-answer score beat it by {-best.margin:.2f}: the passage "
            "does not answer the question"
        )
    return lines
