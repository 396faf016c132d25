"""Sign-in throttling shared by every browser session and every app process: failures are counted
per user name and per client address in the application database, with exponential backoff, and
password hashing (PBKDF2, ~90 ms of CPU each) runs at most a few at a time.

A per-session counter was undone by reloading the page. Here an attempt is counted *before* the
password is checked (and cleared on success), so parallel attempts cannot slip past the limit, and
a locked name is refused without hashing anything. Names and addresses are stored as keyed hashes
(the key is a random value kept in the same database), never as typed: a password typed into the
user-name box must not end up in the database.

The tables (assistant/schema.py, migration 0005) are read and written with SQLAlchemy Core, so
SQLite and PostgreSQL share one code path; `SELECT ... FOR UPDATE` makes the count-then-decide
atomic on PostgreSQL as SQLite's BEGIN IMMEDIATE does.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import Connection, delete, select

from assistant.db import Database
from assistant.schema import sign_in_failures, sign_in_key

logger = logging.getLogger(__name__)

FREE_FAILURES = {"user": 5, "address": 20}   # failures before backoff starts (an office shares an address)
MAX_DELAY_S = 15 * 60.0
FORGET_AFTER_S = 24 * 3600.0                 # a counter untouched this long starts again from zero
CONCURRENT_HASHES = 2                        # the machine has two cores; the chat needs CPU too
HASH_WAIT_S = 5.0

_HASHING = threading.BoundedSemaphore(CONCURRENT_HASHES)  # per process: PBKDF2 holds a core each


@dataclass(frozen=True, slots=True)
class SignInResult:
    """The role on success; otherwise None, with how long to wait when refused without a check."""

    role: str | None
    wait_s: float = 0.0      # > 0: too many failures for this name or address; nothing was checked
    busy: bool = False       # too many sign-ins being checked at once; try again


class SignInThrottle:
    """Counts failures per user name and per client address across sessions and processes."""

    def __init__(self, db: Database, base_delay_s: float = 30.0, clock: Callable[[], float] = time.time) -> None:
        self.db = db
        self.base_delay_s = base_delay_s
        self._clock = clock
        self._key = self._load_key()

    def attempt(
        self, username: str, password: str, address: str | None, verify: Callable[[str, str], str | None]
    ) -> SignInResult:
        """Check `password` with `verify` unless this name or address must wait; count the outcome."""
        subjects = self._subjects(username, address)
        wait_s = self._reserve(subjects)
        if wait_s > 0:
            logger.info("sign-in refused for %.0f s more: too many failures (%s)", wait_s, ", ".join(subjects))
            return SignInResult(None, wait_s=wait_s)
        if not _HASHING.acquire(timeout=HASH_WAIT_S):
            logger.warning("sign-in refused: %d password checks already running", CONCURRENT_HASHES)
            return SignInResult(None, busy=True)
        try:
            role = verify(username, password)
        finally:
            _HASHING.release()
        if role:
            self._clear(subjects)
        return SignInResult(role)

    def wait_s(self, username: str, address: str | None = None) -> float:
        """Seconds before this name (or address) may try again; 0 when it may now."""
        now = self._clock()
        with self.db.read() as conn:
            rows = [self._row(conn, subject) for subject in self._subjects(username, address)]
        return max([0.0] + [row[1] - now for row in rows if row and now - row[2] < FORGET_AFTER_S])

    # ---- storage ----------------------------------------------------------------------------

    def _reserve(self, subjects: list[str]) -> float:
        """In one transaction: the wait if any subject is locked, else count this attempt as a failure
        (cleared again if the password is right) and lock whoever reached the backoff."""
        now = self._clock()
        with self.db.transaction() as conn:
            rows = {subject: self._row(conn, subject, lock=True) for subject in subjects}
            counts = {}
            for subject, row in rows.items():
                failures, locked_until, updated_at = row if row else (0, 0.0, now)
                if now - updated_at >= FORGET_AFTER_S:
                    failures, locked_until = 0, 0.0
                if locked_until > now:
                    return locked_until - now
                counts[subject] = failures
            for subject, failures in counts.items():
                failures += 1
                free = FREE_FAILURES[subject.split(":", 1)[0]]
                locked_until = now + self._delay(failures - free + 1) if failures >= free else 0.0
                row = self.db.insert(sign_in_failures).values(
                    subject=subject, failures=failures, locked_until=locked_until, updated_at=now
                )
                conn.execute(row.on_conflict_do_update(
                    index_elements=["subject"],
                    set_={"failures": failures, "locked_until": locked_until, "updated_at": now},
                ))
        return 0.0

    def _delay(self, over: int) -> float:
        """Backoff after the `over`-th failure past the free ones: base, 2x base, 4x base... up to MAX_DELAY_S."""
        return min(MAX_DELAY_S, self.base_delay_s * 2 ** min(over - 1, 30))

    def _clear(self, subjects: list[str]) -> None:
        with self.db.transaction() as conn:
            conn.execute(delete(sign_in_failures).where(sign_in_failures.c.subject.in_(subjects)))

    @staticmethod
    def _row(conn: Connection, subject: str, lock: bool = False) -> tuple[int, float, float] | None:
        c = sign_in_failures.c
        query = select(c.failures, c.locked_until, c.updated_at).where(c.subject == subject)
        row = conn.execute(query.with_for_update() if lock else query).first()
        return (int(row[0]), float(row[1]), float(row[2])) if row else None

    def _subjects(self, username: str, address: str | None) -> list[str]:
        subjects = [f"user:{self._tag((username or '').strip().casefold())}"]
        if address:
            subjects.append(f"address:{self._tag(address)}")
        return subjects

    def _tag(self, value: str) -> str:
        return hmac.new(self._key, value.encode("utf-8", "replace"), hashlib.sha256).hexdigest()[:32]

    def _load_key(self) -> bytes:
        with self.db.transaction() as conn:
            conn.execute(self.db.insert(sign_in_key).values(id=1, secret=secrets.token_hex(32))
                         .on_conflict_do_nothing(index_elements=["id"]))
            secret = conn.execute(select(sign_in_key.c.secret).where(sign_in_key.c.id == 1)).scalar_one()
        return bytes.fromhex(secret)
