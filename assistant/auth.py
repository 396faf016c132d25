"""Staff and doc-writer logins: PBKDF2 password hashes, roles, and page access.

Accounts come from `kb users add NAME --role ROLE` (stored in the app database, `assistant.users`)
or from `Settings.users` (env `KB_USERS`, comma-separated entries "user:role:salt$hash", where
salt and hash are hex and the hash is PBKDF2-HMAC-SHA256 over the UTF-8 password). Make one with

    python -m assistant.auth hash 'the password'                     # prints salt$hash
    python -m assistant.auth hash 'the password' --user ana --role staff   # prints the whole entry
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import logging
import secrets
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from assistant.config import Settings
from assistant.errors import ConfigError

logger = logging.getLogger(__name__)

ITERATIONS = 310_000          # OWASP's 2023 figure for PBKDF2-HMAC-SHA256
SALT_BYTES = 16
ROLES = ("staff", "writer", "admin")
# Which staff areas (pages) each role may open; the customer Help page needs no role.
AREAS_BY_ROLE: dict[str, frozenset[str]] = {
    "staff": frozenset({"workbench", "handoffs", "insights"}),
    "writer": frozenset({"content"}),
    "admin": frozenset({"workbench", "handoffs", "insights", "content"}),
}
# Compared against when the user is unknown, so a miss costs as much time as a wrong password.
_DUMMY_SALT = "00" * SALT_BYTES
# Keys the tag logged for unknown user names: repeated guesses can be told apart in one process's
# log, but the tag cannot be reversed (a password typed into the user-name box must not be logged).
_LOG_KEY = secrets.token_bytes(16)


@dataclass(frozen=True, slots=True)
class User:
    """One parsed `Settings.users` entry."""

    name: str
    role: str
    salt: str
    digest: str


def _derive(password: str, salt_hex: str) -> str:
    return hashlib.pbkdf2_hmac("sha256", password.encode("utf-8"), bytes.fromhex(salt_hex), ITERATIONS).hex()


def _is_hex(value: str) -> bool:
    try:
        return bool(bytes.fromhex(value))
    except ValueError:
        return False


def hash_password(password: str, salt: str | None = None) -> str:
    """"salt$hash" for `password` (a fresh random salt unless one is given, as hex)."""
    if not isinstance(password, str) or not password:
        raise ValueError("Expected a non-empty password, got an empty one.")
    salt_hex = salt if salt is not None else secrets.token_hex(SALT_BYTES)
    if not _is_hex(salt_hex):
        raise ValueError(f"Expected the salt as hex digits, got {salt_hex!r}.")
    return f"{salt_hex}${_derive(password, salt_hex)}"


def parse_user(entry: str) -> User:
    """Parse "user:role:salt$hash"; raises ConfigError naming what is wrong (never the hash itself)."""
    parts = entry.strip().split(":", 2)
    if len(parts) != 3 or not all(parts):
        raise ConfigError("Expected a KB_USERS entry like user:role:salt$hash, got one without three parts.")
    name, role, secret = (p.strip() for p in parts)
    if role not in ROLES:
        raise ConfigError(f"Expected the role of user {name!r} to be one of {', '.join(ROLES)}; got {role!r}.")
    salt, sep, digest = secret.partition("$")
    if not (sep and len(digest) == 64 and _is_hex(salt) and _is_hex(digest)):
        raise ConfigError(
            f"Expected user {name!r} to have a salt$hash made by `python -m assistant.auth hash`, got something else."
        )
    return User(name=name, role=role, salt=salt.lower(), digest=digest.lower())


def parse_users(entries: Iterable[str]) -> dict[str, User]:
    """Valid entries by user name; malformed ones are logged (without secrets) and skipped."""
    users: dict[str, User] = {}
    for position, entry in enumerate(entries, start=1):
        try:
            user = parse_user(entry)
        except ConfigError as exc:
            logger.warning("ignoring KB_USERS entry %d: %s", position, exc)
            continue
        users.setdefault(user.name, user)
    return users


def verify(
    username: str, password: str, settings: Settings, directory: Callable[[str], User | None] | None = None
) -> str | None:
    """The user's role if `password` is right, else None (unknown user, wrong password, bad entry).

    KB_USERS is looked at first, then `directory` (e.g. `UserStore.get`, the accounts in the database).
    """
    name = (username or "").strip()
    user = parse_users(settings.users).get(name)
    if user is None and directory is not None:
        try:
            user = directory(name)
        except Exception:  # a database outage is a failed sign-in, not a crash of the page
            logger.exception("could not look up user accounts in the database")
    salt = user.salt if user else _DUMMY_SALT
    expected = user.digest if user else "0" * 64
    # Always derive and compare, so timing does not tell an unknown user from a wrong password.
    actual = _derive(password or "", salt)
    matches = hmac.compare_digest(actual.encode("ascii"), expected.encode("ascii"))
    if user is None:
        logger.info("failed sign-in for an unknown user name, tag %s", unknown_user_tag(username))
        return None
    if not matches:
        logger.info("failed sign-in for %r", user.name)
        return None
    return user.role


def unknown_user_tag(username: str) -> str:
    """A short keyed hash of a typed user name, for logs: the same name gives the same tag per process."""
    return hmac.new(_LOG_KEY, (username or "").encode("utf-8", "replace"), "sha256").hexdigest()[:10]


def can_access(role: str | None, area: str) -> bool:
    """Whether `role` may open the staff area (page) named `area`."""
    return bool(role) and area in AREAS_BY_ROLE.get(str(role), frozenset())


def main(argv: list[str] | None = None) -> int:
    """`python -m assistant.auth hash PASSWORD [--user NAME --role ROLE]`."""
    parser = argparse.ArgumentParser(prog="python -m assistant.auth", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    make = commands.add_parser("hash", help="print a salt$hash (or a whole KB_USERS entry) for a password")
    make.add_argument("password")
    make.add_argument("--user", help="with --role: print the whole user:role:salt$hash entry")
    make.add_argument("--role", choices=ROLES)
    args = parser.parse_args(argv)
    if bool(args.user) != bool(args.role):
        parser.error("give both --user and --role, or neither")
    try:
        hashed = hash_password(args.password)
    except ValueError as exc:
        parser.error(str(exc))
    sys.stdout.write((f"{args.user}:{args.role}:{hashed}" if args.user else hashed) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
