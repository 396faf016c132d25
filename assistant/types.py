"""Core value types shared by ingestion, retrieval, answering, escalation and the UI."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from types import MappingProxyType
from typing import Any, Literal, get_args

AnswerMode = Literal["llm", "extractive", "handoff", "error", "none"]
"""How `Assistant.reply` produced an Answer:
- "llm": the chat model wrote it from the retrieved passages, with checked [n] citations (or it abstained);
- "extractive": the best supporting passages, quoted and cited, or the abstain phrase (no LLM configured,
  or the LLM failed and `Answer.notice` says so);
- "handoff": the reply that hands the customer over to a person (a ticket was opened or extended);
- "error": the search or the assistant failed; the reply apologises and offers a person;
- "none": there was nothing to answer (an empty or invisible-only message).
"""
ANSWER_MODES: tuple[AnswerMode, ...] = get_args(AnswerMode)
ANSWERING_MODES: tuple[AnswerMode, ...] = ("llm", "extractive")  # the modes that answer from the help centre

TurnRole = Literal["user", "assistant", "staff"]  # the customer, the assistant, a support person
TURN_ROLES: tuple[TurnRole, ...] = get_args(TurnRole)


class EscalationReason(StrEnum):
    """Why a reply hands over to a person or offers one; strongest first. Plain strings when stored."""

    ASKED_FOR_HUMAN = "asked_for_human"        # the customer asked for a person
    SENSITIVE_TOPIC = "sensitive_topic"        # billing dispute, account security, legal threat, data deletion
    OFFER_ACCEPTED = "offer_accepted"          # the customer accepted an offered person
    ALREADY_HANDED_OFF = "already_handed_off"  # a ticket is already open for this conversation
    LOW_CONFIDENCE = "low_confidence"          # weak evidence, an unsupported claim, or no answer in the help centre
    FRUSTRATION = "frustration"
    LOOP = "loop"                              # the customer repeats or rephrases, or says it did not help
    FRUSTRATION_RISING = "frustration_rising"  # frustration kept rising after a declined offer
    STORE_UNAVAILABLE = "store_unavailable"    # the help centre could not be searched
    ERROR = "error"                            # the assistant failed for another reason


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
    evidence: str = ""           # the chunk's view (sentence or FAQ question) that matched best, if any
    evidence_score: float = 0.0  # that view's cosine to the question (0 without views)


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
    reasons: tuple[str, ...] = ()        # EscalationReason values, strongest first
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

    role: TurnRole
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
    mode: AnswerMode = "extractive"  # see AnswerMode
    session_id: str = ""
    search_query: str = ""         # the (possibly condensed) query actually used for retrieval
    notice: str = ""               # e.g. the fallback reason when the LLM failed
    ticket_id: str = ""            # set when this reply created a handoff ticket
    queue_position: int = 0        # people ahead of the customer in the handoff queue
    message_index: int = -1        # index of this reply in the stored conversation (for feedback)
    search_translations: Mapping[str, str] = field(default_factory=_frozen_map)  # search_query's rewrites searched too
