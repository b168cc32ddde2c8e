"""``cppqa bench``: speed and memory against the model's own floor; float32 against
bfloat16 (``--precision``); another reader beside the shipped one (``--compare-reader``);
vector stores at scale (``--scale``)."""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING

from cppqa.cli.settings import quiet_libraries, read_settings
from cppqa.config import VectorBackend

if TYPE_CHECKING:
    from cppqa.evaluation.bench_report import SystemReport


def add_parser(commands: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    """Register ``bench`` with the shared flags."""
    bench = commands.add_parser(
        "bench",
        parents=[common],
        help="measure speed and memory against the model's own floor",
        description="Measure warm answer latency, cold start, --help time, index build "
        "throughput and peak memory, each next to its floor (the bare model and one FAISS "
        "search), and for documents PDF extraction (pages/s), indexing (sentences/s) and "
        "the time from uploading a 30-page and a 100-page PDF to the first answer, in one "
        "run. With --scale, build vector stores over synthetic vectors instead and report "
        "build time, size, search latency and recall@10. The system run takes about 6 "
        "minutes on 2 cores with --questions 150 (more with the default 300).",
    )
    bench.add_argument("--json", action="store_true", help="print the results as JSON")
    bench.add_argument(
        "--questions",
        type=int,
        metavar="N",
        help="warm questions (default: 300; with --precision or --compare-reader, 60)",
    )
    bench.add_argument(
        "--repeats", type=int, default=3, metavar="N", help="cold starts and builds (default: 3)"
    )
    bench.add_argument(
        "--data", metavar="DIR", help="folder with qa.jsonl for the questions (default: ./eval)"
    )
    bench.add_argument(
        "--precision",
        action="store_true",
        help="float32 against bfloat16 autocast instead of the system run: embedding speed "
        "and retrieval, reader speed and answers, side by side (--questions: default 60 here)",
    )
    bench.add_argument(
        "--compare-reader",
        metavar="DIR",
        help="the reader in DIR beside the shipped one instead of the system run: warm "
        "answer p50 and answers right, as it is and in int8, over all windows and the first "
        "3 (--questions: default 60 here)",
    )
    bench.add_argument(
        "--scale", action="store_true", help="the synthetic scale run instead of the system run"
    )
    bench.add_argument(
        "--sizes",
        type=_sizes,
        default=[10_000, 100_000, 1_000_000],
        metavar="N,N,...",
        help="passage counts for --scale (default: 10000,100000,1000000)",
    )
    bench.add_argument(
        "--store",
        choices=[b.value for b in VectorBackend],
        default=VectorBackend.FAISS.value,
        help="with --scale: milvus adds a Milvus row per size next to FAISS's, at "
        "CPPQA_MILVUS_URI or else a temporary Milvus Lite file (default: faiss)",
    )
    bench.add_argument(
        "--plot",
        metavar="PNG",
        default="docs/scaling.png",
        help="where --scale draws its curves (default: docs/scaling.png; needs matplotlib)",
    )
    bench.set_defaults(run=run_bench)


def _sizes(text: str) -> list[int]:
    """``--sizes N,N,...``: passage counts of at least 100 each."""
    try:
        sizes = [int(part.replace("_", "")) for part in text.split(",") if part.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a comma-separated list of whole numbers, e.g. 10000,100000"
        ) from None
    if not sizes or min(sizes) < 100:
        raise argparse.ArgumentTypeError(f"{text!r}: every size must be at least 100")
    return sizes


def run_bench(args: argparse.Namespace) -> int:
    """``cppqa bench``: the system run, or the one its flags name instead."""
    quiet_libraries()
    from cppqa.evaluation import bench, bench_scale

    if args.scale:
        results = bench_scale.run_scale(
            args.sizes,
            store=VectorBackend(args.store),
            milvus_uri=read_settings(args).milvus_uri,
        )
        plotted = bench_scale.plot_scale(results, Path(args.plot))
        if args.json:
            print(json.dumps([asdict(r) for r in results], indent=1))
        else:
            print(bench_scale.format_scale(results))
        if plotted:
            print(f"cppqa: plot written to {args.plot}", file=sys.stderr)
        else:
            print(
                "cppqa: matplotlib is not installed (pip install 'cppqa[bench]'); no plot drawn",
                file=sys.stderr,
            )
        return 0
    if args.compare_reader:
        from cppqa.evaluation.bench_readers import run_readers

        report = run_readers(
            read_settings(args),
            Path(args.compare_reader),
            data=Path(args.data) if args.data else Path("eval"),
            questions=args.questions or 60,
        )
        return _print_report(report, args.json)
    if args.precision:
        from cppqa.evaluation.bench_precision import run_precision

        report = run_precision(
            read_settings(args),
            data=Path(args.data) if args.data else Path("eval"),
            questions=args.questions or 60,
        )
        return _print_report(report, args.json)
    report = bench.run_system(
        read_settings(args),
        data=Path(args.data) if args.data else Path("eval"),
        questions=args.questions or 300,
        repeats=args.repeats,
    )
    return _print_report(report, args.json)


def _print_report(report: SystemReport, as_json: bool) -> int:
    """A bench report as JSON (a value not measured is null: JSON has no NaN) or a table."""
    from cppqa.evaluation.bench_report import format_system

    if as_json:
        print(json.dumps(report.to_json(), ensure_ascii=False, indent=1, allow_nan=False))
    else:
        print(format_system(report))
    return 0
