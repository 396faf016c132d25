"""Handoffs (staff): the queue of conversations passed to a person, most urgent first; claim and resolve."""

from __future__ import annotations

import logging

import pandas as pd
import streamlit as st

from assistant.config import Settings
from assistant.errors import KBError
from ui import access
from ui.render import format_time, message_html, ticket_label, ticket_rows
from ui.resources import Resources

logger = logging.getLogger(__name__)

SELECTED, FLASH = "handoffs_selected", "handoffs_flash"
SHOW_CHOICES = ("Active", "All")


def render(settings: Settings, res: Resources) -> None:
    if not access.allowed("handoffs"):
        return
    st.title("Handoffs")
    _show_flash()
    show = st.radio("Show", SHOW_CHOICES, horizontal=True, key="handoffs_show")
    st.button("Refresh", key="handoffs_refresh", icon=":material/refresh:")
    try:
        tickets = res.tickets.list()
    except KBError as exc:
        logger.exception("could not list tickets")
        st.error(f"Could not load the queue: {exc}")
        return
    if show == "Active":
        tickets = [tk for tk in tickets if tk.active]
    if not tickets:
        st.info("No conversations waiting for a person.")
        return
    st.dataframe(ticket_rows(tickets), hide_index=True)
    ids = [tk.ticket_id for tk in tickets]
    labels = {tk.ticket_id: ticket_label(tk) for tk in tickets}
    if st.session_state.get(SELECTED) not in ids:
        st.session_state[SELECTED] = ids[0]
    selected = st.selectbox("Open ticket", ids, key=SELECTED, format_func=labels.get)
    _render_ticket(res, next(tk for tk in tickets if tk.ticket_id == selected))


def _render_ticket(res: Resources, ticket) -> None:
    st.subheader(f"Ticket {ticket.ticket_id}")
    a, b, c, d = st.columns(4)
    a.metric("Status", ticket.status)
    b.metric("Priority", ticket.priority)
    c.metric("Confidence", f"{ticket.confidence:.2f}")
    d.metric("Frustration peak", f"{ticket.frustration_peak:.2f}")
    st.caption(
        f"Language {ticket.language} · created {format_time(ticket.created_at)} · "
        f"updated {format_time(ticket.updated_at)}"
        + (f" · claimed by {ticket.claimed_by}" if ticket.claimed_by else "")
        + (f" · resolved by {ticket.resolved_by}" if ticket.resolved_by else "")
    )
    actions = st.container(horizontal=True)
    actions.button(
        "Claim", key="handoffs_claim", type="primary", disabled=ticket.status != "open",
        on_click=_change, args=(res, ticket.ticket_id, "claim"),
    )
    actions.button(
        "Resolve", key="handoffs_resolve", disabled=not ticket.active,
        on_click=_change, args=(res, ticket.ticket_id, "resolve"),
    )
    details, transcript = st.columns([1, 1], gap="large")
    with details:
        _render_details(ticket)
    with transcript:
        st.markdown("**Transcript**")
        for turn in ticket.transcript:
            with st.chat_message("user" if turn.role == "user" else "assistant"):
                st.markdown(message_html(turn.content, None, markdown=turn.role != "user"), unsafe_allow_html=True)


def _render_details(ticket) -> None:
    st.markdown("**Summary**")
    st.markdown(message_html(ticket.summary, None, markdown=False), unsafe_allow_html=True)
    st.markdown("**Reasons:** " + (", ".join(ticket.reasons) or "none"))
    if ticket.sources:
        st.markdown("**Sources the assistant used**")
        for source in ticket.sources:
            page = f", page {source.page}" if source.page else ""
            st.markdown(f"- {source.title or source.source} — `{source.source}`{page}")
    if ticket.frustration_trajectory:
        st.markdown("**Frustration per customer message**")
        trajectory = pd.DataFrame(
            {"frustration": list(ticket.frustration_trajectory)},
            index=pd.Index(range(1, len(ticket.frustration_trajectory) + 1), name="message"),
        )
        st.bar_chart(trajectory, y="frustration", height=200)  # bars stay readable with one message


def _change(res: Resources, ticket_id: str, action: str) -> None:
    """Claim or resolve; a refusal (already claimed, resolved...) is shown, never raised."""
    staff = access.current_user() or "staff"
    try:
        if action == "claim":
            res.tickets.claim(ticket_id, staff)
            st.session_state[FLASH] = ("success", f"You claimed {ticket_id}.")
        else:
            res.tickets.resolve(ticket_id, staff)
            st.session_state[FLASH] = ("success", f"{ticket_id} is resolved.")
    except KBError as exc:
        st.session_state[FLASH] = ("warning", str(exc))
    except Exception:
        logger.exception("ticket %s: %s failed", ticket_id, action)
        st.session_state[FLASH] = ("error", f"Could not {action} {ticket_id}; see the server log.")


def _show_flash() -> None:
    flash = st.session_state.pop(FLASH, None)
    if flash:
        kind, text = flash
        getattr(st, kind)(text)
