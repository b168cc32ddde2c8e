"""Documents uploaded to the web chat: each session's own, read and indexed apart.

A session's files are moved into a temporary folder of their own
(``cppqa-upload-*``, never ``corpus/``), read with ``cppqa.documents.formats``, indexed in
memory with the shipped QA's embedding model, and answered from by a ``QA`` that
shares its reader (the general one, when the shipped QA's is adapted to its corpus).
``Uploads`` holds at most ``Settings.max_upload_sessions`` of them, and at most
``MAX_PER_CLIENT`` for one client (an address); one unused for
``Settings.upload_idle_seconds`` is removed, and so is a session's when it ends
(``drop``) and every one when the server stops (``close``). Which files it takes and
how they are named is ``cppqa.uploads.files``' job (``accepted``, ``unique_names``).

>>> uploads = Uploads(qa)                                            # doctest: +SKIP
>>> mine = uploads.add("session-1", [(Path("/tmp/in/report.pdf"), "report.pdf")])  # doctest: +SKIP
>>> mine.ask("When was the plant opened?").sources[0].cite()        # doctest: +SKIP
'report.pdf, p. 12'
"""

from __future__ import annotations

import logging
import math
import os
import shutil
import tempfile
import threading
import time
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
from cppqa.uploads.files import FOLDER_PREFIX, accepted, unique_names

log = logging.getLogger(__name__)

#: Most sessions of one client (one address) whose uploads the server holds at once:
#: without it, one client's eight requests took every slot, renewably.
MAX_PER_CLIENT = 2


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


def _quiet(step: Step) -> None:
    """Progress told to no one."""
