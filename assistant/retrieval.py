"""Hybrid retrieval: dense (multilingual-e5) + lexical (BM25) + views, language-centred (assistant/ranking.py).

The retriever answers from an index derived from one generation of the collection, of one of two kinds:
- snapshot mode (assistant/snapshot.py), up to KB_SNAPSHOT_MAX_CHUNKS chunks: every chunk, vector,
  view, the BM25 index and translation groups in memory, scored exactly in numpy; a reply costs one
  query embedding and no Chroma query;
- ANN mode (assistant/ann.py), above it: Chroma's HNSW index gives candidates, ranked the same way,
  with language centring from a fixed sample; memory stays small whatever the collection's size.
Both are rebuilt in the background when the store's generation changes and swapped in atomically
(assistant/refresh.py), so no reply waits for a rebuild. Chroma stays the store of record.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

import numpy as np

from assistant.ann import AnnIndex, IndexPolicy
from assistant.config import Settings
from assistant.language import detect_language
from assistant.models import make_embeddings
from assistant.ranking import FusionParams
from assistant.refresh import IndexHolder
from assistant.snapshot import IndexSnapshot, ViewText
from assistant.store import VectorStore, open_store
from assistant.types import RetrievedChunk
from assistant.vectors import embed_query_vector, unit

logger = logging.getLogger(__name__)

__all__ = ["AnnIndex", "FusionParams", "HybridRetriever", "IndexPolicy", "IndexSnapshot", "RetrievalResult",
           "make_retriever"]

Index = IndexSnapshot | AnnIndex


@dataclass(frozen=True, slots=True, eq=False)
class RetrievalResult:
    query: str
    language: str
    chunks: tuple[RetrievedChunk, ...]
    query_vector: np.ndarray = field(repr=False, default_factory=lambda: np.zeros(0, dtype=np.float32))
    # The question's rewrites that were searched too, by language (translate-then-search: assistant/multiquery.py).
    translations: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))


class HybridRetriever:
    """Dense + BM25 retrieval over one VectorStore, in snapshot or ANN mode by the collection's size."""

    def __init__(
        self,
        store: VectorStore,
        languages: tuple[str, ...],
        params: FusionParams | None = None,
        refresh_s: float = 2.0,
        policy: IndexPolicy | None = None,
        **overrides: object,
    ) -> None:
        self.store = store
        self.embeddings = store.embeddings
        self.languages = languages
        self.params = FusionParams(**{**_asdict(params or FusionParams()), **overrides})
        self.policy = policy or IndexPolicy()
        self._holder: IndexHolder[Index] = IndexHolder(store, self._build, refresh_s)

    @property
    def refresh_s(self) -> float:
        return self._holder.refresh_s

    @refresh_s.setter
    def refresh_s(self, seconds: float) -> None:
        self._holder.refresh_s = seconds

    @property
    def last_build_seconds(self) -> float:
        """How long the latest index build took."""
        return self._holder.last_build_seconds

    # ---- public -----------------------------------------------------------------------------

    def retrieve(
        self, query: str, k: int = 6, language: str | None = None, query_vector: np.ndarray | None = None,
        keep: np.ndarray | None = None, exclude: frozenset[str] = frozenset(),
    ) -> RetrievalResult:
        """The `k` best chunks for `query`; `exclude` leaves chunk ids out (`keep`, a mask over a
        snapshot's rows, works in snapshot mode only)."""
        lang = language or detect_language(query, self.languages)[0]
        vector = query_vector if query_vector is not None else self.embed_query(query)
        index = self.snapshot()
        direction = unit(np.asarray(vector, dtype=np.float32), np.float32)
        hits = index.search(query, direction, lang, self.params, k, keep=keep, exclude=exclude)
        return RetrievalResult(query=query, language=lang, chunks=hits, query_vector=vector)

    def in_language(self, hit: RetrievedChunk, language: str, query_vector: np.ndarray) -> RetrievedChunk | None:
        """The same content as `hit` in `language`, if the help centre has it (assistant/translations.py)."""
        return self.snapshot().in_language(hit, language, unit(query_vector, np.float32))

    def unit_scores(self, chunk_id: str, query_vector: np.ndarray) -> list[tuple[ViewText, float]]:
        """The chunk's views (sentences, FAQ question) with their cosine to the question; [] if unknown."""
        return self.snapshot().unit_scores(chunk_id, unit(query_vector, np.float32))

    def embed_query(self, text: str) -> np.ndarray:
        return embed_query_vector(self.embeddings, text)

    def chunk_vector(self, chunk_id: str) -> np.ndarray | None:
        """The stored (unit) vector of an indexed chunk, or None if the index lacks it."""
        return self.snapshot().chunk_vector(chunk_id)

    def indexed_languages(self) -> tuple[str, ...]:
        return self.snapshot().languages

    def snapshot(self) -> Index:
        """The index replies use now (never waits for a rebuild once one exists)."""
        return self._holder.current()

    def refresh(self) -> Index:
        """Check the store now and rebuild in this thread if it changed (the writer's side)."""
        return self._holder.refresh()

    # ---- building ---------------------------------------------------------------------------

    def _build(self, generation: int) -> Index:
        if self.store.count() > self.policy.snapshot_max_chunks:
            return AnnIndex.build(self.store, generation, self.languages, self.policy, self.store.calibration_json())
        return self._consistent_read(generation)

    def _consistent_read(self, generation: int, attempts: int = 3) -> IndexSnapshot:
        """Read the collection and its views; re-read if an ingest elsewhere changed it meanwhile."""
        for _ in range(attempts):
            chunks, vectors = self.store.chunks_with_vectors()
            view_rows, view_vectors = self.store.views_with_vectors()
            calibration = self.store.calibration_json()
            after = self.store.generation()
            if after == generation:
                break
            generation = after
        return IndexSnapshot.build(generation, chunks, vectors, view_rows, view_vectors, self.languages, calibration)


def _asdict(params: FusionParams) -> dict[str, object]:
    return {name: getattr(params, name) for name in FusionParams.__slots__}


def make_retriever(settings: Settings, store: VectorStore | None = None) -> HybridRetriever:
    """The retriever for the configured store (opens it when not given)."""
    if store is None:
        store = open_store(settings, make_embeddings(settings))
    return HybridRetriever(store, settings.languages, policy=IndexPolicy.from_settings(settings))
