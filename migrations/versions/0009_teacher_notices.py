"""Emails to the designated teacher (issue 10): the outbox is two columns on each PEP.

- peps.submitted_notice_sent_at: when the "a child has sent their views" email went. Due
  while it is NULL or older than submitted_at (a PEP sent back and submitted again is
  announced again).
- peps.teacher_reminder_sent_at: when the "meeting in 7 days, not started" email went.
- peps.teacher_notice_claimed_at: a sender's claim while it emails (one email per event,
  however many schedulers run).

PEPs submitted before this revision are marked as announced: an upgrade must not email
teachers about old submissions.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COLUMNS = ("submitted_notice_sent_at", "teacher_reminder_sent_at", "teacher_notice_claimed_at")


def upgrade() -> None:
    with op.batch_alter_table("peps") as batch:
        for name in COLUMNS:
            batch.add_column(sa.Column(name, sa.DateTime(timezone=True), nullable=True))
    op.execute(
        "UPDATE peps SET submitted_notice_sent_at = submitted_at WHERE submitted_at IS NOT NULL"
    )


def downgrade() -> None:
    with op.batch_alter_table("peps") as batch:
        for name in reversed(COLUMNS):
            batch.drop_column(name)
