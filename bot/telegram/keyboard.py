"""Rasa buttons as a Telegram inline keyboard.

Telegram limits callback data to 64 bytes and Rasa payloads such as
'/inform{"answered_by":"with_carer"}' can be longer, so a button carries a short token
(a hash of its payload) and this process keeps token -> payload for the buttons it offered.
Payloads come from the bot, never from the child, and the token never contains either.
A tap on a button offered before a restart finds no payload: the child is asked to type.
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from collections.abc import Sequence

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.engine_client import Button

CALLBACK_PREFIX = "b:"
MAX_CALLBACK_BYTES = 64


def callback_token(payload: str) -> str:
    """Short, fixed-length callback data for a payload (26 bytes)."""
    return CALLBACK_PREFIX + hashlib.blake2s(payload.encode(), digest_size=12).hexdigest()


class ButtonPayloads:
    """Token -> payload for the buttons offered; the domain has few, so this stays small."""

    def __init__(self, limit: int = 4096) -> None:
        self._limit = limit
        self._payloads: OrderedDict[str, str] = OrderedDict()

    def remember(self, payload: str) -> str:
        token = callback_token(payload)
        self._payloads[token] = payload
        self._payloads.move_to_end(token)
        while len(self._payloads) > self._limit:
            self._payloads.popitem(last=False)
        return token

    def payload_for(self, token: str | None) -> str | None:
        return None if token is None else self._payloads.get(token)


def inline_keyboard(
    buttons: Sequence[Button], payloads: ButtonPayloads
) -> InlineKeyboardMarkup | None:
    """One button per row: titles stay readable on a phone."""
    if not buttons:
        return None
    rows = [
        [InlineKeyboardButton(b.title, callback_data=payloads.remember(b.payload))] for b in buttons
    ]
    return InlineKeyboardMarkup(rows)


def title_of(markup: InlineKeyboardMarkup | None, token: str | None) -> str | None:
    """The title of the tapped button, read back from the message's own keyboard."""
    if markup is None or token is None:
        return None
    for row in markup.inline_keyboard:
        for button in row:
            if button.callback_data == token:
                return button.text
    return None
