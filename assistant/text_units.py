"""Answerable units of a passage: whole sentences, list items and table rows, in any of our scripts.

Shared by ingestion (one vector per unit, so a needle fact deep in a chunk can be found) and by the
extractive answerer (which quotes whole units, never a window cut mid-sentence).
"""

from __future__ import annotations

import re

# A sentence ends at . ! ? (Latin), ؟ (Arabic) or 。 followed by space; "e.g. " and "3.5 " do not end one.
_SENTENCE_END = re.compile(r"(?<=[.!?؟。])(?<!\b[A-Za-z]\.)(?<!\d\.)\s+")
LIST_ITEM = re.compile(r"^([-*•]|\d+[.)])\s+")
_TABLE_SEPARATOR = re.compile(r":?-{2,}:?")


def table_row(line: str) -> str | None:
    """A Markdown table row as a list item ("- cell — cell"); None for separator rows."""
    cells = [c.strip() for c in line.strip().strip("|").split("|")]
    if all(_TABLE_SEPARATOR.fullmatch(c) for c in cells if c):
        return None
    return "- " + " — ".join(c for c in cells if c)


def split_sentences(line: str) -> list[str]:
    return [s.strip() for s in _SENTENCE_END.split(line) if s.strip()]


def units(body: str) -> list[str]:
    """List items, table rows and short lines stay whole; prose splits into sentences."""
    found: list[str] = []
    for line in body.split("\n"):
        line = line.strip()
        if not line:
            continue
        if line.startswith("|"):
            row = table_row(line)
            if row:
                found.append(row)
        elif LIST_ITEM.match(line):
            found.append(line)
        else:
            found.extend(split_sentences(line))
    return found


def is_list_unit(unit: str) -> bool:
    return bool(LIST_ITEM.match(unit))
