"""``cppqa bench --compare-reader DIR``: the shipped reader against another, in one run.

For the questions of ``eval/qa.jsonl`` on the shipped index, each variant answers every
question, interleaved question by question (drift in the machine's load hits all alike):

- the shipped reader, reading ``Settings.windows`` windows (the floor);
- the other reader (e.g. an MPNet reader from ``cppqa train-reader --base mpnet``) as
  it is, and with its linear layers quantised to int8 (``torch``'s dynamic
  quantisation: weights int8, activations quantised on the fly; Jacob et al. 2018), each
  reading all the windows and only the first ``FEW_WINDOWS`` retrieved.

Rows: each variant's warm answer p50 (``QA.ask``, retrieval included) against the
shipped reader's, and the share of questions it answers right (a gold answer inside
the answer, or a refusal where there is none) and the share it answers as the other
reader in fp32 over all windows does: speed is bought only where answers stay.
"""

from __future__ import annotations

import copy
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

from cppqa.config import Settings
from cppqa.evaluation.bench_report import Row, SystemReport, machine, percentile

if TYPE_CHECKING:
    from cppqa.qa import QA
    from cppqa.reading.reader import Reader

#: Issue 30's target: a warm answer in at most this long on 2 cores.
ANSWER_TARGET_MS = 1000.0
#: The fewer windows tried: the first this many retrieved.
FEW_WINDOWS = 3


@dataclass(frozen=True)
class Variant:
    """A reader as answered with: its name, the pipeline using it, how it is stored."""

    name: str
    qa: QA


def quantized(reader: Reader) -> Reader:
    """A copy of ``reader`` whose linear layers compute in int8 (dynamic quantisation)."""
    import torch

    from cppqa.reading.reader import Reader

    model = torch.ao.quantization.quantize_dynamic(
        copy.deepcopy(reader.model), {torch.nn.Linear}, dtype=torch.qint8
    )
    return Reader(reader.folder, model, reader.tokenizer, reader.meta, "fp32")


def variants(qa: QA, other: Reader, settings: Settings) -> list[Variant]:
    """The shipped pipeline first, then ``other`` as it is and in int8, over all the
    windows and over the first ``FEW_WINDOWS``."""
    from cppqa.qa import QA

    name = str(other.meta.get("base_model", other.folder.name)).split("/")[-1]
    small = str(qa.reader.meta.get("base_model", "shipped")).split("/")[-1]
    int8 = quantized(other)
    embedder = qa.retriever.embedder
    out = [Variant(f"{small} (shipped), {settings.windows} windows", qa)]
    for windows in dict.fromkeys((settings.windows, min(FEW_WINDOWS, settings.windows))):
        few = replace(settings, windows=windows)
        out.append(Variant(f"{name}, {windows} windows", QA(qa.index, embedder, few, other)))
        out.append(Variant(f"{name} int8, {windows} windows", QA(qa.index, embedder, few, int8)))
    return out


def run_readers(
    settings: Settings, other: Path, *, data: Path = Path("eval"), questions: int = 60
) -> SystemReport:
    """Measure the reader in ``other`` beside the shipped one on ``questions`` questions."""
    from cppqa.evaluation.evaluate import contains, read_jsonl
    from cppqa.qa import QA
    from cppqa.reading.reader import Reader

    qa = QA.load(settings, rebuild=False)
    rows = [r for r in read_jsonl(data / "qa.jsonl") if r.get("answers") is not None]
    asked = rows[:questions]
    tried = variants(qa, Reader.load(other), settings)
    for v in tried:  # warm each up: first calls pay for lazy set-up
        v.qa.ask(asked[0]["question"])
    took: dict[str, list[float]] = {v.name: [] for v in tried}
    said: dict[str, list[str | None]] = {v.name: [] for v in tried}
    for row in asked:
        for v in tried:
            started = time.perf_counter()
            answer = v.qa.ask(row["question"])
            took[v.name].append((time.perf_counter() - started) * 1000)
            said[v.name].append(answer.text)

    def right(texts: list[str | None]) -> float:
        hits = [
            (t is None)
            if not r["answers"]
            else t is not None and any(contains(t, g) for g in r["answers"])
            for t, r in zip(texts, asked, strict=True)
        ]
        return sum(hits) / len(hits)

    floor = percentile(took[tried[0].name], 50)
    reference = said[tried[1].name]
    table: list[Row] = []
    for v in tried:
        p50 = percentile(took[v.name], 50)
        table.append(
            Row(
                f"warm answer p50 (ms), {v.name}",
                p50,
                None if v is tried[0] else floor,
                f"≤ {ANSWER_TARGET_MS:.0f} ms",
                p50 <= ANSWER_TARGET_MS,
            )
        )
        table.append(Row(f"  right (share), {v.name}", right(said[v.name])))
        if v is not tried[0] and v is not tried[1]:
            same = sum(a == b for a, b in zip(said[v.name], reference, strict=True))
            table.append(Row(f"  same answer as {tried[1].name} (share)", same / len(asked)))
    notes = (
        f"{len(asked)} questions of {data / 'qa.jsonl'} on the shipped index, every variant "
        "answering each in turn (interleaved); the floor column is the shipped reader's p50",
        f"other reader: {other} ({_size(other)})",
    )
    return SystemReport(machine(), tuple(table), notes)


def _size(folder: Path) -> str:
    from cppqa.reading.reader import WEIGHTS_FILE

    weights = folder / WEIGHTS_FILE
    return f"{weights.stat().st_size / 2**20:.0f} MB of weights" if weights.is_file() else "?"
