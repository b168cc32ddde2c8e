"""``cppqa eval``: score the system on the project's QA set, on the web chat's votes
(``--feedback``), on SQuAD-format files in document mode (``--squad``, with
``--conversations`` for follow-ups), or on the records of an earlier run
(``--from-records``); ``--plot`` draws what abstaining costs."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cppqa.cli.settings import load_qa, quiet_libraries, read_settings
from cppqa.datasets.jsonl import read_rows, write_rows
from cppqa.errors import CppqaError

if TYPE_CHECKING:
    from cppqa.config import Settings


def add_parser(commands: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    """Register ``eval`` with the shared flags; its own flags in the order ``--help`` lists."""
    evaluate = commands.add_parser(
        "eval",
        parents=[common],
        help="score the system on the project's own QA set",
        description="Run eval/qa.jsonl and eval/conversations.jsonl and print evidence@1/@3, "
        "MRR, answer accuracy, conciseness, abstention and follow-up accuracy.",
    )
    _add_set_flags(evaluate)
    _add_feedback_flags(evaluate)
    _add_squad_flags(evaluate)
    _add_records_flags(evaluate)
    evaluate.set_defaults(run=run_eval)


def _add_set_flags(evaluate: argparse.ArgumentParser) -> None:
    """The project's own set: ``--json``, ``--split``, ``--data``."""
    evaluate.add_argument("--json", action="store_true", help="print the metrics as JSON")
    evaluate.add_argument(
        "--split",
        choices=["all", "dev", "heldout"],
        default="all",
        help="which part of the set to run (default: all)",
    )
    evaluate.add_argument(
        "--data",
        metavar="DIR",
        help="folder with qa.jsonl and conversations.jsonl (default: ./eval)",
    )


def _add_feedback_flags(evaluate: argparse.ArgumentParser) -> None:
    """The web chat's votes: ``--feedback``, ``--to-label``."""
    evaluate.add_argument(
        "--feedback",
        metavar="FILE",
        help="score the reader on the web chat's votes instead (a feedback.jsonl): each "
        "thumbs-up answer asked again must still be given; thumbs-down ones are listed to label",
    )
    evaluate.add_argument(
        "--to-label",
        metavar="FILE",
        help="with --feedback: write the thumbs-down questions to FILE as eval rows whose "
        "answers you fill in, for train-reader --adapt",
    )


def _add_squad_flags(evaluate: argparse.ArgumentParser) -> None:
    """SQuAD files in document mode, and ``--plot`` (for every set), which ``--help``
    lists among them."""
    evaluate.add_argument(
        "--squad",
        metavar="FILE",
        nargs="+",
        help="score SQuAD-format files (1.1 or 2.0, .json or .json.gz) in document mode "
        "instead: each article alone in a corpus with its own index (an article in two "
        "files is taken from the later one)",
    )
    evaluate.add_argument(
        "--articles",
        metavar="SET",
        default="all",
        help="with --squad: 'all', or a comma-separated list of titles and of the sets "
        "'held-out' (the reader's 40 held-out SQuAD 1.1 articles), its halves "
        "'calibration' and 'test', 'abstention' (the two SQuAD 2.0 train articles with "
        "unanswerable questions), and 'v2-calibration' and 'v2-test' (the fixed split of "
        "the SQuAD 2.0 dev file) (default: all)",
    )
    evaluate.add_argument(
        "--limit", type=_count, metavar="N", help="with --squad: at most N questions per article"
    )
    evaluate.add_argument(
        "--foreign",
        type=_count,
        default=0,
        metavar="N",
        help="with --squad: also ask each article N questions of other articles (default: 0)",
    )
    evaluate.add_argument(
        "--records", metavar="FILE", help="with --squad: write every question's record as JSONL"
    )
    evaluate.add_argument(
        "--plot",
        metavar="FILE.png",
        help="also draw what abstaining costs: the answered share against the right share "
        "over every threshold, the one in use marked (with --squad, HasAns F1 and NoAns "
        "against the threshold too); needs matplotlib (pip install 'cppqa[bench]')",
    )


def _add_records_flags(evaluate: argparse.ArgumentParser) -> None:
    """Records of an earlier run, another reader beside, calibration and follow-ups."""
    evaluate.add_argument(
        "--from-records",
        metavar="FILE",
        nargs="+",
        help="instead of --squad: score (or --calibrate on) records that earlier --records "
        "runs of the same reader wrote, e.g. of two sets asked with different --limit; "
        "their confidences are taken again from the reader's current calibration",
    )
    evaluate.add_argument(
        "--compare",
        metavar="DIR",
        help="with --squad: also ask the same questions of the reader in DIR (e.g. the "
        "previous one) and report it beside, at its own threshold",
    )
    evaluate.add_argument(
        "--calibrate",
        action="store_true",
        help="with --squad: fit the confidence curve and the abstention threshold on these "
        "articles (held-out ones!) and write them into the reader's reader.json",
    )
    evaluate.add_argument(
        "--conversations",
        action="store_true",
        help="with --squad: score follow-ups instead: questions that name what the question "
        "before them named, with that name made a pronoun, asked alone and after that "
        "question; prints the recovery and no-harm ratios (--limit: follow-ups per article)",
    )


def _count(text: str) -> int:
    """A whole number, not negative (``--limit``, ``--foreign``)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"{text!r} must not be negative")
    return value


def run_eval(args: argparse.Namespace) -> int:
    """``cppqa eval``: the project's QA set, or the set its flags name instead."""
    from cppqa.evaluation.evaluate import evaluate, format_report

    if args.to_label and not args.feedback:
        raise CppqaError("--to-label goes with --feedback")
    if args.feedback:
        return _eval_votes(args)
    if args.squad or args.from_records:
        return _eval_squad(args)
    _plottable(args)
    qa = load_qa(args)
    data = Path(args.data) if args.data else Path("eval")
    report = evaluate(qa, data, split=args.split)
    print(json.dumps(report, ensure_ascii=False, indent=1) if args.json else format_report(report))
    if args.plot:
        from cppqa.evaluation import tradeoff

        title = f"{data / 'qa.jsonl'} ({args.split})"
        curve = tradeoff.plot(title, tradeoff.from_report(report), report["threshold"])
        _draw([curve], args.plot, squad=False)
    return 0


def _plottable(args: argparse.Namespace) -> None:
    """Refuse --plot before any work where it could not be drawn."""
    if not args.plot:
        return
    import importlib.util

    if importlib.util.find_spec("matplotlib") is None:
        raise CppqaError("--plot needs matplotlib: pip install 'cppqa[bench]'")
    if not args.plot.lower().endswith(".png"):
        raise CppqaError(f"--plot {args.plot!r} must name a .png file")


def _draw(curves: Sequence[Any], path: str, *, squad: bool) -> None:
    from cppqa.evaluation import tradeoff

    tradeoff.draw(curves, Path(path), squad=squad)
    print(f"cppqa: plot written to {path}", file=sys.stderr)


def _eval_votes(args: argparse.Namespace) -> int:
    from cppqa.datasets.feedback import read_votes
    from cppqa.evaluation.evaluate import evaluate_votes, format_votes, to_label_rows

    if args.squad or args.from_records or args.split != "all":
        raise CppqaError("--feedback scores the votes alone: drop --squad, --from-records, --split")
    votes = read_votes(Path(args.feedback))
    if not votes:
        raise CppqaError(f"--feedback {args.feedback!r} holds no votes yet")
    report = evaluate_votes(load_qa(args), votes)
    if args.to_label:
        write_rows(Path(args.to_label), to_label_rows(report))
    print(json.dumps(report, ensure_ascii=False, indent=1) if args.json else format_votes(report))
    return 0


def _eval_squad(args: argparse.Namespace) -> int:
    from dataclasses import replace

    quiet_libraries()
    from cppqa.evaluation import calibration as fitting
    from cppqa.evaluation import squad, squad_report

    # "no index; building" per article
    logging.getLogger("cppqa.search.index").setLevel(logging.ERROR)
    _plottable(args)
    settings = read_settings(args)
    if args.from_records:
        if args.squad or args.compare or args.conversations:
            raise CppqaError("--from-records scores records already asked: drop --squad")
        asked = squad.from_json(
            [r for f in args.from_records for _, r in read_rows(Path(f), what="--from-records")]
        )
        records = fitting.as_calibrated_now(asked, settings)  # as the reader now stands
    else:
        articles = squad.load_files([Path(f) for f in args.squad])
        articles = squad.select(articles, args.articles, settings)
        if args.conversations:
            return _eval_conversations(args, articles, settings)
        records = _ask_squad(args, articles, settings)
    compared: dict[str, Any] = {}
    if args.compare:
        other = replace(settings, reader=args.compare)
        compared[args.compare] = (_ask_squad(args, articles, other), squad.threshold_of(other))
    if args.records:
        write_rows(Path(args.records), squad.to_json(records))
    if args.calibrate:
        from cppqa.reading.reader import SHIPPED_DIR, write_calibration

        calibration = fitting.calibrate(records)
        write_calibration(Path(settings.reader) if settings.reader else SHIPPED_DIR, calibration)
        # score with the new curve, against the new threshold
        records = fitting.recalibrated(records, calibration["scale"], calibration["bias"])
        print(
            f"cppqa: calibrated on {calibration['questions']} questions: confidence = "
            f"σ({calibration['scale']:.3f}·margin + {calibration['bias']:.3f}), threshold "
            f"{calibration['threshold']:.3f}; rerun without --calibrate to score with them",
            file=sys.stderr,
        )
    report = squad_report.report(records, squad.threshold_of(settings), compared)
    print(
        json.dumps(report, ensure_ascii=False, indent=1)
        if args.json
        else squad_report.format_report(report)
    )
    if args.plot:
        from cppqa.evaluation import tradeoff

        mine = settings.reader or "shipped reader"
        curves = [
            tradeoff.plot(name, tradeoff.from_squad(rs), t)
            for name, (rs, t) in {
                mine: (records, squad.threshold_of(settings)),
                **compared,
            }.items()
        ]
        _draw(curves, args.plot, squad=True)
    return 0


def _ask_squad(args: argparse.Namespace, articles: list[Any], settings: Settings) -> list[Any]:
    from tqdm import tqdm

    from cppqa.evaluation import squad

    bar = tqdm(total=len(articles), unit="article", disable=args.json)
    records = list(
        squad.squad_records(
            articles,
            settings,
            limit=args.limit,
            foreign=args.foreign,
            progress=lambda _: bar.update(),
        )
    )
    bar.close()
    return records


def _eval_conversations(args: argparse.Namespace, articles: list[Any], settings: Settings) -> int:
    from dataclasses import asdict

    from tqdm import tqdm

    from cppqa.evaluation import conversations

    if args.calibrate or args.foreign:
        raise CppqaError("--conversations scores follow-ups: drop --calibrate and --foreign")
    having = [a for a in articles if conversations.follow_ups(a)]
    if not having:
        raise CppqaError("--conversations: none of these articles has a follow-up to ask")
    bar = tqdm(total=len(having), unit="article", disable=args.json)
    readings = list(
        conversations.read_follow_ups(
            having, settings, limit=args.limit, progress=lambda _: bar.update()
        )
    )
    bar.close()
    if args.records:
        write_rows(Path(args.records), [asdict(r) for r in readings])
    result = conversations.summary(readings)
    print(
        json.dumps(result, ensure_ascii=False, indent=1)
        if args.json
        else conversations.format_summary(result)
    )
    return 0
