"""The discourse relation a question asks across: "after X", "despite X", "respond to X".

A narrative tells what followed an event in the sentences after it ("The CPP began a
struggle against it."), so a question that asks what happened *after*, *despite* or *in
response to* an event may be answered by a sentence after the one telling the event.
The relations and their connectives follow the Penn Discourse Treebank's senses
(Prasad et al., 2008, "The Penn Discourse TreeBank 2.0", LREC): ``AFTER`` is
Temporal.Asynchronous.Succession with Contingency.Cause.Result ("as a result of X"),
``DESPITE`` is Comparison.Concession, and ``RESPONSE`` ("how did they respond to X")
asks for the same Result, read as an answer to X.

>>> relation = parse("How did the party respond to the bureaucracy tying it to imperialism?")
>>> relation.kind, relation.condition, relation.main
(<Kind.RESPONSE: 'response'>, 'the bureaucracy tying it to imperialism', 'How did the party ?')
>>> opens_with(Kind.AFTER, "After that the situation got worse and worse.")
True
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from enum import Enum

from cppqa.terms import IRREGULAR, content_stems


class Kind(Enum):
    AFTER = "after"
    RESPONSE = "response"
    DESPITE = "despite"


_MARKERS = {
    # "following" as a word, not as in "the party's following"
    Kind.AFTER: r"after|(?<!the )(?<!\ba )(?<!'s )(?<!’s )(?<!its )following"
    r"|as a (?:result|consequence) of",
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
_ANY_MARKER = "|".join(_MARKERS.values())
_MARKER = re.compile(
    "|".join(rf"\b(?P<{k.name}>{pattern})\b" for k, pattern in _MARKERS.items()), re.IGNORECASE
)
_QUESTION_WORD = r"(?:which|what|whom|whose|who|when|where|why|how)\b"
# The condition runs to the end of its clause: a comma or the question mark, a question
# word ("after the raid who was martyred"), or "and" before a question word or another
# relation ("after the ban and despite ..."; "the repression after the case" is one). One
# that starts with a question word ("after which event ...?") asks about the condition
# itself, and is not a relation.
_CONDITION = re.compile(rf"\s+(?!{_QUESTION_WORD})([^,;?!.]+)", re.IGNORECASE)
_CONDITION_END = re.compile(
    rf"\s+(?:(?:and|or|but)\s+)?{_QUESTION_WORD}|\s+(?:and|or|but)\s+(?:{_ANY_MARKER})\b",
    re.IGNORECASE,
)


# A clause that sets the time of its sentence: "When Ayub Khan imposed martial law in
# 1958, ...", "... since 1990".
_CIRCUMSTANCE = re.compile(
    r"\b(?:when|whenever|after|as soon as|once|since|while|following|during|before|until"
    r"|till|in the time of)\b([^,;:.!?۔]*)",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Relation:
    """A question's relation: ``main`` asks about what stands in ``kind`` to ``condition``."""

    kind: Kind
    condition: str
    main: str
    #: The whole question, marker included ("the party's response to ...").
    question: str = ""


def parse(question: str) -> Relation | None:
    """The relation ``question`` asks across, or None."""
    for marker in _MARKER.finditer(question):
        condition = _CONDITION.match(question, marker.end())
        if condition is None:
            continue
        kind = Kind[marker.lastgroup or ""]
        start, end = condition.span(1)
        if stop := _CONDITION_END.search(question, start, end):
            end = stop.start()
        text = question[start:end].strip()
        if not text:
            continue
        main = question[: marker.start()] + question[end:]
        return Relation(kind, text, re.sub(r"\s+", " ", main).strip(" ,"), question)
    return None


def opens_with(kind: Kind, sentence: str) -> bool:
    """Whether ``sentence`` opens with a connective of ``kind`` ("After that, ...")."""
    return re.match(rf"\s*(?:{_CONNECTIVES[kind]})\b", sentence, re.IGNORECASE) is not None


def circumstance_stems(sentence: str) -> set[str]:
    """The stems of ``sentence`` inside clauses that set its time ("When X, Y": X's).

    >>> sorted(circumstance_stems("The situation has changed to some extent since 1990."))
    ['1990']
    """
    return {s for m in _CIRCUMSTANCE.finditer(sentence) for s in content_stems(m.group(1))}


#: Nouns that make a name a modifier ("the party members", "the party organ"): the
#: doer is then the members or the organ, not the party.
_PART_NOUNS = (
    r"members?|leaders?|leadership|organs?|offices?|headquarters?|workers?|cadres?"
    r"|committees?|congress|officials?|activists?|supporters?|newspapers?|secretary"
    r"|chief|president|founders?|programme|program|policy|policies|manifesto|units?"
    r"|branch(?:es)?|soldiers?"
)
_PASSIVE = re.compile(
    r"(?:(?:has|have|had)\s+been|(?:is|are|was|were)(?:\s+being)?|gets?|got|be|been|being)\s+"
    r"(?:(?:\w+ly|also|soon|then|later|again|not|never|once|still|even|thus|now)\s+)*"
    rf"(?:\w+ed|\w{{3,}}en|hit|put|set|shut|split|cut|{'|'.join(sorted(IRREGULAR))})\b",
    re.IGNORECASE,
)
# A pronoun before a copula describes ("It was a dark time"); it does nothing.
_DESCRIBED = re.compile(r"(?:is|are|was|were)\b", re.IGNORECASE)


def _names(aliases: Iterable[str]) -> str:
    """A pattern for any of ``aliases`` as whole words (punctuation allowed in them)."""
    found = sorted({a for a in aliases if a.strip()}, key=len, reverse=True)
    return rf"(?<!\w)(?:{'|'.join(re.escape(a) for a in found) or '(?!x)x'})(?!\w)"


def asks_what_it_did(relation: Relation, aliases: Iterable[str]) -> bool:
    """Whether ``relation``'s question asks what one of ``aliases`` did ("how did the
    party respond", "what was the party's response"), not what its members did.

    >>> asks_what_it_did(parse("How did the party respond to the ban?"), ["party"])
    True
    >>> asks_what_it_did(parse("What did the party members do after the ban?"), ["party"])
    False
    """
    names = _names(aliases)
    did = (
        rf"\b(?:did|does|do|has|have|had|will|would)\s+(?:the\s+)?{names}"
        rf"(?!['’]s\b)(?!\s+(?:{_PART_NOUNS})\b)"
    )
    response = rf"{names}['’]s\s+(?:response|reaction|reply|answer)\b"
    # what is asked: the question up to its condition ("the party's response to ...")
    head = relation.question.partition(relation.condition)[0]
    return bool(
        re.search(did, relation.main, re.IGNORECASE) or re.search(response, head, re.IGNORECASE)
    )


def acts_in(sentence: str, aliases: Iterable[str]) -> bool:
    """Whether one of ``aliases`` (or "she", "it", "they") is the doer of a clause of
    ``sentence``: "The CPP began ...", "Even so, the party continued ...", but not "the
    party's headquarter was raided", "the party leadership ... were punished" or "the
    party was declared illegal".

    >>> acts_in("Even in such circumstances, the party continued to work.", ["party"])
    True
    >>> acts_in("As a result, the party's secret headquarter was raided.", ["party"])
    False
    """
    doer = re.compile(
        rf"(?:the\s+)?(?P<name>{_names(aliases)}|she|it|they)(?!\w)"
        rf"(?!['’]s\b)(?!\s+(?:{_PART_NOUNS}|of)\b)"  # not "the Party of Labour"
        r"(?:\s*,[^,]{1,40},)?\s+",  # "The CPP, despite the ban, continued"
        re.IGNORECASE,
    )
    # the sentence, or what follows a fronted phrase ("However, even so, the party ...")
    for start in [0, *(m.end() for m in re.finditer(r",\s*", sentence))]:
        found = doer.match(sentence, start)
        if found is None or _PASSIVE.match(sentence, found.end()):
            continue
        pronoun = found.group("name").lower() in {"it", "they"}
        if not (pronoun and _DESCRIBED.match(sentence, found.end())):
            return True
    return False
