"""Run the knowledge base's own questions against it, to calibrate confidence (assistant/calibration.py).

Probes come from the snapshot the retriever serves: each FAQ row's question and each section
heading of two words or more, in every language indexed. They are deduplicated and, beyond
`MAX_PROBES`, sampled evenly across languages by a hash of their text (the same sample every run).
Each probe is embedded once and retrieved twice (see calibration.run_probes), leaving chunks out
by translation group and language (the retriever's `exclude`). In ANN mode (assistant/ann.py) the
probes come from the index's fixed sample and a group is read from its document's chunks.
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


def collect_probes(retriever: HybridRetriever) -> list[tuple[Probe, dict[str, str]]]:
    """The probes, each with its translation group's chunks ({chunk id: language}, for the chosen probes only)."""
    index = retriever.snapshot()
    seen: set[tuple[str, str]] = set()
    found: list[tuple[str, str, str, str]] = []   # text, language, kind, chunk id
    for chunk in index.probe_chunks():
        probe = probe_text(chunk.text, chunk.section)
        if probe is None or (probe[0], chunk.language) in seen:
            continue
        seen.add((probe[0], chunk.language))
        found.append((probe[0], chunk.language, probe[1], chunk.chunk_id))
    if len(found) > MAX_PROBES:
        by_language: dict[str, list[tuple[str, str, str, str]]] = {}
        for row in sorted(found, key=lambda r: hashlib.sha256(r[0].encode("utf-8")).hexdigest()):
            by_language.setdefault(row[1], []).append(row)
        share = max(1, MAX_PROBES // len(by_language))
        found = [row for rows in by_language.values() for row in rows[:share]]
    probes = []
    for text, language, kind, chunk_id in found:
        group, members = index.translation_group(chunk_id)
        probes.append((Probe(text, language, group, kind), members))
    return probes


def calibrate_index(retriever: HybridRetriever, score: ScoreFn, model: str) -> Calibration | None:
    """Probe the retriever's index and fit per-language thresholds; None when it holds nothing to probe."""
    results = probe_results(retriever, score)
    if not results:
        return None
    calibration = fit_calibration(results, content_fingerprint(list(retriever.store.chunk_ids())), model)
    logger.info("calibrated on %d probes: offer below %.3f, abstain below %.3f (pooled)",
                calibration.probes, calibration.pooled.offer_below, calibration.pooled.abstain_below)
    return calibration


def probe_results(retriever: HybridRetriever, score: ScoreFn) -> list[ProbeResult]:
    """Every probe asked as a near miss, and (where a translation exists) as an answerable question."""
    collected = collect_probes(retriever)
    if not collected:
        return []
    members = {probe.group: rows for probe, rows in collected}   # group -> {chunk id: language}
    languages_of = {group: set(rows.values()) for group, rows in members.items()}
    vectors: dict[str, np.ndarray] = {}

    def answer(probe: Probe, excluded: frozenset[str]) -> tuple[bool, float]:
        group, language = next(iter(excluded)).split("\x00")
        out = frozenset(cid for cid, lang in members[group].items() if language in ("*", lang))
        vector = vectors.setdefault(probe.text, retriever.embed_query(probe.text))
        result = retriever.retrieve(probe.text, k=TOP_K, language=probe.language, query_vector=vector, exclude=out)
        if not result.chunks:
            return False, 0.0
        return result.chunks[0].chunk.chunk_id in members[group], score(probe.text, probe.language, result)

    return run_probes([probe for probe, _ in collected], answer, languages_of)
