"""Pure rendering helpers: safe message HTML and the rows behind the staff tables (no Streamlit here)."""

from __future__ import annotations

import html
import re
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from ui.strings import direction, t

PREVIEW_CHARS = 160
# Streamlit's Markdown is left-aligned; "start" follows the text direction (right for Arabic).
_ALIGN = ' style="text-align: start"'
_MARKDOWN_SYNTAX = re.compile(r"([\\`*_{}\[\]()#+\-.!|>~])")


def escape_text(text: str) -> str:
    """Text safe inside st.markdown(unsafe_allow_html=True): no raw HTML, no accidental LaTeX."""
    # "$5 and $10" would otherwise render as a formula between the two dollar signs.
    return html.escape(text or "", quote=False).replace("$", "\\$")


def escape_markdown(text: str) -> str:
    """escape_text plus Markdown syntax, for what customers typed: no links, images or formatting."""
    # An image in a customer's message would otherwise be fetched by every staff browser that opens it.
    escaped = _MARKDOWN_SYNTAX.sub(r"\\\1", html.escape(text or "", quote=False))
    return escaped.replace("$", "\\$")


# Also ":" "@" and "www." so an address is not linked by GitHub-flavoured Markdown's autolinks.
_INLINE_SYNTAX = re.compile(r"([\\`*_{}\[\]()!<>|~&$:@])|(?<=www)\.", re.IGNORECASE)


def escape_inline(text: str) -> str:
    """A title or file name safe inside one line of Markdown (captions, labels, list items): no links,
    images, emphasis, HTML or entities; its words stay as written ("." and "-" only matter at a line start)."""
    escaped = _INLINE_SYNTAX.sub(lambda m: "\\" + m.group(0), " ".join((text or "").split()))
    escaped = re.sub(r"^(\d+)([.)])", r"\1\\\2", escaped)  # "1. Refunds" is not a list item
    return "\\" + escaped if escaped[:1] in ("#", "-", "+") else escaped


def message_html(text: str, language: str | None, markdown: bool = True) -> str:
    """A chat message in a <div> carrying its direction: rtl for Arabic, auto when the language is unknown.

    `markdown=False` for text people typed (shown literally). Blank lines around the body keep
    Markdown (lists, emphasis) working inside the HTML block.
    """
    dir_ = direction(language) if language else "auto"
    lang = f' lang="{html.escape(language)}"' if language else ""
    body = escape_text(text) if markdown else escape_markdown(text)
    return f'<div dir="{dir_}"{lang}{_ALIGN}>\n\n{body}\n\n</div>'


def quote_html(quote: str, language: str | None) -> str:
    """A cited passage as a block quote in its own direction."""
    lines = [f"> {line}" if line.strip() else ">" for line in escape_text(quote).splitlines()] or [">"]
    dir_ = direction(language) if language else "auto"
    return f'<div dir="{dir_}"{_ALIGN}>\n\n' + "\n".join(lines) + "\n\n</div>"


def citation_heading(marker: int, title: str, page: int | None, language: str) -> str:
    """Expander label of a cited source, e.g. "[1] Refunds · page 3" (labels are Markdown: the title is escaped)."""
    label = f"[{marker}] {escape_inline(title) if title else '—'}"
    return f"{label} · {t('page', language, page=page)}" if page else label


def source_line(title: str, source: str, page: int | None = None, marker: int | None = None) -> str:
    """One cited source as Markdown for staff pages: "[1] Refunds — docs/refunds.md, page 3", all escaped.

    Titles and file names come from documents anyone with upload rights wrote: as Markdown they
    could show a link or load an image in every staff browser.
    """
    lead = f"[{marker}] " if marker is not None else ""
    where = f", page {page}" if page else ""
    return f"{lead}{escape_inline(title or source)} — {escape_inline(source)}{where}"


def preview(text: str, limit: int = PREVIEW_CHARS) -> str:
    flat = " ".join((text or "").split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def chunk_rows(retrieved: Iterable[Any]) -> list[dict[str, Any]]:
    """One row per retrieved chunk (RetrievedChunk): where it came from and every score behind its rank."""
    rows = []
    for rank, item in enumerate(retrieved, start=1):
        chunk = item.chunk
        rows.append({
            "rank": rank,
            "source": chunk.source,
            "title": chunk.title,
            "language": chunk.language,
            "page": chunk.page,
            "fused": round(float(item.score), 4),
            "dense": round(float(item.dense_score), 4),
            "dense rank": item.dense_rank or None,
            "lexical": round(float(item.lexical_score), 4),
            "lexical rank": item.lexical_rank or None,
            "text": preview(chunk.text),
        })
    return rows


def signal_rows(signals: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Escalation signals as name/value rows, in a stable order."""
    rows = []
    for name in sorted(signals):
        value = signals[name]
        if isinstance(value, bool):
            value = "yes" if value else "no"
        elif isinstance(value, float):
            value = round(value, 4)
        rows.append({"signal": name, "value": str(value)})
    return rows


def unique_sources(items: Iterable[Any]) -> list[str]:
    """Distinct `.source` (or `.chunk.source`) values in first-seen order."""
    seen: dict[str, None] = {}
    for item in items:
        source = getattr(item, "source", None) or getattr(getattr(item, "chunk", None), "source", "")
        if source:
            seen.setdefault(source, None)
    return list(seen)


def diff_rows(files: Iterable[Any]) -> list[dict[str, Any]]:
    """IngestReport.files as table rows: source, status, chunks, reason."""
    return [{"source": f.source, "status": f.status, "chunks": f.chunks, "reason": f.reason} for f in files]


def source_rows(indexed: Iterable[Any]) -> list[dict[str, Any]]:
    """Indexer.indexed_files() as table rows."""
    return [
        {
            "source": f.source,
            "title": f.title,
            "language": f.language,
            "kind": f.kind,
            "chunks": f.chunks,
            "indexed at": format_time(datetime.fromtimestamp(f.indexed_at, tz=UTC)),
        }
        for f in sorted(indexed, key=lambda f: f.source)
    ]


def ticket_rows(tickets: Iterable[Any]) -> list[dict[str, Any]]:
    """TicketStore.page() entries (or tickets) as queue rows, in the store's triage order."""
    return [
        {
            "ticket": tk.ticket_id,
            "status": tk.status,
            "people ahead": getattr(tk, "ahead", None),
            "priority": tk.priority,
            "frustration": round(tk.frustration_peak, 2),
            "language": tk.language,
            "reasons": ", ".join(tk.reasons),
            "created": format_time(tk.created_at),
            "claimed by": tk.claimed_by,
            "summary": preview(tk.summary, 100),
        }
        for tk in tickets
    ]


def ticket_label(ticket: Any) -> str:
    """The ticket picker's label; queue entries of open tickets say how many wait before them."""
    ahead = getattr(ticket, "ahead", None)
    queue = f" · {ahead} ahead" if ahead is not None else ""
    return f"{ticket.ticket_id} · {ticket.status}{queue} · {ticket.priority} · {preview(ticket.summary, 60)}"


def group_rows(groups: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """insights.group_questions output as table rows."""
    return [
        {
            "question": g["label"],
            "count": g["count"],
            "languages": ", ".join(g["languages"]),
            "examples": " | ".join(g["examples"]),
        }
        for g in groups
    ]


def format_time(value: datetime | None) -> str:
    if value is None:
        return ""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def percent(rate: float) -> str:
    return f"{100 * float(rate):.0f}%"
