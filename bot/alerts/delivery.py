"""How an alert is sent: one worker, one retry policy, the concern row as the outbox.

`alert_status` goes pending -> sending -> sent, or -> failed. The scheduler
(bot/scheduler.py) calls `deliver_due_alerts` every ALERT_POLL_SECONDS: one query on the
indexed status column finds the concerns due, and each gets one attempt. The retry policy
is `next_attempt_at`: after the n-th failed attempt, wait ALERT_RETRY_DELAYS[n-1] (the last
delay repeats) from that attempt's start, until ALERT_MAX_ATTEMPTS; then the concern waits
for a person (logged, and listed at /review/concerns).

A deliverer first claims the row with a conditional UPDATE, so two deliverers (several
schedulers, or the one-shot `send-pending-alerts`) never both email one concern, and a sent
concern is never emailed again. A claim left by a crashed process is retaken after
STALE_CLAIM: a rare duplicate email is better than a lost alert.
"""

from __future__ import annotations

import enum
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import cast

from sqlalchemy import Connection, Table, and_, func, or_, select, update
from sqlalchemy.orm import Session

from bot.alerts.compose import compose_alert
from bot.alerts.facts import load_facts, school_contacts
from bot.alerts.recipients import choose_recipients
from bot.db import session_scope
from bot.mail import send_email
from bot.models import AlertStatus, SafeguardingConcern, utcnow
from bot.services import record_event
from bot.settings import get_settings

logger = logging.getLogger(__name__)

STALE_CLAIM = timedelta(minutes=10)
ACTOR = "alerts"

_CLAIMABLE = (AlertStatus.pending, AlertStatus.failed)
_concerns = cast(Table, SafeguardingConcern.__table__)


# --- the retry policy ---------------------------------------------------------


def next_attempt_at(
    attempts: int, last_attempt: datetime | None, delays: Sequence[float]
) -> datetime | None:
    """When a concern not yet alerted is next due: at once if never tried (or reopened for
    an update), else `delays[attempts - 1]` (the last repeats) after the last attempt began.
    None: no attempt was ever claimed, so due now."""
    if attempts == 0 or last_attempt is None:
        return None
    delay = delays[min(attempts, len(delays)) - 1] if delays else 0.0
    return last_attempt + timedelta(seconds=delay)


def _is_due(
    status: AlertStatus,
    attempts: int,
    claimed_at: datetime | None,
    now: datetime,
    delays: Sequence[float],
) -> bool:
    if status is AlertStatus.sending:  # only a stale claim: its deliverer died
        return claimed_at is not None and claimed_at < now - STALE_CLAIM
    due_at = next_attempt_at(attempts, claimed_at, delays)
    return due_at is None or due_at <= now


def due_alerts(session: Session, now: datetime) -> list[int]:
    """The concerns to attempt now, oldest first: one query on the indexed status."""
    settings = get_settings()
    rows = session.execute(
        select(
            SafeguardingConcern.id,
            SafeguardingConcern.alert_status,
            SafeguardingConcern.alert_attempts,
            SafeguardingConcern.alert_claimed_at,
        )
        .where(
            SafeguardingConcern.alert_status.in_([*_CLAIMABLE, AlertStatus.sending]),
            SafeguardingConcern.alert_attempts < settings.alerts.max_attempts,
        )
        .order_by(SafeguardingConcern.id)
    ).all()
    return [
        row.id
        for row in rows
        if _is_due(
            row.alert_status,
            row.alert_attempts,
            row.alert_claimed_at,
            now,
            settings.alerts.retry_delays,
        )
    ]


def count_abandoned(session: Session) -> int:
    """Concerns whose alert failed ALERT_MAX_ATTEMPTS times: no longer retried."""
    return int(
        session.scalar(
            select(func.count())
            .select_from(SafeguardingConcern)
            .where(
                SafeguardingConcern.alert_status == AlertStatus.failed,
                SafeguardingConcern.alert_attempts >= get_settings().alerts.max_attempts,
            )
        )
        or 0
    )


# --- one attempt --------------------------------------------------------------


def _claim(connection: Connection, concern_id: int, now: datetime) -> bool:
    stale = and_(
        _concerns.c.alert_status == AlertStatus.sending.value,
        _concerns.c.alert_claimed_at < now - STALE_CLAIM,
    )
    result = connection.execute(
        update(_concerns)
        .where(
            _concerns.c.id == concern_id,
            or_(_concerns.c.alert_status.in_([s.value for s in _CLAIMABLE]), stale),
        )
        .values(
            alert_status=AlertStatus.sending.value,
            alert_claimed_at=now,
            alert_attempts=_concerns.c.alert_attempts + 1,
        )
    )
    return result.rowcount == 1


def _record_failure(session: Session, concern_id: int, claimed_at: datetime, reason: str) -> None:
    """Give the claim back for a later try, and audit why (a reason code, never text)."""
    # Only our own claim: never overwrite another deliverer's "sent".
    session.connection().execute(
        update(_concerns)
        .where(
            _concerns.c.id == concern_id,
            _concerns.c.alert_status == AlertStatus.sending.value,
            _concerns.c.alert_claimed_at == claimed_at,
        )
        .values(alert_status=AlertStatus.failed.value)
    )
    record_event(
        session,
        ACTOR,
        "concern.alert_failed",
        school_id=_school_id(session, concern_id),
        concern_id=concern_id,
        reason=reason,
    )


def _school_id(session: Session, concern_id: int) -> int | None:
    return session.scalar(
        select(SafeguardingConcern.school_id).where(SafeguardingConcern.id == concern_id)
    )


class Outcome(enum.Enum):
    sent = "sent"  # by us now, or earlier
    unsent = "unsent"  # failed, or another deliverer holds the claim: retried when due
    missing = "missing"  # no such concern


def deliver_alert(concern_id: int) -> Outcome:
    """One attempt to email the concern's alert, whatever the retry policy says."""
    settings = get_settings()
    claimed_at = utcnow()
    with session_scope() as session:
        if not _claim(session.connection(), concern_id, claimed_at):
            status = session.scalar(
                select(SafeguardingConcern.alert_status).where(SafeguardingConcern.id == concern_id)
            )
            if status is None:
                logger.error("safeguarding alert: no concern %d", concern_id)
                return Outcome.missing
            return Outcome.sent if status == AlertStatus.sent else Outcome.unsent
    # The claim is committed before the (slow) SMTP conversation.
    with session_scope() as session:
        facts = load_facts(session, concern_id)
        assert facts is not None  # claimed above, and concerns are never deleted
        recipients = choose_recipients(
            school_contacts(session, facts.school_id), settings.alerts.virtual_school_email
        )
        if not recipients.emails:
            _record_failure(session, concern_id, claimed_at, reason="no_recipient")
            logger.error(
                "safeguarding concern %d: no one to alert (the school has no DSL or "
                "virtual school staff, and VIRTUAL_SCHOOL_EMAIL is not set)",
                concern_id,
            )
            return Outcome.unsent
    try:
        accepted = send_email(
            compose_alert(facts, recipients, settings), recipients.emails, settings
        )
    except Exception as exc:  # SMTP or network, or a bug: never leave the claim dangling
        code = getattr(exc, "smtp_code", None)
        logger.warning(
            "safeguarding alert %d not sent: %s%s",
            concern_id,
            type(exc).__name__,
            f" (SMTP {code})" if code else "",
        )
        with session_scope() as session:
            _record_failure(session, concern_id, claimed_at, reason=type(exc).__name__)
        return Outcome.unsent
    with session_scope() as session:
        # Unconditional: the email has gone, whatever happened to the claim meanwhile.
        session.connection().execute(
            update(_concerns)
            .where(_concerns.c.id == concern_id)
            .values(
                alert_status=AlertStatus.sent.value,
                alerted_at=utcnow(),
                recipients=accepted,
                alerted_message_count=facts.message_count,
            )
        )
        record_event(
            session,
            ACTOR,
            "concern.alert_sent",
            school_id=facts.school_id,
            concern_id=concern_id,
            recipients=len(accepted),
            recipient_kind=recipients.kind,
        )
    logger.info("safeguarding alert %d sent to %d recipient(s)", concern_id, len(accepted))
    return Outcome.sent


# --- the worker -----------------------------------------------------------------


@dataclass(frozen=True)
class DeliveryResult:
    sent: int
    unsent: int  # tried and failed (or taken by another deliverer): retried when due


def deliver_due_alerts(now: datetime | None = None) -> DeliveryResult:
    """The worker's pass: one attempt for every concern due under the retry policy."""
    with session_scope() as session:
        due = due_alerts(session, now or utcnow())
    sent = 0
    for concern_id in due:
        try:
            sent += deliver_alert(concern_id) is Outcome.sent
        except Exception as exc:  # e.g. the database is briefly unreachable
            logger.warning("safeguarding alert %d: %s", concern_id, type(exc).__name__)
    return DeliveryResult(sent=sent, unsent=len(due) - sent)


def reopen_followups(now: datetime | None = None) -> int:
    """Mark for an update alert every open concern with messages its last alert did not
    count, once ALERT_FOLLOWUP_MINUTES have passed since that alert; how many."""
    now = now or utcnow()
    quiet = timedelta(minutes=get_settings().alerts.followup_minutes)
    with session_scope() as session:
        result = session.connection().execute(
            update(_concerns)
            .where(
                _concerns.c.alert_status == AlertStatus.sent.value,
                _concerns.c.message_count > _concerns.c.alerted_message_count,
                _concerns.c.alerted_at <= now - quiet,
                _concerns.c.acknowledged_at.is_(None),
            )
            .values(alert_status=AlertStatus.pending.value, alert_attempts=0)
        )
        return int(result.rowcount or 0)


def warn_of_abandoned_alerts() -> int:
    """Log (for the operator) how many concerns are past the attempt limit; that count."""
    with session_scope() as session:
        abandoned = count_abandoned(session)
    if abandoned:
        logger.error(
            "%d safeguarding concern(s) reached %d alert attempts and are no longer "
            "emailed; an admin sees them at /review/concerns",
            abandoned,
            get_settings().alerts.max_attempts,
        )
    return abandoned


@dataclass(frozen=True)
class PendingResult:
    sent: int
    unsent: int
    # Concerns past ALERT_MAX_ATTEMPTS: no longer retried, need a person.
    abandoned: int


def send_pending_alerts() -> PendingResult:
    """The one-shot `send-pending-alerts` (for cron instead of the scheduler): update alerts
    reopened, then one worker pass."""
    reopen_followups()
    result = deliver_due_alerts()
    return PendingResult(result.sent, result.unsent, warn_of_abandoned_alerts())
