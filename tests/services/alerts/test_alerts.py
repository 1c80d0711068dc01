"""DSL alerts through a real SMTP server (aiosmtpd on loopback): one attempt, the worker's
pass under the retry policy, and the claim that makes each alert go once."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, update

from bot.alerts.compose import SUBJECT
from bot.alerts.delivery import (
    DeliveryResult,
    Outcome,
    PendingResult,
    deliver_alert,
    deliver_due_alerts,
    send_pending_alerts,
)
from bot.db import session_scope
from bot.models import AlertStatus, AuditEvent, Role, SafeguardingConcern, utcnow
from bot.services import directory
from bot.settings import Settings
from bot.uk_time import uk_time
from tests.smtp_server import SmtpServer

from .conftest import RETRY_DELAYS, WORDS, concern_row, configure, record

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

    assert deliver_alert(concern_id) is Outcome.sent

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
    assert deliver_alert(concern_id) is Outcome.sent
    [received] = smtp_server.inbox.messages
    assert received.rcpt_tos == ["vs@oak.example"]
    assert "no Designated Safeguarding\r\nLead registered" in received.message.get_content()


def test_falls_back_to_virtual_school_email(
    smtp_server: SmtpServer, committed: Build, monkeypatch: pytest.MonkeyPatch
) -> None:
    configure(monkeypatch, virtual_school_email="head@virtual-school.example")
    concern_id = committed(DT)
    assert deliver_alert(concern_id) is Outcome.sent
    [received] = smtp_server.inbox.messages
    assert received.rcpt_tos == ["head@virtual-school.example"]
    assert concern_row(concern_id).recipients == ["head@virtual-school.example"]


def test_no_recipient_at_all_is_recorded_as_failed(
    smtp_server: SmtpServer, committed: Build, caplog: pytest.LogCaptureFixture
) -> None:
    concern_id = committed(DT)
    with caplog.at_level(logging.ERROR, logger="bot.alerts"):
        assert deliver_alert(concern_id) is Outcome.unsent
    assert smtp_server.inbox.messages == []
    row = concern_row(concern_id)
    assert (row.alert_status, row.alert_attempts, row.recipients) == (AlertStatus.failed, 1, [])
    assert f"safeguarding concern {concern_id}: no one to alert" in caplog.text
    assert audit_actions(concern_id)[-1] == (
        "concern.alert_failed",
        {"concern_id": concern_id, "reason": "no_recipient"},
    )


def test_an_unknown_concern_is_missing(smtp_server: SmtpServer, store: object) -> None:
    assert deliver_alert(999_999) is Outcome.missing


def test_the_worker_backs_off_then_delivers_when_the_server_is_up(
    stopped_smtp_server: SmtpServer, committed: Build
) -> None:
    concern_id = committed(DSL)
    assert deliver_due_alerts().unsent == 1  # the port is closed
    row = concern_row(concern_id)
    assert (row.alert_status, row.alert_attempts) == (AlertStatus.failed, 1)
    stopped_smtp_server.start()
    # Within the first pause the worker leaves it alone ...
    assert deliver_due_alerts() == DeliveryResult(sent=0, unsent=0)
    # ... and once it has passed, the next pass sends it.
    time.sleep(RETRY_DELAYS[0])
    assert deliver_due_alerts().sent == 1

    assert [m.rcpt_tos for m in stopped_smtp_server.inbox.messages] == [["dsl@oak.example"]]
    row = concern_row(concern_id)
    assert (row.alert_status, row.alert_attempts) == (AlertStatus.sent, 2)
    actions = [action for action, _ in audit_actions(concern_id)]
    assert actions == ["concern.recorded", "concern.alert_failed", "concern.alert_sent"]


def test_after_the_attempt_limit_the_worker_stops_and_says_so(
    stopped_smtp_server: SmtpServer,
    committed: Build,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    configure(monkeypatch, alert_retry_delays="[0]", alert_max_attempts="2")
    concern_id = committed(DSL)
    assert deliver_due_alerts().unsent == 1
    assert deliver_due_alerts().unsent == 1
    assert deliver_due_alerts().unsent == 0  # given up: not even tried
    assert concern_row(concern_id).alert_attempts == 2

    stopped_smtp_server.start()
    with caplog.at_level(logging.ERROR, logger="bot.alerts"):
        assert send_pending_alerts() == PendingResult(sent=0, unsent=0, abandoned=1)
    assert "1 safeguarding concern(s) reached 2 alert attempts" in caplog.text
    assert stopped_smtp_server.inbox.messages == []


def test_delivering_twice_sends_one_email(smtp_server: SmtpServer, committed: Build) -> None:
    concern_id = committed(DSL)
    assert deliver_alert(concern_id) is Outcome.sent
    assert deliver_alert(concern_id) is Outcome.sent
    assert send_pending_alerts() == PendingResult(0, 0, 0)
    assert len(smtp_server.inbox.messages) == 1
    assert concern_row(concern_id).alert_attempts == 1


def test_racing_deliverers_send_one_email(smtp_server: SmtpServer, committed: Build) -> None:
    smtp_server.inbox.delay = 0.3  # the first deliverer is mid-send when the others try
    concern_id = committed(DSL)
    barrier = threading.Barrier(4)
    results: list[Outcome] = []

    def deliver() -> None:
        barrier.wait()
        results.append(deliver_alert(concern_id))

    workers = [threading.Thread(target=deliver) for _ in range(4)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(10)

    assert sorted(r.value for r in results) == ["sent", "unsent", "unsent", "unsent"]
    assert len(smtp_server.inbox.messages) == 1
    assert concern_row(concern_id).alert_attempts == 1


def test_the_worker_takes_failed_and_stale_claims_only(
    smtp_server: SmtpServer, committed: Build, monkeypatch: pytest.MonkeyPatch
) -> None:
    configure(monkeypatch, alert_max_attempts="3")
    no_dsl = committed(DT)
    assert deliver_alert(no_dsl) is Outcome.unsent
    with session_scope() as session:
        directory.add_staff(session, "Oak Primary", "new.dsl@oak.example", Role.dsl)
        pep = directory.add_pep(
            session, directory.add_child(session, "Oak Primary", "Bo", 3).id, "2030-01-01"
        )
        stale = record(session, pep, "stale").id
        busy = record(session, pep, "busy").id
        given_up = record(session, pep, "given-up").id
        long_ago = datetime.now(UTC) - timedelta(hours=1)
        for concern_id, values in (
            (stale, {"alert_status": AlertStatus.sending, "alert_claimed_at": long_ago}),
            (busy, {"alert_status": AlertStatus.sending, "alert_claimed_at": utcnow()}),
            (given_up, {"alert_status": AlertStatus.failed, "alert_attempts": 3}),
        ):
            session.execute(
                update(SafeguardingConcern)
                .where(SafeguardingConcern.id == concern_id)
                .values(**values)
            )

    time.sleep(RETRY_DELAYS[0])  # no_dsl's first pause
    result = send_pending_alerts()

    assert result == PendingResult(sent=2, unsent=0, abandoned=1)
    subjects = sorted(str(m.message["Subject"]) for m in smtp_server.inbox.messages)
    assert subjects == sorted(SUBJECT.format(id=i) for i in (no_dsl, stale))
    assert concern_row(no_dsl).recipients == ["new.dsl@oak.example"]
    assert concern_row(busy).alert_status == AlertStatus.sending
    assert concern_row(given_up).alert_status == AlertStatus.failed


def test_uk_time_follows_british_summer_time() -> None:
    assert uk_time(datetime(2026, 7, 1, 12, 30, tzinfo=UTC)) == (
        "Wednesday 1 July 2026, 13:30 (BST, UK time)"
    )
    assert uk_time(datetime(2026, 12, 1, 12, 30, tzinfo=UTC)) == (
        "Tuesday 1 December 2026, 12:30 (GMT, UK time)"
    )


def test_smtp_password_is_not_in_repr(
    monkeypatch: pytest.MonkeyPatch, app_settings: Settings
) -> None:
    settings = configure(monkeypatch, smtp_password="hunter2-secret", alert_retry_delays="[1, 2]")
    assert "hunter2-secret" not in repr(settings)
    assert settings.alerts.retry_delays == (1.0, 2.0)


def test_alert_body_is_plain_short_lines(smtp_server: SmtpServer, committed: Build) -> None:
    concern_id = committed(VS)
    assert deliver_alert(concern_id) is Outcome.sent
    [received] = smtp_server.inbox.messages
    assert received.message["Content-Transfer-Encoding"] == "7bit"
    assert max(len(line) for line in received.message.get_content().splitlines()) <= 78
