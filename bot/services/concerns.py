"""Safeguarding concerns for the staff review app: the list, and the DSL's acknowledgement.

Which concerns someone may see is bot.services.access's rule (through bot.services.scope); the
child's words are read only with bot.services.access (checked and audited). Nothing here reads
the words.
An acknowledgement closes the concern: a later disclosure in the same chat opens a new one
(bot.services.safeguarding), and no more update alerts go out for it (bot.alerts).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Select, case, select, update
from sqlalchemy.orm import Session

from bot.models import AlertStatus, Child, Pep, Role, SafeguardingConcern, StaffUser, utcnow
from bot.questions import BY_KEY
from bot.services import ServiceError
from bot.services.access import WORDS_ROLES
from bot.services.scope import OutOfScope, StaffContext, audit, concern_or_404, concerns_query
from bot.uk_time import uk_time
from pep_nlp.contract import CLASSIFIER_CATEGORY

#: Longest note or action the form accepts (characters).
TEXT_MAX = 3000  # keep in step with bot/web/limits.py

ALERT_LABELS = {
    AlertStatus.pending: "Email waiting to go",
    AlertStatus.sending: "Email being sent",
    AlertStatus.sent: "Email sent",
    AlertStatus.failed: "Email not sent yet",
}


class AcknowledgeError(ServiceError):
    """The form was not filled in well enough: the message is for the member of staff."""


def category_label(category: str) -> str:
    if category == CLASSIFIER_CATEGORY:
        return "Not categorised (flagged by the language classifier)"
    return category.replace("_", " ").capitalize()


def question_label(question_key: str | None) -> str:
    if question_key is None:
        return "Not an answer to a question"
    question = BY_KEY.get(question_key)
    return question.label if question else question_key


@dataclass(frozen=True)
class ConcernRow:
    """What any role that may know of a concern may see of it: never the words."""

    id: int
    created_at: datetime
    category: str
    question_key: str | None
    pep_id: int | None
    child_first_name: str | None
    message_count: int
    alert_status: AlertStatus
    acknowledged_at: datetime | None
    acknowledged_by_email: str | None

    @property
    def time(self) -> str:
        return uk_time(self.created_at)

    @property
    def acknowledged_time(self) -> str | None:
        return uk_time(self.acknowledged_at) if self.acknowledged_at else None

    @property
    def category_label(self) -> str:
        return category_label(self.category)

    @property
    def question_label(self) -> str:
        return question_label(self.question_key)

    @property
    def alert_label(self) -> str:
        return ALERT_LABELS.get(self.alert_status, self.alert_status.value)


def concern_rows(session: Session, scoped: Select[SafeguardingConcern]) -> list[ConcernRow]:
    """The summaries of the concerns in `scoped` (a query from bot.services.scope), the open
    ones first, then newest first."""
    rows = session.execute(
        scoped.with_only_columns(
            SafeguardingConcern.id,
            SafeguardingConcern.created_at,
            SafeguardingConcern.category,
            SafeguardingConcern.question_key,
            SafeguardingConcern.pep_id,
            Child.first_name,
            SafeguardingConcern.message_count,
            SafeguardingConcern.alert_status,
            SafeguardingConcern.acknowledged_at,
            StaffUser.email,
        )
        .outerjoin(Pep, Pep.id == SafeguardingConcern.pep_id)
        .outerjoin(Child, Child.id == Pep.child_id)
        .outerjoin(StaffUser, StaffUser.id == SafeguardingConcern.acknowledged_by)
        .order_by(
            case((SafeguardingConcern.acknowledged_at.is_(None), 0), else_=1),
            SafeguardingConcern.created_at.desc(),
            SafeguardingConcern.id.desc(),
        )
    ).all()
    return [
        ConcernRow(
            id=r.id,
            created_at=r.created_at,
            category=r.category,
            question_key=r.question_key,
            pep_id=r.pep_id,
            child_first_name=r.first_name,
            message_count=r.message_count,
            alert_status=r.alert_status,
            acknowledged_at=r.acknowledged_at,
            acknowledged_by_email=r.email,
        )
        for r in rows
    ]


def acknowledgement(session: Session, concern_id: int) -> tuple[str | None, str | None]:
    """The DSL's note and the action taken (for DSL and admin pages only)."""
    row = session.execute(
        select(SafeguardingConcern.acknowledgement_note, SafeguardingConcern.action_taken).where(
            SafeguardingConcern.id == concern_id
        )
    ).one()
    return row.acknowledgement_note, row.action_taken


def clean_text(value: str, what: str) -> str:
    text = value.strip().replace("\x00", "\ufffd")
    if not text:
        raise AcknowledgeError(f"Please write {what}.")
    if len(text) > TEXT_MAX:
        raise AcknowledgeError(f"Please keep {what} under {TEXT_MAX:,} characters.")
    return text


def acknowledge(
    session: Session, concern_id: int, staff_id: int, role: Role, *, note: str,
    action_taken: str,
) -> bool:  # fmt: skip
    """Mark the concern acknowledged by a DSL or admin (the caller has checked that they may
    see it) with a note and the action taken, both required. Once only: False if it was
    acknowledged already (by anyone, even a moment ago), and then nothing changes."""
    if role not in WORDS_ROLES:
        raise AcknowledgeError(
            "Only a Designated Safeguarding Lead or an administrator can do this."
        )
    note = clean_text(note, "a note")
    action_taken = clean_text(action_taken, "the action taken")
    result = session.execute(
        update(SafeguardingConcern)
        .where(SafeguardingConcern.id == concern_id, SafeguardingConcern.acknowledged_at.is_(None))
        .values(
            acknowledged_at=utcnow(),
            acknowledged_by=staff_id,
            acknowledgement_note=note,
            action_taken=action_taken,
        )
        .execution_options(synchronize_session=False)
    )
    return int(getattr(result, "rowcount", 0) or 0) == 1


# --- For the review app: scoped by bot.services.scope ---------------------------------------


def concerns_seen_by(session: Session, ctx: StaffContext) -> list[ConcernRow]:
    """The summaries of every concern `ctx` may know of; audited as `concern.listed` (a count)."""
    rows = concern_rows(session, concerns_query(ctx))
    audit(
        session, ctx, "concern.listed",
        school_id=None if ctx.role == Role.admin else ctx.school_id, concerns=len(rows),
    )  # fmt: skip
    return rows


def concern_summary(session: Session, ctx: StaffContext, concern_id: int) -> ConcernRow:
    """One concern's summary, if `ctx` may know of it (else OutOfScope); audited as
    `concern.summary_viewed`."""
    concern_or_404(session, ctx, concern_id)
    [row] = concern_rows(session, concerns_query(ctx).where(SafeguardingConcern.id == concern_id))
    return row


def acknowledge_as(
    session: Session, ctx: StaffContext, concern_id: int, *, note: str, action_taken: str
) -> bool:
    """`acknowledge` by `ctx`, for a concern they may know of (else OutOfScope); audited as
    `concern.acknowledged` (without the text) when it was theirs to acknowledge."""
    found = session.execute(
        concerns_query(ctx)
        .with_only_columns(SafeguardingConcern.school_id, SafeguardingConcern.pep_id)
        .where(SafeguardingConcern.id == concern_id)
    ).one_or_none()
    if found is None:
        raise OutOfScope("concern", concern_id)
    done = acknowledge(
        session, concern_id, ctx.staff_id, ctx.role, note=note, action_taken=action_taken
    )
    if done:
        audit(
            session, ctx, "concern.acknowledged", school_id=found.school_id,
            pep_id=found.pep_id, concern_id=concern_id,
        )  # fmt: skip
    return done
