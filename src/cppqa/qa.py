"""The facade: ``QA.load()`` once, then ``qa.ask(question, history=...)`` → ``Answer``.

>>> qa = QA.load()                                       # doctest: +SKIP
>>> answer = qa.ask("Who is the General Secretary of the Party?")   # doctest: +SKIP
>>> answer.text, answer.sources[0].passage.doc           # doctest: +SKIP
('Imdad Qazi', 'communist-party-of-pakistan.txt')
"""

from __future__ import annotations

import bisect
import logging
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from cppqa.config import Settings
from cppqa.dialogue import Turn, resolve
from cppqa.embed import Embedder, ModelInfo, SentenceTransformerEmbedder, describe_model
from cppqa.extract import (
    TYPED,
    AnswerType,
    Span,
    answers_type,
    asked_noun,
    choose_span,
    classify,
    learn_people,
    without_cue,
)
from cppqa.index import Index, ensure_index
from cppqa.question import clean_question
from cppqa.records import Answer, Source
from cppqa.relation import (
    Kind,
    Relation,
    acts_in,
    asks_what_it_did,
    circumstance_stems,
    opens_with,
    parse,
)
from cppqa.retrieve import Candidate, Retriever
from cppqa.terms import CUE_WORDS, STOPWORDS, words

log = logging.getLogger(__name__)

# Weights of the evidence for a sentence (tuned on the dev part of eval/qa.jsonl).
DENSE_WEIGHT, COVERAGE_WEIGHT, TYPE_BONUS = 1.0, 0.6, 0.25
#: For untyped questions: a sentence in which a short answer can be framed.
SHAPE_BONUS = 0.2
#: The least share of an "after X" condition a sentence must tell to be X's.
ANCHOR_SHARE = 0.3
#: How many sentences after X's may tell what came after it; and what the party did.
FOLLOW, FOLLOW_DOING = 2, 4
#: Words that pick one of several: the passage must say them too.
ORDINALS = frozenset(
    "first second third fourth fifth last former previous founding earliest latest".split()
)
# An ordinal that picks a noun ("the first General Secretary", "Pakistan's first"), not
# an adverb ("when was the CPP first formed?").
_ORDINAL = re.compile(
    rf"(?:\bthe|\b(?:its|his|her|their)|['’]s)\s+(?:very\s+)?({'|'.join(sorted(ORDINALS))})\b",
    re.IGNORECASE,
)
# "who was the judge in ...": the role asked about, up to the first word like "in".
_ROLE = re.compile(
    r"\bwho\s+(?:is|was|are|were)\s+(?:the\s+|a\s+|an\s+)?"
    r"((?:(?!(?:of|in|at|for|on|to|during|who|that|when)\b)[\w'’-]+\s*){1,3})",
    re.IGNORECASE,
)
_MULTIWORD_NAME = re.compile(r"(?<!^)(?<![.?!] )\b[A-Z][\w'’-]+(?:\s+[A-Z][\w'’-]+)+")


@dataclass(frozen=True)
class _Scored:
    candidate: Candidate
    score: float
    typed: bool
    #: The short answer found while scoring an untyped question (None: none, or not looked for).
    span: Span | None = None
    #: The sentence this one follows and was chosen for ("after X": X's sentence).
    follows: Candidate | None = None

    @property
    def evidence(self) -> tuple[Candidate, ...]:
        """What speaks for this sentence: itself, and the event it follows (if any)."""
        return (self.candidate,) if self.follows is None else (self.candidate, self.follows)


class QA:
    """Answers questions from an index of the corpus."""

    def __init__(self, index: Index, embedder: Embedder, settings: Settings) -> None:
        self.index = index
        self.settings = settings
        self.retriever = Retriever(index, embedder, settings.rrf_k)
        self._subject = frozenset(self.retriever.subject)
        self._people = learn_people(p.text for p in index.sentences)
        self._lower_text = [d.text.lower() for d in index.documents]
        self._sorted_words = sorted(self.retriever.vocabulary.surface)
        # Where each acronym is spelled out in place: "... Pakistan (CPP)".
        self._definitions: dict[str, list[int]] = {}
        for i, passage in enumerate(index.sentences):
            for acronym in set(re.findall(r"\(([A-Z]{2,8})\)", passage.text)):
                self._definitions.setdefault(acronym, []).append(i)
        # Which sentence an earlier answer quoted ("what happened after that?").
        self._sentence_ids: dict[str, int] = {}
        for i, passage in enumerate(index.sentences):
            self._sentence_ids.setdefault(passage.text, i)
        # What "it" and "they" mean when the conversation names nothing else.
        self._topic = self.retriever.topic

    @classmethod
    def load(
        cls,
        settings: Settings | None = None,
        *,
        rebuild: bool = True,
        progress: bool = False,
        embedder: Embedder | None = None,
    ) -> QA:
        """Load (or build) the index and the model named by ``settings``."""
        settings = settings or Settings.from_env()
        if embedder is None:
            info = describe_model(settings.model)
            holder: list[Embedder] = []

            def get() -> Embedder:
                if not holder:
                    holder.append(SentenceTransformerEmbedder(info))  # hashed once, above
                return holder[0]

            index = ensure_index(settings, info, get, rebuild=rebuild, progress=progress)
            return cls(index, get(), settings)
        fake = ModelInfo(embedder.name, Path("."), embedder.weights_sha256)
        index = ensure_index(settings, fake, lambda: embedder, rebuild=rebuild, progress=progress)
        return cls(index, embedder, settings)

    def ask(self, question: str, history: Sequence[Turn] = ()) -> Answer:
        """Answer ``question``; ``history`` holds the earlier turns of a conversation.

        Raises ``QuestionError`` for a question that cannot be asked (empty,
        too long, no words).
        """
        question = self.validate(question)
        resolution = resolve(question, history, self._topic, self._subject, self.retriever.fit)
        # Acronyms expanded and typos fixed, once: "wich" is "which", "CC" a committee.
        normalised = self.retriever.vocabulary.normalise_query(resolution.query)
        # The same, with acronyms as typed: the words in order, to frame a short answer.
        framed = self.retriever.vocabulary.normalise_query(resolution.query, expand=False)
        kind = classify(normalised)
        query = self.retriever.prepare(without_cue(resolution.query, kind))
        depth = max(8, self.settings.top_k)
        candidates = self.retriever.search(query, k=depth)
        if kind is AnswerType.EXPANSION:
            # "What does CPP stand for?" is answered where the corpus defines it.
            own = {c.sentence for c in candidates}
            defining = {
                i
                for a in re.findall(r"\b[A-Z]{2,8}\b", normalised)
                for i in self._definitions.get(a, [])
            }
            candidates += self.retriever.judge(query, sorted(defining - own))
        if resolution.context:
            # The conversation finds more candidates; the question alone judges them.
            own = {c.sentence for c in candidates}
            wider = self.retriever.prepare(f"{query.text} {resolution.context}")
            extra = [c.sentence for c in self.retriever.search(wider, k=depth)]
            candidates += self.retriever.judge(query, [i for i in extra if i not in own])
        if resolution.wants_more:
            said = {t.sentence for t in history}
            candidates = [
                c for c in candidates if self.index.sentences[c.sentence].text not in said
            ] or candidates
        stems = set(query.stems) | self.retriever.subject_stems

        def score(candidate: Candidate) -> _Scored:
            return self._score(candidate, kind, resolution.query, framed, stems)

        def rescore(sentences: list[int]) -> list[_Scored]:  # sentences not yet candidates
            return [score(c) for c in self.retriever.judge(query, sentences)]

        scored = sorted(map(score, candidates), key=lambda s: -s.score)
        # The sentence an earlier answer quoted, which "after that" points to.
        last = self._sentence_ids.get(history[-1].sentence or "") if history else None
        if relation := parse(normalised):
            used = {t.sentence or "" for t in history} if resolution.wants_more else set()
            scored = self._follow(relation, scored, kind, rescore, last, used)
        sources = tuple(
            Source(self.index.sentences[s.candidate.sentence], round(s.score, 4))
            for s in scored[: self.settings.top_k]
        )
        best = scored[0]
        confidence = self._confidence(best)
        refusal = self._refusal(resolution.query, normalised, kind, best, confidence)
        if refusal:
            log.info("abstaining on %r: %s", question, refusal)
            return Answer(question, resolution.query, None, confidence, sources)
        sentence = sources[0].passage
        span = (
            best.span  # found while scoring
            if kind is AnswerType.OTHER
            else choose_span(
                sentence.text,
                kind,
                framed,
                stems,
                self._subject,
                self.retriever.vocabulary.acronyms,
                self._people,
            )
        )
        # "What happened after that?" is answered from the conversation, not its own words.
        chained = best.follows is not None and best.follows.sentence == last
        if (
            span is None
            and not chained
            and (refusal := self._refusal_without_span(framed, kind, best))
        ):
            log.info("abstaining on %r: %s", question, refusal)
            return Answer(question, resolution.query, None, confidence, sources)
        if span is None:
            return Answer(
                question, resolution.query, sentence.text, confidence, sources, sentence.start
            )
        return Answer(
            question,
            resolution.query,
            sentence.text[span.start : span.end],
            confidence,
            sources,
            sentence.start + span.start,
        )

    def _follow(
        self,
        relation: Relation,
        scored: list[_Scored],
        kind: AnswerType,
        rescore: Callable[[list[int]], list[_Scored]],
        last: int | None,
        used: set[str],
    ) -> list[_Scored]:
        """``scored``, or with a sentence after the event first, for a question about
        what came after, despite or in response to the event.

        The event's sentence (the "anchor") tells the condition; ``last`` is the one
        "after that" points to. A sentence up to two on is put first when it says more
        of what the question asks than the anchor and the best sentence do. When the
        question asks nothing more ("what happened after X?"): one opening with a
        connective of the relation ("After that ..."), else (not for "despite") the
        next one; but not when the anchor tells X only as its time ("When X, Y").
        """
        retriever = self.retriever
        condition = retriever.specific_stems(relation.condition)
        known = retriever.vocabulary.frequency
        main = tuple(s for s in retriever.specific_stems(relation.main) if s in known)
        if condition:
            # The event's sentence tells the condition and fits the question as a whole.
            anchor = max(
                scored, key=lambda s: retriever.share(condition, s.candidate.sentence) + s.score
            ).candidate.sentence
            if retriever.share(condition, anchor) < ANCHOR_SHARE:
                return scored
        elif last is None:
            return scored  # "after that" with nothing before
        else:
            anchor = last
        sentences = self.index.sentences
        # "How did the party respond?": a sentence in which the party does something;
        # few are, so they are looked for further on.
        doing = asks_what_it_did(relation, self._subject)
        ahead = FOLLOW_DOING if doing else FOLLOW
        after = [i for i in retriever.following(anchor, ahead) if sentences[i].text not in used]
        if doing:
            after = [i for i in after if acts_in(sentences[i].text, self._subject)]
        by_sentence = {s.candidate.sentence: s for s in scored}
        by_sentence |= {
            s.candidate.sentence: s for s in rescore([i for i in after if i not in by_sentence])
        }
        fitting = [i for i in after if kind not in TYPED or by_sentence[i].typed]
        chosen = self._successor(relation, kind, condition, main, anchor, scored[0], fitting)
        if chosen is None:
            return scored
        first = by_sentence[chosen]
        rest = [s for s in scored if s.candidate.sentence != chosen]
        event = (by_sentence.get(anchor) or rescore([anchor])[0]).candidate
        promoted = replace(first, score=max(first.score, scored[0].score), follows=event)
        return [promoted, *rest]

    def _successor(
        self,
        relation: Relation,
        kind: AnswerType,
        condition: tuple[str, ...],
        main: tuple[str, ...],
        anchor: int,
        best: _Scored,
        fitting: list[int],
    ) -> int | None:
        """Which of ``fitting``, the sentences after the anchor, answers the question."""
        share, sentences = self.retriever.share, self.index.sentences
        # What the event's sentence, or the best one, says of the question by itself.
        itself = max(share(main, anchor), share(main, best.candidate.sentence))
        saying = [i for i in fitting if share(main, i) > itself]
        if saying:  # the one that says most of what is asked, the nearest of equals
            return max(saying, key=lambda i: share(main, i))
        if itself or kind in TYPED:
            return None  # the best or the event's sentence says it, or none of the type does
        told = set(condition) & self.retriever.sentence_stems(anchor)
        if condition and told <= circumstance_stems(sentences[anchor].text):
            return None  # "When X, Y": Y is what happened after X
        marked = [i for i in fitting if opens_with(relation.kind, sentences[i].text)]
        if marked or relation.kind is Kind.DESPITE:  # what went on despite X need not be next
            return marked[0] if marked else None
        return fitting[0] if fitting else None

    def _refusal_without_span(self, framed: str, kind: AnswerType, best: _Scored) -> str | None:
        """Why a whole-sentence answer would not answer ``framed``, or None."""
        if all(c.coverage == 0.0 for c in best.evidence):
            return "no word of it in the best passage"
        if kind in TYPED:
            return f"no {kind.value} in the best passage"
        noun = asked_noun(framed)
        if noun and not noun.endswith("ly") and not self._known(noun):
            # "Which poets were arrested?": the corpus never speaks of poets.
            return f"the corpus never mentions {noun}"
        return None

    def _known(self, word: str) -> bool:
        """Whether the corpus uses ``word``, a misspelling of it, or a longer form of it
        ("leader" in "leadership"); cue words ("year", "date") ask for a type, not a topic."""
        if word in CUE_WORDS or not self.retriever.vocabulary.unknown_words(word):
            return True
        at = bisect.bisect_left(self._sorted_words, word)
        return at < len(self._sorted_words) and self._sorted_words[at].startswith(word)

    def validate(self, question: str) -> str:
        """The question cleaned of control characters, or a ``QuestionError``."""
        return clean_question(question, self.settings.max_question_chars)

    def _score(
        self, c: Candidate, kind: AnswerType, question: str, framed: str, stems: set[str]
    ) -> _Scored:
        text = self.index.sentences[c.sentence].text
        vocabulary = self.retriever.vocabulary
        typed = answers_type(
            text,
            kind,
            self._subject,
            question,
            vocabulary.acronyms,
            self._people,
            vocabulary.defined,
        )
        # An untyped question fits a sentence that frames a short answer to it.
        span = None
        if kind is AnswerType.OTHER:
            span = choose_span(
                text, kind, framed, stems, self._subject, vocabulary.acronyms, self._people
            )
        score = (
            DENSE_WEIGHT * c.dense
            + COVERAGE_WEIGHT * c.coverage
            + TYPE_BONUS * typed
            + SHAPE_BONUS * (span is not None)
        )
        return _Scored(c, score, typed, span)

    def _confidence(self, best: _Scored) -> float:
        # Cosine similarity of MiniLM for a relevant sentence is ~0.4-0.8; coverage is 0-1.
        raw = max(0.5 * (c.dense - 0.1) / 0.6 + 0.5 * c.coverage for c in best.evidence)
        return max(0.0, min(1.0, raw))

    def _refusal(
        self, query: str, normalised: str, kind: AnswerType, best: _Scored, confidence: float
    ) -> str | None:
        """Why the corpus cannot answer ``query``, or None."""
        # judged on the question with clipped phrases spelled out ("gen sec")
        unknown = self.retriever.vocabulary.unknown_words(normalised)
        known = [w for w in words(normalised) if w not in unknown and w not in STOPWORDS]
        if unknown and not known:
            return f"no word of the question occurs in the corpus ({', '.join(unknown)})"
        for name in _MULTIWORD_NAME.findall(normalised):
            name = re.sub(r"['’]s$", "", name)
            if not any(name.lower() in t for t in self._lower_text):
                return f"the corpus never mentions {name!r}"
        if kind in TYPED and not best.typed:
            return f"the question asks for {kind.value} and the passage has none"
        passage = set(words(self.index.sentences[best.candidate.sentence].text))
        # "Who was the first General Secretary?": the passage names one, not the first
        # (as typed: a typo fix could make "former" "formed").
        asked = {m.lower() for m in _ORDINAL.findall(query) + _ORDINAL.findall(normalised)}
        if missing := sorted(asked - passage):
            return f"the passage does not say which is the {missing[0]}"
        role = _ROLE.search(normalised)
        if kind is AnswerType.WHO and role:
            head = [w for w in words(role.group(1)) if w not in STOPWORDS]
            if head and not self._known(head[-1]):  # "leader" is known from "leadership"
                return f"the corpus never mentions a {head[-1]}"
        if confidence < self.settings.min_confidence:
            return f"confidence {confidence:.2f} is below {self.settings.min_confidence}"
        return None
