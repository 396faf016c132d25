"""Handing a conversation over to a person: the ticket, the customer's place in the queue, the reply.

`Assistant` (assistant/conversation.py) decides when; `Handover` opens or extends the session's ticket
(assistant/handoff.py) with a summary and the redacted transcript, queues the webhook notice, and words
the reply. Without a ticket store (the staff Workbench) the reply is the same but nothing is opened.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import replace

from langchain_core.language_models.chat_models import BaseChatModel

from assistant.errors import KBError, ProviderError
from assistant.generation import summarize_with_llm
from assistant.handoff import TicketStore
from assistant.phrases import phrase
from assistant.session import SessionState
from assistant.triage import summarize_extractive
from assistant.types import Answer, EscalationDecision, Turn
from assistant.webhook import WebhookOutbox

logger = logging.getLogger(__name__)


class Handover:
    """Opens tickets for one Assistant; `tickets` None = no tickets (the reply still says a person will come)."""

    def __init__(
        self,
        tickets: TicketStore | None = None,
        outbox: WebhookOutbox | None = None,
        chat_model: BaseChatModel | None = None,
    ) -> None:
        self.tickets = tickets
        self.outbox = outbox
        self.chat_model = chat_model
        if outbox is not None and tickets is not None:
            # The outbox entry is written in the transaction that opens the ticket: never one without the other.
            tickets.add_hook(outbox.enqueue_in)

    def hand_off(
        self, session_id: str, state: SessionState, language: str, reasons: Sequence[str], lead: str,
        base: Answer | None = None,
    ) -> Answer:
        """The handoff reply (after `lead`, e.g. the answer it follows), with the ticket opened for it."""
        ticket_id, ahead = self._create_ticket(session_id, state, language, reasons)
        text = phrase("handoff", language, ahead=ahead)
        if lead:
            text = f"{lead}\n\n{text}"
        decision = EscalationDecision(
            escalate=True, confidence=state.last_confidence, reasons=tuple(reasons),
            signals=dict(base.escalation.signals) if base else {"asked_for_human": 1.0},
        )
        answer = base or Answer(
            text="", citations=(), retrieved=(), language=language, confidence=state.last_confidence,
            escalation=decision, grounded=False, mode="handoff", session_id=session_id,
        )
        answer = replace(answer, text=text, escalation=decision, ticket_id=ticket_id, queue_position=ahead)
        state.turns.append(Turn("assistant", text))
        return answer

    def add_to_ticket(self, state: SessionState, answer: Answer) -> Answer:
        """Already handed off: the last two turns go to the open ticket; the answer gets the queue position."""
        if self.tickets is None:
            return answer
        try:
            self.tickets.append_turns(state.ticket_id, state.turns[-2:])
            position = self.tickets.queue_position(state.ticket_id)
        except KBError:  # the ticket was resolved meanwhile: nothing to add to
            logger.info("ticket %s no longer active", state.ticket_id)
            return answer
        return replace(answer, ticket_id=state.ticket_id, queue_position=position)

    def _create_ticket(
        self, session_id: str, state: SessionState, language: str, reasons: Sequence[str]
    ) -> tuple[str, int]:
        if self.tickets is None:
            return "", 0
        summary = ""
        if self.chat_model is not None:
            try:
                summary = summarize_with_llm(self.chat_model, state.turns, reasons)
            except ProviderError:
                logger.warning("LLM summary failed; using the extractive summary")
        if not summary:
            summary = summarize_extractive(state.turns, language, reasons)
        sources = tuple(
            {"source": c.source, "title": c.title, "page": c.page or 0, "chunk_id": c.chunk_id}
            for c in state.last_sources
        )
        ticket = self.tickets.create(
            session_id=session_id, transcript=list(state.turns), language=language, summary=summary,
            sources=sources, confidence=state.last_confidence, reasons=tuple(reasons),
            frustration_trajectory=tuple(state.frustration),
        )
        state.ticket_id = ticket.ticket_id
        state.escalation = replace(state.escalation, handed_off=True, offer_pending=False)
        return ticket.ticket_id, self.tickets.queue_position(ticket.ticket_id)
