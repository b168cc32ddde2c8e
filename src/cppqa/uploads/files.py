"""Uploaded files and their folders, kept safe: names, origins, leftovers.

A file name is cleaned of control and bidirectional characters before it is used or
shown (``clean_name``; ``unique_names`` keeps the files of one upload apart). Only regular
files reach an upload: never a folder, a link or a device, and, where ``incoming`` is
given (the web app's upload folder), only a file in a folder of its own there
(``accepted``). What an upload did not take is removed (``release``), and so are the
folders an earlier run left behind (it was killed) at the next start (``sweep_stale``).

>>> unique_names(["a/report.pdf", "report.pdf"])
['report.pdf', 'report (2).pdf']
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import stat
import tempfile
import unicodedata
from collections.abc import Sequence
from pathlib import Path

from cppqa.errors import UploadError

log = logging.getLogger(__name__)

#: The prefix of every upload's temporary folder; the process id follows it
#: (``cppqa-upload-1234-x7k2``), so that a later run knows whose it was.
FOLDER_PREFIX = "cppqa-upload-"
#: Longest file name kept, in bytes of UTF-8 (file systems allow 255).
MAX_NAME_BYTES = 200
#: Characters that reorder or hide text (Unicode's bidirectional controls and marks):
#: "report\u202efdp.exe" shows as "reportexe.pdf".
BIDI_CONTROLS = frozenset(
    "\u061c\u200e\u200f"  # the Arabic letter mark, the left-to-right and right-to-left marks
    "\u202a\u202b\u202c\u202d\u202e"  # embeddings and overrides, and their end
    "\u2066\u2067\u2068\u2069"  # isolates, and their end
)


def clean_name(raw: str) -> str:
    """A file name as it is used and shown: its last path part, without control
    characters, NUL, bidirectional controls or line separators, cut to
    ``MAX_NAME_BYTES`` (its suffix kept), and "document" when nothing is left.

    >>> clean_name("../report\\u202efdp.exe"), clean_name("a\\x00b.md"), clean_name("..")
    ('reportfdp.exe', 'ab.md', 'document')
    """
    kept = "".join(
        ch
        for ch in raw.replace("\\", "/")
        if ch not in BIDI_CONTROLS and unicodedata.category(ch) not in ("Cc", "Cs", "Zl", "Zp")
    )
    name = Path(kept).name.strip()
    if name in {"", ".", ".."}:
        return "document"
    if len(name.encode()) > MAX_NAME_BYTES:
        suffix = Path(name).suffix
        suffix = suffix if len(suffix.encode()) <= 16 else ""
        stem = name[: len(name) - len(suffix)].encode()[: MAX_NAME_BYTES - len(suffix.encode())]
        name = stem.decode(errors="ignore").rstrip() + suffix
    return name


def unique_names(names: Sequence[str]) -> list[str]:
    """Each name cleaned (``clean_name``), the later of two alike numbered.

    >>> unique_names(["a/report.pdf", "report.pdf", "..", ""])
    ['report.pdf', 'report (2).pdf', 'document', 'document (2)']
    """
    out: list[str] = []
    for raw in names:
        name = clean_name(raw)
        stem, suffix = Path(name).stem, Path(name).suffix
        candidate, number = name, 1
        while candidate in out:
            number += 1
            candidate = f"{stem} ({number}){suffix}"
        out.append(candidate)
    return out


def accepted(path: Path, name: str, incoming: Path | None = None) -> Path:
    """``path`` when it is a regular file (not a folder, a link or a device) and, with
    ``incoming``, in a real folder of its own right inside ``incoming`` (as Gradio keeps
    each upload; ``incoming`` itself may be reached through a link); else
    ``UploadError``.

    A folder given as a file once made the server move other sessions' pending uploads
    and then delete them.
    """
    refused = UploadError(
        f"{clean_name(name)!r} is not a file uploaded to this server: upload it again"
    )
    path = Path(path)
    try:
        regular = stat.S_ISREG(os.lstat(path).st_mode)
        inside = incoming is None or (
            not path.parent.is_symlink()
            and path.parent.resolve(strict=True).parent == Path(incoming).resolve()
        )
    except (OSError, ValueError):  # missing, a NUL in the path, a loop of links
        raise refused from None
    if not (regular and inside):
        raise refused
    return path


def sweep_stale(root: Path | None = None) -> list[Path]:
    """Remove the upload folders in ``root`` (default: the system's temporary folder)
    that an earlier run left behind: ours (``FOLDER_PREFIX``), owned by this user, real
    folders (not links), and made by a process that is gone, or before folders were
    named by process. The folders removed.

    Run at start-up: a server killed (``kill -9``, a crash) never removed its own.
    """
    root = Path(root or tempfile.gettempdir())
    removed = []
    for folder in root.glob(FOLDER_PREFIX + "*"):
        try:
            status = os.lstat(folder)
        except OSError:
            continue
        if not stat.S_ISDIR(status.st_mode) or status.st_uid != os.getuid():
            continue
        if _running(_maker(folder.name)):
            continue
        shutil.rmtree(folder, ignore_errors=True)
        log.info("removed %s, left by an earlier run", folder)
        removed.append(folder)
    return removed


def _maker(name: str) -> int | None:
    """The process that made an upload folder, by its name (None: named before that)."""
    pid = name[len(FOLDER_PREFIX) :].split("-", 1)[0]
    return int(pid) if pid.isdigit() and "-" in name[len(FOLDER_PREFIX) :] else None


def _running(pid: int | None) -> bool:
    """Whether process ``pid`` runs (None: unknown, taken as gone)."""
    if pid is None:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's: running
        return True
    return True


def release(files: Sequence[tuple[Path, str]]) -> None:
    """Remove what is left of files handed to ``Uploads.add``: a regular file it did not
    move (it was refused), and the folder it came in once that is empty. Anything else
    (a folder, a link) is left alone."""
    for path, _ in files:
        try:
            if not stat.S_ISREG(os.lstat(path).st_mode):
                continue
            path.unlink()
        except (OSError, ValueError):  # gone already, or no path at all (a NUL in it)
            continue
        with contextlib.suppress(OSError):  # not empty (another session's copy?) or gone
            path.parent.rmdir()
