"""ANN mode: above KB_SNAPSHOT_MAX_CHUNKS the retriever asks Chroma's HNSW index for candidates
instead of holding every vector in each replica (snapshot mode: assistant/snapshot.py).

Per question:
1. one Chroma query: the KB_ANN_CANDIDATES nearest chunks, with their text, metadata and cosine;
2. language centring with each language's mean cosine estimated from a fixed sample of the
   collection's vectors (assistant/language_sample.py), not from the candidates (their mean is
   the mean of the question's nearest passages, which would cancel what it should measure);
3. BM25 over the candidates, with document frequencies counted on the same sample
   (assistant/lexical.py: candidate_bm25); an in-memory BM25 over every chunk is what this mode avoids;
4. the same fusion as snapshot mode (assistant/ranking.py); the best `rerank_depth` candidates are
   re-scored by their views, read by id (assistant/views.py), which is one more Chroma read.

What needs more than one question's candidates:
- `in_language` looks for the translation among the question's candidates: a translation says the
  same thing, so it is among the question's nearest chunks (the FAQ links of assistant/translations.py
  are computed over the candidates of the same document);
- the self-probe (`probe_chunks`, `translation_group`) draws its probes from the sample and reads a
  probe's document, in every language, by source name (a metadata scan, at ingest only);
- the calibration is read from the collection's metadata, as in snapshot mode.

Memory per replica: the sample (per language up to KB_ANN_SAMPLE vectors, its chunks' text, term
frequencies) and small caches of recent candidates, views and vectors; measured in
docs/evaluation/benchmarks.md.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter, OrderedDict
from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from assistant.calibration import Calibration
from assistant.config import Settings
from assistant.language_sample import LanguageSample
from assistant.lexical import TermStatistics, candidate_bm25
from assistant.ranking import FusionParams, fuse, top
from assistant.snapshot import ViewText, read_calibration, to_hits, view_index
from assistant.store import VectorStore
from assistant.translations import document_key, pick_translation, translation_groups, translation_sources
from assistant.types import Chunk, RetrievedChunk
from assistant.vectors import unit, unit_rows
from assistant.views import chunk_views

logger = logging.getLogger(__name__)

POOLS_KEPT = 64        # recent questions' candidates (for in_language right after retrieve)
CHUNKS_KEPT = 2048     # recent chunks' views and vectors
_executor_lock = threading.Lock()
_views_executor: ThreadPoolExecutor | None = None


def _executor() -> ThreadPoolExecutor:
    """Threads that read views while the question's thread scores BM25 (made on first use)."""
    global _views_executor
    with _executor_lock:
        if _views_executor is None:
            _views_executor = ThreadPoolExecutor(max_workers=4, thread_name_prefix="kb-views")
        return _views_executor


@dataclass(frozen=True, slots=True)
class IndexPolicy:
    """When the retriever leaves snapshot mode, and how ANN mode works (Settings: KB_SNAPSHOT_MAX_CHUNKS...)."""

    snapshot_max_chunks: int = 20_000   # above this many chunks: ANN mode (the measured crossover)
    candidates: int = 100               # chunks asked of the HNSW index per question
    sample_per_language: int = 2000     # sampled vectors per language, for language centring

    @classmethod
    def from_settings(cls, settings: Settings) -> IndexPolicy:
        return cls(settings.snapshot_max_chunks, settings.ann_candidates, settings.ann_sample)


class _Recent(OrderedDict):
    """A small LRU map (callers hold the index's lock)."""

    def __init__(self, size: int) -> None:
        super().__init__()
        self.size = size

    def remember(self, key: Any, value: Any) -> None:
        self[key] = value
        self.move_to_end(key)
        while len(self) > self.size:
            self.popitem(last=False)

    def recall(self, key: Any) -> Any:
        value = self.get(key)
        if value is not None:
            self.move_to_end(key)
        return value


@dataclass(frozen=True, slots=True)
class _Pool:
    """One question's candidates."""

    chunks: list[Chunk]
    cosines: np.ndarray
    positions: dict[str, int]


@dataclass(slots=True, eq=False)
class AnnIndex:
    """What a replica holds in ANN mode for one generation of the index; the rest stays in Chroma."""

    store: VectorStore
    generation: int
    total: int
    sample: LanguageSample
    sample_chunks: list[Chunk]
    stats: TermStatistics
    known: tuple[str, ...]
    candidates: int
    calibration: Calibration | None = None
    checked_at: float = 0.0
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _pools: _Recent = field(default_factory=lambda: _Recent(POOLS_KEPT))
    _views: _Recent = field(default_factory=lambda: _Recent(CHUNKS_KEPT))
    _vectors: _Recent = field(default_factory=lambda: _Recent(CHUNKS_KEPT))

    mode = "ann"

    @property
    def languages(self) -> tuple[str, ...]:
        return self.sample.languages

    @classmethod
    def build(cls, store: VectorStore, generation: int, known: Sequence[str], policy: IndexPolicy,
              calibration: str = "") -> AnnIndex:
        total = store.count()
        per_language = policy.sample_per_language
        spread, spread_vectors = store.sample(per_language * max(len(known), 1))
        extra: list[Chunk] = []
        extra_vectors: list[np.ndarray] = []
        complete = list(known) if len(spread) >= total else []
        have = Counter(c.language for c in spread)
        seen = {c.chunk_id for c in spread}
        for code in known if len(spread) < total else ():
            if have[code] >= per_language:
                continue
            chunks, vectors = store.chunks_where({"language": code}, limit=per_language)
            if len(chunks) < per_language:
                complete.append(code)
            for chunk, vector in zip(chunks, vectors, strict=True):
                if chunk.chunk_id not in seen:
                    seen.add(chunk.chunk_id)
                    extra.append(chunk)
                    extra_vectors.append(vector)
        extra_matrix = np.vstack(extra_vectors) if extra_vectors else np.zeros((0, 0), dtype=np.float32)
        sample = LanguageSample.build(spread, spread_vectors, extra, extra_matrix, total, complete)
        stats = TermStatistics.from_texts([f"{c.title}\n{c.text}" for c in spread], total)
        return cls(store, generation, total, sample, [*spread, *extra], stats, tuple(known), policy.candidates,
                   read_calibration(calibration), time.monotonic())

    # ---- per question -----------------------------------------------------------------------

    def search(self, query: str, direction: np.ndarray, language: str, params: FusionParams, k: int,
               keep: np.ndarray | None = None, exclude: frozenset[str] = frozenset()) -> tuple[RetrievedChunk, ...]:
        """The `k` best of the question's candidates, ranked as snapshot mode ranks every chunk."""
        if keep is not None:
            raise ValueError("Expected chunk ids to leave out (`exclude`) in ANN mode, got a `keep` mask over "
                             "a snapshot's rows; pass exclude=...")
        pool = self._pool(direction)
        if not pool.chunks:
            return ()
        languages = tuple(sorted({c.language for c in pool.chunks}))
        codes = np.array([languages.index(c.language) for c in pool.chunks], dtype=np.int64)
        bias = params.partition_centring * self.sample.bias_for(languages, direction, params.centring_prior)
        qlang = languages.index(language) if language in languages else -1
        mask = np.array([c.chunk_id not in exclude for c in pool.chunks]) if exclude else None
        prefetch = self._prefetch_views(pool, codes, bias, mask, params)
        bm25, ceiling = candidate_bm25(query, [f"{c.title}\n{c.text}" for c in pool.chunks], self.stats)
        lexical = bm25 / ceiling if ceiling > 0 else np.zeros_like(bm25)
        first = fuse(pool.cosines, lexical, codes, qlang, params, max(k, params.rerank_depth), keep=mask, bias=bias)
        # Only the chunks the views re-score need their views: the same ones fuse() picks below.
        best = [pool.chunks[i] for i in first.order[: params.rerank_depth]] if params.view_weight else []
        if prefetch is not None:
            prefetch.result()
        rows, vectors = self._views_of(best)
        views, texts = view_index(pool.positions, rows, vectors)
        ranking = fuse(pool.cosines, lexical, codes, qlang, params, k, views=views, direction=direction,
                       keep=mask, bias=bias)
        return to_hits(ranking, pool.chunks, pool.cosines, bm25, texts)

    def in_language(self, hit: RetrievedChunk, language: str, direction: np.ndarray) -> RetrievedChunk | None:
        """The same content as `hit` in `language`, looked for among the question's candidates."""
        if hit.chunk.language == language:
            return None
        pool = self._pool(direction)
        key = document_key(hit.chunk.source, self.known)
        same = [c for c in pool.chunks
                if c.chunk_id != hit.chunk.chunk_id and document_key(c.source, self.known) == key]
        if not any(c.language == language for c in same):
            return None
        vectors = self._vectors_of([hit.chunk, *same])
        chunks = [c for c in (hit.chunk, *same) if c.chunk_id in vectors]
        if not chunks or chunks[0] is not hit.chunk:
            return None
        matrix = np.vstack([vectors[c.chunk_id] for c in chunks])
        groups = translation_groups(chunks, matrix, self.known)
        documents = [document_key(c.source, self.known) for c in chunks]
        best = pick_translation(chunks, matrix, groups, documents, 0, language, direction)
        if best is None:
            return None
        return RetrievedChunk(chunk=chunks[best], score=hit.score, dense_score=float(matrix[best] @ direction))

    def unit_scores(self, chunk_id: str, direction: np.ndarray) -> list[tuple[ViewText, float]]:
        """Every view of the chunk with its cosine to the question, in the chunk's order ([] if unknown)."""
        with self._lock:
            cached = self._views.recall(chunk_id)
        if cached is None:
            chunks = self.store.chunks_by_id([chunk_id])
            if not chunks:
                return []
            self._views_of(chunks)
            with self._lock:
                cached = self._views.recall(chunk_id)
        rows, vectors = cached
        if not rows:
            return []
        scores = np.einsum("ij,j->i", vectors, direction.astype(vectors.dtype))
        return [(ViewText(0, str(r.get("kind", "")), int(r.get("position", 0)), str(r.get("text", ""))), float(s))
                for r, s in zip(rows, scores, strict=True)]

    def chunk_vector(self, chunk_id: str) -> np.ndarray | None:
        found = self._vectors_of([Chunk(chunk_id, "", "", "")])
        return found.get(chunk_id)

    # ---- the self-probe (at ingest) ------------------------------------------------------------

    def probe_chunks(self) -> list[Chunk]:
        return self.sample_chunks

    def translation_group(self, chunk_id: str) -> tuple[str, dict[str, str]]:
        """(group id, {chunk id: language}) of the chunk's translation group, from its document's chunks."""
        chunk = next((c for c in self.sample_chunks if c.chunk_id == chunk_id), None)
        chunk = chunk or self.store.chunks_by_id([chunk_id])[0]
        chunks, vectors = self.store.chunks_where({"source": {"$in": translation_sources(chunk.source, self.known)}})
        groups = translation_groups(chunks, unit_rows(vectors), self.known) if chunks else []
        row = next(i for i, c in enumerate(chunks) if c.chunk_id == chunk_id)
        return groups[row], {c.chunk_id: c.language for c, g in zip(chunks, groups, strict=True) if g == groups[row]}

    # ---- reads, with small caches -------------------------------------------------------------

    def _prefetch_views(self, pool: _Pool, codes: np.ndarray, bias: np.ndarray, mask: np.ndarray | None,
                        params: FusionParams) -> Future | None:
        """Start reading the views of the best chunks by centred cosine while BM25 runs: the lexical
        share rarely changes which chunks are the best `rerank_depth`, and any it adds are read after."""
        if not params.view_weight or not params.rerank_depth:
            return None
        centred = pool.cosines - bias[codes]
        if mask is not None:
            centred = np.where(mask, centred, -np.inf)
        likely = [pool.chunks[i] for i in top(centred, params.rerank_depth) if np.isfinite(centred[i])]
        return _executor().submit(self._views_of, likely)

    def _pool(self, direction: np.ndarray) -> _Pool:
        key = np.asarray(direction, dtype=np.float32).tobytes()
        with self._lock:
            pool = self._pools.recall(key)
        if pool is None:
            chunks, cosines = self.store.nearest(direction, self.candidates)
            pool = _Pool(chunks, cosines, {c.chunk_id: i for i, c in enumerate(chunks)})
            with self._lock:
                self._pools.remember(key, pool)
        return pool

    def _views_of(self, chunks: Sequence[Chunk]) -> tuple[list[dict[str, Any]], np.ndarray]:
        """The views of `chunks` (rows with parent, kind, position, text) and their vectors."""
        found: dict[str, tuple[list[dict[str, Any]], np.ndarray]] = {}
        with self._lock:
            for chunk in chunks:
                cached = self._views.recall(chunk.chunk_id)
                if cached is not None:
                    found[chunk.chunk_id] = cached
        missing = [c for c in chunks if c.chunk_id not in found]
        if missing:
            rows, vectors = self.store.views_of([v.view_id for c in missing for v in chunk_views(c)])
            for chunk in missing:
                mine = sorted((int(r.get("position", 0)), i) for i, r in enumerate(rows)
                              if r.get("parent") == chunk.chunk_id)
                picked = [i for _, i in mine]
                found[chunk.chunk_id] = ([rows[i] for i in picked],
                                         unit_rows(vectors[picked]) if picked else np.zeros((0, 0), np.float32))
            with self._lock:
                for chunk in missing:
                    self._views.remember(chunk.chunk_id, found[chunk.chunk_id])
        rows = [r for c in chunks for r in found[c.chunk_id][0]]
        matrices = [found[c.chunk_id][1] for c in chunks if found[c.chunk_id][0]]
        return rows, np.vstack(matrices) if matrices else np.zeros((0, 0), dtype=np.float32)

    def _vectors_of(self, chunks: Sequence[Chunk]) -> dict[str, np.ndarray]:
        found: dict[str, np.ndarray] = {}
        with self._lock:
            for chunk in chunks:
                vector = self._vectors.recall(chunk.chunk_id)
                if vector is not None:
                    found[chunk.chunk_id] = vector
        missing = [c.chunk_id for c in chunks if c.chunk_id not in found]
        fetched = {cid: unit(v, np.float32) for cid, v in self.store.vectors_of(missing).items()}
        with self._lock:
            for cid, vector in fetched.items():
                self._vectors.remember(cid, vector)
        return found | fetched
