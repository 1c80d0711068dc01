"""The review app (issue 10): the teacher's wording, comments, review and acknowledgement.

- answers.teacher_wording: the designated teacher's "for the PEP" wording; the child's own
  words (answers.text) are never overwritten. Every change is kept in answer_wording_edits.
- pep_comments: staff comments on a PEP's child's voice.
- peps.reviewed_at / reviewed_by: approved by the designated teacher ("reviewed").
- peps.returned_question / returned_at / returned_by: sent back to the child with a question.
- safeguarding_concerns.acknowledged_by / acknowledgement_note / action_taken: the DSL's
  acknowledgement (acknowledged_at exists since 0004).

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _staff_fk(table: str, column: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        [column], ["staff_users.id"], name=f"fk_{table}_{column}_staff_users"
    )


def upgrade() -> None:
    with op.batch_alter_table("answers") as batch:
        batch.add_column(sa.Column("teacher_wording", sa.Text(), nullable=True))
    with op.batch_alter_table("peps") as batch:
        batch.add_column(sa.Column("reviewed_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("reviewed_by", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("returned_question", sa.Text(), nullable=True))
        batch.add_column(sa.Column("returned_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("returned_by", sa.Integer(), nullable=True))
        batch.create_foreign_key(
            "fk_peps_reviewed_by_staff_users", "staff_users", ["reviewed_by"], ["id"]
        )
        batch.create_foreign_key(
            "fk_peps_returned_by_staff_users", "staff_users", ["returned_by"], ["id"]
        )
    with op.batch_alter_table("safeguarding_concerns") as batch:
        batch.add_column(sa.Column("acknowledged_by", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("acknowledgement_note", sa.Text(), nullable=True))
        batch.add_column(sa.Column("action_taken", sa.Text(), nullable=True))
        batch.create_foreign_key(
            "fk_safeguarding_concerns_acknowledged_by_staff_users",
            "staff_users",
            ["acknowledged_by"],
            ["id"],
        )
    op.create_table(
        "answer_wording_edits",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("answer_id", sa.Integer(), nullable=False),
        sa.Column("staff_id", sa.Integer(), nullable=False),
        sa.Column("wording", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["answer_id"], ["answers.id"], name="fk_answer_wording_edits_answer_id_answers"
        ),
        _staff_fk("answer_wording_edits", "staff_id"),
        sa.PrimaryKeyConstraint("id", name="pk_answer_wording_edits"),
    )
    op.create_index(
        "ix_answer_wording_edits_answer_id", "answer_wording_edits", ["answer_id"]
    )
    op.create_table(
        "pep_comments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("pep_id", sa.Integer(), nullable=False),
        sa.Column("staff_id", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["pep_id"], ["peps.id"], name="fk_pep_comments_pep_id_peps"),
        _staff_fk("pep_comments", "staff_id"),
        sa.PrimaryKeyConstraint("id", name="pk_pep_comments"),
    )
    op.create_index("ix_pep_comments_pep_id", "pep_comments", ["pep_id"])


def downgrade() -> None:
    op.drop_index("ix_pep_comments_pep_id", table_name="pep_comments")
    op.drop_table("pep_comments")
    op.drop_index("ix_answer_wording_edits_answer_id", table_name="answer_wording_edits")
    op.drop_table("answer_wording_edits")
    with op.batch_alter_table("safeguarding_concerns") as batch:
        batch.drop_constraint(
            "fk_safeguarding_concerns_acknowledged_by_staff_users", type_="foreignkey"
        )
        batch.drop_column("action_taken")
        batch.drop_column("acknowledgement_note")
        batch.drop_column("acknowledged_by")
    with op.batch_alter_table("peps") as batch:
        batch.drop_constraint("fk_peps_returned_by_staff_users", type_="foreignkey")
        batch.drop_constraint("fk_peps_reviewed_by_staff_users", type_="foreignkey")
        for column in ("returned_by", "returned_at", "returned_question", "reviewed_by"):
            batch.drop_column(column)
        batch.drop_column("reviewed_at")
    with op.batch_alter_table("answers") as batch:
        batch.drop_column("teacher_wording")
