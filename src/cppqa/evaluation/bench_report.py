"""The report every ``cppqa bench`` run returns, and the measures they share.

A ``SystemReport`` is the machine it ran on, its ``Row``s (cppqa's number beside its
floor, the ratio and the target) and notes on what was measured; ``format_system``
draws it as a Markdown table. ``percentile``, ``timed`` and ``eval_questions`` are the
few measuring steps the system, precision and reader benchmarks have in common.

>>> report = SystemReport(machine(), (Row("warm answer p50 (ms)", 27.0, 25.0),), ())
>>> report.rows[0].ratio
1.08
"""

from __future__ import annotations

import math
import os
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from cppqa.datasets.jsonl import read_rows


@dataclass(frozen=True)
class Row:
    """One line of the table: cppqa's number, its floor, the ratio and the target."""

    name: str
    value: float
    floor: float | None = None
    target: str = ""
    ok: bool | None = None

    @property
    def ratio(self) -> float | None:
        return round(self.value / self.floor, 3) if self.floor else None


@dataclass(frozen=True)
class SystemReport:
    machine: dict[str, Any]
    rows: tuple[Row, ...]
    notes: tuple[str, ...]

    def to_json(self) -> dict[str, Any]:
        """The report as JSON; a value not measured (NaN) is null, as JSON has no NaN."""
        return {
            "machine": self.machine,
            "rows": [
                {
                    **asdict(r),
                    "value": r.value if math.isfinite(r.value) else None,
                    "ratio": r.ratio,
                }
                for r in self.rows
            ],
            "notes": list(self.notes),
        }


def machine() -> dict[str, Any]:
    """Cores, CPU model and RAM of this machine (Linux; blanks elsewhere)."""
    cpu, ram_gb = "", 0.0
    info = Path("/proc/cpuinfo")
    if info.is_file():
        for line in info.read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    meminfo = Path("/proc/meminfo")
    if meminfo.is_file():
        total = meminfo.read_text().split("\n", 1)[0].split()
        ram_gb = round(int(total[1]) / 2**20, 1)
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else 0.0
    return {
        "cores": os.cpu_count(),
        "cpu": cpu,
        "ram_gb": ram_gb,
        "python": sys.version.split()[0],
        "load_average_1min": round(load, 2),
    }


def percentile(values: list[float], q: float) -> float:
    """The ``q``-th percentile (0-100) by linear interpolation, as numpy's default."""
    ordered = sorted(values)
    at = (len(ordered) - 1) * q / 100
    low = int(at)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (at - low)


def timed(call: Callable[..., object], *args: Any, **kwargs: Any) -> float:
    """Milliseconds ``call(*args, **kwargs)`` took."""
    started = time.perf_counter()
    call(*args, **kwargs)
    return (time.perf_counter() - started) * 1000


def eval_questions(data: Path, count: int) -> list[str]:
    """``count`` questions: those of ``data/qa.jsonl`` repeated in order."""
    base = [row["question"] for _, row in read_rows(data / "qa.jsonl", what="evaluation file")]
    return [base[i % len(base)] for i in range(count)]


def format_system(report: SystemReport) -> str:
    """The report as a Markdown table, with the machine and what was measured."""
    m = report.machine
    lines = [
        f"machine: {m['cores']} cores, {m['cpu']}, {m['ram_gb']} GB RAM, Python {m['python']}, "
        f"load average {m['load_average_1min']}",
        "",
        "| measure | cppqa | floor | ratio | target | met |",
        "|---|---:|---:|---:|---|---|",
    ]
    for r in report.rows:
        floor = f"{r.floor:.3g}" if r.floor is not None else ""
        ratio = f"{r.ratio:.2f}" if r.ratio is not None else ""
        met = {True: "yes", False: "**no**", None: ""}[r.ok]
        lines.append(f"| {r.name} | {r.value:.3g} | {floor} | {ratio} | {r.target} | {met} |")
    lines += ["", *(f"- {n}" for n in report.notes)]
    return "\n".join(lines)
