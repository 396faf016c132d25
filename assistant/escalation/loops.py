"""Loops: the customer repeats or rephrases an unresolved question, or says the answer did not help."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from difflib import SequenceMatcher
from functools import lru_cache

import numpy as np

from assistant.escalation.cues import PhraseMatcher, load_json, words
from assistant.vectors import unit

WINDOW = 5              # earlier user messages compared with the current one
MIN_WORDS = 3           # "ok", "thanks", "hi" repeated are not a loop
NEAR_IDENTICAL = 0.9    # character-level ratio of the normalised texts

Embed = Callable[[str], Sequence[float]]


@lru_cache(maxsize=1)
def _not_helped() -> PhraseMatcher:
    data = load_json("loop_cues.json")
    return PhraseMatcher(cue for key, cues in data.items() if not key.startswith("_") for cue in cues)


def says_not_helped(text: str) -> bool:
    """ "That didn't help", "you already said that", "not what I asked" (and the same in ar/sw/ha/et)."""
    return bool(_not_helped().find(text))


def _text_similarity(a: list[str], b: list[str]) -> float:
    return SequenceMatcher(None, " ".join(a), " ".join(b), autojunk=False).ratio()


def detect_loop(
    previous_user_messages: list[str],
    current: str,
    embed: Embed | None = None,
    similarity: float = 0.9,
) -> tuple[bool, float]:
    """(loop?, highest similarity to a recent user message). `embed` is e.g. `embeddings.embed_query_vector`."""
    current_words = words(current)
    earlier = [m for m in previous_user_messages[-WINDOW:] if len(words(m)) >= MIN_WORDS]
    best = 0.0
    if len(current_words) >= MIN_WORDS and earlier:
        best = max(_text_similarity(current_words, words(m)) for m in earlier)
        if best >= NEAR_IDENTICAL:
            return True, round(best, 4)
        if embed is not None:
            now = unit(embed(current), np.float32)
            best = max(best, max(float(np.dot(now, unit(embed(m), np.float32))) for m in earlier))
    return best >= similarity or says_not_helped(current), round(best, 4)
