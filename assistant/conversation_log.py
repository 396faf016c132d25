"""Conversation log: messages, feedback, handoffs and unanswered questions (redacted), and metrics."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any

from assistant.config import Settings
from assistant.db import Database, from_db_time, to_db_time, utc_now
from assistant.redaction import redact
from assistant.types import TURN_ROLES, Answer, Citation

ROLES = TURN_ROLES
ACTIONS = ("none", "offer", "handoff")

_SCHEMA = [
    """
    CREATE TABLE IF NOT EXISTS conversations (
        session_id TEXT PRIMARY KEY,
        started_at TEXT NOT NULL,
        language TEXT NOT NULL DEFAULT ''
    );
    CREATE INDEX IF NOT EXISTS conversations_by_start ON conversations (started_at);
    CREATE TABLE IF NOT EXISTS messages (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        session_id TEXT NOT NULL REFERENCES conversations (session_id),
        idx INTEGER NOT NULL,                 -- 0-based position in the conversation
        role TEXT NOT NULL,
        content TEXT NOT NULL,                -- redacted
        ts TEXT NOT NULL,
        confidence REAL,                      -- assistant turns only
        grounded INTEGER,                     -- assistant turns only: 0 = abstained
        action TEXT,                          -- assistant turns only: none | offer | handoff
        reasons TEXT,                         -- JSON list, assistant turns only
        citations TEXT,                       -- JSON [{marker, chunk_id, source, title, page}]
        UNIQUE (session_id, idx)
    );
    CREATE TABLE IF NOT EXISTS feedback (
        session_id TEXT NOT NULL REFERENCES conversations (session_id),
        message_index INTEGER NOT NULL,
        rating INTEGER NOT NULL CHECK (rating IN (-1, 1)),   -- thumbs down / up
        comment TEXT NOT NULL DEFAULT '',                     -- redacted
        ts TEXT NOT NULL,
        PRIMARY KEY (session_id, message_index)               -- a changed mind replaces the vote
    );
    CREATE TABLE IF NOT EXISTS handoffs (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        session_id TEXT NOT NULL REFERENCES conversations (session_id),
        ticket_id TEXT NOT NULL,
        reasons TEXT NOT NULL,                -- JSON list
        ts TEXT NOT NULL
    );
    CREATE TABLE IF NOT EXISTS unanswered (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        session_id TEXT NOT NULL DEFAULT '',
        question TEXT NOT NULL,               -- redacted
        language TEXT NOT NULL,
        ts TEXT NOT NULL
    );
    CREATE INDEX IF NOT EXISTS unanswered_by_ts ON unanswered (ts)
    """,
]


class ConversationLog:
    """Records what happened in each chat session and answers the Insights page's questions."""

    def __init__(
        self, settings: Settings, db: Database | None = None, clock: Callable[[], datetime] = utc_now
    ) -> None:
        self.settings = settings
        self.db = db if db is not None else Database.from_settings(settings)
        self.db.migrate("conversation_log", _SCHEMA)
        self._clock = clock

    def start_conversation(self, session_id: str, language: str = "") -> None:
        """Record a session (idempotent); a known language is never overwritten by a later one."""
        with self.db.transaction() as conn:
            self._ensure_conversation(conn, session_id, language)

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
                "SELECT COALESCE(MAX(idx) + 1, 0) FROM messages WHERE session_id = ?", (session_id,)
            ).fetchone()[0]
            conn.execute(
                "INSERT INTO messages (session_id, idx, role, content, ts, confidence, grounded, action,"
                " reasons, citations) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    session_id, index, role, redact(content), self._now(), confidence,
                    None if grounded is None else int(grounded), action,
                    json.dumps(list(reasons)) if assistant else None,
                    json.dumps([_citation_dict(c) for c in citations], ensure_ascii=False) if assistant else None,
                ),
            )
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
                "SELECT role FROM messages WHERE session_id = ? AND idx = ?", (session_id, message_index)
            ).fetchone()
            if row is None or row["role"] != "assistant":
                found = "no message" if row is None else f"a {row['role']} message"
                raise ValueError(
                    f"Expected feedback on an assistant message, got {found} at index {message_index} "
                    f"of session {session_id!r}"
                )
            conn.execute(
                "INSERT INTO feedback (session_id, message_index, rating, comment, ts) VALUES (?, ?, ?, ?, ?)"
                " ON CONFLICT (session_id, message_index) DO UPDATE SET rating = excluded.rating,"
                " comment = excluded.comment, ts = excluded.ts",
                (session_id, message_index, 1 if helpful else -1, redact(comment), self._now()),
            )

    def record_handoff(self, session_id: str, ticket_id: str, reasons: Iterable[str] = ()) -> None:
        """A handoff ticket was opened for the session (e.g. the customer accepted an offer)."""
        with self.db.transaction() as conn:
            self._ensure_conversation(conn, session_id, "")
            conn.execute(
                "INSERT INTO handoffs (session_id, ticket_id, reasons, ts) VALUES (?, ?, ?, ?)",
                (session_id, ticket_id, json.dumps(list(reasons)), self._now()),
            )

    def record_unanswered(self, question: str, language: str, session_id: str = "") -> None:
        """A question the help centre could not answer: input for the doc writers."""
        with self.db.transaction() as conn:
            conn.execute(
                "INSERT INTO unanswered (session_id, question, language, ts) VALUES (?, ?, ?, ?)",
                (session_id, redact(question), language, self._now()),
            )

    def messages(self, session_id: str) -> list[dict[str, Any]]:
        """The conversation's messages in order, as plain dicts."""
        with self.db.read() as conn:
            rows = conn.execute(
                "SELECT * FROM messages WHERE session_id = ? ORDER BY idx", (session_id,)
            ).fetchall()
        return [_message_dict(row) for row in rows]

    def unanswered(
        self, since: datetime | None = None, until: datetime | None = None, limit: int | None = None
    ) -> list[dict[str, Any]]:
        """Unanswered questions asked in [since, until), newest first."""
        where, params = _window("ts", since, until)
        sql = f"SELECT session_id, question, language, ts FROM unanswered WHERE {where} ORDER BY ts DESC, id DESC"
        if limit is not None:
            sql += f" LIMIT {int(limit)}"
        with self.db.read() as conn:
            rows = conn.execute(sql, params).fetchall()
        return [
            {"session_id": r["session_id"], "question": r["question"], "language": r["language"],
             "ts": from_db_time(r["ts"])}
            for r in rows
        ]

    def stats(self, since: datetime | None = None, until: datetime | None = None) -> dict[str, Any]:
        """Metrics over the conversations started in [since, until).

        A conversation is handed off when an assistant turn had action "handoff" or a handoff was
        recorded; self-service resolution = conversations with neither a handoff nor a thumbs-down,
        divided by all conversations. Rates are 0.0 when there are no conversations.
        """
        where, params = _window("started_at", since, until)
        in_window = f"session_id IN (SELECT session_id FROM conversations WHERE {where})"
        with self.db.read() as conn:
            languages = Counter(
                r["language"] or "unknown"
                for r in conn.execute(f"SELECT language FROM conversations WHERE {where}", params)
            )
            escalations = conn.execute(
                f"SELECT session_id, reasons FROM messages WHERE action = 'handoff' AND {in_window}"
                f" UNION ALL SELECT session_id, reasons FROM handoffs WHERE {in_window}",
                params + params,
            ).fetchall()
            votes = conn.execute(
                f"SELECT session_id, rating FROM feedback WHERE {in_window}", params
            ).fetchall()
            questions = conn.execute(
                f"SELECT COUNT(*) FROM messages WHERE role = 'user' AND {in_window}", params
            ).fetchone()[0]
            ts_where, ts_params = _window("ts", since, until)
            unanswered = conn.execute(f"SELECT COUNT(*) FROM unanswered WHERE {ts_where}", ts_params).fetchone()[0]
        reasons_by_session: dict[str, set[str]] = {}
        for row in escalations:
            reasons_by_session.setdefault(row["session_id"], set()).update(json.loads(row["reasons"] or "[]"))
        by_reason = Counter(reason for reasons in reasons_by_session.values() for reason in reasons)
        thumbs_down = {r["session_id"] for r in votes if r["rating"] < 0}
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
            "thumbs_up": sum(1 for r in votes if r["rating"] > 0),
            "thumbs_down": sum(1 for r in votes if r["rating"] < 0),
            "volume_by_language": dict(languages.most_common()),
            "unanswered": int(unanswered),
        }

    def _ensure_conversation(self, conn, session_id: str, language: str) -> None:
        if not session_id:
            raise ValueError("Expected a session id, got an empty string")
        conn.execute(
            "INSERT INTO conversations (session_id, started_at, language) VALUES (?, ?, ?)"
            " ON CONFLICT (session_id) DO UPDATE SET language = excluded.language"
            " WHERE conversations.language = ''",
            (session_id, self._now(), language),
        )

    def _now(self) -> str:
        return to_db_time(self._clock())


def _window(column: str, since: datetime | None, until: datetime | None) -> tuple[str, list[str]]:
    """SQL for `since <= column < until` (either bound optional) and its parameters."""
    clauses, params = ["1 = 1"], []
    if since is not None:
        clauses.append(f"{column} >= ?")
        params.append(to_db_time(since))
    if until is not None:
        clauses.append(f"{column} < ?")
        params.append(to_db_time(until))
    return " AND ".join(clauses), params


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
        "index": row["idx"],
        "role": row["role"],
        "content": row["content"],
        "ts": from_db_time(row["ts"]),
        "confidence": row["confidence"],
        "grounded": None if row["grounded"] is None else bool(row["grounded"]),
        "action": row["action"],
        "reasons": json.loads(row["reasons"]) if row["reasons"] else [],
        "citations": json.loads(row["citations"]) if row["citations"] else [],
    }
