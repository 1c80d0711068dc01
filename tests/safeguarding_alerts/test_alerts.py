"""DSL alerts through a real SMTP server (aiosmtpd on loopback)."""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, update

from bot import alerts
from bot.db import session_scope
from bot.models import AlertStatus, AuditEvent, Role, SafeguardingConcern
from bot.services import directory
from bot.settings import Settings

from .conftest import WORDS, SmtpServer, concern_row, configure, record

Build = Callable[..., int]

DSL = ("dsl@oak.example", Role.dsl)
DSL2 = ("deputy.dsl@oak.example", Role.dsl)
DT = ("teacher@oak.example", Role.designated_teacher)
VS = ("vs@oak.example", Role.virtual_school)


def audit_actions(concern_id: int) -> list[tuple[str, dict[str, object]]]:
    with session_scope() as session:
        events = session.scalars(select(AuditEvent).order_by(AuditEvent.id)).all()
        return [(e.action, e.detail) for e in events if e.detail.get("concern_id") == concern_id]


def test_alert_email_to_the_dsls(
    smtp_server: SmtpServer, committed: Build, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    concern_id = committed(DSL, DT, VS, DSL2)

    assert alerts.deliver_alert(concern_id) is True

    [received] = smtp_server.inbox.messages
    assert received.rcpt_tos == ["dsl@oak.example", "deputy.dsl@oak.example"]
    assert received.mail_from == "pep-voice@localhost"
    message = received.message
    assert message["Subject"] == (
        f"PEP Voice: a child may need safeguarding support (ref {concern_id})"
    )
    body = message.get_content().replace("\r\n", "\n")
    for expected in (
        f"Reference:  {concern_id}",
        "Alex, Year 5",
        "Oak Primary",
        "physical abuse",
        "enjoy_school",
        "Childline",
        "0800 1111",
        "999",
        f"/review/concerns/{concern_id}",
        "UK time",
        "Designated Safeguarding Lead\nfor this school",
    ):
        assert expected in body, expected
    for leak in ("Zebedee", "belt", WORDS):
        assert leak not in body
        assert leak not in str(message)
    assert "Alex" not in message["Subject"]
    assert "Zebedee" not in caplog.text

    row = concern_row(concern_id)
    assert row.alert_status == AlertStatus.sent
    assert row.alert_attempts == 1
    assert row.alerted_at is not None
    assert row.recipients == ["dsl@oak.example", "deputy.dsl@oak.example"]
    assert audit_actions(concern_id)[-1] == (
        "concern.alert_sent",
        {"concern_id": concern_id, "recipients": 2, "recipient_kind": "dsl"},
    )


def test_falls_back_to_virtual_school_staff(smtp_server: SmtpServer, committed: Build) -> None:
    concern_id = committed(DT, VS)
    assert alerts.deliver_alert(concern_id)
    [received] = smtp_server.inbox.messages
    assert received.rcpt_tos == ["vs@oak.example"]
    assert "no Designated Safeguarding\r\nLead registered" in received.message.get_content()


def test_falls_back_to_virtual_school_email(
    smtp_server: SmtpServer, committed: Build, monkeypatch: pytest.MonkeyPatch
) -> None:
    configure(monkeypatch, virtual_school_email="head@virtual-school.example")
    concern_id = committed(DT)
    assert alerts.deliver_alert(concern_id)
    [received] = smtp_server.inbox.messages
    assert received.rcpt_tos == ["head@virtual-school.example"]
    assert concern_row(concern_id).recipients == ["head@virtual-school.example"]


def test_no_recipient_at_all_is_recorded_as_failed(
    smtp_server: SmtpServer, committed: Build, caplog: pytest.LogCaptureFixture
) -> None:
    concern_id = committed(DT)
    with caplog.at_level(logging.ERROR, logger="bot.alerts"):
        assert alerts.deliver_alert(concern_id) is False
    assert smtp_server.inbox.messages == []
    row = concern_row(concern_id)
    assert (row.alert_status, row.alert_attempts, row.recipients) == (AlertStatus.failed, 1, [])
    assert f"safeguarding concern {concern_id}: no one to alert" in caplog.text
    assert audit_actions(concern_id)[-1] == (
        "concern.alert_failed",
        {"concern_id": concern_id, "reason": "no_recipient"},
    )


def test_smtp_down_then_up_is_retried_until_delivered(
    stopped_smtp_server: SmtpServer, committed: Build, monkeypatch: pytest.MonkeyPatch
) -> None:
    configure(monkeypatch, alert_retry_delays="[0.2, 0.5, 1, 2]")
    concern_id = committed(DSL)
    outcome: list[bool] = []
    worker = threading.Thread(
        target=lambda: outcome.append(alerts.deliver_with_retries(concern_id))
    )
    worker.start()
    # Let the first attempt meet a closed port; a retry finds the server up.
    deadline = time.monotonic() + 3
    while concern_row(concern_id).alert_status != AlertStatus.failed:
        assert time.monotonic() < deadline, "first attempt did not fail"
        time.sleep(0.01)
    stopped_smtp_server.start()
    worker.join(10)

    assert outcome == [True]
    assert [m.rcpt_tos for m in stopped_smtp_server.inbox.messages] == [["dsl@oak.example"]]
    row = concern_row(concern_id)
    assert row.alert_status == AlertStatus.sent
    assert row.alert_attempts >= 2
    actions = [action for action, _ in audit_actions(concern_id)]
    assert "concern.alert_failed" in actions
    assert actions[-1] == "concern.alert_sent"


def test_all_retries_failing_leaves_it_failed_for_later(
    stopped_smtp_server: SmtpServer,
    committed: Build,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    configure(monkeypatch, alert_retry_delays="[0.05]")
    concern_id = committed(DSL)
    with caplog.at_level(logging.WARNING, logger="bot.alerts"):
        assert alerts.deliver_with_retries(concern_id) is False
    row = concern_row(concern_id)
    assert (row.alert_status, row.alert_attempts) == (AlertStatus.failed, 2)
    assert "send-pending-alerts" in caplog.text

    stopped_smtp_server.start()
    assert alerts.deliver_pending_alerts() == alerts.PendingResult(sent=1, unsent=0, abandoned=0)
    assert len(stopped_smtp_server.inbox.messages) == 1


async def test_schedule_alert_inside_event_loop_delivers_quickly(
    smtp_server: SmtpServer, committed: Build
) -> None:
    concern_id = committed(DSL)
    started = time.monotonic()
    alerts.schedule_alert(concern_id)
    assert alerts._tasks, "the task must be referenced until it is done"
    while not smtp_server.inbox.messages:
        assert time.monotonic() - started < 2, "no email within 2 seconds"
        await asyncio.sleep(0.02)
    await asyncio.gather(*alerts._tasks)
    assert concern_row(concern_id).alert_status == AlertStatus.sent


def test_schedule_alert_without_event_loop_uses_a_thread(
    smtp_server: SmtpServer, committed: Build
) -> None:
    concern_id = committed(DSL)
    alerts.schedule_alert(concern_id)
    assert alerts.wait_for_background_alerts(5)
    assert len(smtp_server.inbox.messages) == 1


def test_delivering_twice_sends_one_email(smtp_server: SmtpServer, committed: Build) -> None:
    concern_id = committed(DSL)
    assert alerts.deliver_alert(concern_id)
    assert alerts.deliver_alert(concern_id)
    assert alerts.deliver_with_retries(concern_id)
    assert alerts.deliver_pending_alerts() == alerts.PendingResult(0, 0, 0)
    assert len(smtp_server.inbox.messages) == 1
    assert concern_row(concern_id).alert_attempts == 1


def test_racing_deliverers_send_one_email(smtp_server: SmtpServer, committed: Build) -> None:
    smtp_server.inbox.delay = 0.3  # the first deliverer is mid-send when the others try
    concern_id = committed(DSL)
    barrier = threading.Barrier(4)
    results: list[bool] = []

    def deliver() -> None:
        barrier.wait()
        results.append(alerts.deliver_alert(concern_id))

    workers = [threading.Thread(target=deliver) for _ in range(4)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(10)

    assert sorted(results) == [False, False, False, True]
    assert len(smtp_server.inbox.messages) == 1
    assert concern_row(concern_id).alert_attempts == 1


def test_pending_alerts_retry_failed_and_stale_claims_only(
    smtp_server: SmtpServer, committed: Build, monkeypatch: pytest.MonkeyPatch
) -> None:
    configure(monkeypatch, alert_max_attempts="3")
    no_dsl = committed(DT)
    assert not alerts.deliver_alert(no_dsl)
    with session_scope() as session:
        directory.add_staff(session, "Oak Primary", "new.dsl@oak.example", Role.dsl)
        pep = directory.add_pep(
            session, directory.add_child(session, "Oak Primary", "Bo", 3).id, "2030-01-01"
        )
        stale = record(session, pep, "stale").id
        busy = record(session, pep, "busy").id
        given_up = record(session, pep, "given-up").id
        long_ago = datetime.now(UTC) - timedelta(hours=1)
        session.execute(
            update(SafeguardingConcern)
            .where(SafeguardingConcern.id == stale)
            .values(alert_status=AlertStatus.sending, alert_claimed_at=long_ago)
        )
        session.execute(
            update(SafeguardingConcern)
            .where(SafeguardingConcern.id == busy)
            .values(alert_status=AlertStatus.sending, alert_claimed_at=datetime.now(UTC))
        )
        session.execute(
            update(SafeguardingConcern)
            .where(SafeguardingConcern.id == given_up)
            .values(alert_status=AlertStatus.failed, alert_attempts=3)
        )

    result = alerts.deliver_pending_alerts()

    assert result == alerts.PendingResult(sent=2, unsent=0, abandoned=1)
    subjects = sorted(str(m.message["Subject"]) for m in smtp_server.inbox.messages)
    assert subjects == sorted(alerts.SUBJECT.format(id=i) for i in (no_dsl, stale))
    assert concern_row(no_dsl).recipients == ["new.dsl@oak.example"]
    assert concern_row(busy).alert_status == AlertStatus.sending
    assert concern_row(given_up).alert_status == AlertStatus.failed


def test_uk_time_follows_british_summer_time() -> None:
    assert alerts.uk_time(datetime(2026, 7, 1, 12, 30, tzinfo=UTC)) == (
        "Wednesday 1 July 2026, 13:30 (BST, UK time)"
    )
    assert alerts.uk_time(datetime(2026, 12, 1, 12, 30, tzinfo=UTC)) == (
        "Tuesday 1 December 2026, 12:30 (GMT, UK time)"
    )


def test_smtp_password_is_not_in_repr(
    monkeypatch: pytest.MonkeyPatch, app_settings: Settings
) -> None:
    settings = configure(monkeypatch, smtp_password="hunter2-secret", alert_retry_delays="[1, 2]")
    assert "hunter2-secret" not in repr(settings)
    assert settings.alert_retry_delays == (1.0, 2.0)


def test_alert_body_is_plain_short_lines(smtp_server: SmtpServer, committed: Build) -> None:
    concern_id = committed(VS)
    assert alerts.deliver_alert(concern_id)
    [received] = smtp_server.inbox.messages
    assert received.message["Content-Transfer-Encoding"] == "7bit"
    assert max(len(line) for line in received.message.get_content().splitlines()) <= 78


def test_resume_pending_alerts_at_start_up(smtp_server: SmtpServer, committed: Build) -> None:
    concern_id = committed(DSL)
    alerts.resume_pending_alerts()
    assert alerts.wait_for_background_alerts(5)
    assert concern_row(concern_id).alert_status == AlertStatus.sent
    assert len(smtp_server.inbox.messages) == 1
