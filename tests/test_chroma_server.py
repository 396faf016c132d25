"""Client/server mode against a real `chroma run` process started by the test."""

from __future__ import annotations

import pytest

from assistant.errors import StoreUnavailableError
from assistant.store import open_store
from kb_ingest.indexing import Indexer
from tests.helpers import free_port, start_chroma, stop_process

pytestmark = pytest.mark.server


@pytest.fixture
def chroma_server(tmp_path):
    port = free_port()
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
    dead = settings.with_overrides(chroma_mode="server", chroma_port=free_port())
    with pytest.raises(StoreUnavailableError, match="chroma run"):
        open_store(dead, embeddings)


def test_kb_ingest_from_two_machines_shares_one_index(db_settings, tmp_path, embeddings, chroma_server):
    """Two machines (own KB_DATA_DIR each) share the Chroma server and the app database, so either one's
    `kb ingest` of the shared corpus sees what the other indexed: unchanged files cost no embedding, a
    deleted file is removed once, for everyone."""
    port, _ = chroma_server
    corpus = db_settings.corpus_dir
    (corpus / "shipping.md").write_text("# Shipping\n\nExpress delivery takes 1-2 business days.\n")
    (corpus / "refunds.md").write_text("# Refunds\n\nRefunds reach mobile money in 1-3 days.\n")
    machines = [
        db_settings.with_overrides(chroma_mode="server", chroma_port=port, data_dir=tmp_path / f"machine-{name}")
        for name in ("a", "b")
    ]
    first = Indexer(machines[0], open_store(machines[0], embeddings)).ingest()
    assert first.counts["added"] == 2
    second = Indexer(machines[1], open_store(machines[1], embeddings)).ingest()
    assert second.counts["unchanged"] == 2 and second.chunks_added == 0
    (corpus / "refunds.md").unlink()
    removed = Indexer(machines[1], open_store(machines[1], embeddings)).ingest()
    assert removed.counts["removed"] == 1 and removed.chunks_deleted == 1
    back_on_a = Indexer(machines[0], open_store(machines[0], embeddings))
    assert [f.source for f in back_on_a.indexed_files()] == ["shipping.md"]
    assert back_on_a.ingest().counts == {"added": 0, "updated": 0, "removed": 0, "unchanged": 1, "failed": 0}
    assert back_on_a.store.count() == 1
