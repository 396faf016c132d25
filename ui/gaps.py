"""Unanswered customer questions grouped by meaning, for the Content and Insights pages (cached briefly)."""

from __future__ import annotations

from datetime import datetime

import streamlit as st

from assistant.insights import group_questions
from ui.resources import Resources

UNANSWERED_LIMIT = 500
CACHE_S = 300


def unanswered_groups(res: Resources, since: datetime | None, until: datetime | None = None) -> tuple[int, list[dict]]:
    """(how many unanswered questions in the period, their groups, biggest first)."""
    rows = res.log.unanswered(since, until, limit=UNANSWERED_LIMIT)
    questions = tuple(r["question"] for r in rows)
    languages = tuple(r["language"] for r in rows)
    return len(rows), _grouped(questions, languages, res)


@st.cache_data(ttl=CACHE_S, show_spinner=False, max_entries=32)
def _grouped(questions: tuple[str, ...], languages: tuple[str, ...], _res: Resources) -> list[dict]:
    # Embedding hundreds of questions takes seconds: reruns of the same page reuse the result.
    embeddings = _res.embeddings
    return group_questions(
        list(questions), lambda texts: [embeddings.embed_query(text) for text in texts], languages=list(languages)
    )
