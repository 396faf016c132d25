"""The help centre's hybrid retriever as a LangChain `BaseRetriever`, to drop into your own chains.

    from assistant.config import Settings
    from assistant.langchain_retriever import HelpCentreRetriever

    retriever = HelpCentreRetriever.from_settings(Settings.from_env(), k=4)
    docs = retriever.invoke("How long does a refund take?")          # or .invoke(question, k=2, language="sw")

Each `Document` carries the chunk's text, its id (`Document.id`), its flat metadata (source, title, kind,
language, page, section) and the scores that ranked it (score, dense_score, lexical_score, dense_rank,
lexical_rank; see assistant/types.py: RetrievedChunk).
"""

from __future__ import annotations

from typing import Any

from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document
from langchain_core.embeddings import Embeddings
from langchain_core.retrievers import BaseRetriever
from pydantic import ConfigDict, Field

from assistant.config import Settings
from assistant.models import make_embeddings
from assistant.retrieval import HybridRetriever, make_retriever
from assistant.store import open_store
from assistant.types import RetrievedChunk


class HelpCentreRetriever(BaseRetriever):
    """Dense + BM25, language-aware retrieval (assistant/retrieval.py) behind LangChain's retriever interface."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    retriever: HybridRetriever
    k: int = Field(default=6, ge=1)  # documents returned; `invoke(..., k=n)` overrides it per call
    language: str | None = None      # the question's language; None = detect it per question

    @classmethod
    def from_settings(
        cls, settings: Settings, embeddings: Embeddings | None = None, **kwargs: Any
    ) -> HelpCentreRetriever:
        """A retriever over the configured index (opens the store; `embeddings` default: the configured one)."""
        store = open_store(settings, embeddings if embeddings is not None else make_embeddings(settings))
        return cls(retriever=make_retriever(settings, store), **kwargs)

    def _get_relevant_documents(
        self,
        query: str,
        *,
        run_manager: CallbackManagerForRetrieverRun,
        k: int | None = None,
        language: str | None = None,
    ) -> list[Document]:
        result = self.retriever.retrieve(query, k=k or self.k, language=language or self.language)
        return [as_document(hit) for hit in result.chunks]


def as_document(hit: RetrievedChunk) -> Document:
    """A retrieved chunk as a LangChain Document: text, id, flat metadata and ranking scores."""
    chunk = hit.chunk
    return Document(
        id=chunk.chunk_id,
        page_content=chunk.text,
        metadata={
            "chunk_id": chunk.chunk_id,
            "source": chunk.source,
            "title": chunk.title,
            "kind": chunk.kind,
            "language": chunk.language,
            "page": chunk.page or 0,  # 0 = no page, as stored in Chroma
            "section": chunk.section,
            "score": hit.score,
            "dense_score": hit.dense_score,
            "lexical_score": hit.lexical_score,
            "dense_rank": hit.dense_rank,
            "lexical_rank": hit.lexical_rank,
        },
    )
