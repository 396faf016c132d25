"""The Chroma collection: open it (embedded or server), check its embedding model, query it."""

from __future__ import annotations

import logging
import threading
import time
import weakref
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import numpy as np
from langchain_chroma import Chroma
from langchain_core.embeddings import Embeddings

from assistant import local_chroma
from assistant.config import Settings
from assistant.errors import IndexMismatchError, StoreUnavailableError
from assistant.models import embedding_model_id
from assistant.types import Chunk

logger = logging.getLogger(__name__)

MODEL_KEY = "embedding_model"
SERVER_TIMEOUT_S = 5.0  # a wedged Chroma server must not hang a customer's reply
GENERATION_KEY = "generation"
CALIBRATION_KEY = "calibration"  # this index's confidence calibration (assistant/calibration.py), as JSON
VIEWS_SUFFIX = "__views"  # the collection of each chunk's extra vectors (sentences, FAQ question)
UNAVAILABLE = "The knowledge base is not reachable right now; try again shortly."
T = TypeVar("T")


def make_chroma_client(settings: Settings):
    """A chromadb client for the configured mode; telemetry off (it would try the network)."""
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    chroma_settings = ChromaSettings(anonymized_telemetry=False, allow_reset=True)
    if settings.chroma_mode == "server":
        try:
            client = chromadb.HttpClient(
                host=settings.chroma_host, port=settings.chroma_port, settings=chroma_settings
            )
            _bound_http_timeout(client, SERVER_TIMEOUT_S)
            return client
        except Exception as exc:  # chromadb raises plain ValueError/ConnectionError here
            logger.warning("chroma server unreachable: %s", exc)
            raise StoreUnavailableError(
                f"Expected a Chroma server at {settings.chroma_host}:{settings.chroma_port}, "
                "but it did not answer; start it with `chroma run` or set KB_CHROMA_MODE=embedded."
            ) from exc
    settings.chroma_path.mkdir(parents=True, exist_ok=True)
    return chromadb.PersistentClient(path=str(settings.chroma_path), settings=chroma_settings)


def _bound_http_timeout(client, seconds: float) -> None:
    """chromadb 1.x builds its httpx session with timeout=None and offers no setting for it."""
    import httpx

    session = getattr(getattr(client, "_server", None), "_session", None)
    if isinstance(session, httpx.Client):
        session.timeout = httpx.Timeout(seconds, connect=min(seconds, 3.0))
    else:
        logger.warning("could not bound the Chroma HTTP timeout (chromadb internals changed)")


class VectorStore:
    """One Chroma collection holding the help-centre chunks and their vectors.

    Embedded mode shares the directory with other processes (`kb ingest` beside the app): reads
    follow their writes by reopening the client (see assistant/local_chroma.py), and a read that
    fails is retried once on a fresh client before the store is reported unavailable.
    """

    def __init__(self, settings: Settings, embeddings: Embeddings, client: Any | None = None) -> None:
        self.settings = settings
        self.embeddings = embeddings
        self.model_id = embedding_model_id(settings)
        self.embedded = settings.chroma_mode != "server"
        self._path = str(settings.chroma_path)
        self._reconnect_lock = threading.Lock()
        self.last_written_generation = -1  # set when this process changes the index
        self._listeners: list[weakref.WeakMethod] = []
        self._connect(client if client is not None else make_chroma_client(settings))
        if self.embedded:
            self.generation()  # a cached client that missed another process's writes is replaced now

    def _connect(self, client: Any) -> None:
        self.client = client
        self.collection = self._open_collection()
        self.views = self._open_views()
        # LangChain's view of the same collection, for the indexing API.
        self.langchain = Chroma(
            client=client, collection_name=self.settings.collection, embedding_function=self.embeddings
        )

    def langchain_with(self, embeddings: Embeddings) -> Chroma:
        """LangChain's view of the same collection with another embedder (the indexer's own)."""
        return Chroma(client=self.client, collection_name=self.settings.collection, embedding_function=embeddings)

    def _open_collection(self):
        try:
            collection = self.client.get_or_create_collection(
                name=self.settings.collection,
                metadata={"hnsw:space": "cosine", MODEL_KEY: self.model_id, GENERATION_KEY: 0},
                embedding_function=None,  # never Chroma's default embedder: it downloads a model
            )
        except Exception as exc:
            raise StoreUnavailableError(
                f"Expected to open the Chroma collection {self.settings.collection!r}, got: "
                f"{type(exc).__name__}; check that the store is running and reachable."
            ) from exc
        built_with = (collection.metadata or {}).get(MODEL_KEY)
        if built_with and built_with != self.model_id:
            raise IndexMismatchError(
                f"Expected an index built with {self.model_id}, but this one was built with "
                f"{built_with}; run `kb ingest --reset` to rebuild it with the configured model."
            )
        return collection

    def _open_views(self):
        """The views collection: per chunk, vectors of its sentences and FAQ question (kb_ingest/views.py)."""
        try:
            return self.client.get_or_create_collection(
                name=self.settings.collection + VIEWS_SUFFIX,
                metadata={"hnsw:space": "cosine", MODEL_KEY: self.model_id},
                embedding_function=None,
            )
        except Exception as exc:
            raise StoreUnavailableError(
                f"Expected to open the Chroma collection {self.settings.collection + VIEWS_SUFFIX!r}, got: "
                f"{type(exc).__name__}; check that the store is running and reachable."
            ) from exc

    def _reconnect(self, stale_client: Any) -> None:
        """Replace `stale_client` with a client on a System that has seen every write (embedded only)."""
        with self._reconnect_lock:
            if self.client is not stale_client:
                return  # another thread already did
            stale = local_chroma.system_token(stale_client)
            self._connect(local_chroma.fresh_client(self._path, lambda: make_chroma_client(self.settings), stale))

    def _read(self, operation: Callable[[], T]) -> T:
        """Run a read; in embedded mode retry it once on a fresh client before giving up."""
        client = self.client
        try:
            return operation()
        except Exception as exc:
            if not self.embedded:
                logger.warning("chroma read failed: %s", exc)
                raise StoreUnavailableError(UNAVAILABLE) from exc
            logger.warning("chroma read failed (%s: %s); reopening the client, retrying once", type(exc).__name__, exc)
        try:
            self._reconnect(client)
            return operation()
        except IndexMismatchError:
            raise
        except Exception as exc:
            logger.warning("chroma read failed again after reopening: %s", exc)
            raise StoreUnavailableError(UNAVAILABLE) from exc

    def generation(self) -> int:
        """A counter bumped after every change; caches derived from the index key on it.

        Embedded: when it moved without this process's System seeing the write, reopen first.
        """
        for _ in range(3):
            client = self.client
            value = self._read(self._stored_generation)
            if not self.embedded or local_chroma.in_step(self._path, client, self.settings.collection, value):
                return value
            self._reconnect(client)
        return value

    def _stored_generation(self) -> int:
        fresh = self.client.get_collection(self.settings.collection, embedding_function=None)
        return int((fresh.metadata or {}).get(GENERATION_KEY, 0))

    def bump_generation(self) -> None:
        metadata = dict(self.collection.metadata or {})
        metadata.pop("hnsw:space", None)  # Chroma refuses to change the distance function
        metadata[GENERATION_KEY] = int(time.time() * 1000)
        self.collection.modify(metadata=metadata)
        self.last_written_generation = metadata[GENERATION_KEY]
        local_chroma.wrote(self._path, self.client, self.settings.collection, metadata[GENERATION_KEY])
        self._notify(metadata[GENERATION_KEY])

    def subscribe(self, callback: Callable[[int], None]) -> None:
        """Call the bound method `callback(generation)` after this process changes the index (held weakly)."""
        self._listeners.append(weakref.WeakMethod(callback))

    def _notify(self, generation: int) -> None:
        self._listeners = [ref for ref in self._listeners if ref() is not None]
        for ref in list(self._listeners):
            callback = ref()
            if callback is not None:
                callback(generation)

    def calibration_json(self) -> str:
        """The calibration stored with the index ("" when there is none yet)."""
        fresh = self._read(lambda: self.client.get_collection(self.settings.collection, embedding_function=None))
        return str((fresh.metadata or {}).get(CALIBRATION_KEY, ""))

    def save_calibration(self, text: str) -> None:
        """Store the calibration with the index, so every replica reading it uses the same thresholds."""
        metadata = dict(self.collection.metadata or {})
        metadata.pop("hnsw:space", None)  # Chroma refuses to change the distance function
        metadata[CALIBRATION_KEY] = text
        self.collection.modify(metadata=metadata)

    def count(self) -> int:
        return self._read(lambda: self.collection.count())

    def query(
        self, vector: np.ndarray | Sequence[float], k: int, where: dict[str, Any] | None = None
    ) -> list[tuple[Chunk, float]]:
        """Nearest chunks by cosine similarity (1 - Chroma's cosine distance)."""
        n = self.count()
        if n == 0:
            return []
        result = self._read(
            lambda: self.collection.query(
                query_embeddings=[np.asarray(vector, dtype=np.float32).tolist()],
                n_results=min(k, n),
                where=where or None,
                include=["documents", "metadatas", "distances"],
            )
        )
        hits = []
        for cid, text, meta, dist in zip(
            result["ids"][0], result["documents"][0], result["metadatas"][0], result["distances"][0], strict=False
        ):
            hits.append((Chunk.from_metadata(cid, text or "", meta or {}), 1.0 - float(dist)))
        return hits

    def chunks_with_vectors(self, batch: int = 2000) -> tuple[list[Chunk], np.ndarray]:
        """Every chunk and its vector (rows in the same order), read page by page."""
        return self._read(lambda: self._read_all(batch))

    def _read_all(self, batch: int) -> tuple[list[Chunk], np.ndarray]:
        chunks: list[Chunk] = []
        vectors: list[np.ndarray] = []
        offset = 0
        while True:
            page = self.collection.get(include=["documents", "metadatas", "embeddings"], limit=batch, offset=offset)
            _append_page(page, chunks, vectors)
            if len(page["ids"]) < batch:
                break
            offset += batch
        matrix = np.vstack(vectors) if vectors else np.zeros((0, 0), dtype=np.float32)
        return chunks, matrix

    # ---- reads for retrieval without a snapshot (assistant/ann.py) ------------------------------

    def nearest(self, vector: np.ndarray, n: int) -> tuple[list[Chunk], np.ndarray]:
        """The `n` nearest chunks (HNSW) and their cosine similarity, in one Chroma query."""
        result = self._read(lambda: self.collection.query(
            query_embeddings=[np.asarray(vector, dtype=np.float32)], n_results=max(n, 1),
            include=["documents", "metadatas", "distances"]))
        chunks = [Chunk.from_metadata(cid, text or "", meta or {}) for cid, text, meta
                  in zip(result["ids"][0], result["documents"][0], result["metadatas"][0], strict=True)]
        return chunks, 1.0 - np.asarray(result["distances"][0], dtype=np.float32)

    def vectors_of(self, ids: Sequence[str]) -> dict[str, np.ndarray]:
        """Chunk id -> stored vector, for the ids that exist."""
        if not ids:
            return {}
        page = self._read(lambda: self.collection.get(ids=list(ids), include=["embeddings"]))
        return {cid: np.asarray(v, dtype=np.float32) for cid, v in zip(page["ids"], page["embeddings"], strict=True)}

    def views_of(self, view_ids: Sequence[str]) -> tuple[list[dict[str, Any]], np.ndarray]:
        """The views with these ids (missing ones skipped): rows as in `views_with_vectors`, and vectors."""
        if not view_ids:
            return [], np.zeros((0, 0), dtype=np.float32)
        page = self._read(lambda: self.views.get(ids=list(view_ids), include=["documents", "metadatas", "embeddings"]))
        rows = [{**(meta or {}), "text": text or ""} for text, meta in zip(page["documents"], page["metadatas"],
                                                                          strict=True)]
        return rows, np.asarray(page["embeddings"], dtype=np.float32) if rows else np.zeros((0, 0), np.float32)

    def sample(self, size: int, block: int = 250) -> tuple[list[Chunk], np.ndarray]:
        """About `size` chunks with vectors: blocks of `block` rows spread evenly over the collection
        (all of it when it is smaller), the same rows every time for the same content."""
        total = self.count()
        if total <= size:
            return self.chunks_with_vectors()
        block = max(1, min(block, size // 10))
        blocks = max(1, size // block)
        chunks: list[Chunk] = []
        vectors: list[np.ndarray] = []
        for number in range(blocks):
            offset = number * total // blocks
            page = self._read(lambda offset=offset: self.collection.get(
                include=["documents", "metadatas", "embeddings"], limit=block, offset=offset))
            _append_page(page, chunks, vectors)
        return chunks, np.vstack(vectors) if vectors else np.zeros((0, 0), dtype=np.float32)

    def chunks_where(self, where: dict[str, Any], limit: int | None = None) -> tuple[list[Chunk], np.ndarray]:
        """Chunks whose metadata match `where` (a Chroma filter; a scan on large collections), with vectors."""
        page = self._read(lambda: self.collection.get(where=where, limit=limit,
                                                      include=["documents", "metadatas", "embeddings"]))
        chunks: list[Chunk] = []
        vectors: list[np.ndarray] = []
        _append_page(page, chunks, vectors)
        return chunks, np.vstack(vectors) if vectors else np.zeros((0, 0), dtype=np.float32)

    def chunk_ids(self) -> set[str]:
        page = self._read(lambda: self.collection.get(include=[]))
        return set(page["ids"])

    def chunks_by_id(self, ids: Sequence[str]) -> list[Chunk]:
        page = self._read(lambda: self.collection.get(ids=list(ids), include=["documents", "metadatas"]))
        return [Chunk.from_metadata(cid, text or "", meta or {})
                for cid, text, meta in zip(page["ids"], page["documents"], page["metadatas"], strict=True)]

    def view_parents(self, version: int) -> dict[str, str]:
        """View id -> the chunk id it belongs to ("" for views built by another `version` of the views code)."""
        page = self._read(lambda: self.views.get(include=["metadatas"]))
        parents = {}
        for view_id, meta in zip(page["ids"], page["metadatas"], strict=True):
            meta = meta or {}
            parents[view_id] = str(meta.get("parent", "")) if meta.get("version") == version else ""
        return parents

    def views_with_vectors(self, batch: int = 5000) -> tuple[list[dict[str, Any]], np.ndarray]:
        """Every view's metadata (parent, kind, position, text) and its vector, rows in the same order."""
        return self._read(lambda: self._read_views(batch))

    def _read_views(self, batch: int) -> tuple[list[dict[str, Any]], np.ndarray]:
        rows: list[dict[str, Any]] = []
        vectors: list[np.ndarray] = []
        offset = 0
        while True:
            page = self.views.get(include=["documents", "metadatas", "embeddings"], limit=batch, offset=offset)
            for text, meta in zip(page["documents"], page["metadatas"], strict=True):
                rows.append({**(meta or {}), "text": text or ""})
            if len(page["ids"]):
                vectors.append(np.asarray(page["embeddings"], dtype=np.float32))
            if len(page["ids"]) < batch:
                break
            offset += batch
        return rows, (np.vstack(vectors) if vectors else np.zeros((0, 0), dtype=np.float32))

    def add_views(self, ids: Sequence[str], texts: Sequence[str], metadatas: Sequence[dict[str, Any]],
                  vectors: np.ndarray) -> None:
        if ids:
            self.views.upsert(ids=list(ids), documents=list(texts), metadatas=list(metadatas),
                              embeddings=np.asarray(vectors, dtype=np.float32).tolist())

    def delete_views(self, ids: Sequence[str]) -> None:
        if ids:
            self.views.delete(ids=list(ids))

    def metadatas(self) -> list[dict[str, Any]]:
        page = self._read(lambda: self.collection.get(include=["metadatas"]))
        return [dict(m or {}) for m in page["metadatas"]]

    def reset(self) -> None:
        """Drop and recreate the collection and its views (used by `kb ingest --reset`)."""
        for name in (self.settings.collection, self.settings.collection + VIEWS_SUFFIX):
            try:
                self.client.delete_collection(name)
            except Exception:
                logger.debug("collection %s did not exist", name)
        self._connect(self.client)
        local_chroma.wrote(self._path, self.client, self.settings.collection, 0)


def _append_page(page: dict[str, Any], chunks: list[Chunk], vectors: list[np.ndarray]) -> None:
    for cid, text, meta in zip(page["ids"], page["documents"], page["metadatas"], strict=False):
        chunks.append(Chunk.from_metadata(cid, text or "", meta or {}))
    if len(page["ids"]):
        vectors.append(np.asarray(page["embeddings"], dtype=np.float32))


def open_store(settings: Settings, embeddings: Embeddings, reset: bool = False) -> VectorStore:
    """Open the configured store; with `reset`, skip the model check and rebuild from empty."""
    if not reset:
        return VectorStore(settings, embeddings)
    client = make_chroma_client(settings)
    for name in (settings.collection, settings.collection + VIEWS_SUFFIX):
        try:
            client.delete_collection(name)
        except Exception:
            logger.debug("no collection %s to reset", name)
    return VectorStore(settings, embeddings, client=client)
