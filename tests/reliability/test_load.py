"""The short CI form of bench/load.py: 5 concurrent sessions on one Assistant while a reindex runs."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

LOAD_SCRIPT = Path(__file__).resolve().parents[2] / "bench" / "load.py"


@pytest.fixture(scope="module")
def load():
    spec = importlib.util.spec_from_file_location("bench_load", LOAD_SCRIPT)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up here
    spec.loader.exec_module(module)
    return module


def test_concurrent_sessions_during_a_reindex(load, tmp_path, embeddings):
    report = load.run_load(sessions=5, questions=3, time_limit_s=90, workdir=tmp_path, embeddings=embeddings)
    assert not report.timed_out and report.replies == 15
    assert report.errors == 0, report.error_samples
    assert report.unknown_chunks == 0 and report.mixed_snapshots == 0  # no answer from a half-written index
    assert report.stored_messages_ok and report.new_article_answered
    assert report.p95_s < 30, report


def test_the_half_written_index_check_can_fail(load):
    """The detector itself: an answer mixing chunks of the old and the new index is counted."""
    replies = [
        load.Reply("a", 0.1, 1.0, retrieved=("old-1", "both")),
        load.Reply("b", 0.1, 1.0, retrieved=("old-1", "new-1")),
        load.Reply("c", 0.1, 1.0, retrieved=("ghost",)),
    ]

    class Log:
        def messages(self, session):
            return [{}, {}]

    class Assistant:
        log = Log()

    class New:
        citations = ()

    report = load._report(Assistant(), replies, {"start": 0.0, "end": 2.0}, {"old-1", "both"}, {"both", "new-1"},
                          3, False, New())
    assert (report.unknown_chunks, report.mixed_snapshots, report.during_reindex) == (1, 1, 3)
    assert not report.new_article_answered
