"""Conversation log: messages, feedback, handoffs and unanswered questions (redacted), and metrics."""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, func, select, true, union_all, update

from assistant.config import Settings
from assistant.db import Database, from_db_time, to_db_time, utc_now
from assistant.redaction import redact
from assistant.schema import conversations, feedback, handoffs, messages, unanswered
from assistant.types import TURN_ROLES, Answer, Citation

ROLES = TURN_ROLES
ACTIONS = ("none", "offer", "handoff", "close")  # close: the reply to a customer's thanks or goodbye
END_REASONS = ("done", "thanks", "idle", "ticket_resolved")
_CUSTOMER_ID = re.compile(r"[A-Za-z0-9_-]{8,64}")

class ConversationLog:
    """Records what happened in each chat session and answers the Insights page's questions."""

    def __init__(
        self, settings: Settings, db: Database | None = None, clock: Callable[[], datetime] = utc_now
    ) -> None:
        self.settings = settings
        self.db = db if db is not None else Database.from_settings(settings)
        self._clock = clock

    def start_conversation(self, session_id: str, language: str = "", customer_id: str = "") -> None:
        """Record a session (idempotent); a known language or customer id is never overwritten by a later one.

        `customer_id` is the browser's random first-party id (no personal data), used to see a customer
        come back (first-contact resolution) and to ask NPS at most once in a while.
        """
        if customer_id and not _CUSTOMER_ID.fullmatch(customer_id):
            raise ValueError(f"Expected a customer id of 8-64 letters, digits, _ or -, got {customer_id[:80]!r}")
        with self.db.transaction() as conn:
            self._ensure_conversation(conn, session_id, language)
            if customer_id:
                conn.execute(update(conversations).where(
                    conversations.c.session_id == session_id, conversations.c.customer_id == ""
                ).values(customer_id=customer_id))

    def mark_ended(self, session_id: str, reason: str) -> None:
        """The conversation ended now (`reason` in END_REASONS); a later end replaces an earlier one."""
        if reason not in END_REASONS:
            raise ValueError(f"Expected an end reason in {', '.join(END_REASONS)}; got {reason!r}")
        with self.db.transaction() as conn:
            self._ensure_conversation(conn, session_id, "")
            conn.execute(update(conversations).where(conversations.c.session_id == session_id)
                         .values(ended_at=self._now(), end_reason=reason))

    def conversation(self, session_id: str) -> dict[str, Any] | None:
        """The conversation's row (start, language, customer id, end) as a dict, or None."""
        with self.db.read() as conn:
            row = conn.execute(select(conversations).where(conversations.c.session_id == session_id)).first()
        if row is None:
            return None
        return {
            "session_id": row.session_id, "started_at": from_db_time(row.started_at), "language": row.language,
            "customer_id": row.customer_id, "ended_at": from_db_time(row.ended_at) if row.ended_at else None,
            "end_reason": row.end_reason,
        }

    def record_message(
        self,
        session_id: str,
        role: str,
        content: str,
        *,
        language: str = "",
        confidence: float | None = None,
        grounded: bool | None = None,
        action: str | None = None,
        reasons: Iterable[str] = (),
        citations: Iterable[Citation] = (),
    ) -> int:
        """Store one message (redacted); return its 0-based index in the conversation."""
        if role not in ROLES:
            raise ValueError(f"Expected role to be one of {', '.join(ROLES)}; got {role!r}")
        if action is not None and action not in ACTIONS:
            raise ValueError(f"Expected action to be one of {', '.join(ACTIONS)}; got {action!r}")
        assistant = role == "assistant"
        with self.db.transaction() as conn:
            self._ensure_conversation(conn, session_id, language)
            index = conn.execute(
                select(func.coalesce(func.max(messages.c.idx) + 1, 0)).where(messages.c.session_id == session_id)
            ).scalar()
            conn.execute(messages.insert().values(
                session_id=session_id, idx=index, role=role, content=redact(content), ts=self._now(),
                confidence=confidence, grounded=None if grounded is None else int(grounded), action=action,
                reasons=json.dumps(list(reasons)) if assistant else None,
                citations=json.dumps([_citation_dict(c) for c in citations], ensure_ascii=False) if assistant else None,
            ))
        return int(index)

    def record_answer(self, session_id: str, answer: Answer) -> int:
        """Store the assistant's reply with its confidence, grounding, escalation and citations."""
        return self.record_message(
            session_id,
            "assistant",
            answer.text,
            language=answer.language,
            confidence=answer.confidence,
            grounded=answer.grounded,
            action=answer.escalation.action,
            reasons=answer.escalation.reasons,
            citations=answer.citations,
        )

    def record_feedback(self, session_id: str, message_index: int, helpful: bool, comment: str = "") -> None:
        """Thumbs up (`helpful=True`) or down on an assistant message; a second vote replaces the first."""
        with self.db.transaction() as conn:
            row = conn.execute(
                select(messages.c.role).where(messages.c.session_id == session_id, messages.c.idx == message_index)
            ).first()
            if row is None or row.role != "assistant":
                found = "no message" if row is None else f"a {row.role} message"
                raise ValueError(
                    f"Expected feedback on an assistant message, got {found} at index {message_index} "
                    f"of session {session_id!r}"
                )
            vote = self.db.insert(feedback).values(
                session_id=session_id, message_index=message_index, rating=1 if helpful else -1,
                comment=redact(comment), ts=self._now(),
            )
            conn.execute(vote.on_conflict_do_update(
                index_elements=["session_id", "message_index"],
                set_={"rating": vote.excluded.rating, "comment": vote.excluded.comment, "ts": vote.excluded.ts},
            ))

    def record_handoff(self, session_id: str, ticket_id: str, reasons: Iterable[str] = ()) -> None:
        """A handoff ticket was opened for the session (e.g. the customer accepted an offer)."""
        with self.db.transaction() as conn:
            self._ensure_conversation(conn, session_id, "")
            conn.execute(handoffs.insert().values(
                session_id=session_id, ticket_id=ticket_id, reasons=json.dumps(list(reasons)), ts=self._now()
            ))

    def record_unanswered(self, question: str, language: str, session_id: str = "") -> None:
        """A question the help centre could not answer: input for the doc writers."""
        with self.db.transaction() as conn:
            conn.execute(unanswered.insert().values(
                session_id=session_id, question=redact(question), language=language, ts=self._now()
            ))

    def messages(self, session_id: str) -> list[dict[str, Any]]:
        """The conversation's messages in order, as plain dicts."""
        with self.db.read() as conn:
            rows = conn.execute(
                select(messages).where(messages.c.session_id == session_id).order_by(messages.c.idx)
            ).fetchall()
        return [_message_dict(row) for row in rows]

    def unanswered(
        self, since: datetime | None = None, until: datetime | None = None, limit: int | None = None
    ) -> list[dict[str, Any]]:
        """Unanswered questions asked in [since, until), newest first."""
        query = (
            select(unanswered.c.session_id, unanswered.c.question, unanswered.c.language, unanswered.c.ts)
            .where(*_window(unanswered.c.ts, since, until))
            .order_by(unanswered.c.ts.desc(), unanswered.c.id.desc())
            .limit(None if limit is None else int(limit))
        )
        with self.db.read() as conn:
            rows = conn.execute(query).fetchall()
        return [
            {"session_id": r.session_id, "question": r.question, "language": r.language, "ts": from_db_time(r.ts)}
            for r in rows
        ]

    def stats(self, since: datetime | None = None, until: datetime | None = None) -> dict[str, Any]:
        """Metrics over the conversations started in [since, until).

        A conversation is handed off when an assistant turn had action "handoff" or a handoff was
        recorded; self-service resolution = conversations with neither a handoff nor a thumbs-down,
        divided by all conversations. Rates are 0.0 when there are no conversations.
        """
        sessions = select(conversations.c.session_id).where(*_window(conversations.c.started_at, since, until))
        with self.db.read() as conn:
            languages = Counter(
                r.language or "unknown"
                for r in conn.execute(
                    select(conversations.c.language).where(*_window(conversations.c.started_at, since, until))
                )
            )
            escalations = conn.execute(union_all(
                select(messages.c.session_id, messages.c.reasons)
                .where(messages.c.action == "handoff", messages.c.session_id.in_(sessions)),
                select(handoffs.c.session_id, handoffs.c.reasons).where(handoffs.c.session_id.in_(sessions)),
            )).fetchall()
            votes = conn.execute(
                select(feedback.c.session_id, feedback.c.rating).where(feedback.c.session_id.in_(sessions))
            ).fetchall()
            questions = conn.execute(
                select(func.count()).select_from(messages)
                .where(messages.c.role == "user", messages.c.session_id.in_(sessions))
            ).scalar()
            not_answered = conn.execute(
                select(func.count()).select_from(unanswered).where(*_window(unanswered.c.ts, since, until))
            ).scalar()
        reasons_by_session: dict[str, set[str]] = {}
        for row in escalations:
            reasons_by_session.setdefault(row.session_id, set()).update(json.loads(row.reasons or "[]"))
        by_reason = Counter(reason for reasons in reasons_by_session.values() for reason in reasons)
        thumbs_down = {r.session_id for r in votes if r.rating < 0}
        total = sum(languages.values())
        handed_off = set(reasons_by_session)
        return {
            "since": since,
            "until": until,
            "conversations": total,
            "questions": int(questions),
            "handoffs": len(handed_off),
            "self_service_resolution_rate": _rate(total - len(handed_off | thumbs_down), total),
            "escalation_rate": _rate(len(handed_off), total),
            "escalations_by_reason": dict(by_reason.most_common()),
            "escalation_rate_by_reason": {r: _rate(n, total) for r, n in by_reason.most_common()},
            "thumbs_up": sum(1 for r in votes if r.rating > 0),
            "thumbs_down": sum(1 for r in votes if r.rating < 0),
            "volume_by_language": dict(languages.most_common()),
            "unanswered": int(not_answered),
        }

    def _ensure_conversation(self, conn: Connection, session_id: str, language: str) -> None:
        if not session_id:
            raise ValueError("Expected a session id, got an empty string")
        row = self.db.insert(conversations).values(session_id=session_id, started_at=self._now(), language=language)
        conn.execute(row.on_conflict_do_update(
            index_elements=["session_id"], set_={"language": row.excluded.language},
            where=conversations.c.language == "",
        ))

    def _now(self) -> str:
        return to_db_time(self._clock())


def _window(column, since: datetime | None, until: datetime | None) -> list:
    """Conditions for `since <= column < until` (either bound optional; none = every row)."""
    clauses = [true()]
    if since is not None:
        clauses.append(column >= to_db_time(since))
    if until is not None:
        clauses.append(column < to_db_time(until))
    return clauses


def _rate(part: int, whole: int) -> float:
    return part / whole if whole else 0.0


def _citation_dict(citation: Citation) -> dict[str, Any]:
    return {
        "marker": citation.marker,
        "chunk_id": citation.chunk_id,
        "source": citation.source,
        "title": citation.title,
        "page": citation.page,
    }


def _message_dict(row) -> dict[str, Any]:
    return {
        "index": row.idx,
        "role": row.role,
        "content": row.content,
        "ts": from_db_time(row.ts),
        "confidence": row.confidence,
        "grounded": None if row.grounded is None else bool(row.grounded),
        "action": row.action,
        "reasons": json.loads(row.reasons) if row.reasons else [],
        "citations": json.loads(row.citations) if row.citations else [],
    }
