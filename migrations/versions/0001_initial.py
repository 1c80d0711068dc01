"""Initial schema: schools, staff, children, PEPs, answers, invites, audit log.

Revision ID: 0001
Revises:
Create Date: 2026-11-23
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _timestamp(name: str, *, nullable: bool = False) -> sa.Column[object]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def _str_enum(name: str, *values: str) -> sa.Enum:
    # Matches bot.models._str_enum: VARCHAR(32), no native type, no CHECK.
    return sa.Enum(*values, name=name, native_enum=False, create_constraint=False, length=32)


def upgrade() -> None:
    op.create_table(
        "schools",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        _timestamp("created_at"),
        sa.PrimaryKeyConstraint("id", name="pk_schools"),
        sa.UniqueConstraint("name", name="uq_schools_name"),
    )

    op.create_table(
        "staff_users",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("school_id", sa.Integer(), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column(
            "role",
            _str_enum("staff_role", "designated_teacher", "dsl", "virtual_school", "admin"),
            nullable=False,
        ),
        _timestamp("created_at"),
        sa.ForeignKeyConstraint(
            ["school_id"], ["schools.id"], name="fk_staff_users_school_id_schools"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_staff_users"),
        sa.UniqueConstraint("email", name="uq_staff_users_email"),
    )
    op.create_index("ix_staff_users_school_id", "staff_users", ["school_id"])

    op.create_table(
        "children",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("school_id", sa.Integer(), nullable=False),
        sa.Column("first_name", sa.String(length=50), nullable=False),
        sa.Column("year_group", sa.Integer(), nullable=False),
        _timestamp("created_at"),
        sa.CheckConstraint(
            "year_group BETWEEN -1 AND 13", name="ck_children_year_group_range"
        ),
        sa.ForeignKeyConstraint(["school_id"], ["schools.id"], name="fk_children_school_id_schools"),
        sa.PrimaryKeyConstraint("id", name="pk_children"),
    )
    op.create_index("ix_children_school_id", "children", ["school_id"])

    op.create_table(
        "peps",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("child_id", sa.Integer(), nullable=False),
        sa.Column("meeting_date", sa.Date(), nullable=False),
        sa.Column(
            "status",
            _str_enum("pep_status", "not_started", "in_progress", "submitted"),
            nullable=False,
        ),
        _timestamp("created_at"),
        _timestamp("submitted_at", nullable=True),
        sa.ForeignKeyConstraint(["child_id"], ["children.id"], name="fk_peps_child_id_children"),
        sa.PrimaryKeyConstraint("id", name="pk_peps"),
    )
    op.create_index("ix_peps_child_id", "peps", ["child_id"])

    op.create_table(
        "answers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("pep_id", sa.Integer(), nullable=False),
        sa.Column("question_key", sa.String(length=64), nullable=False),
        sa.Column("text", sa.Text(), nullable=True),
        sa.Column("skipped", sa.Boolean(), nullable=False),
        sa.Column(
            "answered_by", _str_enum("answered_by", "child", "with_carer", "carer"), nullable=False
        ),
        sa.Column("phase", sa.String(length=32), nullable=False),
        sa.Column("tags", sa.JSON(), nullable=False),
        _timestamp("created_at"),
        _timestamp("updated_at"),
        sa.ForeignKeyConstraint(["pep_id"], ["peps.id"], name="fk_answers_pep_id_peps"),
        sa.PrimaryKeyConstraint("id", name="pk_answers"),
        sa.UniqueConstraint("pep_id", "question_key", name="uq_answers_pep_id_question_key"),
    )

    op.create_table(
        "invites",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("pep_id", sa.Integer(), nullable=False),
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        _timestamp("expires_at"),
        sa.Column("bound_to", sa.String(length=64), nullable=True),
        _timestamp("bound_at", nullable=True),
        _timestamp("created_at"),
        sa.ForeignKeyConstraint(["pep_id"], ["peps.id"], name="fk_invites_pep_id_peps"),
        sa.PrimaryKeyConstraint("id", name="pk_invites"),
        sa.UniqueConstraint("code_hash", name="uq_invites_code_hash"),
    )
    op.create_index("ix_invites_pep_id", "invites", ["pep_id"])
    op.create_index("ix_invites_bound_to", "invites", ["bound_to"])

    op.create_table(
        "audit_events",
        sa.Column("id", sa.Integer(), nullable=False),
        _timestamp("at"),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("action", sa.String(length=64), nullable=False),
        sa.Column("school_id", sa.Integer(), nullable=True),
        sa.Column("pep_id", sa.Integer(), nullable=True),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_audit_events"),
    )
    op.create_index("ix_audit_events_at", "audit_events", ["at"])
    op.create_index("ix_audit_events_school_id", "audit_events", ["school_id"])
    op.create_index("ix_audit_events_pep_id", "audit_events", ["pep_id"])


def downgrade() -> None:
    # Dropping a table drops its indexes too.
    for table in ("audit_events", "invites", "answers", "peps", "children", "staff_users"):
        op.drop_table(table)
    op.drop_table("schools")
