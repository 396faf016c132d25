"""A conversation log seeded at fixed times, through the product's own stores, for the figure tests."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from assistant.config import Settings
from assistant.conversation_log import ConversationLog
from assistant.db import Database
from assistant.handoff import TicketStore
from assistant.surveys import SurveyStore
from assistant.types import Citation

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)  # a Monday


class Clock:
    """Every store's clock: returns `now`, which the seeder moves."""

    def __init__(self, now: datetime = T0) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@dataclass
class Seeder:
    """Conversations, answers, votes, handoffs, tickets and survey answers at chosen moments."""

    settings: Settings
    clock: Clock

    def __post_init__(self) -> None:
        self.db = Database.from_settings(self.settings)
        self.log = ConversationLog(self.settings, self.db, clock=self.clock)
        self.tickets = TicketStore(self.settings, self.db, clock=self.clock)
        self.surveys = SurveyStore(self.settings, self.db, clock=self.clock)

    def at(self, moment: datetime) -> Seeder:
        self.clock.now = moment
        return self

    def conversation(
        self, session: str, start: datetime, question: str = "How long do refunds take?", *,
        customer: str = "", language: str = "en", sources: Sequence[str] = ("docs/refunds.md",),
        answer_after_s: float = 2.0, grounded: bool = True, rating: int = 0, end: str | None = "done",
    ) -> int:
        """One question and one answer citing `sources` (none: an abstention); returns the answer's index."""
        self.at(start).log.start_conversation(session, language, customer_id=customer)
        self.log.record_message(session, "user", question, language=language)
        citations = [Citation(i + 1, f"{s}#0", s, s.rsplit("/", 1)[-1], None, "…") for i, s in enumerate(sources)]
        self.at(start + timedelta(seconds=answer_after_s))
        index = self.log.record_message(
            session, "assistant", "An answer [1].", language=language, confidence=0.8,
            grounded=grounded and bool(sources), action="none", citations=citations,
        )
        if rating:
            self.log.record_feedback(session, index, helpful=rating > 0)
        if end:
            self.at(start + timedelta(seconds=answer_after_s + 30)).log.mark_ended(session, end)
        return index

    def ask_again(self, session: str, moment: datetime, question: str, sources: Sequence[str] = (),
                  rating: int = 0) -> int:
        """Another question and answer in an existing conversation."""
        self.at(moment).log.record_message(session, "user", question)
        citations = [Citation(i + 1, f"{s}#0", s, s, None, "…") for i, s in enumerate(sources)]
        index = self.at(moment + timedelta(seconds=1)).log.record_message(
            session, "assistant", "Another answer.", confidence=0.5, grounded=bool(sources), action="none",
            citations=citations,
        )
        if rating:
            self.log.record_feedback(session, index, helpful=rating > 0)
        return index

    def hand_off(self, session: str, moment: datetime, language: str = "en") -> str:
        """A person is asked for: the handoff reply, the handoff record and the ticket, as the assistant writes them."""
        self.at(moment)
        ticket = self.tickets.create(session, [{"role": "user", "content": "agent!"}], language)
        self.log.record_message(session, "user", "agent!")
        self.log.record_message(session, "assistant", "Passing you on.", grounded=False, action="handoff")
        self.log.record_handoff(session, ticket.ticket_id, ["asked_for_human"])
        return ticket.ticket_id

    def claim(self, ticket_id: str, moment: datetime) -> None:
        self.at(moment).tickets.claim(ticket_id, "sam")

    def resolve(self, ticket_id: str, moment: datetime) -> None:
        self.at(moment).tickets.resolve(ticket_id, "sam")

    def survey(self, session: str, moment: datetime, customer: str = "", language: str = "en",
               trigger: str = "done", **scores: int) -> None:
        """The survey asked at `moment`, with the given answers (csat=5, ces=6, nps=9); the rest left open."""
        self.at(moment).surveys.ask(session, customer, trigger, language)
        for kind, score in scores.items():
            self.surveys.answer(session, kind, score)
