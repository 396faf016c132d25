"""First run: the corpus is indexed in the background while the Help page is shown with its progress.

Indexing the sample corpus takes about a minute on a small host (much more for a big one); the page
used to stay blank until it was done. Now it renders at once with a progress message, and a question
asked meanwhile is answered as soon as the index is ready.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field

import streamlit as st

from ui.resources import Resources

logger = logging.getLogger(__name__)


@dataclass
class FirstRunIndex:
    """Where the first-run ingest stands; shared by every session of the process."""

    done: int = 0
    total: int = 0
    error: str = ""
    finished: threading.Event = field(default_factory=threading.Event)

    @property
    def ready(self) -> bool:
        return self.finished.is_set()

    def progress(self, done: int, total: int, source: str) -> None:
        self.done, self.total = done, total

    def wait(self, timeout_s: float) -> bool:
        """Block until the index is ready (True) or `timeout_s` passed (False)."""
        return self.finished.wait(timeout_s)


@st.cache_resource(show_spinner=False)
def first_run_index(_resources: Resources, key: str) -> FirstRunIndex:
    """Start indexing the corpus in the background if the index is empty (once per process and settings)."""
    job = FirstRunIndex()
    if _resources.indexer.store.count() > 0:
        job.finished.set()
        return job
    threading.Thread(target=_index, args=(_resources, job), name="first-run-index", daemon=True).start()
    return job


def _index(resources: Resources, job: FirstRunIndex) -> None:
    try:
        with resources.ingest_lock:
            report = resources.indexer.ingest(progress=job.progress)
        logger.info("first-run ingest of %s: %s", resources.settings.corpus_dir, report.counts)
    except Exception as exc:  # the page says the help centre is unavailable; details go to the log
        logger.exception("first-run ingest failed")
        job.error = type(exc).__name__
    finally:
        job.finished.set()
