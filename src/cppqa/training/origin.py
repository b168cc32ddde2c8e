"""The reader a run starts from (``--init``): its ``reader.json``, checked.

A run from a trained reader goes on with its encoder, holds out the same articles (or
its held-out scores would be of articles it trained on) and skips the examples it
learned from; an adaptation run replays ``--data`` less the articles it held out.
"""

from __future__ import annotations

import json
import logging
from dataclasses import replace
from pathlib import Path
from typing import Any

from cppqa.datasets.squad import Article
from cppqa.errors import CppqaError
from cppqa.training.examples import Split
from cppqa.training.hyperparameters import TrainConfig

log = logging.getLogger(__name__)


def from_init(config: TrainConfig, split: Split, resuming: bool) -> TrainConfig:
    """``config`` for a run from ``config.init``: its encoder, and (a new run that does
    not adapt) the examples to skip, those the reader learned from."""
    if config.init:  # the encoder is the one the reader started from
        from cppqa.training.bases import BASES, named

        # readers whose reader.json predates the choice were all MiniLM
        recorded = init_meta(Path(config.init)).get("base_model", BASES["minilm"].hub_id)
        config = replace(config, base=named(recorded).name)
    if config.init and not config.adapt:  # an adaptation run replays, skipping nothing
        learned, grouped = check_init(Path(config.init), split)
        if not resuming:
            config = replace(config, skip=learned, group_skip=grouped)
            log.info("from %s: skipping the %d examples it learned from", config.init, learned)
    return config


def check_init(folder: Path, split: Split) -> tuple[int, int]:
    """A reader to start from must have held out the same articles as this run, or this
    run's held-out scores would be of articles it had trained on. Returns how far into the
    example streams it (with the readers it came from) has learned: all examples, and
    the group stream's windows among them."""
    from cppqa.reading.reader import WEIGHTS_FILE

    meta = init_meta(folder)
    held = sorted(meta["held_out_articles"])
    learned = int(meta["examples_seen"])
    grouped = int(meta.get("group_examples_seen", 0))
    if held != split.titles_held_out or not (folder / WEIGHTS_FILE).is_file():
        raise CppqaError(
            f"the reader in --init {str(folder)!r} held out other articles than this run "
            "would; use the --seed and --holdout it was trained with"
        )
    return learned, grouped


def init_meta(folder: Path) -> dict[str, Any]:
    """The ``reader.json`` of the --init reader, checked to hold what a run needs."""
    from cppqa.reading.reader import READER_FILE, WEIGHTS_FILE

    try:
        meta = json.loads((folder / READER_FILE).read_text(encoding="utf-8"))
        [str(t) for t in meta["held_out_articles"]], int(meta["examples_seen"])
    except (OSError, ValueError, KeyError, TypeError):
        raise CppqaError(
            f"--init {str(folder)!r} holds no trained reader ({WEIGHTS_FILE} and {READER_FILE})"
        ) from None
    return dict(meta)


def replay_split(articles: list[Article], init: Path) -> Split:
    """An adaptation run's replay: ``--data``'s articles less those the --init reader
    held out (they stay held out: its SQuAD scores remain honest)."""
    held = sorted(init_meta(init)["held_out_articles"])
    barred = set(held)
    return Split([a for a in articles if a.title not in barred], [], held)
