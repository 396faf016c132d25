"""What the database says about each conversation and ticket of a period, read once for every figure.

The figures (assistant/cx/outcomes.py, figures.py) and article health (articles.py) are pure
functions of these facts, so they can be tested on hand-made facts and on a seeded log alike.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, select, true

from assistant.closing import is_closing
from assistant.db import Database, from_db_time, to_db_time
from assistant.escalation import asks_for_human
from assistant.schema import conversations, feedback, handoffs, messages, survey_responses, tickets, unanswered


@dataclass(frozen=True, slots=True)
class AnswerFacts:
    """One assistant answer: what it cited and what followed it."""

    index: int
    at: datetime
    sources: tuple[str, ...]          # distinct cited sources, in citation order
    rating: int = 0                   # +1 thumbs up, -1 thumbs down, 0 no vote
    handoff_after: bool = False       # a person was handed the conversation after this answer


@dataclass(frozen=True, slots=True)
class ConversationFacts:
    """One conversation as stored: times, customer, questions, answers, handoff, survey answers."""

    session_id: str
    customer_id: str
    language: str
    started_at: datetime
    last_message_at: datetime
    ended_at: datetime | None = None          # an explicit end: "done", thanks/goodbye, idle survey, ticket resolved
    end_reason: str = ""
    first_question_at: datetime | None = None
    first_grounded_at: datetime | None = None  # the first answer that cited the help centre
    questions: tuple[str, ...] = ()            # what the customer asked (redacted; no thanks, no "agent!")
    answers: tuple[AnswerFacts, ...] = ()      # replies that answered (not a bare handoff notice or closing reply)
    handed_off: bool = False
    ticket_status: str = "none"                # none | active | resolved (every ticket of the session)
    surveys: tuple[tuple[str, str, int | None], ...] = ()   # (kind, status, score)

    def score(self, kind: str) -> int | None:
        return next((s for k, status, s in self.surveys if k == kind and status == "answered"), None)


@dataclass(frozen=True, slots=True)
class TicketFacts:
    ticket_id: str
    session_id: str
    language: str
    status: str
    created_at: datetime
    claimed_at: datetime | None
    resolved_at: datetime | None


@dataclass(frozen=True, slots=True)
class UnansweredFacts:
    session_id: str
    question: str
    language: str
    at: datetime


@dataclass(frozen=True, slots=True)
class Facts:
    conversations: tuple[ConversationFacts, ...]
    tickets: tuple[TicketFacts, ...]
    unanswered: tuple[UnansweredFacts, ...]


def load_facts(db: Database, since: datetime | None, until: datetime | None,
               tickets_until: datetime | None = None) -> Facts:
    """Conversations started and unanswered questions asked in [since, until); tickets created in
    [since, tickets_until) (default `until`). One read transaction: one consistent snapshot."""
    started = _window(conversations.c.started_at, since, until)
    sessions = select(conversations.c.session_id).where(*started)
    with db.read() as conn:
        rows = conn.execute(select(conversations).where(*started).order_by(conversations.c.started_at)).fetchall()
        by_session = _messages(conn, sessions)
        votes = {(r.session_id, r.message_index): r.rating for r in conn.execute(
            select(feedback.c.session_id, feedback.c.message_index, feedback.c.rating)
            .where(feedback.c.session_id.in_(sessions)))}
        handoff_times = _handoff_times(conn, sessions)
        ticket_rows = conn.execute(select(tickets.c.ticket_id, tickets.c.session_id, tickets.c.language,
                                          tickets.c.status, tickets.c.created_at, tickets.c.claimed_at,
                                          tickets.c.resolved_at)
                                   .where(*_window(tickets.c.created_at, since, tickets_until or until))).fetchall()
        session_tickets = _session_ticket_states(conn, sessions)
        surveys: dict[str, list] = {}
        for r in conn.execute(select(survey_responses.c.session_id, survey_responses.c.kind,
                                     survey_responses.c.status, survey_responses.c.score)
                              .where(survey_responses.c.session_id.in_(sessions))):
            surveys.setdefault(r.session_id, []).append((r.kind, r.status, r.score))
        gaps = conn.execute(select(unanswered.c.session_id, unanswered.c.question, unanswered.c.language,
                                   unanswered.c.ts).where(*_window(unanswered.c.ts, since, until))
                            .order_by(unanswered.c.ts)).fetchall()
    facts = tuple(
        _conversation(row, by_session.get(row.session_id, []), votes, handoff_times.get(row.session_id, []),
                      session_tickets.get(row.session_id, "none"), surveys.get(row.session_id, []))
        for row in rows
    )
    return Facts(
        conversations=facts,
        tickets=tuple(TicketFacts(r.ticket_id, r.session_id, r.language, r.status, from_db_time(r.created_at),
                                  _time(r.claimed_at), _time(r.resolved_at)) for r in ticket_rows),
        unanswered=tuple(UnansweredFacts(r.session_id, r.question, r.language, from_db_time(r.ts)) for r in gaps),
    )


def _window(column, since: datetime | None, until: datetime | None) -> list:
    """Conditions for `since <= column < until` (either bound optional)."""
    return [true()] + ([column >= to_db_time(since)] if since else []) + ([column < to_db_time(until)] if until else [])


def _time(text: str | None) -> datetime | None:
    return from_db_time(text) if text else None


def _messages(conn: Connection, sessions) -> dict[str, list]:
    found: dict[str, list] = {}
    query = (select(messages.c.session_id, messages.c.idx, messages.c.role, messages.c.content, messages.c.ts,
                    messages.c.grounded, messages.c.action, messages.c.citations)
             .where(messages.c.session_id.in_(sessions)).order_by(messages.c.session_id, messages.c.idx))
    for row in conn.execute(query):
        found.setdefault(row.session_id, []).append(row)
    return found


def _handoff_times(conn: Connection, sessions) -> dict[str, list[datetime]]:
    times: dict[str, list[datetime]] = {}
    for row in conn.execute(select(handoffs.c.session_id, handoffs.c.ts).where(handoffs.c.session_id.in_(sessions))):
        times.setdefault(row.session_id, []).append(from_db_time(row.ts))
    return times


def _session_ticket_states(conn: Connection, sessions) -> dict[str, str]:
    statuses: dict[str, set[str]] = {}
    for row in conn.execute(select(tickets.c.session_id, tickets.c.status).where(tickets.c.session_id.in_(sessions))):
        statuses.setdefault(row.session_id, set()).add(row.status)
    return {s: "active" if found & {"open", "claimed"} else "resolved" for s, found in statuses.items()}


def _conversation(row, rows: Sequence, votes: dict, handoff_times: list[datetime], ticket_status: str,
                  surveys: list) -> ConversationFacts:
    times = [from_db_time(m.ts) for m in rows]
    user = [m for m in rows if m.role == "user"]
    handoff_messages = [from_db_time(m.ts) for m in rows if m.role == "assistant" and m.action == "handoff"]
    handoffs_at = sorted(handoff_messages + handoff_times)
    answers = []
    first_grounded = None
    for m in rows:
        if m.role != "assistant" or m.action == "close":
            continue
        at = from_db_time(m.ts)
        sources = tuple(dict.fromkeys(str(c.get("source", "")) for c in json.loads(m.citations or "[]")
                                      if c.get("source")))
        if m.action == "handoff" and not sources:
            continue  # the handoff notice alone is no answer; one that also answered (and cited) is
        if sources and m.grounded and first_grounded is None:
            first_grounded = at
        answers.append(AnswerFacts(
            index=m.idx, at=at, sources=sources, rating=int(votes.get((m.session_id, m.idx), 0)),
            handoff_after=any(h >= at for h in handoffs_at),
        ))
    return ConversationFacts(
        session_id=row.session_id,
        customer_id=row.customer_id or "",
        language=row.language or "unknown",
        started_at=from_db_time(row.started_at),
        last_message_at=max(times, default=from_db_time(row.started_at)),
        ended_at=_time(row.ended_at),
        end_reason=row.end_reason or "",
        first_question_at=from_db_time(user[0].ts) if user else None,
        first_grounded_at=first_grounded,
        questions=tuple(m.content for m in user if not is_closing(m.content) and not asks_for_human(m.content)),
        answers=tuple(answers),
        handed_off=bool(handoffs_at) or ticket_status != "none",
        ticket_status=ticket_status,
        surveys=tuple(surveys),
    )
