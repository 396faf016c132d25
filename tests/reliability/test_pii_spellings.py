"""Personal data in the spellings customers really use, end to end (issue 12).

Each spelling goes through a real Assistant with a SQLite log, tickets and a Zendesk webhook
delivered to a local HTTP server; then the database file, its write-ahead log and the POSTed
bodies are scanned as bytes. Before the fix every one of these was stored and sent verbatim. The
LLM paths (answer, condensed follow-up, handoff summary) are checked on what the model received,
through the real OpenAI client against tests/openai_stub.py.
"""

from __future__ import annotations

import json
import re
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from assistant.conversation import Assistant
from assistant.conversation_log import ConversationLog
from assistant.db import Database
from assistant.handoff import TicketStore
from assistant.models import make_chat_model
from assistant.retrieval import make_retriever
from assistant.store import open_store
from assistant.webhook import WebhookOutbox
from tests.openai_stub import OpenAIStub
from tests.reliability.conftest import raw_rows


@dataclass(frozen=True)
class Spelling:
    message: str
    digits: str = ""             # a card or phone number, searched for with any separators between digits
    typed: tuple[str, ...] = ()  # other text that must not survive (codes with their label, emails)


SPELLINGS = [
    Spelling("My card is 4111  1111  1111  1111, it was charged twice", digits="4111111111111111"),
    Spelling("card 5555.5555.5555.4444 was declined", digits="5555555555554444"),
    Spelling("I used 4012/8888/8888/1881 for the order", digits="4012888888881881"),
    Spelling("number 5105 - 1051 - 0510 - 5100 please refund", digits="5105105105105100"),
    Spelling("my card is 6011 1111\n1111 1117 and it failed", digits="6011111111111117"),
    Spelling("Nipigie 0733  918  264 kesho", digits="0733918264"),
    Spelling("write to josé@exämple.com about it", typed=("josé@exämple.com", "exämple")),
    Spelling("mail user@例え.jp please", typed=("user@例え.jp", "例え")),
    Spelling("بريدي علي@مثال.السعودية شكرا", typed=("علي@مثال.السعودية", "مثال.السعودية")),
    Spelling("my otp is 730592, it expired", typed=("730592",)),
    Spelling("the CVV is 9184 on the back", typed=("CVV is 9184",)),
    Spelling("nambari ya siri ni 6157", typed=("siri ni 6157",)),
    Spelling("رمز التحقق 593071", typed=("593071",)),
    Spelling("Minu PIN-kood on 8426", typed=("kood on 8426",)),
]


def leaks(blob: bytes, spelling: Spelling) -> list[str]:
    """What of `spelling` is in `blob`: the digits with any separators (≤ 6 bytes, so "\\n" and
    "\\u00a0" in JSON count), or a typed string as UTF-8 or JSON-escaped."""
    found = []
    if spelling.digits and re.search(rb"\D{0,6}".join(d.encode() for d in spelling.digits), blob):
        found.append(spelling.digits)
    for text in spelling.typed:
        forms = {text.encode("utf-8"), json.dumps(text)[1:-1].encode("ascii")}
        found += [text for form in forms if form in blob]
    return found


class RawReceiver:
    """A webhook target on 127.0.0.1 that keeps the raw bytes of every POST."""

    def __init__(self) -> None:
        received = self.bodies = []

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                received.append(self.rfile.read(int(self.headers["Content-Length"])))
                self.send_response(201)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/api/v2/tickets"


@pytest.fixture
def receiver(monkeypatch):
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"):
        monkeypatch.delenv(name, raising=False)
    target = RawReceiver()
    yield target
    target.server.shutdown()
    target.server.server_close()


def build(settings, embeddings, chat_model=None) -> Assistant:
    db = Database.from_settings(settings)
    return Assistant(
        settings, make_retriever(settings, open_store(settings, embeddings)), chat_model=chat_model,
        tickets=TicketStore(settings, db), log=ConversationLog(settings, db),
        outbox=WebhookOutbox(settings, db),
    )


def test_no_spelling_reaches_the_database_file_its_wal_or_the_zendesk_post(kb, embeddings, receiver):
    settings = kb.with_overrides(webhook_url=receiver.url, webhook_format="zendesk")
    assistant = build(settings, embeddings)
    for n, spelling in enumerate(SPELLINGS):
        session = f"spelling-{n}"
        answer = assistant.reply(session, spelling.message)
        assistant.feedback(session, answer.message_index, helpful=False, comment=f"I said: {spelling.message}")
        assert assistant.request_human(session).ticket_id
    report = assistant.outbox.deliver_pending()
    assert report.delivered == len(SPELLINGS) and len(receiver.bodies) == len(SPELLINGS)

    # Every place was written to (otherwise "nothing leaked" proves nothing).
    for table in ("messages", "tickets", "feedback", "unanswered", "webhook_outbox"):
        assert raw_rows(settings, f"SELECT COUNT(*) FROM {table}")[0][0] > 0, table
    path = Path(settings.resolved_database_url.removeprefix("sqlite:///"))
    wal = path.with_name(path.name + "-wal")
    assert wal.exists() and wal.stat().st_size > 0
    places = {"database": path.read_bytes(), "wal": wal.read_bytes(), "zendesk": b"\n".join(receiver.bodies)}
    found = {(place, s.message): leaks(blob, s) for place, blob in places.items() for s in SPELLINGS}
    assert {key: value for key, value in found.items() if value} == {}
    body = json.loads(receiver.bodies[0])["ticket"]["comment"]["body"]
    assert "[card]" in body and "Transcript (redacted):" in body


def test_the_llm_never_sees_the_numbers_when_answering_condensing_or_summarising(kb, embeddings):
    with OpenAIStub() as stub:
        stub.script.extend([
            "Refunds reach your card within 5-10 business days [1].",  # the answer
            "How long does a refund to my card take?",                 # the condensed follow-up
            "Refunds reach your card within 5-10 business days [1].",  # its answer
            "Customer asks about a refund to their card.",             # the handoff summary
        ])
        settings = kb.with_overrides(openai_base_url=stub.base_url, llm_timeout_s=5, llm_max_retries=0)
        assistant = build(settings, embeddings, chat_model=make_chat_model(settings))
        first = "How long does a refund take? My card is 4111  1111  1111  1111, my otp is 730592"
        assert assistant.reply("llm", first).mode == "llm"
        follow = assistant.reply("llm", "and to 5555.5555.5555.4444?")
        assert follow.search_query == "How long does a refund to my card take?"  # condensed by the model
        ticket_id = assistant.request_human("llm").ticket_id
    assert len(stub.requests) == 4
    prompts = json.dumps(stub.requests, ensure_ascii=False).encode("utf-8")
    spellings = [Spelling("", digits="4111111111111111"), Spelling("", digits="5555555555554444"),
                 Spelling("", typed=("730592",))]
    assert [s for s in spellings if leaks(prompts, s)] == []
    assert "[card]" in json.dumps(stub.requests[1]) and "[code]" in json.dumps(stub.requests[3])
    assert assistant.tickets.get(ticket_id).summary == "Customer asks about a refund to their card."
