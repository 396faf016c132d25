"""Workbench (staff): ask anything and see why the assistant answered as it did; save golden cases."""

from __future__ import annotations

import logging
import uuid

import streamlit as st

from assistant.config import Settings
from assistant.errors import KBError
from assistant.golden import append_golden_case, golden_path
from assistant.types import Answer
from ui import access
from ui.render import chunk_rows, escape_markdown, message_html, signal_rows, source_line, unique_sources
from ui.resources import Resources

logger = logging.getLogger(__name__)

SESSION, TURNS = "wb_session", "wb_turns"


def render(settings: Settings, res: Resources) -> None:
    if not access.allowed("workbench"):
        return
    st.title("Workbench")
    st.caption("Questions asked here use the live index and models, but are not logged and open no tickets.")
    st.session_state.setdefault(SESSION, uuid.uuid4().hex)
    st.session_state.setdefault(TURNS, [])
    with st.form("wb_ask"):
        question = st.text_area("Question", key="wb_question", height=80)
        multi_turn = st.checkbox("Continue the current conversation", key="wb_multi_turn", value=True)
        asked = st.form_submit_button("Ask", type="primary")
    st.button("New conversation", key="wb_new", on_click=_new_conversation)
    if asked and question.strip():
        if not multi_turn:
            _new_conversation()
        _ask(res, question.strip())
    turns = st.session_state[TURNS]
    if not turns:
        st.info("Ask a question to see the answer, the retrieved chunks and the escalation signals.")
        return
    if len(turns) > 1:
        with st.expander(f"Earlier turns in this conversation ({len(turns) - 1})"):
            for question_text, answer in turns[:-1]:
                st.markdown("**Q:** " + escape_markdown(question_text))
                st.markdown(message_html(answer.text, answer.language), unsafe_allow_html=True)
    question_text, answer = turns[-1]
    left, right = st.columns([2, 3])
    with left:
        _render_answer(question_text, answer)
    with right:
        _render_retrieval(answer)
    _render_golden_form(settings, question_text, answer)


def _new_conversation() -> None:
    st.session_state[SESSION] = uuid.uuid4().hex
    st.session_state[TURNS] = []


def _ask(res: Resources, question: str) -> None:
    try:
        answer = res.workbench.reply(st.session_state[SESSION], question)
    except KBError as exc:
        logger.exception("workbench question failed")
        st.error(f"The assistant failed: {exc}")
        return
    except Exception:
        logger.exception("workbench question failed")
        st.error("The assistant failed with an unexpected error; see the server log.")
        return
    st.session_state[TURNS].append((question, answer))


def _render_answer(question: str, answer: Answer) -> None:
    st.subheader("Answer")
    st.markdown("**Q:** " + escape_markdown(question))
    st.markdown(message_html(answer.text, answer.language), unsafe_allow_html=True)
    if answer.notice:
        st.caption(answer.notice)
    decision = answer.escalation
    a, b = st.columns(2)
    a.metric("Confidence", f"{answer.confidence:.2f}")
    b.metric("Action", decision.action)
    st.markdown(
        f"Mode **{answer.mode}** · language **{answer.language}** · "
        f"grounded **{'yes' if answer.grounded else 'no'}** · "
        f"search query: {escape_markdown(answer.search_query or '—')}"
    )
    st.markdown("**Reasons:** " + (", ".join(decision.reasons) if decision.reasons else "none"))
    st.markdown("**Escalation signals**")
    signals = dict(decision.signals)
    signals.setdefault("confidence", answer.confidence)
    st.dataframe(signal_rows(signals), hide_index=True)
    if answer.citations:
        st.markdown("**Cited**")
        for c in answer.citations:
            st.markdown(source_line(c.title, c.source, c.page, marker=c.marker))


def _render_retrieval(answer: Answer) -> None:
    st.subheader(f"Retrieved chunks ({len(answer.retrieved)})")
    if not answer.retrieved:
        st.caption("Nothing was retrieved for this turn.")
        return
    st.dataframe(chunk_rows(answer.retrieved), hide_index=True)


def _render_golden_form(settings: Settings, question: str, answer: Answer) -> None:
    options = unique_sources(answer.retrieved)
    cited = [s for s in unique_sources(answer.citations) if s in options]
    with st.form("wb_golden"):
        st.markdown("**Save as golden test case**")
        sources = st.multiselect("Expected sources", options, default=cited, key="wb_golden_sources")
        escalate = st.checkbox(
            "Expect escalation", value=answer.escalation.escalate, key="wb_golden_escalation"
        )
        saved = st.form_submit_button("Save as golden test case")
    if saved:
        if not sources and not escalate:
            st.warning(
                "Expected at least one source (or escalation) for a golden case; pick the sources that answer it."
            )
            return
        path = golden_path(settings.data_dir)
        try:
            append_golden_case(path, question, sources, answer.language, escalate)
        except (KBError, OSError) as exc:
            logger.exception("could not save the golden case")
            st.error(f"Could not save the case: {exc}")
            return
        st.success(f"Saved to {path}")
