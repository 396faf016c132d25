"""Fit the answer-confidence weights (assistant/data/answer_confidence.json) on the help-centre dev split.

Every dev question is answered by the product with nothing held back (no abstaining), and labelled
1 when the answer shows a gold fact and cites a gold source, 0 otherwise (out-of-KB questions are
always 0). The features are those of assistant/answer_confidence.py; the fit is an L2-regularised
logistic regression. Run by `kb eval --answers --fit-confidence`; test questions are never read.
"""

from __future__ import annotations

import datetime
import json
import tempfile
import uuid
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from langchain_core.embeddings import Embeddings

from assistant.answer_confidence import FEATURES, weights_of
from assistant.config import Settings
from assistant.followups import offline_search_query
from evals.answer_cases import SPLIT_SEED, AnswerCase, fact_visible
from evals.answers import build_kb
from evals.logistic import fit_logistic
from evals.metrics import roc_auc
from evals.paths import REPO_ROOT

L2 = 1.0
MODEL_PATH = REPO_ROOT / "assistant" / "data" / "answer_confidence.json"


def labelled_features(corpus_dir: Path, cases: Sequence[AnswerCase], embeddings: Embeddings,
                      base: Settings | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(features in FEATURES order, 1 = answered right) for every case, answered with nothing held back."""
    settings = (base or Settings()).with_overrides(abstain_threshold=0.0, confidence_threshold=0.0)
    rows, labels = [], []
    with tempfile.TemporaryDirectory(prefix="answer-confidence-") as tmp:
        kb = build_kb(corpus_dir, Path(tmp), embeddings, base=settings)
        assistant = kb.assistant
        for case in cases:
            session = f"fit-{uuid.uuid4().hex[:8]}"
            if case.previous:
                assistant.reply(session, case.previous)
            answer = assistant.reply(session, case.question)
            query = offline_search_query(case.previous or None, case.question)
            in_kb = assistant.confidence_model.score(
                assistant.confidence_model.features(query, answer.language, answer.retrieved))
            features = assistant.answer_confidence.features(query, answer.retrieved, in_kb)
            right = (case.answerable and fact_visible(answer.text, case.facts)
                     and bool({c.source for c in answer.citations} & set(case.gold_sources)))
            rows.append([features[name] for name in FEATURES])
            labels.append(float(right))
    return np.array(rows), np.array(labels)


def fit(x: np.ndarray, y: np.ndarray) -> dict[str, float]:
    bias = FEATURES.index("bias")
    return dict(weights_of(fit_logistic(x, y, l2=L2, free=[bias])))


def fit_and_save(corpus_dir: Path, cases: Sequence[AnswerCase], embeddings: Embeddings,
                 path: Path = MODEL_PATH) -> dict:
    """Fit on `cases` (the dev split) and write the weights with their provenance; returns the file's content."""
    x, y = labelled_features(corpus_dir, cases, embeddings)
    weights = fit(x, y)
    z = x @ np.array([weights[name] for name in FEATURES])
    model = {
        "note": "Fitted by `kb eval --answers --fit-confidence`; see docs/evaluation/answers.md.",
        "fitted": {
            "date": datetime.date.today().isoformat(),
            "data": f"help-centre dev split (evals/data/helpcentre_questions.jsonl, split seed {SPLIT_SEED})",
            "questions": len(y), "answered_right": int(y.sum()), "l2": L2,
            "dev_auc": round(float(roc_auc(z[y == 1], z[y == 0]) or 0.0), 4),
        },
        "weights": weights,
    }
    path.write_text(json.dumps(model, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    return model
