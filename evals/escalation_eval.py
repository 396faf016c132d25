"""`kb eval --escalation`: out-of-KB detection with confidence calibration, plus frustration detection.

Part (a) runs the out-of-KB protocol of `out_of_kb.py` and scores every question with the
confidence model; with `calibrate=True` it first refits that model on the dev split and writes it
to assistant/data/confidence.json. Part (b) is the frustration evaluation, owned elsewhere.
"""

from __future__ import annotations

import datetime
import json
import logging
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from langchain_core.embeddings import Embeddings

from assistant.confidence import ConfidenceModel
from assistant.config import Settings
from assistant.scoring import reload_shipped
from evals import confidence_fit
from evals.datasets import DEV_FRACTION, SPLIT_SEED, split_cases
from evals.embedding_cache import CachedEmbeddings
from evals.escalation_report import format_escalation_report
from evals.frustration_eval import run_frustration_eval
from evals.out_of_kb import (
    GRANULARITIES,
    HOLDOUT_FRACTION,
    HOLDOUT_SEED,
    SQUAD_SAMPLE,
    TOP_K,
    Protocol,
    RetrievedCase,
    adversarial_summary,
    build_index,
    by_language,
    escalated_by_retrieval,
    load_protocol,
    retrieval_summary,
    retrieve_cases,
)
from evals.paths import cached_embeddings

__all__ = ["run_escalation_eval", "format_escalation_report", "run_out_of_kb_eval"]

logger = logging.getLogger(__name__)

MAX_ANSWERABLE_ESCALATED = 0.10   # product target: offer a person to at most 10% of answerable questions
MAX_ANSWERABLE_ABSTAINED = 0.03   # saying "not in the help centre" must be rarer still
TARGET_F1 = 0.85


@dataclass(slots=True)
class ProtocolRun:
    protocol: Protocol
    rows: list[RetrievedCase]
    seconds: dict[str, float]


def run_escalation_eval(
    eval_dir: Path, embeddings: Embeddings, settings: Settings, limit: int | None = None, calibrate: bool = False
) -> dict:
    """Out-of-KB detection and citation support (with `calibrate`, both models are refit first), plus frustration."""
    from evals.citation_support import run_citation_support_eval

    result = {"out_of_kb": run_out_of_kb_eval(eval_dir, embeddings, settings, limit=limit, calibrate=calibrate)}
    result["citation_support"] = run_citation_support_eval(
        Path(eval_dir), cached_embeddings(embeddings), settings.confidence_threshold, calibrate=calibrate)
    result["frustration"] = _frustration(eval_dir, embeddings, limit)
    return result


def _frustration(eval_dir: Path, embeddings: Embeddings, limit: int | None) -> dict:
    kwargs = {"cap": limit} if limit is not None else {}
    return run_frustration_eval(Path(eval_dir), cached_embeddings(embeddings), **kwargs)


# ---- part (a) -------------------------------------------------------------------------------


def run_out_of_kb_eval(
    eval_dir: Path,
    embeddings: Embeddings,
    settings: Settings,
    limit: int | None = None,
    calibrate: bool = False,
    cache_dir: Path | None = None,
    model_path: Path | None = None,
) -> dict:
    """Out-of-KB figures on the test split; with `calibrate`, refit on dev and save to `model_path` first."""
    started = time.monotonic()
    embedder = cached_embeddings(embeddings, cache_dir)
    runs = {g: _run_protocol(Path(eval_dir), embedder, limit, g) for g in GRANULARITIES}
    rows = {g: [r for r in run.rows if not r.item.impossible] for g, run in runs.items()}
    dev, test = split_dev_test(rows["passage"])
    article_test = split_dev_test(rows["article"])[1]
    impossible = [r for r in runs["passage"].rows if r.item.impossible]
    squad_answerable = [r for r in test if r.item.source == "squad" and r.item.in_kb]
    previous = load_confidence_model(model_path)
    models = {"current": previous}
    fit_seconds = 0.0
    if calibrate:
        t0 = time.monotonic()
        fitted = calibrate_model(dev, settings.confidence_threshold)
        fit_seconds = time.monotonic() - t0
        path = save_model(fitted, _provenance(runs["passage"].protocol, dev, settings, limit), model_path)
        logger.info("confidence model written to %s", path)
        reload_shipped()  # later replies in this process use the refit
        models = {"before": previous, "after": fitted}
    evaluated = {
        name: evaluate_model(model, dev, test, article_test, (impossible, squad_answerable), settings)
        for name, model in models.items()
    }
    return {
        "setup": _setup(runs, dev, test, settings, limit, calibrate),
        "retrieval": retrieval_summary(test),
        "models": evaluated,
        "targets": {"f1": TARGET_F1, "max_answerable_escalated": MAX_ANSWERABLE_ESCALATED},
        "timings": {
            **{f"{g}_{k}": v for g, run in runs.items() for k, v in run.seconds.items()},
            "fit_s": round(fit_seconds, 2),
            "embedded_now": embedder.computed,
            "total_s": round(time.monotonic() - started, 1),
        },
    }


def _run_protocol(eval_dir: Path, embedder: CachedEmbeddings, limit: int | None, granularity: str) -> ProtocolRun:
    t0 = time.monotonic()
    protocol = load_protocol(eval_dir, limit=limit, granularity=granularity)
    with tempfile.TemporaryDirectory(prefix="kb-ookb-", ignore_cleanup_errors=True) as tmp:
        t1 = time.monotonic()
        retriever = build_index(protocol.passages, embedder, Path(tmp))
        t2 = time.monotonic()
        rows = retrieve_cases(retriever, protocol.cases)
        t3 = time.monotonic()
    return ProtocolRun(protocol, rows, {
        "load_s": round(t1 - t0, 2), "index_s": round(t2 - t1, 2), "retrieve_s": round(t3 - t2, 2),
        "retrieve_ms_per_question": round(1000 * (t3 - t2) / max(len(rows), 1), 2),
    })


def split_dev_test(rows: Sequence[RetrievedCase]) -> tuple[list[RetrievedCase], list[RetrievedCase]]:
    """The retrieval evaluation's seeded 30/70 question split, so tuning never sees a test question."""
    dev_ids = {c.id for c in split_cases([r.item.case for r in rows], "dev")}
    return [r for r in rows if r.item.case.id in dev_ids], [r for r in rows if r.item.case.id not in dev_ids]


def features_of(model: ConfidenceModel, rows: Sequence[RetrievedCase]) -> list[dict[str, float]]:
    return [model.features(r.item.case.user_input, r.item.case.language, r.hits) for r in rows]


def scores_of(model: ConfidenceModel, rows: Sequence[RetrievedCase]) -> list[float]:
    return [model.score(f) for f in features_of(model, rows)]


def evaluate_model(
    model: ConfidenceModel,
    dev: Sequence[RetrievedCase],
    test: Sequence[RetrievedCase],
    article_test: Sequence[RetrievedCase],
    adversarial: tuple[Sequence[RetrievedCase], Sequence[RetrievedCase]],
    settings: Settings,
) -> dict[str, Any]:
    """Test-split figures at the configured thresholds, and the thresholds dev would recommend."""
    offer, abstain = settings.confidence_threshold, settings.abstain_threshold
    t0 = time.perf_counter()
    test_scores = scores_of(model, test)
    per_question_us = 1e6 * (time.perf_counter() - t0) / max(len(test), 1)
    recommended = {
        "offer": recommend_threshold(model, dev, MAX_ANSWERABLE_ESCALATED),
        "abstain": recommend_threshold(model, dev, MAX_ANSWERABLE_ABSTAINED),
    }
    impossible, answerable = adversarial
    return {
        "thresholds": {"offer": offer, "abstain": abstain},
        "recommended": recommended,
        "test": by_language(test, test_scores, offer),
        "test_abstain": by_language(test, test_scores, abstain),
        "test_recommended": by_language(test, test_scores, recommended["offer"]),
        "article_test": by_language(article_test, scores_of(model, article_test), offer),
        "escalated_by_retrieval": escalated_by_retrieval(test, test_scores, offer),
        "adversarial": adversarial_summary(
            impossible, answerable, (scores_of(model, impossible), scores_of(model, answerable)),
            (features_of(model, impossible), features_of(model, answerable)), offer,
        ),
        "score_us_per_question": round(per_question_us, 1),
    }


# ---- calibration ----------------------------------------------------------------------------


def calibrate_model(
    dev: Sequence[RetrievedCase], offer_threshold: float, max_rate: float = MAX_ANSWERABLE_ESCALATED
) -> ConfidenceModel:
    """Pair baselines, logistic weights with a bias per language pair, then biases aligned on `offer_threshold`."""
    rows = []
    for r in dev:
        dense = [h for h in r.hits if h.dense_score > 0]
        if dense:
            best = max(dense, key=lambda h: h.dense_score)
            rows.append((r.item.case.language, best.chunk.language, best.dense_score, not r.item.in_kb))
    baselines, scales = confidence_fit.fit_baselines(rows)
    unweighted = ConfidenceModel(weights={}, baselines=baselines, scales=scales)
    features = features_of(unweighted, dev)
    answerable = [r.item.in_kb for r in dev]
    languages = [r.item.case.language for r in dev]
    weights = confidence_fit.fit_weights(features, answerable, languages)
    logits = confidence_fit.out_of_fold_logits(features, answerable, languages, [r.item.group for r in dev])
    weights = confidence_fit.align_pair_biases(weights, logits, features, answerable, offer_threshold, max_rate)
    return ConfidenceModel(weights=weights, baselines=baselines, scales=scales)


def recommend_threshold(model: ConfidenceModel, dev: Sequence[RetrievedCase], max_rate: float) -> float:
    """The highest threshold flagging at most `max_rate` of every language's answerable dev questions,
    less the same safety margin as the fit (see confidence_fit.align_pair_biases)."""
    scores = scores_of(model, dev)
    cuts = []
    for lang in sorted({r.item.case.language for r in dev}):
        own = [s for s, r in zip(scores, dev, strict=False) if r.item.in_kb and r.item.case.language == lang]
        if own:
            margin = confidence_fit.SAFETY_Z * (max_rate * (1 - max_rate) / len(own)) ** 0.5
            cuts.append(confidence_fit.escalation_threshold(own, max(0.0, max_rate - margin)))
    return round(min(cuts), 4) if cuts else 0.0


def confidence_path() -> Path:
    return Path(str(resources.files("assistant").joinpath("data", "confidence.json")))


def load_confidence_model(path: Path | None = None) -> ConfidenceModel:
    """The model on disk now (not the process-wide cached one, which may predate a refit)."""
    return ConfidenceModel.from_dict(json.loads((path or confidence_path()).read_text(encoding="utf-8")))


def save_model(model: ConfidenceModel, provenance: dict, path: Path | None = None) -> Path:
    path = path or confidence_path()
    data = {
        "note": "Fitted by `kb eval --escalation --calibrate`; see docs/evaluation/escalation-out-of-kb.md.",
        "fitted": provenance,
        **model.to_dict(),
    }
    path.write_text(json.dumps(data, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    return path


def _counts(rows: Sequence[RetrievedCase]) -> dict[str, dict[str, int]]:
    out: dict[str, dict[str, int]] = {}
    for r in rows:
        entry = out.setdefault(r.item.case.language, {"questions": 0, "out_of_kb": 0})
        entry["questions"] += 1
        entry["out_of_kb"] += int(not r.item.in_kb)
    return dict(sorted(out.items()))


def _provenance(protocol: Protocol, dev: Sequence[RetrievedCase], settings: Settings, limit: int | None) -> dict:
    return {
        "by": "kb eval --escalation --calibrate",
        "date": datetime.date.today().isoformat(),
        "data": "XQuAD en+ar, SQuAD 2.0 dev half (seeded sample), AfriQA ha+sw test; ../shared/eval-data",
        "protocol": f"passage-group hold-out {HOLDOUT_FRACTION:.0%} (seed {HOLDOUT_SEED}), "
                    f"{len(protocol.passages)} passages indexed, top {TOP_K} hybrid retrieval",
        "split": f"dev = {DEV_FRACTION:.0%} of questions (datasets.split_cases, seed {SPLIT_SEED}); test untouched",
        "dev_questions": _counts(dev),
        "question_cap": limit,
        "retriever": _retriever_fingerprint(),
        "aligned_on": {"offer_threshold": settings.confidence_threshold,
                       "max_answerable_escalated": MAX_ANSWERABLE_ESCALATED,
                       "safety_z": confidence_fit.SAFETY_Z},
    }


def _retriever_fingerprint() -> str:
    """The fusion parameters the fit saw: refit when retrieval changes (features depend on its ranks)."""
    import assistant.retrieval as retrieval

    params = getattr(retrieval, "FusionParams", None)
    return repr(params()) if params is not None else "HybridRetriever defaults"


def _setup(runs: dict[str, ProtocolRun], dev, test, settings: Settings, limit: int | None, calibrate: bool) -> dict:
    passage = runs["passage"].protocol
    return {
        "holdout_fraction": HOLDOUT_FRACTION, "holdout_seed": HOLDOUT_SEED,
        "split_seed": SPLIT_SEED, "dev_fraction": DEV_FRACTION,
        "squad_sample": SQUAD_SAMPLE if limit is None else min(SQUAD_SAMPLE, limit), "question_cap": limit,
        "top_k": TOP_K, "calibrated_now": calibrate,
        "passages_indexed": {g: len(run.protocol.passages) for g, run in runs.items()},
        "groups": {g: run.protocol.groups for g, run in runs.items()},
        "groups_held_out": {g: len(run.protocol.held_out) for g, run in runs.items()},
        "impossible_in_kb": sum(1 for r in runs["passage"].rows if r.item.impossible),
        "impossible_dropped": passage.dropped_impossible,
        "dev": _counts(dev), "test": _counts(test),
        "thresholds": {"offer": settings.confidence_threshold, "abstain": settings.abstain_threshold},
    }
