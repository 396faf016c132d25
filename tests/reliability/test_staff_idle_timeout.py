"""Item 19 of issue 12: a staff sign-in ends after KB_STAFF_IDLE_MINUTES without activity (server-side)."""

from __future__ import annotations

import time

import pytest
from streamlit.testing.v1 import AppTest

from assistant.auth import hash_password
from assistant.config import Settings

PASSWORD = "staff-pass-1"


def _staff_app(users: tuple[str, ...], idle_minutes: float, database_url: str) -> None:
    import streamlit as st

    from assistant.config import Settings
    from assistant.db import Database
    from assistant.sign_in_throttle import SignInThrottle
    from ui import access

    settings = Settings(users=users, staff_idle_minutes=idle_minutes)
    if access.sign_in_sidebar(settings, SignInThrottle(Database(database_url))):
        st.title("Staff area")


@pytest.fixture
def database_url(tmp_path) -> str:
    return f"sqlite:///{tmp_path / 'app.sqlite'}"


def signed_in_app(database_url: str, idle_minutes: float = 30.0) -> AppTest:
    users = (f"sam:staff:{hash_password(PASSWORD)}",)
    at = AppTest.from_function(_staff_app, args=(users, idle_minutes, database_url), default_timeout=30).run()
    at.text_input(key="sign_in_user").set_value("sam")
    at.text_input(key="sign_in_password").set_value(PASSWORD)
    next(b for b in at.button if b.label == "Sign in").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.session_state["role"] == "staff"
    return at


def idle_for(at: AppTest, minutes: float) -> AppTest:
    """Pretend the last request was `minutes` ago, then interact (any rerun is activity)."""
    from ui.access import LAST_ACTIVE_KEY

    at.session_state[LAST_ACTIVE_KEY] = time.monotonic() - minutes * 60
    return at.run()


def test_an_idle_staff_session_is_signed_out_on_its_next_request(database_url):
    at = idle_for(signed_in_app(database_url, idle_minutes=30), 31)
    assert "role" not in at.session_state
    assert not [t.value for t in at.title]
    assert any("signed out after 30 minutes" in i.value for i in at.info)


def test_activity_within_the_limit_keeps_the_session_and_restarts_the_clock(database_url):
    from ui.access import LAST_ACTIVE_KEY

    at = idle_for(signed_in_app(database_url, idle_minutes=30), 29)
    assert at.session_state["role"] == "staff" and [t.value for t in at.title] == ["Staff area"]
    assert time.monotonic() - at.session_state[LAST_ACTIVE_KEY] < 5


def test_the_timeout_is_a_setting():
    assert Settings().staff_idle_minutes == 30
    assert Settings.from_env({"KB_STAFF_IDLE_MINUTES": "5"}).staff_idle_minutes == 5
