"""The short survey at the end of a conversation: CSAT 1-5, CES 1-7 and NPS 0-10, each one tap, all optional.

A survey is asked once per conversation: when it ends (a "done" click, thanks or goodbye, or the
customer idle after an answer) or, if a person took the conversation over, when that ticket is
resolved (an end while a ticket is still open waits for it). NPS is only asked of a browser that was
not asked it in the last `nps_interval_days` (90) days; without a browser id it is not asked at all.
Every question asked is a row, so the figures can say how many were asked, answered and skipped.
Each row keeps the conversation's language, whether it was handed off, and the sources its answers
cited (docs/metrics.md).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from types import MappingProxyType

from sqlalchemy import Connection, exists, func, or_, select, update

from assistant.config import Settings
from assistant.db import Database, to_db_time, utc_now
from assistant.schema import conversations, handoffs, messages, survey_responses, tickets

SCALES: Mapping[str, tuple[int, int]] = MappingProxyType({"csat": (1, 5), "ces": (1, 7), "nps": (0, 10)})
KINDS = tuple(SCALES)
TRIGGERS = ("done", "thanks", "idle", "ticket_resolved")
ASKED, ANSWERED, SKIPPED = "asked", "answered", "skipped"


@dataclass(frozen=True, slots=True)
class Survey:
    """The survey of one conversation: the questions asked, in order, and the answers so far."""

    session_id: str
    kinds: tuple[str, ...]
    answers: Mapping[str, int] = field(default_factory=dict)
    skipped: bool = False
    occasion: str = "end"          # end | ticket_resolved
    trigger: str = "done"

    @property
    def complete(self) -> bool:
        """Nothing left to show: every question answered, or the survey skipped."""
        return self.skipped or all(kind in self.answers for kind in self.kinds)


def check_score(kind: str, score: int) -> int:
    """`score` if it is on the scale of `kind`; a clear ValueError otherwise."""
    if kind not in SCALES:
        raise ValueError(f"Expected a survey question in {', '.join(KINDS)}; got {kind!r}")
    low, high = SCALES[kind]
    if isinstance(score, bool) or not isinstance(score, int) or not low <= score <= high:
        raise ValueError(f"Expected a {kind.upper()} score from {low} to {high}, got {score!r}")
    return score


class SurveyStore:
    """Survey questions and answers in the application database (SQLite or PostgreSQL)."""

    def __init__(
        self, settings: Settings, db: Database | None = None, clock: Callable[[], datetime] = utc_now
    ) -> None:
        self.settings = settings
        self.db = db if db is not None else Database.from_settings(settings)
        self._clock = clock

    def ask(self, session_id: str, customer_id: str, trigger: str, language: str) -> Survey | None:
        """The conversation's survey, made now if it has none; None while a person still has the conversation.

        Idempotent: a conversation already surveyed gets its existing survey back, whatever the trigger.
        """
        if trigger not in TRIGGERS:
            raise ValueError(f"Expected a survey trigger in {', '.join(TRIGGERS)}; got {trigger!r}")
        occasion = "ticket_resolved" if trigger == "ticket_resolved" else "end"
        now = self._clock()
        with self.db.transaction() as conn:
            existing = self._get(conn, session_id)
            if existing is not None:
                return existing
            if not conn.execute(select(conversations.c.session_id)
                                .where(conversations.c.session_id == session_id)).first():
                raise ValueError(f"Expected a logged conversation to survey, got unknown session {session_id!r}")
            if occasion == "end" and _ticket_state(conn, session_id) == "active":
                return None  # the person's help is part of what is rated: ask once the ticket is resolved
            kinds = ["csat", "ces"] + (["nps"] if self._nps_due(conn, customer_id, now) else [])
            context = {
                "session_id": session_id, "customer_id": customer_id, "status": ASKED, "occasion": occasion,
                "trigger": trigger, "language": language, "handed_off": int(_handed_off(conn, session_id)),
                "sources": json.dumps(_cited_sources(conn, session_id), ensure_ascii=False),
                "asked_at": to_db_time(now),
            }
            statement = self.db.insert(survey_responses).values([{**context, "kind": kind} for kind in kinds])
            conn.execute(statement.on_conflict_do_nothing(index_elements=["session_id", "kind"]))
            return self._get(conn, session_id)

    def answer(self, session_id: str, kind: str, score: int) -> Survey:
        """Record (or change) the answer to one question of the conversation's survey."""
        check_score(kind, score)
        with self.db.transaction() as conn:
            done = conn.execute(update(survey_responses).where(
                survey_responses.c.session_id == session_id, survey_responses.c.kind == kind,
            ).values(status=ANSWERED, score=score, answered_at=to_db_time(self._clock()))).rowcount
            if not done:
                raise ValueError(f"Expected a {kind.upper()} question asked in session {session_id!r}, found none")
            return self._get(conn, session_id)

    def skip(self, session_id: str) -> Survey | None:
        """The customer closed the survey: the questions not answered yet are marked skipped."""
        with self.db.transaction() as conn:
            conn.execute(update(survey_responses).where(
                survey_responses.c.session_id == session_id, survey_responses.c.status == ASKED,
            ).values(status=SKIPPED, answered_at=to_db_time(self._clock())))
            return self._get(conn, session_id)

    def get(self, session_id: str) -> Survey | None:
        with self.db.read() as conn:
            return self._get(conn, session_id)

    def ticket_state(self, session_id: str) -> str:
        """"none", "active" (open or claimed) or "resolved" (every ticket of the session resolved)."""
        with self.db.read() as conn:
            return _ticket_state(conn, session_id)

    def nps_due(self, customer_id: str) -> bool:
        """Whether this browser may be asked NPS now."""
        with self.db.read() as conn:
            return self._nps_due(conn, customer_id, self._clock())

    def _nps_due(self, conn: Connection, customer_id: str, now: datetime) -> bool:
        if not customer_id:
            return False  # nothing to count by: better never than every time
        since = to_db_time(now - timedelta(days=self.settings.nps_interval_days))
        asked = conn.execute(select(func.count()).select_from(survey_responses).where(
            survey_responses.c.customer_id == customer_id, survey_responses.c.kind == "nps",
            survey_responses.c.asked_at > since,
        )).scalar()
        return not asked

    @staticmethod
    def _get(conn: Connection, session_id: str) -> Survey | None:
        rows = conn.execute(
            select(survey_responses).where(survey_responses.c.session_id == session_id)
            .order_by(survey_responses.c.id)
        ).fetchall()
        if not rows:
            return None
        order = {kind: i for i, kind in enumerate(KINDS)}
        rows = sorted(rows, key=lambda r: order[r.kind])
        return Survey(
            session_id=session_id,
            kinds=tuple(r.kind for r in rows),
            answers=MappingProxyType({r.kind: int(r.score) for r in rows if r.status == ANSWERED}),
            skipped=any(r.status == SKIPPED for r in rows),
            occasion=rows[0].occasion,
            trigger=rows[0].trigger,
        )


def _ticket_state(conn: Connection, session_id: str) -> str:
    statuses = {r.status for r in conn.execute(select(tickets.c.status).where(tickets.c.session_id == session_id))}
    if not statuses:
        return "none"
    return "active" if statuses & {"open", "claimed"} else "resolved"


def _handed_off(conn: Connection, session_id: str) -> bool:
    return bool(conn.execute(select(or_(
        exists().where(handoffs.c.session_id == session_id),
        exists().where(tickets.c.session_id == session_id),
        exists().where(messages.c.session_id == session_id, messages.c.action == "handoff"),
    ))).scalar())


def _cited_sources(conn: Connection, session_id: str) -> list[str]:
    """The distinct sources the conversation's answers cited, first cited first."""
    cited: dict[str, None] = {}
    for row in conn.execute(
        select(messages.c.citations).where(messages.c.session_id == session_id, messages.c.role == "assistant")
        .order_by(messages.c.idx)
    ):
        for citation in json.loads(row.citations or "[]"):
            if citation.get("source"):
                cited.setdefault(str(citation["source"]), None)
    return list(cited)
