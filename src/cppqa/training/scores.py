"""Held-out scores, taken every ``eval_every`` steps of a run and at its end: with the
window given, exact match and F1 on answerable examples and abstention on the rest."""

from __future__ import annotations

from typing import Any

from cppqa.datasets.squad import f1_score, normalize_answer
from cppqa.training.examples import Example


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
