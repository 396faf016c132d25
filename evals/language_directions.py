"""Language directions of the embedding space, used to remove the embedder's same-language bias.

multilingual-e5 scores any passage in the question's language higher than a passage in another
language on the same footing. Embedding the same sentences in every language and averaging per
language gives one vector per language whose differences are the language signal alone: the
topics, shared by all languages, cancel. The sentences live in data/language_anchors.json with
their averaged vectors for the default model; another embedder gets them computed once per process.

Used by the language-bias measurement (evals/language_bias.py). The retriever no longer uses
them: it centres each question's cosines per passage language (assistant/ranking.py), which
needs no anchors and was better on every benchmark (docs/evaluation/retrieval.md).
"""

from __future__ import annotations

import functools
import json
import logging
import threading
from importlib import resources

import numpy as np
from langchain_core.embeddings import Embeddings

from assistant.vectors import embed_passages

logger = logging.getLogger(__name__)

ANCHORS_FILE = "language_anchors.json"


@functools.lru_cache(maxsize=1)
def _anchors() -> dict:
    raw = resources.files("evals").joinpath("data", ANCHORS_FILE).read_text(encoding="utf-8")
    return json.loads(raw)


_COMPUTED: dict[str, dict[str, np.ndarray]] = {}
_LOCK = threading.Lock()


def _computed(model_id: str, embeddings: Embeddings) -> dict[str, np.ndarray]:
    with _LOCK:
        if model_id not in _COMPUTED:
            logger.info("computing language directions for %s (once per process)", model_id)
            sentences = _anchors()["sentences"]
            _COMPUTED[model_id] = {
                lang: embed_passages(embeddings, texts).mean(axis=0) for lang, texts in sentences.items()
            }
        return _COMPUTED[model_id]


@functools.lru_cache(maxsize=8)
def _shipped(model_id: str) -> dict[str, np.ndarray] | None:
    vectors = _anchors().get("directions", {}).get(model_id)
    return {lang: np.asarray(v, dtype=np.float32) for lang, v in vectors.items()} if vectors else None


def language_directions(embeddings: Embeddings) -> dict[str, np.ndarray]:
    """Mean anchor-sentence passage vector per language code, for this embedder."""
    model_id = str(getattr(embeddings, "model_id", "") or type(embeddings).__name__)
    return _shipped(model_id) or _computed(model_id, embeddings)


def direction_matrix(embeddings: Embeddings, languages: tuple[str, ...]) -> np.ndarray:
    """One direction row per language; a language without anchor sentences gets their average."""
    directions = language_directions(embeddings)
    average = np.mean(list(directions.values()), axis=0)
    return np.vstack([directions.get(lang, average) for lang in languages]).astype(np.float32)

