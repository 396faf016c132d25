"""Two real processes on one embedded Chroma: `kb ingest` beside a serving Assistant, and two
`kb ingest` runs at once.

Before the fix, the serving process answered every question after the other process's ingest with
mode "error" (chromadb `InternalError: Error finding id` from its stale cached System) until a
restart, and concurrent ingests both embedded every new file.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time

from assistant.config import Settings
from assistant.retrieval import make_retriever
from assistant.store import open_store
from kb_ingest.indexing import Indexer
from tests.helpers import raw_rows
from tests.reliability.conftest import PROBE, build_assistant, write_files

NEW_FILE = {"docs/gift-cards.md": "# Gift cards\n\nGift cards never expire and work on any order above 2 USD.\n"}
NEW_QUESTION = "Do gift cards expire?"
WAITING = "waiting for another writer of the index"


def kb_env(settings: Settings) -> dict[str, str]:
    return {
        **os.environ, "KB_CORPUS_DIR": str(settings.corpus_dir), "KB_DATA_DIR": str(settings.data_dir),
        "KB_CHROMA_MODE": "embedded", "KB_EMBEDDINGS": "local", "OPENAI_API_KEY": "", "OPENAI_BASE_URL": "",
    }


def start_kb(settings: Settings, *argv: str) -> subprocess.Popen:
    """The real `kb` command line in its own process (working dir without a .env)."""
    return subprocess.Popen(
        [sys.executable, "-m", "kb_ingest.cli", *argv], env=kb_env(settings), cwd=settings.data_dir.parent,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )


def finish(proc: subprocess.Popen, timeout: float = 240) -> tuple[int, str, str]:
    out, err = proc.communicate(timeout=timeout)
    return proc.returncode, out, err


def test_app_keeps_answering_after_kb_ingest_in_another_process(kb, embeddings):
    assistant = build_assistant(kb, embeddings)
    assert assistant.reply("before", PROBE).grounded

    write_files(kb.corpus_dir, NEW_FILE)
    code, out, err = finish(start_kb(kb, "ingest", "--json"))
    assert code == 0, err
    assert json.loads(out)["added"] == 1

    # Every reply works, and the new article is found within the retriever's refresh window.
    deadline = time.monotonic() + assistant.retriever.refresh_s + 2.0
    replies = []
    while True:
        answer = assistant.reply(f"after-{len(replies)}", NEW_QUESTION)
        replies.append(answer)
        found = any(c.source == "docs/gift-cards.md" for c in answer.citations)
        if found or time.monotonic() > deadline:
            break
        time.sleep(0.25)
    assert [a.mode for a in replies if a.mode == "error"] == []
    assert found, replies[-1].text
    assert "never expire" in replies[-1].text
    assert assistant.reply("probe-again", PROBE).citations[0].source == "docs/refunds.md"

    # A store opened afresh in this process sees the new chunks too (chromadb caches one System per path).
    store = open_store(kb, embeddings)
    assert store.count() == 4
    top = make_retriever(kb, store).retrieve(NEW_QUESTION, k=1).chunks[0].chunk
    assert top.source == "docs/gift-cards.md"


def test_two_kb_ingest_runs_at_once_take_turns(kb, embeddings):
    write_files(kb.corpus_dir, {
        f"guides/topic-{n}.md": f"# Topic {n}\n\n" + " ".join(
            f"Rule {i} of topic {n}: keep the receipt for item {i}." for i in range(12)
        ) + "\n"
        for n in range(4)
    })
    runs = [start_kb(kb, "ingest", "--json") for _ in range(2)]
    results = [finish(proc) for proc in runs]
    assert [code for code, _, _ in results] == [0, 0], [err[-500:] for _, _, err in results]
    reports = [json.loads(out) for _, out, _ in results]

    keys = [row[0] for row in raw_rows(kb.resolved_database_url, "SELECT key FROM upsertion_record")]
    ids = open_store(kb, embeddings).collection.get(include=[])["ids"]
    assert len(ids) == len(set(ids)) == len(keys) and set(ids) == set(keys)
    new_chunks = len(ids) - 3
    # One run waited for the other and found nothing left to do: each new chunk was embedded once.
    assert sorted(r["chunks_added"] for r in reports) == [0, new_chunks], reports
    assert sorted(r["added"] for r in reports) == [0, 4]


def test_kb_ingest_waits_while_another_writer_holds_the_lock(kb, embeddings):
    from kb_ingest.writelock import writer_lock  # here, so the other tests run against code without it

    write_files(kb.corpus_dir, NEW_FILE)
    with writer_lock(kb.data_dir):
        proc = start_kb(kb, "ingest", "--json")
        line = _read_stderr_until(proc, WAITING, timeout=120)
        assert WAITING in line, line
        assert proc.poll() is None  # still waiting: it has written nothing
        assert "docs/gift-cards.md" not in {f.source for f in Indexer(kb, open_store(kb, embeddings)).indexed_files()}
    code, out, err = finish(proc)
    assert code == 0, err
    assert json.loads(out)["added"] == 1


def test_content_page_removal_waits_for_a_kb_ingest_in_another_process(kb, embeddings):
    holder = subprocess.Popen(
        [sys.executable, "-c", "import sys; from kb_ingest.writelock import writer_lock\n"
         f"with writer_lock({str(kb.data_dir)!r}):\n    print('held', flush=True); sys.stdin.read()"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "held"
        indexer = Indexer(kb, open_store(kb, embeddings))
        removed: list[int] = []
        worker = threading.Thread(target=lambda: removed.append(indexer.remove_source("docs/shipping.md")))
        worker.start()
        worker.join(1.5)
        assert worker.is_alive() and removed == []  # the removal waits for the other writer
    finally:
        holder.stdin.close()
        holder.wait(30)
    worker.join(60)
    assert removed == [1]


def _read_stderr_until(proc: subprocess.Popen, marker: str, timeout: float) -> str:
    """Stderr lines of `proc` until one holds `marker` (or the process ends, or time runs out)."""
    lines: list[str] = []
    done = threading.Event()

    def read() -> None:
        for line in proc.stderr:
            lines.append(line)
            if marker in line:
                break
        done.set()

    threading.Thread(target=read, daemon=True).start()
    done.wait(timeout)
    return "".join(lines)


def test_a_read_that_fails_again_after_reopening_reports_the_store_unavailable(kb, embeddings, monkeypatch):
    from chromadb.api.models.Collection import Collection
    from chromadb.errors import InternalError

    assistant = build_assistant(kb, embeddings)
    assistant.retriever.refresh_s = 0.0
    calls = []

    def broken_get(self, *args, **kwargs):
        calls.append(1)
        raise InternalError("Error finding id")

    write_files(kb.corpus_dir, NEW_FILE)
    assert finish(start_kb(kb, "ingest"))[0] == 0
    monkeypatch.setattr(Collection, "get", broken_get)
    answer = assistant.reply("s", NEW_QUESTION)
    assert answer.mode == "error" and answer.escalation.reasons == ("store_unavailable",)
    assert len(calls) == 2  # the read, and one retry on a reopened client


def test_kb_ingest_reset_rebuilds_the_index_under_the_lock(kb, embeddings):
    """Before: --reset emptied the collection, then skipped every file as unchanged (0 chunks left)."""
    code, out, err = finish(start_kb(kb, "ingest", "--reset", "--json"))
    assert code == 0, err
    assert json.loads(out)["chunks_added"] == 3
    store = open_store(kb, embeddings)  # this process's cached client knew the dropped collection
    assert store.count() == 3
    assert make_retriever(kb, store).retrieve(PROBE, k=1).chunks[0].chunk.source == "docs/refunds.md"
