"""Customer-experience figures (issue 15): the survey answers, a browser id and end per conversation, and
when each ticket was claimed and resolved.

Tickets resolved before this revision get `resolved_at` = their last update (the best time known);
their `claimed_at` stays empty, so they count in no claimed-to-resolved figure.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-04
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("conversations", sa.Column("customer_id", sa.Text, nullable=False, server_default=""))
    op.add_column("conversations", sa.Column("ended_at", sa.Text))
    op.add_column("conversations", sa.Column("end_reason", sa.Text, nullable=False, server_default=""))
    op.create_index("conversations_by_customer", "conversations", ["customer_id", "started_at"])
    op.add_column("tickets", sa.Column("claimed_at", sa.Text))
    op.add_column("tickets", sa.Column("resolved_at", sa.Text))
    op.execute("UPDATE tickets SET resolved_at = updated_at WHERE status = 'resolved'")
    op.create_table(
        "survey_responses",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("session_id", sa.Text, sa.ForeignKey("conversations.session_id"), nullable=False),
        sa.Column("customer_id", sa.Text, nullable=False, server_default=""),
        sa.Column("kind", sa.Text, nullable=False),
        sa.Column("status", sa.Text, nullable=False),
        sa.Column("score", sa.Integer),
        sa.Column("occasion", sa.Text, nullable=False),
        sa.Column("trigger", sa.Text, nullable=False),
        sa.Column("language", sa.Text, nullable=False),
        sa.Column("handed_off", sa.Integer, nullable=False),
        sa.Column("sources", sa.Text, nullable=False),
        sa.Column("asked_at", sa.Text, nullable=False),
        sa.Column("answered_at", sa.Text),
        sa.UniqueConstraint("session_id", "kind"),
        sa.CheckConstraint("kind IN ('csat', 'ces', 'nps')", name="survey_kind"),
        sa.CheckConstraint("status IN ('asked', 'answered', 'skipped')", name="survey_status"),
        sa.CheckConstraint(
            "score IS NULL OR (kind = 'csat' AND score BETWEEN 1 AND 5) OR (kind = 'ces' AND score BETWEEN 1 AND 7) "
            "OR (kind = 'nps' AND score BETWEEN 0 AND 10)", name="survey_score",
        ),
        sqlite_autoincrement=True,
    )
    op.create_index("survey_by_customer", "survey_responses", ["customer_id", "kind", "asked_at"])
    op.create_index("survey_by_asked", "survey_responses", ["asked_at"])


def downgrade() -> None:
    op.drop_table("survey_responses")
    op.drop_column("tickets", "resolved_at")
    op.drop_column("tickets", "claimed_at")
    op.drop_index("conversations_by_customer", table_name="conversations")
    op.drop_column("conversations", "end_reason")
    op.drop_column("conversations", "ended_at")
    op.drop_column("conversations", "customer_id")
