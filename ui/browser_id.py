"""A first-party browser id: a random value kept in a cookie, so a returning customer is recognised.

It holds no personal data: a random hex string made here, readable only by this site. The figures use
it to see a customer come back on the same topic (first-contact resolution) and to ask NPS at most once
in `nps_interval_days`. Streamlit reads cookies (`st.context.cookies`, sent with the page's connection)
but cannot set them, so a new id is written by a one-line script in the page; the next visit sends it.
"""

from __future__ import annotations

import re
import uuid

import streamlit as st

COOKIE = "tamu_browser"
MAX_AGE_S = 400 * 86_400             # the longest lifetime browsers accept (Chromium caps cookies at 400 days)
_KEY, _NEW = "browser_id", "browser_id_new"
_VALID = re.compile(r"[A-Za-z0-9_-]{8,64}")  # what assistant.conversation_log accepts


def read_cookie(cookies) -> str:
    """The id in the request's cookies if it is well formed, else ""."""
    try:
        value = str(cookies.get(COOKIE) or "")
    except Exception:  # no request context (e.g. AppTest): behave as a browser without the cookie
        return ""
    return value if _VALID.fullmatch(value) else ""


def cookie_script(value: str) -> str:
    """The script that stores `value` in the browser (first party, this site only, never sent to others)."""
    if not _VALID.fullmatch(value):
        raise ValueError(f"Expected a browser id of 8-64 letters, digits, _ or -, got {value[:80]!r}")
    return (f"<script>document.cookie = '{COOKIE}={value}; Max-Age={MAX_AGE_S}; Path=/; SameSite=Strict';"
            "</script>")


def browser_id() -> str:
    """This browser's id: the cookie's, or a new one (stored in the cookie by the page drawn now)."""
    state = st.session_state
    if _KEY not in state:
        found = read_cookie(st.context.cookies)
        state[_KEY], state[_NEW] = found or uuid.uuid4().hex, not found
    if state[_NEW]:
        st.html(cookie_script(state[_KEY]), unsafe_allow_javascript=True)
    return state[_KEY]


def known_browser_id() -> str:
    """The id `browser_id()` settled on in this session ("" before it ran), without drawing anything."""
    return str(st.session_state.get(_KEY, ""))
