"""The fitted confidence model on a tiny real Chroma index: evidence raises the score, its absence lowers it."""

from __future__ import annotations

import json
import math
from importlib import resources

import pytest

from assistant.confidence import FEATURES, PAIR_BIAS, ConfidenceModel, default_confidence_model
from assistant.config import Settings
from evals.datasets import Passage
from evals.out_of_kb import build_index

REFUNDS = {
    "en": "Refunds for card payments are paid back to the same card within 5 to 7 working days after the "
          "returned parcel reaches our warehouse.",
    "ar": "تُعاد المبالغ المدفوعة بالبطاقة إلى البطاقة نفسها خلال 5 إلى 7 أيام عمل "
          "بعد وصول الطرد المرتجع إلى مستودعنا.",
    "sw": "Malipo ya kadi hurejeshwa kwenye kadi ile ile ndani ya siku 5 hadi 7 za kazi baada ya kifurushi "
          "kilichorudishwa kufika ghalani kwetu.",
}
OTHER_PASSAGES = [
    Passage("en-password", "To reset your password, open Settings, choose Security, press Reset password and follow "
            "the link we send to your email address.", "Password reset", "en"),
    Passage("en-delivery", "Standard delivery inside Kenya takes 2 to 4 days. Express delivery to Nairobi and "
            "Mombasa arrives the next working day.", "Delivery", "en"),
    Passage("ar-password", "لإعادة تعيين كلمة المرور، افتح الإعدادات واختر الأمان واضغط على إعادة تعيين كلمة المرور "
            "واتبع الرابط المرسل إلى بريدك الإلكتروني.", "كلمة المرور", "ar"),
]
REFUND_PASSAGES = [Passage(f"{lang}-refunds", text, "Refunds", lang) for lang, text in REFUNDS.items()]
ASKED = {
    "en": "How many working days do card refunds take?",
    "ar": "كم يوم عمل يستغرق استرداد المبالغ المدفوعة بالبطاقة؟",
    "sw": "Malipo ya kadi hurejeshwa baada ya siku ngapi?",
}
UNRELATED = {
    "en": "Can I bring my dog to the opera house on Saturday?",
    "ar": "هل يمكنني اصطحاب كلبي إلى دار الأوبرا يوم السبت؟",
    "sw": "Je, naweza kumleta mbwa wangu kwenye ukumbi wa opera Jumamosi?",
}
THRESHOLD = Settings().confidence_threshold


@pytest.fixture(scope="module")
def retrievers(embeddings, tmp_path_factory):
    """A help centre with the refunds article in three languages, and the same without it."""
    root = tmp_path_factory.mktemp("confidence")
    return {
        "with": build_index(OTHER_PASSAGES + REFUND_PASSAGES, embeddings, root / "with"),
        "without": build_index(OTHER_PASSAGES, embeddings, root / "without"),
    }


def confidence(retriever, question: str, language: str) -> float:
    model = default_confidence_model()
    hits = retriever.retrieve(question, k=6, language=language).chunks
    return model.score(model.features(question, language, hits))


def test_fitted_weights_load_with_their_provenance():
    model = default_confidence_model()
    assert set(FEATURES) <= set(model.weights)
    for pair in ("en-en", "ar-ar", "ha-en", "sw-en"):
        assert f"{PAIR_BIAS}{pair}" in model.weights
        assert 0.7 < model.baselines[pair] < 0.95  # e5 cosines are compressed: unrelated text scores high
    raw = json.loads(resources.files("assistant").joinpath("data", "confidence.json").read_text(encoding="utf-8"))
    assert "dev" in raw["fitted"]["split"] and raw["fitted"]["dev_questions"]["en"]["questions"] > 100


@pytest.mark.parametrize("language", ["en", "ar", "sw"])
def test_question_with_a_matching_passage_scores_above_the_threshold(retrievers, language):
    assert confidence(retrievers["with"], ASKED[language], language) >= THRESHOLD


@pytest.mark.parametrize("language", ["en", "ar", "sw"])
def test_unrelated_question_scores_below_the_threshold(retrievers, language):
    assert confidence(retrievers["with"], UNRELATED[language], language) < THRESHOLD


@pytest.mark.parametrize("language", ["en", "ar"])
def test_removing_the_answer_from_the_index_lowers_the_score_below_the_threshold(retrievers, language):
    with_answer = confidence(retrievers["with"], ASKED[language], language)
    without_answer = confidence(retrievers["without"], ASKED[language], language)
    assert without_answer < THRESHOLD <= with_answer


def test_features_are_finite_and_no_hits_means_low_confidence(retrievers):
    model = default_confidence_model()
    for language, question in ASKED.items():
        hits = retrievers["with"].retrieve(question, k=6, language=language).chunks
        features = model.features(question, language, hits)
        assert set(FEATURES) <= set(features)
        assert all(math.isfinite(v) for v in features.values())
    empty = model.features("anything at all", "en", ())
    assert all(math.isfinite(v) for v in empty.values())
    assert model.score(empty) < THRESHOLD


def test_unseen_language_pair_falls_back_to_same_or_cross_baseline():
    model = ConfidenceModel(weights={}, baselines={"same": 0.8, "cross": 0.7, "en-en": 0.83}, scales={"same": 0.02})
    assert model.pair_baseline("en", "en") == (0.83, 0.02)
    assert model.pair_baseline("et", "et") == (0.8, 0.02)
    assert model.pair_baseline("et", "en")[0] == 0.7
