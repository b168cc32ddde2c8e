"""Every hyperparameter of a training run in one place (``TrainConfig``), and the checks
that turn command-line values into one. The example stream and the training loop both
read it; it imports neither."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from cppqa.errors import CppqaError


@dataclass(frozen=True)
class TrainConfig:
    """Every hyperparameter of a training run; saved with each checkpoint and in the card."""

    seed: int = 13
    holdout: int = 40  # articles kept out of training, besides ABSTENTION_ARTICLES
    examples: int = 48_000  # the run's length: the learning-rate schedule spans it
    batch_size: int = 16
    lr: float = 1e-4
    warmup: float = 0.05  # share of the run spent warming the learning rate up
    weight_decay: float = 0.01
    max_tokens: int = 192
    window_sentences: int = 3
    #: "fp32", or "bf16": the forward pass under bfloat16 autocast (weights, gradients and
    #: the optimiser stay fp32); about 1.4x the examples per second on CPUs with AVX-512 BF16.
    precision: str = "fp32"
    # Shares of the negative kinds (the rest are answerable examples).
    neg_window: float = 0.05
    neg_near: float = 0.10
    neg_article: float = 0.07
    neg_swap: float = 0.05
    neg_perturb: float = 0.10  # a question with nothing to change is swapped instead
    #: Windows read together per question with a shared loss (0: one window per example).
    #: Groups take the negative shares above as: window + near → the answer's window left
    #: out; swap + perturb → the question changed; article → another article's windows.
    group: int = 0
    #: The encoder a new reader starts from (a key of ``bases.BASES``: minilm, mpnet).
    base: str = "minilm"
    #: Weights to start from: "" for the base encoder, or a trained reader's folder.
    init: str = ""
    #: Examples of the stream passed over first: a run from --init skips those its reader
    #: (and the readers it came from) learned from, so it goes on with new questions.
    skip: int = 0
    #: Of those, the windows of the group stream (its own stream, replayed by group runs).
    group_skip: int = 0
    #: Other sources mixed in, as (SQuAD 2.0 file, share of the stream): their questions as
    #: written, unanswerable ones included; the rest of the stream comes from --data.
    mix: tuple[tuple[str, float], ...] = ()
    #: A file of questions about a corpus (``--adapt``, see ``adapt.py``), read as at
    #: answer time; its examples make ``adapt_share`` of the stream and replayed --data
    #: the rest. Only its rows of ``adapt_split`` when that is set.
    adapt: tuple[str, ...] = ()
    adapt_split: str = ""
    adapt_share: float = 0.7  # chosen on a fifth of eval/ dev held out of dev: docs/adapt.md
    checkpoint_every: int = 200  # steps
    eval_every: int = 500  # steps
    eval_questions: int = 300


def resolve_config(**overrides: Any) -> TrainConfig:
    """The default config with the non-None ``overrides``."""
    config = replace(TrainConfig(), **{k: v for k, v in overrides.items() if v is not None})
    if config.examples < config.batch_size:
        raise CppqaError(f"--examples must be at least the batch size ({config.batch_size})")
    if not 0 < config.lr < 1:
        raise CppqaError(f"--lr must be between 0 and 1, got {config.lr}")
    from cppqa.training.bases import BASES

    if config.base not in BASES:
        raise CppqaError(f"--base must be one of {', '.join(BASES)}, got {config.base!r}")
    if config.precision not in ("fp32", "bf16"):
        raise CppqaError(f"precision must be fp32 or bf16, got {config.precision!r}")
    if config.holdout < 0:
        raise CppqaError(f"--holdout must not be negative, got {config.holdout}")
    if config.group < 0 or config.group == 1 or (config.group and config.batch_size % config.group):
        raise CppqaError(
            f"--group must be 0 or at least 2 and divide the batch size ({config.batch_size}), "
            f"got {config.group}"
        )
    shares = [share for _, share in config.mix]
    if any(not 0 < share < 1 for share in shares) or sum(shares) >= 1:
        raise CppqaError(
            f"--mix shares must each be between 0 and 1 and leave some of the stream to "
            f"--data; got {', '.join(str(x) for x in shares)}"
        )
    if not 0 < config.adapt_share < 1:
        raise CppqaError(f"the --adapt share must be between 0 and 1, got {config.adapt_share}")
    if config.adapt and config.group:
        raise CppqaError(
            "--adapt and --group cannot go together: an adaptation run reads one window an example"
        )
    if config.adapt and not config.init:
        raise CppqaError("--adapt goes on from a trained reader (--init)")
    if config.mix and config.group:
        raise CppqaError("--mix and --group cannot go together: a group run reads --data only")
    return config
