"""Answer confidence: a calibrated 0..1 score from retrieval evidence.

multilingual-e5 cosines are compressed (unrelated text still scores about 0.72-0.76) and their level
depends on the language pair (a Hausa question scores lower against English text than an English
one does), so the raw cosine is never shown as a probability. Dense features are centred and
scaled per question->passage language pair, joined by lexical evidence (do the question's words,
names and numbers occur in the best passage, in one sentence of it?) and by agreement between
the dense and the lexical ranking, and combined by a logistic model with a bias per language pair (a
Swahili question answered from an English article is weaker evidence than from a Swahili one).
Weights and pair baselines are fitted by `kb eval --escalation --calibrate` and stored in
assistant/data/confidence.json. Features use only the hits already retrieved: no extra embedding.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from assistant.scoring import LogisticScorer
from assistant.text_units import content_words, coverage, sentences, term_set
from assistant.types import RetrievedChunk

FEATURES = (
    "dense_top",          # best cosine, in baseline units for its language pair
    "dense_margin",       # best cosine minus the mean of the other hits, same units
    "lexical_coverage",   # share of the question's words found in the top passage
    "sentence_coverage",  # the same, for the best single sentence of the top passage
    "entity_coverage",    # share of the question's names and numbers found in the top passage
    "agreement",          # the top passage is first in the dense and in the lexical ranking
    "fused_top",          # fused rank score of the top passage (1 = first in both rankings)
    "lexical_margin",     # BM25 lead of the best passage over the runner-up, 0..1
    "cross_lingual",      # the top passage is in another language than the question
    "bias",
)
PAIR_BIAS = "pair_"  # plus one-hot "pair_<question lang>-<top passage lang>": a fitted offset per language pair
DEFAULT_BASELINES = {"same": 0.76, "cross": 0.74}
DEFAULT_SCALE = 0.05


@dataclass(frozen=True, slots=True)
class ConfidenceModel(LogisticScorer):
    """Retrieval evidence -> P(the help centre holds the answer), by a logistic model over FEATURES."""

    # Typical top cosine of a question whose answer is *not* indexed, per "q-p" language pair
    # (e.g. "ha-en"), with "same" / "cross" as the fallback for unseen pairs.
    baselines: Mapping[str, float] = field(default_factory=lambda: dict(DEFAULT_BASELINES))
    # Spread of that cosine per pair: one unit of `dense_top`.
    scales: Mapping[str, float] = field(default_factory=dict)

    def pair_baseline(self, language: str, passage_language: str) -> tuple[float, float]:
        """(centre, scale) of the top cosine for questions in `language` against `passage_language`."""
        pair = f"{language}-{passage_language}"
        kind = "same" if language == passage_language else "cross"
        centre = self.baselines.get(pair, self.baselines.get(kind, DEFAULT_BASELINES[kind]))
        scale = self.scales.get(pair, self.scales.get(kind, DEFAULT_SCALE))
        return centre, max(scale, 1e-3)

    def features(self, question: str, language: str, hits: Sequence[RetrievedChunk]) -> dict[str, float]:
        if not hits:
            return {name: 0.0 for name in FEATURES} | {"bias": 1.0}
        top = hits[0]
        dense_hits = sorted((h for h in hits if h.dense_score > 0), key=lambda h: h.dense_score, reverse=True)
        best = dense_hits[0] if dense_hits else top
        centre, scale = self.pair_baseline(language, best.chunk.language)
        dense_top = best.dense_score if dense_hits else centre
        rest = [h.dense_score for h in dense_hits[1:]] or [dense_top]
        words = content_words(question)
        names = content_words(question, names_only=True)
        sentence_terms = [term_set(s) for s in sentences(top.chunk.text)]
        passage = frozenset().union(term_set(top.chunk.title), *sentence_terms)  # tokenised once, per sentence
        return {
            "dense_top": (dense_top - centre) / scale,
            "dense_margin": (dense_top - sum(rest) / len(rest)) / scale,
            "lexical_coverage": coverage(words, passage),
            "sentence_coverage": max((coverage(words, terms) for terms in sentence_terms), default=0.0),
            "entity_coverage": coverage(names, passage, empty=0.5),
            "agreement": float(top.dense_rank == 1 and top.lexical_rank == 1),
            "fused_top": top.score,
            "lexical_margin": _lexical_margin(hits),
            "cross_lingual": float(top.chunk.language != language),
            "bias": 1.0,
        } | {f"{PAIR_BIAS}{language}-{top.chunk.language}": 1.0}


def _lexical_margin(hits: Sequence[RetrievedChunk]) -> float:
    scores = sorted((h.lexical_score for h in hits if h.lexical_score > 0), reverse=True)
    if not scores:
        return 0.0
    runner_up = scores[1] if len(scores) > 1 else 0.0
    return (scores[0] - runner_up) / scores[0]


def default_confidence_model() -> ConfidenceModel:
    return ConfidenceModel.shipped("confidence.json")
