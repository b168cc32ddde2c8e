"""SQuAD-format data, its official scoring, and ``cppqa eval --squad`` in document mode.

Document mode: each article becomes one corpus document (its paragraphs joined
by blank lines) with an index of its own, and every question goes through the
whole pipeline (retrieval, reader, abstention), as a user's question would.
Scores follow the SQuAD 2.0 evaluation script (Rajpurkar et al. 2018): answers
normalised (case, punctuation, articles, spaces), EM and token F1 taken as the
best over the gold answers, an abstention scoring 1 on an unanswerable question.
"""

from __future__ import annotations

import gzip
import json
import logging
import math
import random
import re
import string
import tempfile
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any, NamedTuple

from cppqa.config import Settings
from cppqa.errors import CppqaError

log = logging.getLogger(__name__)

#: The two SQuAD 2.0 articles whose unanswerable questions measure abstention; never trained on.
ABSTENTION_ARTICLES = ("The_Legend_of_Zelda:_Twilight_Princess", "Spectre_(2015_film)")

#: The fixed split of the 30 SQuAD 2.0 dev articles (``squad-v2.0-dev-30-articles.json.gz``,
#: drawn once at random by whoever made the file): the test four are only ever run for
#: their numbers; the calibration four fit thresholds and confidence curves; training
#: draws from the other 22.
V2_TEST = ("Black_Death", "Economic_inequality", "Force", "Harvard_University")
V2_CALIBRATION = ("Ctenophora", "Pharmacy", "Private_school", "Steam_engine")
#: Never trained on, whatever file a run mixes in.
V2_HELD_OUT = V2_TEST + V2_CALIBRATION + ABSTENTION_ARTICLES


class Item(NamedTuple):
    """One question: its first gold answer and where it starts (-1: unanswerable), all answers."""

    question: str
    answer: str
    start: int
    answers: tuple[str, ...]


@dataclass(frozen=True)
class Article:
    title: str
    paragraphs: tuple[tuple[str, tuple[Item, ...]], ...]

    @property
    def text(self) -> str:
        return "\n\n".join(context for context, _ in self.paragraphs)


def load_squad(path: Path) -> list[Article]:
    """Articles of a SQuAD 1.1 or 2.0 file (``.json`` or ``.json.gz``)."""
    try:
        opener: Callable[..., Any] = gzip.open if path.suffix == ".gz" else open
        with opener(path, "rt", encoding="utf-8") as f:
            data = json.load(f)["data"]
        return [
            Article(
                a["title"],
                tuple((p["context"], tuple(_item(q) for q in p["qas"])) for p in a["paragraphs"]),
            )
            for a in data
        ]
    except (OSError, ValueError, KeyError, TypeError, IndexError) as exc:
        raise CppqaError(
            f"cannot read SQuAD data from {str(path)!r}: {exc.__class__.__name__}: {exc}"
        ) from None


def _item(q: dict[str, Any]) -> Item:
    answers = [] if q.get("is_impossible") else q.get("answers") or []
    if not answers:
        return Item(q["question"], "", -1, ())
    first = answers[0]
    return Item(
        q["question"], first["text"], int(first["answer_start"]), tuple(a["text"] for a in answers)
    )


def normalize_answer(text: str) -> str:
    """SQuAD's official normalisation: lower case, no punctuation, articles or extra spaces."""
    text = "".join(ch for ch in text.lower() if ch not in _PUNCTUATION)
    return " ".join(re.sub(r"\b(a|an|the)\b", " ", text).split())


_PUNCTUATION = frozenset(string.punctuation)


def f1_score(prediction: str, gold: str) -> float:
    """SQuAD's token F1 (both empty: 1; one empty: 0).

    >>> round(f1_score("in March 1948", "March 6, 1948"), 2)
    0.67
    """
    p, g = normalize_answer(prediction).split(), normalize_answer(gold).split()
    if not p or not g:
        return float(p == g)
    common = sum((Counter(p) & Counter(g)).values())
    if common == 0:
        return 0.0
    precision, recall = common / len(p), common / len(g)
    return 2 * precision * recall / (precision + recall)


def exact(prediction: str, gold: str) -> float:
    return float(normalize_answer(prediction) == normalize_answer(gold))


# ---------------------------------------------------------------- document mode


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
    from cppqa.embed import load_embedder
    from cppqa.qa import QA
    from cppqa.reader import Reader

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
    from cppqa.spans import LEVELS, level

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


def fit_platt(margins: Sequence[float], right: Sequence[bool]) -> tuple[float, float]:
    """Fit P(right) = σ(a·margin + b) by Newton's method with backtracking on the log loss.

    As Platt (1999) advises, the targets are smoothed to (N₊+1)/(N₊+2) and 1/(N₋+2),
    so that separable data still gives a finite slope.
    """
    pairs = [(m, bool(y)) for m, y in zip(margins, right, strict=True) if math.isfinite(m)]
    positives = sum(y for _, y in pairs)
    high, low = (positives + 1) / (positives + 2), 1 / (len(pairs) - positives + 2)
    data = [(m, high if y else low) for m, y in pairs]

    def loss(a: float, b: float) -> float:
        total = 0.0
        for m, t in data:
            z = a * m + b
            # log(1 + e^z) - t·z, computed without overflow
            total += (z if z > 0 else 0.0) + math.log1p(math.exp(-abs(z))) - t * z
        return total

    a, b = 1.0, 0.0
    current = loss(a, b)
    for _ in range(100):
        ga = gb = haa = hab = hbb = 0.0
        for m, t in data:
            p = 1.0 / (1.0 + math.exp(-max(min(a * m + b, 60.0), -60.0)))
            ga += (p - t) * m
            gb += p - t
            w = max(p * (1 - p), 1e-12)
            haa += w * m * m
            hab += w * m
            hbb += w
        haa, hbb = haa + 1e-9, hbb + 1e-9
        det = haa * hbb - hab * hab
        da, db = (hbb * ga - hab * gb) / det, (haa * gb - hab * ga) / det
        step = 1.0
        while step > 1e-6 and loss(a - step * da, b - step * db) > current:
            step /= 2
        a, b = a - step * da, b - step * db
        new = loss(a, b)
        if current - new < 1e-10:
            break
        current = new
    return a, b


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
        return [str(t) for t in _reader_meta(settings)["held_out_articles"]]
    except (KeyError, TypeError) as exc:
        raise CppqaError(f"the reader's reader.json lists no held-out articles: {exc}") from None


def threshold_of(settings: Settings) -> float:
    """The confidence threshold answers are withheld below: the setting, else the reader's
    (read from its ``reader.json``, without loading its weights)."""
    from cppqa.qa import threshold
    from cppqa.reader import Calibration

    if settings.min_confidence is not None:  # no need to read the reader's file
        return settings.min_confidence
    return threshold(settings, Calibration.of(_reader_meta(settings)))


def as_calibrated_now(records: Sequence[Record], settings: Settings) -> list[Record]:
    """``records`` (asked earlier, perhaps under another calibration) with the confidence
    the reader's current curve gives their margins."""
    from cppqa.reader import Calibration

    now = Calibration.of(_reader_meta(settings))
    return recalibrated(records, now.scale, now.bias)


def _reader_meta(settings: Settings) -> dict[str, Any]:
    from cppqa.reader import READER_FILE, SHIPPED_DIR

    folder = Path(settings.reader) if settings.reader else SHIPPED_DIR
    try:
        meta = json.loads((folder / READER_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise CppqaError(f"cannot read the reader's {READER_FILE} in {folder}: {exc}") from None
    if not isinstance(meta, dict):
        raise CppqaError(f"the reader's {READER_FILE} in {folder} is not a JSON object")
    return meta


def report(
    records: Sequence[Record],
    threshold: float,
    compared: dict[str, tuple[Sequence[Record], float]] | None = None,
) -> dict[str, Any]:
    """The summary at ``threshold``; for the two abstention articles, also each one scored at
    the threshold that is best on the other (calibrate on one, report on the other); and
    the summary of each of ``compared`` (other readers' records of the same questions, at
    their own thresholds)."""
    out: dict[str, Any] = {"at_threshold": summary(records, threshold)}
    if compared:
        out["compared"] = {name: summary(rs, t) for name, (rs, t) in compared.items()}
    titles = {r.article for r in records}
    if set(ABSTENTION_ARTICLES) <= titles:
        swapped = {}
        for title in ABSTENTION_ARTICLES:
            other = [r for r in records if r.article != title and r.article in ABSTENTION_ARTICLES]
            chosen = best_threshold(other)
            swapped[title] = summary([r for r in records if r.article == title], chosen)
        out["calibrated_on_the_other"] = swapped
    if any(math.isfinite(r.margin) for r in records):
        fitted = calibrate(records)
        out["fitted_here"] = {k: fitted[k] for k in ("scale", "bias", "threshold")}
    return out


def format_report(report: dict[str, Any]) -> str:
    """The report as text: one table row per summary."""
    rows = [("all articles", report["at_threshold"])]
    rows += [(f"{name[:36]} (compared)", s) for name, s in report.get("compared", {}).items()]
    rows += [
        (f"{title[:28]} (t from the other)", s)
        for title, s in report.get("calibrated_on_the_other", {}).items()
    ]
    head = (
        f"{'':<44}{'n':>6}{'EM':>7}{'F1':>7}{'HasEM':>7}{'HasF1':>7}{'NoAns':>7}"
        f"{'ans%':>7}{'ev@1':>7}{'t':>6}"
    )
    lines = ["cppqa SQuAD evaluation (document mode)", "", head]
    for name, s in rows:
        lines.append(
            f"{name:<44}{s['n']:>6}"
            + "".join(
                f"{_fmt(v):>7}"
                for v in (
                    s["overall"]["em"],
                    s["overall"]["f1"],
                    s["has_ans"]["em"],
                    s["has_ans"]["f1"],
                    s["no_ans_abstained"],
                    s["answer_rate"],
                    s["evidence@1"],
                )
            )
            + f"{s['threshold']:>6.2f}"
        )
    s = report["at_threshold"]
    base = s["baselines"]
    lines += [
        "",
        f"baselines: always abstain F1 {_fmt(base['always_abstain']['f1'])}; top retrieved "
        f"sentence F1 {_fmt(base['top_sentence']['f1'])} (HasAns "
        f"{_fmt(base['top_sentence']['has_ans_f1'])})",
    ]
    lines.append(
        "answers by confidence level (share right): "
        + "; ".join(
            f"{name} {v['answers']} ({_fmt(v['right'])})" for name, v in s["levels"].items()
        )
    )
    if s["foreign"]:
        lines.append(
            f"questions of other articles: {s['foreign']} asked, "
            f"{_fmt(s['foreign_abstained'])} abstained"
        )
    if fitted := report.get("fitted_here"):
        lines.append(
            f"fitted on these records (eval --calibrate would write it): confidence = "
            f"σ({fitted['scale']:.3f}·margin + {fitted['bias']:.3f}), threshold "
            f"{fitted['threshold']:.3f}"
        )
    return "\n".join(lines)


def _fmt(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"


def calibrate(records: Sequence[Record]) -> dict[str, Any]:
    """Fit the confidence curve and the threshold on ``records`` (held-out questions).

    The curve is Platt scaling of the reader's margin against "the answer given is
    right" (F1 ≥ 0.5; a question of another article is never answered right); the
    threshold is the confidence that maximises overall F1 with the fitted curve.
    """
    usable = [r for r in records if math.isfinite(r.margin)]
    if not usable:
        raise CppqaError("nothing to calibrate on: no question got a span from the reader")
    right = [
        r.prediction is not None and bool(r.answers) and r.scores(0.0)[1] >= 0.5 for r in usable
    ]
    scale, bias = fit_platt([r.margin for r in usable], right)
    return {
        "scale": scale,
        "bias": bias,
        # questions of other articles count as unanswerable here
        "threshold": best_threshold(
            [replace(r, foreign=False) for r in recalibrated(records, scale, bias)]
        ),
        "questions": len(records),
        "articles": sorted({r.article for r in records}),
    }


def recalibrated(records: Sequence[Record], scale: float, bias: float) -> list[Record]:
    """``records`` with their confidence computed by the curve σ(scale·margin + bias)."""
    from cppqa.spans import confidence

    return [replace(r, confidence=confidence(r.margin, scale, bias)) for r in records]
