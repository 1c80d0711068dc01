"""Emails to the school's designated teacher(s) about a child's voice.

Two notices, both sent by `send_teacher_notices` (the `send-teacher-notices` command, which
the scheduler, bot/scheduler.py, runs every cycle):
- "submitted": the child has sent their answers to school. Due once submitted_at is later
  than submitted_notice_sent_at, so a PEP sent back and submitted again is announced again;
  given up SUBMITTED_NOTICE_DAYS after the submission (a school that gets a designated
  teacher later is not told of old news).
- "reminder": the meeting is REMINDER_DAYS days away or fewer (UK date, as the dashboard's
  "Reminder due") and the child has not started. Once per PEP; given up after the meeting.

The PEP row is the outbox. A sender first claims the notice with a conditional UPDATE that
also checks it is still due, and commits the claim before talking to the mail server, so
two schedulers never both send one notice. A failed send gives the claim back and the notice
stays due for the next run; a claim left by a crashed sender is retaken after STALE_CLAIM.
Sending after the claim, not in the child's transaction, means the chat never waits for
(or fails with) the mail server.

The email holds no words of the child and no name, only the year group, the meeting date
and the review link (which needs a login). SMTP is bot.mail's (`send_email`). Logs and the
audit log hold ids and counts only.
"""

from __future__ import annotations

import enum
import logging
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from email.message import EmailMessage
from typing import cast

from sqlalchemy import ColumnElement, Connection, Table, and_, or_, select, update
from sqlalchemy.orm import Session

from bot.db import session_scope
from bot.mail import new_message, send_email
from bot.models import Child, Pep, PepStatus, Role, School, StaffUser, utcnow
from bot.services import record_event
from bot.services.dashboard import REMINDER_DAYS
from bot.services.voice_document import long_date, uk_date, year_group_name
from bot.settings import Settings, get_settings

logger = logging.getLogger(__name__)

ACTOR = "teacher-notices"
STALE_CLAIM = timedelta(minutes=10)
SUBMITTED_NOTICE_DAYS = 14

_peps = cast(Table, Pep.__table__)


class NoticeKind(enum.StrEnum):
    submitted = "submitted"
    reminder = "reminder"


_SENT_COLUMN = {
    NoticeKind.submitted: "submitted_notice_sent_at",
    NoticeKind.reminder: "teacher_reminder_sent_at",
}


def _due(kind: NoticeKind, now: datetime) -> ColumnElement[bool]:
    """The PEPs for which this notice is due at `now` (over the peps table)."""
    c = _peps.c
    if kind is NoticeKind.submitted:
        return and_(
            c.status == PepStatus.submitted.value,
            c.submitted_at > now - timedelta(days=SUBMITTED_NOTICE_DAYS),
            or_(c.submitted_notice_sent_at.is_(None), c.submitted_notice_sent_at < c.submitted_at),
        )
    today = uk_date(now)
    return and_(
        c.status == PepStatus.not_started.value,
        c.teacher_reminder_sent_at.is_(None),
        c.meeting_date >= today,
        c.meeting_date <= today + timedelta(days=REMINDER_DAYS),
    )


def _unclaimed(now: datetime) -> ColumnElement[bool]:
    claimed = _peps.c.teacher_notice_claimed_at
    return or_(claimed.is_(None), claimed < now - STALE_CLAIM)


@dataclass(frozen=True)
class Notice:
    pep_id: int
    kind: NoticeKind


def due_notices(session: Session, now: datetime) -> list[Notice]:
    """Every notice due now and not claimed by another sender, oldest PEP first."""
    notices: list[Notice] = []
    for kind in NoticeKind:
        ids = session.scalars(
            select(_peps.c.id).where(_due(kind, now), _unclaimed(now)).order_by(_peps.c.id)
        )
        notices.extend(Notice(pep_id, kind) for pep_id in ids)
    return notices


def _claim(connection: Connection, notice: Notice, now: datetime) -> bool:
    result = connection.execute(
        update(_peps)
        .where(_peps.c.id == notice.pep_id, _due(notice.kind, now), _unclaimed(now))
        .values(teacher_notice_claimed_at=now)
    )
    return result.rowcount == 1


def _release(connection: Connection, pep_id: int, claimed_at: datetime) -> None:
    # Only our own claim: a stale claim retaken by another sender is theirs now.
    connection.execute(
        update(_peps)
        .where(_peps.c.id == pep_id, _peps.c.teacher_notice_claimed_at == claimed_at)
        .values(teacher_notice_claimed_at=None)
    )


def designated_teachers(session: Session, school_id: int) -> tuple[str, ...]:
    """The emails of the school's designated teachers whose accounts are not disabled."""
    return tuple(
        session.scalars(
            select(StaffUser.email)
            .where(
                StaffUser.school_id == school_id,
                StaffUser.role == Role.designated_teacher,
                StaffUser.disabled_at.is_(None),
            )
            .order_by(StaffUser.id)
        )
    )


# --- composition ------------------------------------------------------------


@dataclass(frozen=True)
class NoticeFacts:
    """What the email may say: no name, no words."""

    pep_id: int
    school_id: int
    school_name: str
    year_group: int
    meeting_date: date
    sent_back: bool  # the teacher had sent it back with a question


def facts_for(session: Session, pep_id: int) -> NoticeFacts | None:
    # Explicit columns: the child's name is never loaded to compose a notice.
    row = session.execute(
        select(
            Pep.id,
            Child.school_id,
            School.name,
            Child.year_group,
            Pep.meeting_date,
            Pep.returned_at.is_not(None),
        )
        .join(Child, Child.id == Pep.child_id)
        .join(School, School.id == Child.school_id)
        .where(Pep.id == pep_id)
    ).one_or_none()
    return None if row is None else NoticeFacts(*row)


def _days_away(meeting: date, today: date) -> str:
    days = (meeting - today).days
    return {0: "today", 1: "tomorrow"}.get(days, f"in {days} days")


def compose_notice(
    kind: NoticeKind,
    facts: NoticeFacts,
    recipients: tuple[str, ...],
    settings: Settings,
    today: date,
) -> EmailMessage:
    child = f"A child in {year_group_name(facts.year_group)}"
    meeting = f"{facts.meeting_date:%A} {long_date(facts.meeting_date)}"
    link = f"{settings.web.base_url.rstrip('/')}/review/peps/{facts.pep_id}"
    if kind is NoticeKind.submitted:
        subject = "PEP Voice: a child's views are ready for you to review"
        done = (
            "has answered the question you sent back, and sent\ntheir views again."
            if facts.sent_back
            else "has finished and sent their views to school."
        )
        opening = (
            f"{child} (PEP meeting {meeting})\n{done}\n\n"
            "Please read them, and approve them or send them back with a question,\n"
            "before the meeting. After logging in, open:"
        )
    else:
        subject = "PEP Voice: reminder, a child has not started their views"
        opening = (
            f"{child} has a PEP meeting {_days_away(facts.meeting_date, today)}\n"
            f"({meeting}) and has not started giving their views\n"
            "in PEP Voice yet.\n\n"
            "You may want to remind the child or their carer. You can print a new\n"
            "invite card from the PEP Voice home page. After logging in, open:"
        )
    body = f"""\
{opening}
    {link}

The child's name and words are not in this email, because email is
forwarded and kept outside PEP Voice.

You are receiving this because you are a designated teacher for
{facts.school_name} in PEP Voice.
"""
    return new_message(subject, recipients, body, settings)


# --- delivery ---------------------------------------------------------------


class Outcome(enum.Enum):
    sent = "sent"
    failed = "failed"  # the mail server refused or could not be reached: retried next run
    no_recipient = "no_recipient"  # the school has no designated teacher: retried next run
    not_due = "not_due"  # no longer due, or another sender holds it


def deliver_notice(notice: Notice, now: datetime | None = None) -> Outcome:
    """One attempt to send one notice."""
    settings = get_settings()
    claimed_at = now or utcnow()
    with session_scope() as session:
        if not _claim(session.connection(), notice, claimed_at):
            return Outcome.not_due
    # The claim is committed before the (slow) SMTP conversation.
    with session_scope() as session:
        facts = facts_for(session, notice.pep_id)
        recipients = designated_teachers(session, facts.school_id) if facts else ()
        if facts is None or not recipients:
            _release(session.connection(), notice.pep_id, claimed_at)
            if facts is not None:
                logger.warning(
                    "teacher notice (%s) for PEP %d: the school has no designated teacher "
                    "in PEP Voice; it waits until one is added",
                    notice.kind,
                    notice.pep_id,
                )
            return Outcome.no_recipient if facts else Outcome.not_due
    message = compose_notice(notice.kind, facts, recipients, settings, uk_date(claimed_at))
    try:
        accepted = send_email(message, recipients, settings)
    except Exception as exc:  # SMTP or network, or a bug: never leave the claim dangling
        code = getattr(exc, "smtp_code", None)
        logger.warning(
            "teacher notice (%s) for PEP %d not sent: %s%s; it is retried next run",
            notice.kind,
            notice.pep_id,
            type(exc).__name__,
            f" (SMTP {code})" if code else "",
        )
        with session_scope() as session:
            _release(session.connection(), notice.pep_id, claimed_at)
        return Outcome.failed
    with session_scope() as session:
        # The claim time, not now: a resubmission while this was sending is announced too.
        session.connection().execute(
            update(_peps)
            .where(_peps.c.id == notice.pep_id)
            .values({_SENT_COLUMN[notice.kind]: claimed_at, "teacher_notice_claimed_at": None})
        )
        record_event(
            session,
            ACTOR,
            "pep.teacher_notified",
            school_id=facts.school_id,
            pep_id=notice.pep_id,
            kind=notice.kind.value,
            recipients=len(accepted),
        )
    logger.info(
        "teacher notice (%s) for PEP %d sent to %d recipient(s)",
        notice.kind,
        notice.pep_id,
        len(accepted),
    )
    return Outcome.sent


@dataclass(frozen=True)
class NoticeResult:
    sent: int
    failed: int
    no_recipient: int


def send_teacher_notices(now: datetime | None = None) -> NoticeResult:
    """One attempt for every notice due now."""
    now = now or utcnow()
    with session_scope() as session:
        notices = due_notices(session, now)
    outcomes = []
    for notice in notices:
        try:
            outcomes.append(deliver_notice(notice, now))
        except Exception as exc:  # e.g. the database briefly unreachable: the next run retries
            logger.warning(
                "teacher notice (%s) for PEP %d: %s", notice.kind, notice.pep_id, type(exc).__name__
            )
            outcomes.append(Outcome.failed)
    return NoticeResult(
        sent=outcomes.count(Outcome.sent),
        failed=outcomes.count(Outcome.failed),
        no_recipient=outcomes.count(Outcome.no_recipient),
    )
