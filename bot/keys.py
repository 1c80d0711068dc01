"""The deployment's keys: one secret in, a separate key per purpose out, with key ids.

`SECRET_KEY` is the current key and `PREVIOUS_SECRET_KEYS` the retired ones still accepted
(docs/security.md, "Rotating the key"). Nothing uses a secret directly: each purpose gets
its own key through HKDF-SHA256, so a key that leaks from one use (say the engine's token)
says nothing about the others.

- Signed and sealed values carry the 8-hex-digit id of the key that made them, and are
  checked or opened with that key, so they keep working after a rotation.
- Keyed lookup hashes (invite codes, conversation ids) carry no id: they are written with
  the current key and matched against every key in the ring (`lookup_hashes`).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
from dataclasses import dataclass
from functools import lru_cache

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCMSIV
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from bot.settings import get_settings

_SALT = b"pep-voice/v1"
_NONCE_BYTES = 12


@dataclass(frozen=True)
class RingKey:
    kid: str
    secret: bytes

    def derive(self, purpose: str) -> bytes:
        return _derive(self.secret, purpose)


@lru_cache(maxsize=256)
def _derive(secret: bytes, purpose: str) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=_SALT, info=purpose.encode()).derive(
        secret
    )


def _ring_key(secret: str) -> RingKey:
    raw = secret.encode()
    return RingKey(_derive(raw, "key-id")[:4].hex(), raw)


def key_ring() -> tuple[RingKey, ...]:
    """The current key first, then the previous ones."""
    settings = get_settings()
    return tuple(
        _ring_key(s.get_secret_value())
        for s in (settings.secret_key, *settings.previous_secret_keys)
    )


def current_key() -> RingKey:
    return key_ring()[0]


def _key_by_id(kid: str) -> RingKey | None:
    return next((k for k in key_ring() if hmac.compare_digest(k.kid, kid)), None)


# --- Keyed hashes: find a row by a value we must not store -------------------------------


def _hmac_hex(key: bytes, value: str) -> str:
    return hmac.new(key, value.encode(), hashlib.sha256).hexdigest()


def lookup_hash(value: str, purpose: str = "lookup") -> str:
    """HMAC-SHA256 (hex) of `value` under the current key: what is written."""
    return _hmac_hex(current_key().derive(purpose), value)


def lookup_hashes(value: str, purpose: str = "lookup") -> list[str]:
    """The hash under every key in the ring, current first: what a stored hash may be."""
    return [_hmac_hex(k.derive(purpose), value) for k in key_ring()]


# --- Signatures: values handed out that must come back unchanged --------------------------


def sign(purpose: str, value: str) -> str:
    """`kid.value.mac`; `value` must not contain a dot."""
    if "." in value:
        raise ValueError("a signed value cannot contain '.'")
    key = current_key()
    return f"{key.kid}.{value}.{_hmac_hex(key.derive('sign:' + purpose), value)}"


def unsign(purpose: str, token: str | None) -> str | None:
    """The value inside a token we signed for `purpose` with any key in the ring, else None."""
    if not token or token.count(".") != 2:
        return None
    kid, value, mac = token.split(".")
    key = _key_by_id(kid)
    if key is None or not value:
        return None
    expected = _hmac_hex(key.derive("sign:" + purpose), value)
    return value if hmac.compare_digest(mac, expected) else None


# --- Sealing: values we must read back but no one else may ---------------------------------


def seal(purpose: str, plaintext: bytes, bound_to: bytes) -> str:
    """AES-GCM-SIV under the purpose key, bound to `bound_to` (e.g. its row's lookup hash).

    Returns `kid:base64url(nonce || ciphertext)`. GCM-SIV keeps a repeated nonce from
    revealing more than that two plaintexts are equal.
    """
    key = current_key()
    nonce = os.urandom(_NONCE_BYTES)
    sealed = AESGCMSIV(key.derive("seal:" + purpose)).encrypt(nonce, plaintext, bound_to)
    return f"{key.kid}:{base64.urlsafe_b64encode(nonce + sealed).decode().rstrip('=')}"


def unseal(purpose: str, token: str, bound_to: bytes) -> bytes:
    """The plaintext; ValueError if the key is gone, the value was altered or moved rows."""
    kid, _, body = token.partition(":")
    key = _key_by_id(kid)
    if key is None or not body:
        raise ValueError("sealed with a key that is not in the ring")
    raw = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
    try:
        return AESGCMSIV(key.derive("seal:" + purpose)).decrypt(
            raw[:_NONCE_BYTES], raw[_NONCE_BYTES:], bound_to
        )
    except InvalidTag:
        raise ValueError("sealed value does not open here") from None


def sealed_with_current_key(token: str) -> bool:
    return token.partition(":")[0] == current_key().kid


def shared_token(purpose: str) -> str:
    """A secret shared between our own processes (engine, action server, app), base64url."""
    return base64.urlsafe_b64encode(current_key().derive("token:" + purpose)).decode().rstrip("=")


def accepted_tokens(purpose: str) -> list[str]:
    """`shared_token` under every key in the ring, so processes can be restarted one by one."""
    return [
        base64.urlsafe_b64encode(k.derive("token:" + purpose)).decode().rstrip("=")
        for k in key_ring()
    ]
