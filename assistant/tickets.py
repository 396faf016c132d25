"""Handoff tickets as staff see them: a redacted copy of the conversation, its sources, state and priority.

A ticket moves open -> claimed -> resolved (or open -> resolved); assistant/handoff.py stores them,
assistant/triage.py writes the summary and priority. Everything a ticket holds is redacted first
(`assistant.redaction`), so neither the database nor a webhook sees the customer's email, phone,
card or IBAN.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from assistant.db import to_db_time
from assistant.errors import KBError
from assistant.redaction import redact
from assistant.types import TURN_ROLES, Turn

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
    transcript: tuple[Turn, ...]                 # the first message and the latest ones (see turns_omitted)
    sources: tuple[TicketSource, ...]
    confidence: float
    reasons: tuple[str, ...]
    frustration_trajectory: tuple[float, ...]
    priority: str                                # "urgent" | "high" | "normal"
    turns_omitted: int = 0                       # messages dropped after the first by the transcript cap
    claimed_at: datetime | None = None
    resolved_at: datetime | None = None

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
            "turns_omitted": self.turns_omitted,
            "sources": [source_dict(s) for s in self.sources],
            "confidence": self.confidence,
            "reasons": list(self.reasons),
            "frustration_trajectory": list(self.frustration_trajectory),
            "frustration_peak": self.frustration_peak,
            "priority": self.priority,
        }


@dataclass(frozen=True, slots=True)
class QueueEntry:
    """One row of the staff queue: a ticket without its transcript, and how many wait before it."""

    ticket_id: str
    status: str
    priority: str
    frustration_peak: float
    language: str
    reasons: tuple[str, ...]
    created_at: datetime
    claimed_by: str
    summary: str
    ahead: int | None                            # open tickets created before this one; None unless open

    @property
    def active(self) -> bool:
        return self.status in (OPEN, CLAIMED)


@dataclass(frozen=True, slots=True)
class QueuePage:
    """One page of the queue in triage order, and how many tickets match in all."""

    entries: tuple[QueueEntry, ...]
    total: int
    offset: int
    limit: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.limit))


def staff_name(staff: str) -> str:
    if not staff or not staff.strip():
        raise TicketStateError(f"Expected the name of the staff member, got {staff!r}; log in first.")
    return staff.strip()


def as_turns(turns: Sequence[Turn | Mapping[str, Any]]) -> tuple[Turn, ...]:
    """Turns or {"role", "content"} mappings, validated and redacted."""
    result = []
    for turn in turns:
        role = turn.role if isinstance(turn, Turn) else str(turn.get("role", ""))
        content = turn.content if isinstance(turn, Turn) else str(turn.get("content", ""))
        if role not in TURN_ROLES:
            raise ValueError(f"Expected a turn role in {', '.join(TURN_ROLES)}; got {role!r}")
        result.append(Turn(role=role, content=redact(content)))
    return tuple(result)


def as_sources(sources: Iterable[Any]) -> tuple[TicketSource, ...]:
    """Citations, TicketSources or mappings with source/title/page/chunk_id, deduplicated."""
    result = []
    for item in sources:
        page = _field(item, "page")
        result.append(
            TicketSource(
                source=str(_field(item, "source") or ""),
                title=str(_field(item, "title") or ""),
                page=int(page) if page else None,
                chunk_id=str(_field(item, "chunk_id") or ""),
            )
        )
    return tuple(dict.fromkeys(result))


def _field(item: Any, key: str) -> Any:
    return item.get(key) if isinstance(item, Mapping) else getattr(item, key, None)


def merge(old: Sequence, new: Sequence) -> tuple:
    """`old` followed by the part of `new` it does not already end with (longest overlap)."""
    old, new = tuple(old), tuple(new)
    return old + unseen_turns(old, 0, new)


def unseen_turns(stored: Sequence, omitted: int, new: Sequence) -> tuple:
    """The part of `new` that `stored` does not already end with (the longest overlap is skipped).

    `stored` is a capped transcript: its first item, then `omitted` dropped ones, then the rest.
    Dropped positions count as matching, so resending a whole long conversation adds only what is new.
    """
    new = tuple(new)
    at = {0 if i == 0 else i + omitted: item for i, item in enumerate(stored)}
    end = len(stored) + omitted if stored else 0
    for size in range(min(len(new), end), 0, -1):
        start = end - size
        if all(at.get(start + j, new[j]) == new[j] for j in range(size)):
            return new[size:]
    return new


def source_dict(source: TicketSource) -> dict[str, Any]:
    return {"source": source.source, "title": source.title, "page": source.page, "chunk_id": source.chunk_id}


def sources_json(sources: Sequence[TicketSource]) -> str:
    return json.dumps([source_dict(s) for s in sources], ensure_ascii=False)
