"""``cppqa index``: (re)build the index of the corpus, with a progress bar per stage."""

from __future__ import annotations

import argparse
import time
from typing import TYPE_CHECKING, Any

from cppqa.cli.settings import quiet_libraries, read_settings

if TYPE_CHECKING:
    from cppqa.config import Settings
    from cppqa.search.progress import Step


def add_parser(commands: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    """Register ``index`` with the shared flags."""
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
    index.set_defaults(run=run_index)


def run_index(args: argparse.Namespace) -> int:
    """``cppqa index``: build the index of the corpus, unless it is current (``--force``)."""
    quiet_libraries()
    from cppqa.documents.corpus import load_corpus
    from cppqa.search.embed import load_embedder
    from cppqa.search.index import Index
    from cppqa.search.progress import pages_told

    settings = read_settings(args)
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
