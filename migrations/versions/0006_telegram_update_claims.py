"""Telegram webhook updates are claimed while in progress and marked once processed.

- telegram_processed_updates.claimed_at: when a delivery began processing the update (NULL
  once processed); a second delivery meanwhile is not run, a stale claim is taken over.
- telegram_processed_updates.processed_at may be NULL (in progress). Rows already there
  were processed.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-03
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("telegram_processed_updates") as batch:
        batch.add_column(sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=True))
        batch.alter_column("processed_at", existing_type=sa.DateTime(timezone=True), nullable=True)


def downgrade() -> None:
    # Updates still in progress were never processed: forget them (Telegram redelivers).
    op.execute(sa.text("DELETE FROM telegram_processed_updates WHERE processed_at IS NULL"))
    with op.batch_alter_table("telegram_processed_updates") as batch:
        batch.alter_column("processed_at", existing_type=sa.DateTime(timezone=True), nullable=False)
        batch.drop_column("claimed_at")
