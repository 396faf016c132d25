"""Embedded Chroma beside other processes: notice their writes and reopen a fresh client.

chromadb keeps one `System` per persist directory in a process (`SharedSystemClient`), and that
System caches the collection's segments in memory. It never notices a write made by another
process (`kb ingest` next to the running app): reads then fail with `InternalError: Error finding
id` until a restart, and a new client for the same path gets the same stale System.

So each process records, per path and collection, the index generation its current System is
in step with (set when the System is created or writes the collection itself). When the
collection's generation has moved past that, another process wrote: the path's System is dropped
from chromadb's cache and a new client opened. Old Systems are not stopped: a thread still reading
through one finishes, and the System is freed when the last reference goes.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field
from typing import Any

logger = logging.getLogger(__name__)

_lock = threading.Lock()


@dataclass(slots=True)
class _Tracked:
    """The System chromadb hands out for one path, and the generations it is in step with."""

    token: Any                                              # the System's ServerAPI: one per System
    generations: dict[str, int] = field(default_factory=dict)  # collection -> generation


_tracked: dict[str, _Tracked] = {}


def system_token(client: Any) -> Any:
    """What identifies the chromadb System behind `client` (its ServerAPI instance)."""
    return getattr(client, "_server", client)


def in_step(path: str, client: Any, collection: str, generation: int) -> bool:
    """True when `client` is the path's current System and has seen `generation` of `collection`.

    A System met for the first time (or a collection it has no record of) is taken to be in step:
    it was just created, or the read that follows fails and the caller reopens.
    """
    token = system_token(client)
    with _lock:
        tracked = _tracked.get(path)
        if tracked is None:
            _tracked[path] = _Tracked(token, {collection: generation})
            return True
        if tracked.token is not token:
            return False
        seen = tracked.generations.setdefault(collection, generation)
        return seen == generation


def wrote(path: str, client: Any, collection: str, generation: int) -> None:
    """`client` itself wrote `generation` of `collection`: its System is in step with it."""
    with _lock:
        tracked = _tracked.get(path)
        if tracked is not None and tracked.token is system_token(client):
            tracked.generations[collection] = generation


def fresh_client(path: str, make_client, stale_token: Any = None) -> Any:
    """A client on a System that has seen every write so far.

    If the path's current System is not `stale_token` (another store of this process already
    reopened), that System is reused; otherwise it is dropped from chromadb's cache first.
    """
    with _lock:
        tracked = _tracked.get(path)
        if tracked is None or stale_token is None or tracked.token is stale_token:
            _forget_system(path)
            client = make_client()
            _tracked[path] = _Tracked(system_token(client))
            logger.info("reopened the embedded Chroma at %s (written by another process)", path)
            return client
        return make_client()


def _forget_system(path: str) -> None:
    """Drop chromadb's cached System for `path`, so the next client starts a fresh one."""
    from chromadb.api.shared_system_client import SharedSystemClient

    systems = getattr(SharedSystemClient, "_identifier_to_system", None)
    if isinstance(systems, dict):
        # Only this path: other paths' clients in the process keep their Systems.
        systems.pop(path, None)
        return
    logger.warning("chromadb's per-path System cache changed shape; clearing the whole cache")
    SharedSystemClient.clear_system_cache()
