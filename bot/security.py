"""Keyed hashing and invite codes."""

from __future__ import annotations

import re
import secrets

from bot.keys import lookup_hash, lookup_hashes

# No 0/O, 1/I/L: codes are read aloud and copied by children and carers.
CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
CODE_LENGTH = 8
_DIGITS = "23456789"

_LETTER = "A-HJ-KM-NP-Za-hj-km-np-z"
_CHAR = f"2-9{_LETTER}"
# A code inside a message: "/start K7QM-4TXP", "my code is k7qm4txp", "k7qm 4txp".
# The lookaheads demand a digit and a letter (issue_code guarantees both), so
# ordinary 8-letter words such as "strength" are not mistaken for a code.
INVITE_CODE_RE = re.compile(
    rf"(?<![0-9A-Za-z])"
    rf"(?=[- {_LETTER}]{{0,8}}[2-9])"
    rf"(?=[- 2-9]{{0,8}}[{_LETTER}])"
    rf"([{_CHAR}]{{4}})[ -]?([{_CHAR}]{{4}})"
    rf"(?![0-9A-Za-z])"
)


def keyed_hash(value: str) -> str:
    """HMAC-SHA256 (hex) under the current key's lookup key (`bot.keys`)."""
    return lookup_hash(value)


def keyed_hashes(value: str) -> list[str]:
    """`keyed_hash` under every key in the ring: match a stored hash against these."""
    return lookup_hashes(value)


def new_code() -> str:
    """A fresh code for display, e.g. "K7QM-4TXP"."""
    while True:
        raw = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
        if any(c in _DIGITS for c in raw) and any(c not in _DIGITS for c in raw):
            return f"{raw[:4]}-{raw[4:]}"


def normalise_code(text: str) -> str:
    """Upper-case without spaces or hyphens: "abcd efgh" -> "ABCDEFGH"."""
    return "".join(text.split()).replace("-", "").upper()


#: A link token pasted into a chat: 43 base64url characters (32 random bytes).
LINK_TOKEN_RE = re.compile(r"(?<![A-Za-z0-9_-])[A-Za-z0-9_-]{43}(?![A-Za-z0-9_-])")


def secrets_in(message: str) -> list[str]:
    """Every code-shaped or link-token-shaped piece of a message (to look up, not to trust)."""
    codes = [(m.group(1) + m.group(2)).upper() for m in INVITE_CODE_RE.finditer(message)]
    return codes + LINK_TOKEN_RE.findall(message)


def find_code(message: str) -> str | None:
    """The normalised invite code inside `message`, if there is one."""
    match = INVITE_CODE_RE.search(message)
    return None if match is None else (match.group(1) + match.group(2)).upper()
