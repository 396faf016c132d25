"""Snapshot mode: every chunk's vector, its views, BM25 and translation groups in memory, scored exactly.

What the retriever derives from one generation of the index. Scoring it in numpy is exact and takes
a few milliseconds at help-centre scale, less than a Chroma round-trip; above
KB_SNAPSHOT_MAX_CHUNKS the retriever queries Chroma's ANN index instead (assistant/ann.py).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from assistant.calibration import Calibration
from assistant.lexical import BM25Index
from assistant.ranking import FusionParams, Ranking, ViewIndex, fuse
from assistant.translations import document_key, pick_translation, translation_groups
from assistant.types import Chunk, RetrievedChunk
from assistant.vectors import unit_rows

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class ViewText:
    """What a view row says, for quoting the sentence that matched."""

    chunk_row: int
    kind: str        # sentence | question
    position: int    # order within the chunk
    text: str


@dataclass(slots=True)
class IndexSnapshot:
    """Everything derived from one generation of the collection."""

    generation: int = -1
    checked_at: float = 0.0
    chunks: list[Chunk] = field(default_factory=list)
    vectors: np.ndarray = field(default_factory=lambda: np.zeros((0, 0), dtype=np.float32))
    languages: tuple[str, ...] = ()
    chunk_language: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int32))
    index: BM25Index | None = None
    positions: dict[str, int] = field(default_factory=dict)   # chunk id -> row of `vectors`
    views: ViewIndex = field(default_factory=lambda: ViewIndex.empty(0))
    view_texts: list[ViewText] = field(default_factory=list)  # one per view row
    groups: list[str] = field(default_factory=list)            # translation group per chunk row
    documents: list[str] = field(default_factory=list)         # document key per chunk row
    calibration: Calibration | None = None                     # stored with the index (assistant/calibration.py)
    group_rows: dict[str, list[int]] | None = None              # translation group -> rows (made on first use)

    @classmethod
    def build(cls, generation: int, chunks: list[Chunk], vectors: np.ndarray,
              view_rows: Sequence[dict[str, Any]] = (), view_vectors: np.ndarray | None = None,
              known_languages: Sequence[str] = (), calibration: str = "") -> IndexSnapshot:
        languages = tuple(sorted({c.language for c in chunks}))
        chunk_language = np.array([languages.index(c.language) for c in chunks], dtype=np.int32)
        if vectors.size:
            vectors = unit_rows(vectors, vectors.dtype)
        positions = {c.chunk_id: i for i, c in enumerate(chunks)}
        views, view_texts = view_index(positions, view_rows, view_vectors)
        codes = tuple(known_languages) or languages
        return cls(
            generation=generation,
            checked_at=time.monotonic(),
            chunks=chunks,
            vectors=vectors,
            languages=languages,
            chunk_language=chunk_language,
            index=BM25Index([f"{c.title}\n{c.text}" for c in chunks]),
            positions=positions,
            views=views,
            view_texts=view_texts,
            groups=translation_groups(chunks, vectors, codes) if chunks else [],
            documents=[document_key(c.source, codes) for c in chunks],
            calibration=read_calibration(calibration),
        )

    mode = "snapshot"

    def search(self, query: str, direction: np.ndarray, language: str, params: FusionParams, k: int,
               keep: np.ndarray | None = None, exclude: frozenset[str] = frozenset()) -> tuple[RetrievedChunk, ...]:
        """The `k` best chunks for the question (`direction`: its unit vector); `keep` masks rows,
        `exclude` leaves chunk ids out."""
        if not self.chunks:
            return ()
        # einsum, not `@`: BLAS wakes its threads for this mat-vec, ~10 ms on a busy 2-core host.
        cosines = np.einsum("ij,j->i", self.vectors, direction)
        qlang = self.languages.index(language) if language in self.languages else -1
        bm25 = self.index.scores(query) if self.index is not None else np.zeros_like(cosines)
        ceiling = self.index.ceiling(query) if self.index is not None else 0.0
        lexical = bm25 / ceiling if ceiling > 0 else np.zeros_like(cosines)
        if exclude:
            out = np.zeros(len(self.chunks), dtype=bool)
            out[[self.positions[cid] for cid in exclude if cid in self.positions]] = True
            keep = ~out if keep is None else keep & ~out
        ranking = fuse(cosines, lexical, self.chunk_language, qlang, params, k,
                       views=self.views, direction=direction, keep=keep)
        return to_hits(ranking, self.chunks, cosines, bm25, self.view_texts)

    def in_language(self, hit: RetrievedChunk, language: str, direction: np.ndarray) -> RetrievedChunk | None:
        """The same content as `hit` in `language` (assistant/translations.py), if the help centre has it."""
        row = self.positions.get(hit.chunk.chunk_id)
        if row is None or hit.chunk.language == language:
            return None
        best = pick_translation(self.chunks, self.vectors, self.groups, self.documents, row, language, direction)
        if best is None:
            return None
        return RetrievedChunk(chunk=self.chunks[best], score=hit.score,
                              dense_score=float(self.vectors[best] @ direction))

    def unit_scores(self, chunk_id: str, direction: np.ndarray) -> list[tuple[ViewText, float]]:
        """Every view of the chunk with its cosine to the question, in the chunk's order ([] if unknown)."""
        row = self.positions.get(chunk_id)
        if row is None:
            return []
        lo, hi = int(self.views.start[row]), int(self.views.end[row])
        if hi <= lo:
            return []
        scores = np.einsum("ij,j->i", self.views.vectors[lo:hi], direction)
        return [(self.view_texts[lo + i], float(s)) for i, s in enumerate(scores)]

    def chunk_vector(self, chunk_id: str) -> np.ndarray | None:
        position = self.positions.get(chunk_id)
        return None if position is None else self.vectors[position]

    def probe_chunks(self) -> list[Chunk]:
        """The chunks the knowledge base's self-probe draws its questions from (assistant/self_probe.py)."""
        return self.chunks

    def translation_group(self, chunk_id: str) -> tuple[str, dict[str, str]]:
        """(group id, {chunk id: language} of every chunk in it) for an indexed chunk."""
        if self.group_rows is None:
            self.group_rows = {}
            for row, group in enumerate(self.groups):
                self.group_rows.setdefault(group, []).append(row)
        group = self.groups[self.positions[chunk_id]]
        return group, {self.chunks[row].chunk_id: self.chunks[row].language for row in self.group_rows[group]}


def to_hits(ranking: Ranking, chunks: Sequence[Chunk], cosines: np.ndarray, bm25: np.ndarray,
            view_texts: Sequence[ViewText]) -> tuple[RetrievedChunk, ...]:
    """The ranking as RetrievedChunks, with the view that matched each best as its evidence."""
    return tuple(
        RetrievedChunk(
            chunk=chunks[i],
            score=float(s),
            dense_score=float(cosines[i]),
            lexical_score=float(bm25[i]) if lx else 0.0,
            dense_rank=int(d),
            lexical_rank=int(lx),
            evidence=view_texts[e].text if e >= 0 else "",
            evidence_score=float(es),
        )
        for i, s, d, lx, e, es in zip(ranking.order, ranking.fused, ranking.dense_rank, ranking.lexical_rank,
                                      ranking.evidence, ranking.evidence_score, strict=True)
    )


def read_calibration(text: str) -> Calibration | None:
    """The calibration stored with the index, or None when there is none or it is unreadable."""
    if not text:
        return None
    try:
        return Calibration.from_json(text)
    except (ValueError, KeyError, TypeError):
        logger.warning("the index's calibration is unreadable; using the configured thresholds")
        return None


def view_index(positions: dict[str, int], rows: Sequence[dict[str, Any]],
               vectors: np.ndarray | None) -> tuple[ViewIndex, list[ViewText]]:
    """Views sorted by chunk row (views of chunks missing from this snapshot are left out)."""
    if vectors is None or not len(rows) or not vectors.size:
        return ViewIndex.empty(len(positions)), []
    keep = [(positions[str(r.get("parent"))], int(r.get("position", 0)), i) for i, r in enumerate(rows)
            if str(r.get("parent")) in positions]
    keep.sort()
    texts = [ViewText(chunk_row, str(rows[i].get("kind", "")), position, str(rows[i].get("text", "")))
             for chunk_row, position, i in keep]
    matrix = unit_rows(vectors[[i for _, _, i in keep]], np.float32) if keep else np.zeros((0, 0), np.float32)
    chunk_rows = np.array([row for row, _, _ in keep], dtype=np.int64)
    count = len(positions)
    start = np.searchsorted(chunk_rows, np.arange(count), side="left")
    end = np.searchsorted(chunk_rows, np.arange(count), side="right")
    return ViewIndex(matrix, start, end), texts
