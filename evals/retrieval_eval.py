"""Retrieval evaluation: recall@1/5/10 and MRR per language pair, for our retriever and two baselines.

Systems, all over the same passages in the same run, each with its own temporary Chroma:
  ours   HybridRetriever (dense + BM25, language-aware), one passage = one chunk;
  bm25   the project's BM25Index alone over the same chunks;
  naive  the tutorial recipe: RecursiveCharacterTextSplitter(1000, 200) + langchain_chroma.Chroma
         with the same embeddings + similarity_search(question, k=5) (k=10 for recall@10 and MRR);
         a question counts as found when any returned piece comes from the gold passage.
MRR is MRR@10 (a gold passage below rank 10 scores 0).

With `llm_oracle=True` (`kb eval --llm-oracle`) two more systems run: the LLM path's translate-then-search
(assistant/multiquery.py) through a real ChatOpenAI client against a local server that returns the
*gold* translations (evals/llm_oracle.py), with each fusion of the result lists. Perfect translations:
an upper bound for the LLM path, reported beside the offline figures of the same run.
"""

from __future__ import annotations

import contextlib
import logging
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from langchain_core.embeddings import Embeddings
from langchain_core.language_models.chat_models import BaseChatModel

from assistant.config import DEFAULT_LANGUAGES, Settings
from assistant.golden import GoldCase, load_gold_set
from assistant.lexical import BM25Index
from assistant.models import make_chat_model
from assistant.multiquery import DEFAULT_FUSION, FUSIONS, search_across_languages
from assistant.retrieval import FusionParams, HybridRetriever
from assistant.store import VectorStore
from evals.chat_server import LocalChatServer
from evals.datasets import SPLIT_SEED, EvalCorpus, EvalDataError, load_benchmarks, split_cases
from evals.embedding_cache import CachedEmbeddings
from evals.language_bias import measure_language_bias
from evals.llm_oracle import TranslationOracle, gold_translations
from evals.paths import default_eval_dir
from kb_ingest.views import sync_views

logger = logging.getLogger(__name__)

SYSTEMS = ("ours", "bm25", "naive")
SYSTEM_LABELS = {"ours": "ours (hybrid)", "bm25": "BM25 alone", "naive": "naive LangChain recipe"}
# The LLM path with gold translations, one system per fusion (the product's default first).
ORACLE_SYSTEMS = {f"oracle_{fusion}": fusion for fusion in sorted(FUSIONS, key=lambda f: f != DEFAULT_FUSION)}
SYSTEM_LABELS |= {name: f"LLM path, gold translations, {fusion} fusion (upper bound)"
                  for name, fusion in ORACLE_SYSTEMS.items()}
CUTOFFS = (1, 5, 10)
DEPTH = max(CUTOFFS)


def metrics(ranks: Sequence[int]) -> dict[str, float]:
    """recall@1/5/10 and MRR@10 from 1-based ranks of the first relevant hit (0 = not in the top 10)."""
    n = len(ranks)
    if n == 0:
        return {**{f"recall@{k}": 0.0 for k in CUTOFFS}, "mrr": 0.0}
    found = np.asarray(ranks)
    out = {f"recall@{k}": float(((found > 0) & (found <= k)).mean()) for k in CUTOFFS}
    out["mrr"] = float(np.where(found > 0, 1.0 / np.maximum(found, 1), 0.0).mean())
    return out


def first_rank(sources: Sequence[str], expected: set[str]) -> int:
    """1-based position of the first source in `expected`, 0 if none."""
    return next((i for i, source in enumerate(sources, 1) if source in expected), 0)


# ---- the three systems ------------------------------------------------------------------------


def _index_passages(corpus: EvalCorpus, embeddings: CachedEmbeddings, root: Path) -> VectorStore:
    settings = Settings(data_dir=root / corpus.name, collection=f"eval_{corpus.name}")
    store = VectorStore(settings, embeddings)
    passages = corpus.passages
    vectors = embeddings.embed_passages([p.text for p in passages])
    for start in range(0, len(passages), 1000):
        part = passages[start : start + 1000]
        store.collection.add(
            ids=[p.context_id for p in part],
            embeddings=vectors[start : start + len(part)].tolist(),
            documents=[p.text for p in part],
            metadatas=[
                {"source": p.context_id, "title": p.title, "language": p.language,
                 "kind": "doc", "page": 0, "section": ""}
                for p in part
            ],
        )
    sync_views(store)  # the sentence vectors the product builds at ingest
    store.bump_generation()
    return store


def _naive_recipe(
    corpus: EvalCorpus, embeddings: Embeddings, client: Any
) -> tuple[Callable[[str, int], list[str]], int]:
    """The copy-from-a-tutorial pipeline: search(question, k) -> passage ids of the pieces found; piece count."""
    from langchain_chroma import Chroma
    from langchain_text_splitters import RecursiveCharacterTextSplitter

    splitter = RecursiveCharacterTextSplitter(chunk_size=1000, chunk_overlap=200)
    documents = splitter.create_documents(
        [p.text for p in corpus.passages], metadatas=[{"context_id": p.context_id} for p in corpus.passages]
    )
    db = Chroma.from_documents(documents, embeddings, client=client, collection_name=f"naive_{corpus.name}")

    def search(question: str, k: int) -> list[str]:
        return [d.metadata["context_id"] for d in db.similarity_search(question, k=k)]

    return search, len(documents)


def _evaluate_corpus(
    corpus: EvalCorpus,
    cases_by_pair: dict[str, list[GoldCase]],
    embeddings: CachedEmbeddings,
    root: Path,
    params: FusionParams | None,
    oracle: BaseChatModel | None = None,
) -> tuple[dict[str, Any], dict[str, list[float]], int]:
    """Scores per pair for each system, per-query milliseconds per system, the recipe's piece count."""
    store = _index_passages(corpus, embeddings, root)
    retriever = HybridRetriever(store, DEFAULT_LANGUAGES, params)
    retriever.snapshot()
    bm25 = BM25Index([f"{p.title}\n{p.text}" for p in corpus.passages])
    naive, pieces = _naive_recipe(corpus, embeddings, store.client)
    ids = [p.context_id for p in corpus.passages]
    systems = SYSTEMS + (tuple(ORACLE_SYSTEMS) if oracle is not None else ())

    def rank(case: GoldCase) -> tuple[dict[str, int], list[float], bool]:
        expected = set(case.expected_sources)
        vector = embeddings.embed_query_vector(case.user_input)
        t0 = time.perf_counter()
        result = retriever.retrieve(case.user_input, k=DEPTH, query_vector=vector)
        t1 = time.perf_counter()
        lexical = bm25.top(case.user_input, DEPTH)
        t2 = time.perf_counter()
        found = naive(case.user_input, DEPTH)
        t3 = time.perf_counter()
        ranks = {
            "ours": first_rank([h.chunk.source for h in result.chunks], expected),
            "bm25": first_rank([ids[i] for i, _ in lexical], expected),
            "naive": first_rank(found, expected),
            # The recipe's recall@1/5 come from its own k=5 search, as a user would run it.
            "naive@5": first_rank(naive(case.user_input, 5), expected),
        }
        millis = [1000 * (t1 - t0), 1000 * (t2 - t1), 1000 * (t3 - t2)]
        for name, fusion in ORACLE_SYSTEMS.items() if oracle is not None else ():
            t4 = time.perf_counter()  # the real LLM path: one translation call, a search per language, fusion
            hits = search_across_languages(retriever, oracle, case.user_input, result.language, DEPTH,
                                           Settings().llm_timeout_s, fusion).chunks
            millis.append(1000 * (time.perf_counter() - t4))
            ranks[name] = first_rank([h.chunk.source for h in hits], expected)
        return ranks, millis, result.language == case.language

    timings: dict[str, list[float]] = {name: [] for name in systems}
    out: dict[str, Any] = {}
    for pair, cases in cases_by_pair.items():
        rows = [rank(case) for case in cases]
        for _, millis, _ in rows:
            for name, value in zip(systems, millis, strict=False):
                timings[name].append(value)
        scores = {name: metrics([r[name] for r, _, _ in rows]) for name in systems}
        at5 = metrics([r["naive@5"] for r, _, _ in rows])
        scores["naive"].update({"recall@1": at5["recall@1"], "recall@5": at5["recall@5"]})
        detected = sum(d for _, _, d in rows) / max(len(rows), 1)
        out[pair] = {"corpus": corpus.name, "n": len(cases), "language_detected": detected, **scores}
    return out, timings, pieces


# ---- public ---------------------------------------------------------------------------------


def run_retrieval_eval(
    eval_dir: Path | str | None,
    embeddings: Embeddings,
    pairs: Sequence[str] | None = None,
    limit: int | None = None,
    *,
    split: str = "test",
    cache_dir: Path | str | None = None,
    params: FusionParams | None = None,
    bias: bool = True,
    llm_oracle: bool = False,
) -> dict[str, Any]:
    """Evaluate ours / BM25 / naive recipe on every benchmark pair (or `pairs`), `limit` questions per pair.

    `split`: "test" (default: the 70% not used for tuning), "dev" (the 30% tuned on) or "all".
    `cache_dir`: where vectors are kept so a repeated run embeds nothing (None: memory only, unless
    `embeddings` already is a cache, as `kb eval` passes).
    `llm_oracle`: also run the LLM path with gold translations (the ORACLE_SYSTEMS), an upper bound.
    """
    started = time.perf_counter()
    cached = embeddings if isinstance(embeddings, CachedEmbeddings) else CachedEmbeddings(embeddings, cache_dir)
    corpora = load_benchmarks(eval_dir)
    known = sorted({pair for corpus in corpora for pair in corpus.pairs()})
    wanted = set(pairs) if pairs else None
    if wanted and not wanted <= set(known):
        raise EvalDataError(f"Expected language pairs among {', '.join(known)}; got {', '.join(sorted(wanted))}.")
    result: dict[str, Any] = {
        "split": split,
        "seed": SPLIT_SEED,
        "params": _params_dict(params),
        "corpora": {},
        "pairs": {},
    }
    latencies: dict[str, list[float]] = {name: [] for name in SYSTEMS}
    with tempfile.TemporaryDirectory(prefix="kb-eval-") as tmp, contextlib.ExitStack() as stack:
        oracle, chat = None, None
        if llm_oracle:
            oracle = TranslationOracle(gold_translations(eval_dir if eval_dir is not None else default_eval_dir()))
            chat = make_chat_model(stack.enter_context(LocalChatServer(oracle, "gold-translations")).settings())
        for corpus in corpora:
            by_pair = {}
            for pair in corpus.pairs():
                if wanted is None or pair in wanted:
                    cases = split_cases([c for c in corpus.cases if c.pair == pair], split)
                    by_pair[pair] = cases[:limit] if limit else cases
            if not by_pair:
                continue
            result["corpora"][corpus.name] = {
                "passages": len(corpus.passages),
                "by_language": _count(p.language for p in corpus.passages),
            }
            scores, timings, pieces = _evaluate_corpus(corpus, by_pair, cached, Path(tmp), params, chat)
            result["corpora"][corpus.name]["naive_pieces"] = pieces
            result["pairs"].update(scores)
            for name, values in timings.items():
                latencies.setdefault(name, []).extend(values)
        if oracle is not None:
            result["llm_oracle"] = {"default_fusion": DEFAULT_FUSION, "translated": oracle.answered,
                                    "without_gold": oracle.unknown}
    if bias:
        result["bias"] = measure_language_bias(eval_dir, cached, limit=limit)
    result["timings"] = {
        "total_s": round(time.perf_counter() - started, 1),
        "vectors_embedded": cached.computed,
        **{f"{name}_ms_per_query": round(float(np.mean(v)), 2) if v else 0.0 for name, v in latencies.items()},
    }
    result["pairs"] = dict(sorted(result["pairs"].items(), key=lambda kv: _PAIR_ORDER.get(kv[0], 99)))
    return result


def run_golden_eval(path: Path | str, retriever: HybridRetriever, k: int = 5) -> dict[str, Any]:
    """Score staff golden cases against the live index: a case is found when a top-k chunk's source is expected."""
    cases = load_gold_set(path)
    rows = []
    ranks: dict[str, list[int]] = {}
    for case in cases:
        if not case.expected_sources and not case.reference_contexts:
            continue  # e.g. an out-of-KB case that only checks escalation
        result = retriever.retrieve(case.user_input, k=DEPTH, language=case.language or None)
        rank = next((i for i, h in enumerate(result.chunks, 1) if _matches(case, h.chunk.source, h.chunk.text)), 0)
        group = case.pair or case.language or result.language
        ranks.setdefault(group, []).append(rank)
        rows.append({
            "id": case.id,
            "user_input": case.user_input,
            "pair": group,
            "expected_sources": list(case.expected_sources),
            "rank": rank,
            "found": 0 < rank <= k,
            "retrieved_sources": [h.chunk.source for h in result.chunks[:k]],
        })
    every = [r for group in ranks.values() for r in group]
    return {
        "path": str(path),
        "k": k,
        "cases": len(cases),
        "scored": len(rows),
        "skipped": len(cases) - len(rows),
        "overall": {"n": len(every), **metrics(every)},
        "by_pair": {group: {"n": len(r), **metrics(r)} for group, r in sorted(ranks.items())},
        "misses": [row for row in rows if not row["found"]],
    }


def format_retrieval_report(result: dict[str, Any]) -> str:
    """The evaluation as markdown: one table per language pair, the margins over the baselines, bias, timings."""
    lines = [f"## Retrieval evaluation ({result['split']} split, seed {result['seed']})", ""]
    for name, info in result["corpora"].items():
        langs = ", ".join(f"{lang} {n}" for lang, n in info["by_language"].items())
        lines.append(f"- `{name}`: {info['passages']} passages ({langs}); the naive recipe splits them into "
                     f"{info.get('naive_pieces', '?')} pieces")
    lines += ["", "| pair | n | system | recall@1 | recall@5 | recall@10 | MRR |", "|---|---:|---|---:|---:|---:|---:|"]
    for pair, row in result["pairs"].items():
        for name in [name for name in SYSTEM_LABELS if name in row]:
            m = row[name]
            lines.append(
                f"| {pair} | {row['n']} | {SYSTEM_LABELS[name]} | {m['recall@1']:.3f} | {m['recall@5']:.3f} "
                f"| {m['recall@10']:.3f} | {m['mrr']:.3f} |"
            )
    lines += ["", "recall@5, ours minus each baseline (percentage points):", "",
              "| pair | vs BM25 | vs naive recipe | beats both | question language detected |",
              "|---|---:|---:|:---:|---:|"]
    for pair, row in result["pairs"].items():
        ours = row["ours"]["recall@5"]
        d_bm25, d_naive = ours - row["bm25"]["recall@5"], ours - row["naive"]["recall@5"]
        beats = "yes" if min(d_bm25, d_naive) > 0 else "NO"
        detected = f"{row['language_detected']:.1%}"
        lines.append(f"| {pair} | {100 * d_bm25:+.1f} | {100 * d_naive:+.1f} | {beats} | {detected} |")
    if "llm_oracle" in result:
        lines += ["", _format_oracle(result)]
    if "bias" in result:
        lines += ["", _format_bias(result["bias"])]
    t = result["timings"]
    lines += [
        "",
        f"Run time {t['total_s']} s ({t['vectors_embedded']} vectors embedded, the rest from the cache). "
        f"Per query, excluding the query embedding: ours {t['ours_ms_per_query']} ms, "
        f"BM25 {t['bm25_ms_per_query']} ms, "
        f"naive recipe (one Chroma query) {t['naive_ms_per_query']} ms."
        + "".join(f" {SYSTEM_LABELS[name]}, with its local translation call: {t[f'{name}_ms_per_query']} ms."
                  for name in ORACLE_SYSTEMS if f"{name}_ms_per_query" in t),
    ]
    return "\n".join(lines) + "\n"


# ---- helpers --------------------------------------------------------------------------------

_PAIR_ORDER = {"en->en": 0, "ar->ar": 1, "ar->en": 2, "ha->en": 3, "sw->en": 4}


def _format_oracle(result: dict[str, Any]) -> str:
    """Offline vs the LLM path with gold translations (an upper bound), per pair, same run."""
    info = result["llm_oracle"]
    names = list(ORACLE_SYSTEMS)
    head = " | ".join(f"{ORACLE_SYSTEMS[n]} r@{k}" for n in names for k in CUTOFFS)
    lines = [f"UPPER BOUND, LLM path with gold translations ({info['translated']} translation calls answered, "
             f"{info['without_gold']} without a gold translation; product fusion: {info['default_fusion']}):", "",
             "| pair | n | " + " | ".join(f"offline r@{k}" for k in CUTOFFS) + f" | {head} |",
             "|---|---:|" + "---:|" * (len(CUTOFFS) * (1 + len(names)))]
    for pair, row in result["pairs"].items():
        cells = [row["ours"][f"recall@{k}"] for k in CUTOFFS] + [row[n][f"recall@{k}"] for n in names for k in CUTOFFS]
        lines.append(f"| {pair} | {row['n']} | " + " | ".join(f"{c:.3f}" for c in cells) + " |")
    return "\n".join(lines)


def _format_bias(bias: dict[str, Any]) -> str:
    lines = ["Same-language bias: mean cosine of a question to...", "",
             "| questions | n | " + " | ".join(bias["columns"]) + " |", "|---|---:|" + "---:|" * len(bias["columns"])]
    for group, row in bias["rows"].items():
        cells = " | ".join(f"{row[c]:.3f}" if c in row else "" for c in bias["columns"])
        lines.append(f"| {group} | {row['n']} | {cells} |")
    return "\n".join(lines)


def _matches(case: GoldCase, source: str, text: str) -> bool:
    wanted = {_clean_source(s) for s in case.expected_sources}
    if wanted:
        return _clean_source(source) in wanted
    return any(ref.strip() and (ref.strip() in text or text.strip() in ref) for ref in case.reference_contexts)


def _clean_source(source: str) -> str:
    source = source.strip().replace("\\", "/")
    return source[2:] if source.startswith("./") else source


def _count(values) -> dict[str, int]:
    counts: dict[str, int] = {}
    for value in values:
        counts[value] = counts.get(value, 0) + 1
    return dict(sorted(counts.items()))


def _params_dict(params: FusionParams | None) -> dict[str, Any]:
    params = params or FusionParams()
    return {name: getattr(params, name) for name in FusionParams.__slots__}
