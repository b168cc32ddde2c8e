"""The trained extractive span reader: load it (verified) and score (question, window) pairs.

The reader is an encoder (all-MiniLM-L6-v2's, or all-mpnet-base-v2's: ``bases.py``)
with a linear start/end head (``AutoModelForQuestionAnswering``), fine-tuned by
``cppqa train-reader``. It returns
logits and nothing else; ``spans.py`` turns them into answers. "No answer" is
read at the [CLS] position, as SQuAD 2.0 readers do (Devlin et al. 2019, §4.3).

This is the only module that runs the reader; torch and transformers load only
when a reader is built or loaded.
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cppqa.config import CHECKOUT
from cppqa.errors import ModelError
from cppqa.search.embed import sha256_file

if TYPE_CHECKING:
    import numpy as np

log = logging.getLogger(__name__)

WEIGHTS_FILE = "model.safetensors"
#: The most word pieces of a question the reader reads (SQuAD questions are under 40).
MAX_QUESTION_TOKENS = 64
READER_FILE = "reader.json"
#: The reader committed in ``models/reader/``; its weights must hash to ``SHIPPED_SHA256``.
SHIPPED_DIR = CHECKOUT / "models" / "reader"
SHIPPED_SHA256 = "1a4ba6bdfbc930c25298696ea805556617b69110936f71598e5a1013666ff675"
#: The reader adapted to the shipped document (``cppqa train-reader --adapt``), used in
#: place of the general one for the corpus it was adapted on, and for no other.
ADAPTED_DIR = SHIPPED_DIR.with_name("reader-adapted")
#: Its weights' hash once one is committed; empty while none is (a reader written there
#: by ``--adapt`` is checked against the hash its own ``reader.json`` records).
ADAPTED_SHA256 = ""


@dataclass(frozen=True)
class WindowLogits:
    """The reader's view of one window: logits per token and each token's character span.

    ``offsets[i]`` is ``(start, end)`` in the window text for context tokens, and
    ``None`` for the question and special tokens. ``null`` is the no-answer score
    (start + end logit at [CLS]).
    """

    start: np.ndarray
    end: np.ndarray
    offsets: tuple[tuple[int, int] | None, ...]
    null: float


@dataclass(frozen=True)
class Calibration:
    """How the reader's margin becomes a confidence, and the confidence answers need.

    Fitted on held-out questions by ``cppqa eval --squad --calibrate`` and kept in
    ``reader.json``; an uncalibrated reader gets σ(margin) and 0.5.
    """

    scale: float = 1.0
    bias: float = 0.0
    threshold: float = 0.5

    @classmethod
    def of(cls, meta: dict[str, Any]) -> Calibration:
        fitted = meta.get("calibration", {})
        return cls(
            float(fitted.get("scale", cls.scale)),
            float(fitted.get("bias", cls.bias)),
            float(fitted.get("threshold", cls.threshold)),
        )


def adapted_folder(corpus: str, folder: Path | None = None) -> Path | None:
    """``folder`` (default: ``ADAPTED_DIR``) if it holds a reader adapted to the corpus
    with fingerprint ``corpus`` (``cppqa.search.index.fingerprint``), else None: the general
    reader reads that corpus."""
    folder = ADAPTED_DIR if folder is None else folder
    try:
        meta = json.loads((folder / READER_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    adapted = meta.get("adapted") if isinstance(meta, dict) else None
    return folder if isinstance(adapted, dict) and adapted.get("corpus") == corpus else None


def write_calibration(folder: Path, calibration: dict[str, Any]) -> None:
    """Record the fitted confidence curve and threshold in the reader's ``reader.json``."""
    path = folder / READER_FILE
    try:
        meta = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ModelError(f"cannot read {str(path)!r} to calibrate it: {exc}") from None
    meta["calibration"] = calibration
    tmp = path.with_suffix(".json.tmp")
    try:
        tmp.write_text(json.dumps(meta, indent=1) + "\n", encoding="utf-8")
        os.replace(tmp, path)
    except OSError as exc:
        raise ModelError(f"cannot write the calibration to {str(path)!r}: {exc}") from None


def _offline() -> None:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


def new_span_model(base: Path) -> tuple[Any, Any]:
    """A reader to train, in fp32: the base encoder's weights and a new (random) span
    head, or all the weights of a trained reader when ``base`` is one."""
    _offline()
    import torch
    from transformers import AutoModelForQuestionAnswering, AutoTokenizer
    from transformers.utils import logging as hf_logging

    hf_logging.set_verbosity_error()  # "some weights were newly initialised" is the point
    hf_logging.disable_progress_bar()
    model = AutoModelForQuestionAnswering.from_pretrained(
        str(base), local_files_only=True, dtype=torch.float32
    )
    tokenizer = AutoTokenizer.from_pretrained(str(base), local_files_only=True)
    return model, tokenizer


class Reader:
    """A verified span reader on the CPU.

    >>> reader = Reader.load()                                   # doctest: +SKIP
    >>> [w.null for w in reader.score("Who?", ["Ann wrote it."])]  # doctest: +SKIP
    [-3.1]
    """

    def __init__(
        self,
        folder: Path,
        model: Any,
        tokenizer: Any,
        meta: dict[str, Any],
        precision: str = "fp32",
    ) -> None:
        self.folder = folder
        #: ``fp32``, or ``bf16``: the forward pass under bfloat16 autocast (``precision.py``).
        self.precision = precision
        self.model = model
        self.tokenizer = tokenizer
        self.meta = meta
        self.max_tokens = int(meta.get("max_tokens", 192))
        self.weights_sha256 = str(meta.get("weights_sha256", ""))
        self.calibration = Calibration.of(meta)
        #: The fingerprint of the corpus this reader was adapted to ("" for a general one).
        self.adapted_to = str((meta.get("adapted") or {}).get("corpus", ""))

    @classmethod
    def load(cls, folder: Path | None = None, precision: str = "fp32") -> Reader:
        """Load the reader in ``folder`` (None: the shipped one) after checking its hash;
        it reads in ``precision`` (``fp32`` or ``bf16``)."""
        folder = SHIPPED_DIR if folder is None else Path(folder).resolve()
        weights = folder / WEIGHTS_FILE
        if not weights.is_file():
            raise ModelError(
                f"no trained reader in {str(folder)!r} (missing {WEIGHTS_FILE}); train one "
                "with `cppqa train-reader --data FILE` or restore models/reader/ from git"
            )
        try:
            meta = json.loads((folder / READER_FILE).read_text(encoding="utf-8"))
            if not isinstance(meta, dict) or not isinstance(meta.get("calibration", {}), dict):
                raise ValueError("not a JSON object with a calibration object")
        except (OSError, ValueError) as exc:
            raise ModelError(
                f"the reader's {READER_FILE} in {str(folder)!r} is unusable: {exc}"
            ) from None
        pinned = {SHIPPED_DIR: SHIPPED_SHA256, ADAPTED_DIR: ADAPTED_SHA256}
        expected = pinned.get(folder) or None
        expected = expected or str(meta.get("weights_sha256", ""))
        digest = sha256_file(weights)
        if digest != expected:
            raise ModelError(
                f"{str(weights)!r} has SHA-256 {digest}, expected {expected or '(none recorded)'}: "
                "the reader's weights are damaged or were replaced; restore them with "
                "`git checkout -- models/reader` or retrain with `cppqa train-reader`"
            )
        _offline()
        try:
            import torch
            from transformers import AutoModelForQuestionAnswering, AutoTokenizer
            from transformers.utils import logging as hf_logging

            hf_logging.disable_progress_bar()  # the library prints nothing
            model = AutoModelForQuestionAnswering.from_pretrained(
                str(folder), local_files_only=True, dtype=torch.float32
            )
            model.eval()
            tokenizer = AutoTokenizer.from_pretrained(str(folder), local_files_only=True)
        except Exception as exc:  # any loader failure is an unusable reader folder
            raise ModelError(f"cannot load the reader in {str(folder)!r}: {exc}") from exc
        meta["weights_sha256"] = digest
        return cls(folder, model, tokenizer, meta, precision)

    def encode(self, question: str, windows: list[str]) -> Any:
        """Tokenise ``question`` against each window, truncating only the window.

        A question longer than ``MAX_QUESTION_TOKENS`` is cut to that many word pieces
        first, so that every window keeps room for its text.
        """
        ids = self.tokenizer(question, add_special_tokens=False, return_offsets_mapping=True)
        if len(ids["input_ids"]) > MAX_QUESTION_TOKENS:
            question = question[: ids["offset_mapping"][MAX_QUESTION_TOKENS - 1][1]]
        return tokenize_pairs(self.tokenizer, [question] * len(windows), windows, self.max_tokens)

    def score(self, question: str, windows: list[str]) -> list[WindowLogits]:
        """Start/end logits of every window, in one batched forward pass."""
        if not windows:
            return []
        import torch

        from cppqa.search.precision import autocast

        batch = self.encode(question, windows)
        offsets = batch.pop("offset_mapping")
        with torch.inference_mode(), autocast(self.precision):
            out = self.model(**batch)
        return window_logits(batch, offsets, out)


def tokenize_pairs(
    tokenizer: Any, questions: list[str], contexts: list[str], max_tokens: int
) -> Any:
    """[CLS] question [SEP] context [SEP] for each pair, padded, with character offsets;
    only the context is cut at ``max_tokens``. Training and answering tokenise alike."""
    return tokenizer(
        questions,
        contexts,
        truncation="only_second",
        max_length=max_tokens,
        padding=True,
        return_offsets_mapping=True,
        return_tensors="pt",
    )


def window_logits(batch: Any, offsets: Any, out: Any) -> list[WindowLogits]:
    """Split a batched forward pass into one ``WindowLogits`` per window.

    ``batch`` is the tokenizer's encoding (question first, window second),
    ``offsets`` its offset mapping, ``out`` the model's output.
    """
    starts = out.start_logits.float().cpu().numpy()
    ends = out.end_logits.float().cpu().numpy()
    offsets = offsets.tolist()
    results = []
    for i in range(len(starts)):
        spans = tuple(
            (int(a), int(b)) if sid == 1 and b > a else None
            for sid, (a, b) in zip(batch.sequence_ids(i), offsets[i], strict=True)
        )
        results.append(WindowLogits(starts[i], ends[i], spans, float(starts[i][0] + ends[i][0])))
    return results
