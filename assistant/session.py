"""One conversation as the assistant remembers it, and the cleaning every customer message goes through."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

import numpy as np

from assistant.escalation import EscalationState
from assistant.types import Citation, Turn

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u200b-\u200f\u202a-\u202e\u2066-\u2069]")


@dataclass
class SessionState:
    """What the assistant remembers about one conversation (in memory; the log is persisted)."""

    turns: list[Turn] = field(default_factory=list)
    user_vectors: list[np.ndarray] = field(default_factory=list)
    frustration: list[float] = field(default_factory=list)
    escalation: EscalationState = field(default_factory=EscalationState)
    language: str = "en"
    last_sources: tuple[Citation, ...] = ()
    last_confidence: float = 0.0
    last_reasons: tuple[str, ...] = ()
    ticket_id: str = ""

    @property
    def user_messages(self) -> list[str]:
        return [t.content for t in self.turns if t.role == "user"]


def clean_message(message: str, limit: int) -> tuple[str, bool]:
    """Drop lone surrogates, control and invisible format characters; cap the length.

    Returns (text, was_truncated). A message of only invisible characters becomes empty.
    """
    text = (message or "").encode("utf-8", "ignore").decode("utf-8")  # lone surrogates cannot be embedded
    text = "".join(ch for ch in _CONTROL.sub("", text) if unicodedata.category(ch) != "Cf").strip()
    if len(text) > limit:
        return text[:limit], True
    return text, False
