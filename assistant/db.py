"""The application database: SQLite (embedded default) or PostgreSQL behind one SQLAlchemy engine.

`Database(url)` opens the engine and brings the schema to the latest Alembic revision
(`assistant/migrations`). Stores write through `transaction()` and read through `read()`, with
SQLAlchemy Core statements, so one code path serves both databases:

- SQLite: WAL and a busy timeout let other processes (the `kb` CLI, a second app server) use the
  same file at once; `transaction()` starts with BEGIN IMMEDIATE, so a read-then-write is atomic
  across threads and processes.
- PostgreSQL (psycopg 3): row locks where a read-then-write needs them (`SELECT ... FOR UPDATE`,
  `SKIP LOCKED` for the webhook outbox), which SQLite ignores and does not need.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import Connection, Engine, Table, create_engine, event
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, OperationalError
from sqlalchemy.pool import StaticPool

from assistant.config import Settings
from assistant.errors import ConfigError, KBError

logger = logging.getLogger(__name__)

BUSY_TIMEOUT_MS = 5000
CONNECT_TIMEOUT_S = 5
_IMMEDIATE = "kb_begin_immediate"
_POSTGRES_DRIVERS = ("postgresql", "postgres", "postgresql+psycopg")
_URL_ADVICE = (
    "use sqlite:///data/app.sqlite (relative), sqlite:////var/lib/helpdesk/app.sqlite (absolute) or "
    "postgresql://user:password@host:5432/dbname, or leave it empty for <KB_DATA_DIR>/app.sqlite."
)


class DatabaseUnavailableError(KBError):
    """The configured database cannot be reached or refused the connection."""


def database_url(url: str) -> URL:
    """KB_DATABASE_URL parsed, with the driver the product ships for PostgreSQL (psycopg 3)."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise ConfigError(
            f"Expected KB_DATABASE_URL to be a database URL, got {_hidden(url)!r}; {_URL_ADVICE}"
        ) from None
    if parsed.drivername in _POSTGRES_DRIVERS and parsed.database:
        return parsed.set(drivername="postgresql+psycopg")
    if parsed.drivername == "sqlite" and parsed.database:
        return parsed
    shown = parsed.render_as_string(hide_password=True)
    raise ConfigError(
        f"Expected KB_DATABASE_URL to be sqlite:///path or postgresql://…/dbname, got {shown!r}; {_URL_ADVICE}"
    )


def _hidden(url: str) -> str:
    """The URL without anything between "://" and "@" (it may hold a password)."""
    scheme, sep, rest = url.partition("://")
    return f"{scheme}://***@{rest.rpartition('@')[2]}" if sep and "@" in rest else url


class Database:
    """One engine (a small connection pool) shared by the threads of a process."""

    def __init__(self, url: str, *, migrate: bool = True) -> None:
        self.url = database_url(url)
        self.dialect = self.url.get_backend_name()
        self.engine = _make_engine(self.url)
        if migrate:
            try:
                self.upgrade()
            except DatabaseUnavailableError:
                self.engine.dispose()
                raise

    def upgrade(self) -> tuple[str | None, str | None]:
        """Apply the migrations this version ships; returns the revisions (before, after)."""
        from assistant.migrations import current, upgrade

        try:
            before = current(self.engine)
            return before, upgrade(self.engine)
        except OperationalError as exc:
            raise self._unavailable(exc) from exc

    def _unavailable(self, exc: OperationalError) -> DatabaseUnavailableError:
        return DatabaseUnavailableError(
            f"Expected to reach the database at {self.describe()}, but it refused or did not answer "
            f"({type(exc.orig).__name__}); check KB_DATABASE_URL and that the server is running."
        )

    @classmethod
    def from_settings(cls, settings: Settings) -> Database:
        return cls(settings.resolved_database_url)

    def describe(self) -> str:
        """Where the data lives, safe to log and show (no password)."""
        return self.url.render_as_string(hide_password=True)

    @contextmanager
    def transaction(self) -> Iterator[Connection]:
        """A write transaction, committed on success and rolled back on any error.

        On SQLite it begins IMMEDIATE (takes the write lock up front); on PostgreSQL, lock the rows
        a decision depends on with `.with_for_update()`.
        """
        try:
            with self.engine.connect() as conn:
                conn.execution_options(**{_IMMEDIATE: True})
                with conn.begin():
                    yield conn
        except OperationalError as exc:  # server gone, network, SQLite still locked after the busy timeout
            raise self._unavailable(exc) from exc

    @contextmanager
    def read(self) -> Iterator[Connection]:
        """A connection for queries that only read (one consistent snapshot on both databases)."""
        try:
            with self.engine.connect() as conn, conn.begin():
                yield conn
        except OperationalError as exc:
            raise self._unavailable(exc) from exc

    def insert(self, table: Table):
        """An INSERT for `table` that supports ON CONFLICT (both dialects spell it the same way)."""
        return (postgresql if self.dialect == "postgresql" else sqlite).insert(table)

    def close(self) -> None:
        self.engine.dispose()


def _make_engine(url: URL) -> Engine:
    if url.get_backend_name() == "postgresql":
        return create_engine(
            url, pool_pre_ping=True, pool_size=5, max_overflow=10,
            connect_args={"connect_timeout": CONNECT_TIMEOUT_S, "application_name": "helpdesk-assistant"},
        )
    memory = url.database == ":memory:"
    if not memory:
        Path(url.database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(
        url,
        connect_args={"check_same_thread": False, "timeout": BUSY_TIMEOUT_MS / 1000},
        **({"poolclass": StaticPool} if memory else {"pool_size": 5, "max_overflow": 20}),
    )
    event.listen(engine, "connect", _sqlite_on_connect)
    event.listen(engine, "begin", _sqlite_on_begin)
    return engine


def _sqlite_on_connect(dbapi_connection, _record) -> None:
    # isolation_level=None: pysqlite issues no BEGIN of its own; _sqlite_on_begin does (SQLAlchemy's recipe).
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA journal_mode = WAL")
    cursor.execute("PRAGMA foreign_keys = ON")
    cursor.close()


def _sqlite_on_begin(conn: Connection) -> None:
    conn.exec_driver_sql("BEGIN IMMEDIATE" if conn.get_execution_options().get(_IMMEDIATE) else "BEGIN")


def utc_now() -> datetime:
    return datetime.now(UTC)


def to_db_time(moment: datetime) -> str:
    """UTC ISO-8601 with microseconds: sorts as text in time order."""
    if moment.tzinfo is None:
        raise ValueError(f"Expected a timezone-aware datetime, got {moment!r}")
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


def from_db_time(text: str) -> datetime:
    return datetime.fromisoformat(text)
