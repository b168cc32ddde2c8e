"""The chat's messages: the reply to a question, and the user's own text shown as typed.

``reply`` never raises: what cannot be answered is said in the chat.
``show_user_text_as_typed`` keeps a ``gr.Chatbot`` from rendering Markdown or HTML
from what users type.

>>> shown, answer = reply(QA.load(), "When was the party declared illegal?", [])  # doctest: +SKIP
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from typing import Any

import gradio as gr
from gradio.components.chatbot import ChatbotDataMessages, TextMessage

from cppqa.errors import CppqaError
from cppqa.qa import QA
from cppqa.records import Answer
from cppqa.web.api import turns, unexpected
from cppqa.web.render import as_sentence, escape, render_notice, render_reply

#: How the user's own message is shown: its text as inert HTML, in one raw HTML block,
#: so that no Markdown (an image, a link) is rendered from it.
ASKED = '<div class="cppqa-asked">{}</div>'


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
