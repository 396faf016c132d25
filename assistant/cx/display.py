"""The customer-experience figures as text: one format and one row order for every place that shows them.

The Insights page's per-language table and `kb report` both print `FIGURE_ROWS`, so a figure reads the
same in the browser and in a terminal ("67%", "25 min", "+50", "—" for nothing to count).
"""

from __future__ import annotations

from collections.abc import Callable

from assistant.cx.figures import Durations, Figures

NONE = "—"


def rate_text(rate: float | None) -> str:
    return NONE if rate is None else f"{100 * rate:.0f}%"


def mean_text(mean: float | None) -> str:
    return NONE if mean is None else f"{mean:.1f}"


def nps_text(nps: float | None) -> str:
    if nps is None:
        return NONE
    return f"{nps:+.0f}" if round(nps) else "0"


def duration_text(seconds: float | None) -> str:
    """A duration at a readable scale: "45 s", "25 min", "2.5 h", "3.0 d"."""
    if seconds is None:
        return NONE
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 90 * 60:
        return f"{seconds / 60:.0f} min"
    if seconds < 48 * 3600:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86400:.1f} d"


def _durations(pick: Callable[[Figures], Durations], which: str) -> Callable[[Figures], str]:
    return lambda f: duration_text(getattr(pick(f), which))


# (label, formatter): the rows of a figures table, in order.
FIGURE_ROWS: tuple[tuple[str, Callable[[Figures], str]], ...] = (
    ("Conversations", lambda f: str(f.conversations)),
    ("Ended", lambda f: str(f.ended)),
    ("Self-service resolution", lambda f: rate_text(f.self_service_resolution)),
    ("Resolution (with people)", lambda f: rate_text(f.resolution)),
    ("Deflection", lambda f: rate_text(f.deflection)),
    ("Escalation rate", lambda f: rate_text(f.escalation_rate)),
    ("FCR", lambda f: rate_text(f.fcr)),
    ("CSAT (4 or 5)", lambda f: rate_text(f.csat)),
    ("CSAT mean (1–5)", lambda f: mean_text(f.csat_mean)),
    ("CES mean (1–7)", lambda f: mean_text(f.ces_mean)),
    ("NPS", lambda f: nps_text(f.nps)),
    ("Promoters / passives / detractors", lambda f: f"{f.promoters} / {f.passives} / {f.detractors}"),
    ("Surveys answered / asked", lambda f: f"{f.surveys_answered} / {f.surveys_asked}"),
    ("Tickets", lambda f: str(f.tickets)),
    ("Created → claimed, median", _durations(lambda f: f.created_to_claimed, "median_s")),
    ("Created → claimed, p90", _durations(lambda f: f.created_to_claimed, "p90_s")),
    ("Claimed → resolved, median", _durations(lambda f: f.claimed_to_resolved, "median_s")),
    ("Claimed → resolved, p90", _durations(lambda f: f.claimed_to_resolved, "p90_s")),
    ("First grounded answer, median", _durations(lambda f: f.first_grounded_answer, "median_s")),
)
