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
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import random
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

from cppqa.config import CHECKOUT
from cppqa.datasets.squad import (
    ABSTENTION_ARTICLES,
    V2_CALIBRATION,
    V2_HELD_OUT,
    Article,
    f1_score,
    load_squad,
    normalize_answer,
)
from cppqa.errors import CppqaError
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
from cppqa.training.hyperparameters import TrainConfig

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


# ---------------------------------------------------------------- held-out scoring


def score_examples(model: Any, tokenizer: Any, examples: list[Example], max_tokens: int) -> dict:
    """Window-given scores: EM and F1 on answerable examples; no-answer accuracy on the rest."""
    import torch

    from cppqa.reading.reader import tokenize_pairs, window_logits
    from cppqa.reading.spans import best_span

    model.eval()
    em = f1 = 0.0
    answered = null_right = 0
    n_pos = n_neg = 0
    with torch.inference_mode():
        for i in range(0, len(examples), 32):
            chunk = examples[i : i + 32]
            batch = tokenize_pairs(
                tokenizer, [e.question for e in chunk], [e.context for e in chunk], max_tokens
            )
            offsets = batch.pop("offset_mapping")
            out = model(**{k: v.to(model.device) for k, v in batch.items()})
            for e, w in zip(chunk, window_logits(batch, offsets, out), strict=True):
                span = best_span(w)
                says = span is not None and span.margin > 0
                if e.answer_start is None:
                    n_neg += 1
                    null_right += not says
                else:
                    n_pos += 1
                    text = e.context[span.start : span.end] if span else ""
                    em += normalize_answer(text) == normalize_answer(e.answer)
                    f1 += f1_score(text, e.answer)
                    answered += says
    model.train()
    return {
        "em": round(em / max(n_pos, 1), 4),
        "f1": round(f1 / max(n_pos, 1), 4),
        "answer_rate": round(answered / max(n_pos, 1), 4),
        "no_answer_accuracy": round(null_right / max(n_neg, 1), 4),
        "answerable": n_pos,
        "unanswerable": n_neg,
    }


def held_out_scores(
    model: Any, tokenizer: Any, made: list[Example], real: list[Example], max_tokens: int
) -> dict[str, Any]:
    """The scores of the held-out examples of ``--data``, and under ``real`` those of the
    mixed-in files' calibration articles (real unanswerable questions among them)."""
    scores = score_examples(model, tokenizer, made, max_tokens)
    if real:
        scores["real"] = score_examples(model, tokenizer, real, max_tokens)
    return scores


# ---------------------------------------------------------------- the loop


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
    import torch

    from cppqa.reading.reader import new_span_model
    from cppqa.training.bases import base_folder

    ckpt_file = checkpoint / "state.pt"
    state: dict[str, Any] | None = None
    if resume:
        if not ckpt_file.is_file():
            raise CppqaError(
                f"--resume: no checkpoint at {str(ckpt_file)!r}; start without --resume"
            )
        try:
            state = torch.load(ckpt_file, map_location="cpu", weights_only=False)
        except Exception as exc:  # a truncated or foreign file: say so, not a traceback
            raise CppqaError(
                f"the checkpoint {str(ckpt_file)!r} is unreadable ({exc}); delete the folder "
                "to start over"
            ) from None
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
        if state.get("taught", "") != _digest(taught):
            raise CppqaError(
                "--resume: the --adapt questions or the corpus changed since the checkpoint "
                "was written; give the same ones, or delete the checkpoint to start over"
            )
        log.info("resuming at %d examples seen", state["seen"])
    elif ckpt_file.is_file():
        raise CppqaError(
            f"a checkpoint exists at {str(ckpt_file)!r}; pass --resume to continue it, "
            "or delete the folder to start over"
        )

    random.seed(config.seed)
    torch.manual_seed(config.seed)
    # every core, unless OMP_NUM_THREADS says fewer (two runs side by side, one core each)
    torch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS") or os.cpu_count() or 1))
    # a GPU when there is one (then a resumed run's dropout is not replayed exactly)
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")

    articles = load_squad(data)
    if config.adapt:  # replay, but never an article the reader's SQuAD scores are of
        split = _replay_split(articles, Path(config.init))
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

    if config.init:  # the encoder is the one the reader started from
        from cppqa.training.bases import BASES, named

        base = Path(config.init)
        # readers whose reader.json predates the choice were all MiniLM
        recorded = _init_meta(base).get("base_model", BASES["minilm"].hub_id)
        config = replace(config, base=named(recorded).name)
    if config.init and not config.adapt:  # an adaptation run replays, skipping nothing
        learned, grouped = _check_init(Path(config.init), split)
        if state is None:
            config = replace(config, skip=learned, group_skip=grouped)
            log.info("from %s: skipping the %d examples it learned from", config.init, learned)
    base = base or base_folder(config.base)
    model, tokenizer = new_span_model(base)
    model.to(device)
    optimizer = torch.optim.AdamW(
        model.parameters(), lr=config.lr, weight_decay=config.weight_decay
    )
    total_steps = max(config.examples // config.batch_size, 1)
    warmup = max(int(total_steps * config.warmup), 1)

    def lr_at(step: int) -> float:
        if step < warmup:
            return config.lr * (step + 1) / warmup
        return config.lr * max(0.0, (total_steps - step) / max(total_steps - warmup, 1))

    step, seen, history = 0, 0, []
    if state is not None:
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        step, seen, history = state["step"], state["seen"], state["history"]
        torch.set_rng_state(state["torch_rng"])

    stream = example_stream(split.train, config, config.seed, mixed, taught)
    # replay the stream to where this run stands (the group stream is a stream of its own)
    done = config.group_skip if config.group else config.skip - config.group_skip
    for _ in range(done + seen):
        next(stream)

    def save_checkpoint() -> None:
        checkpoint.mkdir(parents=True, exist_ok=True)
        tmp = checkpoint / "state.pt.tmp"
        torch.save(
            {
                "config": asdict(config),
                "model": model.state_dict(),
                "optimizer": optimizer.state_dict(),
                "step": step,
                "seen": seen,
                "history": history,
                "torch_rng": torch.get_rng_state(),
                "taught": _digest(taught),
            },
            tmp,
        )
        os.replace(tmp, ckpt_file)  # a crash mid-save leaves the last checkpoint whole

    bar = _progress(total_steps, step, progress)
    began, first_step = time.monotonic(), step
    deadline = None if budget_minutes is None else began + 60 * budget_minutes
    loss_avg: float | None = None
    model.train()
    while step < total_steps:
        examples = [next(stream) for _ in range(config.batch_size)]
        batch = {k: v.to(device) for k, v in encode(tokenizer, examples, config.max_tokens).items()}
        mask = batch.pop("context_mask")
        for group in optimizer.param_groups:
            group["lr"] = lr_at(step)
        with torch.autocast(device.type, torch.bfloat16, enabled=config.precision == "bf16"):
            outputs = model(**batch)
        loss = outputs.loss
        if config.group:
            loss = loss + shared_loss(outputs, batch, mask, config.group)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        step += 1
        seen += len(examples)
        value = loss.item()
        loss_avg = value if loss_avg is None else 0.98 * loss_avg + 0.02 * value
        rate = (seen - (state["seen"] if state else 0)) / max(time.monotonic() - began, 1e-6)
        bar.update(1)
        bar.set_postfix(loss=f"{loss_avg:.3f}", ex_s=f"{rate:.1f}", refresh=False)
        if step % config.eval_every == 0 or step == total_steps:
            scores = held_out_scores(model, tokenizer, heldout, heldout_real, config.max_tokens)
            history.append({"step": step, "seen": seen, "loss": round(loss_avg, 4), **scores})
            log.info("step %d seen %d loss %.3f held out %s", step, seen, loss_avg, scores)
        if step % config.checkpoint_every == 0:
            save_checkpoint()
        if deadline is not None and time.monotonic() > deadline:
            log.info("budget of %.1f minutes spent at step %d", budget_minutes, step)
            break
        if steps is not None and step - first_step >= steps:
            break
    bar.close()
    save_checkpoint()
    if history and history[-1]["step"] == step:  # the last step was just scored
        scores = {k: v for k, v in history[-1].items() if k not in ("step", "seen", "loss")}
    else:
        scores = held_out_scores(model, tokenizer, heldout, heldout_real, config.max_tokens)
    export(model, tokenizer, out, config, seen, step, total_steps, scores, split, history, adapted)
    return TrainResult(out, seen, step >= total_steps, scores)


def _check_init(folder: Path, split: Split) -> tuple[int, int]:
    """A reader to start from must have held out the same articles as this run, or this
    run's held-out scores would be of articles it had trained on. Returns how far into the
    example streams it (with the readers it came from) has learned: all examples, and
    the group stream's windows among them."""
    from cppqa.reading.reader import WEIGHTS_FILE

    meta = _init_meta(folder)
    held = sorted(meta["held_out_articles"])
    learned = int(meta["examples_seen"])
    grouped = int(meta.get("group_examples_seen", 0))
    if held != split.titles_held_out or not (folder / WEIGHTS_FILE).is_file():
        raise CppqaError(
            f"the reader in --init {str(folder)!r} held out other articles than this run "
            "would; use the --seed and --holdout it was trained with"
        )
    return learned, grouped


def _init_meta(folder: Path) -> dict[str, Any]:
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


def _replay_split(articles: list[Article], init: Path) -> Split:
    """An adaptation run's replay: ``--data``'s articles less those the --init reader
    held out (they stay held out: its SQuAD scores remain honest)."""
    held = sorted(_init_meta(init)["held_out_articles"])
    barred = set(held)
    return Split([a for a in articles if a.title not in barred], [], held)


def _digest(taught: Sequence[Example]) -> str:
    """A fingerprint of an adaptation run's examples ("" for none): a resumed run must be
    given the same."""
    if not taught:
        return ""
    rows = [[e.question, e.context, e.answer_start, e.answer] for e in taught]
    return hashlib.sha256(json.dumps(rows).encode()).hexdigest()


def _progress(total: int, done: int, enabled: bool) -> Any:
    from tqdm import tqdm

    return tqdm(total=total, initial=done, unit="step", disable=not enabled, mininterval=2.0)


# ---------------------------------------------------------------- export


def export(
    model: Any,
    tokenizer: Any,
    out: Path,
    config: TrainConfig,
    seen: int,
    step: int,
    total_steps: int,
    scores: dict[str, Any],
    split: Split,
    history: list[dict[str, Any]],
    adapted: dict[str, Any] | None = None,
) -> None:
    """Write the reader (fp16 safetensors, config, tokenizer, reader.json, card) atomically.

    An adapted reader's ``reader.json`` also says what it was adapted on (``adapted``),
    keeps the confidence curve of the reader it started from, and its scores are of the
    questions it was taught, not held-out ones."""
    import copy

    from cppqa.reading.reader import READER_FILE, WEIGHTS_FILE, sha256_file
    from cppqa.training.bases import BASES

    tmp = out.with_name(out.name + ".tmp")
    if tmp.exists():
        import shutil

        shutil.rmtree(tmp)
    tmp.mkdir(parents=True)
    half = copy.deepcopy(model).cpu().half()  # fp16 halves the file; the eval shows no loss
    half.save_pretrained(str(tmp), safe_serialization=True)
    tokenizer.save_pretrained(str(tmp))
    meta = {
        "format": 1,
        "base_model": BASES[config.base].hub_id,
        "max_tokens": config.max_tokens,
        "window_sentences": config.window_sentences,
        "examples_seen": config.skip + seen,  # with those of the --init readers
        "group_examples_seen": config.group_skip + (seen if config.group else 0),
        "examples_this_run": seen,
        "steps": step,
        "planned_steps": total_steps,
        "config": asdict(config),
        "held_out_articles": split.titles_held_out,
        "history": history,
        "weights_sha256": sha256_file(tmp / WEIGHTS_FILE),
    }
    if adapted is None:
        meta["held_out_scores"] = scores
    else:
        init = _init_meta(Path(config.init))
        meta["adapted"] = {**adapted, "taught_scores": scores}
        # the SQuAD stream is where the reader it started from left it
        meta["examples_seen"] = init["examples_seen"]
        meta["group_examples_seen"] = init.get("group_examples_seen", 0)
        if init.get("calibration"):
            meta["calibration"] = {**init["calibration"], "from": config.init}
    (tmp / READER_FILE).write_text(json.dumps(meta, indent=1) + "\n", encoding="utf-8")
    (tmp / "README.md").write_text(model_card(meta), encoding="utf-8")
    old = out.with_name(out.name + ".old")
    if old.exists():
        import shutil

        shutil.rmtree(old)
    if out.exists():
        os.replace(out, old)
    os.replace(tmp, out)
    if old.exists():
        import shutil

        shutil.rmtree(old)


def model_card(meta: dict[str, Any]) -> str:
    from cppqa.training.bases import named

    base = named(meta["base_model"])
    config = meta["config"]
    scores = meta.get("held_out_scores") or meta["adapted"]["taught_scores"]
    rows = "\n".join(f"| `{k}` | {v} |" for k, v in config.items())
    return f"""---
license: cc-by-sa-4.0
base_model: {base.hub_id}
datasets: [{"rajpurkar/squad, rajpurkar/squad_v2" if config.get("mix") else "rajpurkar/squad"}]
language: [en]
pipeline_tag: question-answering
---

# cppqa span reader

An extractive question-answering reader: the {base.description}
with a linear start/end head, fine-tuned by `cppqa train-reader`. It reads
a question with a window of a few sentences and marks the answer span, or the [CLS]
position when the window does not answer.

- **Base model:** {base.hub_id} ({base.license}), from {base.source}.
- **Data:** SQuAD 1.1 train (Rajpurkar et al. 2016), CC BY-SA 4.0. {meta["config"]["holdout"]}
  articles chosen by the seed, and the two SQuAD 2.0 articles with unanswerable
  questions ({", ".join(ABSTENTION_ARTICLES)}), were held out: `reader.json` lists them.
  "No answer" was taught with made-up negatives (another window of the article,
  the window of the article closest to the question that lacks its answer, a window
  of another article, the question with a name or number swapped, or with a number,
  an ordinal or one word of a name changed into one the window does not say).{_mix_note(meta)}
- **License:** the weights derive from CC BY-SA 4.0 data and are shared under it.
- **Seed:** {config["seed"]}. {_seen_note(meta)}
- **Weights:** fp16 safetensors, SHA-256 `{meta["weights_sha256"]}`.

{_adapt_note(meta) or _held_out_note(scores)}

## Hyperparameters

| name | value |
|---|---|
{rows}
"""


def _held_out_note(scores: dict[str, Any]) -> str:
    return f"""## Held-out scores (window given)

Measured on {scores["answerable"]} answerable and {scores["unanswerable"]} made-up
unanswerable examples from the held-out articles, with the window holding the
answer given: EM {scores["em"]}, F1 {scores["f1"]}, answered {scores["answer_rate"]} of
the answerable, abstained on {scores["no_answer_accuracy"]} of the unanswerable.{_real_note(scores)}
Scores in document mode (retrieval first) are in the project's `docs/quality.md`."""


def _adapt_note(meta: dict[str, Any]) -> str:
    adapted = meta.get("adapted")
    if not adapted:
        return ""
    scores = adapted["taught_scores"]
    split = f" (their `{adapted['split']}` rows)" if adapted.get("split") else ""
    files = ", ".join(f"`{name}`" for name in adapted["files"])
    documents = ", ".join(f"`{doc}`" for doc in sorted(adapted["documents"]))
    return f"""## Adapted

Adapted from `{_shown(meta["config"]["init"])}` to a corpus by `cppqa train-reader
--adapt`, on {adapted["questions"]} questions of {files}{split}: {adapted["examples"]}
examples, each question read with the windows retrieval gives it, with SQuAD replayed
as {1 - meta["config"]["adapt_share"]:.0%} of the stream.

- **Corpus:** {documents}; fingerprint `{adapted["corpus"]}`. cppqa picks this reader
  over the general one only for a corpus with this fingerprint.
- **On the questions it was taught** (trained on, window given; not a held-out
  measure): F1 {scores["f1"]}, answered {scores["answer_rate"]} of the answerable,
  abstained on {scores["no_answer_accuracy"]} of the rest.
- **Confidence curve:** that of `{_shown(meta["config"]["init"])}`, unchanged."""


def _shown(path: str) -> str:
    """``path`` relative to the project when it lies inside it (a card may be committed)."""
    try:
        return str(Path(path).resolve().relative_to(CHECKOUT))
    except ValueError:
        return path


def _real_note(scores: dict[str, Any]) -> str:
    real = scores.get("real")
    if not real:
        return ""
    return (
        f" On {real['answerable']} answerable and {real['unanswerable']} real unanswerable "
        "questions of the SQuAD 2.0 calibration articles, their paragraph's window given: "
        f"EM {real['em']}, F1 {real['f1']}, abstained on {real['no_answer_accuracy']} of "
        "the unanswerable."
    )


def _mix_note(meta: dict[str, Any]) -> str:
    mix = meta["config"].get("mix") or ()
    if not mix:
        return ""
    parts = ", ".join(f"`{Path(file).name}` ({share:.0%} of the examples)" for file, share in mix)
    return (
        f"\n- **Mixed in:** {parts}: SQuAD 2.0 (Rajpurkar et al. 2018), CC BY-SA 4.0, its "
        "questions as written, the unanswerable ones (written to look answerable from their "
        "paragraph) read with the paragraph's window closest to them. Their calibration and "
        f"test articles ({', '.join(V2_HELD_OUT[:8])}) were never trained on."
    )


def _seen_note(meta: dict[str, Any]) -> str:
    steps = f"{meta['steps']} of {meta['planned_steps']} planned steps"
    if meta.get("adapted"):
        return (
            f"**Examples this run:** {meta['examples_this_run']:,} ({steps}), the user's "
            f"and replayed SQuAD ones, after the {meta['examples_seen']:,} SQuAD examples "
            f"`{_shown(meta['config']['init'])}` had learned from; the articles it held "
            "out stay held out."
        )
    return f"**Examples seen:** {meta['examples_seen']:,} ({steps}{_init_note(meta)})."


def _init_note(meta: dict[str, Any]) -> str:
    init = meta["config"].get("init")
    if not init:
        return ""
    return f" of a run from `{init}`, which had learned from the first {meta['config']['skip']:,}"
