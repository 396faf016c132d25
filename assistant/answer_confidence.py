"""Answer confidence: how likely the answer about to be shown is the right one.

Retrieval confidence (assistant/confidence.py) estimates whether the help centre holds an answer at
all, from evidence calibrated on public question-answering data. What the customer needs judged is
narrower: is the passage we are about to quote the one that answers? Three more signals speak to
that, measured on help-centre questions written the way customers write (evals/data):

- the fused score of the best passage (language-centred cosine + lexical + its best sentence);
- its lead over the runner-up (a clear winner is right more often than one of several look-alikes);
- the share of the question's words the passage contains.

They are combined with the retrieval confidence (as a log-odds) by a logistic model fitted on the
help-centre dev split by `kb eval --answers --fit-confidence` (assistant/data/answer_confidence.json).
The thresholds that turn the score into "answer", "answer and offer a person" or "not in the help
centre" are set per knowledge base and language by assistant/calibration.py.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from assistant.confidence import ConfidenceModel
from assistant.scoring import LogisticScorer
from assistant.text_units import content_words, coverage, term_set
from assistant.types import RetrievedChunk

FEATURES = ("in_kb", "top_score", "second_margin", "lexical_coverage", "bias")
NO_RUNNER_UP_MARGIN = 0.05   # the lead of a passage that has no runner-up at all
# Fused scores sit on the cosine scale, about 0.70-0.95, and leads are hundredths: both are put on a
# unit scale so that one regularisation strength suits every weight.
SCORE_CENTRE, SCORE_UNIT = 0.80, 0.05
MARGIN_UNIT = 0.02


@dataclass(frozen=True, slots=True)
class AnswerConfidence(LogisticScorer):
    """Retrieval evidence + retrieval confidence -> P(the quoted passage answers the question)."""

    def features(self, question: str, hits: Sequence[RetrievedChunk], in_kb: float) -> dict[str, float]:
        if not hits:
            return {name: 0.0 for name in FEATURES} | {"bias": 1.0, "in_kb": _logit(0.0)}
        top = hits[0]
        runner_up = hits[1].score if len(hits) > 1 else top.score - NO_RUNNER_UP_MARGIN
        passage = term_set(f"{top.chunk.title}\n{top.chunk.text}")
        return {
            "in_kb": _logit(in_kb),
            "top_score": (top.score - SCORE_CENTRE) / SCORE_UNIT,
            "second_margin": (top.score - runner_up) / MARGIN_UNIT,
            "lexical_coverage": coverage(content_words(question), passage),
            "bias": 1.0,
        }


def answer_score(retrieval: ConfidenceModel, answer: AnswerConfidence, query: str, language: str,
                 hits: Sequence[RetrievedChunk]) -> float:
    """P(the answer from `hits` is right): retrieval confidence refined by the answer-confidence model."""
    in_kb = retrieval.score(retrieval.features(query, language, hits))
    return answer.score(answer.features(query, hits, in_kb))


def model_fingerprint(retrieval: ConfidenceModel, answer: AnswerConfidence) -> str:
    """Identifies the two models' weights: a calibration made with other weights is stale."""
    text = json.dumps([retrieval.to_dict(), answer.to_dict()], sort_keys=True)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def _logit(probability: float) -> float:
    p = min(max(probability, 1e-4), 1 - 1e-4)
    return math.log(p / (1 - p))


def default_answer_confidence() -> AnswerConfidence:
    return AnswerConfidence.shipped("answer_confidence.json")


def weights_of(values: Sequence[float]) -> Mapping[str, float]:
    """Weights in FEATURES order as the mapping the scorer stores."""
    return {name: round(float(v), 4) for name, v in zip(FEATURES, values, strict=True)}
