"""Each conversation classified once: ended? resolved? deflected? returned to? (definitions: docs/metrics.md).

- ended: it has an explicit end (a "done" click, thanks or goodbye, the idle survey, its ticket
  resolved) or no message for `idle` (30 minutes) before `now`;
- self-service resolved: ended, no handoff, and no thumbs-down on its last answer;
- resolved: self-service resolved, or handed off and every ticket of it resolved;
- deflected: no person was needed (no handoff), however it ended;
- returned: the same browser started another conversation on the same topic within `window` (7 days)
  after this one's last message; first-contact resolved (FCR) = resolved and not returned.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from assistant.cx.facts import ConversationFacts
from assistant.cx.topics import TopicMatcher


@dataclass(frozen=True, slots=True)
class Outcome:
    """One conversation's contribution to every figure; the rows behind the Insights CSV."""

    session_id: str
    language: str
    started_at: datetime
    ended: bool
    handed_off: bool
    last_answer_thumbs_down: bool
    self_service_resolved: bool | None     # None while the conversation has not ended
    resolved: bool | None
    deflected: bool | None
    returned: bool | None                  # None: no browser id, or not ended
    fcr: bool | None                       # None: not counted in FCR (no browser id, or not ended)
    fcr_pending: bool                      # the return window is still open: FCR may still turn false
    first_grounded_s: float | None         # seconds from the first question to the first cited answer
    csat: int | None
    ces: int | None
    nps: int | None
    surveys_asked: tuple[str, ...] = ()
    surveys_answered: tuple[str, ...] = ()
    sources: tuple[str, ...] = ()          # every source its answers cited


def classify(
    conversations: Sequence[ConversationFacts], now: datetime, matcher: TopicMatcher | None,
    idle: timedelta = timedelta(minutes=30), window: timedelta = timedelta(days=7),
) -> list[Outcome]:
    """Outcomes of `conversations` (pass the later ones too: returns are looked for among them).

    Without a `matcher`, returns are not looked for (FCR stays None).
    """
    returned = _returns(conversations, matcher, window) if matcher is not None else set()
    return [_outcome(c, now, idle, window, c.session_id in returned, matcher is not None) for c in conversations]


def ended_at(c: ConversationFacts) -> datetime:
    """When the conversation ended (or would end): its last message, or the explicit end if later."""
    return max(c.last_message_at, c.ended_at) if c.ended_at else c.last_message_at


def _outcome(c: ConversationFacts, now: datetime, idle: timedelta, window: timedelta, returned: bool,
             looked: bool) -> Outcome:
    ended = c.ended_at is not None or now - c.last_message_at >= idle
    last = c.answers[-1] if c.answers else None
    thumbs_down = bool(last and last.rating < 0)
    self_service = (not c.handed_off and not thumbs_down) if ended else None
    resolved = (bool(self_service) or (c.handed_off and c.ticket_status == "resolved")) if ended else None
    counted = ended and bool(c.customer_id) and looked
    grounded_s = None
    if not c.handed_off and c.first_grounded_at and c.first_question_at:
        grounded_s = max(0.0, (c.first_grounded_at - c.first_question_at).total_seconds())
    return Outcome(
        session_id=c.session_id,
        language=c.language,
        started_at=c.started_at,
        ended=ended,
        handed_off=c.handed_off,
        last_answer_thumbs_down=thumbs_down,
        self_service_resolved=self_service,
        resolved=resolved,
        deflected=(not c.handed_off) if ended else None,
        returned=returned if counted else None,
        fcr=(bool(resolved) and not returned) if counted else None,
        fcr_pending=counted and not returned and now < ended_at(c) + window,
        first_grounded_s=grounded_s,
        csat=c.score("csat"),
        ces=c.score("ces"),
        nps=c.score("nps"),
        surveys_asked=tuple(kind for kind, _status, _score in c.surveys),
        surveys_answered=tuple(kind for kind, status, _score in c.surveys if status == "answered"),
        sources=tuple(dict.fromkeys(s for a in c.answers for s in a.sources)),
    )


def _returns(conversations: Iterable[ConversationFacts], matcher: TopicMatcher, window: timedelta) -> set[str]:
    """Sessions followed, within `window` of their end, by a same-topic conversation of the same browser."""
    by_customer: dict[str, list[ConversationFacts]] = defaultdict(list)
    for c in conversations:
        if c.customer_id:
            by_customer[c.customer_id].append(c)
    returned: set[str] = set()
    for visits in by_customer.values():
        visits.sort(key=lambda c: c.started_at)
        for i, first in enumerate(visits):
            end = ended_at(first)
            for later in visits[i + 1:]:
                if later.started_at - end > window:
                    break
                if later.started_at > first.started_at and matcher.same_topic(first.questions, later.questions):
                    returned.add(first.session_id)
                    break
    return returned
