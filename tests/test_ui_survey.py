"""The Help page's end-of-conversation survey through Streamlit's AppTest (the real app, real stores).

Faster than the browser tests (tests/e2e/test_survey_browser.py), and able to reach the triggers a
browser cannot time well: idleness after an answer, and a ticket resolved by staff while the customer waits.
"""

from __future__ import annotations

import json
import time

from assistant.phrases import phrase
from tests import test_ui_apptest
from tests.helpers import raw_rows
from tests.test_ui_apptest import ask, button, new_session, page_text
from ui.views.survey import LAST_ANSWER, SURVEY

# The Help page tests' app and stores (one first-run ingest per module), shared as fixtures here.
env, resources = test_ui_apptest.env, test_ui_apptest.resources
QUESTION = "How long do refunds take to reach my card?"


def survey_rows(resources, session: str) -> dict[str, tuple]:
    """kind -> (status, score, trigger, language, handed_off, sources, customer_id), straight from the database."""
    rows = raw_rows(resources.settings.resolved_database_url,
                    "SELECT kind, status, score, trigger, language, handed_off, sources, customer_id "
                    f"FROM survey_responses WHERE session_id = '{session}'")
    return {r[0]: tuple(r[1:]) for r in rows}


def tap(at, kind: str, score: int):
    at.button_group(key=f"help_survey_{kind}").set_value(score).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def test_done_asks_three_questions_one_tap_each_and_stores_them_with_the_conversation(env, resources):
    at = ask(new_session(env), QUESTION)
    session, browser = at.session_state["help_session"], at.session_state["browser_id"]
    assert len(browser) == 32 and at.session_state["browser_id_new"]   # no cookie yet: a new random id
    assert not [g for g in at.button_group]                             # no survey before the end
    button(at, "I'm done").click().run()
    assert "Before you go: a few quick questions." in page_text(at)
    assert [g.key for g in at.button_group] == ["help_survey_csat", "help_survey_ces", "help_survey_nps"]
    assert at.button_group(key="help_survey_ces").options == [str(n) for n in range(1, 8)]
    tap(at, "csat", 4)
    tap(at, "ces", 6)
    assert "Before you go" in page_text(at)                              # NPS still open
    tap(at, "nps", 9)
    assert "Thank you for your answers!" in page_text(at) and not [g for g in at.button_group]
    rows = survey_rows(resources, session)
    assert {kind: row[:2] for kind, row in rows.items()} == {
        "csat": ("answered", 4), "ces": ("answered", 6), "nps": ("answered", 9)}
    trigger, language, handed_off, sources, customer = rows["csat"][2:]
    assert (trigger, language, handed_off, customer) == ("done", "en", 0, browser)
    assert json.loads(sources) == ["docs/refunds.md"]
    conversation = resources.log.conversation(session)
    assert conversation["end_reason"] == "done" and conversation["customer_id"] == browser


def test_thanks_ends_the_conversation_and_skip_closes_the_survey_without_blocking_the_chat(env, resources):
    at = ask(ask(new_session(env), QUESTION), "Asante sana!")
    session = at.session_state["help_session"]
    assert at.chat_message[-1].markdown[0].value.count(phrase("closing", "sw")) == 1
    assert at.session_state[SURVEY].trigger == "thanks"
    assert resources.log.conversation(session)["end_reason"] == "thanks"
    text = page_text(at)                                                 # the survey in the customer's language
    assert "Kabla hujaondoka: maswali machache ya haraka." in text and "Before you go" not in text
    assert at.button_group(key="help_survey_csat").label.startswith("Umeridhika kiasi gani?")
    button(at, "Ruka").click().run()
    assert "Mazungumzo yanabaki wazi" in page_text(at) and not [g for g in at.button_group]
    assert survey_rows(resources, session)["csat"][3] == "sw"            # stored with the language
    assert {row[0] for row in survey_rows(resources, session).values()} == {"skipped"}
    ask(at, "How long do refunds take to reach my card?")                # the chat goes on
    assert "5 to 10 working days" in at.chat_message[-1].markdown[0].value


def test_an_idle_customer_after_an_answer_gets_the_survey(env, resources):
    at = ask(new_session(env), QUESTION)
    at.run()
    assert not [g for g in at.button_group]                              # just answered: not idle yet
    at.session_state[LAST_ANSWER] = time.monotonic() - resources.settings.survey_idle_s - 1
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.session_state[SURVEY].trigger == "idle" and len(at.button_group) >= 2
    assert resources.log.conversation(at.session_state["help_session"])["end_reason"] == "idle"


def test_after_a_handoff_the_survey_waits_for_the_ticket_to_be_resolved(env, resources):
    at = ask(new_session(env), QUESTION)
    session = at.session_state["help_session"]
    button(at, "Talk to a person").click().run()
    button(at, "I'm done").click().run()
    assert SURVEY not in at.session_state and not [g for g in at.button_group]   # the person is still on it
    at.run()
    assert SURVEY not in at.session_state                                # the watch sees the ticket still open
    resources.tickets.resolve(resources.tickets.find_active(session).ticket_id, "sam")
    at.run()                                                              # the page's watch finds it resolved
    assert not at.exception, [e.value for e in at.exception]
    assert at.session_state[SURVEY].trigger == "ticket_resolved"
    tap(at, "csat", 5)
    row = survey_rows(resources, session)["csat"]
    assert row[:2] == ("answered", 5) and row[4] == 1                     # handed_off recorded
    assert resources.log.conversation(session)["end_reason"] == "ticket_resolved"
