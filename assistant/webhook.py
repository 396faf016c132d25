"""Webhook delivery of handoff tickets through an outbox table, so a down endpoint loses nothing.

`enqueue()` stores the rendered payload first; `deliver_pending()` POSTs what is due, with
exponential backoff (and the server's Retry-After) between attempts. After
`settings.webhook_max_attempts` an entry is marked "failed" but kept; `retry_failed()` requeues it.
Credentials, if the endpoint needs them, go in the URL (https://user:token@host/path: httpx sends
them as Basic auth); the URL is never logged.

Every replica runs a delivery worker on the shared database: a worker leases the entries it sends
(FOR UPDATE SKIP LOCKED on PostgreSQL, BEGIN IMMEDIATE on SQLite), so each is POSTed once.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urlsplit

import httpx
from sqlalchemy import Connection, func, select, update

from assistant.config import Settings
from assistant.db import Database, to_db_time, utc_now
from assistant.errors import ConfigError
from assistant.handoff import TicketStore
from assistant.schema import tickets, webhook_outbox
from assistant.tickets import CLAIMED, OPEN, Ticket

logger = logging.getLogger(__name__)

PENDING, DELIVERED, FAILED = "pending", "delivered", "failed"
CREATED_EVENT = "ticket.created"
MAX_RETRY_AFTER_S = 86_400.0
_RETRYABLE_4XX = {408, 409, 425, 429}
_LEASE_MARGIN_S = 30.0  # a claimed entry is retried by others if its worker died mid-delivery
_BATCH = 50
BAD_URL_ERROR = "KB_WEBHOOK_URL cannot be parsed as an http(s) URL; not retried until it is fixed"

@dataclass(frozen=True, slots=True)
class OutboxEntry:
    """One webhook payload and where its delivery stands."""

    id: int
    ticket_id: str
    event: str
    format: str
    payload: dict[str, Any]
    status: str                 # "pending" | "delivered" | "failed"
    attempts: int
    last_error: str
    last_status: int | None     # HTTP status of the last attempt, None if no response
    next_attempt_at: float      # unix time
    created_at: str
    delivered_at: str | None


@dataclass(frozen=True, slots=True)
class DeliveryReport:
    """What one `deliver_pending()` pass did."""

    delivered: int = 0
    retrying: int = 0
    failed: int = 0

    @property
    def attempted(self) -> int:
        return self.delivered + self.retrying + self.failed

    def __add__(self, other: DeliveryReport) -> DeliveryReport:
        return DeliveryReport(
            self.delivered + other.delivered, self.retrying + other.retrying, self.failed + other.failed
        )


def render_payload(ticket: Ticket, fmt: str, event: str = CREATED_EVENT) -> dict[str, Any]:
    """The JSON body for `fmt`: "plain" ({"event", "ticket"}) or "zendesk" (a Zendesk ticket)."""
    if fmt == "plain":
        return {"event": event, "ticket": ticket.to_dict()}
    if fmt == "zendesk":
        return zendesk_payload(ticket)
    raise ValueError(f"Expected webhook format plain or zendesk, got {fmt!r}")


def zendesk_payload(ticket: Ticket) -> dict[str, Any]:
    """A body for Zendesk's POST /api/v2/tickets: private note, priority, tags, external_id."""
    first_question = next((t.content for t in ticket.transcript if t.role == "user"), "")
    subject = " ".join(f"[{ticket.language}] {first_question or 'Customer asked for a person'}".split())
    return {
        "ticket": {
            "subject": subject if len(subject) <= 120 else subject[:119] + "…",
            "comment": {"body": _zendesk_body(ticket), "public": False},
            "priority": ticket.priority,  # urgent | high | normal: all valid Zendesk priorities
            "tags": ["helpdesk_assistant", f"lang_{ticket.language}", *(f"reason_{r}" for r in ticket.reasons)],
            "external_id": ticket.ticket_id,
        }
    }


def _zendesk_body(ticket: Ticket) -> str:
    lines = [
        ticket.summary,
        "",
        f"Confidence: {ticket.confidence:.2f}",
        f"Reasons: {', '.join(ticket.reasons) or 'none'}",
        f"Frustration peak: {ticket.frustration_peak:.2f}",
    ]
    if ticket.sources:
        lines += ["", "Sources the assistant used:"]
        for s in ticket.sources:
            page = f", p. {s.page}" if s.page else ""
            lines.append(f"- {s.title} ({s.source}{page})")
    lines += ["", "Transcript (redacted):"]
    names = {"user": "Customer", "assistant": "Assistant", "staff": "Staff"}
    lines += [f"{names.get(t.role, t.role)}: {t.content}" for t in ticket.transcript]
    return "\n".join(lines)


def check_webhook_url(url: str) -> None:
    """Raise ConfigError unless `url` is empty or an http(s) URL with a host; never echoes the URL.

    A `#`, `/`, `?` or `@` in the password ends the user part early, so httpx reads part of the
    password as the port (and its error message quotes it).
    """
    if not url:
        return
    try:
        parsed = httpx.URL(url)
        valid = parsed.scheme in ("http", "https") and bool(parsed.host)
    except (httpx.InvalidURL, ValueError, TypeError):
        valid = False
    if not valid:
        raise ConfigError(
            "Expected KB_WEBHOOK_URL to be an http:// or https:// URL with a host, got one that cannot be parsed "
            "(not shown: it may hold a password); percent-encode special characters in the user name and "
            "password (# as %23, / as %2F, ? as %3F, @ as %40)."
        )


def parse_retry_after(value: str | None, now: float) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or HTTP date); None if absent or bad."""
    if not value:
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        try:
            seconds = parsedate_to_datetime(value).timestamp() - now
        except (TypeError, ValueError, OverflowError):
            return None
    return min(max(seconds, 0.0), MAX_RETRY_AFTER_S)


class WebhookOutbox:
    """Outbox of ticket webhooks in the application database."""

    def __init__(
        self,
        settings: Settings,
        db: Database | None = None,
        *,
        base_delay: float = 2.0,
        max_delay: float = 600.0,
        timeout: float = 10.0,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        check_webhook_url(settings.webhook_url)  # at start-up, before anything is queued for it
        self.settings = settings
        self.db = db if db is not None else Database.from_settings(settings)
        self.base_delay = base_delay
        self.max_delay = max_delay
        self.timeout = timeout
        self._clock = clock
        self._sleep = sleep

    @property
    def enabled(self) -> bool:
        return bool(self.settings.webhook_url)

    def enqueue(self, ticket: Ticket, event: str = CREATED_EVENT) -> OutboxEntry | None:
        """Store the payload for delivery (None when no webhook is configured).

        Idempotent: enqueueing "ticket.created" twice for a ticket (a second handoff in the same
        session) keeps one entry; other events are keyed by the ticket's `updated_at`.
        """
        if not self.enabled:
            logger.debug("no webhook configured; ticket %s not queued", ticket.ticket_id)
            return None
        with self.db.transaction() as conn:
            return self.enqueue_in(conn, ticket, event)

    def enqueue_in(self, conn: Connection, ticket: Ticket, event: str = CREATED_EVENT) -> OutboxEntry | None:
        """`enqueue` inside the caller's transaction (the TicketStore `on_open` hook: both commit together)."""
        if not self.enabled:
            return None
        key = f"{ticket.ticket_id}:{event}"
        if event != CREATED_EVENT:
            key += f":{to_db_time(ticket.updated_at)}"
        fmt = self.settings.webhook_format
        body = json.dumps(render_payload(ticket, fmt, event), ensure_ascii=False)
        conn.execute(
            self.db.insert(webhook_outbox).values(
                dedupe_key=key, ticket_id=ticket.ticket_id, event=event, format=fmt, payload=body,
                status=PENDING, next_attempt_at=self._clock(), created_at=to_db_time(utc_now()),
            ).on_conflict_do_nothing(index_elements=["dedupe_key"])
        )
        row = conn.execute(select(webhook_outbox).where(webhook_outbox.c.dedupe_key == key)).first()
        return _row_to_entry(row)

    def enqueue_missing(self, tickets_store: TicketStore) -> int:
        """Queue "ticket.created" for active tickets that have no outbox entry; returns how many.

        Run at start-up: it catches tickets opened while no webhook was configured, or by a version
        that could crash between opening a ticket and queueing it.
        """
        if not self.enabled:
            return 0
        queued = select(webhook_outbox.c.ticket_id).where(webhook_outbox.c.event == CREATED_EVENT)
        with self.db.read() as conn:
            orphans = conn.execute(
                select(tickets.c.ticket_id)
                .where(tickets.c.status.in_((OPEN, CLAIMED)), tickets.c.ticket_id.not_in(queued))
                .order_by(tickets.c.seq)
            ).scalars().all()
        for ticket_id in orphans:
            self.enqueue(tickets_store.get(ticket_id))
        if orphans:
            logger.warning("queued %d ticket(s) that had no webhook entry", len(orphans))
        return len(orphans)

    def deliver_pending(self) -> DeliveryReport:
        """POST every due pending payload once; reschedule or fail the ones that did not go through."""
        if not self.enabled:
            return DeliveryReport()
        report = DeliveryReport()
        due = self._claim_due()
        if not due:
            return report
        headers = {"Content-Type": "application/json", "User-Agent": "helpdesk-assistant"}
        with httpx.Client(timeout=self.timeout, headers=headers, follow_redirects=False) as client:
            for entry_id, key, event, body, attempts in due:
                report += self._deliver_one(client, entry_id, key, event, body, attempts)
        return report

    def drain(self, max_seconds: float) -> DeliveryReport:
        """Deliver until nothing is pending or `max_seconds` have passed, sleeping until the next is due."""
        deadline = self._clock() + max_seconds
        report = self.deliver_pending()
        while True:
            next_due = self._next_due()
            if next_due is None or next_due > deadline:
                return report
            self._sleep(max(0.0, next_due - self._clock()))
            report += self.deliver_pending()

    def run(self, stop: threading.Event, poll_interval: float = 5.0) -> None:
        """Deliver in the background until `stop` is set (the app starts this on a daemon thread)."""
        while not stop.is_set():
            try:
                self.deliver_pending()
            except Exception:  # a broken database must not kill the worker silently
                logger.exception("webhook delivery pass failed")
            next_due = self._next_due()
            wait = poll_interval if next_due is None else min(poll_interval, max(0.0, next_due - self._clock()))
            stop.wait(max(wait, 0.01))

    def retry_failed(self) -> int:
        """Put every failed entry back in the queue with a fresh attempt budget; return how many."""
        with self.db.transaction() as conn:
            result = conn.execute(
                update(webhook_outbox).where(webhook_outbox.c.status == FAILED)
                .values(status=PENDING, attempts=0, next_attempt_at=self._clock())
            )
        return result.rowcount

    def entries(self, status: str | None = None) -> list[OutboxEntry]:
        """Outbox entries, oldest first, optionally of one status."""
        query = select(webhook_outbox).order_by(webhook_outbox.c.id)
        if status is not None:
            query = query.where(webhook_outbox.c.status == status)
        with self.db.read() as conn:
            rows = conn.execute(query).fetchall()
        return [_row_to_entry(r) for r in rows]

    def _claim_due(self) -> list[tuple]:
        """Take a lease on the due entries so a concurrent worker, here or in another replica, skips them.

        PostgreSQL: FOR UPDATE SKIP LOCKED, so two pollers take disjoint rows without waiting;
        SQLite: BEGIN IMMEDIATE serialises the pollers (the clause is not rendered there).
        """
        now = self._clock()
        box = webhook_outbox.c
        with self.db.transaction() as conn:
            rows = conn.execute(
                select(box.id, box.dedupe_key, box.event, box.payload, box.attempts)
                .where(box.status == PENDING, box.next_attempt_at <= now)
                .order_by(box.id).limit(_BATCH).with_for_update(skip_locked=True)
            ).fetchall()
            if rows:
                conn.execute(
                    update(webhook_outbox).where(box.id.in_([row.id for row in rows]))
                    .values(next_attempt_at=now + self.timeout + _LEASE_MARGIN_S)
                )
        return [tuple(row) for row in rows]

    def _deliver_one(self, client: httpx.Client, entry_id: int, key: str, event: str, body: str, attempts: int):
        extra = {"Idempotency-Key": key, "X-Helpdesk-Event": event}
        status_code, retry_after = None, None
        try:
            response = client.post(self.settings.webhook_url, content=body.encode("utf-8"), headers=extra)
            status_code = response.status_code
            if response.is_success:
                self._mark_delivered(entry_id, status_code)
                return DeliveryReport(delivered=1)
            retry_after = parse_retry_after(response.headers.get("Retry-After"), self._clock())
            error = f"HTTP {status_code}: {response.text[:200]}"
        except httpx.TimeoutException:
            error = f"timed out after {self.timeout:g}s"
        except httpx.HTTPError as exc:
            error = f"{type(exc).__name__}: {exc}"[:300]
        except httpx.InvalidURL:  # its message quotes the part of the URL it choked on: never log it
            error, status_code = BAD_URL_ERROR, None
        attempts += 1
        permanent = error == BAD_URL_ERROR or (
            status_code is not None and 400 <= status_code < 500 and status_code not in _RETRYABLE_4XX
        )
        failed = permanent or attempts >= self.settings.webhook_max_attempts
        delay = min(self.max_delay, self.base_delay * 2 ** (attempts - 1))
        if retry_after is not None:
            delay = max(delay, retry_after)
        host = "?" if error == BAD_URL_ERROR else _host(self.settings.webhook_url)
        logger.warning("webhook for %s to %s failed (attempt %d): %s", key, host, attempts, error)
        with self.db.transaction() as conn:
            conn.execute(
                update(webhook_outbox).where(webhook_outbox.c.id == entry_id).values(
                    status=FAILED if failed else PENDING, attempts=attempts, last_error=error,
                    last_status=status_code, next_attempt_at=self._clock() + delay,
                )
            )
        return DeliveryReport(failed=1) if failed else DeliveryReport(retrying=1)

    def _mark_delivered(self, entry_id: int, status_code: int) -> None:
        with self.db.transaction() as conn:
            conn.execute(
                update(webhook_outbox).where(webhook_outbox.c.id == entry_id).values(
                    status=DELIVERED, attempts=webhook_outbox.c.attempts + 1, last_status=status_code,
                    last_error="", delivered_at=to_db_time(utc_now()),
                )
            )

    def _next_due(self) -> float | None:
        with self.db.read() as conn:
            return conn.execute(
                select(func.min(webhook_outbox.c.next_attempt_at)).where(webhook_outbox.c.status == PENDING)
            ).scalar()


def _host(url: str) -> str:
    try:
        return urlsplit(url).hostname or "?"
    except ValueError:
        return "?"


def _row_to_entry(row) -> OutboxEntry:
    return OutboxEntry(
        id=row.id,
        ticket_id=row.ticket_id,
        event=row.event,
        format=row.format,
        payload=json.loads(row.payload),
        status=row.status,
        attempts=row.attempts,
        last_error=row.last_error,
        last_status=row.last_status,
        next_attempt_at=row.next_attempt_at,
        created_at=row.created_at,
        delivered_at=row.delivered_at,
    )
