"""Item 14 of issue 12: what a failed sign-in writes to the log (never a password typed as a user name)."""

from __future__ import annotations

import logging

from assistant.auth import hash_password, verify
from assistant.config import Settings


def test_a_password_typed_as_the_user_name_is_never_logged(caplog):
    settings = Settings(users=(f"ana:staff:{hash_password('pw-1')}",))
    with caplog.at_level(logging.DEBUG):
        assert verify("correct horse battery", "anything", settings) is None
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "correct horse" not in logged
    assert "unknown user" in logged


def test_a_known_user_name_is_logged_on_failure(caplog):
    settings = Settings(users=(f"ana:staff:{hash_password('pw-1')}",))
    with caplog.at_level(logging.INFO):
        assert verify("ana", "wrong", settings) is None
    assert "'ana'" in "\n".join(r.getMessage() for r in caplog.records)


def test_unknown_user_names_are_told_apart_without_being_shown(caplog):
    """The same unknown name gets the same tag within a run, so repeated guesses can be spotted."""
    settings = Settings(users=())
    with caplog.at_level(logging.INFO):
        for name in ("hunter2-typed-here", "hunter2-typed-here", "someone-else"):
            verify(name, "x", settings)
    tags = [r.getMessage().rsplit(" ", 1)[-1] for r in caplog.records if "unknown user" in r.getMessage()]
    assert len(tags) == 3 and tags[0] == tags[1] != tags[2]
    assert not any("hunter2" in r.getMessage() for r in caplog.records)
