"""Safeguarding concerns: possible disclosures and the state of their alerts.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-30
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _timestamp(name: str, *, nullable: bool = False) -> sa.Column[object]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def _str_enum(name: str, *values: str) -> sa.Enum:
    # Matches bot.models._str_enum: VARCHAR(32), no native type, no CHECK.
    return sa.Enum(*values, name=name, native_enum=False, create_constraint=False, length=32)


def upgrade() -> None:
    op.create_table(
        "safeguarding_concerns",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("school_id", sa.Integer(), nullable=True),
        sa.Column("pep_id", sa.Integer(), nullable=True),
        sa.Column("category", sa.String(length=40), nullable=False),
        sa.Column("words", sa.Text(), nullable=False),
        sa.Column("question_key", sa.String(length=64), nullable=True),
        sa.Column("source", _str_enum("concern_source", "engine", "answer_screen"), nullable=False),
        sa.Column("conversation_hash", sa.String(length=64), nullable=True),
        sa.Column("dedupe_key", sa.String(length=64), nullable=False),
        _timestamp("created_at"),
        sa.Column(
            "alert_status",
            _str_enum("alert_status", "pending", "sending", "sent", "failed"),
            nullable=False,
        ),
        sa.Column("alert_attempts", sa.Integer(), nullable=False),
        _timestamp("alert_claimed_at", nullable=True),
        _timestamp("alerted_at", nullable=True),
        sa.Column("recipients", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["school_id"], ["schools.id"], name="fk_safeguarding_concerns_school_id_schools"
        ),
        sa.ForeignKeyConstraint(["pep_id"], ["peps.id"], name="fk_safeguarding_concerns_pep_id_peps"),
        sa.PrimaryKeyConstraint("id", name="pk_safeguarding_concerns"),
        sa.UniqueConstraint("dedupe_key", name="uq_safeguarding_concerns_dedupe_key"),
    )
    op.create_index(
        "ix_safeguarding_concerns_school_id", "safeguarding_concerns", ["school_id"]
    )
    op.create_index("ix_safeguarding_concerns_pep_id", "safeguarding_concerns", ["pep_id"])
    op.create_index(
        "ix_safeguarding_concerns_conversation_hash", "safeguarding_concerns", ["conversation_hash"]
    )
    op.create_index(
        "ix_safeguarding_concerns_alert_status", "safeguarding_concerns", ["alert_status"]
    )


def downgrade() -> None:
    # Dropping a table drops its indexes too.
    op.drop_table("safeguarding_concerns")
