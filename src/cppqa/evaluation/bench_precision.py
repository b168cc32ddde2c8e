"""``cppqa bench --precision``: float32 against bfloat16 autocast, on this machine, in one run.

For the shipped corpus and the questions of ``eval/qa.jsonl``, each measured in both
precisions side by side (interleaved, so that drift in the machine's load hits both):

- embedding: texts a second of the embedding model over the corpus's sentences, the
  lowest cosine between a text's two vectors, and how often a question's top-5
  sentences (as a set) and its top-1 stay the same when corpus and question are both
  embedded in bf16;
- reading: the reader's batched forward over each question's windows (median ms), and
  how often its best span is the same characters.

The table's "floor" column holds the fp32 figure, so each ratio is bf16 over fp32.
``auto`` (``cppqa.search.precision``) takes bf16 only where this shows it pays: on a CPU
without bfloat16 instructions torch emulates it and it is slower.
"""

from __future__ import annotations

import statistics
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cppqa.config import Settings
from cppqa.evaluation.bench_report import Row, SystemReport, eval_questions, machine, percentile

if TYPE_CHECKING:
    from cppqa.qa import QA
    from cppqa.search.embed import Embedder

#: Issue 35's targets: embedding ≥ 3× fp32, the reader ≥ 2× fp32, answers kept on ≥ 98%.
EMBED_TARGET, READER_TARGET, SAME_TARGET = 3.0, 2.0, 0.98
PRECISIONS = ("fp32", "bf16")


@dataclass(frozen=True)
class PrecisionRun:
    """What ``run_precision`` measured, each figure by precision ("fp32", "bf16")."""

    texts: int
    questions: int
    rate: dict[str, float]  # corpus texts embedded a second (median of 2)
    cosine: float  # the lowest cosine between a text's fp32 and bf16 vectors
    top1: int  # questions whose top sentence is the same in both
    top5: int  # questions whose top-5 sentences (as a set) are the same in both
    forward_ms: dict[str, float]  # the reader's forward over a question's windows, p50
    same: int  # questions whose best span is the same characters in both


def run_precision(
    settings: Settings, *, data: Path = Path("eval"), questions: int = 60, texts: int = 400
) -> SystemReport:
    """Measure fp32 against bf16 on ``questions`` questions and ``texts`` corpus sentences."""
    from cppqa.qa import QA
    from cppqa.search.precision import hardware_bf16

    qa = QA.load(settings, rebuild=False)
    embedder = qa.retriever.embedder
    corpus = [p.text for p in qa.index.sentences][:texts]
    asked = list(dict.fromkeys(eval_questions(data, questions)))[:questions]
    windows = {
        q: [w.text for w in qa.windows(qa.retriever.search(qa.retriever.prepare(q), k=5))]
        for q in asked
    }
    rate, vectors = _embedding_rates(embedder, corpus)
    cosine = float((vectors["fp32"] * vectors["bf16"]).sum(axis=1).min())
    top1, top5 = _retrieval_kept(embedder, vectors, asked)
    forward_ms, same = _reading(qa, asked, windows)
    qa.reader.precision = embedder.precision = "fp32"
    run = PrecisionRun(len(corpus), len(asked), rate, cosine, top1, top5, forward_ms, same)
    chosen = "bf16" if hardware_bf16() else "fp32"
    notes = (
        f"{run.texts} sentences of the shipped corpus embedded twice in each precision "
        f"(median), {run.questions} questions of {data / 'qa.jsonl'} each read with its 5 "
        "retrieved windows in both; the floor column is the fp32 figure",
        f"this CPU has bfloat16 instructions: {'yes' if chosen == 'bf16' else 'no'}; "
        f"CPPQA_PRECISION=auto chooses {chosen} here",
    )
    return SystemReport(machine(), _precision_rows(run), notes)


def _embed(embedder: Embedder, precision: str, items: list[str]) -> tuple[Any, float]:
    """The vectors of ``items`` in ``precision``, and the seconds they took."""
    embedder.precision = precision
    started = time.perf_counter()
    vectors = embedder.encode(items)
    return vectors, time.perf_counter() - started


def _embedding_rates(
    embedder: Embedder, corpus: list[str]
) -> tuple[dict[str, float], dict[str, Any]]:
    """Texts a second of each precision over ``corpus`` (median of 2, alternated), and
    the corpus's vectors in each."""
    _embed(embedder, "fp32", corpus[:8]), _embed(embedder, "bf16", corpus[:8])  # warm up
    vectors: dict[str, Any] = {}
    seconds: dict[str, list[float]] = {p: [] for p in PRECISIONS}
    for _ in range(2):
        for precision in PRECISIONS:
            vectors[precision], took = _embed(embedder, precision, corpus)
            seconds[precision].append(took)
    return {p: len(corpus) / statistics.median(s) for p, s in seconds.items()}, vectors


def _retrieval_kept(
    embedder: Embedder, vectors: dict[str, Any], asked: list[str]
) -> tuple[int, int]:
    """How many questions keep their top sentence, and their top 5 as a set, when
    question and corpus are both embedded in bf16."""
    import numpy as np

    top1 = top5 = 0
    for q in asked:
        ranked: dict[str, list[int]] = {}
        for precision in PRECISIONS:
            query, _ = _embed(embedder, precision, [q])
            ranked[precision] = list(np.argsort(-(vectors[precision] @ query[0]))[:5])
        top1 += ranked["fp32"][0] == ranked["bf16"][0]
        top5 += set(ranked["fp32"]) == set(ranked["bf16"])
    return top1, top5


def _reading(
    qa: QA, asked: list[str], windows: dict[str, list[str]]
) -> tuple[dict[str, float], int]:
    """The reader's forward p50 (ms) in each precision, and how many questions keep
    their best span, each question read in both in turn."""
    from cppqa.reading.spans import best_across

    forward: dict[str, list[float]] = {p: [] for p in PRECISIONS}
    same = 0
    for q in asked:
        spans: dict[str, tuple[int, int, int] | None] = {}
        for precision in PRECISIONS:
            qa.reader.precision = precision
            started = time.perf_counter()
            scored = qa.reader.score(q, windows[q])
            forward[precision].append((time.perf_counter() - started) * 1000)
            span = best_across(scored)
            spans[precision] = None if span is None else (span.window, span.start, span.end)
        same += spans["fp32"] == spans["bf16"]
    return {p: percentile(v, 50) for p, v in forward.items()}, same


def _precision_rows(run: PrecisionRun) -> tuple[Row, ...]:
    rate, ms, n = run.rate, run.forward_ms, run.questions
    return (
        Row(
            "embedding (texts/s), bf16 vs fp32",
            rate["bf16"],
            rate["fp32"],
            f"≥ {EMBED_TARGET}× fp32",
            rate["bf16"] >= EMBED_TARGET * rate["fp32"],
        ),
        Row("embedding: lowest cosine to fp32", run.cosine),
        Row("retrieval: top-1 unchanged (share)", run.top1 / n, None, "1.00", run.top1 == n),
        Row("retrieval: top-5 set unchanged (share)", run.top5 / n),
        Row(
            "reader forward p50 (ms), bf16 vs fp32",
            ms["bf16"],
            ms["fp32"],
            f"≤ {1 / READER_TARGET:.2f}× fp32",
            ms["bf16"] * READER_TARGET <= ms["fp32"],
        ),
        Row(
            "reader: same best span (share)",
            run.same / n,
            None,
            f"≥ {SAME_TARGET}",
            run.same / n >= SAME_TARGET,
        ),
    )
