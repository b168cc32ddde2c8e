"""The trained reader, written where ``Reader.load`` finds it: fp16 safetensors, its
config and tokenizer, ``reader.json`` (what it is, what it learned from, its scores)
and a model card (``README.md``), swapped in atomically."""

from __future__ import annotations

import copy
import json
import os
import shutil
from dataclasses import asdict
from pathlib import Path
from typing import Any

from cppqa.config import CHECKOUT
from cppqa.datasets.squad import ABSTENTION_ARTICLES, V2_HELD_OUT
from cppqa.training.examples import Split
from cppqa.training.hyperparameters import TrainConfig
from cppqa.training.origin import init_meta


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
    from cppqa.reading.reader import READER_FILE, WEIGHTS_FILE
    from cppqa.search.embed import sha256_file
    from cppqa.training.bases import BASES

    tmp = out.with_name(out.name + ".tmp")
    if tmp.exists():
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
        init = init_meta(Path(config.init))
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
        shutil.rmtree(old)
    if out.exists():
        os.replace(out, old)
    os.replace(tmp, out)
    if old.exists():
        shutil.rmtree(old)


def model_card(meta: dict[str, Any]) -> str:
    """The model card (``README.md``) of the reader whose ``reader.json`` is ``meta``."""
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
