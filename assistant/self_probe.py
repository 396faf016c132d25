"""Run the knowledge base's own questions against it, to calibrate confidence (assistant/calibration.py).

Probes come from the snapshot the retriever serves: each FAQ row's question and each section
heading of two words or more, in every language indexed. They are deduplicated and, beyond
`MAX_PROBES`, sampled evenly across languages by a hash of their text (the same sample every run).
Each probe is embedded once and retrieved twice (see calibration.run_probes), leaving chunks out
by translation group and language through the retriever's `keep` mask.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable

import numpy as np

from assistant.calibration import Calibration, Probe, ProbeResult, fit_calibration, probe_text, run_probes
from assistant.retrieval import HybridRetriever, RetrievalResult

logger = logging.getLogger(__name__)

MAX_PROBES = 400
TOP_K = 6

ScoreFn = Callable[[str, str, RetrievalResult], float]   # (question, language, result) -> confidence


def content_fingerprint(chunk_ids: list[str]) -> str:
    return hashlib.sha256("\n".join(sorted(chunk_ids)).encode("utf-8")).hexdigest()[:16]


def collect_probes(retriever: HybridRetriever) -> list[Probe]:
    snap = retriever.snapshot()
    seen: set[tuple[str, str]] = set()
    probes = []
    for row, chunk in enumerate(snap.chunks):
        found = probe_text(chunk.text, chunk.section)
        if found is None or (found[0], chunk.language) in seen:
            continue
        seen.add((found[0], chunk.language))
        probes.append(Probe(found[0], chunk.language, snap.groups[row], found[1]))
    if len(probes) <= MAX_PROBES:
        return probes
    by_language: dict[str, list[Probe]] = {}
    for probe in sorted(probes, key=lambda p: hashlib.sha256(p.text.encode("utf-8")).hexdigest()):
        by_language.setdefault(probe.language, []).append(probe)
    share = max(1, MAX_PROBES // len(by_language))
    return [p for rows in by_language.values() for p in rows[:share]]


def calibrate_index(retriever: HybridRetriever, score: ScoreFn, model: str) -> Calibration | None:
    """Probe the retriever's index and fit per-language thresholds; None when it holds nothing to probe."""
    results = probe_results(retriever, score)
    if not results:
        return None
    calibration = fit_calibration(results, content_fingerprint(list(retriever.snapshot().positions)), model)
    logger.info("calibrated on %d probes: offer below %.3f, abstain below %.3f (pooled)",
                calibration.probes, calibration.pooled.offer_below, calibration.pooled.abstain_below)
    return calibration


def probe_results(retriever: HybridRetriever, score: ScoreFn) -> list[ProbeResult]:
    """Every probe asked as a near miss, and (where a translation exists) as an answerable question."""
    snap = retriever.snapshot()
    probes = collect_probes(retriever)
    if not probes:
        return []
    groups = np.array(snap.groups, dtype=object)
    languages = np.array([c.language for c in snap.chunks], dtype=object)
    languages_of: dict[str, set[str]] = {}
    for group, language in zip(snap.groups, languages, strict=True):
        languages_of.setdefault(group, set()).add(str(language))
    vectors: dict[str, np.ndarray] = {}

    def answer(probe: Probe, excluded: frozenset[str]) -> tuple[bool, float]:
        group, language = next(iter(excluded)).split("\x00")
        out = groups == group if language == "*" else (groups == group) & (languages == language)
        vector = vectors.setdefault(probe.text, retriever.embed_query(probe.text))
        result = retriever.retrieve(probe.text, k=TOP_K, language=probe.language, query_vector=vector, keep=~out)
        if not result.chunks:
            return False, 0.0
        top = snap.positions[result.chunks[0].chunk.chunk_id]
        return snap.groups[top] == probe.group, score(probe.text, probe.language, result)

    return run_probes(probes, answer, languages_of)
