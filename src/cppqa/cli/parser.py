"""The argument parser of ``cppqa``: the program's own flags and one sub-parser per
command, each registered by its command's module."""

from __future__ import annotations

import argparse

from cppqa import __version__
from cppqa.cli import ask, bench, index, train
from cppqa.cli import eval as evaluation  # not to shadow the builtin
from cppqa.cli.settings import build_common_parser

EXAMPLES = """\
examples:
  cppqa ask "When was the party declared illegal?"
  cppqa ask --json "Who is the General Secretary of the Party?"
  printf 'When was the CPP formed?\\nWhere?\\n' | cppqa ask --json -
  cppqa ask --corpus ~/Documents/report.pdf "Who wrote the report?"
  cppqa chat --corpus ~/Documents/report.pdf
  cppqa index
  cppqa eval --json
"""


def build_parser() -> argparse.ArgumentParser:
    """``cppqa [--version] COMMAND ...``; each command's parser sets ``args.run``, the
    function that runs it."""
    common = build_common_parser()
    parser = argparse.ArgumentParser(
        prog="cppqa",
        description="Ask questions about the documents in corpus/ and get exact quotes back, "
        "with where they come from.",
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"cppqa {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    # in the order `cppqa --help` lists them
    ask.add_parsers(commands, common)
    index.add_parser(commands, common)
    evaluation.add_parser(commands, common)
    train.add_parser(commands)
    bench.add_parser(commands, common)
    return parser
