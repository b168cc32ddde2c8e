"""Vectors in Milvus: a server or cluster, or Milvus Lite in a local file; the only module
that imports pymilvus (lazily, from the ``milvus`` extra).

A store is one collection: ``id`` (int64, the row in the index records) and
``vector`` (a unit float vector, searched by inner product, as ``FaissStore``).
Small collections are searched exactly (``FLAT``); from ``dense.EXACT_LIMIT``
vectors on, with HNSW.

A build writes new collections, named after the corpus and model hashes and a
build stamp, then ``publish`` points the aliases ``<prefix>_sentences`` and
``<prefix>_chunks`` at them, the way the FAISS build swaps folders; a build
killed before that leaves the old collections serving. A loaded index searches
the collection its manifest names, never the alias, so a rebuild never changes
the ids under a running reader; ``publish`` keeps the previous generation for
such readers and drops older ones (and leftovers of killed builds).

>>> public_uri("https://user:secret@milvus.example:19530")
'https://milvus.example:19530'
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cppqa.errors import IndexStateError
from cppqa.search.dense import EXACT_LIMIT, VectorStoreError

if TYPE_CHECKING:
    from collections.abc import Iterator

    import numpy as np

log = logging.getLogger(__name__)

#: The environment variable a server's token (``user:password`` or an API key) is read from.
TOKEN_ENV = "CPPQA_MILVUS_TOKEN"
#: Rows per insert call: 5,000 × 384 float32 is ~8 MB, well under gRPC's 64 MB message cap.
INSERT_BATCH = 5_000
#: HNSW graph degree and build-time beam (Milvus's documented defaults are M 8-64,
#: efConstruction 8-512; 16/200 is the usual recall/size balance, Malkov & Yashunin 2018).
HNSW_M, HNSW_EF_CONSTRUCTION = 16, 200
#: Search-time beam; at least k. 128 keeps recall@10 ≈ 0.99 on the scale benchmark.
HNSW_EF = 128


def is_lite(uri: str) -> bool:
    """A local file path (pymilvus runs Milvus Lite in this process) rather than a server."""
    return "://" not in uri


def public_uri(uri: str) -> str:
    """The URI without credentials, as the manifest records it; Lite paths made absolute."""
    if is_lite(uri):
        return os.path.abspath(os.path.expanduser(uri))
    scheme, _, rest = uri.partition("://")
    host, sep, path = rest.partition("/")
    return f"{scheme}://{host.rpartition('@')[2]}{sep}{path}"


def connect(uri: str, timeout: float) -> Any:
    """A ``MilvusClient`` for ``uri``, failing within ``timeout`` seconds with a clear error.

    A server's credentials come from the URI (``https://user:password@host``) or
    from ``CPPQA_MILVUS_TOKEN``.
    """
    try:
        from pymilvus import MilvusClient
        from pymilvus.exceptions import MilvusException
    except ImportError:
        raise VectorStoreError(
            "CPPQA_VECTOR_STORE=milvus needs pymilvus and milvus-lite: pip install 'cppqa[milvus]'"
        ) from None
    # pymilvus logs every failed call with a traceback; each reaches the user once,
    # as the VectorStoreError raised here, so its own log would say it twice.
    logging.getLogger("pymilvus").setLevel(logging.CRITICAL)
    where = public_uri(uri)
    if is_lite(uri):
        # Milvus Lite serves gRPC in this process and logs a traceback for each call
        # it does not implement (pymilvus's AllocTimestamp after create_collection),
        # which pymilvus then handles.
        logging.getLogger("grpc._server").setLevel(logging.CRITICAL)
        uri = where
        if not Path(uri).parent.is_dir():
            raise VectorStoreError(
                f"CPPQA_MILVUS_URI={where!r}: folder {str(Path(uri).parent)!r} does not exist"
            )
    try:
        return MilvusClient(uri=uri, token=os.environ.get(TOKEN_ENV, ""), timeout=timeout)
    except MilvusException as exc:
        if is_lite(uri):
            raise VectorStoreError(
                f"cannot open Milvus Lite file {where!r} ({_reason(exc)}); Milvus Lite lets "
                "one process at a time open a file: stop the other one, or use a Milvus server"
            ) from None
        raise VectorStoreError(
            f"cannot reach Milvus at {where} within {timeout:g} s ({_reason(exc)}); check "
            f"CPPQA_MILVUS_URI, {TOKEN_ENV} and that the server is up"
        ) from None


def close(client: Any, uri: str) -> None:
    """Close ``client``; for Milvus Lite also stop its in-process server, freeing the file
    for another process (Lite lets one process at a time open it)."""
    client.close()
    if is_lite(uri):
        from milvus_lite.server_manager import server_manager_instance

        server_manager_instance.release_server(public_uri(uri))


class MilvusStore:
    """Inner-product search over normalised vectors in one Milvus collection.

    >>> store = MilvusStore.build(connect("vectors.db", 10), "demo_1", vectors)  # doctest: +SKIP
    >>> scores, ids = store.search(vectors[:1], 10)                             # doctest: +SKIP
    """

    def __init__(
        self, client: Any, collection: str, count: int, dimension: int, index: str, timeout: float
    ) -> None:
        self._client = client
        self.collection = collection
        self._count = count
        self.dimension = dimension
        self.index = index
        self.timeout = timeout

    @property
    def kind(self) -> str:
        return f"Milvus {self.index}"

    @classmethod
    def build(
        cls, client: Any, collection: str, vectors: np.ndarray, *, timeout: float = 10.0
    ) -> MilvusStore:
        """A new collection ``collection`` holding ``vectors`` (row i has id i), loaded."""
        from pymilvus import DataType, MilvusClient

        n, dimension = vectors.shape
        index = "FLAT" if n < EXACT_LIMIT else "HNSW"
        with _errors(f"building collection {collection!r}"):
            if client.has_collection(collection, timeout=timeout):
                client.drop_collection(collection, timeout=timeout)  # a killed build's leftover
            schema = MilvusClient.create_schema(auto_id=False, enable_dynamic_field=False)
            schema.add_field("id", DataType.INT64, is_primary=True)
            schema.add_field("vector", DataType.FLOAT_VECTOR, dim=int(dimension))
            params = client.prepare_index_params()
            extra = {"M": HNSW_M, "efConstruction": HNSW_EF_CONSTRUCTION} if index == "HNSW" else {}
            params.add_index(field_name="vector", index_type=index, metric_type="IP", params=extra)
            client.create_collection(
                collection, schema=schema, index_params=params, timeout=timeout
            )
            for start in range(0, n, INSERT_BATCH):
                rows = vectors[start : start + INSERT_BATCH].tolist()
                client.insert(
                    collection,
                    [{"id": start + i, "vector": v} for i, v in enumerate(rows)],
                    timeout=timeout,
                )
            client.flush(collection, timeout=timeout)
            client.load_collection(collection, timeout=timeout)
        return cls(client, collection, n, int(dimension), index, timeout)

    @classmethod
    def load(cls, path: Path, client: Any, *, timeout: float = 10.0) -> MilvusStore:
        """The collection that ``save`` described in ``path``, checked against it."""
        try:
            about = json.loads(Path(path).read_text(encoding="utf-8"))
            collection, count = str(about["collection"]), int(about["count"])
            dimension, index = int(about["dimension"]), str(about["index"])
        except (OSError, ValueError, TypeError, KeyError) as exc:
            raise IndexStateError(
                f"Milvus store file {Path(path).name} is damaged ({exc!r})"
            ) from None
        with _errors(f"opening collection {collection!r}"):
            if not client.has_collection(collection, timeout=timeout):
                raise IndexStateError(f"Milvus collection {collection!r} is missing")
            client.load_collection(collection, timeout=timeout)
            store = cls(client, collection, count, dimension, index, timeout)
            found = store.count()
        if found != count:
            raise IndexStateError(
                f"Milvus collection {collection!r} holds {found} vectors, the index {count}"
            )
        return store

    def save(self, path: Path) -> None:
        """Write where the vectors are (the collection; never credentials)."""
        about = {
            "collection": self.collection,
            "count": self._count,
            "dimension": self.dimension,
            "index": self.index,
        }
        Path(path).write_text(json.dumps(about, indent=1) + "\n", encoding="utf-8")

    def count(self) -> int:
        """The vectors the collection holds now (asked of Milvus, not remembered)."""
        rows = self._client.query(
            self.collection, filter="", output_fields=["count(*)"], timeout=self.timeout
        )
        return int(rows[0]["count(*)"])

    def search(self, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Scores and ids of the ``k`` nearest vectors per query row, as ``FaissStore``.

        Rows with fewer than ``k`` hits are padded with id -1 and score -FLT_MAX.
        """
        import numpy as np

        k = min(k, self._count)
        scores = np.full((len(queries), k), np.finfo(np.float32).min, dtype=np.float32)
        ids = np.full((len(queries), k), -1, dtype=np.int64)
        if k == 0:
            return scores, ids
        params: dict[str, Any] = {"metric_type": "IP"}
        if self.index == "HNSW":
            params["params"] = {"ef": max(HNSW_EF, k)}
        with _errors(f"searching collection {self.collection!r}"):
            found = self._client.search(
                self.collection,
                data=np.asarray(queries, dtype=np.float32).tolist(),
                limit=k,
                search_params=params,
                output_fields=["id"],
                timeout=self.timeout,
            )
        for row, hits in enumerate(found):
            for col, hit in enumerate(hits[:k]):
                ids[row, col] = int(hit["id"])
                scores[row, col] = float(hit["distance"])
        return scores, ids

    def __len__(self) -> int:
        return self._count


def collection_name(alias: str, digest: str) -> str:
    """A new collection for ``alias``: its hashes ``digest``, then a millisecond stamp."""
    return f"{alias}_{digest[:16]}_{time.time_ns() // 1_000_000:x}"


def publish(store: MilvusStore, alias: str) -> str | None:
    """Point ``alias`` at ``store``'s collection; drop all of the alias's older collections
    but the one it pointed at before (readers loaded before may still use it).

    Returns that previous collection, or None.
    """
    client, timeout = store._client, store.timeout
    with _errors(f"switching alias {alias!r}"):
        previous = serving(client, alias, timeout)
        if previous is None:
            client.create_alias(store.collection, alias, timeout=timeout)
        elif previous != store.collection:
            client.alter_alias(store.collection, alias, timeout=timeout)
        keep = {store.collection, previous}
        for name in client.list_collections(timeout=timeout):
            if name.startswith(f"{alias}_") and name not in keep:
                log.info("dropping Milvus collection %s (superseded)", name)
                client.drop_collection(name, timeout=timeout)
    return previous


def serving(client: Any, alias: str, timeout: float = 10.0) -> str | None:
    """The collection ``alias`` points at, or None when there is no such alias."""
    from pymilvus.exceptions import MilvusException

    try:
        return str(client.describe_alias(alias, timeout=timeout)["collection_name"])
    except MilvusException as exc:
        reason = _reason(exc).lower()
        if "not exist" in reason or "not found" in reason:
            return None
        raise


@contextlib.contextmanager
def _errors(doing: str) -> Iterator[None]:
    """Turn pymilvus's exceptions into ``VectorStoreError`` saying what was being done."""
    from pymilvus.exceptions import MilvusException

    try:
        yield
    except MilvusException as exc:
        raise VectorStoreError(f"Milvus failed {doing}: {_reason(exc)}") from None


def _reason(exc: Any) -> str:
    return str(getattr(exc, "message", "") or exc)
