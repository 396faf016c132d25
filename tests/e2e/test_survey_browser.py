"""The end-of-conversation survey in the real app (`streamlit run`) in Debian's Chromium.

Answered, skipped, and NPS throttled: a second conversation from the same browser (the same cookie,
a new page and so a new Streamlit session) within 90 days is asked CSAT and CES but not NPS, while
another browser is asked NPS again. What the page stored is read straight from the app database.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from assistant.config import Settings
from assistant.phrases import phrase
from tests.e2e.browser import STEP_MS, ask, start_app, wait_idle
from tests.e2e.corpus import app_env
from tests.helpers import raw_rows, stop_process
from ui.browser_id import COOKIE

pytestmark = pytest.mark.browser

QUESTION = "How long do refunds take to reach my card?"


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    """The app on the tiny corpus; the idle survey far away, so only the customer's actions end conversations."""
    tmp = tmp_path_factory.mktemp("survey")
    env = {**app_env(tmp), "KB_SURVEY_IDLE_S": "3600"}
    proc, url = start_app(env, tmp / "streamlit.log")
    settings = Settings(corpus_dir=Path(env["KB_CORPUS_DIR"]), data_dir=Path(env["KB_DATA_DIR"]))
    try:
        yield {"url": url, "db": settings.resolved_database_url}
    finally:
        stop_process(proc, timeout=20)


@pytest.fixture
def new_browser(browser):
    """A fresh browser profile (its own cookies) per call."""
    contexts = []

    def make():
        context = browser.new_context(viewport={"width": 1300, "height": 1000})
        context.set_default_timeout(STEP_MS)
        contexts.append(context)
        return context

    yield make
    for context in contexts:
        context.close()


def open_help(context, url: str):
    page = context.new_page()
    page.goto(url)
    page.get_by_text("An AI assistant answers here", exact=False).first.wait_for()
    wait_idle(page)
    return page


def question(page, kind: str):
    """The survey question (st.pills keyed help_survey_<kind>: a radio group, one tap per choice)."""
    return page.locator(f".st-key-help_survey_{kind}")


def choices(page, kind: str):
    return question(page, kind).get_by_role("radio")


def tap(page, kind: str, score: int) -> None:
    choices(page, kind).get_by_text(str(score), exact=True).click()
    wait_idle(page)


def done(page) -> None:
    """Click "I'm done" and wait for the survey's first question to be drawn."""
    page.get_by_role("button", name="I'm done").click()
    choices(page, "csat").first.wait_for()
    wait_idle(page)


def cookie(context) -> str:
    return next(c["value"] for c in context.cookies() if c["name"] == COOKIE)


def session_of(app, customer: str) -> list[str]:
    rows = raw_rows(app["db"], "SELECT session_id FROM conversations WHERE customer_id = "
                               f"'{customer}' ORDER BY started_at")
    return [r[0] for r in rows]


def survey(app, session: str) -> dict[str, tuple]:
    rows = raw_rows(app["db"], "SELECT kind, status, score, trigger, sources FROM survey_responses "
                               f"WHERE session_id = '{session}'")
    return {r[0]: tuple(r[1:]) for r in rows}


def test_survey_answered_one_tap_each(app, new_browser):
    context = new_browser()
    page = open_help(context, app["url"])
    browser_id = cookie(context)                       # set by the page itself, a random id
    assert len(browser_id) == 32
    assert "5 to 10 working days" in ask(page, QUESTION).inner_text()
    done(page)
    assert page.get_by_text("Before you go: a few quick questions").is_visible()
    assert choices(page, "csat").all_inner_texts() == [str(n) for n in range(1, 6)]
    assert choices(page, "ces").all_inner_texts() == [str(n) for n in range(1, 8)]
    assert choices(page, "nps").all_inner_texts() == [str(n) for n in range(11)]
    tap(page, "csat", 4)
    tap(page, "ces", 6)
    tap(page, "nps", 9)
    page.get_by_text("Thank you for your answers!").wait_for()
    assert question(page, "csat").count() == 0
    [session] = session_of(app, browser_id)
    stored = survey(app, session)
    assert {kind: row[:2] for kind, row in stored.items()} == {
        "csat": ("answered", 4), "ces": ("answered", 6), "nps": ("answered", 9)}
    assert stored["csat"][2] == "done" and json.loads(stored["csat"][3]) == ["docs/refunds.md"]


def test_survey_after_thanks_skipped_and_the_chat_goes_on(app, new_browser):
    context = new_browser()
    page = open_help(context, app["url"])
    ask(page, QUESTION)
    reply = ask(page, "Thanks, bye!")
    assert phrase("closing", "en") in reply.inner_text()
    choices(page, "csat").first.wait_for()
    wait_idle(page)
    page.get_by_role("button", name="Skip").click()
    page.get_by_text("The chat stays open if you need anything else.").wait_for()
    assert question(page, "csat").count() == 0
    assert "5 to 10 working days" in ask(page, QUESTION).inner_text()       # never blocked
    [session] = session_of(app, cookie(context))
    stored = survey(app, session)
    assert {row[0] for row in stored.values()} == {"skipped"} and stored["csat"][2] == "thanks"


def test_nps_is_not_asked_again_of_the_same_browser(app, new_browser):
    context = new_browser()
    first = open_help(context, app["url"])
    ask(first, QUESTION)
    done(first)
    assert choices(first, "nps").count() == 11
    tap(first, "nps", 10)
    first.close()
    second = open_help(context, app["url"])                   # a new conversation, same browser (same cookie)
    ask(second, QUESTION)
    done(second)
    assert question(second, "csat").count() == 1 and question(second, "nps").count() == 0
    sessions = session_of(app, cookie(context))
    assert len(sessions) == 2                                 # both conversations carry the browser's id
    assert set(survey(app, sessions[0])) == {"csat", "ces", "nps"}
    assert set(survey(app, sessions[1])) == {"csat", "ces"}
    other = open_help(new_browser(), app["url"])               # another browser is asked NPS
    ask(other, QUESTION)
    done(other)
    assert choices(other, "nps").count() == 11
