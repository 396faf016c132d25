"""Staff and doc-writer accounts kept in the application database (`kb users add|list|remove`).

Passwords are stored as PBKDF2 salt$hash, made by `assistant.auth.hash_password`, never in clear.
KB_USERS entries stay an alternative: `assistant.auth.verify` looks there first, then here.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError

from assistant.auth import ROLES, User, hash_password, parse_user
from assistant.db import Database, to_db_time, utc_now
from assistant.errors import ConfigError, KBError
from assistant.schema import users

logger = logging.getLogger(__name__)

MAX_NAME_CHARS = 64


class UserExistsError(KBError):
    """`kb users add` for a name that already has an account."""


class UserNotFoundError(KBError):
    """`kb users remove` for a name that has no account."""


class UserStore:
    """Accounts in the app database, looked up by `assistant.auth.verify` at sign-in."""

    def __init__(self, db: Database, clock: Callable[[], datetime] = utc_now) -> None:
        self.db = db
        self._clock = clock

    def add(self, name: str, role: str, password: str) -> User:
        """Create an account; refuses a taken name (remove it first to change the password or role)."""
        name = _valid_name(name)
        if role not in ROLES:
            raise ConfigError(f"Expected a role in {', '.join(ROLES)}; got {role!r}.")
        try:
            hashed = hash_password(password)
        except ValueError as exc:
            raise ConfigError(f"{exc} Type the password again.") from None
        try:
            with self.db.transaction() as conn:
                conn.execute(users.insert().values(
                    name=name, role=role, password_hash=hashed, created_at=to_db_time(self._clock())
                ))
        except IntegrityError:
            raise UserExistsError(
                f"Expected a new user name, got {name!r}, which already has an account; "
                f"run `kb users remove {name}` first to replace it."
            ) from None
        logger.info("user %s added as %s", name, role)
        return parse_user(f"{name}:{role}:{hashed}")

    def get(self, name: str) -> User | None:
        with self.db.read() as conn:
            row = conn.execute(select(users).where(users.c.name == (name or "").strip())).first()
        return parse_user(f"{row.name}:{row.role}:{row.password_hash}") if row else None

    def list(self) -> list[tuple[str, str, str]]:
        """(name, role, created_at) of every account, by name; never the hashes."""
        with self.db.read() as conn:
            rows = conn.execute(select(users.c.name, users.c.role, users.c.created_at).order_by(users.c.name))
            return [(r.name, r.role, r.created_at) for r in rows]

    def remove(self, name: str) -> None:
        with self.db.transaction() as conn:
            gone = conn.execute(delete(users).where(users.c.name == (name or "").strip())).rowcount
        if not gone:
            raise UserNotFoundError(f"Expected an existing user name, got {name!r}; see `kb users list`.")
        logger.info("user %s removed", name)


def _valid_name(name: str) -> str:
    name = (name or "").strip()
    if not name or len(name) > MAX_NAME_CHARS or ":" in name or "," in name or not name.isprintable():
        raise ConfigError(
            f"Expected a user name of 1-{MAX_NAME_CHARS} printable characters without ':' or ',', got {name[:80]!r}."
        )
    return name
