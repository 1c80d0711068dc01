"""What the channel says to the engine, and the few things it says itself."""

from __future__ import annotations

from collections.abc import Sequence
from urllib.parse import quote

from bot.security import find_code, normalise_code
from bot.settings import get_settings

# Commands the channel maps to the engine's intents (both exist in domain.yml).
GREET_INTENT = "/greet"
HELP_INTENT = "/help"
STOP_INTENT = "/stop"

NOT_TEXT_MESSAGE = "I can only read typed messages. Please type your answer."
CHOOSE_PROMPT = "Please choose:"
BUTTON_EXPIRED_MESSAGE = "That button has run out. Please type your answer instead."


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
