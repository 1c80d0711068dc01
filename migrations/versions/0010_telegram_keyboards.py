"""Telegram inline keyboards are kept in the store (PTB's callback-data cache).

- telegram_keyboards: one row per keyboard the bot sent, with its buttons' payloads (the
  bot's own, never a child's words), so a button tapped after a restart or on another
  instance still works. The newest few thousand are kept.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "telegram_keyboards",
        sa.Column("keyboard_id", sa.String(32), primary_key=True),
        sa.Column("buttons", sa.Text(), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_telegram_keyboards_used_at", "telegram_keyboards", ["used_at"])


def downgrade() -> None:
    op.drop_index("ix_telegram_keyboards_used_at", table_name="telegram_keyboards")
    op.drop_table("telegram_keyboards")
