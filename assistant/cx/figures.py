"""The customer-experience figures of a set of conversations and tickets (formulas: docs/metrics.md).

Rates are shares (0..1) of the conversations that ended; a figure with nothing to count is None
(shown as "—"), never 0. Durations are seconds: the median and the 90th percentile (nearest rank:
the smallest value that at least 90% of the values do not exceed).
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta

from assistant.cx.facts import TicketFacts
from assistant.cx.outcomes import Outcome


@dataclass(frozen=True, slots=True)
class Durations:
    count: int
    median_s: float | None
    p90_s: float | None


@dataclass(frozen=True, slots=True)
class Figures:
    conversations: int                    # started in the period
    ended: int
    self_service_resolution: float | None
    resolution: float | None               # self-service or by a person (ticket resolved)
    deflection: float | None
    escalation_rate: float | None
    fcr: float | None
    fcr_counted: int                       # ended conversations with a browser id
    fcr_pending: int                       # of those, still inside their return window
    returns: int
    csat: float | None                     # share of CSAT answers that are 4 or 5
    csat_mean: float | None
    csat_responses: int
    ces_mean: float | None
    ces_easy: float | None                 # share of CES answers 5 to 7
    ces_responses: int
    nps: float | None                      # % promoters - % detractors, -100..100
    promoters: int
    passives: int
    detractors: int
    nps_responses: int
    surveys_asked: int                     # conversations that were asked the survey
    surveys_answered: int                  # ... and answered at least one question
    first_grounded_answer: Durations       # self-service: first question -> first cited answer
    created_to_claimed: Durations
    claimed_to_resolved: Durations
    created_to_resolved: Durations
    tickets: int

    def to_dict(self) -> dict:
        return asdict(self)


def compute(outcomes: Sequence[Outcome], tickets: Sequence[TicketFacts] = ()) -> Figures:
    """Figures for `outcomes` (conversations) and `tickets` (handoffs), both already filtered."""
    ended = [o for o in outcomes if o.ended]
    counted = [o for o in ended if o.fcr is not None]
    csat = [o.csat for o in outcomes if o.csat is not None]
    ces = [o.ces for o in outcomes if o.ces is not None]
    nps = [o.nps for o in outcomes if o.nps is not None]
    promoters = sum(1 for s in nps if s >= 9)
    detractors = sum(1 for s in nps if s <= 6)
    return Figures(
        conversations=len(outcomes),
        ended=len(ended),
        self_service_resolution=share(sum(1 for o in ended if o.self_service_resolved), len(ended)),
        resolution=share(sum(1 for o in ended if o.resolved), len(ended)),
        deflection=share(sum(1 for o in ended if o.deflected), len(ended)),
        escalation_rate=share(sum(1 for o in ended if o.handed_off), len(ended)),
        fcr=share(sum(1 for o in counted if o.fcr), len(counted)),
        fcr_counted=len(counted),
        fcr_pending=sum(1 for o in counted if o.fcr_pending),
        returns=sum(1 for o in counted if o.returned),
        csat=share(sum(1 for s in csat if s >= 4), len(csat)),
        csat_mean=statistics.fmean(csat) if csat else None,
        csat_responses=len(csat),
        ces_mean=statistics.fmean(ces) if ces else None,
        ces_easy=share(sum(1 for s in ces if s >= 5), len(ces)),
        ces_responses=len(ces),
        nps=100.0 * (promoters - detractors) / len(nps) if nps else None,
        promoters=promoters,
        passives=len(nps) - promoters - detractors,
        detractors=detractors,
        nps_responses=len(nps),
        surveys_asked=sum(1 for o in outcomes if o.surveys_asked),
        surveys_answered=sum(1 for o in outcomes if o.surveys_answered),
        first_grounded_answer=durations(o.first_grounded_s for o in outcomes),
        created_to_claimed=durations(_seconds(t.created_at, t.claimed_at) for t in tickets),
        claimed_to_resolved=durations(_seconds(t.claimed_at, t.resolved_at) for t in tickets),
        created_to_resolved=durations(_seconds(t.created_at, t.resolved_at) for t in tickets),
        tickets=len(tickets),
    )


def share(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def durations(values: Iterable[float | None]) -> Durations:
    known = sorted(v for v in values if v is not None)
    if not known:
        return Durations(0, None, None)
    return Durations(len(known), statistics.median(known), percentile(known, 90))


def percentile(ordered: Sequence[float], p: float) -> float:
    """Nearest-rank percentile of sorted values: the smallest value with at least p% of the values at or below."""
    if not ordered:
        raise ValueError("Expected at least one value, got none")
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


def _seconds(start: datetime | None, end: datetime | None) -> float | None:
    if start is None or end is None:
        return None
    return max(0.0, (end - start).total_seconds())


def week_start(moment: datetime) -> datetime:
    """Monday 00:00 (in `moment`'s time zone, UTC for stored times) of the week holding `moment`."""
    day = moment.replace(hour=0, minute=0, second=0, microsecond=0)
    return day - timedelta(days=day.weekday())
