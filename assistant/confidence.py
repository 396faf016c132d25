"""Answer confidence: a calibrated 0..1 score from retrieval evidence.

multilingual-e5 cosines are compressed (unrelated text still scores about 0.72-0.76), so the raw
cosine is never shown as a probability: features are centred on per-language-pair baselines and
combined by a logistic model whose weights are fitted by `kb eval --escalation --calibrate`
(stored in assistant/data/confidence.json).
"""

from __future__ import annotations

import functools
import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from importlib import resources

from assistant.lexical import tokenize
from assistant.types import RetrievedChunk

FEATURES = ("dense_top", "dense_margin", "lexical_coverage", "agreement", "cross_lingual", "bias")


@dataclass(frozen=True, slots=True)
class ConfidenceModel:
    weights: Mapping[str, float]
    # Typical cosine of a question to an unrelated passage, by "same" / "cross" language.
    baselines: Mapping[str, float] = field(default_factory=lambda: {"same": 0.76, "cross": 0.74})

    @classmethod
    def from_dict(cls, data: Mapping) -> "ConfidenceModel":
        return cls(weights=dict(data["weights"]), baselines=dict(data.get("baselines", {"same": 0.76, "cross": 0.74})))

    def features(self, question: str, language: str, hits: Sequence[RetrievedChunk]) -> dict[str, float]:
        if not hits:
            return {name: 0.0 for name in FEATURES} | {"bias": 1.0}
        top = hits[0]
        dense = sorted((h.dense_score for h in hits if h.dense_score > 0), reverse=True)
        cross = float(top.chunk.language != language)
        base = self.baselines["cross" if cross else "same"]
        dense_top = dense[0] if dense else base
        rest = dense[1:] or [dense_top]
        terms = set(tokenize(question))
        coverage = len(terms & set(tokenize(top.chunk.title + " " + top.chunk.text))) / len(terms) if terms else 0.0
        return {
            "dense_top": (dense_top - base) / 0.05,
            "dense_margin": (dense_top - sum(rest) / len(rest)) / 0.02,
            "lexical_coverage": coverage,
            "agreement": float(0 < top.dense_rank <= 3 and 0 < top.lexical_rank <= 3),
            "cross_lingual": cross,
            "bias": 1.0,
        }

    def score(self, features: Mapping[str, float]) -> float:
        z = sum(self.weights.get(name, 0.0) * value for name, value in features.items())
        return 1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, z))))


@functools.lru_cache(maxsize=1)
def default_confidence_model() -> ConfidenceModel:
    raw = resources.files("assistant").joinpath("data", "confidence.json").read_text(encoding="utf-8")
    return ConfidenceModel.from_dict(json.loads(raw))
