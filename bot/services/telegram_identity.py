"""Who a Telegram chat is, without keeping its chat id in clear.

- `sender_id`: the engine's conversation ids for the chat (the engine and the invites table
  only ever see these, and the invites table only their keyed hash). A chat has one
  conversation per PEP, so a second child's code in the same chat starts a fresh conversation
  (and Rasa tracker) and the first child's never receives the second child's answers; and
  one more for messages before any code is linked (`bot.services.telegram_chats` picks which).
- `chat_hash`: finds the chat's row in `telegram_chats`.
- `seal_chat_id` / `unseal_chat_id`: reminders must be *sent* to the chat, so the id is kept
  sealed (AES-GCM-SIV, `bot.keys.seal`) and bound to the row's chat hash: a sealed id copied
  to another row does not open. The sealed value names its key, so it opens after a key
  rotation while the old key is still listed.
"""

from __future__ import annotations

from bot.keys import seal, unseal
from bot.security import keyed_hash, keyed_hashes

SENDER_PREFIX = "tg-"
_ID_BYTES = 8  # chat ids fit in a signed 64-bit integer
_SEAL_PURPOSE = "telegram-chat-id"


def _sender_source(chat_id: int, pep_id: int | None) -> str:
    return f"telegram:{chat_id}" if pep_id is None else f"telegram:{chat_id}:pep:{pep_id}"


def sender_id(chat_id: int, pep_id: int | None = None) -> str:
    """The chat's conversation for `pep_id`, or its not-yet-linked one, under the current key.

    (Chats linked before conversations were per PEP used the not-yet-linked id for their
    PEP; `bot.services.telegram_chats` keeps them there.)
    """
    return SENDER_PREFIX + keyed_hash(_sender_source(chat_id, pep_id))[:32]


def sender_ids(chat_id: int, pep_id: int | None = None) -> list[str]:
    """`sender_id` under every key in the ring, current first: a conversation begun before a
    key rotation keeps its id (`bot.services.telegram_chats` picks the one that is linked)."""
    return [SENDER_PREFIX + h[:32] for h in keyed_hashes(_sender_source(chat_id, pep_id))]


def chat_hash(chat_id: int) -> str:
    return keyed_hash(f"telegram-chat:{chat_id}")


def chat_hashes(chat_id: int) -> list[str]:
    """The chat's hash under every key in the ring: what its stored row may carry."""
    return keyed_hashes(f"telegram-chat:{chat_id}")


def seal_chat_id(chat_id: int, hashed: str | None = None) -> str:
    """The chat id sealed for the row whose chat hash is `hashed` (default: the current one)."""
    raw = chat_id.to_bytes(_ID_BYTES, "big", signed=True)
    return seal(_SEAL_PURPOSE, raw, (hashed or chat_hash(chat_id)).encode())


def unseal_chat_id(sealed: str, hashed: str) -> int:
    """The chat id; ValueError if it does not open for `hashed` (wrong key, moved, tampered)."""
    return int.from_bytes(unseal(_SEAL_PURPOSE, sealed, hashed.encode()), "big", signed=True)
