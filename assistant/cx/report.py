"""One period's customer-experience report: the figures, per language side by side, week by week.

The Insights page and `kb report` both build this, so they always show the same numbers. Every
conversation figure counts a conversation in the period and the week in which it started, in its
language; ticket times count a ticket in the period of its creation, in its language.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from assistant.config import Settings
from assistant.cx.facts import Facts, TicketFacts, load_facts
from assistant.cx.figures import Figures, compute, week_start
from assistant.cx.outcomes import Outcome, classify
from assistant.cx.topics import Embed, TopicMatcher
from assistant.db import Database, utc_now


@dataclass(frozen=True, slots=True)
class Report:
    since: datetime | None
    until: datetime | None
    language: str | None                 # None = every language
    now: datetime
    figures: Figures
    by_language: dict[str, Figures]      # every configured language, in the configured order
    weekly: tuple[tuple[datetime, Figures], ...]
    outcomes: tuple[Outcome, ...]        # the conversations behind the figures (filtered)
    tickets: tuple[TicketFacts, ...]
    facts: Facts                         # what was read (the period, plus the return window after it)

    def to_dict(self) -> dict:
        return {
            "since": _iso(self.since),
            "until": _iso(self.until),
            "language": self.language,
            "now": _iso(self.now),
            "figures": self.figures.to_dict(),
            "by_language": {code: f.to_dict() for code, f in self.by_language.items()},
            "weekly": [{"week": start.date().isoformat(), **f.to_dict()} for start, f in self.weekly],
        }


def build_report(
    db: Database, settings: Settings, embed: Embed | None, since: datetime | None = None,
    until: datetime | None = None, language: str | None = None, now: datetime | None = None,
) -> Report:
    """The report for conversations started in [since, until) (None: unbounded), optionally one language.

    `embed` (texts -> query vectors) matches a return's topic; without it FCR is not computed.
    """
    if since and until and since >= until:
        raise ValueError(f"Expected the start of the period before its end, got {since} and {until}")
    now = now or utc_now()
    window = timedelta(days=settings.fcr_window_days)
    facts = load_facts(db, since, until + window if until else None, tickets_until=until)
    matcher = TopicMatcher(embed, settings.fcr_topic_similarity) if embed is not None else None
    all_outcomes = classify(facts.conversations, now, matcher,
                            idle=timedelta(minutes=settings.conversation_idle_minutes), window=window)
    in_period = [o for o in all_outcomes if until is None or o.started_at < until]
    outcomes = [o for o in in_period if language is None or o.language == language]
    tickets = [t for t in facts.tickets if language is None or t.language == language]
    by_language = {
        code: compute([o for o in in_period if o.language == code], [t for t in facts.tickets if t.language == code])
        for code in settings.languages
    }
    return Report(
        since=since, until=until, language=language, now=now, figures=compute(outcomes, tickets),
        by_language=by_language, weekly=tuple(weekly(outcomes, tickets, since, until or now)),
        outcomes=tuple(outcomes), tickets=tuple(tickets), facts=facts,
    )


def weekly(outcomes: Sequence[Outcome], tickets: Sequence[TicketFacts], since: datetime | None,
           until: datetime) -> list[tuple[datetime, Figures]]:
    """Figures per week (Monday to Sunday, UTC), from the week of `since` (or the first data) to `until`."""
    starts = [o.started_at for o in outcomes] + [t.created_at for t in tickets]
    first = since or min(starts, default=None)
    if first is None:
        return []
    weeks = []
    start = week_start(first)
    while start < until:
        end = start + timedelta(days=7)
        weeks.append((start, compute([o for o in outcomes if start <= o.started_at < end],
                                     [t for t in tickets if start <= t.created_at < end])))
        start = end
    return weeks


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None
