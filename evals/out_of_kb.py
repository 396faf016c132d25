"""Out-of-knowledge-base protocol: hold out passages from a real index and ask their questions anyway.

One temporary Chroma index holds XQuAD en+ar, AfriQA English gold and SQuAD 2.0 passages. A seeded
share of passage *groups* is left out (an XQuAD parallel group loses its English and its Arabic
passage together, so an Arabic question cannot be answered cross-lingually either). Questions
whose gold group is left out should be escalated ("out of KB", the positives); questions whose
gold is indexed are answerable (the negatives). SQuAD 2.0 `is_impossible` questions whose
paragraph *is* indexed are kept apart: they are adversarial in-paragraph unanswerables.
"""

from __future__ import annotations

import logging
import random
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from langchain_core.embeddings import Embeddings

from assistant.config import Settings
from assistant.golden import GoldCase, normalize_language, read_jsonl
from assistant.retrieval import HybridRetriever
from assistant.store import VectorStore
from assistant.text_units import missing_names
from assistant.types import RetrievedChunk
from assistant.vectors import embed_passages
from evals.datasets import Passage
from evals.metrics import roc_auc  # noqa: F401 (also imported from here by callers)
from kb_ingest.views import sync_views

logger = logging.getLogger(__name__)

HOLDOUT_SEED = 20240611
HOLDOUT_FRACTION = 0.35
SAMPLE_SEED = 7
SQUAD_SAMPLE = 1000  # per kind (answerable / impossible): embedding all 6k questions takes an hour on 2 cores
LANGUAGES = ("en", "ar", "ha", "sw")
TOP_K = 6
GRANULARITIES = ("passage", "article")


@dataclass(frozen=True, slots=True)
class OutOfKBCase:
    """One question of the protocol, with where its gold passage went."""

    case: GoldCase            # question, language, id; expected_sources = gold passage ids
    group: str                # passage group of the gold (held out as a whole)
    source: str               # "xquad" | "squad" | "afriqa"
    in_kb: bool               # the gold group is indexed
    impossible: bool = False  # SQuAD 2.0 is_impossible: the paragraph has no answer


@dataclass(frozen=True, slots=True)
class Protocol:
    """The indexed passages, the held-out groups and every question asked."""

    passages: tuple[Passage, ...]
    held_out: frozenset[str]
    groups: int
    cases: tuple[OutOfKBCase, ...]
    dropped_impossible: int = 0  # SQuAD unanswerables whose paragraph was held out anyway


@dataclass(slots=True)
class RetrievedCase:
    """A protocol question with its top-k hits and the rank of its gold passage (0 = not retrieved)."""

    item: OutOfKBCase
    hits: tuple[RetrievedChunk, ...]
    gold_rank: int = 0


# ---- protocol -------------------------------------------------------------------------------


def _passage(row: dict[str, Any]) -> Passage:
    return Passage(
        context_id=str(row["context_id"]),
        text=str(row["text"]),
        title=str(row.get("title") or ""),
        language=normalize_language(str(row.get("lang") or "en")),
    )


def _passage_groups(eval_dir: Path, granularity: str) -> tuple[list[tuple[Passage, str]], dict[str, str]]:
    """(passage, group) pairs and an alias map for SQuAD paragraphs that repeat an XQuAD one verbatim.

    A group is a paragraph (an XQuAD parallel group: en + ar) or, with granularity "article", a
    whole Wikipedia article (SQuAD's 16 articles are all among XQuAD's 48: they share a group).
    """
    if granularity not in GRANULARITIES:
        raise ValueError(f"Expected granularity to be one of {', '.join(GRANULARITIES)}, got {granularity!r}.")
    article = granularity == "article"
    pairs: list[tuple[Passage, str]] = []
    english: dict[str, tuple[str, str]] = {}
    for row in read_jsonl(eval_dir / "xquad" / "contexts.jsonl"):
        group = f"wiki:{row['title']}" if article else f"xquad:{row['parallel_group']}"
        pairs.append((_passage(row), group))
        if normalize_language(row["lang"]) == "en":
            english[row["text"]] = (group, row["context_id"])
    alias: dict[str, str] = {}
    for row in read_jsonl(eval_dir / "squad-v2" / "contexts.jsonl"):
        if row["text"] in english:  # 78 SQuAD paragraphs are XQuAD's: one copy, in XQuAD's group
            alias[row["context_id"]] = english[row["text"]][1]
            continue
        pairs.append((_passage(row), f"wiki:{row['title']}" if article else f"squad:{row['context_id']}"))
    for row in read_jsonl(eval_dir / "afriqa" / "contexts.jsonl"):
        title = row.get("title") or row["context_id"]
        pairs.append((_passage(row), f"afriqa:{title}" if article else f"afriqa:{row['context_id']}"))
    return pairs, alias


def hold_out_groups(groups: Iterable[str], fraction: float, seed: int) -> frozenset[str]:
    """A seeded `fraction` of the groups of each family (xquad / squad / afriqa)."""
    families: dict[str, list[str]] = {}
    for group in sorted(set(groups)):
        families.setdefault(group.split(":", 1)[0], []).append(group)
    rng = random.Random(seed)
    held: set[str] = set()
    for family in sorted(families):
        members = families[family]
        held.update(rng.sample(members, round(len(members) * fraction)))
    return frozenset(held)


def _sample(rows: list[dict[str, Any]], n: int | None) -> list[dict[str, Any]]:
    order = sorted(rows, key=lambda r: str(r["id"]))
    random.Random(SAMPLE_SEED).shuffle(order)
    return order if n is None else order[:n]


def _capped(n: int | None, limit: int | None) -> int | None:
    if limit is None:
        return n
    return limit if n is None else min(n, limit)


def load_protocol(
    eval_dir: Path,
    limit: int | None = None,
    fraction: float = HOLDOUT_FRACTION,
    seed: int = HOLDOUT_SEED,
    squad_sample: int | None = SQUAD_SAMPLE,
    granularity: str = "passage",
) -> Protocol:
    """Passages to index and questions to ask; `limit` caps questions per source and language."""
    pairs, alias = _passage_groups(eval_dir, granularity)
    group_of = {p.context_id: g for p, g in pairs}
    for squad_id, xquad_id in alias.items():
        group_of[squad_id] = group_of[xquad_id]
    held = hold_out_groups((g for _, g in pairs), fraction, seed)
    cases: list[OutOfKBCase] = []

    def add(row: dict[str, Any], source: str, gold: tuple[str, ...], impossible: bool = False) -> None:
        group = group_of[gold[0]]
        language = normalize_language(str(row["lang"]))
        case = GoldCase(str(row["question"]), gold, language=language, pair=language, id=str(row["id"]))
        cases.append(OutOfKBCase(case, group, source, group not in held, impossible))

    xquad = read_jsonl(eval_dir / "xquad" / "questions.jsonl")
    for language in ("en", "ar"):
        for row in _sample([r for r in xquad if r["lang"] == language], _capped(None, limit)):
            add(row, "xquad", tuple(dict.fromkeys((row["context_id"], row["context_id_en"]))))
    squad = read_jsonl(eval_dir / "squad-v2" / "questions.jsonl")
    dropped = 0
    for impossible in (False, True):
        rows = [r for r in squad if bool(r["is_impossible"]) == impossible]
        for row in _sample(rows, _capped(squad_sample, limit)):
            gold = (alias.get(row["context_id"], row["context_id"]),)
            if impossible and group_of[gold[0]] in held:
                dropped += 1  # unanswerable twice over; not informative for either measure
                continue
            add(row, "squad", gold, impossible)
    afriqa = read_jsonl(eval_dir / "afriqa" / "questions.jsonl")
    for language in ("hau", "swa"):
        for row in _sample([r for r in afriqa if r["lang"] == language], _capped(None, limit)):
            add(row, "afriqa", (row["context_id"],))
    indexed = tuple(p for p, g in pairs if g not in held)
    return Protocol(indexed, held, len({g for _, g in pairs}), tuple(cases), dropped)


# ---- index and retrieval --------------------------------------------------------------------




def build_index(passages: Sequence[Passage], embeddings: Embeddings, directory: Path) -> HybridRetriever:
    """A real Chroma collection in `directory` holding `passages` (one chunk each), and its retriever."""
    settings = Settings(data_dir=directory, collection="out_of_kb", languages=LANGUAGES)
    store = VectorStore(settings, embeddings)
    vectors = embed_passages(embeddings, [p.text for p in passages])
    for start in range(0, len(passages), 2000):
        batch = passages[start : start + 2000]
        store.collection.add(
            ids=[p.context_id for p in batch],
            documents=[p.text for p in batch],
            metadatas=[
                {"source": p.context_id, "title": p.title, "kind": "doc", "language": p.language,
                 "page": 0, "section": "", "chunk_id": p.context_id}
                for p in batch
            ],
            embeddings=vectors[start : start + 2000].tolist(),
        )
    sync_views(store)  # the sentence vectors the product builds at ingest
    store.bump_generation()
    return HybridRetriever(store, LANGUAGES)


def retrieve_cases(retriever: HybridRetriever, cases: Sequence[OutOfKBCase], k: int = TOP_K) -> list[RetrievedCase]:
    """Top-k hits of every question, retrieved in the question's language as the assistant would."""
    out = []
    for item in cases:
        result = retriever.retrieve(item.case.user_input, k=k, language=item.case.language)
        gold = set(item.case.expected_sources)
        rank = next((r for r, hit in enumerate(result.chunks, 1) if hit.chunk.source in gold), 0)
        out.append(RetrievedCase(item, result.chunks, rank))
    return out


# ---- scoring --------------------------------------------------------------------------------


def detection_metrics(out_of_kb: Sequence[bool], flagged: Sequence[bool]) -> dict[str, float]:
    """Precision / recall / F1 of "out of KB" and the share of answerable questions flagged."""
    pairs = list(zip(out_of_kb, flagged, strict=False))
    tp = sum(1 for o, f in pairs if o and f)
    fp = sum(1 for o, f in pairs if f and not o)
    fn = sum(1 for o, f in pairs if o and not f)
    positives, negatives = tp + fn, len(pairs) - tp - fn
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / positives if positives else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {
        "n": len(pairs), "positives": positives, "tp": tp, "fp": fp, "fn": fn,
        "precision": round(precision, 4), "recall": round(recall, 4), "f1": round(f1, 4),
        "answerable_escalated": round(fp / negatives, 4) if negatives else 0.0,
    }



def by_language(rows: Sequence[RetrievedCase], scores: Sequence[float], threshold: float) -> dict[str, dict]:
    """Detection metrics per question language (plus "all") when scores below `threshold` escalate."""
    groups: dict[str, list[int]] = {}
    for i, row in enumerate(rows):
        groups.setdefault(row.item.case.language, []).append(i)
    groups["all"] = list(range(len(rows)))
    out = {}
    for language, idx in groups.items():
        labels = np.array([not rows[i].item.in_kb for i in idx], dtype=bool)
        values = np.array([scores[i] for i in idx], dtype=float)
        out[language] = detection_metrics(labels.tolist(), (values < threshold).tolist())
        out[language]["auc"] = roc_auc(-values[labels], -values[~labels])  # low confidence = out of KB
    return out


def retrieval_summary(rows: Sequence[RetrievedCase]) -> dict[str, dict]:
    """Per language, how often an answerable question's gold passage was retrieved (rank 1, top k)."""
    out: dict[str, dict] = {}
    for language in sorted({r.item.case.language for r in rows}):
        answerable = [r for r in rows if r.item.in_kb and r.item.case.language == language]
        if answerable:
            out[language] = {
                "answerable": len(answerable),
                "hit_at_1": round(sum(r.gold_rank == 1 for r in answerable) / len(answerable), 4),
                f"hit_at_{TOP_K}": round(sum(r.gold_rank > 0 for r in answerable) / len(answerable), 4),
            }
    return out


def escalated_by_retrieval(rows: Sequence[RetrievedCase], scores: Sequence[float], threshold: float) -> dict[str, dict]:
    """Per language, the share of answerable questions escalated when retrieval found the gold vs missed it."""
    out: dict[str, dict] = {}
    for language in sorted({r.item.case.language for r in rows}):
        own = [(r, s) for r, s in zip(rows, scores, strict=False) if r.item.in_kb and r.item.case.language == language]
        found = [s < threshold for r, s in own if r.gold_rank]
        missed = [s < threshold for r, s in own if not r.gold_rank]
        out[language] = {
            "found": len(found), "found_escalated": round(sum(found) / len(found), 4) if found else 0.0,
            "missed": len(missed), "missed_escalated": round(sum(missed) / len(missed), 4) if missed else 0.0,
        }
    return out


def _share(flags: Sequence[bool]) -> float:
    return round(sum(flags) / len(flags), 4) if flags else 0.0


def _names_missing(row: RetrievedCase) -> bool:
    top = row.hits[0].chunk if row.hits else None
    return bool(top and missing_names(row.item.case.user_input, f"{top.title}\n{top.text}"))


_NEGATION = re.compile(r"\b(?:not|never|no|none|neither|without)\b|n't\b", re.IGNORECASE)


def adversarial_summary(
    impossible: Sequence[RetrievedCase],
    answerable: Sequence[RetrievedCase],
    scores: tuple[Sequence[float], Sequence[float]],
    features: tuple[Sequence[Mapping[str, float]], Sequence[Mapping[str, float]]],
    threshold: float,
) -> dict[str, Any]:
    """SQuAD 2.0 unanswerables whose paragraph is indexed, against answerable SQuAD questions likewise.

    Retrieval evidence is the same for both (the paragraph is there), so the confidence score is
    expected to be near chance; cheap lexical cues are measured beside it.
    """
    imp_scores, ans_scores = scores
    imp_features, ans_features = features

    def cue(rows: Sequence[RetrievedCase]) -> list[bool]:
        return [bool(_NEGATION.search(r.item.case.user_input)) or _names_missing(r) for r in rows]

    signals = {
        name: roc_auc([f[name] for f in ans_features], [f[name] for f in imp_features])
        for name in ("sentence_coverage", "lexical_coverage", "entity_coverage", "dense_top")
    }
    return {
        "impossible": len(impossible),
        "answerable": len(answerable),
        "gold_at_1": {
            "impossible": _share([r.gold_rank == 1 for r in impossible]),
            "answerable": _share([r.gold_rank == 1 for r in answerable]),
        },
        "score_auc": roc_auc(list(ans_scores), list(imp_scores)),
        # The P/R/F1 for SQuAD 2.0 unanswerables (positive) vs the answerables beside them.
        "detection": detection_metrics([True] * len(imp_scores) + [False] * len(ans_scores),
                                       [s < threshold for s in [*imp_scores, *ans_scores]]),
        "flagged": {
            "impossible": _share([s < threshold for s in imp_scores]),
            "answerable": _share([s < threshold for s in ans_scores]),
        },
        "signal_auc": signals,
        "cue_flagged": {  # a negation word, or a name/number of the question absent from the top passage
            "impossible": _share(cue(impossible)),
            "answerable": _share(cue(answerable)),
        },
    }
