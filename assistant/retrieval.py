"""Hybrid retrieval: dense (multilingual-e5) + lexical (BM25) + views, language-centred (assistant/ranking.py).

The retriever keeps a snapshot of the collection (chunks, vectors, their views, BM25 index and
translation groups: assistant/snapshot.py) and rebuilds it when the store's generation counter
changes. Scoring the snapshot in numpy is exact and takes about a millisecond at help-centre scale
(tens of thousands of chunks), less than one Chroma round-trip, so a reply costs one query
embedding and no Chroma query; Chroma stays the store of record.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

import numpy as np

from assistant.config import Settings
from assistant.language import detect_language
from assistant.models import make_embeddings
from assistant.ranking import FusionParams, fuse
from assistant.snapshot import IndexSnapshot, ViewText
from assistant.store import VectorStore, open_store
from assistant.types import RetrievedChunk
from assistant.vectors import embed_query_vector, unit

logger = logging.getLogger(__name__)

# A translated article's section is taken for the customer's language when its vector is this close to
# the section that matched (translated sections score 0.80-0.92 with multilingual-e5-small).
SECTION_MATCH_MIN = 0.8

__all__ = ["FusionParams", "HybridRetriever", "IndexSnapshot", "RetrievalResult", "make_retriever"]


@dataclass(frozen=True, slots=True, eq=False)
class RetrievalResult:
    query: str
    language: str
    chunks: tuple[RetrievedChunk, ...]
    query_vector: np.ndarray = field(repr=False, default_factory=lambda: np.zeros(0, dtype=np.float32))
    # The question's rewrites that were searched too, by language (translate-then-search: assistant/multiquery.py).
    translations: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))


class HybridRetriever:
    """Dense + BM25 retrieval over one VectorStore's snapshot, rebuilt when the index changes."""

    def __init__(
        self,
        store: VectorStore,
        languages: tuple[str, ...],
        params: FusionParams | None = None,
        refresh_s: float = 2.0,
        **overrides: object,
    ) -> None:
        self.store = store
        self.embeddings = store.embeddings
        self.languages = languages
        self.params = FusionParams(**{**_asdict(params or FusionParams()), **overrides})
        self.refresh_s = refresh_s
        self._snapshot = IndexSnapshot()
        self._lock = threading.Lock()

    # ---- public -----------------------------------------------------------------------------

    def retrieve(
        self, query: str, k: int = 6, language: str | None = None, query_vector: np.ndarray | None = None,
        keep: np.ndarray | None = None,
    ) -> RetrievalResult:
        """The `k` best chunks for `query`; `keep` (a mask over the snapshot's rows) leaves chunks out."""
        lang = language or detect_language(query, self.languages)[0]
        vector = query_vector if query_vector is not None else self.embed_query(query)
        snap = self.snapshot()
        if not snap.chunks:
            return RetrievalResult(query=query, language=lang, chunks=(), query_vector=vector)
        vector = np.asarray(vector, dtype=np.float32)
        direction = unit(vector, np.float32)
        # einsum, not `@`: BLAS wakes its threads for this mat-vec, ~10 ms on a busy 2-core host.
        cosines = np.einsum("ij,j->i", snap.vectors, direction)
        qlang = snap.languages.index(lang) if lang in snap.languages else -1
        bm25 = snap.index.scores(query) if snap.index is not None else np.zeros_like(cosines)
        ceiling = snap.index.ceiling(query) if snap.index is not None else 0.0
        lexical = bm25 / ceiling if ceiling > 0 else np.zeros_like(cosines)
        ranking = fuse(cosines, lexical, snap.chunk_language, qlang, self.params, k,
                       views=snap.views, direction=direction, keep=keep)
        hits = tuple(
            RetrievedChunk(
                chunk=snap.chunks[i],
                score=float(s),
                dense_score=float(cosines[i]),
                lexical_score=float(bm25[i]) if lx else 0.0,
                dense_rank=int(d),
                lexical_rank=int(lx),
                evidence=snap.view_texts[e].text if e >= 0 else "",
                evidence_score=float(es),
            )
            for i, s, d, lx, e, es in zip(ranking.order, ranking.fused, ranking.dense_rank, ranking.lexical_rank,
                                          ranking.evidence, ranking.evidence_score, strict=True)
        )
        return RetrievalResult(query=query, language=lang, chunks=hits, query_vector=vector)

    def in_language(self, hit: RetrievedChunk, language: str, query_vector: np.ndarray) -> RetrievedChunk | None:
        """The same content as `hit` in `language`, if the help centre has it (assistant/translations.py).

        A FAQ row's linked translation; for an article, the section of its translation that best fits
        the question, provided it is close to `hit` itself (so a translation missing that section is
        not answered from a neighbouring one).
        """
        snap = self.snapshot()
        row = snap.positions.get(hit.chunk.chunk_id)
        if row is None or hit.chunk.language == language:
            return None
        faq_row = snap.groups[row] != snap.documents[row]
        key, keys = (snap.groups[row], snap.groups) if faq_row else (snap.documents[row], snap.documents)
        candidates = [i for i, k in enumerate(keys) if k == key and snap.chunks[i].language == language]
        if not candidates:
            return None
        direction = unit(query_vector, np.float32)
        best = max(candidates, key=lambda i: float(snap.vectors[i] @ direction))
        if not faq_row and float(snap.vectors[best] @ snap.vectors[row]) < SECTION_MATCH_MIN:
            return None
        return RetrievedChunk(chunk=snap.chunks[best], score=hit.score,
                              dense_score=float(snap.vectors[best] @ direction))

    def unit_scores(self, chunk_id: str, query_vector: np.ndarray) -> list[tuple[ViewText, float]]:
        """The chunk's views (sentences, FAQ question) with their cosine to the question; [] if unknown."""
        snap = self.snapshot()
        row = snap.positions.get(chunk_id)
        return [] if row is None else snap.unit_scores(row, unit(query_vector, np.float32))

    def embed_query(self, text: str) -> np.ndarray:
        return embed_query_vector(self.embeddings, text)

    def chunk_vector(self, chunk_id: str) -> np.ndarray | None:
        """The stored (unit) vector of an indexed chunk, or None if the current snapshot lacks it."""
        snap = self.snapshot()
        position = snap.positions.get(chunk_id)
        return None if position is None else snap.vectors[position]

    def indexed_languages(self) -> tuple[str, ...]:
        return self.snapshot().languages

    # ---- snapshot ---------------------------------------------------------------------------

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

    def snapshot(self) -> IndexSnapshot:
        """The current snapshot; checks the store's generation at most every `refresh_s` seconds."""
        with self._lock:
            now = time.monotonic()
            snap = self._snapshot
            # Changes made through this process's store are seen at once; other processes' within refresh_s.
            fresh = snap.generation == self.store.last_written_generation or self.store.last_written_generation < 0
            if snap.generation >= 0 and fresh and now - snap.checked_at < self.refresh_s:
                return snap
            generation = self.store.generation()
            if generation != snap.generation:
                self._snapshot = self._consistent_read(generation)
                logger.info("retrieval snapshot rebuilt: %d chunks, %d views, generation %s",
                            len(self._snapshot.chunks), len(self._snapshot.view_texts), self._snapshot.generation)
            else:
                snap.checked_at = now
            return self._snapshot


def _asdict(params: FusionParams) -> dict[str, object]:
    return {name: getattr(params, name) for name in FusionParams.__slots__}


def make_retriever(settings: Settings, store: VectorStore | None = None) -> HybridRetriever:
    """The retriever for the configured store (opens it when not given)."""
    if store is None:
        store = open_store(settings, make_embeddings(settings))
    return HybridRetriever(store, settings.languages)
