"""Password hashing, sign-in verification, roles and the hash CLI."""

from __future__ import annotations

import hashlib
import hmac

import pytest

from assistant import auth
from assistant.auth import can_access, hash_password, parse_user, parse_users, verify
from assistant.config import Settings
from assistant.errors import ConfigError


def settings_with(*entries: str) -> Settings:
    return Settings(users=tuple(entries))


@pytest.fixture(scope="module")
def ana_hash() -> str:
    return hash_password("correct horse")


def test_hash_is_salted_pbkdf2_sha256(ana_hash):
    salt, digest = ana_hash.split("$")
    assert len(bytes.fromhex(salt)) == auth.SALT_BYTES
    expected = hashlib.pbkdf2_hmac("sha256", b"correct horse", bytes.fromhex(salt), auth.ITERATIONS).hex()
    assert digest == expected
    assert auth.ITERATIONS >= 200_000
    assert hash_password("correct horse") != ana_hash  # a fresh salt each time


def test_hash_with_given_salt_is_deterministic():
    assert hash_password("pw", salt="ab" * 16) == hash_password("pw", salt="ab" * 16)
    with pytest.raises(ValueError, match="hex"):
        hash_password("pw", salt="not hex")
    with pytest.raises(ValueError, match="non-empty"):
        hash_password("")


def test_verify_returns_role_for_right_password(ana_hash):
    settings = settings_with(f"ana:staff:{ana_hash}", f"wes:writer:{hash_password('ink')}")
    assert verify("ana", "correct horse", settings) == "staff"
    assert verify("  ana ", "correct horse", settings) == "staff"
    assert verify("wes", "ink", settings) == "writer"


def test_wrong_password_and_unknown_user_are_refused(ana_hash):
    settings = settings_with(f"ana:staff:{ana_hash}")
    assert verify("ana", "wrong horse", settings) is None
    assert verify("ana", "", settings) is None
    assert verify("bob", "correct horse", settings) is None
    assert verify("", "", settings) is None
    assert verify("ana", "correct horse", settings_with()) is None


def test_password_of_one_user_does_not_open_another(ana_hash):
    settings = settings_with(f"ana:staff:{ana_hash}", f"wes:admin:{hash_password('ink')}")
    assert verify("wes", "correct horse", settings) is None


@pytest.mark.parametrize(
    "entry, message",
    [
        ("ana", "three parts"),
        ("ana:staff", "three parts"),
        ("ana::aa$bb", "three parts"),
        ("ana:boss:" + "aa" * 16 + "$" + "bb" * 32, "role"),
        ("ana:staff:plaintext-password", "salt\\$hash"),
        ("ana:staff:" + "aa" * 16 + "$" + "zz" * 32, "salt\\$hash"),
        ("ana:staff:" + "aa" * 16 + "$" + "bb" * 10, "salt\\$hash"),
        ("ana:staff:$" + "bb" * 32, "salt\\$hash"),
    ],
)
def test_malformed_entries_are_rejected_with_a_clear_message(entry, message):
    with pytest.raises(ConfigError, match=message):
        parse_user(entry)


def test_malformed_entries_are_skipped_and_never_logged_in_full(caplog, ana_hash):
    good = f"ana:staff:{ana_hash}"
    users = parse_users(["ana:staff:my-secret-password", "broken", good])
    assert list(users) == ["ana"]
    assert users["ana"].digest == ana_hash.split("$")[1]
    assert "my-secret-password" not in caplog.text
    # A malformed entry gives no access, even with its "password" typed in.
    assert verify("ana", "my-secret-password", settings_with("ana:staff:my-secret-password")) is None


def test_verify_uses_constant_time_comparison_even_for_unknown_users(monkeypatch, ana_hash):
    calls = []
    real = hmac.compare_digest

    def recording(a, b):
        calls.append((a, b))
        return real(a, b)

    monkeypatch.setattr(hmac, "compare_digest", recording)
    settings = settings_with(f"ana:staff:{ana_hash}")
    assert verify("ana", "correct horse", settings) == "staff"
    assert verify("ana", "nope", settings) is None
    assert verify("nobody", "nope", settings) is None
    assert len(calls) == 3
    assert calls[0][1] == ana_hash.split("$")[1].encode("ascii")


def test_verify_never_compares_with_double_equals(monkeypatch, ana_hash):
    """If compare_digest is the only comparison, making it always-false must refuse the right password."""
    monkeypatch.setattr(hmac, "compare_digest", lambda a, b: False)
    assert verify("ana", "correct horse", settings_with(f"ana:staff:{ana_hash}")) is None


def test_roles_and_areas():
    assert can_access("staff", "workbench") and can_access("staff", "handoffs") and can_access("staff", "insights")
    assert not can_access("staff", "content")
    assert can_access("writer", "content")
    assert not any(can_access("writer", a) for a in ("workbench", "handoffs", "insights"))
    assert all(can_access("admin", a) for a in ("workbench", "handoffs", "insights", "content"))
    assert not can_access(None, "workbench") and not can_access("", "content") and not can_access("guest", "content")


def test_cli_prints_a_hash_that_verifies(capsys):
    assert auth.main(["hash", "s3cret"]) == 0
    printed = capsys.readouterr().out.strip()
    assert verify("ana", "s3cret", settings_with(f"ana:writer:{printed}")) == "writer"


def test_cli_prints_a_whole_entry(capsys):
    assert auth.main(["hash", "s3cret", "--user", "ana", "--role", "admin"]) == 0
    entry = capsys.readouterr().out.strip()
    assert entry.startswith("ana:admin:")
    assert verify("ana", "s3cret", settings_with(entry)) == "admin"
    with pytest.raises(SystemExit):
        auth.main(["hash", "s3cret", "--user", "ana"])


def test_settings_from_env_feed_verify(ana_hash):
    settings = Settings.from_env({"KB_USERS": f"ana:staff:{ana_hash}, wes:writer:{hash_password('ink')}"})
    assert verify("wes", "ink", settings) == "writer"
