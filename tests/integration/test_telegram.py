"""Telegram end to end: real PTB over real HTTP to a fake Bot API, the real engine and store.

Polling: a deep link (carrying the invite's link token) for a new Year 5 PEP, button taps if
the bot offers any, typed answers, /stop, and a later message; the answers saved are exactly
what was typed, the chat id is nowhere in clear, no name reaches Telegram, and neither the
code nor the token is anywhere in the engine's tracker store. A plain /start asks for the
code; a typed code links; a wrong one gets the one refusal. Webhook (in-process app): the
secret is checked and a redelivered update is run once. Engine down: the child hears
NOT_SAVED_MESSAGE.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from bot import db
from bot.child_texts import NOT_SAVED_MESSAGE, REFUSED_MESSAGE
from bot.models import Pep
from bot.services.invites import NewInvite, new_invite
from bot.services.throttle import invite_throttle
from bot.settings import get_settings
from bot.telegram.application import TelegramApplication, build_application
from bot.telegram.webhook import SECRET_HEADER, WEBHOOK_PATH
from tests.integration.stack import Stack, free_port
from tests.telegram.fake_bot_api import FakeBotApi, run_polling

pytestmark = pytest.mark.engine

CHAT = 8675309123  # distinctive, so a search of the database files cannot miss it
WEBHOOK_SECRET = "it-webhook-secret_0123456789abcdefghij"


@pytest.fixture
def fake_api() -> Iterator[FakeBotApi]:
    api = FakeBotApi().start()
    yield api
    api.stop()


@pytest.fixture
def telegram_env(stack: Stack, fake_api: FakeBotApi, monkeypatch: pytest.MonkeyPatch) -> Stack:
    stack.use_store()
    # Everything the stack's servers run with (the store, the key, the engine's URL and
    # credentials), so bot.engine_client reaches the engine as they do.
    for name, value in {
        **stack.env,
        "TELEGRAM_TOKEN": fake_api.token,
        "TELEGRAM_BASE_URL": fake_api.base_url,
    }.items():
        monkeypatch.setenv(name, value)
    get_settings.cache_clear()
    db.reset_engine()
    invite_throttle.cache_clear()
    return stack


@pytest.fixture
async def polling(telegram_env: Stack) -> AsyncIterator[TelegramApplication]:
    application = build_application(polling=True)
    async with run_polling(application) as running:
        yield running


def settle(api: FakeBotApi, chat_id: int, before: int, timeout: float = 90) -> list[dict[str, Any]]:
    """Wait for the bot's answer to one turn: at least one new message, then quiet."""
    api.wait_for(lambda: len(api.sent(chat_id)) > before, timeout)
    count = -1
    while count != len(api.calls):
        count = len(api.calls)
        time.sleep(0.7)
    return api.sent(chat_id)[before:]


async def turn(
    api: FakeBotApi, update: dict[str, Any], chat_id: int = CHAT
) -> list[dict[str, Any]]:
    before = len(api.sent(chat_id))
    api.push(update)
    return await asyncio.to_thread(settle, api, chat_id, before)


def keyboard_of(message: dict[str, Any]) -> list[list[dict[str, Any]]]:
    return list((message.get("reply_markup") or {}).get("inline_keyboard") or [])


def new_link(stack: Stack, year_group: int = 5) -> tuple[int, list[str], NewInvite]:
    """A new PEP and a fresh invite for it (which revokes the first): the PEP id, every
    code and token it was given, and the live invite."""
    pep_id, first_code = stack.new_pep(year_group)
    with db.session_scope() as session:
        pep = session.get(Pep, pep_id)
        assert pep is not None
        invite = new_invite(session, pep)
    return pep_id, [first_code, invite.code, invite.link_token], invite


def tracker_bytes(stack: Stack) -> bytes:
    """Everything in the engine's tracker store (work/tracker.db and any journal)."""
    tracker = stack.work / "tracker.db"
    files = [tracker, *tracker.parent.glob("tracker.db-*")]  # -wal, -journal
    raw = b"".join(path.read_bytes() for path in files if path.exists())
    assert raw, "the engine's tracker store is empty"
    return raw


def assert_not_in_tracker(stack: Stack, secrets: list[str]) -> None:
    """No code or token (in any spelling a channel might pass on) in the engine's store."""
    raw = tracker_bytes(stack)
    for secret in secrets:
        for spelling in {secret, secret.replace("-", ""), secret.lower()}:
            assert spelling.encode() not in raw, f"{spelling!r} is in the tracker store"
            assert spelling.encode("utf-16-le") not in raw


def names_for(pep_id: int) -> tuple[str, str]:
    with db.session_scope() as session:
        pep = session.get(Pep, pep_id)
        assert pep is not None
        return pep.child.first_name, pep.child.school.name


async def test_polling_end_to_end(
    telegram_env: Stack, fake_api: FakeBotApi, polling: TelegramApplication
) -> None:
    stack_env = get_settings()
    pep_id, secrets, invite = new_link(telegram_env)
    typed: list[str] = []
    tapped: list[str] = []

    # t.me/<bot>?start=<link token> arrives as "/start <link token>".
    replies = await turn(fake_api, fake_api.message_update(CHAT, f"/start {invite.link_token}"))
    assert replies, "the bot said nothing after the deep link"
    assert any("computer program" in m["text"] for m in replies)

    # Whatever the bot asks next: tap the first button it offers, or type an answer.
    answers = ['Art club 🎨 and "maths"!\nMy teacher says I\'m trying hard 💪', "Reading 📚"]
    taps = 0
    while answers and taps < 5:
        last = replies[-1]
        keyboard = keyboard_of(last)
        if keyboard:
            taps += 1
            button = keyboard[0][0]
            tapped.append(button["text"])
            assert len(button["callback_data"].encode()) <= 64
            replies = await turn(
                fake_api, fake_api.callback_update(CHAT, last, button["callback_data"])
            )
            assert fake_api.calls_to("answerCallbackQuery")
            assert any(
                c.params["text"].endswith("✓ " + button["text"])
                for c in fake_api.calls_to("editMessageText")
            )
            continue
        typed.append(answers.pop(0))
        replies = await turn(fake_api, fake_api.message_update(CHAT, typed[-1]))
        if any("saved" in m["text"] for m in replies) and not keyboard_of(replies[-1]):
            break

    stopped = await turn(fake_api, fake_api.message_update(CHAT, "/stop"))
    assert any("Everything you've said so far is saved" in m["text"] for m in stopped)
    resumed = await turn(fake_api, fake_api.message_update(CHAT, "hello again"))
    assert resumed[0]["text"].startswith("Welcome back!")

    saved = {a.question_key: a.text for a in telegram_env.answers(pep_id).values() if not a.skipped}
    transcript = [(c.method, c.params.get("text")) for c in fake_api.calls if c.params.get("text")]
    assert typed[0] in saved.values(), transcript  # the first answer, verbatim
    assert set(saved.values()) <= set(typed) | set(tapped)  # a tap saves the button's title
    assert all(sender == CHAT for sender in {int(c.params["chat_id"]) for c in
                                             fake_api.calls_to("sendMessage")})  # fmt: skip

    # No name and no school reaches Telegram.
    first_name, school = names_for(pep_id)
    shown = [c.params.get("text", "") for c in fake_api.calls if c.params.get("text")]
    assert shown
    for text in shown:
        assert first_name not in text and school not in text

    # Neither the code nor the link token reached the engine.
    assert_not_in_tracker(telegram_env, secrets)

    # The chat id is nowhere in the store (nor the engine's tracker) in clear.
    work = stack_env.var_dir
    files = [p for p in work.iterdir() if p.name.startswith(("pepvoice.db", "tracker.db"))]
    assert files
    for path in files:
        raw = path.read_bytes()
        assert str(CHAT).encode() not in raw, path.name
        assert str(CHAT).encode("utf-16-le") not in raw, path.name


def test_webhook_checks_the_secret_and_runs_a_redelivery_once(
    telegram_env: Stack, fake_api: FakeBotApi, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TELEGRAM_WEBHOOK_SECRET", WEBHOOK_SECRET)
    monkeypatch.setenv("APP_BASE_URL", "https://pep-voice.example")
    get_settings.cache_clear()
    from bot.web.app import app

    _pep_id, code = telegram_env.new_pep(5)
    chat = CHAT + 7
    update = fake_api.message_update(chat, f"/start {code}")
    with TestClient(app) as client:
        (hook,) = fake_api.calls_to("setWebhook")
        assert hook.params["url"] == "https://pep-voice.example" + WEBHOOK_PATH
        assert hook.params["secret_token"] == WEBHOOK_SECRET

        assert client.post(WEBHOOK_PATH, json=update).status_code == 403
        wrong = {SECRET_HEADER: WEBHOOK_SECRET + "x"}
        assert client.post(WEBHOOK_PATH, json=update, headers=wrong).status_code == 403
        right = {SECRET_HEADER: WEBHOOK_SECRET}
        assert client.post(WEBHOOK_PATH, json=update, headers=right).status_code == 200
        assert client.post(WEBHOOK_PATH, json=update, headers=right).status_code == 200
        replies = settle(fake_api, chat, 0)
        time.sleep(2)  # room for a second run to show up, were there one
        texts = fake_api.sent_texts(chat)
    assert any("computer program" in m["text"] for m in replies)
    assert len(texts) == len(set(texts)), texts  # the turn ran once


async def test_engine_down_the_child_hears_not_saved(
    fake_api: FakeBotApi, polling: TelegramApplication, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RASA_URL", f"http://127.0.0.1:{free_port()}")
    get_settings.cache_clear()
    chat = CHAT + 9
    replies = await turn(fake_api, fake_api.message_update(chat, "my answer"), chat)
    assert [m["text"] for m in replies] == [NOT_SAVED_MESSAGE]


async def test_plain_start_then_a_typed_code_and_a_wrong_one(
    telegram_env: Stack, fake_api: FakeBotApi, polling: TelegramApplication
) -> None:
    """The engine asks an unlinked chat for its code; the app links a typed one; a wrong code
    gets the one refusal from the app; the engine's store never holds a code."""
    chat = CHAT + 13
    pep_id, secrets, invite = new_link(telegram_env)
    asked = await turn(fake_api, fake_api.message_update(chat, "/start"), chat)
    assert any("I need your code" in m["text"] for m in asked), asked

    wrong = await turn(fake_api, fake_api.message_update(chat, "/start ZZZZ-9999"), chat)
    assert [m["text"] for m in wrong] == [REFUSED_MESSAGE]
    typed = f"hi my code is {invite.code.lower()}"
    started = await turn(fake_api, fake_api.message_update(chat, typed), chat)
    assert any("computer program" in m["text"] for m in started), started
    await to_a_typed_question(fake_api, started, chat)
    await turn(fake_api, fake_api.message_update(chat, "Drawing comics C1"), chat)
    saved = {a.text for a in telegram_env.answers(pep_id).values() if a.text}
    assert "Drawing comics C1" in saved
    assert b"Drawing comics C1" in tracker_bytes(telegram_env)  # the search finds what is there
    assert_not_in_tracker(telegram_env, [*secrets, "ZZZZ-9999", typed])


async def to_a_typed_question(api: FakeBotApi, replies: list[dict[str, Any]], chat: int) -> None:
    """Tap the first button while the bot offers any, until it asks for typed words."""
    for _ in range(6):
        keyboard = keyboard_of(replies[-1]) if replies else []
        if not keyboard:
            return
        data = keyboard[0][0]["callback_data"]
        replies = await turn(api, api.callback_update(chat, replies[-1], data), chat)
    pytest.fail("the bot kept offering buttons")


async def test_a_shared_phone_keeps_each_childs_answers_in_their_own_pep(
    telegram_env: Stack, fake_api: FakeBotApi, polling: TelegramApplication
) -> None:
    """A's link, then B's, then A's again in one chat: each answer lands in its child's PEP."""
    chat = CHAT + 11
    pep_a, code_a = telegram_env.new_pep(5)
    pep_b, code_b = telegram_env.new_pep(5)
    words = {"a": "Swimming lessons A1", "b": "Football practice B1", "a2": "Painting club A2"}

    async def link_and_answer(code: str, answer: str) -> list[dict[str, Any]]:
        replies = await turn(fake_api, fake_api.message_update(chat, f"/start {code}"), chat)
        await to_a_typed_question(fake_api, replies, chat)
        await turn(fake_api, fake_api.message_update(chat, answer), chat)
        return replies

    await link_and_answer(code_a, words["a"])
    await link_and_answer(code_b, words["b"])
    again = await link_and_answer(code_a, words["a2"])
    assert again[0]["text"].startswith("Welcome back!"), again

    def saved(pep_id: int) -> set[str]:
        return {a.text for a in telegram_env.answers(pep_id).values() if a.text}

    assert {words["a"], words["a2"]} <= saved(pep_a)
    assert words["b"] not in saved(pep_a)
    assert saved(pep_b) & {words["a"], words["a2"]} == set()
    assert words["b"] in saved(pep_b)
