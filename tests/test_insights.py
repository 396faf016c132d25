"""Grouping unanswered questions by meaning (greedy cosine clustering)."""

from __future__ import annotations

import numpy as np
import pytest

from assistant.insights import group_questions

# Hand-made 3-d "embeddings": two topics plus one outlier.
VECTORS = {
    "how do i pay with m-pesa": [1.0, 0.0, 0.0],
    "can i pay using mpesa?": [0.97, 0.2, 0.0],
    "Lipa kwa M-Pesa je?": [0.95, 0.25, 0.05],
    "where is my parcel": [0.0, 1.0, 0.0],
    "my parcel has not arrived": [0.1, 0.98, 0.0],
    "do you sell spaceships": [0.0, 0.0, 1.0],
}


def fake_embed(texts):
    return np.array([VECTORS[t.lower()] if t.lower() in VECTORS else VECTORS[t] for t in texts], dtype=np.float32)


def test_groups_by_similarity_biggest_first():
    questions = list(VECTORS)
    languages = ["en", "en", "sw", "en", "en", "en"]
    groups = group_questions(questions, fake_embed, threshold=0.85, languages=languages)
    assert [g["count"] for g in groups] == [3, 2, 1]
    assert set(groups[0]["examples"]) == {"how do i pay with m-pesa", "can i pay using mpesa?", "Lipa kwa M-Pesa je?"}
    assert groups[0]["languages"] == ["en", "sw"]
    assert groups[0]["label"] in groups[0]["examples"]
    assert groups[2]["label"] == "do you sell spaceships"


def test_threshold_controls_merging():
    questions = list(VECTORS)
    assert len(group_questions(questions, fake_embed, threshold=0.999)) == 6
    assert len(group_questions(questions, fake_embed, threshold=-1.0)) == 1


def test_duplicates_are_embedded_once_and_counted():
    seen = []

    def embed(texts):
        seen.extend(texts)
        return fake_embed(texts)

    groups = group_questions(["Where is my parcel", "where is my parcel", "WHERE IS MY PARCEL"], embed)
    assert len(seen) == 1
    assert groups[0]["count"] == 3
    assert len(groups[0]["examples"]) == 3
    assert groups[0]["languages"] == []


def test_empty_input_and_bad_embedder():
    assert group_questions([], fake_embed) == []
    assert group_questions(["  ", ""], fake_embed) == []
    with pytest.raises(ValueError, match="Expected embed"):
        group_questions(["where is my parcel"], lambda texts: np.zeros((2, 3)))
    with pytest.raises(ValueError, match="one language per question"):
        group_questions(["where is my parcel"], fake_embed, languages=[])


def test_real_multilingual_embeddings_group_paraphrases(embeddings):
    questions = [
        "How can I pay with M-Pesa?",
        "Can I pay using M-Pesa?",
        "Is it possible to pay through M-Pesa?",
        "What is the weather on Mars?",
    ]
    groups = group_questions(questions, lambda ts: [embeddings.embed_query(t) for t in ts], threshold=0.85)
    assert groups[0]["count"] == 3
    assert "What is the weather on Mars?" not in groups[0]["examples"]
