"""Emails to the designated teacher through a real SMTP server (aiosmtpd on loopback):
a child submitted; a meeting is 7 days away and the child has not started."""

from __future__ import annotations

import json
import logging
import threading
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, select, update
from sqlalchemy.orm import Session

from bot import db
from bot.cli import main
from bot.db import session_scope
from bot.models import AuditEvent, Pep, PepStatus, StaffUser, utcnow
from bot.services import directory
from bot.services.answers import submit_voice
from bot.services.notifications import (
    STALE_CLAIM,
    SUBMITTED_NOTICE_DAYS,
    NoticeResult,
    send_teacher_notices,
)
from bot.services.voice_document import uk_date
from tests.smtp_server import SmtpServer

from .conftest import BASE_URL, ELM, FIRST_NAME, OAK, WORDS, make_pep, pep_row

Capture = pytest.CaptureFixture[str]
OAK_TEACHERS = ["dt@oak.example", "deputy.dt@oak.example"]
SUBMITTED_SUBJECT = "PEP Voice: a child's views are ready for you to review"
REMINDER_SUBJECT = "PEP Voice: reminder, a child has not started their views"


def _in(days: int, now: datetime | None = None) -> date:
    return uk_date(now or utcnow()) + timedelta(days=days)


def _body(server: SmtpServer, index: int = 0) -> str:
    return str(server.inbox.messages[index].message.get_content()).replace("\r\n", "\n")


def _notified() -> list[AuditEvent]:
    with session_scope() as session:
        return list(
            session.scalars(
                select(AuditEvent)
                .where(AuditEvent.action == "pep.teacher_notified")
                .order_by(AuditEvent.id)
            )
        )


def test_a_submission_emails_the_schools_designated_teachers_only(
    smtp_server: SmtpServer, schools: Engine, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    meeting = date(2031, 1, 15)
    pep_id = make_pep(meeting, submitted_at=utcnow())
    make_pep(meeting, school=ELM, answer=True)  # Elm's child has not submitted

    assert send_teacher_notices() == NoticeResult(sent=1, failed=0, no_recipient=0)

    [received] = smtp_server.inbox.messages
    # Oak's designated teachers: not Elm's, not the DSL, Virtual School or admin.
    assert received.rcpt_tos == OAK_TEACHERS
    message = received.message
    assert message["Subject"] == SUBMITTED_SUBJECT
    assert message["To"] == ", ".join(OAK_TEACHERS)
    assert message["Auto-Submitted"] == "auto-generated"
    body = _body(smtp_server)
    for expected in (
        "A child in Year 5 (PEP meeting Wednesday 15 January 2031)\nhas finished and sent",
        f"{BASE_URL}/review/peps/{pep_id}\n",
        "After logging in",
        "designated teacher for\nOak Primary",
    ):
        assert expected in body, expected
    assert max(len(line) for line in body.splitlines()) < 78
    # No name, no words: not in the email, the log or the audit record.
    for leak in (FIRST_NAME, WORDS, "Quillfeather", "tortoise"):
        assert leak not in str(message)
        assert leak not in caplog.text
    [event] = _notified()
    assert (event.actor, event.pep_id, event.detail) == (
        "teacher-notices",
        pep_id,
        {"kind": "submitted", "recipients": 2},
    )
    row = pep_row(pep_id)
    assert row.submitted_notice_sent_at is not None and row.teacher_notice_claimed_at is None

    # One event, one email.
    assert send_teacher_notices() == NoticeResult(sent=0, failed=0, no_recipient=0)
    assert len(smtp_server.inbox.messages) == 1


def test_the_command_twice_sends_once(
    smtp_server: SmtpServer, schools: Engine, capsys: Capture
) -> None:
    make_pep(_in(20), submitted_at=utcnow())
    assert main(["send-teacher-notices"]) == 0
    assert capsys.readouterr().out.strip() == (
        "teacher notices sent: 1; not sent (retried next run): 0; "
        "waiting for a designated teacher: 0"
    )
    assert main(["send-teacher-notices"]) == 0
    assert capsys.readouterr().out.startswith("teacher notices sent: 0;")
    assert len(smtp_server.inbox.messages) == 1


def test_reminder_due_at_seven_days_not_eight_and_not_once_started(
    smtp_server: SmtpServer, schools: Engine
) -> None:
    now = utcnow()
    due_7 = make_pep(_in(7, now))
    due_today = make_pep(_in(0, now), year=0)
    make_pep(_in(8, now))  # too early
    make_pep(_in(-1, now))  # the meeting has passed
    make_pep(_in(7, now), answer=True)  # started
    submitted = make_pep(_in(3, now), submitted_at=now - timedelta(hours=1))

    assert send_teacher_notices(now).sent == 3
    links = {
        (
            m.message["Subject"],
            _body(smtp_server, i).split(f"{BASE_URL}/review/peps/")[1].split()[0],
        )
        for i, m in enumerate(smtp_server.inbox.messages)
    }
    assert links == {
        (REMINDER_SUBJECT, str(due_7)),
        (REMINDER_SUBJECT, str(due_today)),
        (SUBMITTED_SUBJECT, str(submitted)),
    }
    bodies = {_body(smtp_server, i) for i in range(3)}
    assert any(
        "A child in Year 5 has a PEP meeting in 7 days" in b and "has not started" in b
        for b in bodies
    )
    assert any("A child in Reception has a PEP meeting today" in b for b in bodies)
    assert pep_row(due_7).teacher_reminder_sent_at is not None

    # Once each. The next day the meeting 8 days away is 7 days away: its reminder goes.
    assert send_teacher_notices(now + timedelta(days=1)).sent == 1
    assert len(smtp_server.inbox.messages) == 4
    assert send_teacher_notices(now + timedelta(days=1)).sent == 0


def test_smtp_down_keeps_the_notice_for_the_next_run(
    stopped_smtp_server: SmtpServer,
    schools: Engine,
    capsys: Capture,
    caplog: pytest.LogCaptureFixture,
) -> None:
    pep_id = make_pep(_in(10), submitted_at=utcnow())
    assert main(["send-teacher-notices"]) == 1
    assert "not sent (retried next run): 1" in capsys.readouterr().out
    assert "ConnectionRefusedError" in caplog.text and FIRST_NAME not in caplog.text
    row = pep_row(pep_id)
    assert row.submitted_notice_sent_at is None and row.teacher_notice_claimed_at is None

    stopped_smtp_server.start()
    assert main(["send-teacher-notices"]) == 0
    assert len(stopped_smtp_server.inbox.messages) == 1
    assert main(["send-teacher-notices"]) == 0
    assert len(stopped_smtp_server.inbox.messages) == 1


def test_two_schedulers_at_once_send_one_email(smtp_server: SmtpServer, schools: Engine) -> None:
    make_pep(_in(10), submitted_at=utcnow())
    smtp_server.inbox.delay = 0.5  # the first claim is held while it sends
    start = threading.Barrier(4)
    results: list[NoticeResult] = []

    def scheduler() -> None:
        start.wait()
        results.append(send_teacher_notices())

    threads = [threading.Thread(target=scheduler) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(20)
    assert sum(r.sent for r in results) == 1 and sum(r.failed for r in results) == 0
    assert len(smtp_server.inbox.messages) == 1


def test_a_crashed_senders_claim_is_retaken_after_a_while(
    smtp_server: SmtpServer, schools: Engine
) -> None:
    now = utcnow()
    pep_id = make_pep(_in(10), submitted_at=now - timedelta(hours=1))
    with session_scope() as session:
        claim = update(Pep).where(Pep.id == pep_id)
        session.execute(claim.values(teacher_notice_claimed_at=now - timedelta(minutes=1)))
    assert send_teacher_notices(now).sent == 0  # another sender is at it
    with session_scope() as session:
        session.execute(
            claim.values(teacher_notice_claimed_at=now - STALE_CLAIM - timedelta(minutes=1))
        )
    assert send_teacher_notices(now).sent == 1
    assert len(smtp_server.inbox.messages) == 1


def test_sent_back_and_submitted_again_is_announced_again(
    smtp_server: SmtpServer, schools: Engine
) -> None:
    now = utcnow()
    pep_id = make_pep(_in(10), submitted_at=now - timedelta(hours=2))
    assert send_teacher_notices(now - timedelta(hours=1)).sent == 1
    with session_scope() as session:
        pep = session.get_one(Pep, pep_id)
        # The teacher sent it back; the child answered the question and sent it again.
        pep.status, pep.returned_at = PepStatus.in_progress, now - timedelta(minutes=50)
        session.flush()
        submit_voice(session, pep, now=now - timedelta(minutes=5))
    assert send_teacher_notices(now).sent == 1
    assert len(smtp_server.inbox.messages) == 2
    assert [e.detail["kind"] for e in _notified()] == ["submitted", "submitted"]
    assert "has finished and sent their views" in _body(smtp_server, 0)
    assert "has answered the question you sent back, and sent\ntheir views again" in _body(
        smtp_server, 1
    )


def test_old_submissions_are_not_announced(smtp_server: SmtpServer, schools: Engine) -> None:
    now = utcnow()
    make_pep(_in(10), submitted_at=now - timedelta(days=SUBMITTED_NOTICE_DAYS, minutes=1))
    recent = make_pep(_in(10), submitted_at=now - timedelta(days=SUBMITTED_NOTICE_DAYS - 1))
    assert send_teacher_notices(now).sent == 1
    assert f"/review/peps/{recent}\n" in _body(smtp_server)


def test_a_school_without_a_designated_teacher_waits_for_one(
    smtp_server: SmtpServer, schools: Engine, caplog: pytest.LogCaptureFixture
) -> None:
    with session_scope() as session:
        session.execute(
            update(StaffUser).where(StaffUser.email.in_(OAK_TEACHERS)).values(disabled_at=utcnow())
        )
    pep_id = make_pep(_in(10), submitted_at=utcnow())
    assert send_teacher_notices() == NoticeResult(sent=0, failed=0, no_recipient=1)
    assert "no designated teacher" in caplog.text
    assert smtp_server.inbox.messages == []
    assert pep_row(pep_id).submitted_notice_sent_at is None

    with session_scope() as session:
        directory.add_staff(session, OAK, "new.dt@oak.example", "designated_teacher")
    assert send_teacher_notices().sent == 1
    # Disabled accounts are not emailed.
    assert smtp_server.inbox.messages[0].rcpt_tos == ["new.dt@oak.example"]


def test_the_audit_log_holds_no_name_or_words(smtp_server: SmtpServer, schools: Engine) -> None:
    make_pep(_in(5))
    make_pep(_in(20), submitted_at=utcnow())
    assert send_teacher_notices().sent == 2
    with session_scope() as session:
        events = session.scalars(select(AuditEvent)).all()
        text = json.dumps([[e.actor, e.action, e.detail] for e in events])
    assert FIRST_NAME not in text and "Quillfeather" not in text


def test_an_upgrade_does_not_announce_earlier_submissions(tmp_path: Path) -> None:
    """Migration 0009 marks PEPs submitted before it as announced (no flood of old news)."""
    url = f"sqlite:///{tmp_path / 'upgrade.db'}"
    db.migrate(url)
    engine = db.make_engine(url)
    try:
        with engine.begin() as connection, Session(bind=connection) as session:
            directory.add_school(session, OAK)
            child = directory.add_child(session, OAK, FIRST_NAME, 5)
            submitted = directory.add_pep(session, child.id, _in(10))
            submitted.status, submitted.submitted_at = PepStatus.submitted, utcnow()
            untouched = directory.add_pep(session, child.id, _in(40))
            session.flush()
            ids = (submitted.id, untouched.id)
        config = Config()
        config.set_main_option("script_location", str(db.MIGRATIONS_DIR))
        config.attributes["url"] = url
        command.downgrade(config, "0008")
        command.upgrade(config, "head")
        with engine.connect() as connection:
            rows = dict(
                connection.execute(
                    select(Pep.id, Pep.submitted_notice_sent_at == Pep.submitted_at).where(
                        Pep.id.in_(ids)
                    )
                ).all()
            )
        assert rows == {ids[0]: 1, ids[1]: None}
    finally:
        engine.dispose()
