"""On-disk cache of embedding vectors, so an evaluation embeds each passage and question once."""

from __future__ import annotations

import hashlib
import logging
import re
from pathlib import Path

import numpy as np
from langchain_core.embeddings import Embeddings

from assistant.vectors import embed_passages, embed_query_vector

logger = logging.getLogger(__name__)


def _key(kind: str, text: str) -> str:
    return hashlib.sha1(f"{kind}\n{text}".encode()).hexdigest()


class CachedEmbeddings(Embeddings):
    """Wraps an embedder; vectors live in `cache_dir/<model>/<sha1>.npy` (or only in memory without a dir)."""

    def __init__(self, inner: Embeddings, cache_dir: Path | None = None, model_id: str = "") -> None:
        self.inner = inner
        self.model_id = model_id or getattr(inner, "model_id", type(inner).__name__)
        self.directory = Path(cache_dir) / re.sub(r"[^\w.-]+", "_", self.model_id) if cache_dir else None
        if self.directory is not None:
            self.directory.mkdir(parents=True, exist_ok=True)
        self._memory: dict[str, np.ndarray] = {}
        self.computed = 0  # vectors actually embedded (not served from a cache), for reports

    def _load(self, key: str) -> np.ndarray | None:
        vector = self._memory.get(key)
        if vector is None and self.directory is not None:
            path = self.directory / f"{key}.npy"
            if path.exists():
                vector = self._memory[key] = np.load(path)
        return vector

    def _store(self, key: str, vector: np.ndarray) -> None:
        vector = np.asarray(vector, dtype=np.float32)
        self._memory[key] = vector
        if self.directory is not None:
            tmp = self.directory / f"{key}.tmp.npy"
            np.save(tmp, vector)
            tmp.replace(self.directory / f"{key}.npy")  # atomic: a killed run leaves no half-written file

    def embed_passages(self, texts: list[str]) -> np.ndarray:
        """Passage vectors (n, dim); only the texts missing from the cache are embedded."""
        keys = [_key("passage", t) for t in texts]
        todo = list(dict.fromkeys(t for t, k in zip(texts, keys, strict=False) if self._load(k) is None))
        if todo:
            logger.info("embedding %d passages (%d cached)", len(todo), len(texts) - len(todo))
            vectors = embed_passages(self.inner, todo)
            for text, vector in zip(todo, vectors, strict=False):
                self._store(_key("passage", text), vector)
            self.computed += len(todo)
        if not texts:
            return np.zeros((0, 384), dtype=np.float32)
        return np.vstack([self._load(k) for k in keys])

    def embed_query_vector(self, text: str) -> np.ndarray:
        key = _key("query", text)
        vector = self._load(key)
        if vector is None:
            vector = embed_query_vector(self.inner, text)
            self._store(key, vector)
            self.computed += 1
        return vector

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return self.embed_passages(list(texts)).tolist()

    def embed_query(self, text: str) -> list[float]:
        return self.embed_query_vector(text).tolist()
