"""Shared helpers for the reliability suite: a tiny corpus, a built assistant, and an index probe."""

from __future__ import annotations

import contextlib
import io
import os
import sqlite3
from dataclasses import dataclass
from pathlib import Path

import pytest

from assistant.config import Settings
from assistant.conversation import Assistant
from assistant.conversation_log import ConversationLog
from assistant.db import Database
from assistant.handoff import TicketStore
from assistant.retrieval import make_retriever
from assistant.store import open_store
from kb_ingest.cli import main as kb_main
from tests.helpers import write_files  # noqa: F401  (re-exported for the suites here)

# Subprocesses (chroma run, streamlit) inherit this: idle OpenMP threads must not spin on 2 cores.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

CORPUS = {
    "docs/refunds.md": "# Refunds\n\nRefunds reach your card within 5-10 business days after we receive the return.\n",
    "docs/shipping.md": "# Shipping\n\nStandard shipping takes 3-7 business days. Express shipping takes 1-2 "
    "business days and costs 9 USD.\n",
    "faq/account.csv": "question,answer\nHow do I reset my password?,Open the sign-in page and tap Forgot password; "
    "the link we email is valid for 30 minutes.\n",
}
PROBE = "How long does a refund to my card take?"

# What a customer must never see in a reply: Python error text.
LEAK_MARKERS = ("Traceback", "Error:", "Exception", "errno", 'File "', "httpx", "openai.", "chromadb")


@dataclass(frozen=True)
class Probe:
    """What the index answers for one question, and how big it is: equal before and after = intact."""

    top_chunk_id: str
    top_source: str
    count: int


def probe(settings: Settings, embeddings, question: str = PROBE) -> Probe:
    """Open the index afresh (as a new process would) and query it."""
    store = open_store(settings, embeddings)
    top = make_retriever(settings, store).retrieve(question, k=1).chunks[0].chunk
    return Probe(top.chunk_id, top.source, store.count())


def build_assistant(settings: Settings, embeddings, chat_model=None, store=None) -> Assistant:
    """An Assistant with a real SQLite log and ticket store (as the app builds it, minus the webhook)."""
    store = store if store is not None else open_store(settings, embeddings)
    db = Database.from_settings(settings)
    return Assistant(
        settings,
        make_retriever(settings, store),
        chat_model=chat_model,
        tickets=TicketStore(settings, db),
        log=ConversationLog(settings, db),
    )


def raw_rows(settings: Settings, sql: str) -> list[tuple]:
    """Rows straight from the SQLite file, bypassing the product's own readers."""
    with sqlite3.connect(settings.resolved_database_url.removeprefix("sqlite:///")) as conn:
        return conn.execute(sql).fetchall()


def leaks_error_text(text: str) -> bool:
    return any(marker.lower() in text.lower() for marker in LEAK_MARKERS)


def run_kb(*argv: str) -> tuple[int, str, str]:
    """`kb ...` in this process (the environment is set by the caller); returns (code, stdout, stderr)."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = kb_main(list(argv))
    return code, out.getvalue(), err.getvalue()


@contextlib.contextmanager
def kb_environment(tmp: Path, settings: Settings, max_file_mb: int = 20):
    """KB_* variables for `settings`, and a working directory without a stray .env."""
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(tmp)
        for name, value in {
            "KB_CORPUS_DIR": str(settings.corpus_dir), "KB_DATA_DIR": str(settings.data_dir),
            "KB_MAX_FILE_MB": str(max_file_mb), "KB_CHROMA_MODE": settings.chroma_mode,
            "KB_CHROMA_PORT": str(settings.chroma_port), "KB_EMBEDDINGS": "local",
            "OPENAI_API_KEY": "", "OPENAI_BASE_URL": "",
        }.items():
            mp.setenv(name, value)
        yield


@pytest.fixture
def kb(ingested_kb, tmp_path) -> Settings:
    """Settings over this test's own copy of the ingested CORPUS (embedded Chroma in tmp_path)."""
    return ingested_kb(CORPUS, tmp_path)
