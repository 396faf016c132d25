"""Ticket transcripts as one row per message, so adding a message no longer rewrites the transcript.

Moves each ticket's JSON transcript into ticket_turns, adds tickets.turns_omitted (messages dropped
by the transcript cap) and drops tickets.transcript.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-04
"""

import json

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    turns = op.create_table(
        "ticket_turns",
        sa.Column("ticket_id", sa.Text, sa.ForeignKey("tickets.ticket_id"), primary_key=True),
        sa.Column("idx", sa.Integer, primary_key=True),
        sa.Column("role", sa.Text, nullable=False),
        sa.Column("content", sa.Text, nullable=False),
    )
    bind = op.get_bind()
    rows = bind.execute(sa.text("SELECT ticket_id, transcript FROM tickets")).fetchall()
    moved = [
        {"ticket_id": ticket_id, "idx": idx, "role": turn["role"], "content": turn["content"]}
        for ticket_id, transcript in rows
        for idx, turn in enumerate(json.loads(transcript or "[]"))
    ]
    if moved:
        op.bulk_insert(turns, moved)
    op.add_column("tickets", sa.Column("turns_omitted", sa.Integer, nullable=False, server_default="0"))
    # A plain ALTER TABLE ... DROP COLUMN (SQLite >= 3.35 has it): rebuilding the table would lose
    # its partial unique index on SQLite.
    op.drop_column("tickets", "transcript")


def downgrade() -> None:
    op.add_column("tickets", sa.Column("transcript", sa.Text, nullable=False, server_default="[]"))
    bind = op.get_bind()
    rows = bind.execute(sa.text("SELECT ticket_id, role, content FROM ticket_turns ORDER BY ticket_id, idx"))
    by_ticket: dict[str, list] = {}
    for ticket_id, role, content in rows:
        by_ticket.setdefault(ticket_id, []).append({"role": role, "content": content})
    for ticket_id, turns in by_ticket.items():
        bind.execute(
            sa.text("UPDATE tickets SET transcript = :t WHERE ticket_id = :id"),
            {"t": json.dumps(turns, ensure_ascii=False), "id": ticket_id},
        )
    op.drop_column("tickets", "turns_omitted")
    op.drop_table("ticket_turns")
