"""Insights (staff): how self-service is doing over a period: volume, resolution, escalations, feedback, gaps."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

import pandas as pd
import streamlit as st

from assistant.config import Settings
from ui import access
from ui.export import download_csv
from ui.gaps import unanswered_groups
from ui.render import group_rows, percent
from ui.resources import Resources
from ui.views.calibration_panel import render_calibration

logger = logging.getLogger(__name__)

PERIODS = {"Last 24 hours": 1, "Last 7 days": 7, "Last 30 days": 30, "Last 90 days": 90, "All time": None}
TOP_GROUPS = 10


def period_bounds(choice: str, now: datetime | None = None) -> tuple[datetime | None, datetime | None]:
    """(since, until) for a period label; None means unbounded."""
    days = PERIODS[choice]
    now = now or datetime.now(UTC)
    return (None if days is None else now - timedelta(days=days)), None


def render(settings: Settings, res: Resources) -> None:
    if not access.allowed("insights"):
        return
    st.title("Insights")
    choice = st.selectbox("Period", list(PERIODS), index=2, key="insights_period")
    since, until = period_bounds(choice)
    try:
        stats = res.log.stats(since, until)
    except Exception:
        logger.exception("could not compute insights")
        st.error("Could not load the metrics; see the server log.")
        return
    _metrics(stats)
    left, right = st.columns(2)
    with left:
        _bar("Escalation rate by reason", stats["escalation_rate_by_reason"], "reason", "rate")
        _bar("Conversations per language", stats["volume_by_language"], "language", "conversations")
    with right:
        _bar("Feedback", {"thumbs up": stats["thumbs_up"], "thumbs down": stats["thumbs_down"]}, "vote", "count")
        _top_unanswered(res, since, until)
    render_calibration(res.assistant.retriever.snapshot().calibration, settings)


def _metrics(stats: dict) -> None:
    row = st.columns(4)
    row[0].metric("Conversations", stats["conversations"])
    row[1].metric("Self-service resolution", percent(stats["self_service_resolution_rate"]))
    row[2].metric("Escalation rate", percent(stats["escalation_rate"]))
    row[3].metric("Handoffs", stats["handoffs"])
    row = st.columns(4)
    row[0].metric("Questions", stats["questions"])
    row[1].metric("Thumbs up", stats["thumbs_up"])
    row[2].metric("Thumbs down", stats["thumbs_down"])
    row[3].metric("Unanswered", stats["unanswered"])


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
