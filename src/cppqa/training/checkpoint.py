"""The checkpoint a run resumes from: ``state.pt`` in ``--checkpoint``.

It holds the model, the optimiser, the step, the examples seen, the held-out history,
torch's RNG state, the ``TrainConfig`` and a digest of an adaptation run's examples: all
a resumed run needs to go on as an uninterrupted one would have (``train.py``).
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from collections.abc import Sequence
from dataclasses import asdict, replace
from pathlib import Path
from typing import Any

from cppqa.errors import CppqaError
from cppqa.training.examples import Example
from cppqa.training.hyperparameters import TrainConfig

log = logging.getLogger(__name__)

STATE_FILE = "state.pt"


def read_state(folder: Path, resume: bool) -> dict[str, Any] | None:
    """The state to resume from (None when not resuming): a checkpoint is resumed or
    deleted, never written over."""
    import torch

    ckpt_file = folder / STATE_FILE
    if not resume:
        if ckpt_file.is_file():
            raise CppqaError(
                f"a checkpoint exists at {str(ckpt_file)!r}; pass --resume to continue it, "
                "or delete the folder to start over"
            )
        return None
    if not ckpt_file.is_file():
        raise CppqaError(f"--resume: no checkpoint at {str(ckpt_file)!r}; start without --resume")
    try:
        state: dict[str, Any] = torch.load(ckpt_file, map_location="cpu", weights_only=False)
    except Exception as exc:  # a truncated or foreign file: say so, not a traceback
        raise CppqaError(
            f"the checkpoint {str(ckpt_file)!r} is unreadable ({exc}); delete the folder "
            "to start over"
        ) from None
    return state


def resumed_config(
    state: dict[str, Any], length: int | None, taught: Sequence[Example]
) -> TrainConfig:
    """The saved run's ``TrainConfig``, spanning ``length`` examples when given; the
    examples of an adaptation run (``taught``) must be those it was saved with."""
    saved = state["config"]
    config = TrainConfig(
        **{
            **saved,
            "mix": tuple(tuple(m) for m in saved.get("mix", ())),
            "adapt": tuple(saved.get("adapt", ())),
        }
    )
    if length is not None and length != config.examples:
        if length <= state["seen"]:
            raise CppqaError(
                f"--examples {length} with --resume: the run has already seen "
                f"{state['seen']} examples; give more, or no --examples"
            )
        log.info("the run now spans %d examples (was %d)", length, config.examples)
        config = replace(config, examples=length)
    if state.get("taught", "") != taught_digest(taught):
        raise CppqaError(
            "--resume: the --adapt questions or the corpus changed since the checkpoint "
            "was written; give the same ones, or delete the checkpoint to start over"
        )
    log.info("resuming at %d examples seen", state["seen"])
    return config


def save_state(
    folder: Path,
    config: TrainConfig,
    model: Any,
    optimizer: Any,
    step: int,
    seen: int,
    history: list[dict[str, Any]],
    taught: Sequence[Example],
) -> None:
    """Write ``state.pt`` (through a temporary file: a crash mid-save leaves the last
    checkpoint whole)."""
    import torch

    folder.mkdir(parents=True, exist_ok=True)
    tmp = folder / "state.pt.tmp"
    torch.save(
        {
            "config": asdict(config),
            "model": model.state_dict(),
            "optimizer": optimizer.state_dict(),
            "step": step,
            "seen": seen,
            "history": history,
            "torch_rng": torch.get_rng_state(),
            "taught": taught_digest(taught),
        },
        tmp,
    )
    os.replace(tmp, folder / STATE_FILE)


def taught_digest(taught: Sequence[Example]) -> str:
    """A fingerprint of an adaptation run's examples ("" for none): a resumed run must be
    given the same."""
    if not taught:
        return ""
    rows = [[e.question, e.context, e.answer_start, e.answer] for e in taught]
    return hashlib.sha256(json.dumps(rows).encode()).hexdigest()
