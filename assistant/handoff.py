"""Handoff tickets in the application database: open, extend, claim, resolve, and the staff queue.

A ticket moves open -> claimed -> resolved (or open -> resolved). A session has at most one
active (open or claimed) ticket: handing off again returns that ticket with the new turns added.
Everything stored is redacted first (`assistant.redaction`), so the database never holds the
customer's email, phone, card or IBAN. The ticket itself is in assistant/tickets.py, its summary
and priority in assistant/triage.py (both importable from here too).
"""

from __future__ import annotations

import json
import logging
import secrets
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from assistant.config import Settings
from assistant.db import Database, from_db_time, to_db_time, utc_now
from assistant.redaction import redact
from assistant.tickets import (
    CLAIMED,
    OPEN,
    RESOLVED,
    STATUSES,
    Ticket,
    TicketNotFoundError,
    TicketSource,
    TicketStateError,
    source_dict,
)
from assistant.triage import SUMMARY_MAX_CHARS, clip, summarize_extractive, ticket_priority
from assistant.types import TURN_ROLES, Turn

__all__ = [
    "CLAIMED", "OPEN", "RESOLVED", "STATUSES", "SUMMARY_MAX_CHARS", "Summarizer", "Ticket", "TicketNotFoundError",
    "TicketSource", "TicketStateError", "TicketStore", "summarize_extractive", "ticket_priority",
]

logger = logging.getLogger(__name__)

Summarizer = Callable[[Sequence[Turn], str], str]

_SCHEMA = [
    """
    CREATE TABLE IF NOT EXISTS tickets (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,      -- creation order, for the queue
        ticket_id TEXT NOT NULL UNIQUE,
        session_id TEXT NOT NULL,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        status TEXT NOT NULL CHECK (status IN ('open', 'claimed', 'resolved')),
        claimed_by TEXT NOT NULL DEFAULT '',
        resolved_by TEXT NOT NULL DEFAULT '',
        language TEXT NOT NULL,
        summary TEXT NOT NULL,                      -- redacted
        transcript TEXT NOT NULL,                   -- JSON [{"role", "content"}], redacted
        sources TEXT NOT NULL,                      -- JSON [{"source", "title", "page", "chunk_id"}]
        confidence REAL NOT NULL,
        reasons TEXT NOT NULL,                      -- JSON ["low_confidence", ...]
        frustration_trajectory TEXT NOT NULL,       -- JSON [0.1, 0.4, ...], one per customer turn
        frustration_peak REAL NOT NULL,
        priority TEXT NOT NULL
    );
    CREATE INDEX IF NOT EXISTS tickets_by_status ON tickets (status, seq);
    -- The database itself guarantees one active ticket per session.
    CREATE UNIQUE INDEX IF NOT EXISTS tickets_one_active_per_session
        ON tickets (session_id) WHERE status IN ('open', 'claimed')
    """,
]


@dataclass(frozen=True, slots=True)
class _Handoff:
    """The validated, redacted inputs of one `TicketStore.create` call."""

    turns: tuple[Turn, ...]
    language: str
    sources: tuple[TicketSource, ...]
    confidence: float
    reasons: tuple[str, ...]
    trajectory: tuple[float, ...]


class TicketStore:
    """Handoff tickets in the application database.

    `list()` is the staff triage order: open before claimed before resolved, then the highest
    frustration peak first, then the newest first. `queue_position()` is what the customer is
    told: how many open tickets were created before theirs.
    """

    def __init__(
        self,
        settings: Settings,
        db: Database | None = None,
        summarizer: Summarizer | None = None,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self.settings = settings
        self.db = db if db is not None else Database.from_settings(settings)
        self.db.migrate("tickets", _SCHEMA)
        self._summarizer = summarizer
        self._clock = clock

    def create(
        self,
        session_id: str,
        transcript: Sequence[Turn | Mapping[str, Any]],
        language: str,
        summary: str | None = None,
        sources: Iterable[Any] = (),
        confidence: float = 0.0,
        reasons: Iterable[str] = (),
        frustration_trajectory: Iterable[float] = (),
    ) -> Ticket:
        """Open a ticket for `session_id`, or return its active one with the new turns appended.

        `transcript` may be the whole conversation or just its latest turns: turns the active
        ticket already ends with are not added twice. With no `summary`, the store's summarizer
        (default: `summarize_extractive`) writes one. Everything is redacted before storing.
        """
        if not session_id:
            raise ValueError("Expected a session id, got an empty string")
        handoff = _Handoff(
            turns=_as_turns(transcript),
            language=language,
            sources=_as_sources(sources),
            confidence=float(confidence),
            reasons=tuple(dict.fromkeys(str(r) for r in reasons)),
            trajectory=tuple(float(f) for f in frustration_trajectory),
        )
        # The summarizer may call an LLM: run it before taking the database lock.
        existing = self.find_active(session_id)
        if existing:
            transcript_after = _merge(existing.transcript, handoff.turns)
            reasons_after = tuple(dict.fromkeys(existing.reasons + handoff.reasons))
        else:
            transcript_after, reasons_after = handoff.turns, handoff.reasons
        summary_text = self._summary(transcript_after, language, reasons_after, summary)
        now = to_db_time(self._clock())
        with self.db.transaction() as conn:
            row = conn.execute(
                "SELECT * FROM tickets WHERE session_id = ? AND status IN ('open', 'claimed')", (session_id,)
            ).fetchone()
            if row is None:
                ticket_id = self._insert(conn, session_id, handoff, summary_text, now)
            else:
                ticket_id = self._extend(conn, _row_to_ticket(row), handoff, summary_text, now)
        return self.get(ticket_id)

    def _insert(self, conn, session_id: str, handoff: _Handoff, summary: str, now: str) -> str:
        ticket_id = f"T-{secrets.token_hex(5).upper()}"
        conn.execute(
            "INSERT INTO tickets (ticket_id, session_id, created_at, updated_at, status, language, summary,"
            " transcript, sources, confidence, reasons, frustration_trajectory, frustration_peak, priority)"
            " VALUES (?, ?, ?, ?, 'open', ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                ticket_id, session_id, now, now, handoff.language, summary, _turns_json(handoff.turns),
                _sources_json(handoff.sources), handoff.confidence, json.dumps(handoff.reasons),
                json.dumps(handoff.trajectory), max(handoff.trajectory, default=0.0),
                self._priority(handoff.trajectory, handoff.reasons),
            ),
        )
        logger.info("handoff ticket %s opened for session %s", ticket_id, session_id)
        return ticket_id

    def _extend(self, conn, current: Ticket, handoff: _Handoff, summary: str, now: str) -> str:
        """A second handoff in the session: add what is new to the active ticket."""
        trajectory = _merge(current.frustration_trajectory, handoff.trajectory)
        reasons = tuple(dict.fromkeys(current.reasons + handoff.reasons))
        conn.execute(
            "UPDATE tickets SET updated_at = ?, language = ?, summary = ?, transcript = ?, sources = ?,"
            " confidence = ?, reasons = ?, frustration_trajectory = ?, frustration_peak = ?, priority = ?"
            " WHERE ticket_id = ?",
            (
                now, handoff.language or current.language, summary,
                _turns_json(_merge(current.transcript, handoff.turns)),
                _sources_json(tuple(dict.fromkeys(current.sources + handoff.sources))), handoff.confidence,
                json.dumps(reasons), json.dumps(trajectory), max(trajectory, default=0.0),
                self._priority(trajectory, reasons), current.ticket_id,
            ),
        )
        return current.ticket_id

    def get(self, ticket_id: str) -> Ticket:
        with self.db.read() as conn:
            row = conn.execute("SELECT * FROM tickets WHERE ticket_id = ?", (ticket_id,)).fetchone()
        if row is None:
            raise TicketNotFoundError(f"Expected an existing ticket id, got {ticket_id!r}; refresh the queue.")
        return _row_to_ticket(row)

    def find_active(self, session_id: str) -> Ticket | None:
        """The open or claimed ticket of a session, if any."""
        with self.db.read() as conn:
            row = conn.execute(
                "SELECT * FROM tickets WHERE session_id = ? AND status IN ('open', 'claimed')", (session_id,)
            ).fetchone()
        return _row_to_ticket(row) if row else None

    def list(self, status: str | None = None, limit: int | None = None) -> list[Ticket]:
        """Tickets in triage order (see the class docstring), optionally of one status."""
        if status is not None and status not in STATUSES:
            raise ValueError(f"Expected status to be one of {', '.join(STATUSES)}; got {status!r}")
        sql = "SELECT * FROM tickets"
        params: list[Any] = []
        if status is not None:
            sql += " WHERE status = ?"
            params.append(status)
        sql += (
            " ORDER BY CASE status WHEN 'open' THEN 0 WHEN 'claimed' THEN 1 ELSE 2 END,"
            " frustration_peak DESC, seq DESC"
        )
        if limit is not None:
            sql += " LIMIT ?"
            params.append(int(limit))
        with self.db.read() as conn:
            rows = conn.execute(sql, params).fetchall()
        return [_row_to_ticket(r) for r in rows]

    def queue_position(self, ticket_id: str) -> int:
        """People ahead: open tickets created before this one (0 once it is claimed or resolved)."""
        with self.db.read() as conn:
            row = conn.execute("SELECT seq, status FROM tickets WHERE ticket_id = ?", (ticket_id,)).fetchone()
            if row is None:
                raise TicketNotFoundError(f"Expected an existing ticket id, got {ticket_id!r}.")
            if row["status"] != OPEN:
                return 0
            ahead = conn.execute(
                "SELECT COUNT(*) FROM tickets WHERE status = 'open' AND seq < ?", (row["seq"],)
            ).fetchone()[0]
        return int(ahead)

    def claim(self, ticket_id: str, staff: str) -> Ticket:
        """open -> claimed by `staff`; anything else is refused."""
        staff = _staff_name(staff)
        with self.db.transaction() as conn:
            current = self._locked_get(conn, ticket_id)
            if current.status != OPEN:
                by = current.claimed_by if current.status == CLAIMED else current.resolved_by
                raise TicketStateError(
                    f"Expected ticket {ticket_id} to be open to claim it, got {current.status} (by {by}); "
                    "refresh the queue and pick another ticket."
                )
            conn.execute(
                "UPDATE tickets SET status = 'claimed', claimed_by = ?, updated_at = ? WHERE ticket_id = ?",
                (staff, to_db_time(self._clock()), ticket_id),
            )
        logger.info("ticket %s claimed by %s", ticket_id, staff)
        return self.get(ticket_id)

    def resolve(self, ticket_id: str, staff: str) -> Ticket:
        """open or claimed -> resolved by `staff`; resolving twice is refused."""
        staff = _staff_name(staff)
        with self.db.transaction() as conn:
            current = self._locked_get(conn, ticket_id)
            if not current.active:
                raise TicketStateError(
                    f"Expected ticket {ticket_id} to be open or claimed to resolve it, got resolved "
                    f"(by {current.resolved_by}); nothing to do."
                )
            conn.execute(
                "UPDATE tickets SET status = 'resolved', resolved_by = ?, updated_at = ? WHERE ticket_id = ?",
                (staff, to_db_time(self._clock()), ticket_id),
            )
        logger.info("ticket %s resolved by %s", ticket_id, staff)
        return self.get(ticket_id)

    def append_turns(self, ticket_id: str, turns: Sequence[Turn | Mapping[str, Any]]) -> Ticket:
        """Add messages (redacted) to an open or claimed ticket and refresh its summary."""
        new = _as_turns(turns)
        before = self.get(ticket_id)
        summary = self._summary(before.transcript + new, before.language, before.reasons, None)
        with self.db.transaction() as conn:
            current = self._locked_get(conn, ticket_id)
            if not current.active:
                raise TicketStateError(
                    f"Expected ticket {ticket_id} to be open or claimed to add messages, got resolved; "
                    "hand off again to open a new ticket."
                )
            conn.execute(
                "UPDATE tickets SET transcript = ?, summary = ?, updated_at = ? WHERE ticket_id = ?",
                (_turns_json(current.transcript + new), summary, to_db_time(self._clock()), ticket_id),
            )
        return self.get(ticket_id)

    def _locked_get(self, conn, ticket_id: str) -> Ticket:
        row = conn.execute("SELECT * FROM tickets WHERE ticket_id = ?", (ticket_id,)).fetchone()
        if row is None:
            raise TicketNotFoundError(f"Expected an existing ticket id, got {ticket_id!r}; refresh the queue.")
        return _row_to_ticket(row)

    def _priority(self, trajectory: Sequence[float], reasons: Iterable[str]) -> str:
        return ticket_priority(max(trajectory, default=0.0), reasons, self.settings.frustration_threshold)

    def _summary(
        self, transcript: Sequence[Turn], language: str, reasons: Sequence[str], given: str | None
    ) -> str:
        """The caller's summary, else the summarizer's, else the extractive one; always redacted."""
        text = given or ""
        if not text and self._summarizer is not None:
            try:
                text = self._summarizer(transcript, language) or ""
            except Exception:  # an LLM summary is a nicety: never lose the handoff over it
                logger.exception("summarizer failed; using the extractive summary")
        if not text.strip():
            return summarize_extractive(transcript, language, reasons)
        return clip(redact(text.strip()), SUMMARY_MAX_CHARS)


def _staff_name(staff: str) -> str:
    if not staff or not staff.strip():
        raise TicketStateError(f"Expected the name of the staff member, got {staff!r}; log in first.")
    return staff.strip()


def _as_turns(turns: Sequence[Turn | Mapping[str, Any]]) -> tuple[Turn, ...]:
    result = []
    for turn in turns:
        role = turn.role if isinstance(turn, Turn) else str(turn.get("role", ""))
        content = turn.content if isinstance(turn, Turn) else str(turn.get("content", ""))
        if role not in TURN_ROLES:
            raise ValueError(f"Expected a turn role in {', '.join(TURN_ROLES)}; got {role!r}")
        result.append(Turn(role=role, content=redact(content)))
    return tuple(result)


def _as_sources(sources: Iterable[Any]) -> tuple[TicketSource, ...]:
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


def _merge(old: Sequence, new: Sequence) -> tuple:
    """`old` followed by the part of `new` it does not already end with (longest overlap)."""
    old, new = tuple(old), tuple(new)
    for overlap in range(min(len(old), len(new)), 0, -1):
        if old[-overlap:] == new[:overlap]:
            return old + new[overlap:]
    return old + new


def _turns_json(turns: Sequence[Turn]) -> str:
    return json.dumps([{"role": t.role, "content": t.content} for t in turns], ensure_ascii=False)


def _sources_json(sources: Sequence[TicketSource]) -> str:
    return json.dumps([source_dict(s) for s in sources], ensure_ascii=False)


def _row_to_ticket(row) -> Ticket:
    return Ticket(
        ticket_id=row["ticket_id"],
        session_id=row["session_id"],
        created_at=from_db_time(row["created_at"]),
        updated_at=from_db_time(row["updated_at"]),
        status=row["status"],
        claimed_by=row["claimed_by"],
        resolved_by=row["resolved_by"],
        language=row["language"],
        summary=row["summary"],
        transcript=tuple(Turn(role=t["role"], content=t["content"]) for t in json.loads(row["transcript"])),
        sources=tuple(TicketSource(**s) for s in json.loads(row["sources"])),
        confidence=float(row["confidence"]),
        reasons=tuple(json.loads(row["reasons"])),
        frustration_trajectory=tuple(float(f) for f in json.loads(row["frustration_trajectory"])),
        priority=row["priority"],
    )
