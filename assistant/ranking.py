"""Scoring one question against every chunk of a snapshot: pure numpy, no I/O.

1. Language centring. multilingual-e5 scores a passage in the question's own language higher than
   an equally relevant passage in another language, by an offset that depends on the language
   pair and on the question. So every cosine is taken relative to the question's mean cosine to
   the passages of that passage's language (and then shifted by the overall mean, to stay on the
   cosine scale). Within a language nothing changes; across languages, a passage counts by how
   much it stands out among its own language's passages. Measured on the help-centre dev split
   (recall@5 0.49 -> 0.83 for plain dense) and on XQuAD / AfriQA (docs/evaluation/retrieval.md).
2. Lexical evidence. BM25 as a share of its ceiling for the question, with a small weight in the
   question's language and across languages (shared names and numbers).
3. Views. The best `rerank_depth` chunks are re-scored with their best view (a sentence, or a FAQ
   row's question; kb_ingest/views.py), centred the same way, blended in with `view_weight`: a
   needle fact deep in a long chunk lifts its chunk.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True, slots=True)
class FusionParams:
    """The knobs of the fused score (tuned on the help-centre dev split; see docs/evaluation/retrieval.md)."""

    partition_centring: float = 1.0     # share of the per-language mean cosine removed (0 = plain cosine)
    centring_prior: float = 0.0         # pseudo-passages at the overall mean (shrinks small languages' means)
    same_language_margin: float = 0.0   # subtracted from same-language cosines: negative = a bonus
    lexical_weight: float = 0.05        # weight of BM25 (as a share of its ceiling) in the question's language
    cross_lexical_weight: float = 0.05  # ... and in other languages (names and numbers)
    lexical_floor: float = 0.0          # BM25 share below which a lexical match is ignored
    view_weight: float = 0.5            # share of a chunk's score taken from its best view
    rerank_depth: int = 10              # how many of the best chunks are re-scored by their views


@dataclass(frozen=True, slots=True)
class Ranking:
    """The best chunks by fused score, best first, with their ranks on each side."""

    order: np.ndarray         # chunk indices
    fused: np.ndarray         # fused score per entry of `order`
    dense_rank: np.ndarray    # 1-based rank by language-centred cosine
    lexical_rank: np.ndarray  # 1-based rank by BM25, 0 = no lexical match
    evidence: np.ndarray      # per entry of `order`: the view row that scored best, -1 = none
    evidence_score: np.ndarray  # that view's cosine (0 = none)


@dataclass(frozen=True, slots=True)
class ViewIndex:
    """Every view's vector, grouped by chunk: the views of chunk row r are rows start[r]:end[r]."""

    vectors: np.ndarray       # (views, dim), unit rows, sorted by chunk row
    start: np.ndarray         # per chunk row
    end: np.ndarray

    @classmethod
    def empty(cls, chunks: int) -> ViewIndex:
        zeros = np.zeros(chunks, dtype=np.int64)
        return cls(np.zeros((0, 0), dtype=np.float32), zeros, zeros.copy())

    def best(self, row: int, direction: np.ndarray) -> tuple[int, float]:
        """(view row, cosine) of the chunk's best view for the question; (-1, nan) without views."""
        lo, hi = int(self.start[row]), int(self.end[row])
        if hi <= lo:
            return -1, float("nan")
        scores = np.einsum("ij,j->i", self.vectors[lo:hi], direction)
        best = int(np.argmax(scores))
        return lo + best, float(scores[best])


def language_bias(cosines: np.ndarray, chunk_language: np.ndarray, languages: int,
                  keep: np.ndarray | None = None, prior: float = 0.0) -> np.ndarray:
    """Per passage language: its mean cosine to the question minus the overall mean.

    The mean is shrunk towards the overall mean by `prior` pseudo-passages, so a language with two
    passages (one translated article) is not judged by a mean of two.
    """
    weights = cosines if keep is None else np.where(keep, cosines, 0.0)
    counts = np.bincount(chunk_language, weights=None if keep is None else keep.astype(float), minlength=languages)
    sums = np.bincount(chunk_language, weights=weights, minlength=languages)
    overall = sums.sum() / max(counts.sum(), 1.0)
    shrunk = (sums + prior * overall) / np.maximum(counts + prior, 1e-9)
    return np.where(counts > 0, shrunk - overall, 0.0)


def top(scores: np.ndarray, k: int) -> np.ndarray:
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
    params: FusionParams,
    k: int = 10,
    views: ViewIndex | None = None,
    direction: np.ndarray | None = None,
    keep: np.ndarray | None = None,
    bias: np.ndarray | None = None,
) -> Ranking:
    """The top `k` chunks by centred cosine + lexical share, the best ones re-scored by their views.

    `lexical` is BM25 divided by its ceiling for the question (0..1); `query_language` indexes the
    snapshot's languages (-1 when no passage shares it); `keep` masks out chunks (None = all).
    `bias`: the per-language offsets to remove, when the chunks given are not the whole collection
    (ANN candidates: estimated from a sample, assistant/language_sample.py); None = from `cosines`.
    """
    if bias is None:
        languages = int(chunk_language.max()) + 1 if chunk_language.size else 0
        bias = params.partition_centring * language_bias(cosines, chunk_language, languages, keep,
                                                         params.centring_prior)
    same = chunk_language == query_language
    adjusted = cosines - bias[chunk_language] - params.same_language_margin * same
    kept = np.where(lexical > max(params.lexical_floor, 0.0), lexical, 0.0)
    fused = adjusted + np.where(same, params.lexical_weight, params.cross_lexical_weight) * kept
    if keep is not None:
        fused = np.where(keep, fused, -np.inf)
    depth = max(k, params.rerank_depth) if views is not None else k
    order = top(fused, depth)
    if keep is not None:
        order = order[np.isfinite(fused[order])]
    best_views: dict[int, tuple[int, float]] = {}
    if views is not None and direction is not None and params.view_weight and order.size:
        fused, best_views = _rerank(order, fused, adjusted, bias, chunk_language, views, direction, params)
        order = order[np.argsort(-fused[order], kind="stable")]
    order = order[:k]
    evidence = np.array([best_views.get(int(row), (-1, 0.0))[0] for row in order], dtype=np.int64)
    evidence_score = np.array([best_views.get(int(row), (-1, 0.0))[1] for row in order], dtype=np.float64)
    dense_rank = 1 + (adjusted[None, :] > adjusted[order][:, None]).sum(axis=1)
    lexical_rank = np.where(kept[order] > 0, 1 + (kept[None, :] > kept[order][:, None]).sum(axis=1), 0)
    return Ranking(order, fused[order], dense_rank, lexical_rank, evidence, evidence_score)


def _rerank(order: np.ndarray, fused: np.ndarray, adjusted: np.ndarray, bias: np.ndarray,
            chunk_language: np.ndarray, views: ViewIndex, direction: np.ndarray,
            params: FusionParams) -> tuple[np.ndarray, dict[int, tuple[int, float]]]:
    """Blend each of the `rerank_depth` best chunks with its best view; returns new scores and
    chunk row -> (view row, cosine)."""
    fused = fused.copy()
    best_rows: dict[int, tuple[int, float]] = {}
    for row in order[: params.rerank_depth]:
        view_row, cosine = views.best(int(row), direction)
        if view_row < 0:
            continue
        best_rows[int(row)] = (view_row, cosine)
        view_adjusted = cosine - bias[chunk_language[row]]
        fused[row] += params.view_weight * (view_adjusted - adjusted[row])
    return fused, best_rows
