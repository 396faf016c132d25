"""Versioned schema migrations (Alembic), shipped with the package and run at start-up.

`upgrade(engine)` brings a database to the newest revision; `Database(url)` calls it, and so does
`kb db upgrade`. Two processes starting at once are serialised: PostgreSQL by an advisory lock
held for the migration's transaction, SQLite by BEGIN IMMEDIATE. Add a change as a new file in
versions/ (`down_revision` = the current head); never edit one that has shipped.
"""

from __future__ import annotations

import logging
from functools import cache
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, text

logger = logging.getLogger(__name__)

HERE = Path(__file__).resolve().parent
_LOCK_KEY = 0x6B62_6462  # pg_advisory_xact_lock key for migrations ("kbdb")


def alembic_config(connection: Connection | None = None) -> Config:
    """Alembic's configuration for the shipped scripts, on `connection` (env.py runs on it)."""
    config = Config()
    config.set_main_option("script_location", str(HERE))
    config.attributes["connection"] = connection
    return config


@cache
def head() -> str:
    """The newest revision shipped with this version of the product."""
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def current(engine: Engine) -> str | None:
    """The revision the database is at (None for an empty database)."""
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def upgrade(engine: Engine, target: str = "head") -> str | None:
    """Migrate to `target` (default: the newest revision); returns the revision reached."""
    if target == "head" and current(engine) == head():
        return head()  # the common case: one cheap query, no lock
    with engine.connect() as conn:
        conn.execution_options(kb_begin_immediate=True)  # SQLite: BEGIN IMMEDIATE (see assistant.db)
        with conn.begin():
            if conn.dialect.name == "postgresql":
                conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _LOCK_KEY})
            before = MigrationContext.configure(conn).get_current_revision()
            command.upgrade(alembic_config(conn), target)
            after = MigrationContext.configure(conn).get_current_revision()
    if after != before:
        logger.info("database migrated from %s to %s", before or "empty", after)
    return after
