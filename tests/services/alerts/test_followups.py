"""One thing said, one concern and one alert: repeats and follow-ups join the open concern,
and the DSL hears of them in at most one update an hour, with a count."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select, update

from bot.alerts.compose import UPDATE_SUBJECT
from bot.alerts.delivery import deliver_due_alerts, reopen_followups, send_pending_alerts
from bot.db import session_scope
from bot.models import AlertStatus, ConcernMessage, Role, SafeguardingConcern, utcnow
from bot.services.access import concern_words, viewer_for_email
from bot.services.invites import issue_invite, redeem_invite
from bot.services.safeguarding import report_disclosure_for_conversation
from tests.smtp_server import SmtpServer

from .conftest import WORDS, add_pep, add_school, concern_row

CONVERSATION = "web-followups"


def _linked_school() -> None:
    with session_scope() as session:
        add_school(session, "Oak Primary", ("dsl@oak.example", Role.dsl))
        pep = add_pep(session, "Oak Primary")
        redeem_invite(session, issue_invite(session, pep), CONVERSATION)


def _report(message_id: str, words: str = WORDS, category: str = "physical_abuse") -> int:
    concern_id = report_disclosure_for_conversation(
        CONVERSATION, words=words, category=category, source="engine",
        question_key="hard", message_id=message_id,
    )  # fmt: skip
    assert concern_id is not None
    return concern_id


def _deliver_sent(concern_id: int) -> None:
    """The worker's pass, as the scheduler runs it; the concern is then alerted."""
    deliver_due_alerts()
    assert concern_row(concern_id).alert_status == AlertStatus.sent


def test_repeats_join_one_concern_and_one_alert(smtp_server: SmtpServer, store: object) -> None:
    _linked_school()
    first = _report("m1")
    _deliver_sent(first)
    ids = {_report(f"m{n}") for n in range(2, 32)}  # the Year 9 child's 31 messages
    assert ids == {first}
    assert deliver_due_alerts().sent == 0  # the worker sends no more within the quiet hour
    assert len(smtp_server.inbox.messages) == 1
    row = concern_row(first)
    assert (row.message_count, row.alerted_message_count) == (31, 1)
    with session_scope() as session:
        assert len(session.scalars(select(ConcernMessage.words)).all()) == 31


def test_a_redelivered_message_is_stored_once(smtp_server: SmtpServer, store: object) -> None:
    _linked_school()
    concern_id = _report("same")
    assert _report("same") == concern_id
    assert concern_row(concern_id).message_count == 1


def test_further_messages_are_sent_as_one_update_after_the_quiet_hour(
    smtp_server: SmtpServer, store: object
) -> None:
    _linked_school()
    concern_id = _report("m1")
    _deliver_sent(concern_id)
    _report("m2", "he did it again last night")
    _report("m3", "and my sister too")
    # Within the hour: nothing more goes out.
    assert reopen_followups() == 0
    send_pending_alerts()
    assert len(smtp_server.inbox.messages) == 1
    # An hour later the scheduler sends one update counting both.
    with session_scope() as session:
        session.execute(
            update(SafeguardingConcern).values(alerted_at=utcnow() - timedelta(minutes=61))
        )
    result = send_pending_alerts()
    assert result.sent == 1
    messages = smtp_server.inbox.wait_for(2)
    assert len(messages) == 2
    update_mail = messages[1].message
    assert update_mail["Subject"] == UPDATE_SUBJECT.format(id=concern_id)
    body = update_mail.get_content()
    assert "2 further messages" in body
    assert "again last night" not in body and "sister" not in body
    row = concern_row(concern_id)
    assert (row.message_count, row.alerted_message_count) == (3, 3)
    # Nothing new since: no third email.
    with session_scope() as session:
        session.execute(
            update(SafeguardingConcern).values(alerted_at=utcnow() - timedelta(minutes=61))
        )
    send_pending_alerts()
    assert len(smtp_server.inbox.messages) == 2


def test_the_dsl_reads_every_message_with_its_time(smtp_server: SmtpServer, store: object) -> None:
    _linked_school()
    concern_id = _report("m1")
    _report("m2", "he did it again last night")
    with session_scope() as session:
        words = concern_words(session, viewer_for_email(session, "dsl@oak.example"), concern_id)
    first, second = words.splitlines()
    assert first.endswith(WORDS) and second.endswith("he did it again last night")
    assert "UK time" in first


def test_a_more_serious_follow_up_raises_the_category(
    smtp_server: SmtpServer, store: object
) -> None:
    _linked_school()
    concern_id = _report("m1", "i dont like going home", category="classifier")
    _report("m2", "i want to kill myself", category="suicide_self_harm")
    _report("m3", "and he shouts", category="emotional_abuse")
    assert concern_row(concern_id).category == "suicide_self_harm"


def test_an_acknowledged_concern_is_closed_and_a_new_one_opens(
    smtp_server: SmtpServer, store: object
) -> None:
    _linked_school()
    first = _report("m1")
    with session_scope() as session:
        session.execute(update(SafeguardingConcern).values(acknowledged_at=utcnow()))
    second = _report("m2", "it happened again")
    assert second != first
    assert deliver_due_alerts().sent == 2
    assert len(smtp_server.inbox.messages) == 2
