"""Sign-in for staff and doc writers: the sidebar form and the per-page role check."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

import streamlit as st

from assistant.auth import AREAS_BY_ROLE, User, can_access, verify
from assistant.config import Settings
from assistant.sign_in_throttle import SignInThrottle

logger = logging.getLogger(__name__)

ROLE_KEY, USER_KEY, GOTO_KEY = "role", "user", "goto"
LAST_ACTIVE_KEY, IDLE_NOTICE_KEY = "staff_last_active", "staff_idle_notice"
LANDING = ("workbench", "content", "handoffs", "insights")


def current_role() -> str | None:
    return st.session_state.get(ROLE_KEY)


def current_user() -> str:
    return str(st.session_state.get(USER_KEY, ""))


def allowed(area: str) -> bool:
    """Defence in depth: every staff page calls this first and renders nothing else when refused."""
    if can_access(current_role(), area):
        return True
    st.error("This page is for signed-in staff. Sign in from the sidebar with an account that may open it.")
    return False


Directory = Callable[[str], User | None]


def sign_in_sidebar(settings: Settings, throttle: SignInThrottle, directory: Directory | None = None) -> str | None:
    """The sidebar sign-in form (or the signed-in user with a sign-out button); returns the role.

    `throttle` counts failures across sessions and processes; `directory` finds accounts made with
    `kb users add` (KB_USERS is always looked at first).
    """
    role = _end_if_idle(settings)
    with st.sidebar:
        notice = st.session_state.pop(IDLE_NOTICE_KEY, None)
        if notice:
            st.info(notice)
        if role:
            st.caption(f"Signed in as **{current_user()}** ({role})")
            st.button("Sign out", key="sign_out", on_click=_sign_out)
            return role
        with st.expander("Staff sign-in"):
            with st.form("sign_in", clear_on_submit=True):
                username = st.text_input("User name", key="sign_in_user")
                password = st.text_input("Password", type="password", key="sign_in_password")
                submitted = st.form_submit_button("Sign in")
            if submitted:
                _attempt(username, password, settings, throttle, directory)
    return current_role()


def _end_if_idle(settings: Settings) -> str | None:
    """Sign out a session idle for longer than `settings.staff_idle_minutes`; otherwise note this request.

    Session state lives on the server, so the check cannot be skipped by the browser; every rerun
    (any click or input) counts as activity.
    """
    role = current_role()
    if not role:
        return None
    now = time.monotonic()
    last = st.session_state.get(LAST_ACTIVE_KEY, now)
    if now - last > settings.staff_idle_minutes * 60:
        logger.info("%s signed out after %.0f idle minutes", current_user(), (now - last) / 60)
        _sign_out()
        st.session_state[IDLE_NOTICE_KEY] = (
            f"You were signed out after {settings.staff_idle_minutes:g} minutes without activity. Sign in again."
        )
        return None
    st.session_state[LAST_ACTIVE_KEY] = now
    return role


def _attempt(
    username: str, password: str, settings: Settings, throttle: SignInThrottle, directory: Directory | None
) -> None:
    """Check a sign-in through the throttle: counted per name and address on the server, not per tab."""
    result = throttle.attempt(
        username, password, _client_address(), lambda u, p: verify(u, p, settings, directory)
    )
    if result.wait_s > 0:
        st.error(f"Too many failed sign-ins. Try again in {max(1, round(result.wait_s))} seconds.")
        return
    if result.busy:
        st.error("Too many sign-ins at once. Try again in a few seconds.")
        return
    role = result.role
    if role is None:
        st.error("Wrong user name or password.")
        return
    st.session_state[ROLE_KEY] = role
    st.session_state[USER_KEY] = username.strip()
    st.session_state[LAST_ACTIVE_KEY] = time.monotonic()
    st.session_state[GOTO_KEY] = next(a for a in LANDING if a in AREAS_BY_ROLE[role])
    logger.info("%s signed in as %s", username.strip(), role)
    st.rerun()


def _client_address() -> str | None:
    """The browser's address as Streamlit saw the connection (None locally); forwarded headers are not
    trusted, since any client can set them."""
    try:
        address = st.context.ip_address
    except Exception:  # not available in every runtime (e.g. tests)
        return None
    return address if isinstance(address, str) and address else None


def _sign_out() -> None:
    for key in (ROLE_KEY, USER_KEY, GOTO_KEY, LAST_ACTIVE_KEY):
        st.session_state.pop(key, None)
    # Staff pages keep working state (open ticket, last Workbench answer); drop it with the session.
    for key in [k for k in st.session_state if str(k).startswith(("wb_", "handoffs_", "content_", "insights_"))]:
        del st.session_state[key]
