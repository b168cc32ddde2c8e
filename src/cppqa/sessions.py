"""Documents uploaded to the web chat: each session's own, read and indexed apart.

A session's files are moved into a temporary folder of their own
(``cppqa-upload-*``, never ``corpus/``), read with ``cppqa.documents``, indexed in
memory with the shipped QA's embedding model, and answered from by a ``QA`` that
shares its reader (the general one, when the shipped QA's is adapted to its corpus).
``Uploads`` holds at most ``Settings.max_upload_sessions`` of them; one unused for
``Settings.upload_idle_seconds`` is removed, and so is a session's when it ends
(``drop``) and every one when the server stops (``close``).

>>> uploads = Uploads(qa)                                            # doctest: +SKIP
>>> mine = uploads.add("session-1", [(Path("/tmp/in/report.pdf"), "report.pdf")])  # doctest: +SKIP
>>> mine.ask("When was the plant opened?").sources[0].cite()        # doctest: +SKIP
'report.pdf, p. 12'
"""

from __future__ import annotations

import contextlib
import logging
import shutil
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from cppqa.config import Settings, VectorBackend
from cppqa.documents import read_document
from cppqa.errors import CorpusError, UploadError
from cppqa.index import Index, fingerprint
from cppqa.qa import QA
from cppqa.reader import Reader
from cppqa.records import Document

log = logging.getLogger(__name__)

#: Told while files are read and indexed: the share done (0 to 1) and what is being done.
Progress = Callable[[float, str], None]
#: The prefix of every upload's temporary folder.
FOLDER_PREFIX = "cppqa-upload-"


@dataclass(frozen=True)
class Upload:
    """One session's documents: the folder they were read from and the ``QA`` over them."""

    folder: Path
    qa: QA
    #: When it was last used, by ``Uploads``' clock.
    used: float


class Uploads:
    """The upload indexes the server holds, one per session key, at most a set number.

    ``settings`` default to ``qa``'s; ``root`` is where the temporary folders go
    (default: the system's); ``clock`` measures idle time (tests pass their own).
    """

    def __init__(
        self,
        qa: QA,
        settings: Settings | None = None,
        *,
        root: Path | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.shipped = qa
        self.settings = settings or qa.settings
        self._root = root
        self._clock = clock
        self._held: dict[str, Upload] = {}
        self._building: set[str] = set()
        self._dropped: set[str] = set()  # ended while their files were being read
        self._lock = threading.Lock()
        self._general: Reader | None = None  # loaded when the shipped QA's is adapted

    def add(
        self, key: str, files: Sequence[tuple[Path, str]], progress: Progress | None = None
    ) -> QA:
        """Read and index ``files`` (each a path and the name it was given) for ``key``.

        The files are moved into a new temporary folder. On success they replace what
        ``key`` held; on any failure the folder is removed and ``key`` holds what it
        held before. Raises ``CorpusError`` for a file that cannot be read (its message
        names the file as given) and ``UploadError`` when too many files are given or
        the server holds its most.
        """
        settings = self.settings
        if not files:
            raise UploadError("no files were given: choose one or more documents")
        if len(files) > settings.max_upload_files:
            raise UploadError(
                f"{len(files)} files is more than the {settings.max_upload_files} one upload "
                "may hold (CPPQA_MAX_UPLOAD_FILES): upload fewer at a time"
            )
        self.sweep()
        with self._lock:
            if key in self._building:
                raise UploadError("your earlier files are still being read: wait for them")
            others = len(self._building) + sum(1 for held in self._held if held != key)
            if others >= settings.max_upload_sessions:
                raise UploadError(
                    f"the server is holding the documents of {others} other sessions, its "
                    "most (CPPQA_MAX_UPLOAD_SESSIONS): try again in a few minutes, when one "
                    "has ended"
                )
            self._building.add(key)
            self._dropped.discard(key)
        folder = Path(tempfile.mkdtemp(prefix=FOLDER_PREFIX, dir=self._root))
        try:
            qa = self._build(folder, files, progress or _quiet)
        except BaseException:
            shutil.rmtree(folder, ignore_errors=True)
            with self._lock:
                self._building.discard(key)
                self._dropped.discard(key)
            raise
        with self._lock:
            self._building.discard(key)
            if key in self._dropped:  # the session ended while its files were read
                self._dropped.discard(key)
                old, kept = None, False
            else:
                old, kept = self._held.get(key), True
                self._held[key] = Upload(folder, qa, self._clock())
        if old is not None:
            shutil.rmtree(old.folder, ignore_errors=True)
        if not kept:
            shutil.rmtree(folder, ignore_errors=True)
        log.info("session upload: %d document(s) in %s", len(qa.index.documents), folder)
        return qa

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
                self._held[key] = Upload(upload.folder, qa, self._clock())
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

    def _build(self, folder: Path, files: Sequence[tuple[Path, str]], progress: Progress) -> QA:
        names = unique_names([name for _, name in files])
        steps = len(files) + 1
        documents = []
        for n, ((path, _), name) in enumerate(zip(files, names, strict=True)):
            progress(n / steps, f"Reading {name}")
            target = folder / name
            try:
                shutil.move(path, target)
            except OSError as exc:
                raise CorpusError(
                    f"{name!r} did not arrive ({exc.strerror or exc}): upload it again"
                ) from None
            documents.append(read_document(target, folder, self.settings, shown=name))
        progress(len(files) / steps, f"Indexing {', '.join(names)}")
        return self._indexed(folder, documents)

    def _indexed(self, folder: Path, documents: Sequence[Document]) -> QA:
        """A ``QA`` over ``documents`` with the shipped model and reader (the general
        one, when the shipped QA reads with one adapted to its own corpus)."""
        # In memory, whatever the shipped index uses: nothing of an upload goes to Milvus.
        settings = replace(
            self.settings, corpus_dir=folder, vector_store=VectorBackend.FAISS, milvus_uri=None
        )
        embedder = self.shipped.retriever.embedder
        index = Index.build(settings, embedder, documents=documents)
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


def unique_names(names: Sequence[str]) -> list[str]:
    """Each name as a plain file name (no folders), the later of two alike numbered.

    >>> unique_names(["a/report.pdf", "report.pdf", "..", ""])
    ['report.pdf', 'report (2).pdf', 'document', 'document (2)']
    """
    out: list[str] = []
    for raw in names:
        name = Path(raw.replace("\\", "/")).name.strip()
        if name in {"", ".", ".."}:
            name = "document"
        stem, suffix = Path(name).stem, Path(name).suffix
        candidate, number = name, 1
        while candidate in out:
            number += 1
            candidate = f"{stem} ({number}){suffix}"
        out.append(candidate)
    return out


def release(files: Sequence[tuple[Path, str]]) -> None:
    """Remove what is left of files handed to ``Uploads.add``: a file it did not move
    (it was refused), and the folder it came in once that is empty."""
    for path, _ in files:
        path.unlink(missing_ok=True)
        with contextlib.suppress(OSError):  # not empty (another session's copy?) or gone
            path.parent.rmdir()


def _quiet(share: float, what: str) -> None:
    """Progress told to no one."""
