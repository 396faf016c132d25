"""Item 13 of issue 12: a KB_WEBHOOK_URL that cannot be parsed (a `#` or `/` in the password).

Refused at start-up with a message that names the fix and never echoes the URL; at delivery (a URL
changed behind the outbox's back) a permanent failure, logged without the credentials.
"""

from __future__ import annotations

import logging
import threading

import pytest

from assistant.errors import ConfigError
from assistant.handoff import TicketStore
from assistant.types import Turn
from assistant.webhook import WebhookOutbox

SECRET = "p#ss/word"
BAD_URLS = [
    f"https://helpdesk-bot:{SECRET}@hooks.example/tickets",
    "https://helpdesk-bot:pa/ss@hooks.example/tickets",
    "https://helpdesk-bot:pa?ss@hooks.example/tickets",
    "ftp://hooks.example/tickets",
    "hooks.example/tickets",
]
FRAGMENTS = ("p#ss", "ss/word", "word@", "pa/ss", "pa?ss", "'p'", "'pa'")


def leaks(text: str) -> list[str]:
    return [f for f in FRAGMENTS if f in text]


@pytest.mark.parametrize("url", BAD_URLS)
def test_a_bad_webhook_url_is_refused_at_start_up_without_echoing_it(settings, url):
    with pytest.raises(ConfigError) as refused:
        WebhookOutbox(settings.with_overrides(webhook_url=url))
    message = str(refused.value)
    assert "KB_WEBHOOK_URL" in message and not leaks(message), message
    assert "hooks.example" not in message


def test_a_percent_encoded_password_is_accepted(settings):
    assert WebhookOutbox(settings.with_overrides(webhook_url="https://bot:p%23ss%2Fword@hooks.example/t")).enabled


def test_an_unparsable_url_at_delivery_fails_the_entry_for_good_and_logs_no_credentials(settings, caplog):
    good = settings.with_overrides(webhook_url="http://127.0.0.1:9/hooks", webhook_max_attempts=5)
    ticket = TicketStore(good).create("s1", [Turn("user", "agent please")], "en")
    outbox = WebhookOutbox(good)
    outbox.enqueue(ticket)
    outbox.settings = good.with_overrides(webhook_url=BAD_URLS[0])  # e.g. a config reload gone wrong
    with caplog.at_level(logging.DEBUG):
        report = outbox.deliver_pending()
        stop = threading.Event()
        stop.set()
        outbox.run(stop)  # the background loop must not log a traceback either
    assert (report.failed, report.retrying) == (1, 0)
    [entry] = outbox.entries()
    assert entry.status == "failed" and "KB_WEBHOOK_URL" in entry.last_error and not leaks(entry.last_error)
    logged = "\n".join(r.getMessage() + (r.exc_text or "") for r in caplog.records)
    assert not leaks(logged) and "Traceback" not in logged, logged
