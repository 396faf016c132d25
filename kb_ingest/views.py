"""Views: extra vectors per chunk that point back to it (LangChain's multi-vector pattern).

A chunk of 320 tokens has one vector, which a needle fact ("3.99 USD") barely moves. So every
chunk also gets one vector per answerable unit (sentence, list item, table row: assistant/text_units.py),
embedded with its heading path for context, and FAQ rows one for their question, so a customer's
question can meet the FAQ's own question. The retriever ranks chunks, then re-ranks the best ones by
their best view (assistant/retrieval.py).

Views live in a second Chroma collection (`<collection>__views`), keyed by chunk id. `sync_views`
brings it in line with the chunks after every write: views of chunks that are gone are deleted,
chunks without views get them. Chunk ids change with their content, so this is all the
bookkeeping needed, and a crash midway is repaired by the next sync.

LangChain's MultiVectorRetriever is not used: it returns the parents of the nearest child vectors
from one similarity search, while ours needs every view's score beside the chunk's own (to correct
for the question's language and blend both), which its interface does not expose.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

from langchain_core.embeddings import Embeddings

from assistant.store import VectorStore
from assistant.types import Chunk
from assistant.vectors import embed_passages
from assistant.views import QUESTION, SENTENCE, View, chunk_views

__all__ = ["QUESTION", "SENTENCE", "VERSION", "View", "chunk_views", "sync_views"]

logger = logging.getLogger(__name__)

# Bump when the units or their embedded text change: views of an older version are rebuilt on the next sync.
VERSION = 3
EMBED_BATCH = 64


def sync_views(store: VectorStore, embeddings: Embeddings | None = None) -> tuple[int, int]:
    """Delete views whose chunk is gone, add views for chunks that have none; returns (added, deleted).

    `embeddings`: the indexer's own embedder, when it has one (default: the store's).
    """
    chunk_ids = store.chunk_ids()
    parents = store.view_parents(VERSION)
    orphans = [view_id for view_id, parent in parents.items() if parent not in chunk_ids]
    store.delete_views(orphans)
    missing = sorted(chunk_ids - {parent for parent in parents.values() if parent})
    added = 0
    for start in range(0, len(missing), EMBED_BATCH):
        added += _add(store, store.chunks_by_id(missing[start : start + EMBED_BATCH]), embeddings or store.embeddings)
    if added or orphans:
        logger.info("views: %d added, %d deleted", added, len(orphans))
    return added, len(orphans)


def _add(store: VectorStore, chunks: Iterable[Chunk], embeddings: Embeddings) -> int:
    views = [view for chunk in chunks for view in chunk_views(chunk)]
    if not views:
        return 0
    vectors = embed_passages(embeddings, [v.embedded for v in views])
    metadatas = [{"parent": v.parent, "kind": v.kind, "position": v.position, "version": VERSION} for v in views]
    store.add_views([v.view_id for v in views], [v.text for v in views], metadatas, vectors)
    return len(views)
