"""Fitting the confidence model: pair baselines, logistic weights (numpy Newton steps), thresholds.

The target is "the answer is in the knowledge base" (1) against "it is not" (0), so the score is
P(answerable | retrieval evidence) at the protocol's mix of answerable and out-of-KB questions.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence

import numpy as np

from assistant.confidence import FEATURES, PAIR_BIAS
from evals.logistic import fit_logistic

L2 = 1.0               # ridge penalty on every weight but the shared bias
MIN_PAIR_QUESTIONS = 20
SAFETY_Z = 1.28       # one-sided 90%: see align_pair_biases
FOLDS = 5
FOLD_SEED = 13


def fit_baselines(rows: Sequence[tuple[str, str, float, bool]]) -> tuple[dict[str, float], dict[str, float]]:
    """Per "q-p" pair (and "same"/"cross"): median and spread of the top cosine of out-of-KB questions.

    `rows` are (question language, top passage language, top cosine, out_of_kb).
    """
    by_key: dict[str, list[float]] = defaultdict(list)
    for language, passage_language, cosine, out_of_kb in rows:
        if not out_of_kb or cosine <= 0:
            continue
        by_key[f"{language}-{passage_language}"].append(cosine)
        by_key["same" if language == passage_language else "cross"].append(cosine)
    baselines, scales = {}, {}
    for key, values in sorted(by_key.items()):
        if len(values) < MIN_PAIR_QUESTIONS and key not in ("same", "cross"):
            continue
        baselines[key] = round(float(np.median(values)), 4)
        scales[key] = round(max(float(np.std(values)), 0.005), 4)
    return baselines, scales


def pair_key(features: Mapping[str, float]) -> str:
    """The language-pair bias feature set in `features` ("" when none, e.g. no hits)."""
    return next((name for name in features if name.startswith(PAIR_BIAS)), "")


def feature_names(features: Sequence[Mapping[str, float]]) -> list[str]:
    return list(FEATURES) + sorted({pair_key(f) for f in features} - {""})


def design_matrix(features: Sequence[Mapping[str, float]], names: Sequence[str]) -> np.ndarray:
    return np.array([[f.get(name, 0.0) for name in names] for f in features], dtype=float)


def language_weights(languages: Sequence[str]) -> np.ndarray:
    """Sample weights giving every language the same total weight (English must not drown Hausa)."""
    counts: dict[str, int] = defaultdict(int)
    for lang in languages:
        counts[lang] += 1
    w = np.array([1.0 / counts[lang] for lang in languages])
    return w * len(languages) / w.sum()


def fit_weights(
    features: Sequence[Mapping[str, float]], answerable: Sequence[bool], languages: Sequence[str], l2: float = L2
) -> dict[str, float]:
    """Logistic weights by feature name, with a bias per language pair; each language weighs the same."""
    names = feature_names(features)
    x = design_matrix(features, names)
    y = np.asarray(answerable, dtype=float)
    w = fit_logistic(x, y, language_weights(languages), l2, free=[names.index("bias")])
    return {name: round(float(v), 4) for name, v in zip(names, w, strict=False)}


def escalation_threshold(answerable_scores: Sequence[float], max_rate: float) -> float:
    """The highest threshold escalating (score < threshold) at most `max_rate` of the answerable scores."""
    scores = np.sort(np.asarray(answerable_scores, dtype=float))
    if scores.size == 0:
        return 0.0
    allowed = int(np.floor(max_rate * scores.size))  # questions we may escalate
    return float(scores[allowed]) if allowed < scores.size else float(scores[-1]) + 1e-6


def out_of_fold_logits(
    features: Sequence[Mapping[str, float]],
    answerable: Sequence[bool],
    languages: Sequence[str],
    groups: Sequence[str],
    folds: int = FOLDS,
    l2: float = L2,
) -> np.ndarray:
    """Logits of each question from a model fitted without its passage group (k-fold by group).

    In-sample logits flatter the questions the model was fitted on; the operating point is set on
    these honest ones instead, so it holds on questions the model has not seen.
    """
    names = feature_names(features)
    x = design_matrix(features, names)
    y = np.asarray(answerable, dtype=float)
    order = sorted(set(groups))
    fold_of = {g: i % folds for i, g in enumerate(np.random.default_rng(FOLD_SEED).permutation(order))}
    fold = np.array([fold_of[g] for g in groups])
    logits = np.zeros(len(y))
    for k in range(folds):
        train, held = fold != k, fold == k
        if not held.any() or len(set(y[train])) < 2:
            continue
        sw = language_weights([lang for lang, t in zip(languages, train, strict=False) if t])
        w = fit_logistic(x[train], y[train], sw, l2, free=[names.index("bias")])
        logits[held] = x[held] @ w
    return logits


def align_pair_biases(
    weights: dict[str, float],
    logits: Sequence[float],
    features: Sequence[Mapping[str, float]],
    answerable: Sequence[bool],
    threshold: float,
    max_rate: float,
    min_questions: int = MIN_PAIR_QUESTIONS,
    z: float = SAFETY_Z,
) -> dict[str, float]:
    """Shift the pair biases of each question language so that `threshold` escalates at most
    `max_rate` of that language's answerable questions.

    One product threshold then means the same operating point in every language, though their
    score distributions differ (Hausa->English evidence is weaker than English->English). The
    shift is per question language, not per pair: rarer pairs (an Arabic question whose best
    passage is English) are too few to place a quantile on. `logits` should be out-of-fold. The
    dev rate aimed at is `max_rate` less `z` standard errors, so that a fresh sample (the test
    split, real traffic) stays within `max_rate` more often than not, even for small languages.
    """
    target = float(np.log(threshold / (1 - threshold)))
    aligned = dict(weights)
    keys = [pair_key(f) for f in features]
    languages = [k[len(PAIR_BIAS):].split("-")[0] if k else "" for k in keys]
    for lang in sorted(set(languages) - {""}):
        own = [float(v) for v, ok, lg in zip(logits, answerable, languages, strict=False) if ok and lg == lang]
        if len(own) < min_questions:
            continue
        rate = max(0.0, max_rate - z * float(np.sqrt(max_rate * (1 - max_rate) / len(own))))
        shift = target - escalation_threshold(own, rate) + 1e-3  # in logit units; +1e-3: the cut lands above
        for key in {k for k, lg in zip(keys, languages, strict=False) if lg == lang}:
            aligned[key] = round(aligned.get(key, 0.0) + shift, 4)
    return aligned
