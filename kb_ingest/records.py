"""Bookkeeping beside the vector store, in the application database (SQLite or PostgreSQL).

LangChain's `SQLRecordManager` remembers which chunk ids each source produced (for incremental
cleanup) and `FileTable` which files are indexed with their content hash. Both live in the app
database, so with a shared PostgreSQL every machine can run `kb ingest` against the shared index.
Earlier versions kept them in <KB_DATA_DIR>/index_records.sqlite: `import_legacy_records` copies
such a file in once.
"""

from __future__ import annotations

import logging
import sqlite3
import uuid
from dataclasses import astuple, dataclass, fields
from pathlib import Path

from langchain_classic.indexes import SQLRecordManager
from sqlalchemy import delete, func, select

from assistant.db import Database
from assistant.schema import index_failures, indexed_files, upsertion_record

logger = logging.getLogger(__name__)


def make_record_manager(db: Database, namespace: str) -> SQLRecordManager:
    """LangChain's record manager on the app database's engine (the table comes from our migrations)."""
    return SQLRecordManager(namespace, engine=db.engine)


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


_COLUMNS = [indexed_files.c[f.name] for f in fields(IndexedFile)]


class FileTable:
    """Which files are indexed, with their content hash (to skip unchanged files without embedding)."""

    def __init__(self, namespace: str, db: Database) -> None:
        self.namespace = namespace
        self.db = db

    def get(self, root: str, source: str) -> IndexedFile | None:
        with self.db.read() as conn:
            row = conn.execute(select(*_COLUMNS).where(*self._key(root, source))).first()
        return IndexedFile(*row) if row else None

    def all(self, root: str | None = None) -> list[IndexedFile]:
        query = select(*_COLUMNS).where(indexed_files.c.namespace == self.namespace).order_by(indexed_files.c.source)
        if root is not None:
            query = query.where(indexed_files.c.root == root)
        with self.db.read() as conn:
            return [IndexedFile(*row) for row in conn.execute(query)]

    def put(self, entry: IndexedFile) -> None:
        values = {"namespace": self.namespace, **dict(zip([c.name for c in _COLUMNS], astuple(entry), strict=True))}
        row = self.db.insert(indexed_files).values(**values)
        with self.db.transaction() as conn:
            conn.execute(row.on_conflict_do_update(
                index_elements=["namespace", "root", "source"],
                set_={name: row.excluded[name] for name in values if name not in ("namespace", "root", "source")},
            ))

    def delete(self, root: str, source: str) -> None:
        with self.db.transaction() as conn:
            conn.execute(delete(indexed_files).where(*self._key(root, source)))

    def clear(self) -> None:
        with self.db.transaction() as conn:
            conn.execute(delete(indexed_files).where(indexed_files.c.namespace == self.namespace))

    def _key(self, root: str, source: str) -> tuple:
        c = indexed_files.c
        return c.namespace == self.namespace, c.root == root, c.source == source


def import_legacy_records(db: Database, path: Path) -> int:
    """Copy an index_records.sqlite of an earlier version into the app database, once; returns rows copied.

    Rows already present are kept. The file is renamed to *.imported afterwards, so this runs once.
    """
    if not path.is_file():
        return 0
    with sqlite3.connect(path) as legacy:
        tables = {row[0] for row in legacy.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        records = legacy.execute("SELECT namespace, key, group_id, updated_at FROM records").fetchall() \
            if "records" in tables else []
        files = legacy.execute(
            "SELECT namespace, root, source, sha256, size, mtime, chunks, language, title, kind, indexed_at FROM files"
        ).fetchall() if "files" in tables else []
    copied = 0
    with db.transaction() as conn:
        for namespace, key, group_id, updated_at in records:
            copied += conn.execute(db.insert(upsertion_record).values(
                uuid=str(uuid.uuid4()), namespace=namespace, key=key, group_id=group_id, updated_at=updated_at,
            ).on_conflict_do_nothing(index_elements=["key", "namespace"])).rowcount
        names = ["namespace"] + [c.name for c in _COLUMNS]
        for row in files:
            copied += conn.execute(db.insert(indexed_files).values(**dict(zip(names, row, strict=True)))
                                   .on_conflict_do_nothing(index_elements=["namespace", "root", "source"])).rowcount
    try:
        path.rename(path.with_name(path.name + ".imported"))
    except FileNotFoundError:  # another process imported it at the same time (rows are kept once)
        return 0
    logger.warning("imported %d index records from %s into %s", copied, path, db.describe())
    return copied


def clear_records(db: Database, namespace: str) -> None:
    """Forget every chunk record of a namespace (`kb ingest --reset`); SQLRecordManager has no clear()."""
    with db.transaction() as conn:
        conn.execute(delete(upsertion_record).where(upsertion_record.c.namespace == namespace))


def record_count(db: Database, namespace: str) -> int:
    """How many chunk records a namespace holds (for reports and tests)."""
    with db.read() as conn:
        found = conn.execute(select(func.count()).select_from(upsertion_record)
                             .where(upsertion_record.c.namespace == namespace))
        return int(found.scalar() or 0)


@dataclass(frozen=True, slots=True)
class FailedFile:
    """A file that could not be indexed, as last tried: its content hash, why, and since when."""

    root: str
    source: str
    sha256: str
    reason: str
    failed_at: float


_FAILED_COLUMNS = [index_failures.c[f.name] for f in fields(FailedFile)]


class FailureTable:
    """Files that failed to load, so an unchanged one is reported as "still failing" rather than as news."""

    def __init__(self, namespace: str, db: Database) -> None:
        self.namespace = namespace
        self.db = db

    def all(self, root: str | None = None) -> list[FailedFile]:
        query = select(*_FAILED_COLUMNS).where(index_failures.c.namespace == self.namespace)
        if root is not None:
            query = query.where(index_failures.c.root == root)
        with self.db.read() as conn:
            return [FailedFile(*row) for row in conn.execute(query.order_by(index_failures.c.source))]

    def put(self, entry: FailedFile) -> None:
        names = [c.name for c in _FAILED_COLUMNS]
        values = {"namespace": self.namespace, **dict(zip(names, astuple(entry), strict=True))}
        row = self.db.insert(index_failures).values(**values)
        with self.db.transaction() as conn:
            conn.execute(row.on_conflict_do_update(
                index_elements=["namespace", "root", "source"],
                set_={name: row.excluded[name] for name in ("sha256", "reason", "failed_at")},
            ))

    def delete(self, root: str, source: str) -> None:
        c = index_failures.c
        where = (c.namespace == self.namespace, c.root == root, c.source == source)
        with self.db.transaction() as conn:
            conn.execute(delete(index_failures).where(*where))

    def clear(self) -> None:
        with self.db.transaction() as conn:
            conn.execute(delete(index_failures).where(index_failures.c.namespace == self.namespace))


def group_counts(db: Database, namespace: str) -> dict[str, int]:
    """How many chunk records each source group of a namespace holds (what was written to the index)."""
    r = upsertion_record.c
    query = (select(r.group_id, func.count()).where(r.namespace == namespace, r.group_id.is_not(None))
             .group_by(r.group_id))
    with db.read() as conn:
        return {str(group): int(count) for group, count in conn.execute(query)}
