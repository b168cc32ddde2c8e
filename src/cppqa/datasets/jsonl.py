"""JSON Lines files of questions, records and votes: one JSON object a line, read with
their line numbers (for messages that point at the line) and written atomically enough
for a command's output.

>>> from pathlib import Path
>>> import tempfile
>>> path = Path(tempfile.mkdtemp()) / "rows.jsonl"
>>> write_rows(path, [{"question": "When?"}, {"question": "Where?"}])
>>> [n for n, _ in read_rows(path)]
[1, 2]
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from cppqa.errors import CppqaError

log = logging.getLogger(__name__)


def lines_of(path: Path) -> list[str]:
    """The lines of a JSON Lines file, the last one whether or not a newline ends it.

    "\n" alone ends a line: ``str.splitlines`` would also split at U+2028, U+2029 and
    U+0085, which ``json.dumps(ensure_ascii=False)`` leaves unescaped inside strings.
    Raises ``OSError`` or ``UnicodeDecodeError`` as reading the file does.
    """
    return [line.removesuffix("\r") for line in path.read_text(encoding="utf-8").split("\n")]


def read_rows(
    path: Path,
    *,
    what: str = "file",
    cut_short: Callable[[dict[str, Any]], bool] | None = None,
) -> list[tuple[int, dict[str, Any]]]:
    """The objects of ``path`` with their line numbers; blank lines are passed over.

    ``what`` names the file in messages ("evaluation file", "--from-records"). A last line
    that is not JSON is skipped with a warning when ``cut_short`` holds for every row
    before it: a file appended to by a server that stopped mid-write (feedback votes).
    """
    if not path.is_file():
        raise CppqaError(f"cannot read {what} {str(path)!r}: it does not exist")
    try:
        lines = lines_of(path)
    except (OSError, UnicodeDecodeError) as exc:
        raise CppqaError(f"cannot read {what} {str(path)!r}: {exc}") from None
    rows: list[tuple[int, dict[str, Any]]] = []
    for n, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except ValueError as exc:
            if cut_short and n == len(lines) and rows and all(cut_short(r) for _, r in rows):
                log.warning("%s:%d: a line cut short, skipped", path.name, n)
                break
            raise CppqaError(f"{path}:{n} is not valid JSON: {exc}") from None
        if not isinstance(row, dict):
            raise CppqaError(f"{path}:{n} is not a JSON object")
        rows.append((n, row))
    return rows


def write_rows(path: Path, rows: Sequence[dict[str, Any]]) -> None:
    """``rows`` to ``path``, one JSON object a line (UTF-8, not ASCII-escaped)."""
    try:
        with path.open("w", encoding="utf-8") as f:
            for row in rows:
                f.write(json.dumps(row, ensure_ascii=False) + "\n")
    except OSError as exc:
        raise CppqaError(f"cannot write {str(path)!r}: {exc}") from None
