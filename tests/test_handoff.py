"""Handoff tickets on SQLite and PostgreSQL: creation, idempotency, queue, transitions, persistence,
redaction, transcript cap, pagination, threads."""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime, timedelta

import pytest

from assistant.errors import KBError
from assistant.handoff import (
    Ticket,
    TicketNotFoundError,
    TicketStateError,
    TicketStore,
    summarize_extractive,
    ticket_priority,
)
from assistant.types import Citation, Turn
from tests.helpers import raw_rows

EMAIL = "amina.wanjiru@gmail.com"
PHONE = "+254 712 345 678"


class StepClock:
    """A clock that moves one second per call, so created_at orders are deterministic."""

    def __init__(self) -> None:
        self.now = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        self.now += timedelta(seconds=1)
        return self.now


@pytest.fixture
def settings(db_settings):
    """Every test here runs twice: on SQLite and on a real PostgreSQL server."""
    return db_settings


@pytest.fixture
def store(settings) -> TicketStore:
    return TicketStore(settings, clock=StepClock())


def conversation(question: str = f"My refund never came, email me at {EMAIL}") -> list[Turn]:
    return [
        Turn("user", question),
        Turn("assistant", "Refunds take 5-7 business days [1]."),
        Turn("user", f"It has been 3 weeks! Call me on {PHONE}"),
    ]


def open_ticket(store: TicketStore, session: str = "s1", peak: float = 0.3, **kwargs) -> Ticket:
    return store.create(
        session,
        kwargs.pop("transcript", conversation()),
        "en",
        sources=[Citation(1, "faq-1", "faq/billing.md", "Refunds", None, "Refunds take...")],
        confidence=0.31,
        reasons=kwargs.pop("reasons", ("low_confidence",)),
        frustration_trajectory=(0.1, peak),
        **kwargs,
    )


def test_create_returns_an_open_ticket_with_everything(store):
    ticket = open_ticket(store)
    assert ticket.status == "open" and ticket.ticket_id.startswith("T-")
    assert ticket.session_id == "s1" and ticket.language == "en"
    assert [t.role for t in ticket.transcript] == ["user", "assistant", "user"]
    assert ticket.sources[0].source == "faq/billing.md" and ticket.sources[0].chunk_id == "faq-1"
    assert ticket.confidence == pytest.approx(0.31)
    assert ticket.reasons == ("low_confidence",)
    assert ticket.frustration_trajectory == (0.1, 0.3) and ticket.frustration_peak == 0.3
    assert ticket.created_at == ticket.updated_at
    assert store.get(ticket.ticket_id) == ticket


def test_transcript_and_summary_are_redacted_in_the_database_itself(store, settings):
    ticket = open_ticket(store)
    assert EMAIL not in json.dumps(ticket.to_dict())
    url = settings.resolved_database_url
    turns = " ".join(r[0] for r in raw_rows(url, "SELECT content FROM ticket_turns"))
    summary = raw_rows(url, f"SELECT summary FROM tickets WHERE ticket_id = '{ticket.ticket_id}'")[0][0]
    assert EMAIL not in turns + summary and "712 345 678" not in turns + summary
    assert "[email]" in turns and "[phone]" in turns


def test_caller_summary_is_redacted_too(store):
    ticket = open_ticket(store, summary=f"Customer {EMAIL} wants a refund")
    assert ticket.summary == "Customer [email] wants a refund"


def test_second_handoff_in_a_session_returns_the_same_ticket_with_new_turns(store):
    first = open_ticket(store)
    longer = conversation() + [Turn("assistant", "I can get you a person."), Turn("user", "Yes please")]
    second = store.create("s1", longer, "en", reasons=("asked_for_human",), frustration_trajectory=(0.1, 0.3, 0.9))
    assert second.ticket_id == first.ticket_id
    assert [t.content for t in second.transcript][-2:] == ["I can get you a person.", "Yes please"]
    assert len(second.transcript) == 5  # the three earlier turns are not duplicated
    assert second.reasons == ("low_confidence", "asked_for_human")
    assert second.frustration_trajectory == (0.1, 0.3, 0.9)
    assert second.updated_at > first.updated_at
    assert len(store.list()) == 1


def test_handoff_with_only_the_latest_turns_appends_them(store):
    first = open_ticket(store)
    again = store.create("s1", [Turn("user", "Still waiting")], "en")
    assert again.ticket_id == first.ticket_id
    assert again.transcript[-1].content == "Still waiting" and len(again.transcript) == 4


def test_new_ticket_after_the_previous_one_is_resolved(store):
    first = open_ticket(store)
    store.resolve(first.ticket_id, "alice")
    second = open_ticket(store)
    assert second.ticket_id != first.ticket_id and second.status == "open"


def test_claim_then_resolve(store):
    ticket = open_ticket(store)
    claimed = store.claim(ticket.ticket_id, "alice")
    assert claimed.status == "claimed" and claimed.claimed_by == "alice"
    resolved = store.resolve(ticket.ticket_id, "alice")
    assert resolved.status == "resolved" and resolved.resolved_by == "alice"


def test_open_ticket_can_be_resolved_directly(store):
    ticket = open_ticket(store)
    assert store.resolve(ticket.ticket_id, "bob").status == "resolved"


def test_claiming_a_claimed_ticket_is_refused_with_who_has_it(store):
    ticket = open_ticket(store)
    store.claim(ticket.ticket_id, "alice")
    with pytest.raises(TicketStateError, match=r"Expected ticket .* to be open to claim it, got claimed \(by alice\)"):
        store.claim(ticket.ticket_id, "bob")
    assert store.get(ticket.ticket_id).claimed_by == "alice"


def test_resolved_ticket_cannot_be_claimed_resolved_or_extended(store):
    ticket = open_ticket(store)
    store.resolve(ticket.ticket_id, "alice")
    with pytest.raises(TicketStateError, match="Expected .* open to claim it, got resolved"):
        store.claim(ticket.ticket_id, "bob")
    with pytest.raises(TicketStateError, match="Expected .* open or claimed to resolve it, got resolved"):
        store.resolve(ticket.ticket_id, "bob")
    with pytest.raises(TicketStateError, match="Expected .* open or claimed to add messages, got resolved"):
        store.append_turns(ticket.ticket_id, [Turn("user", "hello?")])
    assert issubclass(TicketStateError, KBError)


def test_empty_staff_name_is_refused(store):
    ticket = open_ticket(store)
    with pytest.raises(TicketStateError, match="Expected the name of the staff member"):
        store.claim(ticket.ticket_id, "  ")
    assert store.get(ticket.ticket_id).status == "open"


def test_unknown_ticket(store):
    with pytest.raises(TicketNotFoundError, match="Expected an existing ticket id, got 'T-NOPE'"):
        store.get("T-NOPE")
    with pytest.raises(TicketNotFoundError):
        store.claim("T-NOPE", "alice")
    with pytest.raises(TicketNotFoundError):
        store.queue_position("T-NOPE")


def test_append_turns_redacts_and_refreshes_the_summary(store):
    ticket = open_ticket(store)
    updated = store.append_turns(ticket.ticket_id, [{"role": "user", "content": "my card 4111 1111 1111 1111"}])
    assert updated.transcript[-1] == Turn("user", "my card [card]")
    assert "Latest: my card [card]" in updated.summary


def test_queue_position_counts_open_tickets_created_before(store):
    tickets = [open_ticket(store, f"s{i}") for i in range(4)]
    assert [store.queue_position(t.ticket_id) for t in tickets] == [0, 1, 2, 3]
    store.claim(tickets[0].ticket_id, "alice")
    store.resolve(tickets[2].ticket_id, "alice")
    assert store.queue_position(tickets[1].ticket_id) == 0
    assert store.queue_position(tickets[3].ticket_id) == 1
    assert store.queue_position(tickets[0].ticket_id) == 0  # claimed: nobody ahead any more


def test_list_order_open_first_then_frustration_then_newest(store):
    calm_old = open_ticket(store, "calm-old", peak=0.2)
    angry = open_ticket(store, "angry", peak=0.9)
    calm_new = open_ticket(store, "calm-new", peak=0.2)
    claimed = open_ticket(store, "claimed", peak=1.0)
    store.claim(claimed.ticket_id, "alice")
    done = open_ticket(store, "done", peak=1.0)
    store.resolve(done.ticket_id, "alice")
    order = [t.session_id for t in store.list()]
    assert order == ["angry", "calm-new", "calm-old", "claimed", "done"]
    assert [t.session_id for t in store.list(status="open")] == ["angry", "calm-new", "calm-old"]
    assert [t.session_id for t in store.list(limit=1)] == ["angry"]
    assert calm_old.ticket_id != calm_new.ticket_id and angry.priority == "urgent"
    with pytest.raises(ValueError, match="Expected status to be one of open, claimed, resolved"):
        store.list(status="closed")


def test_priority_from_frustration_and_reasons():
    assert ticket_priority(0.9, (), 0.6) == "urgent"
    assert ticket_priority(0.65, (), 0.6) == "high"
    assert ticket_priority(0.1, ("sensitive_topic",), 0.6) == "high"
    assert ticket_priority(0.1, ("low_confidence",), 0.6) == "normal"


def test_tickets_survive_reopening_the_store(settings):
    first_store = TicketStore(settings)
    ticket = open_ticket(first_store)
    first_store.claim(ticket.ticket_id, "alice")
    first_store.db.close()
    reopened = TicketStore(settings)
    again = reopened.get(ticket.ticket_id)
    assert again.status == "claimed" and again.claimed_by == "alice"
    assert again.transcript == ticket.transcript and again.sources == ticket.sources
    assert reopened.find_active("s1").ticket_id == ticket.ticket_id


def test_extractive_summary_has_first_and_latest_question_and_reasons():
    summary = summarize_extractive(conversation(), "sw", ("low_confidence", "frustration"))
    assert summary.startswith("[sw] Asked: My refund never came, email me at [email]")
    assert "Latest: It has been 3 weeks! Call me on [phone]" in summary
    assert summary.endswith("Reasons: low_confidence, frustration")
    assert EMAIL not in summary


def test_extractive_summary_is_short_and_never_cuts_pii_in_half():
    long_question = "x " * 400 + f"call {PHONE}"
    summary = summarize_extractive([Turn("user", "hi"), Turn("user", long_question)], "en")
    assert len(summary) <= 600
    assert "712" not in summary


def test_custom_summarizer_is_used_and_redacted(settings):
    store = TicketStore(settings, summarizer=lambda turns, lang: f"{len(turns)} turns in {lang}, mail {EMAIL}")
    assert open_ticket(store).summary == "3 turns in en, mail [email]"


def test_failing_summarizer_falls_back_to_the_extractive_summary(settings):
    def broken(turns, lang):
        raise RuntimeError("LLM down")

    ticket = open_ticket(TicketStore(settings, summarizer=broken))
    assert ticket.summary.startswith("[en] Asked: My refund never came")


def test_bad_turn_role_is_refused(store):
    with pytest.raises(ValueError, match="Expected a turn role"):
        store.create("s1", [Turn("robot", "beep")], "en")


def test_concurrent_handoffs_from_threads(settings):
    """Eight threads, four sessions, two handoffs each: exactly one ticket per session."""
    shared = TicketStore(settings)
    other = TicketStore(settings)  # a second connection to the same file, like a second process
    errors: list[BaseException] = []
    start = threading.Barrier(8)

    def handoff(index: int) -> None:
        try:
            start.wait()
            (shared if index % 2 else other).create(f"session-{index % 4}", conversation(), "en")
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=handoff, args=(i,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=20)
    assert not errors
    tickets = shared.list()
    assert sorted(t.session_id for t in tickets) == [f"session-{i}" for i in range(4)]
    assert all(len(t.transcript) == 3 for t in tickets)
    assert sorted(shared.queue_position(t.ticket_id) for t in tickets) == [0, 1, 2, 3]


def test_concurrent_first_handoffs_of_one_session_make_one_ticket(settings):
    """Two replicas (two stores, two connection pools) open the same session's ticket at once."""
    stores = [TicketStore(settings) for _ in range(2)]
    start = threading.Barrier(8)
    errors: list[BaseException] = []

    def handoff(index: int) -> None:
        try:
            start.wait()
            stores[index % 2].create("same-session", conversation(), "en", reasons=(f"r{index}",))
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=handoff, args=(i,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert not errors
    [ticket] = stores[0].list()
    assert len(ticket.transcript) == 3 and sorted(ticket.reasons) == [f"r{i}" for i in range(8)]


# ---- the transcript: one row per message, capped ---------------------------------------------


def test_appending_a_message_inserts_one_row_and_leaves_the_others_alone(store, settings):
    ticket = open_ticket(store)
    url = settings.resolved_database_url
    before = raw_rows(url, "SELECT idx, role, content FROM ticket_turns ORDER BY idx")
    store.append_turns(ticket.ticket_id, [Turn("user", "Any news?")])
    after = raw_rows(url, "SELECT idx, role, content FROM ticket_turns ORDER BY idx")
    assert after[:-1] == before and after[-1] == (3, "user", "Any news?")
    assert raw_rows(url, "SELECT COUNT(*) FROM tickets") == [(1,)]


def test_transcript_keeps_the_first_message_and_the_latest_ones(settings):
    store = TicketStore(settings.with_overrides(ticket_max_turns=4), clock=StepClock())
    ticket = open_ticket(store)                                   # 3 turns
    for n in range(5):
        ticket = store.append_turns(ticket.ticket_id, [Turn("user", f"ping {n}")])
    assert [t.content for t in ticket.transcript] == [conversation()[0].content.replace(EMAIL, "[email]"),
                                                       "ping 2", "ping 3", "ping 4"]
    assert ticket.turns_omitted == 4 and ticket.to_dict()["turns_omitted"] == 4
    rows = raw_rows(settings.resolved_database_url, "SELECT COUNT(*) FROM ticket_turns")
    assert rows == [(4,)]
    # The whole conversation sent again (a second handoff) adds only what is new, despite the cap.
    whole = list(conversation()) + [Turn("user", f"ping {n}") for n in range(5)] + [Turn("user", "agent!")]
    again = store.create("s1", whole, "en")
    assert again.ticket_id == ticket.ticket_id
    assert [t.content for t in again.transcript][1:] == ["ping 3", "ping 4", "agent!"]
    assert again.turns_omitted == 5


def test_reopened_ticket_transcript_is_stored_in_order(settings):
    store = TicketStore(settings)
    ticket = open_ticket(store)
    for n in range(30):
        store.append_turns(ticket.ticket_id, [Turn("user", f"message {n}"), Turn("assistant", f"reply {n}")])
    again = TicketStore(settings).get(ticket.ticket_id)
    assert [t.content for t in again.transcript[-4:]] == ["message 28", "reply 28", "message 29", "reply 29"]
    assert len(again.transcript) == 63 and again.turns_omitted == 0


# ---- the queue page -------------------------------------------------------------------------


def test_page_is_bounded_in_triage_order_with_people_ahead(store):
    tickets = [open_ticket(store, f"s{i}", peak=0.1 * (i % 3)) for i in range(7)]
    store.claim(tickets[6].ticket_id, "alice")
    store.resolve(tickets[5].ticket_id, "alice")
    first = store.page(active_only=True, offset=0, limit=3)
    assert first.total == 6 and first.pages == 2 and len(first.entries) == 3
    second = store.page(active_only=True, offset=3, limit=3)
    everything = [e.ticket_id for e in first.entries + second.entries]
    assert everything == [t.ticket_id for t in store.list() if t.active]
    ahead = {e.ticket_id: e.ahead for e in first.entries + second.entries}
    assert ahead == {
        **{t.ticket_id: store.queue_position(t.ticket_id) for t in tickets[:5]}, tickets[6].ticket_id: None,
    }
    assert sorted(a for a in ahead.values() if a is not None) == [0, 1, 2, 3, 4]
    assert store.page(active_only=False, offset=0, limit=50).total == 7
    assert not hasattr(first.entries[0], "transcript")  # the queue never loads transcripts


def test_page_rejects_bad_bounds(store):
    with pytest.raises(ValueError, match="Expected limit >= 1 and offset >= 0"):
        store.page(offset=-1)
    with pytest.raises(ValueError, match="Expected limit >= 1"):
        store.page(limit=0)
