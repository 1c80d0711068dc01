"""Telegram: chats linked to PEPs (hashed and sealed chat ids) and processed update ids.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-30
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "telegram_chats",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("chat_hash", sa.String(length=64), nullable=False),
        sa.Column("sealed_chat_id", sa.String(length=32), nullable=False),
        sa.Column("pep_id", sa.Integer(), nullable=False),
        sa.Column("linked_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("reminder_sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["pep_id"], ["peps.id"], name="fk_telegram_chats_pep_id_peps"),
        sa.PrimaryKeyConstraint("id", name="pk_telegram_chats"),
        sa.UniqueConstraint("chat_hash", name="uq_telegram_chats_chat_hash"),
    )
    op.create_index("ix_telegram_chats_pep_id", "telegram_chats", ["pep_id"])

    op.create_table(
        "telegram_processed_updates",
        sa.Column("update_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("processed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("update_id", name="pk_telegram_processed_updates"),
    )
    op.create_index(
        "ix_telegram_processed_updates_processed_at",
        "telegram_processed_updates",
        ["processed_at"],
    )


def downgrade() -> None:
    op.drop_table("telegram_processed_updates")
    op.drop_table("telegram_chats")
