"""The retriever's current index, rebuilt off the reply path when the collection changes.

- First use: built in the caller's thread (there is nothing to answer from yet).
- Another process changed the index (the store's generation moved): a poller thread checks the
  generation every `refresh_s` seconds, builds the new index in the background and swaps it in with
  one assignment; replies meanwhile use the previous index, whole (a reply reads the index once).
  A replica answers from new content within `refresh_s` plus the build time.
- This process changed it (VectorStore.bump_generation): the writer's own thread rebuilds before its
  write returns, so what a process wrote it finds at once; the writer waits, replies do not.
- `refresh_s` 0: every call checks the generation and rebuilds in line (tests, one-off tools).
"""

from __future__ import annotations

import logging
import threading
import time
import weakref
from collections.abc import Callable
from typing import Generic, Protocol, TypeVar

from assistant.store import VectorStore

logger = logging.getLogger(__name__)

MIN_POLL_S = 0.2


class Generational(Protocol):
    generation: int


IndexT = TypeVar("IndexT", bound=Generational)


class IndexHolder(Generic[IndexT]):
    """Holds one index at a time; `current()` never waits for a rebuild once an index exists."""

    def __init__(self, store: VectorStore, build: Callable[[int], IndexT], refresh_s: float) -> None:
        self.store = store
        self.refresh_s = refresh_s
        self._build = build
        self._index: IndexT | None = None
        self._build_lock = threading.Lock()
        self._start_lock = threading.Lock()
        self._poller: threading.Thread | None = None
        self._stopped = threading.Event()
        self.builds = 0
        self.last_build_seconds = 0.0
        store.subscribe(self._written)

    def current(self) -> IndexT:
        """The index to answer from now."""
        index = self._index
        if index is None or self.refresh_s <= 0:
            return self.refresh()
        self._start_poller()
        return index

    def refresh(self) -> IndexT:
        """Check the store's generation now and rebuild, in this thread, if it moved."""
        generation = self.store.generation()
        index = self._index
        if index is not None and index.generation == generation:
            return index
        with self._build_lock:
            index = self._index
            if index is not None and index.generation == generation:
                return index  # another thread built it meanwhile
            started = time.perf_counter()
            index = self._build(generation)
            self._index = index  # the swap: replies that already hold the old index finish with it
            self.builds += 1
            self.last_build_seconds = time.perf_counter() - started
        logger.info("retrieval index rebuilt (%s mode, generation %s) in %.2f s", getattr(index, "mode", "?"),
                    index.generation, self.last_build_seconds)
        return index

    def stop(self) -> None:
        """Stop polling (the poller also ends by itself once the holder is garbage)."""
        self._stopped.set()

    def _written(self, generation: int) -> None:
        if self._index is not None and self._index.generation != generation:
            self.refresh()

    def _start_poller(self) -> None:
        if self._poller is not None:
            return
        with self._start_lock:
            if self._poller is None:
                self._poller = threading.Thread(target=_poll, args=(weakref.ref(self), self._stopped),
                                                name="kb-index-refresh", daemon=True)
                self._poller.start()


def _poll(ref: weakref.ReferenceType[IndexHolder], stopped: threading.Event) -> None:
    """Check the generation every refresh_s; holds the holder only weakly, so it can be freed."""
    failing = False
    while True:
        holder = ref()
        if holder is None:
            return
        interval = max(holder.refresh_s, MIN_POLL_S)
        del holder
        if stopped.wait(interval):
            return
        holder = ref()
        if holder is None:
            return
        try:
            holder.refresh()
            failing = False
        except Exception as exc:  # keep answering from the current index; say so once per outage
            if not failing:
                logger.warning("index refresh failed (%s: %s); answering from the previous index",
                               type(exc).__name__, exc)
            failing = True
        del holder
