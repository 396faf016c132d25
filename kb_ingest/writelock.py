"""One writer at a time per data dir: an OS file lock (flock) on <KB_DATA_DIR>/index.lock.

`kb ingest`, and the Content page's upload, reindex and removal, all write the same Chroma
collection and record-manager database. Two at once would embed the same files twice and race on
the bookkeeping, so each holds this lock for its whole write. The lock is advisory, released by
the OS when its holder dies (kill -9 included), and re-entrant within a process (the CLI holds it
around a reset and the ingest that follows). Readers (the chat) never take it.

Replicas and operator machines do not share a data dir: with PostgreSQL as the app database, the
holder also takes a PostgreSQL advisory lock (on a connection of its own, so it goes with the
process too), and writers on every machine take turns.
"""

from __future__ import annotations

import fcntl
import logging
import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import Connection, text

from assistant.db import Database
from assistant.errors import IndexBusyError

logger = logging.getLogger(__name__)

LOCK_NAME = "index.lock"
WAIT_S = 1800.0   # a big PDF takes minutes to embed; beyond this the other writer is probably stuck
_POLL_S = 0.1


@dataclass(slots=True)
class _ProcessHold:
    """This process's hold on one lock file: threads queue on `turn`; the file is locked once."""

    turn: threading.RLock = field(default_factory=threading.RLock)
    depth: int = 0
    fd: int | None = None
    database: Connection | None = None  # holds the PostgreSQL advisory lock


_holds: dict[str, _ProcessHold] = {}
_holds_lock = threading.Lock()


@contextmanager
def writer_lock(
    data_dir: Path, wait_s: float = WAIT_S, database: Database | None = None, scope: str = "index"
) -> Iterator[None]:
    """Hold the data dir's write lock (waiting up to `wait_s` for another writer to finish), and on a
    PostgreSQL `database` the lock named `scope` there too."""
    path = Path(data_dir) / LOCK_NAME
    path.parent.mkdir(parents=True, exist_ok=True)
    with _holds_lock:
        hold = _holds.setdefault(str(path.resolve()), _ProcessHold())
    if not hold.turn.acquire(timeout=wait_s):
        raise _busy(path, wait_s)
    try:
        if hold.depth == 0:
            hold.fd = _lock_file(path, wait_s)
            if database is not None and database.dialect == "postgresql":
                try:
                    hold.database = _lock_database(database, scope, wait_s)
                except BaseException:
                    os.close(hold.fd)
                    hold.fd = None
                    raise
        hold.depth += 1
        try:
            yield
        finally:
            hold.depth -= 1
            if hold.depth == 0 and hold.database is not None:
                _unlock_database(hold.database, scope)
                hold.database = None
            if hold.depth == 0 and hold.fd is not None:
                os.close(hold.fd)  # closing releases the flock
                hold.fd = None
    finally:
        hold.turn.release()


def _lock_file(path: Path, wait_s: float) -> int:
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    started = time.monotonic()
    waiting = False
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            break
        except BlockingIOError:
            if not waiting:
                logger.warning("waiting for another writer of the index (pid %s) to finish", _holder(path))
                waiting = True
            if time.monotonic() - started > wait_s:
                os.close(fd)
                raise _busy(path, wait_s) from None
            time.sleep(_POLL_S)
    os.ftruncate(fd, 0)
    os.pwrite(fd, str(os.getpid()).encode("ascii"), 0)  # for the "waiting for pid N" message only
    if waiting:
        logger.info("got the index lock after %.1fs", time.monotonic() - started)
    return fd


def _lock_database(database: Database, scope: str, wait_s: float) -> Connection:
    """A session advisory lock on a connection kept open until `_unlock_database` (or the process dies)."""
    conn = database.engine.connect()
    started, waiting = time.monotonic(), False
    try:
        while not conn.execute(text("SELECT pg_try_advisory_lock(hashtext(:scope))"), {"scope": scope}).scalar():
            conn.commit()  # never sit "idle in transaction" while waiting
            if not waiting:
                logger.warning("waiting for another machine's writer of the index to finish (%s)", database.describe())
                waiting = True
            if time.monotonic() - started > wait_s:
                raise IndexBusyError(
                    f"Expected to get the index write lock within {wait_s:.0f}s, but another machine's writer "
                    "still holds it in the database; wait for that ingest to finish and try again."
                )
            time.sleep(_POLL_S * 5)
        conn.commit()
    except BaseException:
        conn.close()
        raise
    return conn


def _unlock_database(conn: Connection, scope: str) -> None:
    try:
        conn.execute(text("SELECT pg_advisory_unlock(hashtext(:scope))"), {"scope": scope})
        conn.commit()
    finally:
        conn.close()  # the lock goes with the session in any case


def _holder(path: Path) -> str:
    try:
        return path.read_text(encoding="ascii").strip() or "?"
    except (OSError, UnicodeDecodeError):
        return "?"


def _busy(path: Path, wait_s: float) -> IndexBusyError:
    return IndexBusyError(
        f"Expected to get the index write lock within {wait_s:.0f}s, but another writer (pid {_holder(path)}) "
        f"still holds {path}; wait for that ingest to finish and try again."
    )
