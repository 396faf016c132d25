"""Citation markers "[n]": numbering sources for a prompt, and checking an answer's markers against them."""

from __future__ import annotations

import re
from collections.abc import Sequence

from assistant.types import Chunk, Citation, RetrievedChunk

_MARKER = re.compile(r"\[(\d{1,3})\]")
_FAQ_QUESTION = re.compile(r"^\s*Q:\s*(.+?)\n\s*A:", re.DOTALL)
QUOTE_CHARS = 320


def citation_label(chunk: Chunk) -> str:
    """What a customer recognises a source by: a FAQ row's question, an article's "Title › Section"."""
    faq = _FAQ_QUESTION.match(chunk.text)
    if faq:
        return " ".join(faq.group(1).split())
    section = chunk.section.rsplit(">", 1)[-1].strip()
    if section and section != chunk.title:
        return f"{chunk.title} › {section}" if chunk.title else section
    return chunk.title


def make_citation(marker: int, hit: RetrievedChunk, quote: str | None = None) -> Citation:
    chunk = hit.chunk
    text = quote if quote is not None else chunk_body(chunk.text)
    if len(text) > QUOTE_CHARS:
        text = text[:QUOTE_CHARS].rsplit(" ", 1)[0] + " …"
    return Citation(
        marker=marker,
        chunk_id=chunk.chunk_id,
        source=chunk.source,
        title=citation_label(chunk),
        page=chunk.page,
        quote=text,
        score=round(hit.score, 4),
        language=chunk.language,
    )


def chunk_body(text: str) -> str:
    """The chunk text without its leading heading-path line."""
    lines = text.strip().split("\n")
    if len(lines) > 1 and not lines[0].rstrip().endswith((".", "?", "!", ":", "؟")) and len(lines[0]) < 160:
        if lines[1].strip() == "" or ">" in lines[0] or lines[0].startswith("#"):
            return "\n".join(lines[1:]).strip()
    return text.strip()


def validate_citations(text: str, sources: Sequence[RetrievedChunk]) -> tuple[str, tuple[Citation, ...]]:
    """Keep markers that name a given source, drop the others; return the cleaned text and its citations.

    `sources[i]` is source number i+1. An answer left with no valid marker is unsupported.
    """
    used: list[int] = []

    def check(match: re.Match) -> str:
        n = int(match.group(1))
        if 1 <= n <= len(sources):
            if n not in used:
                used.append(n)
            return match.group(0)
        return ""

    cleaned = _MARKER.sub(check, text)
    cleaned = re.sub(r"[ \t]+([.,;:!?])", r"\1", cleaned).strip()
    return cleaned, tuple(make_citation(n, sources[n - 1]) for n in used)


def markers_in(text: str) -> list[int]:
    return [int(m) for m in _MARKER.findall(text)]
