"""`cppqa eval --squad` in document mode: each article becomes one corpus document (its
paragraphs joined by blank lines) with an index of its own, and every question goes
through the whole pipeline (retrieval, reader, abstention), as a user's question would.
Scores follow the SQuAD 2.0 evaluation script (`cppqa.datasets.squad`), an abstention
scoring 1 on an unanswerable question."""

from __future__ import annotations

import json
import math
import random
import re
import tempfile
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

from cppqa.config import Settings
from cppqa.datasets.squad import (
    ABSTENTION_ARTICLES,
    V2_CALIBRATION,
    V2_TEST,
    Article,
    exact,
    f1_score,
    load_squad,
    normalize_answer,
)
from cppqa.errors import CppqaError


@dataclass(frozen=True)
class Record:
    """One question asked in document mode, with what decides its scores at any threshold."""

    article: str
    question: str
    answers: tuple[str, ...]  # empty: unanswerable
    foreign: bool  # asked of an article it was not written for
    prediction: str | None  # the best span (None: the reader found none over the null)
    margin: float  # the best span's score over the null score
    confidence: float
    evidence: bool  # the first source holds a gold answer
    top: str  # the first retrieved sentence (a baseline)

    def scores(self, threshold: float) -> tuple[float, float]:
        """(EM, F1) when answering only at ``confidence >= threshold``."""
        said = self.prediction if self.answered(threshold) else None
        if not self.answers:
            value = float(said is None)
            return value, value
        if said is None:
            return 0.0, 0.0
        return max(exact(said, g) for g in self.answers), max(
            f1_score(said, g) for g in self.answers
        )

    def answered(self, threshold: float) -> bool:
        return self.prediction is not None and self.confidence >= threshold


def article_qas(articles: Sequence[Article], settings: Settings) -> Iterator[tuple[Article, Any]]:
    """Each article with a ``QA`` over it alone: its own corpus and index, in a temporary
    folder; the embedding model and the reader are loaded once."""
    from cppqa.qa import QA
    from cppqa.reading.reader import Reader
    from cppqa.search.embed import load_embedder

    embedder = load_embedder(settings.model, settings.precision)
    reader = Reader.load(Path(settings.reader) if settings.reader else None)
    with tempfile.TemporaryDirectory(prefix="cppqa-squad-") as tmp:
        for n, article in enumerate(articles):
            folder = Path(tmp) / str(n)
            (folder / "corpus").mkdir(parents=True)
            (folder / "corpus" / f"{_slug(article.title)}.txt").write_text(
                article.text, encoding="utf-8"
            )
            local = replace(settings, corpus_dir=folder / "corpus", index_dir=folder / "index")
            yield article, QA.load(local, embedder=embedder, reader=reader)


def squad_records(
    articles: Sequence[Article],
    settings: Settings,
    *,
    limit: int | None = None,
    foreign: int = 0,
    progress: Callable[[str], None] | None = None,
) -> Iterator[Record]:
    """Ask each article its own questions (at most ``limit``) and ``foreign`` questions of
    other articles, each article alone in a corpus with its own index."""
    for n, (article, qa) in enumerate(article_qas(articles, settings)):
        own = [q for _, qs in article.paragraphs for q in qs][:limit]
        pool = [
            q
            for other in articles
            if other.title != article.title
            for _, qs in other.paragraphs
            for q in qs
        ]
        picked = random.Random(n).sample(pool, min(foreign, len(pool)))
        asked = [(q, False) for q in own] + [(q, True) for q in picked]
        for item, is_foreign in asked:
            reading = qa.read(item.question)
            answer = reading.answer
            gold = () if is_foreign else item.answers
            first = answer.sources[0].passage.text if answer.sources else ""
            yield Record(
                article=article.title,
                question=item.question,
                answers=gold,
                foreign=is_foreign,
                prediction=answer.text,
                margin=reading.margin,
                confidence=answer.confidence,
                evidence=any(
                    f" {normalize_answer(g)} " in f" {normalize_answer(first)} " for g in gold
                ),
                top=reading.top.text if reading.top else "",
            )
        if progress:
            progress(article.title)


def _slug(title: str) -> str:
    return re.sub(r"[^\w.-]+", "_", title).strip("_")[:80] or "article"


def summary(records: Sequence[Record], threshold: float) -> dict[str, Any]:
    """EM/F1 overall, HasAns and NoAns, answer rate, evidence@1, and the two baselines."""
    own = [r for r in records if not r.foreign]
    has = [r for r in own if r.answers]
    no = [r for r in own if not r.answers]
    foreign = [r for r in records if r.foreign]

    def mean(values: Sequence[float]) -> float | None:
        return round(sum(values) / len(values), 4) if values else None

    def score(rs: Sequence[Record], t: float) -> dict[str, float | None]:
        pairs = [r.scores(t) for r in rs]
        return {"em": mean([p[0] for p in pairs]), "f1": mean([p[1] for p in pairs])}

    def top_sentence(r: Record) -> float:
        return max((f1_score(r.top, g) for g in r.answers), default=0.0)

    return {
        "threshold": threshold,
        "n": len(own),
        "has_answer": len(has),
        "no_answer": len(no),
        "overall": score(own, threshold),
        "has_ans": score(has, threshold),
        "no_ans_abstained": mean([float(not r.answered(threshold)) for r in no]),
        "answer_rate": mean([float(r.answered(threshold)) for r in own]),
        "has_ans_answer_rate": mean([float(r.answered(threshold)) for r in has]),
        "evidence@1": mean([float(r.evidence) for r in has]),
        "levels": levels(own, threshold),
        "foreign": len(foreign),
        "foreign_abstained": mean([float(not r.answered(threshold)) for r in foreign]),
        "baselines": {
            "always_abstain": {"f1": mean([float(not r.answers) for r in own])},
            "top_sentence": {
                "f1": mean([top_sentence(r) for r in own]),
                "has_ans_f1": mean([top_sentence(r) for r in has]),
            },
        },
    }


def levels(records: Sequence[Record], threshold: float) -> dict[str, dict[str, Any]]:
    """For each confidence level (``spans.LEVELS``): how many answers given at
    ``threshold`` fell in it, and the share of them that were right (F1 ≥ 0.5)."""
    from cppqa.reading.spans import LEVELS, level

    given = [r for r in records if r.answered(threshold)]
    out = {}
    for _, name in LEVELS:
        these = [r for r in given if level(r.confidence) == name]
        right = [r for r in these if r.answers and r.scores(threshold)[1] >= 0.5]
        out[name] = {
            "answers": len(these),
            "right": round(len(right) / len(these), 3) if these else None,
        }
    return out


def best_threshold(records: Sequence[Record]) -> float:
    """The confidence threshold that maximises overall F1 on ``records`` (ties: the lowest)."""
    own = [r for r in records if not r.foreign]
    given = {r.confidence for r in own if r.prediction is not None}
    # ... and one above every confidence: abstaining on everything is a choice too
    candidates = sorted({0.0} | given | {math.nextafter(max(given, default=0.0), math.inf)})
    best, best_f1 = 0.0, -1.0
    for t in candidates:
        f1 = sum(r.scores(t)[1] for r in own)
        if f1 > best_f1 + 1e-9:
            best, best_f1 = t, f1
    return best


def to_json(records: Sequence[Record]) -> list[dict[str, Any]]:
    return [asdict(r) for r in records]


def from_json(rows: Sequence[dict[str, Any]]) -> list[Record]:
    """Records as ``to_json`` wrote them (``eval --records``)."""
    try:
        return [Record(**{**row, "answers": tuple(row["answers"])}) for row in rows]
    except (KeyError, TypeError) as exc:
        raise CppqaError(f"not a record written by `cppqa eval --records`: {exc}") from None


#: Named article sets of ``--articles``: the reader's held-out articles (never trained
#: on) split in two halves, one to calibrate on and one to report; and the two SQuAD 2.0
#: articles with unanswerable questions.
#: 'v2-calibration' and 'v2-test' are the fixed split of the SQuAD 2.0 dev file.
ARTICLE_SETS = (
    "all",
    "held-out",
    "calibration",
    "test",
    "abstention",
    "v2-calibration",
    "v2-test",
)


def select(articles: list[Article], spec: str, settings: Settings) -> list[Article]:
    """The articles ``spec`` names: comma-separated names of ``ARTICLE_SETS`` and titles."""
    if spec == "all":
        return articles
    chosen: set[str] = set()
    for part in (p.strip() for p in spec.split(",")):
        if part == "abstention":
            chosen |= set(ABSTENTION_ARTICLES)
        elif part == "v2-calibration":
            chosen |= set(V2_CALIBRATION)
        elif part == "v2-test":
            chosen |= set(V2_TEST)
        elif part in ARTICLE_SETS:
            held = sorted(set(held_out_titles(settings)) - set(ABSTENTION_ARTICLES))
            half = len(held) // 2
            chosen |= set({"held-out": held, "calibration": held[:half], "test": held[half:]}[part])
        elif part:
            if part not in {a.title for a in articles}:
                raise CppqaError(
                    f"--articles: no article titled {part!r} in the file; give titles as "
                    f"the file spells them, or one of {', '.join(ARTICLE_SETS)}"
                )
            chosen.add(part)
    picked = [a for a in articles if a.title in chosen]
    if not picked:
        raise CppqaError(f"--articles {spec!r}: none of those articles is in the file")
    return picked


def load_files(paths: Sequence[Path]) -> list[Article]:
    """The articles of several SQuAD files; an article in two keeps the later file's version
    (SQuAD 2.0's, with its unanswerable questions, after SQuAD 1.1's)."""
    by_title: dict[str, Article] = {}
    for path in paths:
        for article in load_squad(path):
            by_title.pop(article.title, None)
            by_title[article.title] = article
    return list(by_title.values())


def held_out_titles(settings: Settings) -> list[str]:
    """The articles the reader was not trained on, as its ``reader.json`` lists them."""
    try:
        return [str(t) for t in reader_meta(settings)["held_out_articles"]]
    except (KeyError, TypeError) as exc:
        raise CppqaError(f"the reader's reader.json lists no held-out articles: {exc}") from None


def threshold_of(settings: Settings) -> float:
    """The confidence threshold answers are withheld below: the setting, else the reader's
    (read from its ``reader.json``, without loading its weights)."""
    from cppqa.qa import threshold
    from cppqa.reading.reader import Calibration

    if settings.min_confidence is not None:  # no need to read the reader's file
        return settings.min_confidence
    return threshold(settings, Calibration.of(reader_meta(settings)))


def reader_meta(settings: Settings) -> dict[str, Any]:
    from cppqa.reading.reader import READER_FILE, SHIPPED_DIR

    folder = Path(settings.reader) if settings.reader else SHIPPED_DIR
    try:
        meta = json.loads((folder / READER_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise CppqaError(f"cannot read the reader's {READER_FILE} in {folder}: {exc}") from None
    if not isinstance(meta, dict):
        raise CppqaError(f"the reader's {READER_FILE} in {folder} is not a JSON object")
    return meta
