"""What staff read first about a handoff: a short redacted summary, and the ticket's priority."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from assistant.redaction import redact
from assistant.types import EscalationReason, Turn

SUMMARY_MAX_CHARS = 600
_QUOTE_CHARS = 180


def summarize_extractive(transcript: Sequence[Turn], language: str, reasons: Iterable[str] = ()) -> str:
    """A short staff summary: the customer's first question, their latest message, the reasons."""
    # Redact before clipping: clipping first could cut a phone number in half and hide it from redact.
    asked = [redact(t.content).strip() for t in transcript if t.role == "user" and t.content.strip()]
    parts = []
    if asked:
        parts.append(f"Asked: {clip(asked[0], _QUOTE_CHARS)}")
        if len(asked) > 1 and asked[-1] != asked[0]:
            parts.append(f"Latest: {clip(asked[-1], _QUOTE_CHARS)}")
    else:
        parts.append("No customer message.")
    reasons = list(reasons)
    if reasons:
        parts.append(f"Reasons: {', '.join(reasons)}")
    return clip(f"[{language}] " + " | ".join(parts), SUMMARY_MAX_CHARS)


def ticket_priority(frustration_peak: float, reasons: Iterable[str], frustration_threshold: float) -> str:
    """"urgent" for very frustrated customers, "high" when frustrated or on a sensitive topic."""
    if frustration_peak >= max(0.85, frustration_threshold):
        return "urgent"
    if frustration_peak >= frustration_threshold or EscalationReason.SENSITIVE_TOPIC in set(reasons):
        return "high"
    return "normal"


def clip(text: str, limit: int) -> str:
    """`text` on one line, cut to `limit` characters with an ellipsis."""
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"
