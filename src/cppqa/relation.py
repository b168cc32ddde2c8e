"""The discourse relation a question asks across: "after X", "despite X", "respond to X".

A narrative tells what followed an event in the sentences after it ("The CPP began a
struggle against it."), so a question that asks what happened *after*, *despite* or *in
response to* an event is answered by a sentence that follows the one telling the event,
unless that sentence answers it itself. The relation classes and their connectives are
those of the Penn Discourse Treebank (Prasad et al., 2008, "The Penn Discourse TreeBank
2.0", LREC): Temporal.Asynchronous, Contingency.Cause, Comparison.Concession.

>>> relation = parse("How did the party respond to the bureaucracy tying it to imperialism?")
>>> relation.kind, relation.condition, relation.main
(<Kind.RESPONSE: 'response'>, 'the bureaucracy tying it to imperialism', 'How did the party ?')
>>> opens_with(Kind.AFTER, "After that the situation got worse and worse.")
True
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum


class Kind(Enum):
    AFTER = "after"
    RESPONSE = "response"
    DESPITE = "despite"


_MARKERS = {
    Kind.AFTER: r"after|following|as a (?:result|consequence) of",
    Kind.RESPONSE: r"(?:respond(?:ed|s)?|react(?:ed|s)?|repl(?:y|ied|ies))\s+to"
    r"|in (?:response|reaction|reply) to|(?:response|reaction) to",
    Kind.DESPITE: r"despite|in spite of|notwithstanding",
}
#: Sentence-initial connectives that mark a sentence as the second argument of the relation.
_CONNECTIVES = {
    Kind.AFTER: r"after (?:that|this)|then|later|afterwards|thereafter|subsequently"
    r"|since then|as a result|consequently|for this reason",
    Kind.RESPONSE: r"in response|thus|therefore|as a result|consequently|for this reason",
    Kind.DESPITE: r"despite (?:this|that)|in spite of (?:this|that)|even (?:in|under|so|then)"
    r"|however|nevertheless|nonetheless|still|yet",
}
_MARKER = re.compile(
    "|".join(rf"\b(?P<{k.name}>{pattern})\b" for k, pattern in _MARKERS.items()), re.IGNORECASE
)
# The condition runs to the end of its clause; a question word starts another ("after
# which event ...?" asks about the condition itself, and is not a relation).
_CONDITION = re.compile(r"\s+((?!(?:which|what|whom|who|when|where|how)\b)[^,;?]+)")


@dataclass(frozen=True)
class Relation:
    """A question's relation: ``main`` asks about what stands in ``kind`` to ``condition``."""

    kind: Kind
    condition: str
    main: str


def parse(question: str) -> Relation | None:
    """The relation ``question`` asks across, or None."""
    for marker in _MARKER.finditer(question):
        condition = _CONDITION.match(question, marker.end())
        if condition is None:
            continue
        kind = Kind[marker.lastgroup or ""]
        text = condition.group(1).strip()
        main = question[: marker.start()] + question[condition.end() :]
        return Relation(kind, text, re.sub(r"\s+", " ", main).strip(" ,"))
    return None


def opens_with(kind: Kind, sentence: str) -> bool:
    """Whether ``sentence`` opens with a connective of ``kind`` ("After that, ...")."""
    return re.match(rf"\s*(?:{_CONNECTIVES[kind]})\b", sentence, re.IGNORECASE) is not None
