"""Safeguarding: one open concern per conversation holds every message passed on.

Repeats and follow-ups join the open concern (concern_messages) instead of making new
concerns, and the alert counts them, so one thing said makes one concern and one alert.
Existing concerns get their own words as their first message.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("safeguarding_concerns") as batch:
        batch.add_column(
            sa.Column("message_count", sa.Integer(), nullable=False, server_default="1")
        )
        batch.add_column(
            sa.Column("alerted_message_count", sa.Integer(), nullable=False, server_default="0")
        )
        batch.add_column(sa.Column("acknowledged_at", sa.DateTime(timezone=True), nullable=True))
    op.create_table(
        "concern_messages",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("concern_id", sa.Integer(), nullable=False),
        sa.Column("words", sa.Text(), nullable=False),
        sa.Column("category", sa.String(length=40), nullable=False),
        sa.Column("question_key", sa.String(length=64), nullable=True),
        sa.Column(
            "source",
            sa.Enum(
                "engine",
                "answer_screen",
                name="concern_source",
                native_enum=False,
                create_constraint=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("dedupe_key", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["concern_id"],
            ["safeguarding_concerns.id"],
            name="fk_concern_messages_concern_id_safeguarding_concerns",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_concern_messages"),
        sa.UniqueConstraint("dedupe_key", name="uq_concern_messages_dedupe_key"),
    )
    op.create_index("ix_concern_messages_concern_id", "concern_messages", ["concern_id"])
    op.execute(
        "INSERT INTO concern_messages "
        "(concern_id, words, category, question_key, source, dedupe_key, created_at) "
        "SELECT id, words, category, question_key, source, dedupe_key, created_at "
        "FROM safeguarding_concerns"
    )
    op.execute(
        "UPDATE safeguarding_concerns SET alerted_message_count = 1 WHERE alert_status = 'sent'"
    )


def downgrade() -> None:
    op.drop_index("ix_concern_messages_concern_id", table_name="concern_messages")
    op.drop_table("concern_messages")
    with op.batch_alter_table("safeguarding_concerns") as batch:
        batch.drop_column("acknowledged_at")
        batch.drop_column("alerted_message_count")
        batch.drop_column("message_count")
