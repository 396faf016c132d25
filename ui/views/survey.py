"""The end-of-conversation survey on the Help page: CSAT, CES and (at most every 90 days) NPS, one tap each.

It appears when the customer clicks "done", says thanks or goodbye, stays idle after an answer, or
when the person who took the conversation resolves its ticket; assistant/surveys.py decides what is
asked (once per conversation; after a handoff, only once the ticket is resolved). Every question is
optional, "skip" closes the survey, and the chat box stays usable throughout.
"""

from __future__ import annotations

import logging
import time

import streamlit as st

from assistant.config import Settings
from assistant.surveys import SCALES
from ui.browser_id import known_browser_id
from ui.render import message_html
from ui.resources import Resources
from ui.strings import t

logger = logging.getLogger(__name__)

SURVEY = "help_survey"                  # the conversation's Survey once asked
LAST_ANSWER = "help_last_answer_at"     # time.monotonic() of the last answer: the idle clock
WAITING = "help_survey_waiting"         # ended while a person has it: ask when the ticket is resolved
IDLE_FIRED = "help_survey_idle_fired"
BOX = "help_survey_box"
MAX_WATCH_S = 5.0                       # how often the page looks for idleness or a resolved ticket


def note_answer() -> None:
    """An answer arrived: the idle clock starts again."""
    st.session_state[LAST_ANSWER] = time.monotonic()


def open_survey(res: Resources, session_id: str, trigger: str, lang: str) -> None:
    """Ask the survey now (`trigger`: done, thanks, idle, ticket_resolved); a failure only costs the survey."""
    state = st.session_state
    try:
        survey = res.surveys.ask(session_id, known_browser_id(), trigger, lang)
    except Exception:
        logger.exception("could not open the survey")
        return
    if survey is None:
        state[WAITING] = True      # a person still has the conversation: their help is part of what is rated
    else:
        state[SURVEY] = survey


def end_and_survey(res: Resources, session_id: str, reason: str, lang: str) -> None:
    """Record the end of the conversation, then offer the survey."""
    try:
        res.ends.end(session_id, reason)
    except Exception:
        logger.exception("could not record the end of the conversation")
    open_survey(res, session_id, reason, lang)


def render(res: Resources, settings: Settings, session_id: str, lang: str, answered: bool, handed_off: bool) -> None:
    """Below the last message: the survey, or the "done" button and the watch for idleness or a resolved ticket."""
    survey = st.session_state.get(SURVEY)
    if survey is not None:
        _survey(res, survey, lang)
        return
    if answered:
        st.button(t("done", lang), key="help_done", icon=":material/check_circle:",
                  on_click=end_and_survey, args=(res, session_id, "done", lang))
    if answered or handed_off:
        every = min(MAX_WATCH_S, max(0.5, settings.survey_idle_s / 2))
        st.fragment(_watch, run_every=every)(res, settings.survey_idle_s, session_id, lang, handed_off)


def _watch(res: Resources, idle_s: float, session_id: str, lang: str, handed_off: bool) -> None:
    """Runs every few seconds on its own: the survey follows a resolved ticket, or idleness after an answer."""
    state = st.session_state
    if SURVEY in state:
        return
    if handed_off or state.get(WAITING):
        try:
            resolved = res.surveys.ticket_state(session_id) == "resolved"
        except Exception:
            logger.exception("could not read the ticket state")
            return
        if resolved:
            end_and_survey(res, session_id, "ticket_resolved", lang)
            st.rerun(scope="app")
        return
    last = state.get(LAST_ANSWER)
    if last is not None and not state.get(IDLE_FIRED) and time.monotonic() - last >= idle_s:
        state[IDLE_FIRED] = True   # once: a failure must not rerun the page every few seconds
        end_and_survey(res, session_id, "idle", lang)
        st.rerun(scope="app")


def _survey(res: Resources, survey, lang: str) -> None:
    box = st.container(border=True, key=BOX)
    if survey.complete:
        box.markdown(message_html(t("survey_skipped" if survey.skipped and not survey.answers
                                    else "survey_thanks", lang), lang), unsafe_allow_html=True)
        return
    box.markdown(message_html(t("survey_intro", lang), lang), unsafe_allow_html=True)
    for kind in survey.kinds:
        low, high = SCALES[kind]
        box.pills(t(f"survey_{kind}", lang), list(range(low, high + 1)), key=f"help_survey_{kind}",
                  on_change=_answer, args=(res, survey.session_id, kind))
    box.button(t("survey_skip", lang), key="help_survey_skip", on_click=_skip, args=(res, survey.session_id))


def _answer(res: Resources, session_id: str, kind: str) -> None:
    score = st.session_state.get(f"help_survey_{kind}")
    if score is None:
        return  # a second tap on the chosen value unselects it; the stored answer stays
    try:
        st.session_state[SURVEY] = res.surveys.answer(session_id, kind, int(score))
    except Exception:
        logger.exception("could not record the survey answer")


def _skip(res: Resources, session_id: str) -> None:
    try:
        survey = res.surveys.skip(session_id)
    except Exception:
        logger.exception("could not record the skipped survey")
        return
    if survey is not None:
        st.session_state[SURVEY] = survey
