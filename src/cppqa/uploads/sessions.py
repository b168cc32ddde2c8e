"""Documents uploaded to the web chat: each session's own, read and indexed apart.

A session's files are moved into a temporary folder of their own
(``cppqa-upload-*``, never ``corpus/``), read with ``cppqa.documents.formats``, indexed in
memory with the shipped QA's embedding model, and answered from by a ``QA`` that
shares its reader (the general one, when the shipped QA's is adapted to its corpus).
``Uploads`` holds at most ``Settings.max_upload_sessions`` of them, and at most
``MAX_PER_CLIENT`` for one client (an address); one unused for
``Settings.upload_idle_seconds`` is removed, and so is a session's when it ends
(``drop``) and every one when the server stops (``close``). Folders that an earlier run
left behind (it was killed) are removed at the next start (``sweep_stale``).

Only regular files reach an upload: never a folder, a link or a device, and, where
``incoming`` is given (the web app's upload folder), only a file in a folder of its
own there (``accepted``). File names are cleaned of control and bidirectional
characters before they are used or shown (``clean_name``).

>>> uploads = Uploads(qa)                                            # doctest: +SKIP
>>> mine = uploads.add("session-1", [(Path("/tmp/in/report.pdf"), "report.pdf")])  # doctest: +SKIP
>>> mine.ask("When was the plant opened?").sources[0].cite()        # doctest: +SKIP
'report.pdf, p. 12'
"""

from __future__ import annotations

import contextlib
import logging
import math
import os
import shutil
import stat
import tempfile
import threading
import time
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from cppqa.config import Settings, VectorBackend
from cppqa.documents.formats import read_document
from cppqa.errors import CorpusError, UploadError
from cppqa.qa import QA
from cppqa.reading.reader import Reader
from cppqa.records import Document
from cppqa.search.index import Index, fingerprint
from cppqa.search.progress import Progress, Stage, Step, pages_told

log = logging.getLogger(__name__)

#: The prefix of every upload's temporary folder; the process id follows it
#: (``cppqa-upload-1234-x7k2``), so that a later run knows whose it was.
FOLDER_PREFIX = "cppqa-upload-"
#: Most sessions of one client (one address) whose uploads the server holds at once:
#: without it, one client's eight requests took every slot, renewably.
MAX_PER_CLIENT = 2
#: Longest file name kept, in bytes of UTF-8 (file systems allow 255).
MAX_NAME_BYTES = 200
#: Characters that reorder or hide text (Unicode's bidirectional controls and marks):
#: "report\u202efdp.exe" shows as "reportexe.pdf".
BIDI_CONTROLS = frozenset(
    "\u061c\u200e\u200f"  # the Arabic letter mark, the left-to-right and right-to-left marks
    "\u202a\u202b\u202c\u202d\u202e"  # embeddings and overrides, and their end
    "\u2066\u2067\u2068\u2069"  # isolates, and their end
)


@dataclass(frozen=True)
class Upload:
    """One session's documents: the folder they were read from and the ``QA`` over them."""

    folder: Path
    qa: QA
    #: When it was last used, by ``Uploads``' clock.
    used: float
    #: Who sent it (an address; "" unknown).
    client: str = ""


class Uploads:
    """The upload indexes the server holds, one per session key, at most a set number,
    and at most ``per_client`` for one client.

    ``settings`` default to ``qa``'s; ``root`` is where the temporary folders go
    (default: the system's); ``incoming`` is the only folder files may come from (each
    in a folder of its own there; None: anywhere); ``clock`` measures idle time (tests
    pass their own).
    """

    def __init__(
        self,
        qa: QA,
        settings: Settings | None = None,
        *,
        root: Path | None = None,
        incoming: Path | None = None,
        per_client: int = MAX_PER_CLIENT,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.shipped = qa
        self.settings = settings or qa.settings
        self.per_client = per_client
        self._root = root
        self._incoming = incoming
        self._clock = clock
        self._held: dict[str, Upload] = {}
        self._building: dict[str, str] = {}  # key: client
        self._dropped: set[str] = set()  # ended while their files were being read
        self._lock = threading.Lock()
        self._general: Reader | None = None  # loaded when the shipped QA's is adapted

    def add(
        self,
        key: str,
        files: Sequence[tuple[Path, str]],
        progress: Progress | None = None,
        *,
        client: str = "",
    ) -> QA:
        """Read and index ``files`` (each a path and the name it was given) for ``key``,
        sent by ``client`` (an address; "" counts for no client).

        The files are moved into a new temporary folder. On success they replace what
        ``key`` held; on any failure the folder is removed and ``key`` holds what it
        held before. ``progress`` is told each file, each page of a PDF and each batch
        of texts embedded (``cppqa.search.progress.Step``). Raises ``CorpusError`` for a file
        that cannot be read (its message names the file as given) and ``UploadError``
        for a path that is no regular file uploaded here, when too many files are given,
        or when the server or the client holds its most (the message says when to try
        again).
        """
        settings = self.settings
        if not files:
            raise UploadError("no files were given: choose one or more documents")
        if len(files) > settings.max_upload_files:
            raise UploadError(
                f"{len(files)} files is more than the {settings.max_upload_files} one upload "
                "may hold (CPPQA_MAX_UPLOAD_FILES): upload fewer at a time"
            )
        for path, name in files:
            accepted(path, name, self._incoming)
        self.sweep()
        with self._lock:
            if key in self._building:
                raise UploadError("your earlier files are still being read: wait for them")
            self._refuse_when_full(key, client)
            self._building[key] = client
            self._dropped.discard(key)
        folder = Path(tempfile.mkdtemp(prefix=f"{FOLDER_PREFIX}{os.getpid()}-", dir=self._root))
        try:
            qa = self._build(folder, files, progress or _quiet)
        except BaseException:
            shutil.rmtree(folder, ignore_errors=True)
            with self._lock:
                self._building.pop(key, None)
                self._dropped.discard(key)
            raise
        with self._lock:
            self._building.pop(key, None)
            if key in self._dropped:  # the session ended while its files were read
                self._dropped.discard(key)
                old, kept = None, False
            else:
                old, kept = self._held.get(key), True
                self._held[key] = Upload(folder, qa, self._clock(), client)
        if old is not None:
            shutil.rmtree(old.folder, ignore_errors=True)
        if not kept:
            shutil.rmtree(folder, ignore_errors=True)
        log.info("session upload: %d document(s) in %s", len(qa.index.documents), folder)
        return qa

    def _refuse_when_full(self, key: str, client: str) -> None:
        """Raise ``UploadError`` when the server, or ``client``, holds its most uploads
        besides ``key``'s own; the message says when one is freed at the latest. Called
        with the lock held."""
        others = {k: c for k, c in self._building.items() if k != key}
        others.update({k: u.client for k, u in self._held.items() if k != key})
        theirs = [k for k, c in others.items() if client and c == client]
        if len(theirs) >= self.per_client:
            raise UploadError(
                f"you already have documents open in {len(theirs)} other tabs or sessions, "
                f"the most one client may: {self._retry(theirs)}, or close one of them"
            )
        if len(others) >= self.settings.max_upload_sessions:
            raise UploadError(
                f"the server is holding the documents of {len(others)} other sessions, its "
                f"most (CPPQA_MAX_UPLOAD_SESSIONS): {self._retry(list(others))}"
            )

    def _retry(self, keys: Sequence[str]) -> str:
        """When to try again: when the first of ``keys``' uploads can have been unused
        for ``upload_idle_seconds`` and removed (a few minutes, when all are being read)."""
        now = self._clock()
        idle = self.settings.upload_idle_seconds
        left = [self._held[k].used + idle - now for k in keys if k in self._held]
        if not left:
            return "try again in a few minutes"
        minutes = max(math.ceil(min(left) / 60), 1)
        return f"try again in {minutes} minute{'' if minutes == 1 else 's'}"

    def keep(self, key: str, names: Sequence[str]) -> QA | None:
        """Answer for ``key`` from only its documents named ``names`` (re-indexed);
        when none is left, drop them all and return None."""
        with self._lock:
            upload = self._held.get(key)
        if upload is None:
            return None
        documents = [d for d in upload.qa.index.documents if d.doc in names]
        if not documents:
            self.drop(key)
            return None
        if len(documents) == len(upload.qa.index.documents):
            return self.get(key)
        for gone in upload.qa.index.documents:
            if gone.doc not in names:
                (upload.folder / gone.doc).unlink(missing_ok=True)
        qa = self._indexed(upload.folder, documents)
        with self._lock:
            if key in self._held:
                self._held[key] = Upload(upload.folder, qa, self._clock(), upload.client)
        return qa

    def get(self, key: str) -> QA | None:
        """The ``QA`` over ``key``'s documents (and note the use), or None: never
        uploaded, dropped, or removed after being idle."""
        self.sweep()
        with self._lock:
            upload = self._held.get(key)
            if upload is None:
                return None
            self._held[key] = replace(upload, used=self._clock())
            return upload.qa

    def drop(self, key: str) -> None:
        """Forget ``key``'s documents and remove their folder (a session ended)."""
        with self._lock:
            upload = self._held.pop(key, None)
            if key in self._building:
                self._dropped.add(key)
        if upload is not None:
            shutil.rmtree(upload.folder, ignore_errors=True)

    def sweep(self) -> list[str]:
        """Drop every upload unused for ``upload_idle_seconds``; their keys."""
        now = self._clock()
        idle = self.settings.upload_idle_seconds
        with self._lock:
            gone = [key for key, upload in self._held.items() if now - upload.used > idle]
        for key in gone:
            log.info("session upload %s removed after %.0f s unused", key[:8], idle)
            self.drop(key)
        return gone

    def sweep_every(self, seconds: float) -> threading.Event:
        """Sweep in a background thread every ``seconds`` until the returned event is set."""
        stop = threading.Event()

        def run() -> None:
            while not stop.wait(seconds):
                self.sweep()

        threading.Thread(target=run, name="cppqa-upload-sweep", daemon=True).start()
        return stop

    def close(self) -> None:
        """Drop every upload (the server stops)."""
        with self._lock:
            keys = list(self._held)
        for key in keys:
            self.drop(key)

    def __len__(self) -> int:
        with self._lock:
            return len(self._held)

    def _build(self, folder: Path, files: Sequence[tuple[Path, str]], told: Progress) -> QA:
        """Move ``files`` into ``folder``, read and index them, telling ``told`` each file,
        each page of a PDF and each batch embedded."""
        names = unique_names([name for _, name in files])
        documents = []
        for n, ((path, _), name) in enumerate(zip(files, names, strict=True)):
            told(Step(Stage.READING, n, len(files), "files"))
            target = folder / name
            try:
                shutil.move(path, target)
            except OSError as exc:
                raise CorpusError(
                    f"{name!r} did not arrive ({exc.strerror or exc}): upload it again"
                ) from None
            pages = pages_told(told)
            documents.append(
                read_document(target, folder, self.settings, shown=name, progress=pages)
            )
        told(Step(Stage.READING, len(files), len(files), "files"))
        return self._indexed(folder, documents, told)

    def _indexed(
        self, folder: Path, documents: Sequence[Document], told: Progress | None = None
    ) -> QA:
        """A ``QA`` over ``documents`` with the shipped model and reader (the general
        one, when the shipped QA reads with one adapted to its own corpus); ``told`` is
        told each batch embedded."""
        # In memory, whatever the shipped index uses: nothing of an upload goes to Milvus.
        settings = replace(
            self.settings, corpus_dir=folder, vector_store=VectorBackend.FAISS, milvus_uri=None
        )
        embedder = self.shipped.retriever.embedder
        index = Index.build(settings, embedder, documents=documents, steps=told)
        return QA(index, embedder, settings, self._reader_for(fingerprint(index.documents)))

    def _reader_for(self, corpus: str) -> Reader:
        """The shipped QA's reader, unless it was adapted to another corpus than
        ``corpus``: then the general reader, loaded once."""
        reader = self.shipped.reader
        if reader.adapted_to in ("", corpus):
            return reader
        if self._general is None:  # loaded outside the lock: other sessions go on meanwhile
            general = Reader.load()
            with self._lock:
                self._general = self._general or general
        return self._general


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


def _quiet(step: Step) -> None:
    """Progress told to no one."""
