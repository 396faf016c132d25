"""Bookkeeping beside the vector store: LangChain's RecordManager on SQLite, and the indexed-files table."""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from langchain_core.indexing import RecordManager

_SCHEMA = """
CREATE TABLE IF NOT EXISTS records (
    namespace TEXT NOT NULL,
    key TEXT NOT NULL,
    group_id TEXT,
    updated_at REAL NOT NULL,
    PRIMARY KEY (namespace, key)
);
CREATE INDEX IF NOT EXISTS records_group ON records (namespace, group_id);
CREATE INDEX IF NOT EXISTS records_updated ON records (namespace, updated_at);
CREATE TABLE IF NOT EXISTS files (
    namespace TEXT NOT NULL,
    root TEXT NOT NULL,
    source TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    size INTEGER NOT NULL,
    mtime REAL NOT NULL,
    chunks INTEGER NOT NULL,
    language TEXT NOT NULL,
    title TEXT NOT NULL,
    kind TEXT NOT NULL,
    indexed_at REAL NOT NULL,
    PRIMARY KEY (namespace, root, source)
);
"""


def _connect(path: Path) -> sqlite3.Connection:
    path.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(path, check_same_thread=False, timeout=30)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.executescript(_SCHEMA)
    return conn


class SQLiteRecordManager(RecordManager):
    """LangChain's indexing-API record manager, kept in a local SQLite file."""

    def __init__(self, namespace: str, path: Path) -> None:
        super().__init__(namespace)
        self._conn = _connect(path)
        self._lock = threading.Lock()

    def create_schema(self) -> None:
        with self._lock:
            self._conn.executescript(_SCHEMA)

    async def acreate_schema(self) -> None:
        self.create_schema()

    def get_time(self) -> float:
        return time.time()

    async def aget_time(self) -> float:
        return self.get_time()

    def update(
        self,
        keys: Sequence[str],
        *,
        group_ids: Sequence[str | None] | None = None,
        time_at_least: float | None = None,
    ) -> None:
        if group_ids is None:
            group_ids = [None] * len(keys)
        if len(keys) != len(group_ids):
            raise ValueError(f"Expected as many group ids as keys, got {len(group_ids)} for {len(keys)}.")
        now = self.get_time()
        if time_at_least and now < time_at_least:
            raise ValueError(f"Clock went backwards: {now} < {time_at_least}.")
        rows = [(self.namespace, k, g, now) for k, g in zip(keys, group_ids, strict=False)]
        with self._lock, self._conn:
            self._conn.executemany(
                "INSERT INTO records (namespace, key, group_id, updated_at) VALUES (?, ?, ?, ?) "
                "ON CONFLICT(namespace, key) DO UPDATE SET group_id=excluded.group_id, "
                "updated_at=excluded.updated_at",
                rows,
            )

    async def aupdate(self, keys, *, group_ids=None, time_at_least=None) -> None:
        self.update(keys, group_ids=group_ids, time_at_least=time_at_least)

    def exists(self, keys: Sequence[str]) -> list[bool]:
        found: set[str] = set()
        with self._lock:
            for start in range(0, len(keys), 500):
                part = list(keys[start : start + 500])
                marks = ",".join("?" * len(part))
                cur = self._conn.execute(
                    f"SELECT key FROM records WHERE namespace=? AND key IN ({marks})", [self.namespace, *part]
                )
                found.update(row[0] for row in cur)
        return [k in found for k in keys]

    async def aexists(self, keys: Sequence[str]) -> list[bool]:
        return self.exists(keys)

    def list_keys(
        self,
        *,
        before: float | None = None,
        after: float | None = None,
        group_ids: Sequence[str] | None = None,
        limit: int | None = None,
    ) -> list[str]:
        sql = "SELECT key FROM records WHERE namespace=?"
        args: list[object] = [self.namespace]
        if before is not None:
            sql += " AND updated_at < ?"
            args.append(before)
        if after is not None:
            sql += " AND updated_at > ?"
            args.append(after)
        if group_ids is not None:
            sql += f" AND group_id IN ({','.join('?' * len(group_ids))})"
            args.extend(group_ids)
        if limit:
            sql += " LIMIT ?"
            args.append(limit)
        with self._lock:
            return [row[0] for row in self._conn.execute(sql, args)]

    async def alist_keys(self, *, before=None, after=None, group_ids=None, limit=None) -> list[str]:
        return self.list_keys(before=before, after=after, group_ids=group_ids, limit=limit)

    def delete_keys(self, keys: Sequence[str]) -> None:
        with self._lock, self._conn:
            self._conn.executemany(
                "DELETE FROM records WHERE namespace=? AND key=?", [(self.namespace, k) for k in keys]
            )

    async def adelete_keys(self, keys: Sequence[str]) -> None:
        self.delete_keys(keys)

    def clear(self) -> None:
        with self._lock, self._conn:
            self._conn.execute("DELETE FROM records WHERE namespace=?", (self.namespace,))


@dataclass(frozen=True, slots=True)
class IndexedFile:
    """What the index knows about one source file."""

    root: str
    source: str
    sha256: str
    size: int
    mtime: float
    chunks: int
    language: str
    title: str
    kind: str
    indexed_at: float


class FileTable:
    """Which files are indexed, with their content hash (to skip unchanged files without embedding)."""

    def __init__(self, namespace: str, path: Path) -> None:
        self.namespace = namespace
        self._conn = _connect(path)
        self._lock = threading.Lock()

    def get(self, root: str, source: str) -> IndexedFile | None:
        with self._lock:
            row = self._conn.execute(
                "SELECT root, source, sha256, size, mtime, chunks, language, title, kind, indexed_at "
                "FROM files WHERE namespace=? AND root=? AND source=?",
                (self.namespace, root, source),
            ).fetchone()
        return IndexedFile(*row) if row else None

    def all(self, root: str | None = None) -> list[IndexedFile]:
        sql = (
            "SELECT root, source, sha256, size, mtime, chunks, language, title, kind, indexed_at "
            "FROM files WHERE namespace=?"
        )
        args: list[object] = [self.namespace]
        if root is not None:
            sql += " AND root=?"
            args.append(root)
        with self._lock:
            return [IndexedFile(*row) for row in self._conn.execute(sql + " ORDER BY source", args)]

    def put(self, entry: IndexedFile) -> None:
        with self._lock, self._conn:
            self._conn.execute(
                "INSERT OR REPLACE INTO files (namespace, root, source, sha256, size, mtime, chunks, "
                "language, title, kind, indexed_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    self.namespace, entry.root, entry.source, entry.sha256, entry.size, entry.mtime,
                    entry.chunks, entry.language, entry.title, entry.kind, entry.indexed_at,
                ),
            )

    def delete(self, root: str, source: str) -> None:
        with self._lock, self._conn:
            self._conn.execute(
                "DELETE FROM files WHERE namespace=? AND root=? AND source=?", (self.namespace, root, source)
            )

    def clear(self) -> None:
        with self._lock, self._conn:
            self._conn.execute("DELETE FROM files WHERE namespace=?", (self.namespace,))
