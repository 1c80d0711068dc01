"""Security: invite links by token, revoked invites, chat ids sealed with AES-GCM-SIV.

- invites.link_token_hash: links carry a long random token, not the typed code.
- invites.revoked_at: a new invite for a PEP revokes the older ones.
- telegram_chats.sealed_chat_id grows to hold `kid:nonce+ciphertext+tag` (AES-GCM-SIV).

Keyed hashes are now made with a key derived for their purpose (bot.keys) rather than with
the secret itself, so invites, conversation links and Telegram rows made before this
revision no longer match anything: issue new invites after upgrading. Telegram rows in the
old form could never be found again, so they are deleted here.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("invites") as batch:
        batch.add_column(sa.Column("link_token_hash", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True))
        batch.create_unique_constraint("uq_invites_link_token_hash", ["link_token_hash"])
    with op.batch_alter_table("telegram_chats") as batch:
        batch.alter_column(
            "sealed_chat_id", type_=sa.String(length=120), existing_type=sa.String(length=32)
        )
    _delete_unreachable_chat_rows()


def _delete_unreachable_chat_rows() -> None:
    op.execute(sa.text("DELETE FROM telegram_chats WHERE sealed_chat_id NOT LIKE '%:%'"))


def downgrade() -> None:
    with op.batch_alter_table("telegram_chats") as batch:
        batch.alter_column(
            "sealed_chat_id", type_=sa.String(length=32), existing_type=sa.String(length=120)
        )
    with op.batch_alter_table("invites") as batch:
        batch.drop_constraint("uq_invites_link_token_hash", type_="unique")
        batch.drop_column("revoked_at")
        batch.drop_column("link_token_hash")
