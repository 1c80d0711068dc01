"""Emailing the school's Designated Safeguarding Lead (DSL) about a concern.

The concern row is the outbox: `alert_status` goes pending -> sending -> sent,
or -> failed, to be retried by `deliver_with_retries` (seconds) and later by
`deliver_pending_alerts` (the `send-pending-alerts` command, and once at
action-server start-up). A deliverer first claims the row with a conditional
UPDATE, so two deliverers never both email one concern, and a sent concern
is never emailed again. A claim left by a crashed process is retaken after
STALE_CLAIM: a rare duplicate email is better than a lost alert.

The email never holds the child's words (email is forwarded and kept outside
PEP Voice); it says how the DSL can read them. Logs hold ids and counts only.
"""

from __future__ import annotations

import asyncio
import enum
import logging
import smtplib
import ssl
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from typing import Any, cast
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, Table, and_, or_, select, update
from sqlalchemy.orm import Session

from bot.db import session_scope
from bot.models import AlertStatus, Pep, Role, SafeguardingConcern, School, StaffUser, utcnow
from bot.services import record_event
from bot.settings import Settings, get_settings

logger = logging.getLogger(__name__)

UK = ZoneInfo("Europe/London")
SUBJECT = "PEP Voice: a child may need safeguarding support (ref {id})"
UPDATE_SUBJECT = "PEP Voice: the child said more about concern ref {id}"
UNRECORDED_SUBJECT = "PEP Voice: a safeguarding concern could not be stored"
STALE_CLAIM = timedelta(minutes=10)
ACTOR = "alerts"

# Keep in step with the bot's reply (domain.yml: utter_disclosure_response).
CHILD_WAS_TOLD = (
    "- thank you for telling me; it is not your fault;\n"
    "- PEP Voice is a computer program, so it cannot keep this secret: it\n"
    "  would tell the school's safeguarding lead, an adult whose job is to\n"
    "  keep them safe, so they can help;\n"
    "- they can talk to Childline any time, free, on 0800 1111 (children\n"
    "  in the early years were told instead to tell a grown-up);\n"
    "- if they are in danger right now, to call 999."
)

_CLAIMABLE = (AlertStatus.pending, AlertStatus.failed)
_concerns = cast(Table, SafeguardingConcern.__table__)


# --- recipients -------------------------------------------------------------


@dataclass(frozen=True)
class Recipients:
    emails: tuple[str, ...]
    # "dsl" | "virtual_school" | "fallback" | "none": why these people.
    kind: str


def recipients_for(session: Session, school_id: int | None, settings: Settings) -> Recipients:
    """The school's DSLs, else its virtual-school staff, else VIRTUAL_SCHOOL_EMAIL."""
    if school_id is not None:
        for role, kind in ((Role.dsl, "dsl"), (Role.virtual_school, "virtual_school")):
            emails = session.scalars(
                select(StaffUser.email)
                .where(StaffUser.school_id == school_id, StaffUser.role == role)
                .order_by(StaffUser.id)
            ).all()
            if emails:
                return Recipients(tuple(emails), kind)
    if settings.virtual_school_email:
        return Recipients((settings.virtual_school_email.strip(),), "fallback")
    return Recipients((), "none")


# --- composition ------------------------------------------------------------


@dataclass(frozen=True)
class AlertFacts:
    """What the email may say about a concern: no words, no message text."""

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

    @property
    def further_messages(self) -> int:
        """Messages since the last alert, when this alert is an update to an earlier one."""
        return self.message_count - self.alerted_message_count if self.is_update else 0

    @property
    def is_update(self) -> bool:
        return self.alerted_message_count > 0


def facts_for(session: Session, concern_id: int) -> AlertFacts | None:
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
    )


def uk_time(moment: datetime) -> str:
    local = moment.astimezone(UK)
    return f"{local:%A} {local.day} {local:%B %Y, %H:%M} ({local.tzname()}, UK time)"


def _category_line(facts: AlertFacts) -> str:
    if facts.category == "classifier":
        return "not categorised (flagged by the language classifier)"
    how = "keyword screen" if facts.source == "answer_screen" else "safeguarding screen"
    return f"{facts.category.replace('_', ' ')} (flagged by the {how})"


# Lines stay under 78 characters so the body is sent as plain 7-bit text.
_WHY = {
    "dsl": "you are a Designated Safeguarding Lead\nfor this school in PEP Voice.",
    "virtual_school": (
        "this school has no Designated Safeguarding\n"
        "Lead registered in PEP Voice, and you are its virtual school contact.\n"
        "Please make sure the school's DSL is told, and ask a PEP Voice\n"
        "administrator to register them."
    ),
    "fallback": (
        "no Designated Safeguarding Lead or virtual\n"
        "school staff could be found for this child, and you are PEP Voice's\n"
        "fallback safeguarding contact."
    ),
}


def year_group_words(year_group: int) -> str:
    return {-1: "Nursery", 0: "Reception"}.get(year_group, f"Year {year_group}")


def _opening(facts: AlertFacts) -> str:
    if facts.is_update:
        count = facts.further_messages
        return (
            f"An update to safeguarding concern {facts.concern_id}: since the last alert\n"
            f"the child sent {count} further message{'s' if count != 1 else ''} that "
            f"PEP Voice passed on.\n"
            "They are kept with the concern, in the order and at the time they were\n"
            "sent. Updates come at most once an hour for one conversation."
        )
    return (
        "A child using PEP Voice said something that may mean they need\n"
        "safeguarding support. Please act on it today, following your school's\n"
        "safeguarding procedures. If the child says more in the same chat, it is\n"
        "added to this concern and you get at most one update an hour."
    )


def compose_alert(facts: AlertFacts, recipients: Recipients, settings: Settings) -> EmailMessage:
    if facts.child_first_name is not None and facts.year_group is not None:
        child = f"{facts.child_first_name}, {year_group_words(facts.year_group)}"
    else:
        child = "not known yet: the chat had not been linked to a PEP with an invite code"
    base = settings.app_base_url.rstrip("/")
    body = f"""\
{_opening(facts)}

Reference:  {facts.concern_id}
Child:      {child}
School:     {facts.school_name or "not known"}
PEP:        {facts.pep_id if facts.pep_id is not None else "none"}
Time:       {uk_time(facts.created_at)}
Category:   {_category_line(facts)}
Question:   {facts.question_key or "none (not an answer to a question)"}

What the child was told:
{CHILD_WAS_TOLD}

The child's own words are not in this email, because email is forwarded and
stored outside PEP Voice. The school's DSL and PEP Voice administrators can
read them in PEP Voice, after logging in (each reading is recorded):
    {base}/review/concerns/{facts.concern_id}

You are receiving this because {_WHY.get(recipients.kind, "")}
"""
    message = EmailMessage()
    subject = UPDATE_SUBJECT if facts.is_update else SUBJECT
    message["Subject"] = subject.format(id=facts.concern_id)
    message["From"] = settings.smtp_sender
    message["To"] = ", ".join(recipients.emails)
    message["Date"] = format_datetime(utcnow())
    message["Message-ID"] = make_msgid(domain=settings.smtp_sender.rpartition("@")[2] or None)
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(body)
    return message


# --- SMTP -------------------------------------------------------------------


def tls_context(settings: Settings) -> ssl.SSLContext:
    """Verifies the mail server's certificate and name: SMTP_CA_FILE, else the system store."""
    return ssl.create_default_context(cafile=settings.smtp_ca_file)


def send_email(message: EmailMessage, to: tuple[str, ...], settings: Settings) -> list[str]:
    """Send one message; the addresses the server accepted. Raises on failure.

    Over TLS unless SMTP_SECURITY=none: SMTPS, or STARTTLS, which must succeed (a server
    that does not offer it raises SMTPNotSupportedError; never a fall-back to plain text).
    The login comes only after TLS.
    """
    host, port, timeout = settings.smtp_host, settings.smtp_port, settings.smtp_timeout_seconds
    security = settings.smtp_security
    if security == "tls":
        smtp: smtplib.SMTP = smtplib.SMTP_SSL(
            host, port, timeout=timeout, context=tls_context(settings)
        )
    else:
        smtp = smtplib.SMTP(host, port, timeout=timeout)
    with smtp:
        if security == "starttls":
            smtp.starttls(context=tls_context(settings))
        if settings.smtp_username:
            if security == "none":  # Settings refuses this too
                raise smtplib.SMTPNotSupportedError("no login without TLS")
            smtp.login(settings.smtp_username, settings.smtp_password or "")
        refused = smtp.send_message(message, from_addr=settings.smtp_sender, to_addrs=list(to))
    return [address for address in to if address not in refused]


# --- delivery ---------------------------------------------------------------


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


def _release_failed(session: Session, concern_id: int, claimed_at: datetime) -> None:
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


def _record_failure(session: Session, concern_id: int, claimed_at: datetime, reason: str) -> None:
    """Give the claim back for a later try, and audit why (a reason code, never text)."""
    _release_failed(session, concern_id, claimed_at)
    record_event(
        session,
        ACTOR,
        "concern.alert_failed",
        school_id=_school_id(session, concern_id),
        concern_id=concern_id,
        reason=reason,
    )


class _Outcome(enum.Enum):
    sent = "sent"  # by us now, or earlier
    unsent = "unsent"  # failed, or another deliverer holds the claim: worth retrying
    missing = "missing"  # no such concern: retrying cannot help


def deliver_alert(concern_id: int) -> bool:
    """One attempt to email the concern's alert; True if it is (or already was) sent."""
    return _deliver_once(concern_id) is _Outcome.sent


def _deliver_once(concern_id: int) -> _Outcome:
    settings = get_settings()
    claimed_at = utcnow()
    with session_scope() as session:
        if not _claim(session.connection(), concern_id, claimed_at):
            status = session.scalar(
                select(SafeguardingConcern.alert_status).where(SafeguardingConcern.id == concern_id)
            )
            if status is None:
                logger.error("safeguarding alert: no concern %d", concern_id)
                return _Outcome.missing
            return _Outcome.sent if status == AlertStatus.sent else _Outcome.unsent
    # The claim is committed before the (slow) SMTP conversation.
    with session_scope() as session:
        facts = facts_for(session, concern_id)
        assert facts is not None  # claimed above, and concerns are never deleted
        recipients = recipients_for(session, _school_id(session, concern_id), settings)
        if not recipients.emails:
            _record_failure(session, concern_id, claimed_at, reason="no_recipient")
            logger.error(
                "safeguarding concern %d: no one to alert (the school has no DSL or "
                "virtual school staff, and VIRTUAL_SCHOOL_EMAIL is not set)",
                concern_id,
            )
            return _Outcome.unsent
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
        return _Outcome.unsent
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
            school_id=_school_id(session, concern_id),
            concern_id=concern_id,
            recipients=len(accepted),
            recipient_kind=recipients.kind,
        )
    logger.info("safeguarding alert %d sent to %d recipient(s)", concern_id, len(accepted))
    return _Outcome.sent


def _school_id(session: Session, concern_id: int) -> int | None:
    return session.scalar(
        select(SafeguardingConcern.school_id).where(SafeguardingConcern.id == concern_id)
    )


def deliver_with_retries(concern_id: int) -> bool:
    """Try now, then after each of ALERT_RETRY_DELAYS; True once sent."""
    delays = get_settings().alert_retry_delays
    for attempt, delay in enumerate((0.0, *delays)):
        time.sleep(delay)
        try:
            outcome = _deliver_once(concern_id)
            if outcome is not _Outcome.unsent:
                return outcome is _Outcome.sent
        except Exception as exc:  # e.g. the database is briefly unreachable
            logger.warning(
                "safeguarding alert %d attempt %d failed: %s",
                concern_id,
                attempt + 1,
                type(exc).__name__,
            )
    logger.error(
        "safeguarding alert %d still not sent after %d attempts; "
        "`python -m bot send-pending-alerts` will retry",
        concern_id,
        len(delays) + 1,
    )
    return False


@dataclass(frozen=True)
class PendingResult:
    sent: int
    unsent: int
    # Concerns past ALERT_MAX_ATTEMPTS: no longer retried, need a person.
    abandoned: int


def deliver_pending_alerts() -> PendingResult:
    """One attempt for every concern not yet alerted (below the attempt limit)."""
    settings = get_settings()
    now = utcnow()
    reopen_followups(now)
    with session_scope() as session:
        unsent = or_(
            SafeguardingConcern.alert_status.in_(_CLAIMABLE),
            and_(
                SafeguardingConcern.alert_status == AlertStatus.sending,
                SafeguardingConcern.alert_claimed_at < now - STALE_CLAIM,
            ),
        )
        rows = session.execute(
            select(SafeguardingConcern.id, SafeguardingConcern.alert_attempts)
            .where(unsent)
            .order_by(SafeguardingConcern.id)
        ).all()
    due = [cid for cid, attempts in rows if attempts < settings.alert_max_attempts]
    abandoned = len(rows) - len(due)
    if abandoned:
        logger.error(
            "%d safeguarding concern(s) reached %d alert attempts and are no longer "
            "emailed; an admin sees them at /review/concerns",
            abandoned,
            settings.alert_max_attempts,
        )
    sent = 0
    for concern_id in due:
        try:
            sent += deliver_alert(concern_id)
        except Exception as exc:
            logger.warning("safeguarding alert %d: %s", concern_id, type(exc).__name__)
    return PendingResult(sent=sent, unsent=len(due) - sent, abandoned=abandoned)


def reopen_followups(now: datetime | None = None) -> int:
    """Mark for an update alert every open concern with messages its last alert did not
    count, once ALERT_FOLLOWUP_MINUTES have passed since that alert; how many."""
    now = now or utcnow()
    quiet = timedelta(minutes=get_settings().alert_followup_minutes)
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


# --- background -------------------------------------------------------------

# Strong references: the event loop keeps only weak ones to its tasks.
_tasks: set[asyncio.Future[Any]] = set()
_threads: set[threading.Thread] = set()


def _logged(function: Callable[..., Any], *args: Any) -> None:
    try:
        function(*args)
    except Exception as exc:
        logger.error("safeguarding alert job failed: %s", type(exc).__name__)
    finally:
        _threads.discard(threading.current_thread())


def _in_background(function: Callable[..., Any], *args: Any) -> None:
    try:
        loop = asyncio.get_running_loop()
    except RuntimeError:
        thread = threading.Thread(
            target=_logged, args=(function, *args), name="pep-voice-alert", daemon=True
        )
        _threads.add(thread)
        thread.start()
        return
    task = loop.create_task(asyncio.to_thread(_logged, function, *args))
    _tasks.add(task)
    task.add_done_callback(_tasks.discard)


def schedule_alert(concern_id: int) -> None:
    """Deliver (with retries) without blocking the caller, event loop or not."""
    _in_background(deliver_with_retries, concern_id)


def wait_for_background_alerts(timeout: float) -> bool:
    """Join the alert threads started outside an event loop (before a process
    exits, and in tests); True if none is still running."""
    deadline = time.monotonic() + timeout
    for thread in list(_threads):
        thread.join(max(0.0, deadline - time.monotonic()))
    return not any(thread.is_alive() for thread in list(_threads))


def resume_pending_alerts() -> None:
    """For the action server's start-up: retry unsent alerts in the background."""
    _in_background(deliver_pending_alerts)


# --- when the database itself failed ----------------------------------------


def _send_unrecorded_notice(category: str, conversation_ref: str, at: datetime) -> None:
    settings = get_settings()
    if not settings.virtual_school_email:
        logger.error("a safeguarding concern was not stored and VIRTUAL_SCHOOL_EMAIL is not set")
        return
    message = EmailMessage()
    message["Subject"] = UNRECORDED_SUBJECT
    message["From"] = settings.smtp_sender
    message["To"] = settings.virtual_school_email
    message["Date"] = format_datetime(utcnow())
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(
        "A child using PEP Voice said something that may mean they need safeguarding\n"
        "support, but PEP Voice could not store it because its database failed.\n\n"
        f"Time:          {uk_time(at)}\n"
        f"Category:      {category.replace('_', ' ')}\n"
        f"Conversation:  {conversation_ref} (a reference for the PEP Voice administrator)\n\n"
        "Please ask the PEP Voice administrator to investigate today.\n"
    )
    for delay in (0.0, *settings.alert_retry_delays):
        time.sleep(delay)
        try:
            send_email(message, (settings.virtual_school_email,), settings)
            return
        except (OSError, smtplib.SMTPException) as exc:
            logger.warning("unstored-concern notice not sent: %s", type(exc).__name__)
    logger.error("unstored-concern notice could not be sent")


def schedule_unrecorded_notice(*, category: str, conversation_ref: str) -> None:
    """Tell the fallback contact that a disclosure could not be stored (no words).

    `category` must already be a safe category name (see bot.services.safeguarding).
    """
    _in_background(_send_unrecorded_notice, category, conversation_ref, utcnow())
