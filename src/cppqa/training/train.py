"""``cppqa train-reader``: SQuAD → examples → one training loop → ``models/reader/``.

Read top to bottom, as nanoGPT's ``train.py``: the hyperparameters sit in one
``TrainConfig`` saved with every checkpoint; seeds are set once; the example
stream (``examples.py``) is a pure function of the seed, so a resumed run sees
exactly the examples an uninterrupted one would have. Never imported at answer time.

Each example is a question with one window, its loss the usual start/end cross
entropy with "no answer" at [CLS]. With ``group`` > 0 a question's windows come
together, and besides each window's own loss a shared one is taken over the group
(Clark & Gardner 2018's shared normalisation, on the margins the answer is chosen
by): one softmax over every context token's start (and end) logit less its window's
[CLS] logit, and a single no-answer at 0, so that the right window's span must beat
the others'.

``train_reader`` reads in three steps: ``_prepare`` (resume, seeds, data, model and
optimiser, the stream replayed to where the run stands), ``_loop`` and ``_finish``
(the last checkpoint, the scores, the export). Beside it: ``checkpoint.py`` (the state
to resume from), ``origin.py`` (the ``--init`` reader), ``scores.py`` (held-out
scores) and ``export.py`` (the reader written out with its card).
"""

from __future__ import annotations

import logging
import os
import random
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

from cppqa.datasets.squad import V2_CALIBRATION, Article, load_squad
from cppqa.errors import CppqaError
from cppqa.training.checkpoint import read_state, resumed_config, save_state
from cppqa.training.examples import (
    Example,
    Split,
    encode,
    example_stream,
    heldout_examples,
    heldout_real_examples,
    mixable,
    split_articles,
)
from cppqa.training.export import export
from cppqa.training.hyperparameters import TrainConfig
from cppqa.training.origin import from_init, replay_split
from cppqa.training.scores import held_out_scores

log = logging.getLogger(__name__)


def shared_loss(out: Any, batch: dict[str, Any], mask: Any, group: int) -> Any:
    """The group loss: per group, one softmax over every context token's logit less its
    window's [CLS] logit, with one no-answer at 0; the target is the answer's start (end)
    token in the window holding it, else the no-answer. Mean of start and end, over groups."""
    import torch

    n, width = mask.shape
    # the window holding the answer, if any (encode marks start and end together)
    holds = (batch["start_positions"] > 0).view(n // group, group)
    holder, answered = holds.float().argmax(dim=1), holds.any(dim=1)
    losses = []
    for logits, targets in (
        (out.start_logits, batch["start_positions"]),
        (out.end_logits, batch["end_positions"]),
    ):
        logits = logits.float()  # bf16 under autocast: the softmax wants fp32
        margins = (logits - logits[:, :1]).masked_fill(~mask, float("-inf"))
        margins = margins.view(n // group, group * width)
        flat = torch.cat([margins.new_zeros(n // group, 1), margins], dim=1)
        token = targets.view(n // group, group).gather(1, holder[:, None]).squeeze(1)
        target = torch.where(answered, 1 + holder * width + token, torch.zeros_like(token))
        losses.append(torch.nn.functional.cross_entropy(flat, target))
    return (losses[0] + losses[1]) / 2


@dataclass
class TrainResult:
    out: Path
    seen: int
    finished: bool
    scores: dict[str, Any]


def train_reader(
    data: Path,
    out: Path,
    checkpoint: Path,
    config: TrainConfig = TrainConfig(),
    budget_minutes: float | None = None,
    resume: bool = False,
    progress: bool = True,
    base: Path | None = None,
    steps: int | None = None,
    length: int | None = None,
    taught: Sequence[Example] = (),
    adapted: dict[str, Any] | None = None,
) -> TrainResult:
    """Fine-tune the span reader and write it to ``out``; see the module docstring.

    An adaptation run (``config.adapt``) learns ``taught``, the examples ``adapt.py``
    made of a user's questions, with ``data`` replayed beside them; ``adapted`` (what
    they were made from) goes into ``reader.json``.

    The run stops early, with a checkpoint to ``--resume`` from and the reader so far
    exported, after ``budget_minutes`` or after ``steps`` steps of this call. A resumed
    run may be given a new ``length`` (examples): its learning rate then decays from
    where it stands to zero at the new end.
    """
    run = _prepare(data, checkpoint, config, resume, base, length, taught)
    _loop(run, checkpoint, budget_minutes, steps, progress)
    return _finish(run, checkpoint, out, adapted)


@dataclass
class _Run:
    """A run as ``_prepare`` sets it up; the loop moves ``step``, ``seen`` and ``history``."""

    config: TrainConfig
    device: Any
    model: Any
    tokenizer: Any
    optimizer: Any
    total_steps: int
    warmup: int
    split: Split
    heldout: list[Example]  # the examples of --data scored every eval_every steps
    heldout_real: list[Example]  # ... and those of the mixed-in files' calibration articles
    taught: Sequence[Example]
    stream: Iterator[Example]
    step: int
    seen: int
    history: list[dict[str, Any]]

    def save(self, checkpoint: Path) -> None:
        save_state(
            checkpoint,
            self.config,
            self.model,
            self.optimizer,
            self.step,
            self.seen,
            self.history,
            self.taught,
        )


def _prepare(
    data: Path,
    checkpoint: Path,
    config: TrainConfig,
    resume: bool,
    base: Path | None,
    length: int | None,
    taught: Sequence[Example],
) -> _Run:
    """The run's state to resume from, seeds, data, model and optimiser, and the example
    stream replayed to where the run stands."""
    import torch

    from cppqa.reading.reader import new_span_model
    from cppqa.training.bases import base_folder

    state = read_state(checkpoint, resume)
    if state is not None:
        config = resumed_config(state, length, taught)

    random.seed(config.seed)
    torch.manual_seed(config.seed)
    # every core, unless OMP_NUM_THREADS says fewer (two runs side by side, one core each)
    torch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS") or os.cpu_count() or 1))
    # a GPU when there is one (then a resumed run's dropout is not replayed exactly)
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")

    sources = _sources(data, config, taught)
    config = from_init(config, sources.split, resuming=state is not None)
    if config.init:  # the encoder is the one the reader started from
        base = Path(config.init)
    base = base or base_folder(config.base)
    model, tokenizer = new_span_model(base)
    model.to(device)
    optimizer = torch.optim.AdamW(
        model.parameters(), lr=config.lr, weight_decay=config.weight_decay
    )
    total_steps = max(config.examples // config.batch_size, 1)
    warmup = max(int(total_steps * config.warmup), 1)

    step, seen, history = 0, 0, []
    if state is not None:
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        step, seen, history = state["step"], state["seen"], state["history"]
        torch.set_rng_state(state["torch_rng"])

    stream = example_stream(sources.split.train, config, config.seed, sources.mixed, taught)
    # replay the stream to where this run stands (the group stream is a stream of its own)
    done = config.group_skip if config.group else config.skip - config.group_skip
    for _ in range(done + seen):
        next(stream)
    return _Run(
        config=config,
        device=device,
        model=model,
        tokenizer=tokenizer,
        optimizer=optimizer,
        total_steps=total_steps,
        warmup=warmup,
        split=sources.split,
        heldout=sources.heldout,
        heldout_real=sources.heldout_real,
        taught=taught,
        stream=stream,
        step=step,
        seen=seen,
        history=history,
    )


class _Sources(NamedTuple):
    split: Split  # the articles of --data trained on, and those held out
    heldout: list[Example]
    mixed: list[list[Article]]  # the articles of each --mix file trained on, in its order
    heldout_real: list[Example]


def _sources(data: Path, config: TrainConfig, taught: Sequence[Example]) -> _Sources:
    """The articles the run trains on, and the examples it is scored on."""
    articles = load_squad(data)
    if config.adapt:  # replay, but never an article the reader's SQuAD scores are of
        split = replay_split(articles, Path(config.init))
        # a fixed sample of the taught examples: trained on, and said so in the card
        heldout = random.Random(config.seed).sample(
            list(taught), min(config.eval_questions, len(taught))
        )
    else:
        split = split_articles(articles, config.holdout, config.seed)
        heldout = heldout_examples(split, config, config.eval_questions)
    if not split.train:
        raise CppqaError(f"no training articles left in {str(data)!r} after holding out")
    mixed, heldout_real = [], []
    for file, _ in config.mix:
        theirs = load_squad(Path(file))
        mixed.append(mixable(theirs, split.titles_held_out))
        if not mixed[-1]:
            raise CppqaError(f"--mix {file!r}: no article left to train on after holding out")
        calibration = [a for a in theirs if a.title in V2_CALIBRATION]
        heldout_real += heldout_real_examples(calibration, config, config.eval_questions)
    return _Sources(split, heldout, mixed, heldout_real)


def _loop(
    run: _Run, checkpoint: Path, budget_minutes: float | None, steps: int | None, progress: bool
) -> None:
    """Train until the run's end, the budget's or ``steps`` steps of this call; score the
    held-out examples every ``eval_every`` steps and checkpoint every ``checkpoint_every``."""
    import torch

    config, model, optimizer = run.config, run.model, run.optimizer
    bar = _progress(run.total_steps, run.step, progress)
    began, first_step, first_seen = time.monotonic(), run.step, run.seen
    deadline = None if budget_minutes is None else began + 60 * budget_minutes
    loss_avg: float | None = None
    model.train()
    while run.step < run.total_steps:
        examples = [next(run.stream) for _ in range(config.batch_size)]
        encoded = encode(run.tokenizer, examples, config.max_tokens)
        batch = {k: v.to(run.device) for k, v in encoded.items()}
        mask = batch.pop("context_mask")
        for group in optimizer.param_groups:
            group["lr"] = _lr_at(run.step, config, run.total_steps, run.warmup)
        with torch.autocast(run.device.type, torch.bfloat16, enabled=config.precision == "bf16"):
            outputs = model(**batch)
        loss = outputs.loss
        if config.group:
            loss = loss + shared_loss(outputs, batch, mask, config.group)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        run.step += 1
        run.seen += len(examples)
        value = loss.item()
        loss_avg = value if loss_avg is None else 0.98 * loss_avg + 0.02 * value
        rate = (run.seen - first_seen) / max(time.monotonic() - began, 1e-6)
        bar.update(1)
        bar.set_postfix(loss=f"{loss_avg:.3f}", ex_s=f"{rate:.1f}", refresh=False)
        if run.step % config.eval_every == 0 or run.step == run.total_steps:
            scores = _score(run)
            run.history.append(
                {"step": run.step, "seen": run.seen, "loss": round(loss_avg, 4), **scores}
            )
            log.info("step %d seen %d loss %.3f held out %s", run.step, run.seen, loss_avg, scores)
        if run.step % config.checkpoint_every == 0:
            run.save(checkpoint)
        if deadline is not None and time.monotonic() > deadline:
            log.info("budget of %.1f minutes spent at step %d", budget_minutes, run.step)
            break
        if steps is not None and run.step - first_step >= steps:
            break
    bar.close()


def _finish(run: _Run, checkpoint: Path, out: Path, adapted: dict[str, Any] | None) -> TrainResult:
    """The last checkpoint, the final scores, and the reader exported to ``out``."""
    run.save(checkpoint)
    if run.history and run.history[-1]["step"] == run.step:  # the last step was just scored
        scores = {k: v for k, v in run.history[-1].items() if k not in ("step", "seen", "loss")}
    else:
        scores = _score(run)
    export(
        run.model, run.tokenizer, out, run.config, run.seen, run.step, run.total_steps,
        scores, run.split, run.history, adapted,
    )  # fmt: skip
    return TrainResult(out, run.seen, run.step >= run.total_steps, scores)


def _score(run: _Run) -> dict[str, Any]:
    return held_out_scores(
        run.model, run.tokenizer, run.heldout, run.heldout_real, run.config.max_tokens
    )


def _lr_at(step: int, config: TrainConfig, total_steps: int, warmup: int) -> float:
    """Linear warm-up over ``warmup`` steps, then linear decay to zero at the run's end."""
    if step < warmup:
        return config.lr * (step + 1) / warmup
    return config.lr * max(0.0, (total_steps - step) / max(total_steps - warmup, 1))


def _progress(total: int, done: int, enabled: bool) -> Any:
    from tqdm import tqdm

    return tqdm(total=total, initial=done, unit="step", disable=not enabled, mininterval=2.0)
