"""send-reminders: who is due, once per PEP, never after submitting (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select

from bot import db
from bot.child_texts import REMINDER_MESSAGE
from bot.cli import main as cli_main
from bot.models import Pep, PepStatus, TelegramChat
from bot.services.telegram_chats import due_chats, link_chat
from bot.services.telegram_identity import sender_id
from bot.settings import Settings, get_settings
from bot.telegram.application import build_bot
from bot.telegram.reminders import send_reminders
from tests.telegram.conftest import new_pep
from tests.telegram.fake_bot_api import FakeBotApi

TODAY = date(2030, 1, 10)
NOW = datetime(2030, 1, 10, 9, 0, tzinfo=UTC)


def linked_pep(chat_id: int, meeting: date) -> int:
    pep_id, code = new_pep(meeting)
    link_chat(chat_id, code, sender_id(chat_id, pep_id))  # what the channel does
    return pep_id


def due_chat_peps(today: date = TODAY) -> list[int]:
    with db.session_scope() as session:
        return sorted(r.pep_id for r in due_chats(session, today, 3))


def test_selection(telegram_settings: Settings) -> None:
    due = linked_pep(1001, TODAY + timedelta(days=3))
    today = linked_pep(1002, TODAY)
    linked_pep(1003, TODAY + timedelta(days=4))  # too early
    linked_pep(1004, TODAY - timedelta(days=1))  # meeting over
    submitted = linked_pep(1005, TODAY + timedelta(days=1))
    new_pep(TODAY + timedelta(days=1))  # not on Telegram
    with db.session_scope() as session:
        pep = session.get(Pep, submitted)
        assert pep is not None
        pep.status = PepStatus.submitted
    assert due_chat_peps() == sorted([due, today])


async def test_sent_once_per_pep_with_no_names(
    telegram_settings: Settings, fake_api: FakeBotApi
) -> None:
    pep_id = linked_pep(2001, TODAY + timedelta(days=2))
    linked_pep(2002, TODAY + timedelta(days=30))
    async with build_bot() as bot:
        first = await send_reminders(bot, TODAY, NOW)
        again = await send_reminders(bot, TODAY, NOW + timedelta(hours=1))
        tomorrow = await send_reminders(bot, TODAY + timedelta(days=1), NOW + timedelta(days=1))
    assert (first.sent, again.sent, tomorrow.sent) == (1, 0, 0)
    (message,) = fake_api.calls_to("sendMessage")
    assert int(message.params["chat_id"]) == 2001
    assert message.params["text"] == REMINDER_MESSAGE
    assert "Robin" not in REMINDER_MESSAGE and "School" not in REMINDER_MESSAGE
    with db.session_scope() as session:
        row = session.scalars(select(TelegramChat).where(TelegramChat.pep_id == pep_id)).one()
        assert row.reminder_sent_at == NOW


async def test_a_passing_failure_is_retried_a_refusal_is_not(
    telegram_settings: Settings, fake_api: FakeBotApi
) -> None:
    linked_pep(3001, TODAY + timedelta(days=1))
    fake_api.fail_methods["sendMessage"] = (500, "Internal Server Error")
    async with build_bot() as bot:
        failed = await send_reminders(bot, TODAY, NOW)
        fake_api.fail_methods["sendMessage"] = (403, "Forbidden: bot was blocked by the user")
        refused = await send_reminders(bot, TODAY, NOW)
        del fake_api.fail_methods["sendMessage"]
        after = await send_reminders(bot, TODAY, NOW)
    assert (failed.failed, refused.refused, after.sent) == (1, 1, 0)


def test_a_new_pep_gets_its_own_reminder(telegram_settings: Settings) -> None:
    first = linked_pep(4001, TODAY + timedelta(days=1))
    with db.session_scope() as session:
        session.scalars(select(TelegramChat)).one().reminder_sent_at = NOW
        pep = session.get(Pep, first)
        assert pep is not None
        pep.status = PepStatus.submitted
    second_id, code = new_pep(TODAY + timedelta(days=2))
    # The chat's new PEP is a new conversation (tests/telegram/test_handlers.py).
    link_chat(4001, code, sender_id(4001, second_id))
    assert due_chat_peps() == [second_id]


def test_cli(
    telegram_settings: Settings, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    linked_pep(5001, datetime.now(UTC).date() + timedelta(days=1))
    assert cli_main(["send-reminders"]) == 0
    assert "reminders sent: 1" in capsys.readouterr().out
    monkeypatch.setenv("TELEGRAM_TOKEN", "")
    get_settings.cache_clear()
    assert cli_main(["send-reminders"]) == 2
    assert "TELEGRAM_TOKEN" in capsys.readouterr().err
