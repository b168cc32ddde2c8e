"""What the web page says before a question: its title, its prompts and its examples.

The shipped document has its own, written by hand (``SHIPPED``). A session's uploads
get theirs from the files: their names in the title and the prompts, and example
questions made from their own text (``cppqa.web.suggestions``); and what the chat says when
uploads were removed while idle. ``cppqa.web.app`` shows them; nothing here imports gradio.

>>> from cppqa.records import Document
>>> welcome_for([Document("report.pdf", "Report", "x", "")], []).title
'Ask report.pdf'
>>> named(["a.pdf", "b.md", "c.txt"])
'a.pdf and 2 other files'
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from cppqa.config import Settings
from cppqa.records import Document, Passage
from cppqa.web.suggestions import suggest

#: Longest file name shown whole in the title and the prompts; longer ones lose their
#: middle (the list of files in the Add files tab shows them whole).
LONGEST_NAME = 32
#: Longest file name in the question box's prompt, which a phone shows in two lines.
LONGEST_SUBJECT = 24


@dataclass(frozen=True)
class Welcome:
    """The page's words for the documents the chat answers from.

    ``title`` heads the page (and names the browser tab), ``lede`` is the line under
    it, ``invitation`` fills the empty chat, ``subject`` goes into the question box's
    prompt ("Ask {subject} (up to …)", ``prompt``), and ``examples`` are asked with one
    click.
    """

    title: str
    lede: str
    invitation: str
    subject: str
    examples: tuple[str, ...]

    def prompt(self, limit: int) -> str:
        """The question box's placeholder, with the longest question allowed.

        >>> SHIPPED.prompt(1000)
        'Ask a question (up to 1,000 characters)…'
        """
        return prompt(self.subject, limit)


def prompt(subject: str, limit: int) -> str:
    """The question box's placeholder for ``subject`` ("": the shipped document).

    >>> prompt("report.pdf", 1000)
    'Ask report.pdf (up to 1,000 characters)…'
    """
    return f"Ask {subject or 'a question'} (up to {limit:,} characters)…"


def subject_of(uploaded: Sequence[Document] | None) -> str:
    """What the prompt names, short enough for two lines on a phone: the ``uploaded``
    file, or how many files, or "" for the shipped document (None).

    >>> subject_of([Document("a-long-name-for-a-report-2026.pdf", "A", "x", "")])
    'a-long-name-for…2026.pdf'
    """
    if uploaded is None:
        return SHIPPED.subject
    if len(uploaded) == 1:
        return shortened(uploaded[0].doc, LONGEST_SUBJECT)
    return f"your {len(uploaded)} files"


#: The shipped document's page.
SHIPPED = Welcome(
    title="Ask the history of the Communist Party of Pakistan",
    lede="Answers are quoted word for word from the document, with their source.",
    invitation="Ask about the party's history, or pick an example.",
    subject="",
    #: Questions the document answers; shown on an empty chat, one click asks them.
    examples=(
        "When was the CPP formed?",
        "Who is the General Secretary of the Party?",
        "When was the party declared illegal?",
        "What is the ideological basis of the party?",
        "Who was tortured and martyred in the royal fort of Lahore?",
        "What is the name of the party organ?",
        "Where is the party working openly?",
        "Which case was filed against the party in 1951?",
    ),
)


def welcome_for(documents: Sequence[Document], sentences: Sequence[Passage]) -> Welcome:
    """The page for a session's uploaded ``documents``, split into ``sentences``."""
    names = named([d.doc for d in documents])
    examples = suggest(documents, sentences)
    some = "them" if len(documents) > 1 else "it"
    return Welcome(
        title=f"Ask {names}",
        lede=f"Answers are quoted word for word from your {_files(len(documents))}, "
        "with their source.",
        invitation=f"Ask about {names}"
        + (f", or pick an example made from {some}." if examples else "."),
        subject=subject_of(documents),
        examples=examples,
    )


def named(names: Sequence[str]) -> str:
    """Files named in a few words: "a.pdf", "a.pdf and b.md", "a.pdf and 2 other files";
    a long name shortened in its middle (``shortened``)."""
    short = [shortened(name) for name in names]
    if len(short) <= 2:
        return " and ".join(short)
    return f"{short[0]} and {len(short) - 1} other files"


def shortened(name: str, most: int = LONGEST_NAME) -> str:
    """``name`` cut to ``most`` characters in its middle, its end (and suffix) kept.

    >>> shortened("meeting-notes-of-the-harbour-board-2026-03.md", 24)
    'meeting-notes-o…26-03.md'
    """
    if len(name) <= most:
        return name
    tail = min(8, most // 3)
    return name[: most - tail - 1] + "…" + name[-tail:]


def idle_time(settings: Settings) -> str:
    """How long uploads may stay unused, in words: "30 minutes".

    >>> idle_time(Settings(upload_idle_seconds=60.0))
    '1 minute'
    """
    minutes = max(round(settings.upload_idle_seconds / 60), 1)
    return f"{minutes} minute{'' if minutes == 1 else 's'}"


def expired(settings: Settings) -> str:
    """Said in the chat when a session's uploaded documents were removed while idle."""
    return (
        f"Your documents were removed after {idle_time(settings)} unused. Add them again "
        "in the Add files tab; until then the chat answers from the shipped document."
    )


def _files(count: int) -> str:
    return "file" if count == 1 else "files"
