"""`kb users` (staff accounts in the app database) and `kb db` (schema migrations): the admin side of the CLI."""

from __future__ import annotations

import argparse
import getpass
import json
import sys

from assistant.auth import ROLES
from assistant.config import Settings
from assistant.errors import ConfigError


def _out(text: str) -> None:
    sys.stdout.write(text + "\n")


def _read_password(name: str) -> str:
    """Prompted twice on a terminal; otherwise the first line of standard input (for scripts)."""
    if not sys.stdin.isatty():
        line = sys.stdin.readline()
        if not line.strip():
            raise ConfigError("Expected the password on standard input, got an empty line; pipe it in, e.g. "
                              "`printf '%s\\n' \"$PASSWORD\" | kb users add NAME --role staff`.")
        return line.rstrip("\r\n")
    first = getpass.getpass(f"Password for {name}: ")
    if getpass.getpass("Same password again: ") != first:
        raise ConfigError("Expected the same password twice, got two different ones; nothing was saved.")
    return first


def _users(settings: Settings):
    from assistant.db import Database
    from assistant.users import UserStore

    return UserStore(Database.from_settings(settings))


def cmd_users_add(args: argparse.Namespace, settings: Settings) -> int:
    from assistant.auth import parse_users

    user = _users(settings).add(args.name, args.role, _read_password(args.name))
    _out(f"Added {user.name} ({user.role}). They can sign in from the sidebar of the app now.")
    if user.name in parse_users(settings.users):
        sys.stderr.write(f"note: KB_USERS also has an entry for {user.name}; that entry is checked first.\n")
    return 0


def cmd_users_list(args: argparse.Namespace, settings: Settings) -> int:
    from assistant.auth import parse_users

    stored = _users(settings).list()
    from_env = sorted((u.name, u.role) for u in parse_users(settings.users).values())
    if args.json:
        rows = [{"name": n, "role": r, "created_at": c, "source": "database"} for n, r, c in stored]
        rows += [{"name": n, "role": r, "created_at": None, "source": "KB_USERS"} for n, r in from_env]
        _out(json.dumps(rows, ensure_ascii=False))
        return 0
    if not stored and not from_env:
        _out("No accounts yet. Add one with `kb users add NAME --role staff|writer|admin`.")
        return 0
    for name, role, created in stored:
        _out(f"{name}\t{role}\tadded {created[:16].replace('T', ' ')} UTC")
    for name, role in from_env:
        _out(f"{name}\t{role}\tfrom KB_USERS")
    return 0


def cmd_users_remove(args: argparse.Namespace, settings: Settings) -> int:
    _users(settings).remove(args.name)
    _out(f"Removed {args.name.strip()}. New sign-ins are refused; a session already signed in lasts until it ends.")
    return 0


def cmd_db_upgrade(args: argparse.Namespace, settings: Settings) -> int:
    from assistant.db import Database
    from assistant.migrations import head

    db = Database(settings.resolved_database_url, migrate=False)
    before, after = db.upgrade()
    state = "already at" if before == after else f"migrated from {before or 'empty'} to"
    _out(f"{db.describe()}: {state} revision {after} (newest shipped: {head()}).")
    return 0


def register(sub) -> None:
    users = sub.add_parser("users", help="staff and doc-writer accounts in the app database")
    commands = users.add_subparsers(dest="users_command", required=True)
    p = commands.add_parser("add", help="add an account (password prompted, or read from standard input)")
    p.add_argument("name")
    p.add_argument("--role", required=True, choices=ROLES)
    p.set_defaults(func=cmd_users_add)
    p = commands.add_parser("list", help="list accounts (never their password hashes)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_users_list)
    p = commands.add_parser("remove", help="delete an account")
    p.add_argument("name")
    p.set_defaults(func=cmd_users_remove)

    db = sub.add_parser("db", help="the app database (KB_DATABASE_URL)")
    commands = db.add_subparsers(dest="db_command", required=True)
    p = commands.add_parser("upgrade", help="apply the schema migrations (the app and kb also do it on start)")
    p.set_defaults(func=cmd_db_upgrade)
