"""In-memory conversation state, bounded: idle sessions expire and the least recently used go first.

Every visitor gets a session; without a bound the assistant's memory grew with each one. What is
dropped is only the in-memory state (recent turns, vectors for loop detection, frustration so far);
the conversation log and any ticket are in the database. A customer who comes back after eviction
continues as a new conversation.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Generic, TypeVar

State = TypeVar("State")


class SessionStore(Generic[State]):
    """Session id -> state, at most `max_sessions` of them, each dropped after `ttl_s` seconds unused."""

    def __init__(
        self, factory: Callable[[], State], max_sessions: int, ttl_s: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if max_sessions < 1 or ttl_s <= 0:
            raise ValueError(f"Expected max_sessions >= 1 and ttl_s > 0, got {max_sessions} and {ttl_s}.")
        self._factory = factory
        self.max_sessions = max_sessions
        self.ttl_s = ttl_s
        self._clock = clock
        self._states: OrderedDict[str, tuple[State, float]] = OrderedDict()  # least recently used first
        self._lock = threading.Lock()

    def get(self, session_id: str) -> State:
        """The session's state (a fresh one if unknown, expired or evicted); marks it as used now."""
        now = self._clock()
        with self._lock:
            self._drop_idle(now)
            entry = self._states.pop(session_id, None)
            state = entry[0] if entry is not None else self._factory()
            self._states[session_id] = (state, now)
            while len(self._states) > self.max_sessions:
                self._states.popitem(last=False)
            return state

    def __contains__(self, session_id: str) -> bool:
        with self._lock:
            self._drop_idle(self._clock())
            return session_id in self._states

    def __len__(self) -> int:
        with self._lock:
            self._drop_idle(self._clock())
            return len(self._states)

    def _drop_idle(self, now: float) -> None:
        # Ordered by last use, so the idle ones are at the front.
        while self._states:
            session_id, (_, used) = next(iter(self._states.items()))
            if now - used <= self.ttl_s:
                return
            del self._states[session_id]
