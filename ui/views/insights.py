"""Insights (staff): customer-experience figures over a period, week by week, per language, with their rows as CSV.

Every figure comes from assistant.cx.report (the same report `kb report` prints; definitions in
docs/metrics.md). Below them: escalation reasons, feedback votes, the top unanswered questions and
the confidence calibration in force.
"""

from __future__ import annotations

import logging
from datetime import UTC, date, datetime, time, timedelta

import pandas as pd
import streamlit as st

from assistant.config import Settings
from assistant.cx.display import duration_text, mean_text, nps_text, rate_text
from assistant.cx.figures import week_start
from assistant.cx.report import Report
from ui import access
from ui.cx_data import insights_report
from ui.cx_rows import NPS_MIX, RESOLUTION, TTR, conversation_rows, handoff_rows, language_rows, weekly_rows
from ui.export import download_csv
from ui.gaps import unanswered_groups
from ui.render import group_rows
from ui.resources import Resources
from ui.views.calibration_panel import render_calibration

logger = logging.getLogger(__name__)

CUSTOM = "Custom dates"
PERIODS = {"Last 4 weeks": 4, "Last 12 weeks": 12, "Last 26 weeks": 26, "Last 52 weeks": 52, "All time": None,
           CUSTOM: None}
ALL = "all"
TOP_GROUPS = 10
CHART_HEIGHT = 240


def period_bounds(choice: str, now: datetime, dates: tuple[date, ...] = ()) -> tuple[datetime | None, datetime | None]:
    """(since, until) for a period label; None means unbounded. "Last N weeks" are whole weeks, this one included."""
    if choice == CUSTOM:
        if not dates:
            return None, None
        first, last = dates[0], dates[-1]
        return _midnight(first), _midnight(last) + timedelta(days=1)
    weeks = PERIODS[choice]
    return (None if weeks is None else week_start(now) - timedelta(weeks=weeks - 1)), None


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time(), tzinfo=UTC)


def render(settings: Settings, res: Resources) -> None:
    if not access.allowed("insights"):
        return
    st.title("Insights")
    since, until, language = _filters(settings)
    try:
        report = insights_report(res, since, until, language)
    except Exception:
        logger.exception("could not compute the customer-experience report")
        st.error("Could not load the metrics; see the server log.")
        return
    _headline(report)
    _trends(report)
    _per_language(report)
    _exports(report)
    st.divider()
    _more(res, since, until)
    render_calibration(res.assistant.retriever.snapshot().calibration, settings)


def _filters(settings: Settings) -> tuple[datetime | None, datetime | None, str | None]:
    period_column, language_column = st.columns(2)
    choice = period_column.selectbox("Period", list(PERIODS), index=1, key="insights_period")
    now = datetime.now(UTC)
    dates: tuple[date, ...] = ()
    if choice == CUSTOM:
        today = now.date()
        picked = period_column.date_input("From – to (UTC, both included)", value=(today - timedelta(days=27), today),
                                          key="insights_dates")
        dates = tuple(picked) if isinstance(picked, (tuple, list)) else (picked,)
    code = language_column.selectbox(
        "Language", (ALL, *settings.languages), key="insights_language",
        format_func=lambda c: "All languages" if c == ALL else c,
    )
    since, until = period_bounds(choice, now, dates)
    return since, until, None if code == ALL else code


def _headline(report: Report) -> None:
    f = report.figures
    rows = (
        (("Conversations", str(f.conversations)), ("Self-service resolution", rate_text(f.self_service_resolution)),
         ("FCR", rate_text(f.fcr)), ("Escalation rate", rate_text(f.escalation_rate))),
        (("CSAT", rate_text(f.csat)), ("CES", mean_text(f.ces_mean)), ("NPS", nps_text(f.nps)),
         ("Deflection", rate_text(f.deflection))),
        (("Tickets", str(f.tickets)), ("Claimed in (median)", duration_text(f.created_to_claimed.median_s)),
         ("Resolved in (median)", duration_text(f.claimed_to_resolved.median_s)),
         ("First grounded answer (median)", duration_text(f.first_grounded_answer.median_s))),
    )
    for row in rows:
        for column, (label, value) in zip(st.columns(len(row)), row, strict=True):
            column.metric(label, value)
    pending = f", {f.fcr_pending} of them still inside their return window" if f.fcr_pending else ""
    st.caption(
        f"{f.ended} of {f.conversations} conversations have ended; rates are shares of those. CSAT is the share "
        f"of {f.csat_responses} answers that are 4 or 5; CES the mean of {f.ces_responses} answers (1–7); NPS "
        f"from {f.nps_responses} answers. FCR counts {f.fcr_counted} conversations with a browser id{pending}. "
        "Definitions: docs/metrics.md."
    )


def _trends(report: Report) -> None:
    st.subheader("Week by week")
    weeks = weekly_rows(report)
    if not weeks:
        st.caption("No conversations in this period.")
        return
    frame = pd.DataFrame(weeks).set_index("week")
    left, right = st.columns(2)
    with left:
        _chart("Self-service resolution, FCR and escalation rate (%)", frame[list(RESOLUTION)])
        _chart("CSAT: answers of 4 or 5 (%)", frame[["CSAT %"]])
        _chart("NPS (−100 to 100)", frame[["NPS"]])
    with right:
        _chart("Time to resolution: created → claimed, claimed → resolved (minutes)", frame[list(TTR)])
        _chart("CES: mean answer (1–7, higher is easier)", frame[["CES mean"]])
        st.markdown("**NPS answers: promoters, passives, detractors**")
        st.bar_chart(frame[list(NPS_MIX)], height=CHART_HEIGHT, color=["#2e7d32", "#9e9e9e", "#c62828"])
    with st.expander("Weekly figures as a table"):
        st.dataframe(frame.reset_index(), hide_index=True)


def _chart(title: str, data: pd.DataFrame) -> None:
    st.markdown(f"**{title}**")
    st.line_chart(data, height=CHART_HEIGHT)


def _per_language(report: Report) -> None:
    st.subheader("Per language")
    st.caption("Every configured language side by side, over the period (the language filter applies above).")
    st.dataframe(language_rows(report), hide_index=True)


def _exports(report: Report) -> None:
    st.markdown("**Download the rows behind these figures**")
    columns = st.columns(3)
    with columns[0]:
        download_csv(conversation_rows(report.outcomes), "cx-conversations.csv", key="insights_cx_conversations",
                     label="Conversations CSV")
    with columns[1]:
        download_csv(handoff_rows(report.tickets), "cx-handoffs.csv", key="insights_cx_handoffs", label="Handoffs CSV")
    with columns[2]:
        download_csv(weekly_rows(report), "cx-weekly.csv", key="insights_cx_weekly", label="Weekly figures CSV")


def _more(res: Resources, since: datetime | None, until: datetime | None) -> None:
    """Escalation reasons, votes and gaps (every language: the conversation log's own counts)."""
    try:
        stats = res.log.stats(since, until)
    except Exception:
        logger.exception("could not compute insights")
        st.error("Could not load the escalation and feedback counts; see the server log.")
        return
    left, right = st.columns(2)
    with left:
        _bar("Escalation rate by reason", stats["escalation_rate_by_reason"], "reason", "rate")
        _bar("Feedback", {"thumbs up": stats["thumbs_up"], "thumbs down": stats["thumbs_down"]}, "vote", "count")
    with right:
        _top_unanswered(res, since, until)


def _bar(title: str, values: dict, label: str, measure: str) -> None:
    st.markdown(f"**{title}**")
    if not values or not any(values.values()):
        st.caption("No data in this period.")
        return
    frame = pd.DataFrame({label: list(values), measure: list(values.values())})
    st.bar_chart(frame, x=label, y=measure, height=220)


def _top_unanswered(res: Resources, since: datetime | None, until: datetime | None) -> None:
    st.markdown("**Top unanswered questions**")
    try:
        total, groups = unanswered_groups(res, since, until)
    except Exception:
        logger.exception("could not group unanswered questions")
        st.error("Could not group the unanswered questions; see the server log.")
        return
    if not groups:
        st.caption("No unanswered questions in this period.")
        return
    st.caption(f"{total} questions in {len(groups)} groups.")
    rows = group_rows(groups[:TOP_GROUPS])
    st.dataframe(rows, hide_index=True)
    download_csv(group_rows(groups), "unanswered-questions.csv", key="insights_gaps_download")
