"""Handoffs (staff): the queue of conversations passed to a person, most urgent first; claim and resolve."""

from __future__ import annotations

import logging

import pandas as pd
import streamlit as st

from assistant.config import Settings
from assistant.errors import KBError
from assistant.tickets import QueuePage
from ui import access
from ui.export import download_csv
from ui.render import format_time, message_html, source_line, ticket_label, ticket_rows
from ui.resources import Resources

logger = logging.getLogger(__name__)

SELECTED, FLASH, PAGE = "handoffs_selected", "handoffs_flash", "handoffs_page"
SHOW_CHOICES = ("Active", "All")
PAGE_SIZE = 25  # one query of at most this many rows (no transcripts) per rerun; the open ticket is read alone


def render(settings: Settings, res: Resources) -> None:
    if not access.allowed("handoffs"):
        return
    st.title("Handoffs")
    _show_flash()
    show = st.radio("Show", SHOW_CHOICES, horizontal=True, key="handoffs_show")
    st.button("Refresh", key="handoffs_refresh", icon=":material/refresh:")
    try:
        page = _load_page(res, active_only=show == "Active")
    except KBError as exc:
        logger.exception("could not list tickets")
        st.error(f"Could not load the queue: {exc}")
        return
    if not page.entries:
        st.info("No conversations waiting for a person.")
        return
    rows = ticket_rows(page.entries)
    st.dataframe(rows, hide_index=True)
    download_csv(rows, "handoffs.csv", key="handoffs_download")
    if page.pages > 1:
        pager = st.container(horizontal=True)
        pager.number_input("Page", min_value=1, max_value=page.pages, step=1, key=PAGE, width=160)
        pager.caption(f"Tickets {page.offset + 1}–{page.offset + len(page.entries)} of {page.total}")
    ids = [entry.ticket_id for entry in page.entries]
    labels = {entry.ticket_id: ticket_label(entry) for entry in page.entries}
    if st.session_state.get(SELECTED) not in ids:
        st.session_state[SELECTED] = ids[0]
    selected = st.selectbox("Open ticket", ids, key=SELECTED, format_func=labels.get)
    try:
        ticket = res.tickets.get(selected)
    except KBError as exc:  # resolved and gone from this page meanwhile, or the database is away
        st.warning(str(exc))
        return
    _render_ticket(res, ticket, next(e.ahead for e in page.entries if e.ticket_id == selected))


def _load_page(res: Resources, active_only: bool) -> QueuePage:
    """The page the staff member is on, or the last one when the queue shrank below it."""
    number = max(1, int(st.session_state.get(PAGE, 1)))
    page = res.tickets.page(active_only=active_only, offset=(number - 1) * PAGE_SIZE, limit=PAGE_SIZE)
    if number > page.pages:
        st.session_state[PAGE] = page.pages
        page = res.tickets.page(active_only=active_only, offset=(page.pages - 1) * PAGE_SIZE, limit=PAGE_SIZE)
    return page


def _render_ticket(res: Resources, ticket, ahead: int | None) -> None:
    st.subheader(f"Ticket {ticket.ticket_id}")
    if ahead is not None:
        st.caption(f"People ahead of this customer in the queue: {ahead}")
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
        for position, turn in enumerate(ticket.transcript):
            if position == 1 and ticket.turns_omitted:
                st.caption(f"… {ticket.turns_omitted} earlier messages not kept (transcript cap) …")
            with st.chat_message("user" if turn.role == "user" else "assistant"):
                st.markdown(message_html(turn.content, None, markdown=turn.role != "user"), unsafe_allow_html=True)


def _render_details(ticket) -> None:
    st.markdown("**Summary**")
    st.markdown(message_html(ticket.summary, None, markdown=False), unsafe_allow_html=True)
    st.markdown("**Reasons:** " + (", ".join(ticket.reasons) or "none"))
    if ticket.sources:
        st.markdown("**Sources the assistant used**")
        for source in ticket.sources:
            st.markdown("- " + source_line(source.title, source.source, source.page))
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
