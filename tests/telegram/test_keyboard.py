"""Buttons: PTB's arbitrary callback data, its cache kept in the store (telegram_keyboards).

A button carries two random ids; its payload stays with the app, in the database, so a tap
works after the Application is rebuilt (a restart) and on an instance that did not send it.
"""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import delete, select
from telegram import InlineKeyboardButton, InlineKeyboardMarkup
from telegram.ext import InvalidCallbackData

from bot import db
from bot.child_texts import BUTTON_EXPIRED_MESSAGE
from bot.engine_client import Button
from bot.models import TelegramKeyboard
from bot.services import telegram_keyboards
from bot.services.telegram_keyboards import SavedKeyboard, button_payload, save_keyboards
from bot.settings import Settings, get_settings
from bot.telegram.application import build_application
from bot.telegram.keyboard import inline_keyboard, title_of
from bot.telegram.persistence import StoreCallbackData
from tests.telegram.conftest import SECRET
from tests.telegram.fake_bot_api import FakeBotApi, run_polling

CHAT = 434343
LONG_PAYLOAD = '/inform{"answered_by":"with_carer","note":"' + "x" * 200 + '"}'
QUESTION = "Who is helping you today?"


def engine_with_buttons(sender: str, message: str) -> list[dict[str, Any]]:
    if message == "hello":
        buttons = [{"title": "Just me", "payload": "/inform"}]
        buttons.append({"title": "My carer", "payload": LONG_PAYLOAD})
        return [{"text": QUESTION, "buttons": buttons}]
    return [{"text": f"engine got: {message}"}]


def kept_keyboards() -> dict[str, dict[str, str]]:
    with db.session_scope() as session:
        rows = session.scalars(select(TelegramKeyboard)).all()
        return {row.keyboard_id: json.loads(row.buttons) for row in rows}


async def send_keyboard(api: FakeBotApi, settings: Settings) -> dict[str, Any]:
    """One Application sends a keyboard, then stops: the message as Telegram holds it."""
    api.engine_reply = engine_with_buttons
    async with run_polling(build_application(settings, polling=True)):
        api.send_text(CHAT, "hello")
        await asyncio.to_thread(api.wait_for_messages, CHAT, 1, 20)
    api.updates.clear()  # confirmed: Telegram would not send "hello" to the next one
    (message,) = api.sent(CHAT)
    return message


def carer_button(message: dict[str, Any]) -> str:
    rows = message["reply_markup"]["inline_keyboard"]
    assert [row[0]["text"] for row in rows] == ["Just me", "My carer"]
    data = rows[1][0]["callback_data"]
    assert isinstance(data, str) and len(data.encode()) <= 64
    assert "carer" not in data and "inform" not in data
    return data


async def test_a_button_works_after_a_restart(
    fake_api: FakeBotApi, telegram_settings: Settings
) -> None:
    message = await send_keyboard(fake_api, telegram_settings)
    data = carer_button(message)
    # Kept in the database: the payloads only (the bot's words), under the button's ids.
    (buttons,) = kept_keyboards().values()
    assert sorted(buttons.values()) == sorted(["/inform", LONG_PAYLOAD])

    # A new Application (a restart): the tap still sends the long payload.
    async with run_polling(build_application(telegram_settings, polling=True)) as restarted:
        loaded, _ = restarted.bot.callback_data_cache.persistence_data
        assert [keyboard_id for keyboard_id, _, _ in loaded] == list(kept_keyboards())
        fake_api.push(fake_api.callback_update(CHAT, message, data))
        texts = await asyncio.to_thread(fake_api.wait_for_messages, CHAT, 2, 20)
    assert texts[-1] == f"engine got: {LONG_PAYLOAD}"
    (edit,) = fake_api.calls_to("editMessageText")
    assert edit.params["text"] == f"{QUESTION}\n\n✓ My carer"
    (answer,) = fake_api.calls_to("answerCallbackQuery")
    assert "text" not in answer.params  # not "run out"


async def test_a_tap_reaches_an_instance_that_did_not_send_the_button(
    fake_api: FakeBotApi, client: TestClient, telegram_settings: Settings
) -> None:
    # The web app's Application started (and loaded the kept buttons) before this keyboard
    # was sent by another one: it finds the button in the store.
    message = await send_keyboard(fake_api, telegram_settings)
    tap = fake_api.callback_update(CHAT, message, carer_button(message))
    headers = {"X-Telegram-Bot-Api-Secret-Token": SECRET}
    response = await asyncio.to_thread(client.post, "/telegram/webhook", json=tap, headers=headers)
    assert response.status_code == 200
    assert fake_api.sent_texts(CHAT)[-1] == f"engine got: {LONG_PAYLOAD}"
    (edit,) = fake_api.calls_to("editMessageText")
    assert edit.params["text"] == f"{QUESTION}\n\n✓ My carer"


async def test_a_button_no_longer_kept_asks_the_child_to_type(
    fake_api: FakeBotApi, telegram_settings: Settings
) -> None:
    message = await send_keyboard(fake_api, telegram_settings)
    with db.session_scope() as session:
        session.execute(delete(TelegramKeyboard))  # e.g. pruned: older than the newest kept
    async with run_polling(build_application(telegram_settings, polling=True)):
        fake_api.push(fake_api.callback_update(CHAT, message, carer_button(message)))
        await asyncio.to_thread(
            fake_api.wait_for, lambda: bool(fake_api.calls_to("editMessageReplyMarkup")), 20
        )
    (answer,) = fake_api.calls_to("answerCallbackQuery")
    assert answer.params["text"] == BUTTON_EXPIRED_MESSAGE
    assert [r["message"] for r in fake_api.engine_requests] == ["hello"]


def test_the_store_keeps_the_newest_keyboards(
    telegram_settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(telegram_keyboards, "KEYBOARDS_KEPT", 2)
    now = datetime.now(UTC).timestamp()
    save_keyboards([SavedKeyboard("a" * 32, now - 30, {"1" * 32: "/a"})])
    save_keyboards([SavedKeyboard("b" * 32, now - 20, {"2" * 32: "/b"})])
    save_keyboards([SavedKeyboard("a" * 32, now, {"1" * 32: "/a"})])  # "a" was used again
    save_keyboards([SavedKeyboard("c" * 32, now - 10, {"3" * 32: "/c"})])
    assert sorted(kept_keyboards()) == ["a" * 32, "c" * 32]
    assert button_payload("a" * 32, "1" * 32) == "/a"
    assert button_payload("b" * 32, "2" * 32) is None
    assert button_payload("a" * 32, "2" * 32) is None


def test_no_buttons_no_keyboard() -> None:
    assert inline_keyboard([]) is None
    keyboard = inline_keyboard([Button("Yes", "/affirm"), Button("No", "/deny")])
    assert keyboard is not None
    assert [[b.text for b in row] for row in keyboard.inline_keyboard] == [["Yes"], ["No"]]


def test_the_tapped_title_is_read_from_the_message() -> None:
    markup = InlineKeyboardMarkup(
        [
            [InlineKeyboardButton("Yes", callback_data="/affirm")],
            [InlineKeyboardButton("No", callback_data=InvalidCallbackData("k" * 32 + "b" * 32))],
        ]
    )
    assert title_of(markup, "/affirm") == "Yes"
    assert title_of(markup, "k" * 32 + "b" * 32) == "No"  # not in memory: the raw ids
    assert title_of(markup, "/other") is None
    assert title_of(None, "/affirm") is None


async def test_a_store_it_cannot_reach_does_not_stop_the_channel(
    telegram_settings: Settings, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'no-such-folder' / 'x.db'}")
    get_settings.cache_clear()
    db.reset_engine()
    persistence = StoreCallbackData()
    assert await persistence.get_callback_data() == ([], {})
    keyboard = ("k" * 32, datetime.now(UTC).timestamp(), {"b" * 32: "/affirm"})
    await persistence.update_callback_data(([keyboard], {}))  # logged, not raised
    db.reset_engine()
