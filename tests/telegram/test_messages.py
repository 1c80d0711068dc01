"""Deep links and their payloads, codes in typed text, slash escaping, identities."""

from __future__ import annotations

import re
import secrets

import pytest

from bot.engine_client import SLASH_GUARD, START_MESSAGE, as_typed_text
from bot.services.telegram_identity import chat_hash, seal_chat_id, sender_id, unseal_chat_id
from bot.settings import Settings, get_settings
from bot.telegram.messages import deep_link, secret_from_start_args, secret_in_text


@pytest.fixture
def key(monkeypatch: pytest.MonkeyPatch, tmp_path: object) -> Settings:
    monkeypatch.setenv("SECRET_KEY", "unit-test-key-0123456789abcdefghijklmnop")
    monkeypatch.setenv("VAR_DIR", str(tmp_path))
    monkeypatch.setenv("TELEGRAM_BOT_USERNAME", "@pep_voice_bot")
    get_settings.cache_clear()
    yield get_settings()
    get_settings.cache_clear()


TOKEN = "Xy3_-" + "a1B2c3D4e5" * 3 + "zZ9_-0Q6"  # 43 characters, like secrets.token_urlsafe(32)


@pytest.mark.parametrize(
    "args, secret",
    [
        ([TOKEN], TOKEN),  # t.me/<bot>?start=<token>
        (["K7QM-4TXP"], "K7QM4TXP"),  # a code typed after /start
        (["K7QM4TXP"], "K7QM4TXP"),
        (["k7qm4txp"], "K7QM4TXP"),
        (["k7qm", "4txp"], "K7QM4TXP"),  # typed by hand with a space
        ([], None),  # plain /start
        ([" "], None),
        (["hello"], "hello"),  # anything else is tried, and refused like a wrong code
        (["K7QM4TXP_x"], "K7QM4TXP"),  # "_" ends a code as a space would
        (["A" * 200], "A" * 64),
        ([TOKEN + "x" * 30], (TOKEN + "x" * 30)[:64]),  # too long for a token
    ],
)
def test_start_payload(args: list[str], secret: str | None) -> None:
    assert secret_from_start_args(args) == secret


@pytest.mark.parametrize(
    "text, secret",
    [
        ("my code is k7qm-4txp", "K7QM4TXP"),
        (f"https://t.me/pep_voice_bot?start={TOKEN}", TOKEN),  # a pasted link
        (f"{TOKEN} K7QM-4TXP", TOKEN),
        ("I like art", None),
        ("strength", None),  # eight letters, no digit: not a code
        ("a" * 39, None),
    ],
)
def test_secret_in_typed_text(text: str, secret: str | None) -> None:
    assert secret_in_text(text) == secret


def test_start_message_carries_no_code() -> None:
    assert START_MESSAGE == "/start"


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


def test_deep_link_carries_the_link_token(key: Settings) -> None:
    token = secrets.token_urlsafe(32)
    link = deep_link(token)
    assert link == f"https://t.me/pep_voice_bot?start={token}"
    # Telegram allows 64 of A-Z a-z 0-9 _ - in the start parameter; it comes back whole.
    parameter = link.split("start=")[1]
    assert re.fullmatch(r"[A-Za-z0-9_-]{1,64}", parameter)
    assert secret_from_start_args([parameter]) == token


def test_a_deep_link_refuses_what_telegram_would_not_carry(key: Settings) -> None:
    for bad in ["", "K7QM 4TXP", "a" * 65, "tök"]:
        with pytest.raises(ValueError):
            deep_link(bad)


def test_no_deep_link_without_a_username(monkeypatch: pytest.MonkeyPatch, key: Settings) -> None:
    monkeypatch.setenv("TELEGRAM_BOT_USERNAME", "")
    get_settings.cache_clear()
    assert deep_link(TOKEN) is None


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
    monkeypatch.setenv("SECRET_KEY", "another-key-0123456789abcdefghijklmnopqrs")
    get_settings.cache_clear()
    with pytest.raises(ValueError):
        unseal_chat_id(sealed, hashed)
