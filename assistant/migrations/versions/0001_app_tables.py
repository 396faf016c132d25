"""The application tables as they were before Alembic (tickets, conversation log, webhook outbox).

Databases made by earlier versions already hold these tables (created by hand-written SQL, with a
schema_versions table): they are adopted as they are, and only missing tables are created.

Revision ID: 0001
Revises:
Create Date: 2026-12-04
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

_ACTIVE = "status IN ('open', 'claimed')"


def _missing(name: str) -> bool:
    return not sa.inspect(op.get_bind()).has_table(name)


def upgrade() -> None:
    if _missing("tickets"):
        op.create_table(
            "tickets",
            sa.Column("seq", sa.Integer, primary_key=True, autoincrement=True),
            sa.Column("ticket_id", sa.Text, nullable=False, unique=True),
            sa.Column("session_id", sa.Text, nullable=False),
            sa.Column("created_at", sa.Text, nullable=False),
            sa.Column("updated_at", sa.Text, nullable=False),
            sa.Column("status", sa.Text, nullable=False),
            sa.Column("claimed_by", sa.Text, nullable=False, server_default=""),
            sa.Column("resolved_by", sa.Text, nullable=False, server_default=""),
            sa.Column("language", sa.Text, nullable=False),
            sa.Column("summary", sa.Text, nullable=False),
            sa.Column("transcript", sa.Text, nullable=False),
            sa.Column("sources", sa.Text, nullable=False),
            sa.Column("confidence", sa.Float, nullable=False),
            sa.Column("reasons", sa.Text, nullable=False),
            sa.Column("frustration_trajectory", sa.Text, nullable=False),
            sa.Column("frustration_peak", sa.Float, nullable=False),
            sa.Column("priority", sa.Text, nullable=False),
            sa.CheckConstraint("status IN ('open', 'claimed', 'resolved')", name="tickets_status"),
            sqlite_autoincrement=True,
        )
        op.create_index("tickets_by_status", "tickets", ["status", "seq"])
        op.create_index(
            "tickets_one_active_per_session", "tickets", ["session_id"], unique=True,
            sqlite_where=sa.text(_ACTIVE), postgresql_where=sa.text(_ACTIVE),
        )
    if _missing("conversations"):
        op.create_table(
            "conversations",
            sa.Column("session_id", sa.Text, primary_key=True),
            sa.Column("started_at", sa.Text, nullable=False),
            sa.Column("language", sa.Text, nullable=False, server_default=""),
        )
        op.create_index("conversations_by_start", "conversations", ["started_at"])
    if _missing("messages"):
        op.create_table(
            "messages",
            sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
            sa.Column("session_id", sa.Text, sa.ForeignKey("conversations.session_id"), nullable=False),
            sa.Column("idx", sa.Integer, nullable=False),
            sa.Column("role", sa.Text, nullable=False),
            sa.Column("content", sa.Text, nullable=False),
            sa.Column("ts", sa.Text, nullable=False),
            sa.Column("confidence", sa.Float),
            sa.Column("grounded", sa.Integer),
            sa.Column("action", sa.Text),
            sa.Column("reasons", sa.Text),
            sa.Column("citations", sa.Text),
            sa.UniqueConstraint("session_id", "idx"),
            sqlite_autoincrement=True,
        )
    if _missing("feedback"):
        op.create_table(
            "feedback",
            sa.Column("session_id", sa.Text, sa.ForeignKey("conversations.session_id"), primary_key=True),
            sa.Column("message_index", sa.Integer, primary_key=True),
            sa.Column("rating", sa.Integer, nullable=False),
            sa.Column("comment", sa.Text, nullable=False, server_default=""),
            sa.Column("ts", sa.Text, nullable=False),
            sa.CheckConstraint("rating IN (-1, 1)", name="feedback_rating"),
        )
    if _missing("handoffs"):
        op.create_table(
            "handoffs",
            sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
            sa.Column("session_id", sa.Text, sa.ForeignKey("conversations.session_id"), nullable=False),
            sa.Column("ticket_id", sa.Text, nullable=False),
            sa.Column("reasons", sa.Text, nullable=False),
            sa.Column("ts", sa.Text, nullable=False),
            sqlite_autoincrement=True,
        )
    if _missing("unanswered"):
        op.create_table(
            "unanswered",
            sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
            sa.Column("session_id", sa.Text, nullable=False, server_default=""),
            sa.Column("question", sa.Text, nullable=False),
            sa.Column("language", sa.Text, nullable=False),
            sa.Column("ts", sa.Text, nullable=False),
            sqlite_autoincrement=True,
        )
        op.create_index("unanswered_by_ts", "unanswered", ["ts"])
    if _missing("webhook_outbox"):
        op.create_table(
            "webhook_outbox",
            sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
            sa.Column("dedupe_key", sa.Text, nullable=False, unique=True),
            sa.Column("ticket_id", sa.Text, nullable=False),
            sa.Column("event", sa.Text, nullable=False),
            sa.Column("format", sa.Text, nullable=False),
            sa.Column("payload", sa.Text, nullable=False),
            sa.Column("status", sa.Text, nullable=False),
            sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
            sa.Column("last_error", sa.Text, nullable=False, server_default=""),
            sa.Column("last_status", sa.Integer),
            sa.Column("next_attempt_at", sa.Float, nullable=False),
            sa.Column("created_at", sa.Text, nullable=False),
            sa.Column("delivered_at", sa.Text),
            sa.CheckConstraint("status IN ('pending', 'delivered', 'failed')", name="webhook_outbox_status"),
            sqlite_autoincrement=True,
        )
        op.create_index("webhook_outbox_due", "webhook_outbox", ["status", "next_attempt_at"])


def downgrade() -> None:
    for name in ("webhook_outbox", "unanswered", "handoffs", "feedback", "messages", "conversations", "tickets"):
        op.drop_table(name)
