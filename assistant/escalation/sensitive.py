"""Sensitive topics (billing disputes, account security, legal threats, data deletion) that go to a person."""

from __future__ import annotations

from collections.abc import Iterable
from functools import cache

from assistant.errors import ConfigError
from assistant.escalation.cues import PhraseMatcher, load_json

TOPICS_FILE = "sensitive_topics.json"


def _topics_data() -> dict[str, dict]:
    return {k: v for k, v in load_json(TOPICS_FILE).items() if not k.startswith("_")}


def known_topics() -> tuple[str, ...]:
    """Topic names defined in data/sensitive_topics.json (the values KB_SENSITIVE_TOPICS may use)."""
    return tuple(_topics_data())


def validate_topics(topics: Iterable[str]) -> tuple[str, ...]:
    """The topics as a tuple; ConfigError naming the known topics if one is unknown."""
    topics = tuple(topics)
    known = known_topics()
    unknown = [t for t in topics if t not in known]
    if unknown:
        raise ConfigError(
            f"Expected KB_SENSITIVE_TOPICS to name known topics ({', '.join(known)}); "
            f"got unknown {', '.join(repr(t) for t in unknown)}. Fix the setting or add the topic to {TOPICS_FILE}."
        )
    return topics


@cache
def _matcher(topic: str) -> PhraseMatcher:
    cues = _topics_data()[topic]["cues"]
    return PhraseMatcher(cue for language_cues in cues.values() for cue in language_cues)


def detect_sensitive_topics(text: str, topics: Iterable[str]) -> tuple[str, ...]:
    """The configured topics whose cues occur in `text` (any of the five languages), in `topics` order."""
    return tuple(topic for topic in validate_topics(topics) if _matcher(topic).find(text))

