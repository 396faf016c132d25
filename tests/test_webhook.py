"""Webhook outbox against a real HTTP server on 127.0.0.1, on SQLite and PostgreSQL: retries,
Retry-After, timeouts, outages, concurrent pollers (threads and processes), tickets without an entry."""

from __future__ import annotations

import importlib.util
import json
import sys
import threading
import time
from email.utils import formatdate
from pathlib import Path

import pytest

from assistant.handoff import Ticket, TicketStore
from assistant.types import Turn
from assistant.webhook import WebhookOutbox, parse_retry_after, render_payload
from tests.helpers import Receiver, raw_rows

EMAIL = "amina.wanjiru@gmail.com"


class FakeClock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def settings(db_settings):
    """Every test here runs twice: on SQLite and on a real PostgreSQL server."""
    return db_settings


@pytest.fixture
def receiver(monkeypatch):
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"):
        monkeypatch.delenv(name, raising=False)
    server = Receiver().start()
    yield server
    server.stop()


@pytest.fixture
def hook_settings(settings, receiver):
    return settings.with_overrides(webhook_url=receiver.url, webhook_max_attempts=3)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def ticket(hook_settings) -> Ticket:
    store = TicketStore(hook_settings)
    return store.create(
        "s1",
        [Turn("user", f"Refund please, I'm {EMAIL}"), Turn("assistant", "Refunds take 5 days [1].")],
        "en",
        sources=[{"source": "faq/billing.md", "title": "Refunds", "page": None, "chunk_id": "faq-1"}],
        confidence=0.3,
        reasons=("low_confidence", "frustration"),
        frustration_trajectory=(0.2, 0.9),
    )


def make_outbox(hook_settings, clock, **kwargs) -> WebhookOutbox:
    return WebhookOutbox(hook_settings, base_delay=kwargs.pop("base_delay", 1.0), timeout=kwargs.pop("timeout", 2.0),
                         clock=clock, **kwargs)


def test_enqueue_writes_the_payload_before_any_delivery(hook_settings, clock, receiver, ticket):
    entry = make_outbox(hook_settings, clock).enqueue(ticket)
    assert entry.status == "pending" and entry.attempts == 0
    assert entry.payload == {"event": "ticket.created", "ticket": ticket.to_dict()}
    assert receiver.received == []
    reopened = WebhookOutbox(hook_settings, clock=clock)  # e.g. after the app process restarted
    assert [e.id for e in reopened.entries("pending")] == [entry.id]


def test_plain_delivery_posts_the_ticket_json(hook_settings, clock, receiver, ticket):
    outbox = make_outbox(hook_settings, clock)
    outbox.enqueue(ticket)
    report = outbox.deliver_pending()
    assert (report.delivered, report.attempted) == (1, 1)
    headers, body = receiver.received[0]
    assert body["ticket"]["ticket_id"] == ticket.ticket_id and body["event"] == "ticket.created"
    assert headers["Idempotency-Key"] == f"{ticket.ticket_id}:ticket.created"
    assert EMAIL not in json.dumps(body) and "[email]" in json.dumps(body)
    [entry] = outbox.entries()
    assert entry.status == "delivered" and entry.attempts == 1 and entry.last_status == 200 and entry.delivered_at
    assert outbox.deliver_pending().attempted == 0  # delivered once, never again


def test_500_then_200_backs_off_then_delivers(hook_settings, clock, receiver, ticket):
    receiver.script = [("status", 500, {})]
    outbox = make_outbox(hook_settings, clock, base_delay=1.0)
    outbox.enqueue(ticket)
    assert outbox.deliver_pending().retrying == 1
    [entry] = outbox.entries()
    assert entry.status == "pending" and entry.attempts == 1 and entry.last_status == 500
    assert entry.last_error.startswith("HTTP 500") and entry.next_attempt_at == clock.now + 1.0
    assert outbox.deliver_pending().attempted == 0  # not due yet
    clock.now += 1.0
    assert outbox.deliver_pending().delivered == 1
    assert len(receiver.received) == 2
    assert receiver.received[0][0]["Idempotency-Key"] == receiver.received[1][0]["Idempotency-Key"]


def test_backoff_doubles_and_entries_are_kept_as_failed_after_max_attempts(hook_settings, clock, receiver, ticket):
    receiver.script = [("status", 503, {})] * 3
    outbox = make_outbox(hook_settings, clock, base_delay=1.0)
    outbox.enqueue(ticket)
    delays = []
    for _ in range(3):
        started = clock.now
        outbox.deliver_pending()
        [entry] = outbox.entries()
        delays.append(entry.next_attempt_at - started)
        clock.now = entry.next_attempt_at
    assert delays[:2] == [1.0, 2.0]
    [entry] = outbox.entries()
    assert entry.status == "failed" and entry.attempts == 3 and entry.payload["ticket"]["ticket_id"]
    clock.now += 3600
    assert outbox.deliver_pending().attempted == 0  # failed entries wait for a person
    assert outbox.retry_failed() == 1
    assert outbox.deliver_pending().delivered == 1
    assert len(receiver.received) == 4


def test_429_honours_retry_after(hook_settings, clock, receiver, ticket):
    receiver.script = [("status", 429, {"Retry-After": "30"})]
    outbox = make_outbox(hook_settings, clock, base_delay=1.0)
    outbox.enqueue(ticket)
    outbox.deliver_pending()
    [entry] = outbox.entries()
    assert entry.next_attempt_at == clock.now + 30
    clock.now += 29
    assert outbox.deliver_pending().attempted == 0
    clock.now += 1
    assert outbox.deliver_pending().delivered == 1


def test_hanging_target_times_out_and_is_retried(hook_settings, clock, receiver, ticket):
    receiver.script = [("hang", 0.5)]
    outbox = make_outbox(hook_settings, clock, timeout=0.1)
    outbox.enqueue(ticket)
    started = time.monotonic()
    assert outbox.deliver_pending().retrying == 1
    assert time.monotonic() - started < 0.45  # gave up long before the target answered
    [entry] = outbox.entries()
    assert entry.last_error == "timed out after 0.1s" and entry.last_status is None
    clock.now = entry.next_attempt_at
    assert outbox.deliver_pending().delivered == 1


def test_target_down_then_back_loses_nothing(hook_settings, clock, receiver, ticket):
    outbox = make_outbox(hook_settings, clock)
    receiver.stop()
    outbox.enqueue(ticket)
    assert outbox.deliver_pending().retrying == 1
    [entry] = outbox.entries()
    assert "ConnectError" in entry.last_error and entry.status == "pending"
    # The app restarts too: a new outbox on the same database picks the entry up.
    del outbox
    receiver.start()
    restarted = make_outbox(hook_settings, clock)
    clock.now = entry.next_attempt_at
    assert restarted.deliver_pending().delivered == 1
    assert receiver.received[0][1]["ticket"]["ticket_id"] == ticket.ticket_id


def test_permanent_client_error_fails_at_once_but_is_kept(hook_settings, clock, receiver, ticket):
    receiver.script = [("status", 400, {})]
    outbox = make_outbox(hook_settings, clock)
    outbox.enqueue(ticket)
    assert outbox.deliver_pending().failed == 1
    [entry] = outbox.entries()
    assert entry.status == "failed" and entry.attempts == 1 and entry.last_status == 400
    assert outbox.retry_failed() == 1 and outbox.deliver_pending().delivered == 1


def test_enqueue_is_idempotent_per_ticket(hook_settings, clock, ticket):
    outbox = make_outbox(hook_settings, clock)
    first = outbox.enqueue(ticket)
    assert outbox.enqueue(ticket).id == first.id
    update = outbox.enqueue(ticket, event="ticket.updated")
    assert update.id != first.id and len(outbox.entries()) == 2


def test_zendesk_payload_shape(hook_settings, clock, receiver, ticket):
    zendesk = hook_settings.with_overrides(webhook_format="zendesk")
    outbox = make_outbox(zendesk, clock)
    outbox.enqueue(ticket)
    outbox.deliver_pending()
    body = receiver.received[0][1]["ticket"]
    assert body["subject"] == "[en] Refund please, I'm [email]"
    assert body["comment"]["public"] is False
    assert "Customer: Refund please, I'm [email]" in body["comment"]["body"]
    assert "Refunds (faq/billing.md)" in body["comment"]["body"]
    assert body["priority"] == "urgent"
    assert body["tags"] == ["helpdesk_assistant", "lang_en", "reason_low_confidence", "reason_frustration"]
    assert body["external_id"] == ticket.ticket_id
    assert EMAIL not in json.dumps(body)


def test_no_webhook_configured_means_nothing_queued(settings, clock, ticket):
    outbox = WebhookOutbox(settings, clock=clock)
    assert outbox.enqueue(ticket) is None
    assert outbox.deliver_pending().attempted == 0 and outbox.entries() == []


def test_drain_retries_with_real_tiny_delays(hook_settings, receiver, ticket):
    receiver.script = [("status", 500, {}), ("status", 502, {})]
    outbox = WebhookOutbox(hook_settings, base_delay=0.01, timeout=1.0)
    outbox.enqueue(ticket)
    started = time.monotonic()
    report = outbox.drain(max_seconds=1.0)
    assert (report.retrying, report.delivered) == (2, 1)
    assert time.monotonic() - started < 1.0


def test_background_worker_delivers_and_stops(hook_settings, receiver, ticket):
    receiver.script = [("status", 500, {})]
    outbox = WebhookOutbox(hook_settings, base_delay=0.02, timeout=1.0)
    stop = threading.Event()
    worker = threading.Thread(target=outbox.run, args=(stop, 0.05), daemon=True)
    worker.start()
    outbox.enqueue(ticket)
    deadline = time.monotonic() + 1.0
    while not outbox.entries("delivered") and time.monotonic() < deadline:
        time.sleep(0.01)
    stop.set()
    worker.join(timeout=1.0)
    assert not worker.is_alive()
    assert [e.attempts for e in outbox.entries("delivered")] == [2]
    assert len(receiver.received) == 2


def test_two_workers_at_once_send_each_payload_once(hook_settings, clock, receiver, ticket):
    workers = [make_outbox(hook_settings, clock) for _ in range(2)]
    workers[0].enqueue(ticket)
    barrier = threading.Barrier(2)
    reports = []

    def work(outbox):
        barrier.wait()
        reports.append(outbox.deliver_pending())

    threads = [threading.Thread(target=work, args=(w,)) for w in workers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)
    assert sum(r.delivered for r in reports) == 1
    assert len(receiver.received) == 1


def test_parse_retry_after():
    now = time.time()
    assert parse_retry_after("120", now) == 120
    assert parse_retry_after(formatdate(now + 60, usegmt=True), now) == pytest.approx(60, abs=1.5)
    assert parse_retry_after("soon", now) is None and parse_retry_after(None, now) is None
    assert parse_retry_after("-5", now) == 0


def test_render_payload_refuses_unknown_formats(ticket):
    with pytest.raises(ValueError, match="Expected webhook format plain or zendesk, got 'xml'"):
        render_payload(ticket, "xml")


# ---- several replicas, one database ----------------------------------------------------------

OUTBOX_BENCH = Path(__file__).resolve().parents[1] / "bench" / "outbox.py"


@pytest.fixture(scope="module")
def outbox_bench():
    spec = importlib.util.spec_from_file_location("bench_outbox", OUTBOX_BENCH)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up here
    spec.loader.exec_module(module)
    return module


def test_two_poller_processes_deliver_every_ticket_exactly_once(outbox_bench, settings, tmp_path, monkeypatch):
    """The short form of bench/outbox.py: two processes (two replicas' workers) poll one outbox."""
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"):
        monkeypatch.delenv(name, raising=False)
    report = outbox_bench.run_outbox(settings.resolved_database_url, tmp_path, tickets=40, pollers=2,
                                     delay_s=0.01, time_limit_s=60)
    assert not report.timed_out
    assert (report.posts, report.delivered_tickets, report.duplicates, report.undelivered) == (40, 40, 0, 0)
    assert sum(report.per_poller) == 40


def test_a_ticket_and_its_outbox_entry_commit_together(hook_settings, clock):
    """Issue 12 item 10: a failure between opening the ticket and queueing it must leave neither."""
    outbox = make_outbox(hook_settings, clock)

    def crash_after_enqueue(conn, ticket):
        raise RuntimeError("process died here")

    store = TicketStore(hook_settings, on_open=[outbox.enqueue_in, crash_after_enqueue])
    with pytest.raises(RuntimeError, match="process died here"):
        store.create("s1", [Turn("user", "agent!")], "en")
    assert store.list() == [] and outbox.entries() == []
    url = hook_settings.resolved_database_url
    assert raw_rows(url, "SELECT COUNT(*) FROM ticket_turns") == [(0,)]
    wired = TicketStore(hook_settings, on_open=[outbox.enqueue_in])
    ticket = wired.create("s1", [Turn("user", "agent!")], "en")
    [entry] = outbox.entries()  # queued by create itself, in its transaction
    assert entry.ticket_id == ticket.ticket_id and entry.payload["ticket"]["transcript"][0]["content"] == "agent!"
    wired.create("s1", [Turn("user", "agent!"), Turn("user", "hello?")], "en")
    assert len(outbox.entries()) == 1  # a second handoff of the session is the same ticket: no second POST


def test_start_up_sweep_queues_active_tickets_that_have_no_entry(hook_settings, clock, receiver):
    """Issue 12 item 10: tickets left without an outbox row (an older version crashed in between, or
    the webhook was configured later) are queued when the app starts."""
    store = TicketStore(hook_settings)  # not wired to the outbox: as if the enqueue never happened
    orphans = [store.create(f"s{n}", [Turn("user", f"help {n}")], "en") for n in range(3)]
    store.resolve(orphans[2].ticket_id, "alice")      # resolved meanwhile: nobody needs it any more
    outbox = make_outbox(hook_settings, clock)
    assert outbox.enqueue_missing(store) == 2
    assert outbox.enqueue_missing(store) == 0          # idempotent
    assert outbox.deliver_pending().delivered == 2
    assert sorted(body["ticket"]["ticket_id"] for _, body in receiver.received) == sorted(
        t.ticket_id for t in orphans[:2])
