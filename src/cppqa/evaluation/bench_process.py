"""Processes measured from outside: wall time and peak RSS of ``cppqa`` in a child process.

``cppqa bench`` times a cold ``cppqa ask`` against a process that only loads the same
embedding model and reader, and ``cppqa --help`` on its own. Each command runs in a
child of a small launcher (``_LAUNCHER``), so that its peak RSS is its own and not the
benchmark's, which holds a model.

>>> seconds, rss_mb = measure_process([sys.executable, "-c", "pass"])   # doctest: +SKIP
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from cppqa.config import Settings
from cppqa.reading.reader import SHIPPED_DIR

#: Runs a command and reports its wall time and peak RSS. A child's ru_maxrss
#: includes the RSS of the process it was forked from (Linux folds the old
#: memory's high-water mark in at exec), so the command must be forked from a
#: small process like this one, not from the benchmark holding a model.
_LAUNCHER = """
import json, resource, subprocess, sys, time
started = time.perf_counter()
code = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL).returncode
seconds = time.perf_counter() - started
peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
print(json.dumps({"seconds": seconds, "rss_kib": peak, "code": code}))
"""


@dataclass(frozen=True)
class ColdStart:
    """Medians over the processes: a cold ``cppqa ask`` and its floor, seconds and MB."""

    ask_s: float
    floor_s: float
    ask_rss_mb: float
    floor_rss_mb: float


def measure_process(command: list[str]) -> tuple[float, float]:
    """Wall seconds and peak RSS (MB) of a child process; raises if it fails."""
    env = {
        **os.environ,
        "HF_HUB_OFFLINE": "1",
        "TRANSFORMERS_OFFLINE": "1",
        "TOKENIZERS_PARALLELISM": "false",
    }
    done = subprocess.run(
        [sys.executable, "-c", _LAUNCHER, *command], capture_output=True, text=True, env=env
    )
    result = json.loads(done.stdout.strip().splitlines()[-1]) if done.stdout.strip() else {}
    if done.returncode != 0 or result.get("code") != 0:
        raise RuntimeError(f"{' '.join(command)} failed: {done.stderr[-2000:]}")
    # ru_maxrss is in KiB on Linux.
    return float(result["seconds"]), result["rss_kib"] / 1024


def measure_help(repeats: int) -> float:
    """Median wall seconds of ``python -m cppqa --help`` over at least 3 processes."""
    return statistics.median(
        measure_process([sys.executable, "-m", "cppqa", "--help"])[0]
        for _ in range(max(3, repeats))
    )


def measure_cold_start(settings: Settings, folder: Path, repeats: int, question: str) -> ColdStart:
    """``repeats`` processes answering ``question`` cold, alternated with as many that
    only load the embedding model in ``folder`` and the reader."""
    ask = [
        sys.executable,
        "-m",
        "cppqa",
        "ask",
        "--no-rebuild",
        "--corpus",
        str(settings.corpus_dir),
        "--index",
        str(settings.index_dir),
        *(["--model", settings.model] if settings.model else []),
        question,
    ]
    floor = [
        sys.executable,
        "-c",
        "import sys\nfrom sentence_transformers import SentenceTransformer\n"
        "from transformers import AutoModelForQuestionAnswering\n"
        "SentenceTransformer(sys.argv[1], device='cpu', local_files_only=True)\n"
        "AutoModelForQuestionAnswering.from_pretrained(sys.argv[2], local_files_only=True)",
        str(folder),
        str(Path(settings.reader) if settings.reader else SHIPPED_DIR),
    ]
    asks, floors = [], []
    for _ in range(repeats):  # alternate, so that drift in the machine's load hits both
        asks.append(measure_process(ask))
        floors.append(measure_process(floor))
    return ColdStart(
        ask_s=statistics.median(s for s, _ in asks),
        floor_s=statistics.median(s for s, _ in floors),
        ask_rss_mb=statistics.median(m for _, m in asks),
        floor_rss_mb=statistics.median(m for _, m in floors),
    )
