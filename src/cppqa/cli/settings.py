"""The flags the question commands share (``--corpus``, ``--index``, ``--model``,
``--reader``, ``--no-rebuild``, ``-v``), the settings they give, and the system they load.

Every command module imports this one; it imports none of them.
"""

from __future__ import annotations

import argparse
import os
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from cppqa.config import Settings
    from cppqa.qa import QA


def build_common_parser() -> argparse.ArgumentParser:
    """The parent parser of ``ask``, ``chat``, ``index``, ``eval`` and ``bench``."""
    from cppqa.documents.formats import SUFFIXES

    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--corpus",
        metavar="PATH",
        help=f"corpus folder, or a single document ({' '.join(SUFFIXES)}) "
        "(default: ./corpus; env CPPQA_CORPUS_DIR)",
    )
    common.add_argument(
        "--index",
        metavar="DIR",
        help="index folder (env CPPQA_INDEX_DIR; default: ./index for ./corpus, and for "
        "any other corpus indexes/FINGERPRINT-OF-ITS-FILES in the cache folder, env "
        "CPPQA_CACHE_DIR, else ~/.cache/cppqa)",
    )
    common.add_argument(
        "--model",
        metavar="DIR",
        help="a local sentence-transformers folder "
        "(default: the packaged all-MiniLM-L6-v2; env CPPQA_MODEL)",
    )
    common.add_argument(
        "--reader",
        metavar="DIR",
        help="a trained reader folder (default: models/reader; env CPPQA_READER)",
    )
    common.add_argument(
        "--no-rebuild",
        action="store_true",
        help="fail instead of rebuilding a missing or stale index",
    )
    common.add_argument("-v", "--verbose", action="store_true", help="log what happens")
    return common


def read_settings(args: argparse.Namespace) -> Settings:
    """The settings of the flags and ``CPPQA_*``. A corpus other than the shipped one
    gets its own index in the cache unless one is named (``--index``,
    ``CPPQA_INDEX_DIR``): ``index/`` is the shipped document's, tracked by git."""
    from cppqa.config import Settings

    settings = Settings.from_env(
        corpus_dir=args.corpus, index_dir=args.index, model=args.model, reader=args.reader
    )
    from cppqa.search.placement import place_index

    return place_index(settings, named=bool(args.index or os.environ.get("CPPQA_INDEX_DIR")))


def load_qa(args: argparse.Namespace) -> QA:
    """The question answerer of the flags, its index rebuilt if missing or stale (unless
    ``--no-rebuild``)."""
    quiet_libraries()
    from cppqa.qa import QA

    return QA.load(read_settings(args), rebuild=not args.no_rebuild, progress=True)


def quiet_libraries() -> None:
    """Offline, and without the model libraries' own progress bars and warnings."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
