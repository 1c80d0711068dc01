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
from bot.services.invites import InviteError, pep_for_conversation
from bot.settings import get_settings
from bot.telegram.application import TelegramApplication
from bot.telegram.identity import chat_hash, sender_id, unseal_chat_id
from bot.telegram.links import sync_link
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


def linked_pep(chat_id: int) -> int | None:
    with db.session_scope() as session:
        row = session.scalars(
            select(TelegramChat).where(TelegramChat.chat_hash == chat_hash(chat_id))
        ).one_or_none()
        return None if row is None else row.pep_id


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
        "sender": sender_id(CHAT, pep_id),
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


async def test_another_code_starts_a_new_conversation_and_the_old_one_gets_nothing(
    fake_api: FakeBotApi, polling_app: TelegramApplication
) -> None:
    """A shared phone: A links, B links, A comes back; each child's words go to their PEP."""
    fake_api.engine_reply = fake_engine
    pep_a, code_a = new_pep(first_name="Ann")
    pep_b, code_b = new_pep(first_name="Ben")
    conv_a, conv_b = sender_id(CHAT, pep_a), sender_id(CHAT, pep_b)
    assert len({conv_a, conv_b, sender_id(CHAT)}) == 3

    fake_api.send_text(CHAT, f"/start {code_a}")
    await until(fake_api, CHAT, 2)
    fake_api.send_text(CHAT, "A's answer")
    await until(fake_api, CHAT, 3)
    fake_api.send_text(CHAT, f"/start {code_b}")
    await until(fake_api, CHAT, 5)
    fake_api.send_text(CHAT, "B's answer")
    await until(fake_api, CHAT, 6)
    assert linked_pep(CHAT) == pep_b
    fake_api.send_text(CHAT, f"/start {code_a}")
    await until(fake_api, CHAT, 8)
    fake_api.send_text(CHAT, "A again")
    await until(fake_api, CHAT, 9)
    assert linked_pep(CHAT) == pep_a

    sent = [(r["sender"], r["message"]) for r in fake_api.engine_requests]
    assert sent == [
        (conv_a, start_message(code_a.replace("-", ""))),
        (conv_a, "A's answer"),
        (conv_b, start_message(code_b.replace("-", ""))),
        (conv_b, "B's answer"),
        (conv_a, start_message(code_a.replace("-", ""))),
        (conv_a, "A again"),
    ]
    with db.session_scope() as session:
        assert pep_for_conversation(session, conv_a).id == pep_a  # type: ignore[union-attr]
        assert pep_for_conversation(session, conv_b).id == pep_b  # type: ignore[union-attr]


async def test_a_typed_code_for_another_pep_starts_its_conversation(
    fake_api: FakeBotApi, polling_app: TelegramApplication
) -> None:
    fake_api.engine_reply = fake_engine
    pep_a, code_a = new_pep()
    pep_b, code_b = new_pep()
    fake_api.send_text(CHAT, f"my code is {code_a}")
    await until(fake_api, CHAT, 2)
    fake_api.send_text(CHAT, f"now it's {code_b.lower()}")
    await until(fake_api, CHAT, 4)
    fake_api.send_text(CHAT, f"I typed {code_b} again")  # same PEP now: the child's words
    await until(fake_api, CHAT, 5)
    sent = [(r["sender"], r["message"]) for r in fake_api.engine_requests]
    assert sent == [
        (sender_id(CHAT, pep_a), start_message(code_a.replace("-", ""))),
        (sender_id(CHAT, pep_b), start_message(code_b.replace("-", ""))),
        (sender_id(CHAT, pep_b), f"I typed {code_b} again"),
    ]
    assert linked_pep(CHAT) == pep_b


async def test_a_refused_code_leaves_the_chat_in_its_conversation(
    fake_api: FakeBotApi, polling_app: TelegramApplication
) -> None:
    fake_api.engine_reply = fake_engine
    pep_a, code_a = new_pep()
    _pep_b, code_b = new_pep()
    link_conversation(code_b, "tg-someone-else")
    fake_api.send_text(CHAT, f"/start {code_a}")
    await until(fake_api, CHAT, 2)
    fake_api.send_text(CHAT, f"/start {code_b}")
    assert (await until(fake_api, CHAT, 3))[
        -1
    ] == "That code is already being used in another chat."
    fake_api.send_text(CHAT, "/start ZZZZ-9999")  # unknown: the not-yet-linked conversation
    await until(fake_api, CHAT, 4)
    fake_api.send_text(CHAT, "still A")
    await until(fake_api, CHAT, 5)
    assert linked_pep(CHAT) == pep_a
    assert fake_api.engine_requests[-1] == {"sender": sender_id(CHAT, pep_a), "message": "still A"}
    assert fake_api.engine_requests[-2]["sender"] == sender_id(CHAT)


async def test_a_chat_linked_before_per_pep_conversations_stays_in_its_conversation(
    fake_api: FakeBotApi, polling_app: TelegramApplication
) -> None:
    fake_api.engine_reply = fake_engine
    pep_id, code = new_pep()
    link_conversation(code, sender_id(CHAT))  # how chats were linked before
    sync_link(CHAT, sender_id(CHAT))
    fake_api.send_text(CHAT, "my answer")
    await until(fake_api, CHAT, 1)
    fake_api.send_text(CHAT, f"/start {code}")
    await until(fake_api, CHAT, 3)
    assert {r["sender"] for r in fake_api.engine_requests} == {sender_id(CHAT)}
    assert linked_pep(CHAT) == pep_id


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
