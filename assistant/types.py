"""Core value types shared by ingestion, retrieval, answering, escalation and the UI."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any


def _frozen_map(values: Mapping[str, Any] | None = None) -> Mapping[str, Any]:
    return MappingProxyType(dict(values or {}))


@dataclass(frozen=True, slots=True)
class Chunk:
    """One indexed passage with the metadata stored beside it in Chroma."""

    chunk_id: str
    text: str
    source: str            # path relative to the corpus root, e.g. "faq/billing.csv"
    title: str
    kind: str = "doc"      # faq | doc | tutorial
    language: str = "en"
    page: int | None = None  # 1-based, PDFs only
    section: str = ""      # heading path, e.g. "Refunds > Card payments"

    @classmethod
    def from_metadata(cls, chunk_id: str, text: str, metadata: Mapping[str, Any]) -> Chunk:
        """Build a Chunk from Chroma's flat metadata (page 0 means "no page")."""
        page = int(metadata.get("page", 0) or 0)
        return cls(
            chunk_id=chunk_id,
            text=text,
            source=str(metadata.get("source", "")),
            title=str(metadata.get("title", "")),
            kind=str(metadata.get("kind", "doc")),
            language=str(metadata.get("language", "en")),
            page=page or None,
            section=str(metadata.get("section", "")),
        )


@dataclass(frozen=True, slots=True)
class RetrievedChunk:
    """A chunk with the scores that ranked it; `score` is the fused, cosine-scale score used for ordering."""

    chunk: Chunk
    score: float
    dense_score: float = 0.0     # cosine similarity, 0 if the dense side did not return it
    lexical_score: float = 0.0   # BM25, 0 if the lexical side did not return it
    dense_rank: int = 0          # 1-based rank by (language-corrected) cosine
    lexical_rank: int = 0        # 1-based; 0 = not in the lexical list


@dataclass(frozen=True, slots=True)
class Citation:
    """A source cited in an answer as "[marker]"."""

    marker: int
    chunk_id: str
    source: str
    title: str
    page: int | None
    quote: str
    score: float = 0.0
    language: str = "en"


@dataclass(frozen=True, slots=True)
class EscalationDecision:
    """Whether to hand over to a person now, offer one, or carry on; with reasons and signal values."""

    escalate: bool                       # hand off now (explicit request, sensitive topic, accepted offer)
    confidence: float                    # 0..1, calibrated answer confidence, shown to staff
    reasons: tuple[str, ...] = ()        # "low_confidence", "frustration", "asked_for_human", "loop", "sensitive_topic"
    offer: bool = False                  # offer a person without hiding the answer
    signals: Mapping[str, float] = field(default_factory=_frozen_map)

    @property
    def action(self) -> str:
        if self.escalate:
            return "handoff"
        return "offer" if self.offer else "none"


@dataclass(frozen=True, slots=True)
class Turn:
    """One message of a conversation."""

    role: str        # "user" | "assistant"
    content: str


@dataclass(frozen=True, slots=True)
class Answer:
    """Everything one `Assistant.reply` produced for one customer message."""

    text: str
    citations: tuple[Citation, ...]
    retrieved: tuple[RetrievedChunk, ...]
    language: str
    confidence: float
    escalation: EscalationDecision
    grounded: bool = True          # False when the assistant abstained ("not in the help centre")
    mode: str = "extractive"       # "llm" | "extractive"
    session_id: str = ""
    search_query: str = ""         # the (possibly condensed) query actually used for retrieval
    notice: str = ""               # e.g. the fallback reason when the LLM failed
    ticket_id: str = ""            # set when this reply created a handoff ticket
    queue_position: int = 0        # people ahead of the customer in the handoff queue
    message_index: int = -1        # index of this reply in the stored conversation (for feedback)
