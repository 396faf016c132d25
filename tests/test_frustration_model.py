"""The frustration model's n-gram evidence, its shipped files, and the fit's out-of-fold guard."""

from __future__ import annotations

import json
from importlib import resources

import numpy as np
import pytest

from assistant.escalation.frustration import (
    LEXICAL_FEATURES,
    MODEL_FILE,
    NGRAM_BUCKETS,
    lexical_features,
    ngram_buckets,
    ngram_evidence,
    ngram_table_digest,
    shipped_ngram_table,
)
from evals.embedding_cache import CachedEmbeddings
from evals.frustration_fit import (
    NGRAM_COLUMN,
    TrainingSet,
    _fit,
    add_ngram_evidence,
    auc,
    build_training_set,
    cross_fitted_scores,
    ngram_table,
    predict,
)


def test_buckets_are_stable_sorted_unique_and_in_range():
    buckets = ngram_buckets("Hii ni mbaya sana!!! Hii ni mbaya")
    assert buckets.tolist() == sorted(set(buckets.tolist()))
    assert 0 <= buckets.min() and buckets.max() < NGRAM_BUCKETS
    # crc32, not Python's salted hash(): the same text maps to the same buckets in every process.
    assert ngram_buckets("Hii ni mbaya sana!!! Hii ni mbaya").tolist() == buckets.tolist()
    assert ngram_buckets("HII NI MBAYA SANA!!! hii ni mbaya").tolist() == buckets.tolist()  # case-folded
    assert len(ngram_buckets("")) == 0 and ngram_evidence("", np.ones(NGRAM_BUCKETS)) == 0.0


def test_evidence_is_the_mean_weight_of_the_text_buckets():
    table = np.zeros(NGRAM_BUCKETS)
    angry = ngram_buckets("hasira kali")
    table[angry] = 2.0
    assert ngram_evidence("hasira kali", table) == pytest.approx(2.0)
    assert 0.0 < ngram_evidence("hasira kali leo", table) < 2.0   # shares some buckets, not all
    assert ngram_evidence("hasira kali", None) == 0.0             # no table: no evidence


def test_shipped_table_is_the_one_the_weights_were_fitted_with():
    table = shipped_ngram_table()
    assert table is not None and table.shape == (NGRAM_BUCKETS,)
    model = json.loads(resources.files("assistant.escalation").joinpath("data", MODEL_FILE).read_text("utf-8"))
    assert model["ngram_table_sha256"] == ngram_table_digest(table)
    assert "ngram_evidence" in model["with_embeddings"]["names"] and "ngram_evidence" in model["lexical_only"]["names"]


def test_shipped_table_leans_frustrated_on_abuse_and_calm_on_thanks():
    # Held-out-style sanity check on the real table: words seen in negative training tweets score higher.
    table = shipped_ngram_table()
    assert ngram_evidence("this is the worst service, I hate it, useless idiots", table) > \
        ngram_evidence("thank you so much, lovely day, great help", table)


def test_lexical_features_take_the_given_table_over_the_shipped_one():
    table = np.full(NGRAM_BUCKETS, 0.5)
    features = lexical_features("where is my parcel", "en", table)
    assert len(features) == len(LEXICAL_FEATURES)
    assert features[LEXICAL_FEATURES.index("ngram_evidence")] == pytest.approx(0.5)
    assert lexical_features("where is my parcel", "en", np.zeros(0))[NGRAM_COLUMN] == 0.0


def _random_text_set(n: int = 400) -> TrainingSet:
    """Rows whose texts share no n-grams and whose labels are random: nothing real to learn."""
    rng = np.random.default_rng(7)
    labels = rng.integers(0, 2, n)
    texts = [f"tok{i}x{rng.integers(1_000_000)}" for i in range(n)]
    return TrainingSet(
        lexical=np.zeros((n, len(LEXICAL_FEATURES) + 1)), vectors=np.zeros((n, 4)), labels=labels,
        sources=np.array(["set:en"] * n), folds=np.arange(n) % 4, trainable=np.ones(n, dtype=bool),
        buckets=[ngram_buckets(t) for t in texts], keys=[f"set:{i}" for i in range(n)],
    )


def test_training_rows_get_out_of_fold_evidence_not_their_own_label():
    data = _random_text_set()
    in_sample = ngram_table(data, np.arange(len(data.labels)), np.ones(len(data.labels)))
    memorised = [in_sample[b].mean() for b in data.buckets]
    assert auc(np.array(memorised), data.labels) > 0.95       # an in-sample table "knows" every label
    add_ngram_evidence(data)
    assert abs(auc(data.lexical[:, NGRAM_COLUMN], data.labels) - 0.5) < 0.1   # out of fold: chance, as it must be


def test_cross_fitted_dev_scores_come_from_models_that_did_not_see_the_row(tmp_path, embeddings):
    """Random labels: a model scoring its own training rows finds a pattern; the cross-fitted scores must not."""
    rng = np.random.default_rng(3)
    vocabulary = ["parcel", "refund", "blue", "river", "Monday", "phone", "garden", "ticket", "lamp", "coffee",
                  "window", "bread", "road", "music", "paper", "stone", "cloud", "chair", "apple", "train"]
    rows = [{"id": f"r{i}", "lang": "en", "text": " ".join(rng.choice(vocabulary, 6)) + f" {i}",
             "labels": ["anger"] if rng.random() < 0.5 else ["neutral"]} for i in range(240)]
    folder = tmp_path / "goemotions"
    folder.mkdir()
    (folder / "test.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    selection = {"embedding_l2": 0.3, "seed_weight": 0.3, "bias_shift": 0.0}
    model = {"fit": {"split_seed": 13, "selection": {"with_embeddings": selection}}}
    embeddings = CachedEmbeddings(embeddings, tmp_path / "cache")   # the 280 seed messages are embedded once
    cross = cross_fitted_scores(tmp_path, embeddings, model)
    data, _ = build_training_set(tmp_path, embeddings)
    add_ngram_evidence(data)
    public = np.array([not k.startswith("seed:") for k in data.keys])
    assert set(cross) == {k for k, p in zip(data.keys, public, strict=False) if p}
    in_sample = predict(_fit(data, data.trainable, True, 0.3, 0.3), data, public)
    labels = data.labels[public]
    assert auc(in_sample, labels) > 0.9                       # memorised
    assert abs(auc(np.array([cross[k] for k in np.array(data.keys)[public]]), labels) - 0.5) < 0.2
