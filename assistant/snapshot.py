"""What the retriever derives from one generation of the index: vectors, views, BM25, translation groups."""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from assistant.calibration import Calibration
from assistant.lexical import BM25Index
from assistant.ranking import ViewIndex
from assistant.translations import document_key, translation_groups
from assistant.types import Chunk
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

    @classmethod
    def build(cls, generation: int, chunks: list[Chunk], vectors: np.ndarray,
              view_rows: Sequence[dict[str, Any]] = (), view_vectors: np.ndarray | None = None,
              known_languages: Sequence[str] = (), calibration: str = "") -> IndexSnapshot:
        languages = tuple(sorted({c.language for c in chunks}))
        chunk_language = np.array([languages.index(c.language) for c in chunks], dtype=np.int32)
        if vectors.size:
            vectors = unit_rows(vectors, vectors.dtype)
        positions = {c.chunk_id: i for i, c in enumerate(chunks)}
        views, view_texts = _views(positions, view_rows, view_vectors)
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
            calibration=_calibration(calibration),
        )

    def unit_scores(self, row: int, direction: np.ndarray) -> list[tuple[ViewText, float]]:
        """Every view of chunk `row` with its cosine to the question, in the chunk's order."""
        lo, hi = int(self.views.start[row]), int(self.views.end[row])
        if hi <= lo:
            return []
        scores = np.einsum("ij,j->i", self.views.vectors[lo:hi], direction)
        return [(self.view_texts[lo + i], float(s)) for i, s in enumerate(scores)]


def _calibration(text: str) -> Calibration | None:
    if not text:
        return None
    try:
        return Calibration.from_json(text)
    except (ValueError, KeyError, TypeError):
        logger.warning("the index's calibration is unreadable; using the configured thresholds")
        return None


def _views(positions: dict[str, int], rows: Sequence[dict[str, Any]],
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
