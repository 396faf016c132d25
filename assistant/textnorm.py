"""Unicode clean-up shared by ingest and the injection guard: no invisible format characters, NFKC letters.

A zero-width space, word joiner, soft hyphen or byte-order mark inside a word (Unicode category
Cf), or full-width look-alike letters, would otherwise hide "Note to the assistant" from a pattern
that reads plain text, while a browser still shows the words.
"""

from __future__ import annotations

import functools
import re
import sys
import unicodedata


def visible_text(text: str) -> str:
    """`text` without format characters (category Cf), in NFKC (compatibility) normal form."""
    if text.isascii():  # ASCII has no format characters and is already NFKC
        return text
    return unicodedata.normalize("NFKC", _format_characters().sub("", text))


@functools.cache
def _format_characters() -> re.Pattern:
    """A character class of every Cf code point (built once, on first use: ~0.2 s)."""
    points = [chr(c) for c in range(sys.maxunicode + 1) if unicodedata.category(chr(c)) == "Cf"]
    return re.compile("[" + "".join(re.escape(ch) for ch in points) + "]")
