"""Explicit requests for a person ("agent!", "I want to talk to a human", "nataka kuongea na mtu"...)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from assistant.escalation.cues import Match, PhraseMatcher, load_json, words

MAX_REQUEST_WORDS = 14  # longer messages are about something else that merely mentions a person
MAX_FILLER_GAP = 5      # words allowed between "I want" and "a human"


@dataclass(frozen=True, slots=True)
class _Cues:
    persons: PhraseMatcher
    requests: PhraseMatcher
    fillers: frozenset[str]
    blockers: PhraseMatcher


@lru_cache(maxsize=1)
def _cues() -> _Cues:
    data = {k: v for k, v in load_json("human_request.json").items() if not k.startswith("_")}

    def union(key: str) -> list[str]:
        return [cue for language in data.values() for cue in language[key]]

    fillers = frozenset(w for cue in union("fillers") for w in words(cue))
    return _Cues(PhraseMatcher(union("persons")), PhraseMatcher(union("requests")), fillers,
                 PhraseMatcher(union("blockers")))


def asks_for_human(text: str) -> bool:
    """True when the message asks to be put through to a person, in any of the five languages."""
    ws = words(text)
    if not ws or len(ws) > MAX_REQUEST_WORDS:
        return False
    cues = _cues()
    persons = cues.persons.find(ws)
    if not persons:
        return False
    requests = cues.requests.find(ws)
    return (
        _only_person_and_fillers(ws, persons + requests, cues.fillers)
        or _request_then_person(ws, requests, persons, cues)
        or _person_then_request(ws, persons, requests, cues.fillers)
    )


def _only_person_and_fillers(ws: list[str], spans: list[Match], fillers: frozenset[str]) -> bool:
    """ "agent!", "human please", "real person", "موظف خدمة العملاء": nothing but the request itself."""
    covered = {i for m in spans for i in range(m.start, m.end)}
    return all(i in covered or w in fillers for i, w in enumerate(ws))


def _fillers_between(ws: list[str], start: int, end: int, fillers: frozenset[str]) -> bool:
    return 0 <= end - start <= MAX_FILLER_GAP and all(w in fillers for w in ws[start:end])


def _request_then_person(ws: list[str], requests: list[Match], persons: list[Match], cues: _Cues) -> bool:
    """ "I want to talk to a real person", "ina son magana da mutum", "tahan rääkida inimesega"."""
    blocked_at = {m.start for m in cues.blockers.find(ws)}
    return any(
        r.end <= p.start and _fillers_between(ws, r.end, p.start, cues.fillers) and p.end not in blocked_at
        for r in requests
        for p in persons
    )


def _person_then_request(ws: list[str], persons: list[Match], requests: list[Match], fillers) -> bool:
    """ "Is there a human I can talk to?", "mtu wa kuongea naye"."""
    return any(
        p.end <= r.start and _fillers_between(ws, p.end, r.start, fillers) and _fillers_between(ws, 0, p.start, fillers)
        for p in persons
        for r in requests
    )
