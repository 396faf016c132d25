"""Client/server mode against a real `chroma run` process started by the test."""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from assistant.errors import StoreUnavailableError
from assistant.store import open_store
from kb_ingest.indexing import Indexer
from tests.helpers import stop_process

pytestmark = pytest.mark.server


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _chroma_executable() -> str:
    found = Path(sys.executable).with_name("chroma")
    if found.exists():
        return str(found)
    path = shutil.which("chroma")
    assert path, "the chroma CLI (from the chromadb package) must be installed"
    return path


def start_chroma(data: Path, port: int) -> subprocess.Popen:
    proc = subprocess.Popen(
        [_chroma_executable(), "run", "--path", str(data), "--host", "127.0.0.1", "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return proc
        except OSError:
            if proc.poll() is not None:
                raise RuntimeError(f"chroma run exited with {proc.returncode}") from None
            time.sleep(0.2)
    proc.kill()
    raise RuntimeError("chroma run did not start within 60 s")


@pytest.fixture
def chroma_server(tmp_path):
    port = _free_port()
    proc = start_chroma(tmp_path / "chroma-server", port)
    yield port, proc
    stop_process(proc)


def test_ingest_and_search_through_a_chroma_server(settings, embeddings, chroma_server):
    port, _ = chroma_server
    server_settings = settings.with_overrides(chroma_mode="server", chroma_port=port)
    (settings.corpus_dir / "shipping.md").write_text("# Shipping\n\nExpress delivery takes 1-2 business days.\n")
    (settings.corpus_dir / "refunds.md").write_text("# Refunds\n\nRefunds reach mobile money in 1-3 days.\n")
    store = open_store(server_settings, embeddings)
    report = Indexer(server_settings, store).ingest()
    assert report.counts["added"] == 2 and store.count() == 2
    # Nothing was written to the embedded store's directory: the data lives in the server.
    assert not server_settings.chroma_path.exists() or not any(server_settings.chroma_path.iterdir())

    from assistant.retrieval import make_retriever

    retriever = make_retriever(server_settings, open_store(server_settings, embeddings))
    top = retriever.retrieve("how fast is express delivery?", k=2).chunks[0]
    assert top.chunk.source == "shipping.md"
    again = Indexer(server_settings, open_store(server_settings, embeddings)).ingest()
    assert again.counts["unchanged"] == 2 and again.chunks_added == 0


def test_unreachable_server_gives_a_clear_error(settings, embeddings):
    dead = settings.with_overrides(chroma_mode="server", chroma_port=_free_port())
    with pytest.raises(StoreUnavailableError, match="chroma run"):
        open_store(dead, embeddings)
