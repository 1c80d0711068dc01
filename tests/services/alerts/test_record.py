"""Recording a disclosure: stored once, audited without words, never in the export."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot import db
from bot.alerts.compose import UNRECORDED_SUBJECT
from bot.alerts.delivery import deliver_due_alerts
from bot.db import session_scope
from bot.models import AlertStatus, AuditEvent, Role
from bot.services.answers import record_answer
from bot.services.export import export_child_voice
from bot.services.invites import issue_invite, redeem_invite
from bot.services.safeguarding import report_disclosure_for_conversation
from tests.smtp_server import SmtpServer

from .conftest import WORDS, add_pep, add_school, concern_row, configure, record


def test_record_and_dedupe(session: Session) -> None:
    add_school(session, "Oak Primary")
    pep = add_pep(session, "Oak Primary")
    first = record(session, pep, "m1")
    again = record(session, pep, "m1")
    other = record(session, pep, "m2")

    assert again.id == first.id
    assert other.id != first.id
    assert first.pep_id == pep.id
    assert first.school_id == pep.child.school_id
    assert first.words == WORDS
    assert (first.alert_status, first.alert_attempts, first.recipients) == (
        AlertStatus.pending,
        0,
        [],
    )
    events = session.scalars(
        select(AuditEvent).where(AuditEvent.action == "concern.recorded")
    ).all()
    assert [e.detail for e in events] == [
        {"concern_id": first.id, "category": "physical_abuse"},
        {"concern_id": other.id, "category": "physical_abuse"},
    ]
    assert all(e.pep_id == pep.id for e in events)


def test_recorded_without_a_pep(session: Session) -> None:
    concern = record(session, None)
    assert (concern.pep_id, concern.school_id) == (None, None)


def test_bad_metadata_does_not_lose_the_disclosure(
    session: Session, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    concern = record(session, None, category=WORDS, question_key=WORDS)
    assert (concern.category, concern.question_key, concern.words) == ("unrecognised", None, WORDS)
    audit = session.scalars(select(AuditEvent)).all()
    assert WORDS not in json.dumps([e.detail for e in audit])
    assert "Zebedee" not in caplog.text


def test_export_never_contains_concern_words(session: Session) -> None:
    add_school(session, "Oak Primary")
    pep = add_pep(session, "Oak Primary")
    record_answer(session, pep, "enjoy_school", "I like art", "child", "ks1_2")
    record(session, pep, question_key="enjoy_school")

    document = export_child_voice(session, pep.id, "test")
    dumped = json.dumps(document, ensure_ascii=False)
    assert "Zebedee" not in dumped
    assert "belt" not in dumped
    assert "I like art" in dumped


def test_for_conversation_links_pep_and_alerts_once(
    smtp_server: SmtpServer, store: object, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    with session_scope() as session:
        add_school(session, "Oak Primary", ("dsl@oak.example", Role.dsl))
        pep = add_pep(session, "Oak Primary")
        redeem_invite(session, issue_invite(session, pep), "telegram:42")
        pep_id = pep.id

    kwargs = {
        "words": WORDS,
        "category": "physical_abuse",
        "source": "engine",
        "question_key": "enjoy_school",
        "message_id": "msg-7",
    }
    concern_id = report_disclosure_for_conversation("telegram:42", **kwargs)  # type: ignore[arg-type]
    # Rasa delivers the same message twice.
    again = report_disclosure_for_conversation("telegram:42", **kwargs)  # type: ignore[arg-type]
    assert concern_id is not None and again == concern_id

    assert deliver_due_alerts().sent == 1  # the scheduler's worker
    messages = smtp_server.inbox.messages
    assert [m.rcpt_tos for m in messages] == [["dsl@oak.example"]]
    assert concern_row(concern_id).alert_status == AlertStatus.sent
    row = concern_row(concern_id)
    assert (row.pep_id, row.question_key, row.recipients) == (
        pep_id,
        "enjoy_school",
        ["dsl@oak.example"],
    )
    assert row.conversation_hash is not None
    assert len(smtp_server.inbox.messages) == 1
    assert "Zebedee" not in caplog.text


def test_for_conversation_without_pep_alerts_fallback(
    smtp_server: SmtpServer, store: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    configure(monkeypatch, virtual_school_email="head@virtual-school.example")
    concern_id = report_disclosure_for_conversation(
        "web:unlinked",
        words=WORDS,
        category="classifier",
        source="engine",
        question_key=None,
        message_id="1",
    )
    assert concern_id is not None
    assert deliver_due_alerts().sent == 1
    messages = smtp_server.inbox.messages
    assert [m.rcpt_tos for m in messages] == [["head@virtual-school.example"]]
    body = messages[0].message.get_content()
    assert "not known yet" in body
    assert "Zebedee" not in body
    row = concern_row(concern_id)
    assert (row.pep_id, row.school_id, row.category) == (None, None, "classifier")


def test_unstorable_disclosure_notifies_fallback(
    smtp_server: SmtpServer,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The database refuses (an unmigrated file); the fallback contact still hears of it."""
    configure(
        monkeypatch,
        database_url=f"sqlite:///{tmp_path / 'unmigrated.db'}",
        virtual_school_email="head@virtual-school.example",
    )
    db.reset_engine()
    result = report_disclosure_for_conversation(
        "web:x",
        words=WORDS,
        category="physical_abuse",
        source="engine",
        question_key=None,
        message_id="1",
    )
    assert result is None
    # Sent before the service returned: it could not wait in the outbox.
    messages = smtp_server.inbox.messages
    assert [m.rcpt_tos for m in messages] == [["head@virtual-school.example"]]
    assert messages[0].message["Subject"] == UNRECORDED_SUBJECT
    assert "Zebedee" not in messages[0].message.get_content()
    assert "could not store a safeguarding concern" in caplog.text
    assert "Zebedee" not in caplog.text


def test_bad_source_is_not_lost_silently(
    smtp_server: SmtpServer, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    configure(monkeypatch, virtual_school_email="head@virtual-school.example")
    result = report_disclosure_for_conversation(
        "web:x",
        words=WORDS,
        category="physical_abuse",
        source="not-a-source",
        question_key=None,
        message_id="1",
    )
    assert result is None
    assert "could not store a safeguarding concern: ValueError" in caplog.text
    assert len(smtp_server.inbox.messages) == 1
