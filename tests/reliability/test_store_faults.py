"""A failing vector store: a real `chroma run` stopped mid-conversation, restarted, and frozen.

While the server is down the customer gets the fixed "can't reach our help centre" phrase and the
offer of a person (tickets live in SQLite, so a handoff still works); after a restart on the same
port and path the next question is answered normally, with nothing lost.
"""

from __future__ import annotations

import logging
import signal
import threading
import time

import pytest

from assistant.config import Settings
from assistant.errors import StoreUnavailableError
from assistant.phrases import phrase
from assistant.store import open_store
from kb_ingest.indexing import Indexer
from tests.helpers import free_port, start_chroma, stop_process
from tests.reliability.conftest import (
    CORPUS,
    PROBE,
    build_assistant,
    kb_environment,
    leaks_error_text,
    probe,
    run_kb,
    write_files,
)

pytestmark = pytest.mark.server

HUNG_REPLY_BOUND_S = 8.0




@pytest.fixture
def server(tmp_path, embeddings):
    """A running `chroma run` holding the ingested CORPUS; yields a dict whose "proc" may be replaced."""
    state = {"port": free_port(), "path": tmp_path / "chroma-server"}
    state["proc"] = start_chroma(state["path"], state["port"])
    settings = Settings(
        corpus_dir=write_files(tmp_path / "corpus", CORPUS), data_dir=tmp_path / "data",
        chroma_mode="server", chroma_port=state["port"],
    )
    assert Indexer(settings, open_store(settings, embeddings)).ingest().ok
    state["settings"] = settings
    yield state
    stop_process(state["proc"])


def test_store_outage_mid_conversation_offers_a_person_then_recovers(server, embeddings, caplog):
    settings = server["settings"]
    assistant = build_assistant(settings, embeddings)
    # Production re-checks the index every 2 s and answers from its snapshot in between; check every time here.
    assistant.retriever.refresh_s = 0.0
    first = assistant.reply("s", PROBE)
    assert first.grounded and first.citations[0].source == "docs/refunds.md"

    stop_process(server["proc"])
    caplog.set_level(logging.WARNING)
    down = assistant.reply("s", "How long does express shipping take?")
    assert down.mode == "error" and down.escalation.offer and down.escalation.reasons == ("store_unavailable",)
    assert down.text == f"{phrase('store_unavailable', 'en')}\n\n{phrase('offer_person', 'en')}"
    assert not leaks_error_text(down.text)
    assert any(r.getMessage() == "vector store unavailable" for r in caplog.records)
    handoff = assistant.respond_to_offer("s", accept=True)
    assert handoff is not None and handoff.ticket_id  # a person is reachable without the store

    server["proc"] = start_chroma(server["path"], server["port"])
    again = assistant.reply("s", "How long does express shipping take?")
    assert again.grounded and again.mode == "extractive" and "1-2 business days" in again.text
    assert again.citations[0].source == "docs/shipping.md"
    roles = [m["role"] for m in assistant.log.messages("s")]
    # every turn stored, including the failed one and the accepted handoff (an assistant message alone)
    assert roles == ["user", "assistant", "user", "assistant", "assistant", "user", "assistant"]
    assert probe(settings, embeddings).count == len(CORPUS)  # nothing lost in the outage


def test_kb_commands_with_the_server_down_give_one_line(server, tmp_path):
    stop_process(server["proc"])
    with kb_environment(tmp_path, server["settings"]):
        for command in (["ingest"], ["sources"], ["search", "refund"], ["ask", "refund"]):
            code, out, err = run_kb(*command)
            assert code == 2 and err.startswith("error: Expected a Chroma server at 127.0.0.1:"), (command, err)
            assert len(err.strip().splitlines()) == 1 and "Traceback" not in err + out


def test_store_lost_during_an_ingest_is_a_clean_error(server, embeddings):
    settings = server["settings"]
    store = open_store(settings, embeddings)
    write_files(settings.corpus_dir, {"docs/points.md": "# Points\n\nPoints are added after 48 hours.\n"})
    stop_process(server["proc"])
    with pytest.raises(StoreUnavailableError):
        Indexer(settings, store).ingest()


def test_a_frozen_server_does_not_hang_the_reply(server, embeddings):
    """SIGSTOP: the port accepts connections but nothing answers (an overloaded or wedged server)."""
    assistant = build_assistant(server["settings"], embeddings)
    assistant.retriever.refresh_s = 0.0
    assert assistant.reply("s", PROBE).grounded
    server["proc"].send_signal(signal.SIGSTOP)
    replies: list = []
    worker = threading.Thread(target=lambda: replies.append(assistant.reply("s", "How long does shipping take?")))
    started = time.monotonic()
    worker.start()
    worker.join(HUNG_REPLY_BOUND_S)
    hung = worker.is_alive()
    server["proc"].send_signal(signal.SIGCONT)  # let a hung request finish so the thread ends
    worker.join(30)
    assert not hung, f"reply still waiting after {time.monotonic() - started:.0f}s"
    assert replies[0].mode == "error" and replies[0].escalation.offer
