"""Handoff tickets as staff see them: a redacted copy of the conversation, its sources, state and priority.

A ticket moves open -> claimed -> resolved (or open -> resolved); assistant/handoff.py stores them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from assistant.db import to_db_time
from assistant.errors import KBError
from assistant.types import Turn

OPEN, CLAIMED, RESOLVED = "open", "claimed", "resolved"
STATUSES = (OPEN, CLAIMED, RESOLVED)


class TicketNotFoundError(KBError):
    """No ticket has the id that was asked for."""


class TicketStateError(KBError):
    """The ticket is not in a state that allows the requested change (e.g. claiming a resolved one)."""


@dataclass(frozen=True, slots=True)
class TicketSource:
    """A help-centre passage the assistant used before handing off."""

    source: str
    title: str
    page: int | None
    chunk_id: str


@dataclass(frozen=True, slots=True)
class Ticket:
    """A handoff to a person, as staff see it. `transcript` and `summary` are already redacted."""

    ticket_id: str
    session_id: str
    created_at: datetime
    updated_at: datetime
    status: str                                  # "open" | "claimed" | "resolved"
    claimed_by: str
    resolved_by: str
    language: str
    summary: str
    transcript: tuple[Turn, ...]
    sources: tuple[TicketSource, ...]
    confidence: float
    reasons: tuple[str, ...]
    frustration_trajectory: tuple[float, ...]
    priority: str                                # "urgent" | "high" | "normal"

    @property
    def frustration_peak(self) -> float:
        return max(self.frustration_trajectory, default=0.0)

    @property
    def active(self) -> bool:
        return self.status in (OPEN, CLAIMED)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (webhook payloads, exports)."""
        return {
            "ticket_id": self.ticket_id,
            "session_id": self.session_id,
            "created_at": to_db_time(self.created_at),
            "updated_at": to_db_time(self.updated_at),
            "status": self.status,
            "claimed_by": self.claimed_by,
            "resolved_by": self.resolved_by,
            "language": self.language,
            "summary": self.summary,
            "transcript": [{"role": t.role, "content": t.content} for t in self.transcript],
            "sources": [source_dict(s) for s in self.sources],
            "confidence": self.confidence,
            "reasons": list(self.reasons),
            "frustration_trajectory": list(self.frustration_trajectory),
            "frustration_peak": self.frustration_peak,
            "priority": self.priority,
        }


def source_dict(source: TicketSource) -> dict[str, Any]:
    return {"source": source.source, "title": source.title, "page": source.page, "chunk_id": source.chunk_id}
