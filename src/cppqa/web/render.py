"""Answers as HTML for the web chat: replies, notices, the document view, the copy text.

Pure functions from records to sanitiser-safe HTML; no gradio here. Every piece of
text from a document or a question goes through ``escape``, so it shows verbatim
and can never become markup.

>>> escape("<b>")
'&#60;b&#62;'
"""

from __future__ import annotations

from collections.abc import Sequence

from cppqa.reading.spans import level
from cppqa.records import NOT_FOUND, Answer, Checked, Document, Source

#: "Understood as" shows at most this many characters of the understood question.
SHOWN_QUERY_CHARS = 200
#: "Answering from" names at most this many documents, then says how many more.
SHOWN_DOCUMENTS = 5

# Characters that Markdown, LaTeX or HTML could read as markup, as numeric
# references: quoted text then shows exactly as written and can never become
# a tag, a link, emphasis or a formula. Line breaks too: a reply is then one
# line, and Markdown takes a block that starts with a tag as raw HTML up to
# the next blank line, so nothing in it is parsed as Markdown (``&#10;``
# still breaks the line in the document view and in ``data-copy``).
_ESCAPES = str.maketrans({ch: f"&#{ord(ch)};" for ch in "&<>\"'*_[]()$\\`~|#!{}:\n\r"})


def escape(text: str) -> str:
    """``text`` as inert HTML: shows verbatim, never becomes markup, a link or LaTeX.

    >>> escape("<b>*x*</b> $1")
    '&#60;b&#62;&#42;x&#42;&#60;/b&#62; &#36;1'
    """
    return text.translate(_ESCAPES)


def shorten(text: str, limit: int = SHOWN_QUERY_CHARS) -> str:
    """``text`` cut to ``limit`` characters at a word, with "…" when cut.

    >>> shorten("When was the party declared illegal?", 20)
    'When was the party…'
    """
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    return (cut.rsplit(" ", 1)[0] if " " in cut else cut).rstrip(" ,;:") + "…"


def plain_reply(answer: Answer) -> str:
    """What copying a reply gives: the answer, the quoted sentence, ``file:start-end``
    (and its place, ``, p. 12``, where the document has pages or headings).

    A whole-sentence answer is quoted once; not finding one says so.
    """
    if answer.text is None:
        return NOT_FOUND
    source = answer.sources[0]
    passage = source.passage
    lines = [] if answer.text == passage.text else [answer.text]
    where = f"{passage.doc}:{passage.start}-{passage.end}"
    lines += [f"“{passage.text}”", ", ".join(part for part in (where, source.place) if part)]
    return "\n".join(lines)


def render_reply(answer: Answer, turn: int | None = None) -> str:
    """The chat reply for ``answer`` as one sanitiser-safe HTML block.

    ``turn`` (the answer's place in the conversation, from 0) adds a "Show in
    document" link that opens the Document tab at the answer.
    """
    parts = [f'<div class="cppqa-reply" data-copy="{escape(plain_reply(answer))}">']
    if answer.query != answer.question:
        shown = escape(shorten(answer.query))
        parts.append(f'<p class="cppqa-meta">Understood as: <em>{shown}</em></p>')
    if answer.text is None:
        parts.append(f"<p><strong>{escape(NOT_FOUND)}</strong></p>")
        if answer.checked:
            parts.append(render_checked(answer.checked, answer.threshold))
        elif answer.sources:
            parts.append(
                '<details open class="cppqa-not-answer"><summary>Nearest passages: '
                f"<strong>not an answer</strong></summary>{_source_list(answer.sources)}</details>"
            )
    else:
        if answer.text != answer.sources[0].passage.text:  # a whole sentence is quoted once
            parts.append(f"<p><strong>{escape(answer.text)}</strong></p>")
        parts.append(f"<blockquote>“{_marked_sentence(answer)}”</blockquote>")
        meta = [
            f'<span title="calibrated confidence {answer.confidence:.2f}">'
            f"{level(answer.confidence)} confidence</span>",
            _cited(answer.sources[0]),
        ]
        if turn is not None:
            meta.append(f'<a class="cppqa-show" href="#cppqa-turn-{turn}">Show in document</a>')
        parts.append(
            f'<p class="cppqa-meta">{" · ".join(meta)}</p>'
            f"<details><summary>Sources ({len(answer.sources)})</summary>"
            f"{_source_list(answer.sources)}</details>"
        )
    parts.append("</div>")
    return "".join(parts)


def render_checked(checked: Sequence[Checked], threshold: float | None) -> str:
    """What a refusal rests on, collapsed: each passage the reader read, the best span
    it found there marked, and that span's confidence against ``threshold``, or that
    the reader's own no-answer score beat it (a margin at or below 0)."""
    items = []
    for row in checked:
        passage = row.source.passage
        if row.span is None or row.start is None:
            body, why = escape(passage.text), "nothing in it the reader could mark"
        else:
            at, to = row.start - passage.start, row.start - passage.start + len(row.span)
            text = passage.text
            body = f"{escape(text[:at])}<mark>{escape(text[at:to])}</mark>{escape(text[to:])}"
            why = f"best span: confidence {row.confidence:.2f}"
            if threshold is not None:
                under = row.confidence < threshold
                why += f" ({'under' if under else 'reaches'} the threshold {threshold:.2f})"
            if row.margin is not None and row.margin <= 0:
                why += f"; the reader’s no-answer score beat it (margin {row.margin:.2f})"
        items.append(
            f'<li><span class="cppqa-meta">{_cited(row.source)} · {escape(why)}</span>'
            f'<div class="cppqa-source">{body}</div></li>'
        )
    needed = " (an answer must beat the reader’s no-answer score"
    needed += ")" if threshold is None else f" and reach confidence {threshold:.2f})"
    return (
        f'<details class="cppqa-checked"><summary>What was read: {len(checked)} '
        f"passage{'s' if len(checked) != 1 else ''}, <strong>not an answer</strong> in "
        f"any{escape(needed)}</summary><ol>{''.join(items)}</ol></details>"
    )


def render_notice(message: str) -> str:
    """A reply that is not an answer (the question could not be asked), as HTML."""
    return (
        f'<div class="cppqa-reply cppqa-notice" data-copy="{escape(message)}">'
        f"<p>{escape(message)}</p></div>"
    )


def render_answering(documents: Sequence[Document], uploaded: bool) -> str:
    """The line that says which documents the chat answers from (the first few named,
    the file names first: a phone shows the start of the line).

    >>> render_answering([Document("a.pdf", "A", "x", "")], uploaded=True)
    '<p class="cppqa-meta" title="a.pdf">Answering from: <code>a.pdf</code> (your upload)</p>'
    """
    names = [f"<code>{escape(d.doc)}</code>" for d in documents[:SHOWN_DOCUMENTS]]
    if len(documents) > SHOWN_DOCUMENTS:
        names.append(f"{len(documents) - SHOWN_DOCUMENTS} more")
    if uploaded:
        whose = "your upload" if len(documents) == 1 else "your uploads"
    else:
        whose = "the shipped document" if len(documents) == 1 else "the shipped documents"
    every = escape(", ".join(d.doc for d in documents))  # one line: the rest on hover
    return f'<p class="cppqa-meta" title="{every}">Answering from: {", ".join(names)} ({whose})</p>'


def render_problem(message: str) -> str:
    """A message about the documents given (a file that could not be read), as an alert."""
    return f'<p class="cppqa-problem" role="alert">{escape(as_sentence(message))}</p>'


def render_document(
    documents: Sequence[Document], answer: Answer | None, turn: int | None = None, pages: str = ""
) -> str:
    """Every document, escaped, with ``answer``'s sentence in ``<mark id="cppqa-hit">``.

    ``turn`` (the answer's place in the conversation) is kept on the mark, so the
    page can tell that the highlight it asked for is the one shown. ``pages`` (HTML:
    the answer on its PDF page, ``cppqa.web.pageview``) goes above the text, which stays as
    the answer's place for a reader that cannot see the image.
    """
    answered = answer if answer and answer.text and answer.sources else None
    hit = answered.sources[0].passage if answered else None
    if answered:
        note = f"Highlighted: the sentence that answers “{escape(shorten(answered.question))}”."
    else:
        note = "Ask a question in the Chat tab: the sentence of the answer is highlighted here."
    data = "" if turn is None else f' data-turn="{turn}"'
    parts = [f'<div class="cppqa-document-view"><p class="cppqa-meta">{note}</p>{pages}']
    for document in documents:
        text = document.text
        if answered and hit and hit.doc == document.doc:
            body = (
                escape(text[: hit.start])
                + f'<mark id="cppqa-hit" tabindex="-1"{data}>'
                + f"{_marked_sentence(answered, tag='strong')}</mark>"
                + escape(text[hit.end :])
            )
        else:
            body = escape(text)
        parts.append(
            f'<article class="cppqa-document"><h2>{escape(document.title)}</h2>'
            f'<p class="cppqa-meta">{escape(document.doc)}</p>{body}</article>'
        )
    return "".join(parts) + "</div>"


def as_sentence(message: str) -> str:
    """An error message as a sentence: capital first letter, full stop.

    >>> as_sentence("the question is empty; type a question")
    'The question is empty; type a question.'
    """
    message = message[:1].upper() + message[1:]
    return message if message.endswith((".", "?", "!")) else message + "."


def _marked_sentence(answer: Answer, tag: str = "mark") -> str:
    """The answer's sentence, escaped, with the answer itself inside ``<tag>``."""
    assert answer.start is not None and answer.end is not None, "only for answers"
    sentence = answer.sources[0].passage
    at, to = answer.start - sentence.start, answer.end - sentence.start
    text = sentence.text
    return f"{escape(text[:at])}<{tag}>{escape(text[at:to])}</{tag}>{escape(text[to:])}"


def _source_list(sources: Sequence[Source]) -> str:
    items = []
    for source in sources:
        p = source.passage
        items.append(
            f'<li><span class="cppqa-meta">{_cited(source)} · characters '
            f"{p.start:,}–{p.end:,} · score {source.score:.3f}</span>"
            f'<div class="cppqa-source">{escape(p.text)}</div></li>'
        )
    return "<ol>" + "".join(items) + "</ol>"


def _cited(source: Source) -> str:
    """The source's file in ``<code>``, then its place: ``report.pdf``, p. 12."""
    place = f", {escape(source.place)}" if source.place else ""
    return f"<code>{escape(source.passage.doc)}</code>{place}"
