"""Threshold-free metrics shared by the evaluations."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def roc_auc(positive_scores: Sequence[float], negative_scores: Sequence[float]) -> float | None:
    """P(a random positive scores above a random negative), ties counting half (Mann-Whitney)."""
    pos, neg = np.asarray(positive_scores, dtype=float), np.asarray(negative_scores, dtype=float)
    if pos.size == 0 or neg.size == 0:
        return None
    _, inverse, counts = np.unique(np.concatenate([pos, neg]), return_inverse=True, return_counts=True)
    ranks = (np.cumsum(counts) - (counts - 1) / 2.0)[inverse]  # 1-based, ties share their mean rank
    auc = (ranks[: pos.size].sum() - pos.size * (pos.size + 1) / 2) / (pos.size * neg.size)
    return round(float(auc), 4)
