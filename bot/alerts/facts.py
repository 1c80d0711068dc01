"""What the store says about a concern for its alert: never the words, no message text."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.alerts.recipients import SchoolContacts
from bot.models import Pep, Role, SafeguardingConcern, School, StaffUser


@dataclass(frozen=True)
class AlertFacts:
    """What the email may say about a concern."""

    concern_id: int
    created_at: datetime
    category: str
    source: str
    question_key: str | None
    pep_id: int | None
    child_first_name: str | None
    year_group: int | None
    school_name: str | None
    # Messages passed on so far, and how many the previous alert counted (0: none went).
    message_count: int = 1
    alerted_message_count: int = 0
    school_id: int | None = None

    @property
    def further_messages(self) -> int:
        """Messages since the last alert, when this alert is an update to an earlier one."""
        return self.message_count - self.alerted_message_count if self.is_update else 0

    @property
    def is_update(self) -> bool:
        return self.alerted_message_count > 0


def load_facts(session: Session, concern_id: int) -> AlertFacts | None:
    # Explicit columns: the words are never loaded to compose an alert.
    row = session.execute(
        select(
            SafeguardingConcern.created_at,
            SafeguardingConcern.category,
            SafeguardingConcern.source,
            SafeguardingConcern.question_key,
            SafeguardingConcern.pep_id,
            SafeguardingConcern.school_id,
            SafeguardingConcern.message_count,
            SafeguardingConcern.alerted_message_count,
        ).where(SafeguardingConcern.id == concern_id)
    ).one_or_none()
    if row is None:
        return None
    pep = session.get(Pep, row.pep_id) if row.pep_id is not None else None
    school = session.get(School, row.school_id) if row.school_id is not None else None
    return AlertFacts(
        concern_id=concern_id,
        created_at=row.created_at,
        category=row.category,
        source=row.source.value,
        question_key=row.question_key,
        pep_id=row.pep_id,
        child_first_name=pep.child.first_name if pep else None,
        year_group=pep.child.year_group if pep else None,
        school_name=school.name if school else None,
        message_count=row.message_count,
        alerted_message_count=row.alerted_message_count,
        school_id=row.school_id,
    )


def school_contacts(session: Session, school_id: int | None) -> SchoolContacts:
    """The school's DSLs and virtual-school staff, in the order they were registered."""
    if school_id is None:
        return SchoolContacts()

    def emails(role: Role) -> tuple[str, ...]:
        return tuple(
            session.scalars(
                select(StaffUser.email)
                .where(StaffUser.school_id == school_id, StaffUser.role == role)
                .order_by(StaffUser.id)
            ).all()
        )

    return SchoolContacts(dsls=emails(Role.dsl), virtual_school=emails(Role.virtual_school))
