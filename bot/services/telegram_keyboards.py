"""The Telegram inline keyboards the bot sent, kept in the store (`telegram_keyboards`).

PTB's callback-data cache (`bot.telegram.persistence`) saves each keyboard here and loads
the newest when the channel starts, so a button tapped after a restart still works; a tap
on a keyboard another instance sent is looked up here (`button_payload`).

A keyboard holds {button id: payload}. Payloads are the bot's own ("/affirm",
'/inform{"answered_by":"with_carer"}'), never a child's words or a name, so they are kept
in clear: sealing them with `bot.keys` would protect nothing. The newest KEYBOARDS_KEPT are
kept; a tap on an older one asks the child to type.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import delete, select

from bot.db import session_scope
from bot.models import TelegramKeyboard

KEYBOARDS_KEPT = 8192


@dataclass(frozen=True)
class SavedKeyboard:
    keyboard_id: str
    used_at: float  # Unix seconds, as PTB's cache keeps it
    buttons: Mapping[str, str]  # button id -> payload


def _saved(row: TelegramKeyboard) -> SavedKeyboard:
    buttons = json.loads(row.buttons)
    return SavedKeyboard(row.keyboard_id, row.used_at.timestamp(), buttons)


def recent_keyboards(limit: int) -> list[SavedKeyboard]:
    """The `limit` most recently used keyboards, newest first."""
    with session_scope() as session:
        rows = session.scalars(
            select(TelegramKeyboard).order_by(TelegramKeyboard.used_at.desc()).limit(limit)
        )
        return [_saved(row) for row in rows]


def save_keyboards(keyboards: Sequence[SavedKeyboard]) -> None:
    """Add new keyboards, refresh when known ones were used, and drop all but the newest
    KEYBOARDS_KEPT (whichever instance sent them)."""
    with session_scope() as session:
        for keyboard in keyboards:
            used_at = datetime.fromtimestamp(keyboard.used_at, UTC)
            row = session.get(TelegramKeyboard, keyboard.keyboard_id)
            if row is None:
                buttons = json.dumps(dict(keyboard.buttons))
                session.add(
                    TelegramKeyboard(
                        keyboard_id=keyboard.keyboard_id, buttons=buttons, used_at=used_at
                    )
                )
            else:
                row.used_at = max(row.used_at, used_at)
        session.flush()
        newest = (
            select(TelegramKeyboard.keyboard_id)
            .order_by(TelegramKeyboard.used_at.desc())
            .limit(KEYBOARDS_KEPT)
        )
        session.execute(
            delete(TelegramKeyboard)
            .where(TelegramKeyboard.keyboard_id.not_in(newest))
            .execution_options(synchronize_session=False)
        )


def button_payload(keyboard_id: str, button_id: str) -> str | None:
    """The payload of one button of a kept keyboard; None when it is not (or no longer) kept."""
    with session_scope() as session:
        row = session.get(TelegramKeyboard, keyboard_id)
        if row is None:
            return None
        payload = json.loads(row.buttons).get(button_id)
        return payload if isinstance(payload, str) else None
