"""Handoff tickets in the application database: open, extend, queue, claim, resolve.

A session has at most one active (open or claimed) ticket: handing off again returns that ticket
with the new turns added. Each message of a transcript is one row of `ticket_turns`, so adding a
message is one INSERT; past `settings.ticket_max_turns` the oldest messages after the first are
dropped (and counted). The ticket value lives in `assistant.tickets`, its summary and priority in
`assistant.triage`.
"""

from __future__ import annotations

import json
import logging
import secrets
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, case, delete, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from assistant.config import Settings
from assistant.db import Database, from_db_time, to_db_time, utc_now
from assistant.redaction import redact
from assistant.schema import ticket_turns, tickets
from assistant.tickets import (
    CLAIMED,
    OPEN,
    RESOLVED,
    STATUSES,
    QueueEntry,
    QueuePage,
    Ticket,
    TicketNotFoundError,
    TicketSource,
    TicketStateError,
    as_sources,
    as_turns,
    merge,
    sources_json,
    staff_name,
    unseen_turns,
)
from assistant.triage import SUMMARY_MAX_CHARS, clip, summarize_extractive, ticket_priority
from assistant.types import Turn

__all__ = [
    "CLAIMED", "OPEN", "RESOLVED", "STATUSES", "SUMMARY_MAX_CHARS", "QueueEntry", "QueuePage", "Summarizer",
    "Ticket", "TicketNotFoundError", "TicketSource", "TicketStateError", "TicketStore", "summarize_extractive",
    "ticket_priority",
]

logger = logging.getLogger(__name__)

Summarizer = Callable[[Sequence[Turn], str], str]
# Called inside the transaction that opens or extends a ticket (the webhook outbox enqueues there).
TicketHook = Callable[[Connection, Ticket], None]
_ACTIVE = (OPEN, CLAIMED)
_CREATE_ATTEMPTS = 3
# Staff triage order: open, claimed, resolved; then the most frustrated; then the newest.
_TRIAGE = (case((tickets.c.status == OPEN, 0), (tickets.c.status == CLAIMED, 1), else_=2),
           tickets.c.frustration_peak.desc(), tickets.c.seq.desc())


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
    """Handoff tickets in the application database (SQLite or PostgreSQL).

    `list()` and `page()` are the staff triage order: open before claimed before resolved, then the
    highest frustration peak first, then the newest first. `queue_position()` is what the customer
    is told: how many open tickets were created before theirs, counted in the database, so every
    replica gives the same answer.
    """

    def __init__(
        self,
        settings: Settings,
        db: Database | None = None,
        summarizer: Summarizer | None = None,
        clock: Callable[[], datetime] = utc_now,
        on_open: Sequence[TicketHook] = (),
    ) -> None:
        self.settings = settings
        self.db = db if db is not None else Database.from_settings(settings)
        self._summarizer = summarizer
        self._clock = clock
        self._on_open: list[TicketHook] = []
        for hook in on_open:
            self.add_hook(hook)

    def add_hook(self, hook: TicketHook) -> None:
        """Run `hook(conn, ticket)` in the transaction of every open or extend (once, however often added)."""
        if hook not in self._on_open:
            self._on_open.append(hook)

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
        (default: `summarize_extractive`) writes one. Everything is redacted before storing. The
        `on_open` hooks run in the same transaction, so a ticket never exists without them.
        """
        if not session_id:
            raise ValueError("Expected a session id, got an empty string")
        handoff = _Handoff(
            turns=as_turns(transcript),
            language=language,
            sources=as_sources(sources),
            confidence=float(confidence),
            reasons=tuple(dict.fromkeys(str(r) for r in reasons)),
            trajectory=tuple(float(f) for f in frustration_trajectory),
        )
        # The summarizer may call an LLM: run it before taking the database lock.
        existing = self.find_active(session_id)
        if existing:
            transcript_after = existing.transcript + unseen_turns(existing.transcript, existing.turns_omitted,
                                                                  handoff.turns)
            reasons_after = tuple(dict.fromkeys(existing.reasons + handoff.reasons))
        else:
            transcript_after, reasons_after = handoff.turns, handoff.reasons
        summary_text = self._summary(transcript_after, language, reasons_after, summary)
        for attempt in range(1, _CREATE_ATTEMPTS + 1):
            try:
                return self._open_or_extend(session_id, handoff, summary_text)
            except IntegrityError:
                # Another replica opened this session's ticket between our read and our insert
                # (PostgreSQL; SQLite's BEGIN IMMEDIATE cannot race): extend theirs instead.
                if attempt == _CREATE_ATTEMPTS:
                    raise
                logger.info("ticket for session %s opened concurrently; extending it", session_id)
        raise AssertionError("unreachable")

    def _open_or_extend(self, session_id: str, handoff: _Handoff, summary: str) -> Ticket:
        now = to_db_time(self._clock())
        with self.db.transaction() as conn:
            row = conn.execute(
                select(tickets).where(tickets.c.session_id == session_id, tickets.c.status.in_(_ACTIVE))
                .with_for_update()
            ).first()
            if row is None:
                ticket_id = self._insert(conn, session_id, handoff, summary, now)
            else:
                ticket_id = self._extend(conn, self._ticket(conn, row), handoff, summary, now)
            ticket = self._locked_get(conn, ticket_id)
            for hook in self._on_open:
                hook(conn, ticket)
        return ticket

    def _insert(self, conn: Connection, session_id: str, handoff: _Handoff, summary: str, now: str) -> str:
        ticket_id = f"T-{secrets.token_hex(5).upper()}"
        conn.execute(insert(tickets).values(
            ticket_id=ticket_id, session_id=session_id, created_at=now, updated_at=now, status=OPEN,
            language=handoff.language, summary=summary, sources=sources_json(handoff.sources),
            confidence=handoff.confidence, reasons=json.dumps(handoff.reasons),
            frustration_trajectory=json.dumps(handoff.trajectory),
            frustration_peak=max(handoff.trajectory, default=0.0),
            priority=self._priority(handoff.trajectory, handoff.reasons),
        ))
        self._append(conn, ticket_id, 0, handoff.turns)
        logger.info("handoff ticket %s opened for session %s", ticket_id, session_id)
        return ticket_id

    def _extend(self, conn: Connection, current: Ticket, handoff: _Handoff, summary: str, now: str) -> str:
        """A second handoff in the session: add what is new to the active ticket."""
        trajectory = merge(current.frustration_trajectory, handoff.trajectory)
        reasons = tuple(dict.fromkeys(current.reasons + handoff.reasons))
        conn.execute(update(tickets).where(tickets.c.ticket_id == current.ticket_id).values(
            updated_at=now, language=handoff.language or current.language, summary=summary,
            sources=sources_json(tuple(dict.fromkeys(current.sources + handoff.sources))),
            confidence=handoff.confidence, reasons=json.dumps(reasons), frustration_trajectory=json.dumps(trajectory),
            frustration_peak=max(trajectory, default=0.0), priority=self._priority(trajectory, reasons),
        ))
        new = unseen_turns(current.transcript, current.turns_omitted, handoff.turns)
        self._append(conn, current.ticket_id, self._next_index(conn, current.ticket_id), new)
        return current.ticket_id

    def _append(self, conn: Connection, ticket_id: str, start: int, turns: Sequence[Turn]) -> None:
        """Insert `turns` from position `start`; past the cap, drop the oldest after the first message."""
        if not turns:
            return
        conn.execute(insert(ticket_turns), [
            {"ticket_id": ticket_id, "idx": start + i, "role": turn.role, "content": turn.content}
            for i, turn in enumerate(turns)
        ])
        last = start + len(turns) - 1
        keep_from = last - (self.settings.ticket_max_turns - 1) + 1  # the newest cap-1 turns, plus the first
        if keep_from <= 1:
            return
        dropped = conn.execute(delete(ticket_turns).where(
            ticket_turns.c.ticket_id == ticket_id, ticket_turns.c.idx > 0, ticket_turns.c.idx < keep_from
        )).rowcount
        if dropped:
            conn.execute(update(tickets).where(tickets.c.ticket_id == ticket_id)
                         .values(turns_omitted=tickets.c.turns_omitted + dropped))

    @staticmethod
    def _next_index(conn: Connection, ticket_id: str) -> int:
        found = conn.execute(select(func.max(ticket_turns.c.idx)).where(ticket_turns.c.ticket_id == ticket_id))
        last = found.scalar()
        return 0 if last is None else int(last) + 1

    def get(self, ticket_id: str) -> Ticket:
        with self.db.read() as conn:
            row = conn.execute(select(tickets).where(tickets.c.ticket_id == ticket_id)).first()
            if row is None:
                raise TicketNotFoundError(f"Expected an existing ticket id, got {ticket_id!r}; refresh the queue.")
            return self._ticket(conn, row)

    def find_active(self, session_id: str) -> Ticket | None:
        """The open or claimed ticket of a session, if any."""
        with self.db.read() as conn:
            row = conn.execute(
                select(tickets).where(tickets.c.session_id == session_id, tickets.c.status.in_(_ACTIVE))
            ).first()
            return self._ticket(conn, row) if row else None

    def list(self, status: str | None = None, limit: int | None = None) -> list[Ticket]:
        """Tickets with their transcripts in triage order (see the class docstring), optionally of one status."""
        query = select(tickets).order_by(*_TRIAGE).limit(None if limit is None else int(limit))
        if status is not None:
            query = query.where(tickets.c.status == _status(status))
        with self.db.read() as conn:
            return [self._ticket(conn, row) for row in conn.execute(query).fetchall()]

    def page(self, active_only: bool = True, offset: int = 0, limit: int = 25) -> QueuePage:
        """One page of the queue for the Handoffs page: no transcripts, at most `limit` rows."""
        if limit < 1 or offset < 0:
            raise ValueError(f"Expected limit >= 1 and offset >= 0, got limit={limit}, offset={offset}")
        ahead_of = tickets.alias("ahead_of")
        ahead = (select(func.count()).select_from(ahead_of)
                 .where(ahead_of.c.status == OPEN, ahead_of.c.seq < tickets.c.seq).scalar_subquery())
        columns = [tickets.c[name] for name in (
            "ticket_id", "status", "priority", "frustration_peak", "language", "reasons", "created_at",
            "claimed_by", "summary")]
        query = select(*columns, ahead.label("ahead")).order_by(*_TRIAGE).offset(offset).limit(limit)
        counting = select(func.count()).select_from(tickets)
        if active_only:
            query = query.where(tickets.c.status.in_(_ACTIVE))
            counting = counting.where(tickets.c.status.in_(_ACTIVE))
        with self.db.read() as conn:
            rows = conn.execute(query).fetchall()
            total = int(conn.execute(counting).scalar() or 0)
        entries = tuple(
            QueueEntry(
                ticket_id=r.ticket_id, status=r.status, priority=r.priority, frustration_peak=float(r.frustration_peak),
                language=r.language, reasons=tuple(json.loads(r.reasons)), created_at=from_db_time(r.created_at),
                claimed_by=r.claimed_by, summary=r.summary, ahead=int(r.ahead) if r.status == OPEN else None,
            )
            for r in rows
        )
        return QueuePage(entries=entries, total=total, offset=offset, limit=limit)

    def queue_position(self, ticket_id: str) -> int:
        """People ahead: open tickets created before this one (0 once it is claimed or resolved)."""
        with self.db.read() as conn:
            row = conn.execute(select(tickets.c.seq, tickets.c.status).where(tickets.c.ticket_id == ticket_id)).first()
            if row is None:
                raise TicketNotFoundError(f"Expected an existing ticket id, got {ticket_id!r}.")
            if row.status != OPEN:
                return 0
            ahead = conn.execute(
                select(func.count()).select_from(tickets).where(tickets.c.status == OPEN, tickets.c.seq < row.seq)
            ).scalar()
        return int(ahead or 0)

    def claim(self, ticket_id: str, staff: str) -> Ticket:
        """open -> claimed by `staff`; anything else is refused."""
        staff = staff_name(staff)
        with self.db.transaction() as conn:
            current = self._locked_get(conn, ticket_id)
            if current.status != OPEN:
                by = current.claimed_by if current.status == CLAIMED else current.resolved_by
                raise TicketStateError(
                    f"Expected ticket {ticket_id} to be open to claim it, got {current.status} (by {by}); "
                    "refresh the queue and pick another ticket."
                )
            now = to_db_time(self._clock())
            conn.execute(update(tickets).where(tickets.c.ticket_id == ticket_id).values(
                status=CLAIMED, claimed_by=staff, updated_at=now, claimed_at=now))
        logger.info("ticket %s claimed by %s", ticket_id, staff)
        return self.get(ticket_id)

    def resolve(self, ticket_id: str, staff: str) -> Ticket:
        """open or claimed -> resolved by `staff`; resolving twice is refused."""
        staff = staff_name(staff)
        with self.db.transaction() as conn:
            current = self._locked_get(conn, ticket_id)
            if not current.active:
                raise TicketStateError(
                    f"Expected ticket {ticket_id} to be open or claimed to resolve it, got resolved "
                    f"(by {current.resolved_by}); nothing to do."
                )
            now = to_db_time(self._clock())
            conn.execute(update(tickets).where(tickets.c.ticket_id == ticket_id).values(
                status=RESOLVED, resolved_by=staff, updated_at=now, resolved_at=now))
        logger.info("ticket %s resolved by %s", ticket_id, staff)
        return self.get(ticket_id)

    def append_turns(self, ticket_id: str, turns: Sequence[Turn | Mapping[str, Any]]) -> Ticket:
        """Add messages (redacted) to an open or claimed ticket and refresh its summary."""
        new = as_turns(turns)
        before = self.get(ticket_id)
        summary = self._summary(before.transcript + new, before.language, before.reasons, None)
        with self.db.transaction() as conn:
            current = self._locked_get(conn, ticket_id)
            if not current.active:
                raise TicketStateError(
                    f"Expected ticket {ticket_id} to be open or claimed to add messages, got resolved; "
                    "hand off again to open a new ticket."
                )
            self._append(conn, ticket_id, self._next_index(conn, ticket_id), new)
            conn.execute(update(tickets).where(tickets.c.ticket_id == ticket_id).values(
                summary=summary, updated_at=to_db_time(self._clock())))
        return self.get(ticket_id)

    def _locked_get(self, conn: Connection, ticket_id: str) -> Ticket:
        """The ticket, its row locked until the transaction ends (PostgreSQL; SQLite holds the write lock)."""
        row = conn.execute(select(tickets).where(tickets.c.ticket_id == ticket_id).with_for_update()).first()
        if row is None:
            raise TicketNotFoundError(f"Expected an existing ticket id, got {ticket_id!r}; refresh the queue.")
        return self._ticket(conn, row)

    @staticmethod
    def _ticket(conn: Connection, row) -> Ticket:
        turns = conn.execute(
            select(ticket_turns.c.role, ticket_turns.c.content)
            .where(ticket_turns.c.ticket_id == row.ticket_id).order_by(ticket_turns.c.idx)
        ).fetchall()
        return _row_to_ticket(row, tuple(Turn(role=t.role, content=t.content) for t in turns))

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


def _status(status: str) -> str:
    if status not in STATUSES:
        raise ValueError(f"Expected status to be one of {', '.join(STATUSES)}; got {status!r}")
    return status


def _row_to_ticket(row, transcript: tuple[Turn, ...]) -> Ticket:
    return Ticket(
        ticket_id=row.ticket_id,
        session_id=row.session_id,
        created_at=from_db_time(row.created_at),
        updated_at=from_db_time(row.updated_at),
        status=row.status,
        claimed_by=row.claimed_by,
        resolved_by=row.resolved_by,
        language=row.language,
        summary=row.summary,
        transcript=transcript,
        sources=tuple(TicketSource(**s) for s in json.loads(row.sources)),
        confidence=float(row.confidence),
        reasons=tuple(json.loads(row.reasons)),
        frustration_trajectory=tuple(float(f) for f in json.loads(row.frustration_trajectory)),
        priority=row.priority,
        turns_omitted=int(row.turns_omitted),
        claimed_at=from_db_time(row.claimed_at) if row.claimed_at else None,
        resolved_at=from_db_time(row.resolved_at) if row.resolved_at else None,
    )
