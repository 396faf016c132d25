"""Item 6 of issue 12: sign-in failures are counted on the server, per user name and per client address,
across sessions and processes, with exponential backoff; password checks run a few at a time.

Before: five failures locked only the browser session that made them; a reload signed in at once,
so a script could try passwords without limit while burning ~90 ms of PBKDF2 per try.
(The browser form of this test is in tests/e2e/test_hardening_server.py.)
"""

from __future__ import annotations

import subprocess
import sys
import threading
import time

import pytest

from assistant.db import Database
from assistant.sign_in_throttle import CONCURRENT_HASHES, SignInThrottle


class Clock:
    def __init__(self) -> None:
        self.now = 1_700_000_000.0

    def __call__(self) -> float:
        return self.now


class Verifier:
    """verify(name, password): "staff" for ana/right, None otherwise; counts calls."""

    def __init__(self, seconds: float = 0.0) -> None:
        self.calls = 0
        self.seconds = seconds
        self.running = 0
        self.most_at_once = 0
        self._lock = threading.Lock()

    def __call__(self, name: str, password: str) -> str | None:
        with self._lock:
            self.calls += 1
            self.running += 1
            self.most_at_once = max(self.most_at_once, self.running)
        time.sleep(self.seconds)
        with self._lock:
            self.running -= 1
        return "staff" if (name, password) == ("ana", "right") else None


@pytest.fixture
def url(tmp_path) -> str:
    return f"sqlite:///{tmp_path / 'app.sqlite'}"


def test_five_failures_lock_the_name_until_the_backoff_passes_then_it_doubles(url):
    clock, verify = Clock(), Verifier()
    throttle = SignInThrottle(Database(url), base_delay_s=30, clock=clock)
    for _ in range(5):
        assert throttle.attempt("ana", "wrong", None, verify).role is None
    refused = SignInThrottle(Database(url), base_delay_s=30, clock=clock).attempt("Ana ", "right", None, verify)
    assert refused.role is None and refused.wait_s == pytest.approx(30) and verify.calls == 5  # nothing hashed
    clock.now += 31
    assert throttle.attempt("ana", "wrong", None, verify).role is None                      # 6th failure
    assert throttle.wait_s("ana") == pytest.approx(60)                                       # doubled
    clock.now += 61
    assert throttle.attempt("ana", "right", None, verify).role == "staff"
    assert throttle.wait_s("ana") == 0
    for _ in range(4):                                                                        # counter was reset
        throttle.attempt("ana", "wrong", None, verify)
    assert throttle.wait_s("ana") == 0


def test_the_lock_is_shared_by_another_process(url):
    script = (
        "from assistant.db import Database\n"
        "from assistant.sign_in_throttle import SignInThrottle\n"
        f"t = SignInThrottle(Database({url!r}), base_delay_s=600)\n"
        "for _ in range(5):\n"
        "    t.attempt('ana', 'wrong', None, lambda n, p: None)\n"
    )
    subprocess.run([sys.executable, "-c", script], check=True, timeout=60)
    verify = Verifier()
    result = SignInThrottle(Database(url), base_delay_s=600).attempt("ana", "right", None, verify)
    assert result.role is None and result.wait_s > 500 and verify.calls == 0


def test_an_address_trying_many_names_is_locked_for_every_name(url):
    clock, verify = Clock(), Verifier()
    throttle = SignInThrottle(Database(url), base_delay_s=30, clock=clock)
    for n in range(20):
        throttle.attempt(f"guess-{n}", "wrong", "203.0.113.9", verify)
    assert throttle.attempt("ana", "right", "203.0.113.9", verify).wait_s > 0
    assert throttle.attempt("ana", "right", "198.51.100.7", verify).role == "staff"       # another address


def test_parallel_attempts_cannot_exceed_the_free_failures_and_hashing_is_bounded(url):
    verify = Verifier(seconds=0.2)
    throttle = SignInThrottle(Database(url), base_delay_s=600)
    threads = [threading.Thread(target=throttle.attempt, args=("ana", "wrong", None, verify)) for _ in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert verify.calls == 5 and verify.most_at_once <= CONCURRENT_HASHES


def test_typed_names_are_not_stored(url, tmp_path):
    throttle = SignInThrottle(Database(url))
    throttle.attempt("correct horse battery staple", "x", "192.0.2.44", Verifier())
    stored = b"".join(p.read_bytes() for p in tmp_path.glob("app.sqlite*"))
    assert b"correct horse" not in stored and b"192.0.2.44" not in stored
