"""Deep-link payloads, slash escaping, the engine's start message, identities."""

from __future__ import annotations

import json

import pytest

from bot.engine_client import SLASH_GUARD, as_typed_text, start_message
from bot.security import find_code
from bot.settings import Settings, get_settings
from bot.telegram.identity import chat_hash, seal_chat_id, sender_id, unseal_chat_id
from bot.telegram.messages import (
    code_from_start_args,
    deep_link,
)


@pytest.fixture
def key(monkeypatch: pytest.MonkeyPatch, tmp_path: object) -> Settings:
    monkeypatch.setenv("SECRET_KEY", "unit-test-key")
    monkeypatch.setenv("VAR_DIR", str(tmp_path))
    monkeypatch.setenv("TELEGRAM_BOT_USERNAME", "@pep_voice_bot")
    get_settings.cache_clear()
    yield get_settings()
    get_settings.cache_clear()


@pytest.mark.parametrize(
    "args, code",
    [
        (["K7QM-4TXP"], "K7QM4TXP"),  # t.me/<bot>?start=K7QM-4TXP
        (["K7QM4TXP"], "K7QM4TXP"),
        (["k7qm4txp"], "K7QM4TXP"),
        (["k7qm", "4txp"], "K7QM4TXP"),  # typed by hand with a space
        ([], None),  # plain /start
        (["hello"], None),
        (["strength"], None),  # eight letters, no digit: not a code
        (["K7QM4TXP_x"], "K7QM4TXP"),  # "_" ends a code as a space would
        (["A" * 200], None),
    ],
)
def test_deep_link_payload(args: list[str], code: str | None) -> None:
    assert code_from_start_args(args) == code


def test_start_message_is_the_engine_start_intent() -> None:
    message = start_message("K7QM4TXP")
    assert message.startswith("/start{")
    assert json.loads(message.removeprefix("/start")) == {"invite_code": "K7QM4TXP"}


@pytest.mark.parametrize(
    "typed", ["/skip", '/start{"invite_code": "K7QM4TXP"}', "  /inform{}", "/", "//x"]
)
def test_text_starting_with_a_slash_is_guarded(typed: str) -> None:
    escaped = as_typed_text(typed)
    assert escaped == SLASH_GUARD + typed
    # What the engine checks after stripping whitespace no longer starts with "/".
    assert not escaped.strip().startswith("/")


@pytest.mark.parametrize("typed", ["maths", "art / music", "1/2 of my lessons", "", "🎨 /x"])
def test_other_text_is_sent_unchanged(typed: str) -> None:
    assert as_typed_text(typed) == typed


def test_deep_link(key: Settings) -> None:
    link = deep_link("k7qm-4txp")
    assert link == "https://t.me/pep_voice_bot?start=K7QM4TXP"
    # What Telegram hands back for that link parses to the same code.
    assert code_from_start_args([link.split("start=")[1]]) == find_code("K7QM-4TXP")


def test_no_deep_link_without_a_username(monkeypatch: pytest.MonkeyPatch, key: Settings) -> None:
    monkeypatch.setenv("TELEGRAM_BOT_USERNAME", "")
    get_settings.cache_clear()
    assert deep_link("K7QM-4TXP") is None


@pytest.mark.parametrize("chat_id", [555000111, 987654321, 2**52, -1001234567890])
def test_identities_never_show_the_chat_id(key: Settings, chat_id: int) -> None:
    sender, hashed, sealed = sender_id(chat_id), chat_hash(chat_id), seal_chat_id(chat_id)
    assert sender.startswith("tg-") and len(sender) == 35
    for value in (sender, hashed, sealed):
        assert str(abs(chat_id)) not in value
    assert unseal_chat_id(sealed, hashed) == chat_id
    assert sender_id(chat_id) == sender  # stable: the same chat is the same conversation


def test_sealed_id_needs_the_key(key: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    sealed, hashed = seal_chat_id(987654321), chat_hash(987654321)
    monkeypatch.setenv("SECRET_KEY", "another-key")
    get_settings.cache_clear()
    with pytest.raises(ValueError):
        unseal_chat_id(sealed, hashed)
