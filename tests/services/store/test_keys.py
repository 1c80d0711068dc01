"""bot.keys: one secret, a key per purpose, key ids, rotation."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from bot import keys
from bot.settings import get_settings

OLD = "the-old-key-that-signed-things-0123456789"
NEW = "the-new-key-after-rotation-9876543210abc"


@pytest.fixture
def ring(monkeypatch: pytest.MonkeyPatch, tmp_path: object) -> Iterator[None]:
    monkeypatch.setenv("SECRET_KEY", OLD)
    monkeypatch.delenv("PREVIOUS_SECRET_KEYS", raising=False)
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def _rotate(monkeypatch: pytest.MonkeyPatch, *, keep_old: bool = True) -> None:
    monkeypatch.setenv("SECRET_KEY", NEW)
    if keep_old:
        monkeypatch.setenv("PREVIOUS_SECRET_KEYS", f'["{OLD}"]')
    else:
        monkeypatch.delenv("PREVIOUS_SECRET_KEYS", raising=False)
    get_settings.cache_clear()


def test_each_purpose_has_its_own_key(ring: None) -> None:
    key = keys.current_key()
    derived = {key.derive(p) for p in ("lookup", "sign:web-session", "seal:x", "token:engine")}
    assert len(derived) == 4
    assert key.secret not in derived
    assert keys.shared_token("engine") != keys.shared_token("actions")
    assert len(key.kid) == 8


def test_signed_values_carry_their_key_and_survive_rotation(
    ring: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    token = keys.sign("web-session", "abc")
    old_kid = keys.current_key().kid
    assert token.startswith(old_kid + ".")
    assert keys.unsign("web-session", token) == "abc"
    assert keys.unsign("start-form", token) is None  # another purpose's key
    assert keys.unsign("web-session", token[:-1] + ("0" if token[-1] != "0" else "1")) is None
    _rotate(monkeypatch)
    assert keys.unsign("web-session", token) == "abc"
    assert keys.sign("web-session", "abc").split(".")[0] != old_kid
    _rotate(monkeypatch, keep_old=False)
    assert keys.unsign("web-session", token) is None


def test_sealed_values_are_bound_to_their_row(ring: None, monkeypatch: pytest.MonkeyPatch) -> None:
    sealed = keys.seal("telegram-chat-id", b"\x00\x01secret", b"row-1")
    assert b"secret" not in sealed.encode()
    assert keys.unseal("telegram-chat-id", sealed, b"row-1") == b"\x00\x01secret"
    with pytest.raises(ValueError):
        keys.unseal("telegram-chat-id", sealed, b"row-2")
    with pytest.raises(ValueError):
        keys.unseal("other-purpose", sealed, b"row-1")
    # The same value sealed twice looks different (random nonce).
    assert keys.seal("telegram-chat-id", b"\x00\x01secret", b"row-1") != sealed
    _rotate(monkeypatch)
    assert keys.unseal("telegram-chat-id", sealed, b"row-1") == b"\x00\x01secret"
    assert not keys.sealed_with_current_key(sealed)
    _rotate(monkeypatch, keep_old=False)
    with pytest.raises(ValueError):
        keys.unseal("telegram-chat-id", sealed, b"row-1")


def test_lookup_hashes_match_under_every_key(ring: None, monkeypatch: pytest.MonkeyPatch) -> None:
    stored = keys.lookup_hash("invite:ABCD2345")
    _rotate(monkeypatch)
    assert keys.lookup_hash("invite:ABCD2345") != stored
    assert keys.lookup_hashes("invite:ABCD2345")[1] == stored
    assert keys.accepted_tokens("engine")[0] == keys.shared_token("engine")
    assert len(keys.accepted_tokens("engine")) == 2
