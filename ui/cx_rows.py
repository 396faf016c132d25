"""The rows behind the customer-experience charts, tables and CSV files (Insights, Content): pure, no Streamlit.

Figures come from assistant.cx (definitions: docs/metrics.md). Charts get numbers (rates in percent,
times in minutes; a figure with nothing to count is None, drawn as a gap); tables get text formatted
per figure ("67%", "25 min", "+50", "—").
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from assistant.cx.articles import ArticleHealth
from assistant.cx.display import FIGURE_ROWS
from assistant.cx.facts import TicketFacts
from assistant.cx.figures import Figures
from assistant.cx.outcomes import Outcome
from assistant.cx.report import Report
from ui.render import format_time

# Weekly trend columns, grouped as the Insights charts draw them.
RESOLUTION = ("self-service resolution %", "FCR %", "escalation rate %")
NPS_MIX = ("promoters", "passives", "detractors")
TTR = ("created → claimed median (min)", "created → claimed p90 (min)",
       "claimed → resolved median (min)", "claimed → resolved p90 (min)")


def percent_value(rate: float | None) -> float | None:
    return None if rate is None else round(100 * rate, 1)


def minutes_value(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds / 60, 1)


def weekly_rows(report: Report) -> list[dict[str, Any]]:
    """One row per week (Monday, UTC) of the report: every trend the Insights charts draw."""
    return [{"week": start.date().isoformat(), **_trend(figures)} for start, figures in report.weekly]


def _trend(f: Figures) -> dict[str, Any]:
    return {
        "conversations": f.conversations,
        "ended": f.ended,
        RESOLUTION[0]: percent_value(f.self_service_resolution),
        RESOLUTION[1]: percent_value(f.fcr),
        RESOLUTION[2]: percent_value(f.escalation_rate),
        "deflection %": percent_value(f.deflection),
        "CSAT %": percent_value(f.csat),
        "CSAT mean": _rounded(f.csat_mean),
        "CSAT answers": f.csat_responses,
        "CES mean": _rounded(f.ces_mean),
        "CES answers": f.ces_responses,
        "NPS": _rounded(f.nps),
        NPS_MIX[0]: f.promoters,
        NPS_MIX[1]: f.passives,
        NPS_MIX[2]: f.detractors,
        "tickets": f.tickets,
        TTR[0]: minutes_value(f.created_to_claimed.median_s),
        TTR[1]: minutes_value(f.created_to_claimed.p90_s),
        TTR[2]: minutes_value(f.claimed_to_resolved.median_s),
        TTR[3]: minutes_value(f.claimed_to_resolved.p90_s),
        "first grounded answer median (s)": _rounded(f.first_grounded_answer.median_s),
    }


def _rounded(value: float | None, digits: int = 2) -> float | None:
    return None if value is None else round(value, digits)


def language_rows(report: Report) -> list[dict[str, str]]:
    """Every figure as a row, every configured language as a column (plus all languages together)."""
    every = [("all languages", report.figures if report.language is None else None)]
    columns = every + list(report.by_language.items())
    return [
        {"figure": label, **{code: fmt(f) for code, f in columns if f is not None}}
        for label, fmt in FIGURE_ROWS
    ]


def _yes_no(flag: bool | None) -> str:
    return "" if flag is None else ("yes" if flag else "no")


def conversation_rows(outcomes: Sequence[Outcome]) -> list[dict[str, Any]]:
    """One row per conversation behind the figures (the Insights CSV)."""
    return [
        {
            "session": o.session_id,
            "language": o.language,
            "started": format_time(o.started_at),
            "ended": _yes_no(o.ended),
            "handed off": _yes_no(o.handed_off),
            "last answer thumbs-down": _yes_no(o.last_answer_thumbs_down),
            "self-service resolved": _yes_no(o.self_service_resolved),
            "resolved": _yes_no(o.resolved),
            "deflected": _yes_no(o.deflected),
            "returned within window": _yes_no(o.returned),
            "fcr": _yes_no(o.fcr),
            "fcr pending": _yes_no(o.fcr_pending),
            "first grounded answer (s)": _rounded(o.first_grounded_s, 1),
            "csat": o.csat,
            "ces": o.ces,
            "nps": o.nps,
            "surveys asked": " ".join(o.surveys_asked),
            "surveys answered": " ".join(o.surveys_answered),
            "sources": " | ".join(o.sources),
        }
        for o in outcomes
    ]


def handoff_rows(tickets: Sequence[TicketFacts]) -> list[dict[str, Any]]:
    """One row per ticket behind the time-to-resolution figures (the Insights CSV)."""
    return [
        {
            "ticket": t.ticket_id,
            "session": t.session_id,
            "language": t.language,
            "status": t.status,
            "created": format_time(t.created_at),
            "claimed": format_time(t.claimed_at),
            "resolved": format_time(t.resolved_at),
            "created → claimed (min)": _minutes_between(t.created_at, t.claimed_at),
            "claimed → resolved (min)": _minutes_between(t.claimed_at, t.resolved_at),
        }
        for t in tickets
    ]


def _minutes_between(start, end) -> float | None:
    return None if start is None or end is None else round(max(0.0, (end - start).total_seconds()) / 60, 1)


def article_rows(health: Sequence[ArticleHealth]) -> list[dict[str, Any]]:
    """Article health, most in need of work first (the Content table and CSV)."""
    return [
        {
            "rank": rank,
            "source": a.source,
            "title": a.title,
            "needs work": a.needs_work,
            "cited": a.citations,
            "conversations": a.conversations,
            "thumbs-down rate %": percent_value(a.thumbs_down_rate),
            "mean CSAT": _rounded(a.csat_mean),
            "CSAT answers": a.csat_responses,
            "handoffs after": a.handoffs_after,
            "unanswered close to it": a.unanswered_near,
        }
        for rank, a in enumerate(health, start=1)
    ]
