"""The parts of the web page that follow the documents the chat answers from.

The header, the empty chat's invitation and example questions, and the question box's
prompt, as Gradio values and updates made from a ``cppqa.web.welcome.Welcome``: the
shipped document's, or a session's uploads'. ``cppqa.web.app`` lays them out and sends
them when an upload is added or removed.
"""

from __future__ import annotations

from typing import Any

import gradio as gr
from gradio.components.chatbot import ExampleMessage

from cppqa.web.render import escape
from cppqa.web.welcome import Welcome, prompt


def render_header(welcome: Welcome) -> str:
    """The page's header: its title (which the page's script copies to the browser tab)
    and the line under it, the end of which a phone leaves out.

    >>> from cppqa.web.welcome import SHIPPED
    >>> render_header(SHIPPED)[:62]
    '<header id="cppqa-header"><h1>Ask the history of the Communist'
    """
    return (
        f'<header id="cppqa-header"><h1>{escape(welcome.title)}</h1><p>{escape(welcome.lede)}'
        '<span class="cppqa-wide"> Ask follow-ups; <em>Show in document</em> opens an answer '
        "in its place.</span></p></header>"
    )


def examples(welcome: Welcome) -> list[ExampleMessage]:
    """The example questions as the chat takes them (one click asks one)."""
    return [{"text": question} for question in welcome.examples]


def invitation(welcome: Welcome) -> str:
    """The empty chat's invitation, inert: the chat renders it as Markdown and HTML, and
    an upload's holds its file names (the examples are shown as text)."""
    return escape(welcome.invitation)


def chat_update(welcome: Welcome, *, empty: bool) -> Any:
    """The chat's invitation and examples for ``welcome``; emptied too when ``empty``
    (a new conversation), else its messages are left as they are."""
    if empty:
        return gr.Chatbot(value=[], placeholder=invitation(welcome), examples=examples(welcome))
    return gr.Chatbot(placeholder=invitation(welcome), examples=examples(welcome))


def box_update(subject: str, limit: int) -> Any:
    """The question box's prompt about ``subject`` ("": the shipped document), with the
    longest question allowed (``cppqa.web.welcome.prompt``)."""
    return gr.update(placeholder=prompt(subject, limit))
