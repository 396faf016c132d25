"""The scoring toolkit: shipped models give the same numbers as before it was shared; its helpers.

The expected values were computed with the code before `assistant.scoring` existed (each model had its own
sigmoid, loader and text helpers); a refactor that changes any feature or score fails here.
"""

from __future__ import annotations

import json
from importlib import resources

import numpy as np
import pytest
from langchain_core.embeddings import DeterministicFakeEmbedding

from assistant.claim_support import SupportModel, default_support_model
from assistant.confidence import ConfidenceModel, default_confidence_model
from assistant.escalation.frustration import LogisticWeights, lexical_features, load_model
from assistant.scoring import sigmoid
from assistant.types import Chunk, RetrievedChunk
from assistant.vectors import embed_passages, embed_query_vector, unit, unit_rows
from evals.logistic import fit_logistic

REFUNDS = Chunk("c1", "Refunds reach your card within 5-10 business days. Mobile money takes 1-3 days.",
                "docs/refunds.md", "Refunds", language="en")
SHIPPING = Chunk("c2", "Standard shipping takes 3-7 business days.", "docs/shipping.md", "Shipping", language="en")
HITS = (RetrievedChunk(REFUNDS, 0.91, 0.86, 7.5, 1, 1), RetrievedChunk(SHIPPING, 0.83, 0.81, 2.0, 2, 2))


def _vectors(seed: int, size: int = 384) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    a = rng.normal(size=size)
    return a, a + rng.normal(scale=0.8, size=size)


@pytest.mark.parametrize(("question", "language", "expected"), [
    ("How long does a refund to my Visa card take?", "en", 0.3711871174623865),
    ("Refund ya kadi inachukua siku ngapi?", "sw", 0.9659466905178907),
])
def test_confidence_scores_are_unchanged(question, language, expected):
    model = default_confidence_model()
    assert model.score(model.features(question, language, HITS)) == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize(("claim", "language", "expected"), [
    ("Refunds reach your card within 5-10 business days.", "en", 0.6201284615254465),
    ("Pesa hurudishwa kwa kadi ndani ya siku 5-10.", "sw", 0.9178820548993207),
])
def test_citation_support_scores_are_unchanged(claim, language, expected):
    model = default_support_model()
    claim_vector, chunk_vector = _vectors(7)
    score = model.score(model.features(claim, language, claim_vector, REFUNDS, chunk_vector))
    assert score == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize(("weights", "text", "language", "expected"), [
    ("lexical_only", "This is the THIRD time I ask!!! Useless service", "en", 0.9985378373017091),
    ("lexical_only", "Asante sana, imesaidia", "sw", 0.41242207489409466),
    ("with_embeddings", "This is the THIRD time I ask!!! Useless service", "en", 0.9980674432045427),
    ("with_embeddings", "Asante sana, imesaidia", "sw", 0.47739640583447984),
])
def test_frustration_probabilities_are_unchanged(weights, text, language, expected):
    model = LogisticWeights.from_dict(load_model()[weights])
    features = lexical_features(text, language)
    vector = None
    if model.embedding_weights is not None:
        features = np.append(features, 0.12)  # a seed similarity
        vector, _ = _vectors(11, len(model.embedding_weights))
        vector = vector / np.linalg.norm(vector)
    assert model.probability(features, vector) == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize(("model_class", "filename"), [(ConfidenceModel, "confidence.json"),
                                                       (SupportModel, "support.json")])
def test_shipped_weights_files_load_unchanged(model_class, filename):
    raw = json.loads(resources.files("assistant").joinpath("data", filename).read_text(encoding="utf-8"))
    model = model_class.shipped(filename)
    assert model.to_dict() == {key: raw[key] for key in ("weights", "baselines", "scales")}
    assert model_class.from_dict({"weights": {"bias": 0.0}}) == model_class({"bias": 0.0})  # class defaults


def test_sigmoid_is_clipped_and_symmetric():
    assert sigmoid(0.0) == 0.5
    assert sigmoid(1e6) == sigmoid(30.0) and sigmoid(-1e6) == sigmoid(-30.0) > 0.0
    assert sigmoid(2.0) + sigmoid(-2.0) == pytest.approx(1.0)


def test_vectors_helpers_use_list_methods_of_any_langchain_embedder():
    fake = DeterministicFakeEmbedding(size=16)
    assert np.allclose(embed_query_vector(fake, "refund"), fake.embed_query("refund"))
    assert embed_passages(fake, ["a", "b"]).shape == (2, 16)
    assert np.linalg.norm(unit([3.0, 4.0])) == pytest.approx(1.0) and not unit([0.0, 0.0]).any()
    rows = unit_rows([[3.0, 4.0], [0.0, 0.0]])
    assert rows.dtype == np.float32 and rows[0] == pytest.approx([0.6, 0.8]) and not rows[1].any()


def test_fit_logistic_recovers_the_weights_that_generated_the_labels():
    rng = np.random.default_rng(5)
    x = np.hstack([rng.normal(size=(4000, 2)), np.ones((4000, 1))])
    y = (rng.random(4000) < 1 / (1 + np.exp(-(x @ [2.0, -1.0, 0.5])))).astype(float)
    assert fit_logistic(x, y, l2=0.0) == pytest.approx([2.0, -1.0, 0.5], abs=0.25)
