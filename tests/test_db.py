"""The app database layer: URLs, SQLite's concurrency settings, transactions, and the Alembic migrations
(on an empty database, on a database of the pre-Alembic version, and by several processes at once)."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import insert, select, text

from assistant.db import Database, DatabaseUnavailableError, database_url
from assistant.errors import ConfigError
from assistant.handoff import TicketStore
from assistant.migrations import alembic_config, current, head
from assistant.schema import metadata, users
from assistant.webhook import WebhookOutbox
from tests.conftest import FIXTURES
from tests.helpers import free_port, raw_rows

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_url(request, tmp_path):
    """A database with nothing in it, not even Alembic's version table."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'empty.sqlite'}"
        return
    cluster = request.getfixturevalue("postgres_cluster")
    url = cluster.create_database(prefix="empty")
    yield url
    cluster.drop_database(url)


def test_database_urls_accepted_and_refused_without_showing_the_password():
    assert database_url("postgresql://kb:pw@db:5432/help").drivername == "postgresql+psycopg"
    assert database_url("postgres://kb@db/help").drivername == "postgresql+psycopg"
    assert database_url("sqlite:///data/app.sqlite").database == "data/app.sqlite"
    for bad in ("mysql://kb:hunter2@db/help", "sqlite://", "postgresql://kb:hunter2@db", "not a url"):
        with pytest.raises(ConfigError, match="Expected KB_DATABASE_URL to be") as refused:
            database_url(bad)
        assert "hunter2" not in str(refused.value)


def test_unreachable_postgresql_is_a_clear_error_without_the_password():
    with pytest.raises(DatabaseUnavailableError, match="check KB_DATABASE_URL and that the server is running") as e:
        Database(f"postgresql://kb:hunter2@127.0.0.1:{free_port()}/help")
    assert "hunter2" not in str(e.value) and "127.0.0.1" in str(e.value)


def test_a_database_lost_while_serving_is_a_kberror_the_pages_can_show(settings):
    """The Handoffs page and the chat show KBError messages; a raw driver error would be a traceback."""
    lost = Database(f"postgresql://kb:hunter2@127.0.0.1:{free_port()}/help", migrate=False)
    with pytest.raises(DatabaseUnavailableError, match="refused or did not answer") as e:
        TicketStore(settings, lost).page()
    assert "hunter2" not in str(e.value)
    with pytest.raises(DatabaseUnavailableError):
        TicketStore(settings, lost).claim("T-1", "alice")


def test_sqlite_uses_wal_and_a_busy_timeout_and_creates_parent_dirs(tmp_path):
    db = Database(f"sqlite:///{tmp_path}/deep/er/app.sqlite")
    with db.read() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() >= 1000
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    assert (tmp_path / "deep" / "er" / "app.sqlite").exists()


def test_failed_transaction_rolls_back(db_settings):
    db = Database.from_settings(db_settings)
    with pytest.raises(RuntimeError), db.transaction() as conn:
        conn.execute(insert(users).values(name="x", role="staff", password_hash="s$h", created_at="now"))
        raise RuntimeError("boom")
    with db.read() as conn:
        assert conn.execute(select(users)).fetchall() == []


def test_migrations_build_exactly_the_schema_the_code_queries(empty_url):
    db = Database(empty_url)
    assert current(db.engine) == head()
    with db.engine.connect() as conn:
        differences = compare_metadata(MigrationContext.configure(conn), metadata)
    assert differences == []


def test_downgrade_to_the_first_revision_and_back_keeps_transcripts(db_settings):
    store = TicketStore(db_settings)
    ticket = store.create("s1", [{"role": "user", "content": "first"}, {"role": "assistant", "content": "reply"}], "en")
    engine = store.db.engine
    with engine.begin() as conn:
        command.downgrade(alembic_config(conn), "0001")
    url = db_settings.resolved_database_url
    assert json.loads(raw_rows(url, "SELECT transcript FROM tickets")[0][0])[1]["content"] == "reply"
    Database(url)  # upgrades again
    assert TicketStore(db_settings).get(ticket.ticket_id).transcript == ticket.transcript


def test_a_database_of_the_pre_alembic_version_is_adopted_with_its_data(tmp_path):
    path = tmp_path / "app.sqlite"
    transcript = [{"role": "user", "content": "Where is my refund?"}, {"role": "assistant", "content": "5 days [1]."}]
    with sqlite3.connect(path) as old:
        old.executescript((FIXTURES / "app_schema_before_alembic.sql").read_text())
        old.execute(
            "INSERT INTO tickets (ticket_id, session_id, created_at, updated_at, status, language, summary, transcript,"
            " sources, confidence, reasons, frustration_trajectory, frustration_peak, priority) VALUES"
            " ('T-OLD', 's-old', '2026-01-01T00:00:00.000000+00:00', '2026-01-01T00:00:00.000000+00:00', 'open',"
            " 'en', 'Asked: refund', ?, '[]', 0.3, '[\"low_confidence\"]', '[0.2]', 0.2, 'normal')",
            (json.dumps(transcript),),
        )
        old.execute(
            "INSERT INTO webhook_outbox (dedupe_key, ticket_id, event, format, payload, status, next_attempt_at,"
            " created_at) VALUES ('T-OLD:ticket.created', 'T-OLD', 'ticket.created', 'plain', '{}', 'pending', 0, 'x')"
        )
    settings_url = f"sqlite:///{path}"
    db = Database(settings_url)
    assert current(db.engine) == head()
    from assistant.config import Settings

    settings = Settings(data_dir=tmp_path, database_url=settings_url, webhook_url="http://127.0.0.1:9/hook")
    ticket = TicketStore(settings, db).get("T-OLD")
    assert [t.content for t in ticket.transcript] == ["Where is my refund?", "5 days [1]."]
    assert ticket.turns_omitted == 0 and TicketStore(settings, db).queue_position("T-OLD") == 0
    assert [e.ticket_id for e in WebhookOutbox(settings, db).entries("pending")] == ["T-OLD"]
    second = TicketStore(settings, db).create("s-new", [{"role": "user", "content": "agent"}], "en")
    assert TicketStore(settings, db).queue_position(second.ticket_id) == 1


MIGRATE = "import sys; from assistant.db import Database; Database(sys.argv[1]); print('ok')"


def test_replicas_starting_at_once_migrate_the_empty_database_once(empty_url):
    """Three processes open an empty database at the same moment: one migrates, the others wait and find it done."""
    procs = [
        subprocess.Popen([sys.executable, "-c", MIGRATE, empty_url], cwd=ROOT, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True)
        for _ in range(3)
    ]
    results = [proc.communicate(timeout=120) for proc in procs]
    assert [proc.returncode for proc in procs] == [0, 0, 0], [err[-2000:] for _, err in results]
    db = Database(empty_url, migrate=False)
    assert current(db.engine) == head()
    with db.read() as conn:
        assert conn.execute(text("SELECT COUNT(*) FROM alembic_version")).scalar() == 1


def test_index_writers_on_two_machines_take_turns_through_postgresql(postgres_database, tmp_path):
    """Two machines have two data dirs (two file locks): the advisory lock in PostgreSQL orders them."""
    import threading

    from assistant.errors import IndexBusyError
    from kb_ingest.writelock import writer_lock

    db = Database(postgres_database)
    holding, release = threading.Event(), threading.Event()

    def machine_a() -> None:
        with writer_lock(tmp_path / "machine-a", database=db, scope="chroma/help_center"):
            holding.set()
            release.wait(30)

    first = threading.Thread(target=machine_a)
    first.start()
    assert holding.wait(30)
    with pytest.raises(IndexBusyError, match="another machine's writer still holds it"):
        with writer_lock(tmp_path / "machine-b", wait_s=0.5, database=db, scope="chroma/help_center"):
            pass
    with writer_lock(tmp_path / "machine-b", wait_s=5, database=db, scope="chroma/other_collection"):
        pass  # another collection's writers are not held up
    release.set()
    first.join(30)
    with writer_lock(tmp_path / "machine-b", wait_s=5, database=db, scope="chroma/help_center"):
        pass
