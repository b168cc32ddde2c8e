"""Putting a built index in place without a moment where none is there: the previous
folder renamed aside under a lock, the new one renamed in, and after a crash the
interrupted swap finished or undone and dead builds' leftovers removed."""

from __future__ import annotations

import contextlib
import os
import shutil
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Iterator


def recover(folder: Path) -> None:
    """Finish a swap that a crash interrupted: restore or drop the previous index.

    Waits for a swap in progress in another process, so that its state between
    two renames is never taken for a crashed one.
    """
    old = aside(folder)
    if old.exists():
        with swap_lock(folder):
            if folder.exists():
                shutil.rmtree(old, ignore_errors=True)
            elif old.exists():
                old.rename(folder)
    # Half-written folders of builds that were killed (their process is gone).
    for tmp in folder.parent.glob(f"{folder.name}.tmp-*"):
        pid = tmp.name.rpartition("-")[2]
        if pid.isdigit() and not alive(int(pid)):
            shutil.rmtree(tmp, ignore_errors=True)


@contextlib.contextmanager
def swap_lock(folder: Path) -> Iterator[None]:
    """An exclusive lock (``flock`` on the parent folder) held while the index is renamed."""
    import fcntl

    folder.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(folder.parent, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing releases the lock


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True  # exists, owned by someone else
    return True


def aside(folder: Path) -> Path:
    return folder.with_name(f"{folder.name}.old")
