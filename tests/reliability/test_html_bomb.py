"""Item 5 of issue 12: HTML that expands out of all proportion (nested-list bombs, a row of 40,000 cells).

Before: a 205 KB file of nested <ul><li> became 100 M characters (430 MB RSS, over 5 minutes here),
an 83 KB one took 187 s and produced 2,135 chunks of indentation, and a 205 KB table row took 27 s
(each cell re-joined the row so far).
"""

from __future__ import annotations

import time
import tracemalloc

import pytest

from assistant.errors import IngestError
from kb_ingest.indexing import chunk_file
from kb_ingest.loaders import html as html_loader
from kb_ingest.loaders import load_file
from tests.helpers import write_file

BOMBS = {
    "205 KB of nested <ul><li>x": "<ul><li>x" * (205_000 // 9),
    "83 KB of nested <ul><li>a": "<ul><li>a " * (83_000 // 10),
    "83 KB of nested <ol><li> without text": "<ol><li>" * (83_000 // 8),
}


@pytest.mark.parametrize("name", BOMBS)
def test_a_list_bomb_is_refused_quickly_with_a_clear_reason(settings, name):
    path = write_file(settings.corpus_dir / "bomb.html", BOMBS[name])
    tracemalloc.start()
    started = time.perf_counter()
    try:
        with pytest.raises(IngestError, match="nested at most 50 levels") as refused:
            chunk_file(path, settings.corpus_dir, settings)
        seconds = time.perf_counter() - started
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert seconds < 2.0 and peak < 32 * 2**20, (seconds, peak)
    assert "\n" not in str(refused.value)


def test_legitimately_nested_lists_keep_their_structure_with_bounded_indentation(settings):
    page = "<h1>Steps</h1>" + "<ul><li>level" * 20 + "</li></ul>" * 20
    text = load_file(write_file(settings.corpus_dir / "steps.html", page), settings.corpus_dir, settings)[0].page_content
    lines = [line for line in text.splitlines() if line.strip().startswith("- level")]
    assert len(lines) == 20
    indents = [len(line) - len(line.lstrip()) for line in lines]
    assert indents[:7] == [0, 2, 4, 6, 8, 10, 12] and max(indents) == 2 * html_loader.MAX_LIST_INDENT


def test_a_wide_table_row_is_read_in_linear_time(settings):
    def seconds(cells: int) -> float:
        """CPU seconds, best of three: other processes on a shared machine do not count."""
        path = write_file(settings.corpus_dir / f"row{cells}.html", "<table><tr>" + "<td>x" * cells)
        runs = []
        for _ in range(3):
            started = time.process_time()
            chunk_file(path, settings.corpus_dir, settings)
            runs.append(time.process_time() - started)
        return min(runs)

    seconds(100)  # load the tokenizer once
    small, large = seconds(10_000), seconds(40_000)
    assert large < 6 * small + 0.5, (small, large)  # 4x the cells; quadratic was 16x


def test_extracted_text_over_the_cap_is_refused(settings, monkeypatch):
    monkeypatch.setattr(html_loader, "MAX_HTML_TEXT_CHARS", 50_000)
    page = "<p>Refunds reach your card within ten business days.</p>" * 2_000  # ~100,000 characters
    with pytest.raises(IngestError, match="at most 50,000 characters of text in an HTML page"):
        load_file(write_file(settings.corpus_dir / "long.html", page), settings.corpus_dir, settings)
