"""Codes and link tokens in what the child sends, deep links, and what the channel says itself."""

from __future__ import annotations

import re
from collections.abc import Sequence
from urllib.parse import quote

from bot.security import find_code
from bot.settings import get_settings
from pep_nlp.contract import intent_payload

# Commands the channel maps to the engine's intents (both exist in the domain).
HELP_INTENT = intent_payload("help")
STOP_INTENT = intent_payload("stop")

#: What Telegram allows in a deep link's start parameter: up to 64 of A-Z a-z 0-9 _ -.
START_PARAMETER_RE = re.compile(r"[A-Za-z0-9_-]{1,64}")
#: A link token (`bot.services.invites.is_link_token`: 40 or more characters; ours are 43).
LINK_TOKEN_RE = re.compile(r"[A-Za-z0-9_-]{40,64}")
_TOKEN_IN_TEXT_RE = re.compile(r"(?<![A-Za-z0-9_-])[A-Za-z0-9_-]{40,64}(?![A-Za-z0-9_-])")
_MAX_SECRET_CHARS = 64


def secret_from_start_args(args: Sequence[str]) -> str | None:
    """The code or link token in "/start <payload>"; None for a plain /start.

    A deep link t.me/<bot>?start=<token> arrives as "/start <token>"; a child may also type
    "/start k7qm 4txp" (the normalised code is returned). Any other payload is returned as
    it is, cut to 64 characters, so it is refused like any wrong code.
    """
    payload = " ".join(args).strip()
    if not payload:
        return None
    if LINK_TOKEN_RE.fullmatch(payload):
        return payload
    return find_code(payload[:_MAX_SECRET_CHARS]) or payload[:_MAX_SECRET_CHARS]


def secret_in_text(text: str) -> str | None:
    """A link token or an invite code inside typed text (a pasted link, "my code is ..")."""
    token = _TOKEN_IN_TEXT_RE.search(text)
    return token.group(0) if token else find_code(text)


def deep_link(link_token: str) -> str | None:
    """https://t.me/<bot>?start=<link token>, or None when the bot's username is not set.

    The link carries the invite's long link token, never the code a child types.
    """
    if not START_PARAMETER_RE.fullmatch(link_token):
        raise ValueError("a deep link's start parameter is 1-64 of A-Z a-z 0-9 _ -")
    username = get_settings().telegram.bot_username.lstrip("@")
    if not username:
        return None
    return f"https://t.me/{quote(username)}?start={link_token}"
