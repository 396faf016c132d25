"""Conversation log on SQLite and PostgreSQL: redacted storage, feedback, unanswered questions, metrics."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest

from assistant.conversation_log import ConversationLog
from assistant.types import Answer, Citation, EscalationDecision
from tests.helpers import raw_rows

DAY1 = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)


class ManualClock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        self.now += timedelta(milliseconds=1)
        return self.now


@pytest.fixture
def settings(db_settings):
    """Every test here runs twice: on SQLite and on a real PostgreSQL server."""
    return db_settings


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(DAY1)


@pytest.fixture
def log(settings, clock) -> ConversationLog:
    return ConversationLog(settings, clock=clock)


def answer(text: str = "Refunds take 5 days [1].", action: str = "none", reasons=(), grounded=True, lang="en"):
    escalation = EscalationDecision(
        escalate=action == "handoff", confidence=0.7, reasons=tuple(reasons), offer=action == "offer"
    )
    citation = Citation(1, "faq-1", "faq/billing.md", "Refunds", None, "Refunds take 5 days.")
    return Answer(text, (citation,), (), lang, 0.7, escalation, grounded=grounded)


def chat(log: ConversationLog, session: str, lang: str = "en", **answer_kwargs) -> int:
    log.start_conversation(session, lang)
    log.record_message(session, "user", "Where is my refund?", language=lang)
    return log.record_answer(session, answer(lang=lang, **answer_kwargs))


def test_messages_are_stored_redacted_with_assistant_details(log, settings):
    log.start_conversation("s1", "en")
    assert log.record_message("s1", "user", "I'm amina@example.com, card 4111 1111 1111 1111") == 0
    assert log.record_answer("s1", answer(action="offer", reasons=("low_confidence",))) == 1
    messages = log.messages("s1")
    assert messages[0]["content"] == "I'm [email], card [card]"
    assert messages[0]["confidence"] is None and messages[0]["citations"] == []
    assistant = messages[1]
    assert assistant["role"] == "assistant" and assistant["confidence"] == pytest.approx(0.7)
    assert assistant["grounded"] is True and assistant["action"] == "offer"
    assert assistant["reasons"] == ["low_confidence"]
    assert assistant["citations"] == [
        {"marker": 1, "chunk_id": "faq-1", "source": "faq/billing.md", "title": "Refunds", "page": None}
    ]
    stored = " ".join(r[0] for r in raw_rows(settings.resolved_database_url, "SELECT content FROM messages"))
    assert "amina@example.com" not in stored and "4111" not in stored


def test_feedback_only_on_assistant_messages_and_latest_vote_wins(log):
    index = chat(log, "s1")
    log.record_feedback("s1", index, helpful=True)
    log.record_feedback("s1", index, helpful=False, comment="wrong, call me 0712 345678")
    stats = log.stats()
    assert (stats["thumbs_up"], stats["thumbs_down"]) == (0, 1)
    with pytest.raises(ValueError, match="Expected feedback on an assistant message, got a user message"):
        log.record_feedback("s1", 0, helpful=True)
    with pytest.raises(ValueError, match="got no message at index 9"):
        log.record_feedback("s1", 9, helpful=True)


def test_feedback_comment_is_redacted(log, settings):
    index = chat(log, "s1")
    log.record_feedback("s1", index, helpful=False, comment="call me 0712 345678")
    assert raw_rows(settings.resolved_database_url, "SELECT comment FROM feedback") == [("call me [phone]",)]


def test_stats_rates(log):
    chat(log, "happy")                                                     # self-served
    log.record_feedback("happy", 1, helpful=True)
    chat(log, "unhappy")                                                   # thumbs down
    log.record_feedback("unhappy", 1, helpful=False)
    chat(log, "handed", lang="ar", action="handoff", reasons=("asked_for_human", "frustration"))
    chat(log, "offered", lang="sw", action="offer", reasons=("low_confidence",))
    log.record_handoff("offered", "T-1", ("low_confidence",))              # accepted the offer
    stats = log.stats()
    assert stats["conversations"] == 4 and stats["questions"] == 4
    assert stats["handoffs"] == 2
    assert stats["self_service_resolution_rate"] == pytest.approx(1 / 4)
    assert stats["escalation_rate"] == pytest.approx(2 / 4)
    assert stats["escalations_by_reason"] == {"asked_for_human": 1, "frustration": 1, "low_confidence": 1}
    assert stats["escalation_rate_by_reason"]["low_confidence"] == pytest.approx(0.25)
    assert (stats["thumbs_up"], stats["thumbs_down"]) == (1, 1)
    assert stats["volume_by_language"] == {"en": 2, "ar": 1, "sw": 1}


def test_stats_window_counts_only_conversations_started_inside(log, clock):
    chat(log, "day1")
    clock.now = DAY1 + timedelta(days=1)
    chat(log, "day2", action="handoff", reasons=("loop",))
    log.record_unanswered("How do I export my data?", "en", "day2")
    day2 = log.stats(since=DAY1 + timedelta(days=1), until=DAY1 + timedelta(days=2))
    assert day2["conversations"] == 1 and day2["escalation_rate"] == 1.0 and day2["unanswered"] == 1
    day1 = log.stats(until=DAY1 + timedelta(days=1))
    assert day1["conversations"] == 1 and day1["self_service_resolution_rate"] == 1.0
    assert day1["unanswered"] == 0


def test_empty_stats_are_zero_not_errors(log):
    stats = log.stats()
    assert stats["conversations"] == 0 and stats["self_service_resolution_rate"] == 0.0
    assert stats["escalation_rate_by_reason"] == {} and stats["volume_by_language"] == {}


def test_unanswered_questions_are_redacted_and_windowed(log, clock):
    log.record_unanswered("Can I pay from DE89 3704 0044 0532 0130 00?", "en", "s1")
    clock.now = DAY1 + timedelta(hours=5)
    log.record_unanswered("Je, naweza kulipa kwa simu 0712 345678?", "sw", "s2")
    everything = log.unanswered()
    assert [q["question"] for q in everything] == ["Je, naweza kulipa kwa simu [phone]?", "Can I pay from [iban]?"]
    assert everything[0]["language"] == "sw" and everything[0]["ts"] > everything[1]["ts"]
    later = log.unanswered(since=DAY1 + timedelta(hours=1))
    assert [q["session_id"] for q in later] == ["s2"]


def test_conversation_language_is_set_once(log):
    log.record_message("s1", "user", "hello")           # language not known yet
    log.start_conversation("s1", "et")
    log.start_conversation("s1", "en")                   # later guesses do not overwrite
    assert log.stats()["volume_by_language"] == {"et": 1}


def test_log_survives_reopening(settings, clock):
    chat(ConversationLog(settings, clock=clock), "s1")
    again = ConversationLog(settings, clock=clock)
    assert [m["role"] for m in again.messages("s1")] == ["user", "assistant"]
    assert again.record_message("s1", "user", "thanks") == 2


def test_bad_role_and_action_are_refused(log):
    with pytest.raises(ValueError, match="Expected role to be one of"):
        log.record_message("s1", "bot", "hi")
    with pytest.raises(ValueError, match="Expected action to be one of"):
        log.record_message("s1", "assistant", "hi", action="escalate")


def test_two_logs_write_one_conversation_from_threads(settings):
    """Two processes' logs (two connection pools) on one database: every message kept, indexes unique."""
    logs = [ConversationLog(settings) for _ in range(2)]
    start = threading.Barrier(6)
    errors: list[BaseException] = []

    def write(n: int) -> None:
        try:
            start.wait()
            for k in range(5):
                logs[n % 2].record_message(f"session-{n % 3}", "user", f"message {n}.{k}", language="en")
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(n,)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert not errors
    for session in range(3):
        stored = logs[0].messages(f"session-{session}")
        assert [m["index"] for m in stored] == list(range(10))
