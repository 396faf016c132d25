"""Article health on the Content page: which source documents most need work, and the conversations behind each.

Per source: answers citing it, the thumbs-down rate and mean CSAT of those conversations, handoffs
that followed, and unanswered questions whose closest article it is (assistant/cx/articles.py;
docs/metrics.md). A picked row lists its conversations as stored (redacted before storage), problems first.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

import streamlit as st

from assistant.config import Settings
from assistant.cx.articles import ArticleHealth
from assistant.cx.facts import ConversationFacts
from ui.cx_data import article_report
from ui.cx_rows import article_rows
from ui.export import download_csv
from ui.render import escape_inline, escape_markdown, format_time, message_html
from ui.resources import Resources

logger = logging.getLogger(__name__)

ALL = "all"
PERIOD_DAYS = (7, 30, 90, 365)
SHOWN_CONVERSATIONS = 10
SOURCE_KEY = "content_health_source"


def render_article_health(settings: Settings, res: Resources) -> None:
    st.subheader("Article health")
    st.caption("Source documents ranked by need of work: thumbs-down + handoffs after an answer citing it + "
               "unanswered questions close to it + CSAT answers of 1 or 2.")
    period, language = st.columns(2)
    days = period.selectbox("Period", PERIOD_DAYS, index=2, key="content_health_days",
                            format_func=lambda d: f"last {d} days")
    code = language.selectbox("Language", (ALL, *settings.languages), key="content_health_language",
                              format_func=lambda c: "All languages" if c == ALL else c)
    try:
        health, conversations = article_report(res, datetime.now(UTC) - timedelta(days=days), None,
                                               None if code == ALL else code)
    except Exception:
        logger.exception("could not compute article health")
        st.error("Could not compute the article health; see the server log.")
        return
    if not health:
        st.info("Nothing is indexed or cited yet.")
        return
    rows = article_rows(health)
    st.dataframe(rows, hide_index=True)
    download_csv(rows, "article-health.csv", key="content_health_download")
    # A new period or language starts again from the top row of its own ranking.
    _drill_down(res, health, conversations, key=f"{SOURCE_KEY}:{days}:{code}")


def _drill_down(res: Resources, health: list[ArticleHealth], conversations: dict[str, ConversationFacts],
                key: str) -> None:
    by_source = {a.source: a for a in health}
    source = st.selectbox("Show the conversations behind", list(by_source), key=key,
                          format_func=lambda s: f"{s} (needs work: {by_source[s].needs_work})")
    if not source:
        return
    article = by_source[source]
    if article.near_questions:
        st.markdown("**Unanswered questions close to it**")
        st.markdown("\n".join(f"- {escape_markdown(q)}" for q in article.near_questions))
    if not article.sessions:
        st.caption(f"No conversation cited {escape_inline(source)} in this period.")
        return
    shown = article.sessions[:SHOWN_CONVERSATIONS]
    st.caption(f"{len(article.sessions)} conversations, problems first" +
               (f"; the first {len(shown)} shown." if len(shown) < len(article.sessions) else "."))
    for session in shown:
        facts = conversations.get(session)
        with st.expander(_conversation_label(session, facts, source)):
            _transcript(res, session)


def _conversation_label(session: str, facts: ConversationFacts | None, source: str) -> str:
    if facts is None:
        return f"{escape_inline(session)} · unanswered question"
    notes = []
    cited = [a for a in facts.answers if source in a.sources]
    if any(a.rating < 0 for a in cited):
        notes.append("thumbs-down")
    if any(a.handoff_after for a in cited):
        notes.append("handed off")
    csat = facts.score("csat")
    if csat is not None:
        notes.append(f"CSAT {csat}")
    return " · ".join([escape_inline(session), facts.language, format_time(facts.started_at), *notes])


def _transcript(res: Resources, session: str) -> None:
    try:
        turns = res.log.messages(session)
    except Exception:
        logger.exception("could not read conversation %s", session)
        st.error("Could not load this conversation; see the server log.")
        return
    if not turns:
        st.caption("No messages are kept for this conversation.")
    for turn in turns:
        role = "user" if turn["role"] == "user" else "assistant"
        with st.chat_message(role):
            st.markdown(message_html(turn["content"], None, markdown=role != "user"), unsafe_allow_html=True)
            if turn["citations"]:
                st.caption("Cited: " + ", ".join(escape_inline(c.get("source", "")) for c in turn["citations"]))
