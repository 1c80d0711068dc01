"""The channel in polling mode against the fake Bot API and a fake engine (real HTTP)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from sqlalchemy import select

from bot import db
from bot.engine_client import NOT_SAVED_MESSAGE, SLASH_GUARD, start_message
from bot.models import TelegramChat
from bot.services.conversation import link_conversation
from bot.services.invites import InviteError
from bot.settings import get_settings
from bot.telegram.application import TelegramApplication
from bot.telegram.identity import chat_hash, sender_id, unseal_chat_id
from bot.telegram.messages import BUTTON_EXPIRED_MESSAGE
from tests.integration.stack import free_port
from tests.telegram.conftest import new_pep
from tests.telegram.fake_bot_api import FakeBotApi

CHAT = 424242001
CARER_PAYLOAD = '/inform{"answered_by":"with_carer","note":"' + "x" * 60 + '"}'


def fake_engine(sender: str, message: str) -> list[dict[str, Any]]:
    """Enough of the bot to exercise the channel; links codes like action_link_invite."""
    if message.startswith("/start{"):
        code = message.removeprefix("/start{").split('"')[3]
        try:
            link_conversation(code, sender)
        except InviteError:
            return [{"text": "That code is already being used in another chat."}]
        return [
            {"text": "I'm a computer program, not a person."},
            {
                "text": "Who is helping you today?",
                "buttons": [
                    {"title": "Just me", "payload": "/inform"},
                    {"title": "My carer", "payload": CARER_PAYLOAD},
                ],
            },
        ]
    return [{"text": f"engine got: {message}"}]


async def until(api: FakeBotApi, chat_id: int, count: int) -> list[str]:
    return await asyncio.to_thread(api.wait_for_messages, chat_id, count, 20)


def engine_messages(api: FakeBotApi) -> list[str]:
    return [r["message"] for r in api.engine_requests]


async def test_deep_link_links_the_chat_and_buttons_become_a_keyboard(
    fake_api: FakeBotApi, polling_app: TelegramApplication
) -> None:
    fake_api.engine_reply = fake_engine
    pep_id, code = new_pep()
    fake_api.send_text(CHAT, f"/start {code}")
    texts = await until(fake_api, CHAT, 2)

    assert fake_api.engine_requests[0] == {
        "sender": sender_id(CHAT),
        "message": start_message(code.replace("-", "")),
    }
    assert texts == ["I'm a computer program, not a person.", "Who is helping you today?"]
    assert fake_api.calls[0].method in {"getMe", "deleteWebhook"}
    assert any(c.params["action"] == "typing" for c in fake_api.calls_to("sendChatAction"))
    keyboard = fake_api.sent(CHAT)[1]["reply_markup"]["inline_keyboard"]
    assert [row[0]["text"] for row in keyboard] == ["Just me", "My carer"]
    for row in keyboard:
        assert len(row[0]["callback_data"].encode()) <= 64

    # The link is kept for reminders, with the chat id hashed and sealed, never in clear.
    with db.session_scope() as session:
        row = session.scalars(select(TelegramChat)).one()
        assert row.pep_id == pep_id
        assert row.chat_hash == chat_hash(CHAT)
        assert str(CHAT) not in row.sealed_chat_id
        assert unseal_chat_id(row.sealed_chat_id, row.chat_hash) == CHAT

    # Tapping "My carer": the tap is answered, the choice shown, the long payload sent.
    keyboard_message = fake_api.sent(CHAT)[1]
    fake_api.push(fake_api.callback_update(CHAT, keyboard_message, keyboard[1][0]["callback_data"]))
    texts = await until(fake_api, CHAT, 3)
    assert texts[-1] == f"engine got: {CARER_PAYLOAD}"
    assert len(fake_api.calls_to("answerCallbackQuery")) == 1
    (edit,) = fake_api.calls_to("editMessageText")
    assert edit.params["text"] == "Who is helping you today?\n\n✓ My carer"
    assert "reply_markup" not in edit.params  # keyboard removed: no second tap


async def test_typed_text_commands_and_slashes(
    fake_api: FakeBotApi, polling_app: TelegramApplication
) -> None:
    for text in ["I like art", "/skip", "/help", "/stop", "/start", "  /inform{}"]:
        fake_api.send_text(CHAT, text)
    await until(fake_api, CHAT, 6)
    assert engine_messages(fake_api) == [
        "I like art",
        SLASH_GUARD + "/skip",  # not a command of ours: the child's words, not an intent
        "/help",
        "/stop",
        "/greet",  # /start without a code
        SLASH_GUARD + "  /inform{}",
    ]
    assert {r["sender"] for r in fake_api.engine_requests} == {sender_id(CHAT)}


async def test_a_typed_code_links_only_an_unlinked_chat(
    fake_api: FakeBotApi, polling_app: TelegramApplication
) -> None:
    fake_api.engine_reply = fake_engine
    _pep_id, code = new_pep()
    fake_api.send_text(CHAT, f"hi my code is {code.lower()}")
    await until(fake_api, CHAT, 2)
    assert engine_messages(fake_api) == [start_message(code.replace("-", ""))]
    # Linked now: something code-like is the child's answer, sent as typed.
    fake_api.send_text(CHAT, "my locker is AB23 CD45")
    await until(fake_api, CHAT, 3)
    assert engine_messages(fake_api)[-1] == "my locker is AB23 CD45"


async def test_a_used_code_is_refused_in_another_chat(
    fake_api: FakeBotApi, polling_app: TelegramApplication
) -> None:
    fake_api.engine_reply = fake_engine
    _pep_id, code = new_pep()
    fake_api.send_text(CHAT, f"/start {code}")
    await until(fake_api, CHAT, 2)
    fake_api.send_text(CHAT + 1, f"/start {code}")
    assert await until(fake_api, CHAT + 1, 1) == [
        "That code is already being used in another chat."
    ]
    with db.session_scope() as session:
        assert len(session.scalars(select(TelegramChat)).all()) == 1


@pytest.mark.parametrize("down", ["closed port", "empty reply"])
async def test_engine_down_tells_the_child_nothing_was_saved(
    fake_api: FakeBotApi,
    polling_app: TelegramApplication,
    monkeypatch: pytest.MonkeyPatch,
    down: str,
) -> None:
    if down == "closed port":
        monkeypatch.setenv("RASA_URL", f"http://127.0.0.1:{free_port()}")
        get_settings.cache_clear()
    else:
        fake_api.engine_reply = lambda _sender, _message: []
    fake_api.send_text(CHAT, "my answer")
    assert await until(fake_api, CHAT, 1) == [NOT_SAVED_MESSAGE]


async def test_stale_button_asks_the_child_to_type(
    fake_api: FakeBotApi, polling_app: TelegramApplication
) -> None:
    message = {
        "message_id": 99,
        "date": 0,
        "chat": {"id": CHAT, "type": "private"},
        "text": "Old question",
        "reply_markup": {"inline_keyboard": [[{"text": "Yes", "callback_data": "b:gone"}]]},
    }
    fake_api.push(fake_api.callback_update(CHAT, message, "b:gone"))
    await asyncio.to_thread(
        fake_api.wait_for, lambda: bool(fake_api.calls_to("editMessageReplyMarkup")), 20
    )
    (answer,) = fake_api.calls_to("answerCallbackQuery")
    assert answer.params["text"] == BUTTON_EXPIRED_MESSAGE
    assert fake_api.engine_requests == []


async def test_group_chats_and_non_text(
    fake_api: FakeBotApi, polling_app: TelegramApplication
) -> None:
    fake_api.push(fake_api.message_update(-100123, "/start K7QM4TXP", chat_type="group"))
    sticker = fake_api.message_update(CHAT, "")
    del sticker["message"]["text"]
    sticker["message"]["sticker"] = {
        "file_id": "s", "file_unique_id": "s", "type": "regular",
        "width": 1, "height": 1, "is_animated": False, "is_video": False,
    }  # fmt: skip
    fake_api.push(sticker)
    assert await until(fake_api, CHAT, 1) == [
        "I can only read typed messages. Please type your answer."
    ]
    assert fake_api.sent(-100123) == []
    assert fake_api.engine_requests == []
