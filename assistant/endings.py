"""The end of a conversation: a closing reply to thanks or goodbye, and the end recorded in the log.

The Help page asks this before `Assistant.reply`: a message that only says thanks or goodbye gets a
short, friendly reply in the customer's language (no search, so it never becomes an "unanswered
question"), and the conversation is marked ended, which is when the survey is offered.
"""

from __future__ import annotations

from dataclasses import replace

from assistant.closing import closing_language
from assistant.conversation_log import ConversationLog
from assistant.phrases import phrase
from assistant.types import Answer, EscalationDecision


class ConversationEnd:
    """Closing replies and ends, logged in `log` (None: nothing is recorded, e.g. the staff Workbench)."""

    def __init__(self, log: ConversationLog | None) -> None:
        self.log = log

    def reply_to_closing(self, session_id: str, message: str, language: str) -> Answer | None:
        """The closing reply if `message` only says thanks or goodbye (in any language), else None."""
        spoken = closing_language(message, prefer=language)
        if spoken is None:
            return None
        text = phrase("closing", spoken)
        answer = Answer(
            text=text, citations=(), retrieved=(), language=spoken, confidence=0.0,
            escalation=EscalationDecision(escalate=False, confidence=0.0), grounded=False, mode="none",
            session_id=session_id,
        )
        if self.log is None:
            return answer
        self.log.record_message(session_id, "user", message.strip(), language=spoken)
        index = self.log.record_message(
            session_id, "assistant", text, language=spoken, confidence=0.0, grounded=False, action="close"
        )
        self.log.mark_ended(session_id, "thanks")
        return replace(answer, message_index=index)

    def end(self, session_id: str, reason: str) -> None:
        """Record that the conversation ended (a "done" click, the idle survey, a resolved ticket)."""
        if self.log is not None:
            self.log.mark_ended(session_id, reason)
