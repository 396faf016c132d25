"""The customer-experience report and article health for the staff pages, from the app's own stores and index.

Question vectors (topic matching for FCR, unanswered questions close to an article) are cached per
question text, so reruns of a page embed nothing new.
"""

from __future__ import annotations

from datetime import datetime

import numpy as np
import streamlit as st

from assistant.cx.articles import ArticleHealth, SourceMatcher, article_health
from assistant.cx.facts import ConversationFacts, load_facts
from assistant.cx.report import Report, build_report
from ui.resources import Resources

UNANSWERED_LIMIT = 500      # the latest unanswered questions matched to articles (each is embedded once)
VECTOR_CACHE = 20_000


def insights_report(res: Resources, since: datetime | None, until: datetime | None,
                    language: str | None) -> Report:
    """The report of conversations started in [since, until), one language or all."""
    return build_report(res.log.db, res.settings, lambda texts: _vectors(res, texts), since, until, language)


def article_report(res: Resources, since: datetime | None, until: datetime | None, language: str | None
                   ) -> tuple[list[ArticleHealth], dict[str, ConversationFacts]]:
    """Article health of the period, most in need of work first, and the conversations behind it by session."""
    facts = load_facts(res.log.db, since, until)
    chosen = [c for c in facts.conversations if language is None or c.language == language]
    gaps = [u for u in facts.unanswered if language is None or u.language == language][-UNANSWERED_LIMIT:]
    snapshot = res.assistant.retriever.snapshot()
    matcher = SourceMatcher([c.source for c in snapshot.chunks], snapshot.vectors,
                            lambda question: _vector(question, res), res.settings.article_near_similarity)
    titles = {f.source: f.title for f in res.indexer.indexed_files()}
    return article_health(chosen, gaps, titles, matcher), {c.session_id: c for c in chosen}


def _vectors(res: Resources, texts: list[str]) -> np.ndarray:
    return np.stack([_vector(text, res) for text in texts])


@st.cache_data(show_spinner=False, max_entries=VECTOR_CACHE)
def _vector(text: str, _res: Resources) -> np.ndarray:
    return np.asarray(_res.assistant.retriever.embed_query(text), dtype=np.float32)
