"""Made-up negatives: a question changed so that the window holding its answer no
longer answers it.

- ``swap_entity``: one of its names or numbers swapped for another of the same article;
- ``perturb_entity``: a number changed (a year, a count, an ordinal) or one word of a
  many-word name replaced by another capitalised word of the article, so that it asks
  after something the window does not name.

Both draw only from the ``rng`` they are given: the example stream stays a pure
function of the seed (``examples.py``).
"""

from __future__ import annotations

import random
import re

_NAME = re.compile(r"\b(?:[A-Z][\w'’-]+(?:\s+(?:of\s+|the\s+)?[A-Z][\w'’-]+)*|\d[\d,.]*)\b")


def swap_entity(question: str, article_text: str, rng: random.Random) -> str | None:
    """The question with a name or number (not its first word) swapped for another one."""
    mine = [m for m in _NAME.finditer(question) if m.start() > 0]
    if not mine:
        return None
    target = rng.choice(mine)
    numeric = target.group()[0].isdigit()
    pool = sorted(
        {
            m.group()
            for m in _NAME.finditer(article_text)
            if m.group()[0].isdigit() == numeric and m.group().lower() not in question.lower()
        }
    )
    if not pool:
        return None
    return question[: target.start()] + rng.choice(pool) + question[target.end() :]


_ORDINALS = (
    "first second third fourth fifth sixth seventh eighth ninth tenth eleventh twelfth "
    "thirteenth fourteenth fifteenth sixteenth seventeenth eighteenth nineteenth twentieth"
).split()
_ORDINAL = re.compile(r"\b(" + "|".join(_ORDINALS) + r")\b", re.IGNORECASE)
_NUMBER = re.compile(r"\b\d+(?:st|nd|rd|th)?\b")
_MANY_WORD_NAME = re.compile(r"\b[A-Z][\w'’-]+(?:\s+[A-Z][\w'’-]+)+\b")
_CAPITALISED = re.compile(r"\b[A-Z][a-z][\w'’-]+\b")


def _ordinal_suffix(n: int) -> str:
    if n % 100 in (11, 12, 13):
        return "th"
    return {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")


def _changed_number(token: str, rng: random.Random) -> str:
    """A different number of the same shape: a year moves by 1-15, a count by a little."""
    digits = token.rstrip("stndrh")
    value = int(digits)
    if 1000 <= value <= 2100:
        new = value + rng.choice([-1, 1]) * rng.randint(1, 15)
    else:
        new = value + rng.choice([-1, 1]) * rng.randint(1, max(2, value // 2))
        if new < 1:
            new = value + 1
    suffix = _ordinal_suffix(new) if len(digits) < len(token) else ""
    return f"{new}{suffix}"


def perturb_entity(question: str, window: str, article_text: str, rng: random.Random) -> str | None:
    """The question with a number, an ordinal or one word of a many-word name changed
    into something ``window`` does not say; None when it has none to change."""
    edits: list[tuple[int, int, str]] = []
    for m in _NUMBER.finditer(question):
        edits.append((m.start(), m.end(), _changed_number(m.group(), rng)))
    for m in _ORDINAL.finditer(question):
        at = _ORDINALS.index(m.group().lower())
        other = rng.choice([o for i, o in enumerate(_ORDINALS) if abs(i - at) <= 3 and i != at])
        edits.append((m.start(), m.end(), other if m.group().islower() else other.title()))
    names = [m for m in _MANY_WORD_NAME.finditer(question) if m.start() > 0]
    # the article's capitalised words, scanned only when there is a name to change
    words = sorted({w.group() for w in _CAPITALISED.finditer(article_text)}) if names else []
    for m in names:
        parts = list(re.finditer(r"\S+", m.group()))
        part = rng.choice(parts)
        pool = [w for w in words if w not in m.group() and w.lower() not in question.lower()]
        if pool:
            a, b = m.start() + part.start(), m.start() + part.end()
            edits.append((a, b, rng.choice(pool)))
    rng.shuffle(edits)
    for a, b, new in edits:
        changed = question[:a] + new + question[b:]
        # the new words must not be in the window: else it may still answer the question
        if new.lower() not in window.lower():
            return changed
    return None
