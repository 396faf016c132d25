"""Help: the customer chat with cited, streamed answers, a person always one click away, and a short survey."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable

import streamlit as st

from assistant.config import Settings
from assistant.phrases import language_name, phrase
from assistant.types import ANSWERING_MODES, Answer
from ui.browser_id import browser_id, known_browser_id
from ui.first_run import FirstRunIndex, first_run_index
from ui.render import citation_heading, escape_inline, message_html, quote_html
from ui.resources import Resources, fingerprint
from ui.strings import UI_LANGUAGES, direction, t
from ui.views import survey

logger = logging.getLogger(__name__)

SESSION, HISTORY, VOTES = "help_session", "help_history", "help_votes"
STARTED = "help_started"  # the conversation is logged with this browser's id
PERSON_BAR = "help_person_bar"
# The way to a person stays on screen however long the conversation: the bar holding the button sticks
# under the page's top edge while the messages scroll. Streamlit gives a keyed container the class
# st-key-<key> and wraps it in a layout wrapper of its own size, so the wrapper is what must stick.
_STICKY_PERSON_BAR = (
    f'<style>[data-testid="stLayoutWrapper"]:has(> .st-key-{PERSON_BAR}) {{position: sticky; top: 3.75rem; '
    "z-index: 990; background: var(--background-color, #fff); padding: 0.25rem 0;}}</style>"
)
LANG, PENDING_LANG = "help_lang", "help_lang_pending"
FIRST_RUN_WAIT_S = 900  # a question asked during the first-run ingest waits this long at most


def render(settings: Settings, res: Resources) -> None:
    _init_state(settings)
    browser_id()
    lang = st.session_state[LANG]
    _header(settings, res, lang)
    index = first_run_index(res, fingerprint(settings))
    if not index.ready:
        _preparing(index, lang)
    history = st.session_state[HISTORY]
    for position, entry in enumerate(history):
        _render_entry(res, entry, lang, is_last=position == len(history) - 1)
    answers = [entry["answer"] for entry in history if entry.get("answer") is not None]
    survey.render(res, settings, st.session_state[SESSION], lang, answered=bool(answers),
                  handed_off=any(answer.ticket_id for answer in answers))
    prompt = st.chat_input(t("ask_placeholder", lang), max_chars=settings.max_message_chars, key="help_input")
    if prompt:
        if not index.ready:
            with st.spinner(t("preparing_wait", lang)):
                index.wait(FIRST_RUN_WAIT_S)
        _ask(res, prompt, lang)


@st.fragment(run_every=2)
def _preparing(index: FirstRunIndex, lang: str) -> None:
    """The first-run progress, redrawn every 2 s; the whole page reruns once the index is ready."""
    if index.ready:
        st.rerun(scope="app")
    st.info(t("preparing", lang, done=index.done, total=index.total or "…"), icon=":material/hourglass_top:")


def _languages(settings: Settings) -> list[str]:
    return [code for code in UI_LANGUAGES if code in settings.languages] or ["en"]


def _init_state(settings: Settings) -> None:
    state = st.session_state
    state.setdefault(SESSION, uuid.uuid4().hex)
    state.setdefault(HISTORY, [])
    state.setdefault(VOTES, {})
    languages = _languages(settings)
    pending = state.pop(PENDING_LANG, None)
    if pending in languages:  # set before the selectbox is drawn, so the widget follows the answer
        state[LANG] = pending
    if state.get(LANG) not in languages:
        state[LANG] = languages[0]


def _header(settings: Settings, res: Resources, lang: str) -> None:
    st.markdown(
        f'<h2 dir="{direction(lang)}" style="text-align: start">{t("title", lang)}</h2>', unsafe_allow_html=True
    )
    st.markdown(_STICKY_PERSON_BAR, unsafe_allow_html=True)
    bar = st.container(key=PERSON_BAR)
    notice, chooser, person = bar.columns([5, 2, 3], vertical_alignment="bottom")
    notice.markdown(message_html(t("notice", lang), lang), unsafe_allow_html=True)
    chooser.selectbox(
        t("language", lang), _languages(settings), key=LANG, format_func=lambda code: language_name(code, code)
    )
    person.button(
        t("talk_to_person", lang), key="help_person", icon=":material/support_agent:", type="primary",
        on_click=_request_person, args=(res,), width="stretch",
    )


# ---- one message ------------------------------------------------------------------------------


def _render_entry(res: Resources, entry: dict, lang: str, is_last: bool) -> None:
    if entry["role"] == "user":
        with st.chat_message("user"):
            st.markdown(message_html(entry["text"], None, markdown=False), unsafe_allow_html=True)
        return
    answer: Answer | None = entry.get("answer")
    with st.chat_message("assistant"):
        st.markdown(message_html(entry["text"], entry["language"]), unsafe_allow_html=True)
        if answer is None:
            return
        if answer.notice:
            st.caption(answer.notice)
        _render_citations(answer, lang)
        if answer.ticket_id:
            st.info(t("passed_on", answer.language, ticket=answer.ticket_id, ahead=answer.queue_position))
        if is_last and entry.get("offer") == "open":
            row = st.container(horizontal=True)
            row.button(
                t("yes_connect", lang), key="help_offer_yes", type="primary",
                on_click=_answer_offer, args=(res, entry, True),
            )
            row.button(t("no_thanks", lang), key="help_offer_no", on_click=_answer_offer, args=(res, entry, False))
        if answer.message_index >= 0 and answer.mode in ANSWERING_MODES:
            _render_feedback(res, answer, lang)


def _render_citations(answer: Answer, lang: str) -> None:
    for citation in answer.citations:
        with st.expander(citation_heading(citation.marker, citation.title, citation.page, lang)):
            st.markdown(quote_html(citation.quote, citation.language), unsafe_allow_html=True)
            where = t("source_file", lang, source=escape_inline(citation.source))
            if citation.page:
                where += f" · {t('page', lang, page=citation.page)}"
            st.caption(where)


def _render_feedback(res: Resources, answer: Answer, lang: str) -> None:
    index = answer.message_index
    vote = st.session_state[VOTES].get(index)
    row = st.container(horizontal=True)
    row.button(
        t("helpful", lang), key=f"help_up_{index}", icon=":material/thumb_up:", on_click=_vote,
        args=(res, index, True), type="primary" if vote and vote["helpful"] else "secondary",
    )
    row.button(
        t("not_helpful", lang), key=f"help_down_{index}", icon=":material/thumb_down:", on_click=_vote,
        args=(res, index, False), type="primary" if vote and not vote["helpful"] else "secondary",
    )
    if vote is None:
        return
    if vote["commented"]:
        st.caption(t("thanks_feedback", lang))
        return
    with st.form(f"help_comment_form_{index}", clear_on_submit=True, border=False):
        st.text_input(t("comment", lang), key=f"help_comment_{index}", max_chars=1000)
        st.form_submit_button(t("send", lang), on_click=_send_comment, args=(res, index))


# ---- actions (button callbacks run before the page is drawn) ----------------------------------


def _ask(res: Resources, prompt: str, lang: str) -> None:
    history = st.session_state[HISTORY]
    _close_offers(history)
    _start_conversation(res)
    history.append({"role": "user", "text": prompt})
    session_id = st.session_state[SESSION]
    closing = _call(lambda: res.ends.reply_to_closing(session_id, prompt, lang), lang)
    if closing is not None:  # only thanks or goodbye: a friendly reply, the end, the survey in their language
        survey.open_survey(res, session_id, "thanks", closing.language)
        _follow_language(closing, lang)
        st.rerun()
    with st.chat_message("user"):
        st.markdown(message_html(prompt, None, markdown=False), unsafe_allow_html=True)
    with st.chat_message("assistant"):
        placeholder = st.empty()
        streamed: list[str] = []

        def on_token(token: str) -> None:
            streamed.append(token)
            placeholder.markdown(message_html("".join(streamed), lang), unsafe_allow_html=True)

        answer = _call(lambda: res.assistant.reply(st.session_state[SESSION], prompt, on_token=on_token), lang)
    _follow_language(answer, lang)
    st.rerun()


def _follow_language(answer: Answer | None, lang: str) -> None:
    """The interface follows the language the customer was answered in (from the next run on)."""
    if answer is not None and answer.language != lang and answer.language in UI_LANGUAGES:
        st.session_state[PENDING_LANG] = answer.language


def _request_person(res: Resources) -> None:
    lang = st.session_state.get(LANG, "en")
    _close_offers(st.session_state[HISTORY])
    _start_conversation(res)
    _call(lambda: res.assistant.request_human(st.session_state[SESSION]), lang)


def _answer_offer(res: Resources, entry: dict, accept: bool) -> None:
    lang = st.session_state.get(LANG, "en")
    entry["offer"] = "accepted" if accept else "declined"
    answer = _call(lambda: res.assistant.respond_to_offer(st.session_state[SESSION], accept), lang)
    if answer is None and not accept:
        st.session_state[HISTORY].append({"role": "assistant", "text": t("declined", lang), "language": lang})


def _vote(res: Resources, index: int, helpful: bool) -> None:
    try:
        res.assistant.feedback(st.session_state[SESSION], index, helpful, "")
    except Exception:
        logger.exception("could not record feedback")
        return
    st.session_state[VOTES][index] = {"helpful": helpful, "commented": False}


def _send_comment(res: Resources, index: int) -> None:
    vote = st.session_state[VOTES].get(index)
    comment = str(st.session_state.get(f"help_comment_{index}", "")).strip()
    if vote is None or not comment:
        return
    try:
        res.assistant.feedback(st.session_state[SESSION], index, vote["helpful"], comment)
    except Exception:
        logger.exception("could not record the feedback comment")
        return
    vote["commented"] = True


def _call(action: Callable[[], Answer | None], lang: str) -> Answer | None:
    """Run an assistant call; any failure becomes the friendly error phrase (the person button stays)."""
    try:
        answer = action()
    except Exception:
        logger.exception("assistant call failed")
        st.session_state[HISTORY].append({"role": "assistant", "text": phrase("error", lang), "language": lang})
        return None
    if answer is not None:
        survey.note_answer()
        st.session_state[HISTORY].append({
            "role": "assistant",
            "text": answer.text,
            "language": answer.language,
            "answer": answer,
            "offer": "open" if answer.escalation.offer and not answer.escalation.escalate else None,
        })
    return answer


def _start_conversation(res: Resources) -> None:
    """Log the conversation with this browser's id once, before its first message (returns, NPS throttle)."""
    if st.session_state.get(STARTED):
        return
    try:
        res.log.start_conversation(st.session_state[SESSION], customer_id=known_browser_id())
    except Exception:
        logger.exception("could not log the conversation's browser id")
    st.session_state[STARTED] = True


def _close_offers(history: list[dict]) -> None:
    for entry in history:
        if entry.get("offer") == "open":
            entry["offer"] = "expired"
