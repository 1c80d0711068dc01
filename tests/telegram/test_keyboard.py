"""Rasa buttons -> inline keyboard: short callback data, payloads kept server-side."""

from __future__ import annotations

from bot.engine_client import Button
from bot.telegram.keyboard import (
    MAX_CALLBACK_BYTES,
    ButtonPayloads,
    callback_token,
    inline_keyboard,
    title_of,
)

LONG_PAYLOADS = [
    '/inform{"answered_by":"with_carer"}',
    '/inform{"answered_by":"with_carer","question":"going_well","extra":"' + "x" * 200 + '"}',
    "/affirm",
    '/choose{"option":"Ça va très bien 😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀"}',
]


def test_callback_data_fits_in_64_bytes_and_maps_back() -> None:
    payloads = ButtonPayloads()
    buttons = [Button(f"Option {i}", p) for i, p in enumerate(LONG_PAYLOADS)]
    keyboard = inline_keyboard(buttons, payloads)
    assert keyboard is not None
    rows = keyboard.inline_keyboard
    assert [[b.text for b in row] for row in rows] == [[b.title] for b in buttons]
    for row, button in zip(rows, buttons, strict=True):
        data = row[0].callback_data
        assert isinstance(data, str)
        assert len(data.encode()) <= MAX_CALLBACK_BYTES
        assert button.payload not in data
        assert payloads.payload_for(data) == button.payload
        assert title_of(keyboard, data) == button.title


def test_tokens_are_stable_and_distinct() -> None:
    tokens = {callback_token(p) for p in LONG_PAYLOADS}
    assert len(tokens) == len(LONG_PAYLOADS)
    assert callback_token(LONG_PAYLOADS[0]) == callback_token(LONG_PAYLOADS[0])


def test_no_buttons_no_keyboard() -> None:
    assert inline_keyboard([], ButtonPayloads()) is None


def test_unknown_or_forgotten_tokens_have_no_payload() -> None:
    payloads = ButtonPayloads(limit=2)
    first = payloads.remember("/a")
    payloads.remember("/b")
    payloads.remember("/c")
    assert payloads.payload_for(first) is None  # oldest forgotten
    assert payloads.payload_for("b:not-a-token") is None
    assert payloads.payload_for(None) is None
    assert title_of(None, first) is None
