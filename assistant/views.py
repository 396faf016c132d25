"""A chunk's views: the extra vectors that point back to it, one per answerable unit (kb_ingest/views.py
writes them; the retriever reads them back by id, assistant/ann.py).

A chunk gets one view per answerable unit (sentence, list item, table row: assistant/text_units.py),
embedded with its heading path for context, and a FAQ row one for its question. View ids are
`<chunk id>|q` and `<chunk id>|s<position>`, so the views of any chunk can be fetched by id from
its text alone, without a metadata filter (a scan in Chroma). Changing what `chunk_views` returns
means bumping `VERSION` in kb_ingest/views.py, so stored views are rebuilt.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from assistant.citations import chunk_body
from assistant.safety import strip_injections
from assistant.text_units import units
from assistant.types import Chunk

SENTENCE, QUESTION = "sentence", "question"
MIN_WORDS = 3          # "Yes." or "Step 2" says nothing on its own
MAX_VIEWS_PER_CHUNK = 40
_FAQ = re.compile(r"^\s*Q:\s*(?P<q>.*?)\n\s*A:\s*(?P<a>.*)$", re.S)


@dataclass(frozen=True, slots=True)
class View:
    view_id: str
    parent: str       # chunk id
    kind: str         # sentence | question
    position: int     # order within the chunk
    text: str         # what is shown / matched (the unit itself)
    embedded: str     # what is embedded (with its heading path for context)


def chunk_views(chunk: Chunk) -> list[View]:
    """The views of one chunk: its FAQ question (if any), then each answerable unit of its body."""
    faq = _FAQ.match(chunk.text)
    body = faq.group("a") if faq else chunk_body(chunk.text)
    context = chunk.section if chunk.section.startswith(chunk.title) else " > ".join(
        part for part in (chunk.title, chunk.section) if part)
    views = []
    if faq:
        question = faq.group("q").strip()
        views.append(View(f"{chunk.chunk_id}|q", chunk.chunk_id, QUESTION, 0, question, question))
    for position, unit in enumerate(units(strip_injections(body)), 1):
        if len(unit.split()) < MIN_WORDS or len(views) >= MAX_VIEWS_PER_CHUNK:
            continue
        embedded = f"{context}: {unit}" if context else unit
        views.append(View(f"{chunk.chunk_id}|s{position}", chunk.chunk_id, SENTENCE, position, unit, embedded))
    return views
