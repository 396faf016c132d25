"""Unicode clean-up shared by ingest and the injection guard: no invisible format characters, NFKC letters.

A zero-width space, word joiner, soft hyphen or byte-order mark inside a word (Unicode category
Cf), or full-width look-alike letters, would otherwise hide "Note to the assistant" from a pattern
that reads plain text, while a browser still shows the words.
"""

from __future__ import annotations

import unicodedata


def visible_text(text: str) -> str:
    """`text` without format characters (category Cf), in NFKC (compatibility) normal form."""
    kept = "".join(ch for ch in text if unicodedata.category(ch) != "Cf")
    return unicodedata.normalize("NFKC", kept)
