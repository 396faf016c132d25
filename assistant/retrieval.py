"""Hybrid retrieval: dense (multilingual-e5) + lexical (BM25), language-aware, fused by score.

multilingual-e5 prefers a passage in the question's language even when it is on the wrong topic
(see docs/evaluation/retrieval.md for the measurement). Each cosine is therefore corrected by the
question's affinity to the passage's language: the dot product of the question with that
language's direction (assistant/language_directions.py, from parallel anchor sentences). A small
same-language bonus then orders a passage and its translation by the customer's language. BM25
supplies exact-term matches and, across languages, shared names and numbers. The fused score is

    cosine - (language affinity of the passage - that of the question's own language)
           - same_language_margin (if same language) + weight x BM25 / BM25 ceiling,

so it stays on the cosine scale (about 0.7-1.0); see FusionParams for the tuned values.

The retriever keeps a snapshot of the collection (chunks, vectors, BM25 index) and rebuilds it
when the store's generation counter changes. Scoring the snapshot in numpy is exact and takes
about a millisecond at help-centre scale (tens of thousands of chunks), less than one Chroma
round-trip, so a reply costs one query embedding and no Chroma query; Chroma stays the store of
record.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field

import numpy as np
from langchain_core.embeddings import Embeddings

from assistant.config import Settings
from assistant.language import detect_language
from assistant.language_directions import direction_matrix
from assistant.lexical import BM25Index
from assistant.models import make_embeddings
from assistant.store import VectorStore, open_store
from assistant.types import Chunk, RetrievedChunk
from assistant.vectors import embed_query_vector, unit, unit_rows

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class FusionParams:
    """The knobs of the fused score (tuned on the dev split; see docs/evaluation/retrieval.md)."""

    centre_strength: float = 1.0        # share of the question's language affinity removed from cosines
    same_language_margin: float = -0.02  # subtracted from same-language cosines: negative = a bonus
    lexical_weight: float = 0.1         # weight of BM25 (as a share of its ceiling) in the question's language
    cross_lexical_weight: float = 0.05  # ... and in other languages (names and numbers)
    lexical_floor: float = 0.0          # BM25 share below which a lexical match is ignored


@dataclass(frozen=True, slots=True, eq=False)
class RetrievalResult:
    query: str
    language: str
    chunks: tuple[RetrievedChunk, ...]
    query_vector: np.ndarray = field(repr=False, default_factory=lambda: np.zeros(0, dtype=np.float32))


@dataclass(slots=True)
class IndexSnapshot:
    """Everything derived from one generation of the collection."""

    generation: int = -1
    checked_at: float = 0.0
    chunks: list[Chunk] = field(default_factory=list)
    vectors: np.ndarray = field(default_factory=lambda: np.zeros((0, 0), dtype=np.float32))
    languages: tuple[str, ...] = ()
    chunk_language: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int32))
    directions: np.ndarray = field(default_factory=lambda: np.zeros((0, 0), dtype=np.float32))
    index: BM25Index | None = None
    positions: dict[str, int] = field(default_factory=dict)   # chunk id -> row of `vectors`

    @classmethod
    def build(
        cls, generation: int, chunks: list[Chunk], vectors: np.ndarray, embeddings: Embeddings
    ) -> IndexSnapshot:
        languages = tuple(sorted({c.language for c in chunks}))
        chunk_language = np.array([languages.index(c.language) for c in chunks], dtype=np.int32)
        if vectors.size:
            vectors = unit_rows(vectors, vectors.dtype)
        return cls(
            generation=generation,
            checked_at=time.monotonic(),
            chunks=chunks,
            vectors=vectors,
            languages=languages,
            chunk_language=chunk_language,
            directions=direction_matrix(embeddings, languages) if chunks else np.zeros((0, 0), dtype=np.float32),
            index=BM25Index([f"{c.title}\n{c.text}" for c in chunks]),
            positions={c.chunk_id: i for i, c in enumerate(chunks)},
        )


@dataclass(frozen=True, slots=True)
class Ranking:
    """The best chunks by fused score, best first, with their ranks on each side."""

    order: np.ndarray         # chunk indices
    fused: np.ndarray         # fused score per entry of `order`
    dense_rank: np.ndarray    # 1-based rank by language-corrected cosine
    lexical_rank: np.ndarray  # 1-based rank by BM25, 0 = no lexical match


def _top(scores: np.ndarray, k: int) -> np.ndarray:
    """Indices of the `k` highest scores, best first."""
    k = min(k, scores.size)
    if k <= 0:
        return np.zeros(0, dtype=np.int64)
    part = np.argpartition(-scores, k - 1)[:k]
    return part[np.argsort(-scores[part], kind="stable")]


def fuse(
    cosines: np.ndarray,
    lexical: np.ndarray,
    chunk_language: np.ndarray,
    query_language: int,
    language_bias: np.ndarray,
    params: FusionParams,
    k: int = 10,
) -> Ranking:
    """Score = cosine - language bias - same-language margin + weight x lexical share; the top `k`.

    `lexical` is BM25 divided by its ceiling for the question (0..1); `language_bias[l]` is what to
    subtract from the cosines of passages in language `l`; `query_language` is an index into the
    same languages, or -1 when no passage shares it. Scoring every chunk is exact and cheap.
    """
    same = chunk_language == query_language
    adjusted = cosines - language_bias[chunk_language] - params.same_language_margin * same
    kept = np.where(lexical > max(params.lexical_floor, 0.0), lexical, 0.0)
    fused = adjusted + np.where(same, params.lexical_weight, params.cross_lexical_weight) * kept
    order = _top(fused, k)
    dense_rank = 1 + (adjusted[None, :] > adjusted[order][:, None]).sum(axis=1)
    lexical_rank = np.where(kept[order] > 0, 1 + (kept[None, :] > kept[order][:, None]).sum(axis=1), 0)
    return Ranking(order, fused[order], dense_rank, lexical_rank)


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
        self, query: str, k: int = 6, language: str | None = None, query_vector: np.ndarray | None = None
    ) -> RetrievalResult:
        lang = language or detect_language(query, self.languages)[0]
        vector = query_vector if query_vector is not None else self.embed_query(query)
        snap = self.snapshot()
        if not snap.chunks:
            return RetrievalResult(query=query, language=lang, chunks=(), query_vector=vector)
        vector = np.asarray(vector, dtype=np.float32)
        direction = unit(vector, np.float32)
        # einsum, not `@`: BLAS wakes its threads for this mat-vec, ~10 ms on a busy 2-core host.
        cosines = np.einsum("ij,j->i", snap.vectors, direction)
        # Relative to the question's own language, so scores stay on the cosine scale.
        affinity = np.einsum("ij,j->i", snap.directions, direction) - float(self._own_direction(lang) @ direction)
        bias = self.params.centre_strength * affinity
        qlang = snap.languages.index(lang) if lang in snap.languages else -1
        bm25 = snap.index.scores(query) if snap.index is not None else np.zeros_like(cosines)
        ceiling = snap.index.ceiling(query) if snap.index is not None else 0.0
        lexical = bm25 / ceiling if ceiling > 0 else np.zeros_like(cosines)
        ranking = fuse(cosines, lexical, snap.chunk_language, qlang, bias, self.params, k)
        hits = tuple(
            RetrievedChunk(
                chunk=snap.chunks[i],
                score=float(s),
                dense_score=float(cosines[i]),
                lexical_score=float(bm25[i]) if lx else 0.0,
                dense_rank=int(d),
                lexical_rank=int(lx),
            )
            for i, s, d, lx in zip(ranking.order, ranking.fused, ranking.dense_rank, ranking.lexical_rank, strict=False)
        )
        return RetrievalResult(query=query, language=lang, chunks=hits, query_vector=vector)

    def _own_direction(self, language: str) -> np.ndarray:
        return direction_matrix(self.embeddings, (language,))[0]

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

    def _consistent_read(self, generation: int, attempts: int = 3) -> tuple[list[Chunk], np.ndarray, int]:
        """Read the collection; re-read if an ingest elsewhere changed it meanwhile (no mixed snapshot)."""
        for _ in range(attempts):
            chunks, vectors = self.store.chunks_with_vectors()
            after = self.store.generation()
            if after == generation:
                break
            generation = after
        return chunks, vectors, generation

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
                chunks, vectors, generation = self._consistent_read(generation)
                self._snapshot = IndexSnapshot.build(generation, chunks, vectors, self.embeddings)
                logger.info("retrieval snapshot rebuilt: %d chunks, generation %s", len(chunks), generation)
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
