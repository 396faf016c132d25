"""Logistic scorers: named features -> a 0..1 score, with weights fitted offline and shipped in assistant/data.

Retrieval confidence (assistant/confidence.py) and citation support (assistant/claim_support.py) are both a
logistic model over a feature map, whose dense features are cosines centred and scaled by a baseline per
language pair ("q-p", or "same" / "cross"). The weights are fitted by the evaluation harness (`kb eval
--escalation --calibrate`); the product only reads them.
"""

from __future__ import annotations

import functools
import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib import resources
from typing import Any, Self

Z_LIMIT = 30.0  # beyond this the sigmoid is 0 or 1 to double precision; exp() must not overflow


def sigmoid(z: float) -> float:
    """1 / (1 + e^-z), with z clipped to +-Z_LIMIT."""
    return 1.0 / (1.0 + math.exp(-max(-Z_LIMIT, min(Z_LIMIT, z))))


@dataclass(frozen=True, slots=True)
class LogisticScorer:
    """A logistic model over named features; subclasses define the features and the default baselines."""

    weights: Mapping[str, float]
    # Cosine of an unrelated pair, per language pair or "same" / "cross": the zero of a dense feature.
    baselines: Mapping[str, float] = field(default_factory=dict)
    # Spread of that cosine: one unit of a dense feature.
    scales: Mapping[str, float] = field(default_factory=dict)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Self:
        """From a fitted weights file; a missing "baselines" or "scales" takes the class default."""
        return cls(**{name: dict(data[name]) for name in ("weights", "baselines", "scales") if name in data})

    def to_dict(self) -> dict:
        return {"weights": dict(self.weights), "baselines": dict(self.baselines), "scales": dict(self.scales)}

    def logit(self, features: Mapping[str, float]) -> float:
        return sum(self.weights.get(name, 0.0) * value for name, value in features.items())

    def score(self, features: Mapping[str, float]) -> float:
        return sigmoid(self.logit(features))

    @classmethod
    def shipped(cls, filename: str) -> Self:
        """The fitted model stored as assistant/data/`filename` (read once per process)."""
        return _load_shipped(cls, filename)


@functools.lru_cache(maxsize=8)
def _load_shipped(cls: type[LogisticScorer], filename: str) -> LogisticScorer:
    raw = resources.files("assistant").joinpath("data", filename).read_text(encoding="utf-8")
    return cls.from_dict(json.loads(raw))


def reload_shipped() -> None:
    """Forget the shipped models read so far: the next `shipped()` reads the files again (after a refit)."""
    _load_shipped.cache_clear()
