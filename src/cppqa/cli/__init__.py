"""The command line: ``cppqa ask | chat | index | eval | train-reader | bench``. The only
place that prints and exits.

One module per command (``ask`` holds ``chat`` too), each registering its sub-parser
and the function that runs it; ``parser`` puts them together and ``settings`` holds
what they share. Heavy libraries (torch, sentence-transformers, faiss) are imported
inside the commands that need them, so ``cppqa --help`` and argument errors are instant.
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Sequence

from cppqa.cli.parser import build_parser
from cppqa.errors import CppqaError

__all__ = ["build_parser", "main"]


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command of ``argv`` (default: ``sys.argv``) and return its exit status:
    2 for a ``CppqaError``, printed as one line, 130 when interrupted."""
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="cppqa: %(message)s",
        stream=sys.stderr,
    )
    for noisy in ("sentence_transformers", "transformers", "huggingface_hub", "bm25s", "faiss"):
        logging.getLogger(noisy).setLevel(logging.ERROR)
    try:
        return int(args.run(args))
    except CppqaError as exc:
        print(f"cppqa: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("cppqa: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
