"""The channel in polling mode against the fake Bot API and a fake engine (real HTTP).

The app redeems codes and link tokens itself (the real store and throttle); the fake engine
only answers "/start" the way action_link_invite does: it reads whether the app linked the
conversation.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from bot import db
from bot.child_texts import (
    BUTTON_EXPIRED_MESSAGE,
    NOT_SAVED_MESSAGE,
    REFUSED_MESSAGE,
    THROTTLED_MESSAGE,
)
from bot.engine_client import SLASH_GUARD, START_MESSAGE
from bot.models import Invite, Pep, TelegramChat, utcnow
from bot.security import new_code
from bot.services.conversation import link_conversation, linked_conversation
from bot.services.invites import issue_invite, pep_for_conversation
from bot.services.telegram_chats import link_chat, sync_link
from bot.services.telegram_identity import chat_hash, sender_id, unseal_chat_id
from bot.settings import InviteSettings, Settings, get_settings
from bot.telegram.application import TelegramApplication
from tests.integration.stack import free_port
from tests.telegram.conftest import new_link, new_pep
from tests.telegram.fake_bot_api import FakeBotApi

CHAT = 424242001
CARER_PAYLOAD = '/inform{"answered_by":"with_carer","note":"' + "x" * 60 + '"}'
NOT_LINKED = "I need your code before we start."
INTRO = "I'm a computer program, not a person."
PER_CLIENT_LIMIT = InviteSettings.model_fields["attempts_per_client"].default


def fake_engine(sender: str, message: str) -> list[dict[str, Any]]:
    """Enough of the bot to exercise the channel: "/start" as action_link_invite answers it."""
    if message == START_MESSAGE:
        if linked_conversation(sender) is None:
            return [{"text": NOT_LINKED}]
        return [
            {"text": INTRO},
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


def sent_to_engine(api: FakeBotApi) -> list[tuple[str, str]]:
    return [(r["sender"], r["message"]) for r in api.engine_requests]


async def test_a_deep_link_token_links_the_chat_and_buttons_become_a_keyboard(
    fake_api: FakeBotApi, polling_app: TelegramApplication
) -> None:
    fake_api.engine_reply = fake_engine
    pep_id, invite = new_link()
    assert len(invite.link_token) == 43
    fake_api.send_text(CHAT, f"/start {invite.link_token}")  # what t.me/<bot>?start=<token> sends
    texts = await until(fake_api, CHAT, 2)

    # The app linked the chat; the engine got only "/start", never the token.
    assert fake_api.engine_requests == [{"sender": sender_id(CHAT, pep_id), "message": "/start"}]
    assert texts == [INTRO, "Who is helping you today?"]
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


async def test_a_plain_start_asks_an_unlinked_chat_for_its_code_and_resumes_a_linked_one(
    fake_api: FakeBotApi, polling_app: TelegramApplication
) -> None:
    fake_api.engine_reply = fake_engine
    pep_id, code = new_pep()
    fake_api.send_text(CHAT, "/start")
    assert await until(fake_api, CHAT, 1) == [NOT_LINKED]
    fake_api.send_text(CHAT, f"/start {code}")  # typed by hand: a code works too
    await until(fake_api, CHAT, 3)
    fake_api.send_text(CHAT, "/start")
    assert (await until(fake_api, CHAT, 5))[3] == INTRO
    assert sent_to_engine(fake_api) == [
        (sender_id(CHAT), "/start"),
        (sender_id(CHAT, pep_id), "/start"),
        (sender_id(CHAT, pep_id), "/start"),
    ]


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
        "/start",  # without a code: the engine resumes, or asks for the code
        SLASH_GUARD + "  /inform{}",
    ]
    assert {r["sender"] for r in fake_api.engine_requests} == {sender_id(CHAT)}


async def test_a_typed_code_links_and_never_reaches_the_engine(
    fake_api: FakeBotApi, polling_app: TelegramApplication
) -> None:
    fake_api.engine_reply = fake_engine
    pep_id, code = new_pep()
    fake_api.send_text(CHAT, f"hi my code is {code.lower()}")
    assert await until(fake_api, CHAT, 2) == [INTRO, "Who is helping you today?"]
    assert sent_to_engine(fake_api) == [(sender_id(CHAT, pep_id), "/start")]
    # Linked now: something code-like that is no invite's code is the child's answer.
    fake_api.send_text(CHAT, "my locker is AB23 CD45")
    await until(fake_api, CHAT, 3)
    assert engine_messages(fake_api)[-1] == "my locker is AB23 CD45"
    # The chat's own code again resumes; the text holding it goes nowhere.
    fake_api.send_text(CHAT, f"I typed {code} again")
    await until(fake_api, CHAT, 5)
    assert engine_messages(fake_api)[-1] == "/start"
    normalised = code.replace("-", "")
    assert not any(normalised in m.upper().replace("-", "") for m in engine_messages(fake_api))


async def test_every_refusal_gets_the_same_reply(
    fake_api: FakeBotApi, polling_app: TelegramApplication
) -> None:
    fake_api.engine_reply = fake_engine
    _expired_pep, expired = new_link(issued_at=utcnow() - timedelta(days=30))
    revoked_pep, revoked_code = new_pep()
    with db.session_scope() as session:
        pep = session.get(Pep, revoked_pep)
        assert pep is not None
        issue_invite(session, pep)  # a new invite revokes the old code
    _used_pep, used = new_link()
    link_conversation(used.code, "tg-another-chat", client="telegram:another")

    attempts = {
        "wrong": "/start ZZZZ-9999",
        "wrong, typed": "my code is ZZZZ-9999",
        "wrong link": "/start " + "x" * 43,
        "expired": f"/start {expired.code}",
        "expired link": f"/start {expired.link_token}",
        "revoked": f"/start {revoked_code}",
        "revoked, typed": revoked_code,
        "used": f"/start {used.code}",
        "used link": f"/start {used.link_token}",
    }
    for chat_offset, text in enumerate(attempts.values(), start=1):
        fake_api.send_text(CHAT + chat_offset, text)
    for chat_offset, kind in enumerate(attempts, start=1):
        assert await until(fake_api, CHAT + chat_offset, 1) == [REFUSED_MESSAGE], kind
    assert fake_api.engine_requests == []  # nothing, and no code, went to the engine
    with db.session_scope() as session:
        assert session.scalars(select(TelegramChat)).all() == []


async def test_a_guessing_chat_is_throttled_before_any_code_is_looked_up(
    fake_api: FakeBotApi, polling_app: TelegramApplication
) -> None:
    fake_api.engine_reply = fake_engine
    for _ in range(PER_CLIENT_LIMIT + 1):
        fake_api.send_text(CHAT, f"/start {new_code()}")
    texts = await until(fake_api, CHAT, PER_CLIENT_LIMIT + 1)
    assert texts == [REFUSED_MESSAGE] * PER_CLIENT_LIMIT + [THROTTLED_MESSAGE]

    # While throttled even a good code or link is refused, untouched: it is not looked up.
    pep_id, invite = new_link()
    fake_api.send_text(CHAT, f"/start {invite.link_token}")
    fake_api.send_text(CHAT, f"my code is {invite.code}")
    assert (await until(fake_api, CHAT, PER_CLIENT_LIMIT + 3))[-2:] == [THROTTLED_MESSAGE] * 2
    assert linked_pep(CHAT) is None
    assert fake_api.engine_requests == []

    # Another chat is not throttled, and the code was not used up.
    fake_api.send_text(CHAT + 1, f"/start {invite.link_token}")
    assert await until(fake_api, CHAT + 1, 2) == [INTRO, "Who is helping you today?"]
    assert linked_pep(CHAT + 1) == pep_id


async def test_a_linked_chat_cannot_guess_codes_unthrottled(
    fake_api: FakeBotApi, polling_app: TelegramApplication
) -> None:
    """Code-like answers that are no invite's code are kept as words, but counted."""
    fake_api.engine_reply = fake_engine
    new_pep_id, code = new_pep()
    fake_api.send_text(CHAT, f"/start {code}")
    await until(fake_api, CHAT, 2)
    guesses = [f"is it {new_code()}" for _ in range(PER_CLIENT_LIMIT)]
    for guess in [*guesses, f"is it {new_code()}"]:
        fake_api.send_text(CHAT, guess)
    texts = await until(fake_api, CHAT, 2 + PER_CLIENT_LIMIT + 1)
    assert texts[2:-1] == [f"engine got: {guess}" for guess in guesses]
    assert texts[-1] == THROTTLED_MESSAGE
    assert linked_pep(CHAT) == new_pep_id


async def test_a_used_code_is_refused_in_another_chat(
    fake_api: FakeBotApi, polling_app: TelegramApplication
) -> None:
    fake_api.engine_reply = fake_engine
    _pep_id, code = new_pep()
    fake_api.send_text(CHAT, f"/start {code}")
    await until(fake_api, CHAT, 2)
    fake_api.send_text(CHAT + 1, f"/start {code}")
    assert await until(fake_api, CHAT + 1, 1) == [REFUSED_MESSAGE]
    with db.session_scope() as session:
        assert len(session.scalars(select(TelegramChat)).all()) == 1


async def test_another_code_starts_a_new_conversation_and_the_old_one_gets_nothing(
    fake_api: FakeBotApi, polling_app: TelegramApplication
) -> None:
    """A shared phone: A links, B links, A comes back; each child's words go to their PEP."""
    fake_api.engine_reply = fake_engine
    pep_a, code_a = new_pep(first_name="Ann")
    pep_b, link_b = new_link()
    conv_a, conv_b = sender_id(CHAT, pep_a), sender_id(CHAT, pep_b)
    assert len({conv_a, conv_b, sender_id(CHAT)}) == 3

    fake_api.send_text(CHAT, f"/start {code_a}")
    await until(fake_api, CHAT, 2)
    fake_api.send_text(CHAT, "A's answer")
    await until(fake_api, CHAT, 3)
    fake_api.send_text(CHAT, f"/start {link_b.link_token}")
    await until(fake_api, CHAT, 5)
    fake_api.send_text(CHAT, "B's answer")
    await until(fake_api, CHAT, 6)
    assert linked_pep(CHAT) == pep_b
    fake_api.send_text(CHAT, f"/start {code_a}")
    await until(fake_api, CHAT, 8)
    fake_api.send_text(CHAT, "A again")
    await until(fake_api, CHAT, 9)
    assert linked_pep(CHAT) == pep_a

    assert sent_to_engine(fake_api) == [
        (conv_a, "/start"),
        (conv_a, "A's answer"),
        (conv_b, "/start"),
        (conv_b, "B's answer"),
        (conv_a, "/start"),
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
    assert sent_to_engine(fake_api) == [
        (sender_id(CHAT, pep_a), "/start"),
        (sender_id(CHAT, pep_b), "/start"),
    ]
    assert linked_pep(CHAT) == pep_b


async def test_a_refused_code_leaves_the_chat_in_its_conversation(
    fake_api: FakeBotApi, polling_app: TelegramApplication
) -> None:
    fake_api.engine_reply = fake_engine
    pep_a, code_a = new_pep()
    _pep_b, code_b = new_pep()
    link_conversation(code_b, "tg-someone-else", client="telegram:someone-else")
    fake_api.send_text(CHAT, f"/start {code_a}")
    await until(fake_api, CHAT, 2)
    fake_api.send_text(CHAT, f"/start {code_b}")
    assert (await until(fake_api, CHAT, 3))[-1] == REFUSED_MESSAGE
    fake_api.send_text(CHAT, "/start ZZZZ-9999")
    assert (await until(fake_api, CHAT, 4))[-1] == REFUSED_MESSAGE
    fake_api.send_text(CHAT, "still A")
    await until(fake_api, CHAT, 5)
    assert linked_pep(CHAT) == pep_a
    assert sent_to_engine(fake_api) == [
        (sender_id(CHAT, pep_a), "/start"),
        (sender_id(CHAT, pep_a), "still A"),
    ]


async def test_a_chat_linked_before_per_pep_conversations_stays_in_its_conversation(
    fake_api: FakeBotApi, polling_app: TelegramApplication
) -> None:
    fake_api.engine_reply = fake_engine
    pep_id, code = new_pep()
    link_conversation(code, sender_id(CHAT), client="test")  # how chats were linked before
    sync_link(CHAT, sender_id(CHAT))
    fake_api.send_text(CHAT, "my answer")
    await until(fake_api, CHAT, 1)
    fake_api.send_text(CHAT, f"/start {code}")
    await until(fake_api, CHAT, 3)
    assert {r["sender"] for r in fake_api.engine_requests} == {sender_id(CHAT)}
    assert linked_pep(CHAT) == pep_id


def test_a_conversation_linked_elsewhere_moves_to_the_codes_own(
    telegram_settings: Settings,
) -> None:
    """If the conversation chosen is bound to another PEP, the code's own one is linked."""
    pep_a, code_a = new_pep()
    pep_b, code_b = new_pep()
    taken = sender_id(CHAT, pep_a)
    link_conversation(code_a, taken, client="test")
    assert link_chat(CHAT, code_b, taken) == sender_id(CHAT, pep_b)
    assert linked_pep(CHAT) == pep_b
    with db.session_scope() as session:
        assert pep_for_conversation(session, taken).id == pep_a  # type: ignore[union-attr]
        bound = session.scalars(select(Invite).where(Invite.pep_id == pep_b)).one()
        assert bound.bound_to is not None


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


async def test_engine_down_after_linking_keeps_the_link(
    fake_api: FakeBotApi, polling_app: TelegramApplication
) -> None:
    """The app linked the chat before the engine failed: the next message is in its PEP."""
    fake_api.engine_reply = lambda _sender, _message: []
    pep_id, code = new_pep()
    fake_api.send_text(CHAT, f"/start {code}")
    assert await until(fake_api, CHAT, 1) == [NOT_SAVED_MESSAGE]
    assert linked_pep(CHAT) == pep_id
    fake_api.engine_reply = fake_engine
    fake_api.send_text(CHAT, "/start")
    assert (await until(fake_api, CHAT, 3))[1] == INTRO


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
