"""Staff accounts, and the index bookkeeping (LangChain's record table, indexed files) in the app database.

Before this, the index records lived in their own SQLite file (<KB_DATA_DIR>/index_records.sqlite);
kb_ingest.records imports such a file once when it finds one.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-04
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "users",
        sa.Column("name", sa.Text, primary_key=True),
        sa.Column("role", sa.Text, nullable=False),
        sa.Column("password_hash", sa.Text, nullable=False),
        sa.Column("created_at", sa.Text, nullable=False),
        sa.CheckConstraint("role IN ('staff', 'writer', 'admin')", name="users_role"),
    )
    op.create_table(
        "indexed_files",
        sa.Column("namespace", sa.Text, primary_key=True),
        sa.Column("root", sa.Text, primary_key=True),
        sa.Column("source", sa.Text, primary_key=True),
        sa.Column("sha256", sa.Text, nullable=False),
        sa.Column("size", sa.Integer, nullable=False),
        sa.Column("mtime", sa.Float, nullable=False),
        sa.Column("chunks", sa.Integer, nullable=False),
        sa.Column("language", sa.Text, nullable=False),
        sa.Column("title", sa.Text, nullable=False),
        sa.Column("kind", sa.Text, nullable=False),
        sa.Column("indexed_at", sa.Float, nullable=False),
    )
    # The shape of langchain_classic.indexes SQLRecordManager's UpsertionRecord (names included:
    # its PostgreSQL upsert targets the constraint "uix_key_namespace").
    op.create_table(
        "upsertion_record",
        sa.Column("uuid", sa.String, primary_key=True),
        sa.Column("key", sa.String),
        sa.Column("namespace", sa.String, nullable=False),
        sa.Column("group_id", sa.String, nullable=True),
        sa.Column("updated_at", sa.Float),
        sa.UniqueConstraint("key", "namespace", name="uix_key_namespace"),
    )
    for column in ("uuid", "key", "namespace", "group_id", "updated_at"):
        op.create_index(f"ix_upsertion_record_{column}", "upsertion_record", [column])
    op.create_index("ix_key_namespace", "upsertion_record", ["key", "namespace"])


def downgrade() -> None:
    op.drop_table("upsertion_record")
    op.drop_table("indexed_files")
    op.drop_table("users")
