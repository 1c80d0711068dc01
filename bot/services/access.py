"""Who may see safeguarding concerns, and how much of them.

- admin: every concern, words included.
- dsl: their own school's concerns, words included.
- designated_teacher and virtual_school: their own school's concern
  summaries (so nobody contacts a child carelessly while a concern is open),
  never the words.
- A concern of another school, or one without a school (the chat had not
  been linked to a PEP), looks exactly like an unknown id to a non-admin.
Every read, and every refused read of the words, is audited with the
viewer's id; the words themselves never are.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Select, false, select
from sqlalchemy.orm import Session

from bot.models import (
    ConcernMessage,
    Role,
    SafeguardingConcern,
    StaffUser,
)
from bot.services import ServiceError, record_event
from bot.uk_time import uk_time

# Roles that may know that a concern exists (summaries).
SUMMARY_ROLES = frozenset({Role.admin, Role.dsl, Role.designated_teacher, Role.virtual_school})
# Roles that may read what the child said.
WORDS_ROLES = frozenset({Role.admin, Role.dsl})


class AccessDenied(ServiceError):
    pass


class ConcernNotFound(AccessDenied):
    """Unknown id, or a concern the viewer may not know exists."""

    def __init__(self, concern_id: int) -> None:
        super().__init__(f"unknown concern id {concern_id}")


@dataclass(frozen=True)
class Viewer:
    staff_user_id: int
    email: str
    role: Role
    school_id: int

    @property
    def actor(self) -> str:
        return f"staff:{self.staff_user_id}"


def viewer_for_email(session: Session, email: str) -> Viewer:
    staff = session.scalar(select(StaffUser).where(StaffUser.email == email.strip().lower()))
    if staff is None:
        # The typed address is not echoed: it may be anything.
        raise AccessDenied("no staff user has that email address")
    return Viewer(staff.id, staff.email, staff.role, staff.school_id)


def _visible(query: Select[SafeguardingConcern], viewer: Viewer) -> Select[SafeguardingConcern]:
    if viewer.role == Role.admin:
        return query
    return query.where(SafeguardingConcern.school_id == viewer.school_id)


def visible_concerns(
    viewer: Viewer, query: Select[SafeguardingConcern] | None = None
) -> Select[SafeguardingConcern]:
    """The concerns `viewer` may know exist (the rule every reader here applies), or none if
    their role may not know of concerns at all. For other modules, e.g. bot.services.scope."""
    query = select(SafeguardingConcern) if query is None else query
    if viewer.role not in SUMMARY_ROLES:
        return query.where(false())
    return _visible(query, viewer)


@dataclass(frozen=True)
class ConcernMessageWords:
    """One message of a concern as the child sent it (for the DSL's page)."""

    created_at: datetime
    category: str
    question_key: str | None
    words: str


def concern_words(session: Session, viewer: Viewer, concern_id: int) -> str:
    """The child's words, for the school's DSL or an admin; audited either way.

    A refusal is audited as "concern.view_denied" in the caller's transaction,
    so a caller that rolls back on AccessDenied loses that record.
    """
    messages = concern_messages(session, viewer, concern_id)
    if len(messages) == 1:
        return messages[0].words
    return _with_times([(m.created_at, m.words) for m in messages])


def concern_messages(
    session: Session, viewer: Viewer, concern_id: int
) -> list[ConcernMessageWords]:
    """Every message of the concern in order, each with its time, category and question:
    the same check and the same audit records as `concern_words`."""
    query = _visible(select(SafeguardingConcern), viewer).where(
        SafeguardingConcern.id == concern_id
    )
    row = session.execute(
        query.with_only_columns(SafeguardingConcern.school_id, SafeguardingConcern.pep_id)
    ).one_or_none()
    if row is None or viewer.role not in WORDS_ROLES:
        record_event(
            session,
            viewer.actor,
            "concern.view_denied",
            school_id=viewer.school_id,
            viewer_id=viewer.staff_user_id,
            concern_id=concern_id,
            role=viewer.role.value,
        )
        session.flush()
        if row is None or viewer.role not in SUMMARY_ROLES:
            raise ConcernNotFound(concern_id)
        raise AccessDenied(
            "only the school's Designated Safeguarding Lead or an administrator "
            "can read what the child said"
        )
    messages = [
        ConcernMessageWords(*m)
        for m in session.execute(
            select(
                ConcernMessage.created_at,
                ConcernMessage.category,
                ConcernMessage.question_key,
                ConcernMessage.words,
            )
            .where(ConcernMessage.concern_id == concern_id)
            .order_by(ConcernMessage.id)
        ).all()
    ]
    if not messages:  # a concern recorded before messages were kept separately
        stored = session.execute(
            select(
                SafeguardingConcern.created_at,
                SafeguardingConcern.category,
                SafeguardingConcern.question_key,
                SafeguardingConcern.words,
            ).where(SafeguardingConcern.id == concern_id)
        ).one()
        messages = [ConcernMessageWords(*stored)]
    record_event(
        session,
        viewer.actor,
        "concern.viewed",
        school_id=row.school_id,
        pep_id=row.pep_id,
        viewer_id=viewer.staff_user_id,
        concern_id=concern_id,
    )
    session.flush()
    return messages


def _with_times(messages: Sequence[tuple[datetime, str]]) -> str:
    """One message as it was said; several, one a line, each with its UK time."""
    if len(messages) == 1:
        return messages[0][1]
    return "\n".join(f"[{uk_time(at)}] {words}" for at, words in messages)
