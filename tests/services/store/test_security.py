import re

import pytest

from bot.security import (
    CODE_ALPHABET,
    INVITE_CODE_RE,
    find_code,
    keyed_hash,
    new_code,
    normalise_code,
)
from bot.settings import Settings


def test_keyed_hash_depends_on_key(app_settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    from bot.settings import get_settings

    first = keyed_hash("ABCD2345")
    assert first == keyed_hash("ABCD2345")
    assert re.fullmatch(r"[0-9a-f]{64}", first)
    monkeypatch.setenv("SECRET_KEY", "another key, long enough to be accepted")
    get_settings.cache_clear()
    assert keyed_hash("ABCD2345") != first


def test_new_code_shape() -> None:
    codes = {new_code() for _ in range(200)}
    assert len(codes) == 200
    for code in codes:
        assert re.fullmatch(r"[A-Z0-9]{4}-[A-Z0-9]{4}", code)
        raw = code.replace("-", "")
        assert set(raw) <= set(CODE_ALPHABET)
        assert not set(raw) & set("01OIL")
        assert find_code(f"/start {code}") == raw


@pytest.mark.parametrize(
    "text", ["abcd efgh", "ABCD-EFGH", " abCD-eFgh ", "ABCDEFGH", "ab cd\tef-gh"]
)
def test_normalise_code(text: str) -> None:
    assert normalise_code(text) == "ABCDEFGH"


@pytest.mark.parametrize(
    ("message", "code"),
    [
        ("/start K7QM-4TXP", "K7QM4TXP"),
        ("my code is k7qm4txp", "K7QM4TXP"),
        ("it's k7qm 4txp thanks", "K7QM4TXP"),
        ("K7QM-4TXP.", "K7QM4TXP"),
        ("code:22AB-3344", "22AB3344"),
        ('/start{"invite_code": "k7qm-4txp"}', "K7QM4TXP"),
    ],
)
def test_regex_finds_code(message: str, code: str) -> None:
    assert find_code(message) == code


@pytest.mark.parametrize(
    "message",
    [
        "I want to get better at strength and fitness",  # 8 letters, all in the alphabet
        "what must I do",
        "call 23456789",  # digits only
        "K7QM-4TXPZ",  # too long
        "XK7QM4TXP",
        "K7QM-4TX",
        "",
    ],
)
def test_regex_ignores_ordinary_text(message: str) -> None:
    assert INVITE_CODE_RE.search(message) is None
