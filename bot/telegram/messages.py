"""What the channel says to the engine, and the few things it says itself."""

from __future__ import annotations

import json
from collections.abc import Sequence
from urllib.parse import quote

from bot.security import find_code, normalise_code
from bot.settings import get_settings

# Rasa reads a message starting with "/" (after stripping whitespace) as an intent, so a
# child typing "/skip" or '/start{"invite_code": ...}' would steer the bot. A word joiner
# in front makes it text. It is invisible and not whitespace (the engine strips that); the
# web chat (bot/web/chat.py) uses the same guard, so a reader can drop a leading U+2060.
SLASH_GUARD = "\u2060"

# Commands the channel maps to the engine's intents (both exist in domain.yml).
GREET_INTENT = "/greet"
HELP_INTENT = "/help"
STOP_INTENT = "/stop"

NOT_TEXT_MESSAGE = "I can only read typed messages. Please type your answer."
CHOOSE_PROMPT = "Please choose:"
BUTTON_EXPIRED_MESSAGE = "That button has run out. Please type your answer instead."


def escape_user_text(text: str) -> str:
    """Text as the engine must receive it so that it is read as text, never as an intent."""
    return SLASH_GUARD + text if text.lstrip().startswith("/") else text


def start_message(code: str) -> str:
    """The structured message that links a conversation to the code's PEP."""
    return "/start" + json.dumps({"invite_code": code})


def code_from_start_args(args: Sequence[str]) -> str | None:
    """The normalised invite code in "/start <payload>", if any.

    A deep link t.me/<bot>?start=K7QM-4TXP arrives as "/start K7QM-4TXP" (deep-link
    payloads allow only A-Z a-z 0-9 _ -); a child may also type "/start k7qm 4txp".
    """
    return find_code(" ".join(args)[:64])


def deep_link(code: str) -> str | None:
    """https://t.me/<bot>?start=<code>, or None when the bot's username is not configured."""
    username = get_settings().telegram_bot_username.lstrip("@")
    if not username:
        return None
    return f"https://t.me/{quote(username)}?start={normalise_code(code)}"
