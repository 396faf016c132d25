"""Item 16 of issue 12: the assistant's per-session memory is bounded (LRU count and idle time)."""

from __future__ import annotations

import pytest

from assistant.config import Settings
from assistant.session_store import SessionStore
from tests.reliability.conftest import build_assistant


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_the_least_recently_used_session_goes_first():
    store = SessionStore(dict, max_sessions=2, ttl_s=3600, clock=Clock())
    a, b = store.get("a"), store.get("b")
    a["turns"] = 1
    assert store.get("a") is a            # "a" is now the most recently used
    store.get("c")                        # over the limit: "b" goes
    assert "b" not in store and "a" in store and "c" in store and len(store) == 2
    assert store.get("b") is not b and store.get("b") == {}


def test_an_idle_session_expires():
    clock = Clock()
    store = SessionStore(dict, max_sessions=100, ttl_s=60, clock=clock)
    kept, idle = store.get("kept"), store.get("idle")
    clock.now = 50
    assert store.get("kept") is kept      # used again: its clock restarts
    clock.now = 100
    assert "idle" not in store and "kept" in store
    assert store.get("idle") is not idle
    clock.now = 150
    assert len(store) == 1                # only "idle" (re-created at 100) is left


def test_bad_bounds_are_refused():
    with pytest.raises(ValueError, match="max_sessions"):
        SessionStore(dict, max_sessions=0, ttl_s=10)


def test_the_assistant_forgets_evicted_sessions_but_the_log_keeps_them(kb, embeddings):
    settings = kb.with_overrides(max_sessions=2, session_ttl_s=3600.0)
    assistant = build_assistant(settings, embeddings)
    for visitor in ("v1", "v2", "v3"):
        assistant.reply(visitor, "How long does a refund to my card take?")
    assert "v1" not in assistant.sessions and {"v2", "v3"} <= {s for s in ("v2", "v3") if s in assistant.sessions}
    assert len(assistant.log.messages("v1")) == 2        # persisted: question and answer
    assert assistant.session("v1").turns == []          # a returning visitor starts a new conversation


def test_session_limits_are_settings():
    settings = Settings.from_env({"KB_MAX_SESSIONS": "50", "KB_SESSION_TTL_S": "90"})
    assert (settings.max_sessions, settings.session_ttl_s) == (50, 90.0)
    assert Settings().max_sessions >= 1000 and Settings().session_ttl_s >= 600
