"""Hybrid retrieval: dense (multilingual-e5 in Chroma) + lexical (BM25), language-aware, fused by rank.

multilingual-e5 prefers a document in the question's language even when it is on the wrong
topic. Two counter-measures: the dense side also searches each other language separately (so
the best passage of every language is a candidate), and same-language cosines are discounted
by a small calibrated margin before ranking (see docs/retrieval.md for the measurement).
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field

import numpy as np

from assistant.config import Settings
from assistant.language import detect_language
from assistant.lexical import BM25Index
from assistant.models import make_embeddings
from assistant.store import VectorStore
from assistant.types import Chunk, RetrievedChunk

logger = logging.getLogger(__name__)

RRF_K = 60


@dataclass(frozen=True, slots=True, eq=False)
class RetrievalResult:
    query: str
    language: str
    chunks: tuple[RetrievedChunk, ...]
    query_vector: np.ndarray = field(repr=False, default_factory=lambda: np.zeros(0, dtype=np.float32))


@dataclass(slots=True)
class _LexicalCache:
    generation: int = -1
    checked_at: float = 0.0
    chunks: list[Chunk] = field(default_factory=list)
    index: BM25Index | None = None
    languages: tuple[str, ...] = ()


class HybridRetriever:
    """Dense + BM25 retrieval over one VectorStore; the BM25 side is rebuilt when the index changes."""

    def __init__(
        self,
        store: VectorStore,
        languages: tuple[str, ...],
        dense_k: int = 20,
        per_language_k: int = 5,
        lexical_k: int = 20,
        same_language_margin: float = 0.02,
        lexical_weight: float = 1.0,
        refresh_s: float = 2.0,
    ) -> None:
        self.store = store
        self.embeddings = store.embeddings
        self.languages = languages
        self.dense_k = dense_k
        self.per_language_k = per_language_k
        self.lexical_k = lexical_k
        self.same_language_margin = same_language_margin
        self.lexical_weight = lexical_weight
        self.refresh_s = refresh_s
        self._cache = _LexicalCache()
        self._lock = threading.Lock()

    # ---- public -----------------------------------------------------------------------------

    def retrieve(
        self, query: str, k: int = 6, language: str | None = None, query_vector: np.ndarray | None = None
    ) -> RetrievalResult:
        lang = language or detect_language(query, self.languages)[0]
        vector = query_vector if query_vector is not None else self.embed_query(query)
        cache = self._lexical_cache()
        dense = self._dense(vector, lang, cache.languages)
        lexical = self._lexical(query, cache)
        fused = self._fuse(dense, lexical, lang)
        return RetrievalResult(query=query, language=lang, chunks=tuple(fused[:k]), query_vector=vector)

    def embed_query(self, text: str) -> np.ndarray:
        embed = getattr(self.embeddings, "embed_query_vector", None)
        if embed is not None:
            return embed(text)
        return np.asarray(self.embeddings.embed_query(text), dtype=np.float32)

    def indexed_languages(self) -> tuple[str, ...]:
        return self._lexical_cache().languages

    # ---- dense ------------------------------------------------------------------------------

    def _dense(self, vector: np.ndarray, lang: str, present: tuple[str, ...]) -> dict[str, tuple[Chunk, float]]:
        hits: dict[str, tuple[Chunk, float]] = {}
        for chunk, score in self.store.query(vector, self.dense_k):
            hits[chunk.chunk_id] = (chunk, score)
        # Other languages get their own pass, so a same-language bias cannot crowd them out.
        for other in present:
            if other == lang or len(present) < 2:
                continue
            for chunk, score in self.store.query(vector, self.per_language_k, where={"language": other}):
                hits.setdefault(chunk.chunk_id, (chunk, score))
        return hits

    # ---- lexical ----------------------------------------------------------------------------

    def _lexical_cache(self) -> _LexicalCache:
        with self._lock:
            now = time.monotonic()
            if self._cache.index is not None and now - self._cache.checked_at < self.refresh_s:
                return self._cache
            generation = self.store.generation()
            if generation != self._cache.generation or self._cache.index is None:
                chunks = self.store.all_chunks()
                texts = [f"{c.title}\n{c.text}" for c in chunks]
                self._cache = _LexicalCache(
                    generation=generation,
                    checked_at=now,
                    chunks=chunks,
                    index=BM25Index(texts),
                    languages=tuple(sorted({c.language for c in chunks})),
                )
                logger.info("lexical index rebuilt: %d chunks, generation %s", len(chunks), generation)
            else:
                self._cache.checked_at = now
            return self._cache

    def _lexical(self, query: str, cache: _LexicalCache) -> dict[str, tuple[Chunk, float]]:
        if cache.index is None:
            return {}
        return {cache.chunks[i].chunk_id: (cache.chunks[i], s) for i, s in cache.index.top(query, self.lexical_k)}

    # ---- fusion -----------------------------------------------------------------------------

    def _fuse(
        self, dense: dict[str, tuple[Chunk, float]], lexical: dict[str, tuple[Chunk, float]], lang: str
    ) -> list[RetrievedChunk]:
        def adjusted(item: tuple[Chunk, float]) -> float:
            chunk, score = item
            return score - (self.same_language_margin if chunk.language == lang else 0.0)

        dense_order = sorted(dense, key=lambda cid: adjusted(dense[cid]), reverse=True)
        lexical_order = sorted(lexical, key=lambda cid: lexical[cid][1], reverse=True)
        dense_rank = {cid: r for r, cid in enumerate(dense_order, 1)}
        lexical_rank = {cid: r for r, cid in enumerate(lexical_order, 1)}
        best = (1 + self.lexical_weight) / (RRF_K + 1)
        fused = []
        for cid in set(dense) | set(lexical):
            chunk = (dense.get(cid) or lexical[cid])[0]
            score = 0.0
            if cid in dense_rank:
                score += 1.0 / (RRF_K + dense_rank[cid])
            if cid in lexical_rank:
                score += self.lexical_weight / (RRF_K + lexical_rank[cid])
            fused.append(
                RetrievedChunk(
                    chunk=chunk,
                    score=score / best,
                    dense_score=dense[cid][1] if cid in dense else 0.0,
                    lexical_score=lexical[cid][1] if cid in lexical else 0.0,
                    dense_rank=dense_rank.get(cid, 0),
                    lexical_rank=lexical_rank.get(cid, 0),
                )
            )
        fused.sort(key=lambda r: r.score, reverse=True)
        return fused


def make_retriever(settings: Settings, store: VectorStore | None = None) -> HybridRetriever:
    """The retriever for the configured store (opens it when not given)."""
    if store is None:
        from assistant.store import open_store

        store = open_store(settings, make_embeddings(settings))
    return HybridRetriever(store, settings.languages)
