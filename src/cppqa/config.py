"""One frozen ``Settings`` object with every default; ``CPPQA_*`` variables override them."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, fields, replace
from enum import Enum
from pathlib import Path
from typing import Any

from cppqa.errors import CppqaError

#: The folder ``src/`` lies in: in a checkout, where ``models/``, ``data/`` and ``corpus/`` are.
CHECKOUT = Path(__file__).resolve().parents[2]


def _project_root() -> Path:
    """The checkout this package lives in (src layout), else the working directory."""
    return CHECKOUT if (CHECKOUT / "corpus").is_dir() else Path.cwd()


#: ``$XDG_CACHE_HOME/cppqa``, else ``~/.cache/cppqa``.
_USER_CACHE = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "cppqa"


class Precision(Enum):
    """The arithmetic the embedder and the reader run in: ``auto`` takes bfloat16 where the
    CPU has bfloat16 instructions (AVX-512 BF16 or AMX) and float32 elsewhere."""

    AUTO = "auto"
    FP32 = "fp32"
    BF16 = "bf16"


class VectorBackend(Enum):
    """Where the vectors live: FAISS files beside the records, or a Milvus collection."""

    FAISS = "faiss"
    MILVUS = "milvus"


#: A Milvus Lite file (pymilvus takes a local path ending in ``.db``) or a server address.
_MILVUS_URI = re.compile(r"(?:https?://[^/\s]+/?|[^:]+\.db)\Z")
_MILVUS_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,127}\Z")


@dataclass(frozen=True)
class Settings:
    """Every tunable of cppqa, in one place.

    >>> Settings().chunk_sentences
    3
    """

    #: A folder of documents, or a single document file (``cppqa.documents.formats.SUFFIXES``).
    corpus_dir: Path = _project_root() / "corpus"
    index_dir: Path = _project_root() / "index"
    #: A local sentence-transformers folder; None means the packaged all-MiniLM-L6-v2.
    model: str | None = None
    #: A trained reader folder; None means the one shipped in ``models/reader/``.
    reader: str | None = None
    #: How many retrieved sentences the reader reads, each with its neighbours.
    windows: int = 5
    #: Passages are windows of this many sentences, sharing ``chunk_overlap`` with the next.
    chunk_sentences: int = 3
    chunk_overlap: int = 1
    #: How many sources an answer lists.
    top_k: int = 3
    #: Reciprocal rank fusion constant (Cormack et al. 2009 found k=60 robust).
    rrf_k: int = 60
    #: Answers whose confidence is below this are withheld; None: the threshold the
    #: reader was calibrated with on held-out SQuAD articles (its reader.json).
    min_confidence: float | None = None
    #: Longest question accepted, in characters.
    max_question_chars: int = 1000
    #: Largest document file read, in bytes (a PDF's images count, so this is generous).
    max_file_bytes: int = 50_000_000
    #: Most text one document may hold, in characters: 10 million already take many
    #: minutes to embed on a CPU.
    max_document_chars: int = 10_000_000
    #: Most pages a PDF may have.
    max_pages: int = 2000
    #: Most scanned pages (without a text layer) of one PDF read with OCR; a scan with
    #: more is refused before any is read.
    ocr_max_pages: int = 100
    #: Most seconds OCR may take on one PDF; it stops, refusing the PDF, after this. OCR
    #: read 0.22-0.32 pages a second on 2 cores held by a training run (docs/documents.md),
    #: so ``ocr_max_pages`` (100) take 5-8 minutes there: 600 s lets them finish.
    ocr_max_seconds: float = 600.0
    #: Most bytes a .docx (a ZIP archive) may declare it unpacks to; far more than its
    #: size means a zip bomb. Checked before anything is unpacked.
    max_unpacked_bytes: int = 200_000_000
    #: The web chat forgets a session's uploaded documents after this many seconds
    #: unused (and at once when its tab closes).
    upload_idle_seconds: float = 1800.0
    #: Most sessions whose uploaded documents the server holds (each an index in memory);
    #: one more is told to try again later.
    max_upload_sessions: int = 8
    #: Most files one upload may hold.
    max_upload_files: int = 10
    #: Where the web chat keeps readers' thumbs up or down on answers (``feedback.jsonl``,
    #: see ``cppqa.datasets.feedback``); None: the chat offers no votes and keeps nothing.
    feedback_dir: Path | None = None
    #: Where cppqa keeps what it can rebuild: unpacked base encoders for training, and
    #: the indexes of corpora other than the shipped one.
    cache_dir: Path = _USER_CACHE
    #: ``auto``, ``fp32`` or ``bf16`` (see ``Precision``).
    precision: Precision = Precision.AUTO
    #: ``faiss`` (files in ``index_dir``) or ``milvus`` (a collection at ``milvus_uri``).
    vector_store: VectorBackend = VectorBackend.FAISS
    #: A Milvus Lite file (``path/to/vectors.db``) or a server (``http://host:19530``);
    #: a server's token comes from ``CPPQA_MILVUS_TOKEN``, never from here.
    milvus_uri: str | None = None
    #: Aliases ``<prefix>_sentences`` / ``<prefix>_chunks`` name the serving collections.
    milvus_alias: str = "cppqa"
    #: Seconds any one Milvus call (connect included) may take before it fails.
    milvus_timeout: float = 10.0

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None, **overrides: Any) -> Settings:
        """Defaults, then ``CPPQA_<FIELD>`` environment variables, then non-None ``overrides``."""
        env = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        for f in fields(cls):
            raw = env.get(f"CPPQA_{f.name.upper()}")
            if raw is None or raw == "":
                continue
            default = getattr(cls(), f.name)
            if default is None and "float" in str(f.type):
                default = 0.0  # an optional number is still a number
            values[f.name] = _coerce(f.name, raw, default)
        defaults = cls()
        for name, value in overrides.items():
            if value is None:
                continue
            default = getattr(defaults, name)
            # "--index DIR" arrives as a string; a folder is always a Path here.
            values[name] = _coerce(name, value, default) if isinstance(value, str) else value
        settings = replace(cls(), **values)
        settings.validate()
        return settings

    def validate(self) -> None:
        if self.chunk_sentences < 1:
            raise CppqaError(f"chunk_sentences must be at least 1, got {self.chunk_sentences}")
        if not 0 <= self.chunk_overlap < self.chunk_sentences:
            raise CppqaError(
                f"chunk_overlap must be in [0, chunk_sentences), got {self.chunk_overlap}"
            )
        if self.windows < 1:
            raise CppqaError(f"windows must be at least 1, got {self.windows}")
        if self.top_k < 1:
            raise CppqaError(f"top_k must be at least 1, got {self.top_k}")
        if self.min_confidence is not None and not 0.0 <= self.min_confidence <= 1.0:
            raise CppqaError(f"min_confidence must be in [0, 1], got {self.min_confidence}")
        if self.max_question_chars < 1:
            raise CppqaError(f"max_question_chars must be positive, got {self.max_question_chars}")
        for name in (
            "max_file_bytes",
            "max_document_chars",
            "max_pages",
            "ocr_max_pages",
            "max_unpacked_bytes",
            "max_upload_sessions",
            "max_upload_files",
        ):
            if getattr(self, name) < 1:
                raise CppqaError(f"{name} must be positive, got {getattr(self, name)}")
        if self.vector_store is VectorBackend.MILVUS and not self.milvus_uri:
            raise CppqaError(
                "CPPQA_VECTOR_STORE=milvus needs CPPQA_MILVUS_URI: a Milvus Lite file "
                "(path/to/vectors.db) or a server (http://host:19530)"
            )
        if self.milvus_uri is not None and not _MILVUS_URI.match(self.milvus_uri):
            raise CppqaError(
                f"CPPQA_MILVUS_URI={self.milvus_uri!r} is neither a Milvus Lite file "
                "(a path ending in .db) nor a server address (http://host:19530)"
            )
        if not _MILVUS_NAME.match(self.milvus_alias):
            raise CppqaError(
                f"CPPQA_MILVUS_ALIAS={self.milvus_alias!r} is not a Milvus name "
                "(a letter or _, then letters, digits or _)"
            )
        if not self.upload_idle_seconds > 0:
            raise CppqaError(
                f"upload_idle_seconds must be positive, got {self.upload_idle_seconds}"
            )
        if not self.ocr_max_seconds > 0:
            raise CppqaError(f"ocr_max_seconds must be positive, got {self.ocr_max_seconds}")
        if not self.milvus_timeout > 0:
            raise CppqaError(f"milvus_timeout must be positive, got {self.milvus_timeout}")


def _coerce(name: str, raw: str, default: Any) -> Any:
    if isinstance(default, Enum):
        try:
            return type(default)(raw.lower())
        except ValueError:
            allowed = ", ".join(m.value for m in type(default))
            raise CppqaError(f"CPPQA_{name.upper()}={raw!r} is not one of {allowed}") from None
    try:
        if isinstance(default, Path) or name.endswith("_dir"):
            return Path(raw).expanduser()
        if isinstance(default, bool):
            return raw.lower() in {"1", "true", "yes", "on"}
        if isinstance(default, int):
            return int(raw)
        if isinstance(default, float):
            return float(raw)
    except ValueError:
        raise CppqaError(
            f"CPPQA_{name.upper()}={raw!r} is not a valid {type(default).__name__}"
        ) from None
    return raw
