"""Rasa buttons as a Telegram inline keyboard.

Each button's callback data is its Rasa payload; PTB's arbitrary callback data
(`bot.telegram.application`) sends Telegram two random ids instead and keeps id -> payload
in its cache, which `bot.telegram.persistence` keeps in the store. Payloads come from the
bot, never from the child, and the ids contain neither.
"""

from __future__ import annotations

from collections.abc import Sequence

from telegram import InlineKeyboardButton, InlineKeyboardMarkup
from telegram.ext import CallbackDataCache, InvalidCallbackData

from bot.engine_client import Button


def inline_keyboard(buttons: Sequence[Button]) -> InlineKeyboardMarkup | None:
    """One button per row: titles stay readable on a phone."""
    if not buttons:
        return None
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(b.title, callback_data=b.payload)] for b in buttons]
    )


def tapped_ids(data: InvalidCallbackData) -> tuple[str, str] | None:
    """(keyboard id, button id) of a tap PTB's cache did not know, to look up in the store."""
    if not data.callback_data:
        return None
    return CallbackDataCache.extract_uuids(data.callback_data)


def _raw(data: object) -> object:
    return data.callback_data if isinstance(data, InvalidCallbackData) else data


def title_of(markup: InlineKeyboardMarkup | None, tapped: object) -> str | None:
    """The title of the tapped button, read back from the message's own keyboard: `tapped`
    is the payload PTB's cache gave, or the raw callback data when it did not know it."""
    if markup is None or tapped is None:
        return None
    for row in markup.inline_keyboard:
        for button in row:
            if _raw(button.callback_data) == tapped:
                return button.text
    return None
