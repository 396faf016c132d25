"""The application tables as SQLAlchemy Core objects, for queries (the migrations create them).

Times are UTC ISO-8601 text (they sort as text), JSON columns are text, so a row reads the same
from SQLite and PostgreSQL. Change a table here and add an Alembic revision in
assistant/migrations/versions/ that makes the same change; tests/test_migrations.py compares them.
"""

from __future__ import annotations

from sqlalchemy import (
    CheckConstraint,
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    text,
)

metadata = MetaData()

tickets = Table(
    "tickets", metadata,
    Column("seq", Integer, primary_key=True, autoincrement=True),   # creation order, for the queue
    Column("ticket_id", Text, nullable=False, unique=True),
    Column("session_id", Text, nullable=False),
    Column("created_at", Text, nullable=False),
    Column("updated_at", Text, nullable=False),
    Column("status", Text, nullable=False),
    Column("claimed_by", Text, nullable=False, server_default=""),
    Column("resolved_by", Text, nullable=False, server_default=""),
    Column("language", Text, nullable=False),
    Column("summary", Text, nullable=False),                     # redacted
    Column("sources", Text, nullable=False),                     # JSON [{"source", "title", "page", "chunk_id"}]
    Column("confidence", Float, nullable=False),
    Column("reasons", Text, nullable=False),                     # JSON ["low_confidence", ...]
    Column("frustration_trajectory", Text, nullable=False),      # JSON [0.1, 0.4, ...]
    Column("frustration_peak", Float, nullable=False),
    Column("priority", Text, nullable=False),
    Column("turns_omitted", Integer, nullable=False, server_default="0"),  # dropped by the transcript cap
    Column("claimed_at", Text),                                  # time to resolution (docs/metrics.md)
    Column("resolved_at", Text),
    CheckConstraint("status IN ('open', 'claimed', 'resolved')", name="tickets_status"),
    Index("tickets_by_status", "status", "seq"),
    # The database itself guarantees one active ticket per session.
    Index(
        "tickets_one_active_per_session", "session_id", unique=True,
        sqlite_where=text("status IN ('open', 'claimed')"), postgresql_where=text("status IN ('open', 'claimed')"),
    ),
    sqlite_autoincrement=True,
)

# One row per message of a ticket's transcript (redacted): appending a message is one INSERT.
ticket_turns = Table(
    "ticket_turns", metadata,
    Column("ticket_id", Text, ForeignKey("tickets.ticket_id"), primary_key=True),
    Column("idx", Integer, primary_key=True),                    # position in the whole conversation
    Column("role", Text, nullable=False),
    Column("content", Text, nullable=False),
)

conversations = Table(
    "conversations", metadata,
    Column("session_id", Text, primary_key=True),
    Column("started_at", Text, nullable=False),
    Column("language", Text, nullable=False, server_default=""),
    # A random first-party browser id (ui/browser_id.py), never personal data: returns (FCR), NPS once in 90 days.
    Column("customer_id", Text, nullable=False, server_default=""),
    Column("ended_at", Text),                                    # "done", thanks/goodbye, idle, ticket resolved
    Column("end_reason", Text, nullable=False, server_default=""),
    Index("conversations_by_start", "started_at"),
    Index("conversations_by_customer", "customer_id", "started_at"),
)

messages = Table(
    "messages", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("session_id", Text, ForeignKey("conversations.session_id"), nullable=False),
    Column("idx", Integer, nullable=False),                      # 0-based position in the conversation
    Column("role", Text, nullable=False),
    Column("content", Text, nullable=False),                     # redacted
    Column("ts", Text, nullable=False),
    Column("confidence", Float),                                 # assistant turns only
    Column("grounded", Integer),                                 # assistant turns only: 0 = abstained
    Column("action", Text),                                      # none | offer | handoff
    Column("reasons", Text),                                     # JSON list
    Column("citations", Text),                                   # JSON [{marker, chunk_id, source, title, page}]
    UniqueConstraint("session_id", "idx"),
    sqlite_autoincrement=True,
)

feedback = Table(
    "feedback", metadata,
    Column("session_id", Text, ForeignKey("conversations.session_id"), primary_key=True),
    Column("message_index", Integer, primary_key=True),         # a changed mind replaces the vote
    Column("rating", Integer, nullable=False),                   # thumbs down / up
    Column("comment", Text, nullable=False, server_default=""),  # redacted
    Column("ts", Text, nullable=False),
    CheckConstraint("rating IN (-1, 1)", name="feedback_rating"),
)

handoffs = Table(
    "handoffs", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("session_id", Text, ForeignKey("conversations.session_id"), nullable=False),
    Column("ticket_id", Text, nullable=False),
    Column("reasons", Text, nullable=False),                     # JSON list
    Column("ts", Text, nullable=False),
    sqlite_autoincrement=True,
)

unanswered = Table(
    "unanswered", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("session_id", Text, nullable=False, server_default=""),
    Column("question", Text, nullable=False),                    # redacted
    Column("language", Text, nullable=False),
    Column("ts", Text, nullable=False),
    Index("unanswered_by_ts", "ts"),
    sqlite_autoincrement=True,
)

# The short survey at the end of a conversation (assistant/surveys.py): one row per question asked,
# with what the conversation was (language, handed off or not, the sources its answers cited).
survey_responses = Table(
    "survey_responses", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("session_id", Text, ForeignKey("conversations.session_id"), nullable=False),
    Column("customer_id", Text, nullable=False, server_default=""),
    Column("kind", Text, nullable=False),                        # csat 1-5 | ces 1-7 | nps 0-10
    Column("status", Text, nullable=False),                      # asked | answered | skipped
    Column("score", Integer),
    Column("occasion", Text, nullable=False),                    # end | ticket_resolved
    Column("trigger", Text, nullable=False),                     # done | thanks | idle | ticket_resolved
    Column("language", Text, nullable=False),
    Column("handed_off", Integer, nullable=False),
    Column("sources", Text, nullable=False),                     # JSON ["docs/refunds.md", ...]
    Column("asked_at", Text, nullable=False),
    Column("answered_at", Text),
    UniqueConstraint("session_id", "kind"),
    CheckConstraint("kind IN ('csat', 'ces', 'nps')", name="survey_kind"),
    CheckConstraint("status IN ('asked', 'answered', 'skipped')", name="survey_status"),
    CheckConstraint(
        "score IS NULL OR (kind = 'csat' AND score BETWEEN 1 AND 5) OR (kind = 'ces' AND score BETWEEN 1 AND 7) "
        "OR (kind = 'nps' AND score BETWEEN 0 AND 10)", name="survey_score",
    ),
    Index("survey_by_customer", "customer_id", "kind", "asked_at"),
    Index("survey_by_asked", "asked_at"),
    sqlite_autoincrement=True,
)

webhook_outbox = Table(
    "webhook_outbox", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("dedupe_key", Text, nullable=False, unique=True),     # also sent as Idempotency-Key
    Column("ticket_id", Text, nullable=False),
    Column("event", Text, nullable=False),
    Column("format", Text, nullable=False),
    Column("payload", Text, nullable=False),                     # the JSON body, rendered at enqueue time
    Column("status", Text, nullable=False),
    Column("attempts", Integer, nullable=False, server_default="0"),
    Column("last_error", Text, nullable=False, server_default=""),
    Column("last_status", Integer),
    Column("next_attempt_at", Float, nullable=False),            # unix time
    Column("created_at", Text, nullable=False),
    Column("delivered_at", Text),
    CheckConstraint("status IN ('pending', 'delivered', 'failed')", name="webhook_outbox_status"),
    Index("webhook_outbox_due", "status", "next_attempt_at"),
    sqlite_autoincrement=True,
)

# Staff and doc-writer accounts made with `kb users add` (KB_USERS stays an alternative).
users = Table(
    "users", metadata,
    Column("name", Text, primary_key=True),
    Column("role", Text, nullable=False),
    Column("password_hash", Text, nullable=False),               # salt$hash, PBKDF2 (assistant.auth)
    Column("created_at", Text, nullable=False),
    CheckConstraint("role IN ('staff', 'writer', 'admin')", name="users_role"),
)

# Which files the index holds, with their content hash (kb_ingest.records.FileTable).
indexed_files = Table(
    "indexed_files", metadata,
    Column("namespace", Text, primary_key=True),
    Column("root", Text, primary_key=True),
    Column("source", Text, primary_key=True),
    Column("sha256", Text, nullable=False),
    Column("size", Integer, nullable=False),
    Column("mtime", Float, nullable=False),
    Column("chunks", Integer, nullable=False),
    Column("language", Text, nullable=False),
    Column("title", Text, nullable=False),
    Column("kind", Text, nullable=False),
    Column("indexed_at", Float, nullable=False),
)

# LangChain's SQLRecordManager table (langchain_classic.indexes), created here by migration so every
# replica finds it; the record manager itself reads and writes it.
upsertion_record = Table(
    "upsertion_record", metadata,
    Column("uuid", String, primary_key=True, index=True),
    Column("key", String, index=True),
    Column("namespace", String, nullable=False, index=True),
    Column("group_id", String, index=True, nullable=True),
    Column("updated_at", Float, index=True),
    UniqueConstraint("key", "namespace", name="uix_key_namespace"),
    Index("ix_key_namespace", "key", "namespace"),
)

# Files that failed to index, with the content that failed, so an unchanged one is not news again
# (kb_ingest.records.FailureTable).
index_failures = Table(
    "index_failures", metadata,
    Column("namespace", Text, primary_key=True),
    Column("root", Text, primary_key=True),
    Column("source", Text, primary_key=True),
    Column("sha256", Text, nullable=False),
    Column("reason", Text, nullable=False),
    Column("failed_at", Float, nullable=False),                  # unix time of the first failure of this content
)

# Failed sign-ins per subject ("user:<keyed hash>" / "address:<keyed hash>"), shared by every app
# process (assistant.sign_in_throttle); names and addresses are never stored as typed.
sign_in_failures = Table(
    "sign_in_failures", metadata,
    Column("subject", Text, primary_key=True),
    Column("failures", Integer, nullable=False),
    Column("locked_until", Float, nullable=False),               # unix time: refused until then
    Column("updated_at", Float, nullable=False),
)

# The key of those hashes: one random row, made on first use.
sign_in_key = Table(
    "sign_in_key", metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("secret", Text, nullable=False),
    CheckConstraint("id = 1", name="sign_in_key_single_row"),
)
