"""front.py: the header, the chat's invitation and examples, and the box's prompt."""

from __future__ import annotations

from dataclasses import replace

from cppqa.web.front import box_update, chat_update, examples, invitation, render_header
from cppqa.web.welcome import SHIPPED

#: A file name and a heading as an upload may bring them.
MARKUP = "<img src=x onerror=alert(1)> **b** [x](http://evil.example)"


def test_file_names_and_headings_stay_text() -> None:
    welcome = replace(SHIPPED, title=f"Ask {MARKUP}.md", invitation=f"Ask about {MARKUP}.md.")
    for shown in (render_header(welcome), invitation(welcome)):
        assert "<img" not in shown and "**" not in shown and "](" not in shown
    assert render_header(welcome).startswith('<header id="cppqa-header"><h1>Ask &#60;img')


def test_the_chat_update_empties_the_chat_only_when_asked() -> None:
    emptied, kept = chat_update(SHIPPED, empty=True), chat_update(SHIPPED, empty=False)
    assert emptied.constructor_args["value"] == []
    assert "value" not in kept.constructor_args
    for update in (emptied, kept):
        assert update.constructor_args["examples"] == examples(SHIPPED)
        assert update.constructor_args["placeholder"] == invitation(SHIPPED)
    assert [e["text"] for e in examples(SHIPPED)] == list(SHIPPED.examples)


def test_the_box_prompt_names_the_upload() -> None:
    assert box_update("notes.md", 500)["placeholder"] == "Ask notes.md (up to 500 characters)…"
