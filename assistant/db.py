"""The application database: open SQLite from `settings.resolved_database_url`, migrate, transact."""

from __future__ import annotations

import logging
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from assistant.config import Settings
from assistant.errors import ConfigError

logger = logging.getLogger(__name__)

SQLITE_PREFIX = "sqlite:///"
BUSY_TIMEOUT_MS = 5000


def sqlite_path(url: str) -> str:
    """The file path in "sqlite:///relative/path" or "sqlite:////absolute/path" (or ":memory:")."""
    if not url.startswith(SQLITE_PREFIX) or not url[len(SQLITE_PREFIX) :]:
        raise ConfigError(
            f"Expected KB_DATABASE_URL to be sqlite:///path, got {url!r}; "
            "use e.g. sqlite:///data/app.sqlite (relative) or sqlite:////var/lib/helpdesk/app.sqlite "
            "(absolute), or leave it empty for <KB_DATA_DIR>/app.sqlite."
        )
    return url[len(SQLITE_PREFIX) :]


class Database:
    """One SQLite connection shared by the threads of a process, serialised by a lock.

    Streamlit serves each session on its own thread, so the connection is opened with
    `check_same_thread=False` and every use goes through `transaction()` or `read()`, which hold
    the lock. WAL mode and a busy timeout let other processes (the `kb` CLI, a second app
    server) use the same file at the same time.
    """

    def __init__(self, url: str) -> None:
        self.url = url
        self.path = sqlite_path(url)
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.RLock()
        # isolation_level=None: we issue BEGIN ourselves, so transactions are explicit.
        self._conn = sqlite3.connect(
            self.path, check_same_thread=False, isolation_level=None, timeout=BUSY_TIMEOUT_MS / 1000
        )
        self._conn.row_factory = sqlite3.Row
        self._conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        self._conn.execute("PRAGMA journal_mode = WAL")
        self._conn.execute("PRAGMA foreign_keys = ON")
        self._conn.execute(
            "CREATE TABLE IF NOT EXISTS schema_versions (component TEXT PRIMARY KEY, version INTEGER NOT NULL)"
        )

    @classmethod
    def from_settings(cls, settings: Settings) -> Database:
        return cls(settings.resolved_database_url)

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """A write transaction: BEGIN IMMEDIATE takes SQLite's write lock up front, so a
        read-then-write (e.g. "is there an open ticket? if not, insert one") is atomic across
        threads and processes."""
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                yield self._conn
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            self._conn.execute("COMMIT")

    @contextmanager
    def read(self) -> Iterator[sqlite3.Connection]:
        """The connection for queries that only read."""
        with self._lock:
            yield self._conn

    def migrate(self, component: str, steps: Sequence[str]) -> int:
        """Apply the SQL scripts in `steps` that `component` has not applied yet; return its version.

        Step n (1-based) is applied once; append new steps (e.g. ALTER TABLE), never edit old ones.
        """
        with self.transaction() as conn:
            row = conn.execute(
                "SELECT version FROM schema_versions WHERE component = ?", (component,)
            ).fetchone()
            current = row["version"] if row else 0
            for number, script in enumerate(steps[current:], start=current + 1):
                for statement in _statements(script):
                    conn.execute(statement)
                logger.info("migrated %s to schema version %d", component, number)
            conn.execute(
                "INSERT INTO schema_versions (component, version) VALUES (?, ?) "
                "ON CONFLICT(component) DO UPDATE SET version = excluded.version",
                (component, max(current, len(steps))),
            )
        return max(current, len(steps))

    def close(self) -> None:
        with self._lock:
            self._conn.close()


def _statements(script: str) -> list[str]:
    # executescript() would COMMIT our transaction; split on ";" instead (no ";" inside our DDL).
    return [part.strip() for part in script.split(";") if part.strip()]


def utc_now() -> datetime:
    return datetime.now(UTC)


def to_db_time(moment: datetime) -> str:
    """UTC ISO-8601 with microseconds: sorts as text in time order."""
    if moment.tzinfo is None:
        raise ValueError(f"Expected a timezone-aware datetime, got {moment!r}")
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


def from_db_time(text: str) -> datetime:
    return datetime.fromisoformat(text)
