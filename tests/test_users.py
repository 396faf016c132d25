"""Staff accounts in the app database (`kb users`), on SQLite and PostgreSQL, beside KB_USERS."""

from __future__ import annotations

import io
import json

import pytest

from assistant.auth import hash_password, verify
from assistant.db import Database
from assistant.errors import ConfigError
from assistant.users import UserExistsError, UserNotFoundError, UserStore
from kb_ingest.cli import main
from tests.helpers import raw_rows


@pytest.fixture
def settings(db_settings):
    """Every test here runs twice: on SQLite and on a real PostgreSQL server."""
    return db_settings


@pytest.fixture
def users(settings) -> UserStore:
    return UserStore(Database.from_settings(settings))


@pytest.fixture
def cli_env(settings, monkeypatch):
    monkeypatch.setenv("KB_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("KB_DATABASE_URL", settings.resolved_database_url)
    monkeypatch.delenv("KB_USERS", raising=False)
    monkeypatch.chdir(settings.corpus_dir)  # no stray .env from the work tree

    def run(*argv: str, stdin: str = "") -> int:
        monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
        return main(list(argv))

    return run


def test_added_user_signs_in_with_the_role_and_only_the_hash_is_stored(users, settings):
    users.add("amina", "staff", "correct horse battery")
    assert verify("amina", "correct horse battery", settings, users.get) == "staff"
    assert verify(" amina ", "correct horse battery", settings, users.get) == "staff"
    assert verify("amina", "wrong", settings, users.get) is None
    assert verify("nobody", "correct horse battery", settings, users.get) is None
    assert verify("amina", "correct horse battery", settings) is None  # not without the directory
    [(name, role, stored)] = raw_rows(settings.resolved_database_url, "SELECT name, role, password_hash FROM users")
    assert (name, role) == ("amina", "staff") and "correct horse" not in stored and "$" in stored


def test_kb_users_entries_come_first(users, settings):
    users.add("ana", "writer", "db-password")
    env = settings.with_overrides(users=(f"ana:admin:{hash_password('env-password')}",))
    assert verify("ana", "env-password", env, users.get) == "admin"
    assert verify("ana", "db-password", env, users.get) is None


def test_list_and_remove(users):
    users.add("zed", "admin", "pw-1")
    users.add("abe", "writer", "pw-2")
    assert [(n, r) for n, r, _ in users.list()] == [("abe", "writer"), ("zed", "admin")]
    users.remove("zed")
    assert [n for n, _, _ in users.list()] == ["abe"]
    with pytest.raises(UserNotFoundError, match="Expected an existing user name, got 'zed'"):
        users.remove("zed")


def test_bad_accounts_are_refused_with_what_to_do(users):
    users.add("sam", "staff", "pw")
    with pytest.raises(UserExistsError, match="run `kb users remove sam` first"):
        users.add("sam", "admin", "other")
    with pytest.raises(ConfigError, match="Expected a role in staff, writer, admin; got 'root'"):
        users.add("kim", "root", "pw")
    for name in ("", "a:b", "a,b", "x" * 65, "tab\there"):
        with pytest.raises(ConfigError, match="Expected a user name of 1-64 printable characters"):
            users.add(name, "staff", "pw")
    with pytest.raises(ConfigError, match="Expected a non-empty password"):
        users.add("kim", "staff", "")
    assert [n for n, _, _ in users.list()] == ["sam"]


def test_database_outage_is_a_failed_sign_in_not_a_crash(settings):
    def unreachable(name):
        raise ConnectionError("database is down")

    assert verify("amina", "pw", settings, unreachable) is None


def test_cli_add_reads_the_password_from_stdin_then_lists_and_removes(cli_env, users, settings, capsys):
    assert cli_env("users", "add", "wanjiru", "--role", "writer", stdin="s3cret pass\n") == 0
    assert "Added wanjiru (writer)" in capsys.readouterr().out
    assert verify("wanjiru", "s3cret pass", settings, users.get) == "writer"
    assert cli_env("users", "add", "wanjiru", "--role", "staff", stdin="other\n") == 2
    assert "already has an account" in capsys.readouterr().err
    assert cli_env("users", "add", "kim", "--role", "staff", stdin="\n") == 2
    assert "Expected the password on standard input" in capsys.readouterr().err
    assert cli_env("users", "list", "--json") == 0
    listed = json.loads(capsys.readouterr().out)
    assert [(u["name"], u["role"], u["source"]) for u in listed] == [("wanjiru", "writer", "database")]
    assert "password" not in json.dumps(listed) and "$" not in json.dumps(listed)
    assert cli_env("users", "remove", "wanjiru") == 0
    assert verify("wanjiru", "s3cret pass", settings, users.get) is None
    assert cli_env("users", "remove", "wanjiru") == 2


def test_cli_add_says_when_kb_users_shadows_the_account(cli_env, monkeypatch, capsys):
    monkeypatch.setenv("KB_USERS", f"ana:admin:{hash_password('env-password')}")
    assert cli_env("users", "add", "ana", "--role", "staff", stdin="db-password\n") == 0
    assert "KB_USERS also has an entry for ana" in capsys.readouterr().err
    assert cli_env("users", "list", "--json") == 0
    listed = json.loads(capsys.readouterr().out)
    assert [(u["name"], u["role"], u["source"]) for u in listed] == [("ana", "staff", "database"), ("ana", "admin", "KB_USERS")]


def test_cli_db_upgrade_reports_the_revision(cli_env, capsys):
    from assistant.migrations import head

    assert cli_env("db", "upgrade") == 0
    assert f"already at revision {head()}" in capsys.readouterr().out
