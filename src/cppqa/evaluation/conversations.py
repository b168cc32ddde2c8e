"""Follow-up questions made from SQuAD-format data, and ``cppqa eval --conversations``.

Within one paragraph's questions, a question that names what the question before
it named becomes a follow-up with that name replaced by a pronoun:

    "When did Beyoncé start becoming popular?"
    "What areas did Beyoncé compete in?"  →  "What areas did she compete in?"

The pronoun is the one the article itself uses after the name (``pronoun_of``),
in the case the name's place asks for ("she", "her", "her" + noun). The right
answer stays the same, so each follow-up is scored in four readings:

- **full**: the original question, asked alone;
- **alone**: the pronoun form, asked alone (what the pronoun costs);
- **chat**: the pronoun form, asked after the previous question;
- **full in chat**: the original question asked after the previous one (does the
  history ever hurt a question that needs none?).

Recovery = (chat − alone) / (full − alone): the share of what the pronoun cost
that the conversation wins back. No-harm = (full in chat) / full.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from itertools import pairwise
from typing import Any

from cppqa.config import Settings
from cppqa.datasets.squad import Article, Item, f1_score
from cppqa.dialogue.followup import BEFORE_A_VERB, Turn, pronoun_of, whole
from cppqa.evaluation.squad import article_qas
from cppqa.search.terms import STOPWORDS

# A capitalised name: words joined by "of", "the", "and", "de", "von", ...
_NAME = re.compile(
    r"(?<![\w'’.&-])[A-Z][\w.-]*(?:\s+(?:(?:of|the|and|de|del|la|von|van|du|da)\s+)*[A-Z][\w.-]*)*"
    r"(?![\w&-])"
)
_NEXT_WORD = re.compile(r"\s*([\w'’-]*)")
_DETERMINER = re.compile(
    r"\b(?:a|an|this|that|these|those|each|every|his|her|its|their|our|your|my|which|what|"
    r"whose|any|some|no|most|many|all|both|several|few)\s+$|\d\w*\s+$",
    re.IGNORECASE,
)
_POSSESSIVE = re.compile(r"^['’]s\b")
_AUXILIARIES = frozenset(
    "did does do was is were are has have had can could will would should may might must".split()
)
#: Words after which a name is the subject of its clause ("did Beyoncé compete").
_SUBJECT_AFTER = _AUXILIARIES | {"and", "or", "when", "what", "who", "where", "why", "how"}
_FORMS = {  # class → (subject, object, possessive)
    "he": ("he", "him", "his"),
    "she": ("she", "her", "her"),
    "it": ("it", "it", "its"),
    "they": ("they", "them", "their"),
}


@dataclass(frozen=True)
class FollowUp:
    """A question (``item``) and its pronoun form, after the question before it."""

    article: str
    previous: Item
    item: Item
    name: str
    pronoun: str  # the pronoun put in the name's place
    asked: str  # the pronoun form of ``item.question``


def follow_ups(article: Article) -> list[FollowUp]:
    """The follow-ups of ``article``: consecutive questions of one paragraph where the
    second names (with a capital) what the first named, and names it once."""
    out = []
    for _, items in article.paragraphs:
        for previous, item in pairwise(items):
            if not item.answers:  # an unanswerable question stays one either way
                continue
            made = _pronoun_form(item.question, previous.question, article.text)
            if made:
                name, pronoun, asked = made
                out.append(FollowUp(article.title, previous, item, name, pronoun, asked))
    return out


def _pronoun_form(question: str, previous: str, text: str) -> tuple[str, str, str] | None:
    """(name, pronoun, question with the name replaced), or None when it names nothing
    that ``previous`` named (the longest shared name wins)."""
    shared = [
        m
        for m in _NAME.finditer(question)
        if m.start() > 0
        and len(m.group()) > 1
        and re.search(whole(m.group()), previous)
        and not _DETERMINER.search(question[: m.start()])  # "this Zune store"
        and (_after_auxiliary(question[: m.start()]) or _stands_alone(question[m.end() :]))
    ]
    if not shared:
        return None
    name = max(shared, key=lambda m: len(m.group()))
    if len(re.findall(whole(name.group()), question)) > 1:
        return None
    start, end = name.span()
    before = question[:start]
    if re.search(r"\bthe\s+$", before, re.IGNORECASE):  # "the Bronx" → "it"
        start = re.search(r"\bthe\s+$", before, re.IGNORECASE).start()  # type: ignore[union-attr]
        before = question[:start]
    kind = pronoun_of(name.group(), text)
    subject, obj, possessive = _FORMS[kind]
    after = question[end:]
    if _POSSESSIVE.match(after):
        pronoun, after = possessive, after[2:]
    else:
        previous_word = re.findall(r"[\w'’]+", before)
        first = not previous_word or previous_word[-1].lower() in _SUBJECT_AFTER
        pronoun = subject if first else obj
    return name.group(), pronoun, before + pronoun + after


def _after_auxiliary(before: str) -> bool:
    """Whether the name comes after "did", "can", ...: the subject of the verb that
    follows ("did Beyoncé compete"; not "were Kinect sales", after a form of "be")."""
    found = re.findall(r"[\w'’]+", before)
    return bool(found) and found[-1].lower() in BEFORE_A_VERB


def _stands_alone(after: str) -> bool:
    """Whether a name followed by ``after`` names a thing, rather than modifying the noun
    after it ("Kinect sales"): it ends the question or a clause, or a function word or a
    verb form follows it."""
    if _POSSESSIVE.match(after):
        return True
    word = _NEXT_WORD.match(after).group(1)  # type: ignore[union-attr]
    low = word.lower()
    return not word or low in STOPWORDS or low.endswith(("ed", "ing"))


# ---------------------------------------------------------------- scoring


@dataclass(frozen=True)
class Readings:
    """One follow-up's F1 in the four readings (0 when the answer was withheld)."""

    follow_up: FollowUp
    full: float
    alone: float
    chat: float
    full_in_chat: float
    understood: str  # the pronoun form as the conversation resolved it


def read_follow_ups(
    articles: Sequence[Article],
    settings: Settings,
    *,
    limit: int | None = None,
    progress: Callable[[str], None] | None = None,
) -> Iterator[Readings]:
    """Ask at most ``limit`` follow-ups of each article in the four readings, each article
    alone in a corpus with its own index."""
    having = [a for a in articles if follow_ups(a)]
    for article, qa in article_qas(having, settings):
        for f in follow_ups(article)[:limit]:
            before = qa.ask(f.previous.question)
            sentence = before.sources[0].passage.text if before.sources and before.text else None
            history = [Turn(f.previous.question, before.query, before.text, sentence)]
            chat = qa.ask(f.asked, history)
            yield Readings(
                f,
                full=_f1(qa.ask(f.item.question).text, f.item),
                alone=_f1(qa.ask(f.asked).text, f.item),
                chat=_f1(chat.text, f.item),
                full_in_chat=_f1(qa.ask(f.item.question, history).text, f.item),
                understood=chat.query,
            )
        if progress:
            progress(article.title)


def _f1(said: str | None, item: Item) -> float:
    return 0.0 if said is None else max(f1_score(said, g) for g in item.answers)


def summary(readings: Sequence[Readings]) -> dict[str, Any]:
    """Mean F1 of each reading, the recovery ratio and the no-harm ratio."""
    n = len(readings)

    def mean(key: str) -> float | None:
        return round(sum(getattr(r, key) for r in readings) / n, 4) if n else None

    full, alone, chat, inside = (mean(k) for k in ("full", "alone", "chat", "full_in_chat"))
    recovery = no_harm = None
    if full is not None and alone is not None and chat is not None and inside is not None:
        if full > alone:
            recovery = round((chat - alone) / (full - alone), 3)
        if full > 0:
            no_harm = round(inside / full, 3)
    return {
        "n": n,
        "articles": len({r.follow_up.article for r in readings}),
        "full": full,
        "alone": alone,
        "chat": chat,
        "full_in_chat": inside,
        # the share of what the pronoun cost that the conversation won back
        "recovery": recovery,
        "no_harm": no_harm,
        "resolved_to_name": round(sum(r.follow_up.name in r.understood for r in readings) / n, 3)
        if n
        else None,
    }


def format_summary(s: dict[str, Any]) -> str:
    def f(v: float | None) -> str:
        return "-" if v is None else f"{v:.3f}"

    return "\n".join(
        [
            "cppqa follow-up evaluation (document mode, pronoun follow-ups)",
            f"{s['n']} follow-ups from {s['articles']} articles; F1 of each reading:",
            f"  full question, alone             {f(s['full'])}",
            f"  pronoun form, alone              {f(s['alone'])}",
            f"  pronoun form, after the turn     {f(s['chat'])}",
            f"  full question, after the turn    {f(s['full_in_chat'])}",
            f"recovery (chat − alone) / (full − alone): {f(s['recovery'])}   (target ≥ 0.80)",
            f"no-harm (full after the turn) / full:     {f(s['no_harm'])}   (target ≥ 0.98)",
            f"pronoun resolved to the name it replaced: {f(s['resolved_to_name'])}",
        ]
    )
