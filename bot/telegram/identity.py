"""Who a Telegram chat is, without keeping its chat id in clear.

- `sender_id`: the engine's conversation ids for the chat (the engine and the invites table
  only ever see these, and the invites table only their keyed hash). A chat has one
  conversation per PEP, so a second child's code in the same chat starts a fresh conversation
  (and Rasa tracker) and the first child's never receives the second child's answers; and
  one more for messages before any code is linked (`bot.telegram.links` picks which).
- `chat_hash`: finds the chat's row in `telegram_chats`.
- `seal_chat_id` / `unseal_chat_id`: reminders must be *sent* to the chat, so the id is kept
  XOR-masked with a pad derived from the secret key and the chat hash. Without the key the
  sealed value says nothing; with the key a 10-digit id behind a keyed hash could be brute
  forced anyway, so sealing exposes nothing a keyed hash would not.
"""

from __future__ import annotations

import hashlib
import hmac

from bot.security import keyed_hash
from bot.settings import get_settings

SENDER_PREFIX = "tg-"
_ID_BYTES = 8  # chat ids fit in a signed 64-bit integer


def sender_id(chat_id: int, pep_id: int | None = None) -> str:
    """The chat's conversation for `pep_id`, or its not-yet-linked one.

    (Chats linked before conversations were per PEP used the not-yet-linked id for their
    PEP; `bot.telegram.links` keeps them there.)
    """
    if pep_id is None:
        return SENDER_PREFIX + keyed_hash(f"telegram:{chat_id}")[:32]
    return SENDER_PREFIX + keyed_hash(f"telegram:{chat_id}:pep:{pep_id}")[:32]


def chat_hash(chat_id: int) -> str:
    return keyed_hash(f"telegram-chat:{chat_id}")


def _pad(hashed: str) -> bytes:
    key = hashlib.sha256(b"telegram-seal:" + get_settings().secret_key.encode()).digest()
    return hmac.new(key, hashed.encode(), hashlib.sha256).digest()[:_ID_BYTES]


def seal_chat_id(chat_id: int) -> str:
    raw = chat_id.to_bytes(_ID_BYTES, "big", signed=True)
    return bytes(a ^ b for a, b in zip(raw, _pad(chat_hash(chat_id)), strict=True)).hex()


def unseal_chat_id(sealed: str, hashed: str) -> int:
    """The chat id; ValueError if it does not belong to `hashed` (wrong key, or tampered)."""
    masked = bytes.fromhex(sealed)
    raw = bytes(a ^ b for a, b in zip(masked, _pad(hashed), strict=True))
    chat_id = int.from_bytes(raw, "big", signed=True)
    if not hmac.compare_digest(chat_hash(chat_id), hashed):
        raise ValueError("sealed chat id does not match its hash")
    return chat_id
