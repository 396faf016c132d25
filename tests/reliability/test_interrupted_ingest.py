"""Item 3 of issue 12: chunks left by a `kb ingest` killed midway must not outlive their file.

Shown before: `kill -9` during the ingest of a big new file, after its first 64-chunk batch was
written; delete the file; ingest again: exit 0, but those 64 chunks stayed searchable and were quoted
to customers, and the Content page could not remove them (it lists the files table, which is
written only when a run completes). Now every ingest reconciles the record manager's source groups
with the files table and the files present.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from assistant.config import Settings
from assistant.retrieval import make_retriever
from assistant.store import open_store
from kb_ingest.indexing import Indexer
from tests.reliability.conftest import CORPUS, write_files

ROOT = Path(__file__).resolve().parents[2]
BIG = "docs/warehouse-manual.md"
MARKER = "zanzibar"  # a word only the big file uses, to search for its chunks


def big_article(paragraphs: int = 1500) -> str:
    body = "\n\n".join(
        f"Step {n} of the {MARKER} warehouse procedure: scan pallet {n} and log bay {n % 40} in the ledger."
        for n in range(paragraphs)
    )
    return f"# Warehouse manual\n\n{body}\n"


def kb_env(settings: Settings) -> dict[str, str]:
    return {
        **os.environ, "KB_CORPUS_DIR": str(settings.corpus_dir), "KB_DATA_DIR": str(settings.data_dir),
        "KB_CHUNK_TOKENS": str(settings.chunk_tokens), "KB_CHUNK_OVERLAP": str(settings.chunk_overlap),
        "KB_EMBEDDINGS": "local", "KB_CHROMA_MODE": "embedded", "OPENAI_API_KEY": "", "OPENAI_BASE_URL": "",
        "OMP_WAIT_POLICY": "PASSIVE",
    }


def records_of(settings: Settings, source: str) -> int:
    """The record manager's rows for `source`, read straight from the app database (SQLite here)."""
    try:
        with sqlite3.connect(settings.resolved_database_url.removeprefix("sqlite:///"), timeout=5) as conn:
            return conn.execute("SELECT COUNT(*) FROM upsertion_record WHERE group_id = ?", (source,)).fetchone()[0]
    except sqlite3.OperationalError:  # the table is not there yet
        return 0


def chunks_of(settings: Settings, embeddings, source: str) -> int:
    store = open_store(settings, embeddings)  # a fresh client, as a new process would open it
    return len(store.collection.get(where={"source": source}, include=[])["ids"])


def kill_after_first_batch(settings: Settings) -> int:
    """Run `kb ingest` in a real process and SIGKILL it once the big file's first batch is recorded."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "kb_ingest.cli", "ingest"], cwd=settings.corpus_dir.parent,
        env=kb_env(settings), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 300
    try:
        while records_of(settings, BIG) < 64:
            assert proc.poll() is None, "kb ingest ended before it could be killed; make the file bigger"
            assert time.monotonic() < deadline, "the first batch never landed"
            time.sleep(0.05)
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.wait(timeout=30)
    return records_of(settings, BIG)


@pytest.fixture
def interrupted(tmp_path, embeddings):
    """A KB whose `kb ingest` of a big new file was killed after the first batch; the file then deleted."""
    settings = Settings(
        corpus_dir=write_files(tmp_path / "corpus", CORPUS), data_dir=tmp_path / "data",
        chunk_tokens=48, chunk_overlap=8,
    )
    assert Indexer(settings, open_store(settings, embeddings)).ingest().ok
    write_files(settings.corpus_dir, {BIG: big_article()})
    recorded = kill_after_first_batch(settings)
    indexer = Indexer(settings, open_store(settings, embeddings))
    assert BIG not in {f.source for f in indexer.indexed_files()}, "the run completed; nothing was interrupted"
    assert recorded >= 64 and chunks_of(settings, embeddings, BIG) >= 64
    (settings.corpus_dir / BIG).unlink()
    return settings


def test_chunks_of_a_deleted_file_left_by_a_killed_ingest_go_with_the_next_ingest(interrupted, embeddings):
    settings = interrupted
    code = subprocess.run(
        [sys.executable, "-m", "kb_ingest.cli", "ingest"], cwd=settings.corpus_dir.parent, env=kb_env(settings),
        capture_output=True, text=True, timeout=300,
    ).returncode
    assert code == 0
    assert chunks_of(settings, embeddings, BIG) == 0 and records_of(settings, BIG) == 0
    found = make_retriever(settings, open_store(settings, embeddings)).retrieve(
        f"{MARKER} warehouse procedure pallet ledger", k=10
    ).chunks
    assert found and all(hit.chunk.source != BIG for hit in found)


def test_orphans_are_listed_and_can_be_removed_without_an_ingest(interrupted, embeddings):
    indexer = Indexer(interrupted, open_store(interrupted, embeddings))
    orphans = indexer.orphan_sources()
    assert set(orphans) == {BIG} and orphans[BIG] >= 64
    assert indexer.remove_source(BIG) == orphans[BIG]
    assert indexer.orphan_sources() == {} and chunks_of(interrupted, embeddings, BIG) == 0


def test_the_content_page_lists_orphans_and_removes_them(tmp_path, embeddings):
    from streamlit.testing.v1 import AppTest

    from tests.e2e.corpus import WRITER
    from tests.helpers import streamlit_app_env
    from tests.test_indexing import CountingEmbeddings
    from ui.first_run import first_run_index
    from ui.resources import fingerprint, load_resources

    app = str(ROOT / "ui" / "app.py")
    with streamlit_app_env(tmp_path, KB_CHUNK_TOKENS="48", KB_CHUNK_OVERLAP="8") as env:
        AppTest.from_file(app, default_timeout=60).run()  # starts the app's first-run ingest
        settings = Settings.from_env()
        resources = load_resources(settings, fingerprint(settings))
        assert first_run_index(resources, fingerprint(settings)).wait(120)
        write_files(settings.corpus_dir, {BIG: big_article(300)})
        crashing = open_store(settings, CountingEmbeddings(embeddings, fail_after=64))  # dies in batch 2
        with pytest.raises(RuntimeError):
            Indexer(settings, crashing).ingest()
        (settings.corpus_dir / BIG).unlink()

        at = AppTest.from_file(app, default_timeout=60).run()
        at.text_input(key="sign_in_user").set_value(WRITER[0])
        at.text_input(key="sign_in_password").set_value(WRITER[1])
        next(b for b in at.button if b.label == "Sign in").click().run()
        assert any("interrupted indexing run" in w.value and "(64 chunks)" in w.value for w in at.warning)
        at.selectbox(key="content_remove_source").set_value(BIG)
        next(b for b in at.button if b.label == "Remove source").click().run()
        assert not at.exception and not any("interrupted" in w.value for w in at.warning)
        assert chunks_of(settings, embeddings, BIG) == 0
        assert env["KB_DATA_DIR"] == str(settings.data_dir)
